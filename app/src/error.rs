//! The error every server function returns: a clear message for the person, or an opaque
//! "internal error" whose cause is only in the server log.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please log in to continue.")]
    Unauthenticated,
    #[error("You do not have access to this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts. Try again in {0} seconds.")]
    RateLimited(u64),
    #[error("{0}")]
    Unavailable(String),
    #[error("The server is busy; try again in a few seconds.")]
    Busy,
    #[error("Choose a new password first (your account page).")]
    PasswordChangeRequired,
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("Something went wrong on our side; it has been logged.")]
    Internal,
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status that matches this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden | AppError::PasswordChangeRequired => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 422,
            AppError::Conflict(_) => 409,
            AppError::RateLimited(_) | AppError::Busy | AppError::QuotaExceeded(_) => 429,
            AppError::Unavailable(_) => 503,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::Deserialization(msg) => AppError::Invalid(msg),
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// A use case's refusal as the page sees it (same message, same status).
#[cfg(feature = "ssr")]
impl From<precedent_service::ServiceError> for AppError {
    fn from(e: precedent_service::ServiceError) -> Self {
        use precedent_service::ServiceError as S;
        match e {
            S::Unauthenticated => AppError::Unauthenticated,
            S::Forbidden => AppError::Forbidden,
            S::NotFound => AppError::NotFound,
            S::Invalid(m) => AppError::Invalid(m),
            S::Conflict(m) => AppError::Conflict(m),
            S::RateLimited(s) => AppError::RateLimited(s),
            S::Unavailable(m) => AppError::Unavailable(m),
            S::Busy => AppError::Busy,
            S::PasswordChangeRequired => AppError::PasswordChangeRequired,
            S::QuotaExceeded(m) => AppError::QuotaExceeded(m),
            S::Internal => AppError::Internal,
        }
    }
}
