//! The similarity index page (`/admin/index`): stats, rebuild, live rebuild progress.
#[cfg(feature = "hydrate")]
use super::follow_events;
use super::{index_status, StartReindex};
use crate::dto::IndexProgressView;
use crate::error::AppError;
use leptos::prelude::*;
use precedent_types::Channel;

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
            <div class="page-head">
                <h1>"Similarity index"</h1>
            </div>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match status.await {
                        Err(AppError::Forbidden) => {
                            view! {
                                <section class="notice">
                                    <h2>"Admins only"</h2>
                                    <p>"The index is managed by administrators."</p>
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
                        Ok(s) => {
                            let first = s.progress.clone();
                            view! {
                                <div class="table-wrap">
                                    <table class="users index-stats">
                                        <thead>
                                            <tr>
                                                <th>"Modality"</th>
                                                <th>"Model"</th>
                                                <th>"Dimensions"</th>
                                                <th>"Vectors"</th>
                                                <th>"Dead points"</th>
                                                <th>"Memory (est.)"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {s
                                                .channels
                                                .into_iter()
                                                .map(|c| {
                                                    view! {
                                                        <tr data-channel=c.channel.as_str()>
                                                            <td>{c.channel.as_str()}</td>
                                                            <td class="model">{c.model.clone().unwrap_or_else(|| "none".into())}</td>
                                                            <td>{c.dim}</td>
                                                            <td class="vectors">{c.vectors}</td>
                                                            <td>{c.dead}</td>
                                                            <td>{format!("{:.1} MB", c.memory_mb)}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <p class="muted small" id="index-cases">
                                    {format!(
                                        "{} cases · built {} · last change applied #{} · server memory {} · embedding jobs: {}",
                                        s.cases,
                                        s.built_at.clone().unwrap_or_else(|| "not yet saved".into()),
                                        s.applied_change,
                                        s.process_rss_mb.map(|m| format!("{m:.0} MB")).unwrap_or_else(|| "unknown".into()),
                                        s.jobs.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", "),
                                    )}
                                </p>
                                <section class="panel">
                                    <h2>"Rebuild"</h2>
                                    <p class="small">
                                        "Builds new indexes from the database while searches keep using the current ones, then swaps them in. Choosing another model first computes its vectors for every case."
                                    </p>
                                    <ActionForm action=rebuild attr:class="stack">
                                        <div class="row">
                                            {[Channel::Text, Channel::Image]
                                                .into_iter()
                                                .map(|ch| {
                                                    let options: Vec<_> = s.models.iter().filter(|m| m.channel == ch).cloned().collect();
                                                    (!options.is_empty())
                                                        .then(|| {
                                                            view! {
                                                                <label>
                                                                    {if ch == Channel::Text { "Text model" } else { "Image model" }}
                                                                    <select name=if ch == Channel::Text { "text_model" } else { "image_model" }>
                                                                        <option value="">"Keep the current one"</option>
                                                                        {options
                                                                            .into_iter()
                                                                            .map(|m| {
                                                                                view! {
                                                                                    <option value=m
                                                                                        .name
                                                                                        .clone()>
                                                                                        {format!("{}{}", m.model, if m.in_use { " (in use)" } else { "" })}
                                                                                    </option>
                                                                                }
                                                                            })
                                                                            .collect_view()}
                                                                    </select>
                                                                </label>
                                                            }
                                                        })
                                                })
                                                .collect_view()}
                                        </div>
                                        <button type="submit" class="button primary">
                                            "Rebuild index"
                                        </button>
                                    </ActionForm>
                                    {move || {
                                        error()
                                            .map(|e| {
                                                view! {
                                                    <p class="form-error" role="alert">
                                                        {e}
                                                    </p>
                                                }
                                            })
                                    }}
                                    <p id="reindex-progress" role="status">
                                        {move || progress_line(&live.get().unwrap_or_else(|| first.clone()))}
                                    </p>
                                </section>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
