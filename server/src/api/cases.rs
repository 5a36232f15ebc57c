//! `/api/v1/cases`: create a case from the multipart new-case form, list the caller's visible
//! cases, read one.
use super::multipart::{file_name_of, name_of, next_field, read_bytes, read_text};
use crate::http::{wants_json, ApiError};
use crate::intake::{self, Upload, UploadImage, UploadReport};
use axum::extract::{Multipart, Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use precedent_service::{AppState, Caller, ServiceError};
use precedent_types::dto::{CaseListView, CaseView};
use precedent_types::{CaseId, Modality};
use serde::Deserialize;

fn invalid(message: &str) -> ApiError {
    ApiError(ServiceError::Invalid(message.into()))
}

/// Reads the multipart new-case form into an [`Upload`].
async fn read_upload(st: &AppState, mut mp: Multipart) -> Result<Upload, ApiError> {
    let file_limit = (st.limits.max_file_mb * 1024 * 1024) as usize;
    let text_limit = intake::MAX_TEXT * 4 + 1024;
    let mut u = Upload::default();
    let mut modality = Modality::Other;
    let mut images: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(mut field) = next_field(&mut mp).await? {
        let name = name_of(&field);
        match name.as_str() {
            "images" | "reports" => {
                let filename = file_name_of(&field, "");
                let bytes = read_bytes(&mut field, file_limit, if filename.is_empty() { &name } else { &filename }).await?;
                if filename.is_empty() && bytes.is_empty() {
                    continue; // an empty file input
                }
                if images.len() + u.reports.len() >= st.limits.max_files {
                    return Err(ApiError(ServiceError::Invalid(format!("Too many files; at most {} per case.", st.limits.max_files))));
                }
                if name == "images" {
                    images.push((filename, bytes));
                } else {
                    u.reports.push(UploadReport { filename, bytes });
                }
            }
            "title" | "history" | "exam" | "age" | "sex" | "modality" => {
                let value = read_text(&mut field, text_limit, &name).await?;
                match name.as_str() {
                    "title" => u.title = value,
                    "history" => u.history = value,
                    "exam" => u.exam = value,
                    "age" if !value.trim().is_empty() => u.age_years = Some(value.trim().parse().map_err(|_| invalid("Age must be a whole number."))?),
                    "sex" => u.sex = Some(value),
                    "modality" if !value.trim().is_empty() => modality = value.parse().map_err(|_| invalid("Unknown scan type."))?,
                    _ => {}
                }
            }
            _ => {
                // Unknown fields are drained and ignored.
                read_bytes(&mut field, text_limit, &name).await?;
            }
        }
    }
    u.images = images.into_iter().map(|(filename, bytes)| UploadImage { filename, bytes, modality, plane: None, caption: None }).collect();
    Ok(u)
}

/// `POST /api/v1/cases` (multipart): creates a case owned by the caller.
/// JSON clients get `201 {"id": N}`; a plain browser form gets a redirect.
pub async fn create_case(caller: Result<Caller, ServiceError>, headers: HeaderMap, mp: Multipart) -> Response {
    let json = wants_json(&headers);
    let outcome = async {
        let c = caller?;
        if !precedent_accounts::can_create_case(&c.actor) {
            return Err(ApiError(ServiceError::Forbidden));
        }
        // Quotas before the body is read: this minute's uploads, the day's cases, and the
        // day's bytes counting the declared length; then the bytes actually sent.
        precedent_service::quota::upload(&c)?;
        let declared = headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let today = precedent_service::quota::added_today(&c.state, &c).await?;
        precedent_service::quota::new_case(&c.state, today, declared)?;
        let upload = read_upload(&c.state, mp).await?;
        let sent: u64 = upload.images.iter().map(|i| i.bytes.len() as u64).chain(upload.reports.iter().map(|r| r.bytes.len() as u64)).sum();
        precedent_service::quota::new_case(&c.state, today, sent)?;
        let id = intake::create_case(&c.state, c.actor, upload, c.ip.clone()).await?;
        tracing::info!(case = %id, "case created");
        Ok::<CaseId, ApiError>(id)
    }
    .await;
    super::form_answer(outcome, json, StatusCode::CREATED, |id| format!("/cases/{id}"), "/cases/new")
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<u32>,
}

/// `GET /api/v1/cases?page=N`: the caller's visible cases, newest first (a `CaseListView`).
pub async fn list_cases(c: Caller, Query(q): Query<PageQuery>) -> Result<Json<CaseListView>, ApiError> {
    Ok(Json(precedent_service::cases::list(&c, q.page.unwrap_or(1)).await?))
}

/// `GET /api/v1/cases/{id}`: one case with its files, if the caller may read it (a `CaseView`).
pub async fn get_case(c: Caller, Path(id): Path<i64>) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(precedent_service::cases::get(&c, id).await?))
}
