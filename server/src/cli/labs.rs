//! `precedent labs parse|bench|backfill|worker`: lab report PDFs from the command line, the
//! parser's benchmark, reading values for stored reports, and the isolated reader's child side.
use crate::config::Config;
use crate::{error::ServerError, startup};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum LabsCommand {
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

/// Runs one lab command.
pub async fn run(cfg: &Config, command: LabsCommand) -> Result<(), ServerError> {
    match command {
        LabsCommand::Parse { file, json } => parse(cfg, &file, json),
        LabsCommand::Bench { per_layout, seed, json } => bench(cfg, per_layout, seed, json).await,
        LabsCommand::Backfill { reread, json } => backfill(cfg, reread, json).await,
        LabsCommand::Worker => {
            precedent_labs::reader::serve_worker(std::io::stdin().lock(), std::io::stdout().lock())?;
            Ok(())
        }
    }
}

fn parse(cfg: &Config, file: &std::path::Path, json: bool) -> Result<(), ServerError> {
    let bytes = std::fs::read(file)?;
    let (values, collected) = crate::labs::parse_pdf(&bytes, &cfg.pdf_reader()).map_err(ServerError::other)?;
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
        println!(
            "{:<28} {:>10} {:<14} {:<18} {:<13} {:<10}",
            v.analyte,
            value,
            v.unit.clone().unwrap_or_default(),
            range,
            flag,
            v.loinc.clone().unwrap_or_default()
        );
    }
    if json {
        println!("{}", serde_json::to_string(&serde_json::json!({ "collected": collected, "values": values })).map_err(ServerError::other)?);
    }
    Ok(())
}

async fn bench(cfg: &Config, per_layout: usize, seed: u64, json: bool) -> Result<(), ServerError> {
    // The capped-process figure only when uploads really are read that way.
    let reader = cfg.pdf_reader();
    let isolated = matches!(reader.isolation, precedent_labs::Isolation::Process { .. }).then_some(reader);
    let r = tokio::task::spawn_blocking(move || crate::labs::bench(seed, per_layout.max(1), isolated.as_ref()))
        .await
        .map_err(ServerError::other)?
        .map_err(ServerError::other)?;
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
        println!("{}", serde_json::to_string(&r).map_err(ServerError::other)?);
    }
    Ok(())
}

async fn backfill(cfg: &Config, reread: bool, json: bool) -> Result<(), ServerError> {
    let r = startup::with_database(cfg, 4, |st| async move { crate::labs::backfill(&st.pool, &st.blobs, &st.pdf, reread).await }).await?;
    println!(
        "{} report(s) without values: {} now have values ({} values), {} read again, {} still without values",
        r.reports, r.filled, r.values, r.reread, r.still_empty
    );
    if json {
        println!("{}", serde_json::to_string(&r).map_err(ServerError::other)?);
    }
    Ok(())
}
