//! Precedent's encoders, testable without Postgres or a browser: one ONNX Runtime environment per
//! process ([`runtime`]), the model manifest (`models/models.toml`, [`manifest`]) and the encoders
//! that turn text ([`text`]: `tokenizers` + an ONNX sentence-embedding model, optionally followed
//! by a head) and images ([`image`]: bounded decode, grey, mask/crop, resize, a CNN) into
//! L2-normalised vectors; [`encoders`] holds the pair a process runs.
//!
//! Everything that needs `ort` or `tokenizers` lives here. The search core (`precedent-search`:
//! indexes, fusion, evaluation) takes plain vectors and never compiles either.
pub mod encoders;
pub mod error;
pub mod image;
pub mod manifest;
pub mod runtime;
pub mod text;

pub use encoders::{EncoderSlot, Encoders};
pub use error::EncodeError;
pub use image::ImageEncoder;
pub use manifest::{EncoderSpec, Manifest, Modality};
pub use text::TextEncoder;
