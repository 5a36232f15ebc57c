//! The server functions' side of the house: how a server function finds the application state,
//! the session and the caller, how a use case's answer becomes the page's (its error and HTTP
//! status), and the page's Content-Security-Policy. The use cases themselves live in
//! `precedent-service`.
use crate::error::AppError;
use precedent_service::{AppState, Caller, ServiceError};
use tower_sessions::Session;

/// The Content-Security-Policy: scripts only from this origin, plus, on pages, the inline
/// scripts Leptos writes for hydration and streamed resources, which carry the response's
/// `nonce`; WebAssembly compilation for the hydrated bundle; no plugins, no framing, forms and
/// requests to this origin only. Inline `style` attributes stay allowed (the score bars' widths).
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let script = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; {script}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's Content-Security-Policy with the nonce Leptos gave this response's inline
/// scripts (called while the page shell renders).
pub fn set_page_csp() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else {
        return;
    };
    match axum::http::HeaderValue::from_str(&content_security_policy(Some(&nonce))) {
        Ok(v) => res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v),
        Err(e) => tracing::error!(error = %e, "content security policy header"),
    }
}

/// The application state inside a server function.
pub fn state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

/// The session inside a server function.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "no session layer");
        AppError::Internal
    })
}

/// The client address inside a server function.
pub async fn client_ip() -> Option<String> {
    let peer = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>().await.ok().map(|ci| ci.0.ip());
    let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.unwrap_or_default();
    let trusted = state().map(|st| st.trusted_proxies.clone()).unwrap_or_default();
    precedent_service::caller::client_address(peer, &headers, &trusted)
}

/// The signed-in caller, or [`AppError::Unauthenticated`] (the response's status is set too).
pub async fn caller() -> Result<Caller, AppError> {
    let outcome = async {
        let st = state()?;
        let session = session().await?;
        Caller::from_session(st, &session, client_ip().await).await.map(|(c, _)| c).map_err(AppError::from)
    }
    .await;
    outcome.inspect_err(set_status)
}

/// A use case's answer as a server function's: its error becomes the page's, with the matching
/// HTTP status on server-rendered pages.
pub fn answer<T>(r: Result<T, ServiceError>) -> Result<T, AppError> {
    r.map_err(AppError::from).inspect_err(set_status)
}

/// Gives the page's HTTP response the status matching `err` (server-rendered pages).
pub fn set_status(err: &AppError) {
    if let Some(opts) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(code) = axum::http::StatusCode::from_u16(err.status()) {
            opts.set_status(code);
        }
    }
}
