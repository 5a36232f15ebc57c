//! Importing a case library: everything usable arrives, refused rows say why, and a re-run adds nothing.

mod common;

use common::spawn_app;

#[tokio::test]
async fn synthetic_library_imports_idempotently_with_refusals() {
    let app = spawn_app().await;
    let dir = app.data_dir.join("library");
    precedent::seed::export_synth(&dir, 8, 5).unwrap();
    // One case with more scans than a web upload may carry (20): libraries may.
    let mut first = std::fs::read_to_string(dir.join("cases.jsonl")).unwrap();
    let extra: Vec<String> = (0..24).map(|_| r#"{"file":"synth-5-000000/synth-000000-0.png"}"#.to_string()).collect();
    first = first.replacen("\"images\":[", &format!("\"images\":[{},", extra.join(",")), 1);
    std::fs::write(dir.join("cases.jsonl"), first).unwrap();
    // Add rows that must be refused, with reasons.
    let mut jsonl = std::fs::read_to_string(dir.join("cases.jsonl")).unwrap();
    jsonl.push_str("{\"key\":\"bad-1\",\"title\":\"no images\"}\n");
    jsonl.push_str("{\"key\":\"bad-2\",\"title\":\"escape\",\"images\":[{\"file\":\"../../etc/passwd\"}]}\n");
    std::fs::write(dir.join("fake.png"), b"MZ not a png").unwrap();
    jsonl.push_str("{\"key\":\"bad-3\",\"title\":\"fake\",\"images\":[{\"file\":\"fake.png\"}]}\n");
    std::fs::write(dir.join("cases.jsonl"), jsonl).unwrap();

    let owner = precedent::import::library_owner(&app.state).await.unwrap();
    let mut calls = 0;
    let r = precedent::import::import(&app.state, &dir, owner, precedent::import::Sharing::StaffOnly, |_, _, _| calls += 1).await.unwrap();
    assert_eq!(r.rows, 11);
    assert_eq!(r.imported, 8);
    assert_eq!(calls, 9);
    let reasons: Vec<&str> = r.refused.iter().map(|x| x.reason.as_str()).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons.iter().any(|x| x.contains("no images")));
    assert!(reasons.iter().any(|x| x.contains("..")));
    assert!(reasons.iter().any(|x| x.contains("not a JPEG or PNG")));
    assert!(r.refused.iter().all(|x| x.line > 0), "every refusal names its line");

    let shared = || async { sqlx::query_scalar::<_, i64>("SELECT count(*) FROM cases WHERE shareable").fetch_one(&app.pool).await.unwrap() };
    assert_eq!(shared().await, 0, "a library is staff-only unless it is shared");

    // Idempotent: a second run imports nothing; run as a teaching library, it shares every case
    // of the library, those imported before included.
    use precedent::import::Sharing;
    let again = precedent::import::import(&app.state, &dir, owner, Sharing::Patients, |_, _, _| {}).await.unwrap();
    assert_eq!((again.imported, again.already_present), (0, 8));
    assert_eq!(app.case_count().await, 8);
    assert_eq!(shared().await, 8);
    // Only the library account's cases can be shared.
    let u = precedent_store::users::create(&app.pool, "dr-import@example.org", "Dr", "!", precedent_types::Role::Doctor).await.unwrap();
    let doctor = precedent_accounts::Actor { id: u.id, role: u.role };
    let err = precedent::import::import(&app.state, &dir, doctor, Sharing::Patients, |_, _, _| {}).await.unwrap_err();
    assert!(err.to_string().contains("Only the library account"), "{err}");
    // Run again as staff-only, the library stops being shared.
    precedent::import::import(&app.state, &dir, owner, Sharing::StaffOnly, |_, _, _| {}).await.unwrap();
    assert_eq!(shared().await, 0);

    // Imported cases carry their labels' text and files, and get embedded.
    let (title, diagnosis, region): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT title, diagnosis, body_region FROM cases WHERE external_ref = 'synth-5-000000'").fetch_one(&app.pool).await.unwrap();
    let truth = precedent_synth::generate_one(5, 0);
    assert_eq!(title, truth.title);
    assert_eq!(diagnosis.as_deref(), Some(truth.diagnosis));
    assert_eq!(region.as_deref(), Some(truth.region.label()));
    let scans: i64 = sqlx::query_scalar("SELECT count(*) FROM case_images i JOIN cases c ON c.id = i.case_id WHERE c.external_ref = 'synth-5-000000'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(scans as usize, 24 + truth.images.len());
    let reports: i64 = sqlx::query_scalar("SELECT count(*) FROM lab_reports").fetch_one(&app.pool).await.unwrap();
    assert_eq!(reports, 8);
    app.wait_for_indexing().await;
    let vectors: i64 = sqlx::query_scalar("SELECT count(*) FROM text_vectors WHERE field = 'full'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(vectors, 8);
    // The library account cannot log in.
    let r = app.login(&common::client(), precedent::import::LIBRARY_ACCOUNT, "anything-at-all-1").await;
    assert!(!r.status().is_success());
}
