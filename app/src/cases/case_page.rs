//! The case page (`/cases/:id`): history, review, similar cases, scans, lab reports and the
//! review history.
use super::get_case;
use crate::dto::{CaseView, ReportText};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn CasePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let review = ServerAction::<crate::review::ReviewCase>::new();
    // A saved review reloads the case (new diagnosis, history entry); a refused one does not,
    // so the form keeps what was typed next to the error.
    let saved = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(review.value().get(), Some(Ok(()))) {
            saved.update(|n| *n += 1);
        }
    });
    let correct = ServerAction::<crate::labs::CorrectLabValue>::new();
    Effect::new(move |_| {
        if matches!(correct.value().get(), Some(Ok(()))) {
            saved.update(|n| *n += 1);
        }
    });
    let case = Resource::new(move || (id(), saved.get()), |(id, _)| get_case(id));
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading case…"</p> }
        }>
            {move || Suspend::new(async move {
                match case.await {
                    Err(AppError::NotFound) => {
                        view! {
                            <section class="notice">
                                <h1>"Case not found"</h1>
                                <p>"This case does not exist or you do not have access to it."</p>
                                <A href="/cases">"Back to cases"</A>
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
                    Ok(c) => view! { <CaseDetail case=c review correct /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CaseDetail(case: CaseView, review: ServerAction<crate::review::ReviewCase>, correct: ServerAction<crate::labs::CorrectLabValue>) -> impl IntoView {
    let correct_error = move || correct.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let can_correct = case.can_review;
    let demographics = [case.age_years.map(|a| format!("{a} years")), case.sex.clone(), case.body_region.clone(), case.owner_email.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <article class="case" data-case-id=case.id.0>
            <header class="page-head">
                <div>
                    <h1 id="case-title">{case.title.clone()}</h1>
                    <p class="muted">
                        {format!("Case #{} · opened {}", case.id, case.created_at)} {(!demographics.is_empty()).then(|| format!(" · {demographics}"))}
                    </p>
                </div>
                <div class="badges">
                    <span class=format!("badge status-{}", case.status)>{case.status.to_string()}</span>
                    {case
                        .indexing
                        .then(|| {
                            view! {
                                <span class="badge indexing" id="indexing" title="Its scans and text are being analysed for similarity search">
                                    "Indexing…"
                                </span>
                            }
                        })}
                </div>
            </header>
            {case
                .diagnosis
                .clone()
                .map(|d| {
                    view! {
                        <p class="diagnosis-line">
                            <strong>"Diagnosis: "</strong>
                            {d}
                        </p>
                    }
                })}
            <section class="panel">
                <h2>"History and symptoms"</h2>
                <p class="prose" id="case-history">
                    {case.history.clone()}
                </p>
                {(!case.exam.is_empty())
                    .then(|| {
                        view! {
                            <h3>"Examination"</h3>
                            <p class="prose">{case.exam.clone()}</p>
                        }
                    })}
                {(!case.findings.is_empty())
                    .then(|| {
                        view! {
                            <h3>"Findings"</h3>
                            <p class="prose">{case.findings.clone()}</p>
                        }
                    })}
            </section>
            {case.can_review.then(|| view! { <crate::review::ReviewPanel case=case.clone() action=review /> })}
            {case.can_review.then(|| view! { <crate::suggest::SuggestionsPanel case_id=case.id.0 /> })}
            <crate::report::ReportPanel case_id=case.id.0 />
            <crate::similar::SimilarPanel case_id=case.id.0 />
            <section class="panel">
                <h2>{format!("Scans ({})", case.images.len())}</h2>
                {if case.images.is_empty() {
                    view! { <p class="muted">"No scans uploaded."</p> }.into_any()
                } else {
                    view! {
                        <ul class="thumbs">
                            {case
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
                                            <span class="small muted">{format!("{} · {} · {}×{}", i.filename, i.modality.label(), i.width, i.height)}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </section>
            <section class="panel">
                <h2>{format!("Lab reports ({})", case.reports.len())}</h2>
                {if case.reports.is_empty() {
                    view! { <p class="muted">"No lab reports uploaded."</p> }.into_any()
                } else {
                    view! {
                        {move || {
                            correct_error()
                                .map(|e| {
                                    view! {
                                        <p class="form-error" role="alert">
                                            {e}
                                        </p>
                                    }
                                })
                        }}
                        {(!case.lab_trends.is_empty())
                            .then(|| {
                                view! {
                                    <h3>"Trends"</h3>
                                    <crate::labs::LabTrends trends=case.lab_trends.clone() />
                                }
                            })}
                        {case
                            .reports
                            .into_iter()
                            .map(|r| {
                                let text = r.text.clone();
                                let has_values = !r.values.is_empty();
                                view! {
                                    <div class="report" data-report=r.id.0>
                                        <h3>
                                            <a href=format!("/media/reports/{}", r.id)>{r.filename.clone()}</a>
                                            <span class="small muted">
                                                {format!(
                                                    " {:.0} KB{}",
                                                    r.byte_size as f64 / 1024.0,
                                                    r.collected_on.clone().map(|d| format!(" · collected {d}")).unwrap_or_default(),
                                                )}
                                            </span>
                                        </h3>
                                        {has_values.then(|| view! { <crate::labs::LabTable report=r.clone() can_correct action=correct /> })}
                                        {match text {
                                            ReportText::Extracted(t) if has_values => {
                                                view! {
                                                    <details class="report-source">
                                                        <summary>"Report text"</summary>
                                                        <pre class="report-text">{t}</pre>
                                                    </details>
                                                }
                                                    .into_any()
                                            }
                                            ReportText::Extracted(t) => {
                                                view! {
                                                    <p class="notice-inline">"No values recognised in this report; its text is kept."</p>
                                                    <pre class="report-text">{t}</pre>
                                                }
                                                    .into_any()
                                            }
                                            ReportText::NoTextLayer => {
                                                view! { <p class="notice-inline">"No text layer — values not extracted."</p> }.into_any()
                                            }
                                            ReportText::Failed(e) => {
                                                view! { <p class="notice-inline">{format!("The PDF could not be read: {e}")}</p> }.into_any()
                                            }
                                        }}
                                    </div>
                                }
                            })
                            .collect_view()}
                    }
                        .into_any()
                }}
            </section>
            <section class="panel">
                <h2>"Review history"</h2>
                {if case.validations.is_empty() {
                    view! { <p class="muted">"Not reviewed by a doctor yet."</p> }.into_any()
                } else {
                    view! {
                        <ol class="history">
                            {case
                                .validations
                                .into_iter()
                                .map(|v| {
                                    view! {
                                        <li class="history-entry">
                                            <strong>{v.diagnosis}</strong>
                                            {format!(
                                                " — {} ({}) by {} on {}",
                                                if v.action == precedent_types::ReviewAction::Correct { "corrected" } else { "validated" },
                                                v.certainty,
                                                v.author,
                                                v.at,
                                            )}
                                            {(!v.notes.is_empty()).then(|| view! { <p class="prose">{v.notes.clone()}</p> })}
                                            {(!v.next_tests.is_empty())
                                                .then(|| view! { <p class="small">{format!("Recommended tests: {}", v.next_tests)}</p> })}
                                            {(!v.specialist.is_empty()).then(|| view! { <p class="small">{format!("Refer to: {}", v.specialist)}</p> })}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                    }
                        .into_any()
                }}
            </section>
        </article>
    }
}
