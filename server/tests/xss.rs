//! Hostile text renders inert: script and markup payloads typed into every text field (display
//! name, case title, history, exam, the doctor's diagnosis, notes, next tests and specialist, a
//! search query) come back escaped on every page that shows them, in the JSON API as plain
//! strings, and never as markup.

mod common;

use common::{file_part, sample_files, spawn_app, PASSWORD};
use precedent_types::Role;

const PAYLOADS: [&str; 3] = ["<script>alert('x1')</script>", "<img src=x onerror=alert('x2')>", "</textarea><svg onload=alert('x3')>"];

/// The raw markup of any payload, in a page's HTML.
fn raw_markup(html: &str) -> Option<&'static str> {
    ["<script>alert(", "<img src=x onerror", "<svg onload"].into_iter().find(|m| html.contains(m))
}

#[tokio::test]
async fn payloads_in_every_text_field_render_inert() {
    let app = spawn_app().await;
    let p = |i: usize| PAYLOADS[i % PAYLOADS.len()];
    // A patient whose display name is a payload, with a case whose every text is one.
    let patient = common::client();
    let res = app
        .server_fn(&patient, "signup", &[("email", "xss@example.org"), ("display_name", p(0)), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap_or_default());
    let (png, _) = sample_files();
    let form = reqwest::multipart::Form::new()
        .text("title", format!("Title {}", p(0)))
        .text("history", format!("History {}", p(1)))
        .text("exam", format!("Exam {}", p(2)))
        .text("modality", "xray")
        .part("images", file_part("scan.png", png, "image/png"));
    let id = common::case_id(app.create_case(&patient, form).await).await;
    // A doctor's review with payloads in each of its fields.
    let doctor = app.staff("xss-doctor@example.org", Role::Doctor).await;
    let case = id.to_string();
    let (d, n, t, s) = (format!("Dx {}", p(1)), format!("Notes {}", p(2)), format!("Tests {}", p(0)), format!("Spec {}", p(1)));
    let res = app
        .server_fn(
            &doctor,
            "review_case",
            &[("case_id", &case), ("action", "correct"), ("diagnosis", &d), ("certainty", "possible"), ("notes", &n), ("next_tests", &t), ("specialist", &s)],
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap_or_default());
    app.wait_for_search().await;
    let admin = app.staff("xss-admin@example.org", Role::Admin).await;

    let query = precedent::http::encode_query(PAYLOADS[0]);
    let pages: Vec<(&reqwest::Client, String)> = vec![
        (&patient, "/cases".into()),
        (&patient, format!("/cases/{id}")),
        (&doctor, "/cases".into()),
        (&doctor, format!("/cases/{id}")),
        (&doctor, format!("/search?q={query}")),
        (&doctor, format!("/search?q=History&case={id}")),
        (&doctor, format!("/compare?a={id}&b={id}")),
        (&admin, "/admin/users".into()),
        (&admin, "/admin/audit".into()),
    ];
    for (c, path) in pages {
        let res = c.get(app.url(&path)).send().await.expect("page");
        assert!(res.status().is_success() || res.status().is_client_error(), "{path}: {}", res.status());
        let html = res.text().await.expect("html");
        if let Some(m) = raw_markup(&html) {
            let at = html.find(m).unwrap_or(0);
            panic!("{path} renders a payload as markup: …{}…", &html[at.saturating_sub(80)..(at + 80).min(html.len())]);
        }
    }
    // The case page shows the texts, escaped (they are not dropped).
    let html = doctor.get(app.url(&format!("/cases/{id}"))).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("&lt;script&gt;alert(") || html.contains("&lt;script>alert("), "the title's text is shown escaped");
    assert!(html.contains("&lt;img src=x onerror"), "the history's text is shown escaped");
    // The API gives the text back exactly as typed, as JSON strings.
    let v: serde_json::Value =
        doctor.get(app.url(&format!("/api/v1/cases/{id}"))).header("Accept", "application/json").send().await.expect("api").json().await.expect("json");
    assert_eq!(v["title"], format!("Title {}", PAYLOADS[0]));
    assert_eq!(v["history"], format!("History {}", PAYLOADS[1]));
}
