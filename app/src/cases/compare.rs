//! Two cases side by side (`/compare`).
use super::get_case;
use crate::dto::CaseView;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// Two cases side by side (`/compare?a=1&b=2`), each only if the viewer may read it.
#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let id = move |k: &'static str| query.read().get(k).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let a = Resource::new(move || id("a"), get_case);
    let b = Resource::new(move || id("b"), get_case);
    let column = move |c: Result<CaseView, AppError>| match c {
        Err(AppError::NotFound) => view! {
            <div class="compare-col">
                <p class="notice-inline">"This case does not exist or you do not have access to it."</p>
            </div>
        }
        .into_any(),
        Err(e) => view! {
            <div class="compare-col">
                <p class="form-error" role="alert">
                    {e.to_string()}
                </p>
            </div>
        }
        .into_any(),
        Ok(c) => {
            let who = [c.age_years.map(|a| format!("{a} years")), c.sex.clone(), c.body_region.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
            view! {
                <div class="compare-col" data-case=c.id.0>
                    <h2>
                        <A href=format!("/cases/{}", c.id.0)>{c.title.clone()}</A>
                    </h2>
                    <p class="muted small">{format!("Case #{}{}", c.id.0, if who.is_empty() { String::new() } else { format!(" · {who}") })}</p>
                    <p class="diagnosis-line">
                        <strong>"Diagnosis: "</strong>
                        {c.diagnosis.clone().unwrap_or_else(|| "none recorded".into())}
                    </p>
                    <h3>"History"</h3>
                    <p class="prose">{c.history.clone()}</p>
                    {(!c.exam.is_empty())
                        .then(|| {
                            view! {
                                <h3>"Examination"</h3>
                                <p class="prose">{c.exam.clone()}</p>
                            }
                        })}
                    {(!c.findings.is_empty())
                        .then(|| {
                            view! {
                                <h3>"Findings"</h3>
                                <p class="prose">{c.findings.clone()}</p>
                            }
                        })}
                    <ul class="thumbs">
                        {c
                            .images
                            .into_iter()
                            .map(|i| {
                                view! {
                                    <li>
                                        <a href=format!("/media/images/{}", i.id) target="_blank" rel="noopener">
                                            <img
                                                src=format!("/media/images/{}/thumb", i.id)
                                                alt=i.caption.clone().unwrap_or_else(|| i.filename.clone())
                                                class="scan-thumb"
                                            />
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </div>
            }
            .into_any()
        }
    };
    view! {
        <section>
            <div class="page-head">
                <h1>"Compare cases"</h1>
            </div>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    let (a, b) = (a.await, b.await);
                    view! { <div class="compare">{column(a)}{column(b)}</div> }
                })}
            </Suspense>
        </section>
    }
}
