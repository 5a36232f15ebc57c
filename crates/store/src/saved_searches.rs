//! Advanced-search queries kept under an opaque id (`saved_searches`), so that what a user
//! typed never travels in a URL. Only their owner may read them; they are forgotten after
//! [`KEEP_DAYS`].
use crate::Result;
use precedent_types::UserId;
use sqlx::PgPool;

/// How long a saved query can be opened again.
pub const KEEP_DAYS: i32 = 30;

/// Stores `pairs` (the search form's fields, in order) for `user`; returns the new id. Queries
/// older than [`KEEP_DAYS`] are dropped on the way.
pub async fn save(pool: &PgPool, user: UserId, pairs: &[(String, String)]) -> Result<uuid::Uuid> {
    sqlx::query("DELETE FROM saved_searches WHERE created_at < now() - make_interval(days => $1)").bind(KEEP_DAYS).execute(pool).await?;
    let id = uuid::Uuid::new_v4();
    let query = serde_json::to_value(pairs).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    sqlx::query("INSERT INTO saved_searches (id, user_id, query) VALUES ($1, $2, $3)").bind(id).bind(user).bind(query).execute(pool).await?;
    Ok(id)
}

/// The pairs saved under `id` by `user` (`None` for anyone else's, or an expired one).
pub async fn get(pool: &PgPool, id: uuid::Uuid, user: UserId) -> Result<Option<Vec<(String, String)>>> {
    let row: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT query FROM saved_searches WHERE id = $1 AND user_id = $2 AND created_at >= now() - make_interval(days => $3)")
            .bind(id)
            .bind(user)
            .bind(KEEP_DAYS)
            .fetch_optional(pool)
            .await?;
    Ok(row.and_then(|v| serde_json::from_value(v).ok()))
}
