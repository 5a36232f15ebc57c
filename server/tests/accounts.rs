//! Sign-up, login, logout, sessions and roles, through HTTP against a real server and database.

mod common;

use common::{client, encoders, fresh_database, spawn_app, spawn_app_with, test_config, PASSWORD};
use precedent_types::Role;

#[tokio::test]
async fn signup_login_logout_round_trip() {
    let app = spawn_app().await;
    let c = client();

    // Anonymous: pages redirect to the login page, the API answers 401.
    let res = c.get(app.url("/cases")).send().await.unwrap();
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/login");
    assert_eq!(c.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 401);

    let res = app.signup(&c, "alice@example.org").await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let me: serde_json::Value = c.post(app.url("/api/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], "alice@example.org");
    assert_eq!(me["role"], "patient");
    assert!(me.get("password_hash").is_none());

    let page = c.get(app.url("/cases")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("No cases yet"));

    // The stored hash is argon2id.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'alice@example.org'").fetch_one(&app.pool).await.unwrap();
    assert!(hash.starts_with("$argon2id$"));

    // Keep the session cookie to replay it after logout.
    let cookie = {
        let res = client();
        let r = app.login(&res, "alice@example.org", PASSWORD).await;
        assert!(r.status().is_success());
        r.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string()
    };
    let stolen = reqwest::Client::new();
    let replay = |cookie: String| {
        let stolen = stolen.clone();
        let url = app.url("/api/v1/cases");
        async move { stolen.get(url).header("cookie", cookie).send().await.unwrap().status() }
    };
    assert_eq!(replay(cookie.clone()).await, 200);

    // Logging out ends the session on the server: the old cookie is worthless.
    let logout_client = client();
    let r = logout_client.post(app.url("/api/logout")).header("cookie", cookie.clone()).send().await.unwrap();
    assert!(r.status().is_success());
    assert_eq!(replay(cookie).await, 401);

    // Login and logout are audited.
    assert!(precedent_store::audit::count(&app.pool, "auth.login", None).await.unwrap() >= 1);
    assert!(precedent_store::audit::count(&app.pool, "auth.logout", None).await.unwrap() >= 1);
}

#[tokio::test]
async fn session_id_changes_at_login() {
    let app = spawn_app().await;
    let c = client();
    app.signup(&c, "bob@example.org").await;
    let first = app.login(&client(), "bob@example.org", PASSWORD).await;
    let second = app.login(&client(), "bob@example.org", PASSWORD).await;
    let sid = |r: &reqwest::Response| r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    let (a, b) = (sid(&first), sid(&second));
    assert_ne!(a, b);
    assert!(a.contains("HttpOnly"), "{a}");
    assert!(a.contains("SameSite=Lax"), "{a}");
}

#[tokio::test]
async fn clear_errors_for_bad_signups_and_logins() {
    let app = spawn_app().await;
    let c = client();
    let weak = app
        .server_fn(&c, "signup", &[("email", "x@example.org"), ("display_name", ""), ("password", "password123"), ("password_confirm", "password123")])
        .await;
    assert!(!weak.status().is_success());
    assert!(weak.text().await.unwrap().contains("too common"));
    let short = app.server_fn(&c, "signup", &[("email", "x@example.org"), ("display_name", ""), ("password", "abc"), ("password_confirm", "abc")]).await;
    assert!(short.text().await.unwrap().contains("too short"));
    let bad_email =
        app.server_fn(&c, "signup", &[("email", "not-an-email"), ("display_name", ""), ("password", PASSWORD), ("password_confirm", PASSWORD)]).await;
    assert!(bad_email.text().await.unwrap().contains("valid email"));

    assert!(app.signup(&c, "dup@example.org").await.status().is_success());
    let dup = app.signup(&client(), "DUP@example.org").await;
    assert!(!dup.status().is_success());
    assert!(dup.text().await.unwrap().contains("already exists"));

    let wrong = app.login(&client(), "dup@example.org", "wrong-password-123").await;
    assert!(!wrong.status().is_success());
    assert!(wrong.text().await.unwrap().contains("Wrong email or password"));
    let unknown = app.login(&client(), "nobody@example.org", PASSWORD).await;
    assert!(unknown.text().await.unwrap().contains("Wrong email or password"));
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(users, 1, "failed sign-ups create nothing");
}

#[tokio::test]
async fn login_attempts_are_rate_limited() {
    let app = spawn_app().await;
    app.signup(&client(), "carol@example.org").await;
    for _ in 0..5 {
        let r = app.login(&client(), "carol@example.org", "not-the-password").await;
        assert!(r.text().await.unwrap().contains("Wrong email or password"));
    }
    // Even the right password is refused while the account is locked out.
    let r = app.login(&client(), "carol@example.org", PASSWORD).await;
    assert!(!r.status().is_success());
    // Server functions send the typed error; the page shows its message.
    let err: app::error::AppError = r.json().await.unwrap();
    assert!(matches!(err, app::error::AppError::RateLimited(s) if s > 0 && s <= 900));
    assert!(err.to_string().starts_with("Too many attempts"));
    assert!(precedent_store::audit::count(&app.pool, "auth.login", None).await.unwrap() >= 6);
}

#[tokio::test]
async fn disabled_accounts_lose_their_sessions() {
    let app = spawn_app().await;
    let c = app.patient("dan@example.org").await;
    assert_eq!(c.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 200);
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'dan@example.org'").fetch_one(&app.pool).await.unwrap();
    precedent_store::users::set_disabled(&app.pool, precedent_types::UserId(id), true).await.unwrap();
    assert_eq!(c.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 401);
    let r = app.login(&client(), "dan@example.org", PASSWORD).await;
    assert!(!r.status().is_success());
}

#[tokio::test]
async fn cli_creates_staff_accounts() {
    let app = spawn_app().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_precedent"))
        .args(["user", "add", "--email", "Doc@Example.org", "--role", "doctor", "--name", "Dr Who"])
        .env("DATABASE_URL", &app.db_url)
        .env("PRECEDENT_PASSWORD", PASSWORD)
        .env("PRECEDENT_DATA_DIR", &app.data_dir)
        .output()
        .expect("run precedent");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c = client();
    assert!(app.login(&c, "doc@example.org", PASSWORD).await.status().is_success());
    let me: serde_json::Value = c.post(app.url("/api/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "doctor");

    // A weak password is refused with a clear message.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_precedent"))
        .args(["user", "add", "--email", "admin@example.org", "--role", "admin"])
        .env("DATABASE_URL", &app.db_url)
        .env("PRECEDENT_PASSWORD", "short")
        .env("PRECEDENT_DATA_DIR", &app.data_dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too short"));
    let _ = Role::Admin;
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = spawn_app().await;
    let r = client().post(app.url("/api/login")).header("Origin", "https://evil.example").form(&[("email", "a@b.co"), ("password", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
}

/// A burst of parallel wrong passwords cannot get past the per-account budget (5 per 15
/// minutes): each attempt is counted before its password is verified.
#[tokio::test]
async fn parallel_wrong_passwords_cannot_bypass_the_account_limit() {
    let app = spawn_app().await;
    app.signup(&client(), "erin@example.org").await;
    let attempts = (0..20).map(|_| async {
        let r = app.login(&client(), "erin@example.org", "not-the-password").await;
        r.status().as_u16()
    });
    let statuses = futures::future::join_all(attempts).await;
    let verified = statuses.iter().filter(|s| **s == 422).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(verified + limited, 20, "{statuses:?}");
    assert_eq!(verified, 5, "only the account's budget is verified: {statuses:?}");
}

/// Over-long credentials are refused before any lookup or hashing.
#[tokio::test]
async fn overlong_credentials_are_refused_before_any_work() {
    let app = spawn_app().await;
    let long_email = format!("{}@example.org", "a".repeat(300));
    let huge_password = "p".repeat(100_000);
    for (email, password) in [(long_email.as_str(), PASSWORD), ("someone@example.org", huge_password.as_str())] {
        let r = app.login(&client(), email, password).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("too long"));
    }
    assert_eq!(precedent_store::audit::count(&app.pool, "auth.login", None).await.unwrap(), 0, "nothing was attempted");
}

/// Password hashing runs behind a bounded gate: when no permit frees up in time, logins and
/// sign-ups are answered 429 "busy" instead of queueing without bound (and are not counted
/// as attempts at the password).
#[tokio::test]
async fn logins_wait_for_the_password_gate_and_are_answered_busy_when_it_is_full() {
    let app = spawn_app_with(|st| {
        st.password_gate = std::sync::Arc::new(precedent_service::HashGate::new(0, std::time::Duration::from_millis(50)));
    })
    .await;
    let r = app.signup(&client(), "frank@example.org").await;
    assert_eq!(r.status(), 429);
    let err: app::error::AppError = r.json().await.unwrap();
    assert_eq!(err, app::error::AppError::Busy);
    for _ in 0..8 {
        let r = app.login(&client(), "frank@example.org", PASSWORD).await;
        assert_eq!(r.status(), 429);
    }
    // Busy answers are not attempts: the account's budget is untouched.
    assert!(app.state.account_limiter.check("frank@example.org").is_ok());
}

/// System addresses are reserved: nobody can sign up as the library owner or a demo account,
/// nor can an admin create one; and an account that took the library address before it was
/// reserved never becomes the owner of imported cases (the owner is found by its kind).
#[tokio::test]
async fn system_accounts_are_reserved_and_found_by_kind() {
    let app = spawn_app().await;
    for email in ["library@precedent.internal", "doctor@demo.precedent", "someone@ops.internal"] {
        let r = app.signup(&client(), email).await;
        assert_eq!(r.status(), 422, "{email}");
        assert!(r.text().await.unwrap().contains("reserved"), "{email}");
    }
    let admin = app.staff("admin@example.org", Role::Admin).await;
    let form = [("email", "library@precedent.internal"), ("display_name", "X"), ("role", "doctor"), ("password", PASSWORD)];
    let r = app.server_fn(&admin, "admin_create_user", &form).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("reserved"));
    // Someone holding the library address from before it was reserved…
    let hash = precedent_accounts::hash_password(PASSWORD).unwrap();
    let squatter = precedent_store::users::create(&app.pool, "library@precedent.internal", "Squatter", &hash, Role::Patient).await.unwrap();
    // …does not become the owner of imported cases.
    let owner = precedent::import::library_owner(&app.state).await.unwrap();
    assert_ne!(owner.id, squatter.id);
    assert_eq!(precedent::import::library_owner(&app.state).await.unwrap().id, owner.id, "found again by its kind");
    let kind: String = sqlx::query_scalar("SELECT kind FROM users WHERE id = $1").bind(owner.id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(kind, "library");
    let disabled: bool = sqlx::query_scalar("SELECT disabled FROM users WHERE id = $1").bind(owner.id).fetch_one(&app.pool).await.unwrap();
    assert!(disabled, "nobody logs in as the library");
}

/// Demo accounts only on a local http server: refused on a non-loopback address or an https
/// public URL, switched off when such a server finds them, announced on every page meanwhile,
/// and their password is the configured one (else random), handed out once.
#[tokio::test]
async fn demo_accounts_only_in_local_http_mode_with_a_banner() {
    let (db_url, data_dir) = fresh_database(None).await;
    let mut cfg = test_config(&db_url, &data_dir);
    cfg.demo_password = Some(PASSWORD.to_string());
    let mut app = precedent::Application::builder(&cfg).encoders(encoders().await).worker(false).demo(Some(4)).build().await.expect("demo server");
    assert_eq!(app.take_new_demo_password().as_deref(), Some(PASSWORD), "printed once");
    assert_eq!(app.take_new_demo_password(), None);
    let base = format!("http://{}", app.address().expect("address"));
    let _search = app.take_search();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let c = client();
    let banner: serde_json::Value = c.post(format!("{base}/api/demo_mode")).send().await.unwrap().json().await.unwrap();
    assert_eq!(banner, serde_json::json!(true));
    let page = c.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"demo-banner\""), "the login page warns that demo accounts exist");
    let ok = c.post(format!("{base}/api/login")).form(&[("email", "doctor@demo.precedent"), ("password", PASSWORD)]).send().await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());

    // A real deployment refuses to create them…
    for (addr, public) in [("0.0.0.0:0", None), ("127.0.0.1:0", Some("https://precedent.example.org"))] {
        let mut real = test_config(&db_url, &data_dir.join("real"));
        real.addr = addr.parse().unwrap();
        real.public_url = public.map(String::from);
        let refused = precedent::Application::builder(&real).encoders(encoders().await).worker(false).demo(Some(4)).build().await;
        let err = refused.err().expect("demo refused").to_string();
        assert!(err.contains("demo accounts are refused"), "{err}");
    }
    // …and switches off those it finds: they can no longer log in, and the banner goes.
    let mut real = test_config(&db_url, &data_dir.join("real"));
    real.addr = "0.0.0.0:0".parse().unwrap();
    let _real = precedent::Application::builder(&real).encoders(encoders().await).worker(false).build().await.expect("real server");
    let enabled: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE kind = 'demo' AND NOT disabled")
        .fetch_one(&precedent_store::connect(&db_url, 1).await.unwrap())
        .await
        .unwrap();
    assert_eq!(enabled, 0);
    let banner: serde_json::Value = client().post(format!("{base}/api/demo_mode")).send().await.unwrap().json().await.unwrap();
    assert_eq!(banner, serde_json::json!(false));
    let refused = client().post(format!("{base}/api/login")).form(&[("email", "doctor@demo.precedent"), ("password", PASSWORD)]).send().await.unwrap();
    assert!(!refused.status().is_success());
}

/// Where a server function's answer sends the browser next.
fn next_page(res: &reqwest::Response) -> String {
    res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Changing one's password ends the account's other sessions at once (the session epoch moves
/// on); this session goes on. The old password stops working, and the new one must be strong
/// by zxcvbn (a keyboard walk that a word list would miss is refused).
#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    let app = spawn_app().await;
    let here = app.patient("erin@example.org").await;
    let elsewhere = client();
    assert!(app.login(&elsewhere, "erin@example.org", PASSWORD).await.status().is_success());
    assert_eq!(elsewhere.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 200);

    let new = "amber-quartz-meadow-41";
    let weak = app.server_fn(&here, "change_password", &[("current", PASSWORD), ("new", "qwertyuiop123"), ("confirm", "qwertyuiop123")]).await;
    assert_eq!(weak.status(), 422);
    assert!(weak.text().await.unwrap().contains("too common"));
    let wrong = app.server_fn(&here, "change_password", &[("current", "not-my-password-9"), ("new", new), ("confirm", new)]).await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(elsewhere.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 200, "a refused change ends nothing");

    let ok = app.server_fn(&here, "change_password", &[("current", PASSWORD), ("new", new), ("confirm", new)]).await;
    assert!(ok.status().is_success(), "{}", ok.text().await.unwrap_or_default());
    assert_eq!(here.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 200, "this session goes on");
    assert_eq!(elsewhere.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 401, "the other session ended");
    assert!(!app.login(&client(), "erin@example.org", PASSWORD).await.status().is_success());
    assert!(app.login(&client(), "erin@example.org", new).await.status().is_success());
    assert_eq!(precedent_store::audit::count(&app.pool, "auth.password_change", None).await.unwrap(), 2);
}

/// An admin's reset: a temporary password shown once, the person's sessions end, and after
/// logging in with it they can do nothing but choose a new one.
#[tokio::test]
async fn an_admin_reset_forces_a_new_password_at_next_login() {
    let app = spawn_app().await;
    let admin = app.staff("root@example.org", Role::Admin).await;
    let patient = app.patient("fay@example.org").await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'fay@example.org'").fetch_one(&app.pool).await.unwrap();

    // Only admins reset, and never their own password here.
    let doctor = app.staff("doc-reset@example.org", Role::Doctor).await;
    assert_eq!(app.server_fn(&doctor, "admin_reset_password", &[("user_id", &id.to_string())]).await.status(), 403);
    let admin_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'root@example.org'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(app.server_fn(&admin, "admin_reset_password", &[("user_id", &admin_id.to_string())]).await.status(), 422);

    let res = app.server_fn(&admin, "admin_reset_password", &[("user_id", &id.to_string())]).await;
    assert!(res.status().is_success());
    let temporary: String = res.json().await.unwrap();
    assert!(temporary.len() >= 20, "{temporary}");
    assert_eq!(patient.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 401, "their session ended");

    let c = client();
    let login = app.login(&c, "fay@example.org", &temporary).await;
    assert!(login.status().is_success());
    assert_eq!(next_page(&login), "/account");
    let refused = c.get(app.url("/api/v1/cases")).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("Choose a new password"));
    let page = c.get(app.url("/cases")).send().await.unwrap();
    assert_eq!(page.headers()["location"], "/account");
    let account: serde_json::Value = app.server_fn(&c, "account", &[]).await.json().await.unwrap();
    assert_eq!(account["must_change_password"], true);

    let new = "harbour-violet-sparrow-7";
    assert!(app.server_fn(&c, "change_password", &[("current", &temporary), ("new", new), ("confirm", new)]).await.status().is_success());
    assert_eq!(c.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 200);
    let users: serde_json::Value = app.server_fn(&admin, "admin_users", &[]).await.json().await.unwrap();
    let fay = users.as_array().unwrap().iter().find(|u| u["email"] == "fay@example.org").unwrap().clone();
    assert_eq!(fay["must_change_password"], false);
    assert_eq!(precedent_store::audit::count(&app.pool, "admin.user.reset_password", None).await.unwrap(), 2, "the doctor's refusal and the reset");
}

/// Two-factor sign-in for staff: enrol with the QR code's secret, confirm with a code, get ten
/// recovery codes; then a login needs the password and a code (each good once) or a recovery
/// code (each good once); the password alone signs nobody in. Patients are not offered it.
#[tokio::test]
async fn staff_two_factor_sign_in_with_codes_and_recovery_codes() {
    use precedent_accounts::totp;
    let app = spawn_app().await;
    let doctor = app.staff("two@example.org", Role::Doctor).await;
    let patient = app.patient("no-two@example.org").await;
    assert_eq!(app.server_fn(&patient, "two_factor_begin", &[]).await.status(), 403);

    let setup: serde_json::Value = app.server_fn(&doctor, "two_factor_begin", &[]).await.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_string();
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));
    let now = || time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    assert_eq!(app.server_fn(&doctor, "two_factor_confirm", &[("code", "000000")]).await.status(), 422);
    let code = totp::code_at(&secret, now()).unwrap();
    let res = app.server_fn(&doctor, "two_factor_confirm", &[("code", &code)]).await;
    assert!(res.status().is_success());
    let recovery: Vec<String> = res.json().await.unwrap();
    assert_eq!(recovery.len(), 10);
    let account: serde_json::Value = app.server_fn(&doctor, "account", &[]).await.json().await.unwrap();
    assert_eq!((account["two_factor"].clone(), account["recovery_codes_left"].clone()), (serde_json::json!(true), serde_json::json!(10)));

    // The password alone: no session yet, only the code page.
    let c = client();
    let step = app.login(&c, "two@example.org", PASSWORD).await;
    assert!(step.status().is_success());
    assert_eq!(next_page(&step), "/login/code");
    assert_eq!(c.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 401);
    assert_eq!(app.server_fn(&c, "login_code", &[("code", "123456")]).await.status(), 422);
    // The code that confirmed enrolment was used: it cannot sign in (replay).
    assert_eq!(app.server_fn(&c, "login_code", &[("code", &code)]).await.status(), 422);
    // The next step's code works once.
    let next = totp::code_at(&secret, now() + 30).unwrap();
    let ok = app.server_fn(&c, "login_code", &[("code", &next)]).await;
    assert!(ok.status().is_success());
    assert_eq!(next_page(&ok), "/cases");
    assert_eq!(c.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 200);
    let again = client();
    app.login(&again, "two@example.org", PASSWORD).await;
    assert_eq!(app.server_fn(&again, "login_code", &[("code", &next)]).await.status(), 422, "a code is good once");
    // A recovery code, once.
    assert!(app.server_fn(&again, "login_code", &[("code", &recovery[3].to_uppercase())]).await.status().is_success());
    assert_eq!(again.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 200);
    let third = client();
    app.login(&third, "two@example.org", PASSWORD).await;
    assert_eq!(app.server_fn(&third, "login_code", &[("code", &recovery[3])]).await.status(), 422);
    // A code without the password step signs nobody in.
    assert_eq!(app.server_fn(&client(), "login_code", &[("code", &recovery[4])]).await.status(), 422);

    // Off again, after the password.
    assert_eq!(app.server_fn(&c, "two_factor_disable", &[("password", "not-it-at-all-5")]).await.status(), 422);
    assert!(app.server_fn(&c, "two_factor_disable", &[("password", PASSWORD)]).await.status().is_success());
    let plain = client();
    let res = app.login(&plain, "two@example.org", PASSWORD).await;
    assert_eq!(next_page(&res), "/cases");
    assert_eq!(plain.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 200);
}

async fn login_via_proxy(app: &common::TestApp, forwarded: &str, password: &str) -> reqwest::Response {
    client()
        .post(app.url("/api/login"))
        .header("x-forwarded-for", forwarded)
        .form(&[("email", "owner-rl@example.org"), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn failed_logins_from(app: &common::TestApp, ip: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND outcome = 'failed' AND ip = $1")
        .bind(ip)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Behind a trusted proxy the client is the right-most forwarded address that is not a proxy
/// (audited and limited as such; what a client writes further left is never believed), and from
/// anyone else `X-Forwarded-For` is ignored. Wrong passwords from one address never lock the
/// owner out at another: across addresses they only earn a short, growing delay. Sign-ups have a
/// budget of their own.
#[tokio::test]
async fn rate_limits_follow_the_real_client_and_never_lock_the_owner_out() {
    let app = spawn_app_with(|st| {
        st.trusted_proxies = vec!["127.0.0.1".parse().unwrap()].into();
        st.signup_limiter = std::sync::Arc::new(precedent_accounts::RateLimiter::new(2, std::time::Duration::from_secs(3600)));
    })
    .await;
    assert!(app.signup(&client(), "owner-rl@example.org").await.status().is_success());
    for _ in 0..5 {
        let r = login_via_proxy(&app, "10.9.9.9, 203.0.113.9", "not-the-password").await;
        assert!(r.text().await.unwrap().contains("Wrong email or password"));
    }
    // That address is now refused even the right password…
    assert_eq!(login_via_proxy(&app, "10.9.9.9, 203.0.113.9", PASSWORD).await.status(), 429);
    assert_eq!(failed_logins_from(&app, "203.0.113.9").await, 6);
    assert_eq!(failed_logins_from(&app, "10.9.9.9").await, 0, "the client-written part is not believed");
    // …while the owner elsewhere waits at most the delay (a second after five failures).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let owner = login_via_proxy(&app, "198.51.100.7", PASSWORD).await;
    assert!(owner.status().is_success(), "{}", owner.text().await.unwrap_or_default());

    // Sign-ups have their own budget: spent, they do not stop logins from the same address.
    assert!(app.signup(&client(), "second-rl@example.org").await.status().is_success());
    assert_eq!(app.signup(&client(), "third-rl@example.org").await.status(), 429);
    assert!(app.login(&client(), "owner-rl@example.org", PASSWORD).await.status().is_success());

    // Without a trusted proxy the header is ignored: the peer is the client.
    let plain = spawn_app().await;
    plain.signup(&client(), "owner-rl@example.org").await;
    login_via_proxy(&plain, "203.0.113.50", "not-the-password").await;
    assert_eq!(failed_logins_from(&plain, "203.0.113.50").await, 0);
    assert_eq!(failed_logins_from(&plain, "127.0.0.1").await, 1);
}
