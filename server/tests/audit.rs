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
