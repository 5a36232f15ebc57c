//! Building a generation from the database: every case's vectors read in batches and added to a
//! new engine (graph insertion in parallel, off the async threads), the changes logged meanwhile
//! replayed, the result saved and made current; progress as cases done / total, rate and ETA.
use crate::error::{Result, SimilarityError};
use crate::generation::{remove_old_generations, save_generation};
use crate::models::Models;
use crate::rows::{case_vectors, BATCH};
use precedent_search::engine::persist::Header;
use precedent_search::engine::{CaseVectors, Engine};
use precedent_search::index::IndexParams;
use precedent_store::index_feed::{self as rows, Selection};
use sqlx::PgPool;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Progress of a build, for the CLI and the admin page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Progress {
    pub running: bool,
    pub phase: String,
    pub done: u64,
    pub total: u64,
    pub rate_per_s: f64,
    pub eta_s: Option<f64>,
    pub started_at: Option<i64>,
    pub finished: Option<String>,
}

fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Builds a new generation under `dir` from the database (progress: rows done / total, rate,
/// ETA), replays the changes made meanwhile, saves it, makes it current and records its models
/// as active. A running server notices the new `CURRENT` and swaps it in; nothing waits.
pub async fn build_generation(
    pool: &PgPool,
    dir: &Path,
    models: &Models,
    params: IndexParams,
    report: &(dyn Fn(&Progress) + Sync),
) -> Result<(Arc<Engine>, i64, String, Header)> {
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let started_at = now_unix();
    report(&Progress { running: true, phase: "reading vectors".into(), started_at: Some(started_at), ..Progress::default() });
    let result = async {
        let (engine, mut applied) = build(pool, models, params, &|done, total| {
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            let rate = done as f64 / secs;
            report(&Progress {
                running: true,
                phase: "building".into(),
                done,
                total,
                rate_per_s: rate,
                eta_s: (rate > 0.0).then(|| total.saturating_sub(done) as f64 / rate),
                started_at: Some(started_at),
                finished: None,
            });
        })
        .await?;
        let engine = Arc::new(engine);
        // Changes made during the build are applied to the new engine before it goes live.
        applied = replay(pool, &engine, models, applied).await?.0;
        let d = dir.to_path_buf();
        let e2 = Arc::clone(&engine);
        let (name, header) =
            tokio::task::spawn_blocking(move || save_generation(&d, &e2, applied)).await.map_err(|e| SimilarityError::Task(e.to_string()))??;
        rows::set_active_model(pool, precedent_types::Channel::Text, &models.text).await?;
        if let Some(m) = &models.image {
            rows::set_active_model(pool, precedent_types::Channel::Image, m).await?;
        }
        remove_old_generations(dir);
        Ok::<_, SimilarityError>((engine, applied, name, header))
    }
    .await;
    let secs = started.elapsed().as_secs_f64();
    let total = result.as_ref().map(|r| r.3.cases as u64).unwrap_or(0);
    report(&Progress {
        running: false,
        phase: "finished".into(),
        done: total,
        total,
        rate_per_s: total as f64 / secs.max(1e-3),
        eta_s: None,
        started_at: Some(started_at),
        finished: Some(match &result {
            Ok((_, _, _, h)) => format!("built {} cases ({} text, {} image vectors) in {secs:.1} s", h.cases, h.text_vectors, h.image_vectors),
            Err(e) => format!("failed after {secs:.1} s: {e}"),
        }),
    });
    result
}

/// Applies every change logged after `after` to `engine`; returns the last change applied and
/// how many cases were refreshed.
pub(crate) async fn replay(pool: &PgPool, engine: &Engine, models: &Models, mut after: i64) -> Result<(i64, usize)> {
    let mut refreshed = 0;
    loop {
        let changes = rows::changes_after(pool, after, BATCH * 5).await?;
        let Some(&(last, _)) = changes.last() else { break };
        let mut cases: Vec<i64> = changes.iter().map(|c| c.1).collect();
        cases.sort_unstable();
        cases.dedup();
        refreshed += apply(pool, engine, models, &cases).await?;
        after = last;
    }
    Ok((after, refreshed))
}

/// Refreshes `cases` in `engine` from the database; returns how many were touched.
async fn apply(pool: &PgPool, engine: &Engine, models: &Models, cases: &[i64]) -> Result<usize> {
    for chunk in cases.chunks(BATCH as usize) {
        let found = rows::index_rows(pool, Selection::Ids(chunk), &models.text, models.image.as_deref()).await?;
        let present: std::collections::HashSet<i64> = found.iter().map(|r| r.case_id).collect();
        for row in found {
            let id = row.case_id;
            engine.put_case(id, case_vectors(row, models))?;
        }
        for id in chunk.iter().filter(|id| !present.contains(id)) {
            engine.remove_case(*id);
        }
    }
    Ok(cases.len())
}

/// Reads every case in batches and adds each batch to a new engine (`progress(done, total)`
/// after each). Returns it with the change id read *before* the first batch: changes after it
/// are replayed (applying one twice is harmless).
pub async fn build(pool: &PgPool, models: &Models, params: IndexParams, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<(Engine, i64)> {
    let applied = rows::last_change(pool).await?;
    let total = rows::case_count(pool).await?.max(0) as u64;
    let started = Instant::now();
    let engine = Arc::new(Engine::new(models.text.clone(), models.image.clone(), (models.text_dim, models.image_dim), params, total as usize));
    let mut done = 0u64;
    let mut after = 0;
    loop {
        let batch = rows::index_rows(pool, Selection::After { after, limit: BATCH }, &models.text, models.image.as_deref()).await?;
        let Some(last) = batch.last() else { break };
        after = last.case_id;
        done += batch.len() as u64;
        let cases: Vec<(i64, CaseVectors)> = batch.into_iter().map(|row| (row.case_id, case_vectors(row, models))).collect();
        let e = Arc::clone(&engine);
        tokio::task::spawn_blocking(move || e.insert_bulk(cases)).await.map_err(|e| SimilarityError::Task(e.to_string()))??;
        progress(done, total.max(done));
    }
    let e = Arc::clone(&engine);
    tokio::task::spawn_blocking(move || e.seal()).await.map_err(|e| SimilarityError::Task(e.to_string()))?;
    tracing::info!(cases = done, ms = started.elapsed().as_millis() as u64, "index built");
    let engine = Arc::try_unwrap(engine).map_err(|_| SimilarityError::Task("engine still shared after the build".into()))?;
    Ok((engine, applied))
}
