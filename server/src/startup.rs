//! The one place the application is assembled (zero2prod's `startup.rs`): the database (given
//! or managed), the state with every configured setting, the encoders, the similarity engine,
//! the embedding worker, the router and its listener. `precedent serve`, the integration tests,
//! the benchmarks and the crash tests all start the server through [`Application`]; commands
//! that work on cases without serving get the same state from [`with_database`].
use crate::background::{load_active_encoders, start_search, start_worker, SearchHandle, WorkerHandle};
use crate::config::Config;
use crate::{error::ServerError, pg, seed, web};
use leptos_config::LeptosOptions;
use precedent_accounts::RateLimiter;
use precedent_encoders::{EncoderSlot, Encoders};
use precedent_service::{AppState, HashGate, UploadLimits};
use precedent_store::BlobStore;
use sqlx::PgPool;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tower_sessions_sqlx_store::PostgresStore;

/// Leptos options for serving `site_root` (no cargo-leptos environment needed at run time).
pub fn leptos_options(site_root: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder().output_name("precedent").site_root(site_root.to_string_lossy().to_string()).site_pkg_dir("pkg").site_addr(addr).build()
}

/// The application state over a migrated pool, with everything the configuration sets.
fn build_state(pool: PgPool, cfg: &Config, addr: SocketAddr) -> Result<AppState, ServerError> {
    precedent_labs::reader::SLOTS.set_max(cfg.pdf_workers);
    Ok(AppState {
        pool,
        blobs: BlobStore::open(cfg.data_dir.join("blobs"))?,
        limits: UploadLimits { max_file_mb: cfg.max_upload_mb, max_import_mb: cfg.max_import_mb, ..UploadLimits::default() },
        account_limiter: Arc::new(RateLimiter::new(5, Duration::from_secs(15 * 60))),
        ip_limiter: Arc::new(RateLimiter::new(30, Duration::from_secs(15 * 60))),
        signup_limiter: Arc::new(RateLimiter::new(10, Duration::from_secs(60 * 60))),
        account_delay: Arc::new(precedent_accounts::ProgressiveDelay::new(5, Duration::from_secs(60), Duration::from_secs(15 * 60))),
        trusted_proxies: cfg.trusted_proxies.clone().into(),
        leptos_options: leptos_options(&cfg.site_root, addr),
        search: Arc::default(),
        data_dir: cfg.data_dir.clone(),
        media_key: Arc::new(random_key()),
        pdf: cfg.pdf_reader(),
        session_max_secs: cfg.session_max_hours.max(1) * 3600,
        metrics_token: cfg.metrics_token.as_deref().map(Arc::from),
        password_gate: Arc::new(HashGate::new(cfg.password_concurrency.max(1), Duration::from_secs(cfg.password_queue_secs.max(1)))),
        quotas: Arc::new(precedent_service::quota::Quotas::new(cfg.quotas)),
        encode_gate: Arc::new(HashGate::named("query encoding", cfg.encode_concurrency.max(1), Duration::from_secs(10))),
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
pub async fn resolve_database(cfg: &Config) -> Result<(String, Option<pg::ManagedPg>), ServerError> {
    if let Some(url) = &cfg.database_url {
        return Ok((url.clone(), None));
    }
    let cluster = pg::ManagedPg::for_dir(&cfg.data_dir)?;
    let c = cluster.clone();
    let started = tokio::task::spawn_blocking(move || c.start()).await.map_err(ServerError::other)??;
    let url = precedent_store::ensure_database(&cluster.url("postgres"), "precedent").await?;
    Ok((url, started.then_some(cluster)))
}

/// Stops the managed cluster if this process started it.
pub async fn stop_managed(managed: Option<pg::ManagedPg>) {
    if let Some(c) = managed {
        if let Err(e) = tokio::task::spawn_blocking(move || c.stop()).await.unwrap_or(Ok(())) {
            tracing::warn!(error = %e, "could not stop the managed PostgreSQL");
        }
    }
}

/// Runs `work` with the application state over the configured database (started if it is the
/// managed one, stopped again afterwards), for commands that work on cases without serving.
pub async fn with_database<T, F, Fut>(cfg: &Config, max_connections: u32, work: F) -> Result<T, ServerError>
where
    F: FnOnce(AppState) -> Fut,
    Fut: Future<Output = Result<T, ServerError>>,
{
    let (url, managed) = resolve_database(cfg).await?;
    let outcome = async {
        let (pool, _) = open_database(&url, max_connections).await?;
        let st = build_state(pool.clone(), cfg, cfg.addr)?;
        let out = work(st).await;
        pool.close().await;
        out
    }
    .await;
    stop_managed(managed).await;
    outcome
}

/// A change to the state after the configuration is applied.
type Configure<'a> = Box<dyn FnOnce(&mut AppState) + Send + 'a>;

/// How an [`Application`] is started beyond its configuration.
pub struct Builder<'a> {
    cfg: &'a Config,
    encoders: Option<Arc<Encoders>>,
    worker: bool,
    demo: Option<usize>,
    configure: Option<Configure<'a>>,
}

impl<'a> Builder<'a> {
    /// Use these encoders instead of loading the ones the index was built with (tests share
    /// one set across servers).
    pub fn encoders(mut self, encoders: Arc<Encoders>) -> Self {
        self.encoders = Some(encoders);
        self
    }

    /// Whether the embedding worker starts with the server (default: yes).
    pub fn worker(mut self, start: bool) -> Self {
        self.worker = start;
        self
    }

    /// On an empty database, create the demo accounts and this many synthetic cases.
    pub fn demo(mut self, cases: Option<usize>) -> Self {
        self.demo = cases;
        self
    }

    /// Changes the state after the configuration is applied (tests: short lifetimes, tokens).
    pub fn configure(mut self, f: impl FnOnce(&mut AppState) + Send + 'a) -> Self {
        self.configure = Some(Box::new(f));
        self
    }

    /// Opens the database, builds the state, loads the encoders, opens the similarity index,
    /// starts the worker and binds the listener (`cfg.addr`; port 0 picks a free one).
    pub async fn build(self) -> Result<Application, ServerError> {
        let cfg = self.cfg;
        if let (Some(_), Some(reason)) = (self.demo, cfg.demo_refusal()) {
            return Err(ServerError::Other(reason));
        }
        let (url, managed) = resolve_database(cfg).await?;
        let (pool, sessions) = open_database(&url, cfg.db_max_connections).await?;
        let listener = tokio::net::TcpListener::bind(cfg.addr).await?;
        let addr = listener.local_addr()?;
        let mut st = build_state(pool.clone(), cfg, addr)?;
        if let Some(f) = self.configure {
            f(&mut st);
        }
        let mut new_demo_password = None;
        match (self.demo, cfg.demo_refusal()) {
            (Some(n), _) => {
                if precedent_store::users::count(&pool).await? == 0 {
                    let started = std::time::Instant::now();
                    let password = seed::demo_password(cfg.demo_password.as_deref());
                    let seeded = seed::seed_cases(&st, n, 1, &password).await.map_err(ServerError::other)?;
                    tracing::info!(cases = seeded.cases, secs = started.elapsed().as_secs_f64(), "demo seeded");
                    new_demo_password = seeded.new_password;
                }
            }
            // Demo accounts left in a database now served for real are switched off.
            (None, Some(_)) => match precedent_store::users::disable_kind(&pool, precedent_types::AccountKind::Demo).await? {
                0 => {}
                n => tracing::warn!(accounts = n, "demo accounts disabled: this server is not in local http mode"),
            },
            (None, None) => {}
        }
        match precedent_store::imports::mark_interrupted(&pool).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(imports = n, "imports left running by a previous process marked interrupted"),
            Err(e) => tracing::error!(error = %e, "could not mark interrupted imports"),
        }
        let encoders = match self.encoders {
            Some(e) => Ok(e),
            None => load_active_encoders(&pool, &cfg.models_manifest, cfg.encoder_threads).await,
        };
        let (worker, search) = match encoders {
            Ok(enc) => {
                let slot = Arc::new(EncoderSlot::new(enc));
                let search = match start_search(&st, Arc::clone(&slot), cfg.index_dir.clone(), cfg.models_manifest.clone(), cfg.encoder_threads.max(1)).await {
                    Ok(h) => Some(h),
                    Err(e) => {
                        tracing::error!(error = %e, "similarity search unavailable");
                        None
                    }
                };
                let worker = self.worker.then(|| start_worker(pool.clone(), st.blobs.clone(), slot, cfg.job_lease_secs));
                (worker, search)
            }
            Err(e) => {
                tracing::error!(error = %e, manifest = %cfg.models_manifest.display(), "encoders unavailable: cases are stored but not embedded or searchable until this is fixed");
                (None, None)
            }
        };
        let sweeper = {
            use tower_sessions::session_store::ExpiredDeletion;
            let sessions = sessions.clone();
            tokio::spawn(async move {
                if let Err(e) = sessions.continuously_delete_expired(tokio::time::Duration::from_secs(300)).await {
                    tracing::warn!(error = %e, "expired sessions are no longer swept");
                }
            })
        };
        let router = web::router(
            st.clone(),
            sessions,
            web::WebSettings {
                secure_cookies: cfg.secure_cookies,
                idle_minutes: cfg.session_idle_minutes,
                hsts: cfg.public_https(),
                allowed_hosts: cfg.allowed_hosts.clone().into(),
                request_timeout: Duration::from_secs(cfg.request_timeout_secs.max(1)),
                upload_timeout: Duration::from_secs(cfg.upload_timeout_secs.max(1)),
            },
        );
        Ok(Application { state: st, listener, router, search, worker, managed, sweeper, new_demo_password })
    }
}

/// A built server: state, listener and background work, ready to serve.
pub struct Application {
    state: AppState,
    listener: tokio::net::TcpListener,
    router: axum::Router,
    search: Option<SearchHandle>,
    worker: Option<WorkerHandle>,
    managed: Option<pg::ManagedPg>,
    sweeper: tokio::task::JoinHandle<()>,
    new_demo_password: Option<String>,
}

impl Application {
    /// Builds the server `cfg` describes, with the defaults of [`Builder`].
    pub async fn build(cfg: &Config) -> Result<Application, ServerError> {
        Self::builder(cfg).build().await
    }

    pub fn builder(cfg: &Config) -> Builder<'_> {
        Builder { cfg, encoders: None, worker: true, demo: None, configure: None }
    }

    /// The demo accounts' password when this build created them (to print once).
    pub fn take_new_demo_password(&mut self) -> Option<String> {
        self.new_demo_password.take()
    }

    /// The address it listens on.
    pub fn address(&self) -> Result<SocketAddr, ServerError> {
        Ok(self.listener.local_addr()?)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The similarity engine's handle, for a caller that stops it itself (tests).
    pub fn take_search(&mut self) -> Option<SearchHandle> {
        self.search.take()
    }

    /// The embedding worker's handle, for a caller that stops it itself (tests).
    pub fn take_worker(&mut self) -> Option<WorkerHandle> {
        self.worker.take()
    }

    /// Serves until `shutdown` completes, then stops the worker, saves the index, closes the
    /// pool and stops the managed database if this process started it.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServerError> {
        let Application { state, listener, router, search, worker, managed, sweeper, .. } = self;
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await?;
        sweeper.abort();
        if let Some(w) = worker {
            w.stop().await;
        }
        if let Some(s) = search {
            s.stop().await;
        }
        state.pool.close().await;
        stop_managed(managed).await;
        Ok(())
    }
}
