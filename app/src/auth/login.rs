//! The login page (`/login`).
use super::FormError;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<crate::AuthContext>();
    view! {
        <section class="auth-card">
            <h1>"Log in"</h1>
            <ActionForm action=auth.login attr:class="stack" attr:id="login-form">
                <label>"Email" <input type="email" name="email" required autocomplete="username" /></label>
                <label>"Password" <input type="password" name="password" required autocomplete="current-password" /></label>
                <button type="submit" class="primary">
                    "Log in"
                </button>
            </ActionForm>
            <FormError value=move || auth.login.value().get() />
            <p class="muted">"New patient? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}

/// The second step of a two-factor login (`/login/code`).
#[component]
pub fn LoginCodePage() -> impl IntoView {
    let auth = expect_context::<crate::AuthContext>();
    view! {
        <section class="auth-card">
            <h1>"Two-factor sign-in"</h1>
            <p class="muted">"Enter the 6-digit code your authenticator app shows now, or one of your recovery codes."</p>
            <ActionForm action=auth.code attr:class="stack" attr:id="code-form">
                <label>"Code" <input type="text" name="code" required inputmode="numeric" autocomplete="one-time-code" maxlength="64" /></label>
                <button type="submit" class="primary">
                    "Continue"
                </button>
            </ActionForm>
            <FormError value=move || auth.code.value().get() />
            <p class="muted">
                <A href="/login">"Start again"</A>
            </p>
        </section>
    }
}
