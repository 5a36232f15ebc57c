//! The error of every use case: a clear message for the person, or an opaque "internal error"
//! whose cause is logged where it happened. The pages turn it into their `AppError`, the JSON
//! API into a status and `{"error": …}`.
use precedent_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
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
    /// A daily quota is spent (the message says which and until when).
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("Something went wrong on our side; it has been logged.")]
    Internal,
}

impl ServiceError {
    /// The HTTP status that matches this error.
    pub fn status(&self) -> u16 {
        match self {
            ServiceError::Unauthenticated => 401,
            ServiceError::Forbidden | ServiceError::PasswordChangeRequired => 403,
            ServiceError::NotFound => 404,
            ServiceError::Invalid(_) => 422,
            ServiceError::Conflict(_) => 409,
            ServiceError::RateLimited(_) | ServiceError::Busy | ServiceError::QuotaExceeded(_) => 429,
            ServiceError::Unavailable(_) => 503,
            ServiceError::Internal => 500,
        }
    }

    /// Logs `cause` and returns the opaque internal error.
    pub fn internal(what: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{what}");
        ServiceError::Internal
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict(what) => ServiceError::Conflict(format!("{} already exists.", capitalise(&what))),
            other => ServiceError::internal("storage failure", other),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
