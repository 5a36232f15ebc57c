//! The router: pages (Leptos SSR + server functions), `/api/v1`, media, health, and the
//! middleware around them (sessions, sign-in redirect, same-origin check, security headers,
//! body limits, request ids, tracing, metrics).
use crate::{api, media};
use app::{shell, App};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use precedent_service::AppState;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

/// The Postgres-backed session store (its table is created if missing).
pub async fn session_store(pool: &sqlx::PgPool) -> Result<PostgresStore, crate::error::ServerError> {
    let store = PostgresStore::new(pool.clone());
    store.migrate().await.map_err(|e| crate::error::ServerError::Sessions(e.to_string()))?;
    Ok(store)
}

/// What the router enforces beyond routes: the session cookie, the hosts it answers to, HSTS.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Session cookies carry `Secure`.
    pub secure_cookies: bool,
    pub idle_minutes: i64,
    /// Send `Strict-Transport-Security` (the public URL is https).
    pub hsts: bool,
    /// Host names (lower-case, no port) a request's `Host` may name.
    pub allowed_hosts: Arc<[String]>,
    /// How long a request may take, body included (uploads and imports: see [`deadline`]).
    pub request_timeout: std::time::Duration,
    pub upload_timeout: std::time::Duration,
}

/// The deadlines of requests, body reading included (a client that sends its body slowly, or
/// not at all, holds a connection and memory only this long): uploads get longer, an admin's
/// library archive and the progress streams none. Answered 408.
async fn deadline(State(limits): State<(std::time::Duration, std::time::Duration)>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let limit = if path.ends_with("/progress") || (path == "/api/v1/admin/imports" && req.method() == Method::POST) {
        return next.run(req).await;
    } else if req.method() == Method::POST && (path == "/api/v1/cases" || path == "/api/v1/search/images") {
        limits.1
    } else {
        limits.0
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(secs = limit.as_secs(), "request took too long; answered 408");
            (StatusCode::REQUEST_TIMEOUT, "the request took too long").into_response()
        }
    }
}

/// Refuses a request whose `Host` is not one of this server's names (DNS rebinding: a page on
/// another site that resolves its own name to this server's address). Health probes are exempt:
/// load balancers call them by address.
async fn allowed_host(State(hosts): State<Arc<[String]>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let authority = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).or_else(|| req.uri().authority().map(|a| a.as_str()));
    let host = authority.map(|a| crate::config::host_without_port(a).to_ascii_lowercase());
    match host {
        Some(h) if hosts.iter().any(|a| *a == h) => next.run(req).await,
        other => {
            tracing::warn!(host = ?other, "request for a host this server does not serve refused");
            (StatusCode::MISDIRECTED_REQUEST, "this server does not answer to that host name (see PRECEDENT_ALLOWED_HOSTS)").into_response()
        }
    }
}

/// Pages for signed-in users (patient data, or the account itself).
fn is_patient_page(path: &str) -> bool {
    path == "/cases"
        || path.starts_with("/cases/")
        || path == "/review"
        || path == "/compare"
        || path == "/search"
        || path.starts_with("/admin")
        || path == "/account"
}

/// Fetch-metadata resource isolation: another site may link to a page, but may not load this
/// server's data or media into its own page (`Sec-Fetch-Site: cross-site` on a sub-resource or
/// script request), and a link from another site to a page with patient data opens a page that
/// shows none, with a link to go on (so a cross-site page cannot time or frame-count it).
async fn isolate_resources(req: Request, next: Next) -> Response {
    let h = req.headers();
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()).unwrap_or("none");
    if site != "cross-site" || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let navigation = h.get("sec-fetch-mode").and_then(|v| v.to_str().ok()) == Some("navigate")
        && h.get("sec-fetch-dest").and_then(|v| v.to_str().ok()).is_none_or(|d| d == "document");
    if path.starts_with("/api/") || path.starts_with("/media/") || path == "/metrics" || (is_patient_page(path) && !navigation) {
        tracing::warn!("cross-site load refused");
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    if is_patient_page(path) {
        let target = html_escape(path);
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Precedent</title></head>\
             <body><main><h1>Precedent</h1><p>You followed a link from another site.</p><p><a id=\"continue\" href=\"{target}\">Continue to Precedent</a></p></main></body></html>"
        );
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    }
    next.run(req).await
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Headers every response carries: no caching of anything but the built site's assets (pages,
/// API answers and media hold patient data), browser features off, cross-origin isolation,
/// HSTS when published over https.
async fn security_headers(State(hsts): State<bool>, req: Request, next: Next) -> Response {
    let cacheable = req.uri().path().starts_with("/pkg/") || req.uri().path() == "/favicon.svg";
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    if hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    res
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and the similarity indexes are loaded.
async fn readyz(State(st): State<AppState>) -> Response {
    let probe = tokio::time::timeout(std::time::Duration::from_secs(2), sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&st.pool)).await;
    match probe {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "database not reachable");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response();
        }
        Err(_) => {
            tracing::warn!("database did not answer within 2 s");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response();
        }
    }
    if st.search.get().is_none() {
        return (StatusCode::SERVICE_UNAVAILABLE, "similarity indexes not loaded").into_response();
    }
    (StatusCode::OK, "ready").into_response()
}

/// Pages that need a signed-in user redirect anonymous visitors to the login page, and a user
/// whose password an admin reset to the account page.
async fn require_login_for_pages(State(st): State<AppState>, session: Session, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let protected = req.method() == Method::GET && is_patient_page(path);
    if protected {
        match precedent_service::actor_from_session(&st, &session).await {
            Ok(Some((_, u))) if u.must_change_password && path != "/account" => return Redirect::to("/account").into_response(),
            Ok(Some(_)) => {}
            Ok(None) => return Redirect::to("/login").into_response(),
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
    next.run(req).await
}

/// Refuses state-changing requests sent from another site (CSRF): the browser's `Origin` (or
/// `Sec-Fetch-Site`) must name this server.
async fn same_origin(req: Request<Body>, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let h = req.headers();
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin_ok = match h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some("null") => false,
            Some(origin) => {
                let origin_host = origin.split("://").nth(1).unwrap_or("");
                host.is_some_and(|hst| hst.eq_ignore_ascii_case(origin_host))
            }
            None => h.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_none_or(|s| s != "cross-site"),
        };
        if !origin_ok {
            tracing::warn!(method = %req.method(), "cross-site request refused");
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
    }
    next.run(req).await
}

/// The Content-Security-Policy of responses that are not pages (no inline script at all).
fn fallback_csp() -> HeaderValue {
    HeaderValue::from_str(&app::ssr::content_security_policy(None)).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"))
}

/// Gives every request a fresh id, sent back as `x-request-id` and carried by its log lines
/// (an id sent by the client is replaced: log lines hold only what the server made).
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = HeaderValue::from_str(&uuid::Uuid::new_v4().simple().to_string()).ok();
    if let Some(id) = &id {
        req.headers_mut().insert(REQUEST_ID, id.clone());
    }
    let mut res = next.run(req).await;
    if let Some(id) = id {
        res.headers_mut().insert(REQUEST_ID, id);
    }
    res
}

const REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// The log span of a request: its id, method and route template — never the raw path or query
/// string, which may hold what a user typed (a search for symptoms).
fn request_span(req: &Request) -> tracing::Span {
    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
    let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("unmatched");
    tracing::info_span!("request", id = %id, method = %req.method(), route = %route)
}

/// The whole application router.
pub fn router(state: AppState, store: PostgresStore, web: WebSettings) -> Router {
    crate::metrics::install();
    let routes = generate_route_list(App);
    let upload_limit = (state.limits.max_file_mb as usize) * 1024 * 1024 * 4 + 1024 * 1024;
    let import_limit = (state.limits.max_import_mb as usize) * 1024 * 1024 + 1024 * 1024;
    let session_layer = SessionManagerLayer::new(store)
        .with_name("precedent.sid")
        .with_secure(web.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::minutes(web.idle_minutes)));
    let leptos_options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::endpoint))
        .route("/readyz", get(readyz))
        .route("/api/v1/cases", post(api::cases::create_case).layer(DefaultBodyLimit::max(upload_limit)).get(api::cases::list_cases))
        .route("/api/v1/cases/{id}", get(api::cases::get_case))
        .route("/api/v1/cases/{id}/similar", get(api::search::similar))
        .route("/api/v1/cases/{id}/suggestions", get(api::support::suggestions))
        .route("/api/v1/cases/{id}/explain/{hit}", get(api::support::explain))
        .route("/api/v1/cases/{id}/report", get(api::support::report).post(api::support::save_report))
        .route("/api/v1/search", axum::routing::post(api::search::search))
        .route("/api/v1/search/images", post(api::search::upload_query_images).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/api/v1/search/images/{token}/thumb", get(api::search::query_image_thumb))
        .route("/api/v1/admin/index/progress", get(api::admin::index_progress))
        .route("/api/v1/admin/audit.csv", get(api::admin::audit_csv))
        .route("/api/v1/admin/imports", post(api::admin::start_import).layer(DefaultBodyLimit::max(import_limit)))
        .route("/api/v1/admin/imports/{id}", get(api::admin::get_import))
        .route("/api/v1/admin/imports/{id}/progress", get(api::admin::import_progress))
        .route("/search", post(api::search::save_search_form))
        .route("/media/images/{id}", get(media::image))
        .route("/media/images/{id}/thumb", get(media::thumb))
        .route("/media/reports/{id}", get(media::report))
        .route("/media/hits/{id}/thumb", get(media::hit_thumb))
        .leptos_routes(&state, routes, move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(DefaultBodyLimit::max(2 * 1024 * 1024))
        .layer(middleware::from_fn_with_state(state.clone(), require_login_for_pages))
        .layer(session_layer)
        .layer(middleware::from_fn(same_origin))
        .layer(middleware::from_fn_with_state((web.request_timeout, web.upload_timeout), deadline))
        .layer(middleware::from_fn(isolate_resources))
        .layer(middleware::from_fn_with_state(web.allowed_hosts.clone(), allowed_host))
        .layer(middleware::from_fn_with_state(web.hsts, security_headers))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        // Pages set their own policy with a per-response nonce for Leptos's inline scripts
        // (`app::ssr::content_security_policy`); everything else gets it without one.
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, fallback_csp()))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis)),
        )
        .layer(middleware::from_fn(request_id))
        .with_state(state)
}
