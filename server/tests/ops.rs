//! Operations and session promises: Prometheus `/metrics` (who may read it, what it holds),
//! request ids, the Content-Security-Policy with Leptos's nonce, the absolute session lifetime,
//! and logs that carry request ids but nothing a user typed.

mod common;

use common::{case_form, case_id, client, fresh_database, precedent_cmd, spawn_app, spawn_app_with, ServerProcess, PASSWORD};
use precedent_types::Role;
use std::time::Duration;

#[tokio::test]
async fn metrics_are_for_admins_and_hold_routes_encoders_index_and_queue() {
    let app = spawn_app().await;
    let patient = app.patient("metrics-patient@example.org").await;
    let id = case_id(app.create_case(&patient, case_form("Metrics")).await).await;
    app.wait_for_search().await;
    let res = patient.get(app.url(&format!("/api/v1/cases/{id}"))).header("Accept", "application/json").send().await.expect("case");
    assert_eq!(res.status(), 200);

    assert_eq!(client().get(app.url("/metrics")).send().await.expect("anonymous").status(), 401);
    assert_eq!(patient.get(app.url("/metrics")).send().await.expect("patient").status(), 403);
    let doctor = app.staff("metrics-doctor@example.org", Role::Doctor).await;
    assert_eq!(doctor.get(app.url("/metrics")).send().await.expect("doctor").status(), 403);
    let admin = app.staff("metrics-admin@example.org", Role::Admin).await;
    let res = admin.get(app.url("/metrics")).send().await.expect("admin");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap_or("").starts_with("text/plain"));
    let body = res.text().await.expect("body");
    for needle in [
        // Request latency per route template (never the raw path).
        "precedent_http_request_duration_seconds_bucket{route=\"/api/v1/cases/{id}\",method=\"GET\",status=\"200\"",
        "precedent_http_request_duration_seconds_count{route=\"/api/v1/cases\",method=\"POST\",status=\"201\"}",
        // Encoder latency, recorded by the search core.
        "precedent_encoder_seconds_bucket{modality=\"text\"",
        "precedent_encoder_seconds_bucket{modality=\"image\"",
        // Index sizes and the job queue, read at scrape time.
        "precedent_index_cases",
        "precedent_index_vectors{modality=\"text\",state=\"live\"}",
        "precedent_index_memory_bytes{modality=\"image\"}",
        "precedent_embedding_jobs{state=\"pending\"}",
        "precedent_db_pool_connections{state=\"open\"}",
    ] {
        assert!(body.contains(needle), "/metrics lacks {needle}:\n{body}");
    }
    assert!(!body.contains(&format!("/api/v1/cases/{id}\"")), "a raw path reached the metrics");
}

#[tokio::test]
async fn a_scraper_reads_metrics_with_the_configured_token_only() {
    let app = spawn_app_with(|st| st.metrics_token = Some("scrape-secret-42".into())).await;
    let c = client();
    assert_eq!(c.get(app.url("/healthz")).send().await.expect("healthz").status(), 200);
    let res = c.get(app.url("/metrics")).bearer_auth("scrape-secret-42").send().await.expect("metrics");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("body").contains("precedent_http_request_duration_seconds"));
    assert_eq!(c.get(app.url("/metrics")).bearer_auth("scrape-secret-4").send().await.expect("metrics").status(), 401);
    assert_eq!(c.get(app.url("/metrics")).send().await.expect("metrics").status(), 401);
}

#[tokio::test]
async fn every_response_has_a_fresh_request_id_and_the_security_headers() {
    let app = spawn_app().await;
    let c = client();
    let res = c.get(app.url("/healthz")).header("x-request-id", "forged-by-the-client").send().await.expect("healthz");
    let id = res.headers()["x-request-id"].to_str().expect("id").to_string();
    assert_eq!(id.len(), 32, "a server-made id replaces the client's: {id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let other = c.get(app.url("/healthz")).send().await.expect("healthz");
    assert_ne!(other.headers()["x-request-id"], id.as_str());
    let h = other.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "same-origin");
    let csp = h["content-security-policy"].to_str().expect("csp");
    for part in
        ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'"]
    {
        assert!(csp.contains(part), "{csp} lacks {part}");
    }
    assert!(!script_src(csp).contains("unsafe-inline"), "inline scripts are never allowed wholesale: {csp}");
}

/// The `script-src` directive of a policy.
fn script_src(csp: &str) -> &str {
    csp.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap_or_default()
}

/// The nonce in a page's `script-src`, and every inline script of the page carrying it.
#[tokio::test]
async fn pages_allow_only_the_inline_scripts_that_carry_their_nonce() {
    let app = spawn_app().await;
    let patient = app.patient("csp@example.org").await;
    let id = case_id(app.create_case(&patient, case_form("Nonce")).await).await;
    app.wait_for_search().await;
    let mut nonces = Vec::new();
    for path in ["/login".to_string(), "/cases".to_string(), format!("/cases/{id}")] {
        let res = patient.get(app.url(&path)).send().await.expect("page");
        assert_eq!(res.status(), 200, "{path}");
        let csp = res.headers()["content-security-policy"].to_str().expect("csp").to_string();
        let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).unwrap_or_else(|| panic!("{path}: no nonce in {csp}")).to_string();
        assert!(nonce.len() >= 16, "{path}: nonce too short");
        assert!(!script_src(&csp).contains("unsafe-inline"), "{csp}");
        let html = res.text().await.expect("html");
        let scripts: Vec<&str> = html.split("<script").skip(1).map(|s| s.split('>').next().unwrap_or_default()).collect();
        assert!(!scripts.is_empty(), "{path}: Leptos writes its hydration script inline");
        for tag in scripts {
            assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: a script without the nonce: <script{tag}>");
        }
        nonces.push(nonce);
    }
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "every response gets its own nonce");
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_active() {
    let app = spawn_app_with(|st| st.session_max_secs = 3).await;
    let c = app.patient("lifetime@example.org").await;
    let me = |c: reqwest::Client| {
        let url = app.url("/api/me");
        async move { c.post(url).send().await.expect("me").text().await.expect("me body") }
    };
    // Active throughout: a request every half second.
    for _ in 0..4 {
        assert!(me(c.clone()).await.contains("lifetime@example.org"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!me(c.clone()).await.contains("lifetime@example.org"), "the session outlived its lifetime");
    let res = c.get(app.url("/api/v1/cases")).send().await.expect("cases");
    assert_eq!(res.status(), 401);
    // Logging in again starts a new lifetime.
    assert!(app.login(&c, "lifetime@example.org", PASSWORD).await.status().is_success());
    assert!(me(c.clone()).await.contains("lifetime@example.org"));
}

/// The served binary's log: every request line carries its request id and route template;
/// nothing a user typed (search text, titles, notes, passwords) is in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_request_ids_and_no_health_data() {
    let (db_url, data_dir) = fresh_database(None).await;
    let server = ServerProcess::start(&db_url, &data_dir).await;
    let c = client();
    let res = c
        .post(server.url("/api/signup"))
        .form(&[("email", "logs@example.org"), ("display_name", "Logs"), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .send()
        .await
        .expect("signup");
    assert!(res.status().is_success());
    let form = reqwest::multipart::Form::new()
        .text("title", "Zyxwv title marker")
        .text("history", "Qwertyuiop history marker with haemoptysis")
        .text("modality", "ct")
        .part("images", common::file_part("scan.png", common::sample_files().0, "image/png"));
    let res = c.post(server.url("/api/v1/cases")).header("Accept", "application/json").multipart(form).send().await.expect("create");
    let id = case_id(res).await;
    let search = c.post(server.url("/api/v1/search")).json(&serde_json::json!({ "text": "Plokijuh search marker" })).send().await.expect("search");
    let request_id = search.headers()["x-request-id"].to_str().expect("id").to_string();
    let _ = c.get(server.url(&format!("/search?q=Mnbvcxz+query+marker&case={id}"))).send().await.expect("search page");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = std::fs::read_to_string(
        std::fs::read_dir(&data_dir)
            .expect("data dir")
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with("server-"))
            .expect("server log")
            .path(),
    )
    .expect("log");
    assert!(log.contains(&request_id), "the search's request id is not in the log");
    assert!(log.contains("route=/api/v1/search"), "request lines name their route");
    for marker in ["Zyxwv", "Qwertyuiop", "haemoptysis", "Plokijuh", "Mnbvcxz", PASSWORD] {
        assert!(!log.contains(marker), "the log holds user input: {marker}");
    }
}

/// Safe by default: nothing with patient data is cached, browser features are off, another site
/// can neither load the API or media into its page nor land on a patient page with data (it gets
/// a page that only links on), a `Host` this server does not serve is refused (DNS rebinding),
/// and an uploaded PDF opens sandboxed.
#[tokio::test]
async fn patient_data_is_not_cached_loaded_cross_site_or_rebound() {
    let app = spawn_app().await;
    let patient = app.patient("defaults@example.org").await;
    let id = case_id(app.create_case(&patient, case_form("Defaults")).await).await;
    let case: serde_json::Value =
        patient.get(app.url(&format!("/api/v1/cases/{id}"))).header("Accept", "application/json").send().await.unwrap().json().await.unwrap();
    let image = case["images"][0]["id"].as_i64().expect("image id");
    let report = case["reports"][0]["id"].as_i64().expect("report id");
    let paths = [
        format!("/cases/{id}"),
        format!("/api/v1/cases/{id}"),
        format!("/media/images/{image}"),
        format!("/media/images/{image}/thumb"),
        format!("/media/reports/{report}"),
    ];
    for path in &paths {
        let res = patient.get(app.url(path)).header("sec-fetch-site", "same-origin").send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers();
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["cross-origin-resource-policy"], "same-origin", "{path}");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        assert!(h["permissions-policy"].to_str().unwrap().contains("camera=()"), "{path}");
        assert!(h.get("strict-transport-security").is_none(), "no HSTS in local http mode");
    }
    let pdf = patient.get(app.url(&format!("/media/reports/{report}"))).send().await.unwrap();
    assert_eq!(pdf.headers()["content-security-policy"], "sandbox");

    let cross = |path: String, mode: &str, dest: &str| {
        patient.get(app.url(&path)).header("sec-fetch-site", "cross-site").header("sec-fetch-mode", mode).header("sec-fetch-dest", dest)
    };
    assert_eq!(cross(format!("/media/images/{image}"), "no-cors", "image").send().await.unwrap().status(), 403);
    assert_eq!(cross(format!("/api/v1/cases/{id}"), "cors", "empty").send().await.unwrap().status(), 403);
    assert_eq!(cross(format!("/cases/{id}"), "no-cors", "iframe").send().await.unwrap().status(), 403);
    let nav = cross(format!("/cases/{id}"), "navigate", "document").send().await.unwrap();
    assert_eq!(nav.status(), 200);
    let html = nav.text().await.unwrap();
    assert!(html.contains("You followed a link from another site") && html.contains(&format!("href=\"/cases/{id}\"")), "{html}");
    assert!(!html.contains("Defaults"), "a cross-site navigation shows no patient data");
    // The login page may be linked from anywhere.
    assert_eq!(cross("/login".into(), "navigate", "document").send().await.unwrap().status(), 200);

    let rebound = patient.get(app.url("/login")).header("host", "attacker.example").send().await.unwrap();
    assert_eq!(rebound.status(), 421);
    let rebound = patient.get(app.url(&format!("/api/v1/cases/{id}"))).header("host", "attacker.example:80").send().await.unwrap();
    assert_eq!(rebound.status(), 421);
    assert_eq!(client().get(app.url("/login")).header("host", "localhost:3000").send().await.unwrap().status(), 200);
    assert_eq!(client().get(app.url("/healthz")).header("host", "10.1.2.3:3000").send().await.unwrap().status(), 200, "probes call by address");
}

/// `precedent backup` while the server runs, `precedent restore` into a fresh database and
/// data directory: every account, case, image, report, lab value and embedding comes back, every
/// file with the same bytes, and a server over the restored data has an index that agrees with
/// its database. A backup into a used folder and a restore into a used database are refused.
#[tokio::test]
async fn backup_while_serving_and_restore_into_a_fresh_database_loses_nothing() {
    let app = spawn_app().await;
    let patient = app.patient("backup@example.org").await;
    for title in ["Backup one", "Backup two"] {
        case_id(app.create_case(&patient, case_form(title)).await).await;
    }
    app.wait_for_search().await;
    let out = app.data_dir.join("backup-1");
    let run = |cmd: &mut std::process::Command| {
        let o = cmd.output().expect("run precedent");
        (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
    };
    let (ok, log) = run(precedent_cmd(&app.db_url, &app.data_dir).args(["backup", "--out"]).arg(&out));
    assert!(ok, "{log}");
    let (ok, log) = run(precedent_cmd(&app.db_url, &app.data_dir).args(["backup", "--out"]).arg(&out));
    assert!(!ok && log.contains("not empty"), "{log}");

    let (db2, dir2) = fresh_database(None).await;
    let (ok, log) = run(precedent_cmd(&db2, &dir2).args(["restore", "--from"]).arg(&out));
    assert!(ok, "{log}");
    let (ok, log) = run(precedent_cmd(&db2, &dir2).args(["restore", "--from"]).arg(&out));
    assert!(!ok && log.contains("not empty"), "{log}");

    let restored = precedent_store::connect(&db2, 2).await.expect("restored database");
    for q in [
        "SELECT string_agg(id || ':' || email || ':' || role, '|' ORDER BY id) FROM users",
        "SELECT string_agg(id || ':' || title || ':' || history || ':' || status, '|' ORDER BY id) FROM cases",
        "SELECT string_agg(id || ':' || sha256 || ':' || thumb_sha256, '|' ORDER BY id) FROM case_images",
        "SELECT string_agg(id || ':' || sha256 || ':' || text_status, '|' ORDER BY id) FROM lab_reports",
        "SELECT string_agg(id || ':' || analyte || ':' || coalesce(value::text, ''), '|' ORDER BY id) FROM lab_values",
        "SELECT count(*)::text FROM text_vectors",
        "SELECT count(*)::text FROM image_vectors",
        "SELECT count(*)::text FROM audit_log",
    ] {
        let a: Option<String> = sqlx::query_scalar(q).fetch_one(&app.pool).await.expect("source");
        let b: Option<String> = sqlx::query_scalar(q).fetch_one(&restored).await.expect("restored");
        assert!(a.as_deref().is_some_and(|s| s != "0"), "{q}: nothing to compare");
        assert_eq!(a, b, "{q}");
    }
    let shas: Vec<String> =
        sqlx::query_scalar("SELECT sha256 FROM case_images UNION SELECT thumb_sha256 FROM case_images UNION SELECT sha256 FROM lab_reports")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let blobs = precedent_store::BlobStore::open(dir2.join("blobs")).unwrap();
    for sha in &shas {
        assert_eq!(blobs.get(sha).expect("restored file"), app.state.blobs.get(sha).expect("source file"), "{sha}");
    }
    // The restored data serves: its index agrees with its database.
    let cfg = common::test_config(&db2, &dir2);
    let mut served = precedent::Application::builder(&cfg).encoders(common::encoders().await).worker(false).build().await.expect("serve the restored data");
    let report = served.take_search().expect("search").similarity.check().await.expect("index check");
    assert!(report.agrees() && report.cases_in_index == 2, "{report:?}");
}

/// Quotas per user: searches and uploads per minute, cases and bytes per 24 hours; each spent
/// quota is answered 429 before any work, and other users are not affected.
#[tokio::test]
async fn quotas_bound_each_users_searches_uploads_and_daily_cases_and_bytes() {
    use precedent_service::quota::{QuotaLimits, Quotas};
    let limits = QuotaLimits { searches_per_minute: 3, uploads_per_minute: 3, cases_per_day: 2, upload_mb_per_day: 1 };
    let app = spawn_app_with(move |st| st.quotas = std::sync::Arc::new(Quotas::new(limits))).await;
    let (a, b) = (app.patient("quota-a@example.org").await, app.patient("quota-b@example.org").await);
    let search = |c: &reqwest::Client| c.post(app.url("/api/v1/search")).json(&serde_json::json!({ "text": "cough and fever" })).send();
    for _ in 0..3 {
        assert_eq!(search(&a).await.unwrap().status(), 200);
    }
    let spent = search(&a).await.unwrap();
    assert_eq!(spent.status(), 429);
    assert!(spent.text().await.unwrap().contains("Try again in"));
    assert_eq!(search(&b).await.unwrap().status(), 200, "another user's budget is their own");

    // Two cases a day; the third is refused and nothing of it is stored.
    for title in ["Quota one", "Quota two"] {
        case_id(app.create_case(&a, case_form(title)).await).await;
    }
    let third = app.create_case(&a, case_form("Quota three")).await;
    assert_eq!(third.status(), 429);
    assert!(third.text().await.unwrap().contains("in the last 24 hours"));
    assert_eq!(app.case_count().await, 2);
    // The fourth upload this minute is refused by the per-minute budget.
    let fourth = app.create_case(&a, case_form("Quota four")).await;
    assert_eq!(fourth.status(), 429);
    assert!(fourth.text().await.unwrap().contains("Try again in"));

    // A day's bytes: a 1.2 MB report does not fit in 1 MB, refused from its declared length.
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(1_200_000, b' ');
    let form = reqwest::multipart::Form::new().text("title", "Big").part("reports", common::file_part("big.pdf", big, "application/pdf"));
    let res = app.create_case(&b, form).await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("MB you may add in 24 hours"));
    assert_eq!(app.case_count().await, 2);
}

/// A client that sends headers and then never its body holds the connection only until the
/// request deadline: it is answered 408.
#[tokio::test]
async fn a_request_whose_body_never_comes_is_answered_408_at_the_deadline() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (db_url, data_dir) = fresh_database(None).await;
    let mut cfg = common::test_config(&db_url, &data_dir);
    cfg.request_timeout_secs = 1;
    let mut app = precedent::Application::builder(&cfg).encoders(common::encoders().await).worker(false).build().await.expect("server");
    let addr = app.address().expect("address");
    let _search = app.take_search();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=";
    s.write_all(head.as_bytes()).await.expect("send headers");
    let started = std::time::Instant::now();
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut answer)).await.expect("answered before 20 s").expect("read");
    let line = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(line.starts_with("HTTP/1.1 408"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

/// Ad-hoc search queries are encoded behind a gate: when it is full for its whole queue time
/// the search is answered 429 "busy" instead of piling encodes onto the cores; a search with
/// nothing to encode (a stored case) does not queue.
#[tokio::test]
async fn query_encodes_wait_at_the_gate_and_are_answered_busy_when_it_is_full() {
    let app = spawn_app_with(|st| {
        st.encode_gate = std::sync::Arc::new(precedent_service::HashGate::named("query encoding", 0, Duration::from_millis(200)));
    })
    .await;
    let patient = app.patient("gate@example.org").await;
    let id = case_id(app.create_case(&patient, case_form("Gate")).await).await;
    let busy = patient.post(app.url("/api/v1/search")).json(&serde_json::json!({ "text": "cough" })).send().await.unwrap();
    assert_eq!(busy.status(), 429);
    assert!(busy.text().await.unwrap().contains("busy"));
    let by_case = patient.post(app.url("/api/v1/search")).json(&serde_json::json!({ "case_id": id })).send().await.unwrap();
    assert_ne!(by_case.status(), 429, "nothing to encode: no queue");
}
