//! The accounts page (`/admin/users`): every account, a form for a new one, disable / enable,
//! reset a password (a temporary one, shown once).
use super::{list_users, CreateUser, ResetPassword, SetDisabled};
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let toggle = ServerAction::<SetDisabled>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let users = Resource::new(move || (create.version().get(), toggle.version().get(), reset.version().get()), |_| list_users());
    let create_error = move || create.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let created = move || matches!(create.value().get(), Some(Ok(())));
    view! {
        <section>
            <div class="page-head">
                <h1>"Accounts"</h1>
            </div>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading accounts…"</p> }
            }>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(AppError::Forbidden) => {
                            view! {
                                <section class="notice">
                                    <h2>"Admins only"</h2>
                                    <p>"Managing accounts is for administrators."</p>
                                </section>
                            }
                                .into_any()
                        }
                        Err(e) => {
                            view! {
                                <p class="form-error" role="alert">
                                    {e.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) => {
                            view! {
                                <section class="panel">
                                    <h2>"New account"</h2>
                                    <ActionForm action=create attr:class="stack">
                                        <div class="row">
                                            <label>"Email"<input type="email" name="email" required autocomplete="off" /></label>
                                            <label>"Name"<input type="text" name="display_name" maxlength="120" /></label>
                                            <label>
                                                "Role" <select name="role">
                                                    <option value="doctor">"Doctor"</option>
                                                    <option value="admin">"Admin"</option>
                                                    <option value="patient">"Patient"</option>
                                                </select>
                                            </label>
                                            <label>"Initial password"<input type="password" name="password" required autocomplete="new-password" /></label>
                                        </div>
                                        {move || {
                                            create_error()
                                                .map(|e| {
                                                    view! {
                                                        <p class="form-error" role="alert">
                                                            {e}
                                                        </p>
                                                    }
                                                })
                                        }}
                                        {move || {
                                            created()
                                                .then(|| {
                                                    view! {
                                                        <p class="notice-inline" role="status">
                                                            "Account created."
                                                        </p>
                                                    }
                                                })
                                        }}
                                        <button type="submit" class="button primary">
                                            "Create account"
                                        </button>
                                    </ActionForm>
                                </section>
                                {move || {
                                    reset
                                        .value()
                                        .get()
                                        .map(|r| match r {
                                            Ok(temporary) => {
                                                view! {
                                                    <p class="notice-inline" role="status" id="reset-result">
                                                        "Temporary password (shown once; give it to the person in private): "
                                                        <code id="temporary-password">{temporary}</code>
                                                        " They must choose a new one when they log in; their sessions have ended."
                                                    </p>
                                                }
                                                    .into_any()
                                            }
                                            Err(e) => {
                                                view! {
                                                    <p class="form-error" role="alert">
                                                        {e.to_string()}
                                                    </p>
                                                }
                                                    .into_any()
                                            }
                                        })
                                }}
                                <div class="table-wrap">
                                    <table class="users">
                                        <thead>
                                            <tr>
                                                <th>"Email"</th>
                                                <th>"Name"</th>
                                                <th>"Role"</th>
                                                <th>"Since"</th>
                                                <th>"Status"</th>
                                                <th></th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|u| {
                                                    view! {
                                                        <tr data-user=u.email.clone()>
                                                            <td>{u.email.clone()}</td>
                                                            <td>{u.display_name.clone()}</td>
                                                            <td>{u.role.to_string()}</td>
                                                            <td class="small">{u.created_at.clone()}</td>
                                                            <td>
                                                                {if u.disabled { "disabled" } else { "active" }}
                                                                {u.two_factor.then_some(" · two-factor")}
                                                                {u.must_change_password.then_some(" · must change password")}
                                                            </td>
                                                            <td>
                                                                <div class="row-actions">
                                                                    {(!u.is_me)
                                                                        .then(|| {
                                                                            view! {
                                                                                <ActionForm action=toggle attr:class="inline">
                                                                                    <input type="hidden" name="user_id" value=u.id.0 />
                                                                                    <input type="hidden" name="disabled" value=(!u.disabled).to_string() />
                                                                                    <button type="submit" class="button">
                                                                                        {if u.disabled { "Enable" } else { "Disable" }}
                                                                                    </button>
                                                                                </ActionForm>
                                                                            }
                                                                        })}
                                                                    {(!u.is_me && !u.library)
                                                                        .then(|| {
                                                                            view! {
                                                                                <ActionForm action=reset attr:class="inline">
                                                                                    <input type="hidden" name="user_id" value=u.id.0 />
                                                                                    <button type="submit" class="button">
                                                                                        "Reset password"
                                                                                    </button>
                                                                                </ActionForm>
                                                                            }
                                                                        })}
                                                                </div>
                                                            </td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
