//! Doctor review: validate or correct a case's diagnosis (with certainty, notes, next tests and
//! specialist; every review is appended to the case's history), and the queue of cases waiting
//! for review. The logic lives in [`service`], shared with `/api/v1`.
//!
//! The server functions are here; the review form and the queue page have their own files.
use crate::dto::ReviewQueueView;
use crate::error::AppError;
use leptos::prelude::*;

mod panel;
mod queue;

pub use panel::ReviewPanel;
pub use queue::ReviewQueuePage;

/// Validates (`action = "validate"`) or corrects (`"correct"`) the diagnosis of a case.
#[server(endpoint = "review_case")]
pub async fn review_case(
    case_id: i64,
    action: String,
    diagnosis: String,
    certainty: String,
    notes: String,
    next_tests: String,
    specialist: String,
) -> Result<(), AppError> {
    let c = crate::ssr::caller().await?;
    let form = precedent_service::review::ReviewForm { action, diagnosis, certainty, notes, next_tests, specialist };
    crate::ssr::answer(precedent_service::review::review(&c, case_id, &form).await)
}

/// Cases without a review, oldest first (doctors only).
#[server(endpoint = "review_queue")]
pub async fn review_queue(page: u32, region: Option<String>) -> Result<ReviewQueueView, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::review::queue(&c, page, region).await)
}
