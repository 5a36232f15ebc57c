//! Lab results as a third modality. A case's profile holds, per analyte it has (latest value),
//! the standardised deviation from the reference range: 0 inside it, (v − high)/width above,
//! (v − low)/width below, in range widths. Analytes a case lacks are absent, not zero, so two
//! profiles are compared only on the analytes both have, and abnormal ones weigh more:
//!
//! `sim = Σ wᵢ·exp(−(aᵢ − bᵢ)²/2) / Σ wᵢ`, `wᵢ = 1 + |aᵢ| + |bᵢ|`, over shared analytes `i`.
//!
//! With fewer than [`MIN_SHARED`] shared analytes there is no lab score (the modality is then
//! missing for that pair and its weight goes to the others). Profiles are small and sparse, so
//! they are compared exactly rather than through a graph.
use serde::{Deserialize, Serialize};

/// Fewest shared analytes for a lab score.
pub const MIN_SHARED: usize = 2;

/// Sparse profile: (analyte index, deviation), sorted by analyte index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LabProfile(pub Vec<(u16, f32)>);

impl LabProfile {
    /// From unsorted entries (later duplicates of an analyte are dropped).
    pub fn new(mut entries: Vec<(u16, f32)>) -> Self {
        entries.retain(|(_, d)| d.is_finite());
        entries.sort_by_key(|(a, _)| *a);
        entries.dedup_by_key(|(a, _)| *a);
        LabProfile(entries)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Standardised deviation of `value` from `[low, high]` (either bound may be missing).
pub fn deviation(value: f64, low: Option<f64>, high: Option<f64>) -> Option<f32> {
    let d = match (low, high) {
        (Some(l), Some(h)) if h > l => {
            let w = h - l;
            if value > h {
                (value - h) / w
            } else if value < l {
                (value - l) / w
            } else {
                0.0
            }
        }
        (None, Some(h)) if h > 0.0 => (value - h).max(0.0) / h,
        (Some(l), None) if l > 0.0 => (value - l).min(0.0) / l,
        _ => return None,
    };
    Some(d.clamp(-10.0, 10.0) as f32)
}

/// Similarity of two profiles and the analytes abnormal in the same direction in both.
pub fn similarity(a: &LabProfile, b: &LabProfile) -> Option<(f32, Vec<u16>)> {
    let (mut i, mut j) = (0, 0);
    let (mut num, mut den, mut shared) = (0.0f32, 0.0f32, 0usize);
    let mut both_abnormal = Vec::new();
    while i < a.0.len() && j < b.0.len() {
        let (ka, da) = a.0[i];
        let (kb, db) = b.0[j];
        match ka.cmp(&kb) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                let w = 1.0 + da.abs() + db.abs();
                num += w * (-(da - db).powi(2) / 2.0).exp();
                den += w;
                shared += 1;
                if da != 0.0 && db != 0.0 && da.signum() == db.signum() {
                    both_abnormal.push(ka);
                }
                i += 1;
                j += 1;
            }
        }
    }
    (shared >= MIN_SHARED && den > 0.0).then(|| (num / den, both_abnormal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviations_are_in_range_widths() {
        assert_eq!(deviation(5.0, Some(4.0), Some(6.0)), Some(0.0));
        assert_eq!(deviation(8.0, Some(4.0), Some(6.0)), Some(1.0));
        assert_eq!(deviation(3.0, Some(4.0), Some(6.0)), Some(-0.5));
        assert_eq!(deviation(50.0, None, Some(5.0)), Some(9.0));
        assert_eq!(deviation(3.0, None, Some(5.0)), Some(0.0));
        assert_eq!(deviation(1e9, Some(1.0), Some(2.0)), Some(10.0));
        assert_eq!(deviation(1.0, None, None), None);
    }

    #[test]
    fn shared_abnormal_analytes_drive_similarity_and_missing_is_not_zero() {
        let infection = LabProfile::new(vec![(1, 2.0), (2, 3.0), (3, 0.0)]);
        let also_infection = LabProfile::new(vec![(1, 1.8), (2, 2.5), (3, 0.0), (9, 0.0)]);
        let kidney = LabProfile::new(vec![(1, 0.0), (2, 0.0), (3, 0.0), (5, 2.0)]);
        let (s1, shared) = similarity(&infection, &also_infection).unwrap();
        let (s2, none) = similarity(&infection, &kidney).unwrap();
        assert!(s1 > 0.9 && s2 < 0.3, "{s1} {s2}");
        assert_eq!(shared, vec![1, 2]);
        assert!(none.is_empty());
        // Analyte 5 is absent from the infection profile: it does not count against it.
        let (s3, _) = similarity(&infection, &LabProfile::new(vec![(1, 2.0), (2, 3.0)])).unwrap();
        assert!((s3 - 1.0).abs() < 1e-6);
        // Too little overlap: no lab score at all.
        assert!(similarity(&infection, &LabProfile::new(vec![(1, 2.0), (7, 1.0)])).is_none());
    }
}
