//! Doctor review: validate or correct a diagnosis with certainty, notes, next tests and
//! specialist; every review kept; only doctors review; the queue holds unreviewed cases, oldest first.

mod common;

use common::{case_form, case_id, spawn_app_without_worker};
use precedent_types::Role;
use serde_json::Value;

async fn review(app: &common::TestApp, c: &reqwest::Client, case: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    let id = case.to_string();
    let mut form: Vec<(&str, &str)> = vec![("case_id", id.as_str()), ("diagnosis", ""), ("notes", ""), ("next_tests", ""), ("specialist", "")];
    form.retain(|(k, _)| !fields.iter().any(|(f, _)| f == k));
    form.extend_from_slice(fields);
    app.server_fn(c, "review_case", &form).await
}

#[tokio::test]
async fn doctors_validate_and_correct_and_every_review_is_kept() {
    let app = spawn_app_without_worker().await;
    let patient = app.patient("pat@example.org").await;
    let case = case_id(app.create_case(&patient, case_form("Cough")).await).await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;

    // Nothing recorded yet: validating is refused with a reason; correcting works.
    let r = review(&app, &doctor, case, &[("action", "validate"), ("certainty", "probable")]).await;
    assert!(!r.status().is_success());
    assert!(r.text().await.unwrap().contains("no diagnosis to validate"));
    let r = review(
        &app,
        &doctor,
        case,
        &[
            ("action", "correct"),
            ("diagnosis", "Community-acquired pneumonia"),
            ("certainty", "probable"),
            ("notes", "Right lower lobe consolidation."),
            ("next_tests", "CRP, sputum culture"),
            ("specialist", "Respiratory medicine"),
        ],
    )
    .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = review(&app, &doctor, case, &[("action", "validate"), ("certainty", "certain"), ("notes", "Confirmed by culture.")]).await;
    assert!(r.status().is_success());

    // The patient sees the validated diagnosis and the whole history, newest first.
    let v: Value = patient.get(app.url(&format!("/api/v1/cases/{case}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["diagnosis"], "Community-acquired pneumonia");
    assert_eq!(v["status"], "reviewed");
    assert_eq!(v["can_review"], false);
    let h = v["validations"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!((h[0]["action"].as_str(), h[0]["certainty"].as_str()), (Some("validate"), Some("certain")));
    assert_eq!(h[1]["action"], "correct");
    assert_eq!(h[1]["next_tests"], "CRP, sputum culture");
    assert_eq!(h[1]["specialist"], "Respiratory medicine");
    // The patient meets the doctor by name ("Staff", as the test made them), never by e-mail;
    // staff see the address.
    assert_eq!(h[1]["author"], "Staff");
    let as_doctor: Value = doctor.get(app.url(&format!("/api/v1/cases/{case}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(as_doctor["validations"][1]["author"], "dr@example.org");
    // History cannot be rewritten, even from inside the database.
    assert!(sqlx::query("UPDATE validations SET diagnosis = 'x'").execute(&app.pool).await.is_err());
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action IN ('case.validate', 'case.correct') AND object_id = $1")
        .bind(case)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn only_doctors_review_and_bad_reviews_lose_nothing() {
    let app = spawn_app_without_worker().await;
    let patient = app.patient("pat@example.org").await;
    let case = case_id(app.create_case(&patient, case_form("Cough")).await).await;
    for (who, c) in [("patient", &patient), ("admin", &app.staff("admin@example.org", Role::Admin).await)] {
        let r = review(&app, c, case, &[("action", "correct"), ("diagnosis", "Self-diagnosed"), ("certainty", "certain")]).await;
        assert!(!r.status().is_success(), "{who} must not review");
        assert!(r.text().await.unwrap().contains("Forbidden"), "{who}");
    }
    let r = review(&app, &common::client(), case, &[("action", "correct"), ("diagnosis", "x"), ("certainty", "certain")]).await;
    assert!(!r.status().is_success());
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    for (fields, needle) in [
        (vec![("action", "correct"), ("diagnosis", "x"), ("certainty", "sure")], "certainty"),
        (vec![("action", "erase"), ("diagnosis", "x"), ("certainty", "certain")], "validate or correct"),
        (vec![("action", "correct"), ("diagnosis", " "), ("certainty", "certain")], "corrected diagnosis"),
    ] {
        let r = review(&app, &doctor, case, &fields).await;
        assert!(!r.status().is_success());
        assert!(r.text().await.unwrap().contains(needle), "{fields:?}");
    }
    let r = review(&app, &doctor, 999_999, &[("action", "correct"), ("diagnosis", "x"), ("certainty", "certain")]).await;
    assert!(r.text().await.unwrap().contains("NotFound"));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM validations").fetch_one(&app.pool).await.unwrap();
    assert_eq!(n, 0, "nothing was written");
    let denied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'case.review' AND outcome = 'denied'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(denied, 2);
}

#[tokio::test]
async fn the_queue_lists_unreviewed_cases_oldest_first_for_doctors_only() {
    let app = spawn_app_without_worker().await;
    let patient = app.patient("pat@example.org").await;
    let mut ids = Vec::new();
    for t in ["First", "Second", "Third"] {
        ids.push(case_id(app.create_case(&patient, case_form(t)).await).await);
    }
    sqlx::query("UPDATE cases SET body_region = 'Thorax' WHERE id = $1").bind(ids[2]).execute(&app.pool).await.unwrap();
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let queue = |region: &'static str| {
        let (app, doctor) = (&app, &doctor);
        async move {
            let r = app.server_fn(doctor, "review_queue", &[("page", "1"), ("region", region)]).await;
            assert!(r.status().is_success());
            let v: Value = r.json().await.unwrap();
            v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(queue("").await, ids);
    assert_eq!(queue("thorax").await, vec![ids[2]]);
    let r = review(&app, &doctor, ids[0], &[("action", "correct"), ("diagnosis", "Bronchitis"), ("certainty", "possible")]).await;
    assert!(r.status().is_success());
    assert_eq!(queue("").await, ids[1..].to_vec(), "a reviewed case leaves the queue");
    let r = app.server_fn(&patient, "review_queue", &[("page", "1"), ("region", "")]).await;
    assert!(!r.status().is_success());
    assert!(r.text().await.unwrap().contains("Forbidden"));
    // The page itself: doctors get the list, patients a refusal.
    let html = doctor.get(app.url("/review")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Second") && html.contains("Review queue"));
    let page = patient.get(app.url("/review")).send().await.unwrap();
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("Doctors only"));
}

/// The "diagnosis contains" filter matches a case's latest review, else its recorded diagnosis
/// (a corrected case no longer matches its old one), through trigram indexes the planner can use.
#[tokio::test]
async fn the_diagnosis_filter_follows_the_latest_review_through_trigram_indexes() {
    let app = spawn_app_without_worker().await;
    let patient = app.patient("dx-filter@example.org").await;
    let doctor = app.staff("dx-doc@example.org", Role::Doctor).await;
    let corrected = case_id(app.create_case(&patient, case_form("Corrected")).await).await;
    let untouched = case_id(app.create_case(&patient, case_form("Untouched")).await).await;
    sqlx::query("UPDATE cases SET diagnosis = 'Community-acquired pneumonia' WHERE id = ANY($1)")
        .bind(vec![corrected, untouched])
        .execute(&app.pool)
        .await
        .unwrap();
    let r = review(&app, &doctor, corrected, &[("action", "correct"), ("diagnosis", "Acute asthma"), ("certainty", "probable")]).await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let find = |term: &'static str| precedent_store::index_feed::cases_with_diagnosis(&app.pool, term);
    assert_eq!(find("PNEUMONIA").await.unwrap(), vec![untouched]);
    assert_eq!(find("asthma").await.unwrap(), vec![corrected]);
    assert!(find("100%_").await.unwrap().is_empty(), "wildcards are literal");
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut *tx).await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar("EXPLAIN SELECT id FROM cases WHERE diagnosis ILIKE '%pneum%'").fetch_all(&mut *tx).await.unwrap();
    assert!(plan.iter().any(|l| l.contains("cases_diagnosis_trgm")), "{plan:?}");
    let plan: Vec<String> = sqlx::query_scalar("EXPLAIN SELECT case_id FROM validations WHERE diagnosis ILIKE '%asth%'").fetch_all(&mut *tx).await.unwrap();
    assert!(plan.iter().any(|l| l.contains("validations_diagnosis_trgm")), "{plan:?}");
}
