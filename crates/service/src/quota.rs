//! Per-user quotas: how often a user may run a similar-case search (find similar, search,
//! suggestions and explanations each run one) and upload, per minute, and how many cases and
//! bytes they may add per 24 hours. A spent quota is answered 429 before any work is done, with
//! when to try again. Admins' library imports are not uploads and count against nothing.
use crate::{AppState, Caller, ServiceError};
use precedent_accounts::RateLimiter;
use std::time::Duration;

/// The configured quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaLimits {
    pub searches_per_minute: usize,
    pub uploads_per_minute: usize,
    pub cases_per_day: i64,
    pub upload_mb_per_day: u64,
}

impl Default for QuotaLimits {
    fn default() -> Self {
        Self { searches_per_minute: 120, uploads_per_minute: 30, cases_per_day: 200, upload_mb_per_day: 2048 }
    }
}

/// Every user's per-minute budgets, and the daily limits.
pub struct Quotas {
    pub limits: QuotaLimits,
    searches: RateLimiter,
    uploads: RateLimiter,
}

impl Quotas {
    pub fn new(limits: QuotaLimits) -> Self {
        Self {
            limits,
            searches: RateLimiter::new(limits.searches_per_minute.max(1), Duration::from_secs(60)),
            uploads: RateLimiter::new(limits.uploads_per_minute.max(1), Duration::from_secs(60)),
        }
    }
}

impl Default for Quotas {
    fn default() -> Self {
        Self::new(QuotaLimits::default())
    }
}

fn spent(what: &'static str, wait: Duration) -> ServiceError {
    tracing::info!(what, retry_after = wait.as_secs(), "per-minute quota spent");
    ServiceError::RateLimited(wait.as_secs().max(1))
}

/// Counts one similar-case search against the caller's minute.
pub fn search(c: &Caller) -> Result<(), ServiceError> {
    c.state.quotas.searches.try_hit(&c.actor.id.0.to_string()).map(|_| ()).map_err(|w| spent("search", w))
}

/// Counts one upload request against the caller's minute.
pub fn upload(c: &Caller) -> Result<(), ServiceError> {
    c.state.quotas.uploads.try_hit(&c.actor.id.0.to_string()).map(|_| ()).map_err(|w| spent("upload", w))
}

/// What the caller added in the last 24 hours: cases, and bytes of their scans and reports.
#[derive(Debug, Clone, Copy)]
pub struct AddedToday {
    cases: i64,
    stored: i64,
}

/// Reads what the caller added in the last 24 hours (once per upload; checked by [`new_case`]).
pub async fn added_today(st: &AppState, c: &Caller) -> Result<AddedToday, ServiceError> {
    let (cases, stored) = precedent_store::cases::added_since(&st.pool, c.actor.id, time::Duration::days(1)).await?;
    Ok(AddedToday { cases, stored })
}

/// Refuses a new case of `bytes` (an upper bound is fine before the body is read) when the
/// caller has added the day's cases or bytes already.
pub fn new_case(st: &AppState, today: AddedToday, bytes: u64) -> Result<(), ServiceError> {
    let AddedToday { cases, stored } = today;
    let l = st.quotas.limits;
    if cases >= l.cases_per_day {
        tracing::info!(cases, "daily case quota spent");
        return Err(ServiceError::QuotaExceeded(format!("You have added {cases} cases in the last 24 hours, the most allowed; try again later.")));
    }
    if stored.max(0) as u64 + bytes > l.upload_mb_per_day * 1024 * 1024 {
        tracing::info!(stored, bytes, "daily upload quota spent");
        return Err(ServiceError::QuotaExceeded(format!(
            "This upload would pass the {} MB you may add in 24 hours ({} MB so far); try again later.",
            l.upload_mb_per_day,
            stored.max(0) / (1024 * 1024)
        )));
    }
    Ok(())
}
