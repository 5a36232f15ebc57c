//! Cases: the list, the new-case form and the case page, with their server functions.
//!
//! The server functions are here; each page has its own file.
use crate::dto::{CaseListView, CaseView};
use crate::error::AppError;
use leptos::prelude::*;

mod case_page;
mod compare;
mod list;
mod new_case;

pub use case_page::CasePage;
pub use compare::ComparePage;
pub use list::CaseListPage;
pub use new_case::NewCasePage;

/// One page of cases, newest first: a patient's own, or all cases for staff.
#[server(endpoint = "cases")]
pub async fn list_cases(page: u32) -> Result<CaseListView, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::cases::list(&c, page).await)
}

/// A case with its images, reports and review history, if the caller may read it.
#[server(endpoint = "case")]
pub async fn get_case(id: i64) -> Result<CaseView, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::cases::get(&c, id).await)
}
