//! The "Suggestions" panel: the differential with calibrated confidences, the categories, the
//! next tests and the specialist; every line names its evidence cases, listed below with their
//! diagnosis, basis and share of the vote.
use super::case_suggestions;
use crate::dto::SuggestionsView;
use leptos::prelude::*;
use leptos_router::components::A;
use precedent_types::CaseId;

fn pct(x: f32) -> String {
    format!("{:.0}%", (x * 100.0).clamp(0.0, 100.0))
}

/// Links to evidence cases, by their number.
fn evidence_links(ids: Vec<CaseId>) -> impl IntoView {
    view! {
        <span class="evidence-links small">
            "evidence: "
            {ids
                .into_iter()
                .map(|id| view! { <A href=format!("/cases/{}", id.0) attr:class="evidence-link">{format!("#{}", id.0)}</A> " " })
                .collect_view()}
        </span>
    }
}

fn category_name(kind: &str) -> &'static str {
    match kind {
        "body_region" => "Body region",
        "disease_class" => "Disease class",
        _ => "Topic",
    }
}

fn test_name(kind: &str) -> &'static str {
    match kind {
        "confirmed_by" => "Confirmed similar cases",
        "lab" => "Lab abnormal in similar cases, not measured here",
        _ => "Imaging the similar cases had",
    }
}

/// The suggestions themselves (the case page's panel and the search page).
#[component]
pub fn SuggestionsBody(suggestions: SuggestionsView) -> impl IntoView {
    let s = suggestions;
    let abstained = s.abstained.clone();
    view! {
        {abstained.map(|a| view! { <p class="notice suggest-abstain" role="status">{a}</p> })}
        {(!s.differential.is_empty())
            .then(|| {
                view! {
                    <h3>"Likely diagnoses"</h3>
                    <ol class="differential">
                        {s
                            .differential
                            .into_iter()
                            .map(|d| {
                                view! {
                                    <li class="suggestion">
                                        <span class="confidence">{pct(d.confidence)}</span>
                                        " "
                                        <span class="suggestion-name">{d.name}</span>
                                        " "
                                        {evidence_links(d.evidence)}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
            })}
        {(!s.categories.is_empty())
            .then(|| {
                view! {
                    <h3>"Categories"</h3>
                    <ul class="categories">
                        {s
                            .categories
                            .into_iter()
                            .map(|c| {
                                view! {
                                    <li class="suggestion" data-kind=c.kind.clone()>
                                        <span class="muted">{category_name(&c.kind)} ": "</span>
                                        <span class="suggestion-name">{c.label}</span>
                                        " "
                                        <span class="confidence small">{pct(c.confidence)}</span>
                                        " "
                                        {evidence_links(c.evidence)}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        {(!s.next_tests.is_empty())
            .then(|| {
                view! {
                    <h3>"Next tests to consider"</h3>
                    <ul class="next-tests">
                        {s
                            .next_tests
                            .into_iter()
                            .map(|t| {
                                view! {
                                    <li class="suggestion" data-kind=t.kind.clone()>
                                        <span class="suggestion-name">{t.what}</span>
                                        " "
                                        <span class="muted small">{format!("{} · {} of the vote", test_name(&t.kind), pct(t.support))}</span>
                                        " "
                                        {evidence_links(t.evidence)}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        {s
            .specialist
            .map(|sp| {
                let source = if sp.source == "reviewers" { "as doctors recorded on similar cases" } else { "usual referral for this region and disease class" };
                view! {
                    <h3>"Specialist"</h3>
                    <p class="specialist">
                        <span class="suggestion-name">{sp.name}</span>
                        " "
                        <span class="muted small">{format!("({source})")}</span>
                        " "
                        {evidence_links(sp.evidence)}
                    </p>
                }
            })}
        {(!s.evidence.is_empty())
            .then(|| {
                view! {
                    <details class="evidence">
                        <summary>{format!("Evidence: {} similar cases with a confirmed diagnosis", s.evidence.len())}</summary>
                        <table class="table small">
                            <thead>
                                <tr>
                                    <th>"Case"</th>
                                    <th>"Diagnosis"</th>
                                    <th>"Basis"</th>
                                    <th>"Share of the vote"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {s
                                    .evidence
                                    .into_iter()
                                    .map(|e| {
                                        let basis = match (e.basis.as_str(), e.certainty) {
                                            ("library", _) => "teaching library".to_string(),
                                            (b, Some(c)) => format!("{b} by a doctor ({c})"),
                                            (b, None) => format!("{b} by a doctor"),
                                        };
                                        view! {
                                            <tr data-case=e.case.0>
                                                <td>
                                                    <A href=format!("/cases/{}", e.case.0)>{format!("#{} {}", e.case.0, e.title)}</A>
                                                </td>
                                                <td>{e.diagnosis}</td>
                                                <td>{basis}</td>
                                                <td>{pct(e.weight)}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </details>
                }
            })}
        <p class="muted small">
            "Computed from similar cases whose diagnosis a doctor confirmed or a teaching library recorded; confidences are calibrated on a development set. A suggestion, not a diagnosis."
        </p>
    }
}

/// The panel (doctors' case page). Server-rendered with the page.
#[component]
pub fn SuggestionsPanel(case_id: i64) -> impl IntoView {
    let s = Resource::new(move || case_id, case_suggestions);
    view! {
        <section class="panel suggestions" aria-labelledby="suggest-title">
            <h2 id="suggest-title">"Suggestions"</h2>
            <Transition fallback=|| {
                view! { <p class="muted">"Weighing similar validated cases…"</p> }
            }>
                {move || {
                    s.get()
                        .map(|r| match r {
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                            Ok(v) => view! { <SuggestionsBody suggestions=v /> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}
