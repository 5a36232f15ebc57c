//! Decision support on a case: `/api/v1/cases/{id}/suggestions` and the case report
//! (`/api/v1/cases/{id}/report`, read and saved).
use crate::http::ApiError;
use axum::extract::Path;
use axum::Json;
use precedent_service::{Caller, ServiceError};

/// `GET /api/v1/cases/{id}/suggestions` (doctors and admins): decision support computed from
/// the case's most similar cases with a confirmed diagnosis, each suggestion with its evidence.
pub async fn suggestions(c: Caller, Path(id): Path<i64>) -> Result<Json<precedent_types::dto::SuggestionsView>, ApiError> {
    Ok(Json(precedent_service::suggest::for_case(&c, id).await?))
}

/// `GET /api/v1/cases/{id}/report`: the case report as the caller may see it (doctors: every
/// version and a prefill from the suggestions; the owning patient: the latest released one).
pub async fn report(c: Caller, Path(id): Path<i64>) -> Result<Json<precedent_types::dto::CaseReportView>, ApiError> {
    Ok(Json(precedent_service::case_report::view(&c, id).await?))
}

/// The body of `POST /api/v1/cases/{id}/report`.
#[derive(serde::Deserialize)]
pub struct ReportBody {
    #[serde(flatten)]
    pub draft: precedent_types::dto::ReportDraft,
    #[serde(default)]
    pub release: bool,
}

/// `POST /api/v1/cases/{id}/report` (doctors; JSON `{diagnoses, next_tests, specialist, summary,
/// release}`): saves a new version, released to the patient when `release` is true.
pub async fn save_report(
    c: Caller,
    Path(id): Path<i64>,
    body: Result<Json<ReportBody>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::http::StatusCode, ApiError> {
    let Json(b) = body.map_err(|e| ApiError(ServiceError::Invalid(format!("The report is not valid JSON: {}", e.body_text()))))?;
    let form = precedent_service::case_report::ReportForm { draft: b.draft, release: b.release };
    precedent_service::case_report::save(&c, id, &form).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /api/v1/cases/{id}/explain/{hit}`: why `hit` matched case `id` (an `ExplainView`), for
/// whoever may see it as a hit.
pub async fn explain(c: Caller, Path((id, hit)): Path<(i64, i64)>) -> Result<Json<precedent_types::dto::ExplainView>, ApiError> {
    Ok(Json(precedent_service::explain::hit(&c, id, hit).await?))
}
