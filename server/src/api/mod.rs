//! `/api/v1`: JSON for programs, and the target of the new-case and import forms. Each handler
//! takes the [`Caller`](precedent_service::Caller) (the session's user, 401 otherwise) and
//! hands the work to a use case of `precedent-service`, or to the server's intake and import.
pub mod admin;
pub mod cases;
mod multipart;
pub mod search;
pub mod support;

use crate::http::{encode_query, ApiError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use precedent_service::ServiceError;

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
        (Err(ApiError(ServiceError::Unauthenticated)), false) => Redirect::to("/login").into_response(),
        (Err(e), true) => e.into_response(),
        (Err(e), false) => Redirect::to(&format!("{form}?error={}", encode_query(&e.0.to_string()))).into_response(),
    }
}
