//! Precedent's use cases, testable without a browser: one module per feature, each taking a
//! [`Caller`] (state, actor, client address), checking access before any query that depends on
//! the caller, recording the audit trail and answering with the DTOs of
//! [`precedent_types::dto`]. The pages' server functions (`app`) and the JSON API (`server`)
//! are thin layers over these.
pub mod admin;
pub mod audit_log;
pub mod auth;
pub mod caller;
pub mod case_report;
pub mod cases;
pub mod credentials;
pub mod error;
pub mod explain;
pub mod labs;
pub mod quota;
pub mod review;
pub mod saved_search;
pub mod similar;
pub mod state;
pub mod suggest;
pub mod thumbs;

pub use caller::{actor_from_session, Caller};
pub use error::ServiceError;
pub use state::{AppState, HashGate, ModelChoice, ReindexDone, Reindexer, Search, UploadLimits};

use precedent_accounts::Actor;
use precedent_store::audit;
use sqlx::PgPool;

/// Records an audit entry; a failure to audit fails the request.
pub async fn audit(
    pool: &PgPool,
    actor: Option<Actor>,
    action: &str,
    object: Option<(&str, i64)>,
    ip: Option<String>,
    outcome: &str,
) -> Result<(), ServiceError> {
    audit_detail(pool, actor, action, object, ip, outcome, serde_json::Value::Null).await
}

/// [`audit`] with details: which cases an answer showed (`{"shown": [ids]}`), why a login
/// failed and with which e-mail, …
pub async fn audit_detail(
    pool: &PgPool,
    actor: Option<Actor>,
    action: &str,
    object: Option<(&str, i64)>,
    ip: Option<String>,
    outcome: &str,
    detail: serde_json::Value,
) -> Result<(), ServiceError> {
    audit::record(
        pool,
        &audit::Entry { actor: actor.map(|a| (a.id, a.role)), action, object_kind: object.map(|o| o.0), object_id: object.map(|o| o.1), ip, outcome, detail },
    )
    .await
    .map_err(ServiceError::from)
}

/// Hashes a password off the async threads, through the state's gate (argon2 is deliberately
/// slow and memory-hungry).
pub async fn hash_password(st: &AppState, password: String) -> Result<String, ServiceError> {
    st.password_gate.run(move || precedent_accounts::hash_password(&password)).await?.map_err(|e| ServiceError::internal("hashing failed", e))
}

/// Formats a timestamp to the second (UTC), as the audit log shows it.
pub fn display_time_seconds(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// Formats a timestamp for display (UTC, minutes).
pub fn display_time(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}
