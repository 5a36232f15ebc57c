//! One modality's vector index: an `hnsw_rs` graph over L2-normalised vectors (cosine), plus the
//! bookkeeping hnsw_rs does not do — which stored item (image or case text) each graph point is,
//! which points are superseded or deleted (hnsw_rs cannot delete: dead points stay in the graph
//! for navigation and are filtered out of results), and the vectors themselves for exact
//! re-scoring and exact scans of small filtered sets.
//!
//! Points get dense ids `0..n` in insertion order; an item changed or deleted leaves its old
//! point dead. A rebuild drops dead points.
//!
//! The rooms: this file is the index itself (inserts, removals, the search copy of the graph,
//! searches and exact scans); `params` the graph parameters; `points` the point table (which
//! item each point is, live or dead, where its vector is kept); `persist` the dump to disk and
//! back. The vector maths is [`crate::vector`]'s, the flat walk over the graph [`crate::walk`]'s.
mod params;
mod persist;
mod points;

pub use params::{IndexParams, GRAPH_BYTES_PER_LINK, LOW_DIM, LOW_DIM_CONNECTIONS, LOW_DIM_EF_FACTOR};
pub use points::{Item, ItemHit};

use crate::vector::{dot, CosineDistance};
use crate::walk::Snapshot;
use hnsw_rs::hnsw::Point;
use hnsw_rs::prelude::{FilterT, Hnsw};
use points::{Points, Stored};
use std::sync::{Arc, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("vector has {got} dimensions, the index {expected}")]
    Dimension { expected: usize, got: usize },
    #[error("vector is not finite or not unit length")]
    NotUnit,
    #[error("index files: {0}")]
    Io(#[from] std::io::Error),
    #[error("index dump: {0}")]
    Dump(String),
}

/// Graphs smaller than this, and batches smaller than this, are built one point at a time.
const SEQUENTIAL_BELOW: usize = 1000;

/// Points added since the search copy of the graph was taken are scanned exactly; once there
/// are this many, a new copy is taken.
const SNAPSHOT_LAG: usize = 1024;

/// A modality's index. Inserts and searches may run concurrently (`&self`).
pub struct VectorIndex {
    dim: usize,
    params: IndexParams,
    graph: Hnsw<'static, f32, CosineDistance>,
    points: RwLock<Points>,
    /// The flat copy of the graph that unfiltered searches walk ([`Snapshot`]).
    snapshot: RwLock<Arc<Snapshot>>,
    /// The last calibration sample: (cases version, size asked, cases), so queries do not
    /// collect and sort every case id each time.
    sample: std::sync::Mutex<(u64, usize, Arc<Vec<i64>>)>,
}

/// Counts for status pages and checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IndexStats {
    pub live: usize,
    pub dead: usize,
    pub dim: usize,
    /// Estimated memory of the graph and its vectors: every point ever inserted (dead ones stay
    /// until a rebuild) × (its vector + [`GRAPH_BYTES_PER_LINK`] per neighbour slot, 2·M).
    pub memory_bytes: u64,
}

fn check_unit(v: &[f32], dim: usize) -> Result<(), IndexError> {
    if v.len() != dim {
        return Err(IndexError::Dimension { expected: dim, got: v.len() });
    }
    let n = dot(v, v);
    if !n.is_finite() || (n - 1.0).abs() > 1e-2 {
        return Err(IndexError::NotUnit);
    }
    Ok(())
}

impl VectorIndex {
    /// An empty index for `dim`-dimensional vectors, sized for about `capacity` points.
    pub fn new(dim: usize, capacity: usize, params: IndexParams) -> Self {
        let capacity = capacity.max(1024);
        let layers = 16;
        let graph = Hnsw::new(params.max_connections, capacity, layers, params.ef_construction, CosineDistance);
        let snapshot = RwLock::new(Arc::new(Snapshot::of(&graph, 0, dim)));
        Self { dim, params, graph, points: RwLock::new(Points::default()), snapshot, sample: Default::default() }
    }

    /// Builds an index from `items` (graph insertion in parallel).
    pub fn build(dim: usize, params: IndexParams, items: Vec<(Item, Vec<f32>)>) -> Result<Self, IndexError> {
        let index = Self::new(dim, items.len(), params);
        index.insert_bulk(items)?;
        index.seal();
        Ok(index)
    }

    /// Adds many items at once, inserting them into the graph in parallel (items already
    /// present are superseded). All vectors are checked before anything is added. No new
    /// search copy of the graph is taken (searches scan the new points exactly meanwhile):
    /// call [`seal`](Self::seal) after the last batch. Saves copying a growing graph after
    /// every batch, and the memory those short-lived copies leave fragmented.
    pub fn insert_bulk(&self, items: Vec<(Item, Vec<f32>)>) -> Result<(), IndexError> {
        for (_, v) in &items {
            check_unit(v, self.dim)?;
        }
        let first = {
            let mut p = self.write();
            let first = p.items.len();
            p.stored.reserve(items.len());
            for (item, v) in &items {
                p.push(*item, v);
            }
            first
        };
        // Points inserted in parallel do not see each other: in a small graph (or a small batch)
        // that can leave points poorly connected, so those are inserted one after another.
        let seq = if items.len() < SEQUENTIAL_BELOW { items.len() } else { SEQUENTIAL_BELOW.saturating_sub(first).min(items.len()) };
        for (i, (_, v)) in items.iter().enumerate().take(seq) {
            self.graph.insert_slice((v.as_slice(), first + i));
        }
        let rest: Vec<(&[f32], usize)> = items.iter().enumerate().skip(seq).map(|(i, (_, v))| (v.as_slice(), first + i)).collect();
        if !rest.is_empty() {
            self.graph.parallel_insert_slice(&rest);
        }
        self.resolve();
        Ok(())
    }

    /// Takes the search copy of the whole graph (after [`insert_bulk`](Self::insert_bulk)).
    pub fn seal(&self) {
        self.refresh_snapshot(true);
    }

    /// The current search copy of the graph.
    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Takes a new search copy of the graph when `force`d or when the points added since the
    /// last one reach [`SNAPSHOT_LAG`].
    fn refresh_snapshot(&self, force: bool) {
        let n = self.read().items.len();
        let have = self.snapshot().points();
        if !force && n < have + SNAPSHOT_LAG {
            return;
        }
        let started = std::time::Instant::now();
        let fresh = Snapshot::of(&self.graph, n, self.dim);
        tracing::debug!(points = fresh.points(), ms = started.elapsed().as_millis() as u64, "search copy of the graph taken");
        let mut current = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
        // A copy taken concurrently with more points wins.
        if fresh.points() >= current.points() {
            *current = Arc::new(fresh);
        }
    }

    /// Replaces our copies of vectors by the graph's (one pass over the graph's points).
    fn resolve(&self) {
        if self.read().pending == 0 {
            return;
        }
        let found: Vec<(usize, Arc<Point<'static, f32>>)> = {
            let p = self.read();
            self.graph
                .get_point_indexation()
                .into_iter()
                .filter(|pt| matches!(p.stored.get(pt.get_origin_id()), Some(Stored::Pending(_))))
                .map(|pt| (pt.get_origin_id(), pt))
                .collect()
        };
        let mut p = self.write();
        for (id, pt) in found {
            if matches!(p.stored[id], Stored::Pending(_)) {
                p.stored[id] = Stored::Graph(pt);
                p.pending -= 1;
            }
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn params(&self) -> IndexParams {
        self.params
    }

    /// The search breadth to use in this graph for a requested `ef`: [`LOW_DIM_EF_FACTOR`] times
    /// wider when it was built with [`LOW_DIM_CONNECTIONS`] links per point or fewer.
    pub fn breadth(&self, ef: usize) -> usize {
        if self.params.max_connections <= LOW_DIM_CONNECTIONS {
            ef * LOW_DIM_EF_FACTOR
        } else {
            ef
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Points> {
        self.points.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Points> {
        self.points.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds or replaces `item`'s vector (an item already present is superseded).
    pub fn upsert(&self, item: Item, vector: &[f32]) -> Result<(), IndexError> {
        check_unit(vector, self.dim)?;
        let (id, pending) = {
            let mut p = self.write();
            if let Some(old) = p.by_key.get(&item.key).copied() {
                if p.items[old].case == item.case && p.vector(old) == vector {
                    return Ok(());
                }
            }
            let id = p.push(item, vector);
            (id, p.pending)
        };
        self.graph.insert_slice((vector, id));
        // Points added one by one keep our copy until a batch of them is looked up in the graph.
        if pending >= 256 {
            self.resolve();
        }
        self.refresh_snapshot(false);
        Ok(())
    }

    /// Removes `key` (its point stays in the graph, dead, until the next rebuild).
    pub fn remove(&self, key: i64) -> bool {
        let mut p = self.write();
        match p.by_key.get(&key).copied() {
            Some(id) => {
                p.kill(id);
                true
            }
            None => false,
        }
    }

    /// Removes every item of `case`.
    pub fn remove_case(&self, case: i64) {
        let mut p = self.write();
        if let Some(points) = p.by_case.get(&case).cloned() {
            for id in points {
                p.kill(id);
            }
        }
    }

    pub fn stats(&self) -> IndexStats {
        let p = self.read();
        let live = p.by_key.len();
        let per_point = self.dim as u64 * 4 + 2 * self.params.max_connections as u64 * GRAPH_BYTES_PER_LINK;
        let memory_bytes = p.items.len() as u64 * per_point + self.snapshot().memory_bytes();
        IndexStats { live, dead: p.items.len() - live, dim: self.dim, memory_bytes }
    }

    /// The live items with their vectors (for checks against the database).
    pub fn live_items(&self) -> Vec<(Item, Vec<f32>)> {
        let p = self.read();
        let mut out: Vec<(Item, Vec<f32>)> = p.by_key.values().map(|id| (p.items[*id], p.vector(*id).to_vec())).collect();
        out.sort_by_key(|(i, _)| i.key);
        out
    }

    /// The live items of `case` with their vectors.
    pub fn live_items_of(&self, case: i64) -> Vec<(Item, Vec<f32>)> {
        let p = self.read();
        p.by_case.get(&case).map(|ids| ids.iter().map(|id| (p.items[*id], p.vector(*id).to_vec())).collect()).unwrap_or_default()
    }

    /// Whether `case` has any live item.
    pub fn has_case(&self, case: i64) -> bool {
        self.read().by_case.contains_key(&case)
    }

    /// Exact cosines of `query` to every live item of `case`, best first.
    pub fn score_case(&self, query: &[f32], case: i64) -> Vec<ItemHit> {
        let p = self.read();
        let mut out: Vec<ItemHit> = p
            .by_case
            .get(&case)
            .map(|ids| ids.iter().map(|id| ItemHit { item: p.items[*id], cosine: dot(query, p.vector(*id)) }).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| b.cosine.total_cmp(&a.cosine).then(a.item.key.cmp(&b.item.key)));
        out
    }

    /// Approximate nearest live items, best first, with exact cosines; items of `exclude`d
    /// cases are never returned.
    ///
    /// Without `filter` this walks the flat copy of hnsw_rs's graph ([`Snapshot`]) and scans
    /// the points added since it was taken, over-fetching by the number of dead and excluded
    /// points so they can be dropped. With `filter` (a restriction on cases)
    /// the filter is applied inside the graph walk (hnsw_rs `FilterT`). Note that hnsw_rs 0.3.5
    /// gives up its early exit when a filter is set and walks the whole connected graph: recall
    /// stays high under restrictive filters but the cost approaches an exact scan, so callers
    /// scan small allowed sets exactly instead (see `bench ann`).
    pub fn search(&self, query: &[f32], k: usize, ef: usize, filter: Option<&dyn Fn(i64) -> bool>, exclude: &[i64]) -> Vec<ItemHit> {
        if k == 0 || query.len() != self.dim {
            return Vec::new();
        }
        let p = self.read();
        let excluded = |case: i64| exclude.contains(&case);
        let found: Vec<usize> = match filter {
            None => {
                let dead = p.items.len() - p.by_key.len();
                let skipped: usize = exclude.iter().filter_map(|c| p.by_case.get(c)).map(Vec::len).sum();
                let want = k + dead.min(4 * k + 16) + skipped;
                let snapshot = self.snapshot();
                let walked = snapshot.search(query, ef.max(want)).into_iter().map(|(_, id)| id as usize);
                walked.chain(snapshot.points()..p.items.len()).collect()
            }
            Some(allow) => {
                let f = |id: &usize| p.live.get(*id).copied().unwrap_or(false) && !excluded(p.items[*id].case) && allow(p.items[*id].case);
                let f: &dyn FilterT = &f;
                self.graph.search_filter(query, k, ef.max(k), Some(f)).into_iter().map(|n| n.d_id).collect()
            }
        };
        let mut out: Vec<ItemHit> = found
            .into_iter()
            .filter(|id| p.live.get(*id).copied().unwrap_or(false) && !excluded(p.items[*id].case))
            .map(|id| ItemHit { item: p.items[id], cosine: dot(query, p.vector(id)) })
            .collect();
        out.sort_by(|a, b| b.cosine.total_cmp(&a.cosine).then(a.item.key.cmp(&b.item.key)));
        out.truncate(k);
        out
    }

    /// hnsw_rs's own search of the graph (keys of the nearest points, dead ones included), for
    /// benchmarks that compare it with the walk of the flat copy that [`search`](Self::search) uses.
    pub fn search_hnsw_rs(&self, query: &[f32], k: usize, ef: usize) -> Vec<i64> {
        let p = self.read();
        self.graph.search(query, k, ef.max(k)).into_iter().filter_map(|n| p.items.get(n.d_id)).map(|i| i.key).collect()
    }

    /// Exact nearest live items of the given cases (or of all cases when `cases` is `None`).
    pub fn exact(&self, query: &[f32], k: usize, cases: Option<&[i64]>) -> Vec<ItemHit> {
        let p = self.read();
        let score = |id: usize| ItemHit { item: p.items[id], cosine: dot(query, p.vector(id)) };
        let mut all: Vec<ItemHit> = match cases {
            Some(cases) => cases.iter().filter_map(|c| p.by_case.get(c)).flatten().map(|id| score(*id)).collect(),
            None => p.by_key.values().map(|id| score(*id)).collect(),
        };
        let k = k.min(all.len());
        if k == 0 {
            return Vec::new();
        }
        let cmp = |a: &ItemHit, b: &ItemHit| b.cosine.total_cmp(&a.cosine).then(a.item.key.cmp(&b.item.key));
        all.select_nth_unstable_by(k - 1, cmp);
        all.truncate(k);
        all.sort_by(cmp);
        all
    }

    /// A deterministic sample of up to `n` live cases (for score calibration), recomputed only
    /// after the set of cases changed.
    pub fn sample_cases(&self, n: usize) -> Arc<Vec<i64>> {
        let p = self.read();
        let mut cache = self.sample.lock().unwrap_or_else(|e| e.into_inner());
        if cache.0 == p.cases_version && cache.1 == n {
            return Arc::clone(&cache.2);
        }
        let mut cases: Vec<i64> = p.by_case.keys().copied().collect();
        cases.sort_unstable();
        if cases.len() > n {
            let step = cases.len() as f64 / n as f64;
            cases = (0..n).map(|i| cases[(i as f64 * step) as usize]).collect();
        }
        *cache = (p.cases_version, n, Arc::new(cases));
        Arc::clone(&cache.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic unit vectors: `clusters` centres, points scattered around them.
    pub(crate) fn vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        };
        (0..n)
            .map(|_| {
                let mut v: Vec<f32> = (0..dim).map(|_| next()).collect();
                crate::vector::normalise(&mut v);
                v
            })
            .collect()
    }

    pub(super) fn items(vs: &[Vec<f32>]) -> Vec<(Item, Vec<f32>)> {
        vs.iter().enumerate().map(|(i, v)| (Item { key: i as i64, case: i as i64 / 2 }, v.clone())).collect()
    }

    #[test]
    fn finds_itself_and_matches_exact_search() {
        let vs = vectors(600, 32, 1);
        let idx = VectorIndex::build(32, IndexParams::default(), items(&vs)).unwrap();
        let mut agree = 0;
        for q in vs.iter().take(50) {
            let ann: Vec<i64> = idx.search(q, 10, 100, None, &[]).iter().map(|h| h.item.key).collect();
            let exact: Vec<i64> = idx.exact(q, 10, None).iter().map(|h| h.item.key).collect();
            agree += ann.iter().filter(|k| exact.contains(k)).count();
        }
        assert!(agree >= 490, "recall {agree}/500");
        let hit = idx.search(&vs[7], 1, 64, None, &[]);
        assert_eq!(hit[0].item.key, 7);
        assert!((hit[0].cosine - 1.0).abs() < 1e-5);
    }

    #[test]
    fn superseded_and_removed_items_never_come_back() {
        let vs = vectors(200, 16, 2);
        let idx = VectorIndex::build(16, IndexParams::default(), items(&vs)).unwrap();
        // Replace item 3's vector by item 150's: searching the old vector must not return key 3.
        idx.upsert(Item { key: 3, case: 1 }, &vs[150]).unwrap();
        assert!(idx.search(&vs[3], 5, 64, None, &[]).iter().all(|h| h.item.key != 3));
        let top = idx.search(&vs[150], 2, 64, None, &[]);
        assert_eq!(top.iter().map(|h| h.item.key).collect::<Vec<_>>().len(), 2);
        assert!(top.iter().all(|h| (h.cosine - 1.0).abs() < 1e-5));
        assert!(idx.remove(150));
        assert!(!idx.remove(150));
        assert!(idx.search(&vs[150], 10, 64, None, &[]).iter().all(|h| h.item.key != 150));
        idx.remove_case(10); // keys 20, 21
        assert!(idx.exact(&vs[20], 200, None).iter().all(|h| h.item.case != 10));
        let per_point = 16 * 4 + 2 * IndexParams::default().max_connections as u64 * GRAPH_BYTES_PER_LINK;
        let memory_bytes = 201 * per_point + idx.snapshot().memory_bytes();
        assert_eq!(idx.stats(), IndexStats { live: 197, dead: 4, dim: 16, memory_bytes });
    }

    #[test]
    fn filters_apply_during_the_walk() {
        let vs = vectors(500, 16, 3);
        let idx = VectorIndex::build(16, IndexParams::default(), items(&vs)).unwrap();
        let even = |c: i64| c % 2 == 0;
        for q in vs.iter().take(20) {
            let hits = idx.search(q, 10, 64, Some(&even), &[4]);
            assert_eq!(hits.len(), 10);
            assert!(hits.iter().all(|h| h.item.case % 2 == 0 && h.item.case != 4));
            let plain = idx.search(q, 10, 64, None, &[0, 1, 2]);
            assert_eq!(plain.len(), 10);
            assert!(plain.iter().all(|h| h.item.case > 2));
        }
        let few = [5i64, 9];
        let hits = idx.exact(&vs[0], 10, Some(&few));
        assert_eq!(hits.len(), 4);
        assert!(hits.iter().all(|h| few.contains(&h.item.case)));
    }

    #[test]
    fn points_added_one_by_one_share_the_graphs_vectors() {
        let vs = vectors(700, 16, 5);
        let idx = VectorIndex::new(16, 0, IndexParams::default());
        for (i, v) in vs.iter().enumerate() {
            idx.upsert(Item { key: i as i64, case: i as i64 }, v).unwrap();
        }
        assert!(idx.read().pending < 256, "looked up in batches");
        for (i, v) in vs.iter().enumerate().step_by(7) {
            let top = idx.exact(v, 1, None);
            assert_eq!(top[0].item.key, i as i64);
            assert!((top[0].cosine - 1.0).abs() < 1e-5);
            assert_eq!(idx.search(v, 1, 32, None, &[])[0].item.key, i as i64);
        }
        assert_eq!(idx.live_items().len(), 700);
    }

    #[test]
    fn points_added_after_the_search_copy_are_found_until_the_next_copy() {
        let vs = vectors(3000, 16, 8);
        let idx = VectorIndex::build(16, IndexParams::default(), items(&vs[..1500])).unwrap();
        assert_eq!(idx.snapshot().points(), 1500, "a build takes a copy");
        for (i, v) in vs[1500..2000].iter().enumerate() {
            idx.upsert(Item { key: 1500 + i as i64, case: 5000 }, v).unwrap();
        }
        assert_eq!(idx.snapshot().points(), 1500, "fewer than SNAPSHOT_LAG new points: scanned");
        for i in (1500..2000).step_by(37) {
            assert_eq!(idx.search(&vs[i], 1, 32, None, &[])[0].item.key, i as i64);
        }
        // Superseding an item copied into the snapshot: the old point is dead, the new one found.
        idx.upsert(Item { key: 10, case: 5 }, &vs[2999]).unwrap();
        assert!(idx.search(&vs[10], 10, 64, None, &[]).iter().all(|h| h.item.key != 10));
        assert_eq!(idx.search(&vs[2999], 1, 64, None, &[])[0].item.key, 10);
        let more = vs[2000..2999].iter().enumerate().map(|(i, v)| (Item { key: 2000 + i as i64, case: 6000 }, v.clone())).collect();
        idx.insert_bulk(more).unwrap();
        idx.refresh_snapshot(false);
        assert_eq!(idx.snapshot().points(), 3000, "a new copy once SNAPSHOT_LAG points were added");
        for i in (0..2999).step_by(101) {
            if i != 10 {
                assert_eq!(idx.search(&vs[i], 1, 64, None, &[])[0].item.key, i as i64);
            }
        }
    }

    #[test]
    fn the_calibration_sample_is_reused_until_the_cases_change() {
        let vs = vectors(40, 8, 6);
        let idx = VectorIndex::build(8, IndexParams::default(), items(&vs[..30])).unwrap();
        let a = idx.sample_cases(10);
        assert_eq!(a.len(), 10);
        assert!(Arc::ptr_eq(&a, &idx.sample_cases(10)));
        assert_eq!(idx.sample_cases(100).len(), 15, "all 15 cases when fewer than asked");
        idx.upsert(Item { key: 100, case: 100 }, &vs[35]).unwrap();
        assert!(idx.sample_cases(100).contains(&100));
        idx.remove_case(100);
        assert!(!idx.sample_cases(100).contains(&100));
    }

    #[test]
    fn rejects_bad_vectors() {
        let idx = VectorIndex::new(4, 0, IndexParams::default());
        assert!(matches!(idx.upsert(Item { key: 1, case: 1 }, &[1.0, 0.0]), Err(IndexError::Dimension { .. })));
        assert!(matches!(idx.upsert(Item { key: 1, case: 1 }, &[2.0, 0.0, 0.0, 0.0]), Err(IndexError::NotUnit)));
        assert!(matches!(idx.upsert(Item { key: 1, case: 1 }, &[f32::NAN, 0.0, 0.0, 0.0]), Err(IndexError::NotUnit)));
        assert_eq!(idx.stats().live, 0);
        assert!(idx.search(&[1.0, 0.0, 0.0, 0.0], 5, 10, None, &[]).is_empty());
    }
}
