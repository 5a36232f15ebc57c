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
        #[arg(long)]
        library: PathBuf,
        /// Only cases whose `split` is this value are queries (all cases stay in the library).
        #[arg(long)]
        query_split: Option<String>,
        #[arg(long)]
        json: bool,
        /// Vector cache (default: <data dir>/eval-cache).
        #[arg(long)]
        cache: Option<PathBuf>,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Control the managed PostgreSQL cluster.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
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
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn")))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
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
        Command::Eval { library, query_split, json, cache } => {
            let enc = precedent::load_encoders(&cfg.models_manifest, cfg.encoder_threads.max(2)).await.map_err(other)?;
            let cache = precedent::eval::VectorCache::new(cache.unwrap_or_else(|| cfg.data_dir.join("eval-cache")));
            let report = tokio::task::spawn_blocking(move || {
                precedent::eval::evaluate(&library, query_split.as_deref(), &enc, &cache, |done, total| {
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
    Ok((precedent::state(pool, &cfg.data_dir, options, cfg.max_upload_mb)?, managed))
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
    let st = precedent::state(pool.clone(), &cfg.data_dir, options, cfg.max_upload_mb)?;
    if let Some(n) = demo {
        if precedent_store::users::count(&pool).await? == 0 {
            let started = std::time::Instant::now();
            let added = seed::seed_cases(&st, n, 1).await.map_err(|e| ServerError::Other(e.to_string()))?;
            tracing::info!(cases = added, secs = started.elapsed().as_secs_f64(), "demo seeded");
        }
        print_demo_accounts();
    }
    let deletion = {
        use tower_sessions::session_store::ExpiredDeletion;
        tokio::spawn(sessions.clone().continuously_delete_expired(tokio::time::Duration::from_secs(300)))
    };
    let settings = web::SessionSettings { secure: cfg.secure_cookies, idle_minutes: cfg.session_idle_minutes };
    let (worker, search) = match precedent::load_encoders(&cfg.models_manifest, cfg.encoder_threads).await {
        Ok(enc) => {
            let search = match precedent::start_search(&st, Arc::clone(&enc), cfg.index_dir.clone()).await {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::error!(error = %e, "similarity search unavailable");
                    None
                }
            };
            (Some(precedent::start_worker(pool.clone(), st.blobs.clone(), enc)), search)
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
