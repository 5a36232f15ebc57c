//! Vector maths over `f32` embeddings, the one place with SIMD: the dot-product kernel (8
//! independent accumulators, so the compiler vectorises it; a copy compiled for AVX2 + FMA chosen
//! at run time), its generic form over narrower element types (the walk's 8-bit codes), cosine
//! similarity, L2 normalisation, and the cosine distance the hnsw_rs graphs are built with.
//!
//! Everything here is a pure function of its arguments; the index ([`crate::index`]) and the
//! walk over its graph ([`crate::walk`]) build on it, never the other way round.
use hnsw_rs::prelude::Distance;

/// Whether this CPU has AVX2 and FMA (checked once; hot loops then run a version compiled for them).
#[cfg(target_arch = "x86_64")]
pub fn has_avx2() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"))
}

/// Dot product (vectorised; 8 wide where the CPU has AVX2).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU has AVX2 and FMA (checked at run time).
        return unsafe { dot_avx2(a, b) };
    }
    dot_as(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    dot_as(a, b)
}

/// `a · b` for `b` of floats or of any type that widens to `f32` (the walk's 8-bit codes), with
/// independent accumulators, so the compiler can vectorise it.
#[inline(always)]
pub(crate) fn dot_as<T: Copy + Into<f32>>(a: &[f32], b: &[T]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i].into();
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * (*y).into();
    }
    s
}

/// Cosine similarity of two vectors (their dot product when both are L2-normalised).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Scales `v` to unit length in place (a zero vector stays zero).
pub fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Cosine distance for unit vectors: `1 - a·b`, clamped at 0 (rounding can push a·b of two
/// equal unit vectors past 1, which `anndists::DistDot` asserts against).
#[derive(Debug, Clone, Copy, Default)]
pub struct CosineDistance;

impl Distance<f32> for CosineDistance {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}
