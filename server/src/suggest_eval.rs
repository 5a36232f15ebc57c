//! `precedent eval --suggest`: decision support measured on a library folder, by the protocol of
//! `medpix2-dev/SOURCE.md` (the query is a case's presenting text and its images; the query case
//! is never its own evidence; every other library case is evidence with its recorded labels).
//!
//! For each query the fused ranking's neighbours vote ([`precedent_suggest`]); reported: top-1
//! and top-3 accuracy of the suggested location, topic and disease class, how often the true
//! diagnosis (under the documented name normalisation) is among the five suggested, the expected
//! calibration error of the top-1 confidences, and coverage / accuracy (disease class) when
//! abstaining — beside a query-blind `prior` (the most common labels) and a TF-IDF-kNN reference
//! (a similarity-weighted vote of the 10 nearest by TF-IDF over the same text) in the same run.
//!
//! Parameters are fitted on the query cases by two-fold cross-fitting: the metrics of each half
//! come from parameters fitted on the other half, so no query is scored by parameters that saw
//! it. The parameters fitted on all query cases are what `--fit FILE` writes (the shipped
//! `models/suggest.toml`).
use precedent_library::LibraryCase;
use precedent_suggest::{calibrate, normalise, Neighbour, Params, Tally};
use serde::Serialize;
use std::collections::BTreeMap;

/// Neighbours kept per query (more than any `k` the fit tries).
pub const POOL: usize = 40;
const KS: [usize; 6] = [3, 5, 8, 10, 15, 25];
const TEMPERATURES: [f32; 9] = [0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0];
const TASKS: [&str; 3] = ["location", "topic", "disease_class"];

/// One query's ranked library (case index, score), best first, the query left out.
pub struct QueryRun {
    pub case: usize,
    pub fused: Vec<(usize, f32)>,
    pub tfidf: Vec<(usize, f32)>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct TopK {
    pub top1: f32,
    pub top3: f32,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Reference {
    pub location: TopK,
    pub topic: TopK,
    pub disease_class: TopK,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuggestReport {
    pub queries: usize,
    pub location: TopK,
    pub topic: TopK,
    pub disease_class: TopK,
    /// The true diagnosis among the five suggested (normalised names).
    pub dx_top5: f32,
    /// Expected calibration error (10 bins) of every top-1 confidence shown: location, topic,
    /// disease class and diagnosis, pooled.
    pub ece: f32,
    pub ece_by_task: BTreeMap<&'static str, f32>,
    /// Share of queries answered (not abstained).
    pub coverage: f32,
    /// Disease-class top-1 accuracy on the answered queries.
    pub accuracy_when_answering: f32,
    pub prior: Reference,
    pub tfidf_knn: Reference,
    /// The parameters fitted on all query cases.
    pub fitted: Params,
}

fn label<'a>(c: &'a LibraryCase, task: &str) -> Option<&'a str> {
    c.labels.get(task).map(String::as_str)
}

/// A library case as evidence, with its score for this query.
fn neighbour(c: &LibraryCase, score: f32) -> Neighbour {
    Neighbour {
        case: 0,
        title: c.title.clone(),
        score,
        diagnosis: c.diagnosis.clone().unwrap_or_else(|| c.title.clone()),
        basis: "library".into(),
        location: label(c, "location").map(str::to_string),
        topic: label(c, "topic").map(str::to_string),
        disease_class: label(c, "disease_class").and_then(|d| d.parse().ok()),
        diagnosed_by: label(c, "diagnosis_by").map(str::to_string),
        modalities: c.images.iter().filter_map(|i| i.modality.as_deref()).map(str::to_lowercase).collect(),
        ..Neighbour::default()
    }
}

fn votes(n: &[Neighbour], w: &[f32], task: &str) -> Vec<Tally> {
    match task {
        "location" => precedent_suggest::location_vote(n, w),
        "topic" => precedent_suggest::topic_vote(n, w),
        _ => precedent_suggest::class_vote(n, w),
    }
}

fn truth(c: &LibraryCase, task: &str) -> Option<String> {
    let t = label(c, task)?;
    Some(if task == "disease_class" { t.to_string() } else { t.to_lowercase() })
}

fn tally_key(t: &Tally, task: &str) -> String {
    if task == "disease_class" {
        t.label.clone()
    } else {
        t.label.to_lowercase()
    }
}

/// What one query's suggestions got right, with the confidences they showed.
struct Outcome {
    /// Per task: (top-1 right, top-3 right, top-1 share); `None` when the query has no such label.
    tasks: [Option<(bool, bool, f32)>; 3],
    dx: Option<(bool, bool, f32)>,
}

fn outcome(cases: &[LibraryCase], run: &QueryRun, p: &Params) -> Outcome {
    let ev: Vec<Neighbour> = run.fused.iter().take(p.k).map(|(j, s)| neighbour(&cases[*j], *s)).collect();
    let w = precedent_suggest::weights(&ev, p);
    let q = &cases[run.case];
    let tasks = TASKS.map(|task| {
        let want = truth(q, task)?;
        let v = votes(&ev, &w, task);
        let top1 = v.first().is_some_and(|t| tally_key(t, task) == want);
        let top3 = v.iter().take(3).any(|t| tally_key(t, task) == want);
        Some((top1, top3, v.first().map_or(0.0, |t| t.share)))
    });
    let want = normalise::diagnosis_key(q.diagnosis.as_deref().unwrap_or(&q.title));
    let dx = (!want.is_empty()).then(|| {
        let v = precedent_suggest::diagnosis_vote(&ev, &w);
        let key = |t: &Tally| normalise::diagnosis_key(&t.label);
        (v.first().is_some_and(|t| key(t) == want), v.iter().take(5).any(|t| key(t) == want), v.first().map_or(0.0, |t| t.share))
    });
    Outcome { tasks, dx }
}

fn mean(xs: impl Iterator<Item = bool>) -> f32 {
    let (n, k) = xs.fold((0usize, 0usize), |(n, k), x| (n + 1, k + x as usize));
    if n == 0 {
        0.0
    } else {
        k as f32 / n as f32
    }
}

/// Fits `k`, the temperature, the Platt maps and the abstention threshold on `runs`.
pub fn fit(cases: &[LibraryCase], runs: &[&QueryRun]) -> Params {
    let mut best = (f32::NEG_INFINITY, Params::default());
    for k in KS {
        for temperature in TEMPERATURES {
            let p = Params { k, temperature, ..Params::default() };
            let outs: Vec<Outcome> = runs.iter().map(|r| outcome(cases, r, &p)).collect();
            // Location and disease class top-1, topic top-3: the measured targets.
            let objective = mean(outs.iter().filter_map(|o| o.tasks[0]).map(|t| t.0))
                + mean(outs.iter().filter_map(|o| o.tasks[2]).map(|t| t.0))
                + mean(outs.iter().filter_map(|o| o.tasks[1]).map(|t| t.1));
            if objective > best.0 {
                best = (objective, p);
            }
        }
    }
    let mut p = best.1;
    let outs: Vec<Outcome> = runs.iter().map(|r| outcome(cases, r, &p)).collect();
    let sample = |i: usize| -> Vec<(f32, bool)> { outs.iter().filter_map(|o| o.tasks[i]).map(|(r, _, s)| (s, r)).collect() };
    p.location = calibrate::fit_platt(&sample(0));
    p.topic = calibrate::fit_platt(&sample(1));
    p.disease_class = calibrate::fit_platt(&sample(2));
    p.diagnosis = calibrate::fit_platt(&outs.iter().filter_map(|o| o.dx).map(|(r, _, s)| (s, r)).collect::<Vec<_>>());
    // Abstain below the largest threshold that still answers at least 85% of these queries.
    let confidence = |o: &Outcome| -> f32 {
        let class = o.tasks[2].map_or(0.0, |t| p.disease_class.apply(t.2));
        let dx = o.dx.map_or(0.0, |t| p.diagnosis.apply(t.2));
        class.max(dx)
    };
    let mut conf: Vec<f32> = outs.iter().map(confidence).collect();
    conf.sort_by(f32::total_cmp);
    p.abstain_below = conf.get(conf.len() * 15 / 100).copied().unwrap_or(0.0);
    p
}

/// The references: the most common labels of the library (query left out), and a
/// similarity-weighted vote of the 10 nearest by TF-IDF.
fn references(cases: &[LibraryCase], runs: &[&QueryRun]) -> (Reference, Reference) {
    let (mut prior, mut knn) = (Vec::new(), Vec::new());
    for task in TASKS {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for c in cases {
            if let Some(t) = truth(c, task) {
                *counts.entry(t).or_default() += 1;
            }
        }
        let (mut p1, mut p3, mut k1, mut k3, mut n) = (0, 0, 0, 0, 0);
        for r in runs {
            let Some(want) = truth(&cases[r.case], task) else { continue };
            n += 1;
            let mut common: Vec<(usize, &String)> = counts.iter().map(|(l, c)| (*c - (*l == want) as usize, l)).collect();
            common.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
            p1 += (common.first().map(|c| c.1) == Some(&want)) as usize;
            p3 += common.iter().take(3).any(|c| *c.1 == want) as usize;
            let ev: Vec<Neighbour> = r.tfidf.iter().take(10).map(|(j, s)| neighbour(&cases[*j], *s)).collect();
            let total: f32 = ev.iter().map(|e| e.score.max(0.0)).sum::<f32>().max(1e-9);
            let w: Vec<f32> = ev.iter().map(|e| e.score.max(0.0) / total).collect();
            let v = votes(&ev, &w, task);
            k1 += v.first().is_some_and(|t| tally_key(t, task) == want) as usize;
            k3 += v.iter().take(3).any(|t| tally_key(t, task) == want) as usize;
        }
        let f = |x: usize| if n == 0 { 0.0 } else { x as f32 / n as f32 };
        prior.push(TopK { top1: f(p1), top3: f(p3) });
        knn.push(TopK { top1: f(k1), top3: f(k3) });
    }
    let make = |v: Vec<TopK>| Reference { location: v[0], topic: v[1], disease_class: v[2] };
    (make(prior), make(knn))
}

/// The whole `suggest` section for the query runs.
pub fn report(cases: &[LibraryCase], runs: &[QueryRun]) -> SuggestReport {
    let all: Vec<&QueryRun> = runs.iter().collect();
    let halves: [Vec<&QueryRun>; 2] = [runs.iter().step_by(2).collect(), runs.iter().skip(1).step_by(2).collect()];
    let mut outs: Vec<(Outcome, Params)> = Vec::new();
    for (fit_on, score_on) in [(&halves[0], &halves[1]), (&halves[1], &halves[0])] {
        let p = fit(cases, fit_on);
        outs.extend(score_on.iter().map(|r| (outcome(cases, r, &p), p.clone())));
    }
    let task = |i: usize| TopK {
        top1: mean(outs.iter().filter_map(|(o, _)| o.tasks[i]).map(|t| t.0)),
        top3: mean(outs.iter().filter_map(|(o, _)| o.tasks[i]).map(|t| t.1)),
    };
    let mut by_task = BTreeMap::new();
    let mut pooled = Vec::new();
    for (i, name) in TASKS.iter().enumerate() {
        let s: Vec<(f32, bool)> = outs.iter().filter_map(|(o, p)| o.tasks[i].map(|t| ([p.location, p.topic, p.disease_class][i].apply(t.2), t.0))).collect();
        by_task.insert(*name, calibrate::ece(&s, 10));
        pooled.extend(s);
    }
    let dx: Vec<(f32, bool)> = outs.iter().filter_map(|(o, p)| o.dx.map(|t| (p.diagnosis.apply(t.2), t.0))).collect();
    by_task.insert("diagnosis", calibrate::ece(&dx, 10));
    pooled.extend(dx);
    let answered: Vec<&(Outcome, Params)> = outs
        .iter()
        .filter(|(o, p)| {
            let class = o.tasks[2].map_or(0.0, |t| p.disease_class.apply(t.2));
            let dx = o.dx.map_or(0.0, |t| p.diagnosis.apply(t.2));
            class.max(dx) >= p.abstain_below
        })
        .collect();
    let (prior, tfidf_knn) = references(cases, &all);
    SuggestReport {
        queries: runs.len(),
        location: task(0),
        topic: task(1),
        disease_class: task(2),
        dx_top5: mean(outs.iter().filter_map(|(o, _)| o.dx).map(|t| t.1)),
        ece: calibrate::ece(&pooled, 10),
        ece_by_task: by_task,
        coverage: answered.len() as f32 / outs.len().max(1) as f32,
        accuracy_when_answering: mean(answered.iter().filter_map(|(o, _)| o.tasks[2]).map(|t| t.0)),
        prior,
        tfidf_knn,
        fitted: fit(cases, &all),
    }
}

/// The human-readable table of the section.
pub fn table(r: &SuggestReport) -> String {
    let mut out = format!("suggestions ({} queries; parameters cross-fitted on the other half)\n", r.queries);
    out += &format!("{:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "label", "top1", "top3", "prior@1", "prior@3", "tfidf@1", "tfidf@3");
    for (name, m, p, k) in [
        ("location", r.location, r.prior.location, r.tfidf_knn.location),
        ("topic", r.topic, r.prior.topic, r.tfidf_knn.topic),
        ("disease_class", r.disease_class, r.prior.disease_class, r.tfidf_knn.disease_class),
    ] {
        out += &format!("{name:<14} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}\n", m.top1, m.top3, p.top1, p.top3, k.top1, k.top3);
    }
    out += &format!(
        "diagnosis in top 5 {:.3}   ECE {:.3} ({})   coverage {:.3}, disease class right when answering {:.3}\n",
        r.dx_top5,
        r.ece,
        r.ece_by_task.iter().map(|(k, v)| format!("{k} {v:.3}")).collect::<Vec<_>>().join(", "),
        r.coverage,
        r.accuracy_when_answering
    );
    out += &format!("fitted on all queries: k {} temperature {} abstain below {:.3}\n", r.fitted.k, r.fitted.temperature, r.fitted.abstain_below);
    out
}
