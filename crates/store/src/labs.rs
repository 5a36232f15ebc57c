//! Lab values read from reports (`lab_values`), doctors' corrections of them (appended to
//! `lab_value_corrections`; the value as read is kept), and filling in the values of a report
//! stored without any.
use crate::Result;
use precedent_labs::LabValue;
use precedent_types::{CaseId, LabFlag, ReportId, TextStatus, UserId};
use sqlx::PgPool;
use time::OffsetDateTime;

/// A value as read, to be stored with its report.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct NewLabValue {
    pub analyte: String,
    pub analyte_id: Option<String>,
    pub printed_name: String,
    pub loinc: Option<String>,
    pub value: Option<f64>,
    /// `<`, `<=`, `>`, `>=`.
    pub qualifier: Option<String>,
    pub text_value: Option<String>,
    pub unit: Option<String>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub range_text: Option<String>,
    pub flag: Option<LabFlag>,
    pub flag_printed: bool,
    pub canonical_value: Option<f64>,
    pub canonical_unit: Option<String>,
    pub canonical_low: Option<f64>,
    pub canonical_high: Option<f64>,
    pub panel: Option<String>,
    pub raw: String,
}

/// A value as the parser read it, as a row to store with its report.
impl From<&LabValue> for NewLabValue {
    fn from(v: &LabValue) -> Self {
        NewLabValue {
            analyte: v.analyte.clone(),
            analyte_id: v.analyte_id.clone(),
            printed_name: v.printed_name.clone(),
            loinc: v.loinc.clone(),
            value: v.value,
            qualifier: v.qualifier.map(|q| q.as_str().to_string()),
            text_value: v.text_value.clone(),
            unit: v.unit.clone(),
            low: v.low,
            high: v.high,
            range_text: v.range_text.clone(),
            flag: v.flag,
            flag_printed: v.flag_printed,
            canonical_value: v.canonical_value,
            canonical_unit: v.canonical_unit.clone(),
            canonical_low: v.canonical_low,
            canonical_high: v.canonical_high,
            panel: v.panel.clone(),
            raw: v.raw.clone(),
        }
    }
}

/// Stores `values` for report `report` of `case` (inside the caller's transaction).
pub async fn insert(conn: &mut sqlx::PgConnection, case: CaseId, report: ReportId, values: &[NewLabValue]) -> Result<()> {
    for (i, v) in values.iter().enumerate() {
        sqlx::query(
            "INSERT INTO lab_values (report_id, case_id, position, analyte, analyte_id, printed_name, loinc, value, qualifier, text_value,
                                     unit, low, high, range_text, flag, flag_printed, canonical_value, canonical_unit, canonical_low,
                                     canonical_high, panel, raw)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        )
        .bind(report)
        .bind(case)
        .bind(i as i32)
        .bind(&v.analyte)
        .bind(&v.analyte_id)
        .bind(&v.printed_name)
        .bind(&v.loinc)
        .bind(v.value)
        .bind(&v.qualifier)
        .bind(&v.text_value)
        .bind(&v.unit)
        .bind(v.low)
        .bind(v.high)
        .bind(&v.range_text)
        .bind(v.flag)
        .bind(v.flag_printed)
        .bind(v.canonical_value)
        .bind(&v.canonical_unit)
        .bind(v.canonical_low)
        .bind(v.canonical_high)
        .bind(&v.panel)
        .bind(&v.raw)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A stored value with its latest correction, if any.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LabValueRow {
    pub id: i64,
    pub report_id: ReportId,
    pub position: i32,
    /// The value as read from the report.
    #[sqlx(flatten)]
    pub read: NewLabValue,
    pub collected_on: Option<time::Date>,
    pub corrected_value: Option<f64>,
    pub corrected_qualifier: Option<String>,
    pub corrected_text: Option<String>,
    pub corrected_unit: Option<String>,
    pub corrected_flag: Option<LabFlag>,
    pub corrected_canonical: Option<f64>,
    pub corrected_note: Option<String>,
    /// The correcting doctor's e-mail (shown to staff).
    pub corrected_by: Option<String>,
    /// The correcting doctor's display name (shown to patients).
    pub corrected_by_name: Option<String>,
    pub corrected_at: Option<OffsetDateTime>,
}

/// Every value of a case's reports, in report and printed order.
pub async fn of_case(pool: &PgPool, case: CaseId) -> Result<Vec<LabValueRow>> {
    Ok(sqlx::query_as(
        "SELECT v.id, v.report_id, v.position, v.analyte, v.analyte_id, v.printed_name, v.loinc, v.value, v.qualifier, v.text_value,
                v.unit, v.low, v.high, v.range_text, v.flag, v.flag_printed, v.canonical_value, v.canonical_unit, v.canonical_low,
                v.canonical_high, v.panel, v.raw, r.collected_on,
                c.value AS corrected_value, c.qualifier AS corrected_qualifier, c.text_value AS corrected_text, c.unit AS corrected_unit,
                c.flag AS corrected_flag, c.canonical_value AS corrected_canonical, c.note AS corrected_note, u.email AS corrected_by,
                CASE WHEN u.id IS NULL THEN NULL ELSE COALESCE(NULLIF(u.display_name, ''), 'a doctor') END AS corrected_by_name,
                c.created_at AS corrected_at
         FROM lab_values v
         JOIN lab_reports r ON r.id = v.report_id
         LEFT JOIN LATERAL (SELECT * FROM lab_value_corrections k WHERE k.value_id = v.id ORDER BY k.created_at DESC, k.id DESC LIMIT 1) c ON TRUE
         LEFT JOIN users u ON u.id = c.author_id
         WHERE v.case_id = $1
         ORDER BY v.report_id, v.position",
    )
    .bind(case)
    .fetch_all(pool)
    .await?)
}

/// The case and owner a value belongs to, with what the corrector needs of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ValueOwner {
    pub case_id: CaseId,
    pub owner_id: UserId,
    pub analyte_id: Option<String>,
    pub printed_name: String,
    pub unit: Option<String>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub range_text: Option<String>,
}

pub async fn owner_of(pool: &PgPool, value: i64) -> Result<Option<ValueOwner>> {
    Ok(sqlx::query_as(
        "SELECT v.case_id, c.owner_id, v.analyte_id, v.printed_name, v.unit, v.low, v.high, v.range_text
         FROM lab_values v JOIN cases c ON c.id = v.case_id WHERE v.id = $1",
    )
    .bind(value)
    .fetch_optional(pool)
    .await?)
}

/// A doctor's correction of a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewCorrection {
    pub value: Option<f64>,
    pub qualifier: Option<String>,
    pub text_value: Option<String>,
    pub unit: Option<String>,
    pub flag: Option<LabFlag>,
    pub canonical_value: Option<f64>,
    pub note: String,
}

/// Appends a correction (the value as read is kept).
pub async fn correct(pool: &PgPool, value: i64, author: UserId, c: &NewCorrection) -> Result<()> {
    sqlx::query(
        "INSERT INTO lab_value_corrections (value_id, author_id, value, qualifier, text_value, unit, flag, canonical_value, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(value)
    .bind(author)
    .bind(c.value)
    .bind(&c.qualifier)
    .bind(&c.text_value)
    .bind(&c.unit)
    .bind(c.flag)
    .bind(c.canonical_value)
    .bind(&c.note)
    .execute(pool)
    .await?;
    Ok(())
}

/// A stored report that has no values (uploaded before values were read, or unreadable then).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnreadReport {
    pub id: ReportId,
    pub case_id: CaseId,
    pub filename: String,
    pub sha256: String,
    pub text_status: TextStatus,
    pub extracted_text: String,
}

/// Every report without values, oldest first.
pub async fn reports_without_values(pool: &PgPool) -> Result<Vec<UnreadReport>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.case_id, r.filename, r.sha256, r.text_status, r.extracted_text
         FROM lab_reports r
         WHERE NOT EXISTS (SELECT 1 FROM lab_values v WHERE v.report_id = r.id)
         ORDER BY r.id",
    )
    .fetch_all(pool)
    .await?)
}

/// A report read again: its text and the values found in it.
#[derive(Debug, Clone)]
pub struct ReportReading<'a> {
    pub text_status: TextStatus,
    pub extracted_text: &'a str,
    pub extract_error: Option<&'a str>,
    pub values: &'a [NewLabValue],
    pub collected_on: Option<time::Date>,
}

/// Stores a re-reading of report `report` if it still has no values (one transaction, the
/// report row locked); its case's lab profile is marked changed. Returns the values stored.
pub async fn fill_report(pool: &PgPool, report: ReportId, r: &ReportReading<'_>) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let case: Option<CaseId> = sqlx::query_scalar("SELECT case_id FROM lab_reports WHERE id = $1 FOR UPDATE").bind(report).fetch_optional(&mut *tx).await?;
    let Some(case) = case else { return Ok(0) };
    let has: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM lab_values WHERE report_id = $1)").bind(report).fetch_one(&mut *tx).await?;
    if has {
        return Ok(0);
    }
    sqlx::query("UPDATE lab_reports SET text_status = $2, extracted_text = $3, extract_error = $4, collected_on = COALESCE($5, collected_on) WHERE id = $1")
        .bind(report)
        .bind(r.text_status)
        .bind(r.extracted_text)
        .bind(r.extract_error)
        .bind(r.collected_on)
        .execute(&mut *tx)
        .await?;
    insert(&mut tx, case, report, r.values).await?;
    if !r.values.is_empty() {
        sqlx::query("INSERT INTO search_changes (case_id) VALUES ($1)").bind(case).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(r.values.len())
}
