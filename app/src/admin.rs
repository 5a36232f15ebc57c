//! Admin: the accounts page — list users, create doctor and admin accounts, disable or enable
//! an account (a disabled account's sessions end at its next request). Admins only.
use crate::dto::{AdminUserView, ImportView, IndexProgressView, IndexStatusView};
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
    service::create(&st, actor, &email, &display_name, &role, password, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// Disables or re-enables an account (admins only; not one's own).
#[server(endpoint = "admin_set_disabled")]
pub async fn set_disabled(user_id: i64, disabled: bool) -> Result<(), AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::set_disabled(&st, actor, user_id, disabled, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// The similarity index: counts, models, pending embedding work, rebuild progress (admins only).
#[server(endpoint = "admin_index")]
pub async fn index_status() -> Result<IndexStatusView, AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::index_status(&st, actor, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// Starts rebuilding the similarity index in the background; queries keep using the live one
/// until the new one is swapped in (admins only).
/// `text_model` / `image_model`: manifest names; empty keeps the current model.
#[server(endpoint = "admin_reindex")]
pub async fn start_reindex(#[server(default)] text_model: String, #[server(default)] image_model: String) -> Result<(), AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    let pick = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let choice = crate::ssr::ModelChoice { text: pick(text_model), image: pick(image_model) };
    service::start_reindex(&st, actor, choice, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// The latest case-library imports (admins only).
#[server(endpoint = "admin_imports")]
pub async fn list_imports() -> Result<Vec<crate::dto::ImportView>, AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::imports(&st, actor, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
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
        let mb = |b: u64| b as f64 / 1e6;
        let channels = vec![
            crate::dto::ChannelIndexView { channel: "text".into(), model: Some(engine.text_model.clone()), dim: dt, vectors: stats.text.live, dead: stats.text.dead, memory_mb: mb(stats.text.memory_bytes) },
            crate::dto::ChannelIndexView { channel: "image".into(), model: engine.image_model.clone(), dim: di, vectors: stats.image.live, dead: stats.image.dead, memory_mb: mb(stats.image.memory_bytes) },
        ];
        let built_at = search.similarity.built_at().and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()).map(display_time);
        audit(&st.pool, Some(actor), "admin.index", None, ip, "ok").await?;
        Ok(crate::dto::IndexStatusView {
            cases: stats.cases,
            channels,
            applied_change: search.similarity.applied_change(),
            jobs: precedent_store::embeddings::counts(&st.pool).await?,
            progress: progress_view(&search.similarity.progress()),
            built_at,
            process_rss_mb: process_rss_mb(),
            models: model_options(&search.manifest, &engine.text_model, engine.image_model.as_deref()),
        })
    }

    pub async fn start_reindex(st: &AppState, actor: Actor, choice: crate::ssr::ModelChoice, ip: Option<String>) -> Result<(), AppError> {
        if !precedent_accounts::can_reindex(&actor) {
            audit(&st.pool, Some(actor), "admin.reindex", None, ip, "denied").await?;
            return Err(AppError::Forbidden);
        }
        let search = st.search()?;
        audit(&st.pool, Some(actor), "admin.reindex", None, ip.clone(), "started").await?;
        let pool = st.pool.clone();
        let ip2 = ip.clone();
        let done: crate::ssr::ReindexDone = Box::new(move |r: Result<String, String>| {
            tokio::spawn(async move {
                let outcome = if r.is_ok() { "ok" } else { "failed" };
                if let Err(e) = audit(&pool, Some(actor), "admin.reindex", None, ip2, outcome).await {
                    tracing::error!(error = %e, "could not audit the rebuild's outcome");
                }
            });
        });
        if let Err(e) = (search.reindex)(choice.clone(), done) {
            audit(&st.pool, Some(actor), "admin.reindex", None, ip, "refused").await?;
            return Err(e);
        }
        tracing::info!(text = ?choice.text, image = ?choice.image, "index rebuild started from the admin page");
        Ok(())
    }

    /// Resident memory of this process, from `/proc` (Linux).
    fn process_rss_mb() -> Option<f64> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * 4096.0 / 1e6)
    }

    /// The manifest's encoders, marking the ones the live index uses.
    fn model_options(manifest: &std::path::Path, text: &str, image: Option<&str>) -> Vec<crate::dto::ModelOptionView> {
        let Ok(m) = precedent_search::Manifest::load(manifest) else { return Vec::new() };
        m.encoders
            .iter()
            .map(|e| {
                let model = e.model_id();
                let channel = match e.modality {
                    precedent_search::Modality::Text => "text",
                    precedent_search::Modality::Image => "image",
                };
                crate::dto::ModelOptionView { in_use: model == text || Some(model.as_str()) == image, name: e.name.clone(), model, channel: channel.into() }
            })
            .collect()
    }

    /// An `imports` row as the page shows it.
    pub fn import_view(r: precedent_store::imports::ImportRow) -> crate::dto::ImportView {
        let refused = match r.refused {
            serde_json::Value::Array(rows) => rows
                .into_iter()
                .map(|v| crate::dto::RefusedRowView {
                    line: v.get("line").and_then(|l| l.as_u64()).unwrap_or(0) as usize,
                    key: v.get("key").and_then(|k| k.as_str()).map(str::to_string),
                    reason: v.get("reason").and_then(|k| k.as_str()).unwrap_or("").to_string(),
                })
                .collect(),
            _ => Vec::new(),
        };
        crate::dto::ImportView {
            id: r.id,
            filename: r.filename,
            status: r.status,
            phase: r.phase,
            total: r.total.into(),
            done: r.done.into(),
            imported: r.imported.into(),
            already_present: r.already_present.into(),
            refused,
            error: r.error,
            started_at: display_time(r.started_at),
            finished_at: r.finished_at.map(display_time),
        }
    }

    pub async fn imports(st: &AppState, actor: Actor, ip: Option<String>) -> Result<Vec<crate::dto::ImportView>, AppError> {
        admin_only(st, actor, "admin.imports", &ip).await?;
        let rows = precedent_store::imports::recent(&st.pool, 20).await?;
        audit(&st.pool, Some(actor), "admin.imports", None, ip, "ok").await?;
        Ok(rows.into_iter().map(import_view).collect())
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

/// Listens to the server-sent events at `url`, each one JSON `T`, until `on` answers `false` or
/// the component goes away.
#[cfg(feature = "hydrate")]
fn follow_events<T: serde::de::DeserializeOwned + 'static>(url: &str, mut on: impl FnMut(T) -> bool + 'static) {
    use wasm_bindgen::JsCast;
    let Ok(source) = web_sys::EventSource::new(url) else { return };
    let src = source.clone();
    let on_message = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        if let Some(v) = ev.data().as_string().and_then(|t| serde_json::from_str::<T>(&t).ok()) {
            if !on(v) {
                src.close();
            }
        }
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    on_cleanup(move || source.close());
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
        follow_events("/api/v1/admin/index/progress", move |p: IndexProgressView| {
            live.set(Some(p));
            true
        });
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
                                    <thead><tr><th>"Modality"</th><th>"Model"</th><th>"Dimensions"</th><th>"Vectors"</th><th>"Dead points"</th><th>"Memory (est.)"</th></tr></thead>
                                    <tbody>
                                        {s.channels.into_iter().map(|c| view! {
                                            <tr data-channel=c.channel.clone()>
                                                <td>{c.channel.clone()}</td><td class="model">{c.model.clone().unwrap_or_else(|| "none".into())}</td>
                                                <td>{c.dim}</td><td class="vectors">{c.vectors}</td><td>{c.dead}</td><td>{format!("{:.1} MB", c.memory_mb)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                                <p class="muted small" id="index-cases">{format!("{} cases · built {} · last change applied #{} · server memory {} · embedding jobs: {}", s.cases,
                                    s.built_at.clone().unwrap_or_else(|| "not yet saved".into()), s.applied_change,
                                    s.process_rss_mb.map(|m| format!("{m:.0} MB")).unwrap_or_else(|| "unknown".into()),
                                    s.jobs.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", "))}</p>
                                <section class="panel">
                                    <h2>"Rebuild"</h2>
                                    <p class="small">"Builds new indexes from the database while searches keep using the current ones, then swaps them in. Choosing another model first computes its vectors for every case."</p>
                                    <ActionForm action=rebuild attr:class="stack">
                                        <div class="row">
                                            {["text", "image"].into_iter().map(|ch| {
                                                let options: Vec<_> = s.models.iter().filter(|m| m.channel == ch).cloned().collect();
                                                (!options.is_empty()).then(|| view! {
                                                    <label>{if ch == "text" { "Text model" } else { "Image model" }}
                                                        <select name=if ch == "text" { "text_model" } else { "image_model" }>
                                                            <option value="">"Keep the current one"</option>
                                                            {options.into_iter().map(|m| view! {
                                                                <option value=m.name.clone()>{format!("{}{}", m.model, if m.in_use { " (in use)" } else { "" })}</option>
                                                            }).collect_view()}
                                                        </select>
                                                    </label>
                                                })
                                            }).collect_view()}
                                        </div>
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

fn import_line(i: &ImportView) -> String {
    let counts = format!("{} imported, {} already present, {} refused", i.imported, i.already_present, i.refused.len());
    match i.status.as_str() {
        "running" if i.phase == "unpacking" => "Unpacking the archive…".to_string(),
        "running" => format!("Importing: {} / {} rows — {counts}", i.done, i.total),
        "finished" => format!("Finished: {} rows — {counts}", i.total),
        _ => format!("{}: {}", if i.status == "failed" { "Failed" } else { "Interrupted" }, i.error.clone().unwrap_or_default()),
    }
}

/// One import's progress line and its refused rows.
#[component]
fn ImportReport(import: ImportView) -> impl IntoView {
    let refused = import.refused.clone();
    let open = refused.len() <= 20;
    view! {
        <article class="import" data-import=import.id data-status=import.status.clone()>
            <h3>{format!("{} · started {}", import.filename, import.started_at)}</h3>
            <p class="import-line" role="status">{import_line(&import)}</p>
            {(!refused.is_empty()).then(|| view! {
                <details open=open>
                    <summary>{format!("{} refused row{}", refused.len(), if refused.len() == 1 { "" } else { "s" })}</summary>
                    <div class="table-wrap"><table class="refused">
                        <thead><tr><th>"Line"</th><th>"Key"</th><th>"Reason"</th></tr></thead>
                        <tbody>
                            {refused.into_iter().map(|r| view! {
                                <tr><td>{r.line}</td><td>{r.key.unwrap_or_default()}</td><td>{r.reason}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                </details>
            })}
        </article>
    }
}

/// The import page: upload a case-library archive (the documented import format, zipped or
/// tarred); its progress streams in (server-sent events) and refused rows are listed with their
/// reasons. Earlier imports and their outcomes are listed below.
#[component]
pub fn ImportPage() -> impl IntoView {
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    let refresh = RwSignal::new(0u32);
    let imports = Resource::new(move || refresh.get(), |_| list_imports());
    // The import being watched: the one just uploaded, or `?job=` after a no-script upload.
    let watching = RwSignal::new(query.read_untracked().get("job").and_then(|j| j.parse::<i64>().ok()));
    let _ = watching; // read by the progress stream in the browser
    let live = RwSignal::new(None::<ImportView>);
    let upload_error = RwSignal::new(query.read_untracked().get("error"));
    let sending = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let Some(id) = watching.get() else { return };
        follow_events(&format!("/api/v1/admin/imports/{id}/progress"), move |i: ImportView| {
            let over = i.status != "running";
            live.set(Some(i));
            if over {
                refresh.update(|n| *n += 1);
            }
            !over
        });
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            sending.set(true);
            upload_error.set(None);
            crate::upload::submit_case_form(ev, move |r| {
                sending.set(false);
                match r {
                    Ok(id) => {
                        live.set(None);
                        watching.set(Some(id));
                        refresh.update(|n| *n += 1);
                    }
                    Err(e) => upload_error.set(Some(e)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <section>
            <div class="page-head"><h1>"Import a case library"</h1></div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match imports.await {
                        Err(AppError::Forbidden) => view! {
                            <section class="notice"><h2>"Admins only"</h2><p>"Importing case libraries is for administrators."</p></section>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(list) => view! {
                            <section class="panel">
                                <h2>"Upload"</h2>
                                <p class="small">"A .zip, .tar.gz or .tar holding "<code>"cases.jsonl"</code>" and the files it names (see docs/import-format.md), or a MedPix 2.0 folder. Cases already imported from an archive of the same name are skipped, so an interrupted import resumes when uploaded again."</p>
                                <form method="post" action="/api/v1/admin/imports" enctype="multipart/form-data" class="stack" on:submit=on_submit>
                                    <label>"Archive"<input type="file" name="archive" required accept=".zip,.tar,.gz,.tgz,application/zip,application/gzip,application/x-tar"/></label>
                                    <button type="submit" class="button primary" disabled=move || sending.get()>
                                        {move || if sending.get() { "Uploading…" } else { "Import" }}
                                    </button>
                                </form>
                                {move || upload_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                                <div id="import-live">
                                    {move || live.get().map(|i| view! { <ImportReport import=i/> })}
                                </div>
                            </section>
                            <h2>"Recent imports"</h2>
                            {if list.is_empty() {
                                view! { <p class="muted">"No imports yet."</p> }.into_any()
                            } else {
                                view! { <div class="imports">{list.into_iter().map(|i| view! { <ImportReport import=i/> }).collect_view()}</div> }.into_any()
                            }}
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
