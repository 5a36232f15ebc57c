//! "Why this match?": for a query case and one of its hits, the terms the two texts share (and
//! those one of them negates), the modality scores, the lab analytes abnormal in both or in one
//! only, and the pair of images that matched. The hit is explained only to someone who may see
//! it as a hit: staff, its owner, or a patient meeting a shared teaching case.
use crate::similar::readable_case;
use crate::{audit, Caller, ServiceError};
use precedent_search::engine::SearchOptions;
use precedent_search::filter::Filter;
use precedent_search::fusion::Channel;
use precedent_suggest::explain::{match_texts, Mention};
use precedent_types::dto::{ChannelScoreView, ExplainView, TextPiece};
use precedent_types::{CaseId, ImageId};

/// The text a case is explained by: its history, examination and findings.
fn case_text(c: &precedent_store::cases::Case) -> String {
    [c.history.as_str(), c.exam.as_str(), c.findings.as_str()].into_iter().map(str::trim).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n\n")
}

/// `text` cut at the marked ranges (overlaps resolved by the earlier, longer mark).
pub fn pieces(text: &str, marks: &[(Mention, &'static str)]) -> Vec<TextPiece> {
    let mut marks: Vec<&(Mention, &str)> = marks.iter().collect();
    marks.sort_by(|a, b| a.0.start.cmp(&b.0.start).then(b.0.end.cmp(&a.0.end)));
    let mut out = Vec::new();
    let mut at = 0;
    for (m, kind) in marks {
        if m.start < at || m.end > text.len() || !text.is_char_boundary(m.start) || !text.is_char_boundary(m.end) {
            continue;
        }
        if m.start > at {
            out.push(TextPiece { text: text[at..m.start].to_string(), mark: None });
        }
        out.push(TextPiece { text: text[m.start..m.end].to_string(), mark: Some(kind.to_string()) });
        at = m.end;
    }
    if at < text.len() {
        out.push(TextPiece { text: text[at..].to_string(), mark: None });
    }
    out
}

fn abnormal(p: &Option<precedent_search::labprofile::LabProfile>) -> Vec<(u16, f32)> {
    p.as_ref().map(|p| p.0.iter().filter(|(_, d)| *d != 0.0).copied().collect()).unwrap_or_default()
}

fn names(ids: impl Iterator<Item = u16>) -> Vec<String> {
    ids.filter_map(precedent_similarity::analyte_name).map(str::to_string).collect()
}

/// Explains why `hit` matched the query case `query`.
pub async fn hit(c: &Caller, query: i64, hit: i64) -> Result<ExplainView, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    readable_case(st, actor, query, &ip).await?;
    let row = precedent_store::index_feed::hit_cases(&st.pool, &[hit]).await?.pop().ok_or(ServiceError::NotFound)?;
    let Some(shown) = crate::similar::disclosure(&actor, row.owner_id, row.shareable) else {
        audit(&st.pool, Some(actor), "case.explain", Some(("case", hit)), ip, "denied").await?;
        return Err(ServiceError::NotFound);
    };
    let full = shown == crate::similar::Disclosure::Full;
    if query == hit {
        return Err(ServiceError::Invalid("A case is not explained against itself.".into()));
    }
    let search = st.search()?;
    let engine = search.similarity.engine();
    let q = precedent_store::cases::get(&st.pool, CaseId(query)).await?.ok_or(ServiceError::NotFound)?;
    let h = precedent_store::cases::get(&st.pool, CaseId(hit)).await?.ok_or(ServiceError::NotFound)?;
    let (qt, ht) = (case_text(&q.case), case_text(&h.case));
    let m = match_texts(&qt, &ht);
    let mark = |side: fn(&precedent_suggest::explain::Term) -> &Vec<Mention>| {
        let mut v: Vec<(Mention, &'static str)> = m.shared.iter().flat_map(|t| side(t).iter().map(|x| (x.clone(), "shared"))).collect();
        v.extend(m.negated.iter().flat_map(|t| side(t).iter().map(|x| (x.clone(), "negated"))));
        v
    };
    // The engine's own scores for this one pair.
    let pair = engine.query_for_case(query).and_then(|qv| {
        let only = Filter { cases: Some(std::sync::Arc::new([hit].into_iter().collect())), ..Filter::default() };
        engine.search(&qv, &only, &SearchOptions { k: 1, ..SearchOptions::default() }).pop()
    });
    let (ql, hl) = (abnormal(&engine.labs_of(query)), abnormal(&engine.labs_of(hit)));
    let same = |a: &(u16, f32), b: &(u16, f32)| a.0 == b.0 && a.1.signum() == b.1.signum();
    let image = pair.as_ref().and_then(|p| p.channels.iter().find(|c| c.channel == Channel::Image));
    let hit_image = image.and_then(|c| c.hit_item).map(ImageId);
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + crate::thumbs::SIGNED_THUMB_SECS;
    let view = ExplainView {
        query: CaseId(query),
        hit: CaseId(hit),
        query_title: q.case.title.clone(),
        hit_title: h.case.title.clone(),
        deidentified: !full,
        query_text: pieces(&qt, &mark(|t| &t.in_query)),
        hit_text: pieces(&ht, &mark(|t| &t.in_hit)),
        shared_terms: m.shared.iter().map(|t| t.text.clone()).collect(),
        negated_terms: m.negated.iter().map(|t| t.text.clone()).collect(),
        channels: pair
            .as_ref()
            .map(|p| p.channels.iter().map(|c| ChannelScoreView { channel: c.channel, pct: c.cosine * 100.0, weight: c.weight }).collect())
            .unwrap_or_default(),
        shared_abnormal: names(ql.iter().filter(|a| hl.iter().any(|b| same(a, b))).map(|a| a.0)),
        query_only_abnormal: names(ql.iter().filter(|a| !hl.iter().any(|b| b.0 == a.0)).map(|a| a.0)),
        hit_only_abnormal: names(hl.iter().filter(|b| !ql.iter().any(|a| a.0 == b.0)).map(|b| b.0)),
        query_image: image.and_then(|c| c.query_item).map(ImageId),
        hit_image_url: hit_image.map(|img| {
            if full {
                format!("/media/images/{}/thumb", img.0)
            } else {
                crate::thumbs::signed_thumb_url(&st.media_key, img.0, actor.id.0, expires)
            }
        }),
    };
    audit(&st.pool, Some(actor), "case.explain", Some(("case", hit)), ip, "ok").await?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_at_their_marks() {
        let t = "No pneumothorax; chest pain.";
        let p = pieces(t, &[(Mention { start: 17, end: 27 }, "shared"), (Mention { start: 3, end: 15 }, "negated")]);
        let got: Vec<(&str, Option<&str>)> = p.iter().map(|x| (x.text.as_str(), x.mark.as_deref())).collect();
        assert_eq!(got, vec![("No ", None), ("pneumothorax", Some("negated")), ("; ", None), ("chest pain", Some("shared")), (".", None)]);
        // Overlapping and out-of-range marks are skipped, never panic.
        let p = pieces("abc", &[(Mention { start: 0, end: 2 }, "shared"), (Mention { start: 1, end: 3 }, "shared"), (Mention { start: 2, end: 9 }, "shared")]);
        assert_eq!(p.iter().map(|x| x.text.as_str()).collect::<String>(), "abc");
    }
}
