//! "Find similar": the similar-cases panel of the case page and the server functions behind it
//! and behind ad-hoc search. The logic lives in [`service`], shared with `/api/v1`.
//!
//! The server functions are here; the panel, the hit card, the search page and its image drop
//! zone each have their own file.
use crate::dto::{SearchRequest, SimilarParams, SimilarResults};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

mod drop_zone;
mod explain;
mod hit;
mod panel;
mod search_page;

pub use explain::ExplainPage;
pub use hit::HitCard;
pub use panel::SimilarPanel;
pub use search_page::{sort_hits, SearchPage};

/// Similar cases to a stored case.
#[server(endpoint = "find_similar", input = Json)]
pub async fn find_similar(case_id: i64, params: SimilarParams) -> Result<SimilarResults, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::similar::similar_to_case(&c, case_id, &params).await)
}

/// Similar cases to an ad-hoc query (a case, text and/or images).
#[server(endpoint = "search_cases", input = Json)]
pub async fn search_cases(req: SearchRequest) -> Result<SimilarResults, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::similar::search(&c, req).await)
}

/// The fields of a search the caller saved (`/search?s=<id>`).
#[server(endpoint = "saved_search")]
pub async fn saved_search(id: String) -> Result<Vec<(String, String)>, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::saved_search::get(&c, &id).await)
}

/// Why `hit` matched the query case `query` (whoever may see it as a hit).
#[server(endpoint = "explain_hit")]
pub async fn explain_hit(query: i64, hit: i64) -> Result<crate::dto::ExplainView, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::explain::hit(&c, query, hit).await)
}

/// Marks `hit_case` as a relevant (or not relevant) result for `query_case` (doctors only).
#[server(endpoint = "judge_hit")]
pub async fn judge_hit(query_case: i64, hit_case: i64, relevant: bool) -> Result<(), AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::similar::judge(&c, query_case, hit_case, relevant).await)
}
