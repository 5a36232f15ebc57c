//! Accounts from the visitor's side: who is signed in, log in (rate-limited per account and
//! per client address), sign up as a patient, log out. Sessions rotate at login.
use crate::caller::{actor_from_session, SessionUser, SESSION_KEY};
use crate::{audit, hash_password, AppState, ServiceError};
use precedent_accounts::{password::dummy_hash, validate_email, validate_password_with, verify_password, Actor};
use precedent_store::users::User;
use precedent_types::dto::UserView;
use tower_sessions::Session;

fn user_view(u: &User) -> UserView {
    UserView { id: u.id, email: u.email.clone(), display_name: u.display_name.clone(), role: u.role }
}

/// The signed-in user, or `None`.
pub async fn current_user(st: &AppState, session: &Session) -> Result<Option<UserView>, ServiceError> {
    Ok(actor_from_session(st, session).await?.map(|(_, u)| user_view(&u)))
}

/// Whether enabled demo accounts exist (every page then says so: no real patient data here).
pub async fn demo_mode(st: &AppState) -> Result<bool, ServiceError> {
    Ok(precedent_store::users::any_enabled_of_kind(&st.pool, precedent_types::AccountKind::Demo).await?)
}

/// Signs `user` in on this session, in the account's session epoch `epoch`, with a fresh
/// session id (no session fixation).
pub(crate) async fn start_session(session: &Session, user: &User, epoch: i32) -> Result<(), ServiceError> {
    let internal = |e: tower_sessions::session::Error| ServiceError::internal("session store failure", e);
    session.cycle_id().await.map_err(internal)?;
    let _ = session.remove_value(PENDING_KEY).await.map_err(internal)?;
    let since = time::OffsetDateTime::now_utc().unix_timestamp();
    session.insert(SESSION_KEY, SessionUser { id: user.id.0, since, epoch }).await.map_err(internal)
}

/// A login whose password was right, waiting for the second factor.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub(crate) struct PendingLogin {
    pub id: i64,
    pub epoch: i32,
    pub at: i64,
}

pub(crate) const PENDING_KEY: &str = "pending_login";

/// How long the code step of a login may take after the password step.
pub const PENDING_LOGIN_SECS: i64 = 300;

/// Where a login stands after the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStep {
    /// Signed in.
    SignedIn,
    /// Signed in, but an admin reset the password: the account page comes first.
    MustChangePassword,
    /// The password was right; the authenticator code (or a recovery code) comes next.
    CodeNeeded,
}

/// The longest e-mail address and password a login reads; longer input is refused before any
/// lookup or hashing.
pub const MAX_LOGIN_EMAIL_CHARS: usize = 254;
pub const MAX_LOGIN_PASSWORD_CHARS: usize = 1024;

/// Logs in with email and password; rate-limited per account and per client address. The
/// attempt is counted against both budgets before the password is verified (a parallel burst
/// cannot pass the check together) and taken back from the address's budget when it succeeds;
/// verification waits for a permit of the password gate.
pub async fn login(st: &AppState, session: &Session, ip: Option<String>, email: &str, password: String) -> Result<LoginStep, ServiceError> {
    if email.chars().count() > MAX_LOGIN_EMAIL_CHARS || password.chars().count() > MAX_LOGIN_PASSWORD_CHARS {
        return Err(ServiceError::Invalid("The email address or password is too long.".into()));
    }
    let account_key = email.trim().to_lowercase();
    let ip_key = ip.clone().unwrap_or_else(|| "unknown".into());
    // The hard budget is per account *and* address: wrong guesses from one place never keep
    // the account's owner out from another. Across addresses, a growing delay slows guessing.
    let pair_key = format!("{account_key}|{ip_key}");
    let reserved = st.account_limiter.try_hit(&pair_key).and_then(|account| match st.ip_limiter.try_hit(&ip_key) {
        Ok(address) => Ok((account, address)),
        Err(wait) => {
            st.account_limiter.release(&pair_key, account);
            Err(wait)
        }
    });
    let (account_at, ip_at) = match reserved {
        Ok(r) => r,
        Err(wait) => {
            crate::audit_detail(&st.pool, None, "auth.login", None, ip, "failed", failure("rate_limited", &account_key)).await?;
            return Err(ServiceError::RateLimited(wait.as_secs().max(1)));
        }
    };
    let release = || {
        st.account_limiter.release(&pair_key, account_at);
        st.ip_limiter.release(&ip_key, ip_at);
    };
    if let Err(wait) = st.account_delay.try_attempt(&account_key) {
        release();
        crate::audit_detail(&st.pool, None, "auth.login", None, ip, "failed", failure("delayed", &account_key)).await?;
        return Err(ServiceError::RateLimited(wait.as_secs().max(1)));
    }
    let creds = match precedent_store::users::find_credentials(&st.pool, &account_key).await {
        Ok(c) => c,
        Err(e) => {
            release();
            return Err(e.into());
        }
    };
    let hash = creds.as_ref().map(|c| c.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_string());
    let ok = match st.password_gate.run(move || verify_password(&password, &hash)).await {
        Ok(ok) => ok,
        Err(e) => {
            // Busy (or failed): not an attempt at the password.
            release();
            return Err(e);
        }
    };
    let user = match (ok, creds) {
        (true, Some(c)) => c.user,
        (_, creds) => {
            // A wrong password keeps its place in both budgets and lengthens the account's delay.
            st.account_delay.failed(&account_key);
            let actor = creds.map(|c| Actor { id: c.user.id, role: c.user.role });
            crate::audit_detail(&st.pool, actor, "auth.login", None, ip, "failed", failure("wrong_password", &account_key)).await?;
            return Err(ServiceError::Invalid("Wrong email or password.".into()));
        }
    };
    let actor = Actor { id: user.id, role: user.role };
    if user.disabled {
        release();
        crate::audit_detail(&st.pool, Some(actor), "auth.login", None, ip, "failed", failure("disabled", &account_key)).await?;
        return Err(ServiceError::Forbidden);
    }
    st.account_limiter.clear(&pair_key);
    st.account_delay.clear(&account_key);
    st.ip_limiter.release(&ip_key, ip_at);
    if user.two_factor {
        let internal = |e: tower_sessions::session::Error| ServiceError::internal("session store failure", e);
        session.cycle_id().await.map_err(internal)?;
        let pending = PendingLogin { id: user.id.0, epoch: user.session_epoch, at: time::OffsetDateTime::now_utc().unix_timestamp() };
        session.insert(PENDING_KEY, pending).await.map_err(internal)?;
        crate::audit_detail(&st.pool, Some(actor), "auth.login", None, ip, "ok", serde_json::json!({ "step": "password", "next": "code" })).await?;
        return Ok(LoginStep::CodeNeeded);
    }
    start_session(session, &user, user.session_epoch).await?;
    audit(&st.pool, Some(actor), "auth.login", None, ip, "ok").await?;
    Ok(if user.must_change_password { LoginStep::MustChangePassword } else { LoginStep::SignedIn })
}

/// The second step of a login with two-factor sign-in: a code from the authenticator app (each
/// good once) or an unused recovery code. Rate-limited per account like passwords; the pending
/// login lasts [`PENDING_LOGIN_SECS`].
pub async fn login_code(st: &AppState, session: &Session, ip: Option<String>, code: &str) -> Result<LoginStep, ServiceError> {
    let internal = |e: tower_sessions::session::Error| ServiceError::internal("session store failure", e);
    let pending: Option<PendingLogin> = session.get(PENDING_KEY).await.map_err(internal)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let Some(pending) = pending.filter(|p| now - p.at < PENDING_LOGIN_SECS) else {
        return Err(ServiceError::Invalid("Log in with your password again.".into()));
    };
    if code.chars().count() > 64 {
        return Err(ServiceError::Invalid("That code is too long.".into()));
    }
    let key = format!("code:{}", pending.id);
    let at = st.account_limiter.try_hit(&key).map_err(|wait| ServiceError::RateLimited(wait.as_secs().max(1)))?;
    let user = precedent_store::users::get(&st.pool, precedent_types::UserId(pending.id)).await?.filter(|u| !u.disabled && u.session_epoch == pending.epoch);
    let Some(user) = user else {
        let _ = session.remove_value(PENDING_KEY).await.map_err(internal)?;
        return Err(ServiceError::Invalid("Log in with your password again.".into()));
    };
    let actor = Actor { id: user.id, role: user.role };
    let how = crate::credentials::check_second_factor(st, user.id, code).await?;
    let Some(how) = how else {
        crate::audit_detail(&st.pool, Some(actor), "auth.login", None, ip, "failed", failure("wrong_code", &user.email)).await?;
        return Err(ServiceError::Invalid("That code is not right (or was used already).".into()));
    };
    st.account_limiter.release(&key, at);
    start_session(session, &user, user.session_epoch).await?;
    crate::audit_detail(&st.pool, Some(actor), "auth.login", None, ip, "ok", serde_json::json!({ "step": "code", "with": how })).await?;
    Ok(if user.must_change_password { LoginStep::MustChangePassword } else { LoginStep::SignedIn })
}

/// What the sign-up form sends.
#[derive(Debug, Clone, Default)]
pub struct SignupForm {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub password_confirm: String,
}

/// Creates a patient account and signs it in.
pub async fn signup(st: &AppState, session: &Session, ip: Option<String>, form: SignupForm) -> Result<(), ServiceError> {
    let ip_key = ip.clone().unwrap_or_else(|| "unknown".into());
    if let Err(wait) = st.signup_limiter.try_hit(&ip_key) {
        return Err(ServiceError::RateLimited(wait.as_secs().max(1)));
    }
    let email = validate_email(&form.email).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    if form.password != form.password_confirm {
        return Err(ServiceError::Invalid("The two passwords do not match.".into()));
    }
    let display_name = form.display_name.trim().chars().take(120).collect::<String>();
    validate_password_with(&form.password, &email, &[&display_name]).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let hash = hash_password(st, form.password).await?;
    let user = precedent_store::users::create(&st.pool, &email, &display_name, &hash, precedent_types::Role::Patient).await?;
    let actor = Actor { id: user.id, role: user.role };
    audit(&st.pool, Some(actor), "auth.signup", Some(("user", user.id.0)), ip, "ok").await?;
    start_session(session, &user, user.session_epoch).await
}

/// Ends the session on the server (its row is deleted).
pub async fn logout(st: &AppState, session: &Session, ip: Option<String>) -> Result<(), ServiceError> {
    let actor = actor_from_session(st, session).await?.map(|(a, _)| a);
    session.flush().await.map_err(|e| ServiceError::internal("session store failure", e))?;
    if actor.is_some() {
        audit(&st.pool, actor, "auth.logout", None, ip, "ok").await?;
    }
    Ok(())
}

/// The details of a failed login: why, and the e-mail that was tried (already capped in length).
pub(crate) fn failure(reason: &str, email: &str) -> serde_json::Value {
    serde_json::json!({ "reason": reason, "email": email })
}
