//! Test harness: every test gets its own database and its own server on a random port.
//!
//! The database server is `PRECEDENT_TEST_DATABASE_URL` when set (an admin URL), otherwise a
//! managed cluster under the system temp dir, started once and shared by all test binaries.
//!
//! The servers are built by `precedent::Application`, exactly as `precedent serve` builds them.
//! Each test file is its own test binary (process): in one process, the servers of many files'
//! tests rendering pages at once sometimes left a server-rendered page unanswered (see the
//! closing note of 2026-12-07), which separate processes have never shown.
#![allow(dead_code)]
use sqlx::PgPool;
use std::net::SocketAddr;
use std::path::PathBuf;

pub struct TestApp {
    pub worker: Option<precedent::WorkerHandle>,
    pub search: Option<precedent::SearchHandle>,
    pub base: String,
    pub pool: PgPool,
    pub state: precedent_service::AppState,
    pub db_url: String,
    pub data_dir: PathBuf,
}

async fn admin_url() -> String {
    if let Ok(url) = std::env::var("PRECEDENT_TEST_DATABASE_URL") {
        if !url.is_empty() {
            return url;
        }
    }
    tokio::task::spawn_blocking(|| {
        let dir = std::env::temp_dir().join("precedent-testpg");
        std::fs::create_dir_all(&dir).expect("temp dir");
        // Several tests (threads of this process) or test processes may start at once: one starts
        // the cluster, the others wait. `File::lock` is flock(2), held per open file, so threads of
        // one process exclude each other as well as other processes.
        let lock = std::fs::File::create(std::env::temp_dir().join("precedent-testpg.lock")).expect("lock file");
        lock.lock().expect("lock");
        let cluster = precedent::pg::ManagedPg::for_dir(&dir).expect("PostgreSQL binaries for tests");
        cluster.start().expect("start the test cluster");
        let url = cluster.url("postgres");
        let _ = lock.unlock();
        url
    })
    .await
    .expect("cluster task")
}

/// The repository's model manifest.
pub fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/models.toml")
}

/// The repository's manifest with absolute paths plus a second text encoder,
/// `minilm-l6-v2-copy@2` (the same network under another version), for model switches.
pub fn test_manifest(dir: &std::path::Path) -> PathBuf {
    let models = manifest().parent().expect("models dir").canonicalize().expect("models dir");
    let text = std::fs::read_to_string(manifest()).expect("manifest");
    let abs =
        |t: &str| t.replace("file = \"", &format!("file = \"{}/", models.display())).replace("tokenizer = \"", &format!("tokenizer = \"{}/", models.display()));
    let block_start = text.find("[[encoder]]").expect("an encoder");
    let text_block_end = text[block_start + 1..].find("[[encoder]]").map(|i| i + block_start + 1).unwrap_or(text.len());
    let copy = text[block_start..text_block_end].replacen("name = \"minilm-l6-v2\"", "name = \"minilm-l6-v2-copy\"", 1).replacen(
        "version = \"1-int8\"",
        "version = \"2\"",
        1,
    );
    std::fs::create_dir_all(dir).expect("data dir");
    let path = dir.join("models.toml");
    std::fs::write(&path, format!("{}\n{}", abs(&text), abs(&copy))).expect("write test manifest");
    path
}

/// The repository's encoders, loaded once per process and shared by every test.
pub async fn encoders() -> std::sync::Arc<precedent_encoders::Encoders> {
    static ENC: tokio::sync::OnceCell<std::sync::Arc<precedent_encoders::Encoders>> = tokio::sync::OnceCell::const_new();
    ENC.get_or_init(|| async { precedent::load_encoders(&manifest(), 1).await.expect("encoders (run scripts/setup.sh for ONNX Runtime)") }).await.clone()
}

/// Starts a server over a fresh database, with a 2 MB per-file upload limit and the
/// embedding worker running.
pub async fn spawn_app() -> TestApp {
    let mut app = spawn_app_without_worker().await;
    app.start_worker().await;
    app
}

/// A fresh, empty database on the test cluster (or on `admin`'s server when given): its URL and
/// a scratch data directory named after it.
pub async fn fresh_database(admin: Option<&str>) -> (String, PathBuf) {
    let admin = match admin {
        Some(a) => a.to_string(),
        None => admin_url().await,
    };
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let db_url = precedent_store::ensure_database(&admin, &name).await.expect("create test database");
    (db_url, std::env::temp_dir().join(format!("precedent-test-{name}")))
}

/// Starts a server whose embedding jobs stay queued until [`TestApp::start_worker`].
pub async fn spawn_app_without_worker() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The configuration of a test server over `db_url`: data under `data_dir`, a free port, a
/// 2 MB per-file upload limit, lab reports read by `precedent labs worker` as the served binary
/// reads them, and the test manifest (with a second text encoder for model switches).
pub fn test_config(db_url: &str, data_dir: &std::path::Path) -> precedent::config::Config {
    let mut cfg = precedent::config::Config::from_env().expect("configuration");
    cfg.database_url = Some(db_url.to_string());
    cfg.data_dir = data_dir.to_path_buf();
    cfg.index_dir = data_dir.join("index");
    cfg.site_root = data_dir.join("site");
    cfg.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    cfg.secure_cookies = false;
    cfg.session_idle_minutes = 30;
    cfg.max_upload_mb = 2;
    cfg.db_max_connections = 5;
    cfg.models_manifest = test_manifest(data_dir);
    cfg.encoder_threads = 1;
    cfg.pdf_isolation = precedent::config::PdfIsolation::Process;
    cfg.pdf_worker_exe = Some(PathBuf::from(env!("CARGO_BIN_EXE_precedent")));
    cfg.pdf_timeout_secs = 20;
    cfg.pdf_max_memory_mb = 1024;
    cfg.job_lease_secs = 300;
    cfg.metrics_token = None;
    cfg
}

/// Starts a server (no worker) whose state `configure` may change first (limits, lifetimes),
/// built by `precedent::Application` exactly as `precedent serve` builds it.
pub async fn spawn_app_with(configure: impl FnOnce(&mut precedent_service::AppState) + Send) -> TestApp {
    let (db_url, data_dir) = fresh_database(None).await;
    let cfg = test_config(&db_url, &data_dir);
    let mut app =
        precedent::Application::builder(&cfg).encoders(encoders().await).worker(false).configure(configure).build().await.expect("build the application");
    let (base, state, search) = (format!("http://{}", app.address().expect("address")), app.state().clone(), app.take_search());
    assert!(search.is_some(), "similarity index");
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp { worker: None, search, base, pool: state.pool.clone(), state, db_url, data_dir }
}

/// A client with its own cookie jar that does not follow redirects. A request that gets no
/// answer within two minutes fails its test (naming the URL) instead of hanging the suite.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("client")
}

pub const PASSWORD: &str = "river-cobalt-lantern";

impl TestApp {
    pub async fn start_worker(&mut self) {
        let slot = std::sync::Arc::clone(&self.state.search().expect("search started").encoders);
        self.worker = Some(precedent::start_worker(self.pool.clone(), self.state.blobs.clone(), slot, 300));
    }

    /// Waits (up to 60 s) until no embedding job is queued or running.
    pub async fn wait_for_indexing(&self) {
        for _ in 0..600 {
            let open: i64 =
                sqlx::query_scalar("SELECT count(*) FROM embedding_jobs WHERE state IN ('pending', 'running')").fetch_one(&self.pool).await.expect("jobs");
            if open == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("embedding jobs did not finish in 60 s");
    }

    /// The live similarity service.
    pub fn similarity(&self) -> std::sync::Arc<precedent_similarity::Similarity> {
        std::sync::Arc::clone(&self.search.as_ref().expect("search running").similarity)
    }

    /// Waits until embedding is done and the index has applied every logged change.
    pub async fn wait_for_search(&self) {
        self.wait_for_indexing().await;
        let last = precedent_store::index_feed::last_change(&self.pool).await.expect("last change");
        for _ in 0..200 {
            if self.similarity().applied_change() >= last {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the similarity index did not catch up in 10 s");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Calls a server function with form-encoded arguments.
    pub async fn server_fn(&self, c: &reqwest::Client, name: &str, form: &[(&str, &str)]) -> reqwest::Response {
        c.post(self.url(&format!("/api/{name}"))).form(form).send().await.expect("server fn request")
    }

    pub async fn signup(&self, c: &reqwest::Client, email: &str) -> reqwest::Response {
        self.server_fn(c, "signup", &[("email", email), ("display_name", "Test"), ("password", PASSWORD), ("password_confirm", PASSWORD)]).await
    }

    pub async fn login(&self, c: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        self.server_fn(c, "login", &[("email", email), ("password", password)]).await
    }

    /// Creates a staff account directly in the store.
    pub async fn staff(&self, email: &str, role: precedent_types::Role) -> reqwest::Client {
        let hash = precedent_accounts::hash_password(PASSWORD).expect("hash");
        precedent_store::users::create(&self.pool, email, "Staff", &hash, role).await.expect("create staff");
        let c = client();
        assert!(self.login(&c, email, PASSWORD).await.status().is_success());
        c
    }

    /// A signed-in patient.
    pub async fn patient(&self, email: &str) -> reqwest::Client {
        let c = client();
        let res = self.signup(&c, email).await;
        assert!(res.status().is_success(), "signup failed: {}", res.text().await.unwrap_or_default());
        c
    }

    /// Posts a case through the JSON API; returns the response.
    pub async fn create_case(&self, c: &reqwest::Client, form: reqwest::multipart::Form) -> reqwest::Response {
        c.post(self.url("/api/v1/cases")).header("Accept", "application/json").multipart(form).send().await.expect("upload")
    }

    pub async fn case_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM cases").fetch_one(&self.pool).await.expect("count")
    }
}

pub fn file_part(name: &str, bytes: Vec<u8>, mime: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()).mime_str(mime).expect("mime")
}

/// A small PNG scan and a lab PDF from the synthetic generator.
pub fn sample_files() -> (Vec<u8>, Vec<u8>) {
    let c = precedent_synth::generate_one(99, 3);
    (c.images[0].png.clone(), c.lab_pdf.expect("lab pdf"))
}

/// A basic case form with one image and one report.
pub fn case_form(title: &str) -> reqwest::multipart::Form {
    let (png, pdf) = sample_files();
    reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .text("history", "Cough and fever for three days.")
        .text("modality", "xray")
        .part("images", file_part("chest.png", png, "image/png"))
        .part("reports", file_part("labs.pdf", pdf, "application/pdf"))
}

pub async fn case_id(res: reqwest::Response) -> i64 {
    let status = res.status();
    let body: serde_json::Value = res.json().await.expect("json body");
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("id")
}

/// A `precedent serve` process (the real binary) over a given database and data directory, for
/// tests that kill it. Its log goes to `<data dir>/server-<port>.log`.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base: String,
}

/// The environment every `precedent` process of a test gets.
pub fn process_env(cmd: &mut std::process::Command, db_url: &str, data_dir: &std::path::Path) {
    let models = manifest().parent().expect("models dir").canonicalize().expect("models dir");
    cmd.env("DATABASE_URL", db_url)
        .env("PRECEDENT_DATA_DIR", data_dir)
        .env("PRECEDENT_MODELS_DIR", models)
        .env("PRECEDENT_SITE_ROOT", data_dir.join("site"))
        .env("PRECEDENT_JOB_LEASE_SECS", "2")
        .env("RUST_LOG", "info,sqlx=warn,hnsw_rs=warn");
}

/// A `precedent` command with the test environment.
pub fn precedent_cmd(db_url: &str, data_dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_precedent"));
    process_env(&mut cmd, db_url, data_dir);
    cmd
}

impl ServerProcess {
    /// Starts the server and waits (up to 120 s) until `/readyz` answers 200.
    pub async fn start(db_url: &str, data_dir: &std::path::Path) -> ServerProcess {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let log = std::fs::File::create(data_dir.join(format!("server-{port}.log"))).expect("log file");
        let child = precedent_cmd(db_url, data_dir)
            .arg("serve")
            .env("PRECEDENT_ADDR", format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start precedent serve");
        let mut server = ServerProcess { child, base: format!("http://127.0.0.1:{port}") };
        server.wait_ready(std::time::Duration::from_secs(120)).await;
        server
    }

    pub async fn wait_ready(&mut self, limit: std::time::Duration) {
        let probe = reqwest::Client::new();
        let until = std::time::Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server process exited: {status}");
            }
            if matches!(probe.get(format!("{}/readyz", self.base)).send().await, Ok(r) if r.status().is_success()) {
                return;
            }
            assert!(std::time::Instant::now() < until, "the server was not ready in {limit:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}
