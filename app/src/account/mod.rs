//! The signed-in user's own account (`/account`): change the password, and for doctors and
//! admins two-factor sign-in (enrol an authenticator app by QR code, recovery codes, turn off).
//! The server functions are here; the page has its own file.
use crate::dto::{AccountView, TwoFactorSetupView};
use crate::error::AppError;
use leptos::prelude::*;

mod page;

pub use page::AccountPage;

/// The account page's data.
#[server(endpoint = "account")]
pub async fn account() -> Result<AccountView, AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    crate::ssr::answer(precedent_service::credentials::account(&st, &session).await)
}

/// Changes the password after the current one; every other session of the account ends.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String, confirm: String) -> Result<(), AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    crate::ssr::answer(precedent_service::credentials::change_password(&st, &session, crate::ssr::client_ip().await, current, new, confirm).await)
}

/// Starts enrolling an authenticator app (doctors and admins).
#[server(endpoint = "two_factor_begin")]
pub async fn begin_two_factor() -> Result<TwoFactorSetupView, AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    crate::ssr::answer(precedent_service::credentials::begin_two_factor(&st, &session).await)
}

/// Confirms enrolment with a code from the app; returns the recovery codes, once.
#[server(endpoint = "two_factor_confirm")]
pub async fn confirm_two_factor(code: String) -> Result<Vec<String>, AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    crate::ssr::answer(precedent_service::credentials::confirm_two_factor(&st, &session, crate::ssr::client_ip().await, &code).await)
}

/// Turns two-factor sign-in off after the current password.
#[server(endpoint = "two_factor_disable")]
pub async fn disable_two_factor(password: String) -> Result<(), AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    crate::ssr::answer(precedent_service::credentials::disable_two_factor(&st, &session, crate::ssr::client_ip().await, password).await)
}
