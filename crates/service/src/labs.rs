//! Lab values as the case page shows them (formatted values, flags, trends for analytes
//! measured more than once) and a doctor's correction of a value, kept beside the reading.
use crate::{audit, display_time};
use crate::{Caller, ServiceError};
use precedent_accounts::{can_read_case, can_review};
use precedent_labs::LabValue;
use precedent_store::labs::{LabValueRow, NewCorrection};
use precedent_types::dto::{LabCorrectionView, LabTrendView, LabValueView};
use std::collections::BTreeMap;

fn num(x: f64) -> String {
    // Up to 4 significant decimals, no trailing zeros.
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn shown(value: Option<f64>, qualifier: Option<&str>, text: Option<&str>) -> String {
    match (text, value) {
        (Some(t), _) => t.to_string(),
        (None, Some(v)) => format!("{}{}", qualifier.map(|q| q.replace("<=", "≤").replace(">=", "≥")).unwrap_or_default(), num(v)),
        _ => String::new(),
    }
}

fn range_of(r: &LabValueRow) -> String {
    match (r.read.low, r.read.high) {
        (Some(l), Some(h)) => format!("{} – {}", num(l), num(h)),
        (None, Some(h)) => format!("< {}", num(h)),
        (Some(l), None) => format!("> {}", num(l)),
        (None, None) => r.read.range_text.clone().unwrap_or_default(),
    }
}

/// Table rows for one report (its values in `rows`). A correction names the doctor by e-mail to
/// `staff`, by display name to patients.
pub fn value_view(r: &LabValueRow, staff: bool) -> LabValueView {
    let read = shown(r.read.value, r.read.qualifier.as_deref(), r.read.text_value.as_deref());
    let corrected = r.corrected_at.is_some();
    let (value, unit, flag, canonical_value) = if corrected {
        (
            shown(r.corrected_value, r.corrected_qualifier.as_deref(), r.corrected_text.as_deref()),
            r.corrected_unit.clone().or(r.read.unit.clone()).unwrap_or_default(),
            r.corrected_flag,
            r.corrected_canonical,
        )
    } else {
        (read.clone(), r.read.unit.clone().unwrap_or_default(), r.read.flag, r.read.canonical_value)
    };
    LabValueView {
        id: r.id,
        analyte: r.read.analyte.clone(),
        printed_name: r.read.printed_name.clone(),
        loinc: r.read.loinc.clone(),
        value,
        unit,
        range: range_of(r),
        flag,
        flag_printed: r.read.flag_printed && !corrected,
        panel: r.read.panel.clone(),
        raw: r.read.raw.clone(),
        canonical: canonical_value.zip(r.read.canonical_unit.clone()).map(|(v, u)| format!("{} {u}", num(v)).trim().to_string()),
        correction: r.corrected_at.map(|at| LabCorrectionView {
            by: if staff { r.corrected_by.clone() } else { r.corrected_by_name.clone() }.unwrap_or_default(),
            at: display_time(at),
            note: r.corrected_note.clone().unwrap_or_default(),
            original: format!("{read} {}", r.read.unit.clone().unwrap_or_default()).trim().to_string(),
        }),
    }
}

/// Analytes with a canonical value in more than one report, oldest report first.
pub fn trends(rows: &[LabValueRow]) -> Vec<LabTrendView> {
    let mut by: BTreeMap<String, Vec<&LabValueRow>> = BTreeMap::new();
    for r in rows {
        if let (Some(id), Some(_)) = (&r.read.analyte_id, r.corrected_canonical.or(r.read.canonical_value)) {
            by.entry(id.clone()).or_default().push(r);
        }
    }
    by.into_values()
        .filter(|rs| rs.iter().map(|r| r.report_id).collect::<std::collections::HashSet<_>>().len() > 1)
        .map(|mut rs| {
            rs.sort_by_key(|r| (r.collected_on, r.report_id));
            let first = rs[0];
            LabTrendView {
                analyte: first.read.analyte.clone(),
                unit: first.read.canonical_unit.clone().unwrap_or_default(),
                points: rs
                    .iter()
                    .filter_map(|r| {
                        let label = r.collected_on.map(|d| d.to_string()).unwrap_or_else(|| format!("report {}", r.report_id));
                        Some((label, r.corrected_canonical.or(r.read.canonical_value)?))
                    })
                    .collect(),
                low: first.read.canonical_low,
                high: first.read.canonical_high,
            }
        })
        .collect()
}

/// Reads a corrected value the way a report's value is read.
fn reread(owner: &precedent_store::labs::ValueOwner, value: &str, unit: &str) -> Result<LabValue, ServiceError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 40 {
        return Err(ServiceError::Invalid("Enter the value (a number such as 5.4 or <5, or a word such as Negative).".into()));
    }
    let unit = Some(unit.trim()).filter(|u| !u.is_empty()).map(str::to_string).or(owner.unit.clone());
    if unit.as_ref().is_some_and(|u| u.chars().count() > 40) {
        return Err(ServiceError::Invalid("The unit is too long.".into()));
    }
    let name =
        owner.analyte_id.as_deref().and_then(|id| precedent_labs::catalog::ANALYTES.iter().find(|a| a.id == id)).map(|a| a.name).unwrap_or(&owner.printed_name);
    let range = match (owner.low, owner.high) {
        (Some(l), Some(h)) => format!("{l} - {h}"),
        (None, Some(h)) => format!("< {h}"),
        (Some(l), None) => format!("> {l}"),
        _ => owner.range_text.clone().unwrap_or_default(),
    };
    let line = format!("{name} {value} {} {range}", unit.clone().unwrap_or_default());
    let parsed = precedent_labs::parse_text(&line);
    let row = parsed.rows.into_iter().next().filter(|r| r.name.split_whitespace().count() == name.split_whitespace().count());
    let mut v = row.as_ref().map(precedent_labs::normalise).ok_or_else(|| ServiceError::Invalid(format!("“{value}” is not a value this form can read.")))?;
    v.unit = unit;
    Ok(v)
}

pub async fn correct(c: &Caller, value_id: i64, value: &str, unit: &str, note: &str) -> Result<(), ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    let owner = precedent_store::labs::owner_of(&st.pool, value_id).await?.ok_or(ServiceError::NotFound)?;
    if !can_read_case(&actor, owner.owner_id) {
        audit(&st.pool, Some(actor), "lab.correct", Some(("lab_value", value_id)), ip, "denied").await?;
        return Err(ServiceError::NotFound);
    }
    if !can_review(&actor) {
        audit(&st.pool, Some(actor), "lab.correct", Some(("lab_value", value_id)), ip, "denied").await?;
        return Err(ServiceError::Forbidden);
    }
    if note.chars().count() > 2000 {
        return Err(ServiceError::Invalid("The note is too long (at most 2000 characters).".into()));
    }
    let v = reread(&owner, value, unit)?;
    let c = NewCorrection {
        value: v.value,
        qualifier: v.qualifier.map(|q| q.as_str().to_string()),
        text_value: v.text_value.clone(),
        unit: v.unit.clone(),
        flag: v.flag,
        canonical_value: v.canonical_value,
        note: note.trim().to_string(),
    };
    precedent_store::labs::correct(&st.pool, value_id, actor.id, &c).await?;
    audit(&st.pool, Some(actor), "lab.correct", Some(("lab_value", value_id)), ip, "ok").await?;
    Ok(())
}
