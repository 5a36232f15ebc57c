//! Case-library imports started from the admin page (see the `imports` migration).
use crate::Result;
use precedent_types::UserId;
use sqlx::PgPool;
use time::OffsetDateTime;

/// One import, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRow {
    pub id: i64,
    pub admin_id: UserId,
    pub filename: String,
    /// Patients may meet the library's cases as teaching cases.
    pub shareable: bool,
    pub status: String,
    pub phase: String,
    pub total: i32,
    pub done: i32,
    pub imported: i32,
    pub already_present: i32,
    /// `[{"line":…,"key":…,"reason":…}, …]`
    pub refused: serde_json::Value,
    pub error: Option<String>,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

const COLUMNS: &str = "id, admin_id, filename, shareable, status, phase, total, done, imported, already_present, refused, error, started_at, finished_at";

/// Records a new, running import.
pub async fn create(pool: &PgPool, admin: UserId, filename: &str, shareable: bool) -> Result<i64> {
    Ok(sqlx::query_scalar("INSERT INTO imports (admin_id, filename, shareable) VALUES ($1, $2, $3) RETURNING id")
        .bind(admin)
        .bind(filename)
        .bind(shareable)
        .fetch_one(pool)
        .await?)
}

/// Progress counts of a running import.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub total: i32,
    pub done: i32,
    pub imported: i32,
    pub already_present: i32,
    pub refused: serde_json::Value,
}

pub async fn progress(pool: &PgPool, id: i64, phase: &str, c: &Counts) -> Result<()> {
    sqlx::query("UPDATE imports SET phase = $2, total = $3, done = $4, imported = $5, already_present = $6, refused = $7 WHERE id = $1")
        .bind(id)
        .bind(phase)
        .bind(c.total)
        .bind(c.done)
        .bind(c.imported)
        .bind(c.already_present)
        .bind(&c.refused)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends an import: `finished` or `failed` (with the reason).
pub async fn finish(pool: &PgPool, id: i64, status: &str, error: Option<&str>) -> Result<()> {
    sqlx::query("UPDATE imports SET status = $2, phase = $2, error = $3, finished_at = now() WHERE id = $1 AND status = 'running'")
        .bind(id)
        .bind(status)
        .bind(error)
        .execute(pool)
        .await?;
    Ok(())
}

/// At start-up: imports a previous process left running were interrupted (re-uploading the
/// archive resumes them: rows already imported are skipped).
pub async fn mark_interrupted(pool: &PgPool) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE imports SET status = 'interrupted', phase = 'interrupted', finished_at = now(),
                error = 'the server stopped during the import; upload the archive again to finish it'
         WHERE status = 'running'",
    )
    .execute(pool)
    .await?
    .rows_affected())
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Option<ImportRow>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM imports WHERE id = $1")).bind(id).fetch_optional(pool).await?)
}

/// The latest imports, newest first.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<ImportRow>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM imports ORDER BY id DESC LIMIT $1")).bind(limit).fetch_all(pool).await?)
}
