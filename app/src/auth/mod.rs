//! Sign-up, login, logout and "who am I", as server functions and pages.
//!
//! The server functions are here; the pages and the form-error line have their own files.
use crate::dto::UserView;
use crate::error::AppError;
use leptos::prelude::*;

mod form_error;
mod login;
mod signup;

pub use form_error::FormError;
pub use login::{LoginCodePage, LoginPage};
pub use signup::SignupPage;

/// Whether this server has demo accounts (anyone may ask: the banner is shown to everyone).
#[server(endpoint = "demo_mode")]
pub async fn demo_mode() -> Result<bool, AppError> {
    let st = crate::ssr::state()?;
    crate::ssr::answer(precedent_service::auth::demo_mode(&st).await)
}

/// The signed-in user, or `None`.
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    crate::ssr::answer(precedent_service::auth::current_user(&st, &session).await)
}

/// Logs in with email and password; rate-limited per account and per client address.
/// Refusals carry their status (429 rate-limited, 403 disabled, 422 invalid). Goes on to the
/// code page (two-factor sign-in), the account page (a password an admin reset) or the cases.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    let step = crate::ssr::answer(precedent_service::auth::login(&st, &session, crate::ssr::client_ip().await, &email, password).await)?;
    leptos_axum::redirect(next_page(step));
    Ok(())
}

/// The second step of a two-factor login: the app's code or a recovery code.
#[server(endpoint = "login_code")]
pub async fn login_code(code: String) -> Result<(), AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    let step = crate::ssr::answer(precedent_service::auth::login_code(&st, &session, crate::ssr::client_ip().await, &code).await)?;
    leptos_axum::redirect(next_page(step));
    Ok(())
}

#[cfg(feature = "ssr")]
fn next_page(step: precedent_service::auth::LoginStep) -> &'static str {
    use precedent_service::auth::LoginStep;
    match step {
        LoginStep::SignedIn => "/cases",
        LoginStep::MustChangePassword => "/account",
        LoginStep::CodeNeeded => "/login/code",
    }
}

/// Creates a patient account and signs it in.
#[server(endpoint = "signup")]
pub async fn signup(email: String, display_name: String, password: String, password_confirm: String) -> Result<(), AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    let form = precedent_service::auth::SignupForm { email, display_name, password, password_confirm };
    crate::ssr::answer(precedent_service::auth::signup(&st, &session, crate::ssr::client_ip().await, form).await)?;
    leptos_axum::redirect("/cases");
    Ok(())
}

/// Ends the session on the server (its row is deleted) and in the browser.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    crate::ssr::answer(precedent_service::auth::logout(&st, &session, crate::ssr::client_ip().await).await)?;
    leptos_axum::redirect("/login");
    Ok(())
}
