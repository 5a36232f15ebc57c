#![recursion_limit = "256"]
//! The `precedent` server: configuration, router and middleware, the managed database and the
//! wiring of the domain crates. `main.rs` is only the command line.
pub mod api;
pub mod archive;
pub mod bench;
pub mod config;
pub mod eval;
pub mod http;
pub mod import;
pub mod intake;
pub mod labs;
pub mod media;
pub mod metrics;
pub mod pg;
pub mod reindex;
pub mod seed;
pub mod web;
pub mod worker;

use app::ssr::{AppState, UploadLimits};
use leptos::config::LeptosOptions;
use precedent_accounts::RateLimiter;
use precedent_store::BlobStore;
use sqlx::PgPool;
use tower_sessions_sqlx_store::PostgresStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Store(#[from] precedent_store::StoreError),
    #[error(transparent)]
    Pg(#[from] pg::PgError),
    #[error("session store: {0}")]
    Sessions(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// Leptos options for serving `site_root` (no cargo-leptos environment needed at run time).
pub fn leptos_options(site_root: &Path, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("precedent")
        .site_root(site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// Builds the application state over a migrated pool.
pub fn state(pool: PgPool, data_dir: &Path, options: LeptosOptions, max_upload_mb: u64) -> Result<AppState, ServerError> {
    Ok(AppState {
        pool,
        blobs: BlobStore::open(data_dir.join("blobs"))?,
        limits: UploadLimits { max_file_mb: max_upload_mb, ..UploadLimits::default() },
        account_limiter: Arc::new(RateLimiter::new(5, Duration::from_secs(15 * 60))),
        ip_limiter: Arc::new(RateLimiter::new(30, Duration::from_secs(15 * 60))),
        leptos_options: options,
        search: Arc::default(),
        data_dir: data_dir.to_path_buf(),
        media_key: Arc::new(random_key()),
        pdf: precedent_labs::PdfReader::in_thread(Duration::from_secs(10)),
        session_max_secs: config::SESSION_MAX_HOURS * 3600,
        metrics_token: None,
    })
}

/// 32 random bytes (from the OS, through uuid's v4 generator).
fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    k[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    k
}

/// Connects to `url`, applies migrations and prepares the session table.
pub async fn open_database(url: &str, max_connections: u32) -> Result<(PgPool, PostgresStore), ServerError> {
    let pool = precedent_store::connect(url, max_connections).await?;
    precedent_store::migrate(&pool).await?;
    let sessions = web::session_store(&pool).await?;
    Ok((pool, sessions))
}

/// The database to use: `DATABASE_URL`, or the managed cluster under the data directory
/// (started here if it is not running). Returns the URL and the cluster when this call started it.
pub async fn resolve_database(cfg: &config::Config) -> Result<(String, Option<pg::ManagedPg>), ServerError> {
    if let Some(url) = &cfg.database_url {
        return Ok((url.clone(), None));
    }
    let cluster = pg::ManagedPg::for_dir(&cfg.data_dir)?;
    let c = cluster.clone();
    let started = tokio::task::spawn_blocking(move || c.start()).await.map_err(|e| ServerError::Other(e.to_string()))??;
    let url = precedent_store::ensure_database(&cluster.url("postgres"), "precedent").await?;
    Ok((url, started.then_some(cluster)))
}

/// A running embedding worker.
pub struct WorkerHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks the worker to stop after its current job and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the embedding worker over the job queue; a running job whose worker died is taken
/// over after `lease_secs`.
pub fn start_worker(pool: PgPool, blobs: BlobStore, encoders: Arc<precedent_search::EncoderSlot>, lease_secs: i64) -> WorkerHandle {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(worker::run(pool, blobs, encoders, lease_secs.max(1), rx));
    WorkerHandle { stop, task }
}

/// The similarity engine following the database, running in the background.
pub struct SearchHandle {
    pub similarity: Arc<precedent_similarity::Similarity>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl SearchHandle {
    /// Stops following the database and saves the index for a fast next start.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The models and dimensions of `encoders`, as the indexes record them.
pub fn models_of(encoders: &precedent_search::Encoders) -> precedent_similarity::Models {
    let (text, image) = encoders.model_ids();
    let (text_dim, image_dim) = encoders.dims();
    precedent_similarity::Models { text, image, text_dim, image_dim }
}

/// Opens (loads or builds) the similarity indexes under `index_dir` for the encoders in `slot`,
/// makes search available in `st`, and keeps the indexes in step with the database until
/// stopped. When another process (`precedent reindex --text-model …`) switches models, the new
/// index generation is swapped in and the encoders follow: `manifest` is where they are loaded from.
pub async fn start_search(st: &AppState, slot: Arc<precedent_search::EncoderSlot>, index_dir: PathBuf, manifest: PathBuf, threads: usize) -> Result<SearchHandle, ServerError> {
    let started = std::time::Instant::now();
    let similarity = precedent_similarity::Similarity::open(st.pool.clone(), index_dir, models_of(&slot.get()), Default::default())
        .await
        .map_err(|e| ServerError::Other(format!("similarity index: {e}")))?;
    let stats = similarity.engine().stats();
    tracing::info!(cases = stats.cases, text = stats.text.live, image = stats.image.live, ms = started.elapsed().as_millis() as u64, "similarity index ready");
    let reindex = reindex::reindexer(st.pool.clone(), st.blobs.clone(), Arc::clone(&similarity), Arc::clone(&slot), manifest.clone(), threads);
    let _ = st.search.set(app::ssr::Search { similarity: Arc::clone(&similarity), encoders: Arc::clone(&slot), manifest: manifest.clone(), reindex });
    let (stop, rx) = tokio::sync::watch::channel(false);
    let follow = tokio::spawn(Arc::clone(&similarity).follow(rx.clone(), Duration::from_millis(250)));
    let models = tokio::spawn(follow_models(st.pool.clone(), Arc::clone(&similarity), slot, manifest, rx));
    let task = tokio::spawn(async move {
        let _ = follow.await;
        let _ = models.await;
    });
    Ok(SearchHandle { similarity, stop, task })
}

/// Keeps the encoders equal to the models of the live index: after a switch, loads the new
/// encoders, swaps them in (the worker and ad-hoc queries pick them up) and queues embedding for
/// cases that still lack vectors of the new models.
async fn follow_models(
    pool: PgPool,
    similarity: Arc<precedent_similarity::Similarity>,
    slot: Arc<precedent_search::EncoderSlot>,
    manifest: PathBuf,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        let want = similarity.models();
        let have = models_of(&slot.get());
        if want.text == have.text && want.image == have.image {
            continue;
        }
        let (m, t, i) = (manifest.clone(), want.text.clone(), want.image.clone());
        match tokio::task::spawn_blocking(move || precedent_search::Encoders::load_ids(&m, Some(&t), i.as_deref(), 1)).await {
            Ok(Ok(enc)) => {
                slot.set(Arc::new(enc));
                tracing::info!(text = %want.text, image = ?want.image, "encoders switched to the index's models");
                let mut queued = precedent_store::search::enqueue_missing(&pool, "text", &want.text).await.unwrap_or(0);
                if let Some(m) = &want.image {
                    queued += precedent_store::search::enqueue_missing(&pool, "image", m).await.unwrap_or(0);
                }
                if queued > 0 {
                    tracing::info!(cases = queued, "queued embedding for cases missing the new models' vectors");
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "cannot load the index's encoders; ad-hoc queries and new cases use the old ones"),
            Err(e) => tracing::error!(error = %e, "encoder loading task failed"),
        }
    }
}

/// The encoders a server should run: the models the index was last built with (recorded by
/// `precedent reindex`) when the manifest still has them, else the manifest's defaults.
pub async fn load_active_encoders(pool: &PgPool, manifest: &Path, threads: usize) -> Result<Arc<precedent_search::Encoders>, precedent_search::SearchError> {
    let text = precedent_store::search::active_model(pool, "text").await.ok().flatten();
    let image = precedent_store::search::active_model(pool, "image").await.ok().flatten();
    let m = manifest.to_path_buf();
    let loaded = tokio::task::spawn_blocking(move || precedent_search::Encoders::load_ids(&m, text.as_deref(), image.as_deref(), threads))
        .await
        .map_err(|e| precedent_search::SearchError::Ort(e.to_string()))?;
    match loaded {
        Ok(e) => Ok(Arc::new(e)),
        Err(e) => {
            tracing::warn!(error = %e, "the recorded models cannot be loaded; using the manifest's defaults");
            load_encoders(manifest, threads).await
        }
    }
}

/// Loads the encoders named in the manifest (off the async threads).
pub async fn load_encoders(manifest: &Path, threads: usize) -> Result<Arc<precedent_search::Encoders>, precedent_search::SearchError> {
    let manifest = manifest.to_path_buf();
    tokio::task::spawn_blocking(move || precedent_search::Encoders::load(&manifest, threads))
        .await
        .map_err(|e| precedent_search::SearchError::Ort(e.to_string()))?
        .map(Arc::new)
}
