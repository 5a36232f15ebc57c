//! Similar-case search end to end: a synthetic library with planted near-duplicates is imported,
//! embedded by the worker and indexed; queries through the JSON API and the server functions
//! find the duplicates first, respect filters and who is asking, and the index stays equal to
//! the database through inserts, deletions and restarts.

mod common;

use common::{case_form, case_id, spawn_app, TestApp};
use precedent_types::Role;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Imports 20 synthetic cases plus near-duplicates of cases 0, 7 and 14; returns case ids by key.
async fn library(app: &TestApp) -> HashMap<String, i64> {
    let mut cases = precedent_synth::generate(21, 20);
    for i in [0usize, 7, 14] {
        let d = precedent_synth::near_duplicate(&cases[i], i as u64);
        cases.push(d);
    }
    let dir = app.data_dir.join("dup-library");
    precedent::seed::export_cases(&dir, &cases).unwrap();
    let owner = precedent::import::library_owner(&app.state).await.unwrap();
    let r = precedent::import::import(&app.state, &dir, owner, precedent::import::Sharing::StaffOnly, |_, _, _| {}).await.unwrap();
    assert_eq!(r.imported, 23, "{:?}", r.refused);
    app.wait_for_search().await;
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, external_ref FROM cases WHERE external_ref IS NOT NULL").fetch_all(&app.pool).await.unwrap();
    rows.into_iter().map(|(id, k)| (k, id)).collect()
}

fn hit_ids(v: &Value) -> Vec<i64> {
    v["hits"].as_array().unwrap_or(&Vec::new()).iter().map(|h| h["case"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn planted_near_duplicates_come_first_in_every_modality() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    for i in [0usize, 7, 14] {
        let key = format!("synth-21-{i:06}");
        let (orig, dup) = (ids[&key], ids[&format!("{key}-dup")]);
        for (tw, iw) in [(1.0, 1.0), (1.0, 0.0), (0.0, 1.0)] {
            let res = doctor.get(app.url(&format!("/api/v1/cases/{orig}/similar?k=5&text_weight={tw}&image_weight={iw}&lab_weight=0"))).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let v: Value = res.json().await.unwrap();
            let hits = hit_ids(&v);
            assert_eq!(hits.first(), Some(&dup), "weights {tw}/{iw}: {v}");
            assert!(!hits.contains(&orig), "the query case is never its own hit");
            let top = &v["hits"][0];
            assert!(top["match_pct"].as_f64().unwrap() > 90.0, "{top}");
            assert!(top["title"].as_str().unwrap().starts_with("Follow-up"));
            assert_eq!(top["review"], "unreviewed");
            assert!(top["diagnosis"].is_string());
            let channels: Vec<&str> = top["channels"].as_array().unwrap().iter().map(|c| c["channel"].as_str().unwrap()).collect();
            match (tw > 0.0, iw > 0.0) {
                (true, true) => assert_eq!(channels, ["text", "image"]),
                (true, false) => assert_eq!(channels, ["text"]),
                _ => {
                    assert_eq!(channels, ["image"]);
                    assert!(top["matched_image"].is_i64() && top["query_image"].is_i64(), "which image matched which: {top}");
                }
            }
        }
    }
    // Labs alone: the duplicate carries the same report, so its lab profile is identical.
    let (orig, dup) = (ids["synth-21-000000"], ids["synth-21-000000-dup"]);
    let v: Value =
        doctor.get(app.url(&format!("/api/v1/cases/{orig}/similar?k=5&text_weight=0&image_weight=0&lab_weight=1"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(hit_ids(&v)[0], dup, "{v}");
    assert_eq!(v["query_channels"], json!(["text", "image", "labs"]));
    let top = &v["hits"][0];
    assert_eq!(top["channels"][0]["channel"], "labs");
    assert!(top["channels"][0]["pct"].as_f64().unwrap() > 99.0, "{top}");
    // Pneumonia's raised inflammatory markers are named as shared abnormalities.
    let shared: Vec<&str> = top["shared_abnormal"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert!(!shared.is_empty(), "{top}");
    // Typed lab values find cases with similar labs.
    let typed: String =
        precedent_synth::generate_one(21, 0).lab_values.iter().map(|l| format!("{} {} {} {} - {}\n", l.analyte, l.printed, l.unit, l.low, l.high)).collect();
    let v: Value = doctor.post(app.url("/api/v1/search")).json(&json!({ "labs": typed, "k": 3 })).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["query_channels"], json!(["labs"]), "{v}");
    let hits = hit_ids(&v);
    assert!(hits[..2].contains(&orig) && hits[..2].contains(&dup), "{v}");
    // Ad-hoc: the duplicate's own note as free text finds the pair; an uploaded scan too.
    let c = precedent_synth::generate_one(21, 7);
    let dup7 = ids["synth-21-000007-dup"];
    let orig7 = ids["synth-21-000007"];
    let res = doctor.post(app.url("/api/v1/search")).json(&json!({ "text": format!("{} {}", c.history, c.exam), "k": 3 })).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let hits = hit_ids(&res.json().await.unwrap());
    assert!(hits[..2].contains(&orig7) && hits[..2].contains(&dup7), "{hits:?}");
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&c.images[0].png);
    let res = doctor.post(app.url("/api/v1/search")).json(&json!({ "images_base64": [b64], "k": 3 })).send().await.unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(hit_ids(&v)[0], orig7, "{v}");
    assert_eq!(v["query_channels"], json!(["image"]));
    // The server function the case page uses answers the same.
    let res = doctor.post(app.url("/api/find_similar")).json(&json!({ "case_id": orig7, "params": { "k": 2 } })).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(hit_ids(&res.json().await.unwrap())[0], dup7);
}

#[tokio::test]
async fn bad_queries_get_clear_errors() {
    let app = spawn_app().await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let cases = [
        (json!({}), "Give a case"),
        (json!({ "text": "cough", "k": 0 }), "between 1 and 100"),
        (json!({ "text": "cough", "text_weight": 0, "image_weight": 0, "lab_weight": 0 }), "weight"),
        (json!({ "labs": "CRP 85 mg/L 0 - 5" }), "at least 2 lab values"),
        (json!({ "labs": "Unobtainium 5 U/L 1 - 2\nCRP 85 mg/L 0 - 5" }), "not an analyte"),
        (json!({ "labs": "CRP 85\nWBC 14" }), "reference range or a flag"),
        (json!({ "images_base64": ["!!!"] }), "base64"),
        (json!({ "images_base64": ["aGVsbG8gd29ybGQ="] }), "Image 1"),
        (json!({ "text": "x", "from": "yesterday" }), "date"),
    ];
    for (body, needle) in cases {
        let res = doctor.post(app.url("/api/v1/search")).json(&body).send().await.unwrap();
        assert_eq!(res.status(), 422, "{body}");
        let v: Value = res.json().await.unwrap();
        assert!(v["error"].as_str().unwrap().contains(needle), "{body}: {v}");
    }
    let res = doctor.post(app.url("/api/v1/search")).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_eq!(res.status(), 422);
    let res = doctor.get(app.url("/api/v1/cases/999999/similar")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn filters_are_never_violated() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    // Validate three cases.
    let dr_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'dr@example.org'").fetch_one(&app.pool).await.unwrap();
    let validated: Vec<i64> = ["synth-21-000003", "synth-21-000013", "synth-21-000017"].iter().map(|k| ids[*k]).collect();
    for c in &validated {
        let review = precedent_store::cases::NewValidation {
            action: precedent_types::ReviewAction::Validate,
            diagnosis: "Confirmed".into(),
            certainty: precedent_types::Certainty::Certain,
            notes: String::new(),
            next_tests: String::new(),
            specialist: String::new(),
        };
        precedent_store::cases::add_validation(&app.pool, precedent_types::CaseId(*c), precedent_types::UserId(dr_id), Role::Doctor, &review, None)
            .await
            .unwrap();
    }
    app.wait_for_search().await;
    let q = ids["synth-21-000000"];
    let meta: Vec<(i64, Option<String>, Vec<String>)> = sqlx::query_as(
        "SELECT c.id, c.body_region, COALESCE((SELECT array_agg(DISTINCT modality) FROM case_images i WHERE i.case_id = c.id), '{}') FROM cases c",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let meta: HashMap<i64, (Option<String>, Vec<String>)> = meta.into_iter().map(|(id, r, m)| (id, (r, m))).collect();
    let region = meta[&q].0.clone().unwrap();
    for (query, check) in [
        ("validated_only=true", Box::new(|id: i64| validated.contains(&id)) as Box<dyn Fn(i64) -> bool>),
        ("modality=ct", Box::new(|id: i64| meta[&id].1.iter().any(|m| m == "ct"))),
        ("modality=xray", Box::new(|id: i64| meta[&id].1.iter().any(|m| m == "xray"))),
        (&*format!("body_region={}", region.to_uppercase()), Box::new(|id: i64| meta[&id].0.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&region)))),
        ("from=2000-01-01&to=2000-12-31", Box::new(|_| false)),
        // The reviewed diagnosis counts ("Confirmed"), case-insensitively.
        ("diagnosis=cONFIRMED", Box::new(|id: i64| validated.contains(&id))),
        ("diagnosis=100%25", Box::new(|_| false)),
    ] {
        let v: Value = doctor.get(app.url(&format!("/api/v1/cases/{q}/similar?k=50&{query}"))).send().await.unwrap().json().await.unwrap();
        let hits = hit_ids(&v);
        for h in &hits {
            assert!(check(*h), "{query} let case {h} through");
        }
        if query.starts_with("validated") || query == "diagnosis=cONFIRMED" {
            assert_eq!(hits.len(), 3, "every validated case is found: {v}");
        }
        if query.starts_with("from") {
            assert!(hits.is_empty());
        }
    }
}

/// What a teaching hit may carry to a patient: nothing else is ever set.
const TEACHING_FIELDS: &[&str] =
    &["case", "title", "diagnosis", "review", "body_region", "match_pct", "score", "channels", "query_image", "thumb_url", "deidentified", "shared_abnormal"];

/// Alice's similar cases by both endpoints (her case as the query; and the search API with text).
async fn alice_hits(app: &TestApp, alice: &reqwest::Client, case: i64) -> (Value, Value) {
    let a: Value = alice.get(app.url(&format!("/api/v1/cases/{case}/similar?k=10"))).send().await.unwrap().json().await.unwrap();
    let res = alice.post(app.url("/api/v1/search")).json(&json!({ "text": "Cough and fever for three days", "k": 10 })).send().await.unwrap();
    assert_eq!(res.status(), 200);
    (a, res.json().await.unwrap())
}

#[tokio::test]
async fn patients_meet_only_their_own_cases_and_shared_teaching_cases() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    let library_ids: std::collections::HashSet<i64> = ids.values().copied().collect();
    let alice = app.patient("alice@example.org").await;
    let bob = app.patient("bob@example.org").await;
    let alice_case = case_id(app.create_case(&alice, case_form("My cough")).await).await;
    // Bob's case is nearly the same as Alice's: the closest case there is, and never hers to see.
    let bob_case = case_id(app.create_case(&bob, case_form("My cough")).await).await;
    app.wait_for_search().await;
    // Bob cannot use Alice's case as a query, nor probe it.
    let res = bob.get(app.url(&format!("/api/v1/cases/{alice_case}/similar"))).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = bob.post(app.url("/api/v1/search")).json(&json!({ "case_id": alice_case })).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // Anonymous callers get nothing.
    let res = common::client().get(app.url(&format!("/api/v1/cases/{alice_case}/similar"))).send().await.unwrap();
    assert_eq!(res.status(), 401);

    // Nothing is shared yet: Alice meets no other case at all, by either endpoint.
    let (by_case, by_text) = alice_hits(&app, &alice, alice_case).await;
    assert_eq!(hit_ids(&by_case), Vec::<i64>::new(), "{by_case}");
    assert_eq!(hit_ids(&by_text), vec![alice_case], "only her own case: {by_text}");
    assert_eq!(by_text["hits"][0]["deidentified"], false);

    // The library becomes a teaching library: its cases, and only those, join her results.
    let changed = precedent::import::set_sharing(&app.state, "dup-library", precedent::import::Sharing::Patients).await.unwrap();
    assert_eq!(changed, 23);
    app.wait_for_search().await;
    let (by_case, by_text) = alice_hits(&app, &alice, alice_case).await;
    for v in [&by_case, &by_text] {
        let hits = v["hits"].as_array().unwrap();
        assert_eq!(hits.len(), 10, "{v}");
        assert!(!hit_ids(v).contains(&bob_case), "another patient's case reached a patient: {v}");
        for h in hits.iter().filter(|h| h["case"] != alice_case) {
            assert!(library_ids.contains(&h["case"].as_i64().unwrap()), "{h}");
            assert_eq!(h["deidentified"], true);
            assert!(h["title"].is_string() && h["diagnosis"].is_string(), "{h}");
            // The payload: exactly the teaching fields, no demographics, no image ids.
            for (k, val) in h.as_object().unwrap() {
                assert!(val.is_null() || TEACHING_FIELDS.contains(&k.as_str()), "a patient received `{k}`: {h}");
            }
        }
    }
    // Their thumbnails come by signed links that work for Alice only, and only as signed.
    let link = by_case["hits"][0]["thumb_url"].as_str().expect("a thumbnail link").to_string();
    assert!(link.starts_with("/media/hits/"), "{link}");
    let res = alice.get(app.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(bob.get(app.url(&link)).send().await.unwrap().status(), 404, "another viewer");
    let tampered = link.replace("sig=", "sig=00");
    assert_eq!(alice.get(app.url(&tampered)).send().await.unwrap().status(), 404);
    let image_id: String = link.trim_start_matches("/media/hits/").split('/').next().unwrap().to_string();
    assert_eq!(alice.get(app.url(&format!("/media/images/{image_id}/thumb"))).send().await.unwrap().status(), 404, "no way around the signature");
    assert_eq!(alice.get(app.url(&link.replace("/thumb?", "/full?"))).send().await.unwrap().status(), 404);

    // The filters that probe the corpus are the clinicians': refused for patients on both endpoints.
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    for q in ["from=2020-01-01", "to=2030-01-01", "diagnosis=a", "calibration=raw", "calibration=rrf"] {
        let res = alice.get(app.url(&format!("/api/v1/cases/{alice_case}/similar?{q}"))).send().await.unwrap();
        assert_eq!(res.status(), 422, "{q}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("for clinicians"), "{body}");
        let (k, v) = q.split_once('=').unwrap();
        let res = alice.post(app.url("/api/v1/search")).json(&json!({ "text": "cough", k: v })).send().await.unwrap();
        assert_eq!(res.status(), 422, "{q}");
        let res = doctor.get(app.url(&format!("/api/v1/cases/{alice_case}/similar?{q}"))).send().await.unwrap();
        assert_eq!(res.status(), 200, "{q}");
    }
    // Region, modality and validated-only stay open to patients (within what they may meet).
    let res = alice.get(app.url(&format!("/api/v1/cases/{alice_case}/similar?validated_only=true&modality=ct"))).send().await.unwrap();
    assert_eq!(res.status(), 200);

    // "Why this match?": Alice may have a teaching hit explained (no image ids, a signed image
    // link), never Bob's case; a doctor gets Bob's, with the shared terms marked in both texts.
    let teaching = by_case["hits"][0]["case"].as_i64().unwrap();
    let e: Value = alice.get(app.url(&format!("/api/v1/cases/{alice_case}/explain/{teaching}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(e["deidentified"], true, "{e}");
    assert!(e["hit_image_url"].as_str().is_none_or(|u| u.starts_with("/media/hits/")), "{e}");
    assert!(!e["channels"].as_array().unwrap().is_empty(), "{e}");
    assert_eq!(alice.get(app.url(&format!("/api/v1/cases/{alice_case}/explain/{bob_case}"))).send().await.unwrap().status(), 404);
    let e: Value = doctor.get(app.url(&format!("/api/v1/cases/{alice_case}/explain/{bob_case}"))).send().await.unwrap().json().await.unwrap();
    let shared: Vec<&str> = e["shared_terms"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(shared.iter().any(|t| t.to_lowercase().contains("fever")), "{e}");
    let marked: Vec<&str> = e["hit_text"].as_array().unwrap().iter().filter(|p| p["mark"] == "shared").map(|p| p["text"].as_str().unwrap()).collect();
    assert!(!marked.is_empty(), "{e}");
    assert_eq!(e["hit_image_url"].as_str().map(|u| u.starts_with("/media/images/")), Some(true), "{e}");
    assert!(e["query_image"].is_number());

    // A doctor sees every case in full: Bob's case first, with its demographics.
    let v: Value = doctor.get(app.url(&format!("/api/v1/cases/{alice_case}/similar?k=3"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(hit_ids(&v)[0], bob_case, "{v}");
    assert!(v["hits"].as_array().unwrap().iter().all(|h| h["title"].is_string() && h["deidentified"] == false));

    // Only library cases can be shared: the database refuses a patient's case.
    let err = sqlx::query("UPDATE cases SET shareable = true WHERE id = $1").bind(alice_case).execute(&app.pool).await.unwrap_err();
    assert!(err.to_string().contains("only library cases"), "{err}");

    // Sharing ends: Alice meets no library case again.
    precedent::import::set_sharing(&app.state, "dup-library", precedent::import::Sharing::StaffOnly).await.unwrap();
    app.wait_for_search().await;
    let (by_case, _) = alice_hits(&app, &alice, alice_case).await;
    assert_eq!(hit_ids(&by_case), Vec::<i64>::new(), "{by_case}");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'case.similar' AND outcome = 'denied'").fetch_one(&app.pool).await.unwrap();
    assert!(audited >= 1);
}

#[tokio::test]
async fn index_and_database_agree_through_inserts_deletes_and_restarts() {
    let mut app = spawn_app().await;
    let ids = library(&app).await;
    let sim = app.similarity();
    let r = sim.check().await.unwrap();
    assert!(r.agrees(), "{r:?}");
    assert_eq!(r.cases_in_db, 23);
    // Insert through the API.
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let new_case = case_id(app.create_case(&doctor, case_form("Fresh case")).await).await;
    app.wait_for_search().await;
    assert!(sim.engine().case(new_case).is_some_and(|c| c.text.is_some() && !c.images.is_empty()));
    // Delete a case and one image's vector behind the application's back.
    let gone = ids["synth-21-000007-dup"];
    sqlx::query("DELETE FROM cases WHERE id = $1").bind(gone).execute(&app.pool).await.unwrap();
    let img_case = ids["synth-21-000014"];
    sqlx::query("DELETE FROM image_vectors WHERE case_id = $1").bind(img_case).execute(&app.pool).await.unwrap();
    app.wait_for_search().await;
    let r = sim.check().await.unwrap();
    assert!(r.agrees(), "{r:?}");
    assert!(sim.engine().case(gone).is_none());
    assert!(sim.engine().case(img_case).unwrap().images.is_empty());
    let orig7 = ids["synth-21-000007"];
    let v: Value = doctor.get(app.url(&format!("/api/v1/cases/{orig7}/similar?k=40"))).send().await.unwrap().json().await.unwrap();
    assert!(!hit_ids(&v).contains(&gone), "a deleted case never comes back");
    let before = sim.engine().stats();

    // Restart: the saved generation is loaded (not rebuilt) and changes made while the server
    // was down are replayed.
    app.search.take().unwrap().stop().await;
    app.worker.take().unwrap().stop().await;
    let header_before = std::fs::read_to_string(app.data_dir.join("index/CURRENT")).unwrap();
    sqlx::query("DELETE FROM cases WHERE id = $1").bind(ids["synth-21-000001"]).execute(&app.pool).await.unwrap();
    let enc = common::encoders().await;
    let reopened =
        precedent_similarity::Similarity::open(app.pool.clone(), app.data_dir.join("index"), precedent::models_of(&enc), Default::default()).await.unwrap();
    let s = reopened.engine().stats();
    assert_eq!(s.cases, before.cases - 1);
    assert_eq!(s.text.dead, before.text.dead + 1, "loaded from disk with its dead points (not rebuilt), plus the case deleted while down");
    assert_eq!(std::fs::read_to_string(app.data_dir.join("index/CURRENT")).unwrap(), header_before);
    let r = reopened.check().await.unwrap();
    assert!(r.agrees(), "{r:?}");
    reopened.persist().await.unwrap();
    // A deletion the change log never saw (triggers off): the saved index no longer matches the
    // database's counts, so it is rebuilt rather than trusted.
    let ghost = ids["synth-21-000002"];
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
    for table in ["text_vectors", "image_vectors", "embedding_jobs", "case_images", "lab_reports"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE case_id = $1")).bind(ghost).execute(&mut *tx).await.unwrap();
    }
    sqlx::query("DELETE FROM cases WHERE id = $1").bind(ghost).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let again =
        precedent_similarity::Similarity::open(app.pool.clone(), app.data_dir.join("index"), precedent::models_of(&enc), Default::default()).await.unwrap();
    assert!(again.engine().case(ghost).is_none());
    assert_eq!(again.engine().stats().text.dead, 0, "rebuilt");
    assert!(again.check().await.unwrap().agrees());
    // Files that do not fit (another model) are rebuilt, not trusted.
    let mut other = precedent::models_of(&enc);
    other.text = "other-model@1".into();
    let rebuilt = precedent_similarity::Similarity::open(app.pool.clone(), app.data_dir.join("index"), other, Default::default()).await.unwrap();
    assert_eq!(rebuilt.engine().stats().text.live, 0, "no vectors exist for that model");
}

#[tokio::test]
async fn rebuild_swaps_while_queries_keep_working() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    let sim = app.similarity();
    let q = sim.engine().query_for_case(ids["synth-21-000000"]).unwrap();
    let opts = precedent_search::engine::SearchOptions::default();
    let before = sim.engine().search(&q, &Default::default(), &opts);
    let old = sim.engine();
    let seen = std::sync::Mutex::new(Vec::new());
    let header = sim.rebuild(None, &|p| seen.lock().unwrap().push(p.clone())).await.unwrap();
    assert_eq!(header.cases, 23);
    // The old engine stayed usable throughout; the new one answers the same.
    assert_eq!(old.search(&q, &Default::default(), &opts), before);
    assert!(!std::sync::Arc::ptr_eq(&old, &sim.engine()));
    let after = sim.engine().search(&q, &Default::default(), &opts);
    assert_eq!(after.iter().map(|h| h.case).collect::<Vec<_>>(), before.iter().map(|h| h.case).collect::<Vec<_>>());
    let seen = seen.into_inner().unwrap();
    assert!(seen.iter().any(|p| p.running && p.total == 23 && p.done > 0));
    let last = sim.progress();
    assert!(!last.running && last.finished.as_deref().unwrap_or("").starts_with("built 23 cases"), "{last:?}");
    assert!(sim.check().await.unwrap().agrees());
}

#[tokio::test]
async fn reindex_with_another_model_switches_without_stopping_search() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let manifest = common::test_manifest(&app.data_dir);
    let new = std::sync::Arc::new(precedent_encoders::Encoders::load_models(&manifest, Some("minilm-l6-v2-copy"), None, 1).unwrap());
    assert_eq!(new.model_ids().0, "minilm-l6-v2-copy@2");
    // Re-embed with the new model (what `precedent reindex --text-model` does first)…
    let written = precedent::worker::embed_all(&app.pool, &app.state.blobs, &new, |_, _| {}).await.unwrap();
    assert_eq!(written, 23 * 2, "presenting and full text of every case; images already have vectors");
    // …then build and switch while the server keeps answering.
    let q = ids["synth-21-000007"];
    let url = app.url(&format!("/api/v1/cases/{q}/similar?k=3"));
    let (_, _, _, header) =
        precedent_similarity::build_generation(&app.pool, &app.data_dir.join("index"), &precedent::models_of(&new), Default::default(), &|_| {}).await.unwrap();
    assert_eq!(header.text_model, "minilm-l6-v2-copy@2");
    let mut switched = false;
    for _ in 0..100 {
        let v: Value = doctor.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(hit_ids(&v).len(), 3, "queries keep working during the switch: {v}");
        let encoders = app.state.search().unwrap().encoders.get().model_ids().0;
        if v["text_model"] == "minilm-l6-v2-copy@2" && encoders == "minilm-l6-v2-copy@2" {
            assert_eq!(hit_ids(&v)[0], ids["synth-21-000007-dup"]);
            switched = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(switched, "the server swapped in the new index and encoders");
    let active: String = sqlx::query_scalar("SELECT model FROM search_settings WHERE channel = 'text'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(active, "minilm-l6-v2-copy@2");
    // Ad-hoc text is encoded with the new model; a new case is embedded with it and indexed.
    let v: Value = doctor.post(app.url("/api/v1/search")).json(&json!({ "text": "cough and fever", "k": 2 })).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["text_model"], "minilm-l6-v2-copy@2");
    assert_eq!(hit_ids(&v).len(), 2);
    let fresh = case_id(app.create_case(&doctor, case_form("After the switch")).await).await;
    app.wait_for_search().await;
    let models: Vec<String> = sqlx::query_scalar("SELECT DISTINCT model FROM text_vectors WHERE case_id = $1").bind(fresh).fetch_all(&app.pool).await.unwrap();
    assert_eq!(models, ["minilm-l6-v2-copy@2"]);
    assert!(app.similarity().engine().case(fresh).is_some_and(|c| c.text.is_some()));
    assert!(app.similarity().check().await.unwrap().agrees());
}

#[tokio::test]
async fn doctors_judge_hits_and_eval_judged_scores_the_live_ranking() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let (q, dup) = (ids["synth-21-000000"], ids["synth-21-000000-dup"]);
    let url = app.url(&format!("/api/v1/cases/{q}/similar?k=5"));
    let v: Value = doctor.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["can_judge"], true);
    assert!(v["hits"][0]["judged"].is_null());
    let other = hit_ids(&v)[1];
    let judge = |hit: i64, relevant: &'static str| {
        let (app, doctor) = (&app, &doctor);
        async move {
            let (q, hit) = (q.to_string(), hit.to_string());
            app.server_fn(doctor, "judge_hit", &[("query_case", q.as_str()), ("hit_case", hit.as_str()), ("relevant", relevant)]).await
        }
    };
    assert!(judge(dup, "true").await.status().is_success());
    assert!(judge(other, "false").await.status().is_success());
    let v: Value = doctor.get(&url).send().await.unwrap().json().await.unwrap();
    let judged: HashMap<i64, Value> = v["hits"].as_array().unwrap().iter().map(|h| (h["case"].as_i64().unwrap(), h["judged"].clone())).collect();
    assert_eq!((judged[&dup].clone(), judged[&other].clone()), (json!(true), json!(false)));
    // A doctor may change their mind: one judgement per doctor and pair.
    assert!(judge(other, "true").await.status().is_success());
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM relevance_judgements").fetch_one(&app.pool).await.unwrap();
    assert_eq!(n, 2);
    // Refusals.
    let patient = app.patient("pat@example.org").await;
    let r = app.server_fn(&patient, "judge_hit", &[("query_case", &q.to_string()), ("hit_case", &dup.to_string()), ("relevant", "true")]).await;
    assert!(r.text().await.unwrap().contains("Forbidden"));
    assert!(judge(q, "true").await.text().await.unwrap().contains("itself"));
    assert!(judge(999_999, "true").await.text().await.unwrap().contains("NotFound"));
    // `precedent eval --judged` scores the live ranking against them.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_precedent"))
        .args(["eval", "--judged", "--k", "5", "--json"])
        .env("DATABASE_URL", &app.db_url)
        .env("PRECEDENT_DATA_DIR", app.data_dir.join("cli"))
        .env("PRECEDENT_INDEX_DIR", app.data_dir.join("cli-index"))
        .env("PRECEDENT_MODELS_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/../models"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!((r["queries"].as_i64(), r["judged_pairs"].as_i64(), r["k"].as_i64()), (Some(1), Some(2), Some(5)), "{stdout}");
    assert!((r["p_at_k"].as_f64().unwrap() - 0.4).abs() < 1e-9, "{stdout}");
    assert_eq!(r["judged_precision"].as_f64(), Some(1.0));
    assert!(stdout.contains("P@5"));
}

#[tokio::test]
async fn images_uploaded_on_the_search_page_are_searched_by_token_and_stay_private() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let c = precedent_synth::generate_one(21, 7);
    let orig7 = ids["synth-21-000007"];
    let form = reqwest::multipart::Form::new().part("image", common::file_part("scan.png", c.images[0].png.clone(), "image/png"));
    let res = doctor.post(app.url("/api/v1/search/images")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    let token = v["images"][0]["token"].as_str().unwrap().to_string();
    assert_eq!(v["images"][0]["filename"], "scan.png");
    // Its preview, for the uploader.
    let thumb = v["images"][0]["thumb"].as_str().unwrap();
    let res = doctor.get(app.url(thumb)).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    // Searching by the token finds the scan's case first, through the API and the page URL.
    let v: Value = doctor.post(app.url("/api/v1/search")).json(&json!({ "image_tokens": [token], "k": 3 })).send().await.unwrap().json().await.unwrap();
    assert_eq!(hit_ids(&v)[0], orig7, "{v}");
    assert_eq!(v["query_channels"], json!(["image"]));
    let page = doctor.get(app.url(&format!("/search?img={token}&k=10"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("data-case=\"{orig7}\"")), "the bookmarked search renders its results on the server");
    assert!(page.contains(&format!("value=\"{token}\"")), "the uploaded image stays in the form");
    // Nobody else can use or see the upload.
    let other = app.staff("dr2@example.org", Role::Doctor).await;
    let res = other.post(app.url("/api/v1/search")).json(&json!({ "image_tokens": [token] })).send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("no longer available"));
    assert_eq!(other.get(app.url(thumb)).send().await.unwrap().status(), 404);
    assert_eq!(common::client().get(app.url(thumb)).send().await.unwrap().status(), 401);
    // Bad uploads get clear errors and store nothing.
    let form = reqwest::multipart::Form::new().part("image", common::file_part("notes.png", b"MZ not an image".to_vec(), "image/png"));
    let res = doctor.post(app.url("/api/v1/search/images")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("notes.png"));
    let res = doctor.post(app.url("/api/v1/search/images")).multipart(reqwest::multipart::Form::new().text("x", "y")).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM search_uploads").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 1);
    // Expired uploads are refused and swept at the next upload.
    sqlx::query("UPDATE search_uploads SET expires_at = now() - interval '1 second'").execute(&app.pool).await.unwrap();
    let res = doctor.post(app.url("/api/v1/search")).json(&json!({ "image_tokens": [token] })).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let form = reqwest::multipart::Form::new().part("image", common::file_part("scan.png", c.images[0].png.clone(), "image/png"));
    assert_eq!(doctor.post(app.url("/api/v1/search/images")).multipart(form).send().await.unwrap().status(), 200);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM search_uploads").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 1, "the expired upload was deleted");
}

#[tokio::test]
async fn doctors_get_suggestions_from_confirmed_similar_cases_with_their_evidence() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let alice = app.patient("alice@example.org").await;
    // The query: a patient's copy of library case 7's presenting story and scans.
    let q = ids["synth-21-000007"];
    let v: Value = doctor.get(app.url(&format!("/api/v1/cases/{q}/suggestions"))).send().await.unwrap().json().await.unwrap();
    assert!(v["abstained"].is_null(), "{v}");
    // Every piece of evidence is a library case with its recorded diagnosis; the query is not its own evidence.
    let evidence = v["evidence"].as_array().unwrap();
    assert!(evidence.len() >= 3, "{v}");
    let library: std::collections::HashSet<i64> = ids.values().copied().collect();
    for e in evidence {
        let id = e["case"].as_i64().unwrap();
        assert!(library.contains(&id) && id != q, "{e}");
        assert_eq!(e["basis"], "library");
    }
    let weights: f64 = evidence.iter().map(|e| e["weight"].as_f64().unwrap()).sum();
    assert!((weights - 1.0).abs() < 1e-3, "the vote's shares sum to 1: {weights}");
    // The planted near-duplicate of case 7 has its diagnosis, so that diagnosis leads the differential.
    let truth: String = sqlx::query_scalar("SELECT diagnosis FROM cases WHERE id = $1").bind(q).fetch_one(&app.pool).await.unwrap();
    let top = &v["differential"][0];
    assert_eq!(top["name"].as_str().unwrap().to_lowercase(), truth.to_lowercase(), "{v}");
    let conf = top["confidence"].as_f64().unwrap();
    assert!(conf > 0.0 && conf < 1.0, "{top}");
    // Every suggestion names evidence cases that are in the evidence list.
    let listed: Vec<i64> = evidence.iter().map(|e| e["case"].as_i64().unwrap()).collect();
    for s in v["differential"].as_array().unwrap().iter().chain(v["categories"].as_array().unwrap()).chain(v["next_tests"].as_array().unwrap()) {
        for id in s["evidence"].as_array().unwrap() {
            assert!(listed.contains(&id.as_i64().unwrap()), "{s}");
        }
    }
    let region = v["categories"].as_array().unwrap().iter().find(|c| c["kind"] == "body_region").expect("a body region");
    let want_region: String = sqlx::query_scalar("SELECT body_region FROM cases WHERE id = $1").bind(q).fetch_one(&app.pool).await.unwrap();
    assert_eq!(region["label"].as_str().unwrap().to_lowercase(), want_region.to_lowercase());
    assert!(v["specialist"]["name"].is_string(), "{v}");

    // An ad-hoc search carries suggestions for staff, never for patients.
    let ask = json!({ "case_id": q, "k": 5 });
    let v: Value = doctor.post(app.url("/api/v1/search")).json(&ask).send().await.unwrap().json().await.unwrap();
    assert!(v["suggestions"]["evidence"].as_array().is_some_and(|e| e.len() >= 3 && e.iter().all(|e| e["case"] != q)), "{v}");
    let v: Value = alice.post(app.url("/api/v1/search")).json(&json!({ "text": "cough", "k": 5 })).send().await.unwrap().json().await.unwrap();
    assert!(v.get("suggestions").is_none(), "{v}");

    // A patient's own case gets no suggestions for the patient (a doctor's released report is
    // their view); a patient's unreviewed case is never evidence for anyone.
    let own = case_id(app.create_case(&alice, case_form("My cough")).await).await;
    app.wait_for_search().await;
    assert_eq!(alice.get(app.url(&format!("/api/v1/cases/{own}/suggestions"))).send().await.unwrap().status(), 403);
    assert_eq!(alice.get(app.url(&format!("/api/v1/cases/{q}/suggestions"))).send().await.unwrap().status(), 403);
    assert_eq!(common::client().get(app.url(&format!("/api/v1/cases/{q}/suggestions"))).send().await.unwrap().status(), 401);
    let v: Value = doctor.get(app.url(&format!("/api/v1/cases/{q}/suggestions"))).send().await.unwrap().json().await.unwrap();
    assert!(v["evidence"].as_array().unwrap().iter().all(|e| e["case"] != own), "{v}");
    // Once a doctor has reviewed it, it can be evidence for others, never for itself.
    let res = app
        .server_fn(
            &doctor,
            "review_case",
            &[
                ("case_id", &own.to_string()),
                ("action", "correct"),
                ("diagnosis", "Community-acquired pneumonia"),
                ("certainty", "certain"),
                ("notes", ""),
                ("next_tests", ""),
                ("specialist", "Pulmonology"),
            ],
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap_or_default());
    app.wait_for_search().await;
    let v: Value = doctor.get(app.url(&format!("/api/v1/cases/{own}/suggestions"))).send().await.unwrap().json().await.unwrap();
    assert!(v["evidence"].as_array().unwrap().iter().all(|e| e["case"] != own), "never its own evidence: {v}");
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'case.suggest'").fetch_one(&app.pool).await.unwrap();
    assert!(audited >= 4);

    // The case report: a doctor gets a draft prefilled from the suggestions; the patient sees
    // nothing until it is released, then only the released version, never the doctor's decisions.
    let report = |c: &reqwest::Client| {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/cases/{own}/report"));
        async move { c.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let r = report(&doctor).await;
    assert!(r["current"].is_null() && r["can_edit"] == true, "{r}");
    let prefill = r["prefill"]["diagnoses"].as_str().expect("a prefilled draft").to_string();
    assert!(!prefill.is_empty(), "{r}");
    assert!(report(&alice).await["current"].is_null());
    let bob = app.patient("bob@example.org").await;
    assert_eq!(bob.get(app.url(&format!("/api/v1/cases/{own}/report"))).send().await.unwrap().status(), 404);
    let first = prefill.lines().next().unwrap().to_string();
    let save = |c: &reqwest::Client, body: Value| {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/cases/{own}/report"));
        async move { c.post(url).json(&body).send().await.unwrap().status().as_u16() }
    };
    let draft = json!({ "diagnoses": format!("{first}\nPleural effusion"), "next_tests": "", "specialist": "Pulmonology", "summary": "" });
    assert_eq!(save(&doctor, draft.clone()).await, 204);
    assert_eq!(save(&alice, draft).await, 403, "patients do not write reports");
    assert!(report(&alice).await["current"].is_null(), "a draft is not shown to the patient");
    assert_eq!(
        save(&doctor, json!({ "diagnoses": "", "summary": "", "next_tests": "", "specialist": "", "release": true })).await,
        422,
        "an empty report is not released"
    );
    let released = json!({ "diagnoses": first.clone(), "next_tests": "Sputum culture", "specialist": "Pulmonology", "summary": "Most likely a chest infection.", "release": true });
    assert_eq!(save(&doctor, released).await, 204);
    let seen = report(&alice).await;
    assert_eq!(seen["current"]["status"], "released");
    assert_eq!(seen["current"]["diagnoses"], json!([first]));
    assert_eq!(seen["current"]["summary"], "Most likely a chest infection.");
    assert_eq!(seen["current"]["decisions"], json!([]), "the doctor's decisions are theirs");
    assert!(seen["history"].as_array().unwrap().is_empty() && seen["prefill"].is_null(), "{seen}");
    // The library is not shared: the patient learns nothing of the evidence cases.
    assert_eq!(seen["teaching_evidence"], json!([]));
    let r = report(&doctor).await;
    assert_eq!(r["history"].as_array().unwrap().len(), 2);
    let decisions = r["current"]["decisions"].as_array().unwrap();
    assert!(decisions.iter().any(|d| d["kind"] == "diagnosis" && d["decision"] == "accepted"), "{r}");
    assert!(decisions.iter().any(|d| d["kind"] == "next_test" && d["suggested"] == "Sputum culture" && d["decision"] == "added"), "{r}");
    // Shared as a teaching library, the evidence's titles may be named to the patient.
    precedent::import::set_sharing(&app.state, "dup-library", precedent::import::Sharing::Patients).await.unwrap();
    let titles = seen_titles(&report(&alice).await);
    assert!(!titles.is_empty());
    let library_titles: Vec<String> = sqlx::query_scalar("SELECT title FROM cases WHERE shareable").fetch_all(&app.pool).await.unwrap();
    assert!(titles.iter().all(|t| library_titles.contains(t)), "{titles:?}");
    let counts = precedent_store::case_reports::decision_counts(&app.pool).await.unwrap();
    assert!(counts.iter().any(|(k, d, n)| k == "diagnosis" && d == "accepted" && *n >= 1), "{counts:?}");
}

fn seen_titles(v: &Value) -> Vec<String> {
    v["teaching_evidence"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn refine_by_example_moves_marked_hits_and_reuses_the_judgements() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let q = ids["synth-21-000003"];
    let answer = |refine: bool| {
        let (doctor, url) = (doctor.clone(), app.url(&format!("/api/v1/cases/{q}/similar?k=22&refine={refine}")));
        async move { doctor.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let ranked = |refine: bool| {
        let a = answer(refine);
        async move { hit_ids(&a.await) }
    };
    // The text similarity of `hit` in an answer.
    let text_pct = |v: &Value, hit: i64| -> f64 {
        let h = v["hits"].as_array().unwrap().iter().find(|h| h["case"] == hit).unwrap();
        h["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "text").unwrap()["pct"].as_f64().unwrap()
    };
    let first = answer(false).await;
    let before = hit_ids(&first);
    assert_eq!(before.len(), 22);
    // The doctor marks a low-ranked hit relevant and a high-ranked one not relevant.
    let (good, bad) = (before[15], before[2]);
    for (hit, relevant) in [(good, "true"), (bad, "false")] {
        let r = app.server_fn(&doctor, "judge_hit", &[("query_case", &q.to_string()), ("hit_case", &hit.to_string()), ("relevant", relevant)]).await;
        assert!(r.status().is_success());
    }
    let refined = answer(true).await;
    let after = hit_ids(&refined);
    let pos = |v: &[i64], id: i64| v.iter().position(|x| *x == id).unwrap();
    assert!(pos(&after, good) < pos(&before, good), "the relevant example moves up: {} -> {}", pos(&before, good), pos(&after, good));
    assert!(text_pct(&refined, good) > text_pct(&first, good));
    assert!(text_pct(&refined, bad) < text_pct(&first, bad), "the not-relevant example matches less");
    // Without refine, the same ranking as before; the marks are stored judgements either way.
    assert_eq!(ranked(false).await, before);
    let marks: i64 = sqlx::query_scalar("SELECT count(*) FROM relevance_judgements WHERE query_case = $1").bind(q).fetch_one(&app.pool).await.unwrap();
    assert_eq!(marks, 2);
    // A patient's refine is a no-op (they have no marks), never an error.
    let alice = app.patient("alice@example.org").await;
    let own = case_id(app.create_case(&alice, case_form("My cough")).await).await;
    app.wait_for_search().await;
    assert_eq!(alice.get(app.url(&format!("/api/v1/cases/{own}/similar?refine=true"))).send().await.unwrap().status(), 200);
}

/// The search page's form posts: the query (symptoms, lab values) is kept under an opaque id
/// and the page's URL holds only that id, for its author alone; the page renders the results
/// and the typed text again from it. Anonymous posts go to the login page.
#[tokio::test]
async fn search_queries_live_under_an_opaque_id_never_in_the_url() {
    let app = spawn_app().await;
    let ids = library(&app).await;
    assert!(!ids.is_empty());
    let doctor = app.staff("dr-saved@example.org", Role::Doctor).await;
    let typed = "productive cough with fever, CRP raised";
    let res = doctor
        .post(app.url("/search"))
        .form(&[("text", typed), ("labs", "CRP 85 mg/L 0 - 5\nWBC 14.2 x10^9/L 4 - 11"), ("k", "10"), ("sort", "score"), ("not-a-field", "dropped")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/search?s=") && location.len() == "/search?s=".len() + 32, "{location}");
    assert!(!location.contains("cough") && !location.contains("CRP"));
    let page = doctor.get(app.url(&location)).send().await.unwrap();
    let status = page.status();
    let html = page.text().await.unwrap();
    let alert = html.split("role=\"alert\"").nth(1).map(|a| a.chars().take(200).collect::<String>()).unwrap_or_default();
    assert_eq!(status, 200, "{alert}");
    assert!(html.contains("class=\"similar-hit\""), "the results render on the server");
    assert!(html.contains(">productive cough with fever, CRP raised</textarea>"), "the server-rendered form shows what was typed");
    let fields: Vec<(String, String)> = app.server_fn(&doctor, "saved_search", &[("id", &location["/search?s=".len()..])]).await.json().await.unwrap();
    assert_eq!(fields.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["text", "labs", "k", "sort"]);

    // Another user (even staff) cannot open it; anonymous posts go to the login page.
    let other = app.staff("dr-other@example.org", Role::Doctor).await;
    let theirs = other.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(theirs.contains("This search is not available") && !theirs.contains("productive cough"));
    let anon = common::client().post(app.url("/search")).form(&[("text", typed)]).send().await.unwrap();
    assert_eq!(anon.headers()["location"], "/login");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM saved_searches").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 1);
}
