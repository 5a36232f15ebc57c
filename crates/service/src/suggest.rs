//! Decision support for a case: its most similar cases that rest on a doctor's validation or
//! correction, or on a teaching library's record, vote through [`precedent_suggest`] for a
//! differential, categories, next tests and a specialist, each linked to its evidence.
//!
//! Staff only: the privacy rule says a patient never learns anything about another patient's
//! case, and a patient's own view of suggestions is the report a doctor releases.
use crate::{audit, Caller, ServiceError};
use precedent_search::engine::SearchOptions;
use precedent_search::filter::Filter;
use precedent_suggest::{Neighbour, Params, QueryFacts};
use precedent_types::dto::SuggestionsView;
use precedent_types::ReviewAction;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Similar cases looked at for evidence (only those with a confirmed diagnosis vote).
const CANDIDATES: usize = 60;

/// The suggestion parameters in use (the shipped `models/suggest.toml`).
pub fn params() -> &'static Params {
    static P: OnceLock<Params> = OnceLock::new();
    P.get_or_init(Params::shipped)
}

fn abnormal(profile: Option<precedent_search::labprofile::LabProfile>) -> Vec<String> {
    profile
        .map(|p| p.0.iter().filter(|(_, d)| *d != 0.0).filter_map(|(i, _)| precedent_similarity::analyte_name(*i)).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Suggestions for the stored case `case_id` (doctors and admins).
pub async fn for_case(c: &Caller, case_id: i64) -> Result<SuggestionsView, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    if !actor.role.is_staff() {
        audit(&st.pool, Some(actor), "case.suggest", Some(("case", case_id)), ip, "denied").await?;
        return Err(ServiceError::Forbidden);
    }
    crate::quota::search(c)?;
    let search = st.search()?;
    crate::similar::readable_case(st, actor, case_id, &ip).await?;
    let engine = search.similarity.engine();
    let Some(query) = engine.query_for_case(case_id) else {
        return Ok(SuggestionsView { abstained: Some("This case is still being indexed; suggestions follow once it is.".into()), ..Default::default() });
    };
    let modalities = precedent_store::evidence::rows(&st.pool, &[case_id]).await?.pop().map(|r| r.modalities).unwrap_or_default();
    let view = for_query(st, &engine, &query, modalities).await?;
    audit(&st.pool, Some(actor), "case.suggest", Some(("case", case_id)), ip, "ok").await?;
    Ok(view)
}

/// Suggestions for any query (a stored case's, or an ad-hoc mix from the search page; the
/// caller has been checked): its `CANDIDATES` most similar cases, those with a confirmed
/// diagnosis as evidence (the query's own case never). `modalities`: what the query has.
pub(crate) async fn for_query(
    st: &crate::AppState,
    engine: &precedent_search::engine::Engine,
    query: &precedent_search::engine::Query,
    modalities: Vec<String>,
) -> Result<SuggestionsView, ServiceError> {
    let hits = engine.search(query, &Filter::default(), &SearchOptions { k: CANDIDATES, ..SearchOptions::default() });
    let ids: Vec<i64> = hits.iter().map(|h| h.case).collect();
    let rows: HashMap<i64, precedent_store::evidence::EvidenceRow> =
        precedent_store::evidence::rows(&st.pool, &ids).await?.into_iter().map(|r| (r.id, r)).collect();
    let mut evidence = Vec::new();
    for h in &hits {
        let Some(r) = rows.get(&h.case) else { continue };
        // Only a diagnosis a doctor confirmed, or a teaching library recorded, is evidence.
        let basis = match r.review {
            Some(ReviewAction::Validate) => "validated",
            Some(ReviewAction::Correct) => "corrected",
            None if r.library => "library",
            None => continue,
        };
        let Some(diagnosis) = r.diagnosis.clone().filter(|d| !d.trim().is_empty()) else { continue };
        let label = |k: &str| r.labels.get(k).cloned().filter(|v| !v.trim().is_empty());
        evidence.push(Neighbour {
            case: h.case,
            title: r.title.clone(),
            score: h.fused,
            diagnosis,
            basis: basis.into(),
            certainty: r.certainty,
            location: r.body_region.clone().filter(|b| !b.trim().is_empty()).or_else(|| label("location")),
            topic: label("topic"),
            disease_class: label("disease_class").and_then(|d| d.parse().ok()),
            diagnosed_by: label("diagnosis_by"),
            specialist: r.specialist.clone().filter(|s| !s.trim().is_empty()),
            modalities: r.modalities.clone(),
            abnormal_labs: abnormal(engine.labs_of(h.case)),
        });
    }
    let facts = QueryFacts {
        modalities,
        measured_labs: query
            .labs
            .as_ref()
            .map(|p| p.0.iter().filter_map(|(i, _)| precedent_similarity::analyte_name(*i)).map(str::to_string).collect())
            .unwrap_or_default(),
    };
    let view = precedent_suggest::suggest(&facts, &evidence, params());
    tracing::debug!(evidence = view.evidence.len(), abstained = view.abstained.is_some(), "suggestions");
    Ok(view)
}
