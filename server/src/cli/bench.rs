//! `precedent bench …`: the benchmarks (encoders, the vector index against an exact scan and
//! against pgvector, find-similar over HTTP, the load test). Each prints a table and, with
//! `--json`, one JSON line.
use super::print_json;
use crate::config::Config;
use crate::{error::ServerError, startup};
use clap::Subcommand;
use precedent_types::Channel;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Encode latency of the text and image encoders on one thread.
    Encoders {
        #[arg(long, default_value_t = 200)]
        runs: usize,
        #[arg(long)]
        json: bool,
    },
    /// hnsw_rs vs exact scan on synthetic clustered vectors: recall@10 and q/s at several ef.
    Ann {
        #[command(flatten)]
        size: VectorSet,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// hnsw `M` (neighbours per point and layer); default: the engine's for this dimension
        /// (12, capped at 8 up to 256 dimensions).
        #[arg(long)]
        m: Option<usize>,
        #[arg(long, default_value_t = 200)]
        ef_construction: usize,
        /// Use the stored vectors of this channel (`text` or `image`) from the database instead
        /// of synthetic ones (e.g. after importing medpix2-dev); queries are held out.
        #[arg(long)]
        from_db: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// hnsw_rs vs pgvector HNSW (PostgreSQL from PyPI's pgserver; see scripts/pgvector.sh).
    Pgvector {
        #[command(flatten)]
        size: VectorSet,
        #[arg(long)]
        json: bool,
    },
    /// Find-similar over HTTP on loopback against N synthetic cases: latency and req/s.
    Http {
        #[arg(long, default_value_t = 10_000)]
        cases: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 15.0)]
        seconds: f64,
        /// Also measure decision support (`/suggestions`) the same way, right after.
        #[arg(long)]
        suggestions: bool,
        #[arg(long)]
        json: bool,
    },
    /// Load test of a separate server process on loopback: C connections for S seconds on the
    /// case page (with its similar panel) and on the search API; latency, errors, server RSS.
    Load {
        #[arg(long, default_value_t = 10_000)]
        cases: usize,
        #[arg(long, default_value_t = 200)]
        connections: usize,
        /// Seconds per scenario (at most 600).
        #[arg(long, default_value_t = 60.0)]
        seconds: f64,
        #[arg(long)]
        json: bool,
    },
}

/// The synthetic vectors of a vector benchmark.
#[derive(clap::Args)]
pub struct VectorSet {
    #[arg(long, default_value_t = 10_000)]
    pub n: usize,
    #[arg(long, default_value_t = 384)]
    pub dim: usize,
    #[arg(long, default_value_t = 500)]
    pub queries: usize,
}

/// Runs one benchmark.
pub async fn run(cfg: &Config, what: BenchCommand) -> Result<(), ServerError> {
    match what {
        BenchCommand::Encoders { runs, json } => encoders(cfg, runs, json).await,
        BenchCommand::Ann { size, seed, m, ef_construction, from_db, json } => ann(cfg, size, seed, m, ef_construction, from_db, json).await,
        BenchCommand::Pgvector { size, json } => pgvector(size, json).await,
        BenchCommand::Http { cases, concurrency, seconds, suggestions, json } => {
            let enc = crate::background::load_encoders(&cfg.models_manifest, 1).await?;
            let scratch = std::env::temp_dir().join(format!("precedent-bench-http-{}", std::process::id()));
            let r = crate::bench::http::run(enc, cfg, cases, concurrency.max(1), seconds.max(1.0), suggestions, &scratch, &|s| eprintln!("… {s}")).await?;
            print!("{}", crate::bench::http::table(&r));
            print_json(json, &r)
        }
        BenchCommand::Load { cases, connections, seconds, json } => {
            let enc = crate::background::load_encoders(&cfg.models_manifest, 1).await?;
            let opts = crate::bench::load::LoadOptions {
                cases: cases.max(10),
                connections: connections.clamp(1, 1000),
                seconds: seconds.clamp(1.0, 600.0),
                manifest: cfg.models_manifest.clone(),
                site_root: cfg.site_root.clone(),
                scratch: crate::bench::load::scratch_dir(),
            };
            let r = crate::bench::load::run(enc, opts, &|s| eprintln!("… {s}")).await?;
            print!("{}", crate::bench::load::table(&r));
            print_json(json, &r)
        }
    }
}

async fn encoders(cfg: &Config, runs: usize, json: bool) -> Result<(), ServerError> {
    let enc = crate::background::load_encoders(&cfg.models_manifest, 1).await?;
    let r =
        tokio::task::spawn_blocking(move || crate::bench::encoders(&enc, runs.max(10), 1)).await.map_err(ServerError::other)?.map_err(ServerError::other)?;
    println!("encoder latency, 1 thread, {} runs each (ms)", r.text_short_query.n);
    println!("{:<34} {:>7} {:>7}", "input", "p50", "p95");
    println!("{:<34} {:>7.2} {:>7.2}", format!("text short query ({})", r.text_model), r.text_short_query.p50_ms, r.text_short_query.p95_ms);
    println!("{:<34} {:>7.2} {:>7.2}", "text case note", r.text_case_note.p50_ms, r.text_case_note.p95_ms);
    if let (Some(m), Some(l)) = (&r.image_model, &r.image_512px) {
        println!("{:<34} {:>7.2} {:>7.2}", format!("image 512 px PNG ({m})"), l.p50_ms, l.p95_ms);
    }
    print_json(json, &r)
}

/// The stored vectors of one channel (`text` or `image`) of the models in use, for `--from-db`.
async fn stored_vectors(cfg: &Config, channel: &str) -> Result<Vec<Vec<f32>>, ServerError> {
    startup::with_database(cfg, 4, |st| async move {
        let enc = crate::background::load_active_encoders(&st.pool, &cfg.models_manifest, 1).await?;
        let (text, image) = enc.model_ids();
        let (channel, model) = match channel {
            "text" => (Channel::Text, text),
            "image" => (Channel::Image, image.ok_or_else(|| ServerError::other("no image model"))?),
            other_channel => return Err(ServerError::other(format!("--from-db takes text or image, not {other_channel}"))),
        };
        let vectors = precedent_store::index_feed::stored_vectors(&st.pool, channel, &model).await?;
        eprintln!("… {} stored {channel} vectors of {model}", vectors.len());
        Ok(vectors)
    })
    .await
}

async fn ann(
    cfg: &Config,
    size: VectorSet,
    seed: u64,
    m: Option<usize>,
    ef_construction: usize,
    from_db: Option<String>,
    json: bool,
) -> Result<(), ServerError> {
    let VectorSet { n, dim, queries } = size;
    let data = match from_db {
        Some(channel) => Some(stored_vectors(cfg, &channel).await?),
        None => None,
    };
    let engine = precedent_search::index::IndexParams::default();
    let dim_used = data.as_ref().and_then(|v| v.first()).map_or(dim, |v| v.len());
    let m = m.unwrap_or(engine.for_dim(dim_used).max_connections);
    let params = precedent_search::index::IndexParams { max_connections: m.clamp(2, 255), ef_construction: ef_construction.max(8), ..engine };
    let r = tokio::task::spawn_blocking(move || match data {
        Some(v) => crate::bench::ann::run_on(v, queries, params, &|s| eprintln!("… {s}")),
        None => crate::bench::ann::run(n, dim, queries, seed, params, &|s| eprintln!("… {s}")),
    })
    .await
    .map_err(ServerError::other)?;
    print!("{}", crate::bench::ann::table(&r));
    print_json(json, &r)
}

async fn pgvector(size: VectorSet, json: bool) -> Result<(), ServerError> {
    let VectorSet { n, dim, queries } = size;
    let scratch = PathBuf::from("/var/tmp").join(format!("precedent-bench-pgvector-{}", std::process::id()));
    let r = crate::bench::pgvector::run(n, dim, queries, 1, &scratch, &|s| eprintln!("… {s}")).await;
    let _ = std::fs::remove_dir_all(&scratch);
    match r {
        Ok(r) => {
            print!("{}", crate::bench::pgvector::table(&r));
            print_json(json, &r)?;
        }
        Err(e @ crate::bench::pgvector::PgBenchError::Missing(_)) => {
            println!("skipped: {e}");
            if json {
                println!("{}", serde_json::json!({ "n": n, "dim": dim, "skipped": e.to_string() }));
            }
        }
        Err(e) => return Err(ServerError::other(e)),
    }
    Ok(())
}
