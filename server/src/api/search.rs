//! `/api/v1/cases/{id}/similar` and `/api/v1/search`: find similar cases to a stored case or
//! to an ad-hoc mix of a case, text and images; and the query images a search may carry.
use super::multipart::{file_name_of, next_field, read_bytes};
use crate::http::ApiError;
use axum::extract::{Multipart, Path, Query};
use axum::response::{IntoResponse, Response};
use axum::Json;
use precedent_service::{Caller, ServiceError};
use precedent_types::dto::{SearchRequest, SimilarParams, SimilarResults, UploadedQueryImage};

/// `GET /api/v1/cases/{id}/similar?k=&text_weight=&image_weight=&validated_only=&modality=&body_region=&from=&to=&calibration=`:
/// the cases most similar to a case the caller may read (a `SimilarResults`).
pub async fn similar(c: Caller, Path(id): Path<i64>, Query(p): Query<SimilarParams>) -> Result<Json<SimilarResults>, ApiError> {
    Ok(Json(precedent_service::similar::similar_to_case(&c, id, &p).await?))
}

/// `POST /api/v1/search` with a JSON `SearchRequest` (`case_id`, `text`, `images_base64`, and
/// the same options as `/similar`): the most similar cases to that mix.
pub async fn search(c: Caller, body: Result<Json<SearchRequest>, axum::extract::rejection::JsonRejection>) -> Result<Json<SimilarResults>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError(ServiceError::Invalid(format!("The search request is not valid JSON: {}", e.body_text()))))?;
    Ok(Json(precedent_service::similar::search(&c, req).await?))
}

/// `POST /search` (the advanced search form, url-encoded): keeps the query under an opaque id
/// and sends the browser to `/search?s=<id>`, so what was typed is never in a URL. Anonymous
/// visitors go to the login page.
pub async fn save_search_form(caller: Result<Caller, ServiceError>, axum::Form(pairs): axum::Form<Vec<(String, String)>>) -> Response {
    let c = match caller {
        Ok(c) => c,
        Err(ServiceError::Unauthenticated) => return axum::response::Redirect::to("/login").into_response(),
        Err(e) => return ApiError(e).into_response(),
    };
    match precedent_service::saved_search::save(&c, pairs).await {
        Ok(id) => axum::response::Redirect::to(&format!("/search?s={id}")).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

/// At most this many images in one query-image upload.
const MAX_UPLOAD_QUERY_IMAGES: usize = 8;

/// `POST /api/v1/search/images` (multipart, one or more `image` files): checks each image and
/// keeps it for an hour under a token the search page puts in its URL (`img=…`). Only the
/// uploader can search with it or see it. Answers `{"images":[UploadedQueryImage…]}`.
pub async fn upload_query_images(c: Caller, mut mp: Multipart) -> Result<Json<serde_json::Value>, ApiError> {
    precedent_service::quota::upload(&c)?;
    let st = &c.state;
    let file_limit = (st.limits.max_file_mb * 1024 * 1024) as usize;
    let mut files = Vec::new();
    while let Some(mut field) = next_field(&mut mp).await? {
        if field.name() != Some("image") {
            continue;
        }
        let filename = file_name_of(&field, "image");
        let bytes = read_bytes(&mut field, file_limit, &filename).await?;
        files.push((filename, bytes));
        if files.len() > MAX_UPLOAD_QUERY_IMAGES {
            return Err(ApiError(ServiceError::Invalid(format!("At most {MAX_UPLOAD_QUERY_IMAGES} images per query."))));
        }
    }
    if files.is_empty() {
        return Err(ApiError(ServiceError::Invalid("Choose an image (PNG or JPEG) to search with.".into())));
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
        .map_err(|e| ApiError(ServiceError::internal("image check task failed", e)))?;
        let accepted = accepted.map_err(|e| ApiError(ServiceError::Invalid(e.to_string())))?;
        let token = uuid::Uuid::new_v4().simple().to_string();
        precedent_store::uploads::put(&st.pool, &token, c.actor.id, &filename, &bytes, &accepted.thumbnail_jpeg).await?;
        out.push(UploadedQueryImage { thumb: format!("/api/v1/search/images/{token}/thumb"), token, filename });
    }
    precedent_service::audit(&st.pool, Some(c.actor), "search.image.upload", None, c.ip.clone(), "ok").await?;
    Ok(Json(serde_json::json!({ "images": out })))
}

/// `GET /api/v1/search/images/{token}/thumb`: the uploader's own query image, small.
pub async fn query_image_thumb(c: Caller, Path(token): Path<String>) -> Result<Response, ApiError> {
    match precedent_store::uploads::thumb(&c.state.pool, &token, c.actor.id).await? {
        Some(jpeg) => Ok(([(axum::http::header::CONTENT_TYPE, "image/jpeg"), (axum::http::header::CACHE_CONTROL, "no-store")], jpeg).into_response()),
        None => Err(ApiError(ServiceError::NotFound)),
    }
}
