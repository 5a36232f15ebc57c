//! `/api/v1`: JSON for programs, and the target of the new-case form.
use crate::http::{encode_query, ip_of, require_actor, wants_json, ApiError};
use crate::intake::{self, Upload, UploadImage, UploadReport};
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
        let id = intake::create_case(&st, actor, upload, ip_of(&ConnectInfo(addr))).await?;
        tracing::info!(case = %id, "case created");
        Ok::<CaseId, ApiError>(id)
    }
    .await;
    match (outcome, json) {
        (Ok(id), true) => (StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response(),
        (Ok(id), false) => Redirect::to(&format!("/cases/{id}")).into_response(),
        (Err(ApiError(AppError::Unauthenticated)), false) => Redirect::to("/login").into_response(),
        (Err(e), true) => e.into_response(),
        (Err(e), false) => Redirect::to(&format!("/cases/new?error={}", encode_query(&e.0.to_string()))).into_response(),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<u32>,
}

/// `GET /api/v1/cases?page=N`: the caller's visible cases, newest first.
pub async fn list_cases(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Query(q): Query<PageQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = require_actor(&st, &session).await?;
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let per = app::cases::PER_PAGE as i64;
    let owner = if actor.role.is_staff() { None } else { Some(actor.id) };
    let (rows, total) = precedent_store::cases::list(&st.pool, owner, per, (page as i64 - 1) * per).await?;
    app::ssr::audit(&st.pool, Some(actor), "case.list", None, ip_of(&ConnectInfo(addr)), "ok").await?;
    let items: Vec<_> = rows
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id, "title": c.title, "status": c.status, "diagnosis": c.diagnosis,
                "images": c.image_count, "reports": c.report_count,
                "created_at": app::ssr::display_time(c.created_at),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items, "total": total, "page": page, "per_page": per })))
}

/// `GET /api/v1/cases/{id}`: one case with its files' ids, if the caller may read it.
pub async fn get_case(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let actor = require_actor(&st, &session).await?;
    let ip = ip_of(&ConnectInfo(addr));
    let Some(d) = precedent_store::cases::get(&st.pool, CaseId(id)).await? else {
        return Err(ApiError(AppError::NotFound));
    };
    if !precedent_accounts::can_read_case(&actor, d.case.owner) {
        app::ssr::audit(&st.pool, Some(actor), "case.read", Some(("case", id)), ip, "denied").await?;
        return Err(ApiError(AppError::NotFound));
    }
    app::ssr::audit(&st.pool, Some(actor), "case.read", Some(("case", id)), ip, "ok").await?;
    let indexing = precedent_store::embeddings::is_indexing(&st.pool, d.case.id).await?;
    let c = &d.case;
    Ok(Json(serde_json::json!({
        "id": c.id, "title": c.title, "history": c.history, "exam": c.exam, "findings": c.findings,
        "diagnosis": d.validations.first().map(|v| v.diagnosis.clone()).or(c.diagnosis.clone()),
        "status": c.status, "age_years": c.age_years, "sex": c.sex, "body_region": c.body_region,
        "created_at": app::ssr::display_time(c.created_at),
        "indexing": indexing,
        "images": d.images.iter().map(|i| serde_json::json!({
            "id": i.id, "filename": i.filename, "mime": i.mime, "width": i.width, "height": i.height,
            "modality": i.modality, "sha256": i.sha256,
        })).collect::<Vec<_>>(),
        "reports": d.reports.iter().map(|r| serde_json::json!({
            "id": r.id, "filename": r.filename, "sha256": r.sha256, "text_status": r.text_status.as_str(),
            "extracted_text": r.extracted_text,
        })).collect::<Vec<_>>(),
    })))
}
