//! The application state every use case runs against: the database, the blob store, limits,
//! the similarity engine once loaded, and the process's secrets. Built once, by the server's
//! `startup`.
use crate::ServiceError;
use axum::extract::FromRef;
use leptos_config::LeptosOptions;
use precedent_accounts::RateLimiter;
use precedent_store::BlobStore;
use sqlx::PgPool;
use std::sync::Arc;

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
    pub encoders: Arc<precedent_encoders::EncoderSlot>,
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
pub type Reindexer = Arc<dyn Fn(ModelChoice, ReindexDone) -> Result<(), ServiceError> + Send + Sync>;
pub type ReindexDone = Box<dyn FnOnce(Result<String, String>) + Send>;

impl AppState {
    /// The search parts, or a 503 while they are not loaded.
    pub fn search(&self) -> Result<&Search, ServiceError> {
        self.search.get().ok_or_else(|| ServiceError::Unavailable("Similar-case search is not available yet; try again shortly.".into()))
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}
