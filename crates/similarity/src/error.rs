//! The similarity service's error: the database, the index files, a rebuild already running,
//! or a blocking task that failed.
use precedent_search::index::IndexError;

#[derive(Debug, thiserror::Error)]
pub enum SimilarityError {
    #[error(transparent)]
    Store(#[from] precedent_store::StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("index files: {0}")]
    Io(#[from] std::io::Error),
    #[error("a rebuild is already running")]
    Busy,
    #[error("task: {0}")]
    Task(String),
}

pub type Result<T, E = SimilarityError> = std::result::Result<T, E>;
