//! Admin: the accounts page — list users, create doctor and admin accounts, disable or enable
//! an account (a disabled account's sessions end at its next request). Admins only.
//!
//! Also the similarity index page and the case-library import page. The server functions of all
//! three are here, with the browser's server-sent-events listener they share; each page has its
//! own file.
use crate::dto::{AdminUserView, IndexStatusView};
use crate::error::AppError;
use leptos::prelude::*;

mod import;
mod index;
mod users;

pub use import::ImportPage;
pub use index::IndexPage;
pub use users::UsersPage;

/// Every account (admins only).
#[server(endpoint = "admin_users")]
pub async fn list_users() -> Result<Vec<AdminUserView>, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::admin::list(&c).await)
}

/// Creates an account with a role (admins only).
#[server(endpoint = "admin_create_user")]
pub async fn create_user(email: String, display_name: String, role: String, password: String) -> Result<(), AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::admin::create(&c, &email, &display_name, &role, password).await)
}

/// Disables or re-enables an account (admins only; not one's own).
#[server(endpoint = "admin_set_disabled")]
pub async fn set_disabled(user_id: i64, disabled: bool) -> Result<(), AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::admin::set_disabled(&c, user_id, disabled).await)
}

/// Gives an account a temporary password, returned once (admins only; not one's own). The
/// person must choose a new one at their next login; their sessions end.
#[server(endpoint = "admin_reset_password")]
pub async fn reset_password(user_id: i64) -> Result<String, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::admin::reset_password(&c, user_id).await)
}

/// The similarity index: counts, models, pending embedding work, rebuild progress (admins only).
#[server(endpoint = "admin_index")]
pub async fn index_status() -> Result<IndexStatusView, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::admin::index_status(&c).await)
}

/// Starts rebuilding the similarity index in the background; queries keep using the live one
/// until the new one is swapped in (admins only).
/// `text_model` / `image_model`: manifest names; empty keeps the current model.
#[server(endpoint = "admin_reindex")]
pub async fn start_reindex(#[server(default)] text_model: String, #[server(default)] image_model: String) -> Result<(), AppError> {
    let c = crate::ssr::caller().await?;
    let pick = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let choice = precedent_service::ModelChoice { text: pick(text_model), image: pick(image_model) };
    crate::ssr::answer(precedent_service::admin::start_reindex(&c, choice).await)
}

/// The latest case-library imports (admins only).
#[server(endpoint = "admin_imports")]
pub async fn list_imports() -> Result<Vec<crate::dto::ImportView>, AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::admin::imports(&c).await)
}

/// Listens to the server-sent events at `url`, each one JSON `T`, until `on` answers `false` or
/// the component goes away.
#[cfg(feature = "hydrate")]
fn follow_events<T: serde::de::DeserializeOwned + 'static>(url: &str, mut on: impl FnMut(T) -> bool + 'static) {
    use wasm_bindgen::JsCast;
    let Ok(source) = web_sys::EventSource::new(url) else { return };
    let src = source.clone();
    let on_message = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if let Some(v) = ev.data().as_string().and_then(|t| serde_json::from_str::<T>(&t).ok()) {
            if !on(v) {
                src.close();
            }
        }
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    on_cleanup(move || source.close());
}
