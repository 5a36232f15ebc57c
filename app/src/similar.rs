//! "Find similar": the similar-cases panel of the case page and the server functions behind it
//! and behind ad-hoc search. The logic lives in [`service`], shared with `/api/v1`.
use crate::dto::{Review, SearchRequest, SimilarHitView, SimilarParams, SimilarResults};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_router::components::A;

/// Similar cases to a stored case.
#[server(endpoint = "find_similar", input = Json)]
pub async fn find_similar(case_id: i64, params: SimilarParams) -> Result<SimilarResults, AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::similar_to_case(&st, actor, case_id, &params, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// Similar cases to an ad-hoc query (a case, text and/or images).
#[server(endpoint = "search_cases", input = Json)]
pub async fn search_cases(req: SearchRequest) -> Result<SimilarResults, AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::search(&st, actor, req, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

/// Marks `hit_case` as a relevant (or not relevant) result for `query_case` (doctors only).
#[server(endpoint = "judge_hit")]
pub async fn judge_hit(query_case: i64, hit_case: i64, relevant: bool) -> Result<(), AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::judge(&st, actor, query_case, hit_case, relevant, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

#[cfg(feature = "ssr")]
pub mod service {
    use crate::dto::{ChannelScoreView, Review, SearchRequest, SimilarHitView, SimilarParams, SimilarResults};
    use crate::error::AppError;
    use crate::ssr::{audit, AppState, Search};
    use base64::Engine as _;
    use precedent_accounts::{can_read_case, can_review, sees_hit_in_full, Actor};
    use precedent_search::engine::{imaging, Calibration, Channel, Filter, Query, SearchOptions, Weights};
    use precedent_search::SearchError;
    use precedent_types::{CaseId, ImageId, Modality, UserId};
    use std::collections::HashMap;

    /// At most this many images in one ad-hoc query.
    pub const MAX_QUERY_IMAGES: usize = 8;
    /// At most this many characters of query text.
    pub const MAX_QUERY_TEXT: usize = 20_000;

    fn day(s: &str, what: &str) -> Result<i32, AppError> {
        let f = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(s.trim(), &f)
            .map(|d| d.to_julian_day() - 2_440_588)
            .map_err(|_| AppError::Invalid(format!("The {what} date must look like 2026-01-31.")))
    }

    /// Validated options and filter from the user's parameters.
    pub fn options(p: &SimilarParams) -> Result<(SearchOptions, Filter), AppError> {
        let k = p.k.unwrap_or(10);
        if !(1..=100).contains(&k) {
            return Err(AppError::Invalid("Ask for between 1 and 100 results.".into()));
        }
        let w = |x: Option<f32>, name: &str| -> Result<f32, AppError> {
            match x {
                None => Ok(1.0),
                Some(v) if v.is_finite() && (0.0..=100.0).contains(&v) => Ok(v),
                Some(_) => Err(AppError::Invalid(format!("The {name} weight must be between 0 and 100."))),
            }
        };
        let weights = Weights { text: w(p.text_weight, "text")?, image: w(p.image_weight, "image")?, labs: w(p.lab_weight, "lab")? };
        if weights.text + weights.image + weights.labs <= 0.0 {
            return Err(AppError::Invalid("At least one weight must be above zero.".into()));
        }
        let calibration = match p.calibration.as_deref().map(str::trim) {
            None | Some("") | Some("z_score") => Calibration::ZScore,
            Some("rrf") => Calibration::Rrf,
            Some("raw") => Calibration::Raw,
            Some(other) => return Err(AppError::Invalid(format!("Unknown calibration “{other}” (z_score, rrf or raw)."))),
        };
        let filter = Filter {
            validated_only: p.validated_only,
            imaging: match p.modality {
                None => 0,
                Some(Modality::Xray) => imaging::XRAY,
                Some(Modality::Ct) => imaging::CT,
                Some(Modality::Mr) => imaging::MR,
                Some(Modality::Other) => imaging::OTHER,
            },
            body_region: p.body_region.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_lowercase),
            from_day: p.from.as_deref().filter(|s| !s.trim().is_empty()).map(|s| day(s, "from")).transpose()?,
            to_day: p.to.as_deref().filter(|s| !s.trim().is_empty()).map(|s| day(s, "to")).transpose()?,
            cases: None,
        };
        if let (Some(a), Some(b)) = (filter.from_day, filter.to_day) {
            if a > b {
                return Err(AppError::Invalid("The from date is after the to date.".into()));
            }
        }
        Ok((SearchOptions { k: k as usize, weights, calibration, ..SearchOptions::default() }, filter))
    }

    fn calibration_name(c: Calibration) -> &'static str {
        match c {
            Calibration::ZScore => "z_score",
            Calibration::Rrf => "rrf",
            Calibration::Raw => "raw",
        }
    }

    /// "40–49", "80+".
    pub fn age_band(age: Option<i32>) -> Option<String> {
        let a = age?;
        Some(if a >= 80 { "80+".into() } else { format!("{}–{}", a / 10 * 10, a / 10 * 10 + 9) })
    }

    /// Narrows `filter` to cases whose diagnosis contains the asked-for term, if any.
    async fn diagnosis_filter(st: &AppState, p: &SimilarParams, filter: &mut Filter) -> Result<(), AppError> {
        let Some(term) = p.diagnosis.as_deref().map(str::trim).filter(|t| !t.is_empty()) else { return Ok(()) };
        if term.chars().count() > 200 {
            return Err(AppError::Invalid("The diagnosis filter is too long (at most 200 characters).".into()));
        }
        let ids = precedent_store::search::cases_with_diagnosis(&st.pool, term).await?;
        filter.cases = Some(std::sync::Arc::new(ids.into_iter().collect()));
        Ok(())
    }

    /// Similar cases to the stored case `case_id`, if `actor` may read it.
    pub async fn similar_to_case(st: &AppState, actor: Actor, case_id: i64, p: &SimilarParams, ip: Option<String>) -> Result<SimilarResults, AppError> {
        let (opt, mut filter) = options(p)?;
        diagnosis_filter(st, p, &mut filter).await?;
        let search = st.search()?;
        readable_case(st, actor, case_id, &ip).await?;
        let engine = search.similarity.engine();
        let started = std::time::Instant::now();
        let query = engine.query_for_case(case_id);
        let pending = query.as_ref().is_none_or(|q| q.text.is_none() && q.images.is_empty() && q.labs.is_none());
        audit(&st.pool, Some(actor), "case.similar", Some(("case", case_id)), ip, "ok").await?;
        run(st, search, actor, Some(case_id), query.unwrap_or_default(), &opt, &filter, pending, started).await
    }

    /// Records a doctor's relevance judgement of a hit.
    pub async fn judge(st: &AppState, actor: Actor, query: i64, hit: i64, relevant: bool, ip: Option<String>) -> Result<(), AppError> {
        if !can_review(&actor) {
            audit(&st.pool, Some(actor), "similar.judge", Some(("case", query)), ip, "denied").await?;
            return Err(AppError::Forbidden);
        }
        if query == hit {
            return Err(AppError::Invalid("A case cannot be judged as a result for itself.".into()));
        }
        for id in [query, hit] {
            if precedent_store::cases::owner_of(&st.pool, CaseId(id)).await?.is_none() {
                return Err(AppError::NotFound);
            }
        }
        precedent_store::search::judge(&st.pool, query, hit, actor.id.0, relevant).await?;
        audit(&st.pool, Some(actor), "similar.judge", Some(("case", query)), ip, "ok").await?;
        Ok(())
    }

    /// The owner of `case_id` if `actor` may read it; "not found" otherwise (ids cannot be probed).
    async fn readable_case(st: &AppState, actor: Actor, case_id: i64, ip: &Option<String>) -> Result<UserId, AppError> {
        match precedent_store::cases::owner_of(&st.pool, CaseId(case_id)).await? {
            Some(owner) if can_read_case(&actor, owner) => Ok(owner),
            Some(_) => {
                audit(&st.pool, Some(actor), "case.similar", Some(("case", case_id)), ip.clone(), "denied").await?;
                Err(AppError::NotFound)
            }
            None => Err(AppError::NotFound),
        }
    }

    /// A lab profile from values typed one per line, each with a reference range or a flag.
    pub fn typed_labs(text: &str) -> Result<precedent_search::labprofile::LabProfile, AppError> {
        if text.chars().count() > 5000 {
            return Err(AppError::Invalid("Too many lab values (at most 5000 characters).".into()));
        }
        let mut rows = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let parsed = precedent_labs::parse_text(line);
            let Some(row) = parsed.rows.first() else {
                return Err(AppError::Invalid(format!("“{line}” is not a lab value (e.g. “CRP 85 mg/L 0 - 5” or “WBC 14.2 H”).")));
            };
            let v = precedent_labs::normalise(row);
            let Some(id) = v.analyte_id.clone() else {
                return Err(AppError::Invalid(format!("“{}” is not an analyte Precedent knows.", v.printed_name)));
            };
            let has_range = v.canonical_low.is_some() || v.canonical_high.is_some();
            if !has_range && v.flag.is_none() && v.text_value.is_none() {
                return Err(AppError::Invalid(format!("Give “{line}” its reference range or a flag (H or L).")));
            }
            rows.push(precedent_store::search::LabRow {
                case_id: 0,
                analyte_id: id,
                value: v.canonical_value.or(v.value.filter(|_| !has_range)),
                low: v.canonical_low,
                high: v.canonical_high,
                flag: v.flag.map(|f| crate::labs::service::flag_name(f).to_string()),
                text_value: v.text_value.clone(),
            });
        }
        match precedent_similarity::lab_profile(&rows) {
            Some(p) if p.len() >= precedent_search::labprofile::MIN_SHARED => Ok(p),
            _ => Err(AppError::Invalid(format!("Give at least {} lab values to compare.", precedent_search::labprofile::MIN_SHARED))),
        }
    }

    /// An ad-hoc query: any mix of a stored case, free text and images.
    pub async fn search(st: &AppState, actor: Actor, req: SearchRequest, ip: Option<String>) -> Result<SimilarResults, AppError> {
        let (opt, mut filter) = options(&req.params)?;
        diagnosis_filter(st, &req.params, &mut filter).await?;
        let search = st.search()?;
        let text = req.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
        if text.as_ref().is_some_and(|t| t.chars().count() > MAX_QUERY_TEXT) {
            return Err(AppError::Invalid(format!("The query text is too long (at most {MAX_QUERY_TEXT} characters).")));
        }
        if req.images_base64.len() + req.image_tokens.len() > MAX_QUERY_IMAGES {
            return Err(AppError::Invalid(format!("At most {MAX_QUERY_IMAGES} images per query.")));
        }
        let labs = match req.labs.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => Some(typed_labs(l)?),
            None => None,
        };
        if req.case_id.is_none() && text.is_none() && req.images_base64.is_empty() && req.image_tokens.is_empty() && labs.is_none() {
            return Err(AppError::Invalid("Give a case, some text, an image or lab values to search with.".into()));
        }
        let limit = (st.limits.max_file_mb * 1024 * 1024) as usize;
        let mut images = Vec::with_capacity(req.images_base64.len());
        for (i, b64) in req.images_base64.iter().enumerate() {
            if b64.len() > limit / 3 * 4 + 8 {
                return Err(AppError::Invalid(format!("Image {} is too large (the limit is {} MB).", i + 1, st.limits.max_file_mb)));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| AppError::Invalid(format!("Image {} is not valid base64.", i + 1)))?;
            images.push(bytes);
        }
        for token in &req.image_tokens {
            match precedent_store::uploads::image(&st.pool, token.trim(), actor.id).await? {
                Some(bytes) => images.push(bytes),
                None => {
                    return Err(AppError::Invalid(
                        "An uploaded image is no longer available (uploads are kept for an hour); add it again.".into(),
                    ))
                }
            }
        }
        let started = std::time::Instant::now();
        let engine = search.similarity.engine();
        let mut query = match req.case_id {
            Some(id) => {
                readable_case(st, actor, id.0, &ip).await?;
                engine.query_for_case(id.0).unwrap_or_else(|| Query { exclude: vec![id.0], ..Query::default() })
            }
            None => Query::default(),
        };
        let enc = search.encoders.get();
        let encoded = tokio::task::spawn_blocking(move || -> Result<(Option<Vec<f32>>, Vec<Vec<f32>>), (usize, SearchError)> {
            let t = match text {
                Some(t) => Some(enc.text.encode(&[t.as_str()]).map_err(|e| (0, e))?.remove(0)),
                None => None,
            };
            let mut vs = Vec::new();
            if let Some(ie) = &enc.image {
                for (i, bytes) in images.iter().enumerate() {
                    vs.push(ie.encode_bytes(bytes).map_err(|e| (i + 1, e))?);
                }
            }
            Ok((t, vs))
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "encoding task failed");
            AppError::Internal
        })?;
        let (text_vec, image_vecs) = match encoded {
            Ok(v) => v,
            Err((i, SearchError::Image(reason))) if i > 0 => {
                return Err(AppError::Invalid(format!("Image {i} could not be read as a scan: {reason}")));
            }
            Err((_, e)) => {
                tracing::error!(error = %e, "query encoding failed");
                return Err(AppError::Internal);
            }
        };
        if text_vec.is_some() {
            query.text = text_vec;
        }
        query.images.extend(image_vecs.into_iter().map(|v| (None, v)));
        if labs.is_some() {
            query.labs = labs;
        }
        audit(&st.pool, Some(actor), "search", req.case_id.map(|c| ("case", c.0)), ip, "ok").await?;
        let pending = query.text.is_none() && query.images.is_empty() && query.labs.is_none();
        run(st, search, actor, req.case_id.map(|c| c.0), query, &opt, &filter, pending, started).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        st: &AppState,
        search: &Search,
        actor: Actor,
        query_case: Option<i64>,
        query: Query,
        opt: &precedent_search::engine::SearchOptions,
        filter: &Filter,
        pending: bool,
        started: std::time::Instant,
    ) -> Result<SimilarResults, AppError> {
        let engine = search.similarity.engine();
        let mut query_channels = Vec::new();
        if query.text.is_some() {
            query_channels.push("text".to_string());
        }
        if !query.images.is_empty() {
            query_channels.push("image".to_string());
        }
        if query.labs.as_ref().is_some_and(|l| l.len() >= precedent_search::labprofile::MIN_SHARED) {
            query_channels.push("labs".to_string());
        }
        let hits = if pending { Vec::new() } else { engine.search(&query, filter, opt) };
        let ids: Vec<i64> = hits.iter().map(|h| h.case).collect();
        let rows: HashMap<i64, precedent_store::search::HitCase> =
            precedent_store::search::hit_cases(&st.pool, &ids).await?.into_iter().map(|r| (r.id, r)).collect();
        let can_judge = can_review(&actor) && query_case.is_some();
        let judged: HashMap<i64, bool> = match query_case {
            Some(q) if can_judge => precedent_store::search::judgements_by(&st.pool, q, actor.id.0).await?.into_iter().collect(),
            _ => HashMap::new(),
        };
        let thumbs_expire = time::OffsetDateTime::now_utc().unix_timestamp() + crate::ssr::SIGNED_THUMB_SECS;
        let views = hits
            .into_iter()
            .filter_map(|h| {
                // A case deleted since the index last heard of it is simply skipped.
                let r = rows.get(&h.case)?;
                let full = sees_hit_in_full(&actor, UserId(r.owner_id));
                let image = h.channels.iter().find(|c| c.channel == Channel::Image);
                let matched = image.and_then(|c| c.hit_item).map(ImageId);
                Some(SimilarHitView {
                    case: CaseId(h.case),
                    title: full.then(|| r.title.clone()),
                    diagnosis: r.diagnosis.clone(),
                    review: match r.review.as_deref() {
                        Some("validate") => Review::Validated,
                        Some("correct") => Review::Corrected,
                        _ => Review::Unreviewed,
                    },
                    age_band: age_band(r.age_years),
                    sex: r.sex.clone(),
                    body_region: r.body_region.clone(),
                    match_pct: h.cosine * 100.0,
                    score: h.fused,
                    channels: h
                        .channels
                        .iter()
                        .map(|c| ChannelScoreView {
                            channel: match c.channel {
                                Channel::Text => "text".into(),
                                Channel::Image => "image".into(),
                                Channel::Labs => "labs".into(),
                            },
                            pct: c.cosine * 100.0,
                            weight: c.weight,
                        })
                        .collect(),
                    query_image: image.and_then(|c| c.query_item).map(ImageId),
                    matched_image: if full { matched } else { None },
                    // Images are only linked where the caller may fetch them.
                    thumbnail: if full { matched.or(r.first_image.map(ImageId)) } else { None },
                    thumb_url: matched.or(r.first_image.map(ImageId)).map(|img| {
                        if full {
                            format!("/media/images/{}/thumb", img.0)
                        } else {
                            crate::ssr::signed_thumb_url(&st.media_key, img.0, actor.id.0, thumbs_expire)
                        }
                    }),
                    deidentified: !full,
                    shared_abnormal: h.shared_abnormal.iter().filter_map(|i| precedent_similarity::analyte_name(*i)).map(str::to_string).collect(),
                    judged: judged.get(&h.case).copied(),
                })
            })
            .collect();
        Ok(SimilarResults {
            hits: views,
            query_channels,
            calibration: calibration_name(opt.calibration).into(),
            text_model: engine.text_model.clone(),
            image_model: engine.image_model.clone(),
            pending,
            can_judge,
            took_ms: started.elapsed().as_secs_f32() * 1000.0,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parameters_are_checked() {
            let (o, f) = options(&SimilarParams::default()).unwrap();
            assert_eq!(o.k, 10);
            assert!(f.is_empty());
            assert_eq!(o.weights, Weights { text: 1.0, image: 1.0, labs: 1.0 });
            for bad in [
                SimilarParams { k: Some(0), ..Default::default() },
                SimilarParams { k: Some(101), ..Default::default() },
                SimilarParams { text_weight: Some(0.0), image_weight: Some(0.0), lab_weight: Some(0.0), ..Default::default() },
                SimilarParams { text_weight: Some(-1.0), ..Default::default() },
                SimilarParams { text_weight: Some(f32::NAN), ..Default::default() },
                SimilarParams { from: Some("31/01/2026".into()), ..Default::default() },
                SimilarParams { from: Some("2026-02-01".into()), to: Some("2026-01-01".into()), ..Default::default() },
                SimilarParams { calibration: Some("magic".into()), ..Default::default() },
            ] {
                assert!(matches!(options(&bad), Err(AppError::Invalid(_))), "{bad:?}");
            }
            let (_, f) = options(&SimilarParams {
                modality: Some(Modality::Ct),
                body_region: Some(" Chest ".into()),
                from: Some("1970-01-02".into()),
                validated_only: true,
                ..Default::default()
            })
            .unwrap();
            assert_eq!(f, Filter { validated_only: true, imaging: imaging::CT, body_region: Some("chest".into()), from_day: Some(1), to_day: None, cases: None });
        }

        #[test]
        fn age_bands() {
            assert_eq!(age_band(Some(47)).as_deref(), Some("40–49"));
            assert_eq!(age_band(Some(3)).as_deref(), Some("0–9"));
            assert_eq!(age_band(Some(91)).as_deref(), Some("80+"));
            assert_eq!(age_band(None), None);
        }
    }
}

fn review_badge(r: Review) -> (&'static str, &'static str) {
    match r {
        Review::Validated => ("badge badge-ok", "validated"),
        Review::Corrected => ("badge badge-warn", "corrected"),
        Review::Unreviewed => ("badge", "unreviewed"),
    }
}

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
    let params = move || SimilarParams {
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
                <input id=id type="range" min="0" max="100" step="5"
                    prop:value=move || value.get().to_string()
                    on:input=move |ev| value.set(event_target_value(&ev).parse().unwrap_or(50))/>
                <span class="slider-value">{move || value.get()}</span>
            </label>
        }
    };
    view! {
        <section class="panel similar" aria-labelledby="similar-title">
            <h2 id="similar-title">"Similar cases"</h2>
            <div class="similar-controls">
                {slider("Text weight", "w-text", text_weight)}
                {slider("Image weight", "w-image", image_weight)}
                {slider("Lab weight", "w-labs", lab_weight)}
                <label class="check"><input type="checkbox" prop:checked=move || validated_only.get()
                    on:change=move |ev| validated_only.set(event_target_checked(&ev))/>" Validated only"</label>
                <label>"Show "
                    <select on:change=move |ev| k.set(event_target_value(&ev).parse().unwrap_or(10))>
                        <option value="5">"5"</option>
                        <option value="10" selected>"10"</option>
                        <option value="20">"20"</option>
                    </select>
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Finding similar cases…"</p> }>
                {move || results.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(r) if r.pending => view! { <p class="muted similar-pending">"This case is still being indexed; similar cases will appear shortly."</p> }.into_any(),
                    Ok(r) if r.hits.is_empty() => view! { <p class="muted">"No similar cases found."</p> }.into_any(),
                    Ok(r) => {
                        let can_judge = r.can_judge;
                        view! {
                        <ol class="similar-hits">
                            {r.hits.into_iter().map(|h| view! { <HitCard hit=h query_case=Some(case_id) can_judge judge=Some(judge)/> }).collect_view()}
                        </ol>
                        <p class="muted small">{format!("Ordered by calibrated score ({}); % is cosine similarity. Models: {}{}.", r.calibration, r.text_model, r.image_model.map(|m| format!(", {m}")).unwrap_or_default())}</p>
                    }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}

/// "Relevant" / "Not relevant" for one hit (doctors); the current judgement is marked.
#[component]
fn JudgeButtons(query: i64, hit: i64, judged: Option<bool>, action: ServerAction<JudgeHit>) -> impl IntoView {
    let button = move |relevant: bool, label: &'static str| {
        let pressed = judged == Some(relevant);
        view! {
            <ActionForm action=action attr:class="inline">
                <input type="hidden" name="query_case" value=query/>
                <input type="hidden" name="hit_case" value=hit/>
                <input type="hidden" name="relevant" value=relevant.to_string()/>
                <button type="submit" class=if pressed { "chip pressed" } else { "chip" } aria-pressed=pressed.to_string()>{label}</button>
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

/// One similar case: thumbnail, % match, title (or "another patient"), review badge, diagnosis,
/// per-modality bars, the matched image pair, and for doctors the relevance buttons.
#[component]
pub fn HitCard(hit: SimilarHitView, query_case: Option<i64>, can_judge: bool, judge: Option<ServerAction<JudgeHit>>) -> impl IntoView {
    let h = hit;
    let (badge_class, badge) = review_badge(h.review);
    let name = h.title.clone().unwrap_or_else(|| "Case from another patient".into());
    let who = [h.age_band.clone(), h.sex.clone(), h.body_region.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    view! {
        <li class="similar-hit" data-case=h.case.0>
            {h.thumb_url.clone().map(|src| view! { <img class="thumb" src=src alt="Best-matching image" loading="lazy"/> })}
            <div class="similar-body">
                <div class="similar-head">
                    <span class="match">{format!("{:.0}%", h.match_pct)}</span>
                    {if h.deidentified {
                        view! { <span class="similar-title">{name}</span> }.into_any()
                    } else {
                        view! { <A href=format!("/cases/{}", h.case.0)><span class="similar-title">{name}</span></A> }.into_any()
                    }}
                    <span class=badge_class>{badge}</span>
                </div>
                <p class="similar-dx">{h.diagnosis.clone().unwrap_or_else(|| "No diagnosis recorded".into())}</p>
                {(!who.is_empty()).then(|| view! { <p class="muted small">{who}</p> })}
                <ul class="bars">
                    {h.channels.into_iter().map(|c| {
                        let w = c.pct.clamp(0.0, 100.0);
                        view! {
                            <li class="bar">
                                <span class="bar-label">{c.channel.clone()}</span>
                                <span class="bar-track"><span class="bar-fill" style=format!("width:{w:.0}%")></span></span>
                                <span class="bar-value">{format!("{:.0}%", c.pct)}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {(!h.shared_abnormal.is_empty()).then(|| view! {
                    <p class="small shared-labs">{format!("Shared abnormal labs: {}", h.shared_abnormal.join(", "))}</p>
                })}
                {match (h.query_image, h.matched_image, h.deidentified) {
                    (Some(q), Some(m), false) => Some(view! {
                        <p class="matched small">
                            <img class="mini" src=format!("/media/images/{}/thumb", q.0) alt="Image of this case"/>
                            " matched "
                            <img class="mini" src=format!("/media/images/{}/thumb", m.0) alt="Image of the similar case"/>
                        </p>
                    }),
                    _ => None,
                }}
                {match (query_case, h.deidentified) {
                    (Some(q), false) => Some(view! {
                        <A href=format!("/compare?a={}&b={}", q, h.case.0) attr:class="small compare-link">"Compare side by side"</A>
                    }),
                    _ => None,
                }}
                {match (query_case, judge) {
                    (Some(q), Some(action)) if can_judge => Some(view! { <JudgeButtons query=q hit=h.case.0 judged=h.judged action/> }),
                    _ => None,
                }}
            </div>
        </li>
    }
}

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

/// Query images on the search page: drop scans or pick files; each is uploaded at once and
/// shown as a preview, and its token joins the form (so the search URL names it).
#[component]
fn QueryImages(initial: Vec<String>) -> impl IntoView {
    use crate::dto::UploadedQueryImage;
    let images = RwSignal::new(
        initial
            .into_iter()
            .map(|t| UploadedQueryImage { thumb: format!("/api/v1/search/images/{t}/thumb"), filename: "uploaded image".into(), token: t })
            .collect::<Vec<_>>(),
    );
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let dragging = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    let add = move |list: Option<web_sys::FileList>| {
        let Some(list) = list else { return };
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        if files.is_empty() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match crate::upload::upload_query_images(files).await {
                Ok(list) => images.update(|v| v.extend(list)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        add(ev.data_transfer().and_then(|d| d.files()));
    };
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            add(input.as_ref().and_then(|i| i.files()));
            if let Some(i) = input {
                i.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <div class="dropzone" class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop>
            <label for="query-images">"Images (PNG or JPEG): drop scans here or choose files"</label>
            <input id="query-images" type="file" accept="image/png,image/jpeg" multiple on:change=on_pick/>
            {move || busy.get().then(|| view! { <p class="muted small" role="status">"Uploading…"</p> })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <ul class="query-images">
                <For each=move || images.get() key=|i| i.token.clone() let:img>
                    <li class="query-image">
                        <img src=img.thumb.clone() alt=format!("Query image {}", img.filename)/>
                        <input type="hidden" name="img" value=img.token.clone()/>
                        <button type="button" class="chip" on:click={
                            let t = img.token.clone();
                            move |_| images.update(|v| v.retain(|i| i.token != t))
                        }>"Remove"</button>
                    </li>
                </For>
            </ul>
        </div>
    }
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
    let weight = move |k: &'static str| move || query.read().get(k).filter(|v| !v.is_empty()).unwrap_or_else(|| "50".into());
    let selected = move |k: &'static str, v: &'static str| move || query.read().get(k).as_deref() == Some(v);
    view! {
        <section>
            <div class="page-head"><h1>"Search similar cases"</h1></div>
            <form method="get" action="/search" class="panel search-form">
                <div class="row">
                    <label>"Case number"<input type="number" name="case" min="1" prop:value=field("case") placeholder="e.g. 12"/></label>
                    <label>"Symptoms, findings (free text)"<textarea name="text" rows="2" prop:value=field("text")></textarea></label>
                </div>
                <QueryImages initial=image_tokens(&query.read_untracked())/>
                <label>"Lab values, one per line with its range or flag (e.g. “CRP 85 mg/L 0 - 5”, “WBC 14.2 H”)"
                    <textarea name="labs" rows="3" prop:value=field("labs") placeholder="CRP 85 mg/L 0 - 5"></textarea></label>
                <div class="row">
                    <label>"Text weight"<input type="number" name="tw" min="0" max="100" step="5" prop:value=weight("tw")/></label>
                    <label>"Image weight"<input type="number" name="iw" min="0" max="100" step="5" prop:value=weight("iw")/></label>
                    <label>"Lab weight"<input type="number" name="lw" min="0" max="100" step="5" prop:value=weight("lw")/></label>
                    <label>"Results"
                        <select name="k">
                            <option value="10" selected=selected("k", "10")>"10"</option>
                            <option value="20" selected=selected("k", "20")>"20"</option>
                            <option value="50" selected=selected("k", "50")>"50"</option>
                        </select>
                    </label>
                    <label>"Sort by"
                        <select name="sort">
                            <option value="score" selected=selected("sort", "score")>"Best match"</option>
                            <option value="text" selected=selected("sort", "text")>"Text similarity"</option>
                            <option value="image" selected=selected("sort", "image")>"Image similarity"</option>
                            <option value="reviewed" selected=selected("sort", "reviewed")>"Reviewed first"</option>
                        </select>
                    </label>
                </div>
                <div class="row">
                    <label>"Scan type"
                        <select name="modality">
                            <option value="">"Any"</option>
                            <option value="xray" selected=selected("modality", "xray")>"X-ray"</option>
                            <option value="ct" selected=selected("modality", "ct")>"CT"</option>
                            <option value="mr" selected=selected("modality", "mr")>"MRI"</option>
                        </select>
                    </label>
                    <label>"Body region"<input type="text" name="region" prop:value=field("region") placeholder="e.g. Thorax"/></label>
                    <label>"From"<input type="date" name="from" prop:value=field("from")/></label>
                    <label>"To"<input type="date" name="to" prop:value=field("to")/></label>
                    <label>"Diagnosis contains"<input type="text" name="dx" prop:value=field("dx") placeholder="e.g. pneumonia"/></label>
                    <label class="check"><input type="checkbox" name="validated" value="1" prop:checked=move || query.read().get("validated").is_some()/>" Validated only"</label>
                </div>
                <button type="submit" class="button primary">"Search"</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">"Searching…"</p> }>
                {move || results.get().map(|r| match r {
                    Ok(None) => view! { <p class="muted">"Enter a case number, some text, images and/or lab values, then search."</p> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(Some(r)) if r.pending => view! { <p class="muted">"That case is still being indexed; try again shortly."</p> }.into_any(),
                    Ok(Some(r)) if r.hits.is_empty() => view! { <p class="empty">"No similar cases match these filters."</p> }.into_any(),
                    Ok(Some(mut r)) => {
                        sort_hits(&mut r.hits, query.read_untracked().get("sort").as_deref().unwrap_or("score"));
                        view! {
                        <p class="muted">{format!("{} result{} · {:.0} ms", r.hits.len(), if r.hits.len() == 1 { "" } else { "s" }, r.took_ms)}</p>
                        <ol class="similar-hits search-results">
                            {r.hits.into_iter().map(|h| view! { <HitCard hit=h query_case=None can_judge=false judge=None/> }).collect_view()}
                        </ol>
                    }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}

/// Orders hits for display: `score` (the fused ranking, as returned), `text` or `image`
/// (that modality's cosine; hits without it last), `reviewed` (validated or corrected first).
pub fn sort_hits(hits: &mut [SimilarHitView], by: &str) {
    let channel = |h: &SimilarHitView, c: &str| h.channels.iter().find(|x| x.channel == c).map(|x| x.pct).unwrap_or(f32::NEG_INFINITY);
    match by {
        "text" | "image" => hits.sort_by(|a, b| channel(b, by).total_cmp(&channel(a, by))),
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
            channels.push(ChannelScoreView { channel: "text".into(), pct: t, weight: 0.5 });
        }
        if let Some(i) = image {
            channels.push(ChannelScoreView { channel: "image".into(), pct: i, weight: 0.5 });
        }
        SimilarHitView {
            case: precedent_types::CaseId(id),
            title: None,
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
