//! Cases with their images, lab reports and validation history.
use crate::{audit, conflict_on_unique, Result, StoreError};
use precedent_types::{CaseId, CaseStatus, Certainty, ImageId, Modality, ReportId, Role, UserId};
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
    pub images: Vec<NewImage>,
    pub reports: Vec<NewReport>,
}

#[derive(Debug, Clone)]
pub struct NewImage {
    pub filename: String,
    pub mime: String,
    pub sha256: String,
    pub byte_size: i64,
    pub width: i32,
    pub height: i32,
    pub modality: Modality,
    pub plane: Option<String>,
    pub caption: Option<String>,
    pub thumb_sha256: String,
}

/// Outcome of reading a PDF's text layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStatus {
    Extracted,
    NoText,
    Failed,
}

impl TextStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TextStatus::Extracted => "extracted",
            TextStatus::NoText => "no_text",
            TextStatus::Failed => "failed",
        }
    }
    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "extracted" => Ok(TextStatus::Extracted),
            "no_text" => Ok(TextStatus::NoText),
            "failed" => Ok(TextStatus::Failed),
            other => Err(StoreError::Corrupt(format!("text_status {other:?}"))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewReport {
    pub filename: String,
    pub sha256: String,
    pub byte_size: i64,
    pub text_status: TextStatus,
    pub extracted_text: String,
    pub extract_error: Option<String>,
    /// Values read from the text, and the collection date the report printed.
    pub values: Vec<crate::labs::NewLabValue>,
    pub collected_on: Option<time::Date>,
}

#[derive(Debug, Clone)]
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

#[derive(Debug, Clone)]
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

#[derive(Debug, Clone)]
pub struct Image {
    pub id: ImageId,
    pub case_id: CaseId,
    pub owner: UserId,
    pub position: i32,
    pub filename: String,
    pub mime: String,
    pub sha256: String,
    pub byte_size: i64,
    pub width: i32,
    pub height: i32,
    pub modality: Modality,
    pub plane: Option<String>,
    pub caption: Option<String>,
    pub thumb_sha256: String,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub id: ReportId,
    pub case_id: CaseId,
    pub owner: UserId,
    pub filename: String,
    pub sha256: String,
    pub byte_size: i64,
    pub text_status: TextStatus,
    pub extracted_text: String,
    pub extract_error: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Validation {
    pub id: i64,
    pub author_email: String,
    pub action: String,
    pub diagnosis: String,
    pub certainty: Certainty,
    pub notes: String,
    pub next_tests: String,
    pub specialist: String,
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
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO cases (owner_id, title, history, exam, findings, diagnosis, age_years, sex, body_region, source, external_ref)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(new.owner.0)
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
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| conflict_on_unique(e, "a case with this external reference"))?;
    for (pos, img) in new.images.iter().enumerate() {
        sqlx::query(
            "INSERT INTO case_images (case_id, position, filename, mime, sha256, byte_size, width, height, modality, plane, caption, thumb_sha256)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(pos as i32)
        .bind(&img.filename)
        .bind(&img.mime)
        .bind(&img.sha256)
        .bind(img.byte_size)
        .bind(img.width)
        .bind(img.height)
        .bind(img.modality.as_str())
        .bind(&img.plane)
        .bind(&img.caption)
        .bind(&img.thumb_sha256)
        .execute(&mut *tx)
        .await?;
    }
    for rep in &new.reports {
        let report: i64 = sqlx::query_scalar(
            "INSERT INTO lab_reports (case_id, filename, sha256, byte_size, text_status, extracted_text, extract_error, collected_on)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(id)
        .bind(&rep.filename)
        .bind(&rep.sha256)
        .bind(rep.byte_size)
        .bind(rep.text_status.as_str())
        .bind(&rep.extracted_text)
        .bind(&rep.extract_error)
        .bind(rep.collected_on)
        .fetch_one(&mut *tx)
        .await?;
        crate::labs::insert(&mut tx, id, report, &rep.values).await?;
    }
    // The vectors are computed later by the embedding worker; the request never waits for them.
    crate::embeddings::enqueue(&mut *tx, CaseId(id)).await?;
    audit::record(
        &mut *tx,
        &audit::Entry {
            actor: Some((new.owner, actor_role)),
            action: "case.create",
            object_kind: Some("case"),
            object_id: Some(id),
            ip,
            outcome: "ok",
            detail: serde_json::json!({"images": new.images.len(), "reports": new.reports.len(), "source": new.source}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CaseId(id))
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    owner_id: i64,
    owner_email: String,
    title: String,
    status: String,
    diagnosis: Option<String>,
    image_count: i64,
    report_count: i64,
    first_image: Option<i64>,
    created_at: OffsetDateTime,
}

fn parse<T: std::str::FromStr>(s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// One page of cases, newest first: all cases, or only `owner`'s. Returns (page, total).
pub async fn list(pool: &PgPool, owner: Option<UserId>, limit: i64, offset: i64) -> Result<(Vec<CaseSummary>, i64)> {
    let rows: Vec<SummaryRow> = sqlx::query_as(
        "SELECT c.id, c.owner_id, u.email AS owner_email, c.title, c.status,
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
    .bind(owner.map(|o| o.0))
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM cases WHERE ($1::BIGINT IS NULL OR owner_id = $1)")
        .bind(owner.map(|o| o.0))
        .fetch_one(pool)
        .await?;
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(CaseSummary {
                id: CaseId(r.id),
                owner: UserId(r.owner_id),
                owner_email: r.owner_email,
                title: r.title,
                status: parse(&r.status)?,
                diagnosis: r.diagnosis,
                image_count: r.image_count,
                report_count: r.report_count,
                first_image: r.first_image.map(ImageId),
                created_at: r.created_at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((items, total))
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    id: i64,
    owner_id: i64,
    owner_email: String,
    title: String,
    history: String,
    exam: String,
    findings: String,
    diagnosis: Option<String>,
    status: String,
    age_years: Option<i32>,
    sex: Option<String>,
    body_region: Option<String>,
    source: String,
    created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct ImageRow {
    id: i64,
    case_id: i64,
    owner_id: i64,
    position: i32,
    filename: String,
    mime: String,
    sha256: String,
    byte_size: i64,
    width: i32,
    height: i32,
    modality: String,
    plane: Option<String>,
    caption: Option<String>,
    thumb_sha256: String,
}

impl TryFrom<ImageRow> for Image {
    type Error = StoreError;
    fn try_from(r: ImageRow) -> Result<Self> {
        Ok(Image {
            id: ImageId(r.id),
            case_id: CaseId(r.case_id),
            owner: UserId(r.owner_id),
            position: r.position,
            filename: r.filename,
            mime: r.mime,
            sha256: r.sha256,
            byte_size: r.byte_size,
            width: r.width,
            height: r.height,
            modality: parse(&r.modality)?,
            plane: r.plane,
            caption: r.caption,
            thumb_sha256: r.thumb_sha256,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    case_id: i64,
    owner_id: i64,
    filename: String,
    sha256: String,
    byte_size: i64,
    text_status: String,
    extracted_text: String,
    extract_error: Option<String>,
    created_at: OffsetDateTime,
}

impl TryFrom<ReportRow> for Report {
    type Error = StoreError;
    fn try_from(r: ReportRow) -> Result<Self> {
        Ok(Report {
            id: ReportId(r.id),
            case_id: CaseId(r.case_id),
            owner: UserId(r.owner_id),
            filename: r.filename,
            sha256: r.sha256,
            byte_size: r.byte_size,
            text_status: TextStatus::parse(&r.text_status)?,
            extracted_text: r.extracted_text,
            extract_error: r.extract_error,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ValidationRow {
    id: i64,
    author_email: String,
    action: String,
    diagnosis: String,
    certainty: String,
    notes: String,
    next_tests: String,
    specialist: String,
    created_at: OffsetDateTime,
}

const IMAGE_COLUMNS: &str = "i.id, i.case_id, c.owner_id, i.position, i.filename, i.mime, i.sha256, i.byte_size, i.width, i.height, i.modality, i.plane, i.caption, i.thumb_sha256";
const REPORT_COLUMNS: &str =
    "r.id, r.case_id, c.owner_id, r.filename, r.sha256, r.byte_size, r.text_status, r.extracted_text, r.extract_error, r.created_at";

/// A case with its images, reports and validation history; `None` if it does not exist.
pub async fn get(pool: &PgPool, id: CaseId) -> Result<Option<CaseDetail>> {
    let row: Option<CaseRow> = sqlx::query_as(
        "SELECT c.id, c.owner_id, u.email AS owner_email, c.title, c.history, c.exam, c.findings, c.diagnosis, c.status,
                c.age_years, c.sex, c.body_region, c.source, c.created_at
         FROM cases c JOIN users u ON u.id = c.owner_id WHERE c.id = $1",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let case = Case {
        id: CaseId(r.id),
        owner: UserId(r.owner_id),
        owner_email: r.owner_email,
        title: r.title,
        history: r.history,
        exam: r.exam,
        findings: r.findings,
        diagnosis: r.diagnosis,
        status: parse(&r.status)?,
        age_years: r.age_years,
        sex: r.sex,
        body_region: r.body_region,
        source: r.source,
        created_at: r.created_at,
    };
    let images: Vec<ImageRow> = sqlx::query_as(&format!(
        "SELECT {IMAGE_COLUMNS} FROM case_images i JOIN cases c ON c.id = i.case_id WHERE i.case_id = $1 ORDER BY i.position"
    ))
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    let reports: Vec<ReportRow> = sqlx::query_as(&format!(
        "SELECT {REPORT_COLUMNS} FROM lab_reports r JOIN cases c ON c.id = r.case_id WHERE r.case_id = $1 ORDER BY r.id"
    ))
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    let validations: Vec<ValidationRow> = sqlx::query_as(
        "SELECT v.id, u.email AS author_email, v.action, v.diagnosis, v.certainty, v.notes, v.next_tests, v.specialist, v.created_at
         FROM validations v JOIN users u ON u.id = v.author_id WHERE v.case_id = $1 ORDER BY v.created_at DESC, v.id DESC",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    Ok(Some(CaseDetail {
        case,
        images: images.into_iter().map(Image::try_from).collect::<Result<_>>()?,
        reports: reports.into_iter().map(Report::try_from).collect::<Result<_>>()?,
        validations: validations
            .into_iter()
            .map(|v| {
                Ok(Validation {
                    id: v.id,
                    author_email: v.author_email,
                    action: v.action,
                    diagnosis: v.diagnosis,
                    certainty: parse(&v.certainty)?,
                    notes: v.notes,
                    next_tests: v.next_tests,
                    specialist: v.specialist,
                    created_at: v.created_at,
                })
            })
            .collect::<Result<_>>()?,
    }))
}

/// The owner of a case, for authorisation checks that need nothing else.
pub async fn owner_of(pool: &PgPool, id: CaseId) -> Result<Option<UserId>> {
    let owner: Option<i64> = sqlx::query_scalar("SELECT owner_id FROM cases WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    Ok(owner.map(UserId))
}

pub async fn get_image(pool: &PgPool, id: ImageId) -> Result<Option<Image>> {
    let row: Option<ImageRow> =
        sqlx::query_as(&format!("SELECT {IMAGE_COLUMNS} FROM case_images i JOIN cases c ON c.id = i.case_id WHERE i.id = $1"))
            .bind(id.0)
            .fetch_optional(pool)
            .await?;
    row.map(Image::try_from).transpose()
}

pub async fn get_report(pool: &PgPool, id: ReportId) -> Result<Option<Report>> {
    let row: Option<ReportRow> =
        sqlx::query_as(&format!("SELECT {REPORT_COLUMNS} FROM lab_reports r JOIN cases c ON c.id = r.case_id WHERE r.id = $1"))
            .bind(id.0)
            .fetch_optional(pool)
            .await?;
    row.map(Report::try_from).transpose()
}

pub async fn count(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM cases").fetch_one(pool).await?)
}

/// A doctor's review of a case: `validate` the recorded diagnosis or `correct` it.
#[derive(Debug, Clone)]
pub struct NewValidation {
    pub action: &'static str,
    pub diagnosis: String,
    pub certainty: Certainty,
    pub notes: String,
    pub next_tests: String,
    pub specialist: String,
}

/// Appends a doctor's validation (or correction) to a case's history and marks it reviewed.
/// `ip`: where the request came from (audited).
pub async fn add_validation(pool: &PgPool, case: CaseId, author: UserId, author_role: Role, v: &NewValidation, ip: Option<String>) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO validations (case_id, author_id, action, diagnosis, certainty, notes, next_tests, specialist)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(case.0)
    .bind(author.0)
    .bind(v.action)
    .bind(&v.diagnosis)
    .bind(v.certainty.as_str())
    .bind(&v.notes)
    .bind(&v.next_tests)
    .bind(&v.specialist)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE cases SET status = 'reviewed', updated_at = now() WHERE id = $1").bind(case.0).execute(&mut *tx).await?;
    audit::record(
        &mut *tx,
        &audit::Entry {
            actor: Some((author, author_role)),
            action: if v.action == "correct" { "case.correct" } else { "case.validate" },
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
    pub id: i64,
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
