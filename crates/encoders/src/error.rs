//! The encoders' error: what can go wrong between a manifest, ONNX Runtime, a tokenizer or an
//! image decoder and a vector.

/// Errors of loading or running an encoder.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
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

impl<T> From<ort::Error<T>> for EncodeError {
    fn from(e: ort::Error<T>) -> Self {
        EncodeError::Ort(e.to_string())
    }
}
