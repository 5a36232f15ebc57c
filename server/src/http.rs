//! HTTP plumbing for the plain axum handlers: the error type that becomes a response, and
//! content negotiation between browsers and programs. (Who is asking: the
//! [`Caller`](precedent_service::Caller) extractor.)
use crate::intake::IntakeError;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use precedent_service::ServiceError;

/// An error answered as JSON `{"error": "..."}` with a matching status. Internal causes are
/// logged where they happen and never sent.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError(e)
    }
}

impl From<precedent_store::StoreError> for ApiError {
    fn from(e: precedent_store::StoreError) -> Self {
        ApiError(ServiceError::from(e))
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Invalid(m) => ApiError(ServiceError::Invalid(m)),
            IntakeError::Media(m) => ApiError(ServiceError::Invalid(m.to_string())),
            IntakeError::Store(s) => ApiError::from(s),
            IntakeError::Task(t) => ApiError(ServiceError::internal("intake task failed", t)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// True when the client asked for JSON (programs and the hydrated page), false for a plain
/// browser form submission.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_none_or(|v| v.contains("application/json") || !v.contains("text/html"))
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

/// Logs an I/O failure and answers the opaque internal error.
pub fn internal(what: &str, e: std::io::Error) -> ApiError {
    ApiError(ServiceError::internal(what, e))
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
