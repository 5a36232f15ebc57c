//! Newtype ids and the small closed vocabularies (roles, statuses, modalities, review actions,
//! search channels, lab flags) that cross crate boundaries, and the data shared by the server and
//! the browser ([`dto`]). No raw `i64` id leaves a crate: it is always one of these. Compiles to
//! wasm; the optional `sqlx` feature (for the storage layer only) lets ids bind as `BIGINT` and
//! vocabularies as `TEXT`.
pub mod dto;
mod ids;
mod vocab;

pub use ids::{CaseId, ImageId, ReportId, UserId};
pub use vocab::{AccountKind, CaseStatus, Certainty, Channel, LabFlag, Modality, ReviewAction, Role, TextStatus, UnknownValue};
