//! Creating and reading cases: uploads, bad uploads and who may see what.

mod common;

use common::{case_form, case_id, client, file_part, sample_files, spawn_app, PASSWORD};
use precedent_types::Role;
use reqwest::multipart::Form;

#[tokio::test]
async fn patient_creates_a_case_and_sees_it_with_its_files() {
    let app = spawn_app().await;
    let alice = app.patient("alice@example.org").await;
    let id = case_id(app.create_case(&alice, case_form("Cough and fever")).await).await;

    let case: serde_json::Value = alice.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(case["title"], "Cough and fever");
    assert_eq!(case["images"][0]["mime"], "image/png");
    assert_eq!(case["images"][0]["modality"], "xray");
    assert!(case["reports"][0]["text"]["Extracted"].as_str().unwrap().contains("Haemoglobin"));

    // The page renders on the server with the text, the thumbnail and the extracted lab text.
    let page = alice.get(app.url(&format!("/cases/{id}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Cough and fever"));
    assert!(html.contains("Cough and fever for three days."));
    let image_id = case["images"][0]["id"].as_i64().unwrap();
    assert!(html.contains(&format!("/media/images/{image_id}/thumb")));
    assert!(html.contains("Haemoglobin"));

    // Thumbnails and originals are served, checksums intact.
    let thumb = alice.get(app.url(&format!("/media/images/{image_id}/thumb"))).send().await.unwrap();
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let t = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert!(t.width() <= 320 && t.height() <= 320);
    let original = alice.get(app.url(&format!("/media/images/{image_id}"))).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(original.as_ref(), sample_files().0.as_slice());
    let report_id = case["reports"][0]["id"].as_i64().unwrap();
    let pdf = alice.get(app.url(&format!("/media/reports/{report_id}"))).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");

    // Listed for the owner, newest first.
    let id2 = case_id(app.create_case(&alice, case_form("Second case")).await).await;
    let list: serde_json::Value = alice.get(app.url("/api/v1/cases")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["id"], id2);
    assert_eq!(list["items"][1]["id"], id);
    assert_eq!(precedent_store::audit::count(&app.pool, "case.create", None).await.unwrap(), 2);
    assert!(precedent_store::audit::count(&app.pool, "case.read", Some(id)).await.unwrap() >= 2);
}

#[tokio::test]
async fn patients_cannot_see_each_others_cases_but_doctors_can() {
    let app = spawn_app().await;
    let alice = app.patient("alice@example.org").await;
    let bob = app.patient("bob@example.org").await;
    let id = case_id(app.create_case(&alice, case_form("Alice's case")).await).await;
    let case: serde_json::Value = alice.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    let image_id = case["images"][0]["id"].as_i64().unwrap();
    let report_id = case["reports"][0]["id"].as_i64().unwrap();

    // Bob guesses ids: he gets nothing, not even confirmation the case exists.
    for path in
        [format!("/api/v1/cases/{id}"), format!("/media/images/{image_id}"), format!("/media/images/{image_id}/thumb"), format!("/media/reports/{report_id}")]
    {
        assert_eq!(bob.get(app.url(&path)).send().await.unwrap().status(), 404, "{path}");
    }
    let page = bob.get(app.url(&format!("/cases/{id}"))).send().await.unwrap();
    assert_eq!(page.status(), 404);
    let html = page.text().await.unwrap();
    assert!(html.contains("Case not found"));
    assert!(!html.contains("Alice&#x27;s case") && !html.contains("Alice's case"));
    let list: serde_json::Value = bob.get(app.url("/api/v1/cases")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 0);
    assert!(precedent_store::audit::count(&app.pool, "case.read", Some(id)).await.unwrap() >= 1);

    // Anonymous visitors are sent to log in or refused.
    let anon = client();
    let r = anon.get(app.url(&format!("/cases/{id}"))).send().await.unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(anon.get(app.url(&format!("/media/images/{image_id}"))).send().await.unwrap().status(), 401);

    // Doctors and admins see every case.
    for (email, role) in [("doc@example.org", Role::Doctor), ("admin@example.org", Role::Admin)] {
        let staff = app.staff(email, role).await;
        assert_eq!(staff.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().status(), 200);
        assert_eq!(staff.get(app.url(&format!("/media/images/{image_id}/thumb"))).send().await.unwrap().status(), 200);
        let list: serde_json::Value = staff.get(app.url("/api/v1/cases")).send().await.unwrap().json().await.unwrap();
        assert_eq!(list["total"], 1);
    }
}

async fn refused(app: &common::TestApp, c: &reqwest::Client, form: Form, expect: &str) {
    let before = app.case_count().await;
    let res = app.create_case(c, form).await;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status, 422, "{body}");
    let msg = body["error"].as_str().unwrap();
    assert!(msg.contains(expect), "{msg:?} should mention {expect:?}");
    assert_eq!(app.case_count().await, before, "nothing half-written");
}

/// A PNG whose header claims `w`×`h` pixels (valid CRCs), with almost no data.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |body: &[u8]| {
        png.extend_from_slice(&((body.len() - 4) as u32).to_be_bytes());
        png.extend_from_slice(body);
        png.extend_from_slice(&crc32(body).to_be_bytes());
    };
    chunk(&ihdr);
    chunk(b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01");
    chunk(b"IEND");
    png
}

#[tokio::test]
async fn bad_uploads_get_clear_errors_and_leave_nothing_behind() {
    let app = spawn_app().await;
    let c = app.patient("eve@example.org").await;
    let (png, pdf) = sample_files();

    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".repeat(40);
    refused(&app, &c, Form::new().text("title", "x").part("images", file_part("scan.png", exe.clone(), "image/png")), "not a JPEG or PNG").await;
    refused(&app, &c, Form::new().text("title", "x").part("reports", file_part("labs.pdf", exe, "application/pdf")), "not a PDF").await;
    refused(&app, &c, Form::new().text("title", "  ").part("images", file_part("a.png", png.clone(), "image/png")), "title").await;
    refused(&app, &c, Form::new().text("title", "x").part("images", file_part("bomb.png", png_claiming(100_000, 100_000), "image/png")), "pixels").await;
    let mut truncated = png.clone();
    truncated.truncate(png.len() / 2);
    refused(&app, &c, Form::new().text("title", "x").part("images", file_part("cut.png", truncated, "image/png")), "could not be read").await;
    refused(&app, &c, Form::new().text("title", "x").part("images", file_part("empty.png", Vec::new(), "image/png")), "empty").await;
    refused(&app, &c, Form::new().text("title", "x").part("images", file_part("huge.png", vec![0x89; 3 * 1024 * 1024], "image/png")), "too large").await;
    refused(&app, &c, Form::new().text("title", "x").text("history", "a".repeat(100_001)), "too long").await;
    refused(&app, &c, Form::new().text("title", "No scan").text("history", "Only text."), "at least one scan").await;
    // A good image next to a bad one: the whole case is refused, nothing is stored.
    refused(
        &app,
        &c,
        Form::new()
            .text("title", "x")
            .part("images", file_part("ok.png", png.clone(), "image/png"))
            .part("images", file_part("bad.png", b"GIF89a".to_vec(), "image/png")),
        "bad.png",
    )
    .await;
    let images: i64 = sqlx::query_scalar("SELECT count(*) FROM case_images").fetch_one(&app.pool).await.unwrap();
    assert_eq!(images, 0);
    let _ = pdf;
}

#[tokio::test]
async fn pdfs_without_text_or_unreadable_are_kept_with_a_clear_status() {
    let app = spawn_app().await;
    let c = app.patient("frank@example.org").await;
    let scanned = precedent_synth::pdf::PdfWriter::new().finish_blank();
    let form = Form::new()
        .text("title", "Scanned report")
        .part("images", file_part("scan.png", sample_files().0, "image/png"))
        .part("reports", file_part("scan.pdf", scanned, "application/pdf"))
        .part("reports", file_part("broken.pdf", b"%PDF-1.4 this is not a real pdf".to_vec(), "application/pdf"));
    let id = case_id(app.create_case(&c, form).await).await;
    let html = c.get(app.url(&format!("/cases/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("No text layer — values not extracted."), "{html}");
    assert!(html.contains("could not be read"));
}

#[tokio::test]
async fn plain_form_posts_redirect_like_a_browser_expects() {
    let app = spawn_app().await;
    let c = app.patient("gina@example.org").await;
    let res = c.post(app.url("/api/v1/cases")).header("Accept", "text/html").multipart(case_form("Form case")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("/cases/"), "{loc}");
    let res = c.post(app.url("/api/v1/cases")).header("Accept", "text/html").multipart(Form::new().text("title", "")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/cases/new?error=Give%20the%20case"));
}

#[tokio::test]
async fn demo_seed_is_deterministic_and_idempotent() {
    let app = spawn_app().await;
    let added = precedent::seed::seed_cases(&app.state, 12, 1, PASSWORD).await.unwrap();
    assert_eq!(added, precedent::seed::Seeded { cases: 12, new_password: Some(PASSWORD.to_string()) });
    // Seeding again adds nothing and does not hand out (or change) the password again.
    let again = precedent::seed::seed_cases(&app.state, 12, 1, "another-password-entirely").await.unwrap();
    assert_eq!(again, precedent::seed::Seeded { cases: 0, new_password: None });
    assert_eq!(app.case_count().await, 12);
    let validated: i64 = sqlx::query_scalar("SELECT count(DISTINCT case_id) FROM validations").fetch_one(&app.pool).await.unwrap();
    assert_eq!(validated, 4);
    // Every demo case has its images and a readable lab report.
    let unread: i64 = sqlx::query_scalar("SELECT count(*) FROM lab_reports WHERE text_status <> 'extracted'").fetch_one(&app.pool).await.unwrap();
    assert_eq!(unread, 0);
    // The demo patient sees only their own share.
    let c = client();
    assert!(app.login(&c, "patient@demo.precedent", PASSWORD).await.status().is_success());
    let list: serde_json::Value = c.get(app.url("/api/v1/cases")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 6);
    // A random demo password unless one is configured: never the same twice.
    assert_ne!(precedent::seed::demo_password(None), precedent::seed::demo_password(None));
    assert_eq!(precedent::seed::demo_password(Some("given")), "given");
    // Validation history is append-only.
    let err = sqlx::query("UPDATE validations SET diagnosis = 'x'").execute(&app.pool).await.unwrap_err();
    assert!(err.to_string().contains("append-only"));
}
