//! The patient sign-up page (`/signup`).
use super::FormError;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn SignupPage() -> impl IntoView {
    let auth = expect_context::<crate::AuthContext>();
    view! {
        <section class="auth-card">
            <h1>"Create a patient account"</h1>
            <ActionForm action=auth.signup attr:class="stack" attr:id="signup-form">
                <label>"Email" <input type="email" name="email" required autocomplete="username" /></label>
                <label>"Your name" <input type="text" name="display_name" maxlength="120" autocomplete="name" /></label>
                <label>"Password" <input type="password" name="password" required minlength="10" autocomplete="new-password" /></label>
                <label>"Repeat password" <input type="password" name="password_confirm" required autocomplete="new-password" /></label>
                <p class="hint">"At least 10 characters; common passwords are refused."</p>
                <button type="submit" class="primary">
                    "Create account"
                </button>
            </ActionForm>
            <FormError value=move || auth.signup.value().get() />
            <p class="muted">"Already registered? " <A href="/login">"Log in"</A></p>
        </section>
    }
}
