//! Retrieval evaluation: ranking metrics, a TF-IDF baseline and score fusion, all exact (no
//! index). Used by `precedent eval` and testable on toy data.
use std::collections::HashMap;

/// P@k, MRR@k and mAP@k averaged over queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Metrics {
    pub p10: f64,
    pub mrr10: f64,
    pub map10: f64,
}

/// Accumulates per-query results.
#[derive(Debug, Default, Clone)]
pub struct MetricsAcc {
    n: usize,
    p: f64,
    mrr: f64,
    map: f64,
}

impl MetricsAcc {
    /// `top` is the relevance of the ranked results (best first, at most k used);
    /// `relevant_total` is how many relevant items the library holds for this query.
    pub fn add(&mut self, top: &[bool], relevant_total: usize, k: usize) {
        let top = &top[..top.len().min(k)];
        let hits = top.iter().filter(|r| **r).count();
        self.p += hits as f64 / k as f64;
        self.mrr += top.iter().position(|r| *r).map(|i| 1.0 / (i + 1) as f64).unwrap_or(0.0);
        let mut seen = 0usize;
        let mut ap = 0.0;
        for (i, r) in top.iter().enumerate() {
            if *r {
                seen += 1;
                ap += seen as f64 / (i + 1) as f64;
            }
        }
        let denom = relevant_total.min(k);
        self.map += if denom == 0 { 0.0 } else { ap / denom as f64 };
        self.n += 1;
    }

    pub fn finish(&self) -> Metrics {
        let n = self.n.max(1) as f64;
        Metrics { p10: self.p / n, mrr10: self.mrr / n, map10: self.map / n }
    }
}

/// Indices of the `k` highest scores (ties broken by index), skipping `exclude`.
pub fn top_k(scores: &[f32], k: usize, exclude: Option<usize>) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).filter(|i| Some(*i) != exclude).collect();
    let k = k.min(idx.len());
    if k == 0 {
        return Vec::new();
    }
    idx.select_nth_unstable_by(k - 1, |a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    idx.truncate(k);
    idx.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
    idx
}

const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "he", "her", "his", "in", "is", "it", "its", "of", "on", "or", "she", "that", "the",
    "to", "was", "were", "with", "this", "there", "no", "not", "which", "who", "had", "have", "but",
];

fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|t| t.len() >= 2).map(|t| t.to_lowercase()).filter(|t| !STOP.contains(&t.as_str()))
}

/// A TF-IDF model (smoothed idf, sublinear tf, L2-normalised sparse vectors).
pub struct TfIdf {
    vocab: HashMap<String, usize>,
    idf: Vec<f32>,
}

pub type Sparse = Vec<(usize, f32)>;

impl TfIdf {
    pub fn fit(docs: &[String]) -> Self {
        let mut vocab: HashMap<String, usize> = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        for d in docs {
            let mut seen = std::collections::HashSet::new();
            for t in tokens(d) {
                let next = vocab.len();
                let id = *vocab.entry(t).or_insert(next);
                if id == df.len() {
                    df.push(0);
                }
                if seen.insert(id) {
                    df[id] += 1;
                }
            }
        }
        let n = docs.len() as f32;
        let idf = df.iter().map(|d| ((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0).collect();
        Self { vocab, idf }
    }

    pub fn transform(&self, text: &str) -> Sparse {
        let mut tf: HashMap<usize, f32> = HashMap::new();
        for t in tokens(text) {
            if let Some(id) = self.vocab.get(&t) {
                *tf.entry(*id).or_default() += 1.0;
            }
        }
        let mut v: Sparse = tf.into_iter().map(|(id, c)| (id, (1.0 + c.ln()) * self.idf[id])).collect();
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, x)| *x /= norm);
        }
        v.sort_by_key(|(id, _)| *id);
        v
    }

    pub fn dot(a: &Sparse, b: &Sparse) -> f32 {
        let (mut i, mut j, mut s) = (0, 0, 0.0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    s += a[i].1 * b[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        s
    }
}

/// Standardises one modality's scores over the candidates (z-scores), so modalities on
/// different cosine scales can be weighted together. `None` (modality absent) stays `None`.
pub fn standardise(scores: &[Option<f32>]) -> Vec<Option<f32>> {
    let present: Vec<f32> = scores.iter().flatten().copied().collect();
    crate::fusion::zscore(scores, &present)
}

/// Weighted fusion of per-modality scores for each candidate: modalities missing for a
/// candidate are left out and the remaining weights renormalised (never counted as zero).
pub fn fuse(per_modality: &[Vec<Option<f32>>], weights: &[f32]) -> Vec<Option<f32>> {
    let n = per_modality.first().map(Vec::len).unwrap_or(0);
    (0..n)
        .map(|i| {
            let (mut s, mut w) = (0.0, 0.0);
            for (m, scores) in per_modality.iter().enumerate() {
                if let Some(x) = scores[i] {
                    let wm = weights.get(m).copied().unwrap_or(0.0).max(0.0);
                    s += wm * x;
                    w += wm;
                }
            }
            (w > 0.0).then(|| s / w)
        })
        .collect()
}

/// A ranking that ignores the query: each library item scores how many items share its label
/// (items without the label score 0). Its P@k is the floor a search must clear, and for a label
/// with one dominant class it sits far above the uniform-chance figure.
pub fn label_prior(labels: &[Option<&str>]) -> Vec<f32> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for l in labels.iter().flatten() {
        *count.entry(*l).or_default() += 1;
    }
    labels.iter().map(|l| l.map_or(0.0, |l| count[l] as f32)).collect()
}

/// How the engine's current ranking fares on doctors' relevance judgements.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct JudgedReport {
    /// Query cases with at least one judgement that the engine can query.
    pub queries: usize,
    pub judged_pairs: usize,
    pub k: usize,
    /// Relevant-judged hits in the top k, over k (unjudged hits count as not relevant).
    pub p_at_k: f64,
    /// Relevant-judged hits in the top k, over judged hits in the top k.
    pub judged_precision: f64,
    /// Judged hits in the top k, over hits in the top k.
    pub coverage: f64,
}

/// Runs each judged query case through `engine` (default options, top `k`) and scores the
/// ranking against `pairs` = (query case, hit case, relevant).
pub fn judged(engine: &crate::engine::Engine, pairs: &[(i64, i64, bool)], k: usize) -> JudgedReport {
    use std::collections::BTreeMap;
    let mut by_query: BTreeMap<i64, HashMap<i64, bool>> = BTreeMap::new();
    for (q, h, r) in pairs {
        by_query.entry(*q).or_default().insert(*h, *r);
    }
    let opt = crate::engine::SearchOptions { k, ..Default::default() };
    let (mut n, mut p, mut jp, mut jp_n, mut cov) = (0usize, 0.0, 0.0, 0usize, 0.0);
    for (q, judged) in &by_query {
        let Some(query) = engine.query_for_case(*q) else { continue };
        let top: Vec<i64> = engine.search(&query, &crate::filter::Filter::default(), &opt).into_iter().map(|h| h.case).collect();
        let relevant = top.iter().filter(|c| judged.get(c) == Some(&true)).count();
        let seen = top.iter().filter(|c| judged.contains_key(c)).count();
        n += 1;
        p += relevant as f64 / k.max(1) as f64;
        cov += if top.is_empty() { 0.0 } else { seen as f64 / top.len() as f64 };
        if seen > 0 {
            jp += relevant as f64 / seen as f64;
            jp_n += 1;
        }
    }
    JudgedReport {
        queries: n,
        judged_pairs: pairs.len(),
        k,
        p_at_k: if n > 0 { p / n as f64 } else { 0.0 },
        judged_precision: if jp_n > 0 { jp / jp_n as f64 } else { 0.0 },
        coverage: if n > 0 { cov / n as f64 } else { 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        let mut acc = MetricsAcc::default();
        // relevant at ranks 2 and 4 of 10, 2 relevant in the library
        let mut top = vec![false; 10];
        top[1] = true;
        top[3] = true;
        acc.add(&top, 2, 10);
        let m = acc.finish();
        assert!((m.p10 - 0.2).abs() < 1e-9);
        assert!((m.mrr10 - 0.5).abs() < 1e-9);
        assert!((m.map10 - (0.5 + 0.5) / 2.0).abs() < 1e-9);
        let mut none = MetricsAcc::default();
        none.add(&[false; 10], 0, 10);
        assert_eq!(none.finish(), Metrics::default());
    }

    #[test]
    fn label_prior_ranks_the_commonest_label_first_whatever_the_query() {
        let labels = [Some("head"), Some("chest"), Some("head"), None, Some("head"), Some("spine")];
        let s = label_prior(&labels);
        assert_eq!(s, vec![3.0, 1.0, 3.0, 0.0, 3.0, 1.0]);
        // For a "head" query (item 0 excluded) the two other head items come first ...
        assert_eq!(top_k(&s, 2, Some(0)), vec![2, 4]);
        // ... and a "chest" query gets the same list: the prior does not look at the query.
        assert_eq!(top_k(&s, 2, Some(1)), vec![0, 2]);
    }

    #[test]
    fn top_k_excludes_and_orders() {
        assert_eq!(top_k(&[0.1, 0.9, 0.5, 0.9], 3, Some(1)), vec![3, 2, 0]);
        assert!(top_k(&[], 10, None).is_empty());
    }

    #[test]
    fn tfidf_ranks_shared_rare_words() {
        let docs = vec!["chest pain and cough".to_string(), "knee pain after a fall".to_string(), "cough with fever".to_string()];
        let m = TfIdf::fit(&docs);
        let q = m.transform("fever and cough");
        let s: Vec<f32> = docs.iter().map(|d| TfIdf::dot(&q, &m.transform(d))).collect();
        assert!(s[2] > s[0] && s[0] > s[1]);
        assert_eq!(s[1], 0.0);
    }

    #[test]
    fn judged_precision_of_the_live_ranking() {
        use crate::engine::{CaseVectors, Engine};
        let unit = |v: [f32; 2]| {
            let mut v = v.to_vec();
            crate::vector::normalise(&mut v);
            v
        };
        let cases: Vec<(i64, CaseVectors)> = [(1, [1.0, 0.0]), (2, [0.9, 0.1]), (3, [0.8, 0.3]), (4, [0.0, 1.0])]
            .into_iter()
            .map(|(id, v)| (id, CaseVectors { text: Some(unit(v)), ..Default::default() }))
            .collect();
        let e = Engine::build("t@1".into(), None, (2, 2), Default::default(), cases).unwrap();
        // For case 1 the ranking is 2, 3, 4: 2 judged relevant, 3 judged not, 4 unjudged.
        let r = judged(&e, &[(1, 2, true), (1, 3, false), (99, 2, true)], 3);
        assert_eq!((r.queries, r.judged_pairs, r.k), (1, 3, 3));
        assert!((r.p_at_k - 1.0 / 3.0).abs() < 1e-9);
        assert!((r.judged_precision - 0.5).abs() < 1e-9, "{r:?}");
        assert!((r.coverage - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn fusion_renormalises_missing_modalities() {
        let text = vec![Some(1.0), Some(0.0), None];
        let image = vec![Some(0.0), None, Some(2.0)];
        let f = fuse(&[text, image], &[0.5, 0.5]);
        assert_eq!(f, vec![Some(0.5), Some(0.0), Some(2.0)]);
        assert_eq!(fuse(&[vec![None]], &[1.0]), vec![None]);
        let z = standardise(&[Some(1.0), Some(3.0), None]);
        assert_eq!(z, vec![Some(-1.0), Some(1.0), None]);
    }
}
