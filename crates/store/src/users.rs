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
    /// Sessions opened in another epoch are over (password changed or reset, account disabled).
    pub session_epoch: i32,
    /// An admin reset the password: the user must choose a new one before anything else.
    pub must_change_password: bool,
    /// Sign-in asks for a code from an authenticator app.
    pub two_factor: bool,
    /// A person, or a system account (the library owner, the demo accounts).
    pub kind: AccountKind,
}

/// A user together with the stored argon2 hash; never serialised anywhere.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: String,
}

/// The columns of [`User`].
const COLUMNS: &str = "id, email, display_name, role, disabled, created_at, session_epoch, must_change_password, (totp_secret IS NOT NULL) AS two_factor, kind";

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

/// Whether an enabled system account of `kind` exists (the demo banner).
pub async fn any_enabled_of_kind(pool: &PgPool, kind: AccountKind) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE kind = $1 AND NOT disabled)").bind(kind).fetch_one(pool).await?)
}

/// Disables every system account of `kind`; returns how many were enabled.
pub async fn disable_kind(pool: &PgPool, kind: AccountKind) -> Result<u64> {
    Ok(sqlx::query("UPDATE users SET disabled = TRUE WHERE kind = $1 AND NOT disabled").bind(kind).execute(pool).await?.rows_affected())
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

/// Disables (ending every session at once: the epoch moves on) or enables an account.
pub async fn set_disabled(pool: &PgPool, id: UserId, disabled: bool) -> Result<()> {
    let done = sqlx::query("UPDATE users SET disabled = $2, session_epoch = session_epoch + CASE WHEN $2 THEN 1 ELSE 0 END WHERE id = $1")
        .bind(id)
        .bind(disabled)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Replaces a person's password hash and moves the session epoch on (every session opened
/// before ends). `must_change`: the password is a temporary one an admin handed out. Returns the
/// new epoch. System accounts (the library owner) are never changed here.
pub async fn set_password(pool: &PgPool, id: UserId, password_hash: &str, must_change: bool) -> Result<i32> {
    sqlx::query_scalar(
        "UPDATE users SET password_hash = $2, must_change_password = $3, session_epoch = session_epoch + 1
         WHERE id = $1 AND kind <> 'library' RETURNING session_epoch",
    )
    .bind(id)
    .bind(password_hash)
    .bind(must_change)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)
}

/// The password hash of an account, for re-checking the current password.
pub async fn password_hash(pool: &PgPool, id: UserId) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(id).fetch_optional(pool).await?)
}

/// Two-factor state of an account: the confirmed secret, the one being enrolled, the last
/// time step a code was accepted for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TwoFactor {
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub totp_last_step: i64,
}

pub async fn two_factor(pool: &PgPool, id: UserId) -> Result<TwoFactor> {
    sqlx::query_as("SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE id = $1").bind(id).fetch_optional(pool).await?.ok_or(StoreError::NotFound)
}

/// Starts (or restarts) enrolment with a new secret, not yet in force.
pub async fn set_totp_pending(pool: &PgPool, id: UserId, secret: &str) -> Result<()> {
    sqlx::query("UPDATE users SET totp_pending = $2 WHERE id = $1").bind(id).bind(secret).execute(pool).await?;
    Ok(())
}

/// Puts the pending secret in force with fresh recovery codes (their SHA-256, hex), in one
/// transaction; `step` is the time step of the code that confirmed it (not usable again).
pub async fn confirm_totp(pool: &PgPool, id: UserId, step: i64, recovery_sha256: &[String]) -> Result<()> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $2
         WHERE id = $1 AND totp_pending IS NOT NULL",
    )
    .bind(id)
    .bind(step)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
    for code in recovery_sha256 {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_sha256) VALUES ($1, $2)").bind(id).bind(code).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Turns two-factor sign-in off (and forgets the recovery codes).
pub async fn clear_totp(pool: &PgPool, id: UserId) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Records that a code of time step `step` was used, unless one of this or a later step was
/// (a code is good once). True when recorded.
pub async fn use_totp_step(pool: &PgPool, id: UserId, step: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2").bind(id).bind(step).execute(pool).await?;
    Ok(done.rows_affected() == 1)
}

/// Uses up an unused recovery code with this SHA-256; true when there was one.
pub async fn use_recovery_code(pool: &PgPool, id: UserId, sha256: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = now()
         WHERE id = (SELECT id FROM recovery_codes WHERE user_id = $1 AND code_sha256 = $2 AND used_at IS NULL LIMIT 1)",
    )
    .bind(id)
    .bind(sha256)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many recovery codes are left.
pub async fn recovery_codes_left(pool: &PgPool, id: UserId) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL").bind(id).fetch_one(pool).await?)
}
