//! Admin: the accounts page — list users, create doctor and admin accounts, disable or enable
//! an account (a disabled account's sessions end at its next request). Admins only.
use crate::dto::AdminUserView;
use crate::error::AppError;
use leptos::prelude::*;

/// Every account (admins only).
#[server(endpoint = "admin_users")]
pub async fn list_users() -> Result<Vec<AdminUserView>, AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::list(&st, actor, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// Creates an account with a role (admins only).
#[server(endpoint = "admin_create_user")]
pub async fn create_user(email: String, display_name: String, role: String, password: String) -> Result<(), AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::create(&st, actor, &email, &display_name, &role, password, crate::ssr::client_ip().await).await
}

/// Disables or re-enables an account (admins only; not one's own).
#[server(endpoint = "admin_set_disabled")]
pub async fn set_disabled(user_id: i64, disabled: bool) -> Result<(), AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::set_disabled(&st, actor, user_id, disabled, crate::ssr::client_ip().await).await
}

#[cfg(feature = "ssr")]
pub mod service {
    use crate::dto::AdminUserView;
    use crate::error::AppError;
    use crate::ssr::{audit, display_time, AppState};
    use precedent_accounts::{can_manage_users, hash_password, validate_email, validate_password, Actor};
    use precedent_types::{Role, UserId};

    async fn admin_only(st: &AppState, actor: Actor, action: &str, ip: &Option<String>) -> Result<(), AppError> {
        if can_manage_users(&actor) {
            return Ok(());
        }
        audit(&st.pool, Some(actor), action, None, ip.clone(), "denied").await?;
        Err(AppError::Forbidden)
    }

    pub async fn list(st: &AppState, actor: Actor, ip: Option<String>) -> Result<Vec<AdminUserView>, AppError> {
        admin_only(st, actor, "admin.users", &ip).await?;
        let users = precedent_store::users::list(&st.pool).await?;
        audit(&st.pool, Some(actor), "admin.users", None, ip, "ok").await?;
        Ok(users
            .into_iter()
            .map(|u| AdminUserView {
                is_me: u.id == actor.id,
                id: u.id,
                email: u.email,
                display_name: u.display_name,
                role: u.role,
                disabled: u.disabled,
                created_at: display_time(u.created_at),
            })
            .collect())
    }

    pub async fn create(
        st: &AppState,
        actor: Actor,
        email: &str,
        display_name: &str,
        role: &str,
        password: String,
        ip: Option<String>,
    ) -> Result<(), AppError> {
        admin_only(st, actor, "admin.user.create", &ip).await?;
        let role: Role = role.trim().parse().map_err(|_| AppError::Invalid("Choose a role: doctor, admin or patient.".into()))?;
        let email = validate_email(email).map_err(|e| AppError::Invalid(e.to_string()))?;
        validate_password(&password, &email).map_err(|e| AppError::Invalid(e.to_string()))?;
        let name = display_name.trim().chars().take(120).collect::<String>();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "hashing task failed");
                AppError::Internal
            })?
            .map_err(|e| {
                tracing::error!(error = %e, "hashing failed");
                AppError::Internal
            })?;
        let user = precedent_store::users::create(&st.pool, &email, &name, &hash, role).await?;
        audit(&st.pool, Some(actor), "admin.user.create", Some(("user", user.id.0)), ip, "ok").await?;
        tracing::info!(user = %user.id, role = %user.role, "account created by an admin");
        Ok(())
    }

    pub async fn set_disabled(st: &AppState, actor: Actor, user_id: i64, disabled: bool, ip: Option<String>) -> Result<(), AppError> {
        admin_only(st, actor, "admin.user.disable", &ip).await?;
        if user_id == actor.id.0 {
            return Err(AppError::Invalid("You cannot disable your own account.".into()));
        }
        precedent_store::users::set_disabled(&st.pool, UserId(user_id), disabled).await?;
        audit(&st.pool, Some(actor), if disabled { "admin.user.disable" } else { "admin.user.enable" }, Some(("user", user_id)), ip, "ok").await?;
        Ok(())
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let toggle = ServerAction::<SetDisabled>::new();
    let users = Resource::new(move || (create.version().get(), toggle.version().get()), |_| list_users());
    let create_error = move || create.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let created = move || matches!(create.value().get(), Some(Ok(())));
    view! {
        <section>
            <div class="page-head"><h1>"Accounts"</h1></div>
            <Suspense fallback=|| view! { <p class="muted">"Loading accounts…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(AppError::Forbidden) => view! {
                            <section class="notice"><h2>"Admins only"</h2><p>"Managing accounts is for administrators."</p></section>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(list) => view! {
                            <section class="panel">
                                <h2>"New account"</h2>
                                <ActionForm action=create attr:class="stack">
                                    <div class="row">
                                        <label>"Email"<input type="email" name="email" required autocomplete="off"/></label>
                                        <label>"Name"<input type="text" name="display_name" maxlength="120"/></label>
                                        <label>"Role"
                                            <select name="role">
                                                <option value="doctor">"Doctor"</option>
                                                <option value="admin">"Admin"</option>
                                                <option value="patient">"Patient"</option>
                                            </select>
                                        </label>
                                        <label>"Initial password"<input type="password" name="password" required autocomplete="new-password"/></label>
                                    </div>
                                    {move || create_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                                    {move || created().then(|| view! { <p class="notice-inline" role="status">"Account created."</p> })}
                                    <button type="submit" class="button primary">"Create account"</button>
                                </ActionForm>
                            </section>
                            <table class="users">
                                <thead><tr><th>"Email"</th><th>"Name"</th><th>"Role"</th><th>"Since"</th><th>"Status"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|u| view! {
                                        <tr data-user=u.email.clone()>
                                            <td>{u.email.clone()}</td>
                                            <td>{u.display_name.clone()}</td>
                                            <td>{u.role.to_string()}</td>
                                            <td class="small">{u.created_at.clone()}</td>
                                            <td>{if u.disabled { "disabled" } else { "active" }}</td>
                                            <td>
                                                {(!u.is_me).then(|| view! {
                                                    <ActionForm action=toggle attr:class="inline">
                                                        <input type="hidden" name="user_id" value=u.id.0/>
                                                        <input type="hidden" name="disabled" value=(!u.disabled).to_string()/>
                                                        <button type="submit" class="button">{if u.disabled { "Enable" } else { "Disable" }}</button>
                                                    </ActionForm>
                                                })}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
