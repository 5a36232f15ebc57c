//! The "Similar cases" panel of a case page: weight sliders, filters and the ranked hits.
use super::{find_similar, HitCard, JudgeHit};
use crate::dto::SimilarParams;
use leptos::prelude::*;

/// The "Similar cases" panel of a case page. Server-rendered with the page.
#[component]
pub fn SimilarPanel(case_id: i64) -> impl IntoView {
    let judge = ServerAction::<JudgeHit>::new();
    // The controls: changing one asks again (no page reload); the old list stays until the new one arrives.
    let text_weight = RwSignal::new(50u32);
    let image_weight = RwSignal::new(50u32);
    let lab_weight = RwSignal::new(50u32);
    let validated_only = RwSignal::new(false);
    let k = RwSignal::new(10u32);
    let refine = RwSignal::new(false);
    let params = move || SimilarParams {
        refine: refine.get(),
        k: Some(k.get()),
        text_weight: Some(text_weight.get() as f32),
        image_weight: Some(image_weight.get() as f32),
        lab_weight: Some(lab_weight.get() as f32),
        validated_only: validated_only.get(),
        ..SimilarParams::default()
    };
    let results = Resource::new(move || (case_id, judge.version().get(), params()), |(id, _, p)| find_similar(id, p));
    let slider = move |label: &'static str, id: &'static str, value: RwSignal<u32>| {
        view! {
            <label class="slider" for=id>
                <span>{label}</span>
                <input
                    id=id
                    type="range"
                    min="0"
                    max="100"
                    step="5"
                    prop:value=move || value.get().to_string()
                    on:input=move |ev| value.set(event_target_value(&ev).parse().unwrap_or(50))
                />
                <span class="slider-value">{move || value.get()}</span>
            </label>
        }
    };
    view! {
        <section class="panel similar" aria-labelledby="similar-title">
            <h2 id="similar-title">"Similar cases"</h2>
            <div class="similar-controls">
                {slider("Text weight", "w-text", text_weight)} {slider("Image weight", "w-image", image_weight)} {slider("Lab weight", "w-labs", lab_weight)}
                <label class="check">
                    <input type="checkbox" prop:checked=move || validated_only.get() on:change=move |ev| validated_only.set(event_target_checked(&ev)) />
                    " Validated only"
                </label>
                <label>
                    "Show " <select on:change=move |ev| k.set(event_target_value(&ev).parse().unwrap_or(10))>
                        <option value="5">"5"</option>
                        <option value="10" selected>
                            "10"
                        </option>
                        <option value="20">"20"</option>
                    </select>
                </label>
            </div>
            <Transition fallback=|| {
                view! { <p class="muted">"Finding similar cases…"</p> }
            }>
                {move || {
                    results
                        .get()
                        .map(|r| match r {
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(r) if r.pending => {
                                view! { <p class="muted similar-pending">"This case is still being indexed; similar cases will appear shortly."</p> }.into_any()
                            }
                            Ok(r) if r.hits.is_empty() => view! { <p class="muted">"No similar cases found."</p> }.into_any(),
                            Ok(r) => {
                                let can_judge = r.can_judge;
                                view! {
                                    {can_judge
                                        .then(|| {
                                            view! {
                                                <label class="check refine">
                                                    <input
                                                        type="checkbox"
                                                        prop:checked=move || refine.get()
                                                        on:change=move |ev| refine.set(event_target_checked(&ev))
                                                    />
                                                    " Refine by my marks: more like the hits marked relevant, less like the others"
                                                </label>
                                            }
                                        })}
                                    <ol class="similar-hits">
                                        {r
                                            .hits
                                            .into_iter()
                                            .map(|h| view! { <HitCard hit=h query_case=Some(case_id) can_judge judge=Some(judge) /> })
                                            .collect_view()}
                                    </ol>
                                    <p class="muted small">
                                        {format!(
                                            "Ordered by calibrated score ({}); % is cosine similarity. Models: {}{}.",
                                            r.calibration,
                                            r.text_model,
                                            r.image_model.map(|m| format!(", {m}")).unwrap_or_default(),
                                        )}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}
