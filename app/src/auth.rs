//! Sign-up, login, logout and "who am I", as server functions and pages.
use crate::dto::UserView;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::A;

#[cfg(feature = "ssr")]
fn user_view(u: &precedent_store::users::User) -> UserView {
    UserView { id: u.id, email: u.email.clone(), display_name: u.display_name.clone(), role: u.role }
}

/// The signed-in user, or `None`.
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    let st = crate::ssr::state()?;
    let session = crate::ssr::session().await?;
    Ok(crate::ssr::actor_from_session(&st, &session).await?.map(|(_, u)| user_view(&u)))
}

#[cfg(feature = "ssr")]
async fn start_session(session: &tower_sessions::Session, user: &precedent_store::users::User) -> Result<(), AppError> {
    let internal = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session store failure");
        AppError::Internal
    };
    // A fresh session id at every login (no session fixation).
    session.cycle_id().await.map_err(internal)?;
    let since = time::OffsetDateTime::now_utc().unix_timestamp();
    session
        .insert(crate::ssr::SESSION_KEY, crate::ssr::SessionUser { id: user.id.0, since })
        .await
        .map_err(internal)
}

/// Logs in with email and password; rate-limited per account and per client address.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::ssr::{audit, client_ip, session, state};
    use precedent_accounts::{password::dummy_hash, verify_password, Actor};
    let outcome: Result<(), AppError> = async {
        let st = state()?;
        let session = session().await?;
        let ip = client_ip().await;
        let account_key = email.trim().to_lowercase();
        let ip_key = ip.clone().unwrap_or_else(|| "unknown".into());
        if let Err(wait) = st.account_limiter.check(&account_key).and_then(|_| st.ip_limiter.check(&ip_key)) {
            audit(&st.pool, None, "auth.login", None, ip, "rate_limited").await?;
            return Err(AppError::RateLimited(wait.as_secs().max(1)));
        }
        let creds = precedent_store::users::find_credentials(&st.pool, &account_key).await?;
        let hash = creds.as_ref().map(|c| c.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_string());
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.map_err(|e| {
            tracing::error!(error = %e, "password verification task failed");
            AppError::Internal
        })?;
        let user = match (ok, creds) {
            (true, Some(c)) => c.user,
            (_, creds) => {
                st.account_limiter.hit(&account_key);
                st.ip_limiter.hit(&ip_key);
                let actor = creds.map(|c| Actor { id: c.user.id, role: c.user.role });
                audit(&st.pool, actor, "auth.login", None, ip, "wrong_password").await?;
                return Err(AppError::Invalid("Wrong email or password.".into()));
            }
        };
        let actor = Actor { id: user.id, role: user.role };
        if user.disabled {
            audit(&st.pool, Some(actor), "auth.login", None, ip, "disabled").await?;
            return Err(AppError::Forbidden);
        }
        start_session(&session, &user).await?;
        st.account_limiter.clear(&account_key);
        audit(&st.pool, Some(actor), "auth.login", None, ip, "ok").await?;
        leptos_axum::redirect("/cases");
        Ok(())
    }
    .await;
    // Refusals carry their status (429 rate-limited, 403 disabled, 422 invalid).
    outcome.inspect_err(crate::ssr::set_status)
}

/// Creates a patient account and signs it in.
#[server(endpoint = "signup")]
pub async fn signup(email: String, display_name: String, password: String, password_confirm: String) -> Result<(), AppError> {
    use crate::ssr::{audit, client_ip, session, state};
    use precedent_accounts::{validate_email, validate_password, Actor};
    let outcome: Result<(), AppError> = async {
        let st = state()?;
        let session = session().await?;
        let ip = client_ip().await;
        let ip_key = ip.clone().unwrap_or_else(|| "unknown".into());
        if let Err(wait) = st.ip_limiter.check(&ip_key) {
            return Err(AppError::RateLimited(wait.as_secs().max(1)));
        }
        st.ip_limiter.hit(&ip_key);
        let email = validate_email(&email).map_err(|e| AppError::Invalid(e.to_string()))?;
        if password != password_confirm {
            return Err(AppError::Invalid("The two passwords do not match.".into()));
        }
        validate_password(&password, &email).map_err(|e| AppError::Invalid(e.to_string()))?;
        let display_name = display_name.trim().chars().take(120).collect::<String>();
        let hash = crate::ssr::hash_password(password).await?;
        let user = precedent_store::users::create(&st.pool, &email, &display_name, &hash, precedent_types::Role::Patient).await?;
        let actor = Actor { id: user.id, role: user.role };
        audit(&st.pool, Some(actor), "auth.signup", Some(("user", user.id.0)), ip, "ok").await?;
        start_session(&session, &user).await?;
        leptos_axum::redirect("/cases");
        Ok(())
    }
    .await;
    // Refusals carry their status (429 rate-limited, 403 disabled, 422 invalid).
    outcome.inspect_err(crate::ssr::set_status)
}

/// Ends the session on the server (its row is deleted) and in the browser.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::ssr::{actor_from_session, audit, client_ip, session, state};
    let st = state()?;
    let session = session().await?;
    let actor = actor_from_session(&st, &session).await?.map(|(a, _)| a);
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "session store failure");
        AppError::Internal
    })?;
    if actor.is_some() {
        audit(&st.pool, actor, "auth.logout", None, client_ip().await, "ok").await?;
    }
    leptos_axum::redirect("/login");
    Ok(())
}

/// Shows the error of the last submission of a form, if any.
#[component]
pub fn FormError(value: impl Fn() -> Option<Result<(), AppError>> + Send + Sync + 'static) -> impl IntoView {
    move || {
        value().and_then(|r| r.err()).map(|e| {
            view! { <p class="form-error" role="alert">{e.to_string()}</p> }
        })
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<crate::AuthContext>();
    view! {
        <section class="auth-card">
            <h1>"Log in"</h1>
            <ActionForm action=auth.login attr:class="stack" attr:id="login-form">
                <label>"Email" <input type="email" name="email" required autocomplete="username"/></label>
                <label>"Password" <input type="password" name="password" required autocomplete="current-password"/></label>
                <button type="submit" class="primary">"Log in"</button>
            </ActionForm>
            <FormError value=move || auth.login.value().get()/>
            <p class="muted">"New patient? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let auth = expect_context::<crate::AuthContext>();
    view! {
        <section class="auth-card">
            <h1>"Create a patient account"</h1>
            <ActionForm action=auth.signup attr:class="stack" attr:id="signup-form">
                <label>"Email" <input type="email" name="email" required autocomplete="username"/></label>
                <label>"Your name" <input type="text" name="display_name" maxlength="120" autocomplete="name"/></label>
                <label>"Password" <input type="password" name="password" required minlength="10" autocomplete="new-password"/></label>
                <label>"Repeat password" <input type="password" name="password_confirm" required autocomplete="new-password"/></label>
                <p class="hint">"At least 10 characters; common passwords are refused."</p>
                <button type="submit" class="primary">"Create account"</button>
            </ActionForm>
            <FormError value=move || auth.signup.value().get()/>
            <p class="muted">"Already registered? " <A href="/login">"Log in"</A></p>
        </section>
    }
}
