//! HTTP plumbing for the plain axum handlers: the error type that becomes a response, who is
//! asking, and content negotiation between browsers and programs.
use crate::intake::IntakeError;
use app::error::AppError;
use app::ssr::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use precedent_accounts::Actor;
use tower_sessions::Session;

/// An error answered as JSON `{"error": "..."}` with a matching status. Internal causes are
/// logged where they happen and never sent.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<precedent_store::StoreError> for ApiError {
    fn from(e: precedent_store::StoreError) -> Self {
        ApiError(AppError::from(e))
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Invalid(m) => ApiError(AppError::Invalid(m)),
            IntakeError::Media(m) => ApiError(AppError::Invalid(m.to_string())),
            IntakeError::Store(s) => ApiError::from(s),
            IntakeError::Task(t) => {
                tracing::error!(error = %t, "intake task failed");
                ApiError(AppError::Internal)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(serde_json::json!({ "error": self.0.to_string() }))).into_response()
    }
}

/// The signed-in user, or 401.
pub async fn require_actor(st: &AppState, session: &Session) -> Result<Actor, ApiError> {
    match app::ssr::actor_from_session(st, session).await? {
        Some((actor, _)) => Ok(actor),
        None => Err(ApiError(AppError::Unauthenticated)),
    }
}

/// True when the client asked for JSON (programs and the hydrated page), false for a plain
/// browser form submission.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.contains("application/json") || !v.contains("text/html"))
}

/// Percent-encodes a query-string value.
pub fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The client's address as recorded in the audit log.
pub fn ip_of(addr: std::net::SocketAddr) -> Option<String> {
    Some(addr.ip().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_and_encoding() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, "text/html,application/xhtml+xml".parse().unwrap());
        assert!(!wants_json(&h));
        h.insert(header::ACCEPT, "application/json".parse().unwrap());
        assert!(wants_json(&h));
        assert!(wants_json(&HeaderMap::new()));
        assert_eq!(encode_query("a b/é"), "a%20b%2F%C3%A9");
    }
}
