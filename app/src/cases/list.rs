//! The case list (`/cases`): a page of cases, newest first, with a pager.
use super::list_cases;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn CaseListPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || query.read().get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1);
    let cases = Resource::new(page, list_cases);
    view! {
        <section>
            <div class="page-head">
                <h1>"Cases"</h1>
                <A href="/cases/new" attr:class="button primary">
                    "New case"
                </A>
            </div>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading cases…"</p> }
            }>
                {move || Suspend::new(async move {
                    match cases.await {
                        Err(e) => {
                            view! {
                                <p class="form-error" role="alert">
                                    {e.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) if list.items.is_empty() => {
                            view! { <p class="empty">"No cases yet. " <A href="/cases/new">"Open your first case"</A> "."</p> }.into_any()
                        }
                        Ok(list) => {
                            let pages = list.pages();
                            let current = list.page;
                            view! {
                                <p class="muted">{format!("{} case{}", list.total, if list.total == 1 { "" } else { "s" })}</p>
                                <ul class="case-grid">
                                    {list
                                        .items
                                        .into_iter()
                                        .map(|c| {
                                            view! {
                                                <li class="case-card">
                                                    <a href=format!("/cases/{}", c.id) class="case-link">
                                                        {match c.thumbnail {
                                                            Some(img) => {
                                                                view! { <img src=format!("/media/images/{img}/thumb") alt="" loading="lazy" /> }.into_any()
                                                            }
                                                            None => view! { <div class="no-thumb">"No image"</div> }.into_any(),
                                                        }}
                                                        <span class="case-title">{c.title}</span>
                                                    </a>
                                                    <span class=format!("badge status-{}", c.status)>{c.status.to_string()}</span>
                                                    {c.diagnosis.map(|d| view! { <span class="diagnosis">{d}</span> })}
                                                    <span class="muted small">
                                                        {format!("#{} · {} image(s) · {} report(s) · {}", c.id, c.image_count, c.report_count, c.created_at)}
                                                    </span>
                                                    {c.owner_email.map(|o| view! { <span class="muted small">{o}</span> })}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                <nav class="pager" aria-label="Pages">
                                    {(current > 1).then(|| view! { <a href=format!("/cases?page={}", current - 1)>"← Newer"</a> })}
                                    <span>{format!("Page {current} of {pages}")}</span>
                                    {(current < pages).then(|| view! { <a href=format!("/cases?page={}", current + 1)>"Older →"</a> })}
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
