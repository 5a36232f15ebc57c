//! Precedent's search core, testable without Postgres, a browser or ONNX Runtime: plain vectors
//! in, ranked cases out. The encoders that make the vectors are `precedent-encoders`'.
//!
//! The rooms, from the ground up:
//! * [`vector`]: dot kernels (AVX2 chosen at run time), cosine, normalisation, the graph metric;
//! * [`walk`]: the flat read-only copy of an hnsw_rs graph and the beam search over it;
//! * [`index`]: one modality's index (hnsw_rs graph, point table, tombstones, filters, dumps);
//! * [`filter`], [`fusion`], [`labprofile`]: the filter fields, score calibration and weighted
//!   fusion as pure functions, and lab results as a third modality;
//! * [`engine`]: one index per modality and the cases' filter fields, queried phase by phase,
//!   saved and loaded as a generation directory;
//! * [`eval`]: ranking metrics, the TF-IDF baseline and judged precision; [`synthetic`]:
//!   clustered unit vectors for benchmarks and tests.
pub mod engine;
pub mod eval;
pub mod filter;
pub mod fusion;
pub mod index;
pub mod labprofile;
pub mod refine;
pub mod synthetic;
pub mod vector;
pub mod walk;
