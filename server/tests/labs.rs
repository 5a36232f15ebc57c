//! Lab reports end to end: values read at upload, shown flagged on the case page with their
//! source lines, trends over reports, and doctors' corrections kept beside the reading.

mod common;

use common::{case_id, file_part, spawn_app};
use precedent_types::Role;
use reqwest::multipart::Form;
use serde_json::Value;

fn form_with_reports(title: &str, reports: &[(&str, Vec<u8>)]) -> Form {
    let (png, _) = common::sample_files();
    let mut f = Form::new().text("title", title.to_string()).text("history", "Tired for a month.").part("images", file_part("scan.png", png, "image/png"));
    for (name, pdf) in reports {
        f = f.part("reports", file_part(name, pdf.clone(), "application/pdf"));
    }
    f
}

#[tokio::test]
async fn uploaded_reports_become_flagged_values_with_trends_and_corrections() {
    let app = spawn_app().await;
    let alice = app.patient("alice@example.org").await;
    let first = precedent_synth::generate_one(5, 1);
    let fixture = precedent_synth::labfix::fixture(3, 0, 0);
    let second = precedent_synth::generate_one(5, 11);
    let reports = [("march.pdf", first.lab_pdf.clone().unwrap()), ("fixture.pdf", fixture.pdf.clone()), ("april.pdf", second.lab_pdf.clone().unwrap())];
    let id = case_id(app.create_case(&alice, form_with_reports("Tiredness", &reports)).await).await;
    let case: Value = alice.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    let values = case["reports"][0]["values"].as_array().unwrap();
    assert_eq!(values.len(), first.lab_values.len(), "{values:?}");
    for (v, truth) in values.iter().zip(&first.lab_values) {
        assert_eq!(v["printed_name"], truth.analyte);
        assert_eq!(v["value"].as_str().unwrap().parse::<f64>().unwrap(), truth.printed.parse::<f64>().unwrap(), "{v}");
        assert!(v["loinc"].is_string(), "every synthetic analyte is in the catalog: {v}");
        let expected_flag = truth.flag.map(|f| if f == 'H' { "high" } else { "low" });
        match (v["flag"].as_str(), expected_flag) {
            (Some(got), Some(want)) => assert!(got == want || got == format!("critical_{want}"), "{v}"),
            (got, want) => assert_eq!(got, want, "{v}"),
        }
        assert!(v["raw"].as_str().unwrap().contains(truth.analyte));
    }
    assert_eq!(case["reports"][1]["values"].as_array().unwrap().len(), fixture.values.len());
    assert_eq!(case["reports"][1]["collected_on"], fixture.collected.as_str());
    // Analytes measured in more than one report have a trend, in canonical units.
    let trends = case["lab_trends"].as_array().unwrap();
    let hb = trends.iter().find(|t| t["analyte"] == "Haemoglobin").expect("a haemoglobin trend");
    assert_eq!(hb["unit"], "g/dL");
    assert!(hb["points"].as_array().unwrap().len() >= 2);

    // The case page shows the table with flags and the source line on hover.
    let html = alice.get(app.url(&format!("/cases/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("class=\"labs\""));
    assert!(html.contains("Read from: Haemoglobin"));
    assert!(html.contains("class=\"trend\""));
    if first.lab_values.iter().any(|v| v.flag.is_some()) {
        assert!(html.contains("flag flag-"), "flagged values are marked");
    }

    // A doctor corrects a value; the reading stays beside it.
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let target = values[0]["id"].as_i64().unwrap();
    let original = values[0]["value"].as_str().unwrap().to_string();
    let res = app
        .server_fn(&doctor, "correct_lab_value", &[("value_id", &target.to_string()), ("value", "3.1"), ("unit", ""), ("note", "re-read from the PDF")])
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let case: Value = alice.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    let v = &case["reports"][0]["values"][0];
    assert_eq!(v["value"], "3.1");
    assert_eq!(v["flag"], "critical_low", "3.1 g/dL haemoglobin is below the critical limit: {v}");
    // The patient sees the doctor's name, never their e-mail address; staff see the address.
    assert_eq!(v["correction"]["by"], "Staff");
    let as_staff: Value = doctor.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(as_staff["reports"][0]["values"][0]["correction"]["by"], "dr@example.org");
    assert_eq!(v["correction"]["note"], "re-read from the PDF");
    assert!(v["correction"]["original"].as_str().unwrap().starts_with(&original));
    let (stored, corrections): (Option<f64>, i64) =
        sqlx::query_as("SELECT value, (SELECT count(*) FROM lab_value_corrections WHERE value_id = $1) FROM lab_values WHERE id = $1")
            .bind(target)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored.map(|s| s.to_string()), Some(original.clone()), "the value as read is kept");
    assert_eq!(corrections, 1);
    assert!(sqlx::query("DELETE FROM lab_value_corrections").execute(&app.pool).await.is_err(), "corrections are append-only");
    // The case's lab profile in the search index follows the correction (latest report first:
    // haemoglobin is measured again in the third report, so the first report's correction only
    // counts where it is the latest value; the profile exists and is current either way).
    app.wait_for_search().await;
    let profile = app.similarity().engine().case(id).and_then(|c| c.labs).expect("a lab profile");
    assert!(profile.len() >= 15, "{profile:?}");

    // Refusals: nonsense, the patient herself, another patient, anonymous.
    let res = app.server_fn(&doctor, "correct_lab_value", &[("value_id", &target.to_string()), ("value", "")]).await;
    assert!(res.text().await.unwrap().contains("Enter the value"));
    let res = app.server_fn(&doctor, "correct_lab_value", &[("value_id", &target.to_string()), ("value", "lots and lots")]).await;
    assert!(res.text().await.unwrap().contains("not a value"));
    let res = app.server_fn(&alice, "correct_lab_value", &[("value_id", &target.to_string()), ("value", "1")]).await;
    assert!(res.text().await.unwrap().contains("Forbidden"));
    let bob = app.patient("bob@example.org").await;
    let res = app.server_fn(&bob, "correct_lab_value", &[("value_id", &target.to_string()), ("value", "1")]).await;
    assert!(res.text().await.unwrap().contains("NotFound"));
    let res = app.server_fn(&common::client(), "correct_lab_value", &[("value_id", &target.to_string()), ("value", "1")]).await;
    assert!(!res.status().is_success());
    let res = app.server_fn(&doctor, "correct_lab_value", &[("value_id", "999999"), ("value", "1")]).await;
    assert!(res.text().await.unwrap().contains("NotFound"));
    let corrections: i64 = sqlx::query_scalar("SELECT count(*) FROM lab_value_corrections").fetch_one(&app.pool).await.unwrap();
    assert_eq!(corrections, 1, "refused corrections write nothing");
    assert_eq!(precedent_store::audit::count(&app.pool, "lab.correct", None).await.unwrap(), 3, "the correction and the two refusals");
}

#[tokio::test]
async fn reports_without_text_or_values_are_kept_and_say_so() {
    let app = spawn_app().await;
    let alice = app.patient("alice@example.org").await;
    let scan = precedent_synth::pdf::PdfWriter::new().finish_blank();
    let mut prose = precedent_synth::pdf::PdfWriter::new();
    prose.page().text(50.0, 780.0, 11.0, false, "Dear colleague, thank you for seeing this patient.");
    let prose = prose.finish();
    let id = case_id(app.create_case(&alice, form_with_reports("Letters", &[("scan.pdf", scan), ("letter.pdf", prose)])).await).await;
    let case: Value = alice.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(case["reports"][0]["text"], "NoTextLayer");
    assert_eq!(case["reports"][1]["values"].as_array().unwrap().len(), 0);
    assert!(case["reports"][1]["text"]["Extracted"].as_str().unwrap().contains("Dear colleague"));
    let html = alice.get(app.url(&format!("/cases/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("No text layer — values not extracted."));
    assert!(html.contains("No values recognised in this report; its text is kept."));
}

/// A PDF whose one page's content stream inflates to `inflated_mb` of zeros (a decompression bomb).
fn deflate_bomb_pdf(inflated_mb: usize) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..inflated_mb {
        z.write_all(&zeros).unwrap();
    }
    let stream = z.finish().unwrap();
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |pdf: &mut Vec<u8>, body: &[u8]| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    };
    object(&mut pdf, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut pdf, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(&mut pdf, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>");
    let mut contents = format!("<< /Length {} /Filter /FlateDecode >>\nstream\n", stream.len()).into_bytes();
    contents.extend_from_slice(&stream);
    contents.extend_from_slice(b"\nendstream");
    object(&mut pdf, &contents);
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for o in &offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1).as_bytes());
    pdf
}

/// A hostile PDF meets the reader's memory cap and deadline: a clear error, the report and the
/// case kept, and the server (which reads PDFs in a capped child process) unharmed.
#[tokio::test]
async fn hostile_pdfs_are_bounded_in_memory_and_time() {
    use precedent_labs::{LabsError, PdfReader};
    use std::time::Duration;
    let bomb = deflate_bomb_pdf(1536);
    assert!(bomb.len() < 4 * 1024 * 1024, "{} bytes", bomb.len());
    let exe = env!("CARGO_BIN_EXE_precedent");
    let capped = PdfReader::in_process(exe, 512, Duration::from_secs(60));
    assert_eq!(capped.read(&bomb), Err(LabsError::TooMuchMemory(512)));
    // The deadline kills the child (a real report cannot be read in a millisecond).
    let report = precedent_synth::generate(3, 1).remove(0).lab_pdf.unwrap();
    let hurried = PdfReader::in_process(exe, 1024, Duration::from_millis(1));
    assert_eq!(hurried.read(&report), Err(LabsError::Timeout(Duration::from_millis(1))));
    // Through the case page: the test server caps its reader at 1 GB.
    let app = spawn_app().await;
    let alice = app.patient("alice@example.org").await;
    let id = case_id(app.create_case(&alice, form_with_reports("Bomb", &[("bomb.pdf", bomb), ("labs.pdf", report)])).await).await;
    let case: Value = alice.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    let failed = case["reports"][0]["text"]["Failed"].as_str().unwrap_or_default();
    assert!(failed.contains("more than 1024 MB of memory"), "{}", case["reports"][0]);
    assert!(!case["reports"][1]["values"].as_array().unwrap().is_empty(), "the good report beside it is read");
    let html = alice.get(app.url(&format!("/cases/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("The PDF could not be read: reading the PDF needed more than 1024 MB of memory"));
}

/// Reports stored without values (before values were read, or unreadable at the time) get them
/// from `precedent labs backfill`; the case's lab profile is marked changed for the index.
#[tokio::test]
async fn backfill_reads_values_for_reports_stored_without_them() {
    let app = spawn_app().await;
    let alice = app.patient("alice@example.org").await;
    let fixture = precedent_synth::labfix::fixture(4, 1, 0);
    let scan = precedent_synth::pdf::PdfWriter::new().finish_blank();
    let reports = [("old.pdf", fixture.pdf.clone()), ("failed.pdf", fixture.pdf.clone()), ("scan.pdf", scan)];
    let id = case_id(app.create_case(&alice, form_with_reports("Old reports", &reports)).await).await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM lab_reports WHERE case_id = $1 ORDER BY id").bind(id).fetch_all(&app.pool).await.unwrap();
    app.wait_for_search().await; // the case's vectors are written (they log changes too)
                                 // As stored by an earlier version: the first with its text only, the second unreadable then.
    sqlx::query("DELETE FROM lab_values WHERE case_id = $1").bind(id).execute(&app.pool).await.unwrap();
    sqlx::query("UPDATE lab_reports SET text_status = 'failed', extracted_text = '', extract_error = 'reading the PDF took longer than 1s' WHERE id = $1")
        .bind(ids[1])
        .execute(&app.pool)
        .await
        .unwrap();
    let changes_before: i64 = sqlx::query_scalar("SELECT count(*) FROM search_changes WHERE case_id = $1").bind(id).fetch_one(&app.pool).await.unwrap();

    let r = precedent::labs::backfill(&app.pool, &app.state.blobs, &app.state.pdf, false).await.unwrap();
    assert_eq!((r.reports, r.filled, r.values, r.reread, r.still_empty), (3, 1, fixture.values.len(), 0, 2), "{r:?}");
    let r = precedent::labs::backfill(&app.pool, &app.state.blobs, &app.state.pdf, true).await.unwrap();
    assert_eq!((r.reports, r.filled, r.values, r.reread, r.still_empty), (2, 1, fixture.values.len(), 1, 1), "{r:?}");
    // Nothing left to do, and nothing read twice.
    let r = precedent::labs::backfill(&app.pool, &app.state.blobs, &app.state.pdf, true).await.unwrap();
    assert_eq!((r.reports, r.filled, r.still_empty), (1, 0, 1), "only the scan is left: {r:?}");

    let case: Value = alice.get(app.url(&format!("/api/v1/cases/{id}"))).send().await.unwrap().json().await.unwrap();
    for i in 0..2 {
        assert_eq!(case["reports"][i]["values"].as_array().unwrap().len(), fixture.values.len(), "report {i}");
        assert_eq!(case["reports"][i]["collected_on"], fixture.collected.as_str());
    }
    assert!(case["reports"][1]["text"]["Extracted"].is_string(), "the re-read report has its text: {}", case["reports"][1]["text"]);
    let changes_after: i64 = sqlx::query_scalar("SELECT count(*) FROM search_changes WHERE case_id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(changes_after - changes_before, 2, "each filled report marks the case's lab profile changed");

    // The index holds the case's lab profile, and `index check` compares lab profiles too.
    app.wait_for_search().await;
    let sim = app.similarity();
    assert!(sim.engine().case(id).is_some_and(|c| c.labs.is_some()));
    let r = sim.check().await.unwrap();
    assert!(r.agrees(), "{r:?}");
    sqlx::query("DELETE FROM lab_values WHERE report_id = $1").bind(ids[0]).execute(&app.pool).await.unwrap();
    sqlx::query("DELETE FROM lab_values WHERE report_id = $1").bind(ids[1]).execute(&app.pool).await.unwrap();
    let r = sim.check().await.unwrap();
    assert_eq!(r.stale, vec![id], "values removed behind the change log: {r:?}");
}
