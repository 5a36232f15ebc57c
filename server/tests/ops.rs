//! Operations and session promises: Prometheus `/metrics` (who may read it, what it holds),
//! request ids, the Content-Security-Policy with Leptos's nonce, the absolute session lifetime,
//! and logs that carry request ids but nothing a user typed.

mod common;

use common::{case_form, case_id, client, fresh_database, spawn_app, spawn_app_with, ServerProcess, PASSWORD};
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
