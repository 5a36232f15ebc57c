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
    .bind(e.actor.map(|a| a.0))
    .bind(e.actor.map(|a| a.1))
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
    Ok(sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1 AND ($2::BIGINT IS NULL OR object_id = $2)")
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

/// Appends `f`'s conditions (only those set) to a query over `audit_log a LEFT JOIN users u`.
fn push_where<'a>(q: &mut sqlx::QueryBuilder<'a, sqlx::Postgres>, f: &'a Filter) {
    q.push(" WHERE TRUE");
    if let Some(action) = &f.action {
        // A trailing dot names a family of actions (`case.`).
        if action.ends_with('.') {
            q.push(" AND starts_with(a.action, ").push_bind(action).push(")");
        } else {
            q.push(" AND a.action = ").push_bind(action);
        }
    }
    if let Some(actor) = &f.actor {
        q.push(" AND strpos(lower(u.email), lower(").push_bind(actor).push(")) > 0");
    }
    if let Some(kind) = &f.object_kind {
        q.push(" AND a.object_kind = ").push_bind(kind);
    }
    if let Some(id) = f.object_id {
        q.push(" AND a.object_id = ").push_bind(id);
    }
    if let Some(outcome) = &f.outcome {
        q.push(" AND a.outcome = ").push_bind(outcome);
    }
    if let Some(from) = f.from {
        q.push(" AND a.at >= ").push_bind(from).push("::DATE::TIMESTAMP AT TIME ZONE 'UTC'");
    }
    if let Some(to) = f.to {
        q.push(" AND a.at < (").push_bind(to).push("::DATE + 1)::TIMESTAMP AT TIME ZONE 'UTC'");
    }
}

/// Entries matching `f`, newest first, `limit` from `offset`, and how many match in all.
pub async fn list(pool: &PgPool, f: &Filter, limit: i64, offset: i64) -> Result<(Vec<Row>, i64)> {
    const FROM: &str = " FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id";
    let mut q =
        sqlx::QueryBuilder::new("SELECT a.id, a.at, u.email AS actor_email, a.actor_role, a.action, a.object_kind, a.object_id, a.ip, a.outcome, a.detail");
    q.push(FROM);
    push_where(&mut q, f);
    q.push(" ORDER BY a.at DESC, a.id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    let rows = q.build_query_as::<Row>().fetch_all(pool).await?;
    let mut count = sqlx::QueryBuilder::new("SELECT count(*)");
    count.push(FROM);
    push_where(&mut count, f);
    let total: i64 = count.build_query_scalar().fetch_one(pool).await?;
    Ok((rows, total))
}
