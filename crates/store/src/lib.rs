//! Postgres is Precedent's source of truth. This crate owns the schema (the top-level
//! `migrations/` folder), one repository module per resource kind, and the content-addressed
//! file store for image and PDF bytes. Every query is runtime-checked and parameterised; rows
//! decode straight into the shared id newtypes and vocabularies of `precedent-types` (its `sqlx`
//! feature).
//!
//! Modules: [`users`], [`cases`] (with their images, lab reports and reviews), [`labs`] (lab
//! values and corrections), [`embeddings`] (the embedding job queue and stored vectors),
//! [`index_feed`] (what the similarity indexes read), [`uploads`] (query images), [`imports`],
//! [`audit`], and [`blobs`] (the file store).
pub mod audit;
pub mod blobs;
pub mod case_reports;
pub mod cases;
pub mod embeddings;
pub mod evidence;
pub mod imports;
pub mod index_feed;
pub mod labs;
pub mod saved_searches;
pub mod uploads;
pub mod users;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

pub use blobs::BlobStore;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("file store error: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The schema migrations, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Connects a pool to `url` (any libpq-style URL sqlx understands, unix sockets included).
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool> {
    let opts = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(10)).connect_with(opts).await?;
    Ok(pool)
}

/// Applies pending migrations.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Maps a unique-violation into [`StoreError::Conflict`].
pub(crate) fn conflict_on_unique(err: sqlx::Error, what: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.code().as_deref() == Some("23505") {
            return StoreError::Conflict(what.to_string());
        }
    }
    StoreError::Db(err)
}

/// Creates database `name` on the server behind `admin_url` unless it exists, returning a URL
/// for the new database. Used by tests (one fresh database each) and by the managed cluster.
pub async fn ensure_database(admin_url: &str, name: &str) -> Result<String> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
        return Err(StoreError::Corrupt(format!("invalid database name {name:?}")));
    }
    let pool = PgPoolOptions::new().max_connections(1).connect_with(PgConnectOptions::from_str(admin_url)?).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)").bind(name).fetch_one(&pool).await?;
    if !exists {
        // The name is validated above; identifiers cannot be bound as parameters.
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&pool).await?;
    }
    pool.close().await;
    Ok(with_database(admin_url, name))
}

/// Returns `url` with its database name replaced by `name` (query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // scheme://authority/dbname
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(with_database("postgres://u@h:5/old", "new"), "postgres://u@h:5/new");
        assert_eq!(with_database("postgres://u@h:5", "new"), "postgres://u@h:5/new");
        assert_eq!(with_database("postgres://postgres@localhost/postgres?host=/tmp/s", "t1"), "postgres://postgres@localhost/t1?host=/tmp/s");
    }
}
