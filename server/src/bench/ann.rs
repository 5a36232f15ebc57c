//! `precedent bench ann`: hnsw_rs against an exact scan on the same synthetic vectors — recall@10
//! and single-thread queries per second at several `ef`, plus build time and index memory.
use precedent_search::index::{IndexParams, Item, VectorIndex};
use precedent_search::synthetic::Mixture;
use precedent_search::vector::dot;
use serde::Serialize;
use std::time::Instant;

pub const K: usize = 10;
pub const EFS: [usize; 11] = [10, 16, 24, 32, 48, 64, 80, 96, 128, 256, 512];

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AnnRun {
    pub ef: usize,
    pub recall10: f64,
    pub qps: f64,
    /// hnsw_rs's own search of the same graph at the same `ef` (the engine walks a flat copy).
    pub hnsw_rs_recall10: f64,
    pub hnsw_rs_qps: f64,
}

/// Restrictive filters: hnsw_rs's filtered walk (FilterT) against an exact scan of the allowed set.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FilteredRun {
    pub allowed_fraction: f64,
    pub walk_ef: usize,
    pub walk_recall10: f64,
    pub walk_qps: f64,
    pub exact_allowed_qps: f64,
}

#[derive(Debug, Serialize)]
pub struct AnnReport {
    pub n: usize,
    pub dim: usize,
    pub k: usize,
    pub queries: usize,
    pub exact_qps: f64,
    pub runs: Vec<AnnRun>,
    pub m: usize,
    pub ef_construction: usize,
    pub build_s: f64,
    /// Resident memory the built index added (vectors, graph, bookkeeping).
    pub index_rss_mb: f64,
    pub filtered: Vec<FilteredRun>,
}

/// Resident set size of this process, in MB (Linux), after handing freed pages back to the
/// system (so transient allocations of the build do not count): jemalloc's (the binary's
/// allocator; it would return them within seconds by itself) and glibc's (the allocator of
/// tests, and of C libraries such as ONNX Runtime).
pub fn rss_mb() -> f64 {
    // SAFETY: "arena.<MALLCTL_ARENAS_ALL>.purge" takes and returns nothing; its name is
    // NUL-terminated. Harmless when jemalloc is linked but not the allocator.
    unsafe {
        tikv_jemalloc_sys::mallctl(c"arena.4096.purge".as_ptr(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), 0);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
    super::rss_mb_of("self")
}

/// The exact top-`k` of `q` among `data` (a full scan, keeping the best `k`).
pub fn exact_top(data: &[Vec<f32>], q: &[f32], k: usize) -> Vec<usize> {
    let mut best: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
    for (i, v) in data.iter().enumerate() {
        let s = dot(q, v);
        if best.len() < k || s > best[best.len() - 1].0 {
            let pos = best.partition_point(|(b, _)| *b >= s);
            best.insert(pos, (s, i));
            best.truncate(k);
        }
    }
    best.into_iter().map(|(_, i)| i).collect()
}

/// Synthetic data: `n` library vectors and `queries` held-out query vectors.
pub fn data(n: usize, dim: usize, queries: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let m = Mixture::for_points(dim, n, seed);
    (m.points(n, seed + 1), m.points(queries, seed + 2))
}

/// The exact answers and the exact scan's queries per second.
pub fn exact(data: &[Vec<f32>], queries: &[Vec<f32>]) -> (Vec<Vec<usize>>, f64) {
    let t = Instant::now();
    let truth: Vec<Vec<usize>> = queries.iter().map(|q| exact_top(data, q, K)).collect();
    (truth, queries.len() as f64 / t.elapsed().as_secs_f64())
}

pub fn recall(found: &[usize], truth: &[usize]) -> f64 {
    found.iter().filter(|i| truth.contains(i)).count() as f64 / truth.len().max(1) as f64
}

/// Builds the index over `data`; returns it with the build seconds and the RSS it added.
pub fn build(data: &[Vec<f32>], params: IndexParams) -> (VectorIndex, f64, f64) {
    let dim = data.first().map(Vec::len).unwrap_or(0);
    // Measured before the items are copied: the build consumes them, and the freed copies
    // would otherwise be subtracted from the index's own memory.
    let before = rss_mb();
    let items: Vec<(Item, Vec<f32>)> = data.iter().enumerate().map(|(i, v)| (Item { key: i as i64, case: i as i64 }, v.clone())).collect();
    let t = Instant::now();
    let index = VectorIndex::build(dim, params, items).unwrap_or_else(|_| VectorIndex::new(dim, 0, params));
    let secs = t.elapsed().as_secs_f64();
    (index, secs, (rss_mb() - before).max(0.0))
}

/// Recall@10 and single-thread q/s of `index` at each `ef`: the engine's search (the walk of the
/// flat copy of the graph) and, side by side, hnsw_rs's own search of the same graph.
pub fn sweep(index: &VectorIndex, queries: &[Vec<f32>], truth: &[Vec<usize>]) -> Vec<AnnRun> {
    let timed = |search: &dyn Fn(&[f32]) -> Vec<usize>| {
        // warm-up
        for q in queries.iter().take(20) {
            search(q);
        }
        let t = Instant::now();
        let found: Vec<Vec<usize>> = queries.iter().map(|q| search(q)).collect();
        let qps = queries.len() as f64 / t.elapsed().as_secs_f64();
        let r = found.iter().zip(truth).map(|(f, t)| recall(f, t)).sum::<f64>() / queries.len().max(1) as f64;
        (r, qps)
    };
    EFS.iter()
        .map(|&ef| {
            let (recall10, qps) = timed(&|q| index.search(q, K, ef, None, &[]).into_iter().map(|h| h.item.key as usize).collect());
            let (hnsw_rs_recall10, hnsw_rs_qps) = timed(&|q| index.search_hnsw_rs(q, K, ef).into_iter().map(|k| k as usize).collect());
            AnnRun { ef, recall10, qps, hnsw_rs_recall10, hnsw_rs_qps }
        })
        .collect()
}

/// The smallest setting reaching recall@10 ≥ 0.99, or the best one if none does.
pub fn at_target(runs: &[AnnRun]) -> Option<AnnRun> {
    runs.iter().find(|r| r.recall10 >= 0.99).copied().or_else(|| runs.iter().copied().max_by(|a, b| a.recall10.total_cmp(&b.recall10)))
}

/// For each allowed fraction: recall and q/s of the filtered walk and of the exact scan.
pub fn filtered(index: &VectorIndex, data: &[Vec<f32>], queries: &[Vec<f32>]) -> Vec<FilteredRun> {
    let qs = &queries[..queries.len().min(100)];
    [0.5f64, 0.1, 0.01]
        .iter()
        .map(|&fraction| {
            let step = (1.0 / fraction).round() as i64;
            let allowed: Vec<i64> = (0..data.len() as i64).filter(|i| i % step == 0).collect();
            let allow = |c: i64| c % step == 0;
            let t = Instant::now();
            let truth: Vec<Vec<usize>> = qs.iter().map(|q| index.exact(q, K, Some(&allowed)).into_iter().map(|h| h.item.key as usize).collect()).collect();
            let exact_allowed_qps = qs.len() as f64 / t.elapsed().as_secs_f64();
            let ef = 64;
            let t = Instant::now();
            let found: Vec<Vec<usize>> =
                qs.iter().map(|q| index.search(q, K, ef, Some(&allow), &[]).into_iter().map(|h| h.item.key as usize).collect()).collect();
            let walk_qps = qs.len() as f64 / t.elapsed().as_secs_f64();
            let walk_recall10 = found.iter().zip(&truth).map(|(f, t)| recall(f, t)).sum::<f64>() / qs.len().max(1) as f64;
            FilteredRun { allowed_fraction: fraction, walk_ef: ef, walk_recall10, walk_qps, exact_allowed_qps }
        })
        .collect()
}

pub fn run(n: usize, dim: usize, queries: usize, seed: u64, params: IndexParams, progress: &dyn Fn(&str)) -> AnnReport {
    progress(&format!("generating {n} × {dim} vectors"));
    let (data, qs) = data(n, dim, queries, seed);
    measure(data, qs, params, progress)
}

/// The same measurements on given vectors (e.g. stored embeddings of real cases): every
/// `len / queries`-th vector is held out as a query.
pub fn run_on(mut all: Vec<Vec<f32>>, queries: usize, params: IndexParams, progress: &dyn Fn(&str)) -> AnnReport {
    let step = (all.len() / queries.max(1)).max(2);
    let mut qs = Vec::new();
    let mut i = 0;
    all.retain(|v| {
        i += 1;
        if i % step == 0 && qs.len() < queries {
            qs.push(v.clone());
            false
        } else {
            true
        }
    });
    measure(all, qs, params, progress)
}

fn measure(data: Vec<Vec<f32>>, qs: Vec<Vec<f32>>, params: IndexParams, progress: &dyn Fn(&str)) -> AnnReport {
    let (n, dim) = (data.len(), data.first().map(Vec::len).unwrap_or(0));
    progress("exact scan");
    let (truth, exact_qps) = exact(&data, &qs);
    progress("building the hnsw graph");
    let (index, build_s, index_rss_mb) = build(&data, params);
    progress("searching");
    let runs = sweep(&index, &qs, &truth);
    progress("filtered searches");
    let filtered = filtered(&index, &data, &qs);
    AnnReport {
        n,
        dim,
        k: K,
        queries: qs.len(),
        exact_qps,
        runs,
        m: params.max_connections,
        ef_construction: params.ef_construction,
        build_s,
        index_rss_mb,
        filtered,
    }
}

pub fn table(r: &AnnReport) -> String {
    let mut out = format!(
        "n {}  dim {}  k {}  queries {}  M {}  ef_construction {}\nbuild {:.1} s, index memory {:.0} MB; exact scan {:.1} q/s (1 thread)\n",
        r.n, r.dim, r.k, r.queries, r.m, r.ef_construction, r.build_s, r.index_rss_mb, r.exact_qps
    );
    out += "engine = walk of the flat copy of the graph; hnsw_rs = hnsw_rs's own search of the same graph\n";
    out += &format!("{:>5} {:>9} {:>10} {:>9} {:>16} {:>12}\n", "ef", "recall10", "q/s", "× exact", "hnsw_rs recall10", "hnsw_rs q/s");
    for x in &r.runs {
        let ratio = x.qps / r.exact_qps.max(1e-9);
        out += &format!("{:>5} {:>9.4} {:>10.0} {:>9.1} {:>16.4} {:>12.0}\n", x.ef, x.recall10, x.qps, ratio, x.hnsw_rs_recall10, x.hnsw_rs_qps);
    }
    out += "filtered (allowed share of cases): hnsw_rs FilterT walk vs exact scan of the allowed set\n";
    out += &format!("{:>8} {:>12} {:>10} {:>14}\n", "allowed", "walk recall", "walk q/s", "exact-set q/s");
    for f in &r.filtered {
        out += &format!("{:>7.0}% {:>12.4} {:>10.0} {:>14.0}\n", f.allowed_fraction * 100.0, f.walk_recall10, f.walk_qps, f.exact_allowed_qps);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_top_is_exact_and_the_sweep_reaches_full_recall() {
        let (data, qs) = data(2000, 32, 20, 1);
        let (truth, _) = exact(&data, &qs);
        for (q, t) in qs.iter().zip(&truth) {
            let mut all: Vec<(f32, usize)> = data.iter().enumerate().map(|(i, v)| (dot(q, v), i)).collect();
            all.sort_by(|a, b| b.0.total_cmp(&a.0));
            assert_eq!(t, &all[..K].iter().map(|x| x.1).collect::<Vec<_>>());
        }
        let (index, _, _) = build(&data, IndexParams::default());
        let runs = sweep(&index, &qs, &truth);
        assert!(runs.last().unwrap().recall10 >= 0.99, "{runs:?}");
        assert!(runs.last().unwrap().hnsw_rs_recall10 >= 0.99, "{runs:?}");
        assert!(at_target(&runs).unwrap().recall10 >= 0.99);
    }
}
