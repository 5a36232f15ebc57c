//! The similarity engine: one [`VectorIndex`] per modality plus what filters need to know about
//! each case, and the fusion of per-modality scores into one ranking.
//!
//! A query gathers candidates from each modality's ANN search (several times `k`, filters
//! applied during the graph walk, or an exact scan when the allowed set is small), re-scores the
//! union exactly (images aggregated per case by the best-matching pair), calibrates each modality
//! (its cosines live on their own scale) and sums them with the user's weights, renormalised over
//! the modalities present on both sides.
//!
//! The rooms: this file holds the engine's state and keeps it in step with the cases (build,
//! put, remove, the lab calibration sample); `search` runs a query phase by phase; [`persist`]
//! writes a generation directory and reads it back. The filter fields are [`crate::filter`]'s,
//! the calibration and weighting [`crate::fusion`]'s.
pub mod persist;
mod search;

use crate::filter::CaseMeta;
use crate::fusion::{Calibration, ChannelScore, Weights};
use crate::index::{IndexError, IndexParams, IndexStats, Item, VectorIndex};
use crate::labprofile::LabProfile;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

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
    /// The lab profile of `case`, if it has one.
    pub fn labs_of(&self, case: i64) -> Option<LabProfile> {
        self.labs.read().unwrap_or_else(|e| e.into_inner()).get(&case).cloned()
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{imaging, Filter};
    use crate::fusion::Calibration;

    pub(super) fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        crate::vector::normalise(&mut v);
        v
    }

    pub(super) fn meta(validated: bool, imaging: u8, region: &str, day: i32) -> CaseMeta {
        CaseMeta { validated, imaging, body_region: Some(region.into()), created_day: day, ..CaseMeta::default() }
    }

    /// Three cases in 3-d text space and 2-d image space.
    pub(super) fn engine() -> Engine {
        let cases = vec![
            (
                1,
                CaseVectors {
                    meta: meta(true, imaging::CT, "chest", 10),
                    text: Some(unit(&[1.0, 0.0, 0.0])),
                    images: vec![(11, unit(&[1.0, 0.0])), (12, unit(&[0.0, 1.0]))],
                    labs: None,
                },
            ),
            (2, CaseVectors { meta: meta(false, imaging::MR, "head", 20), text: Some(unit(&[0.9, 0.1, 0.0])), images: vec![], labs: None }),
            (3, CaseVectors { meta: meta(true, imaging::XRAY, "chest", 30), text: None, images: vec![(31, unit(&[0.2, 1.0]))], labs: None }),
            (
                4,
                CaseVectors {
                    meta: meta(false, imaging::CT, "abdomen", 40),
                    text: Some(unit(&[0.0, 0.0, 1.0])),
                    images: vec![(41, unit(&[1.0, 0.1]))],
                    labs: None,
                },
            ),
        ];
        Engine::build("t@1".into(), Some("i@1".into()), (3, 2), IndexParams::default(), cases).unwrap()
    }

    pub(super) fn raw(k: usize, text: f32, image: f32) -> SearchOptions {
        SearchOptions { k, weights: Weights { text, image, labs: 0.0 }, calibration: Calibration::Raw, ..SearchOptions::default() }
    }

    #[test]
    fn put_case_replaces_and_remove_forgets() {
        let e = engine();
        e.put_case(
            4,
            CaseVectors { meta: meta(true, imaging::CT, "abdomen", 40), text: Some(unit(&[0.0, 1.0, 0.0])), images: vec![(42, unit(&[0.0, 1.0]))], labs: None },
        )
        .unwrap();
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
