//! Accounts. The password hash is only ever returned by [`find_credentials`], for verification.
use crate::{conflict_on_unique, Result, StoreError};
use precedent_types::{Role, UserId};
use sqlx::PgPool;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
}

/// A user together with the stored argon2 hash; never serialised anywhere.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    disabled: bool,
    created_at: OffsetDateTime,
    password_hash: String,
}

impl TryFrom<UserRow> for Credentials {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self> {
        let role = r.role.parse::<Role>().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Credentials {
            user: User {
                id: UserId(r.id),
                email: r.email,
                display_name: r.display_name,
                role,
                disabled: r.disabled,
                created_at: r.created_at,
            },
            password_hash: r.password_hash,
        })
    }
}

const COLUMNS: &str = "id, email, display_name, role, disabled, created_at, password_hash";

/// Creates an account; a duplicate email (case-insensitive) is [`StoreError::Conflict`].
pub async fn create(pool: &PgPool, email: &str, display_name: &str, password_hash: &str, role: Role) -> Result<User> {
    let row: UserRow = sqlx::query_as(&format!(
        "INSERT INTO users (email, display_name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
    ))
    .bind(email)
    .bind(display_name)
    .bind(password_hash)
    .bind(role.as_str())
    .fetch_one(pool)
    .await
    .map_err(|e| conflict_on_unique(e, "an account with this email"))?;
    Ok(Credentials::try_from(row)?.user)
}

/// The account for `email` (case-insensitive) with its hash, for login.
pub async fn find_credentials(pool: &PgPool, email: &str) -> Result<Option<Credentials>> {
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE lower(email) = lower($1)"))
        .bind(email)
        .fetch_optional(pool)
        .await?;
    row.map(Credentials::try_from).transpose()
}

pub async fn get(pool: &PgPool, id: UserId) -> Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(Credentials::try_from).transpose()?.map(|c| c.user))
}

pub async fn list(pool: &PgPool) -> Result<Vec<User>> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY id")).fetch_all(pool).await?;
    rows.into_iter().map(|r| Credentials::try_from(r).map(|c| c.user)).collect()
}

pub async fn count(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(pool).await?)
}

pub async fn set_disabled(pool: &PgPool, id: UserId, disabled: bool) -> Result<()> {
    let done = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
        .bind(id.0)
        .bind(disabled)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
