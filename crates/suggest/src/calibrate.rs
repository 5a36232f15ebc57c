//! Fitting and measuring calibration: a Platt map from vote shares to confidences (logistic
//! regression on the logit of the share, by Newton's method), and the expected calibration
//! error of confidences against outcomes.
use crate::Platt;

fn logit(s: f32) -> f64 {
    let s = s.clamp(1e-4, 1.0 - 1e-4) as f64;
    (s / (1.0 - s)).ln()
}

/// The Platt map that best predicts `correct` from `share` (log loss, a little ridge on `a`
/// and `b` so a tiny or separable sample cannot run off). Identity for an empty sample.
pub fn fit_platt(samples: &[(f32, bool)]) -> Platt {
    if samples.is_empty() {
        return Platt::default();
    }
    let ridge = 1e-3 * samples.len() as f64;
    // Penalised log loss, the objective each Newton step must lower (halving the step until it does).
    let loss = |a: f64, b: f64| -> f64 {
        let data: f64 = samples
            .iter()
            .map(|(s, y)| {
                let z = a * logit(*s) + b;
                // log(1 + e^z) − y·z, computed stably.
                let softplus = if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() };
                softplus - if *y { z } else { 0.0 }
            })
            .sum();
        data + 0.5 * ridge * ((a - 1.0).powi(2) + b * b)
    };
    let (mut a, mut b) = (1.0f64, 0.0f64);
    let mut current = loss(a, b);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (ridge * (a - 1.0), ridge * b, ridge, 0.0, ridge);
        for (s, y) in samples {
            let x = logit(*s);
            let p = 1.0 / (1.0 + (-(a * x + b)).exp());
            let r = p - if *y { 1.0 } else { 0.0 };
            let w = (p * (1.0 - p)).max(1e-9);
            ga += r * x;
            gb += r;
            haa += w * x * x;
            hab += w * x;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-12 {
            break;
        }
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        let mut step = 1.0;
        while step > 1e-6 && loss(a - step * da, b - step * db) > current {
            step /= 2.0;
        }
        let next = loss(a - step * da, b - step * db);
        if next > current {
            break;
        }
        a -= step * da;
        b -= step * db;
        let gain = current - next;
        current = next;
        if gain < 1e-10 {
            break;
        }
    }
    Platt { a: a as f32, b: b as f32 }
}

/// Expected calibration error over `bins` equal-width confidence bins: the mean, weighted by
/// bin size, of |accuracy − mean confidence|.
pub fn ece(samples: &[(f32, bool)], bins: usize) -> f32 {
    if samples.is_empty() || bins == 0 {
        return 0.0;
    }
    let mut sum = vec![(0.0f64, 0.0f64, 0usize); bins];
    for (c, y) in samples {
        let i = ((c.clamp(0.0, 1.0) * bins as f32) as usize).min(bins - 1);
        sum[i].0 += *c as f64;
        sum[i].1 += if *y { 1.0 } else { 0.0 };
        sum[i].2 += 1;
    }
    let n = samples.len() as f64;
    sum.iter().filter(|b| b.2 > 0).map(|(c, y, k)| (*k as f64 / n) * ((y - c) / *k as f64).abs()).sum::<f64>() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calibrated_sample_keeps_the_identity_and_ece_near_zero() {
        // Shares that are right exactly as often as they say.
        let mut s = Vec::new();
        for (share, right_of_10) in [(0.2f32, 2), (0.5, 5), (0.8, 8)] {
            for i in 0..100 {
                s.push((share, i % 10 < right_of_10));
            }
        }
        let p = fit_platt(&s);
        assert!((p.a - 1.0).abs() < 0.05 && p.b.abs() < 0.05, "{p:?}");
        assert!(ece(&s, 10) < 0.01);
    }

    #[test]
    fn overconfident_shares_are_pulled_down() {
        // Says 0.9, right half the time.
        let s: Vec<(f32, bool)> = (0..200).map(|i| (if i % 2 == 0 { 0.9 } else { 0.85 }, i % 4 < 2)).collect();
        assert!(ece(&s, 10) > 0.3);
        let p = fit_platt(&s);
        let fixed: Vec<(f32, bool)> = s.iter().map(|(c, y)| (p.apply(*c), *y)).collect();
        assert!(ece(&fixed, 10) < 0.05, "{}", ece(&fixed, 10));
        assert_eq!(fit_platt(&[]), Platt::default());
    }
}
