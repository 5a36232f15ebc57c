//! The consistency check: the live engine against the database, case by case (missing, extra,
//! or holding other vectors, lab profiles or filter fields than the database gives).
use crate::error::Result;
use crate::models::Models;
use crate::rows::{case_vectors, BATCH};
use precedent_search::engine::Engine;
use precedent_store::index_feed::{self as rows, Selection};
use sqlx::PgPool;

/// What `check` found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CheckReport {
    pub cases_in_db: usize,
    pub cases_in_index: usize,
    /// In the database, not in the index.
    pub missing: Vec<i64>,
    /// In the index, not in the database.
    pub extra: Vec<i64>,
    /// In both, but with different vectors, lab profiles or filter fields.
    pub stale: Vec<i64>,
}

impl CheckReport {
    pub fn agrees(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.stale.is_empty()
    }
}

/// Compares `engine` with the database, case by case.
pub(crate) async fn compare(pool: &PgPool, engine: &Engine, models: &Models) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let mut in_db = std::collections::HashSet::new();
    let mut after = 0;
    loop {
        let batch = rows::index_rows(pool, Selection::After { after, limit: BATCH }, &models.text, models.image.as_deref()).await?;
        let Some(last) = batch.last() else { break };
        after = last.case_id;
        for row in batch {
            let id = row.case_id;
            in_db.insert(id);
            let want = case_vectors(row, models);
            match engine.case(id) {
                None => report.missing.push(id),
                Some(have) => {
                    if have.meta != want.meta || have.text != want.text || have.images != want.images || have.labs != want.labs {
                        report.stale.push(id);
                    }
                }
            }
        }
    }
    let ids = engine.case_ids();
    report.extra = ids.iter().copied().filter(|id| !in_db.contains(id)).collect();
    report.cases_in_db = in_db.len();
    report.cases_in_index = ids.len();
    Ok(report)
}
