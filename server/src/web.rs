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

/// Session cookie settings.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    pub secure: bool,
    pub idle_minutes: i64,
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

/// Pages that need a signed-in user redirect anonymous visitors to the login page.
async fn require_login_for_pages(State(st): State<AppState>, session: Session, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let protected = req.method() == Method::GET
        && (path == "/cases" || path.starts_with("/cases/") || path == "/review" || path == "/compare" || path == "/search" || path.starts_with("/admin"));
    if protected {
        match precedent_service::actor_from_session(&st, &session).await {
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
            tracing::warn!(path = %req.uri().path(), "cross-site request refused");
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
pub fn router(state: AppState, store: PostgresStore, sessions: SessionSettings) -> Router {
    crate::metrics::install();
    let routes = generate_route_list(App);
    let upload_limit = (state.limits.max_file_mb as usize) * 1024 * 1024 * 4 + 1024 * 1024;
    let import_limit = (state.limits.max_import_mb as usize) * 1024 * 1024 + 1024 * 1024;
    let session_layer = SessionManagerLayer::new(store)
        .with_name("precedent.sid")
        .with_secure(sessions.secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::minutes(sessions.idle_minutes)));
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
