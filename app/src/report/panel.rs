//! The "Case report" panel: for doctors the editable report (prefilled from the suggestions),
//! "release to the patient", and the version history with what was done to each suggestion;
//! for the patient the released report, or a notice that it awaits a doctor.
use super::{case_report, SaveCaseReport};
use crate::dto::{CaseReportVersion, CaseReportView, ReportDraft};
use leptos::prelude::*;

fn list(items: Vec<String>) -> impl IntoView {
    view! { <ul>{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul> }
}

/// A version as read: diagnoses, tests, specialist, the words for the patient.
fn read_version(v: CaseReportVersion) -> impl IntoView {
    view! {
        <div class="report-version" data-status=v.status.clone()>
            {(!v.diagnoses.is_empty()).then(|| view! { <h3>"Likely diagnoses"</h3> {list(v.diagnoses)} })}
            {(!v.next_tests.is_empty()).then(|| view! { <h3>"Next tests"</h3> {list(v.next_tests)} })}
            {(!v.specialist.is_empty()).then(|| view! { <h3>"Specialist"</h3> <p>{v.specialist}</p> })}
            {(!v.summary.is_empty()).then(|| view! { <h3>"In words"</h3> <p class="report-summary">{v.summary}</p> })}
        </div>
    }
}

fn doctor_view(r: CaseReportView, case_id: i64, save: ServerAction<SaveCaseReport>) -> impl IntoView {
    let draft = match (&r.current, r.prefill.clone()) {
        (Some(v), _) => {
            ReportDraft { diagnoses: v.diagnoses.join("\n"), next_tests: v.next_tests.join("\n"), specialist: v.specialist.clone(), summary: v.summary.clone() }
        }
        (None, Some(p)) => p,
        (None, None) => ReportDraft::default(),
    };
    let state = match &r.current {
        Some(v) if v.status == "released" => format!("Released by {} on {}.", v.author, v.at),
        Some(v) => format!("Draft saved by {} on {}; not released to the patient yet.", v.author, v.at),
        None => "Not written yet: prefilled from the suggestions above. Edit, then save or release.".into(),
    };
    let error = move || save.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    let history = r.history;
    view! {
        <p class="muted report-state" role="status">{state}</p>
        <ActionForm action=save attr:class="report-form stack">
            <input type="hidden" name="case_id" value=case_id />
            <label>"Likely diagnoses (one per line, most likely first)"<textarea name="diagnoses" rows="3" maxlength="5000">{draft.diagnoses}</textarea></label>
            <label>"Next tests (one per line)"<textarea name="next_tests" rows="3" maxlength="5000">{draft.next_tests}</textarea></label>
            <label>"Specialist"<input type="text" name="specialist" maxlength="500" value=draft.specialist /></label>
            <label>"For the patient, in plain words"<textarea name="summary" rows="4" maxlength="5000">{draft.summary}</textarea></label>
            <label class="check">
                <input type="checkbox" name="release" />
                " Release to the patient now"
            </label>
            {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <button type="submit" class="button primary">"Save report"</button>
        </ActionForm>
        {(!history.is_empty())
            .then(|| {
                view! {
                    <details class="report-history">
                        <summary>{format!("{} version(s)", history.len())}</summary>
                        <ol>
                            {history
                                .into_iter()
                                .map(|v| {
                                    let judged = v
                                        .decisions
                                        .iter()
                                        .map(|d| format!("{} “{}” {}", d.kind.replace('_', " "), d.suggested, d.decision))
                                        .collect::<Vec<_>>()
                                        .join("; ");
                                    view! {
                                        <li>
                                            <strong>{format!("{} · {} · {}", v.status, v.author, v.at)}</strong>
                                            {(!judged.is_empty()).then(|| view! { <p class="small muted">{judged}</p> })}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                    </details>
                }
            })}
    }
}

fn patient_view(r: CaseReportView) -> impl IntoView {
    match r.current {
        None => view! { <p class="notice" role="status">"Awaiting review by a doctor: the report appears here once a doctor releases it."</p> }.into_any(),
        Some(v) => {
            // Staff who do not review (admins) read the latest version, drafts included.
            let by = if v.status == "released" {
                format!("Released by {} on {}.", v.author, v.at)
            } else {
                format!("Draft by {} on {}; not released.", v.author, v.at)
            };
            let teaching = r.teaching_evidence;
            view! {
                <p class="muted small">{by}</p>
                {read_version(v)}
                {(!teaching.is_empty())
                    .then(|| {
                        view! {
                            <h3>"Teaching cases your doctor's suggestions drew on"</h3>
                            {list(teaching)}
                        }
                    })}
                <p class="muted small">"This report is your doctor's; similar cases are not a diagnosis. Ask your doctor about anything that is unclear."</p>
            }
            .into_any()
        }
    }
}

/// The panel, for doctors and for the patient who owns the case. Server-rendered with the page.
#[component]
pub fn ReportPanel(case_id: i64) -> impl IntoView {
    let save = ServerAction::<SaveCaseReport>::new();
    let report = Resource::new(move || (case_id, save.version().get()), |(id, _)| case_report(id));
    view! {
        <section class="panel case-report" aria-labelledby="report-title">
            <h2 id="report-title">"Case report"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading the report…"</p> }>
                {move || {
                    report
                        .get()
                        .map(|r| match r {
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                            Ok(r) if r.can_edit => doctor_view(r, case_id, save).into_any(),
                            Ok(r) => patient_view(r).into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}
