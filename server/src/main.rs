//! `precedent`: serve the web application, manage accounts, seed the demo, run the database.
//! The commands live in `precedent::cli`, one file per family.
use clap::Parser;
use precedent::cli::Cli;
use tracing_subscriber::EnvFilter;

/// jemalloc rather than glibc's malloc: the similarity index holds millions of small
/// allocations (hnsw_rs allocates every graph edge on its own), which jemalloc stores in about
/// 20 % less memory (docs/benchmarks.md, "Index memory and the allocator").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(cli.command.default_log_filter())))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Err(e) = precedent::cli::run(cli.command).await {
        tracing::error!(error = %e, "precedent failed");
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
