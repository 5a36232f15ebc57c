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
    /// Failed logins per client address.
    pub ip_limiter: Arc<RateLimiter>,
    /// Sign-ups per client address (a budget of their own: sign-ups never use up logins).
    pub signup_limiter: Arc<RateLimiter>,
    /// Failed logins per account from anywhere: a growing delay, never a lockout.
    pub account_delay: Arc<precedent_accounts::ProgressiveDelay>,
    /// Proxies whose `X-Forwarded-For` names the client (empty: the peer is the client).
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
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
    /// Bounds the password hashing and verification running at once.
    pub password_gate: Arc<HashGate>,
    /// Per-user search and upload budgets, and the daily case and byte limits.
    pub quotas: Arc<crate::quota::Quotas>,
    /// Bounds the ad-hoc query encodes running at once (text and images of a search).
    pub encode_gate: Arc<HashGate>,
}

/// Bounds heavy work running at once on the blocking pool: password hashing (argon2id holds
/// about 19 MiB and tens of milliseconds of a core per call, so an unbounded burst of logins
/// could exhaust memory) and the encoding of ad-hoc search queries (an ONNX model run per
/// query). Callers queue for a permit and are answered [`ServiceError::Busy`] (429) after `wait`.
pub struct HashGate {
    what: &'static str,
    permits: tokio::sync::Semaphore,
    wait: std::time::Duration,
}

impl HashGate {
    /// The gate for password hashing.
    pub fn new(concurrent: usize, wait: std::time::Duration) -> Self {
        Self::named("password hashing", concurrent, wait)
    }

    /// A gate for `what` (named in its log lines).
    pub fn named(what: &'static str, concurrent: usize, wait: std::time::Duration) -> Self {
        Self { what, permits: tokio::sync::Semaphore::new(concurrent), wait }
    }

    /// Runs `work` on the blocking pool once a permit is free (at most `wait` in the queue).
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ServiceError> {
        let permit = match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => return Err(ServiceError::internal("work gate closed", e)),
            Err(_) => {
                tracing::warn!(what = self.what, "queue full: request answered busy");
                return Err(ServiceError::Busy);
            }
        };
        let out = tokio::task::spawn_blocking(work).await.map_err(|e| ServiceError::internal(self.what, e));
        drop(permit);
        out
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_gate_bounds_concurrent_work_and_answers_busy_when_the_queue_waits_too_long() {
        let gate = Arc::new(HashGate::new(2, Duration::from_secs(5)));
        let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (gate, running, peak) = (Arc::clone(&gate), Arc::clone(&running), Arc::clone(&peak));
                tokio::spawn(async move {
                    gate.run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(30));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap().is_ok());
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2, "never more than the permits at once");

        let closed = HashGate::new(0, Duration::from_millis(20));
        assert_eq!(closed.run(|| ()).await, Err(ServiceError::Busy));
    }
}
