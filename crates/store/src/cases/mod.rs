//! Cases: creating one with its images and lab reports in one transaction, the case list, a
//! case's page (with its images, reports and review history) and its owner. The rows a case
//! holds live in the submodules — [`images`], [`reports`], [`reviews`] — and are re-exported
//! here, so `cases::Image`, `cases::get_report`, `cases::add_validation`… name them.
mod images;
mod reports;
mod reviews;

pub use images::{get_image, Image, NewImage};
pub use precedent_types::TextStatus;
pub use reports::{get_report, NewReport, Report};
pub use reviews::{add_validation, review_queue, NewValidation, QueueItem, Validation};

use crate::{audit, conflict_on_unique, Result};
use precedent_types::{CaseId, CaseStatus, ImageId, Role, UserId};
use sqlx::PgPool;
use time::OffsetDateTime;

/// A case to create. Files must already be in the [`crate::BlobStore`].
#[derive(Debug, Clone)]
pub struct NewCase {
    pub owner: UserId,
    pub title: String,
    pub history: String,
    pub exam: String,
    pub findings: String,
    pub diagnosis: Option<String>,
    pub age_years: Option<i32>,
    pub sex: Option<String>,
    pub body_region: Option<String>,
    pub source: String,
    pub external_ref: Option<String>,
    /// A library case that patients may meet as a (de-identified) similar case; only cases
    /// of the library account can be (the database refuses the rest).
    pub shareable: bool,
    /// A library's labels of the case (`location`, `topic`, `disease_class`, `diagnosis_by`, …).
    pub labels: std::collections::BTreeMap<String, String>,
    pub images: Vec<NewImage>,
    pub reports: Vec<NewReport>,
}

/// A line of the case list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseSummary {
    pub id: CaseId,
    pub owner: UserId,
    pub owner_email: String,
    pub title: String,
    pub status: CaseStatus,
    pub diagnosis: Option<String>,
    pub image_count: i64,
    pub report_count: i64,
    pub first_image: Option<ImageId>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Case {
    pub id: CaseId,
    pub owner: UserId,
    pub owner_email: String,
    pub title: String,
    pub history: String,
    pub exam: String,
    pub findings: String,
    pub diagnosis: Option<String>,
    pub status: CaseStatus,
    pub age_years: Option<i32>,
    pub sex: Option<String>,
    pub body_region: Option<String>,
    pub source: String,
    pub created_at: OffsetDateTime,
}

/// A case with everything shown on its page.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    pub case: Case,
    pub images: Vec<Image>,
    pub reports: Vec<Report>,
    pub validations: Vec<Validation>,
}

/// Creates the case, its images and reports in one transaction (with its audit entry):
/// either all of it is visible afterwards or none of it.
pub async fn create(pool: &PgPool, new: &NewCase, ip: Option<String>, actor_role: Role) -> Result<CaseId> {
    let mut tx = pool.begin().await?;
    let id: CaseId = sqlx::query_scalar(
        "INSERT INTO cases (owner_id, title, history, exam, findings, diagnosis, age_years, sex, body_region, source, external_ref, shareable, labels)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(new.owner)
    .bind(&new.title)
    .bind(&new.history)
    .bind(&new.exam)
    .bind(&new.findings)
    .bind(&new.diagnosis)
    .bind(new.age_years)
    .bind(&new.sex)
    .bind(&new.body_region)
    .bind(&new.source)
    .bind(&new.external_ref)
    .bind(new.shareable)
    .bind(sqlx::types::Json(&new.labels))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict_on_unique(e, "a case with this external reference"))?;
    images::insert(&mut tx, id, &new.images).await?;
    reports::insert(&mut tx, id, &new.reports).await?;
    // The vectors are computed later by the embedding worker; the request never waits for them.
    crate::embeddings::enqueue(&mut *tx, id).await?;
    audit::record(
        &mut *tx,
        &audit::Entry {
            actor: Some((new.owner, actor_role)),
            action: "case.create",
            object_kind: Some("case"),
            object_id: Some(id.0),
            ip,
            outcome: "ok",
            detail: serde_json::json!({"images": new.images.len(), "reports": new.reports.len(), "source": new.source}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One page of cases, newest first: all cases, or only `owner`'s. Returns (page, total).
pub async fn list(pool: &PgPool, owner: Option<UserId>, limit: i64, offset: i64) -> Result<(Vec<CaseSummary>, i64)> {
    let items: Vec<CaseSummary> = sqlx::query_as(
        "SELECT c.id, c.owner_id AS owner, u.email AS owner_email, c.title, c.status,
                COALESCE((SELECT v.diagnosis FROM validations v WHERE v.case_id = c.id ORDER BY v.created_at DESC, v.id DESC LIMIT 1), c.diagnosis) AS diagnosis,
                (SELECT count(*) FROM case_images i WHERE i.case_id = c.id) AS image_count,
                (SELECT count(*) FROM lab_reports r WHERE r.case_id = c.id) AS report_count,
                (SELECT i.id FROM case_images i WHERE i.case_id = c.id ORDER BY i.position LIMIT 1) AS first_image,
                c.created_at
         FROM cases c JOIN users u ON u.id = c.owner_id
         WHERE ($1::BIGINT IS NULL OR c.owner_id = $1)
         ORDER BY c.created_at DESC, c.id DESC
         LIMIT $2 OFFSET $3",
    )
    .bind(owner)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM cases WHERE ($1::BIGINT IS NULL OR owner_id = $1)").bind(owner).fetch_one(pool).await?;
    Ok((items, total))
}

/// A case with its images, reports and validation history; `None` if it does not exist.
pub async fn get(pool: &PgPool, id: CaseId) -> Result<Option<CaseDetail>> {
    let case: Option<Case> = sqlx::query_as(
        "SELECT c.id, c.owner_id AS owner, u.email AS owner_email, c.title, c.history, c.exam, c.findings, c.diagnosis, c.status,
                c.age_years, c.sex, c.body_region, c.source, c.created_at
         FROM cases c JOIN users u ON u.id = c.owner_id WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(case) = case else { return Ok(None) };
    Ok(Some(CaseDetail {
        case,
        images: images::of_case(pool, id).await?,
        reports: reports::of_case(pool, id).await?,
        validations: reviews::of_case(pool, id).await?,
    }))
}

/// The owner of a case, for authorisation checks that need nothing else.
pub async fn owner_of(pool: &PgPool, id: CaseId) -> Result<Option<UserId>> {
    Ok(sqlx::query_scalar("SELECT owner_id FROM cases WHERE id = $1").bind(id).fetch_optional(pool).await?)
}

/// Marks (or unmarks) every library case imported from `source` as shareable with patients as
/// a teaching case; returns how many cases changed. Cases of other owners are never touched.
pub async fn set_library_shareable(pool: &PgPool, source: &str, shareable: bool) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE cases SET shareable = $2
         WHERE source = $1 AND shareable <> $2 AND owner_id IN (SELECT id FROM users WHERE kind = 'library')",
    )
    .bind(source)
    .bind(shareable)
    .execute(pool)
    .await?
    .rows_affected())
}

/// How many cases came from `source` (e.g. `import:<library>`).
pub async fn count_from_source(pool: &PgPool, source: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM cases WHERE source = $1").bind(source).fetch_one(pool).await?)
}

/// How many cases `owner` added within `within` of now, and the bytes of their scans and
/// reports (the daily upload quota).
pub async fn added_since(pool: &PgPool, owner: UserId, within: time::Duration) -> Result<(i64, i64)> {
    let since = OffsetDateTime::now_utc() - within;
    Ok(sqlx::query_as(
        "SELECT count(*),
                COALESCE(sum((SELECT COALESCE(sum(byte_size), 0) FROM case_images i WHERE i.case_id = c.id)
                           + (SELECT COALESCE(sum(byte_size), 0) FROM lab_reports r WHERE r.case_id = c.id)), 0)::BIGINT
         FROM cases c WHERE c.owner_id = $1 AND c.created_at >= $2",
    )
    .bind(owner)
    .bind(since)
    .fetch_one(pool)
    .await?)
}

pub async fn count(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM cases").fetch_one(pool).await?)
}
