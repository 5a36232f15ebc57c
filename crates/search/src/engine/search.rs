//! A query through the engine, in named phases:
//!
//! 1. [`Scope`]: which cases the query may return, and whether the allowed set is small enough
//!    to scan exactly rather than filter inside the graph walk;
//! 2. [`Asked`]: which modalities the query can use here (a vector of the index's dimension or
//!    enough lab values, and a weight above zero);
//! 3. candidates: each modality's nearest cases (ANN, or the exact scan), then the closest lab
//!    profiles, their union in that order;
//! 4. [`Rescore`]: every candidate scored exactly in every modality asked (images: the
//!    best-matching pair);
//! 5. calibration of each modality's scores, against this query's scores over a fixed library
//!    sample for z-scores ([`crate::fusion::calibrate`]);
//! 6. fusion with the user's weights ([`crate::fusion::fuse`]) and the ranking: best fused score
//!    first, ties by case id, the top `k`.
use super::{Engine, Hit, Query, SearchOptions, CALIBRATION_SAMPLE};
use crate::filter::{CaseMeta, Filter};
use crate::fusion::{self, Calibration, Channel, ChannelScores, Match, Weights};
use crate::index::{ItemHit, VectorIndex};
use crate::labprofile::{self, LabProfile};
use std::collections::{HashMap, HashSet};

impl Engine {
    /// The `k` most similar cases to `q` that pass `filter`.
    pub fn search(&self, q: &Query, filter: &Filter, opt: &SearchOptions) -> Vec<Hit> {
        let meta = self.meta.read().unwrap_or_else(|e| e.into_inner());
        let allow = |case: i64| meta.get(&case).is_some_and(|m| filter.admits(case, m));
        let scope = Scope::new(&meta, filter, &allow, q, opt);
        let asked = self.asked(q, opt);
        let mut candidates = self.nearest_cases(&asked, &scope);
        // Labs: profiles are few and small, compared exactly.
        let lab_map = self.labs.read().unwrap_or_else(|e| e.into_inner());
        if let Some(labs) = asked.labs {
            candidates.add(nearest_labs(&lab_map, labs, &scope).into_iter().map(|(_, case)| case));
        }
        let candidates = candidates.list;
        if candidates.is_empty() {
            return Vec::new();
        }
        let rescore = Rescore { engine: self, asked: &asked, labs: &lab_map };
        let (matches, lab_scores) = rescore.score_candidates(&candidates);
        let channels = self.calibrate(matches, opt.calibration, &rescore);
        rank(fuse(&candidates, &channels, &lab_scores, &opt.weights), opt.k)
    }

    /// Phase 2: what of `q` this engine can use, and is weighted.
    fn asked<'q>(&self, q: &'q Query, opt: &SearchOptions) -> Asked<'q> {
        let text = q.text.as_deref().filter(|t| opt.weights.of(Channel::Text) > 0.0 && t.len() == self.text.dim());
        let images: Vec<&(Option<i64>, Vec<f32>)> = q.images.iter().filter(|(_, v)| v.len() == self.image.dim()).collect();
        let images = if opt.weights.of(Channel::Image) > 0.0 { images } else { Vec::new() };
        let labs = q.labs.as_ref().filter(|l| l.len() >= labprofile::MIN_SHARED && opt.weights.of(Channel::Labs) > 0.0);
        Asked { text, images, labs }
    }

    /// Phase 3: a modality's nearest items to `v` within `scope` (an exact scan of a small
    /// allowed set; otherwise the graph walk, with the filter applied inside it when there is one).
    fn nearest(&self, index: &VectorIndex, v: &[f32], scope: &Scope) -> Vec<ItemHit> {
        match &scope.exact {
            Some(list) => index.exact(v, scope.n_cand, Some(list)),
            None if scope.filter.is_empty() => index.search(v, scope.n_cand, index.breadth(scope.ef), None, scope.exclude),
            None => index.search(v, scope.n_cand, index.breadth(scope.ef), Some(scope.allow), scope.exclude),
        }
    }

    /// Phase 3: the union of the modalities' nearest cases, text first, then each query image.
    fn nearest_cases(&self, asked: &Asked, scope: &Scope) -> Candidates {
        let mut candidates = Candidates::default();
        if let Some(text) = asked.text {
            candidates.add(self.nearest(&self.text, text, scope).into_iter().map(|h| h.item.case));
        }
        for (_, v) in &asked.images {
            candidates.add(self.nearest(&self.image, v, scope).into_iter().map(|h| h.item.case));
        }
        candidates
    }

    /// Phase 5: each modality's exact scores over the candidates put on the common scale.
    fn calibrate(&self, matches: Vec<ChannelMatches>, calibration: Calibration, rescore: &Rescore) -> Vec<ChannelScores> {
        matches
            .into_iter()
            .map(|(channel, matches)| {
                let raw: Vec<Option<f32>> = matches.iter().map(|m| m.map(|m| m.cosine)).collect();
                let calibrated = fusion::calibrate(raw, calibration, || self.sample_scores(channel, rescore));
                ChannelScores { channel, matches, calibrated }
            })
            .collect()
    }

    /// Phase 5 (z-scores): this query's scores in `channel` over the library's fixed calibration
    /// sample.
    fn sample_scores(&self, channel: Channel, rescore: &Rescore) -> Vec<f32> {
        match channel {
            Channel::Text => self.text.sample_cases(CALIBRATION_SAMPLE).iter().filter_map(|c| rescore.text(*c)).map(|s| s.cosine).collect(),
            Channel::Image => self.image.sample_cases(CALIBRATION_SAMPLE).iter().filter_map(|c| rescore.image(*c)).map(|s| s.cosine).collect(),
            Channel::Labs => self.lab_sample(rescore.labs).iter().filter_map(|c| rescore.labs(*c)).map(|s| s.0).collect(),
        }
    }
}

/// The parts of a query used against this engine: each is present only when its modality has
/// a weight above zero and the query's vector fits the index (or has enough lab values).
struct Asked<'q> {
    text: Option<&'q [f32]>,
    /// The query images of the image index's dimension (with their ids when stored).
    images: Vec<&'q (Option<i64>, Vec<f32>)>,
    labs: Option<&'q LabProfile>,
}

/// Which cases a query may return, and how many candidates to take per modality.
struct Scope<'a> {
    filter: &'a Filter,
    /// Whether a case passes `filter`.
    allow: &'a dyn Fn(i64) -> bool,
    /// Cases never returned (the query case), as the query lists them and as a set.
    exclude: &'a [i64],
    excluded: HashSet<i64>,
    /// The allowed cases when the filter is restrictive: these are scanned exactly (recall stays
    /// 1, and it is faster than hnsw_rs's filtered walk); larger allowed sets are filtered inside
    /// the walk.
    exact: Option<Vec<i64>>,
    /// Candidates taken from each modality: `k × candidate_factor`.
    n_cand: usize,
    /// The hnsw search breadth (at least `n_cand`).
    ef: usize,
}

impl<'a> Scope<'a> {
    /// Phase 1: the scope of `q` under `filter` (`allow` tests one case against it).
    fn new(meta: &HashMap<i64, CaseMeta>, filter: &'a Filter, allow: &'a dyn Fn(i64) -> bool, q: &'a Query, opt: &SearchOptions) -> Self {
        let excluded: HashSet<i64> = q.exclude.iter().copied().collect();
        let exact = if filter.is_empty() {
            None
        } else {
            let list: Vec<i64> = meta.iter().filter(|(id, m)| !excluded.contains(id) && filter.admits(**id, m)).map(|(id, _)| *id).collect();
            let small = list.len() <= opt.exact_below || (list.len() as f32) <= opt.exact_fraction * meta.len() as f32;
            small.then_some(list)
        };
        let n_cand = opt.k.max(1) * opt.candidate_factor.max(1);
        Self { filter, allow, exclude: &q.exclude, excluded, exact, n_cand, ef: opt.ef.max(n_cand) }
    }
}

/// The candidate cases, each once, in the order first found.
#[derive(Default)]
struct Candidates {
    list: Vec<i64>,
    seen: HashSet<i64>,
}

impl Candidates {
    fn add(&mut self, cases: impl IntoIterator<Item = i64>) {
        for case in cases {
            if self.seen.insert(case) {
                self.list.push(case);
            }
        }
    }
}

/// Phase 3 (labs): the `n_cand` allowed cases whose lab profiles are most similar to `query`,
/// as (similarity, case), best first, ties by case id.
fn nearest_labs(labs: &HashMap<i64, LabProfile>, query: &LabProfile, scope: &Scope) -> Vec<(f32, i64)> {
    let mut scored: Vec<(f32, i64)> = labs
        .iter()
        .filter(|(id, _)| !scope.excluded.contains(id) && (scope.allow)(**id))
        .filter_map(|(id, p)| labprofile::similarity(query, p).map(|(s, _)| (s, *id)))
        .collect();
    let n = scope.n_cand.min(scored.len());
    if n > 0 {
        scored.select_nth_unstable_by(n - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(n);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    }
    scored
}

/// A candidate's lab similarity with the analytes abnormal in the same direction in both
/// (`None` without enough shared analytes).
type LabScore = Option<(f32, Vec<u16>)>;

/// One modality's exact matches over the candidates.
type ChannelMatches = (Channel, Vec<Option<Match>>);

/// Phase 4: exact scores of one case against the asked parts of the query (for the candidates,
/// and for the calibration sample).
struct Rescore<'a> {
    engine: &'a Engine,
    asked: &'a Asked<'a>,
    labs: &'a HashMap<i64, LabProfile>,
}

impl Rescore<'_> {
    /// The cosine of the query text with the case's text.
    fn text(&self, case: i64) -> Option<Match> {
        let t = self.asked.text?;
        self.engine.text.score_case(t, case).first().map(|h| Match { cosine: h.cosine, query_item: None, hit_item: None })
    }

    /// The best-matching pair of a query image and an image of the case.
    fn image(&self, case: i64) -> Option<Match> {
        let mut best: Option<Match> = None;
        for (qid, v) in &self.asked.images {
            if let Some(h) = self.engine.image.score_case(v, case).first() {
                if best.is_none_or(|b| h.cosine > b.cosine) {
                    best = Some(Match { cosine: h.cosine, query_item: *qid, hit_item: Some(h.item.key) });
                }
            }
        }
        best
    }

    /// The lab similarity and the analytes abnormal in the same direction in both.
    fn labs(&self, case: i64) -> Option<(f32, Vec<u16>)> {
        labprofile::similarity(self.asked.labs?, self.labs.get(&case)?)
    }

    /// Every asked modality's matches over `candidates`, in the order text, image, labs, and
    /// the candidates' lab scores with their shared abnormal analytes (empty without labs).
    fn score_candidates(&self, candidates: &[i64]) -> (Vec<ChannelMatches>, Vec<LabScore>) {
        let lab_scores: Vec<LabScore> = if self.asked.labs.is_some() { candidates.iter().map(|c| self.labs(*c)).collect() } else { Vec::new() };
        let mut channels = Vec::new();
        if self.asked.text.is_some() {
            channels.push((Channel::Text, candidates.iter().map(|c| self.text(*c)).collect()));
        }
        if !self.asked.images.is_empty() {
            channels.push((Channel::Image, candidates.iter().map(|c| self.image(*c)).collect()));
        }
        if self.asked.labs.is_some() {
            channels
                .push((Channel::Labs, lab_scores.iter().map(|s| s.as_ref().map(|(v, _)| Match { cosine: *v, query_item: None, hit_item: None })).collect()));
        }
        (channels, lab_scores)
    }
}

/// Phase 6: the hits, each candidate's modalities fused with `weights` (candidates without a
/// weighted modality are dropped), with the lab analytes they share with the query.
fn fuse(candidates: &[i64], channels: &[ChannelScores], lab_scores: &[LabScore], weights: &Weights) -> Vec<Hit> {
    candidates
        .iter()
        .enumerate()
        .filter_map(|(i, case)| {
            let f = fusion::fuse(channels, i, weights)?;
            let shared_abnormal = lab_scores.get(i).and_then(|s| s.as_ref()).map(|s| s.1.clone()).unwrap_or_default();
            Some(Hit { case: *case, fused: f.fused, cosine: f.cosine, channels: f.channels, shared_abnormal })
        })
        .collect()
}

/// Phase 6: best fused score first (ties by case id), the top `k`.
fn rank(mut hits: Vec<Hit>, k: usize) -> Vec<Hit> {
    hits.sort_by(|a, b| b.fused.total_cmp(&a.fused).then(a.case.cmp(&b.case)));
    hits.truncate(k);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tests::{engine, raw, unit};
    use crate::filter::imaging;

    #[test]
    fn missing_modalities_are_left_out_and_weights_renormalised() {
        let e = engine();
        let q = Query { text: Some(unit(&[1.0, 0.0, 0.0])), images: vec![(None, unit(&[0.0, 1.0]))], labs: None, exclude: vec![] };
        let hits = e.search(&q, &Filter::default(), &raw(10, 0.5, 0.5));
        let by: HashMap<i64, &Hit> = hits.iter().map(|h| (h.case, h)).collect();
        // Case 1: text 1.0 and its image 12 matches exactly: 1.0.
        assert!((by[&1].fused - 1.0).abs() < 1e-5);
        let img = by[&1].channels.iter().find(|c| c.channel == Channel::Image).unwrap();
        assert_eq!(img.hit_item, Some(12));
        // Case 2 has no image: its text alone decides, with weight 1 (not 0.5 × text + 0).
        let c2 = by[&2];
        assert_eq!(c2.channels.len(), 1);
        assert!((c2.channels[0].weight - 1.0).abs() < 1e-6);
        assert!((c2.fused - unit(&[0.9, 0.1, 0.0])[0]).abs() < 1e-5);
        // Case 3 has no text: image alone.
        assert_eq!(by[&3].channels[0].channel, Channel::Image);
        assert_eq!(hits[0].case, 1);
    }

    #[test]
    fn weights_change_the_order() {
        let e = engine();
        let q = Query { text: Some(unit(&[0.0, 0.0, 1.0])), images: vec![(Some(99), unit(&[0.0, 1.0]))], labs: None, exclude: vec![] };
        let text_only = e.search(&q, &Filter::default(), &raw(2, 1.0, 0.0));
        assert_eq!(text_only[0].case, 4);
        assert!(text_only.iter().all(|h| h.channels.iter().all(|c| c.channel == Channel::Text)));
        let image_only = e.search(&q, &Filter::default(), &raw(1, 0.0, 1.0));
        assert_eq!(image_only[0].case, 1);
        assert_eq!(image_only[0].channels[0].query_item, Some(99));
        assert!(e.search(&q, &Filter::default(), &raw(3, 0.0, 0.0)).is_empty());
    }

    #[test]
    fn filters_are_never_violated() {
        let e = engine();
        // Case 2 belongs to account 7, case 3 is a shareable library case: account 7's audience.
        let mut c2 = e.case(2).unwrap();
        c2.meta.owner = 7;
        e.put_case(2, c2).unwrap();
        let mut c3 = e.case(3).unwrap();
        c3.meta.shareable = true;
        e.put_case(3, c3).unwrap();
        let q = Query { text: Some(unit(&[1.0, 1.0, 1.0])), images: vec![(None, unit(&[1.0, 1.0]))], labs: None, exclude: vec![1] };
        let cases = [
            Filter { audience: Some(7), ..Filter::default() },
            Filter { validated_only: true, ..Filter::default() },
            Filter { imaging: imaging::CT, ..Filter::default() },
            Filter { body_region: Some("CHEST".into()), ..Filter::default() },
            Filter { from_day: Some(15), to_day: Some(35), ..Filter::default() },
            Filter { cases: Some(std::sync::Arc::new([2i64, 3].into_iter().collect())), ..Filter::default() },
        ];
        let metas: HashMap<i64, CaseMeta> = e.meta.read().unwrap().clone();
        for f in &cases {
            for opt in [raw(10, 0.5, 0.5), SearchOptions { exact_below: 0, exact_fraction: 0.0, ..raw(10, 0.5, 0.5) }] {
                let hits = e.search(&q, f, &opt);
                assert!(!hits.is_empty(), "{f:?}");
                if f.audience.is_some() {
                    let mut ids: Vec<i64> = hits.iter().map(|h| h.case).collect();
                    ids.sort();
                    assert_eq!(ids, vec![2, 3], "the account's own case and the shareable one, nothing else");
                }
                for h in &hits {
                    assert_ne!(h.case, 1);
                    assert!(f.admits(h.case, &metas[&h.case]), "{f:?} let case {} through", h.case);
                }
            }
        }
    }

    #[test]
    fn labs_are_a_third_modality_compared_on_shared_analytes() {
        let e = engine();
        let infection = LabProfile::new(vec![(1, 2.0), (2, 3.0), (3, 0.0)]);
        let mut c2 = e.case(2).unwrap();
        c2.labs = Some(LabProfile::new(vec![(1, 1.9), (2, 2.6), (3, 0.0)]));
        e.put_case(2, c2).unwrap();
        let mut c4 = e.case(4).unwrap();
        c4.labs = Some(LabProfile::new(vec![(1, 0.0), (2, 0.0), (5, 4.0)]));
        e.put_case(4, c4).unwrap();
        // Labs only: the case with the same abnormalities first, the shared ones named; cases
        // without labs are no lab candidates.
        let q = Query { labs: Some(infection.clone()), ..Query::default() };
        let opt = SearchOptions { k: 5, weights: Weights { text: 0.0, image: 0.0, labs: 1.0 }, calibration: Calibration::Raw, ..SearchOptions::default() };
        let hits = e.search(&q, &Filter::default(), &opt);
        assert_eq!(hits.iter().map(|h| h.case).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(hits[0].shared_abnormal, vec![1, 2]);
        assert_eq!(hits[0].channels[0].channel, Channel::Labs);
        assert!(hits[0].cosine > 0.9 && hits[1].cosine < 0.5);
        // Fused with text: a hit without labs keeps its text score, the weight renormalised.
        let q = Query { text: Some(unit(&[1.0, 0.0, 0.0])), labs: Some(infection), ..Query::default() };
        let opt = SearchOptions { weights: Weights { text: 1.0, image: 0.0, labs: 1.0 }, ..opt };
        let hits = e.search(&q, &Filter::default(), &opt);
        let h1 = hits.iter().find(|h| h.case == 1).unwrap();
        assert_eq!(h1.channels.len(), 1);
        assert!((h1.channels[0].weight - 1.0).abs() < 1e-6);
        let h2 = hits.iter().find(|h| h.case == 2).unwrap();
        assert_eq!(h2.channels.len(), 2);
        // Saved and loaded with the rest.
        let dir = std::env::temp_dir().join(format!("precedent-labs-engine-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let header = e.save(&dir, 7).unwrap();
        assert_eq!(header.lab_profiles, 2);
        let (loaded, _) = Engine::load(&dir).unwrap();
        assert_eq!(loaded.case(2).unwrap().labs, e.case(2).unwrap().labs);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
