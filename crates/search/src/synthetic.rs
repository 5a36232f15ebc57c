//! Deterministic synthetic embeddings for benchmarks and tests at any scale: unit vectors drawn
//! from a mixture of clusters (as real embeddings are), so nearest neighbours are meaningful and
//! ANN recall is measured on a realistic problem rather than on uniform noise.

/// xorshift64* — small, fast and deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u = self.f32().max(1e-7);
        let v = self.f32();
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// A mixture of `clusters` directions in `dim` dimensions; points lie at cosine ≈ 0.5–0.8
/// from their cluster's centre.
pub struct Mixture {
    dim: usize,
    centres: Vec<Vec<f32>>,
    spread: Vec<f32>,
}

impl Mixture {
    pub fn new(dim: usize, clusters: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let centres = (0..clusters.max(1))
            .map(|_| {
                let mut c: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
                crate::vector::normalise(&mut c);
                c
            })
            .collect();
        // Per-cluster noise norm between 0.75 and 1.7 (relative to the unit centre).
        let spread = (0..clusters.max(1)).map(|_| (0.75 + rng.f32() * 0.95) / (dim as f32).sqrt()).collect();
        Self { dim, centres, spread }
    }

    /// A mixture sized for `n` points (about 50 per cluster, at least 10 clusters).
    pub fn for_points(dim: usize, n: usize, seed: u64) -> Self {
        Self::new(dim, (n / 50).max(10), seed)
    }

    /// The next point, with the cluster it came from.
    pub fn sample(&self, rng: &mut Rng) -> (usize, Vec<f32>) {
        let c = rng.below(self.centres.len());
        let s = self.spread[c];
        let mut v: Vec<f32> = self.centres[c].iter().map(|x| x + rng.normal() * s).collect();
        crate::vector::normalise(&mut v);
        (c, v)
    }

    /// A point of cluster `c` (modulo the number of clusters).
    pub fn sample_from(&self, c: usize, rng: &mut Rng) -> Vec<f32> {
        let c = c % self.centres.len();
        let s = self.spread[c];
        let mut v: Vec<f32> = self.centres[c].iter().map(|x| x + rng.normal() * s).collect();
        crate::vector::normalise(&mut v);
        v
    }

    pub fn clusters(&self) -> usize {
        self.centres.len()
    }

    /// `n` points from stream `seed`.
    pub fn points(&self, n: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| self.sample(&mut rng).1).collect()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_unit_clustered_and_deterministic() {
        let m = Mixture::new(64, 5, 1);
        let a = m.points(50, 7);
        assert_eq!(a, m.points(50, 7));
        for v in &a {
            let n: f32 = v.iter().map(|x| x * x).sum();
            assert!((n - 1.0).abs() < 1e-4);
        }
        let mut rng = Rng::new(3);
        let (c, v) = m.sample(&mut rng);
        let to_own = crate::vector::cosine(&v, &m.centres[c]);
        let to_other = crate::vector::cosine(&v, &m.centres[(c + 1) % 5]);
        assert!(to_own > 0.4 && to_own > to_other + 0.2, "{to_own} vs {to_other}");
    }
}
