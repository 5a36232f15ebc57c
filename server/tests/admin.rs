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

/// A server with three indexed cases, its admin, and the index status the admin sees.
async fn three_indexed_cases() -> (common::TestApp, reqwest::Client, Value) {
    let app = common::spawn_app().await;
    let patient = app.patient("pat@example.org").await;
    for i in 0..3 {
        common::case_id(app.create_case(&patient, common::case_form(&format!("Case {i}"))).await).await;
    }
    app.wait_for_search().await;
    let admin = app.staff("admin@example.org", Role::Admin).await;
    let status: Value = app.server_fn(&admin, "admin_index", &[]).await.json().await.unwrap();
    (app, admin, status)
}

#[tokio::test]
async fn admins_rebuild_the_index_and_follow_its_progress_as_a_stream() {
    let (app, admin, status) = three_indexed_cases().await;
    assert_eq!(status["cases"], 3);
    assert_eq!(status["channels"][0]["channel"], "text");
    assert_eq!(status["channels"][0]["vectors"], 3);
    assert!(status["channels"][1]["model"].as_str().unwrap().starts_with("medpix-effnet@"));
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
    let audited: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM audit_log WHERE action = 'admin.reindex' ORDER BY id").fetch_all(&app.pool).await.unwrap();
    assert_eq!(audited, ["started", "ok"]);
    // Nobody else.
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    assert_eq!(doctor.get(app.url("/api/v1/admin/index/progress")).send().await.unwrap().status(), 403);
    assert!(app.server_fn(&doctor, "admin_reindex", &[]).await.text().await.unwrap().contains("Forbidden"));
    assert!(app.server_fn(&doctor, "admin_index", &[]).await.text().await.unwrap().contains("Forbidden"));
}

#[tokio::test]
async fn admins_rebuild_with_another_model_from_the_manifest() {
    let (app, admin, status) = three_indexed_cases().await;
    let models = status["models"].as_array().unwrap();
    assert!(models.iter().any(|m| m["name"] == "minilm-l6-v2-region" && m["in_use"] == true), "{status}");
    assert!(models.iter().any(|m| m["name"] == "minilm-l6-v2-copy" && m["in_use"] == false && m["channel"] == "text"));
    assert!(status["built_at"].is_string() && status["process_rss_mb"].as_f64().unwrap() > 0.0, "{status}");
    assert!(status["channels"][0]["memory_mb"].as_f64().unwrap() > 0.0);
    // A name that is no text encoder is refused with a reason.
    let res = app.server_fn(&admin, "admin_reindex", &[("text_model", "medpix-cnn")]).await;
    assert!(res.text().await.unwrap().contains("not a text encoder"));
    // Another text model: vectors are computed, the index rebuilt and swapped, encoders follow.
    assert!(app.server_fn(&admin, "admin_reindex", &[("text_model", "minilm-l6-v2-copy"), ("image_model", "")]).await.status().is_success());
    let mut phases = std::collections::BTreeSet::new();
    let mut done = None;
    for _ in 0..300 {
        let s: Value = app.server_fn(&admin, "admin_index", &[]).await.json().await.unwrap();
        phases.insert(s["progress"]["phase"].as_str().unwrap_or("").to_string());
        if s["channels"][0]["model"] == "minilm-l6-v2-copy@2" && s["progress"]["running"] == false {
            done = Some(s);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let s = done.expect("the rebuild with the new model finished");
    assert_eq!(s["channels"][0]["vectors"], 3);
    assert!(s["progress"]["finished"].as_str().unwrap().starts_with("built 3 cases"), "{s}");
    assert!(s["models"].as_array().unwrap().iter().any(|m| m["name"] == "minilm-l6-v2-copy" && m["in_use"] == true));
    assert_eq!(app.state.search().unwrap().encoders.get().model_ids().0, "minilm-l6-v2-copy@2");
    let vectors: i64 = sqlx::query_scalar("SELECT count(*) FROM text_vectors WHERE model = 'minilm-l6-v2-copy@2'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(vectors, 6, "presenting and full text of each case");
    for _ in 0..50 {
        let audited: Vec<String> =
            sqlx::query_scalar("SELECT outcome FROM audit_log WHERE action = 'admin.reindex' ORDER BY id").fetch_all(&app.pool).await.unwrap();
        if audited.len() == 4 {
            assert_eq!(audited, ["started", "refused", "started", "ok"]);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the rebuild's outcome was not audited");
}

fn zip_dir(dir: &std::path::Path, top: &str) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                w.start_file(format!("{top}/{rel}"), opts).unwrap();
                w.write_all(&std::fs::read(&p).unwrap()).unwrap();
            }
        }
    }
    w.finish().unwrap();
    buf.into_inner()
}

async fn upload_archive(app: &common::TestApp, c: &reqwest::Client, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part("archive", common::file_part(name, bytes, "application/zip"));
    c.post(app.url("/api/v1/admin/imports")).header("Accept", "application/json").multipart(form).send().await.unwrap()
}

async fn wait_for_import(app: &common::TestApp, c: &reqwest::Client, id: i64) -> Value {
    for _ in 0..600 {
        let v: Value = c.get(app.url(&format!("/api/v1/admin/imports/{id}"))).send().await.unwrap().json().await.unwrap();
        if v["status"] != "running" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {id} did not end in 60 s");
}

#[tokio::test]
async fn admins_import_an_uploaded_library_archive_with_progress_and_refusals() {
    let app = common::spawn_app().await;
    let dir = app.data_dir.join("src-library");
    precedent::seed::export_synth(&dir, 4, 9).unwrap();
    let mut jsonl = std::fs::read_to_string(dir.join("cases.jsonl")).unwrap();
    jsonl.push_str("{\"key\":\"bad-1\",\"title\":\"no images\"}\n");
    std::fs::write(dir.join("cases.jsonl"), jsonl).unwrap();
    let archive = zip_dir(&dir, "teaching-set");
    let admin = app.staff("admin@example.org", Role::Admin).await;
    let res = upload_archive(&app, &admin, "teaching-set.zip", archive.clone()).await;
    assert_eq!(res.status(), 202);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Progress streams as server-sent events.
    let mut stream = admin.get(app.url(&format!("/api/v1/admin/imports/{id}/progress"))).send().await.unwrap();
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let chunk = String::from_utf8(stream.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    let first: Value = serde_json::from_str(chunk.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(first["id"], id);
    drop(stream);
    let v = wait_for_import(&app, &admin, id).await;
    assert_eq!(v["status"], "finished", "{v}");
    assert_eq!((v["total"].as_i64(), v["done"].as_i64(), v["imported"].as_i64()), (Some(5), Some(5), Some(4)), "{v}");
    assert_eq!(v["refused"][0]["key"], "bad-1");
    assert!(v["refused"][0]["reason"].as_str().unwrap().contains("no images"));
    assert_eq!(app.case_count().await, 4);
    let source: String = sqlx::query_scalar("SELECT DISTINCT source FROM cases").fetch_one(&app.pool).await.unwrap();
    assert_eq!(source, "import:teaching-set");
    assert!(!app.data_dir.join("imports").join(format!("job-{id}")).exists(), "unpacked files are removed");
    // The same archive again: nothing new (an interrupted import resumes this way).
    let again = upload_archive(&app, &admin, "teaching-set.zip", archive).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v = wait_for_import(&app, &admin, again).await;
    assert_eq!((v["imported"].as_i64(), v["already_present"].as_i64()), (Some(0), Some(4)), "{v}");
    // A file that is no archive fails with a reason; an empty form is refused at once.
    let bad = upload_archive(&app, &admin, "notes.zip", b"hello".to_vec()).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v = wait_for_import(&app, &admin, bad).await;
    assert_eq!(v["status"], "failed");
    assert!(v["error"].as_str().unwrap().contains("not a .zip"), "{v}");
    // Both outcomes are in the audit trail, the refused rows with their reasons.
    let audited: Vec<(i64, String, Value)> =
        sqlx::query_as("SELECT object_id, outcome, detail FROM audit_log WHERE action = 'admin.import' AND outcome IN ('ok', 'failed') ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let of = |job: i64| audited.iter().find(|a| a.0 == job).unwrap_or_else(|| panic!("import {job} not audited: {audited:?}"));
    assert_eq!(of(bad).1, "failed");
    assert!(of(bad).2["error"].as_str().unwrap().contains("not a .zip"));
    assert_eq!(of(id).1, "ok");
    assert!(of(id).2["refused"].as_array().is_some_and(|r| r.iter().all(|x| x["reason"].is_string())), "{:?}", of(id));
    let res = admin
        .post(app.url("/api/v1/admin/imports"))
        .header("Accept", "application/json")
        .multipart(reqwest::multipart::Form::new().text("x", "y"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // The page's list shows all three, newest first.
    let list: Value = app.server_fn(&admin, "admin_imports", &[]).await.json().await.unwrap();
    let ids: Vec<i64> = list.as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [bad, again, id]);
    // Only admins.
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    assert_eq!(upload_archive(&app, &doctor, "x.zip", b"x".to_vec()).await.status(), 403);
    assert_eq!(doctor.get(app.url(&format!("/api/v1/admin/imports/{id}"))).send().await.unwrap().status(), 403);
    assert!(app.server_fn(&doctor, "admin_imports", &[]).await.text().await.unwrap().contains("Forbidden"));
    assert_eq!(common::client().get(app.url(&format!("/api/v1/admin/imports/{id}"))).send().await.unwrap().status(), 401);
}
