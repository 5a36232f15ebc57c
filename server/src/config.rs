//! Configuration from the environment, with defaults that work on a developer's machine.
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {value:?} ({reason})")]
    Invalid { name: &'static str, value: String, reason: String },
}

/// Everything `precedent serve` needs. Secrets (the database URL may hold one) are never logged.
#[derive(Clone)]
pub struct Config {
    /// `PRECEDENT_DATA_DIR` (default `./data`): files, the managed Postgres cluster.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: use this server instead of the managed cluster.
    pub database_url: Option<String>,
    /// `PRECEDENT_ADDR` (default `127.0.0.1:3000`).
    pub addr: SocketAddr,
    /// `PRECEDENT_SITE_ROOT`: the built site (wasm, js, css, public files).
    pub site_root: PathBuf,
    /// `PRECEDENT_SECURE_COOKIES` (default: true when `PRECEDENT_PUBLIC_URL` is https).
    pub secure_cookies: bool,
    /// `PRECEDENT_SESSION_IDLE_MINUTES` (default 30).
    pub session_idle_minutes: i64,
    /// `PRECEDENT_MAX_UPLOAD_MB` per file (default 25).
    pub max_upload_mb: u64,
    /// `PRECEDENT_DB_MAX_CONNECTIONS` (default 16).
    pub db_max_connections: u32,
    /// `PRECEDENT_MODELS_DIR` (its `models.toml`; default `models/` here or beside the binary).
    pub models_manifest: PathBuf,
    /// `PRECEDENT_ENCODER_THREADS` (default 1): intra-op threads per encoder session.
    pub encoder_threads: usize,
    /// `PRECEDENT_INDEX_DIR` (default `<data dir>/index`): the similarity index generations.
    pub index_dir: PathBuf,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("addr", &self.addr)
            .field("site_root", &self.site_root)
            .field("secure_cookies", &self.secure_cookies)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("max_upload_mb", &self.max_upload_mb)
            .field("models_manifest", &self.models_manifest)
            .field("encoder_threads", &self.encoder_threads)
            .field("index_dir", &self.index_dir)
            .finish()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid { name, value: v, reason: e.to_string() }),
    }
}

/// Where the built site is: `PRECEDENT_SITE_ROOT`, cargo-leptos's `LEPTOS_SITE_ROOT`, a `site`
/// folder beside the binary, or `target/site`.
fn default_site_root() -> PathBuf {
    if let Some(v) = var("PRECEDENT_SITE_ROOT").or_else(|| var("LEPTOS_SITE_ROOT")) {
        return PathBuf::from(v);
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            let beside = dir.join("site");
            if beside.join("pkg").is_dir() {
                return beside;
            }
        }
    }
    PathBuf::from("target/site")
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let public_https = var("PRECEDENT_PUBLIC_URL").is_some_and(|u| u.starts_with("https://"));
        let data_dir = PathBuf::from(var("PRECEDENT_DATA_DIR").unwrap_or_else(|| "data".into()));
        Ok(Config {
            index_dir: var("PRECEDENT_INDEX_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("index")),
            data_dir,
            database_url: var("DATABASE_URL"),
            addr: parsed("PRECEDENT_ADDR", SocketAddr::from(([127, 0, 0, 1], 3000)))?,
            site_root: default_site_root(),
            secure_cookies: parsed("PRECEDENT_SECURE_COOKIES", public_https)?,
            session_idle_minutes: parsed("PRECEDENT_SESSION_IDLE_MINUTES", 30)?,
            max_upload_mb: parsed("PRECEDENT_MAX_UPLOAD_MB", 25)?,
            db_max_connections: parsed("PRECEDENT_DB_MAX_CONNECTIONS", 16)?,
            models_manifest: precedent_search::Manifest::default_path(),
            encoder_threads: parsed("PRECEDENT_ENCODER_THREADS", 1)?,
        })
    }
}
