//! Doctor review: validate or correct a case's diagnosis (with certainty, notes, next tests and
//! specialist; every review is appended to the case's history), and the queue of cases waiting
//! for review. The logic lives in [`service`], shared with `/api/v1`.
use crate::dto::{CaseView, ReviewQueueView};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

pub const QUEUE_PER_PAGE: u32 = 25;

/// Validates (`action = "validate"`) or corrects (`"correct"`) the diagnosis of a case.
#[server(endpoint = "review_case")]
pub async fn review_case(
    case_id: i64,
    action: String,
    diagnosis: String,
    certainty: String,
    notes: String,
    next_tests: String,
    specialist: String,
) -> Result<(), AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    let form = service::ReviewForm { action, diagnosis, certainty, notes, next_tests, specialist };
    service::review(&st, actor, case_id, &form, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// Cases without a review, oldest first (doctors only).
#[server(endpoint = "review_queue")]
pub async fn review_queue(page: u32, region: Option<String>) -> Result<ReviewQueueView, AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::queue(&st, actor, page, region, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

#[cfg(feature = "ssr")]
pub mod service {
    use super::QUEUE_PER_PAGE;
    use crate::dto::{QueueItemView, ReviewQueueView};
    use crate::error::AppError;
    use crate::ssr::{audit, display_time, AppState};
    use precedent_accounts::{can_review, Actor};
    use precedent_store::cases::NewValidation;
    use precedent_types::{CaseId, Certainty};

    pub const MAX_DIAGNOSIS: usize = 500;
    pub const MAX_NOTES: usize = 5_000;
    pub const MAX_SHORT: usize = 500;

    /// What the review form sends.
    #[derive(Debug, Clone, Default)]
    pub struct ReviewForm {
        pub action: String,
        pub diagnosis: String,
        pub certainty: String,
        pub notes: String,
        pub next_tests: String,
        pub specialist: String,
    }

    fn limited(value: &str, max: usize, what: &str) -> Result<String, AppError> {
        let v = value.trim();
        if v.chars().count() > max {
            return Err(AppError::Invalid(format!("The {what} is too long (at most {max} characters).")));
        }
        Ok(v.to_string())
    }

    /// Checks the form against the case's current diagnosis: validating confirms it (and needs
    /// one), correcting replaces it (and needs a new one).
    pub fn validate_form(form: &ReviewForm, current: Option<&str>) -> Result<NewValidation, AppError> {
        let certainty: Certainty =
            form.certainty.trim().parse().map_err(|_| AppError::Invalid("Choose a certainty: possible, probable or certain.".into()))?;
        let typed = limited(&form.diagnosis, MAX_DIAGNOSIS, "diagnosis")?;
        let (action, diagnosis) = match form.action.trim() {
            "validate" => {
                let Some(current) = current.map(str::trim).filter(|c| !c.is_empty()) else {
                    return Err(AppError::Invalid("This case has no diagnosis to validate; enter one and choose “Correct”.".into()));
                };
                ("validate", current.to_string())
            }
            "correct" => {
                if typed.is_empty() {
                    return Err(AppError::Invalid("Enter the corrected diagnosis.".into()));
                }
                ("correct", typed)
            }
            _ => return Err(AppError::Invalid("Choose whether to validate or correct the diagnosis.".into())),
        };
        Ok(NewValidation {
            action,
            diagnosis,
            certainty,
            notes: limited(&form.notes, MAX_NOTES, "notes")?,
            next_tests: limited(&form.next_tests, MAX_SHORT, "recommended tests")?,
            specialist: limited(&form.specialist, MAX_SHORT, "specialist")?,
        })
    }

    /// Appends `actor`'s review to the case's history.
    pub async fn review(st: &AppState, actor: Actor, case_id: i64, form: &ReviewForm, ip: Option<String>) -> Result<(), AppError> {
        if !can_review(&actor) {
            audit(&st.pool, Some(actor), "case.review", Some(("case", case_id)), ip, "denied").await?;
            return Err(AppError::Forbidden);
        }
        let Some(detail) = precedent_store::cases::get(&st.pool, CaseId(case_id)).await? else {
            return Err(AppError::NotFound);
        };
        let current = detail.validations.first().map(|v| v.diagnosis.clone()).or(detail.case.diagnosis.clone());
        let v = validate_form(form, current.as_deref())?;
        precedent_store::cases::add_validation(&st.pool, CaseId(case_id), actor.id, actor.role, &v, ip).await?;
        tracing::info!(case = case_id, action = v.action, "case reviewed");
        Ok(())
    }

    pub async fn queue(st: &AppState, actor: Actor, page: u32, region: Option<String>, ip: Option<String>) -> Result<ReviewQueueView, AppError> {
        if !can_review(&actor) {
            audit(&st.pool, Some(actor), "review.queue", None, ip, "denied").await?;
            return Err(AppError::Forbidden);
        }
        let page = page.clamp(1, 1_000_000);
        let region = region.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        let (rows, total) = precedent_store::cases::review_queue(
            &st.pool,
            region.as_deref(),
            QUEUE_PER_PAGE as i64,
            ((page - 1) * QUEUE_PER_PAGE) as i64,
        )
        .await?;
        audit(&st.pool, Some(actor), "review.queue", None, ip, "ok").await?;
        Ok(ReviewQueueView {
            items: rows
                .into_iter()
                .map(|r| QueueItemView {
                    id: CaseId(r.id),
                    title: r.title,
                    diagnosis: r.diagnosis,
                    body_region: r.body_region,
                    age_years: r.age_years,
                    sex: r.sex,
                    created_at: display_time(r.created_at),
                })
                .collect(),
            total,
            page,
            per_page: QUEUE_PER_PAGE,
            region,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn form(action: &str, diagnosis: &str, certainty: &str) -> ReviewForm {
            ReviewForm { action: action.into(), diagnosis: diagnosis.into(), certainty: certainty.into(), ..Default::default() }
        }

        #[test]
        fn validating_confirms_the_current_diagnosis_and_correcting_replaces_it() {
            let v = validate_form(&form("validate", "ignored", "certain"), Some("Pneumonia")).unwrap();
            assert_eq!((v.action, v.diagnosis.as_str(), v.certainty), ("validate", "Pneumonia", Certainty::Certain));
            let v = validate_form(&form("correct", "  Pulmonary embolism ", "possible"), Some("Pneumonia")).unwrap();
            assert_eq!((v.action, v.diagnosis.as_str()), ("correct", "Pulmonary embolism"));
        }

        #[test]
        fn bad_reviews_are_refused_with_reasons() {
            for (f, current, needle) in [
                (form("validate", "", "certain"), None, "no diagnosis to validate"),
                (form("correct", "  ", "certain"), Some("x"), "corrected diagnosis"),
                (form("correct", "x", "sure"), Some("x"), "certainty"),
                (form("delete", "x", "certain"), Some("x"), "validate or correct"),
                (form("correct", &"x".repeat(501), "certain"), Some("x"), "too long"),
            ] {
                match validate_form(&f, current) {
                    Err(AppError::Invalid(m)) => assert!(m.contains(needle), "{m}"),
                    other => panic!("{f:?}: {other:?}"),
                }
            }
        }
    }
}

/// The review form on a case page (doctors only). `done` is bumped after a successful review.
#[component]
pub fn ReviewPanel(case: CaseView, action: ServerAction<ReviewCase>) -> impl IntoView {
    let current = case.diagnosis.clone().unwrap_or_default();
    let has_current = !current.is_empty();
    let error = move || action.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    view! {
        <section class="panel review" aria-labelledby="review-title">
            <h2 id="review-title">"Review"</h2>
            <ActionForm action=action attr:class="review-form">
                <input type="hidden" name="case_id" value=case.id.0/>
                <fieldset class="choice">
                    <legend>"Diagnosis"</legend>
                    <label><input type="radio" name="action" value="validate" checked=has_current disabled=!has_current/>
                        {if has_current { format!(" Validate “{current}”") } else { " Validate (no diagnosis recorded)".to_string() }}</label>
                    <label><input type="radio" name="action" value="correct" checked=!has_current/>" Correct it:"</label>
                </fieldset>
                <label>"Corrected diagnosis"<input type="text" name="diagnosis" maxlength="500" placeholder="Only when correcting"/></label>
                <label>"Certainty"
                    <select name="certainty">
                        <option value="possible">"Possible"</option>
                        <option value="probable" selected>"Probable"</option>
                        <option value="certain">"Certain"</option>
                    </select>
                </label>
                <label>"Notes"<textarea name="notes" rows="3" maxlength="5000"></textarea></label>
                <label>"Recommended next tests"<input type="text" name="next_tests" maxlength="500"/></label>
                <label>"Refer to specialist"<input type="text" name="specialist" maxlength="500"/></label>
                {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <button type="submit" class="button primary">"Save review"</button>
            </ActionForm>
        </section>
    }
}

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
            <div class="page-head"><h1>"Review queue"</h1></div>
            <form method="get" action="/review" class="inline-filter">
                <label>"Body region "<input type="text" name="region" value=move || args().1.unwrap_or_default() placeholder="e.g. Thorax"/></label>
                <button type="submit" class="button">"Filter"</button>
            </form>
            <Suspense fallback=|| view! { <p class="muted">"Loading the queue…"</p> }>
                {move || Suspend::new(async move {
                    match queue.await {
                        Err(AppError::Forbidden) => view! {
                            <section class="notice"><h2>"Doctors only"</h2><p>"The review queue is for doctors."</p></section>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(q) if q.items.is_empty() => view! { <p class="empty">"Nothing waits for review."</p> }.into_any(),
                        Ok(q) => {
                            let pages = ((q.total.max(0) as u32).div_ceil(q.per_page.max(1))).max(1);
                            let region = q.region.clone().map(|r| format!("&region={r}")).unwrap_or_default();
                            let current = q.page;
                            view! {
                                <p class="muted">{format!("{} case{} without a review, oldest first", q.total, if q.total == 1 { "" } else { "s" })}</p>
                                <ol class="queue">
                                    {q.items.into_iter().map(|c| {
                                        let who = [c.age_years.map(|a| format!("{a} years")), c.sex.clone(), c.body_region.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                                        view! {
                                            <li class="queue-item">
                                                <A href=format!("/cases/{}", c.id.0)>{c.title}</A>
                                                <span class="muted small">{format!(" #{} · opened {}{}", c.id.0, c.created_at, if who.is_empty() { String::new() } else { format!(" · {who}") })}</span>
                                                <span class="small">{c.diagnosis.map(|d| format!("Recorded: {d}")).unwrap_or_else(|| "No diagnosis recorded".into())}</span>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ol>
                                <nav class="pager" aria-label="Pages">
                                    {(current > 1).then(|| view! { <a href=format!("/review?page={}{}", current - 1, region)>"← Older"</a> })}
                                    <span>{format!("Page {current} of {pages}")}</span>
                                    {(current < pages).then(|| view! { <a href=format!("/review?page={}{}", current + 1, region)>"Newer →"</a> })}
                                </nav>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
