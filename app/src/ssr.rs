//! Server-side plumbing shared by the server functions (and by the `precedent` binary's own
//! handlers): application state, who is asking, where from, and the audit trail.
use crate::error::AppError;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use precedent_accounts::{Actor, RateLimiter};
use precedent_store::{audit, users, BlobStore};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::sync::Arc;
use tower_sessions::Session;

/// Upload limits, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub max_file_mb: u64,
    pub max_files: usize,
    pub max_image_side: u32,
    /// Largest case-library archive an admin may upload (MB).
    pub max_import_mb: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self { max_file_mb: 25, max_files: 20, max_image_side: 8192, max_import_mb: 2048 }
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub blobs: BlobStore,
    pub limits: UploadLimits,
    /// Failed logins per account.
    pub account_limiter: Arc<RateLimiter>,
    /// Failed logins and sign-ups per client address.
    pub ip_limiter: Arc<RateLimiter>,
    pub leptos_options: LeptosOptions,
    /// The similarity engine and the encoders for ad-hoc queries, once loaded (a server whose
    /// encoders failed to load still serves cases; search answers "unavailable").
    pub search: Arc<std::sync::OnceLock<Search>>,
    /// Where uploaded case-library archives are unpacked while they are imported.
    pub data_dir: std::path::PathBuf,
    /// Signs thumbnail links of de-identified hits (random per process).
    pub media_key: Arc<[u8; 32]>,
    /// Reads lab report PDFs (in a memory-capped child process when served).
    pub pdf: precedent_labs::PdfReader,
    /// Absolute session lifetime: a session ends this many seconds after its login.
    pub session_max_secs: i64,
    /// A bearer token that may read `/metrics` besides admins (a secret; never logged).
    pub metrics_token: Option<Arc<str>>,
}

/// What similar-case search needs.
#[derive(Clone)]
pub struct Search {
    pub similarity: Arc<precedent_similarity::Similarity>,
    pub encoders: Arc<precedent_search::EncoderSlot>,
    /// The models manifest (which encoders a rebuild may switch to).
    pub manifest: std::path::PathBuf,
    /// Starts a rebuild in the background (re-embedding first when models change).
    pub reindex: Reindexer,
}

/// Which encoders a rebuild should use: manifest names; `None` keeps the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelChoice {
    pub text: Option<String>,
    pub image: Option<String>,
}

/// Starts a rebuild and returns at once; `Err` when one is already running or the choice is
/// not in the manifest. The callback hears how it ended (`Ok` with a summary, or the error).
/// Implemented by the server, which owns the embedding worker.
pub type Reindexer = Arc<dyn Fn(ModelChoice, ReindexDone) -> Result<(), AppError> + Send + Sync>;
pub type ReindexDone = Box<dyn FnOnce(Result<String, String>) + Send>;

impl AppState {
    /// The search parts, or a 503 while they are not loaded.
    pub fn search(&self) -> Result<&Search, AppError> {
        self.search.get().ok_or_else(|| AppError::Unavailable("Similar-case search is not available yet; try again shortly.".into()))
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

/// What the session remembers: only the user id and when they logged in. Role and the
/// disabled flag are read from the database on every request.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub since: i64,
}

pub const SESSION_KEY: &str = "user";

/// The signed-in user behind `session`, if any (a disabled account counts as signed out).
/// A session older than the absolute lifetime counts as signed out, and is ended.
pub async fn actor_from_session(st: &AppState, session: &Session) -> Result<Option<(Actor, users::User)>, AppError> {
    let su: Option<SessionUser> = session.get(SESSION_KEY).await.map_err(|e| {
        tracing::error!(error = %e, "session store failure");
        AppError::Internal
    })?;
    let Some(su) = su else { return Ok(None) };
    if session_expired(su.since, time::OffsetDateTime::now_utc().unix_timestamp(), st.session_max_secs) {
        tracing::info!(user = su.id, "session reached its absolute lifetime");
        let _ = session.flush().await;
        return Ok(None);
    }
    let user = users::get(&st.pool, precedent_types::UserId(su.id)).await?;
    match user {
        Some(u) if !u.disabled => Ok(Some((Actor { id: u.id, role: u.role }, u))),
        _ => {
            // The account vanished or was disabled: end this session.
            let _ = session.flush().await;
            Ok(None)
        }
    }
}

/// The Content-Security-Policy: scripts only from this origin, plus, on pages, the inline
/// scripts Leptos writes for hydration and streamed resources, which carry the response's
/// `nonce`; WebAssembly compilation for the hydrated bundle; no plugins, no framing, forms and
/// requests to this origin only. Inline `style` attributes stay allowed (the score bars' widths).
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let script = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; {script}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's Content-Security-Policy with the nonce Leptos gave this response's inline
/// scripts (called while the page shell renders).
pub fn set_page_csp() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else {
        return;
    };
    match axum::http::HeaderValue::from_str(&content_security_policy(Some(&nonce))) {
        Ok(v) => res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v),
        Err(e) => tracing::error!(error = %e, "content security policy header"),
    }
}

/// True when a session that began at `since` (unix seconds) has outlived `max_secs` at `now`.
pub fn session_expired(since: i64, now: i64, max_secs: i64) -> bool {
    now.saturating_sub(since) >= max_secs
}

/// The application state inside a server function.
pub fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

/// The session inside a server function.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer");
        AppError::Internal
    })
}

/// The client address inside a server function.
pub async fn client_ip() -> Option<String> {
    leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .await
        .ok()
        .map(|ci| ci.0.ip().to_string())
}

/// State, session and the signed-in user, or [`AppError::Unauthenticated`].
/// Every refusal or failure also sets the response's status (401 when nobody is signed in).
pub async fn require_actor() -> Result<(AppState, Actor, users::User), AppError> {
    let outcome = async {
        let st = state()?;
        let session = session().await?;
        match actor_from_session(&st, &session).await? {
            Some((actor, user)) => Ok((st, actor, user)),
            None => Err(AppError::Unauthenticated),
        }
    }
    .await;
    outcome.inspect_err(set_status)
}

/// Records an audit entry; a failure to audit fails the request.
pub async fn audit(
    pool: &PgPool,
    actor: Option<Actor>,
    action: &str,
    object: Option<(&str, i64)>,
    ip: Option<String>,
    outcome: &str,
) -> Result<(), AppError> {
    audit::record(
        pool,
        &audit::Entry {
            actor: actor.map(|a| (a.id, a.role)),
            action,
            object_kind: object.map(|o| o.0),
            object_id: object.map(|o| o.1),
            ip,
            outcome,
            detail: serde_json::Value::Null,
        },
    )
    .await
    .map_err(AppError::from)
}

/// Hashes a password off the async threads (argon2 is deliberately slow).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || precedent_accounts::hash_password(&password))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "hashing task failed");
            AppError::Internal
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "hashing failed");
            AppError::Internal
        })
}

/// Gives the page's HTTP response the status matching `err` (server-rendered pages).
pub fn set_status(err: &AppError) {
    if let Some(opts) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(code) = axum::http::StatusCode::from_u16(err.status()) {
            opts.set_status(code);
        }
    }
}

/// Formats a timestamp for display (UTC, minutes).
pub fn display_time(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// How long a signed thumbnail link of a de-identified hit works.
pub const SIGNED_THUMB_SECS: i64 = 3600;

fn thumb_mac(key: &[u8; 32], image: i64, viewer: i64, expires: i64) -> hmac::Hmac<sha2::Sha256> {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("thumb:{image}:{viewer}:{expires}").as_bytes());
    mac
}

/// A link to image `image`'s thumbnail that only `viewer` can use until `expires` (unix s).
pub fn signed_thumb_url(key: &[u8; 32], image: i64, viewer: i64, expires: i64) -> String {
    use hmac::Mac;
    let sig = hex::encode(thumb_mac(key, image, viewer, expires).finalize().into_bytes());
    format!("/media/hits/{image}/thumb?exp={expires}&sig={sig}")
}

/// Whether `sig` is the signature of that link for `viewer` and it has not expired.
pub fn verify_thumb(key: &[u8; 32], image: i64, viewer: i64, expires: i64, sig: &str, now: i64) -> bool {
    use hmac::Mac;
    if expires < now {
        return false;
    }
    let Ok(bytes) = hex::decode(sig) else { return false };
    thumb_mac(key, image, viewer, expires).verify_slice(&bytes).is_ok()
}

#[cfg(test)]
mod signed_thumb_tests {
    use super::*;

    #[test]
    fn signed_links_bind_image_viewer_and_time() {
        let key = [7u8; 32];
        let url = signed_thumb_url(&key, 5, 9, 1000);
        let sig = url.split("sig=").nth(1).unwrap();
        assert!(verify_thumb(&key, 5, 9, 1000, sig, 999));
        assert!(!verify_thumb(&key, 5, 9, 1000, sig, 1001), "expired");
        assert!(!verify_thumb(&key, 6, 9, 1000, sig, 0), "other image");
        assert!(!verify_thumb(&key, 5, 10, 1000, sig, 0), "other viewer");
        assert!(!verify_thumb(&key, 5, 9, 2000, sig, 0), "other expiry");
        assert!(!verify_thumb(&[8u8; 32], 5, 9, 1000, sig, 0), "other key");
        assert!(!verify_thumb(&key, 5, 9, 1000, "zz", 0));
    }
}
