//! Image, thumbnail and PDF downloads, each authorised like the case they belong to.
use crate::http::{ip_of, require_actor, ApiError};
use app::error::AppError;
use app::ssr::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use precedent_accounts::can_read_case;
use precedent_types::{ImageId, ReportId, UserId};
use std::net::SocketAddr;
use tower_sessions::Session;

async fn read_blob(st: &AppState, sha: String) -> Result<Vec<u8>, ApiError> {
    let blobs = st.blobs.clone();
    tokio::task::spawn_blocking(move || blobs.get(&sha))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "blob read task failed");
            ApiError(AppError::Internal)
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "blob missing or corrupt");
            ApiError(AppError::Internal)
        })
}

async fn authorise(
    st: &AppState,
    session: &Session,
    addr: SocketAddr,
    owner: Option<UserId>,
    action: &str,
    kind: &str,
    id: i64,
) -> Result<(), ApiError> {
    let actor = require_actor(st, session).await?;
    let ip = ip_of(addr);
    match owner {
        Some(o) if can_read_case(&actor, o) => {
            app::ssr::audit(&st.pool, Some(actor), action, Some((kind, id)), ip, "ok").await?;
            Ok(())
        }
        Some(_) => {
            app::ssr::audit(&st.pool, Some(actor), action, Some((kind, id)), ip, "denied").await?;
            Err(ApiError(AppError::NotFound))
        }
        None => Err(ApiError(AppError::NotFound)),
    }
}

fn file_response(mime: &str, bytes: Vec<u8>, disposition: Option<String>) -> Response {
    let mut res = (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CACHE_CONTROL, "private, max-age=3600".to_string()),
        ],
        bytes,
    )
        .into_response();
    if let Some(d) = disposition.and_then(|d| d.parse().ok()) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, d);
    }
    res
}

/// An image's original or thumbnail, after the same authorisation.
async fn image_file(st: &AppState, session: &Session, addr: SocketAddr, id: i64, thumbnail: bool) -> Result<Response, ApiError> {
    let img = precedent_store::cases::get_image(&st.pool, ImageId(id)).await?;
    let action = if thumbnail { "image.thumb" } else { "image.read" };
    authorise(st, session, addr, img.as_ref().map(|i| i.owner), action, "image", id).await?;
    let img = img.ok_or(ApiError(AppError::NotFound))?;
    if thumbnail {
        Ok(file_response("image/jpeg", read_blob(st, img.thumb_sha256).await?, None))
    } else {
        Ok(file_response(&img.mime, read_blob(st, img.sha256).await?, None))
    }
}

/// `GET /media/images/{id}`: the original scan.
pub async fn image(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    image_file(&st, &session, addr, id, false).await
}

/// `GET /media/images/{id}/thumb`: a JPEG thumbnail.
pub async fn thumb(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    image_file(&st, &session, addr, id, true).await
}

/// `GET /media/reports/{id}`: the original PDF.
pub async fn report(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let rep = precedent_store::cases::get_report(&st.pool, ReportId(id)).await?;
    authorise(&st, &session, addr, rep.as_ref().map(|r| r.owner), "report.read", "report", id).await?;
    let rep = rep.ok_or(ApiError(AppError::NotFound))?;
    let bytes = read_blob(&st, rep.sha256).await?;
    let safe: String = rep.filename.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    Ok(file_response("application/pdf", bytes, Some(format!("inline; filename=\"{safe}\""))))
}

#[derive(serde::Deserialize)]
pub struct SignedThumb {
    exp: i64,
    sig: String,
}

/// `GET /media/hits/{id}/thumb?exp=&sig=`: the thumbnail of a de-identified similar-case hit,
/// for the one viewer whose hit list signed the link, until it expires. Nothing else of that
/// case (its other images, the original scan, its text) becomes reachable.
pub async fn hit_thumb(
    State(st): State<AppState>,
    session: Session,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<SignedThumb>,
) -> Result<Response, ApiError> {
    let actor = require_actor(&st, &session).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if !app::ssr::verify_thumb(&st.media_key, id, actor.id.0, q.exp, &q.sig, now) {
        app::ssr::audit(&st.pool, Some(actor), "image.thumb.hit", Some(("image", id)), ip_of(addr), "denied").await?;
        return Err(ApiError(AppError::NotFound));
    }
    let img = precedent_store::cases::get_image(&st.pool, ImageId(id)).await?.ok_or(ApiError(AppError::NotFound))?;
    app::ssr::audit(&st.pool, Some(actor), "image.thumb.hit", Some(("image", id)), ip_of(addr), "ok").await?;
    Ok(file_response("image/jpeg", read_blob(&st, img.thumb_sha256).await?, None))
}
