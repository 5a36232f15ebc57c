//! The audit log: every kind of read and write leaves an entry (who, role, what, on which
//! object, from where, outcome), and admins read it filtered on the audit page.

mod common;

use common::{case_form, case_id, spawn_app};
use precedent_types::Role;
use serde_json::{json, Value};

#[tokio::test]
async fn every_kind_of_access_is_audited_and_admins_filter_the_log() {
    let app = spawn_app().await;
    let owner = app.patient("owner@example.org").await;
    let other = app.patient("other@example.org").await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let admin = app.staff("admin@example.org", Role::Admin).await;
    let case = case_id(app.create_case(&owner, case_form("Audited cough")).await).await;
    app.wait_for_search().await;
    let image: i64 = sqlx::query_scalar("SELECT id FROM case_images WHERE case_id = $1").bind(case).fetch_one(&app.pool).await.unwrap();
    let report: i64 = sqlx::query_scalar("SELECT id FROM lab_reports WHERE case_id = $1").bind(case).fetch_one(&app.pool).await.unwrap();

    // One access of each kind.
    let ok = |r: reqwest::Response| {
        assert!(r.status().is_success(), "{}", r.status());
    };
    ok(doctor.get(app.url(&format!("/api/v1/cases/{case}"))).send().await.unwrap());
    assert_eq!(other.get(app.url(&format!("/api/v1/cases/{case}"))).send().await.unwrap().status(), 404);
    ok(doctor.get(app.url(&format!("/media/images/{image}"))).send().await.unwrap());
    ok(doctor.get(app.url(&format!("/media/images/{image}/thumb"))).send().await.unwrap());
    ok(doctor.get(app.url(&format!("/media/reports/{report}"))).send().await.unwrap());
    ok(doctor.get(app.url(&format!("/api/v1/cases/{case}/similar?k=3"))).send().await.unwrap());
    ok(doctor.post(app.url("/api/v1/search")).json(&json!({ "text": "cough" })).send().await.unwrap());
    ok(owner.get(app.url("/api/v1/cases")).send().await.unwrap());
    let review = [
        ("case_id", case.to_string()),
        ("action", "correct".into()),
        ("diagnosis", "Viral bronchitis".into()),
        ("certainty", "probable".into()),
        ("notes", String::new()),
        ("next_tests", String::new()),
        ("specialist", String::new()),
    ];
    ok(doctor.post(app.url("/api/review_case")).form(&review).send().await.unwrap());

    let log = |filter: &[(&str, &str)]| {
        let form: Vec<(String, String)> = filter.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let (admin, url) = (admin.clone(), app.url("/api/admin_audit"));
        async move {
            let res = admin.post(url).form(&form).send().await.unwrap();
            let status = res.status();
            let v: Value = res.json().await.unwrap();
            assert!(status.is_success(), "{status} {v}");
            v
        }
    };
    let case_obj = format!("case {case}");
    let expected = [
        ("case.create", "owner@example.org (patient)", Some(case_obj.as_str()), "ok"),
        ("case.read", "dr@example.org (doctor)", Some(case_obj.as_str()), "ok"),
        ("case.read", "other@example.org (patient)", Some(case_obj.as_str()), "denied"),
        ("image.read", "dr@example.org (doctor)", None, "ok"),
        ("image.thumb", "dr@example.org (doctor)", None, "ok"),
        ("report.read", "dr@example.org (doctor)", None, "ok"),
        ("case.similar", "dr@example.org (doctor)", Some(case_obj.as_str()), "ok"),
        ("search", "dr@example.org (doctor)", None, "ok"),
        ("case.list", "owner@example.org (patient)", None, "ok"),
        ("case.correct", "dr@example.org (doctor)", Some(case_obj.as_str()), "ok"),
    ];
    for (action, who, object, outcome) in expected {
        let email = who.split(' ').next().unwrap();
        let v = log(&[("action", action), ("actor", email), ("outcome", outcome)]).await;
        let e = &v["entries"][0];
        assert!(v["total"].as_i64().unwrap() >= 1, "{action} by {who}: {v}");
        assert_eq!(e["action"], action);
        assert_eq!(format!("{} ({})", e["who"].as_str().unwrap(), e["role"].as_str().unwrap()), who);
        assert_eq!(e["outcome"], outcome);
        assert_eq!(e["ip"], "127.0.0.1", "{e}");
        assert!(e["at"].as_str().unwrap().ends_with("UTC"));
        if let Some(o) = object {
            assert_eq!(e["object"], o, "{action}: {e}");
        }
    }
    // Filters: by object, by an action prefix, by date; newest first; paged.
    let by_case = log(&[("object", &case_obj)]).await;
    let actions: Vec<&str> = by_case["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"case.create") && actions.contains(&"case.correct"), "{actions:?}");
    assert!(by_case["entries"].as_array().unwrap().iter().all(|e| e["object"] == case_obj.as_str()));
    let ids: Vec<i64> = by_case["entries"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let prefix = log(&[("action", "case.")]).await;
    assert!(prefix["entries"].as_array().unwrap().iter().all(|e| e["action"].as_str().unwrap().starts_with("case.")));
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert!(log(&[("from", &today), ("to", &today)]).await["total"].as_i64().unwrap() >= expected.len() as i64);
    assert_eq!(log(&[("to", "2000-01-01")]).await["total"], 0);
    let all = log(&[]).await;
    assert!(all["entries"].as_array().unwrap().len() <= 50 && all["page"] == 1);

    // Bad filters are refused clearly; non-admins are refused, and that is audited too.
    let res = admin.post(app.url("/api/admin_audit")).form(&[("from", "last week")]).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("is not a date"));
    for c in [&doctor, &owner] {
        let res = c.post(app.url("/api/admin_audit")).form(&[("action", "case.read")]).send().await.unwrap();
        assert!(res.text().await.unwrap().contains("Forbidden"));
    }
    let reads = log(&[("action", "audit.read"), ("outcome", "denied")]).await;
    assert_eq!(reads["total"], 2, "{reads}");
    assert!(precedent_store::audit::count(&app.pool, "audit.read", None).await.unwrap() >= 10);

    // The page renders the log for an admin, with the filter from the URL.
    let html = admin.get(app.url(&format!("/admin/audit?object=case+{case}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("class=\"audit\""), "the table is server-rendered");
    assert!(html.contains("case.correct") && html.contains("dr@example.org (doctor)"));
    let refused = doctor.get(app.url("/admin/audit")).send().await.unwrap();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn the_log_answers_who_saw_what_finds_failed_logins_exports_csv_and_cannot_be_truncated() {
    let app = spawn_app().await;
    let owner = app.patient("owner@example.org").await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let admin = app.staff("admin@example.org", Role::Admin).await;
    let case = case_id(app.create_case(&owner, case_form("Seen cough")).await).await;
    let other = case_id(app.create_case(&owner, case_form("Seen cough again")).await).await;
    app.wait_for_search().await;

    // Which cases each answer showed is recorded: lists, similar hits, search results, the queue.
    let shown = |action: &'static str| {
        let pool = app.pool.clone();
        async move {
            let d: Value =
                sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1").bind(action).fetch_one(&pool).await.unwrap();
            d["shown"].as_array().unwrap_or_else(|| panic!("{action}: {d}")).iter().map(|v| v.as_i64().unwrap()).collect::<Vec<i64>>()
        }
    };
    assert!(doctor.get(app.url("/api/v1/cases")).send().await.unwrap().status().is_success());
    let listed = shown("case.list").await;
    assert!(listed.contains(&case) && listed.contains(&other), "{listed:?}");
    let v: Value = doctor.get(app.url(&format!("/api/v1/cases/{case}/similar?k=5"))).send().await.unwrap().json().await.unwrap();
    let hits: Vec<i64> = v["hits"].as_array().unwrap().iter().map(|h| h["case"].as_i64().unwrap()).collect();
    assert_eq!(shown("case.similar").await, hits);
    assert!(hits.contains(&other));
    let v: Value = doctor.post(app.url("/api/v1/search")).json(&json!({ "text": "cough" })).send().await.unwrap().json().await.unwrap();
    let hits: Vec<i64> = v["hits"].as_array().unwrap().iter().map(|h| h["case"].as_i64().unwrap()).collect();
    assert_eq!(shown("search").await, hits);
    assert!(doctor.post(app.url("/api/review_queue")).form(&[("page", "1")]).send().await.unwrap().status().is_success());
    assert!(shown("review.queue").await.contains(&case));
    // "Who saw case X?": every answer that showed it, found by its detail.
    let who: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT u.email FROM audit_log a JOIN users u ON u.id = a.actor_id WHERE a.detail->'shown' @> to_jsonb($1::bigint) ORDER BY 1",
    )
    .bind(other)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(who, ["dr@example.org"]);

    // Failed logins are "failed", with the reason and the e-mail that was tried.
    let c = common::client();
    assert!(!app.login(&c, "dr@example.org", "not the password").await.status().is_success());
    assert!(!app.login(&c, "nobody@example.org", "not the password").await.status().is_success());
    let res = admin.post(app.url("/api/admin_audit")).form(&[("action", "auth.login"), ("outcome", "failed")]).send().await.unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["total"], 2, "{v}");
    let details: Vec<Value> = v["entries"].as_array().unwrap().iter().map(|e| serde_json::from_str(e["detail"].as_str().unwrap()).unwrap()).collect();
    assert!(details.iter().any(|d| d["email"] == "nobody@example.org" && d["reason"] == "wrong_password"), "{details:?}");
    assert!(details.iter().any(|d| d["email"] == "dr@example.org"));
    // Times to the second.
    let at = v["entries"][0]["at"].as_str().unwrap();
    assert!(at.len() == "2026-12-07 21:09:33 UTC".len() && at.as_bytes()[16] == b':', "{at}");

    // The same filter as CSV, for admins only.
    let res = admin.get(app.url("/api/v1/admin/audit.csv?action=auth.login&outcome=failed")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,at,account,role,action,object,ip,outcome,detail");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(csv.contains("nobody@example.org") && csv.contains(",failed,"), "{csv}");
    assert_eq!(doctor.get(app.url("/api/v1/admin/audit.csv")).send().await.unwrap().status(), 403);

    // The log (and the other append-only tables) refuse UPDATE, DELETE and TRUNCATE.
    for sql in ["UPDATE audit_log SET outcome = 'ok'", "DELETE FROM audit_log", "TRUNCATE audit_log", "TRUNCATE validations", "TRUNCATE case_reports"] {
        let err = sqlx::query(sql).execute(&app.pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}
