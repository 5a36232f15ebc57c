//! Image, thumbnail and PDF downloads, each authorised like the case they belong to.
use crate::http::ApiError;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use precedent_accounts::can_read_case;
use precedent_service::{AppState, Caller, ServiceError};
use precedent_types::{ImageId, ReportId, UserId};

async fn read_blob(st: &AppState, sha: String) -> Result<Vec<u8>, ApiError> {
    let blobs = st.blobs.clone();
    tokio::task::spawn_blocking(move || blobs.get(&sha))
        .await
        .map_err(|e| ApiError(ServiceError::internal("blob read task failed", e)))?
        .map_err(|e| ApiError(ServiceError::internal("blob missing or corrupt", e)))
}

async fn authorise(c: &Caller, owner: Option<UserId>, action: &str, kind: &str, id: i64) -> Result<(), ApiError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    match owner {
        Some(o) if can_read_case(&actor, o) => {
            precedent_service::audit(&st.pool, Some(actor), action, Some((kind, id)), ip, "ok").await?;
            Ok(())
        }
        Some(_) => {
            precedent_service::audit(&st.pool, Some(actor), action, Some((kind, id)), ip, "denied").await?;
            Err(ApiError(ServiceError::NotFound))
        }
        None => Err(ApiError(ServiceError::NotFound)),
    }
}

fn file_response(mime: &str, bytes: Vec<u8>, disposition: Option<String>) -> Response {
    let mut res = ([(header::CONTENT_TYPE, mime.to_string()), (header::CACHE_CONTROL, "no-store".to_string())], bytes).into_response();
    if let Some(d) = disposition.and_then(|d| d.parse().ok()) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, d);
    }
    res
}

/// An image's original or thumbnail, after the same authorisation.
async fn image_file(c: &Caller, id: i64, thumbnail: bool) -> Result<Response, ApiError> {
    let st = &c.state;
    let img = precedent_store::cases::get_image(&st.pool, ImageId(id)).await?;
    let action = if thumbnail { "image.thumb" } else { "image.read" };
    authorise(c, img.as_ref().map(|i| i.owner), action, "image", id).await?;
    let img = img.ok_or(ApiError(ServiceError::NotFound))?;
    if thumbnail {
        Ok(file_response("image/jpeg", read_blob(st, img.thumb_sha256).await?, None))
    } else {
        Ok(file_response(&img.mime, read_blob(st, img.sha256).await?, None))
    }
}

/// `GET /media/images/{id}`: the original scan.
pub async fn image(c: Caller, Path(id): Path<i64>) -> Result<Response, ApiError> {
    image_file(&c, id, false).await
}

/// `GET /media/images/{id}/thumb`: a JPEG thumbnail.
pub async fn thumb(c: Caller, Path(id): Path<i64>) -> Result<Response, ApiError> {
    image_file(&c, id, true).await
}

/// `GET /media/reports/{id}`: the original PDF.
pub async fn report(c: Caller, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let st = &c.state;
    let rep = precedent_store::cases::get_report(&st.pool, ReportId(id)).await?;
    authorise(&c, rep.as_ref().map(|r| r.owner), "report.read", "report", id).await?;
    let rep = rep.ok_or(ApiError(ServiceError::NotFound))?;
    let bytes = read_blob(st, rep.sha256).await?;
    let safe: String = rep.filename.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    let mut res = file_response("application/pdf", bytes, Some(format!("inline; filename=\"{safe}\"")));
    // An uploaded PDF is the uploader's content: opened in a tab, it runs with no script and
    // no access to this origin.
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, axum::http::HeaderValue::from_static("sandbox"));
    Ok(res)
}

#[derive(serde::Deserialize)]
pub struct SignedThumb {
    exp: i64,
    sig: String,
}

/// `GET /media/hits/{id}/thumb?exp=&sig=`: the thumbnail of a de-identified similar-case hit,
/// for the one viewer whose hit list signed the link, until it expires. Nothing else of that
/// case (its other images, the original scan, its text) becomes reachable.
pub async fn hit_thumb(c: Caller, Path(id): Path<i64>, axum::extract::Query(q): axum::extract::Query<SignedThumb>) -> Result<Response, ApiError> {
    let (st, actor) = (&c.state, c.actor);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if !precedent_service::thumbs::verify_thumb(&st.media_key, id, actor.id.0, q.exp, &q.sig, now) {
        precedent_service::audit(&st.pool, Some(actor), "image.thumb.hit", Some(("image", id)), c.ip.clone(), "denied").await?;
        return Err(ApiError(ServiceError::NotFound));
    }
    let img = precedent_store::cases::get_image(&st.pool, ImageId(id)).await?.ok_or(ApiError(ServiceError::NotFound))?;
    precedent_service::audit(&st.pool, Some(actor), "image.thumb.hit", Some(("image", id)), c.ip.clone(), "ok").await?;
    Ok(file_response("image/jpeg", read_blob(st, img.thumb_sha256).await?, None))
}
