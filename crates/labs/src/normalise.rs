//! From printed rows to values a clinician can compare: the canonical analyte and LOINC code,
//! the value and range in the canonical unit, and a flag — the report's own, else computed
//! from the range, raised to critical beyond the analyte's critical limits.
use crate::catalog::Analyte;
use crate::parse::{Flag, Qualifier, Row, Value};

/// A normalised lab value (also the JSON of `precedent labs parse`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LabValue {
    /// Canonical analyte name, or the printed name when it is not in the catalog.
    pub analyte: String,
    /// The catalog id, when recognised.
    pub analyte_id: Option<String>,
    pub printed_name: String,
    pub loinc: Option<String>,
    /// The printed number (`None` for qualitative results).
    pub value: Option<f64>,
    pub qualifier: Option<Qualifier>,
    /// A qualitative result as printed ("Negative", "2+").
    pub text_value: Option<String>,
    /// The printed unit.
    pub unit: Option<String>,
    /// The printed reference range bounds and text.
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub range_text: Option<String>,
    /// `low`, `high`, `critical_low`, `critical_high`, `abnormal` — or none (within range).
    pub flag: Option<Flag>,
    /// Whether the flag was printed by the report (else computed).
    pub flag_printed: bool,
    /// In the canonical unit, where the printed unit is known for the analyte.
    pub canonical_value: Option<f64>,
    pub canonical_unit: Option<String>,
    pub canonical_low: Option<f64>,
    pub canonical_high: Option<f64>,
    pub panel: Option<String>,
    pub raw: String,
}

const NORMAL_WORDS: &[&str] = &["negative", "nil", "none", "not detected", "normal", "non-reactive", "nonreactive", "clear", "yellow"];

fn computed_flag(a: Option<&Analyte>, value: &Value, low: Option<f64>, high: Option<f64>, canonical: Option<f64>) -> Option<Flag> {
    match value {
        Value::Number { qualifier, number } => {
            // "<5" against an upper limit of 5 is within range; "<5" against a lower limit above it is low.
            let (lo_cmp, hi_cmp) = match qualifier {
                Some(Qualifier::Lt | Qualifier::Le) => (*number, f64::NEG_INFINITY),
                Some(Qualifier::Gt | Qualifier::Ge) => (f64::INFINITY, *number),
                None => (*number, *number),
            };
            let critical = a.and_then(|a| {
                let c = canonical?;
                if a.critical_low.is_some_and(|l| c <= l) && !matches!(qualifier, Some(Qualifier::Gt | Qualifier::Ge)) {
                    Some(Flag::CriticalLow)
                } else if a.critical_high.is_some_and(|h| c >= h) && !matches!(qualifier, Some(Qualifier::Lt | Qualifier::Le)) {
                    Some(Flag::CriticalHigh)
                } else {
                    None
                }
            });
            critical.or(if low.is_some_and(|l| lo_cmp < l) {
                Some(Flag::Low)
            } else if high.is_some_and(|h| hi_cmp > h) {
                Some(Flag::High)
            } else {
                None
            })
        }
        Value::Text(t) => {
            let t = t.to_lowercase();
            let expected_normal = a.is_some_and(|a| a.qualitative);
            (expected_normal && !NORMAL_WORDS.contains(&t.as_str())).then_some(Flag::Abnormal)
        }
    }
}

/// Normalises one parsed row.
pub fn normalise(row: &Row) -> LabValue {
    let a = row.analyte;
    let (value, qualifier, text_value) = match &row.value {
        Value::Number { qualifier, number } => (Some(*number), *qualifier, None),
        Value::Text(t) => (None, None, Some(t.clone())),
    };
    let (low, high) = row.range.as_ref().map(|r| (r.low, r.high)).unwrap_or((None, None));
    let conv = |v: Option<f64>| -> Option<f64> { a?.to_canonical(v?, row.unit.as_deref()) };
    let canonical_value = conv(value);
    let printed_flag = row.printed_flag;
    // A printed H/L is kept, but raised to critical when the value is beyond critical limits.
    let computed = computed_flag(a, &row.value, low, high, canonical_value);
    let flag = match (printed_flag, computed) {
        (Some(_), Some(c @ (Flag::CriticalLow | Flag::CriticalHigh))) => Some(c),
        (Some(p), _) => Some(p),
        (None, c) => c,
    };
    LabValue {
        analyte: a.map(|a| a.name.to_string()).unwrap_or_else(|| row.name.clone()),
        analyte_id: a.map(|a| a.id.to_string()),
        printed_name: row.name.clone(),
        loinc: a.map(|a| a.loinc.to_string()),
        value,
        qualifier,
        text_value,
        unit: row.unit.clone(),
        low,
        high,
        range_text: row.range.as_ref().map(|r| r.text.clone()).filter(|t| !t.is_empty()),
        flag,
        flag_printed: printed_flag.is_some(),
        canonical_value,
        canonical_unit: a.filter(|_| canonical_value.is_some()).map(|a| a.unit.to_string()),
        canonical_low: conv(low),
        canonical_high: conv(high),
        panel: row.panel.clone(),
        raw: row.raw.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_text;

    fn value(line: &str) -> LabValue {
        normalise(&parse_text(line).rows[0])
    }

    #[test]
    fn flags_are_computed_when_not_printed() {
        assert_eq!(value("Glucose 9.1 mmol/L 3.9 - 7.8").flag, Some(Flag::High));
        assert_eq!(value("Glucose 3.1 mmol/L 3.9 - 7.8").flag, Some(Flag::Low));
        assert_eq!(value("Glucose 5.0 mmol/L 3.9 - 7.8").flag, None);
        assert_eq!(value("Glucose 1.9 mmol/L 3.9 - 7.8").flag, Some(Flag::CriticalLow));
        // Critical limits are in canonical units: 600 mg/dL glucose is 33 mmol/L.
        assert_eq!(value("Glucose 600 mg/dL 70 - 140").flag, Some(Flag::CriticalHigh));
        assert_eq!(value("Potassium 6.8 mmol/L 3.5 - 5.1 H").flag, Some(Flag::CriticalHigh));
        assert_eq!(value("CRP <5 mg/L < 5").flag, None);
        assert_eq!(value("eGFR >90 mL/min/1.73m2 > 60").flag, None);
        assert_eq!(value("Troponin I >50000 ng/L < 34").flag, Some(Flag::High));
        assert_eq!(value("Urine protein 2+ Negative").flag, Some(Flag::Abnormal));
        assert_eq!(value("Urine protein Negative Negative").flag, None);
        let v = value("Sodium 131 mmol/L 135 - 145 L");
        assert!(v.flag_printed);
    }

    #[test]
    fn values_convert_to_canonical_units() {
        let v = value("Glucose 126 mg/dL 70 - 99 H");
        assert_eq!(v.analyte, "Glucose");
        assert_eq!(v.loinc.as_deref(), Some("14749-6"));
        assert!((v.canonical_value.unwrap() - 6.99).abs() < 0.01);
        assert_eq!(v.canonical_unit.as_deref(), Some("mmol/L"));
        assert!((v.canonical_high.unwrap() - 5.49).abs() < 0.01);
        let v = value("Creatinine 1.2 mg/dL 0.6 - 1.3");
        assert!((v.canonical_value.unwrap() - 106.1).abs() < 0.1);
        let v = value("Mystery marker 12 U/L 5 - 20");
        assert_eq!((v.analyte.as_str(), v.loinc.as_deref(), v.canonical_value), ("Mystery marker", None, None));
    }
}
