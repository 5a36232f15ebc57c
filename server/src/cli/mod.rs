//! The command line: one file per command family, each running its commands over the
//! application that [`crate::startup`] builds (`with_database` for commands that work on cases,
//! `Application` for `serve`). `main.rs` parses and dispatches.
pub mod accounts;
pub mod bench;
pub mod db;
pub mod eval;
pub mod index;
pub mod labs;
pub mod library;
pub mod serve;

use crate::config::Config;
use crate::error::ServerError;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "precedent", version, about = "Find similar past cases by images, clinical text and lab results")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
        command: accounts::UserCommand,
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
        /// A teaching library: patients may meet its cases, de-identified, among their similar
        /// cases (they never meet other patients' cases). Holds for the whole library.
        #[arg(long, conflicts_with = "owner")]
        shareable: bool,
        /// Print the report as one JSON line at the end.
        #[arg(long)]
        json: bool,
    },
    /// Share an imported library with patients as teaching cases (or stop sharing it).
    Share {
        /// The library's name (its folder name, as `import` reports it).
        library: String,
        /// Stop sharing: patients no longer meet its cases.
        #[arg(long)]
        off: bool,
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
        /// Also measure decision support (suggested location, topic, disease class, diagnosis;
        /// calibration; abstention) beside the prior and TF-IDF-kNN.
        #[arg(long, conflicts_with = "judged")]
        suggest: bool,
        /// Write the suggestion parameters fitted on the query cases to this file (implies --suggest).
        #[arg(long, conflicts_with = "judged")]
        fit: Option<PathBuf>,
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
        command: index::IndexCommand,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: bench::BenchCommand,
    },
    /// Lab report PDFs: read one, or measure the parser on generated fixtures.
    Labs {
        #[command(subcommand)]
        command: labs::LabsCommand,
    },
    /// Back up the database, the stored files and the index into a new folder (safe while the
    /// server runs).
    Backup {
        /// The folder to write (must not exist, or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into a database with no tables and this data directory.
    Restore {
        /// The folder `precedent backup` wrote.
        #[arg(long)]
        from: PathBuf,
    },
    /// Control the managed PostgreSQL cluster.
    Db {
        #[command(subcommand)]
        command: db::DbCommand,
    },
}

impl Command {
    /// The default log filter: a served request logs one line; benchmarks that serve
    /// in-process keep those lines quiet.
    pub fn default_log_filter(&self) -> &'static str {
        match self {
            Command::Bench { .. } => "info,tower_http=warn,sqlx=warn,hnsw_rs=warn",
            _ => "info,tower_http=info,sqlx=warn,hnsw_rs=warn",
        }
    }
}

/// Runs one command.
pub async fn run(command: Command) -> Result<(), ServerError> {
    let cfg = Config::from_env()?;
    match command {
        Command::Serve { demo } => serve::serve(cfg, demo).await,
        Command::Migrate => db::migrate(&cfg).await,
        Command::Db { command } => db::run(&cfg, command),
        Command::User { command } => accounts::run(&cfg, command).await,
        Command::Demo { cases, seed } => accounts::demo(&cfg, cases, seed).await,
        Command::Synth { out, cases, seed } => library::synth(&out, cases, seed),
        Command::Import { dir, owner, shareable, json } => library::import(&cfg, &dir, owner, shareable, json).await,
        Command::Share { library, off } => library::share(&cfg, &library, !off).await,
        Command::Eval { judged: true, k, json, .. } => eval::judged(&cfg, k.clamp(1, 100), json).await,
        Command::Eval { library, query_split, library_split, json, cache, suggest, fit, .. } => {
            let library = library.ok_or_else(|| ServerError::other("--library DIR or --judged"))?;
            eval::library(&cfg, library, query_split, library_split, json, cache, suggest, fit).await
        }
        Command::Reindex { text_model, image_model, json } => index::reindex(&cfg, text_model, image_model, json).await,
        Command::Index { command } => index::run(&cfg, command).await,
        Command::Bench { what } => bench::run(&cfg, what).await,
        Command::Labs { command } => labs::run(&cfg, command).await,
        Command::Backup { out } => {
            let m = crate::backup::backup(&cfg, &out).await?;
            println!(
                "backed up {} case(s), {} image(s), {} report(s), {} file(s) ({} bytes) to {}",
                m.counts.cases,
                m.counts.images,
                m.counts.reports,
                m.files,
                m.file_bytes,
                out.display()
            );
            Ok(())
        }
        Command::Restore { from } => {
            let r = crate::backup::restore(&cfg, &from).await?;
            println!(
                "restored {} case(s), {} image(s), {} report(s), {} file(s); index generation: {}",
                r.counts.cases,
                r.counts.images,
                r.counts.reports,
                r.files,
                r.index_generation.as_deref().unwrap_or("none (rebuilt at start)")
            );
            Ok(())
        }
    }
}

/// Prints `value` as one JSON line when `json` is set.
pub fn print_json(json: bool, value: &impl serde::Serialize) -> Result<(), ServerError> {
    if json {
        println!("{}", serde_json::to_string(value).map_err(ServerError::other)?);
    }
    Ok(())
}
