//! A read-only copy of an hnsw_rs graph in flat arrays, and the greedy/beam search over it.
//!
//! hnsw_rs builds the graph, takes inserts and is what is dumped to disk; but its search keeps
//! visited points in a `HashMap` of reference-counted points, allocates an `Arc` per candidate
//! and takes a lock per neighbour list, so at 100k points most of a query is bookkeeping. Here
//! the same graph is copied into a compressed adjacency array (`u32` ids) with the vectors side
//! by side as 8-bit codes (a scale per vector: a quarter of the memory traffic, cosines within
//! 0.002; the owner re-scores what the walk returns with the exact vectors), and searched by
//! the same algorithm — greedy descent through the upper layers, then a beam of width `ef` on
//! layer 0 — with a reusable visited mark per thread and the neighbours' codes prefetched:
//! 3.8× hnsw_rs's own search at 100k × 384 (`precedent bench ann`, docs/benchmarks.md).
//! Points added after the copy was taken are handled by the owner
//! ([`crate::index::VectorIndex`]), which scans them exactly and takes a new copy when they
//! add up.
use crate::vector::dot_as;
use hnsw_rs::prelude::{Distance, Hnsw};
use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

/// The graph as it was when copied: points `0..points`, their layer-0 neighbours in one array,
/// the few upper-layer points' neighbours in maps, and the vectors in one array (8-bit codes,
/// `vector ≈ scale × code`).
pub struct Snapshot {
    dim: usize,
    points: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    offsets: Vec<u32>,
    neighbours: Vec<u32>,
    /// `upper[l - 1]`: neighbours at layer `l` of each point present there.
    upper: Vec<HashMap<u32, Box<[u32]>>>,
    entry: Option<u32>,
}

impl Snapshot {
    /// Copies `graph`, whose points carry ids `0..n` (the index's dense ids). Only the leading
    /// ids all present in the graph are copied; the rest are left for the owner to scan.
    pub fn of<D: Distance<f32> + Send + Sync>(graph: &Hnsw<'_, f32, D>, n: usize, dim: usize) -> Self {
        // (hnsw_rs's point iterator panics on an empty graph.)
        if n == 0 || graph.get_nb_point() == 0 {
            return Self { dim, points: 0, codes: Vec::new(), scales: Vec::new(), offsets: vec![0], neighbours: Vec::new(), upper: Vec::new(), entry: None };
        }
        type Copied<'a> = (u8, Vec<Vec<u32>>, std::sync::Arc<hnsw_rs::hnsw::Point<'a, f32>>);
        let mut by_id: Vec<Option<Copied<'_>>> = (0..n).map(|_| None).collect();
        for point in graph.get_point_indexation() {
            let id = point.get_origin_id();
            if id >= n {
                continue;
            }
            let top = point.get_point_id().0;
            let lists =
                point.get_neighborhood_id().into_iter().take(top as usize + 1).map(|l| l.into_iter().map(|nb| nb.get_origin_id() as u32).collect()).collect();
            by_id[id] = Some((top, lists, point));
        }
        // Points past the first gap are not copied (they are still being inserted).
        let points = by_id.iter().position(Option::is_none).unwrap_or(n);
        let mut codes = Vec::with_capacity(points * dim);
        let mut scales = Vec::with_capacity(points);
        let mut offsets = Vec::with_capacity(points + 1);
        offsets.push(0u32);
        let mut neighbours = Vec::new();
        let mut upper: Vec<HashMap<u32, Box<[u32]>>> = Vec::new();
        let mut entry: Option<(u8, u32)> = None;
        for (id, copied) in by_id.into_iter().take(points).enumerate() {
            let Some((top, lists, point)) = copied else { break };
            match point.get_v() {
                v if v.len() == dim => scales.push(encode(v, &mut codes)),
                _ => {
                    codes.extend(std::iter::repeat_n(0, dim));
                    scales.push(0.0);
                }
            }
            for (l, list) in lists.into_iter().enumerate() {
                let list = list.into_iter().filter(|&j| (j as usize) < points);
                if l == 0 {
                    neighbours.extend(list);
                } else {
                    if upper.len() < l {
                        upper.resize_with(l, HashMap::new);
                    }
                    upper[l - 1].insert(id as u32, list.collect());
                }
            }
            offsets.push(neighbours.len() as u32);
            if entry.is_none_or(|(t, _)| top > t) {
                entry = Some((top, id as u32));
            }
        }
        neighbours.shrink_to_fit();
        Self { dim, points, codes, scales, offsets, neighbours, upper, entry: entry.map(|(_, id)| id) }
    }

    /// How many points (ids `0..points`) the copy holds.
    pub fn points(&self) -> usize {
        self.points
    }

    /// Bytes held (vectors, adjacency, upper layers).
    pub fn memory_bytes(&self) -> u64 {
        let upper: usize = self.upper.iter().flat_map(|m| m.values()).map(|l| l.len() * 4 + 40).sum();
        (self.codes.len() + self.scales.len() * 4 + self.offsets.len() * 4 + self.neighbours.len() * 4 + upper) as u64
    }

    /// Cosine of `query` with point `id` (from its code: within 0.002 of the exact one).
    #[inline(always)]
    fn cosine(&self, query: &[f32], id: u32) -> f32 {
        let start = id as usize * self.dim;
        self.scales[id as usize] * dot_as(query, &self.codes[start..start + self.dim])
    }

    /// Asks the CPU to start loading `id`'s code, every cache line of it (the walk is bound by
    /// memory latency: the neighbours of a point lie anywhere in the array, and loading them
    /// all at once overlaps their latencies).
    #[inline(always)]
    fn prefetch(&self, id: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            let start = self.codes.as_ptr().wrapping_add(id as usize * self.dim);
            for line in (0..self.dim).step_by(64) {
                // SAFETY: a prefetch is a hint; it never faults, whatever the address.
                unsafe { std::arch::x86_64::_mm_prefetch(start.wrapping_add(line), std::arch::x86_64::_MM_HINT_T0) };
            }
        }
    }

    fn layer0(&self, id: u32) -> &[u32] {
        let (a, b) = (self.offsets[id as usize] as usize, self.offsets[id as usize + 1] as usize);
        &self.neighbours[a..b]
    }

    /// The (up to) `ef` points nearest `query` found by the walk, as (cosine, id), best first;
    /// cosines from the 8-bit codes (re-score with the exact vectors where it matters).
    pub fn search(&self, query: &[f32], ef: usize) -> Vec<(f32, u32)> {
        #[cfg(target_arch = "x86_64")]
        if crate::vector::has_avx2() {
            // SAFETY: the CPU has AVX2 and FMA (checked at run time).
            return unsafe { self.search_avx2(query, ef) };
        }
        self.walk(query, ef)
    }

    /// The walk compiled for AVX2 + FMA (the distance loop is vectorised 8 wide).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn search_avx2(&self, query: &[f32], ef: usize) -> Vec<(f32, u32)> {
        self.walk(query, ef)
    }

    #[inline(always)]
    fn walk(&self, query: &[f32], ef: usize) -> Vec<(f32, u32)> {
        let Some(mut current) = self.entry else {
            return Vec::new();
        };
        if query.len() != self.dim || ef == 0 {
            return Vec::new();
        }
        let distance = |id: u32| 1.0 - self.cosine(query, id);
        let mut best = distance(current);
        for layer in self.upper.iter().rev() {
            loop {
                let mut moved = false;
                for &n in layer.get(&current).map(|l| &l[..]).unwrap_or(&[]) {
                    let d = distance(n);
                    if d < best {
                        best = d;
                        current = n;
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        VISITED.with(|cell| {
            let mut visited = cell.borrow_mut();
            visited.start(self.points);
            visited.mark(current);
            let mut candidates: BinaryHeap<Reverse<Scored>> = BinaryHeap::with_capacity(ef * 2);
            let mut found: BinaryHeap<Scored> = BinaryHeap::with_capacity(ef + 1);
            candidates.push(Reverse(Scored(best, current)));
            found.push(Scored(best, current));
            while let Some(Reverse(Scored(d, c))) = candidates.pop() {
                if found.len() >= ef && found.peek().is_some_and(|w| d > w.0) {
                    break;
                }
                let list = self.layer0(c);
                for &n in list {
                    if !visited.seen(n) {
                        self.prefetch(n);
                    }
                }
                for &n in list {
                    if !visited.mark(n) {
                        continue;
                    }
                    let dn = distance(n);
                    if found.len() < ef || found.peek().is_some_and(|w| dn < w.0) {
                        candidates.push(Reverse(Scored(dn, n)));
                        found.push(Scored(dn, n));
                        if found.len() > ef {
                            found.pop();
                        }
                    }
                }
            }
            found.into_sorted_vec().into_iter().map(|Scored(d, id)| (1.0 - d, id)).collect()
        })
    }
}

/// Appends `v`'s 8-bit code to `codes` and returns its scale (`v ≈ scale × code`).
fn encode(v: &[f32], codes: &mut Vec<i8>) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        codes.extend(std::iter::repeat_n(0, v.len()));
        return 0.0;
    }
    let scale = max / 127.0;
    codes.extend(v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8));
    scale
}

/// A distance and a point id, ordered by distance then id.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scored(f32, u32);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

/// Visited marks reused across searches on a thread: a point is visited in this search when
/// its mark equals the current epoch, so starting a search costs nothing.
#[derive(Default)]
struct Visited {
    marks: Vec<u32>,
    epoch: u32,
}

impl Visited {
    fn start(&mut self, points: usize) {
        if self.marks.len() < points {
            self.marks.resize(points, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.marks.fill(0);
            self.epoch = 1;
        }
    }

    /// Whether `id` was marked in this search.
    #[inline(always)]
    fn seen(&self, id: u32) -> bool {
        self.marks.get(id as usize).is_none_or(|m| *m == self.epoch)
    }

    /// Marks `id`; false when it was already marked in this search.
    fn mark(&mut self, id: u32) -> bool {
        match self.marks.get_mut(id as usize) {
            Some(m) if *m != self.epoch => {
                *m = self.epoch;
                true
            }
            _ => false,
        }
    }
}

thread_local! {
    static VISITED: RefCell<Visited> = RefCell::new(Visited::default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::Mixture;
    use crate::vector::{dot, CosineDistance};

    fn graph(vs: &[Vec<f32>]) -> Hnsw<'static, f32, CosineDistance> {
        let g = Hnsw::new(12, vs.len(), 16, 200, CosineDistance);
        for (i, v) in vs.iter().enumerate() {
            g.insert_slice((v.as_slice(), i));
        }
        g
    }

    fn exact(vs: &[Vec<f32>], q: &[f32], k: usize) -> Vec<u32> {
        let mut all: Vec<(f32, u32)> = vs.iter().enumerate().map(|(i, v)| (dot(q, v), i as u32)).collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0));
        all.into_iter().take(k).map(|(_, i)| i).collect()
    }

    #[test]
    fn the_copy_finds_what_an_exact_scan_finds() {
        let mix = Mixture::for_points(48, 3000, 11);
        let vs = mix.points(3000, 12);
        let g = graph(&vs);
        let s = Snapshot::of(&g, vs.len(), 48);
        assert_eq!(s.points(), 3000);
        let mut agree = 0;
        for q in mix.points(100, 13) {
            let truth = exact(&vs, &q, 10);
            let found = s.search(&q, 64);
            assert_eq!(found.len(), 64);
            assert!(found.windows(2).all(|w| w[0].0 >= w[1].0), "best first");
            for (cos, id) in &found {
                assert!((cos - dot(&q, &vs[*id as usize])).abs() < 5e-3, "cosines from the codes are close to the exact ones");
            }
            agree += found.iter().take(10).filter(|(_, id)| truth.contains(id)).count();
        }
        assert!(agree >= 980, "recall@10 {agree}/1000");
        // Every point finds itself first.
        for (i, v) in vs.iter().enumerate().step_by(97) {
            assert_eq!(s.search(v, 16)[0].1, i as u32);
        }
    }

    #[test]
    fn codes_keep_cosines_within_two_thousandths() {
        let mix = Mixture::for_points(384, 200, 21);
        let vs = mix.points(200, 22);
        let mut worst = 0f32;
        for pair in vs.windows(2) {
            let mut code = Vec::new();
            let scale = encode(&pair[1], &mut code);
            assert_eq!(code.len(), 384);
            let err = (scale * dot_as(&pair[0], &code) - dot(&pair[0], &pair[1])).abs();
            worst = worst.max(err);
        }
        assert!(worst < 2e-3, "worst cosine error {worst}");
        let mut code = Vec::new();
        assert_eq!(encode(&[0.0; 5], &mut code), 0.0);
        assert_eq!(code, vec![0; 5]);
    }

    #[test]
    fn copies_only_the_points_present_and_handles_empty_graphs() {
        let vs = Mixture::for_points(16, 300, 3).points(300, 4);
        let g = graph(&vs[..200]);
        // Ids 200..300 are not in the graph yet: the copy stops at the gap.
        let s = Snapshot::of(&g, 300, 16);
        assert_eq!(s.points(), 200);
        assert!(s.search(&vs[5], 10).iter().all(|(_, id)| *id < 200));
        let empty = Snapshot::of(&graph(&[]), 0, 16);
        assert_eq!(empty.points(), 0);
        assert!(empty.search(&vs[0], 10).is_empty());
        assert!(s.search(&vs[0][..8], 10).is_empty(), "wrong dimension");
        assert!(s.search(&vs[0], 0).is_empty());
    }
}
