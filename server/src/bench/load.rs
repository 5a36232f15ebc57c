//! `precedent bench load`: a bounded load test of a real `precedent serve` process on loopback.
//!
//! A scratch PostgreSQL cluster gets N synthetic cases with vectors (as `bench http`); this
//! binary is then started as a separate server process over it, and C concurrent connections
//! (closed loop, one request in flight each) hit it for S seconds per scenario:
//! - `case page`: `GET /cases/{id}` as a doctor — the server-rendered case page, its similar-cases
//!   panel included (fused search, hit summaries, audit rows);
//! - `search api`: `POST /api/v1/search` with free text (the text is encoded on every request).
//!
//! Reported per scenario: requests, req/s, p50/p95/p99, transport errors (connection failures,
//! time-outs), 5xx and other non-2xx answers; and the server's resident memory before, between
//! and after. Every loop is bounded by its deadline; the server and cluster are stopped at the end.
use super::http::{populate, BENCH_PASSWORD, BENCH_USER};
use crate::pg::ManagedPg;
use precedent_encoders::Encoders;
use precedent_search::synthetic::Rng;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct Scenario {
    pub name: String,
    pub requests: usize,
    pub rps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Connection failures and time-outs.
    pub errors: usize,
    pub status_5xx: usize,
    pub status_other: usize,
}

#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub cases: usize,
    pub connections: usize,
    pub seconds_per_scenario: f64,
    pub scenarios: Vec<Scenario>,
    pub server_rss_mb_before: f64,
    pub server_rss_mb_after: Vec<f64>,
}

/// What `run` needs besides the encoders.
pub struct LoadOptions {
    pub cases: usize,
    pub connections: usize,
    pub seconds: f64,
    /// The models manifest and built site the server process is given.
    pub manifest: PathBuf,
    pub site_root: PathBuf,
    pub scratch: PathBuf,
}

/// A request's outcome.
enum Outcome {
    Ok,
    Error,
    Status5xx,
    Other,
}

/// A loopback port that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

const QUERIES: [&str; 6] = [
    "productive cough and fever for three days",
    "sudden right-sided weakness and slurred speech",
    "knee pain and swelling after a fall",
    "flank pain with blood in the urine",
    "chronic headache worse in the morning",
    "abdominal pain and jaundice",
];

/// Runs the load test. The server process is this binary (`precedent serve`).
pub async fn run(enc: Arc<Encoders>, opts: LoadOptions, progress: &(dyn Fn(&str) + Sync)) -> Result<LoadReport, crate::error::ServerError> {
    let other = |e: &dyn std::fmt::Display| crate::error::ServerError::Other(e.to_string());
    let scratch = opts.scratch.clone();
    let _ = std::fs::remove_dir_all(&scratch);
    let cluster = ManagedPg::for_dir(&scratch)?;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start()).await.map_err(|e| other(&e))??;
    let mut server: Option<tokio::process::Child> = None;
    let result = async {
        let url = precedent_store::ensure_database(&cluster.url("postgres"), "bench").await?;
        let ids = {
            let (pool, _) = crate::startup::open_database(&url, 8).await?;
            progress(&format!("creating {} synthetic cases with vectors", opts.cases));
            let out = populate(&pool, &precedent_store::BlobStore::open(scratch.join("blobs"))?, &enc, opts.cases, 11).await;
            pool.close().await;
            out?.0
        };
        let port = free_port()?;
        let exe = std::env::current_exe()?;
        let log = std::fs::File::create(scratch.join("server.log"))?;
        progress(&format!("starting the server process on 127.0.0.1:{port} (log: {})", scratch.join("server.log").display()));
        let child = tokio::process::Command::new(exe)
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("PRECEDENT_DATA_DIR", &scratch)
            .env("PRECEDENT_ADDR", format!("127.0.0.1:{port}"))
            .env("PRECEDENT_MODELS_DIR", opts.manifest.parent().unwrap_or(Path::new(".")))
            .env("PRECEDENT_SITE_ROOT", &opts.site_root)
            .env("PRECEDENT_DB_MAX_CONNECTIONS", "32")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().unwrap_or(0);
        server = Some(child);
        let base = format!("http://127.0.0.1:{port}");
        let probe = reqwest::Client::new();
        let ready_by = Instant::now() + Duration::from_secs(300);
        loop {
            if matches!(probe.get(format!("{base}/readyz")).send().await, Ok(r) if r.status().is_success()) {
                break;
            }
            if Instant::now() > ready_by {
                return Err(other(&"the server did not become ready in 300 s"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .pool_max_idle_per_host(opts.connections)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| other(&e))?;
        let login =
            client.post(format!("{base}/api/login")).form(&[("email", BENCH_USER), ("password", BENCH_PASSWORD)]).send().await.map_err(|e| other(&e))?;
        if !login.status().is_success() {
            return Err(other(&format!("bench login failed: {}", login.status())));
        }
        // The case page must carry its similar-cases panel, rendered on the server.
        let page = client.get(format!("{base}/cases/{}", ids[0])).send().await.map_err(|e| other(&e))?.text().await.map_err(|e| other(&e))?;
        if !page.contains("similar-hit") {
            return Err(other(&"the case page came without similar-case hits"));
        }
        let ids = Arc::new(ids);
        let rss_before = super::rss_mb_of(&pid.to_string());
        let mut scenarios = Vec::new();
        let mut rss_after = Vec::new();
        for name in ["case page", "search api"] {
            progress(&format!("{name}: warming up (3 s), then {} connections for {} s", opts.connections, opts.seconds));
            let _ = drive(&client, &base, name, &ids, opts.connections, 3.0).await;
            scenarios.push(drive(&client, &base, name, &ids, opts.connections, opts.seconds).await);
            rss_after.push(super::rss_mb_of(&pid.to_string()));
        }
        Ok(LoadReport {
            cases: opts.cases,
            connections: opts.connections,
            seconds_per_scenario: opts.seconds,
            scenarios,
            server_rss_mb_before: rss_before,
            server_rss_mb_after: rss_after,
        })
    }
    .await;
    if let Some(mut child) = server {
        if let Some(pid) = child.id() {
            // SIGTERM: let the server stop its worker and save its index.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
        if tokio::time::timeout(Duration::from_secs(20), child.wait()).await.is_err() {
            let _ = child.kill().await;
        }
    }
    let c = cluster.clone();
    let _ = tokio::task::spawn_blocking(move || c.stop()).await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// `connections` closed loops on one scenario for `seconds`.
async fn drive(client: &reqwest::Client, base: &str, name: &str, ids: &Arc<Vec<i64>>, connections: usize, seconds: f64) -> Scenario {
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            let (client, base, ids, search) = (client.clone(), base.to_string(), Arc::clone(ids), name == "search api");
            tokio::spawn(async move {
                let mut rng = Rng::new(1000 + i as u64);
                let mut out = Vec::new();
                while Instant::now() < until {
                    let t = Instant::now();
                    let req = if search {
                        let body = serde_json::json!({ "text": QUERIES[rng.below(QUERIES.len())], "k": 10 });
                        client.post(format!("{base}/api/v1/search")).json(&body)
                    } else {
                        client.get(format!("{base}/cases/{}", ids[rng.below(ids.len())]))
                    };
                    let outcome = match req.send().await {
                        Ok(r) if r.status().is_success() => match r.bytes().await {
                            Ok(_) => Outcome::Ok,
                            Err(_) => Outcome::Error,
                        },
                        Ok(r) if r.status().is_server_error() => Outcome::Status5xx,
                        Ok(_) => Outcome::Other,
                        Err(_) => Outcome::Error,
                    };
                    out.push((t.elapsed().as_secs_f64() * 1000.0, outcome));
                }
                out
            })
        })
        .collect();
    let (mut lat, mut errors, mut s5, mut other) = (Vec::new(), 0, 0, 0);
    for t in tasks {
        for (ms, o) in t.await.unwrap_or_default() {
            lat.push(ms);
            match o {
                Outcome::Ok => {}
                Outcome::Error => errors += 1,
                Outcome::Status5xx => s5 += 1,
                Outcome::Other => other += 1,
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| super::percentile(&lat, q);
    Scenario {
        name: name.to_string(),
        requests: lat.len(),
        rps: lat.len() as f64 / elapsed,
        p50_ms: at(0.5),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        errors,
        status_5xx: s5,
        status_other: other,
    }
}

pub fn table(r: &LoadReport) -> String {
    let mut s = format!(
        "{} cases, {} concurrent connections, {:.0} s per scenario; server RSS before {:.0} MB\n{:<12} {:>9} {:>8} {:>8} {:>8} {:>8} {:>7} {:>5} {:>6} {:>9}\n",
        r.cases,
        r.connections,
        r.seconds_per_scenario,
        r.server_rss_mb_before,
        "scenario",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "5xx",
        "other",
        "RSS after"
    );
    for (sc, rss) in r.scenarios.iter().zip(&r.server_rss_mb_after) {
        s.push_str(&format!(
            "{:<12} {:>9} {:>8.0} {:>8.1} {:>8.1} {:>8.1} {:>7} {:>5} {:>6} {:>6.0} MB\n",
            sc.name, sc.requests, sc.rps, sc.p50_ms, sc.p95_ms, sc.p99_ms, sc.errors, sc.status_5xx, sc.status_other, rss
        ));
    }
    s
}

/// Scratch folder of a run.
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("precedent-bench-load-{}", std::process::id()))
}
