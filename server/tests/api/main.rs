//! The server's integration tests, in one test binary (`cargo test -p precedent --test api`), so
//! that the server is linked once rather than once per file. One file's tests:
//! `cargo test -p precedent --test api crash::`.
//!
//! The tests run on libtest's threads in this one process, each on its own Tokio runtime: what is
//! process-wide (the Prometheus recorder, the shared encoders, the test cluster) is shared by all
//! of them, so a test must not change process state (environment variables, the working
//! directory) or count anything process-wide.
mod common;

mod access;
mod accounts;
mod admin;
mod audit;
mod cases;
mod crash;
mod embedding;
mod eval;
mod import;
mod labs;
mod ops;
mod query_images;
mod review;
mod similar;
mod xss;
