//! The curated analyte table: canonical name, LOINC code (for the canonical unit's property),
//! one canonical unit, the names and abbreviations reports print, the other units they use
//! with their conversion, and critical limits where laboratories commonly phone them through.
//!
//! Conversions are `canonical = printed × factor + offset` (offset only for HbA1c % → mmol/mol).

/// A unit an analyte may be reported in, and how to reach the canonical unit.
#[derive(Debug, Clone, Copy)]
pub struct AltUnit {
    /// Normalised unit key (see [`unit_key`]).
    pub key: &'static str,
    pub factor: f64,
    pub offset: f64,
}

/// One canonical analyte.
#[derive(Debug)]
pub struct Analyte {
    /// Stable identifier (snake case).
    pub id: &'static str,
    pub name: &'static str,
    pub loinc: &'static str,
    /// Canonical unit as displayed; `""` for unitless (ratios, pH, qualitative).
    pub unit: &'static str,
    /// Printed names and abbreviations (matched case- and punctuation-insensitively).
    pub synonyms: &'static [&'static str],
    /// Other units and their conversion to `unit`.
    pub alt_units: &'static [AltUnit],
    /// Values at or beyond these (canonical unit) are critical.
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub panel: &'static str,
    /// Reported as words (negative / trace / 1+ …) rather than numbers.
    pub qualitative: bool,
}

impl PartialEq for Analyte {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

const fn u(key: &'static str, factor: f64) -> AltUnit {
    AltUnit { key, factor, offset: 0.0 }
}

macro_rules! analyte {
    ($id:literal, $name:literal, $loinc:literal, $unit:literal, $panel:literal, [$($syn:literal),* $(,)?], [$($alt:expr),* $(,)?], $lo:expr, $hi:expr) => {
        Analyte { id: $id, name: $name, loinc: $loinc, unit: $unit, synonyms: &[$($syn),*], alt_units: &[$($alt),*], critical_low: $lo, critical_high: $hi, panel: $panel, qualitative: false }
    };
    (qual $id:literal, $name:literal, $loinc:literal, $panel:literal, [$($syn:literal),* $(,)?]) => {
        Analyte { id: $id, name: $name, loinc: $loinc, unit: "", synonyms: &[$($syn),*], alt_units: &[], critical_low: None, critical_high: None, panel: $panel, qualitative: true }
    };
}

const CELLS_E9: [AltUnit; 6] = [u("10^9/l", 1.0), u("10^3/ul", 1.0), u("k/ul", 1.0), u("10^3/mm3", 1.0), u("g/l", 1.0), u("/ul", 0.001)];

/// Every analyte Precedent recognises.
#[rustfmt::skip]
pub static ANALYTES: &[Analyte] = &[
    // Full blood count with differential
    analyte!("hemoglobin", "Haemoglobin", "718-7", "g/dL", "Full blood count", ["haemoglobin", "hemoglobin", "hb", "hgb"], [u("g/l", 0.1), u("mmol/l", 1.611)], Some(7.0), Some(20.0)),
    analyte!("hematocrit", "Haematocrit", "4544-3", "%", "Full blood count", ["haematocrit", "hematocrit", "hct", "pcv", "packed cell volume"], [u("l/l", 100.0)], Some(20.0), Some(60.0)),
    analyte!("rbc", "Red cell count", "789-8", "10^12/L", "Full blood count", ["rbc", "red cell count", "red blood cells", "red blood cell count", "erythrocytes"], [u("10^6/ul", 1.0), u("m/ul", 1.0), u("t/l", 1.0)], None, None),
    analyte!("wbc", "White cell count", "6690-2", "10^9/L", "Full blood count", ["wbc", "white cell count", "white blood cells", "white blood cell count", "leukocytes", "leucocytes", "total leucocyte count", "tlc"], [CELLS_E9[0], CELLS_E9[1], CELLS_E9[2], CELLS_E9[3], CELLS_E9[4], CELLS_E9[5]], Some(1.0), Some(50.0)),
    analyte!("platelets", "Platelets", "777-3", "10^9/L", "Full blood count", ["platelets", "platelet count", "plt", "thrombocytes"], [CELLS_E9[0], CELLS_E9[1], CELLS_E9[2], CELLS_E9[3], CELLS_E9[4], CELLS_E9[5]], Some(20.0), Some(1000.0)),
    analyte!("mcv", "MCV", "787-2", "fL", "Full blood count", ["mcv", "mean cell volume", "mean corpuscular volume"], [u("um3", 1.0)], None, None),
    analyte!("mch", "MCH", "785-6", "pg", "Full blood count", ["mch", "mean cell haemoglobin", "mean corpuscular hemoglobin", "mean cell hemoglobin"], [], None, None),
    analyte!("mchc", "MCHC", "786-4", "g/dL", "Full blood count", ["mchc", "mean cell haemoglobin concentration", "mean corpuscular hemoglobin concentration"], [u("g/l", 0.1)], None, None),
    analyte!("rdw", "RDW", "788-0", "%", "Full blood count", ["rdw", "rdw-cv", "red cell distribution width"], [], None, None),
    analyte!("neutrophils", "Neutrophils", "751-8", "10^9/L", "Full blood count", ["neutrophils", "neutrophil count", "neut", "neutrophils absolute", "absolute neutrophil count", "anc"], [CELLS_E9[0], CELLS_E9[1], CELLS_E9[2], CELLS_E9[3], CELLS_E9[4], CELLS_E9[5]], Some(0.5), None),
    analyte!("lymphocytes", "Lymphocytes", "731-0", "10^9/L", "Full blood count", ["lymphocytes", "lymphocyte count", "lymph", "lymphs", "lymphocytes absolute"], [CELLS_E9[0], CELLS_E9[1], CELLS_E9[2], CELLS_E9[3], CELLS_E9[4], CELLS_E9[5]], None, None),
    analyte!("monocytes", "Monocytes", "742-7", "10^9/L", "Full blood count", ["monocytes", "monocyte count", "mono", "monos"], [CELLS_E9[0], CELLS_E9[1], CELLS_E9[2], CELLS_E9[3], CELLS_E9[4], CELLS_E9[5]], None, None),
    analyte!("eosinophils", "Eosinophils", "711-2", "10^9/L", "Full blood count", ["eosinophils", "eosinophil count", "eos"], [CELLS_E9[0], CELLS_E9[1], CELLS_E9[2], CELLS_E9[3], CELLS_E9[4], CELLS_E9[5]], None, None),
    analyte!("basophils", "Basophils", "704-7", "10^9/L", "Full blood count", ["basophils", "basophil count", "baso", "basos"], [CELLS_E9[0], CELLS_E9[1], CELLS_E9[2], CELLS_E9[3], CELLS_E9[4], CELLS_E9[5]], None, None),
    analyte!("neutrophils_pct", "Neutrophils %", "770-8", "%", "Full blood count", ["neutrophils %", "neutrophil %", "neutrophils percent", "neut %", "% neutrophils"], [], None, None),
    analyte!("lymphocytes_pct", "Lymphocytes %", "736-9", "%", "Full blood count", ["lymphocytes %", "lymphocyte %", "lymph %", "% lymphocytes"], [], None, None),
    // Basic and comprehensive metabolic panel
    analyte!("sodium", "Sodium", "2951-2", "mmol/L", "Electrolytes", ["sodium", "na", "na+", "serum sodium"], [u("meq/l", 1.0)], Some(120.0), Some(160.0)),
    analyte!("potassium", "Potassium", "2823-3", "mmol/L", "Electrolytes", ["potassium", "k", "k+", "serum potassium"], [u("meq/l", 1.0)], Some(2.8), Some(6.2)),
    analyte!("chloride", "Chloride", "2075-0", "mmol/L", "Electrolytes", ["chloride", "cl", "cl-"], [u("meq/l", 1.0)], Some(80.0), Some(120.0)),
    analyte!("bicarbonate", "Bicarbonate", "1963-8", "mmol/L", "Electrolytes", ["bicarbonate", "hco3", "hco3-", "total co2", "co2", "tco2"], [u("meq/l", 1.0)], Some(10.0), Some(40.0)),
    analyte!("anion_gap", "Anion gap", "33037-3", "mmol/L", "Electrolytes", ["anion gap", "ag"], [u("meq/l", 1.0)], None, None),
    analyte!("urea", "Urea", "22664-7", "mmol/L", "Renal", ["urea", "serum urea"], [u("mg/dl", 0.1665)], None, Some(35.0)),
    analyte!("bun", "Urea nitrogen (BUN)", "3094-0", "mg/dL", "Renal", ["bun", "blood urea nitrogen", "urea nitrogen"], [u("mmol/l", 2.801)], None, None),
    analyte!("creatinine", "Creatinine", "14682-9", "umol/L", "Renal", ["creatinine", "creat", "crea", "serum creatinine"], [u("mg/dl", 88.42), u("mmol/l", 1000.0)], None, Some(700.0)),
    analyte!("egfr", "eGFR", "62238-1", "mL/min/1.73m2", "Renal", ["egfr", "estimated gfr", "gfr estimated", "egfr (ckd-epi)"], [u("ml/min", 1.0)], None, None),
    analyte!("glucose", "Glucose", "14749-6", "mmol/L", "Biochemistry", ["glucose", "glu", "blood glucose", "fasting glucose", "plasma glucose", "random glucose"], [u("mg/dl", 0.0555)], Some(2.5), Some(25.0)),
    analyte!("calcium", "Calcium", "2000-8", "mmol/L", "Biochemistry", ["calcium", "ca", "total calcium", "serum calcium"], [u("mg/dl", 0.2495)], Some(1.65), Some(3.25)),
    analyte!("magnesium", "Magnesium", "2601-3", "mmol/L", "Biochemistry", ["magnesium", "mg"], [u("mg/dl", 0.4114), u("meq/l", 0.5)], Some(0.4), Some(2.0)),
    analyte!("phosphate", "Phosphate", "14879-1", "mmol/L", "Biochemistry", ["phosphate", "phosphorus", "inorganic phosphate", "po4"], [u("mg/dl", 0.3229)], Some(0.32), None),
    analyte!("uric_acid", "Uric acid", "14933-6", "umol/L", "Biochemistry", ["uric acid", "urate"], [u("mg/dl", 59.48)], None, None),
    analyte!("total_protein", "Total protein", "2885-2", "g/L", "Liver panel", ["total protein", "protein total", "tp"], [u("g/dl", 10.0)], None, None),
    analyte!("albumin", "Albumin", "1751-7", "g/L", "Liver panel", ["albumin", "alb", "serum albumin"], [u("g/dl", 10.0)], None, None),
    // Liver panel
    analyte!("alt", "ALT", "1742-6", "U/L", "Liver panel", ["alt", "alanine aminotransferase", "alanine transaminase", "sgpt", "alt (sgpt)"], [u("iu/l", 1.0), u("ukat/l", 60.0)], None, None),
    analyte!("ast", "AST", "1920-8", "U/L", "Liver panel", ["ast", "aspartate aminotransferase", "aspartate transaminase", "sgot", "ast (sgot)"], [u("iu/l", 1.0), u("ukat/l", 60.0)], None, None),
    analyte!("alp", "Alkaline phosphatase", "6768-6", "U/L", "Liver panel", ["alkaline phosphatase", "alp", "alk phos", "alk. phosphatase"], [u("iu/l", 1.0), u("ukat/l", 60.0)], None, None),
    analyte!("ggt", "GGT", "2324-2", "U/L", "Liver panel", ["ggt", "gamma gt", "gamma-gt", "gamma glutamyl transferase", "gamma-glutamyl transferase", "ggtp"], [u("iu/l", 1.0), u("ukat/l", 60.0)], None, None),
    analyte!("bilirubin", "Bilirubin (total)", "14631-6", "umol/L", "Liver panel", ["bilirubin", "total bilirubin", "bilirubin total", "t bili", "tbil", "bili"], [u("mg/dl", 17.1)], None, Some(340.0)),
    analyte!("bilirubin_direct", "Bilirubin (direct)", "14629-0", "umol/L", "Liver panel", ["direct bilirubin", "bilirubin direct", "conjugated bilirubin", "d bili"], [u("mg/dl", 17.1)], None, None),
    analyte!("ldh", "LDH", "2532-0", "U/L", "Biochemistry", ["ldh", "lactate dehydrogenase", "ld"], [u("iu/l", 1.0), u("ukat/l", 60.0)], None, None),
    analyte!("ck", "Creatine kinase", "2157-6", "U/L", "Biochemistry", ["ck", "creatine kinase", "cpk", "creatine phosphokinase"], [u("iu/l", 1.0), u("ukat/l", 60.0)], None, None),
    analyte!("lipase", "Lipase", "3040-3", "U/L", "Biochemistry", ["lipase"], [u("iu/l", 1.0)], None, None),
    analyte!("amylase", "Amylase", "1798-8", "U/L", "Biochemistry", ["amylase"], [u("iu/l", 1.0)], None, None),
    // Lipids
    analyte!("cholesterol", "Cholesterol (total)", "14647-2", "mmol/L", "Lipids", ["cholesterol", "total cholesterol", "cholesterol total", "chol", "tc"], [u("mg/dl", 0.02586)], None, None),
    analyte!("hdl", "HDL cholesterol", "14646-4", "mmol/L", "Lipids", ["hdl", "hdl cholesterol", "hdl-c", "hdl-cholesterol"], [u("mg/dl", 0.02586)], None, None),
    analyte!("ldl", "LDL cholesterol", "22748-8", "mmol/L", "Lipids", ["ldl", "ldl cholesterol", "ldl-c", "ldl-cholesterol", "ldl (calculated)", "ldl calculated"], [u("mg/dl", 0.02586)], None, None),
    analyte!("triglycerides", "Triglycerides", "14927-8", "mmol/L", "Lipids", ["triglycerides", "triglyceride", "tg", "trigs"], [u("mg/dl", 0.01129)], None, None),
    // Thyroid, diabetes
    analyte!("tsh", "TSH", "3016-3", "mIU/L", "Thyroid", ["tsh", "thyroid stimulating hormone", "thyrotropin"], [u("uiu/ml", 1.0), u("miu/ml", 1000.0)], None, None),
    analyte!("free_t4", "Free T4", "14920-3", "pmol/L", "Thyroid", ["free t4", "ft4", "free thyroxine", "t4 free"], [u("ng/dl", 12.87)], None, None),
    analyte!("free_t3", "Free T3", "14928-6", "pmol/L", "Thyroid", ["free t3", "ft3", "free triiodothyronine", "t3 free"], [u("pg/ml", 1.536)], None, None),
    Analyte {
        id: "hba1c",
        name: "HbA1c",
        loinc: "59261-8",
        unit: "mmol/mol",
        synonyms: &["hba1c", "a1c", "haemoglobin a1c", "hemoglobin a1c", "glycated haemoglobin", "glycated hemoglobin", "glycosylated haemoglobin"],
        alt_units: &[AltUnit { key: "%", factor: 10.929, offset: -23.5 }],
        critical_low: None,
        critical_high: None,
        panel: "Diabetes",
        qualitative: false,
    },
    // Inflammation
    analyte!("crp", "CRP", "1988-5", "mg/L", "Inflammation", ["crp", "c-reactive protein", "c reactive protein", "hs-crp", "hscrp"], [u("mg/dl", 10.0)], None, None),
    analyte!("esr", "ESR", "4537-7", "mm/h", "Inflammation", ["esr", "erythrocyte sedimentation rate", "sed rate"], [u("mm/hr", 1.0), u("mm/1h", 1.0), u("mm/1hr", 1.0)], None, None),
    analyte!("procalcitonin", "Procalcitonin", "33959-8", "ng/mL", "Inflammation", ["procalcitonin", "pct"], [u("ug/l", 1.0)], None, None),
    // Coagulation
    analyte!("pt", "Prothrombin time", "5902-2", "s", "Coagulation", ["prothrombin time", "pt"], [u("sec", 1.0), u("secs", 1.0), u("seconds", 1.0)], None, None),
    analyte!("inr", "INR", "6301-6", "", "Coagulation", ["inr", "pt inr", "international normalised ratio", "international normalized ratio"], [u("ratio", 1.0)], None, Some(5.0)),
    analyte!("aptt", "aPTT", "3173-2", "s", "Coagulation", ["aptt", "ptt", "activated partial thromboplastin time", "appt"], [u("sec", 1.0), u("secs", 1.0), u("seconds", 1.0)], None, Some(100.0)),
    analyte!("fibrinogen", "Fibrinogen", "3255-7", "g/L", "Coagulation", ["fibrinogen"], [u("mg/dl", 0.01)], Some(1.0), None),
    analyte!("d_dimer", "D-dimer", "48065-7", "mg/L FEU", "Coagulation", ["d-dimer", "d dimer", "ddimer"], [u("mg/lfeu", 1.0), u("ug/mlfeu", 1.0), u("ug/ml", 1.0), u("mg/l", 1.0), u("ng/mlfeu", 0.001), u("ng/ml", 0.001), u("ug/lfeu", 0.001), u("ug/l", 0.001)], None, None),
    // Cardiac
    analyte!("troponin_i", "Troponin I", "89579-7", "ng/L", "Cardiac", ["troponin i", "troponin-i", "tni", "ctni", "hs troponin i", "hs-tni", "high sensitivity troponin i"], [u("ng/ml", 1000.0), u("ug/l", 1000.0), u("pg/ml", 1.0)], None, None),
    analyte!("troponin_t", "Troponin T", "67151-1", "ng/L", "Cardiac", ["troponin t", "troponin-t", "tnt", "ctnt", "hs troponin t", "hs-tnt"], [u("ng/ml", 1000.0), u("ug/l", 1000.0), u("pg/ml", 1.0)], None, None),
    analyte!("bnp", "BNP", "30934-4", "pg/mL", "Cardiac", ["bnp", "b-type natriuretic peptide", "brain natriuretic peptide"], [u("ng/l", 1.0)], None, None),
    analyte!("nt_probnp", "NT-proBNP", "33762-6", "pg/mL", "Cardiac", ["nt-probnp", "nt probnp", "ntprobnp", "n-terminal pro-bnp"], [u("ng/l", 1.0)], None, None),
    analyte!("lactate", "Lactate", "2524-7", "mmol/L", "Biochemistry", ["lactate", "lactic acid"], [u("mg/dl", 0.111)], None, Some(4.0)),
    // Haematinics, vitamins
    analyte!("ferritin", "Ferritin", "2276-4", "ug/L", "Haematinics", ["ferritin", "serum ferritin"], [u("ng/ml", 1.0)], None, None),
    analyte!("iron", "Iron", "14798-3", "umol/L", "Haematinics", ["iron", "serum iron", "fe"], [u("ug/dl", 0.179)], None, None),
    analyte!("b12", "Vitamin B12", "16695-9", "pmol/L", "Haematinics", ["vitamin b12", "b12", "cobalamin", "vit b12", "cyanocobalamin"], [u("pg/ml", 0.738), u("ng/l", 0.738)], None, None),
    analyte!("folate", "Folate", "2284-8", "ng/mL", "Haematinics", ["folate", "folic acid", "serum folate"], [u("ug/l", 1.0), u("nmol/l", 0.441)], None, None),
    analyte!("vitamin_d", "Vitamin D (25-OH)", "14635-7", "nmol/L", "Vitamins", ["vitamin d", "25-oh vitamin d", "25(oh)d", "25-hydroxyvitamin d", "vitamin d 25-oh", "25 oh vitamin d", "vit d"], [u("ng/ml", 2.496), u("ug/l", 2.496)], None, None),
    analyte!("psa", "PSA", "2857-1", "ug/L", "Other", ["psa", "prostate specific antigen", "total psa"], [u("ng/ml", 1.0)], None, None),
    // Urinalysis basics
    analyte!("urine_ph", "Urine pH", "5803-2", "", "Urinalysis", ["urine ph", "ph"], [], None, None),
    analyte!("urine_sg", "Urine specific gravity", "5811-5", "", "Urinalysis", ["specific gravity", "sg", "urine specific gravity"], [], None, None),
    analyte!(qual "urine_protein", "Urine protein", "20454-5", "Urinalysis", ["urine protein", "protein (urine)", "protein urine", "proteinuria"]),
    analyte!(qual "urine_glucose", "Urine glucose", "25428-4", "Urinalysis", ["urine glucose", "glucose (urine)", "glucose urine", "glycosuria"]),
    analyte!(qual "urine_ketones", "Urine ketones", "2514-8", "Urinalysis", ["ketones", "urine ketones", "ketones (urine)"]),
    analyte!(qual "urine_blood", "Urine blood", "5794-3", "Urinalysis", ["urine blood", "blood (urine)", "haemoglobin (urine)", "hemoglobin (urine)"]),
    analyte!(qual "urine_leukocytes", "Urine leukocyte esterase", "5799-2", "Urinalysis", ["leukocyte esterase", "leucocyte esterase", "leukocytes (urine)", "urine leukocytes"]),
    analyte!(qual "urine_nitrite", "Urine nitrite", "5802-4", "Urinalysis", ["nitrite", "nitrites", "urine nitrite"]),
];

/// A unit as printed, reduced to a comparable key: lower case, no spaces, `µ`/`μ`/`mc` → `u`,
/// powers of ten as `10^n`, `cumm`/`cmm` → `mm3`, `hr` kept.
pub fn unit_key(printed: &str) -> String {
    let mut s: String = printed.trim().to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    for (from, to) in [("µ", "u"), ("μ", "u"), ("mcg", "ug"), ("mcl", "ul"), ("mcmol", "umol")] {
        s = s.replace(from, to);
    }
    for (from, to) in
        [("x10e", "10^"), ("x10^", "10^"), ("x10*", "10^"), ("×10^", "10^"), ("×10", "10^"), ("10e", "10^"), ("10*", "10^"), ("x10(", "10^("), ("10(", "10^(")]
    {
        s = s.replace(from, to);
    }
    s = s.replace("^(", "^").replace(")/", "/");
    s = s.replace("cumm", "mm3").replace("/cmm", "/mm3").replace("/mm³", "/mm3");
    if s.starts_with("10^") && s.len() > 3 && !s[3..].starts_with(|c: char| c.is_ascii_digit()) {
        s = s.replacen("10^", "", 1);
    }
    s
}

/// Punctuation-insensitive form of an analyte name for matching.
pub fn name_key(printed: &str) -> String {
    let mut out = String::with_capacity(printed.len());
    let mut space = false;
    for c in printed.chars().flat_map(|c| c.to_lowercase()) {
        if c.is_alphanumeric() || c == '%' || c == '+' {
            if space && !out.is_empty() {
                out.push(' ');
            }
            out.push(c);
            space = false;
        } else {
            space = true;
        }
    }
    out
}

/// Every name and synonym's key, to the first analyte (in catalog order) that has it.
static BY_KEY: std::sync::LazyLock<std::collections::HashMap<String, &'static Analyte>> = std::sync::LazyLock::new(|| {
    let mut by_key = std::collections::HashMap::new();
    for a in ANALYTES {
        for name in std::iter::once(a.name).chain(a.synonyms.iter().copied()) {
            by_key.entry(name_key(name)).or_insert(a);
        }
    }
    by_key
});

/// The analyte whose name or synonym is exactly `printed` (punctuation-insensitive).
pub fn lookup(printed: &str) -> Option<&'static Analyte> {
    let key = name_key(printed);
    if key.is_empty() {
        return None;
    }
    BY_KEY.get(&key).copied()
}

impl Analyte {
    /// Converts `value` printed in `unit` to the canonical unit; `None` if the unit is unknown
    /// for this analyte.
    pub fn to_canonical(&self, value: f64, unit: Option<&str>) -> Option<f64> {
        let key = unit.map(unit_key).unwrap_or_default();
        if key.is_empty() && self.unit.is_empty() {
            return Some(value);
        }
        if key == unit_key(self.unit) {
            return Some(value);
        }
        self.alt_units.iter().find(|a| a.key == key).map(|a| value * a.factor + a.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_consistent() {
        assert!(ANALYTES.len() >= 60, "{} analytes", ANALYTES.len());
        let mut ids = std::collections::HashSet::new();
        let mut names = std::collections::HashMap::new();
        for a in ANALYTES {
            assert!(ids.insert(a.id), "duplicate id {}", a.id);
            assert!(a.loinc.split('-').count() == 2 && a.loinc.chars().all(|c| c.is_ascii_digit() || c == '-'), "{}", a.loinc);
            for s in a.synonyms.iter().copied().chain([a.name]) {
                if let Some(other) = names.insert(name_key(s), a.id) {
                    assert_eq!(other, a.id, "“{s}” names two analytes");
                }
            }
        }
    }

    #[test]
    fn synonyms_and_abbreviations_resolve() {
        for (printed, id) in [
            ("Hb", "hemoglobin"),
            ("HAEMOGLOBIN", "hemoglobin"),
            ("Alk. Phosphatase", "alp"),
            ("ALT (SGPT)", "alt"),
            ("Gamma-GT", "ggt"),
            ("Na+", "sodium"),
            ("eGFR (CKD-EPI)", "egfr"),
            ("25(OH)D", "vitamin_d"),
            ("Troponin-I", "troponin_i"),
            ("LDL-Cholesterol", "ldl"),
            ("Neutrophils %", "neutrophils_pct"),
            ("Total Bilirubin", "bilirubin"),
        ] {
            assert_eq!(lookup(printed).map(|a| a.id), Some(id), "{printed}");
        }
        assert!(lookup("Unobtainium").is_none());
    }

    #[test]
    fn units_convert_to_the_canonical_one() {
        let conv = |id: &str, v: f64, unit: &str| ANALYTES.iter().find(|a| a.id == id).unwrap().to_canonical(v, Some(unit));
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 0.01 * b.abs().max(0.1));
        assert!(close(conv("glucose", 100.0, "mg/dL"), 5.55));
        assert!(close(conv("glucose", 5.5, "mmol/L"), 5.5));
        assert!(close(conv("cholesterol", 200.0, "mg/dl"), 5.17));
        assert!(close(conv("creatinine", 1.0, "mg/dL"), 88.42));
        assert!(close(conv("creatinine", 88.0, "µmol/L"), 88.0));
        assert!(close(conv("creatinine", 88.0, "umol/l"), 88.0));
        assert!(close(conv("hemoglobin", 135.0, "g/L"), 13.5));
        assert!(close(conv("wbc", 7.2, "x10^9/L"), 7.2));
        assert!(close(conv("wbc", 7.2, "x10E3/uL"), 7.2));
        assert!(close(conv("wbc", 7200.0, "/uL"), 7.2));
        assert!(close(conv("platelets", 250.0, "10*9/L"), 250.0));
        assert!(close(conv("hba1c", 6.5, "%"), 47.5));
        assert!(close(conv("troponin_i", 0.04, "ng/mL"), 40.0));
        assert!(close(conv("vitamin_d", 30.0, "ng/mL"), 74.9));
        assert!(close(conv("d_dimer", 500.0, "ng/mL FEU"), 0.5));
        assert!(close(conv("sodium", 140.0, "mEq/L"), 140.0));
        assert_eq!(conv("glucose", 5.0, "furlongs"), None);
    }
}
