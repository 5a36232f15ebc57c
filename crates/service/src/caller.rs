//! Who is asking: the signed-in user behind a session, and the [`Caller`] every use case takes
//! (state, actor, client address) — built by the pages' server functions and, through the axum
//! extractor here, by the JSON API, so both check access the same way before any query that
//! depends on the caller.
use crate::{AppState, ServiceError};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use precedent_accounts::Actor;
use precedent_store::users;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// What the session remembers: only the user id, when they logged in and the account's session
/// epoch then. Role, the disabled flag and the current epoch are read from the database on
/// every request: a session from another epoch (password changed or reset, account disabled)
/// is over.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub since: i64,
    #[serde(default)]
    pub epoch: i32,
}

pub const SESSION_KEY: &str = "user";

/// True when a session that began at `since` (unix seconds) has outlived `max_secs` at `now`.
pub fn session_expired(since: i64, now: i64, max_secs: i64) -> bool {
    now.saturating_sub(since) >= max_secs
}

/// The signed-in user behind `session`, if any (a disabled account counts as signed out).
/// A session older than the absolute lifetime counts as signed out, and is ended.
pub async fn actor_from_session(st: &AppState, session: &Session) -> Result<Option<(Actor, users::User)>, ServiceError> {
    let su: Option<SessionUser> = session.get(SESSION_KEY).await.map_err(|e| ServiceError::internal("session store failure", e))?;
    let Some(su) = su else { return Ok(None) };
    if session_expired(su.since, time::OffsetDateTime::now_utc().unix_timestamp(), st.session_max_secs) {
        tracing::info!(user = su.id, "session reached its absolute lifetime");
        let _ = session.flush().await;
        return Ok(None);
    }
    let user = users::get(&st.pool, precedent_types::UserId(su.id)).await?;
    match user {
        Some(u) if !u.disabled && u.session_epoch == su.epoch => Ok(Some((Actor { id: u.id, role: u.role }, u))),
        _ => {
            // The account vanished, was disabled or its password changed: end this session.
            let _ = session.flush().await;
            Ok(None)
        }
    }
}

/// A signed-in caller of a use case: the state, who they are, and where they call from (as
/// recorded in the audit log).
#[derive(Clone)]
pub struct Caller {
    pub state: AppState,
    pub actor: Actor,
    pub ip: Option<String>,
}

impl Caller {
    /// The caller behind `session`, or [`ServiceError::Unauthenticated`]; a user who must
    /// choose a new password first is refused every use case
    /// ([`ServiceError::PasswordChangeRequired`]) but the account's own.
    pub async fn from_session(state: AppState, session: &Session, ip: Option<String>) -> Result<(Caller, users::User), ServiceError> {
        match actor_from_session(&state, session).await? {
            Some((_, user)) if user.must_change_password => Err(ServiceError::PasswordChangeRequired),
            Some((actor, user)) => Ok((Caller { state, actor, ip }, user)),
            None => Err(ServiceError::Unauthenticated),
        }
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy; then the right-most
/// address in `X-Forwarded-For` that is not itself a trusted proxy (the left part of the header
/// is whatever the client wrote, so it is never believed).
pub fn client_address(peer: Option<std::net::IpAddr>, headers: &axum::http::HeaderMap, trusted: &[std::net::IpAddr]) -> Option<String> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded: Vec<std::net::IpAddr> =
        headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).filter_map(|a| a.trim().parse().ok()).collect();
    Some(forwarded.into_iter().rev().find(|a| !trusted.contains(a)).unwrap_or(peer).to_string())
}

/// The JSON API's caller: the session's signed-in user (401 otherwise) and the client address.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await.map_err(|(_, e)| ServiceError::internal("no session layer", e))?;
        let peer = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|ci| ci.0.ip());
        let ip = client_address(peer, &parts.headers, &state.trusted_proxies);
        Caller::from_session(state.clone(), &session, ip).await.map(|(c, _)| c)
    }
}

/// A refusal or failure answered as JSON `{"error": "..."}` with its status. Internal causes
/// are logged where they happen and never sent.
impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let status = axum::http::StatusCode::from_u16(self.status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}
