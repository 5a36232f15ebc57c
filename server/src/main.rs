//! `precedent`: serve the web application, manage accounts, seed the demo, run the database.
use clap::{Parser, Subcommand};
use precedent::config::Config;
use precedent::{pg, seed, web, ServerError};
use precedent_types::Role;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// jemalloc rather than glibc's malloc: the similarity index holds millions of small
/// allocations (hnsw_rs allocates every graph edge on its own), which jemalloc stores in about
/// 20 % less memory (docs/benchmarks.md, "Index memory and the allocator").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "precedent", version, about = "Find similar past cases by images, clinical text and lab results")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (PRECEDENT_ADDR, default 127.0.0.1:3000).
    Serve {
        /// On an empty database, create the demo accounts and this many synthetic cases.
        #[arg(long, value_name = "CASES", num_args = 0..=1, default_missing_value = "36")]
        demo: Option<usize>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Add demo accounts and N synthetic cases (idempotent for the same seed).
    Demo {
        #[arg(long, default_value_t = 36)]
        cases: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Write N synthetic cases (scans, lab PDFs, cases.jsonl with their labels) to a folder.
    Synth {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 10)]
        cases: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Import a case library folder (cases.jsonl + files, or a MedPix 2.0 folder as is).
    Import {
        dir: PathBuf,
        /// Owner of the imported cases (default: the built-in, log-in-less library account).
        #[arg(long)]
        owner: Option<String>,
        /// Print the report as one JSON line at the end.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate retrieval on a library folder (no database): P@10, MRR@10, mAP@10.
    Eval {
        /// A library folder (the SOURCE.md protocol, no database)…
        #[arg(long, required_unless_present = "judged")]
        library: Option<PathBuf>,
        /// …or the doctors' relevance judgements in the database, scored on the live index.
        #[arg(long, conflicts_with = "library")]
        judged: bool,
        /// Cut-off for `--judged`.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Only cases whose `split` is this value are queries (all cases stay in the library).
        #[arg(long)]
        query_split: Option<String>,
        /// Keep only the cases whose `split` is this value in the library: a check held out on
        /// both sides (e.g. `--query-split dev --library-split dev`).
        #[arg(long)]
        library_split: Option<String>,
        #[arg(long)]
        json: bool,
        /// Vector cache (default: <data dir>/eval-cache).
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Rebuild the similarity indexes from the database without stopping a running server (it
    /// swaps the new ones in); with a model from the manifest, first embed every case with it.
    Reindex {
        /// Text encoder (manifest name) to switch to; default: the one the index uses now.
        #[arg(long)]
        text_model: Option<String>,
        /// Image encoder (manifest name) to switch to.
        #[arg(long)]
        image_model: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The similarity indexes.
    Index {
        #[command(subcommand)]
        command: IndexCommand,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Lab report PDFs: read one, or measure the parser on generated fixtures.
    Labs {
        #[command(subcommand)]
        command: LabsCommand,
    },
    /// Control the managed PostgreSQL cluster.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Subcommand)]
enum LabsCommand {
    /// Print the values read from a lab report PDF (last line: one JSON object with `--json`).
    Parse {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Regenerate the fixture reports (every layout), parse them, report accuracy and speed.
    Bench {
        /// Reports per layout.
        #[arg(long, default_value_t = 20)]
        per_layout: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// Read values for stored reports that have none (uploaded before values were read, or
    /// unreadable then); the index picks the new lab profiles up.
    Backfill {
        /// Also read again the PDFs that could not be read (e.g. after raising the time limit).
        #[arg(long)]
        reread: bool,
        #[arg(long)]
        json: bool,
    },
    /// Internal: read one PDF from stdin, answer on stdout (the server's isolated PDF reader).
    #[command(hide = true)]
    Worker,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from PRECEDENT_PASSWORD or the first line of stdin.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "doctor")]
        role: Role,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List accounts.
    List,
}

#[derive(Subcommand)]
enum BenchCommand {
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
struct VectorSet {
    #[arg(long, default_value_t = 10_000)]
    n: usize,
    #[arg(long, default_value_t = 384)]
    dim: usize,
    #[arg(long, default_value_t = 500)]
    queries: usize,
}

#[derive(Subcommand)]
enum IndexCommand {
    /// Compare the saved index (plus the changes logged since) with the database, case by case.
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Models, counts and build time of the current index generation.
    Stats,
}

#[derive(Subcommand)]
enum DbCommand {
    /// Start the cluster (initialising it if needed) and print its admin URL.
    Start {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Stop the cluster.
    Stop {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print the admin URL of the cluster.
    Url {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // A served request logs one line; benchmarks that serve in-process keep those lines quiet.
    let default_filter = match cli.command {
        Command::Bench { .. } => "info,tower_http=warn,sqlx=warn,hnsw_rs=warn",
        _ => "info,tower_http=info,sqlx=warn,hnsw_rs=warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Err(e) = run(cli).await {
        tracing::error!(error = %e, "precedent failed");
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), ServerError> {
    let cfg = Config::from_env()?;
    match cli.command {
        Command::Serve { demo } => serve(cfg, demo).await,
        Command::Migrate => {
            let (url, managed) = precedent::resolve_database(&cfg).await?;
            precedent::open_database(&url, 2).await?;
            println!("migrations applied");
            stop_managed(managed).await;
            Ok(())
        }
        Command::User { command } => {
            let (url, managed) = precedent::resolve_database(&cfg).await?;
            let (pool, _) = precedent::open_database(&url, 2).await?;
            let out = user_command(&pool, command).await;
            stop_managed(managed).await;
            out
        }
        Command::Demo { cases, seed } => {
            let (st, managed) = open_state(&cfg).await?;
            let started = std::time::Instant::now();
            let out = seed::seed_cases(&st, cases, seed).await.map_err(other);
            if let Ok(n) = &out {
                println!("added {n} synthetic case(s) in {:.1}s", started.elapsed().as_secs_f64());
                print_demo_accounts();
            }
            st.pool.close().await;
            stop_managed(managed).await;
            out.map(|_| ())
        }
        Command::Import { dir, owner, json } => {
            let (st, managed) = open_state(&cfg).await?;
            let out = import_command(&st, &dir, owner, json).await;
            st.pool.close().await;
            stop_managed(managed).await;
            out
        }
        Command::Eval { judged: true, k, json, .. } => {
            let (st, managed) = open_state(&cfg).await?;
            let out = judged_command(&cfg, &st, k.clamp(1, 100), json).await;
            st.pool.close().await;
            stop_managed(managed).await;
            out
        }
        Command::Eval { library, query_split, library_split, json, cache, .. } => {
            let library = library.ok_or_else(|| other("--library DIR or --judged"))?;
            let enc = precedent::load_encoders(&cfg.models_manifest, cfg.encoder_threads.max(2)).await.map_err(other)?;
            let cache = precedent::eval::VectorCache::new(cache.unwrap_or_else(|| cfg.data_dir.join("eval-cache")));
            let report = tokio::task::spawn_blocking(move || {
                precedent::eval::evaluate(&library, query_split.as_deref(), library_split.as_deref(), &enc, &cache, |done, total| {
                    if done % 25 == 0 || done == total {
                        eprint!("\rencoding library: {done}/{total}");
                        if done == total {
                            eprintln!();
                        }
                    }
                })
            })
            .await
            .map_err(other)?
            .map_err(other)?;
            print!("{}", precedent::eval::table(&report));
            if json {
                println!("{}", serde_json::to_string(&report).map_err(other)?);
            }
            Ok(())
        }
        Command::Bench { what: BenchCommand::Encoders { runs, json } } => {
            let enc = precedent::load_encoders(&cfg.models_manifest, 1).await.map_err(other)?;
            let r = tokio::task::spawn_blocking(move || precedent::bench::encoders(&enc, runs.max(10), 1)).await.map_err(other)?.map_err(other)?;
            println!("encoder latency, 1 thread, {} runs each (ms)", r.text_short_query.n);
            println!("{:<34} {:>7} {:>7}", "input", "p50", "p95");
            println!("{:<34} {:>7.2} {:>7.2}", format!("text short query ({})", r.text_model), r.text_short_query.p50_ms, r.text_short_query.p95_ms);
            println!("{:<34} {:>7.2} {:>7.2}", "text case note", r.text_case_note.p50_ms, r.text_case_note.p95_ms);
            if let (Some(m), Some(l)) = (&r.image_model, &r.image_512px) {
                println!("{:<34} {:>7.2} {:>7.2}", format!("image 512 px PNG ({m})"), l.p50_ms, l.p95_ms);
            }
            if json {
                println!("{}", serde_json::to_string(&r).map_err(other)?);
            }
            Ok(())
        }
        Command::Reindex { text_model, image_model, json } => {
            let (st, managed) = open_state(&cfg).await?;
            let out = reindex_command(&cfg, &st, text_model, image_model, json).await;
            st.pool.close().await;
            stop_managed(managed).await;
            out
        }
        Command::Index { command } => {
            let (st, managed) = open_state(&cfg).await?;
            let out = index_command(&cfg, &st, command).await;
            st.pool.close().await;
            stop_managed(managed).await;
            out
        }
        Command::Bench { what: BenchCommand::Ann { size: VectorSet { n, dim, queries }, seed, m, ef_construction, from_db, json } } => {
            let data = match from_db {
                Some(channel) => {
                    let (st, managed) = open_state(&cfg).await?;
                    let enc = precedent::load_active_encoders(&st.pool, &cfg.models_manifest, 1).await.map_err(other)?;
                    let (text, image) = enc.model_ids();
                    let (table, model) = match channel.as_str() {
                        "text" => ("text_vectors WHERE field = 'full' AND", text),
                        "image" => ("image_vectors WHERE", image.ok_or_else(|| other("no image model"))?),
                        other_channel => return Err(other(format!("--from-db takes text or image, not {other_channel}"))),
                    };
                    let vectors: Vec<Vec<f32>> = sqlx::query_scalar(&format!("SELECT vector FROM {table} model = $1 ORDER BY case_id"))
                        .bind(&model)
                        .fetch_all(&st.pool)
                        .await
                        .map_err(other)?;
                    st.pool.close().await;
                    stop_managed(managed).await;
                    eprintln!("… {} stored {channel} vectors of {model}", vectors.len());
                    Some(vectors)
                }
                None => None,
            };
            let engine = precedent_search::index::IndexParams::default();
            let dim_used = data.as_ref().and_then(|v| v.first()).map_or(dim, |v| v.len());
            let m = m.unwrap_or(engine.for_dim(dim_used).max_connections);
            let params = precedent_search::index::IndexParams { max_connections: m.clamp(2, 255), ef_construction: ef_construction.max(8), ..engine };
            let r = tokio::task::spawn_blocking(move || match data {
                Some(v) => precedent::bench::ann::run_on(v, queries, params, &|s| eprintln!("… {s}")),
                None => precedent::bench::ann::run(n, dim, queries, seed, params, &|s| eprintln!("… {s}")),
            })
            .await
            .map_err(other)?;
            print!("{}", precedent::bench::ann::table(&r));
            if json {
                println!("{}", serde_json::to_string(&r).map_err(other)?);
            }
            Ok(())
        }
        Command::Bench { what: BenchCommand::Pgvector { size: VectorSet { n, dim, queries }, json } } => {
            let scratch = PathBuf::from("/var/tmp").join(format!("precedent-bench-pgvector-{}", std::process::id()));
            let r = precedent::bench::pgvector::run(n, dim, queries, 1, &scratch, &|s| eprintln!("… {s}")).await;
            let _ = std::fs::remove_dir_all(&scratch);
            match r {
                Ok(r) => {
                    print!("{}", precedent::bench::pgvector::table(&r));
                    if json {
                        println!("{}", serde_json::to_string(&r).map_err(other)?);
                    }
                }
                Err(e @ precedent::bench::pgvector::PgBenchError::Missing(_)) => {
                    println!("skipped: {e}");
                    if json {
                        println!("{}", serde_json::json!({ "n": n, "dim": dim, "skipped": e.to_string() }));
                    }
                }
                Err(e) => return Err(other(e)),
            }
            Ok(())
        }
        Command::Bench { what: BenchCommand::Http { cases, concurrency, seconds, json } } => {
            let enc = precedent::load_encoders(&cfg.models_manifest, 1).await.map_err(other)?;
            let scratch = std::env::temp_dir().join(format!("precedent-bench-http-{}", std::process::id()));
            let r = precedent::bench::http::run(enc, &cfg.models_manifest, cases, concurrency.max(1), seconds.max(1.0), &scratch, &|s| eprintln!("… {s}")).await?;
            print!("{}", precedent::bench::http::table(&r));
            if json {
                println!("{}", serde_json::to_string(&r).map_err(other)?);
            }
            Ok(())
        }
        Command::Bench { what: BenchCommand::Load { cases, connections, seconds, json } } => {
            let enc = precedent::load_encoders(&cfg.models_manifest, 1).await.map_err(other)?;
            let opts = precedent::bench::load::LoadOptions {
                cases: cases.max(10),
                connections: connections.clamp(1, 1000),
                seconds: seconds.clamp(1.0, 600.0),
                manifest: cfg.models_manifest.clone(),
                site_root: cfg.site_root.clone(),
                scratch: precedent::bench::load::scratch_dir(),
            };
            let r = precedent::bench::load::run(enc, opts, &|s| eprintln!("… {s}")).await?;
            print!("{}", precedent::bench::load::table(&r));
            if json {
                println!("{}", serde_json::to_string(&r).map_err(other)?);
            }
            Ok(())
        }
        Command::Labs { command: LabsCommand::Backfill { reread, json } } => {
            let (st, managed) = open_state(&cfg).await?;
            let out = precedent::labs::backfill(&st.pool, &st.blobs, &st.pdf, reread).await;
            stop_managed(managed).await;
            let r = out?;
            println!(
                "{} report(s) without values: {} now have values ({} values), {} read again, {} still without values",
                r.reports, r.filled, r.values, r.reread, r.still_empty
            );
            if json {
                println!("{}", serde_json::to_string(&r).map_err(other)?);
            }
            Ok(())
        }
        Command::Labs { command: LabsCommand::Worker } => {
            precedent_labs::reader::serve_worker(std::io::stdin().lock(), std::io::stdout().lock())?;
            Ok(())
        }
        Command::Labs { command: LabsCommand::Parse { file, json } } => {
            let bytes = std::fs::read(&file)?;
            let (values, collected) = precedent::labs::parse_pdf(&bytes, &cfg.pdf_reader()).map_err(other)?;
            if let Some(d) = &collected {
                println!("collected {d}");
            }
            println!("{:<28} {:>10} {:<14} {:<18} {:<13} {:<10}", "analyte", "value", "unit", "range", "flag", "LOINC");
            for v in &values {
                let value = v.text_value.clone().unwrap_or_else(|| {
                    let q = match v.qualifier {
                        Some(precedent_labs::Qualifier::Lt) => "<",
                        Some(precedent_labs::Qualifier::Le) => "≤",
                        Some(precedent_labs::Qualifier::Gt) => ">",
                        Some(precedent_labs::Qualifier::Ge) => "≥",
                        None => "",
                    };
                    format!("{q}{}", v.value.map(|x| x.to_string()).unwrap_or_default())
                });
                let range = v.range_text.clone().unwrap_or_default();
                let flag = v.flag.map(|f| format!("{f:?}")).unwrap_or_default();
                println!("{:<28} {:>10} {:<14} {:<18} {:<13} {:<10}", v.analyte, value, v.unit.clone().unwrap_or_default(), range, flag, v.loinc.clone().unwrap_or_default());
            }
            if json {
                println!("{}", serde_json::to_string(&serde_json::json!({ "collected": collected, "values": values })).map_err(other)?);
            }
            Ok(())
        }
        Command::Labs { command: LabsCommand::Bench { per_layout, seed, json } } => {
            // The capped-process figure only when uploads really are read that way.
            let reader = cfg.pdf_reader();
            let isolated = matches!(reader.isolation, precedent_labs::Isolation::Process { .. }).then_some(reader);
            let r = tokio::task::spawn_blocking(move || precedent::labs::bench(seed, per_layout.max(1), isolated.as_ref())).await.map_err(other)?.map_err(other)?;
            println!("lab parser on {} generated reports ({} values)", r.reports, r.values);
            println!("{:<20} {:>7} {:>8} {:>9}", "layout", "values", "correct", "accuracy");
            for l in &r.by_layout {
                println!("{:<20} {:>7} {:>8} {:>8.1}%", l.layout, l.values, l.correct, 100.0 * l.correct as f64 / l.values.max(1) as f64);
            }
            println!("{:<20} {:>7} {:>8} {:>8.1}%", "all", r.values, r.correct, 100.0 * r.accuracy);
            println!("parse time per report: p50 {:.1} ms, p95 {:.1} ms; two-page reports p50 {:.1} ms", r.p50_ms, r.p95_ms, r.p50_ms_two_page);
            if let Some(ms) = r.p50_ms_two_page_isolated {
                println!("two-page reports read as the server reads uploads (capped child process): p50 {ms:.1} ms");
            }
            for f in &r.failures {
                println!("  wrong: {f}");
            }
            if json {
                println!("{}", serde_json::to_string(&r).map_err(other)?);
            }
            Ok(())
        }
        Command::Synth { out, cases, seed } => {
            let n = seed::export_synth(&out, cases, seed)?;
            println!("wrote {n} synthetic case(s) to {}", out.display());
            Ok(())
        }
        Command::Db { command } => {
            let dir_of = |d: Option<PathBuf>| d.unwrap_or_else(|| cfg.data_dir.clone());
            match command {
                DbCommand::Start { dir } => {
                    let c = pg::ManagedPg::for_dir(&dir_of(dir))?;
                    c.start()?;
                    println!("{}", c.url("postgres"));
                }
                DbCommand::Stop { dir } => pg::ManagedPg::for_dir(&dir_of(dir))?.stop()?,
                DbCommand::Url { dir } => println!("{}", pg::ManagedPg::for_dir(&dir_of(dir))?.url("postgres")),
            }
            Ok(())
        }
    }
}

/// The database (started if it is the managed one) and the application state, for commands
/// that work on cases outside `serve`.
async fn open_state(cfg: &Config) -> Result<(app::ssr::AppState, Option<pg::ManagedPg>), ServerError> {
    let (url, managed) = precedent::resolve_database(cfg).await?;
    let (pool, _) = precedent::open_database(&url, 4).await?;
    let options = precedent::leptos_options(&cfg.site_root, cfg.addr);
    let mut st = precedent::state(pool, &cfg.data_dir, options, cfg.max_upload_mb)?;
    configure(&mut st, cfg);
    Ok((st, managed))
}

/// What the configuration sets beyond `precedent::state`'s defaults.
fn configure(st: &mut app::ssr::AppState, cfg: &Config) {
    st.limits.max_import_mb = cfg.max_import_mb;
    st.pdf = cfg.pdf_reader();
    st.session_max_secs = cfg.session_max_hours.max(1) * 3600;
    st.metrics_token = cfg.metrics_token.as_deref().map(Arc::from);
}

async fn reindex_command(cfg: &Config, st: &app::ssr::AppState, text: Option<String>, image: Option<String>, json: bool) -> Result<(), ServerError> {
    // The models: those asked for, else the ones the index uses now, else the manifest's defaults.
    let threads = cfg.encoder_threads.max(2);
    let current = precedent::load_active_encoders(&st.pool, &cfg.models_manifest, threads).await.map_err(other)?;
    let enc = precedent::reindex::encoders_for(&cfg.models_manifest, current, app::ssr::ModelChoice { text, image }, threads).await.map_err(other)?;
    let models = precedent::models_of(&enc);
    eprintln!("models: text {}, image {}", models.text, models.image.as_deref().unwrap_or("none"));
    // Vectors missing for these models (a new model, or cases the worker has not reached yet).
    let started = std::time::Instant::now();
    let written = precedent::worker::embed_all(&st.pool, &st.blobs, &enc, |done, total| {
        if done % 50 == 0 || done == total {
            let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
            eprint!("\rembedding: {done}/{total} cases, {rate:.0}/s, ETA {:.0} s   ", (total - done) as f64 / rate.max(1e-9));
        }
    })
    .await
    .map_err(other)?;
    eprintln!("\nembedding: {written} new vectors in {:.1} s", started.elapsed().as_secs_f64());
    let (_, _, _, header) = precedent_similarity::build_generation(&st.pool, &cfg.index_dir, &models, Default::default(), &|p| {
        if p.running && p.total > 0 {
            eprint!("\rindexing: {}/{} cases, {:.0}/s, ETA {:.0} s   ", p.done, p.total, p.rate_per_s, p.eta_s.unwrap_or(0.0));
        }
        if let Some(f) = &p.finished {
            eprintln!("\n{f}");
        }
    })
    .await
    .map_err(other)?;
    println!(
        "index generation ready at {}: {} cases, {} text + {} image vectors (a running server swaps it in within a second)",
        cfg.index_dir.display(),
        header.cases,
        header.text_vectors,
        header.image_vectors
    );
    if json {
        println!("{}", serde_json::to_string(&header).map_err(other)?);
    }
    Ok(())
}

/// The saved index for the models in use (rebuilt if it does not fit), caught up with the database.
async fn open_similarity(cfg: &Config, st: &app::ssr::AppState) -> Result<std::sync::Arc<precedent_similarity::Similarity>, ServerError> {
    let enc = precedent::load_active_encoders(&st.pool, &cfg.models_manifest, 1).await.map_err(other)?;
    precedent_similarity::Similarity::open(st.pool.clone(), cfg.index_dir.clone(), precedent::models_of(&enc), Default::default()).await.map_err(other)
}

async fn judged_command(cfg: &Config, st: &app::ssr::AppState, k: usize, json: bool) -> Result<(), ServerError> {
    let sim = open_similarity(cfg, st).await?;
    let pairs = precedent_store::search::judged_pairs(&st.pool).await?;
    let engine = sim.engine();
    let r = tokio::task::spawn_blocking(move || precedent_search::eval::judged(&engine, &pairs, k)).await.map_err(other)?;
    println!("judged queries {}  judged pairs {}  models {}, {}", r.queries, r.judged_pairs, sim.models().text, sim.models().image.unwrap_or_default());
    println!("{:<18} {:>7}", "metric", "value");
    println!("{:<18} {:>7.3}", format!("P@{}", r.k), r.p_at_k);
    println!("{:<18} {:>7.3}", "judged precision", r.judged_precision);
    println!("{:<18} {:>7.3}", "coverage", r.coverage);
    if json {
        println!("{}", serde_json::to_string(&r).map_err(other)?);
    }
    Ok(())
}

async fn index_command(cfg: &Config, st: &app::ssr::AppState, command: IndexCommand) -> Result<(), ServerError> {
    match command {
        IndexCommand::Stats => {
            let dir = cfg.index_dir.clone();
            let current = std::fs::read_to_string(dir.join("CURRENT")).map_err(|e| other(format!("no index under {}: {e}", dir.display())))?;
            let header = precedent_search::engine::Engine::read_header(&dir.join(current.trim())).map_err(other)?;
            println!("{}", serde_json::to_string_pretty(&header).map_err(other)?);
        }
        IndexCommand::Check { json } => {
            let sim = open_similarity(cfg, st).await?;
            let r = sim.check().await.map_err(other)?;
            println!(
                "cases: {} in the database, {} in the index; missing {}, extra {}, stale {}{}",
                r.cases_in_db,
                r.cases_in_index,
                r.missing.len(),
                r.extra.len(),
                r.stale.len(),
                if r.agrees() { " — they agree" } else { "" }
            );
            if json {
                println!("{}", serde_json::to_string(&r).map_err(other)?);
            }
            if !r.agrees() {
                return Err(other(format!("index and database differ: missing {:?} extra {:?} stale {:?}", r.missing, r.extra, r.stale)));
            }
        }
    }
    Ok(())
}

fn other(e: impl std::fmt::Display) -> ServerError {
    ServerError::Other(e.to_string())
}

async fn import_command(st: &app::ssr::AppState, dir: &std::path::Path, owner: Option<String>, json: bool) -> Result<(), ServerError> {
    let actor = match owner {
        Some(email) => {
            let c = precedent_store::users::find_credentials(&st.pool, &email).await?.ok_or_else(|| other(format!("no account {email}")))?;
            precedent_accounts::Actor { id: c.user.id, role: c.user.role }
        }
        None => precedent::import::library_owner(st).await.map_err(other)?,
    };
    let started = std::time::Instant::now();
    let report = precedent::import::import(st, dir, actor, |done, total, r| {
        if done % 10 == 0 || done == total {
            let width = 30;
            let filled = if total == 0 { width } else { done * width / total };
            eprint!(
                "\r[{}{}] {done}/{total}  imported {}  present {}  refused {}",
                "#".repeat(filled),
                ".".repeat(width - filled),
                r.imported,
                r.already_present,
                r.refused.len()
            );
        }
    })
    .await
    .map_err(other)?;
    eprintln!();
    println!(
        "{}: {} rows, {} imported, {} already present, {} refused ({:.1}s)",
        report.library,
        report.rows,
        report.imported,
        report.already_present,
        report.refused.len(),
        started.elapsed().as_secs_f64()
    );
    for r in &report.refused {
        println!("  refused line {} {}: {}", r.line, r.key.as_deref().unwrap_or("-"), r.reason);
    }
    if json {
        println!("{}", serde_json::to_string(&report).map_err(other)?);
    }
    Ok(())
}

async fn stop_managed(managed: Option<pg::ManagedPg>) {
    if let Some(c) = managed {
        if let Err(e) = tokio::task::spawn_blocking(move || c.stop()).await.unwrap_or(Ok(())) {
            tracing::warn!(error = %e, "could not stop the managed PostgreSQL");
        }
    }
}

fn print_demo_accounts() {
    let pw = seed::demo_password();
    println!("Demo accounts (password: {pw}):");
    for (email, _, role) in seed::DEMO_ACCOUNTS {
        println!("  {role:<8} {email}");
    }
}

async fn user_command(pool: &sqlx::PgPool, command: UserCommand) -> Result<(), ServerError> {
    match command {
        UserCommand::Add { email, role, name } => {
            let email = precedent_accounts::validate_email(&email).map_err(|e| ServerError::Other(e.to_string()))?;
            let password = match std::env::var("PRECEDENT_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => {
                    eprintln!("password for {email} (one line on stdin):");
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            precedent_accounts::validate_password(&password, &email).map_err(|e| ServerError::Other(e.to_string()))?;
            let hash = precedent_accounts::hash_password(&password).map_err(|e| ServerError::Other(e.to_string()))?;
            let user = precedent_store::users::create(pool, &email, &name, &hash, role).await?;
            println!("created {} account {} (id {})", user.role, user.email, user.id);
        }
        UserCommand::List => {
            for u in precedent_store::users::list(pool).await? {
                println!("{:>5}  {:<8} {}{}", u.id, u.role, u.email, if u.disabled { "  (disabled)" } else { "" });
            }
        }
    }
    Ok(())
}

async fn serve(cfg: Config, demo: Option<usize>) -> Result<(), ServerError> {
    tracing::info!(config = ?cfg, "starting");
    let (url, managed) = precedent::resolve_database(&cfg).await?;
    let (pool, sessions) = precedent::open_database(&url, cfg.db_max_connections).await?;
    let options = precedent::leptos_options(&cfg.site_root, cfg.addr);
    let mut st = precedent::state(pool.clone(), &cfg.data_dir, options, cfg.max_upload_mb)?;
    configure(&mut st, &cfg);
    if let Some(n) = demo {
        if precedent_store::users::count(&pool).await? == 0 {
            let started = std::time::Instant::now();
            let added = seed::seed_cases(&st, n, 1).await.map_err(|e| ServerError::Other(e.to_string()))?;
            tracing::info!(cases = added, secs = started.elapsed().as_secs_f64(), "demo seeded");
        }
        print_demo_accounts();
    }
    match precedent_store::imports::mark_interrupted(&pool).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(imports = n, "imports left running by a previous process marked interrupted"),
        Err(e) => tracing::error!(error = %e, "could not mark interrupted imports"),
    }
    let deletion = {
        use tower_sessions::session_store::ExpiredDeletion;
        tokio::spawn(sessions.clone().continuously_delete_expired(tokio::time::Duration::from_secs(300)))
    };
    let settings = web::SessionSettings { secure: cfg.secure_cookies, idle_minutes: cfg.session_idle_minutes };
    let (worker, search) = match precedent::load_active_encoders(&pool, &cfg.models_manifest, cfg.encoder_threads).await {
        Ok(enc) => {
            let enc = Arc::new(precedent_search::EncoderSlot::new(enc));
            let search = match precedent::start_search(&st, Arc::clone(&enc), cfg.index_dir.clone(), cfg.models_manifest.clone(), cfg.encoder_threads.max(1)).await {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::error!(error = %e, "similarity search unavailable");
                    None
                }
            };
            (Some(precedent::start_worker(pool.clone(), st.blobs.clone(), enc, cfg.job_lease_secs)), search)
        }
        Err(e) => {
            tracing::error!(error = %e, manifest = %cfg.models_manifest.display(), "encoders unavailable: cases are stored but not embedded or searchable until this is fixed");
            (None, None)
        }
    };
    let router = web::router(st, sessions, settings);
    let listener = tokio::net::TcpListener::bind(cfg.addr).await?;
    println!("Precedent is serving on http://{}", listener.local_addr()?);
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    deletion.abort();
    if let Some(w) = worker {
        w.stop().await;
    }
    if let Some(s) = search {
        s.stop().await;
    }
    pool.close().await;
    stop_managed(managed).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
