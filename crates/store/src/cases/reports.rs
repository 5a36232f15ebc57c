//! A case's lab reports (`lab_reports`): the rows written with a new case — each with the
//! values read from it ([`crate::labs`]) — and reading them back, all of a case's or one by id.
//! Re-reading a report stored without values is [`crate::labs::fill_report`].
use crate::labs::{self, NewLabValue};
use crate::Result;
use precedent_types::{CaseId, ReportId, TextStatus, UserId};
use sqlx::PgPool;
use time::OffsetDateTime;

/// A report to store with a new case; its PDF is already in the blob store.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub filename: String,
    pub sha256: String,
    pub byte_size: i64,
    pub text_status: TextStatus,
    pub extracted_text: String,
    pub extract_error: Option<String>,
    /// Values read from the text, and the collection date the report printed.
    pub values: Vec<NewLabValue>,
    pub collected_on: Option<time::Date>,
}

/// A stored report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Report {
    pub id: ReportId,
    pub case_id: CaseId,
    /// The owner of its case.
    pub owner: UserId,
    pub filename: String,
    pub sha256: String,
    pub byte_size: i64,
    pub text_status: TextStatus,
    pub extracted_text: String,
    pub extract_error: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The columns of [`Report`], over `lab_reports r JOIN cases c`.
const COLUMNS: &str = "r.id, r.case_id, c.owner_id AS owner, r.filename, r.sha256, r.byte_size, r.text_status, r.extracted_text, r.extract_error, r.created_at";

/// Stores `reports` and their values for the new case `case` (inside the caller's transaction).
pub(super) async fn insert(conn: &mut sqlx::PgConnection, case: CaseId, reports: &[NewReport]) -> Result<()> {
    for rep in reports {
        let report: ReportId = sqlx::query_scalar(
            "INSERT INTO lab_reports (case_id, filename, sha256, byte_size, text_status, extracted_text, extract_error, collected_on)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(case)
        .bind(&rep.filename)
        .bind(&rep.sha256)
        .bind(rep.byte_size)
        .bind(rep.text_status)
        .bind(&rep.extracted_text)
        .bind(&rep.extract_error)
        .bind(rep.collected_on)
        .fetch_one(&mut *conn)
        .await?;
        labs::insert(&mut *conn, case, report, &rep.values).await?;
    }
    Ok(())
}

/// The reports of `case`, oldest first.
pub(super) async fn of_case(pool: &PgPool, case: CaseId) -> Result<Vec<Report>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM lab_reports r JOIN cases c ON c.id = r.case_id WHERE r.case_id = $1 ORDER BY r.id"))
        .bind(case)
        .fetch_all(pool)
        .await?)
}

/// One report; `None` if it does not exist.
pub async fn get_report(pool: &PgPool, id: ReportId) -> Result<Option<Report>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM lab_reports r JOIN cases c ON c.id = r.case_id WHERE r.id = $1")).bind(id).fetch_optional(pool).await?)
}
