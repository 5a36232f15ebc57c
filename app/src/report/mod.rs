//! The case report: doctors draft it from the suggestions, edit, save and release it; patients
//! read the released version. The logic is `precedent_service::case_report`, shared with
//! `/api/v1/cases/{id}/report`.
use crate::dto::CaseReportView;
use crate::error::AppError;
use leptos::prelude::*;

mod panel;

pub use panel::ReportPanel;

/// The report of a case as the caller may see it.
#[server(endpoint = "case_report")]
pub async fn case_report(case_id: i64) -> Result<CaseReportView, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::case_report::view(&c, case_id).await)
}

/// Saves a version of the report (doctors); `release` ("on" from the checkbox) releases it to the patient.
#[server(endpoint = "save_case_report")]
pub async fn save_case_report(
    case_id: i64,
    diagnoses: String,
    next_tests: String,
    specialist: String,
    summary: String,
    #[server(default)] release: Option<String>,
) -> Result<(), AppError> {
    let c = crate::ssr::caller().await?;
    let form = precedent_service::case_report::ReportForm {
        draft: crate::dto::ReportDraft { diagnoses, next_tests, specialist, summary },
        release: release.is_some_and(|r| matches!(r.as_str(), "on" | "true")),
    };
    crate::ssr::answer(precedent_service::case_report::save(&c, case_id, &form).await)
}
