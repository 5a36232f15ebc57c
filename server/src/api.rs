//! `/api/v1`: JSON for programs, and the target of the new-case form.
use crate::http::{encode_query, ip_of, require_actor, wants_json, ApiError};
use crate::intake::{self, Upload, UploadImage, UploadReport};
use app::dto::{CaseListView, CaseView, SearchRequest, SimilarParams, SimilarResults};
use app::error::AppError;
use app::ssr::AppState;
use axum::extract::multipart::Field;
use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use precedent_types::{CaseId, Modality};
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

async fn read_field(field: &mut Field<'_>, limit: usize, what: &str) -> Result<Vec<u8>, ApiError> {
    let mut buf = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > limit {
                    return Err(ApiError(AppError::Invalid(format!(
                        "“{what}” is too large (the limit is {} MB).",
                        limit / (1024 * 1024)
                    ))));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf),
            Err(e) => return Err(ApiError(AppError::Invalid(format!("The upload was interrupted or malformed: {}", e.body_text())))),
        }
    }
}

fn text(bytes: Vec<u8>, what: &str) -> Result<String, ApiError> {
    String::from_utf8(bytes).map_err(|_| ApiError(AppError::Invalid(format!("The {what} field is not valid UTF-8 text."))))
}

/// Reads the multipart new-case form into an [`Upload`].
async fn read_upload(st: &AppState, mut mp: Multipart) -> Result<Upload, ApiError> {
    let file_limit = (st.limits.max_file_mb * 1024 * 1024) as usize;
    let text_limit = intake::MAX_TEXT * 4 + 1024;
    let mut u = Upload::default();
    let mut modality = Modality::Other;
    let mut images: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let next = mp
            .next_field()
            .await
            .map_err(|e| ApiError(AppError::Invalid(format!("The upload was interrupted or malformed: {}", e.body_text()))))?;
        let Some(mut field) = next else { break };
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "images" | "reports" => {
                let filename = field.file_name().unwrap_or("").to_string();
                let bytes = read_field(&mut field, file_limit, if filename.is_empty() { &name } else { &filename }).await?;
                if filename.is_empty() && bytes.is_empty() {
                    continue; // an empty file input
                }
                if images.len() + u.reports.len() >= st.limits.max_files {
                    return Err(ApiError(AppError::Invalid(format!("Too many files; at most {} per case.", st.limits.max_files))));
                }
                if name == "images" {
                    images.push((filename, bytes));
                } else {
                    u.reports.push(UploadReport { filename, bytes });
                }
            }
            "title" | "history" | "exam" | "age" | "sex" | "modality" => {
                let value = text(read_field(&mut field, text_limit, &name).await?, &name)?;
                match name.as_str() {
                    "title" => u.title = value,
                    "history" => u.history = value,
                    "exam" => u.exam = value,
                    "age" if !value.trim().is_empty() => {
                        u.age_years = Some(
                            value.trim().parse().map_err(|_| ApiError(AppError::Invalid("Age must be a whole number.".into())))?,
                        )
                    }
                    "sex" => u.sex = Some(value),
                    "modality" if !value.trim().is_empty() => {
                        modality = value.parse().map_err(|_| ApiError(AppError::Invalid("Unknown scan type.".into())))?
                    }
                    _ => {}
                }
            }
            _ => {
                // Unknown fields are drained and ignored.
                read_field(&mut field, text_limit, &name).await?;
            }
        }
    }
    u.images = images
        .into_iter()
        .map(|(filename, bytes)| UploadImage { filename, bytes, modality, plane: None, caption: None })
        .collect();
    Ok(u)
}

/// `POST /api/v1/cases` (multipart): creates a case owned by the caller.
/// JSON clients get `201 {"id": N}`; a plain browser form gets a redirect.
pub async fn create_case(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    mp: Multipart,
) -> Response {
    let json = wants_json(&headers);
    let outcome = async {
        let actor = require_actor(&st, &session).await?;
        if !precedent_accounts::can_create_case(&actor) {
            return Err(ApiError(AppError::Forbidden));
        }
        let upload = read_upload(&st, mp).await?;
        let id = intake::create_case(&st, actor, upload, ip_of(addr)).await?;
        tracing::info!(case = %id, "case created");
        Ok::<CaseId, ApiError>(id)
    }
    .await;
    form_answer(outcome, json, StatusCode::CREATED, |id| format!("/cases/{id}"), "/cases/new")
}

/// How a multipart form endpoint answers: a JSON client gets `status {"id": N}` or its error;
/// a browser form is redirected to `done(id)`, back to `form` with the error, or to the login
/// page when nobody is signed in.
fn form_answer<T: serde::Serialize + std::fmt::Display>(
    outcome: Result<T, ApiError>,
    json: bool,
    status: StatusCode,
    done: impl FnOnce(&T) -> String,
    form: &str,
) -> Response {
    match (outcome, json) {
        (Ok(id), true) => (status, Json(serde_json::json!({ "id": id }))).into_response(),
        (Ok(id), false) => Redirect::to(&done(&id)).into_response(),
        (Err(ApiError(AppError::Unauthenticated)), false) => Redirect::to("/login").into_response(),
        (Err(e), true) => e.into_response(),
        (Err(e), false) => Redirect::to(&format!("{form}?error={}", encode_query(&e.0.to_string()))).into_response(),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<u32>,
}

/// `GET /api/v1/cases?page=N`: the caller's visible cases, newest first (a `CaseListView`).
pub async fn list_cases(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Query(q): Query<PageQuery>,
) -> Result<Json<CaseListView>, ApiError> {
    let actor = require_actor(&st, &session).await?;
    Ok(Json(app::cases::service::list(&st, actor, q.page.unwrap_or(1), ip_of(addr)).await?))
}

/// `GET /api/v1/cases/{id}`: one case with its files, if the caller may read it (a `CaseView`).
pub async fn get_case(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<i64>,
) -> Result<Json<CaseView>, ApiError> {
    let actor = require_actor(&st, &session).await?;
    Ok(Json(app::cases::service::get(&st, actor, id, ip_of(addr)).await?))
}

/// `GET /api/v1/cases/{id}/similar?k=&text_weight=&image_weight=&validated_only=&modality=&body_region=&from=&to=&calibration=`:
/// the cases most similar to a case the caller may read (a `SimilarResults`).
pub async fn similar(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<i64>,
    Query(p): Query<SimilarParams>,
) -> Result<Json<SimilarResults>, ApiError> {
    let actor = require_actor(&st, &session).await?;
    Ok(Json(app::similar::service::similar_to_case(&st, actor, id, &p, ip_of(addr)).await?))
}

/// `POST /api/v1/search` with a JSON `SearchRequest` (`case_id`, `text`, `images_base64`, and
/// the same options as `/similar`): the most similar cases to that mix.
pub async fn search(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    body: Result<Json<SearchRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<SimilarResults>, ApiError> {
    let actor = require_actor(&st, &session).await?;
    let Json(req) = body.map_err(|e| ApiError(AppError::Invalid(format!("The search request is not valid JSON: {}", e.body_text()))))?;
    Ok(Json(app::similar::service::search(&st, actor, req, ip_of(addr)).await?))
}

/// `GET /api/v1/admin/index/progress` (admins): the index rebuild's progress as server-sent
/// events — one JSON `IndexProgressView` every 250 ms while a rebuild runs, every 2 s otherwise.
pub async fn index_progress(
    State(st): State<AppState>,
    session: Session,
) -> Result<axum::response::sse::Sse<impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>, ApiError> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let actor = require_actor(&st, &session).await?;
    if !precedent_accounts::can_reindex(&actor) {
        return Err(ApiError(AppError::Forbidden));
    }
    let sim = std::sync::Arc::clone(&st.search()?.similarity);
    let stream = futures::stream::unfold((sim, true), |(sim, first)| async move {
        let p = sim.progress();
        if !first {
            let pause = if p.running { 250 } else { 2000 };
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        let view = app::admin::service::progress_view(&if first { p } else { sim.progress() });
        let data = serde_json::to_string(&view).unwrap_or_else(|_| "{}".into());
        Some((Ok(Event::default().data(data)), (sim, false)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// At most this many images in one query-image upload.
const MAX_UPLOAD_QUERY_IMAGES: usize = 8;

/// `POST /api/v1/search/images` (multipart, one or more `image` files): checks each image and
/// keeps it for an hour under a token the search page puts in its URL (`img=…`). Only the
/// uploader can search with it or see it. Answers `{"images":[UploadedQueryImage…]}`.
pub async fn upload_query_images(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    mut mp: Multipart,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = require_actor(&st, &session).await?;
    let file_limit = (st.limits.max_file_mb * 1024 * 1024) as usize;
    let mut files = Vec::new();
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| ApiError(AppError::Invalid(format!("The upload was interrupted or malformed: {}", e.body_text()))))?
    {
        if field.name() != Some("image") {
            continue;
        }
        let filename: String = field.file_name().unwrap_or("image").chars().filter(|c| !c.is_control()).take(200).collect();
        let bytes = read_field(&mut field, file_limit, &filename).await?;
        files.push((filename, bytes));
        if files.len() > MAX_UPLOAD_QUERY_IMAGES {
            return Err(ApiError(AppError::Invalid(format!("At most {MAX_UPLOAD_QUERY_IMAGES} images per query."))));
        }
    }
    if files.is_empty() {
        return Err(ApiError(AppError::Invalid("Choose an image (PNG or JPEG) to search with.".into())));
    }
    let limits = precedent_media::ImageLimits { max_side: st.limits.max_image_side, ..Default::default() };
    let mut out = Vec::with_capacity(files.len());
    for (filename, bytes) in files {
        let (name, checked) = (filename.clone(), bytes);
        let (bytes, accepted) = tokio::task::spawn_blocking(move || {
            let r = precedent_media::accept_image(&name, &checked, limits);
            (checked, r)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "image check task failed");
            ApiError(AppError::Internal)
        })?;
        let accepted = accepted.map_err(|e| ApiError(AppError::Invalid(e.to_string())))?;
        let token = uuid::Uuid::new_v4().simple().to_string();
        precedent_store::uploads::put(&st.pool, &token, actor.id, &filename, &bytes, &accepted.thumbnail_jpeg).await.map_err(AppError::from)?;
        out.push(app::dto::UploadedQueryImage { thumb: format!("/api/v1/search/images/{token}/thumb"), token, filename });
    }
    app::ssr::audit(&st.pool, Some(actor), "search.image.upload", None, ip_of(addr), "ok").await?;
    Ok(Json(serde_json::json!({ "images": out })))
}

/// `GET /api/v1/search/images/{token}/thumb`: the uploader's own query image, small.
pub async fn query_image_thumb(State(st): State<AppState>, session: Session, Path(token): Path<String>) -> Result<Response, ApiError> {
    let actor = require_actor(&st, &session).await?;
    match precedent_store::uploads::thumb(&st.pool, &token, actor.id).await.map_err(AppError::from)? {
        Some(jpeg) => Ok(([(axum::http::header::CONTENT_TYPE, "image/jpeg"), (axum::http::header::CACHE_CONTROL, "private, max-age=3600")], jpeg).into_response()),
        None => Err(ApiError(AppError::NotFound)),
    }
}

/// `POST /api/v1/admin/imports` (admins; multipart `archive`: a .zip, .tar.gz or .tar of a
/// case library in the import format): stores the upload, starts importing it in the
/// background and answers `202 {"id": N}` (a browser form is redirected to the import page).
pub async fn start_import(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    mut mp: Multipart,
) -> Response {
    let json = wants_json(&headers);
    let outcome = async {
        let actor = require_actor(&st, &session).await?;
        if !precedent_accounts::can_manage_users(&actor) {
            app::ssr::audit(&st.pool, Some(actor), "admin.import", None, ip_of(addr), "denied").await?;
            return Err(ApiError(AppError::Forbidden));
        }
        let dir = st.data_dir.join("imports");
        tokio::fs::create_dir_all(&dir).await.map_err(|e| internal("imports folder", e))?;
        let limit = st.limits.max_import_mb * 1024 * 1024;
        let mut saved: Option<(String, std::path::PathBuf)> = None;
        while let Some(mut field) = mp
            .next_field()
            .await
            .map_err(|e| ApiError(AppError::Invalid(format!("The upload was interrupted or malformed: {}", e.body_text()))))?
        {
            if field.name() != Some("archive") || saved.is_some() {
                continue;
            }
            let filename: String = field.file_name().unwrap_or("library").chars().filter(|c| !c.is_control()).take(200).collect();
            let path = dir.join(format!("upload-{}", uuid::Uuid::new_v4().simple()));
            let mut file = tokio::fs::File::create(&path).await.map_err(|e| internal("upload file", e))?;
            let mut written = 0u64;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        written += chunk.len() as u64;
                        if written > limit {
                            drop(file);
                            let _ = tokio::fs::remove_file(&path).await;
                            return Err(ApiError(AppError::Invalid(format!("The archive is too large (the limit is {} MB).", st.limits.max_import_mb))));
                        }
                        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk).await.map_err(|e| internal("upload file", e))?;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        drop(file);
                        let _ = tokio::fs::remove_file(&path).await;
                        return Err(ApiError(AppError::Invalid(format!("The upload was interrupted or malformed: {}", e.body_text()))));
                    }
                }
            }
            tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(|e| internal("upload file", e))?;
            if written == 0 {
                let _ = tokio::fs::remove_file(&path).await;
                continue;
            }
            saved = Some((filename, path));
        }
        let Some((filename, path)) = saved else {
            return Err(ApiError(AppError::Invalid("Choose a case-library archive (.zip, .tar.gz or .tar) to import.".into())));
        };
        let id = precedent_store::imports::create(&st.pool, actor.id, &filename).await.map_err(AppError::from)?;
        app::ssr::audit(&st.pool, Some(actor), "admin.import", Some(("import", id)), ip_of(addr), "started").await?;
        // The library folder is named after the archive, so re-uploading it resumes the import.
        let stem = filename.trim_end_matches(".gz").trim_end_matches(".tgz").trim_end_matches(".tar").trim_end_matches(".zip");
        let stem: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        let work = dir.join(format!("job-{id}")).join(if stem.is_empty() { "library".to_string() } else { stem });
        tokio::spawn(crate::import::run_uploaded(st.clone(), id, path, work));
        Ok::<i64, ApiError>(id)
    }
    .await;
    form_answer(outcome, json, StatusCode::ACCEPTED, |id| format!("/admin/import?job={id}"), "/admin/import")
}

fn internal(what: &str, e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, what, "import upload failed");
    ApiError(AppError::Internal)
}

async fn import_row(st: &AppState, session: &Session, id: i64) -> Result<precedent_store::imports::ImportRow, ApiError> {
    let actor = require_actor(st, session).await?;
    if !precedent_accounts::can_manage_users(&actor) {
        return Err(ApiError(AppError::Forbidden));
    }
    precedent_store::imports::get(&st.pool, id).await.map_err(AppError::from)?.ok_or(ApiError(AppError::NotFound))
}

/// `GET /api/v1/admin/imports/{id}` (admins): an import's progress or outcome (`ImportView`).
pub async fn get_import(State(st): State<AppState>, session: Session, Path(id): Path<i64>) -> Result<Json<app::dto::ImportView>, ApiError> {
    Ok(Json(app::admin::service::import_view(import_row(&st, &session, id).await?)))
}

/// `GET /api/v1/admin/imports/{id}/progress` (admins): the import as server-sent events, one
/// `ImportView` every 300 ms until it has ended.
pub async fn import_progress(
    State(st): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<axum::response::sse::Sse<impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>, ApiError> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    import_row(&st, &session, id).await?;
    let stream = futures::stream::unfold((st.pool.clone(), true, false), move |(pool, first, ended)| async move {
        if ended {
            return None;
        }
        if !first {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        let row = precedent_store::imports::get(&pool, id).await.ok().flatten()?;
        let view = app::admin::service::import_view(row);
        let over = view.status != "running";
        let data = serde_json::to_string(&view).unwrap_or_else(|_| "{}".into());
        Some((Ok(Event::default().data(data)), (pool, false, over)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
