//! The embedding pipeline: jobs queued with each case, vectors computed in the background by the
//! real ONNX encoders, and nothing lost when the server stops mid-way.

mod common;

use common::{case_form, case_id, spawn_app, spawn_app_without_worker};
use precedent_store::embeddings;
use precedent_types::CaseId;

#[tokio::test]
async fn new_cases_are_embedded_in_the_background() {
    let app = spawn_app().await;
    let c = app.patient("ann@example.org").await;
    let id = case_id(app.create_case(&c, case_form("Cough and fever")).await).await;
    app.wait_for_indexing().await;
    let case: serde_json::Value = c.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(case["indexing"], false);
    let enc = common::encoders().await;
    let model = enc.text.spec().model_id();
    let presenting = embeddings::text_vector(&app.pool, CaseId(id), "presenting", &model).await.unwrap().expect("presenting vector");
    let full = embeddings::text_vector(&app.pool, CaseId(id), "full", &model).await.unwrap().expect("full vector");
    assert_eq!(presenting.len(), enc.text.spec().dim);
    // The stored vector is the encoder's vector for the case's presenting text.
    let expected = enc.text.encode(&["Cough and fever for three days."]).unwrap().remove(0);
    assert_eq!(presenting, expected);
    assert_ne!(presenting, full);
    if let Some(ie) = &enc.image {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM image_vectors WHERE case_id = $1 AND model = $2")
            .bind(id)
            .bind(ie.spec().model_id())
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
}

#[tokio::test]
async fn queued_jobs_survive_a_stopped_worker_and_the_page_says_indexing() {
    let mut app = spawn_app_without_worker().await;
    let c = app.patient("ben@example.org").await;
    let id = case_id(app.create_case(&c, case_form("Waiting to be indexed")).await).await;
    // No worker: the case is saved and shown, marked as indexing.
    let html = c.get(app.url(&format!("/cases/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Indexing…"), "{html}");
    // A job that a crashed worker left running is taken over once its lease expires.
    let id2 = case_id(app.create_case(&c, case_form("Left running by a crash")).await).await;
    sqlx::query("UPDATE embedding_jobs SET state = 'running', updated_at = now() - interval '1 hour' WHERE case_id = $1")
        .bind(id2)
        .execute(&app.pool)
        .await
        .unwrap();
    app.start_worker().await;
    app.wait_for_indexing().await;
    let states = embeddings::counts(&app.pool).await.unwrap();
    assert_eq!(states, vec![("done".to_string(), 2)]);
    let html = c.get(app.url(&format!("/cases/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("Indexing…"));
    app.worker.take().unwrap().stop().await;
}

#[tokio::test]
async fn failed_jobs_are_retried_then_given_up() {
    let app = spawn_app_without_worker().await;
    let c = app.patient("cat@example.org").await;
    let id = case_id(app.create_case(&c, case_form("Retry me")).await).await;
    let job = embeddings::claim(&app.pool, 300).await.unwrap().expect("a job");
    assert_eq!(job.case_id, CaseId(id));
    assert_eq!(job.attempts, 1);
    // Claimed jobs are not handed out twice.
    assert!(embeddings::claim(&app.pool, 300).await.unwrap().is_none());
    embeddings::fail(&app.pool, &job, "boom", Some(0)).await.unwrap();
    let again = embeddings::claim(&app.pool, 300).await.unwrap().expect("retried");
    assert_eq!((again.id, again.attempts), (job.id, 2));
    embeddings::fail(&app.pool, &again, "boom again", None).await.unwrap();
    assert!(embeddings::claim(&app.pool, 300).await.unwrap().is_none());
    let (state, err): (String, String) =
        sqlx::query_as("SELECT state, last_error FROM embedding_jobs WHERE id = $1").bind(job.id).fetch_one(&app.pool).await.unwrap();
    assert_eq!((state.as_str(), err.as_str()), ("failed", "boom again"));
}

#[tokio::test]
async fn an_unusable_image_does_not_block_the_rest_of_the_case() {
    let app = spawn_app().await;
    let c = app.patient("dee@example.org").await;
    // A valid 8x8 PNG: accepted at upload, but nothing is left of it after the encoder's crop.
    let mut tiny = Vec::new();
    image::DynamicImage::ImageLuma8(image::GrayImage::new(8, 8)).write_to(&mut std::io::Cursor::new(&mut tiny), image::ImageFormat::Png).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("title", "Tiny scan")
        .text("history", "Headache for a week.")
        .part("images", common::file_part("tiny.png", tiny, "image/png"));
    let id = case_id(app.create_case(&c, form).await).await;
    app.wait_for_indexing().await;
    let states = embeddings::counts(&app.pool).await.unwrap();
    assert_eq!(states, vec![("done".to_string(), 1)]);
    let texts: i64 = sqlx::query_scalar("SELECT count(*) FROM text_vectors WHERE case_id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(texts, 2);
    let images: i64 = sqlx::query_scalar("SELECT count(*) FROM image_vectors WHERE case_id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(images, 0);
}
