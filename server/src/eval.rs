//! `precedent eval --library <dir>`: the evaluation protocol of `shared/datasets/medpix2-dev/SOURCE.md`
//! on any library in the import format, straight from the folder (no database). Queries are a
//! case's presenting information (history + exam text, and its images); the query case is
//! excluded; relevance is the same `location` label, and separately the same `topic` label.
//! Reported for text-only, image-only and fused search (exact cosine) and a TF-IDF baseline,
//! with two reference points outside the protocol: a query-blind ranking (`prior`) and the
//! query given its own full text (`oracle_*`).
use precedent_encoders::EncodeError;
use precedent_encoders::Encoders;
use precedent_library::LibraryCase;
use precedent_search::eval::{fuse, label_prior, standardise, top_k, Metrics, MetricsAcc, TfIdf};
use precedent_search::fusion::rrf;
use precedent_search::vector::dot;
use precedent_store::blobs::sha256_hex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const K: usize = 10;
pub const LABELS: [&str; 2] = ["location", "topic"];

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Library(#[from] precedent_library::LibraryError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("no query case (check --query-split and --library-split)")]
    NoQueries,
}

/// Per-label metrics of one method.
pub type MethodReport = BTreeMap<&'static str, Metrics>;

#[derive(Debug, Serialize)]
pub struct EvalReport {
    pub queries: usize,
    pub library: usize,
    pub text: MethodReport,
    pub image: MethodReport,
    /// Equal weights after z-scoring each modality over the library (the engine's default).
    pub fused: MethodReport,
    /// Equal weights of reciprocal ranks (k = 60).
    pub fused_rrf: MethodReport,
    /// Equal weights of raw cosines (no calibration), for comparison.
    pub fused_raw: MethodReport,
    pub tfidf: MethodReport,
    /// Reference floor: a ranking that ignores the query (library cases by how common their
    /// label is). What a label's class sizes alone give.
    pub prior: MethodReport,
    /// Reference ceiling, outside the protocol: the query case given its own full text
    /// (findings and diagnosis included) instead of its presenting text. How far the same
    /// encoders get once the diagnosis is known.
    pub oracle_text: MethodReport,
    /// `oracle_text` fused with the images (z-scores, equal weights, as `fused`).
    pub oracle_fused: MethodReport,
    /// The fusion method with the best location P@10.
    pub best_fusion: String,
    /// Decision support on the same queries (`--suggest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggest: Option<crate::suggest_eval::SuggestReport>,
    #[serde(skip)]
    pub models: Vec<String>,
}

/// A vector cache on disk keyed by model id and content hash.
pub struct VectorCache {
    dir: PathBuf,
}

impl VectorCache {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, model: &str, sha: &str) -> PathBuf {
        let safe: String = model.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
        self.dir.join(safe).join(&sha[..2]).join(sha)
    }

    pub fn get_or(&self, model: &str, sha: &str, compute: impl FnOnce() -> Result<Vec<f32>, EncodeError>) -> Result<Vec<f32>, EvalError> {
        let path = self.path(model, sha);
        if let Ok(bytes) = std::fs::read(&path) {
            if bytes.len() % 4 == 0 && !bytes.is_empty() {
                return Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect());
            }
        }
        let v = compute()?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, &path)?;
        Ok(v)
    }
}

struct CaseVectors {
    presenting: Option<Vec<f32>>,
    full: Option<Vec<f32>>,
    images: Vec<Vec<f32>>,
}

fn text_vector(enc: &Encoders, cache: &VectorCache, text: &str) -> Result<Option<Vec<f32>>, EvalError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let model = enc.text.spec().model_id();
    let v = cache.get_or(&model, &sha256_hex(text.as_bytes()), || Ok(enc.text.encode(&[text])?.remove(0)))?;
    Ok(Some(v))
}

fn vectors(enc: &Encoders, cache: &VectorCache, c: &LibraryCase) -> Result<CaseVectors, EvalError> {
    let mut images = Vec::new();
    if let Some(ie) = &enc.image {
        let model = ie.spec().model_id();
        for im in &c.images {
            let bytes = std::fs::read(&im.path)?;
            match cache.get_or(&model, &sha256_hex(&bytes), || ie.encode_bytes(&bytes)) {
                Ok(v) => images.push(v),
                Err(EvalError::Encode(e)) => tracing::warn!(file = %im.path.display(), error = %e, "image skipped"),
                Err(e) => return Err(e),
            }
        }
    }
    Ok(CaseVectors { presenting: text_vector(enc, cache, &c.presenting_text())?, full: text_vector(enc, cache, &c.full_text())?, images })
}

/// Runs the protocol. `progress(done, total)` is called while vectors are computed.
pub fn evaluate(
    library: &Path,
    query_split: Option<&str>,
    library_split: Option<&str>,
    enc: &Encoders,
    cache: &VectorCache,
    suggest: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<EvalReport, EvalError> {
    let lib = precedent_library::open(library)?;
    for r in &lib.refused {
        tracing::warn!(line = r.line, key = ?r.key, reason = %r.reason, "library row refused");
    }
    // A held-out check keeps only one split in the library (`--library-split`).
    let cases: Vec<_> = lib.cases.into_iter().filter(|c| library_split.is_none_or(|s| c.split.as_deref() == Some(s))).collect();
    let cases = &cases;
    let mut vecs = Vec::with_capacity(cases.len());
    for (i, c) in cases.iter().enumerate() {
        vecs.push(vectors(enc, cache, c)?);
        progress(i + 1, cases.len());
    }
    let queries: Vec<usize> = (0..cases.len()).filter(|i| query_split.is_none_or(|s| cases[*i].split.as_deref() == Some(s))).collect();
    if queries.is_empty() {
        return Err(EvalError::NoQueries);
    }
    let tfidf = TfIdf::fit(&cases.iter().map(|c| c.full_text()).collect::<Vec<_>>());
    let docs: Vec<_> = cases.iter().map(|c| tfidf.transform(&c.full_text())).collect();
    let mut acc: BTreeMap<(&str, &str), MetricsAcc> = BTreeMap::new();
    let priors: Vec<Vec<f32>> = LABELS.iter().map(|l| label_prior(&cases.iter().map(|c| c.labels.get(*l).map(String::as_str)).collect::<Vec<_>>())).collect();
    let n = cases.len();
    let mut runs = Vec::new();
    for &q in &queries {
        let qv = &vecs[q];
        // Relevance of a ranking `top` for query `q` and one label, added to `method`'s totals.
        let score = |acc: &mut BTreeMap<(&str, &str), MetricsAcc>, method: &'static str, label: &'static str, top: &[usize]| {
            let Some(want) = cases[q].labels.get(label) else { return };
            let rel = |j: usize| cases[j].labels.get(label) == Some(want);
            let total = (0..n).filter(|j| *j != q && rel(*j)).count();
            let hits: Vec<bool> = top.iter().map(|j| rel(*j)).collect();
            acc.entry((method, label)).or_default().add(&hits, total, K);
        };
        let text_from = |query: &Option<Vec<f32>>| -> Vec<Option<f32>> {
            (0..n)
                .map(|j| match (query, &vecs[j].full) {
                    (Some(a), Some(b)) if j != q => Some(dot(a, b)),
                    _ => None,
                })
                .collect()
        };
        let text = text_from(&qv.presenting);
        let oracle_text = text_from(&qv.full);
        let image: Vec<Option<f32>> = (0..n)
            .map(|j| {
                if j == q || qv.images.is_empty() || vecs[j].images.is_empty() {
                    return None;
                }
                qv.images.iter().flat_map(|a| vecs[j].images.iter().map(move |b| dot(a, b))).reduce(f32::max)
            })
            .collect();
        let image_z = standardise(&image);
        let fused = fuse(&[standardise(&text), image_z.clone()], &[0.5, 0.5]);
        let fused_rrf = fuse(&[rrf(&text), rrf(&image)], &[0.5, 0.5]);
        let fused_raw = fuse(&[text.clone(), image.clone()], &[0.5, 0.5]);
        let oracle_fused = fuse(&[standardise(&oracle_text), image_z], &[0.5, 0.5]);
        let qt = tfidf.transform(&cases[q].presenting_text());
        let tf: Vec<Option<f32>> = (0..n).map(|j| (j != q).then(|| TfIdf::dot(&qt, &docs[j]))).collect();
        let methods = [
            ("text", &text),
            ("image", &image),
            ("fused", &fused),
            ("fused_rrf", &fused_rrf),
            ("fused_raw", &fused_raw),
            ("tfidf", &tf),
            ("oracle_text", &oracle_text),
            ("oracle_fused", &oracle_fused),
        ];
        for (name, scores) in methods {
            if !["text", "tfidf", "oracle_text"].contains(&name) && enc.image.is_none() {
                continue;
            }
            let flat: Vec<f32> = scores.iter().map(|s| s.unwrap_or(f32::NEG_INFINITY)).collect();
            let top = top_k(&flat, K, Some(q));
            for label in LABELS {
                score(&mut acc, name, label, &top);
            }
        }
        for (label, prior) in LABELS.iter().zip(&priors) {
            score(&mut acc, "prior", label, &top_k(prior, K, Some(q)));
        }
        if suggest {
            let ranked = |scores: &[Option<f32>]| -> Vec<(usize, f32)> {
                let flat: Vec<f32> = scores.iter().map(|s| s.unwrap_or(f32::NEG_INFINITY)).collect();
                top_k(&flat, crate::suggest_eval::POOL, Some(q)).into_iter().filter(|j| flat[*j].is_finite()).map(|j| (j, flat[j])).collect()
            };
            let main = if enc.image.is_some() { &fused } else { &text };
            runs.push(crate::suggest_eval::QueryRun { case: q, fused: ranked(main), tfidf: ranked(&tf) });
        }
    }
    let report = |m: &str| -> MethodReport { LABELS.iter().filter_map(|l| acc.get(&(m, *l)).map(|a| (*l, a.finish()))).collect() };
    let mut models = vec![enc.text.spec().model_id()];
    if let Some(ie) = &enc.image {
        models.push(ie.spec().model_id());
    }
    let p10 = |m: &str| acc.get(&(m, "location")).map(|a| a.finish().p10).unwrap_or(0.0);
    let best_fusion = [("z_score", "fused"), ("rrf", "fused_rrf"), ("raw", "fused_raw")]
        .into_iter()
        .max_by(|a, b| p10(a.1).total_cmp(&p10(b.1)))
        .map(|(n, _)| n.to_string())
        .unwrap_or_default();
    Ok(EvalReport {
        queries: queries.len(),
        library: cases.len(),
        text: report("text"),
        image: report("image"),
        fused: report("fused"),
        fused_rrf: report("fused_rrf"),
        fused_raw: report("fused_raw"),
        tfidf: report("tfidf"),
        prior: report("prior"),
        oracle_text: report("oracle_text"),
        oracle_fused: report("oracle_fused"),
        best_fusion,
        suggest: suggest.then(|| crate::suggest_eval::report(cases, &runs)),
        models,
    })
}

/// The human-readable table.
pub fn table(r: &EvalReport) -> String {
    let mut out = format!("queries {}  library {}  models {}\n", r.queries, r.library, r.models.join(", "));
    let rows = |methods: &[(&str, &MethodReport)]| {
        let mut out = String::new();
        for (name, m) in methods {
            for (label, x) in *m {
                out += &format!("{name:<12} {label:<9} {:>6.3} {:>7.3} {:>7.3}\n", x.p10, x.mrr10, x.map10);
            }
        }
        out
    };
    out += &format!("{:<12} {:<9} {:>6} {:>7} {:>7}\n", "method", "label", "P@10", "MRR@10", "mAP@10");
    out += &rows(&[("text", &r.text), ("image", &r.image), ("fused", &r.fused), ("fused_rrf", &r.fused_rrf), ("fused_raw", &r.fused_raw), ("tfidf", &r.tfidf)]);
    out += "reference points (not search methods):\n";
    out += &rows(&[("prior", &r.prior), ("oracle_text", &r.oracle_text), ("oracle_fused", &r.oracle_fused)]);
    if !r.best_fusion.is_empty() {
        out += &format!("best fusion (location P@10): {}\n", r.best_fusion);
    }
    if let Some(s) = &r.suggest {
        out += &crate::suggest_eval::table(s);
    }
    out
}
