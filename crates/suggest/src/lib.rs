//! Decision support computed from evidence. A query's most similar cases that carry a validated
//! (or library-recorded) diagnosis vote, each by a weight that falls with its rank in similarity
//! ([`weights`]): the diagnoses they name (grouped under one [`normalise::diagnosis_key`]), the
//! body region, disease class and topic they imply, what confirmed their diagnoses, the labs and
//! imaging they had that the query lacks, and the specialist their reviewers named. Vote shares
//! become confidences through a per-task Platt map fitted on a development split
//! ([`calibrate`]), so "70%" means right about 70% of the time there; thin or split evidence
//! abstains instead of guessing. No database and no models: the service feeds it neighbours, and
//! `precedent eval --suggest` measures it on a library folder.
pub mod calibrate;
pub mod explain;
pub mod normalise;
pub mod params;
pub mod specialty;

pub use params::{Params, Platt};
use precedent_types::dto::{EvidenceCase, SuggestedCategory, SuggestedDiagnosis, SuggestedSpecialist, SuggestedTest, SuggestionsView};
use precedent_types::{CaseId, Certainty};
use std::collections::HashMap;

/// What the engine and the store know about one evidence case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Neighbour {
    pub case: i64,
    pub title: String,
    /// The engine's fused score (any scale that orders; weights use only the rank order and the
    /// gaps relative to the best, through the fitted temperature).
    pub score: f32,
    pub diagnosis: String,
    /// `validated`, `corrected` or `library`.
    pub basis: String,
    pub certainty: Option<Certainty>,
    pub location: Option<String>,
    pub topic: Option<String>,
    pub disease_class: Option<u8>,
    /// Free text: what confirmed the diagnosis ("Biopsy", "MRI and pathology", …).
    pub diagnosed_by: Option<String>,
    /// The specialist a reviewing doctor recorded for it.
    pub specialist: Option<String>,
    /// Imaging modalities of its scans (`ct`, `mr`, `xray`, `other`).
    pub modalities: Vec<String>,
    /// Catalog names of its abnormal lab analytes.
    pub abnormal_labs: Vec<String>,
}

/// What the query itself has, to say what it lacks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryFacts {
    pub modalities: Vec<String>,
    /// Catalog names of the analytes measured for it.
    pub measured_labs: Vec<String>,
}

/// The weight of each of the first `p.k` neighbours (most similar first): a softmax of the
/// scores relative to the best one at temperature `p.temperature`, summing to 1.
pub fn weights(neighbours: &[Neighbour], p: &Params) -> Vec<f32> {
    let n = neighbours.len().min(p.k);
    let Some(best) = neighbours.iter().take(n).map(|x| x.score).reduce(f32::max) else { return Vec::new() };
    let t = p.temperature.max(1e-3);
    let raw: Vec<f32> = neighbours.iter().take(n).map(|x| ((x.score - best) / t).exp()).collect();
    let sum: f32 = raw.iter().sum();
    raw.into_iter().map(|w| w / sum).collect()
}

/// One option of a vote: its label, the share of the weight behind it, who voted for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub label: String,
    pub share: f32,
    pub members: Vec<usize>,
}

/// A weighted vote over `key` of each neighbour, largest share first (ties: the earlier, more
/// similar voter first). The label shown for a group is its most similar member's.
pub fn vote(neighbours: &[Neighbour], weights: &[f32], key: impl Fn(&Neighbour) -> Option<(String, String)>) -> Vec<Tally> {
    let mut groups: Vec<(String, Tally)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, (n, w)) in neighbours.iter().zip(weights).enumerate() {
        let Some((k, shown)) = key(n) else { continue };
        let g = *at.entry(k.clone()).or_insert_with(|| {
            groups.push((k, Tally { label: shown, share: 0.0, members: Vec::new() }));
            groups.len() - 1
        });
        groups[g].1.share += w;
        groups[g].1.members.push(i);
    }
    let mut out: Vec<Tally> = groups.into_iter().map(|(_, t)| t).collect();
    out.sort_by(|a, b| b.share.total_cmp(&a.share).then(a.members[0].cmp(&b.members[0])));
    out
}

/// The label vote of each task the evaluation measures, from the same weights.
pub fn location_vote(n: &[Neighbour], w: &[f32]) -> Vec<Tally> {
    vote(n, w, |x| x.location.clone().map(|l| (l.to_lowercase(), l)))
}
pub fn topic_vote(n: &[Neighbour], w: &[f32]) -> Vec<Tally> {
    vote(n, w, |x| x.topic.clone().map(|t| (t.to_lowercase(), t)))
}
pub fn class_vote(n: &[Neighbour], w: &[f32]) -> Vec<Tally> {
    vote(n, w, |x| x.disease_class.map(|c| (c.to_string(), c.to_string())))
}
pub fn diagnosis_vote(n: &[Neighbour], w: &[f32]) -> Vec<Tally> {
    vote(n, w, |x| {
        let k = normalise::diagnosis_key(&x.diagnosis);
        (!k.is_empty()).then(|| (k, x.diagnosis.trim().to_string()))
    })
}

/// The suggestions for a query from its evidence (most similar first; only cases with a
/// diagnosis a doctor validated or a library recorded belong here).
pub fn suggest(query: &QueryFacts, evidence: &[Neighbour], p: &Params) -> SuggestionsView {
    let w = weights(evidence, p);
    let used = &evidence[..w.len()];
    let ids = |t: &Tally| t.members.iter().map(|i| CaseId(used[*i].case)).collect::<Vec<_>>();
    let mut view = SuggestionsView {
        evidence: used
            .iter()
            .zip(&w)
            .map(|(n, w)| EvidenceCase {
                case: CaseId(n.case),
                title: n.title.clone(),
                diagnosis: n.diagnosis.clone(),
                basis: n.basis.clone(),
                certainty: n.certainty,
                score: n.score,
                weight: *w,
            })
            .collect(),
        ..SuggestionsView::default()
    };
    if used.len() < p.min_evidence {
        view.abstained = Some(format!("Not enough similar validated cases: {} with a confirmed diagnosis, at least {} needed.", used.len(), p.min_evidence));
        return view;
    }
    let classes = class_vote(used, &w);
    let class_conf = classes.first().map(|t| p.disease_class.apply(t.share));
    let dx = diagnosis_vote(used, &w);
    let dx_conf = dx.first().map(|t| p.diagnosis.apply(t.share)).unwrap_or(0.0);
    // The evidence disagrees too much to say anything useful.
    if class_conf.is_some_and(|c| c < p.abstain_below) && dx_conf < p.abstain_below {
        view.abstained = Some("The similar validated cases disagree: no suggestion is likely enough to show.".into());
        return view;
    }
    view.differential =
        dx.iter().take(5).map(|t| SuggestedDiagnosis { name: t.label.clone(), confidence: p.diagnosis.apply(t.share), evidence: ids(t) }).collect();
    let locations = location_vote(used, &w);
    let topics = topic_vote(used, &w);
    let mut cats = Vec::new();
    if let Some(t) = locations.first() {
        cats.push(SuggestedCategory { kind: "body_region".into(), label: t.label.clone(), confidence: p.location.apply(t.share), evidence: ids(t) });
    }
    if let Some(t) = classes.first() {
        let name = t.label.parse::<u8>().ok().and_then(specialty::class_name).unwrap_or(&t.label).to_string();
        cats.push(SuggestedCategory { kind: "disease_class".into(), label: name, confidence: p.disease_class.apply(t.share), evidence: ids(t) });
    }
    for t in topics.iter().take(3) {
        cats.push(SuggestedCategory { kind: "topic".into(), label: t.label.clone(), confidence: p.topic.apply(t.share), evidence: ids(t) });
    }
    view.categories = cats;
    view.next_tests = next_tests(query, used, &w, p);
    view.specialist = specialist(used, &w, locations.first(), classes.first(), p);
    view
}

/// What confirmed the evidence's diagnoses, labs abnormal there but not measured here, imaging
/// the evidence had and the query lacks — each kept when enough of the vote is behind it.
fn next_tests(query: &QueryFacts, used: &[Neighbour], w: &[f32], p: &Params) -> Vec<SuggestedTest> {
    let ids = |t: &Tally| t.members.iter().map(|i| CaseId(used[*i].case)).collect::<Vec<_>>();
    let mut out = Vec::new();
    let mut multi = |kind: &str, each: &dyn Fn(&Neighbour) -> Vec<String>| {
        // A case may name several tests: each gets the case's weight.
        let mut share: Vec<(String, f32, Vec<usize>)> = Vec::new();
        for (i, n) in used.iter().enumerate() {
            for what in each(n) {
                match share.iter_mut().find(|s| s.0 == what) {
                    Some(s) => {
                        s.1 += w[i];
                        s.2.push(i);
                    }
                    None => share.push((what, w[i], vec![i])),
                }
            }
        }
        share.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (what, support, members) in share.into_iter().filter(|s| s.1 >= p.min_support).take(4) {
            let t = Tally { label: what, share: support, members };
            out.push(SuggestedTest { kind: kind.into(), what: t.label.clone(), support: t.share, evidence: ids(&t) });
        }
    };
    multi("confirmed_by", &|n| n.diagnosed_by.as_deref().map(normalise::confirmation).unwrap_or_default());
    let measured: Vec<String> = query.measured_labs.iter().map(|l| l.to_lowercase()).collect();
    multi("lab", &|n| n.abnormal_labs.iter().filter(|l| !measured.contains(&l.to_lowercase())).cloned().collect());
    let have: Vec<String> = query.modalities.iter().map(|m| m.to_lowercase()).collect();
    multi("imaging", &|n| {
        n.modalities.iter().filter(|m| !have.contains(&m.to_lowercase()) && m.as_str() != "other").map(|m| normalise::modality_name(m)).collect()
    });
    out
}

/// The specialist doctors recorded on the evidence when most of the vote agrees, else the
/// mapping's for the suggested region and disease class.
fn specialist(used: &[Neighbour], w: &[f32], location: Option<&Tally>, class: Option<&Tally>, p: &Params) -> Option<SuggestedSpecialist> {
    let recorded = vote(used, w, |n| n.specialist.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| (s.to_lowercase(), s.to_string())));
    if let Some(t) = recorded.first().filter(|t| t.members.len() >= 2 && t.share >= p.min_support.max(0.3)) {
        return Some(SuggestedSpecialist {
            name: t.label.clone(),
            source: "reviewers".into(),
            evidence: t.members.iter().map(|i| CaseId(used[*i].case)).collect(),
        });
    }
    let region = location?;
    let class = class.and_then(|c| c.label.parse::<u8>().ok());
    let name = specialty::lookup(&region.label, class)?;
    let mut evidence: Vec<CaseId> = region.members.iter().map(|i| CaseId(used[*i].case)).collect();
    evidence.truncate(5);
    Some(SuggestedSpecialist { name: name.to_string(), source: "mapping".into(), evidence })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(case: i64, score: f32, dx: &str, loc: &str, class: u8) -> Neighbour {
        Neighbour {
            case,
            title: dx.into(),
            score,
            diagnosis: dx.into(),
            basis: "validated".into(),
            location: Some(loc.into()),
            topic: Some(format!("topic of {dx}")),
            disease_class: Some(class),
            modalities: vec!["ct".into()],
            ..Neighbour::default()
        }
    }

    fn params() -> Params {
        Params { k: 10, temperature: 1.0, min_evidence: 3, abstain_below: 0.2, min_support: 0.2, ..Params::default() }
    }

    #[test]
    fn weights_sum_to_one_and_fall_with_the_score() {
        let ev = vec![n(1, 2.0, "a", "Head", 3), n(2, 1.0, "b", "Head", 3), n(3, 0.0, "c", "Head", 3)];
        let w = weights(&ev, &params());
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(w[0] > w[1] && w[1] > w[2]);
        // A colder temperature concentrates the vote on the best case.
        let cold = weights(&ev, &Params { temperature: 0.1, ..params() });
        assert!(cold[0] > 0.99);
        assert!(weights(&[], &params()).is_empty());
    }

    #[test]
    fn the_same_diagnosis_written_two_ways_is_one_entry() {
        let ev = vec![
            n(1, 1.0, "Bladder Diverticulum", "Abdomen", 9),
            n(2, 1.0, "Diverticulum of the bladder", "Abdomen", 9),
            n(3, 1.0, "Renal cell carcinoma", "Abdomen", 3),
        ];
        let w = weights(&ev, &params());
        let dx = diagnosis_vote(&ev, &w);
        assert_eq!(dx.len(), 2);
        assert_eq!(dx[0].label, "Bladder Diverticulum");
        assert_eq!(dx[0].members, vec![0, 1]);
        assert!((dx[0].share - 2.0 / 3.0).abs() < 1e-5);
    }

    #[test]
    fn suggestions_link_their_evidence_and_say_what_is_missing() {
        let mut ev = vec![
            n(10, 3.0, "Glioblastoma", "Head", 3),
            n(11, 2.9, "Glioblastoma multiforme", "Head", 3),
            n(12, 2.5, "Meningioma", "Head", 3),
            n(13, 1.0, "Abscess", "Head", 2),
        ];
        for e in &mut ev[..3] {
            e.diagnosed_by = Some("Biopsy and pathology".into());
            e.modalities = vec!["ct".into(), "mr".into()];
            e.abnormal_labs = vec!["CRP".into()];
        }
        let q = QueryFacts { modalities: vec!["ct".into()], measured_labs: vec!["CRP".into()] };
        let s = suggest(&q, &ev, &params());
        assert_eq!(s.abstained, None);
        assert_eq!(s.differential[0].name, "Glioblastoma");
        assert_eq!(s.differential[0].evidence, vec![CaseId(10), CaseId(11)]);
        assert!(s.differential[0].confidence > s.differential[1].confidence);
        let cat = |k: &str| s.categories.iter().find(|c| c.kind == k).unwrap().label.clone();
        assert_eq!(cat("body_region"), "Head");
        assert_eq!(cat("disease_class"), "Neoplasm or neoplastic-like condition");
        let tests: Vec<(&str, &str)> = s.next_tests.iter().map(|t| (t.kind.as_str(), t.what.as_str())).collect();
        assert!(tests.contains(&("confirmed_by", "Biopsy")) && tests.contains(&("confirmed_by", "Pathology")), "{tests:?}");
        assert!(tests.contains(&("imaging", "MR")), "{tests:?}");
        assert!(!tests.iter().any(|t| t.0 == "lab"), "CRP is measured here already: {tests:?}");
        let sp = s.specialist.unwrap();
        assert_eq!((sp.name.as_str(), sp.source.as_str()), ("Neurosurgery / neuro-oncology", "mapping"));
        // Doctors' recorded specialist wins when they agree.
        for e in &mut ev[..3] {
            e.specialist = Some("Neuro-oncology".into());
        }
        let s = suggest(&q, &ev, &params());
        assert_eq!(s.specialist.unwrap().source, "reviewers");
    }

    #[test]
    fn thin_or_split_evidence_abstains() {
        let ev = vec![n(1, 1.0, "a", "Head", 3), n(2, 1.0, "b", "Thorax", 2)];
        let s = suggest(&QueryFacts::default(), &ev, &params());
        assert!(s.abstained.unwrap().starts_with("Not enough similar validated cases"));
        assert!(s.differential.is_empty() && s.categories.is_empty());
        assert_eq!(s.evidence.len(), 2, "the evidence is still listed");
        let split: Vec<Neighbour> = (0..10).map(|i| n(i, 1.0, &format!("dx {i}"), "Head", (i % 10) as u8)).collect();
        let s = suggest(&QueryFacts::default(), &split, &Params { abstain_below: 0.5, ..params() });
        assert!(s.abstained.unwrap().contains("disagree"));
    }
}
