//! What decision support needs of a query's similar cases: each case's diagnosis and on what it
//! rests (a doctor's latest validation or correction, or the teaching library's record), the
//! reviewer's certainty and specialist, the library's labels and the imaging it holds.
use crate::Result;
use precedent_types::{Certainty, ReviewAction};
use sqlx::types::Json;
use sqlx::PgPool;
use std::collections::BTreeMap;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EvidenceRow {
    pub id: i64,
    pub title: String,
    /// The latest review's diagnosis, else the recorded one.
    pub diagnosis: Option<String>,
    /// The latest review's action; `None`: not reviewed.
    pub review: Option<ReviewAction>,
    pub certainty: Option<Certainty>,
    /// The specialist the latest review named (empty when none).
    pub specialist: Option<String>,
    pub body_region: Option<String>,
    pub labels: Json<BTreeMap<String, String>>,
    /// Owned by the library account: its recorded diagnosis is the teaching library's.
    pub library: bool,
    /// Distinct modalities of its scans.
    pub modalities: Vec<String>,
}

/// The evidence rows of `ids` (those that no longer exist are absent).
pub async fn rows(pool: &PgPool, ids: &[i64]) -> Result<Vec<EvidenceRow>> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.title, COALESCE(lv.diagnosis, c.diagnosis) AS diagnosis, lv.action AS review, lv.certainty, lv.specialist,
                c.body_region, c.labels, (u.kind = 'library') AS library,
                COALESCE((SELECT array_agg(DISTINCT i.modality ORDER BY i.modality) FROM case_images i WHERE i.case_id = c.id), '{}') AS modalities
         FROM cases c
         JOIN users u ON u.id = c.owner_id
         LEFT JOIN LATERAL (SELECT v.diagnosis, v.action, v.certainty, v.specialist FROM validations v WHERE v.case_id = c.id
                            ORDER BY v.created_at DESC, v.id DESC LIMIT 1) lv ON TRUE
         WHERE c.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?)
}
