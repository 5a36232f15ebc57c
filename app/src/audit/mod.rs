//! Admin: the audit log — every read and write, who, role, what, when, from where — filtered by
//! action, account, object, outcome and date, newest first. Admins only; reading it is audited.
//!
//! The server function is here; the page has its own file.
use crate::dto::AuditPageView;
use crate::error::AppError;
use leptos::prelude::*;

mod page;

pub use page::AuditPage;

/// A page of the audit log matching the filter (admins only). Empty fields do not filter;
/// `action` ending in `.` is a prefix (`case.`); dates are `YYYY-MM-DD` (UTC).
#[server(endpoint = "admin_audit")]
pub async fn audit_log(
    #[server(default)] action: String,
    #[server(default)] actor: String,
    #[server(default)] object: String,
    #[server(default)] outcome: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] page: u32,
) -> Result<AuditPageView, AppError> {
    let c = crate::ssr::caller().await?;
    let form = precedent_service::audit_log::AuditQuery { action, actor, object, outcome, from, to, page };
    crate::ssr::answer(precedent_service::audit_log::page(&c, &form).await)
}
