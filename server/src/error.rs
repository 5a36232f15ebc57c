//! The server's own error: start-up, configuration, the managed database, commands.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] precedent_store::StoreError),
    #[error(transparent)]
    Pg(#[from] crate::pg::PgError),
    #[error("session store: {0}")]
    Sessions(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

impl ServerError {
    /// Any displayable failure, as [`ServerError::Other`].
    pub fn other(e: impl std::fmt::Display) -> Self {
        ServerError::Other(e.to_string())
    }
}
