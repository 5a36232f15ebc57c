//! A signed-in user's own credentials: the account page, changing the password (every other
//! session ends: the account's session epoch moves on and this session is re-issued in the new
//! one), and two-factor sign-in for doctors and admins (enrol an authenticator app by QR code,
//! confirm with a code, receive one-time recovery codes; turn it off with the password).
//!
//! These take the session, not a [`Caller`](crate::Caller): a user whose password an admin
//! reset must still reach them.
use crate::auth::start_session;
use crate::caller::actor_from_session;
use crate::{audit, AppState, ServiceError};
use precedent_accounts::{totp, validate_password_with, verify_password, Actor};
use precedent_store::users::{self, User};
use precedent_types::dto::{AccountView, TwoFactorSetupView};
use precedent_types::UserId;
use tower_sessions::Session;

async fn signed_in(st: &AppState, session: &Session) -> Result<(Actor, User), ServiceError> {
    actor_from_session(st, session).await?.ok_or(ServiceError::Unauthenticated)
}

fn now() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64
}

/// The account page's view of the signed-in user.
pub async fn account(st: &AppState, session: &Session) -> Result<AccountView, ServiceError> {
    let (actor, u) = signed_in(st, session).await?;
    Ok(AccountView {
        email: u.email,
        display_name: u.display_name,
        role: u.role,
        must_change_password: u.must_change_password,
        two_factor: u.two_factor,
        two_factor_available: actor.role.is_staff(),
        recovery_codes_left: if u.two_factor { users::recovery_codes_left(&st.pool, actor.id).await? } else { 0 },
    })
}

/// Checks the signed-in user's current password (through the password gate; wrong guesses
/// count against the account's login budget).
async fn check_password(st: &AppState, actor: Actor, password: String) -> Result<(), ServiceError> {
    if password.chars().count() > crate::auth::MAX_LOGIN_PASSWORD_CHARS {
        return Err(ServiceError::Invalid("The current password is not right.".into()));
    }
    let key = format!("reauth:{}", actor.id.0);
    let at = st.account_limiter.try_hit(&key).map_err(|wait| ServiceError::RateLimited(wait.as_secs().max(1)))?;
    let hash = users::password_hash(&st.pool, actor.id).await?.ok_or(ServiceError::NotFound)?;
    if st.password_gate.run(move || verify_password(&password, &hash)).await? {
        st.account_limiter.release(&key, at);
        Ok(())
    } else {
        Err(ServiceError::Invalid("The current password is not right.".into()))
    }
}

/// Changes the signed-in user's password. Every other session of the account ends; this one
/// continues under a fresh id.
pub async fn change_password(st: &AppState, session: &Session, ip: Option<String>, current: String, new: String, confirm: String) -> Result<(), ServiceError> {
    let (actor, user) = signed_in(st, session).await?;
    if new != confirm {
        return Err(ServiceError::Invalid("The two new passwords do not match.".into()));
    }
    if new == current {
        return Err(ServiceError::Invalid("Choose a password different from the current one.".into()));
    }
    validate_password_with(&new, &user.email, &[&user.display_name]).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    if let Err(e) = check_password(st, actor, current).await {
        audit(&st.pool, Some(actor), "auth.password_change", None, ip, "failed").await?;
        return Err(e);
    }
    let hash = crate::hash_password(st, new).await?;
    let epoch = users::set_password(&st.pool, actor.id, &hash, false).await?;
    start_session(session, &user, epoch).await?;
    audit(&st.pool, Some(actor), "auth.password_change", None, ip, "ok").await?;
    Ok(())
}

/// Starts enrolling an authenticator app (doctors and admins): a new secret, pending until a
/// code from it is confirmed. Starting again replaces a pending secret, never a confirmed one.
pub async fn begin_two_factor(st: &AppState, session: &Session) -> Result<TwoFactorSetupView, ServiceError> {
    let (actor, user) = signed_in(st, session).await?;
    if !actor.role.is_staff() {
        return Err(ServiceError::Forbidden);
    }
    if user.two_factor {
        return Err(ServiceError::Conflict("Two-factor sign-in is already on; turn it off first to enrol another app.".into()));
    }
    let secret = totp::new_secret();
    let enrolment = totp::enrolment(&secret, &user.email).map_err(|e| ServiceError::internal("two-factor enrolment", e))?;
    users::set_totp_pending(&st.pool, actor.id, &secret).await?;
    Ok(TwoFactorSetupView { secret: enrolment.secret_base32, qr_svg: enrolment.qr_svg })
}

/// Confirms enrolment with a code from the app; returns the recovery codes (shown once).
pub async fn confirm_two_factor(st: &AppState, session: &Session, ip: Option<String>, code: &str) -> Result<Vec<String>, ServiceError> {
    let (actor, _) = signed_in(st, session).await?;
    if !actor.role.is_staff() {
        return Err(ServiceError::Forbidden);
    }
    let state = users::two_factor(&st.pool, actor.id).await?;
    let Some(pending) = state.totp_pending else {
        return Err(ServiceError::Invalid("Start again: scan a new QR code.".into()));
    };
    let step = totp::verify(&pending, code, now()).map_err(|e| ServiceError::internal("two-factor secret", e))?;
    let Some(step) = step else {
        audit(&st.pool, Some(actor), "auth.two_factor.enable", None, ip, "failed").await?;
        return Err(ServiceError::Invalid("That code is not right: check the app's clock and try the current code.".into()));
    };
    let codes = totp::recovery_codes();
    let digests: Vec<String> = codes.iter().map(|c| totp::recovery_digest(c)).collect();
    users::confirm_totp(&st.pool, actor.id, step, &digests).await?;
    audit(&st.pool, Some(actor), "auth.two_factor.enable", None, ip, "ok").await?;
    Ok(codes)
}

/// Turns two-factor sign-in off, after the current password.
pub async fn disable_two_factor(st: &AppState, session: &Session, ip: Option<String>, password: String) -> Result<(), ServiceError> {
    let (actor, _) = signed_in(st, session).await?;
    if let Err(e) = check_password(st, actor, password).await {
        audit(&st.pool, Some(actor), "auth.two_factor.disable", None, ip, "failed").await?;
        return Err(e);
    }
    users::clear_totp(&st.pool, actor.id).await?;
    audit(&st.pool, Some(actor), "auth.two_factor.disable", None, ip, "ok").await?;
    Ok(())
}

/// The second factor of a login: a six-digit code not used before (`totp`), or an unused
/// recovery code (`recovery`, used up now); `None` when neither.
pub(crate) async fn check_second_factor(st: &AppState, user: UserId, code: &str) -> Result<Option<&'static str>, ServiceError> {
    let state = users::two_factor(&st.pool, user).await?;
    let Some(secret) = state.totp_secret else { return Ok(None) };
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let step = totp::verify(&secret, &digits, now()).map_err(|e| ServiceError::internal("two-factor secret", e))?;
        return Ok(match step {
            Some(step) if users::use_totp_step(&st.pool, user, step).await? => Some("totp"),
            _ => None,
        });
    }
    Ok(users::use_recovery_code(&st.pool, user, &totp::recovery_digest(code)).await?.then_some("recovery"))
}
