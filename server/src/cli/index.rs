//! `precedent reindex` and `precedent index check|stats`: rebuild the similarity indexes
//! (switching models if asked) while a server keeps serving, and compare them with the database.
use super::print_json;
use crate::config::Config;
use crate::{error::ServerError, startup};
use clap::Subcommand;
use precedent_service::{AppState, ModelChoice};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum IndexCommand {
    /// Compare the saved index (plus the changes logged since) with the database, case by case.
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Models, counts and build time of the current index generation.
    Stats,
}

/// The saved index for the models in use (rebuilt if it does not fit), caught up with the database.
pub async fn open_similarity(cfg: &Config, st: &AppState) -> Result<Arc<precedent_similarity::Similarity>, ServerError> {
    let enc = crate::background::load_active_encoders(&st.pool, &cfg.models_manifest, 1).await?;
    precedent_similarity::Similarity::open(st.pool.clone(), cfg.index_dir.clone(), crate::reindex::models_of(&enc), Default::default())
        .await
        .map_err(ServerError::other)
}

/// Embeds what the chosen models lack, then builds a new index generation and switches to it.
pub async fn reindex(cfg: &Config, text: Option<String>, image: Option<String>, json: bool) -> Result<(), ServerError> {
    startup::with_database(cfg, 4, |st| async move {
        // The models: those asked for, else the ones the index uses now, else the manifest's defaults.
        let threads = cfg.encoder_threads.max(2);
        let current = crate::background::load_active_encoders(&st.pool, &cfg.models_manifest, threads).await?;
        let enc = crate::reindex::encoders_for(&cfg.models_manifest, current, ModelChoice { text, image }, threads).await.map_err(ServerError::other)?;
        let models = crate::reindex::models_of(&enc);
        eprintln!("models: text {}, image {}", models.text, models.image.as_deref().unwrap_or("none"));
        // Vectors missing for these models (a new model, or cases the worker has not reached yet).
        let started = std::time::Instant::now();
        let written = crate::worker::embed_all(&st.pool, &st.blobs, &enc, |done, total| {
            if done % 50 == 0 || done == total {
                let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
                eprint!("\rembedding: {done}/{total} cases, {rate:.0}/s, ETA {:.0} s   ", (total - done) as f64 / rate.max(1e-9));
            }
        })
        .await
        .map_err(ServerError::other)?;
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
        .map_err(ServerError::other)?;
        println!(
            "index generation ready at {}: {} cases, {} text + {} image vectors (a running server swaps it in within a second)",
            cfg.index_dir.display(),
            header.cases,
            header.text_vectors,
            header.image_vectors
        );
        print_json(json, &header)
    })
    .await
}

/// `index stats` (no database) and `index check`.
pub async fn run(cfg: &Config, command: IndexCommand) -> Result<(), ServerError> {
    match command {
        IndexCommand::Stats => {
            let dir = cfg.index_dir.clone();
            let current = std::fs::read_to_string(dir.join("CURRENT")).map_err(|e| ServerError::other(format!("no index under {}: {e}", dir.display())))?;
            let header = precedent_search::engine::Engine::read_header(&dir.join(current.trim())).map_err(ServerError::other)?;
            println!("{}", serde_json::to_string_pretty(&header).map_err(ServerError::other)?);
            Ok(())
        }
        IndexCommand::Check { json } => {
            startup::with_database(cfg, 4, |st| async move {
                let sim = open_similarity(cfg, &st).await?;
                let r = sim.check().await.map_err(ServerError::other)?;
                println!(
                    "cases: {} in the database, {} in the index; missing {}, extra {}, stale {}{}",
                    r.cases_in_db,
                    r.cases_in_index,
                    r.missing.len(),
                    r.extra.len(),
                    r.stale.len(),
                    if r.agrees() { " — they agree" } else { "" }
                );
                print_json(json, &r)?;
                if !r.agrees() {
                    return Err(ServerError::other(format!("index and database differ: missing {:?} extra {:?} stale {:?}", r.missing, r.extra, r.stale)));
                }
                Ok(())
            })
            .await
        }
    }
}
