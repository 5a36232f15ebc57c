#![recursion_limit = "256"]
//! The `precedent` server: the application assembled in one place ([`startup`]), the router and
//! middleware ([`web`]), the JSON API and media downloads, case intake and library import, the
//! background work (embedding worker, index following), the managed database and the command
//! line ([`cli`]; `main.rs` only dispatches).
pub mod api;
pub mod archive;
pub mod background;
pub mod backup;
pub mod bench;
pub mod cli;
pub mod config;
pub mod error;
pub mod eval;
pub mod http;
pub mod import;
pub mod intake;
pub mod labs;
pub mod media;
pub mod metrics;
pub mod pg;
pub mod reindex;
pub mod seed;
pub mod startup;
pub mod suggest_eval;
pub mod web;
pub mod worker;

pub use background::{load_active_encoders, load_encoders, start_search, start_worker, SearchHandle, WorkerHandle};
pub use error::ServerError;
pub use reindex::models_of;
pub use startup::{open_database, resolve_database, with_database, Application};
