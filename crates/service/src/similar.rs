//! Find similar: the cases most similar to a stored case or to an ad-hoc mix of a case, text,
//! images and lab values — the caller's parameters checked, access checked before anything that
//! depends on the caller, the query encoded, the engine searched, and the hits turned into DTOs
//! (another patient's case de-identified, its thumbnail behind a link signed for this viewer);
//! and doctors' relevance judgements of hits.
use crate::{audit, AppState, Search};
use crate::{Caller, ServiceError};
use base64::Engine as _;
use precedent_accounts::{can_read_case, can_review, sees_hit_in_full, Actor};
use precedent_encoders::EncodeError;
use precedent_search::engine::{Query, SearchOptions};
use precedent_search::filter::{imaging, Filter};
use precedent_search::fusion::{Calibration, Channel, Weights};
use precedent_types::dto::{ChannelScoreView, Review, SearchRequest, SimilarHitView, SimilarParams, SimilarResults};
use precedent_types::{CaseId, ImageId, ReviewAction, UserId};
use std::collections::HashMap;

/// At most this many images in one ad-hoc query.
pub const MAX_QUERY_IMAGES: usize = 8;
/// At most this many characters of query text.
pub const MAX_QUERY_TEXT: usize = 20_000;

fn day(s: &str, what: &str) -> Result<i32, ServiceError> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &f)
        .map(|d| d.to_julian_day() - 2_440_588)
        .map_err(|_| ServiceError::Invalid(format!("The {what} date must look like 2026-01-31.")))
}

/// Validated options and filter from the user's parameters.
pub fn options(p: &SimilarParams) -> Result<(SearchOptions, Filter), ServiceError> {
    let k = p.k.unwrap_or(10);
    if !(1..=100).contains(&k) {
        return Err(ServiceError::Invalid("Ask for between 1 and 100 results.".into()));
    }
    let w = |x: Option<f32>, name: &str| -> Result<f32, ServiceError> {
        match x {
            None => Ok(1.0),
            Some(v) if v.is_finite() && (0.0..=100.0).contains(&v) => Ok(v),
            Some(_) => Err(ServiceError::Invalid(format!("The {name} weight must be between 0 and 100."))),
        }
    };
    let weights = Weights { text: w(p.text_weight, "text")?, image: w(p.image_weight, "image")?, labs: w(p.lab_weight, "lab")? };
    if weights.text + weights.image + weights.labs <= 0.0 {
        return Err(ServiceError::Invalid("At least one weight must be above zero.".into()));
    }
    let calibration = match p.calibration.as_deref().map(str::trim) {
        None | Some("") | Some("z_score") => Calibration::ZScore,
        Some("rrf") => Calibration::Rrf,
        Some("raw") => Calibration::Raw,
        Some(other) => return Err(ServiceError::Invalid(format!("Unknown calibration “{other}” (z_score, rrf or raw)."))),
    };
    let filter = Filter {
        validated_only: p.validated_only,
        imaging: p.modality.map_or(0, imaging::bit),
        body_region: p.body_region.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_lowercase),
        from_day: p.from.as_deref().filter(|s| !s.trim().is_empty()).map(|s| day(s, "from")).transpose()?,
        to_day: p.to.as_deref().filter(|s| !s.trim().is_empty()).map(|s| day(s, "to")).transpose()?,
        audience: None,
        cases: None,
    };
    if let (Some(a), Some(b)) = (filter.from_day, filter.to_day) {
        if a > b {
            return Err(ServiceError::Invalid("The from date is after the to date.".into()));
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

/// What a caller may meet as hits. Staff search every case. A patient never receives anything
/// derived from another patient's case: their hits come only from their own cases and from
/// library cases marked shareable (teaching libraries), and the filters that would probe the
/// rest of the corpus (creation date, diagnosis text, raw calibration) are refused outright.
fn scope_for(actor: &Actor, p: &SimilarParams, filter: &mut Filter) -> Result<(), ServiceError> {
    if actor.role.is_staff() {
        return Ok(());
    }
    let set = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.trim().is_empty());
    let staff_only = [
        (set(&p.from) || set(&p.to), "date"),
        (set(&p.diagnosis), "diagnosis"),
        (p.calibration.as_deref().is_some_and(|c| !matches!(c.trim(), "" | "z_score")), "calibration"),
    ];
    if let Some((_, what)) = staff_only.iter().find(|(asked, _)| *asked) {
        return Err(ServiceError::Invalid(format!("Filtering by {what} is for clinicians; patients search their own cases and the teaching library.")));
    }
    filter.audience = Some(actor.id.0);
    Ok(())
}

/// What one hit may show the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disclosure {
    /// Staff, or the caller's own case: everything, linked.
    Full,
    /// A shareable library case shown to a patient: its teaching content (title, diagnosis,
    /// region, the scores) and a thumbnail by a signed link; no demographics, no ids of images.
    Teaching,
}

/// How much of the case owned by `owner` (shareable or not) the caller may see as a hit;
/// `None`: nothing (the engine's filter already keeps such cases out; this is the second lock).
pub(crate) fn disclosure(actor: &Actor, owner: UserId, shareable: bool) -> Option<Disclosure> {
    if sees_hit_in_full(actor, owner) {
        Some(Disclosure::Full)
    } else if shareable {
        Some(Disclosure::Teaching)
    } else {
        None
    }
}

/// Narrows `filter` to cases whose diagnosis contains the asked-for term, if any.
async fn diagnosis_filter(st: &AppState, p: &SimilarParams, filter: &mut Filter) -> Result<(), ServiceError> {
    let Some(term) = p.diagnosis.as_deref().map(str::trim).filter(|t| !t.is_empty()) else { return Ok(()) };
    if term.chars().count() > 200 {
        return Err(ServiceError::Invalid("The diagnosis filter is too long (at most 200 characters).".into()));
    }
    let ids = precedent_store::index_feed::cases_with_diagnosis(&st.pool, term).await?;
    filter.cases = Some(std::sync::Arc::new(ids.into_iter().collect()));
    Ok(())
}

/// Similar cases to the stored case `case_id`, if `actor` may read it.
pub async fn similar_to_case(c: &Caller, case_id: i64, p: &SimilarParams) -> Result<SimilarResults, ServiceError> {
    crate::quota::search(c)?;
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    let (opt, mut filter) = options(p)?;
    let search = st.search()?;
    // Who may see the case first; only then anything that reads the library for this caller.
    readable_case(st, actor, case_id, &ip).await?;
    scope_for(&actor, p, &mut filter)?;
    diagnosis_filter(st, p, &mut filter).await?;
    let engine = search.similarity.engine();
    let started = std::time::Instant::now();
    let query = match engine.query_for_case(case_id) {
        Some(q) if p.refine && can_review(&actor) => Some(refined(st, &engine, actor, case_id, q).await?),
        q => q,
    };
    let pending = query.as_ref().is_none_or(|q| q.text.is_none() && q.images.is_empty() && q.labs.is_none());
    let results = run(st, search, actor, Some(case_id), query.unwrap_or_default(), &opt, &filter, pending, started).await?;
    crate::audit_detail(&st.pool, Some(actor), "case.similar", Some(("case", case_id)), ip, "ok", shown(&results)).await?;
    Ok(results)
}

/// The audit detail of an answer: which cases it showed.
fn shown(r: &SimilarResults) -> serde_json::Value {
    serde_json::json!({ "shown": r.hits.iter().map(|h| h.case.0).collect::<Vec<_>>() })
}

/// `q` moved by the caller's own relevance marks on hits of `case_id` (Rocchio, per modality).
async fn refined(st: &AppState, engine: &precedent_search::engine::Engine, actor: Actor, case_id: i64, q: Query) -> Result<Query, ServiceError> {
    let marks = precedent_store::index_feed::judgements_by(&st.pool, case_id, actor.id).await?;
    let examples = |want: bool| marks.iter().filter(|(_, r)| *r == want).filter_map(|(id, _)| engine.case(*id)).collect::<Vec<_>>();
    Ok(precedent_search::refine::refine(&q, &examples(true), &examples(false)))
}

/// Records a doctor's relevance judgement of a hit.
pub async fn judge(c: &Caller, query: i64, hit: i64, relevant: bool) -> Result<(), ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    if !can_review(&actor) {
        audit(&st.pool, Some(actor), "similar.judge", Some(("case", query)), ip, "denied").await?;
        return Err(ServiceError::Forbidden);
    }
    if query == hit {
        return Err(ServiceError::Invalid("A case cannot be judged as a result for itself.".into()));
    }
    for id in [query, hit] {
        if precedent_store::cases::owner_of(&st.pool, CaseId(id)).await?.is_none() {
            return Err(ServiceError::NotFound);
        }
    }
    precedent_store::index_feed::judge(&st.pool, query, hit, actor.id, relevant).await?;
    audit(&st.pool, Some(actor), "similar.judge", Some(("case", query)), ip, "ok").await?;
    Ok(())
}

/// The owner of `case_id` if `actor` may read it; "not found" otherwise (ids cannot be probed).
pub(crate) async fn readable_case(st: &AppState, actor: Actor, case_id: i64, ip: &Option<String>) -> Result<UserId, ServiceError> {
    match precedent_store::cases::owner_of(&st.pool, CaseId(case_id)).await? {
        Some(owner) if can_read_case(&actor, owner) => Ok(owner),
        Some(_) => {
            audit(&st.pool, Some(actor), "case.similar", Some(("case", case_id)), ip.clone(), "denied").await?;
            Err(ServiceError::NotFound)
        }
        None => Err(ServiceError::NotFound),
    }
}

/// A lab profile from values typed one per line, each with a reference range or a flag.
pub fn typed_labs(text: &str) -> Result<precedent_search::labprofile::LabProfile, ServiceError> {
    if text.chars().count() > 5000 {
        return Err(ServiceError::Invalid("Too many lab values (at most 5000 characters).".into()));
    }
    let mut rows = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parsed = precedent_labs::parse_text(line);
        let Some(row) = parsed.rows.first() else {
            return Err(ServiceError::Invalid(format!("“{line}” is not a lab value (e.g. “CRP 85 mg/L 0 - 5” or “WBC 14.2 H”).")));
        };
        let v = precedent_labs::normalise(row);
        let Some(id) = v.analyte_id.clone() else {
            return Err(ServiceError::Invalid(format!("“{}” is not an analyte Precedent knows.", v.printed_name)));
        };
        let has_range = v.canonical_low.is_some() || v.canonical_high.is_some();
        if !has_range && v.flag.is_none() && v.text_value.is_none() {
            return Err(ServiceError::Invalid(format!("Give “{line}” its reference range or a flag (H or L).")));
        }
        rows.push(precedent_store::index_feed::LabRow {
            case_id: 0,
            analyte_id: id,
            value: v.canonical_value.or(v.value.filter(|_| !has_range)),
            low: v.canonical_low,
            high: v.canonical_high,
            flag: v.flag,
            text_value: v.text_value.clone(),
        });
    }
    match precedent_similarity::lab_profile(&rows) {
        Some(p) if p.len() >= precedent_search::labprofile::MIN_SHARED => Ok(p),
        _ => Err(ServiceError::Invalid(format!("Give at least {} lab values to compare.", precedent_search::labprofile::MIN_SHARED))),
    }
}

/// An ad-hoc query: any mix of a stored case, free text and images.
pub async fn search(c: &Caller, req: SearchRequest) -> Result<SimilarResults, ServiceError> {
    crate::quota::search(c)?;
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    let (opt, mut filter) = options(&req.params)?;
    scope_for(&actor, &req.params, &mut filter)?;
    diagnosis_filter(st, &req.params, &mut filter).await?;
    let search = st.search()?;
    let text = req.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string);
    if text.as_ref().is_some_and(|t| t.chars().count() > MAX_QUERY_TEXT) {
        return Err(ServiceError::Invalid(format!("The query text is too long (at most {MAX_QUERY_TEXT} characters).")));
    }
    if req.images_base64.len() + req.image_tokens.len() > MAX_QUERY_IMAGES {
        return Err(ServiceError::Invalid(format!("At most {MAX_QUERY_IMAGES} images per query.")));
    }
    let labs = match req.labs.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => Some(typed_labs(l)?),
        None => None,
    };
    if req.case_id.is_none() && text.is_none() && req.images_base64.is_empty() && req.image_tokens.is_empty() && labs.is_none() {
        return Err(ServiceError::Invalid("Give a case, some text, an image or lab values to search with.".into()));
    }
    let limit = (st.limits.max_file_mb * 1024 * 1024) as usize;
    let mut images = Vec::with_capacity(req.images_base64.len());
    for (i, b64) in req.images_base64.iter().enumerate() {
        if b64.len() > limit / 3 * 4 + 8 {
            return Err(ServiceError::Invalid(format!("Image {} is too large (the limit is {} MB).", i + 1, st.limits.max_file_mb)));
        }
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|_| ServiceError::Invalid(format!("Image {} is not valid base64.", i + 1)))?;
        images.push(bytes);
    }
    for token in &req.image_tokens {
        match precedent_store::uploads::image(&st.pool, token.trim(), actor.id).await? {
            Some(bytes) => images.push(bytes),
            None => return Err(ServiceError::Invalid("An uploaded image is no longer available (uploads are kept for an hour); add it again.".into())),
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
    /// The text vector and one vector per image, or which input failed and why.
    type Encoded = Result<(Option<Vec<f32>>, Vec<Vec<f32>>), (usize, EncodeError)>;
    let anything_to_encode = text.is_some() || !images.is_empty();
    let work = move || -> Encoded {
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
    };
    // Encoding runs behind the process's encode gate (429 "busy" when its queue is too long);
    // a query with nothing to encode does not queue.
    let encoded = if anything_to_encode { st.encode_gate.run(work).await? } else { work() };
    let (text_vec, image_vecs) = match encoded {
        Ok(v) => v,
        Err((i, EncodeError::Image(reason))) if i > 0 => {
            return Err(ServiceError::Invalid(format!("Image {i} could not be read as a scan: {reason}")));
        }
        Err((_, e)) => {
            tracing::error!(error = %e, "query encoding failed");
            return Err(ServiceError::Internal);
        }
    };
    if text_vec.is_some() {
        query.text = text_vec;
    }
    query.images.extend(image_vecs.into_iter().map(|v| (None, v)));
    if labs.is_some() {
        query.labs = labs;
    }
    let pending = query.text.is_none() && query.images.is_empty() && query.labs.is_none();
    // Staff also get decision support for the query (never patients: see crate::suggest).
    let for_suggestions = (actor.role.is_staff() && !pending).then(|| query.clone());
    let mut results = run(st, search, actor, req.case_id.map(|c| c.0), query, &opt, &filter, pending, started).await?;
    if let Some(q) = for_suggestions {
        let modalities = match req.case_id {
            Some(id) => precedent_store::evidence::rows(&st.pool, &[id.0]).await?.pop().map(|r| r.modalities).unwrap_or_default(),
            None => Vec::new(),
        };
        results.suggestions = Some(crate::suggest::for_query(st, &engine, &q, modalities).await?);
    }
    crate::audit_detail(&st.pool, Some(actor), "search", req.case_id.map(|c| ("case", c.0)), ip, "ok", shown(&results)).await?;
    Ok(results)
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
) -> Result<SimilarResults, ServiceError> {
    let engine = search.similarity.engine();
    let mut query_channels = Vec::new();
    if query.text.is_some() {
        query_channels.push(Channel::Text);
    }
    if !query.images.is_empty() {
        query_channels.push(Channel::Image);
    }
    if query.labs.as_ref().is_some_and(|l| l.len() >= precedent_search::labprofile::MIN_SHARED) {
        query_channels.push(Channel::Labs);
    }
    let hits = if pending { Vec::new() } else { engine.search(&query, filter, opt) };
    let ids: Vec<i64> = hits.iter().map(|h| h.case).collect();
    let rows: HashMap<i64, precedent_store::index_feed::HitCase> =
        precedent_store::index_feed::hit_cases(&st.pool, &ids).await?.into_iter().map(|r| (r.id, r)).collect();
    let can_judge = can_review(&actor) && query_case.is_some();
    let judged: HashMap<i64, bool> = match query_case {
        Some(q) if can_judge => precedent_store::index_feed::judgements_by(&st.pool, q, actor.id).await?.into_iter().collect(),
        _ => HashMap::new(),
    };
    let thumbs_expire = time::OffsetDateTime::now_utc().unix_timestamp() + crate::thumbs::SIGNED_THUMB_SECS;
    let views = hits
        .into_iter()
        .filter_map(|h| {
            // A case deleted since the index last heard of it is simply skipped.
            let r = rows.get(&h.case)?;
            let shown = disclosure(&actor, r.owner_id, r.shareable)?;
            let full = shown == Disclosure::Full;
            let image = h.channels.iter().find(|c| c.channel == Channel::Image);
            let matched = image.and_then(|c| c.hit_item).map(ImageId);
            Some(SimilarHitView {
                case: CaseId(h.case),
                title: r.title.clone(),
                diagnosis: r.diagnosis.clone(),
                review: match r.review {
                    Some(ReviewAction::Validate) => Review::Validated,
                    Some(ReviewAction::Correct) => Review::Corrected,
                    None => Review::Unreviewed,
                },
                age_band: if full { age_band(r.age_years) } else { None },
                sex: if full { r.sex.clone() } else { None },
                body_region: r.body_region.clone(),
                match_pct: h.cosine * 100.0,
                score: h.fused,
                channels: h.channels.iter().map(|c| ChannelScoreView { channel: c.channel, pct: c.cosine * 100.0, weight: c.weight }).collect(),
                query_image: image.and_then(|c| c.query_item).map(ImageId),
                matched_image: if full { matched } else { None },
                // Images are only linked where the caller may fetch them.
                thumbnail: if full { matched.or(r.first_image) } else { None },
                thumb_url: matched.or(r.first_image).map(|img| {
                    if full {
                        format!("/media/images/{}/thumb", img.0)
                    } else {
                        crate::thumbs::signed_thumb_url(&st.media_key, img.0, actor.id.0, thumbs_expire)
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
        suggestions: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use precedent_types::Modality;

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
            assert!(matches!(options(&bad), Err(ServiceError::Invalid(_))), "{bad:?}");
        }
        let (_, f) = options(&SimilarParams {
            modality: Some(Modality::Ct),
            body_region: Some(" Chest ".into()),
            from: Some("1970-01-02".into()),
            validated_only: true,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            f,
            Filter {
                validated_only: true,
                imaging: imaging::CT,
                body_region: Some("chest".into()),
                from_day: Some(1),
                to_day: None,
                audience: None,
                cases: None
            }
        );
    }

    #[test]
    fn age_bands() {
        assert_eq!(age_band(Some(47)).as_deref(), Some("40–49"));
        assert_eq!(age_band(Some(3)).as_deref(), Some("0–9"));
        assert_eq!(age_band(Some(91)).as_deref(), Some("80+"));
        assert_eq!(age_band(None), None);
    }
}
