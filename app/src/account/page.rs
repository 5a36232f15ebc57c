//! The account page (`/account`).
use super::{account, BeginTwoFactor, ChangePassword, ConfirmTwoFactor, DisableTwoFactor};
use crate::dto::AccountView;
use leptos::prelude::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let data = Resource::new(move || (change.version().get(), confirm.version().get(), disable.version().get()), |_| account());
    view! {
        <section class="account">
            <div class="page-head">
                <h1>"Your account"</h1>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(a) => view! { <Account a change confirm disable /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Account(
    a: AccountView,
    change: ServerAction<ChangePassword>,
    confirm: ServerAction<ConfirmTwoFactor>,
    disable: ServerAction<DisableTwoFactor>,
) -> impl IntoView {
    let changed = move || matches!(change.value().get(), Some(Ok(())));
    let change_error = move || change.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    view! {
        {a.must_change_password
            .then(|| {
                view! {
                    <p class="notice-inline" role="alert" id="must-change">
                        "An administrator reset your password. Choose a new one to go on."
                    </p>
                }
            })}
        <p class="muted">{format!("{} · {} · {}", a.display_name, a.email, a.role)}</p>
        <section class="panel" aria-labelledby="pw-title">
            <h2 id="pw-title">"Change password"</h2>
            <ActionForm action=change attr:class="stack" attr:id="password-form">
                <label>"Current password"<input type="password" name="current" required autocomplete="current-password" /></label>
                <label>"New password"<input type="password" name="new" required autocomplete="new-password" minlength="10" /></label>
                <label>"Repeat new password"<input type="password" name="confirm" required autocomplete="new-password" /></label>
                <button type="submit" class="button primary">
                    "Change password"
                </button>
            </ActionForm>
            {move || change_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || {
                changed()
                    .then(|| {
                        view! {
                            <p class="notice-inline" role="status" id="password-changed">
                                "Password changed. Your other sessions have ended."
                            </p>
                        }
                    })
            }}
        </section>
        {a.two_factor_available.then(|| view! { <TwoFactor on=a.two_factor left=a.recovery_codes_left confirm disable /> })}
    }
}

/// Two-factor sign-in: set up (QR code, confirm, recovery codes) or turn off.
#[component]
fn TwoFactor(on: bool, left: i64, confirm: ServerAction<ConfirmTwoFactor>, disable: ServerAction<DisableTwoFactor>) -> impl IntoView {
    let begin = ServerAction::<BeginTwoFactor>::new();
    let codes = move || confirm.value().get().and_then(|r| r.ok());
    let confirm_error = move || confirm.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let disable_error = move || disable.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    view! {
        <section class="panel" aria-labelledby="tf-title">
            <h2 id="tf-title">"Two-factor sign-in"</h2>
            {move || {
                codes()
                    .map(|codes| {
                        view! {
                            <div class="notice-inline" role="status" id="recovery-codes">
                                <p>
                                    "Two-factor sign-in is on. Keep these recovery codes somewhere safe: each one signs you in once if you lose your phone. They are shown only now."
                                </p>
                                <ul class="codes">{codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ul>
                            </div>
                        }
                    })
            }}
            {if on {
                view! {
                    <p id="two-factor-on">{format!("On: sign-in asks for a code from your authenticator app. {left} recovery code(s) left.")}</p>
                    <ActionForm action=disable attr:class="stack" attr:id="two-factor-off">
                        <label>"Password"<input type="password" name="password" required autocomplete="current-password" /></label>
                        <button type="submit" class="button">
                            "Turn two-factor sign-in off"
                        </button>
                    </ActionForm>
                    {move || disable_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                }
                    .into_any()
            } else {
                view! {
                    <p>"Off. Doctors and administrators should turn it on: sign-in then also asks for a code from an authenticator app on your phone."</p>
                    {move || {
                        (!matches!(begin.value().get(), Some(Ok(_))))
                            .then(|| {
                                view! {
                                    <ActionForm action=begin attr:id="two-factor-begin">
                                        <button type="submit" class="button primary">
                                            "Set up two-factor sign-in"
                                        </button>
                                    </ActionForm>
                                }
                            })
                    }}
                    {move || {
                        begin
                            .value()
                            .get()
                            .map(|r| match r {
                                Ok(setup) => {
                                    view! {
                                        <div class="two-factor-setup">
                                            <p>"Scan this code with your authenticator app, or type the key in by hand."</p>
                                            <div class="qr" inner_html=setup.qr_svg></div>
                                            <p>
                                                "Key: " <code id="totp-secret">{setup.secret}</code>
                                            </p>
                                            <ActionForm action=confirm attr:class="stack" attr:id="two-factor-confirm">
                                                <label>
                                                    "Code from the app"
                                                    <input type="text" name="code" required inputmode="numeric" autocomplete="one-time-code" maxlength="8" />
                                                </label>
                                                <button type="submit" class="button primary">
                                                    "Turn on"
                                                </button>
                                            </ActionForm>
                                            {move || confirm_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                                        </div>
                                    }
                                        .into_any()
                                }
                                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                            })
                    }}
                }
                    .into_any()
            }}
        </section>
    }
}
