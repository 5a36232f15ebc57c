//! The access-control table: every HTTP route, every server function and every page, called as
//! an anonymous visitor, as another patient, as the owning patient, as a doctor and as an admin,
//! with the outcome each must get. Ids in the requests are the owner's (or, for the owner, another
//! patient's), so guessing ids (IDOR) is covered by the "other patient" column. A route, server
//! function or page that has no row here fails `every_endpoint_has_a_row`.

mod common;

use common::{case_form, case_id, client, file_part, spawn_app, TestApp, PASSWORD};
use precedent_types::Role;
use reqwest::multipart::Form;
use reqwest::{Client, Response};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    OtherPatient,
    Owner,
    Doctor,
    Admin,
}
const EVERYONE: [Who; 5] = [Who::Anonymous, Who::OtherPatient, Who::Owner, Who::Doctor, Who::Admin];

/// Allowed or denied, per caller in the order of [`EVERYONE`].
type Outcomes = [bool; 5];
const A: bool = true;
const D: bool = false;

/// What the table's requests refer to.
struct Fixture {
    owner_case: i64,
    other_case: i64,
    owner_image: i64,
    owner_report: i64,
    owner_lab_value: i64,
    owner_upload_token: String,
    import_id: i64,
    victim_user: i64,
    hit_thumb_for_owner: String,
}

enum Call {
    Get,
    /// A server function with form-encoded arguments.
    Form(Vec<(&'static str, String)>),
    /// A server function or API route with a JSON body.
    Json(serde_json::Value),
    Multipart(fn() -> Form),
    /// A plain form post to a route (not a server function).
    UrlForm(Vec<(&'static str, String)>),
}

struct Row {
    /// The route as registered (`GET /media/images/{id}`), `fn NAME` for a server function,
    /// `page PATH` for a page.
    endpoint: &'static str,
    /// The request for a caller.
    call: fn(&Fixture, Who) -> (String, Call),
    outcomes: Outcomes,
    /// Sign-up, login and logout change the caller's session: they get a fresh one.
    fresh_session: bool,
}

fn get(path: String) -> (String, Call) {
    (path, Call::Get)
}

fn png() -> Vec<u8> {
    common::sample_files().0
}

fn rows() -> Vec<Row> {
    fn row(endpoint: &'static str, call: fn(&Fixture, Who) -> (String, Call), outcomes: Outcomes) -> Row {
        Row { endpoint, call, outcomes, fresh_session: false }
    }
    fn session_row(endpoint: &'static str, call: fn(&Fixture, Who) -> (String, Call), outcomes: Outcomes) -> Row {
        Row { endpoint, call, outcomes, fresh_session: true }
    }
    let signed_in = [D, A, A, A, A];
    let readers = [D, D, A, A, A];
    let doctors = [D, D, D, A, D];
    let admins = [D, D, D, D, A];
    let only_owner = [D, D, A, D, D];
    vec![
        // Operations.
        row("GET /healthz", |_, _| get("/healthz".into()), [A; 5]),
        row("GET /readyz", |_, _| get("/readyz".into()), [A; 5]),
        // Prometheus metrics: admins (or a scraper holding PRECEDENT_METRICS_TOKEN; see metrics tests).
        row("GET /metrics", |_, _| get("/metrics".into()), admins),
        // Cases over the JSON API.
        row("POST /api/v1/cases", |_, _| ("/api/v1/cases".into(), Call::Multipart(|| case_form("Access"))), signed_in),
        row("GET /api/v1/cases", |_, _| get("/api/v1/cases".into()), signed_in),
        row("GET /api/v1/cases/{id}", |f, _| get(format!("/api/v1/cases/{}", f.owner_case)), readers),
        row("GET /api/v1/cases/{id}/similar", |f, _| get(format!("/api/v1/cases/{}/similar?k=3", f.owner_case)), readers),
        row("GET /api/v1/cases/{id}/suggestions", |f, _| get(format!("/api/v1/cases/{}/suggestions", f.owner_case)), [D, D, D, A, A]),
        // Explaining another patient's case as a hit: only staff may see it.
        row("GET /api/v1/cases/{id}/explain/{hit}", |f, _| get(format!("/api/v1/cases/{}/explain/{}", f.owner_case, f.other_case)), [D, D, D, A, A]),
        row("GET /api/v1/admin/audit.csv", |f, _| get(format!("/api/v1/admin/audit.csv?object=case%20{}", f.owner_case)), [D, D, D, D, A]),
        row("GET /api/v1/cases/{id}/report", |f, _| get(format!("/api/v1/cases/{}/report", f.owner_case)), readers),
        row(
            "POST /api/v1/cases/{id}/report",
            |f, _| {
                (
                    format!("/api/v1/cases/{}/report", f.owner_case),
                    Call::Json(json!({ "diagnoses": "Pneumonia", "next_tests": "", "specialist": "", "summary": "" })),
                )
            },
            doctors,
        ),
        // The search page's form: saved under an opaque id for the signed-in (anonymous: to the login page).
        row("POST /search", |_, _| ("/search".into(), Call::UrlForm(vec![("text", "cough".into())])), signed_in),
        row("POST /api/v1/search", |_, _| ("/api/v1/search".into(), Call::Json(json!({ "text": "cough and fever" }))), signed_in),
        row(
            "POST /api/v1/search/images",
            |_, _| ("/api/v1/search/images".into(), Call::Multipart(|| Form::new().part("image", file_part("q.png", png(), "image/png")))),
            signed_in,
        ),
        row("GET /api/v1/search/images/{token}/thumb", |f, _| get(format!("/api/v1/search/images/{}/thumb", f.owner_upload_token)), only_owner),
        row("GET /api/v1/admin/index/progress", |_, _| get("/api/v1/admin/index/progress".into()), admins),
        row(
            "POST /api/v1/admin/imports",
            |_, _| {
                (
                    "/api/v1/admin/imports".into(),
                    Call::Multipart(|| Form::new().part("archive", file_part("lib.zip", b"not an archive".to_vec(), "application/zip"))),
                )
            },
            admins,
        ),
        row("GET /api/v1/admin/imports/{id}", |f, _| get(format!("/api/v1/admin/imports/{}", f.import_id)), admins),
        row("GET /api/v1/admin/imports/{id}/progress", |f, _| get(format!("/api/v1/admin/imports/{}/progress", f.import_id)), admins),
        // Files.
        row("GET /media/images/{id}", |f, _| get(format!("/media/images/{}", f.owner_image)), readers),
        row("GET /media/images/{id}/thumb", |f, _| get(format!("/media/images/{}/thumb", f.owner_image)), readers),
        row("GET /media/reports/{id}", |f, _| get(format!("/media/reports/{}", f.owner_report)), readers),
        // A de-identified hit's thumbnail: only for the viewer the link was signed for.
        row("GET /media/hits/{id}/thumb", |f, _| get(f.hit_thumb_for_owner.clone()), only_owner),
        // Server functions.
        row("fn me", |_, _| ("me".into(), Call::Form(vec![])), [A; 5]),
        session_row(
            "fn signup",
            |_, who| {
                let email = format!("new-{who:?}@example.org").to_lowercase();
                (
                    "signup".into(),
                    Call::Form(vec![("email", email), ("display_name", "New".into()), ("password", PASSWORD.into()), ("password_confirm", PASSWORD.into())]),
                )
            },
            [A; 5],
        ),
        session_row("fn login", |_, _| ("login".into(), Call::Form(vec![("email", "victim@example.org".into()), ("password", PASSWORD.into())])), [A; 5]),
        session_row("fn logout", |_, _| ("logout".into(), Call::Form(vec![])), [A; 5]),
        // The code step of a login: anyone may try; without a password step it is refused as invalid.
        session_row("fn login_code", |_, _| ("login_code".into(), Call::Form(vec![("code", "123456".into())])), [A; 5]),
        row("fn demo_mode", |_, _| ("demo_mode".into(), Call::Form(vec![])), [A; 5]),
        // One's own account: a wrong current password passes the check and is answered "invalid".
        row("fn account", |_, _| ("account".into(), Call::Form(vec![])), signed_in),
        row(
            "fn change_password",
            |_, _| {
                let new = "amber-quartz-meadow-41".to_string();
                ("change_password".into(), Call::Form(vec![("current", "not-the-password-1".into()), ("new", new.clone()), ("confirm", new)]))
            },
            signed_in,
        ),
        // Two-factor sign-in is for staff.
        row("fn two_factor_begin", |_, _| ("two_factor_begin".into(), Call::Form(vec![])), [D, D, D, A, A]),
        row("fn two_factor_confirm", |_, _| ("two_factor_confirm".into(), Call::Form(vec![("code", "000000".into())])), [D, D, D, A, A]),
        row("fn two_factor_disable", |_, _| ("two_factor_disable".into(), Call::Form(vec![("password", "not-the-password-1".into())])), signed_in),
        row("fn cases", |_, _| ("cases".into(), Call::Form(vec![("page", "1".into())])), signed_in),
        row("fn case", |f, _| ("case".into(), Call::Form(vec![("id", f.owner_case.to_string())])), readers),
        row("fn find_similar", |f, _| ("find_similar".into(), Call::Json(json!({ "case_id": f.owner_case, "params": { "k": 3 } }))), readers),
        row("fn case_suggestions", |f, _| ("case_suggestions".into(), Call::Form(vec![("case_id", f.owner_case.to_string())])), [D, D, D, A, A]),
        row(
            "fn explain_hit",
            |f, _| ("explain_hit".into(), Call::Form(vec![("query", f.owner_case.to_string()), ("hit", f.other_case.to_string())])),
            [D, D, D, A, A],
        ),
        row("fn case_report", |f, _| ("case_report".into(), Call::Form(vec![("case_id", f.owner_case.to_string())])), readers),
        row(
            "fn save_case_report",
            |f, _| {
                (
                    "save_case_report".into(),
                    Call::Form(vec![
                        ("case_id", f.owner_case.to_string()),
                        ("diagnoses", "Pneumonia".into()),
                        ("next_tests", String::new()),
                        ("specialist", String::new()),
                        ("summary", String::new()),
                    ]),
                )
            },
            doctors,
        ),
        row(
            "fn search_cases",
            |_, _| {
                (
                    "search_cases".into(),
                    Call::Json(json!({ "req": { "case_id": null, "text": "cough", "images_base64": [], "image_tokens": [], "labs": null } })),
                )
            },
            signed_in,
        ),
        // Judging a hit needs a readable query case and the doctor role.
        row(
            "fn judge_hit",
            |f, _| {
                (
                    "judge_hit".into(),
                    Call::Form(vec![("query_case", f.owner_case.to_string()), ("hit_case", f.other_case.to_string()), ("relevant", "true".into())]),
                )
            },
            doctors,
        ),
        row(
            "fn review_case",
            |f, _| {
                let form = [
                    ("case_id", f.owner_case.to_string()),
                    ("action", "correct".into()),
                    ("diagnosis", "Community-acquired pneumonia".into()),
                    ("certainty", "probable".into()),
                ];
                (
                    "review_case".into(),
                    Call::Form(form.into_iter().chain([("notes", String::new()), ("next_tests", String::new()), ("specialist", String::new())]).collect()),
                )
            },
            doctors,
        ),
        row("fn review_queue", |_, _| ("review_queue".into(), Call::Form(vec![("page", "1".into()), ("region", String::new())])), doctors),
        row(
            "fn correct_lab_value",
            |f, _| {
                (
                    "correct_lab_value".into(),
                    Call::Form(vec![("value_id", f.owner_lab_value.to_string()), ("value", "5.0".into()), ("note", "access test".into())]),
                )
            },
            doctors,
        ),
        // Another user's saved search is not found: the owner's own is tested in similar.rs.
        row("fn saved_search", |_, _| ("saved_search".into(), Call::Form(vec![("id", "00000000000000000000000000000000".into())])), [D; 5]),
        row("fn admin_users", |_, _| ("admin_users".into(), Call::Form(vec![])), admins),
        row(
            "fn admin_create_user",
            |_, who| {
                let email = format!("made-by-{who:?}@example.org").to_lowercase();
                (
                    "admin_create_user".into(),
                    Call::Form(vec![("email", email), ("display_name", "Dr Made".into()), ("role", "doctor".into()), ("password", PASSWORD.into())]),
                )
            },
            admins,
        ),
        row(
            "fn admin_set_disabled",
            |f, _| ("admin_set_disabled".into(), Call::Form(vec![("user_id", f.victim_user.to_string()), ("disabled", "false".into())])),
            admins,
        ),
        row("fn admin_reset_password", |f, _| ("admin_reset_password".into(), Call::Form(vec![("user_id", f.victim_user.to_string())])), admins),
        row("fn admin_index", |_, _| ("admin_index".into(), Call::Form(vec![])), admins),
        // A model that is not in the manifest: an admin passes the check and gets "invalid".
        row("fn admin_reindex", |_, _| ("admin_reindex".into(), Call::Form(vec![("text_model", "no-such-model".into())])), admins),
        row("fn admin_imports", |_, _| ("admin_imports".into(), Call::Form(vec![])), admins),
        row("fn admin_audit", |f, _| ("admin_audit".into(), Call::Form(vec![("object", format!("case {}", f.owner_case))])), admins),
        // Pages (server-rendered; refusals carry their status).
        row("page /", |_, _| get("/".into()), [A; 5]),
        row("page /login", |_, _| get("/login".into()), [A; 5]),
        row("page /signup", |_, _| get("/signup".into()), [A; 5]),
        row("page /login/code", |_, _| get("/login/code".into()), [A; 5]),
        row("page /account", |_, _| get("/account".into()), signed_in),
        row("page /cases", |_, _| get("/cases".into()), signed_in),
        row("page /cases/new", |_, _| get("/cases/new".into()), signed_in),
        row("page /cases/{id}", |f, _| get(format!("/cases/{}", f.owner_case)), readers),
        // Comparing the owner's case with another patient's: only staff may read both.
        row("page /cases/{id}/explain/{hit}", |f, _| get(format!("/cases/{}/explain/{}", f.owner_case, f.other_case)), [D, D, D, A, A]),
        row("page /compare", |f, _| get(format!("/compare?a={}&b={}", f.owner_case, f.other_case)), [D, D, D, A, A]),
        row("page /search", |_, _| get("/search".into()), signed_in),
        row("page /review", |_, _| get("/review".into()), doctors),
        row("page /admin/users", |_, _| get("/admin/users".into()), admins),
        row("page /admin/index", |_, _| get("/admin/index".into()), admins),
        row("page /admin/import", |_, _| get("/admin/import".into()), admins),
        row("page /admin/audit", |_, _| get("/admin/audit".into()), admins),
    ]
}

/// True when the caller got through; false when refused (401/403/404, a redirect to the login
/// page, or a server function's Unauthenticated/Forbidden/NotFound).
async fn allowed(res: Response) -> (bool, String) {
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let is_stream = res.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/event-stream"));
    let body = if is_stream { String::from("<stream>") } else { res.text().await.unwrap_or_default() };
    let refused_fn = ["\"Unauthenticated\"", "\"Forbidden\"", "\"NotFound\""].iter().any(|e| body.trim() == *e);
    let to_login = (300..400).contains(&status) && location.starts_with("/login");
    let refused = matches!(status, 401 | 403 | 404) || to_login || refused_fn;
    let ok = !refused && status < 500;
    (ok, format!("{status} {location} {}", body.chars().take(160).collect::<String>()))
}

async fn send(app: &TestApp, c: &Client, path: &str, call: Call) -> Response {
    let req = match call {
        Call::Get => c.get(app.url(path)),
        Call::Form(form) => c.post(app.url(&format!("/api/{path}"))).form(&form),
        Call::Json(body) if path.starts_with('/') => c.post(app.url(path)).json(&body),
        Call::Json(body) => c.post(app.url(&format!("/api/{path}"))).json(&body),
        Call::Multipart(form) => c.post(app.url(path)).multipart(form()),
        Call::UrlForm(form) => c.post(app.url(path)).form(&form),
    };
    req.header("Accept", "application/json").send().await.expect("request")
}

fn email_of(who: Who) -> Option<&'static str> {
    match who {
        Who::Anonymous => None,
        Who::OtherPatient => Some("other@example.org"),
        Who::Owner => Some("owner@example.org"),
        Who::Doctor => Some("dr@example.org"),
        Who::Admin => Some("admin@example.org"),
    }
}

async fn signed_in(app: &TestApp, who: Who) -> Client {
    let c = client();
    if let Some(email) = email_of(who) {
        assert!(app.login(&c, email, PASSWORD).await.status().is_success(), "{who:?} logs in");
    }
    c
}

#[tokio::test]
async fn every_caller_gets_exactly_what_the_table_says() {
    let app = spawn_app().await;
    let owner = app.patient("owner@example.org").await;
    let other = app.patient("other@example.org").await;
    let _victim = app.patient("victim@example.org").await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let admin = app.staff("admin@example.org", Role::Admin).await;
    let owner_case = case_id(app.create_case(&owner, case_form("Owner's cough")).await).await;
    let other_case = case_id(app.create_case(&other, case_form("Other's cough")).await).await;
    app.wait_for_search().await;
    let one = |sql: &'static str, id: i64| {
        let pool = app.pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).bind(id).fetch_one(&pool).await.expect(sql) }
    };
    let owner_image = one("SELECT id FROM case_images WHERE case_id = $1 ORDER BY id LIMIT 1", owner_case).await;
    let other_image = one("SELECT id FROM case_images WHERE case_id = $1 ORDER BY id LIMIT 1", other_case).await;
    let owner_report = one("SELECT id FROM lab_reports WHERE case_id = $1 ORDER BY id LIMIT 1", owner_case).await;
    let owner_lab_value = one("SELECT id FROM lab_values WHERE case_id = $1 ORDER BY id LIMIT 1", owner_case).await;
    let user = |email: &'static str| {
        let pool = app.pool.clone();
        async move { sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(&pool).await.expect(email) }
    };
    let (owner_id, admin_id, victim_user) = (user("owner@example.org").await, user("admin@example.org").await, user("victim@example.org").await);
    let import_id = precedent_store::imports::create(&app.pool, precedent_types::UserId(admin_id), "library.zip", false).await.unwrap();
    let up: serde_json::Value = owner
        .post(app.url("/api/v1/search/images"))
        .multipart(Form::new().part("image", file_part("q.png", png(), "image/png")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let owner_upload_token = up["images"][0]["token"].as_str().expect("token").to_string();
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 600;
    let hit_thumb_for_owner = precedent_service::thumbs::signed_thumb_url(&app.state.media_key, other_image, owner_id, expires);
    let f = Fixture { owner_case, other_case, owner_image, owner_report, owner_lab_value, owner_upload_token, import_id, victim_user, hit_thumb_for_owner };
    let clients = [client(), other, owner, doctor, admin];

    let mut wrong = Vec::new();
    for row in rows() {
        for (i, who) in EVERYONE.iter().enumerate() {
            let (path, call) = (row.call)(&f, *who);
            let fresh;
            let c = if row.fresh_session {
                fresh = signed_in(&app, *who).await;
                &fresh
            } else {
                &clients[i]
            };
            let (got, detail) = allowed(send(&app, c, &path, call).await).await;
            if got != row.outcomes[i] {
                wrong.push(format!("{:<42} as {:<12?} expected {} got {}: {detail}", row.endpoint, who, word(row.outcomes[i]), word(got)));
            }
        }
    }
    assert!(wrong.is_empty(), "{} outcome(s) differ from the table:\n{}", wrong.len(), wrong.join("\n"));

    // What the allowed answers contain: a patient's similar cases and search results never hold
    // another patient's case (no library is shared here, so only their own cases, the ones the
    // table's calls created included); staff get both patients' cases in full.
    let own = |who: Who| match who {
        Who::Owner => Some(owner_case),
        Who::OtherPatient => Some(other_case),
        _ => None,
    };
    for (i, who) in EVERYONE.iter().enumerate().skip(1) {
        let asks: Vec<(&str, String, Call)> = vec![
            ("GET similar", format!("/api/v1/cases/{}/similar?k=10", own(*who).unwrap_or(owner_case)), Call::Get),
            ("POST search", "/api/v1/search".into(), Call::Json(json!({ "text": "Cough and fever for three days", "k": 10 }))),
            ("fn find_similar", "find_similar".into(), Call::Json(json!({ "case_id": own(*who).unwrap_or(owner_case), "params": { "k": 10 } }))),
            (
                "fn search_cases",
                "search_cases".into(),
                Call::Json(json!({ "req": { "case_id": null, "text": "Cough and fever", "images_base64": [], "image_tokens": [], "labs": null, "k": 10 } })),
            ),
        ];
        for (what, path, call) in asks {
            let res = send(&app, &clients[i], &path, call).await;
            assert_eq!(res.status(), 200, "{what} as {who:?}");
            let v: serde_json::Value = res.json().await.unwrap();
            let hits = v["hits"].as_array().unwrap_or_else(|| panic!("{what} as {who:?}: {v}"));
            let ids: Vec<i64> = hits.iter().map(|h| h["case"].as_i64().unwrap()).collect();
            match own(*who) {
                Some(_) => {
                    let me = user(email_of(*who).unwrap()).await;
                    let owners: Vec<i64> = sqlx::query_scalar("SELECT owner_id FROM cases WHERE id = ANY($1)").bind(&ids).fetch_all(&app.pool).await.unwrap();
                    assert!(owners.iter().all(|o| *o == me), "{what} as {who:?} received another patient's case: {v}");
                    assert!(!ids.contains(&if *who == Who::Owner { other_case } else { owner_case }), "{v}");
                }
                None => {
                    let theirs = if path.contains("similar") || what == "fn find_similar" { other_case } else { owner_case };
                    let h = hits.iter().find(|h| h["case"] == theirs).unwrap_or_else(|| panic!("{what} as {who:?} misses {theirs}: {v}"));
                    assert!(h["deidentified"] == false && h["title"].is_string() && h["thumbnail"].is_number(), "{what} as {who:?}: {h}");
                }
            }
        }
    }
    // Refusals of case reads are audited as such.
    let denied: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE outcome = 'denied'").fetch_one(&app.pool).await.unwrap();
    assert!(denied > 0);
}

fn word(allowed: bool) -> &'static str {
    if allowed {
        "allowed"
    } else {
        "denied"
    }
}

/// Every route in the router, every registered server function and every page has a row.
#[tokio::test]
async fn every_endpoint_has_a_row() {
    let table: Vec<&str> = rows().iter().map(|r| r.endpoint).collect();
    let mut missing = Vec::new();
    // HTTP routes, as written in the router.
    let web = include_str!("../src/web.rs");
    for chunk in web.split(".route(").skip(1) {
        let path = chunk.trim_start().trim_start_matches('"').split('"').next().unwrap_or_default();
        // The call's arguments: up to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let end = chunk
            .char_indices()
            .find(|(_, ch)| {
                match ch {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(chunk.len(), |(i, _)| i);
        let handlers = &chunk[..end];
        for (method, marker) in [("GET", "get("), ("POST", "post(")] {
            if handlers.contains(marker) {
                let key = format!("{method} {path}");
                if !table.contains(&key.as_str()) {
                    missing.push(key);
                }
            }
        }
    }
    // Server functions, as registered.
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        let key = format!("fn {}", path.trim_start_matches("/api/"));
        if !table.contains(&key.as_str()) {
            missing.push(key);
        }
    }
    // Pages, as routed.
    for listing in leptos_axum::generate_route_list(app::App) {
        let key = format!("page {}", listing.path());
        if !table.contains(&key.as_str()) {
            missing.push(key);
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "endpoints without a row in the access table: {missing:?}");
}
