//! Hostile query images: whatever path an image takes into a search, it meets the same
//! bounded decoder as an upload.

mod common;

use common::spawn_app;
use precedent_types::Role;
use serde_json::{json, Value};

/// Query images go through the same bounded decoder as uploads on every search path: a PNG
/// whose sides exceed the upload limit (9,000 pixels here; 8,192 allowed) is refused from its
/// header, before any pixel is decoded — through the JSON API, the server function and the
/// query-image upload.
#[tokio::test]
async fn oversized_query_images_are_refused_before_decoding_on_every_path() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let doctor = app.staff("dr@example.org", Role::Doctor).await;
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image::GrayImage::new(9000, 9000)).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    assert!(png.len() < 1024 * 1024, "small on the wire: {} bytes", png.len());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let res = doctor.post(app.url("/api/v1/search")).json(&json!({ "images_base64": [b64.clone()] })).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let v: Value = res.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("9000×9000 pixels"), "{v}");
    let req = json!({ "req": { "case_id": null, "text": null, "images_base64": [b64], "image_tokens": [], "labs": null } });
    let res = doctor.post(app.url("/api/search_cases")).json(&req).send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("9000×9000 pixels"));
    let form = reqwest::multipart::Form::new().part("image", common::file_part("big.png", png, "image/png"));
    let res = doctor.post(app.url("/api/v1/search/images")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("pixels"));
}
