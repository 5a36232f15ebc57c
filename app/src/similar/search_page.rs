//! The advanced search page (`/search`): the query lives in the URL, the results render on the
//! server and can be re-ordered for display.
use super::drop_zone::QueryImages;
use super::{search_cases, HitCard};
use crate::dto::{Review, SearchRequest, SimilarHitView, SimilarParams};
use leptos::prelude::*;
use precedent_types::Channel;

/// The query of the advanced search page, as it lives in the URL (bookmarkable, shareable).
fn request_from_url(q: &leptos_router::params::ParamsMap) -> Option<SearchRequest> {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let case_id = get("case").and_then(|v| v.parse::<i64>().ok()).map(precedent_types::CaseId);
    let text = get("text");
    let image_tokens = image_tokens(q);
    let labs = get("labs");
    if case_id.is_none() && text.is_none() && image_tokens.is_empty() && labs.is_none() {
        return None;
    }
    Some(SearchRequest {
        case_id,
        text,
        images_base64: Vec::new(),
        image_tokens,
        labs,
        params: SimilarParams {
            k: get("k").and_then(|v| v.parse().ok()),
            text_weight: get("tw").and_then(|v| v.parse().ok()),
            image_weight: get("iw").and_then(|v| v.parse().ok()),
            lab_weight: get("lw").and_then(|v| v.parse().ok()),
            validated_only: get("validated").is_some(),
            modality: get("modality").and_then(|v| v.parse().ok()),
            body_region: get("region"),
            from: get("from"),
            to: get("to"),
            calibration: None,
            diagnosis: get("dx"),
            // Refining needs a stored query case's marks: the case page's panel.
            refine: false,
        },
    })
}

/// The uploaded query images a search URL names (`img=token`, repeated).
fn image_tokens(q: &leptos_router::params::ParamsMap) -> Vec<String> {
    q.get_all("img")
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty() && t.len() <= 64 && t.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect()
}

/// Advanced search: by case id, free text and/or uploaded images, with a weight per modality, filters and top-k.
/// The form is a plain GET, so the query is in the URL and the results render on the server.
#[component]
pub fn SearchPage() -> impl IntoView {
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    let request = move || request_from_url(&query.read());
    let results = Resource::new(request, |req| async move {
        match req {
            Some(r) => search_cases(r).await.map(Some),
            None => Ok(None),
        }
    });
    let field = move |k: &'static str| move || query.read().get(k).unwrap_or_default();
    let auth = use_context::<crate::AuthContext>();
    let weight = move |k: &'static str| move || query.read().get(k).filter(|v| !v.is_empty()).unwrap_or_else(|| "50".into());
    let selected = move |k: &'static str, v: &'static str| move || query.read().get(k).as_deref() == Some(v);
    view! {
        <section>
            <div class="page-head">
                <h1>"Search similar cases"</h1>
            </div>
            <form method="get" action="/search" class="panel search-form">
                <div class="row">
                    <label>"Case number"<input type="number" name="case" min="1" prop:value=field("case") placeholder="e.g. 12" /></label>
                    <label>"Symptoms, findings (free text)"<textarea name="text" rows="2" prop:value=field("text")></textarea></label>
                </div>
                <QueryImages initial=image_tokens(&query.read_untracked()) />
                <label>
                    "Lab values, one per line with its range or flag (e.g. “CRP 85 mg/L 0 - 5”, “WBC 14.2 H”)"
                    <textarea name="labs" rows="3" prop:value=field("labs") placeholder="CRP 85 mg/L 0 - 5"></textarea>
                </label>
                <div class="row">
                    <label>"Text weight"<input type="number" name="tw" min="0" max="100" step="5" prop:value=weight("tw") /></label>
                    <label>"Image weight"<input type="number" name="iw" min="0" max="100" step="5" prop:value=weight("iw") /></label>
                    <label>"Lab weight"<input type="number" name="lw" min="0" max="100" step="5" prop:value=weight("lw") /></label>
                    <label>
                        "Results" <select name="k">
                            <option value="10" selected=selected("k", "10")>
                                "10"
                            </option>
                            <option value="20" selected=selected("k", "20")>
                                "20"
                            </option>
                            <option value="50" selected=selected("k", "50")>
                                "50"
                            </option>
                        </select>
                    </label>
                    <label>
                        "Sort by" <select name="sort">
                            <option value="score" selected=selected("sort", "score")>
                                "Best match"
                            </option>
                            <option value="text" selected=selected("sort", "text")>
                                "Text similarity"
                            </option>
                            <option value="image" selected=selected("sort", "image")>
                                "Image similarity"
                            </option>
                            <option value="reviewed" selected=selected("sort", "reviewed")>
                                "Reviewed first"
                            </option>
                        </select>
                    </label>
                </div>
                <div class="row">
                    <label>
                        "Scan type" <select name="modality">
                            <option value="">"Any"</option>
                            <option value="xray" selected=selected("modality", "xray")>
                                "X-ray"
                            </option>
                            <option value="ct" selected=selected("modality", "ct")>
                                "CT"
                            </option>
                            <option value="mr" selected=selected("modality", "mr")>
                                "MRI"
                            </option>
                        </select>
                    </label>
                    <label>"Body region"<input type="text" name="region" prop:value=field("region") placeholder="e.g. Thorax" /></label>
                    // The filters that would probe other patients' cases are the clinicians'
                    // (the server refuses them for patients): shown to staff only.
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let staff = match auth {
                                Some(a) => matches!(a.user.await, Ok(Some(u)) if u.role.is_staff()),
                                None => false,
                            };
                            staff
                                .then(|| {
                                    view! {
                                        <label>"From"<input type="date" name="from" prop:value=field("from") /></label>
                                        <label>"To"<input type="date" name="to" prop:value=field("to") /></label>
                                        <label>
                                            "Diagnosis contains"
                                            <input type="text" name="dx" prop:value=field("dx") placeholder="e.g. pneumonia" />
                                        </label>
                                    }
                                })
                        })}
                    </Suspense>
                    <label class="check">
                        <input type="checkbox" name="validated" value="1" prop:checked=move || query.read().get("validated").is_some() />
                        " Validated only"
                    </label>
                </div>
                <button type="submit" class="button primary">
                    "Search"
                </button>
            </form>
            <Transition fallback=|| {
                view! { <p class="muted">"Searching…"</p> }
            }>
                {move || {
                    results
                        .get()
                        .map(|r| match r {
                            Ok(None) => view! { <p class="muted">"Enter a case number, some text, images and/or lab values, then search."</p> }.into_any(),
                            Err(e) => {
                                view! {
                                    <p class="form-error" role="alert">
                                        {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(Some(r)) if r.pending => view! { <p class="muted">"That case is still being indexed; try again shortly."</p> }.into_any(),
                            Ok(Some(r)) if r.hits.is_empty() => view! { <p class="empty">"No similar cases match these filters."</p> }.into_any(),
                            Ok(Some(mut r)) => {
                                sort_hits(&mut r.hits, query.read_untracked().get("sort").as_deref().unwrap_or("score"));
                                view! {
                                    <p class="muted">{format!("{} result{} · {:.0} ms", r.hits.len(), if r.hits.len() == 1 { "" } else { "s" }, r.took_ms)}</p>
                                    {r
                                        .suggestions
                                        .take()
                                        .map(|s| {
                                            view! {
                                                <section class="panel suggestions" aria-labelledby="suggest-title">
                                                    <h2 id="suggest-title">"Suggestions"</h2>
                                                    <crate::suggest::SuggestionsBody suggestions=s />
                                                </section>
                                            }
                                        })}
                                    <ol class="similar-hits search-results">
                                        {r.hits.into_iter().map(|h| view! { <HitCard hit=h query_case=None can_judge=false judge=None /> }).collect_view()}
                                    </ol>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}

/// Orders hits for display: `score` (the fused ranking, as returned), `text` or `image`
/// (that modality's cosine; hits without it last), `reviewed` (validated or corrected first).
pub fn sort_hits(hits: &mut [SimilarHitView], by: &str) {
    let channel = |h: &SimilarHitView, c: Channel| h.channels.iter().find(|x| x.channel == c).map(|x| x.pct).unwrap_or(f32::NEG_INFINITY);
    match by {
        "text" | "image" => {
            let c = if by == "text" { Channel::Text } else { Channel::Image };
            hits.sort_by(|a, b| channel(b, c).total_cmp(&channel(a, c)))
        }
        "reviewed" => hits.sort_by_key(|h| h.review == Review::Unreviewed),
        _ => {}
    }
}

#[cfg(test)]
mod sort_tests {
    use super::*;
    use crate::dto::ChannelScoreView;

    fn hit(id: i64, review: Review, text: Option<f32>, image: Option<f32>) -> SimilarHitView {
        let mut channels = Vec::new();
        if let Some(t) = text {
            channels.push(ChannelScoreView { channel: Channel::Text, pct: t, weight: 0.5 });
        }
        if let Some(i) = image {
            channels.push(ChannelScoreView { channel: Channel::Image, pct: i, weight: 0.5 });
        }
        SimilarHitView {
            case: precedent_types::CaseId(id),
            title: String::new(),
            diagnosis: None,
            review,
            age_band: None,
            sex: None,
            body_region: None,
            match_pct: 0.0,
            score: 0.0,
            channels,
            query_image: None,
            matched_image: None,
            thumbnail: None,
            thumb_url: None,
            deidentified: false,
            shared_abnormal: Vec::new(),
            judged: None,
        }
    }

    #[test]
    fn hits_sort_by_modality_and_review_stably() {
        let base = vec![
            hit(1, Review::Unreviewed, Some(50.0), Some(90.0)),
            hit(2, Review::Validated, Some(70.0), None),
            hit(3, Review::Corrected, Some(60.0), Some(95.0)),
        ];
        let order = |by: &str| {
            let mut h = base.clone();
            sort_hits(&mut h, by);
            h.iter().map(|h| h.case.0).collect::<Vec<_>>()
        };
        assert_eq!(order("score"), [1, 2, 3]);
        assert_eq!(order("text"), [2, 3, 1]);
        assert_eq!(order("image"), [3, 1, 2]);
        assert_eq!(order("reviewed"), [2, 3, 1]);
    }
}
