//! Precedent's search core, testable without Postgres or a browser: the ONNX Runtime environment,
//! the model manifest (`models/models.toml`) and the encoders that turn text and images into
//! L2-normalised vectors.
pub mod encoders;
pub mod engine;
pub mod eval;
pub mod image;
pub mod index;
pub mod labprofile;
pub mod manifest;
pub mod runtime;
pub mod synthetic;
pub mod text;
pub mod walk;

pub use manifest::{EncoderSpec, Manifest, Modality};
pub use encoders::{EncoderSlot, Encoders};
pub use image::ImageEncoder;
pub use text::TextEncoder;

/// Errors of the search core.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("ONNX Runtime library not found (looked in: {0}); run the README's set-up or set PRECEDENT_ORT_LIB")]
    RuntimeMissing(String),
    #[error("ONNX Runtime: {0}")]
    Ort(String),
    #[error("model manifest {path}: {reason}")]
    Manifest { path: String, reason: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("image: {0}")]
    Image(String),
    #[error("nothing to encode: {0}")]
    EmptyInput(&'static str),
    #[error("the encoder returned {got} values per input; the manifest says {expected}")]
    Dimension { expected: usize, got: usize },
}

impl<T> From<ort::Error<T>> for SearchError {
    fn from(e: ort::Error<T>) -> Self {
        SearchError::Ort(e.to_string())
    }
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
