//! The similarity engine: one [`VectorIndex`] per modality plus what filters need to know about
//! each case, and the fusion of per-modality scores into one ranking.
//!
//! A query gathers candidates from each modality's ANN search (several times `k`, filters
//! applied during the graph walk, or an exact scan when the allowed set is small), re-scores the
//! union exactly (images aggregated per case by the best-matching pair), calibrates each modality
//! (its cosines live on their own scale) and sums them with the user's weights, renormalised over
//! the modalities present on both sides.
use crate::index::{IndexError, IndexParams, IndexStats, Item, VectorIndex};
use crate::labprofile::{self, LabProfile};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

/// The modalities the engine fuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Text,
    Image,
    Labs,
}

/// Imaging modalities present in a case, as bits (for filters).
pub mod imaging {
    pub const XRAY: u8 = 1;
    pub const CT: u8 = 2;
    pub const MR: u8 = 4;
    pub const OTHER: u8 = 8;
}

/// What filters need to know about a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CaseMeta {
    /// A doctor has validated or corrected its diagnosis.
    pub validated: bool,
    /// [`imaging`] bits of its images.
    pub imaging: u8,
    /// Lower-case body region, if recorded.
    pub body_region: Option<String>,
    /// Creation date, days since 1970-01-01.
    pub created_day: i32,
}

/// Restrictions on which cases may be returned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub validated_only: bool,
    /// Any of these [`imaging`] bits (0: no restriction).
    pub imaging: u8,
    pub body_region: Option<String>,
    pub from_day: Option<i32>,
    pub to_day: Option<i32>,
    /// Only these cases (e.g. those whose diagnosis mentions a term, found in the database).
    #[serde(skip)]
    pub cases: Option<std::sync::Arc<std::collections::HashSet<i64>>>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Whether case `id` with metadata `m` may be returned.
    pub fn admits(&self, id: i64, m: &CaseMeta) -> bool {
        self.cases.as_ref().is_none_or(|c| c.contains(&id)) && self.allows(m)
    }

    pub fn allows(&self, m: &CaseMeta) -> bool {
        (!self.validated_only || m.validated)
            && (self.imaging == 0 || m.imaging & self.imaging != 0)
            && self.body_region.as_deref().is_none_or(|r| m.body_region.as_deref().is_some_and(|b| b.eq_ignore_ascii_case(r.trim())))
            && self.from_day.is_none_or(|d| m.created_day >= d)
            && self.to_day.is_none_or(|d| m.created_day <= d)
    }
}

/// How per-modality cosines are put on one scale before weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Calibration {
    /// z-score against this query's score distribution over a fixed sample of the library.
    #[default]
    ZScore,
    /// Reciprocal-rank fusion over the candidates (k = 60).
    Rrf,
    /// Raw cosines (only for comparison: different encoders have different scales).
    Raw,
}

/// A query: its text vector and image vectors (with the image ids when they are stored images).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub text: Option<Vec<f32>>,
    pub images: Vec<(Option<i64>, Vec<f32>)>,
    pub labs: Option<LabProfile>,
    /// Cases never returned (the query case itself).
    pub exclude: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub text: f32,
    pub image: f32,
    #[serde(default)]
    pub labs: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Self { text: 0.5, image: 0.5, labs: 0.5 }
    }
}

impl Weights {
    fn of(&self, c: Channel) -> f32 {
        let w = match c {
            Channel::Text => self.text,
            Channel::Image => self.image,
            Channel::Labs => self.labs,
        };
        if w.is_finite() { w.max(0.0) } else { 0.0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SearchOptions {
    pub k: usize,
    pub weights: Weights,
    pub calibration: Calibration,
    /// Candidates taken from each modality's index: `k × candidate_factor`.
    pub candidate_factor: usize,
    /// hnsw search breadth (raised to the number of candidates).
    pub ef: usize,
    /// Allowed sets at most this large, or at most `exact_fraction` of the library, are scanned
    /// exactly instead of walked with a filter (`bench ann`: hnsw_rs's filtered walk only beats
    /// an exact scan of the allowed set above roughly 30k cases and a third of the library).
    pub exact_below: usize,
    pub exact_fraction: f32,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self { k: 10, weights: Weights::default(), calibration: Calibration::ZScore, candidate_factor: 5, ef: 64, exact_below: 20_000, exact_fraction: 0.25 }
    }
}

/// One modality's contribution to a hit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChannelScore {
    pub channel: Channel,
    /// Exact cosine similarity (for images: of the best-matching pair).
    pub cosine: f32,
    /// The calibrated score that was weighted.
    pub calibrated: f32,
    /// The weight it got after renormalisation over the modalities present.
    pub weight: f32,
    /// For images: which query image (when stored) matched which image of the hit.
    pub query_item: Option<i64>,
    pub hit_item: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub case: i64,
    /// The fused calibrated score the ranking is by.
    pub fused: f32,
    /// Weighted mean of the modalities' cosines (same weights), as shown to users.
    pub cosine: f32,
    pub channels: Vec<ChannelScore>,
    /// Analytes abnormal in the same direction in the query and the hit (catalog indexes).
    pub shared_abnormal: Vec<u16>,
}

/// Model versions and counts, persisted beside the index files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub text_model: String,
    pub image_model: Option<String>,
    pub text_dim: usize,
    pub image_dim: usize,
    pub params: IndexParams,
    /// The last change from the database's change log applied to this index.
    pub last_change: i64,
    pub text_vectors: usize,
    pub image_vectors: usize,
    #[serde(default)]
    pub lab_profiles: usize,
    pub cases: usize,
    /// Unix seconds.
    pub built_at: i64,
}

pub const HEADER_FORMAT: u32 = 1;

/// Everything the engine holds for one case.
#[derive(Debug, Clone, Default)]
pub struct CaseVectors {
    pub meta: CaseMeta,
    pub text: Option<Vec<f32>>,
    /// (image id, vector)
    pub images: Vec<(i64, Vec<f32>)>,
    pub labs: Option<LabProfile>,
}

pub struct Engine {
    pub text_model: String,
    pub image_model: Option<String>,
    text: VectorIndex,
    image: VectorIndex,
    meta: RwLock<HashMap<i64, CaseMeta>>,
    labs: RwLock<HashMap<i64, LabProfile>>,
    /// The lab calibration sample, kept until the set of cases with labs changes (cleared, with
    /// the labs lock held, by every change to that set).
    lab_sample: Mutex<Option<Arc<Vec<i64>>>>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct EngineStats {
    pub cases: usize,
    pub text: IndexStats,
    pub image: IndexStats,
    /// Cases with a lab profile.
    pub labs: usize,
}

const CALIBRATION_SAMPLE: usize = 256;

impl Engine {
    /// An empty engine sized for about `capacity` cases; each index gets `params`
    /// [`for_dim`](IndexParams::for_dim) its dimension.
    pub fn new(text_model: String, image_model: Option<String>, dims: (usize, usize), params: IndexParams, capacity: usize) -> Self {
        Self {
            text_model,
            image_model,
            text: VectorIndex::new(dims.0, capacity, params.for_dim(dims.0)),
            image: VectorIndex::new(dims.1, capacity * 3, params.for_dim(dims.1)),
            meta: RwLock::new(HashMap::with_capacity(capacity)),
            labs: RwLock::new(HashMap::new()),
            lab_sample: Mutex::new(None),
        }
    }

    /// Builds the indexes from every case's vectors.
    pub fn build(
        text_model: String,
        image_model: Option<String>,
        dims: (usize, usize),
        params: IndexParams,
        cases: Vec<(i64, CaseVectors)>,
    ) -> Result<Self, IndexError> {
        let engine = Self::new(text_model, image_model, dims, params, cases.len());
        engine.insert_bulk(cases)?;
        engine.seal();
        Ok(engine)
    }

    /// Adds many new cases at once to an engine being built (graph insertion in parallel; see
    /// [`VectorIndex::insert_bulk`]); call [`seal`](Self::seal) after the last batch. For cases
    /// the engine may already hold, use [`put_case`](Self::put_case).
    pub fn insert_bulk(&self, cases: Vec<(i64, CaseVectors)>) -> Result<(), IndexError> {
        let mut texts = Vec::new();
        let mut images = Vec::new();
        let mut metas = Vec::with_capacity(cases.len());
        let mut labs = Vec::new();
        for (id, c) in cases {
            if let Some(l) = c.labs.filter(|l| !l.is_empty()) {
                labs.push((id, l));
            }
            if let Some(t) = c.text {
                texts.push((Item { key: id, case: id }, t));
            }
            for (image, v) in c.images {
                images.push((Item { key: image, case: id }, v));
            }
            metas.push((id, c.meta));
        }
        self.text.insert_bulk(texts)?;
        self.image.insert_bulk(images)?;
        self.meta.write().unwrap_or_else(|e| e.into_inner()).extend(metas);
        let mut held = self.labs.write().unwrap_or_else(|e| e.into_inner());
        held.extend(labs);
        self.forget_lab_sample();
        Ok(())
    }

    /// Takes the search copies of both graphs once the last bulk batch is in.
    pub fn seal(&self) {
        self.text.seal();
        self.image.seal();
    }

    pub fn stats(&self) -> EngineStats {
        EngineStats {
            cases: self.meta.read().unwrap_or_else(|e| e.into_inner()).len(),
            text: self.text.stats(),
            image: self.image.stats(),
            labs: self.labs.read().unwrap_or_else(|e| e.into_inner()).len(),
        }
    }

    pub fn dims(&self) -> (usize, usize) {
        (self.text.dim(), self.image.dim())
    }

    /// Replaces everything held for `case` (vectors and filter data): new or changed vectors
    /// enter the live graphs, vanished ones are marked dead.
    pub fn put_case(&self, case: i64, c: CaseVectors) -> Result<(), IndexError> {
        match &c.text {
            Some(t) => self.text.upsert(Item { key: case, case }, t)?,
            None => {
                self.text.remove_case(case);
            }
        }
        let keep: HashSet<i64> = c.images.iter().map(|(id, _)| *id).collect();
        for (item, _) in self.image.live_items_of(case) {
            if !keep.contains(&item.key) {
                self.image.remove(item.key);
            }
        }
        for (id, v) in &c.images {
            self.image.upsert(Item { key: *id, case }, v)?;
        }
        {
            let mut labs = self.labs.write().unwrap_or_else(|e| e.into_inner());
            // The sample holds ids: only a case gaining or losing its profile changes it.
            let same_cases = match c.labs.filter(|l| !l.is_empty()) {
                Some(l) => labs.insert(case, l).is_some(),
                None => labs.remove(&case).is_none(),
            };
            if !same_cases {
                self.forget_lab_sample();
            }
        }
        self.meta.write().unwrap_or_else(|e| e.into_inner()).insert(case, c.meta);
        Ok(())
    }

    /// Forgets `case` entirely.
    pub fn remove_case(&self, case: i64) {
        self.text.remove_case(case);
        self.image.remove_case(case);
        {
            let mut labs = self.labs.write().unwrap_or_else(|e| e.into_inner());
            if labs.remove(&case).is_some() {
                self.forget_lab_sample();
            }
        }
        self.meta.write().unwrap_or_else(|e| e.into_inner()).remove(&case);
    }

    /// What the engine holds for `case` (for consistency checks).
    pub fn case(&self, case: i64) -> Option<CaseVectors> {
        let meta = self.meta.read().unwrap_or_else(|e| e.into_inner()).get(&case).cloned()?;
        let text = self.text.live_items_of(case).into_iter().next().map(|(_, v)| v);
        let mut images: Vec<(i64, Vec<f32>)> = self.image.live_items_of(case).into_iter().map(|(i, v)| (i.key, v)).collect();
        images.sort_by_key(|(id, _)| *id);
        let labs = self.labs.read().unwrap_or_else(|e| e.into_inner()).get(&case).cloned();
        Some(CaseVectors { meta, text, images, labs })
    }

    /// Every case id the engine knows.
    pub fn case_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.meta.read().unwrap_or_else(|e| e.into_inner()).keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// The stored vectors of a case, as a query (its text and images; the case excluded).
    pub fn query_for_case(&self, case: i64) -> Option<Query> {
        let c = self.case(case)?;
        Some(Query { text: c.text, images: c.images.into_iter().map(|(id, v)| (Some(id), v)).collect(), labs: c.labs, exclude: vec![case] })
    }

    /// The `k` most similar cases to `q` that pass `filter`.
    pub fn search(&self, q: &Query, filter: &Filter, opt: &SearchOptions) -> Vec<Hit> {
        let meta = self.meta.read().unwrap_or_else(|e| e.into_inner());
        let exclude: HashSet<i64> = q.exclude.iter().copied().collect();
        let allow = |case: i64| meta.get(&case).is_some_and(|m| filter.admits(case, m));
        // Restrictive filters: scan the allowed cases exactly (recall stays 1, and it is faster
        // than hnsw_rs's filtered walk); larger allowed sets are filtered inside the walk.
        let allowed_list: Option<Vec<i64>> = if filter.is_empty() {
            None
        } else {
            let list: Vec<i64> = meta.iter().filter(|(id, m)| !exclude.contains(id) && filter.admits(**id, m)).map(|(id, _)| *id).collect();
            let small = list.len() <= opt.exact_below || (list.len() as f32) <= opt.exact_fraction * meta.len() as f32;
            small.then_some(list)
        };
        let n_cand = opt.k.max(1) * opt.candidate_factor.max(1);
        let ef = opt.ef.max(n_cand);
        let mut candidates: Vec<i64> = Vec::new();
        let mut seen = HashSet::new();
        let mut gather = |index: &VectorIndex, v: &[f32]| {
            let hits = match &allowed_list {
                Some(list) => index.exact(v, n_cand, Some(list)),
                None if filter.is_empty() => index.search(v, n_cand, index.breadth(ef), None, &q.exclude),
                None => index.search(v, n_cand, index.breadth(ef), Some(&allow), &q.exclude),
            };
            for h in hits {
                if seen.insert(h.item.case) {
                    candidates.push(h.item.case);
                }
            }
        };
        let use_text = opt.weights.of(Channel::Text) > 0.0 && q.text.as_ref().is_some_and(|t| t.len() == self.text.dim());
        let query_images: Vec<&(Option<i64>, Vec<f32>)> = q.images.iter().filter(|(_, v)| v.len() == self.image.dim()).collect();
        let use_image = opt.weights.of(Channel::Image) > 0.0 && !query_images.is_empty();
        if use_text {
            gather(&self.text, q.text.as_deref().unwrap_or_default());
        }
        if use_image {
            for (_, v) in &query_images {
                gather(&self.image, v);
            }
        }
        drop(gather);
        // Labs: profiles are few and small, compared exactly.
        let lab_map = self.labs.read().unwrap_or_else(|e| e.into_inner());
        let query_labs = q.labs.as_ref().filter(|l| l.len() >= labprofile::MIN_SHARED);
        let use_labs = opt.weights.of(Channel::Labs) > 0.0 && query_labs.is_some();
        if let Some(ql) = query_labs.filter(|_| use_labs) {
            let mut scored: Vec<(f32, i64)> = lab_map
                .iter()
                .filter(|(id, _)| !exclude.contains(id) && allow(**id))
                .filter_map(|(id, p)| labprofile::similarity(ql, p).map(|(s, _)| (s, *id)))
                .collect();
            let n = n_cand.min(scored.len());
            if n > 0 {
                scored.select_nth_unstable_by(n - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                scored.truncate(n);
                scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            }
            for (_, case) in scored {
                if seen.insert(case) {
                    candidates.push(case);
                }
            }
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        // Exact re-scoring of the union.
        let text_score = |case: i64| -> Option<(f32, Option<i64>, Option<i64>)> {
            let t = q.text.as_deref()?;
            self.text.score_case(t, case).first().map(|h| (h.cosine, None, None))
        };
        let image_score = |case: i64| -> Option<(f32, Option<i64>, Option<i64>)> {
            let mut best: Option<(f32, Option<i64>, Option<i64>)> = None;
            for (qid, v) in &query_images {
                if let Some(h) = self.image.score_case(v, case).first() {
                    if best.is_none_or(|b| h.cosine > b.0) {
                        best = Some((h.cosine, *qid, Some(h.item.key)));
                    }
                }
            }
            best
        };
        let lab_score = |case: i64| -> Option<(f32, Vec<u16>)> { labprofile::similarity(query_labs?, lab_map.get(&case)?) };
        let lab_scores: Vec<Option<(f32, Vec<u16>)>> = if use_labs { candidates.iter().map(|c| lab_score(*c)).collect() } else { Vec::new() };
        let mut channels: Vec<(Channel, Vec<Option<(f32, Option<i64>, Option<i64>)>>)> = Vec::new();
        if use_text {
            channels.push((Channel::Text, candidates.iter().map(|c| text_score(*c)).collect()));
        }
        if use_image {
            channels.push((Channel::Image, candidates.iter().map(|c| image_score(*c)).collect()));
        }
        if use_labs {
            channels.push((Channel::Labs, lab_scores.iter().map(|s| s.as_ref().map(|(v, _)| (*v, None, None))).collect()));
        }
        // Calibration.
        let calibrated: Vec<Vec<Option<f32>>> = channels
            .iter()
            .map(|(ch, scores)| {
                let raw: Vec<Option<f32>> = scores.iter().map(|s| s.map(|s| s.0)).collect();
                match opt.calibration {
                    Calibration::Raw => raw,
                    Calibration::Rrf => rrf(&raw),
                    Calibration::ZScore => {
                        let dist: Vec<f32> = match ch {
                            Channel::Text => self.text.sample_cases(CALIBRATION_SAMPLE).iter().filter_map(|c| text_score(*c)).map(|s| s.0).collect(),
                            Channel::Image => self.image.sample_cases(CALIBRATION_SAMPLE).iter().filter_map(|c| image_score(*c)).map(|s| s.0).collect(),
                            Channel::Labs => self.lab_sample(&lab_map).iter().filter_map(|c| lab_score(*c)).map(|s| s.0).collect(),
                        };
                        zscore(&raw, &dist)
                    }
                }
            })
            .collect();
        let mut hits: Vec<Hit> = candidates
            .iter()
            .enumerate()
            .filter_map(|(i, case)| {
                let mut total_w = 0.0;
                for (ch, scores) in &channels {
                    if scores[i].is_some() {
                        total_w += opt.weights.of(*ch);
                    }
                }
                if total_w <= 0.0 {
                    return None;
                }
                let mut parts = Vec::new();
                let (mut fused, mut cosine) = (0.0, 0.0);
                for (m, (ch, scores)) in channels.iter().enumerate() {
                    let (Some((cos, qi, hi)), Some(cal)) = (scores[i], calibrated[m][i]) else { continue };
                    let w = opt.weights.of(*ch) / total_w;
                    fused += w * cal;
                    cosine += w * cos;
                    parts.push(ChannelScore { channel: *ch, cosine: cos, calibrated: cal, weight: w, query_item: qi, hit_item: hi });
                }
                let shared_abnormal = lab_scores.get(i).and_then(|s| s.as_ref()).map(|s| s.1.clone()).unwrap_or_default();
                Some(Hit { case: *case, fused, cosine, channels: parts, shared_abnormal })
            })
            .collect();
        hits.sort_by(|a, b| b.fused.total_cmp(&a.fused).then(a.case.cmp(&b.case)));
        hits.truncate(opt.k);
        hits
    }

    /// Writes the indexes and the header into `dir` (which should not exist yet).
    pub fn save(&self, dir: &Path, last_change: i64) -> Result<Header, IndexError> {
        std::fs::create_dir_all(dir)?;
        self.text.save(dir, "text")?;
        self.image.save(dir, "image")?;
        let meta: Vec<(i64, CaseMeta)> = {
            let m = self.meta.read().unwrap_or_else(|e| e.into_inner());
            let mut v: Vec<(i64, CaseMeta)> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
            v.sort_by_key(|(k, _)| *k);
            v
        };
        let stats = self.stats();
        let header = Header {
            format: HEADER_FORMAT,
            text_model: self.text_model.clone(),
            image_model: self.image_model.clone(),
            text_dim: self.text.dim(),
            image_dim: self.image.dim(),
            params: self.text.params(),
            last_change,
            text_vectors: stats.text.live,
            image_vectors: stats.image.live,
            lab_profiles: stats.labs,
            cases: stats.cases,
            built_at: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
        };
        std::fs::write(dir.join("cases.json"), to_json(&meta)?)?;
        let labs: Vec<(i64, LabProfile)> = {
            let m = self.labs.read().unwrap_or_else(|e| e.into_inner());
            let mut v: Vec<(i64, LabProfile)> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
            v.sort_by_key(|(k, _)| *k);
            v
        };
        std::fs::write(dir.join("labs.json"), to_json(&labs)?)?;
        // The header goes last: a directory with a header is complete.
        std::fs::write(dir.join("header.json"), to_json(&header)?)?;
        Ok(header)
    }

    /// Reads just the header of a saved engine.
    pub fn read_header(dir: &Path) -> Result<Header, IndexError> {
        let bytes = std::fs::read(dir.join("header.json"))?;
        serde_json::from_slice(&bytes).map_err(|e| IndexError::Dump(format!("header: {e}")))
    }

    /// Loads what [`save`](Self::save) wrote.
    pub fn load(dir: &Path) -> Result<(Self, Header), IndexError> {
        let header = Self::read_header(dir)?;
        if header.format != HEADER_FORMAT {
            return Err(IndexError::Dump(format!("format {} (expected {HEADER_FORMAT})", header.format)));
        }
        let bytes = std::fs::read(dir.join("cases.json"))?;
        let meta: Vec<(i64, CaseMeta)> = serde_json::from_slice(&bytes).map_err(|e| IndexError::Dump(format!("cases: {e}")))?;
        let engine = Self {
            text_model: header.text_model.clone(),
            image_model: header.image_model.clone(),
            text: VectorIndex::load(dir, "text")?,
            image: VectorIndex::load(dir, "image")?,
            meta: RwLock::new(meta.into_iter().collect()),
            labs: RwLock::new(match std::fs::read(dir.join("labs.json")) {
                Ok(bytes) => serde_json::from_slice::<Vec<(i64, LabProfile)>>(&bytes).map_err(|e| IndexError::Dump(format!("labs: {e}")))?.into_iter().collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
                Err(e) => return Err(e.into()),
            }),
            lab_sample: Mutex::new(None),
        };
        let s = engine.stats();
        if s.text.live != header.text_vectors || s.image.live != header.image_vectors || s.cases != header.cases || s.labs != header.lab_profiles {
            return Err(IndexError::Dump("index files disagree with their header".into()));
        }
        Ok((engine, header))
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, IndexError> {
    serde_json::to_vec(v).map_err(|e| IndexError::Dump(e.to_string()))
}

impl Engine {
    /// The lab calibration sample for `labs` (this engine's map, read-locked by the caller).
    fn lab_sample(&self, labs: &HashMap<i64, LabProfile>) -> Arc<Vec<i64>> {
        let mut cached = self.lab_sample.lock().unwrap_or_else(|e| e.into_inner());
        cached.get_or_insert_with(|| Arc::new(lab_sample(labs, CALIBRATION_SAMPLE))).clone()
    }

    fn forget_lab_sample(&self) {
        *self.lab_sample.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// A fixed sample of the cases with lab profiles (the smallest ids), for calibration.
fn lab_sample(labs: &HashMap<i64, LabProfile>, n: usize) -> Vec<i64> {
    let mut ids: Vec<i64> = labs.keys().copied().collect();
    if ids.len() > n {
        ids.select_nth_unstable(n - 1);
        ids.truncate(n);
    }
    ids.sort_unstable();
    ids
}

/// z-scores of `scores` against the distribution `dist` (`None` stays `None`).
pub fn zscore(scores: &[Option<f32>], dist: &[f32]) -> Vec<Option<f32>> {
    if dist.len() < 2 {
        return scores.to_vec();
    }
    let mean = dist.iter().sum::<f32>() / dist.len() as f32;
    let var = dist.iter().map(|s| (s - mean).powi(2)).sum::<f32>() / dist.len() as f32;
    let sd = var.sqrt().max(1e-6);
    scores.iter().map(|s| s.map(|s| (s - mean) / sd)).collect()
}

/// Reciprocal-rank scores `1 / (60 + rank)` (rank from 1, best score first).
pub fn rrf(scores: &[Option<f32>]) -> Vec<Option<f32>> {
    let mut order: Vec<usize> = (0..scores.len()).filter(|i| scores[*i].is_some()).collect();
    order.sort_by(|a, b| scores[*b].unwrap_or(0.0).total_cmp(&scores[*a].unwrap_or(0.0)).then(a.cmp(b)));
    let mut out = vec![None; scores.len()];
    for (rank, i) in order.into_iter().enumerate() {
        out[i] = Some(1.0 / (61.0 + rank as f32));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        crate::normalise(&mut v);
        v
    }

    fn meta(validated: bool, imaging: u8, region: &str, day: i32) -> CaseMeta {
        CaseMeta { validated, imaging, body_region: Some(region.into()), created_day: day }
    }

    /// Three cases in 3-d text space and 2-d image space.
    fn engine() -> Engine {
        let cases = vec![
            (1, CaseVectors { meta: meta(true, imaging::CT, "chest", 10), text: Some(unit(&[1.0, 0.0, 0.0])), images: vec![(11, unit(&[1.0, 0.0])), (12, unit(&[0.0, 1.0]))], labs: None }),
            (2, CaseVectors { meta: meta(false, imaging::MR, "head", 20), text: Some(unit(&[0.9, 0.1, 0.0])), images: vec![], labs: None }),
            (3, CaseVectors { meta: meta(true, imaging::XRAY, "chest", 30), text: None, images: vec![(31, unit(&[0.2, 1.0]))], labs: None }),
            (4, CaseVectors { meta: meta(false, imaging::CT, "abdomen", 40), text: Some(unit(&[0.0, 0.0, 1.0])), images: vec![(41, unit(&[1.0, 0.1]))], labs: None }),
        ];
        Engine::build("t@1".into(), Some("i@1".into()), (3, 2), IndexParams::default(), cases).unwrap()
    }

    fn raw(k: usize, text: f32, image: f32) -> SearchOptions {
        SearchOptions { k, weights: Weights { text, image, labs: 0.0 }, calibration: Calibration::Raw, ..SearchOptions::default() }
    }

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
        let q = Query { text: Some(unit(&[1.0, 1.0, 1.0])), images: vec![(None, unit(&[1.0, 1.0]))], labs: None, exclude: vec![1] };
        let cases = [
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
                for h in &hits {
                    assert_ne!(h.case, 1);
                    assert!(f.admits(h.case, &metas[&h.case]), "{f:?} let case {} through", h.case);
                }
            }
        }
    }

    #[test]
    fn put_case_replaces_and_remove_forgets() {
        let e = engine();
        e.put_case(4, CaseVectors { meta: meta(true, imaging::CT, "abdomen", 40), text: Some(unit(&[0.0, 1.0, 0.0])), images: vec![(42, unit(&[0.0, 1.0]))], labs: None }).unwrap();
        let c = e.case(4).unwrap();
        assert_eq!(c.images.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![42]);
        assert!(c.meta.validated);
        let q = Query { text: None, images: vec![(None, unit(&[1.0, 0.1]))], labs: None, exclude: vec![] };
        assert!(e.search(&q, &Filter::default(), &raw(10, 0.5, 0.5)).iter().all(|h| h.channels.iter().all(|c| c.hit_item != Some(41))));
        e.remove_case(4);
        assert!(e.case(4).is_none());
        assert_eq!(e.stats().cases, 3);
        assert_eq!(e.stats().text.live, 2);
    }

    #[test]
    fn calibration_helpers() {
        assert_eq!(zscore(&[Some(3.0), None], &[1.0, 3.0]), vec![Some(1.0), None]);
        assert_eq!(rrf(&[Some(0.1), None, Some(0.9)]), vec![Some(1.0 / 62.0), None, Some(1.0 / 61.0)]);
    }

    #[test]
    fn save_load_round_trip() {
        let e = engine();
        let dir = std::env::temp_dir().join(format!("precedent-engine-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let h = e.save(&dir, 42).unwrap();
        let (back, h2) = Engine::load(&dir).unwrap();
        assert_eq!(h, h2);
        assert_eq!(h.last_change, 42);
        for id in e.case_ids() {
            let (a, b) = (e.case(id).unwrap(), back.case(id).unwrap());
            assert_eq!((a.meta, a.text, a.images), (b.meta, b.text, b.images));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn each_index_gets_the_links_its_dimension_needs_and_keeps_them_on_reload() {
        let params = IndexParams::default();
        let e = Engine::new("t@1".into(), Some("i@1".into()), (389, 128), params, 10);
        assert_eq!(e.text.params(), params);
        assert_eq!(e.image.params().max_connections, crate::index::LOW_DIM_CONNECTIONS);
        assert_eq!(e.image.params().ef_construction, params.ef_construction);
        // The scan graph, with fewer links, is searched wider.
        assert_eq!(e.text.breadth(64), 64);
        assert_eq!(e.image.breadth(64), 64 * crate::index::LOW_DIM_EF_FACTOR);
        let dir = std::env::temp_dir().join(format!("precedent-engine-params-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        e.save(&dir, 0).unwrap();
        let (back, _) = Engine::load(&dir).unwrap();
        assert_eq!((back.text.params(), back.image.params()), (e.text.params(), e.image.params()));
        let _ = std::fs::remove_dir_all(&dir);
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

    #[test]
    fn the_lab_calibration_sample_is_kept_until_cases_gain_or_lose_labs() {
        let e = engine();
        let sample = |e: &Engine| e.lab_sample(&e.labs.read().unwrap());
        let mut c2 = e.case(2).unwrap();
        c2.labs = Some(LabProfile::new(vec![(1, 1.0), (2, 2.0)]));
        e.put_case(2, c2.clone()).unwrap();
        let first = sample(&e);
        assert_eq!(*first, vec![2]);
        // A changed profile keeps the same sample (ids only); a new case with labs does not.
        c2.labs = Some(LabProfile::new(vec![(1, 3.0), (2, 2.0)]));
        e.put_case(2, c2).unwrap();
        assert!(Arc::ptr_eq(&first, &sample(&e)));
        let mut c4 = e.case(4).unwrap();
        c4.labs = Some(LabProfile::new(vec![(1, 0.0), (5, 4.0)]));
        e.put_case(4, c4.clone()).unwrap();
        assert_eq!(*sample(&e), vec![2, 4]);
        c4.labs = None;
        e.put_case(4, c4).unwrap();
        assert_eq!(*sample(&e), vec![2]);
        e.remove_case(2);
        assert!(sample(&e).is_empty());
    }
}
