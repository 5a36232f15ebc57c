//! Admin: the accounts page — list users, create doctor and admin accounts, disable or enable
//! an account (a disabled account's sessions end at its next request). Admins only.
use crate::dto::{AdminUserView, IndexProgressView, IndexStatusView};
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

/// The similarity index: counts, models, pending embedding work, rebuild progress (admins only).
#[server(endpoint = "admin_index")]
pub async fn index_status() -> Result<IndexStatusView, AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::index_status(&st, actor, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// Starts rebuilding the similarity index in the background; queries keep using the live one
/// until the new one is swapped in (admins only).
#[server(endpoint = "admin_reindex")]
pub async fn start_reindex() -> Result<(), AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::start_reindex(&st, actor, crate::ssr::client_ip().await).await
}

#[cfg(feature = "ssr")]
pub mod service {
    use crate::dto::AdminUserView;
    use crate::error::AppError;
    use crate::ssr::{audit, display_time, AppState};
    use precedent_accounts::{can_manage_users, validate_email, validate_password, Actor};
    use precedent_types::{Role, UserId};

    async fn admin_only(st: &AppState, actor: Actor, action: &str, ip: &Option<String>) -> Result<(), AppError> {
        if can_manage_users(&actor) {
            return Ok(());
        }
        audit(&st.pool, Some(actor), action, None, ip.clone(), "denied").await?;
        Err(AppError::Forbidden)
    }

    pub fn progress_view(p: &precedent_similarity::Progress) -> crate::dto::IndexProgressView {
        crate::dto::IndexProgressView {
            running: p.running,
            phase: p.phase.clone(),
            done: p.done,
            total: p.total,
            rate_per_s: p.rate_per_s,
            eta_s: p.eta_s,
            finished: p.finished.clone(),
        }
    }

    /// The index's current state (for the page and the progress stream).
    pub async fn index_status(st: &AppState, actor: Actor, ip: Option<String>) -> Result<crate::dto::IndexStatusView, AppError> {
        if !precedent_accounts::can_reindex(&actor) {
            audit(&st.pool, Some(actor), "admin.index", None, ip, "denied").await?;
            return Err(AppError::Forbidden);
        }
        let search = st.search()?;
        let engine = search.similarity.engine();
        let stats = engine.stats();
        let (dt, di) = engine.dims();
        let channels = vec![
            crate::dto::ChannelIndexView { channel: "text".into(), model: Some(engine.text_model.clone()), dim: dt, vectors: stats.text.live, dead: stats.text.dead },
            crate::dto::ChannelIndexView { channel: "image".into(), model: engine.image_model.clone(), dim: di, vectors: stats.image.live, dead: stats.image.dead },
        ];
        Ok(crate::dto::IndexStatusView {
            cases: stats.cases,
            channels,
            applied_change: search.similarity.applied_change(),
            jobs: precedent_store::embeddings::counts(&st.pool).await?,
            progress: progress_view(&search.similarity.progress()),
        })
    }

    pub async fn start_reindex(st: &AppState, actor: Actor, ip: Option<String>) -> Result<(), AppError> {
        if !precedent_accounts::can_reindex(&actor) {
            audit(&st.pool, Some(actor), "admin.reindex", None, ip, "denied").await?;
            return Err(AppError::Forbidden);
        }
        let sim = std::sync::Arc::clone(&st.search()?.similarity);
        if sim.progress().running {
            return Err(AppError::Conflict("A rebuild is already running.".into()));
        }
        audit(&st.pool, Some(actor), "admin.reindex", None, ip.clone(), "started").await?;
        let pool = st.pool.clone();
        tokio::spawn(async move {
            let outcome = match sim.rebuild(None, &|_| {}).await {
                Ok(h) => {
                    tracing::info!(cases = h.cases, "index rebuilt from the admin page");
                    "ok"
                }
                Err(e) => {
                    tracing::error!(error = %e, "index rebuild failed");
                    "failed"
                }
            };
            if let Err(e) = audit(&pool, Some(actor), "admin.reindex", None, ip, outcome).await {
                tracing::error!(error = %e, "could not audit the rebuild's outcome");
            }
        });
        Ok(())
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
        let hash = crate::ssr::hash_password(password).await?;
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
                            <div class="table-wrap"><table class="users">
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
                            </table></div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn progress_line(p: &IndexProgressView) -> String {
    if p.running {
        let eta = p.eta_s.map(|e| format!(", about {e:.0} s left")).unwrap_or_default();
        format!("{}: {} / {} cases ({:.0}/s{eta})", p.phase, p.done, p.total, p.rate_per_s)
    } else {
        p.finished.clone().unwrap_or_else(|| "No rebuild since the server started.".into())
    }
}

/// The index page: stats per modality, pending work, and a rebuild with live progress streamed
/// from the server (`/api/v1/admin/index/progress`, server-sent events).
#[component]
pub fn IndexPage() -> impl IntoView {
    let rebuild = ServerAction::<StartReindex>::new();
    let status = Resource::new(move || rebuild.version().get(), |_| index_status());
    let live = RwSignal::new(None::<IndexProgressView>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        if let Ok(source) = web_sys::EventSource::new("/api/v1/admin/index/progress") {
            let on_message = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                if let Some(text) = ev.data().as_string() {
                    if let Ok(p) = serde_json::from_str::<IndexProgressView>(&text) {
                        live.set(Some(p));
                    }
                }
            });
            source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
            on_cleanup(move || source.close());
        }
    });
    let error = move || rebuild.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    view! {
        <section>
            <div class="page-head"><h1>"Similarity index"</h1></div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Err(AppError::Forbidden) => view! {
                            <section class="notice"><h2>"Admins only"</h2><p>"The index is managed by administrators."</p></section>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(s) => {
                            let first = s.progress.clone();
                            view! {
                                <div class="table-wrap"><table class="users index-stats">
                                    <thead><tr><th>"Modality"</th><th>"Model"</th><th>"Dimensions"</th><th>"Vectors"</th><th>"Dead points"</th></tr></thead>
                                    <tbody>
                                        {s.channels.into_iter().map(|c| view! {
                                            <tr data-channel=c.channel.clone()>
                                                <td>{c.channel.clone()}</td><td>{c.model.clone().unwrap_or_else(|| "none".into())}</td>
                                                <td>{c.dim}</td><td class="vectors">{c.vectors}</td><td>{c.dead}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                                <p class="muted small" id="index-cases">{format!("{} cases · last change applied #{} · embedding jobs: {}", s.cases, s.applied_change,
                                    s.jobs.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", "))}</p>
                                <section class="panel">
                                    <h2>"Rebuild"</h2>
                                    <p class="small">"Builds new indexes from the database while searches keep using the current ones, then swaps them in."</p>
                                    <ActionForm action=rebuild>
                                        <button type="submit" class="button primary">"Rebuild index"</button>
                                    </ActionForm>
                                    {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                                    <p id="reindex-progress" role="status">{move || progress_line(&live.get().unwrap_or_else(|| first.clone()))}</p>
                                </section>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
