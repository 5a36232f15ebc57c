//! Decision support on the case page: likely diagnoses, categories, next tests and a specialist,
//! each with the similar cases it rests on. The logic is `precedent_service::suggest`, shared
//! with `GET /api/v1/cases/{id}/suggestions`.
use crate::dto::SuggestionsView;
use crate::error::AppError;
use leptos::prelude::*;

mod panel;

pub use panel::{SuggestionsBody, SuggestionsPanel};

/// Suggestions for a stored case (doctors and admins).
#[server(endpoint = "case_suggestions")]
pub async fn case_suggestions(case_id: i64) -> Result<SuggestionsView, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::suggest::for_case(&c, case_id).await)
}
