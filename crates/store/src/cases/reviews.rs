//! Doctors' reviews of a case's diagnosis (`validations`, append-only: a trigger refuses UPDATE
//! and DELETE): adding one, a case's review history, and the queue of cases no one has reviewed.
use crate::{audit, Result};
use precedent_types::{CaseId, Certainty, ReviewAction, Role, UserId};
use sqlx::PgPool;
use time::OffsetDateTime;

/// A stored review.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Validation {
    pub id: i64,
    /// The reviewer's e-mail (shown to staff).
    pub author_email: String,
    /// The reviewer's display name (shown to patients).
    pub author_name: String,
    pub action: ReviewAction,
    pub diagnosis: String,
    pub certainty: Certainty,
    pub notes: String,
    pub next_tests: String,
    pub specialist: String,
    pub created_at: OffsetDateTime,
}

/// A doctor's review of a case: `validate` the recorded diagnosis or `correct` it.
#[derive(Debug, Clone)]
pub struct NewValidation {
    pub action: ReviewAction,
    pub diagnosis: String,
    pub certainty: Certainty,
    pub notes: String,
    pub next_tests: String,
    pub specialist: String,
}

/// The review history of `case`, newest first.
pub(super) async fn of_case(pool: &PgPool, case: CaseId) -> Result<Vec<Validation>> {
    Ok(sqlx::query_as(
        "SELECT v.id, u.email AS author_email, COALESCE(NULLIF(u.display_name, ''), 'a doctor') AS author_name, v.action, v.diagnosis, v.certainty, v.notes, v.next_tests, v.specialist, v.created_at
         FROM validations v JOIN users u ON u.id = v.author_id WHERE v.case_id = $1 ORDER BY v.created_at DESC, v.id DESC",
    )
    .bind(case)
    .fetch_all(pool)
    .await?)
}

/// Appends a doctor's validation (or correction) to a case's history and marks it reviewed.
/// `ip`: where the request came from (audited).
pub async fn add_validation(pool: &PgPool, case: CaseId, author: UserId, author_role: Role, v: &NewValidation, ip: Option<String>) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO validations (case_id, author_id, action, diagnosis, certainty, notes, next_tests, specialist)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(case)
    .bind(author)
    .bind(v.action)
    .bind(&v.diagnosis)
    .bind(v.certainty)
    .bind(&v.notes)
    .bind(&v.next_tests)
    .bind(&v.specialist)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE cases SET status = 'reviewed', updated_at = now() WHERE id = $1").bind(case).execute(&mut *tx).await?;
    audit::record(
        &mut *tx,
        &audit::Entry {
            actor: Some((author, author_role)),
            action: match v.action {
                ReviewAction::Correct => "case.correct",
                ReviewAction::Validate => "case.validate",
            },
            object_kind: Some("case"),
            object_id: Some(case.0),
            ip,
            outcome: "ok",
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A case waiting for review.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueItem {
    pub id: CaseId,
    pub title: String,
    pub diagnosis: Option<String>,
    pub body_region: Option<String>,
    pub age_years: Option<i32>,
    pub sex: Option<String>,
    pub created_at: OffsetDateTime,
}

/// Cases without any validation, oldest first, optionally only of one body region
/// (case-insensitive). Returns one page and the total.
pub async fn review_queue(pool: &PgPool, region: Option<&str>, limit: i64, offset: i64) -> Result<(Vec<QueueItem>, i64)> {
    const WHERE: &str = "NOT EXISTS (SELECT 1 FROM validations v WHERE v.case_id = c.id)
        AND ($1::text IS NULL OR lower(c.body_region) = lower($1))";
    let items: Vec<QueueItem> = sqlx::query_as(&format!(
        "SELECT c.id, c.title, c.diagnosis, c.body_region, c.age_years, c.sex, c.created_at FROM cases c
         WHERE {WHERE} ORDER BY c.created_at, c.id LIMIT $2 OFFSET $3"
    ))
    .bind(region)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM cases c WHERE {WHERE}")).bind(region).fetch_one(pool).await?;
    Ok((items, total))
}
