//! Case reports (`case_reports`, append-only): the versions a doctor saves and releases, the
//! latest one and the latest released one of a case, the titles of shareable library cases a
//! released report rests on, and how often each kind of suggestion was accepted.
use crate::Result;
use precedent_types::{CaseId, UserId};
use sqlx::types::Json;
use sqlx::PgPool;
use time::OffsetDateTime;

/// What a doctor did with one suggestion.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    /// `diagnosis`, `next_test` or `specialist`.
    pub kind: String,
    pub suggested: String,
    /// `accepted`, `rejected`, or `added` (written by the doctor, not suggested).
    pub decision: String,
}

#[derive(Debug, Clone)]
pub struct NewCaseReport {
    pub case: CaseId,
    pub author: UserId,
    pub released: bool,
    pub diagnoses: String,
    pub next_tests: String,
    pub specialist: String,
    pub summary: String,
    pub decisions: Vec<Decision>,
    pub evidence: Vec<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseReportRow {
    pub id: i64,
    pub author_name: String,
    pub status: String,
    pub diagnoses: String,
    pub next_tests: String,
    pub specialist: String,
    pub summary: String,
    pub decisions: Json<Vec<Decision>>,
    pub evidence: Vec<i64>,
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "r.id, COALESCE(NULLIF(u.display_name, ''), 'a doctor') AS author_name, r.status, r.diagnoses, r.next_tests, r.specialist,
    r.summary, r.decisions, r.evidence, r.created_at";

pub async fn insert(pool: &PgPool, r: &NewCaseReport) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO case_reports (case_id, author_id, status, diagnoses, next_tests, specialist, summary, decisions, evidence)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(r.case)
    .bind(r.author)
    .bind(if r.released { "released" } else { "draft" })
    .bind(&r.diagnoses)
    .bind(&r.next_tests)
    .bind(&r.specialist)
    .bind(&r.summary)
    .bind(Json(&r.decisions))
    .bind(&r.evidence)
    .fetch_one(pool)
    .await?)
}

/// Every version of a case's report, newest first.
pub async fn versions(pool: &PgPool, case: CaseId) -> Result<Vec<CaseReportRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM case_reports r JOIN users u ON u.id = r.author_id WHERE r.case_id = $1 ORDER BY r.created_at DESC, r.id DESC"
    ))
    .bind(case)
    .fetch_all(pool)
    .await?)
}

/// The latest released version of a case's report.
pub async fn latest_released(pool: &PgPool, case: CaseId) -> Result<Option<CaseReportRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM case_reports r JOIN users u ON u.id = r.author_id
         WHERE r.case_id = $1 AND r.status = 'released' ORDER BY r.created_at DESC, r.id DESC LIMIT 1"
    ))
    .bind(case)
    .fetch_optional(pool)
    .await?)
}

/// Titles of the cases among `ids` that a teaching library shared with patients (what a
/// patient may read of a released report's evidence).
pub async fn shareable_titles(pool: &PgPool, ids: &[i64]) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT title FROM cases WHERE id = ANY($1) AND shareable ORDER BY title").bind(ids).fetch_all(pool).await?)
}

/// (kind, decision, count) over every saved version's latest decisions per case: how doctors
/// judged each kind of suggestion.
pub async fn decision_counts(pool: &PgPool) -> Result<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "WITH latest AS (SELECT DISTINCT ON (case_id) decisions FROM case_reports ORDER BY case_id, created_at DESC, id DESC)
         SELECT d->>'kind', d->>'decision', count(*) FROM latest, jsonb_array_elements(latest.decisions) d GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await?)
}
