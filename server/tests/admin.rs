//! The accounts page's server functions: admins create and disable accounts; nobody else may.
mod common;

use common::{client, spawn_app_without_worker, PASSWORD};
use precedent_types::Role;
use serde_json::Value;

#[tokio::test]
async fn admins_create_and_disable_accounts_and_a_disabled_account_loses_its_session() {
    let app = spawn_app_without_worker().await;
    let admin = app.staff("admin@example.org", Role::Admin).await;
    let r = app
        .server_fn(&admin, "admin_create_user", &[("email", "New.Doctor@example.org"), ("display_name", "Dr New"), ("role", "doctor"), ("password", PASSWORD)])
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    // The new doctor logs in and works.
    let doctor = client();
    assert!(app.login(&doctor, "new.doctor@example.org", PASSWORD).await.status().is_success());
    assert_eq!(doctor.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 200);
    let users: Value = app.server_fn(&admin, "admin_users", &[]).await.json().await.unwrap();
    let row = users.as_array().unwrap().iter().find(|u| u["email"] == "new.doctor@example.org").unwrap().clone();
    assert_eq!((row["role"].as_str(), row["disabled"].as_bool()), (Some("doctor"), Some(false)));
    let me = users.as_array().unwrap().iter().find(|u| u["email"] == "admin@example.org").unwrap();
    assert_eq!(me["is_me"], true);
    // Disabling ends the doctor's session at the next request; enabling lets them log in again.
    let id = row["id"].as_i64().unwrap().to_string();
    let r = app.server_fn(&admin, "admin_set_disabled", &[("user_id", id.as_str()), ("disabled", "true")]).await;
    assert!(r.status().is_success());
    assert_eq!(doctor.get(app.url("/api/v1/cases")).send().await.unwrap().status(), 401);
    assert!(!app.login(&client(), "new.doctor@example.org", PASSWORD).await.status().is_success());
    let r = app.server_fn(&admin, "admin_set_disabled", &[("user_id", id.as_str()), ("disabled", "false")]).await;
    assert!(r.status().is_success());
    assert!(app.login(&client(), "new.doctor@example.org", PASSWORD).await.status().is_success());
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action IN ('admin.user.create', 'admin.user.disable', 'admin.user.enable')")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn bad_requests_are_refused_and_only_admins_manage_accounts() {
    let app = spawn_app_without_worker().await;
    let admin = app.staff("admin@example.org", Role::Admin).await;
    for (fields, needle) in [
        ([("email", "x@example.org"), ("display_name", ""), ("role", "wizard"), ("password", PASSWORD)], "role"),
        ([("email", "not-an-email"), ("display_name", ""), ("role", "doctor"), ("password", PASSWORD)], "valid email"),
        ([("email", "x@example.org"), ("display_name", ""), ("role", "doctor"), ("password", "password123")], "too common"),
        ([("email", "ADMIN@example.org"), ("display_name", ""), ("role", "doctor"), ("password", PASSWORD)], "already exists"),
    ] {
        let r = app.server_fn(&admin, "admin_create_user", &fields).await;
        assert!(!r.status().is_success());
        assert!(r.text().await.unwrap().contains(needle), "{fields:?}");
    }
    let me: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'admin@example.org'").fetch_one(&app.pool).await.unwrap();
    let r = app.server_fn(&admin, "admin_set_disabled", &[("user_id", &me.to_string()), ("disabled", "true")]).await;
    assert!(r.text().await.unwrap().contains("your own account"));
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let patient = app.patient("pat@example.org").await;
    for c in [&doctor, &patient] {
        assert!(app.server_fn(c, "admin_users", &[]).await.text().await.unwrap().contains("Forbidden"));
        let r = app.server_fn(c, "admin_create_user", &[("email", "y@example.org"), ("display_name", ""), ("role", "admin"), ("password", PASSWORD)]).await;
        assert!(r.text().await.unwrap().contains("Forbidden"));
        let r = app.server_fn(c, "admin_set_disabled", &[("user_id", &me.to_string()), ("disabled", "true")]).await;
        assert!(r.text().await.unwrap().contains("Forbidden"));
    }
    let page = doctor.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("Admins only"));
    assert_eq!(client().get(app.url("/admin/users")).send().await.unwrap().status(), 303);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.pool).await.unwrap();
    assert_eq!(n, 3, "no account was created");
}

#[tokio::test]
async fn admins_rebuild_the_index_and_follow_its_progress_as_a_stream() {
    let app = common::spawn_app().await;
    let patient = app.patient("pat@example.org").await;
    for i in 0..3 {
        common::case_id(app.create_case(&patient, common::case_form(&format!("Case {i}"))).await).await;
    }
    app.wait_for_search().await;
    let admin = app.staff("admin@example.org", Role::Admin).await;
    let status: Value = app.server_fn(&admin, "admin_index", &[]).await.json().await.unwrap();
    assert_eq!(status["cases"], 3);
    assert_eq!(status["channels"][0]["channel"], "text");
    assert_eq!(status["channels"][0]["vectors"], 3);
    assert!(status["channels"][1]["model"].as_str().unwrap().starts_with("medpix-cnn@"));
    // The progress stream: server-sent events carrying JSON.
    let mut res = admin.get(app.url("/api/v1/admin/index/progress")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let chunk = String::from_utf8(res.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    let data = chunk.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    let p: Value = serde_json::from_str(data).unwrap();
    assert_eq!(p["running"], false);
    drop(res);
    // Rebuild: it runs in the background and reports how it ended.
    assert!(app.server_fn(&admin, "admin_reindex", &[]).await.status().is_success());
    let mut finished = None;
    for _ in 0..100 {
        let s: Value = app.server_fn(&admin, "admin_index", &[]).await.json().await.unwrap();
        if let Some(f) = s["progress"]["finished"].as_str() {
            finished = Some(f.to_string());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(finished.unwrap_or_default().starts_with("built 3 cases"));
    let audited: Vec<String> = sqlx::query_scalar("SELECT outcome FROM audit_log WHERE action = 'admin.reindex' ORDER BY id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(audited, ["started", "ok"]);
    // Nobody else.
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    assert_eq!(doctor.get(app.url("/api/v1/admin/index/progress")).send().await.unwrap().status(), 403);
    assert!(app.server_fn(&doctor, "admin_reindex", &[]).await.text().await.unwrap().contains("Forbidden"));
    assert!(app.server_fn(&doctor, "admin_index", &[]).await.text().await.unwrap().contains("Forbidden"));
}
