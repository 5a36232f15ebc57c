//! The advanced search page (`/search`). The form posts; the server keeps the query under an
//! opaque id and the page's URL carries only `?s=<id>` (what was typed — symptoms, lab values —
//! never sits in a URL, browser history or a log). Links that name a case (`?case=12`) still
//! work. The results render on the server and can be re-ordered for display.
use super::drop_zone::QueryImages;
use super::{saved_search, search_cases, HitCard};
use crate::dto::{Review, SearchRequest, SimilarHitView, SimilarParams, SimilarResults};
use crate::error::AppError;
use leptos::prelude::*;
use precedent_types::Channel;

/// A search's fields, in the order the form sent them.
#[derive(Debug, Clone, Default, PartialEq)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, k: &str) -> Option<String> {
        self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    fn value(&self, k: &str) -> String {
        self.get(k).unwrap_or_default()
    }

    fn all(&self, k: &str) -> Vec<String> {
        self.0.iter().filter(|(key, _)| key == k).map(|(_, v)| v.trim().to_string()).collect()
    }
}

/// The query a search's fields describe, or `None` when they hold nothing to search with.
fn request_from(f: &Fields) -> Option<SearchRequest> {
    let case_id = f.get("case").and_then(|v| v.parse::<i64>().ok()).map(precedent_types::CaseId);
    let text = f.get("text");
    let image_tokens = image_tokens(f);
    let labs = f.get("labs");
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
            k: f.get("k").and_then(|v| v.parse().ok()),
            text_weight: f.get("tw").and_then(|v| v.parse().ok()),
            image_weight: f.get("iw").and_then(|v| v.parse().ok()),
            lab_weight: f.get("lw").and_then(|v| v.parse().ok()),
            validated_only: f.get("validated").is_some(),
            modality: f.get("modality").and_then(|v| v.parse().ok()),
            body_region: f.get("region"),
            from: f.get("from"),
            to: f.get("to"),
            calibration: None,
            diagnosis: f.get("dx"),
            // Refining needs a stored query case's marks: the case page's panel.
            refine: false,
        },
    })
}

/// The uploaded query images a search names (`img=token`, repeated).
fn image_tokens(f: &Fields) -> Vec<String> {
    f.all("img").into_iter().filter(|t| !t.is_empty() && t.len() <= 64 && t.chars().all(|c| c.is_ascii_alphanumeric())).collect()
}

/// The fields of the page's search: the caller's saved query (`?s=<id>`), else the URL's own
/// (`?case=12` links), and its results.
async fn load(url: Vec<(String, String)>) -> Result<(Vec<(String, String)>, Result<Option<SimilarResults>, AppError>), AppError> {
    let fields = match url.iter().find(|(k, _)| k == "s").map(|(_, v)| v.clone()) {
        Some(id) => saved_search(id).await?,
        None => url,
    };
    let results = match request_from(&Fields(fields.clone())) {
        Some(r) => search_cases(r).await.map(Some),
        None => Ok(None),
    };
    Ok((fields, results))
}

/// Advanced search: by case id, free text and/or uploaded images, with a weight per modality, filters and top-k.
#[component]
pub fn SearchPage() -> impl IntoView {
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    let data = Resource::new(move || query.read().clone().into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Vec<_>>(), load);
    let auth = use_context::<crate::AuthContext>();
    view! {
        <section>
            <div class="page-head">
                <h1>"Search similar cases"</h1>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => {
                            view! {
                                <SearchForm fields=Fields::default() auth />
                                <p class="form-error" role="alert">
                                    {if e == AppError::NotFound { "This search is not available (searches are kept for their author, 30 days).".to_string() } else { e.to_string() }}
                                </p>
                            }
                                .into_any()
                        }
                        Ok((fields, results)) => {
                            let fields = Fields(fields);
                            let sort = fields.get("sort").unwrap_or_else(|| "score".into());
                            view! {
                                <SearchForm fields auth />
                                <Results results sort />
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// The search form, filled with `fields` (as attributes and text, so the server-rendered page
/// shows them before hydration). It posts: the server keeps the query and answers with the page
/// for its id.
#[component]
fn SearchForm(fields: Fields, auth: Option<crate::AuthContext>) -> impl IntoView {
    let f = fields.clone();
    let field = move |k: &str| f.value(k);
    let weight = {
        let f = fields.clone();
        move |k: &str| f.get(k).unwrap_or_else(|| "50".into())
    };
    let selected = {
        let f = fields.clone();
        move |k: &str, v: &str| f.get(k).as_deref() == Some(v)
    };
    let (from, to, dx) = (field("from"), field("to"), field("dx"));
    view! {
        <form method="post" action="/search" class="panel search-form">
            <div class="row">
                <label>"Case number"<input type="number" name="case" min="1" value=field("case") placeholder="e.g. 12" /></label>
                <label>"Symptoms, findings (free text)"<textarea name="text" rows="2">{field("text")}</textarea></label>
            </div>
            <QueryImages initial=image_tokens(&fields) />
            <label>
                "Lab values, one per line with its range or flag (e.g. “CRP 85 mg/L 0 - 5”, “WBC 14.2 H”)"
                <textarea name="labs" rows="3" placeholder="CRP 85 mg/L 0 - 5">{field("labs")}</textarea>
            </label>
            <div class="row">
                <label>"Text weight"<input type="number" name="tw" min="0" max="100" step="5" value=weight("tw") /></label>
                <label>"Image weight"<input type="number" name="iw" min="0" max="100" step="5" value=weight("iw") /></label>
                <label>"Lab weight"<input type="number" name="lw" min="0" max="100" step="5" value=weight("lw") /></label>
                <label>
                    "Results" <select name="k">
                        <option value="10" selected=selected("k", "10")>"10"</option>
                        <option value="20" selected=selected("k", "20")>"20"</option>
                        <option value="50" selected=selected("k", "50")>"50"</option>
                    </select>
                </label>
                <label>
                    "Sort by" <select name="sort">
                        <option value="score" selected=selected("sort", "score")>"Best match"</option>
                        <option value="text" selected=selected("sort", "text")>"Text similarity"</option>
                        <option value="image" selected=selected("sort", "image")>"Image similarity"</option>
                        <option value="reviewed" selected=selected("sort", "reviewed")>"Reviewed first"</option>
                    </select>
                </label>
            </div>
            <div class="row">
                <label>
                    "Scan type" <select name="modality">
                        <option value="">"Any"</option>
                        <option value="xray" selected=selected("modality", "xray")>"X-ray"</option>
                        <option value="ct" selected=selected("modality", "ct")>"CT"</option>
                        <option value="mr" selected=selected("modality", "mr")>"MRI"</option>
                    </select>
                </label>
                <label>"Body region"<input type="text" name="region" value=field("region") placeholder="e.g. Thorax" /></label>
                // The filters that would probe other patients' cases are the clinicians'
                // (the server refuses them for patients): shown to staff only.
                <Suspense fallback=|| ()>
                    {move || {
                        let (from, to, dx) = (from.clone(), to.clone(), dx.clone());
                        Suspend::new(async move {
                            let staff = match auth {
                                Some(a) => matches!(a.user.await, Ok(Some(u)) if u.role.is_staff()),
                                None => false,
                            };
                            staff
                                .then(|| {
                                    view! {
                                        <label>"From"<input type="date" name="from" value=from /></label>
                                        <label>"To"<input type="date" name="to" value=to /></label>
                                        <label>"Diagnosis contains"<input type="text" name="dx" value=dx placeholder="e.g. pneumonia" /></label>
                                    }
                                })
                        })
                    }}
                </Suspense>
                <label class="check">
                    <input type="checkbox" name="validated" value="1" checked=fields.get("validated").is_some() />
                    " Validated only"
                </label>
            </div>
            <button type="submit" class="button primary">
                "Search"
            </button>
        </form>
    }
}

/// A search's outcome, its hits ordered by `sort`.
#[component]
fn Results(results: Result<Option<SimilarResults>, AppError>, sort: String) -> impl IntoView {
    match results {
        Ok(None) => view! { <p class="muted">"Enter a case number, some text, images and/or lab values, then search."</p> }.into_any(),
        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
        Ok(Some(r)) if r.pending => view! { <p class="muted">"That case is still being indexed; try again shortly."</p> }.into_any(),
        Ok(Some(r)) if r.hits.is_empty() => view! { <p class="empty">"No similar cases match these filters."</p> }.into_any(),
        Ok(Some(mut r)) => {
            sort_hits(&mut r.hits, &sort);
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
