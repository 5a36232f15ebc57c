//! Sign-up, login, logout, sessions and roles, through HTTP against a real server and database.

use crate::common::{client, spawn_app, PASSWORD};
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
