//! `/api/v1/admin`: the index rebuild's progress, and case-library imports (upload, status,
//! progress). Admins only.
use super::multipart::{file_name_of, next_field, save_to_file};
use crate::http::{internal, wants_json, ApiError};
use axum::extract::{Multipart, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::Stream;
use precedent_service::{Caller, ServiceError};
use std::convert::Infallible;

/// `GET /api/v1/admin/index/progress` (admins): the index rebuild's progress as server-sent
/// events — one JSON `IndexProgressView` every 250 ms while a rebuild runs, every 2 s otherwise.
pub async fn index_progress(c: Caller) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    if !precedent_accounts::can_reindex(&c.actor) {
        return Err(ApiError(ServiceError::Forbidden));
    }
    let sim = std::sync::Arc::clone(&c.state.search()?.similarity);
    let stream = futures::stream::unfold((sim, true), |(sim, first)| async move {
        let p = sim.progress();
        if !first {
            let pause = if p.running { 250 } else { 2000 };
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        let view = precedent_service::admin::progress_view(&if first { p } else { sim.progress() });
        let data = serde_json::to_string(&view).unwrap_or_else(|_| "{}".into());
        Some((Ok(Event::default().data(data)), (sim, false)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// `POST /api/v1/admin/imports` (admins; multipart `archive`: a .zip, .tar.gz or .tar of a
/// case library in the import format; `shareable=on` for a teaching library patients may
/// meet, de-identified, in their similar cases): stores the upload, starts importing it in the
/// background and answers `202 {"id": N}` (a browser form is redirected to the import page).
pub async fn start_import(caller: Result<Caller, ServiceError>, headers: HeaderMap, mut mp: Multipart) -> Response {
    let json = wants_json(&headers);
    let outcome = async {
        let c = caller?;
        let st = &c.state;
        if !precedent_accounts::can_manage_users(&c.actor) {
            precedent_service::audit(&st.pool, Some(c.actor), "admin.import", None, c.ip.clone(), "denied").await?;
            return Err(ApiError(ServiceError::Forbidden));
        }
        let dir = st.data_dir.join("imports");
        tokio::fs::create_dir_all(&dir).await.map_err(|e| internal("imports folder", e))?;
        let limit = st.limits.max_import_mb * 1024 * 1024;
        let mut saved: Option<(String, std::path::PathBuf)> = None;
        let mut sharing = crate::import::Sharing::StaffOnly;
        while let Some(mut field) = next_field(&mut mp).await? {
            if field.name() == Some("shareable") {
                // A checkbox: present ("on") when ticked.
                if field.text().await.is_ok_and(|v| matches!(v.trim(), "on" | "true" | "1")) {
                    sharing = crate::import::Sharing::Patients;
                }
                continue;
            }
            if field.name() != Some("archive") || saved.is_some() {
                continue;
            }
            let filename = file_name_of(&field, "library");
            let path = dir.join(format!("upload-{}", uuid::Uuid::new_v4().simple()));
            if save_to_file(&mut field, &path, limit, "archive").await? == 0 {
                let _ = tokio::fs::remove_file(&path).await;
                continue;
            }
            saved = Some((filename, path));
        }
        let Some((filename, path)) = saved else {
            return Err(ApiError(ServiceError::Invalid("Choose a case-library archive (.zip, .tar.gz or .tar) to import.".into())));
        };
        let id = precedent_store::imports::create(&st.pool, c.actor.id, &filename, sharing == crate::import::Sharing::Patients).await?;
        precedent_service::audit(&st.pool, Some(c.actor), "admin.import", Some(("import", id)), c.ip.clone(), "started").await?;
        // The library folder is named after the archive, so re-uploading it resumes the import.
        let stem = filename.trim_end_matches(".gz").trim_end_matches(".tgz").trim_end_matches(".tar").trim_end_matches(".zip");
        let stem: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        let work = dir.join(format!("job-{id}")).join(if stem.is_empty() { "library".to_string() } else { stem });
        tokio::spawn(crate::import::run_uploaded(st.clone(), id, path, work, sharing));
        Ok::<i64, ApiError>(id)
    }
    .await;
    super::form_answer(outcome, json, StatusCode::ACCEPTED, |id| format!("/admin/import?job={id}"), "/admin/import")
}

async fn import_row(c: &Caller, id: i64) -> Result<precedent_store::imports::ImportRow, ApiError> {
    if !precedent_accounts::can_manage_users(&c.actor) {
        return Err(ApiError(ServiceError::Forbidden));
    }
    precedent_store::imports::get(&c.state.pool, id).await?.ok_or(ApiError(ServiceError::NotFound))
}

/// `GET /api/v1/admin/imports/{id}` (admins): an import's progress or outcome (`ImportView`).
pub async fn get_import(c: Caller, Path(id): Path<i64>) -> Result<Json<precedent_types::dto::ImportView>, ApiError> {
    Ok(Json(precedent_service::admin::import_view(import_row(&c, id).await?)))
}

/// `GET /api/v1/admin/imports/{id}/progress` (admins): the import as server-sent events, one
/// `ImportView` every 300 ms until it has ended.
pub async fn import_progress(c: Caller, Path(id): Path<i64>) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    import_row(&c, id).await?;
    let stream = futures::stream::unfold((c.state.pool.clone(), true, false), move |(pool, first, ended)| async move {
        if ended {
            return None;
        }
        if !first {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        let row = precedent_store::imports::get(&pool, id).await.ok().flatten()?;
        let view = precedent_service::admin::import_view(row);
        let over = view.status != "running";
        let data = serde_json::to_string(&view).unwrap_or_else(|_| "{}".into());
        Some((Ok(Event::default().data(data)), (pool, false, over)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The audit filter as query parameters (the audit page's fields).
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditParams {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    object: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /api/v1/admin/audit.csv?action=&actor=&object=&outcome=&from=&to=` (admins): the entries
/// the filter matches as a CSV download, newest first.
pub async fn audit_csv(c: Caller, axum::extract::Query(p): axum::extract::Query<AuditParams>) -> Result<Response, ApiError> {
    let q =
        precedent_service::audit_log::AuditQuery { action: p.action, actor: p.actor, object: p.object, outcome: p.outcome, from: p.from, to: p.to, page: 1 };
    let body = precedent_service::audit_log::export_csv(&c, &q).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"precedent-audit.csv\""),
        ],
        body,
    )
        .into_response())
}
