//! The append-only audit log (a trigger refuses UPDATE and DELETE).
use crate::Result;
use precedent_types::{Role, UserId};
use sqlx::PgPool;

/// One audit entry: who (if anyone), what action, on which object, from where.
#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    pub actor: Option<(UserId, Role)>,
    pub action: &'a str,
    pub object_kind: Option<&'a str>,
    pub object_id: Option<i64>,
    pub ip: Option<String>,
    pub outcome: &'a str,
    pub detail: serde_json::Value,
}

pub async fn record<'e, E>(executor: E, e: &Entry<'_>) -> Result<()>
where
    E: sqlx::PgExecutor<'e>,
{
    sqlx::query(
        "INSERT INTO audit_log (actor_id, actor_role, action, object_kind, object_id, ip, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.actor.map(|a| a.0 .0))
    .bind(e.actor.map(|a| a.1.as_str()))
    .bind(e.action)
    .bind(e.object_kind)
    .bind(e.object_id)
    .bind(e.ip.as_deref())
    .bind(if e.outcome.is_empty() { "ok" } else { e.outcome })
    .bind(if e.detail.is_null() { serde_json::json!({}) } else { e.detail.clone() })
    .execute(executor)
    .await?;
    Ok(())
}

/// Counts entries for an action (and optionally an object), newest first; for tests and admin views.
pub async fn count(pool: &PgPool, action: &str, object_id: Option<i64>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = $1 AND ($2::BIGINT IS NULL OR object_id = $2)",
    )
    .bind(action)
    .bind(object_id)
    .fetch_one(pool)
    .await?)
}

/// What an admin narrows the audit log to; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// An action, or a prefix ending in `.` (`case.` = every case action).
    pub action: Option<String>,
    /// Part of the acting user's email.
    pub actor: Option<String>,
    pub object_kind: Option<String>,
    pub object_id: Option<i64>,
    /// `ok`, `denied`, `failed`, …
    pub outcome: Option<String>,
    /// Entries on or after this day (UTC).
    pub from: Option<time::Date>,
    /// Entries on or before this day (UTC).
    pub to: Option<time::Date>,
}

/// An entry as an admin reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub at: time::OffsetDateTime,
    pub actor_email: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub object_kind: Option<String>,
    pub object_id: Option<i64>,
    pub ip: Option<String>,
    pub outcome: String,
    pub detail: serde_json::Value,
}

/// Entries matching `f`, newest first, `limit` from `offset`, and how many match in all.
pub async fn list(pool: &PgPool, f: &Filter, limit: i64, offset: i64) -> Result<(Vec<Row>, i64)> {
    const WHERE: &str = "WHERE ($1::TEXT IS NULL OR (CASE WHEN right($1, 1) = '.' THEN starts_with(a.action, $1) ELSE a.action = $1 END))
           AND ($2::TEXT IS NULL OR strpos(lower(u.email), lower($2)) > 0)
           AND ($3::TEXT IS NULL OR a.object_kind = $3)
           AND ($4::BIGINT IS NULL OR a.object_id = $4)
           AND ($5::TEXT IS NULL OR a.outcome = $5)
           AND ($6::DATE IS NULL OR a.at >= $6::DATE::TIMESTAMP AT TIME ZONE 'UTC')
           AND ($7::DATE IS NULL OR a.at < ($7::DATE + 1)::TIMESTAMP AT TIME ZONE 'UTC')";
    let rows = sqlx::query_as::<_, Row>(&format!(
        "SELECT a.id, a.at, u.email AS actor_email, a.actor_role, a.action, a.object_kind, a.object_id, a.ip, a.outcome, a.detail
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id {WHERE}
         ORDER BY a.at DESC, a.id DESC LIMIT $8 OFFSET $9"
    ))
    .bind(&f.action)
    .bind(&f.actor)
    .bind(&f.object_kind)
    .bind(f.object_id)
    .bind(&f.outcome)
    .bind(f.from)
    .bind(f.to)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id {WHERE}"))
        .bind(&f.action)
        .bind(&f.actor)
        .bind(&f.object_kind)
        .bind(f.object_id)
        .bind(&f.outcome)
        .bind(f.from)
        .bind(f.to)
        .fetch_one(pool)
        .await?;
    Ok((rows, total))
}
