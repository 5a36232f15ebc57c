//! Cases: the list, the new-case form and the case page, with their server functions.
use crate::dto::{CaseListView, CaseView, ReportText};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

pub const PER_PAGE: u32 = 20;

/// The case logic shared by the server functions below and the JSON API (`/api/v1`): who may
/// see what, the audit trail, and the mapping to the DTOs both return.
#[cfg(feature = "ssr")]
pub mod service {
    use super::PER_PAGE;
    use crate::dto::{CaseListView, CaseSummaryView, CaseView, ImageView, ReportText, ReportView, ValidationView};
    use crate::error::AppError;
    use crate::ssr::{audit, display_time, AppState};
    use precedent_accounts::{can_read_case, Actor};
    use precedent_store::cases::TextStatus;

    /// One page of the cases `actor` may see, newest first.
    pub async fn list(st: &AppState, actor: Actor, page: u32, ip: Option<String>) -> Result<CaseListView, AppError> {
        let page = page.clamp(1, 1_000_000);
        let owner = if actor.role.is_staff() { None } else { Some(actor.id) };
        let (rows, total) =
            precedent_store::cases::list(&st.pool, owner, PER_PAGE as i64, ((page - 1) * PER_PAGE) as i64).await?;
        audit(&st.pool, Some(actor), "case.list", None, ip, "ok").await?;
        let items = rows
            .into_iter()
            .map(|r| CaseSummaryView {
                id: r.id,
                title: r.title,
                status: r.status,
                diagnosis: r.diagnosis,
                owner_email: actor.role.is_staff().then_some(r.owner_email),
                image_count: r.image_count,
                report_count: r.report_count,
                thumbnail: r.first_image,
                created_at: display_time(r.created_at),
            })
            .collect();
        Ok(CaseListView { items, total, page, per_page: PER_PAGE })
    }

    /// The case, if `actor` may read it. Another patient's case is "not found", so ids cannot be probed.
    pub async fn get(st: &AppState, actor: Actor, id: i64, ip: Option<String>) -> Result<CaseView, AppError> {
        let d = match precedent_store::cases::get(&st.pool, precedent_types::CaseId(id)).await? {
            Some(d) if can_read_case(&actor, d.case.owner) => d,
            Some(_) => {
                audit(&st.pool, Some(actor), "case.read", Some(("case", id)), ip, "denied").await?;
                return Err(AppError::NotFound);
            }
            None => return Err(AppError::NotFound),
        };
        audit(&st.pool, Some(actor), "case.read", Some(("case", id)), ip, "ok").await?;
        let indexing = precedent_store::embeddings::is_indexing(&st.pool, d.case.id).await?;
        let lab_rows = precedent_store::labs::of_case(&st.pool, d.case.id).await?;
        let lab_trends = crate::labs::service::trends(&lab_rows);
        let c = d.case;
        Ok(CaseView {
            id: c.id,
            title: c.title,
            history: c.history,
            exam: c.exam,
            findings: c.findings,
            diagnosis: d.validations.first().map(|v| v.diagnosis.clone()).or(c.diagnosis),
            status: c.status,
            age_years: c.age_years,
            sex: c.sex,
            body_region: c.body_region,
            owner_email: actor.role.is_staff().then_some(c.owner_email),
            created_at: display_time(c.created_at),
            indexing,
            can_review: precedent_accounts::can_review(&actor),
            images: d
                .images
                .into_iter()
                .map(|i| ImageView {
                    id: i.id,
                    filename: i.filename,
                    mime: i.mime,
                    width: i.width,
                    height: i.height,
                    modality: i.modality,
                    plane: i.plane,
                    caption: i.caption,
                })
                .collect(),
            reports: d
                .reports
                .into_iter()
                .map(|r| {
                    let own: Vec<_> = lab_rows.iter().filter(|v| v.report_id == r.id.0).collect();
                    ReportView {
                        id: r.id,
                        filename: r.filename,
                        byte_size: r.byte_size,
                        text: match r.text_status {
                            TextStatus::Extracted => ReportText::Extracted(r.extracted_text),
                            TextStatus::NoText => ReportText::NoTextLayer,
                            TextStatus::Failed => ReportText::Failed(r.extract_error.unwrap_or_default()),
                        },
                        collected_on: own.first().and_then(|v| v.collected_on).map(|d| d.to_string()),
                        values: own.into_iter().map(crate::labs::service::value_view).collect(),
                    }
                })
                .collect(),
            lab_trends,
            validations: d
                .validations
                .into_iter()
                .map(|v| ValidationView {
                    author: v.author_email,
                    action: v.action,
                    diagnosis: v.diagnosis,
                    certainty: v.certainty,
                    notes: v.notes,
                    next_tests: v.next_tests,
                    specialist: v.specialist,
                    at: display_time(v.created_at),
                })
                .collect(),
        })
    }
}

/// One page of cases, newest first: a patient's own, or all cases for staff.
#[server(endpoint = "cases")]
pub async fn list_cases(page: u32) -> Result<CaseListView, AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::list(&st, actor, page, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// A case with its images, reports and review history, if the caller may read it.
#[server(endpoint = "case")]
pub async fn get_case(id: i64) -> Result<CaseView, AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::get(&st, actor, id, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

#[component]
pub fn CaseListPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || query.read().get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1);
    let cases = Resource::new(page, list_cases);
    view! {
        <section>
            <div class="page-head">
                <h1>"Cases"</h1>
                <A href="/cases/new" attr:class="button primary">"New case"</A>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading cases…"</p> }>
                {move || Suspend::new(async move {
                    match cases.await {
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(list) if list.items.is_empty() => view! {
                            <p class="empty">"No cases yet. " <A href="/cases/new">"Open your first case"</A> "."</p>
                        }.into_any(),
                        Ok(list) => {
                            let pages = list.pages();
                            let current = list.page;
                            view! {
                                <p class="muted">{format!("{} case{}", list.total, if list.total == 1 { "" } else { "s" })}</p>
                                <ul class="case-grid">
                                    {list.items.into_iter().map(|c| view! {
                                        <li class="case-card">
                                            <a href=format!("/cases/{}", c.id) class="case-link">
                                                {match c.thumbnail {
                                                    Some(img) => view! { <img src=format!("/media/images/{img}/thumb") alt="" loading="lazy"/> }.into_any(),
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
                                    }).collect_view()}
                                </ul>
                                <nav class="pager" aria-label="Pages">
                                    {(current > 1).then(|| view! { <a href=format!("/cases?page={}", current - 1)>"← Newer"</a> })}
                                    <span>{format!("Page {current} of {pages}")}</span>
                                    {(current < pages).then(|| view! { <a href=format!("/cases?page={}", current + 1)>"Older →"</a> })}
                                </nav>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The new-case form. It posts multipart to `/api/v1/cases`: without JavaScript the server
/// answers with a redirect; once hydrated the form is sent with `fetch`, so an error is shown
/// in place and nothing typed is lost.
#[component]
pub fn NewCasePage() -> impl IntoView {
    let query = use_query_map();
    let (error, set_error) = signal(query.read_untracked().get("error"));
    let (busy, set_busy) = signal(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            set_busy.set(true);
            set_error.set(None);
            crate::upload::submit_case_form(ev, move |outcome| {
                set_busy.set(false);
                match outcome {
                    Ok(id) => {
                        let _ = window().location().assign(&format!("/cases/{id}"));
                    }
                    Err(msg) => set_error.set(Some(msg)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (ev, set_busy, set_error);
        }
    };
    view! {
        <section class="form-page">
            <h1>"New case"</h1>
            <form method="post" action="/api/v1/cases" enctype="multipart/form-data" class="stack" id="new-case-form" on:submit=on_submit>
                <label>"Title" <input type="text" name="title" required maxlength="300" placeholder="e.g. Persistent cough and fever"/></label>
                <label>"History and symptoms"
                    <textarea name="history" rows="6" placeholder="What happened, since when, what makes it better or worse…"></textarea>
                </label>
                <label>"Examination (optional)" <textarea name="exam" rows="3"></textarea></label>
                <div class="row">
                    <label>"Age" <input type="number" name="age" min="0" max="130"/></label>
                    <label>"Sex"
                        <select name="sex">
                            <option value="">"—"</option>
                            <option value="F">"Female"</option>
                            <option value="M">"Male"</option>
                            <option value="X">"Other"</option>
                        </select>
                    </label>
                    <label>"Scan type"
                        <select name="modality">
                            <option value="xray">"X-ray"</option>
                            <option value="ct">"CT"</option>
                            <option value="mr">"MRI"</option>
                            <option value="other" selected>"Other / unsure"</option>
                        </select>
                    </label>
                </div>
                <label>"Scans (JPEG or PNG)" <input type="file" name="images" accept="image/png,image/jpeg" multiple required/></label>
                <label>"Lab reports (PDF)" <input type="file" name="reports" accept="application/pdf" multiple/></label>
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Uploading…" } else { "Create case" }}
                </button>
            </form>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </section>
    }
}

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
        <Suspense fallback=|| view! { <p class="muted">"Loading case…"</p> }>
            {move || Suspend::new(async move {
                match case.await {
                    Err(AppError::NotFound) => view! {
                        <section class="notice"><h1>"Case not found"</h1>
                        <p>"This case does not exist or you do not have access to it."</p>
                        <A href="/cases">"Back to cases"</A></section>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(c) => view! { <CaseDetail case=c review correct/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CaseDetail(case: CaseView, review: ServerAction<crate::review::ReviewCase>, correct: ServerAction<crate::labs::CorrectLabValue>) -> impl IntoView {
    let correct_error = move || correct.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let can_correct = case.can_review;
    let demographics = [
        case.age_years.map(|a| format!("{a} years")),
        case.sex.clone(),
        case.body_region.clone(),
        case.owner_email.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <article class="case" data-case-id=case.id.0>
            <header class="page-head">
                <div>
                    <h1 id="case-title">{case.title.clone()}</h1>
                    <p class="muted">{format!("Case #{} · opened {}", case.id, case.created_at)} {(!demographics.is_empty()).then(|| format!(" · {demographics}"))}</p>
                </div>
                <div class="badges">
                    <span class=format!("badge status-{}", case.status)>{case.status.to_string()}</span>
                    {case.indexing.then(|| view! {
                        <span class="badge indexing" id="indexing" title="Its scans and text are being analysed for similarity search">"Indexing…"</span>
                    })}
                </div>
            </header>
            {case.diagnosis.clone().map(|d| view! { <p class="diagnosis-line"><strong>"Diagnosis: "</strong>{d}</p> })}
            <section class="panel">
                <h2>"History and symptoms"</h2>
                <p class="prose" id="case-history">{case.history.clone()}</p>
                {(!case.exam.is_empty()).then(|| view! { <h3>"Examination"</h3><p class="prose">{case.exam.clone()}</p> })}
                {(!case.findings.is_empty()).then(|| view! { <h3>"Findings"</h3><p class="prose">{case.findings.clone()}</p> })}
            </section>
            {case.can_review.then(|| view! { <crate::review::ReviewPanel case=case.clone() action=review/> })}
            <crate::similar::SimilarPanel case_id=case.id.0/>
            <section class="panel">
                <h2>{format!("Scans ({})", case.images.len())}</h2>
                {if case.images.is_empty() {
                    view! { <p class="muted">"No scans uploaded."</p> }.into_any()
                } else {
                    view! {
                        <ul class="thumbs">
                            {case.images.into_iter().map(|i| view! {
                                <li>
                                    <a href=format!("/media/images/{}", i.id) target="_blank" rel="noopener">
                                        <img src=format!("/media/images/{}/thumb", i.id) alt=i.caption.clone().unwrap_or_else(|| i.filename.clone()) class="scan-thumb"/>
                                    </a>
                                    <span class="small muted">{format!("{} · {} · {}×{}", i.filename, i.modality.label(), i.width, i.height)}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            <section class="panel">
                <h2>{format!("Lab reports ({})", case.reports.len())}</h2>
                {if case.reports.is_empty() {
                    view! { <p class="muted">"No lab reports uploaded."</p> }.into_any()
                } else {
                    view! {
                        {move || correct_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                        {(!case.lab_trends.is_empty()).then(|| view! { <h3>"Trends"</h3><crate::labs::LabTrends trends=case.lab_trends.clone()/> })}
                        {case.reports.into_iter().map(|r| {
                            let text = r.text.clone();
                            let has_values = !r.values.is_empty();
                            view! {
                                <div class="report" data-report=r.id.0>
                                    <h3><a href=format!("/media/reports/{}", r.id)>{r.filename.clone()}</a>
                                        <span class="small muted">{format!(" {:.0} KB{}", r.byte_size as f64 / 1024.0, r.collected_on.clone().map(|d| format!(" · collected {d}")).unwrap_or_default())}</span></h3>
                                    {has_values.then(|| view! { <crate::labs::LabTable report=r.clone() can_correct action=correct/> })}
                                    {match text {
                                        ReportText::Extracted(t) if has_values => view! { <details class="report-source"><summary>"Report text"</summary><pre class="report-text">{t}</pre></details> }.into_any(),
                                        ReportText::Extracted(t) => view! { <p class="notice-inline">"No values recognised in this report; its text is kept."</p><pre class="report-text">{t}</pre> }.into_any(),
                                        ReportText::NoTextLayer => view! { <p class="notice-inline">"No text layer — values not extracted."</p> }.into_any(),
                                        ReportText::Failed(e) => view! { <p class="notice-inline">{format!("The PDF could not be read: {e}")}</p> }.into_any(),
                                    }}
                                </div>
                            }
                        }).collect_view()}
                    }.into_any()
                }}
            </section>
            <section class="panel">
                <h2>"Review history"</h2>
                {if case.validations.is_empty() {
                    view! { <p class="muted">"Not reviewed by a doctor yet."</p> }.into_any()
                } else {
                    view! {
                        <ol class="history">
                            {case.validations.into_iter().map(|v| view! {
                                <li class="history-entry"><strong>{v.diagnosis}</strong>{format!(" — {} ({}) by {} on {}", if v.action == "correct" { "corrected" } else { "validated" }, v.certainty, v.author, v.at)}
                                {(!v.notes.is_empty()).then(|| view! { <p class="prose">{v.notes.clone()}</p> })}
                                {(!v.next_tests.is_empty()).then(|| view! { <p class="small">{format!("Recommended tests: {}", v.next_tests)}</p> })}
                                {(!v.specialist.is_empty()).then(|| view! { <p class="small">{format!("Refer to: {}", v.specialist)}</p> })}</li>
                            }).collect_view()}
                        </ol>
                    }.into_any()
                }}
            </section>
        </article>
    }
}

/// Two cases side by side (`/compare?a=1&b=2`), each only if the viewer may read it.
#[component]
pub fn ComparePage() -> impl IntoView {
    let query = use_query_map();
    let id = move |k: &'static str| query.read().get(k).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let a = Resource::new(move || id("a"), get_case);
    let b = Resource::new(move || id("b"), get_case);
    let column = move |c: Result<CaseView, AppError>| match c {
        Err(AppError::NotFound) => view! { <div class="compare-col"><p class="notice-inline">"This case does not exist or you do not have access to it."</p></div> }.into_any(),
        Err(e) => view! { <div class="compare-col"><p class="form-error" role="alert">{e.to_string()}</p></div> }.into_any(),
        Ok(c) => {
            let who = [c.age_years.map(|a| format!("{a} years")), c.sex.clone(), c.body_region.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
            view! {
                <div class="compare-col" data-case=c.id.0>
                    <h2><A href=format!("/cases/{}", c.id.0)>{c.title.clone()}</A></h2>
                    <p class="muted small">{format!("Case #{}{}", c.id.0, if who.is_empty() { String::new() } else { format!(" · {who}") })}</p>
                    <p class="diagnosis-line"><strong>"Diagnosis: "</strong>{c.diagnosis.clone().unwrap_or_else(|| "none recorded".into())}</p>
                    <h3>"History"</h3><p class="prose">{c.history.clone()}</p>
                    {(!c.exam.is_empty()).then(|| view! { <h3>"Examination"</h3><p class="prose">{c.exam.clone()}</p> })}
                    {(!c.findings.is_empty()).then(|| view! { <h3>"Findings"</h3><p class="prose">{c.findings.clone()}</p> })}
                    <ul class="thumbs">
                        {c.images.into_iter().map(|i| view! {
                            <li><a href=format!("/media/images/{}", i.id) target="_blank" rel="noopener">
                                <img src=format!("/media/images/{}/thumb", i.id) alt=i.caption.clone().unwrap_or_else(|| i.filename.clone()) class="scan-thumb"/>
                            </a></li>
                        }).collect_view()}
                    </ul>
                </div>
            }
            .into_any()
        }
    };
    view! {
        <section>
            <div class="page-head"><h1>"Compare cases"</h1></div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (a, b) = (a.await, b.await);
                    view! { <div class="compare">{column(a)}{column(b)}</div> }
                })}
            </Suspense>
        </section>
    }
}
