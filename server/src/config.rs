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
    /// `PRECEDENT_PUBLIC_URL`: the address people use (e.g. `https://precedent.example.org`).
    pub public_url: Option<String>,
    /// `PRECEDENT_SECURE_COOKIES` (default: true unless in local http mode, see
    /// [`Config::local_http`]).
    pub secure_cookies: bool,
    /// `PRECEDENT_ALLOWED_HOSTS`: comma-separated host names a request's `Host` may name
    /// (DNS-rebinding defence). Default: the public URL's host, the loopback names and the
    /// bind address.
    pub allowed_hosts: Vec<String>,
    /// `PRECEDENT_DEMO_PASSWORD`: the demo accounts' password; default: a random one, printed
    /// once when the accounts are created. A secret: never logged.
    pub demo_password: Option<String>,
    /// `PRECEDENT_SESSION_IDLE_MINUTES` (default 30).
    pub session_idle_minutes: i64,
    /// `PRECEDENT_MAX_UPLOAD_MB` per file (default 25).
    pub max_upload_mb: u64,
    /// `PRECEDENT_MAX_IMPORT_MB` per case-library archive uploaded by an admin (default 2048).
    pub max_import_mb: u64,
    /// `PRECEDENT_DB_MAX_CONNECTIONS` (default 16).
    pub db_max_connections: u32,
    /// `PRECEDENT_MODELS_DIR` (its `models.toml`; default `models/` here or beside the binary).
    pub models_manifest: PathBuf,
    /// `PRECEDENT_ENCODER_THREADS` (default 1): intra-op threads per encoder session.
    pub encoder_threads: usize,
    /// `PRECEDENT_INDEX_DIR` (default `<data dir>/index`): the similarity index generations.
    pub index_dir: PathBuf,
    /// `PRECEDENT_PDF_ISOLATION`: `process` (default: each lab report is read by a child
    /// process with capped memory) or `thread` (in the server process; deadline only).
    pub pdf_isolation: PdfIsolation,
    /// `PRECEDENT_PDF_TIMEOUT_SECS` (default 10): reading one lab report's text, at most.
    pub pdf_timeout_secs: u64,
    /// `PRECEDENT_PDF_MAX_MEMORY_MB` (default 1024): the reader process's address-space cap.
    pub pdf_max_memory_mb: u64,
    /// The program the isolated PDF reader runs (`<it> labs worker`); default: this binary.
    pub pdf_worker_exe: Option<PathBuf>,
    /// `PRECEDENT_SESSION_MAX_HOURS` (default 12): a session ends this long after its login,
    /// however active it is.
    pub session_max_hours: i64,
    /// `PRECEDENT_JOB_LEASE_SECS` (default 300): how long a running embedding job is protected
    /// before another worker (or this server after a crash) takes it over.
    pub job_lease_secs: i64,
    /// `PRECEDENT_METRICS_TOKEN`: a bearer token that may read `/metrics` (admins always may).
    /// A secret: never logged.
    pub metrics_token: Option<String>,
    /// Password hashes computed or verified at once (each holds about 19 MiB).
    pub password_concurrency: usize,
    /// How long a login or sign-up waits for a hashing permit before it is answered 429.
    pub password_queue_secs: u64,
    /// `PRECEDENT_SEARCHES_PER_MINUTE` (120), `PRECEDENT_UPLOADS_PER_MINUTE` (30),
    /// `PRECEDENT_CASES_PER_DAY` (200), `PRECEDENT_UPLOAD_MB_PER_DAY` (2048): per user.
    pub quotas: precedent_service::quota::QuotaLimits,
    /// `PRECEDENT_REQUEST_TIMEOUT_SECS` (60): a request (body included) taking longer is answered
    /// 408; uploads get `PRECEDENT_UPLOAD_TIMEOUT_SECS` (600), imports are not limited.
    pub request_timeout_secs: u64,
    pub upload_timeout_secs: u64,
    /// `PRECEDENT_PDF_WORKERS` (2): lab-report reader processes at once, in the whole process.
    pub pdf_workers: usize,
    /// `PRECEDENT_ENCODE_CONCURRENCY` (2): search queries encoded at once (the rest queue up to
    /// 10 s, then are answered 429 "busy").
    pub encode_concurrency: usize,
    /// `PRECEDENT_TRUSTED_PROXIES`: comma-separated addresses of reverse proxies whose
    /// `X-Forwarded-For` names the client (rate limits and the audit log use that address).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Default absolute session lifetime in hours (`PRECEDENT_SESSION_MAX_HOURS`).
pub const SESSION_MAX_HOURS: i64 = 12;

/// Where lab report PDFs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdfIsolation {
    Process,
    Thread,
}

impl std::str::FromStr for PdfIsolation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "process" => Ok(Self::Process),
            "thread" => Ok(Self::Thread),
            _ => Err("expected process or thread".into()),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("addr", &self.addr)
            .field("site_root", &self.site_root)
            .field("public_url", &self.public_url)
            .field("secure_cookies", &self.secure_cookies)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("demo_password", &self.demo_password.as_ref().map(|_| "<set>"))
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("max_upload_mb", &self.max_upload_mb)
            .field("max_import_mb", &self.max_import_mb)
            .field("models_manifest", &self.models_manifest)
            .field("encoder_threads", &self.encoder_threads)
            .field("index_dir", &self.index_dir)
            .field("pdf_isolation", &self.pdf_isolation)
            .field("pdf_timeout_secs", &self.pdf_timeout_secs)
            .field("pdf_max_memory_mb", &self.pdf_max_memory_mb)
            .field("pdf_worker_exe", &self.pdf_worker_exe)
            .field("session_max_hours", &self.session_max_hours)
            .field("job_lease_secs", &self.job_lease_secs)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<set>"))
            .field("password_concurrency", &self.password_concurrency)
            .field("password_queue_secs", &self.password_queue_secs)
            .field("quotas", &self.quotas)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("upload_timeout_secs", &self.upload_timeout_secs)
            .field("pdf_workers", &self.pdf_workers)
            .field("encode_concurrency", &self.encode_concurrency)
            .field("trusted_proxies", &self.trusted_proxies)
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

/// The host name of an `http(s)://host[:port]/…` URL, lower-cased (IPv6 keeps its brackets).
pub fn host_of_url(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let host = host_without_port(authority);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// `host[:port]` without the port (`[::1]:3000` → `[::1]`).
pub fn host_without_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.find(']').map_or(authority, |end| &authority[..=end]);
    }
    authority.split(':').next().unwrap_or(authority)
}

fn local_http(public_url: Option<&str>, addr: SocketAddr) -> bool {
    addr.ip().is_loopback() && !public_url.is_some_and(|u| u.starts_with("https://"))
}

/// The public URL's host, the loopback names and the bind address (unless it is a wildcard).
fn default_allowed_hosts(public_url: Option<&str>, addr: SocketAddr) -> Vec<String> {
    let mut hosts: Vec<String> = public_url.and_then(host_of_url).into_iter().collect();
    hosts.extend(["localhost", "127.0.0.1", "[::1]"].map(String::from));
    if !addr.ip().is_unspecified() {
        let ip = match addr.ip() {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        hosts.push(ip);
    }
    hosts.dedup();
    hosts
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let public_url = var("PRECEDENT_PUBLIC_URL").map(|u| u.trim().trim_end_matches('/').to_string());
        if let Some(u) = &public_url {
            if host_of_url(u).is_none() {
                return Err(ConfigError::Invalid { name: "PRECEDENT_PUBLIC_URL", value: u.clone(), reason: "expected http(s)://host[:port]".into() });
            }
        }
        let addr: SocketAddr = parsed("PRECEDENT_ADDR", SocketAddr::from(([127, 0, 0, 1], 3000)))?;
        let local_http = local_http(public_url.as_deref(), addr);
        let allowed_hosts = match var("PRECEDENT_ALLOWED_HOSTS") {
            Some(list) => list.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect(),
            None => default_allowed_hosts(public_url.as_deref(), addr),
        };
        let data_dir = PathBuf::from(var("PRECEDENT_DATA_DIR").unwrap_or_else(|| "data".into()));
        Ok(Config {
            index_dir: var("PRECEDENT_INDEX_DIR").map(PathBuf::from).unwrap_or_else(|| data_dir.join("index")),
            data_dir,
            database_url: var("DATABASE_URL"),
            addr,
            site_root: default_site_root(),
            secure_cookies: parsed("PRECEDENT_SECURE_COOKIES", !local_http)?,
            public_url,
            allowed_hosts,
            demo_password: var("PRECEDENT_DEMO_PASSWORD"),
            session_idle_minutes: parsed("PRECEDENT_SESSION_IDLE_MINUTES", 30)?,
            max_upload_mb: parsed("PRECEDENT_MAX_UPLOAD_MB", 25)?,
            max_import_mb: parsed("PRECEDENT_MAX_IMPORT_MB", 2048)?,
            db_max_connections: parsed("PRECEDENT_DB_MAX_CONNECTIONS", 16)?,
            models_manifest: precedent_encoders::Manifest::default_path(),
            encoder_threads: parsed("PRECEDENT_ENCODER_THREADS", 1)?,
            pdf_isolation: parsed("PRECEDENT_PDF_ISOLATION", PdfIsolation::Process)?,
            pdf_timeout_secs: parsed("PRECEDENT_PDF_TIMEOUT_SECS", 10)?,
            pdf_max_memory_mb: parsed("PRECEDENT_PDF_MAX_MEMORY_MB", 1024)?,
            pdf_worker_exe: None,
            session_max_hours: parsed("PRECEDENT_SESSION_MAX_HOURS", SESSION_MAX_HOURS)?,
            job_lease_secs: parsed("PRECEDENT_JOB_LEASE_SECS", 300)?,
            metrics_token: var("PRECEDENT_METRICS_TOKEN"),
            password_concurrency: parsed("PRECEDENT_PASSWORD_CONCURRENCY", std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8))?,
            password_queue_secs: parsed("PRECEDENT_PASSWORD_QUEUE_SECS", 5)?,
            quotas: precedent_service::quota::QuotaLimits {
                searches_per_minute: parsed("PRECEDENT_SEARCHES_PER_MINUTE", 120)?,
                uploads_per_minute: parsed("PRECEDENT_UPLOADS_PER_MINUTE", 30)?,
                cases_per_day: parsed("PRECEDENT_CASES_PER_DAY", 200)?,
                upload_mb_per_day: parsed("PRECEDENT_UPLOAD_MB_PER_DAY", 2048)?,
            },
            request_timeout_secs: parsed("PRECEDENT_REQUEST_TIMEOUT_SECS", 60)?,
            upload_timeout_secs: parsed("PRECEDENT_UPLOAD_TIMEOUT_SECS", 600)?,
            pdf_workers: parsed("PRECEDENT_PDF_WORKERS", 2)?,
            encode_concurrency: parsed("PRECEDENT_ENCODE_CONCURRENCY", 2)?,
            trusted_proxies: match var("PRECEDENT_TRUSTED_PROXIES") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        p.parse().map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
                            name: "PRECEDENT_TRUSTED_PROXIES",
                            value: p.to_string(),
                            reason: e.to_string(),
                        })
                    })
                    .collect::<Result<_, _>>()?,
            },
        })
    }

    /// True when the public URL is https: cookies are `Secure` and HSTS is sent.
    pub fn public_https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }

    /// Local http mode: served on a loopback address and not published over https. Only then
    /// are cookies sent without `Secure` by default, and only then may demo accounts exist.
    pub fn local_http(&self) -> bool {
        local_http(self.public_url.as_deref(), self.addr)
    }

    /// Why demo accounts may not be created or used with this configuration, if they may not.
    pub fn demo_refusal(&self) -> Option<String> {
        if self.public_https() {
            Some("demo accounts are refused when PRECEDENT_PUBLIC_URL is https (a real deployment)".into())
        } else if !self.addr.ip().is_loopback() {
            Some(format!("demo accounts are refused when serving on {} (not a loopback address)", self.addr))
        } else {
            None
        }
    }

    /// The lab-report reader: a child process running this same binary (or `pdf_worker_exe`)
    /// as `labs worker`, or a thread when so configured or when this binary's path is unknown.
    pub fn pdf_reader(&self) -> precedent_labs::PdfReader {
        let timeout = std::time::Duration::from_secs(self.pdf_timeout_secs.max(1));
        let exe = self.pdf_worker_exe.clone().map_or_else(std::env::current_exe, Ok);
        match (self.pdf_isolation, exe) {
            (PdfIsolation::Process, Ok(exe)) => precedent_labs::PdfReader::in_process(exe, self.pdf_max_memory_mb.max(64), timeout),
            (PdfIsolation::Process, Err(e)) => {
                tracing::warn!(error = %e, "this binary's path is unknown; lab reports are read in-process");
                precedent_labs::PdfReader::in_thread(timeout)
            }
            (PdfIsolation::Thread, _) => precedent_labs::PdfReader::in_thread(timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_modes() {
        assert_eq!(host_of_url("https://Precedent.Example.org:8443/x").as_deref(), Some("precedent.example.org"));
        assert_eq!(host_of_url("http://[::1]:3000").as_deref(), Some("[::1]"));
        assert_eq!(host_of_url("ftp://x"), None);
        assert_eq!(host_without_port("localhost:3000"), "localhost");
        let lo = SocketAddr::from(([127, 0, 0, 1], 3000));
        let any = SocketAddr::from(([0, 0, 0, 0], 3000));
        assert!(local_http(None, lo));
        assert!(local_http(Some("http://localhost:3000"), lo));
        assert!(!local_http(Some("https://p.example.org"), lo));
        assert!(!local_http(None, any));
        let hosts = default_allowed_hosts(Some("https://p.example.org"), any);
        assert!(hosts.contains(&"p.example.org".to_string()) && hosts.contains(&"localhost".to_string()));
        assert!(!hosts.contains(&"0.0.0.0".to_string()));
    }
}
