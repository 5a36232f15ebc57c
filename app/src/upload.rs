//! Browser side of the new-case form: send the multipart form with `fetch` and report the
//! outcome without leaving the page.
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Posts the submitted form to its `action` and calls `done` with the new case id or a message.
pub fn submit_case_form(ev: leptos::ev::SubmitEvent, done: impl FnOnce(Result<i64, String>) + 'static) {
    let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else {
        done(Err("The form could not be read.".into()));
        return;
    };
    leptos::task::spawn_local(async move {
        done(send(&form).await);
    });
}

async fn send(form: &web_sys::HtmlFormElement) -> Result<i64, String> {
    let data = web_sys::FormData::new_with_form(form).map_err(|_| "The form could not be read.".to_string())?;
    let body = post(&form.action(), &data).await?;
    body.get("id").and_then(|v| v.as_i64()).ok_or_else(|| "Unexpected answer from the server.".to_string())
}

/// Uploads query images for the search page; the server answers with a token per image.
pub async fn upload_query_images(files: Vec<web_sys::File>) -> Result<Vec<crate::dto::UploadedQueryImage>, String> {
    let data = web_sys::FormData::new().map_err(|_| "Browser error.".to_string())?;
    for f in &files {
        data.append_with_blob_and_filename("image", f, &f.name()).map_err(|_| "The file could not be read.".to_string())?;
    }
    let body = post("/api/v1/search/images", &data).await?;
    serde_json::from_value(body.get("images").cloned().unwrap_or_default()).map_err(|_| "Unexpected answer from the server.".to_string())
}

/// Posts `data` to `url` asking for JSON: the answer's body, or the server's `error` message
/// (a clear one of our own when the server or the network gave none).
async fn post(url: &str, data: &web_sys::FormData) -> Result<serde_json::Value, String> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(data);
    let headers = web_sys::Headers::new().map_err(|_| "Browser error.".to_string())?;
    let _ = headers.set("Accept", "application/json");
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(|_| "Browser error.".to_string())?;
    let window = web_sys::window().ok_or("Browser error.")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| "Could not reach the server. Check your connection and try again.".to_string())?
        .dyn_into()
        .map_err(|_| "Browser error.".to_string())?;
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    if response.ok() {
        Ok(body)
    } else {
        Err(body.get("error").and_then(|v| v.as_str()).map(str::to_string).unwrap_or_else(|| format!("The upload failed (HTTP {}).", response.status())))
    }
}
