//! Short-lived images uploaded as search queries (see the `search_uploads` migration).
use crate::Result;
use precedent_types::UserId;
use sqlx::PgPool;

/// How long an uploaded query image can be searched with.
pub const UPLOAD_TTL_SECS: i64 = 3600;

/// Stores an uploaded query image under `token` for `owner`; removes expired uploads.
pub async fn put(pool: &PgPool, token: &str, owner: UserId, filename: &str, image: &[u8], thumb_jpeg: &[u8]) -> Result<()> {
    sqlx::query("DELETE FROM search_uploads WHERE expires_at < now()").execute(pool).await?;
    sqlx::query(
        "INSERT INTO search_uploads (token, owner_id, filename, image, thumb_jpeg, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
    )
    .bind(token)
    .bind(owner)
    .bind(filename)
    .bind(image)
    .bind(thumb_jpeg)
    .bind(UPLOAD_TTL_SECS as f64)
    .execute(pool)
    .await?;
    Ok(())
}

/// The image behind `token` if `owner` uploaded it and it has not expired.
pub async fn image(pool: &PgPool, token: &str, owner: UserId) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT image FROM search_uploads WHERE token = $1 AND owner_id = $2 AND expires_at > now()")
        .bind(token)
        .bind(owner)
        .fetch_optional(pool)
        .await?)
}

/// Its thumbnail, under the same conditions.
pub async fn thumb(pool: &PgPool, token: &str, owner: UserId) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT thumb_jpeg FROM search_uploads WHERE token = $1 AND owner_id = $2 AND expires_at > now()")
        .bind(token)
        .bind(owner)
        .fetch_optional(pool)
        .await?)
}
