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
