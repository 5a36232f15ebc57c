//! The review queue page (`/review`): cases without a review, oldest first, by body region.
use super::review_queue;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let query = use_query_map();
    let args = move || {
        let q = query.read();
        (q.get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1), q.get("region").filter(|r| !r.is_empty()))
    };
    let queue = Resource::new(args, |(page, region)| review_queue(page, region));
    view! {
        <section>
            <div class="page-head">
                <h1>"Review queue"</h1>
            </div>
            <form method="get" action="/review" class="inline-filter">
                <label>"Body region "<input type="text" name="region" value=move || args().1.unwrap_or_default() placeholder="e.g. Thorax" /></label>
                <button type="submit" class="button">
                    "Filter"
                </button>
            </form>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading the queue…"</p> }
            }>
                {move || Suspend::new(async move {
                    match queue.await {
                        Err(AppError::Forbidden) => {
                            view! {
                                <section class="notice">
                                    <h2>"Doctors only"</h2>
                                    <p>"The review queue is for doctors."</p>
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
                        Ok(q) if q.items.is_empty() => view! { <p class="empty">"Nothing waits for review."</p> }.into_any(),
                        Ok(q) => {
                            let pages = ((q.total.max(0) as u32).div_ceil(q.per_page.max(1))).max(1);
                            let region = q.region.clone().map(|r| format!("&region={r}")).unwrap_or_default();
                            let current = q.page;
                            view! {
                                <p class="muted">{format!("{} case{} without a review, oldest first", q.total, if q.total == 1 { "" } else { "s" })}</p>
                                <ol class="queue">
                                    {q
                                        .items
                                        .into_iter()
                                        .map(|c| {
                                            let who = [c.age_years.map(|a| format!("{a} years")), c.sex.clone(), c.body_region.clone()]
                                                .into_iter()
                                                .flatten()
                                                .collect::<Vec<_>>()
                                                .join(" · ");
                                            view! {
                                                <li class="queue-item">
                                                    <A href=format!("/cases/{}", c.id.0)>{c.title}</A>
                                                    <span class="muted small">
                                                        {format!(
                                                            " #{} · opened {}{}",
                                                            c.id.0,
                                                            c.created_at,
                                                            if who.is_empty() { String::new() } else { format!(" · {who}") },
                                                        )}
                                                    </span>
                                                    <span class="small">
                                                        {c.diagnosis.map(|d| format!("Recorded: {d}")).unwrap_or_else(|| "No diagnosis recorded".into())}
                                                    </span>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ol>
                                <nav class="pager" aria-label="Pages">
                                    {(current > 1).then(|| view! { <a href=format!("/review?page={}{}", current - 1, region)>"← Older"</a> })}
                                    <span>{format!("Page {current} of {pages}")}</span>
                                    {(current < pages).then(|| view! { <a href=format!("/review?page={}{}", current + 1, region)>"Newer →"</a> })}
                                </nav>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
