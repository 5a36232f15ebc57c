//! Crashes lose nothing. The real `precedent` binary is killed with SIGKILL (no shutdown code
//! runs) during uploads, during a library import and during index rebuilds, then started again:
//! every acknowledged case is there with all its files (checksums match), nothing half-written
//! is visible, pending embedding jobs finish, and the index matches the database. A PostgreSQL
//! restart under load: the server keeps answering and recovers by itself.

mod common;

use common::{file_part, fresh_database, precedent_cmd, ServerProcess, PASSWORD};
use precedent_store::blobs::sha256_hex;
use precedent_store::BlobStore;
use sqlx::PgPool;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).timeout(Duration::from_secs(30)).build().expect("client")
}

async fn signup(server: &ServerProcess, c: &reqwest::Client, email: &str) {
    let res = c
        .post(server.url("/api/signup"))
        .form(&[("email", email), ("display_name", "Crash test"), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .send()
        .await
        .expect("signup");
    assert!(res.status().is_success(), "signup: {}", res.status());
}

async fn login(server: &ServerProcess, c: &reqwest::Client, email: &str) {
    let res = c.post(server.url("/api/login")).form(&[("email", email), ("password", PASSWORD)]).send().await.expect("login");
    assert!(res.status().is_success(), "login: {}", res.status());
}

/// Every case has at least one scan, and every stored file (scans, thumbnails, reports) is in
/// the file store with the checksum its row names: nothing half-written is visible.
async fn assert_consistent(pool: &PgPool, data_dir: &Path) {
    let blobs = BlobStore::open(data_dir.join("blobs")).expect("blob store");
    let bare: i64 = sqlx::query_scalar("SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_images i WHERE i.case_id = c.id)")
        .fetch_one(pool)
        .await
        .expect("cases without scans");
    assert_eq!(bare, 0, "a case without its scans is visible");
    let shas: Vec<String> = sqlx::query_scalar(
        "SELECT sha256 FROM case_images UNION SELECT thumb_sha256 FROM case_images WHERE thumb_sha256 IS NOT NULL UNION SELECT sha256 FROM lab_reports",
    )
    .fetch_all(pool)
    .await
    .expect("file names");
    for sha in shas {
        blobs.get(&sha).unwrap_or_else(|e| panic!("file {sha} named by a row: {e}"));
    }
}

/// Waits until no embedding job is pending or running (a crashed server's running job is taken
/// over when its 2 s lease runs out).
async fn wait_for_jobs(pool: &PgPool, limit: Duration) {
    let until = Instant::now() + limit;
    loop {
        let open: i64 = sqlx::query_scalar("SELECT count(*) FROM embedding_jobs WHERE state IN ('pending', 'running')").fetch_one(pool).await.expect("jobs");
        if open == 0 {
            let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM embedding_jobs WHERE state = 'failed'").fetch_one(pool).await.expect("jobs");
            assert_eq!(failed, 0, "embedding jobs failed");
            return;
        }
        assert!(Instant::now() < until, "{open} embedding job(s) still open after {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `precedent index check` against the database (exit 0: they agree), retried while the
/// running server is still applying the last changes.
async fn assert_index_agrees(db_url: &str, data_dir: &Path) {
    let mut last = String::new();
    for _ in 0..20 {
        let out = precedent_cmd(db_url, data_dir).args(["index", "check"]).output().expect("index check");
        if out.status.success() {
            return;
        }
        last = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("index and database differ: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_acknowledged_before_a_kill_survive_it() {
    let (db_url, data_dir) = fresh_database(None).await;
    let mut server = ServerProcess::start(&db_url, &data_dir).await;
    let patient = client();
    signup(&server, &patient, "crash-upload@example.org").await;

    // Four uploaders create cases with distinct scans and reports until the server dies.
    let acked: Arc<Mutex<Vec<(i64, String, String)>>> = Arc::default();
    let base = server.base.clone();
    let uploaders: Vec<_> = (0..4)
        .map(|u| {
            let (c, base, acked) = (patient.clone(), base.clone(), Arc::clone(&acked));
            tokio::spawn(async move {
                for i in 0..200 {
                    let case = precedent_synth::generate_one(7000 + u, i);
                    let (png, pdf) = (case.images[0].png.clone(), case.lab_pdf.clone().expect("lab pdf"));
                    let (png_sha, pdf_sha) = (sha256_hex(&png), sha256_hex(&pdf));
                    let form = reqwest::multipart::Form::new()
                        .text("title", format!("Crash upload {u}-{i}"))
                        .text("history", case.history.clone())
                        .text("modality", "ct")
                        .part("images", file_part("scan.png", png, "image/png"))
                        .part("reports", file_part("labs.pdf", pdf, "application/pdf"));
                    match c.post(format!("{base}/api/v1/cases")).header("Accept", "application/json").multipart(form).send().await {
                        Ok(r) if r.status() == 201 => {
                            let body: serde_json::Value = match r.json().await {
                                Ok(b) => b,
                                Err(_) => return, // the answer was cut off: not acknowledged
                            };
                            acked.lock().expect("acked").push((body["id"].as_i64().expect("id"), png_sha, pdf_sha));
                        }
                        _ => return, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Kill it in the middle of the stream, once some cases are acknowledged.
    let until = Instant::now() + Duration::from_secs(60);
    while acked.lock().expect("acked").len() < 6 {
        assert!(Instant::now() < until, "uploads too slow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();
    for u in uploaders {
        let _ = u.await;
    }
    let acked = acked.lock().expect("acked").clone();

    let pool = precedent_store::connect(&db_url, 2).await.expect("pool");
    assert_consistent(&pool, &data_dir).await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM cases").fetch_one(&pool).await.expect("count");
    eprintln!("killed during uploads: {} acknowledged, {stored} stored (the rest were cut off before their answer)", acked.len());
    assert!(stored >= acked.len() as i64);
    let server = ServerProcess::start(&db_url, &data_dir).await;
    // The session survives the crash (it lives in Postgres).
    for (id, png_sha, pdf_sha) in &acked {
        let res = patient.get(server.url(&format!("/api/v1/cases/{id}"))).header("Accept", "application/json").send().await.expect("case");
        assert_eq!(res.status(), 200, "acknowledged case {id} lost");
        let case: serde_json::Value = res.json().await.expect("case json");
        let image = case["images"][0]["id"].as_i64().expect("an image");
        let report = case["reports"][0]["id"].as_i64().expect("a report");
        let bytes = patient.get(server.url(&format!("/media/images/{image}"))).send().await.expect("image").bytes().await.expect("bytes");
        assert_eq!(&sha256_hex(&bytes), png_sha, "case {id}: the scan differs");
        let bytes = patient.get(server.url(&format!("/media/reports/{report}"))).send().await.expect("report").bytes().await.expect("bytes");
        assert_eq!(&sha256_hex(&bytes), pdf_sha, "case {id}: the report differs");
    }
    wait_for_jobs(&pool, Duration::from_secs(120)).await;
    assert_consistent(&pool, &data_dir).await;
    assert_index_agrees(&db_url, &data_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_midway_resumes_without_duplicates() {
    let (db_url, data_dir) = fresh_database(None).await;
    let library = data_dir.join("library");
    let total = 150;
    precedent::seed::export_synth(&library, total, 5).expect("synthetic library");
    // Migrate first, so that the database can be watched while the import runs.
    assert!(precedent_cmd(&db_url, &data_dir).arg("migrate").status().expect("migrate").success());
    let pool = precedent_store::connect(&db_url, 2).await.expect("pool");
    let count = || async { sqlx::query_scalar::<_, i64>("SELECT count(*) FROM cases").fetch_one(&pool).await.expect("count") };

    let mut import = precedent_cmd(&db_url, &data_dir)
        .arg("import")
        .arg(&library)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("import");
    let until = Instant::now() + Duration::from_secs(120);
    while count().await < 10 {
        assert!(import.try_wait().expect("import status").is_none(), "the import ended before it could be killed");
        assert!(Instant::now() < until, "import too slow");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    import.kill().expect("kill -9");
    let _ = import.wait();
    let at_kill = count().await;
    assert!(at_kill < total as i64, "the import finished before the kill ({at_kill} cases)");
    eprintln!("import killed after {at_kill} of {total} cases");
    assert_consistent(&pool, &data_dir).await;

    let out = precedent_cmd(&db_url, &data_dir).arg("import").arg(&library).arg("--json").output().expect("import again");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(stdout.lines().last().expect("report line")).expect("json report");
    assert_eq!(report["already_present"].as_i64(), Some(at_kill), "{report}");
    assert_eq!(report["imported"].as_i64(), Some(total as i64 - at_kill), "{report}");
    let (n, distinct): (i64, i64) = sqlx::query_as("SELECT count(*), count(DISTINCT external_ref) FROM cases").fetch_one(&pool).await.expect("counts");
    assert_eq!((n, distinct), (total as i64, total as i64), "every library case exactly once");
    // Each case has all the scans its library row names.
    let lib = precedent_library::open(&library).expect("library");
    let scans: HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT c.external_ref, count(i.id) FROM cases c JOIN case_images i ON i.case_id = c.id GROUP BY c.external_ref")
            .fetch_all(&pool)
            .await
            .expect("scans")
            .into_iter()
            .collect();
    for c in &lib.cases {
        assert_eq!(scans.get(&c.key).copied(), Some(c.images.len() as i64), "case {} lost scans", c.key);
    }
    assert_consistent(&pool, &data_dir).await;

    // A server over it embeds everything queued by both runs, and its index agrees.
    let _server = ServerProcess::start(&db_url, &data_dir).await;
    wait_for_jobs(&pool, Duration::from_secs(180)).await;
    assert_index_agrees(&db_url, &data_dir).await;
}

/// Reads a child's stderr in the background, so that the test can wait for a phase.
fn capture(mut stream: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let seen: Arc<Mutex<String>> = Arc::default();
    let s = Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            s.lock().expect("capture").push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    seen
}

/// Case ids the doctor can ask similar cases for; all must answer 200.
async fn assert_similar_answers(server: &ServerProcess, doctor: &reqwest::Client, ids: &[i64]) {
    for id in ids {
        let res = doctor.get(server.url(&format!("/api/v1/cases/{id}/similar?k=5"))).send().await.expect("similar");
        assert_eq!(res.status(), 200, "similar cases of {id} during/after a crashed rebuild");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilds_killed_midway_leave_the_live_index_whole() {
    let (db_url, data_dir) = fresh_database(None).await;
    // A library big enough that a rebuild takes a while: synthetic cases with stored vectors.
    let ids = {
        let (pool, _) = precedent::open_database(&db_url, 4).await.expect("database");
        let blobs = precedent_store::BlobStore::open(data_dir.join("blobs")).expect("blob store");
        let (ids, _) = precedent::bench::http::populate(&pool, &blobs, &*common::encoders().await, 1500, 3).await.expect("populate");
        let hash = precedent_accounts::hash_password(PASSWORD).expect("hash");
        precedent_store::users::create(&pool, "admin@crash.test", "Admin", &hash, precedent_types::Role::Admin).await.expect("admin");
        pool.close().await;
        ids
    };
    let sample: Vec<i64> = ids.iter().step_by(300).copied().collect();
    let mut server = ServerProcess::start(&db_url, &data_dir).await;
    let admin = client();
    login(&server, &admin, "admin@crash.test").await;
    assert_similar_answers(&server, &admin, &sample).await;

    // 1. `precedent reindex` killed while it embeds, and again while it builds the graphs.
    for phase in ["embedding:", "indexing:"] {
        let mut reindex =
            precedent_cmd(&db_url, &data_dir).arg("reindex").stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().expect("reindex");
        let seen = capture(reindex.stderr.take().expect("stderr"));
        let until = Instant::now() + Duration::from_secs(300);
        while !seen.lock().expect("seen").contains(phase) {
            assert!(reindex.try_wait().expect("status").is_none(), "reindex ended before {phase}: {}", seen.lock().expect("seen"));
            assert!(Instant::now() < until, "reindex never reached {phase}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        reindex.kill().expect("kill -9");
        let _ = reindex.wait();
        assert_similar_answers(&server, &admin, &sample).await;
        assert_index_agrees(&db_url, &data_dir).await;
    }

    // 2. The server itself killed while its own rebuild (the admin page's) runs.
    let res = admin.post(server.url("/api/admin_reindex")).form(&[("text_model", ""), ("image_model", "")]).send().await.expect("start rebuild");
    assert!(res.status().is_success(), "rebuild refused: {}", res.status());
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.kill9();
    let server = ServerProcess::start(&db_url, &data_dir).await;
    assert_similar_answers(&server, &admin, &sample).await;
    assert_index_agrees(&db_url, &data_dir).await;

    // 3. A rebuild that runs to its end is then swapped in by the running server.
    let out = precedent_cmd(&db_url, &data_dir).args(["reindex", "--json"]).output().expect("reindex");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_similar_answers(&server, &admin, &sample).await;
    assert_index_agrees(&db_url, &data_dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_restart_under_load_is_survived_without_restarting_the_server() {
    // Its own cluster, so that stopping it touches no other test.
    let pg_dir = std::env::temp_dir().join(format!("precedent-crash-pg-{}", uuid::Uuid::new_v4().simple()));
    let cluster = precedent::pg::ManagedPg::for_dir(&pg_dir).expect("PostgreSQL binaries");
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start()).await.expect("task").expect("start cluster");
    let (db_url, data_dir) = fresh_database(Some(&cluster.url("postgres"))).await;
    let mut server = ServerProcess::start(&db_url, &data_dir).await;
    let patient = client();
    signup(&server, &patient, "crash-pg@example.org").await;
    let form = common::case_form("Survives a database restart");
    let res = patient.post(server.url("/api/v1/cases")).header("Accept", "application/json").multipart(form).send().await.expect("create");
    let id = common::case_id(res).await;

    // Four clients read the case (session + case + audit row: three database trips) throughout.
    let log: Arc<Mutex<Vec<(Instant, u16)>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_secs(25);
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (c, url, log) = (patient.clone(), server.url(&format!("/api/v1/cases/{id}")), Arc::clone(&log));
            tokio::spawn(async move {
                while Instant::now() < stop_at {
                    let status = match c.get(&url).header("Accept", "application/json").send().await {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    };
                    log.lock().expect("log").push((Instant::now(), status));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let down_at = Instant::now();
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop()).await.expect("task").expect("stop cluster");
    let stopped_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ready = reqwest::get(server.url("/readyz")).await.expect("readyz while down").status();
    assert_eq!(ready, 503, "readyz must say the database is unreachable");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start()).await.expect("task").expect("restart cluster");
    let up_at = Instant::now();
    for r in readers {
        r.await.expect("reader");
    }
    assert!(server.child.try_wait().expect("status").is_none(), "the server process died");
    let log = log.lock().expect("log").clone();
    let before: Vec<_> = log.iter().filter(|(t, _)| *t < down_at).collect();
    assert!(!before.is_empty() && before.iter().all(|(_, s)| *s == 200), "errors before the outage");
    let during = log.iter().filter(|(t, s)| *t > stopped_at && *t < up_at && *s != 200).count();
    // Recovered within 5 s of the database coming back, and answering ever since.
    let settled = up_at + Duration::from_secs(5);
    let after: Vec<_> = log.iter().filter(|(t, _)| *t > settled).collect();
    assert!(after.len() > 20, "too few requests after recovery: {}", after.len());
    let failures: Vec<_> = after.iter().filter(|(_, s)| *s != 200).collect();
    assert!(failures.is_empty(), "{} request(s) failed more than 5 s after the database was back", failures.len());
    let recovered = log.iter().find(|(t, s)| *t > up_at && *s == 200).map(|(t, _)| t.duration_since(up_at));
    eprintln!(
        "database down {:.1} s: {during} request(s) failed meanwhile; first success {:?} after it was back",
        up_at.duration_since(stopped_at).as_secs_f64(),
        recovered
    );
    assert_eq!(reqwest::get(server.url("/readyz")).await.expect("readyz").status(), 200);
    server.kill9();
    let c = cluster.clone();
    let _ = tokio::task::spawn_blocking(move || c.stop()).await;
    let _ = std::fs::remove_dir_all(&pg_dir);
}
