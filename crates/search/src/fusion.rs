//! Score fusion, as pure functions of the scores: the modalities fused ([`Channel`]), the user's
//! [`Weights`], the [`Calibration`] that puts each modality's cosines on one scale (z-scores
//! against the query's scores over a fixed library sample, reciprocal ranks, or raw), and the
//! weighted sum over the modalities a candidate has, renormalised so that a missing modality is
//! left out rather than counted as zero.
//!
//! The engine ([`crate::engine`]) gathers and re-scores the candidates; everything here works on
//! the numbers it hands over and knows nothing of indexes or locks.
use serde::{Deserialize, Serialize};

/// The modalities the engine fuses (the vocabulary every crate shares).
pub use precedent_types::Channel;

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
    /// The weight of channel `c` (negative or not finite: 0).
    pub fn of(&self, c: Channel) -> f32 {
        let w = match c {
            Channel::Text => self.text,
            Channel::Image => self.image,
            Channel::Labs => self.labs,
        };
        if w.is_finite() {
            w.max(0.0)
        } else {
            0.0
        }
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

/// One modality's exact score of one candidate: the cosine (for images: of the best-matching
/// pair of images) and, for images, which query image matched which image of the candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    pub cosine: f32,
    pub query_item: Option<i64>,
    pub hit_item: Option<i64>,
}

/// One modality's scores over a query's candidates (position `i` is candidate `i`): the exact
/// match (`None` where the candidate lacks the modality) and its calibrated score.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelScores {
    pub channel: Channel,
    pub matches: Vec<Option<Match>>,
    pub calibrated: Vec<Option<f32>>,
}

/// A candidate's fused score: the calibrated scores' weighted sum (the ranking), the weighted mean
/// of the cosines (shown as "% match"), and each modality's part.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    pub fused: f32,
    pub cosine: f32,
    pub channels: Vec<ChannelScore>,
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

/// One modality's raw scores over the candidates put on the common scale. `sample` gives this
/// query's scores over the library's calibration sample; it is asked only for z-scores.
pub fn calibrate(raw: Vec<Option<f32>>, calibration: Calibration, sample: impl FnOnce() -> Vec<f32>) -> Vec<Option<f32>> {
    match calibration {
        Calibration::Raw => raw,
        Calibration::Rrf => rrf(&raw),
        Calibration::ZScore => zscore(&raw, &sample()),
    }
}

/// Fuses candidate `i`'s modalities with `weights`, renormalised over the modalities it has;
/// `None` when none of them has any weight.
pub fn fuse(channels: &[ChannelScores], i: usize, weights: &Weights) -> Option<Fused> {
    let mut total_w = 0.0;
    for c in channels {
        if c.matches[i].is_some() {
            total_w += weights.of(c.channel);
        }
    }
    if total_w <= 0.0 {
        return None;
    }
    let mut parts = Vec::new();
    let (mut fused, mut cosine) = (0.0, 0.0);
    for c in channels {
        let (Some(m), Some(cal)) = (c.matches[i], c.calibrated[i]) else { continue };
        let w = weights.of(c.channel) / total_w;
        fused += w * cal;
        cosine += w * m.cosine;
        parts.push(ChannelScore { channel: c.channel, cosine: m.cosine, calibrated: cal, weight: w, query_item: m.query_item, hit_item: m.hit_item });
    }
    Some(Fused { fused, cosine, channels: parts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_helpers() {
        assert_eq!(zscore(&[Some(3.0), None], &[1.0, 3.0]), vec![Some(1.0), None]);
        assert_eq!(rrf(&[Some(0.1), None, Some(0.9)]), vec![Some(1.0 / 62.0), None, Some(1.0 / 61.0)]);
        // The sample is asked for z-scores only.
        assert_eq!(calibrate(vec![Some(0.5), None], Calibration::Raw, || unreachable!()), vec![Some(0.5), None]);
        assert_eq!(calibrate(vec![Some(3.0), None], Calibration::ZScore, || vec![1.0, 3.0]), vec![Some(1.0), None]);
    }

    #[test]
    fn fusion_leaves_missing_modalities_out() {
        let m = |cosine: f32| Some(Match { cosine, query_item: None, hit_item: Some(7) });
        let channels = [
            ChannelScores { channel: Channel::Text, matches: vec![m(0.8), m(0.4)], calibrated: vec![Some(2.0), Some(1.0)] },
            ChannelScores { channel: Channel::Image, matches: vec![m(0.6), None], calibrated: vec![Some(1.0), None] },
        ];
        let w = Weights { text: 1.0, image: 3.0, labs: 0.0 };
        let both = fuse(&channels, 0, &w).unwrap();
        assert_eq!((both.fused, both.cosine), (0.25 * 2.0 + 0.75 * 1.0, 0.25 * 0.8 + 0.75 * 0.6));
        assert_eq!(both.channels[1], ChannelScore { channel: Channel::Image, cosine: 0.6, calibrated: 1.0, weight: 0.75, query_item: None, hit_item: Some(7) });
        // Candidate 1 has no image: its text gets the whole weight, not a quarter of it.
        let text_only = fuse(&channels, 1, &w).unwrap();
        assert_eq!((text_only.fused, text_only.channels.len(), text_only.channels[0].weight), (1.0, 1, 1.0));
        // No weight on any modality it has: no hit.
        assert!(fuse(&channels, 1, &Weights { text: 0.0, image: 1.0, labs: f32::NAN }).is_none());
    }
}
