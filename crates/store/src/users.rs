//! Accounts. The password hash is only ever returned by [`find_credentials`], for verification.
use crate::{conflict_on_unique, Result, StoreError};
use precedent_types::{AccountKind, Role, UserId};
use sqlx::PgPool;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
}

/// A user together with the stored argon2 hash; never serialised anywhere.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: String,
}

/// The columns of [`User`].
const COLUMNS: &str = "id, email, display_name, role, disabled, created_at";

/// Creates an account; a duplicate email (case-insensitive) is [`StoreError::Conflict`].
pub async fn create(pool: &PgPool, email: &str, display_name: &str, password_hash: &str, role: Role) -> Result<User> {
    sqlx::query_as(&format!("INSERT INTO users (email, display_name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"))
        .bind(email)
        .bind(display_name)
        .bind(password_hash)
        .bind(role)
        .fetch_one(pool)
        .await
        .map_err(|e| conflict_on_unique(e, "an account with this email"))
}

/// Creates a system account of `kind` (the library owner, a demo account).
pub async fn create_system(pool: &PgPool, kind: AccountKind, email: &str, display_name: &str, password_hash: &str, role: Role) -> Result<User> {
    sqlx::query_as(&format!("INSERT INTO users (email, display_name, password_hash, role, kind) VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"))
        .bind(email)
        .bind(display_name)
        .bind(password_hash)
        .bind(role)
        .bind(kind)
        .fetch_one(pool)
        .await
        .map_err(|e| conflict_on_unique(e, "an account with this email"))
}

/// The system accounts of `kind`, oldest first.
pub async fn of_kind(pool: &PgPool, kind: AccountKind) -> Result<Vec<User>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE kind = $1 ORDER BY id")).bind(kind).fetch_all(pool).await?)
}

/// The account for `email` (case-insensitive) with its hash, for login.
pub async fn find_credentials(pool: &PgPool, email: &str) -> Result<Option<Credentials>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS}, password_hash FROM users WHERE lower(email) = lower($1)")).bind(email).fetch_optional(pool).await?)
}

pub async fn get(pool: &PgPool, id: UserId) -> Result<Option<User>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1")).bind(id).fetch_optional(pool).await?)
}

pub async fn list(pool: &PgPool) -> Result<Vec<User>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY id")).fetch_all(pool).await?)
}

pub async fn count(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(pool).await?)
}

pub async fn set_disabled(pool: &PgPool, id: UserId, disabled: bool) -> Result<()> {
    let done = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1").bind(id).bind(disabled).execute(pool).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
