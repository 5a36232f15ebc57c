//! One similar case in a result list (the case page's panel and the search page), with the
//! doctors' relevance buttons.
use super::JudgeHit;
use crate::dto::{ChannelScoreView, Review, SimilarHitView};
use leptos::prelude::*;
use leptos_router::components::A;

fn review_badge(r: Review) -> (&'static str, &'static str) {
    match r {
        Review::Validated => ("badge badge-ok", "validated"),
        Review::Corrected => ("badge badge-warn", "corrected"),
        Review::Unreviewed => ("badge", "unreviewed"),
    }
}

/// One bar per modality: its similarity as a share of the track, and the percentage.
#[component]
pub fn ChannelBars(channels: Vec<ChannelScoreView>) -> impl IntoView {
    view! {
        <ul class="bars">
            {channels
                .into_iter()
                .map(|c| {
                    let w = c.pct.clamp(0.0, 100.0);
                    view! {
                        <li class="bar">
                            <span class="bar-label">{c.channel.as_str()}</span>
                            <span class="bar-track">
                                <span class="bar-fill" style=format!("width:{w:.0}%")></span>
                            </span>
                            <span class="bar-value">{format!("{:.0}%", c.pct)}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// "Relevant" / "Not relevant" for one hit (doctors); the current judgement is marked.
#[component]
fn JudgeButtons(query: i64, hit: i64, judged: Option<bool>, action: ServerAction<JudgeHit>) -> impl IntoView {
    let button = move |relevant: bool, label: &'static str| {
        let pressed = judged == Some(relevant);
        view! {
            <ActionForm action=action attr:class="inline">
                <input type="hidden" name="query_case" value=query />
                <input type="hidden" name="hit_case" value=hit />
                <input type="hidden" name="relevant" value=relevant.to_string() />
                <button type="submit" class=if pressed { "chip pressed" } else { "chip" } aria-pressed=pressed.to_string()>
                    {label}
                </button>
            </ActionForm>
        }
    };
    view! {
        <div class="judge" role="group" aria-label="Is this a relevant similar case?">
            {button(true, "Relevant")}
            {button(false, "Not relevant")}
        </div>
    }
}

/// One similar case: thumbnail, % match, title (a patient's teaching case unlinked), review badge, diagnosis,
/// per-modality bars, the matched image pair, and for doctors the relevance buttons.
#[component]
pub fn HitCard(hit: SimilarHitView, query_case: Option<i64>, can_judge: bool, judge: Option<ServerAction<JudgeHit>>) -> impl IntoView {
    let h = hit;
    let (badge_class, badge) = review_badge(h.review);
    let name = h.title.clone();
    let who = [h.age_band.clone(), h.sex.clone(), h.body_region.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    view! {
        <li class="similar-hit" data-case=h.case.0>
            {h.thumb_url.clone().map(|src| view! { <img class="thumb" src=src alt="Best-matching image" loading="lazy" /> })}
            <div class="similar-body">
                <div class="similar-head">
                    <span class="match">{format!("{:.0}%", h.match_pct)}</span>
                    {if h.deidentified {
                        view! {
                            <span class="similar-title">{name}</span>
                            <span class="badge badge-teaching" title="A de-identified case from the teaching library, not another patient's case">
                                "teaching case"
                            </span>
                        }
                            .into_any()
                    } else {
                        view! {
                            <A href=format!("/cases/{}", h.case.0)>
                                <span class="similar-title">{name}</span>
                            </A>
                        }
                            .into_any()
                    }}
                    <span class=badge_class>{badge}</span>
                </div>
                <p class="similar-dx">{h.diagnosis.clone().unwrap_or_else(|| "No diagnosis recorded".into())}</p>
                {(!who.is_empty()).then(|| view! { <p class="muted small">{who}</p> })}
                <ChannelBars channels=h.channels.clone() />
                {(!h.shared_abnormal.is_empty())
                    .then(|| view! { <p class="small shared-labs">{format!("Shared abnormal labs: {}", h.shared_abnormal.join(", "))}</p> })}
                {match (h.query_image, h.matched_image, h.deidentified) {
                    (Some(q), Some(m), false) => {
                        Some(
                            view! {
                                <p class="matched small">
                                    <img class="mini" src=format!("/media/images/{}/thumb", q.0) alt="Image of this case" />
                                    " matched "
                                    <img class="mini" src=format!("/media/images/{}/thumb", m.0) alt="Image of the similar case" />
                                </p>
                            },
                        )
                    }
                    _ => None,
                }}
                {query_case
                    .map(|q| {
                        view! {
                            <p class="small hit-links">
                                <A href=format!("/cases/{}/explain/{}", q, h.case.0) attr:class="explain-link">
                                    "Why this match?"
                                </A>
                                {(!h.deidentified)
                                    .then(|| {
                                        view! {
                                            " · "
                                            <A href=format!("/compare?a={}&b={}", q, h.case.0) attr:class="compare-link">
                                                "Compare side by side"
                                            </A>
                                        }
                                    })}
                            </p>
                        }
                    })}
                {match (query_case, judge) {
                    (Some(q), Some(action)) if can_judge => Some(view! { <JudgeButtons query=q hit=h.case.0 judged=h.judged action /> }),
                    _ => None,
                }}
            </div>
        </li>
    }
}
