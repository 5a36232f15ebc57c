//! The similarity indexes as a service. Postgres is the source of truth; the indexes are derived:
//!
//! * **build** reads every case's vectors in batches and builds one hnsw graph per modality;
//! * **persist**: each build is a *generation* directory under the index folder (hnsw_rs dumps +
//!   a header with model ids, counts and the last change applied); `CURRENT` names the live one;
//! * **start**: the current generation is loaded when its models match, then the change log
//!   (`search_changes`) written since its header is replayed; otherwise it is rebuilt;
//! * **follow**: a running server replays new changes every few hundred milliseconds (new and
//!   changed cases enter the live graphs; vanished vectors are marked dead) and notices when
//!   another process (`precedent reindex`) made a new generation current: it loads it beside the
//!   old one and swaps atomically, so queries never wait;
//! * **check** compares the index with the database case by case.
//!
//! The rooms: `rows` turns the database's rows into what the engine holds; `build` builds a
//! generation in batches and replays the change log; `generation` keeps the generation
//! directories and `CURRENT`; `check` compares index and database; `service` is the
//! [`Similarity`] service of one process, which ties them together; `models` says which
//! encoders an index is for, `error` what can fail.
mod build;
mod check;
mod error;
mod generation;
mod models;
mod rows;
mod service;

pub use build::{build, build_generation, Progress};
pub use check::CheckReport;
pub use error::{Result, SimilarityError};
pub use models::Models;
pub use precedent_search::engine;
pub use rows::{analyte_index, analyte_name, case_vectors, lab_deviation, lab_profile};
pub use service::Similarity;
