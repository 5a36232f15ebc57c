//! The database's rows as the engine holds them: a case's stored vectors (checked against the
//! models' dimensions and unit length), its filter fields and its lab profile, built from the
//! latest lab values against the catalog.
use crate::models::Models;
use precedent_search::engine::CaseVectors;
use precedent_search::filter::{imaging, CaseMeta};
use precedent_search::labprofile::{self, LabProfile};
use precedent_store::index_feed::{IndexRow, LabRow};

/// Cases read from the database per query.
pub(crate) const BATCH: i64 = 1000;

/// A database row as the engine holds it. Vectors of the wrong size or not unit length (which
/// no encoder writes) are left out with a warning rather than failing the whole case.
pub fn case_vectors(row: IndexRow, models: &Models) -> CaseVectors {
    let ok = |v: &[f32], dim: usize| {
        let n: f32 = v.iter().map(|x| x * x).sum();
        v.len() == dim && n.is_finite() && (n - 1.0).abs() <= 1e-2
    };
    let bits = imaging::bits(row.modalities.iter().map(String::as_str));
    let text = row.text.filter(|v| {
        let good = ok(v, models.text_dim);
        if !good {
            tracing::warn!(case = row.case_id, "stored text vector unusable; left out of the index");
        }
        good
    });
    let images = row
        .images
        .into_iter()
        .filter(|(id, v)| {
            let good = ok(v, models.image_dim);
            if !good {
                tracing::warn!(case = row.case_id, image = id, "stored image vector unusable; left out of the index");
            }
            good
        })
        .collect();
    let labs = lab_profile(&row.labs);
    CaseVectors {
        labs,
        meta: CaseMeta {
            validated: row.validated,
            imaging: bits,
            body_region: row.body_region.map(|r| r.trim().to_lowercase()).filter(|r| !r.is_empty()),
            created_day: row.created_day,
            owner: row.owner_id,
            shareable: row.shareable,
        },
        text,
        images,
    }
}

/// Index of a catalog analyte in the lab profile (its position in the catalog).
pub fn analyte_index(id: &str) -> Option<u16> {
    precedent_labs::catalog::ANALYTES.iter().position(|a| a.id == id).map(|i| i as u16)
}

/// The catalog name of a profile's analyte index.
pub fn analyte_name(index: u16) -> Option<&'static str> {
    precedent_labs::catalog::ANALYTES.get(index as usize).map(|a| a.name)
}

/// Deviation of one stored value: from its reference range when it has one, else from the
/// report's (or computed) flag; qualitative results are 0 (normal) or 1 (abnormal).
pub fn lab_deviation(value: Option<f64>, low: Option<f64>, high: Option<f64>, flag: Option<&str>, text: Option<&str>) -> Option<f32> {
    if let Some(v) = value {
        if let Some(d) = labprofile::deviation(v, low, high) {
            return Some(d);
        }
    }
    match (flag, value, text) {
        (Some("high"), ..) => Some(1.0),
        (Some("low"), ..) => Some(-1.0),
        (Some("critical_high"), ..) => Some(3.0),
        (Some("critical_low"), ..) => Some(-3.0),
        (Some("abnormal"), ..) => Some(1.0),
        (None, _, Some(_)) => Some(0.0),
        _ => None,
    }
}

/// A case's lab profile from its latest values (`None` when it has none usable).
pub fn lab_profile(rows: &[LabRow]) -> Option<LabProfile> {
    let entries: Vec<(u16, f32)> = rows
        .iter()
        .filter_map(|r| Some((analyte_index(&r.analyte_id)?, lab_deviation(r.value, r.low, r.high, r.flag.map(|f| f.as_str()), r.text_value.as_deref())?)))
        .collect();
    (!entries.is_empty()).then(|| LabProfile::new(entries))
}
