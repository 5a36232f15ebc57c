//! "Why this match?" (`/cases/:id/explain/:hit`): the two texts side by side with the shared
//! terms highlighted and negated ones struck through, the modality scores, the lab analytes
//! abnormal in both or one, and the pair of images that matched.
use super::explain_hit;
use crate::dto::{ExplainView, TextPiece};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

fn text(pieces: Vec<TextPiece>) -> impl IntoView {
    view! {
        <p class="prose explain-text">
            {pieces
                .into_iter()
                .map(|p| match p.mark.as_deref() {
                    Some("shared") => view! { <mark class="term-shared">{p.text}</mark> }.into_any(),
                    Some(_) => view! { <del class="term-negated" title="Negated in one of the two texts: not a match">{p.text}</del> }.into_any(),
                    None => p.text.into_any(),
                })
                .collect_view()}
        </p>
    }
}

fn labs(title: &'static str, items: Vec<String>) -> impl IntoView {
    (!items.is_empty()).then(|| view! { <p class="small"><strong>{title}</strong>{format!(" {}", items.join(", "))}</p> })
}

fn body(e: ExplainView) -> impl IntoView {
    let hit_name = if e.deidentified { format!("Teaching case: {}", e.hit_title) } else { e.hit_title.clone() };
    view! {
        <div class="page-head">
            <h1>"Why this match?"</h1>
            <A href=format!("/cases/{}", e.query.0)>"Back to the case"</A>
        </div>
        <section class="panel">
            <h2>"Scores by modality"</h2>
            <super::hit::ChannelBars channels=e.channels />
            <p class="small">
                <strong>"Shared terms: "</strong>
                {if e.shared_terms.is_empty() { "none".to_string() } else { e.shared_terms.join(", ") }}
            </p>
            {(!e.negated_terms.is_empty())
                .then(|| {
                    view! {
                        <p class="small">
                            <strong>"Negated in one text, not a match: "</strong>
                            {e.negated_terms.join(", ")}
                        </p>
                    }
                })}
            {labs("Abnormal in both, same direction:", e.shared_abnormal)}
            {labs("Abnormal in this case only:", e.query_only_abnormal)}
            {labs("Abnormal in the similar case only:", e.hit_only_abnormal)}
        </section>
        <div class="compare">
            <section class="compare-col panel explain-col" data-side="query">
                <h2>{e.query_title.clone()}</h2>
                {e.query_image.map(|q| view! { <img class="explain-image" src=format!("/media/images/{}/thumb", q.0) alt="The image of this case that matched" /> })}
                {text(e.query_text)}
            </section>
            <section class="compare-col panel explain-col" data-side="hit">
                <h2>
                    {if e.deidentified {
                        view! { <span>{hit_name}</span> }.into_any()
                    } else {
                        view! { <A href=format!("/cases/{}", e.hit.0)>{hit_name}</A> }.into_any()
                    }}
                </h2>
                {e.hit_image_url.map(|src| view! { <img class="explain-image" src=src alt="The similar case's image that matched" /> })}
                {text(e.hit_text)}
            </section>
        </div>
    }
}

#[component]
pub fn ExplainPage() -> impl IntoView {
    let params = use_params_map();
    let id = move |k: &'static str| params.read().get(k).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let e = Resource::new(move || (id("id"), id("hit")), |(q, h)| explain_hit(q, h));
    view! {
        <section>
            <Suspense fallback=|| view! { <p class="muted">"Explaining…"</p> }>
                {move || Suspend::new(async move {
                    match e.await {
                        Ok(v) => body(v).into_any(),
                        Err(AppError::NotFound) => view! { <p class="notice">"This case does not exist or you do not have access to it."</p> }.into_any(),
                        Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
