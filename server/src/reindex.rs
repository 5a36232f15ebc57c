//! Rebuilding the similarity index, optionally with other encoders from the manifest: the
//! vectors the new models lack are computed first (outside the job queue), then new indexes
//! are built while searches keep using the live ones, then swapped in. Shared by
//! `precedent reindex` and the admin page.
use precedent_encoders::manifest::Modality;
use precedent_encoders::{EncoderSlot, Encoders, Manifest};
use precedent_service::ServiceError;
use precedent_service::{ModelChoice, ReindexDone, Reindexer};
use precedent_similarity::{Progress, Similarity};
use precedent_store::BlobStore;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The models and dimensions of `encoders`, as the indexes record them.
pub fn models_of(encoders: &Encoders) -> precedent_similarity::Models {
    let (text, image) = encoders.model_ids();
    let (text_dim, image_dim) = encoders.dims();
    precedent_similarity::Models { text, image, text_dim, image_dim }
}

/// Checks that the chosen names are encoders of the right kind in the manifest.
pub fn check_choice(manifest: &Path, choice: &ModelChoice) -> Result<(), String> {
    if choice.text.is_none() && choice.image.is_none() {
        return Ok(());
    }
    let m = Manifest::load(manifest).map_err(|e| format!("the models manifest cannot be read: {e}"))?;
    if let Some(t) = &choice.text {
        m.encoder_of(t, Modality::Text).map_err(|_| format!("“{t}” is not a text encoder in the models manifest"))?;
    }
    if let Some(i) = &choice.image {
        m.encoder_of(i, Modality::Image).map_err(|_| format!("“{i}” is not an image encoder in the models manifest"))?;
    }
    Ok(())
}

/// The encoders a rebuild should use: `current` unless other models are chosen, in which case
/// the chosen ones are loaded (a modality not chosen keeps its current model).
pub async fn encoders_for(manifest: &Path, current: Arc<Encoders>, choice: ModelChoice, threads: usize) -> Result<Arc<Encoders>, String> {
    if choice.text.is_none() && choice.image.is_none() {
        return Ok(current);
    }
    check_choice(manifest, &choice)?;
    let m = Manifest::load(manifest).map_err(|e| e.to_string())?;
    let (cur_text, cur_image) = current.model_ids();
    let name_of = |id: &str| m.by_model_id(id).map(|e| e.name.clone());
    let t = choice.text.or_else(|| name_of(&cur_text));
    let i = choice.image.or_else(|| cur_image.as_deref().and_then(name_of));
    let path = manifest.to_path_buf();
    tokio::task::spawn_blocking(move || Encoders::load_models(&path, t.as_deref(), i.as_deref(), threads))
        .await
        .map_err(|e| e.to_string())?
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

/// Computes the vectors `enc`'s models lack, reporting `phase: "embedding"` progress.
pub async fn embed_missing(pool: &PgPool, blobs: &BlobStore, enc: &Arc<Encoders>, report: &(dyn Fn(&Progress) + Sync)) -> Result<usize, String> {
    let started = std::time::Instant::now();
    let started_at = time::OffsetDateTime::now_utc().unix_timestamp();
    crate::worker::embed_all(pool, blobs, enc, |done, total| {
        if done % 10 == 0 || done == total {
            let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
            report(&Progress {
                running: true,
                phase: "embedding".into(),
                done: done as u64,
                total: total as u64,
                rate_per_s: rate,
                eta_s: (rate > 0.0).then(|| (total - done) as f64 / rate),
                started_at: Some(started_at),
                finished: None,
            });
        }
    })
    .await
    .map_err(|e| e.to_string())
}

/// The admin page's rebuild: one at a time, in the background; the outcome is logged and shown
/// as the progress's `finished` line.
pub fn reindexer(pool: PgPool, blobs: BlobStore, similarity: Arc<Similarity>, slot: Arc<EncoderSlot>, manifest: PathBuf, threads: usize) -> Reindexer {
    let busy = Arc::new(AtomicBool::new(false));
    Arc::new(move |choice: ModelChoice, done: ReindexDone| {
        check_choice(&manifest, &choice).map_err(ServiceError::Invalid)?;
        if similarity.is_building() || busy.swap(true, Ordering::SeqCst) {
            return Err(ServiceError::Conflict("A rebuild is already running.".into()));
        }
        let (pool, blobs, sim, slot, manifest, busy) =
            (pool.clone(), blobs.clone(), Arc::clone(&similarity), Arc::clone(&slot), manifest.clone(), Arc::clone(&busy));
        tokio::spawn(async move {
            let report = |p: &Progress| sim.report_progress(p.clone());
            report(&Progress { running: true, phase: "loading models".into(), ..Progress::default() });
            let outcome = async {
                let enc = encoders_for(&manifest, slot.get(), choice, threads).await?;
                let models = models_of(&enc);
                let switching = models != sim.models();
                if switching {
                    let n = embed_missing(&pool, &blobs, &enc, &report).await?;
                    tracing::info!(vectors = n, text = %models.text, image = ?models.image, "vectors computed for the new models");
                }
                let header = sim.rebuild(Some(models), &|_| {}).await.map_err(|e| e.to_string())?;
                if switching {
                    // Ad-hoc queries and the worker use the index's models from now on.
                    slot.set(enc);
                }
                Ok::<_, String>(header)
            }
            .await;
            match &outcome {
                Ok(h) => tracing::info!(cases = h.cases, text = %h.text_model, image = ?h.image_model, "index rebuilt from the admin page"),
                Err(e) => {
                    tracing::error!(error = %e, "index rebuild failed");
                    let mut p = sim.progress();
                    p.running = false;
                    p.phase = "failed".into();
                    p.finished = Some(format!("rebuild failed: {e}"));
                    sim.report_progress(p);
                }
            }
            busy.store(false, Ordering::SeqCst);
            done(outcome.map(|h| format!("{} cases, text {}, image {}", h.cases, h.text_model, h.image_model.as_deref().unwrap_or("none"))));
        });
        Ok(())
    })
}
