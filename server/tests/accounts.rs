//! Sign-up, login, logout, sessions and roles, through HTTP against a real server and database.

mod common;

use common::{client, spawn_app, spawn_app_with, PASSWORD};
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
