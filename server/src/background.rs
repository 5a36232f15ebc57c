//! The work that runs beside the requests: the embedding worker over the job queue, and the
//! similarity engine following the database (change-log replay, model switches). Started by
//! [`crate::startup`]; handles stop them cleanly.
use precedent_encoders::{EncoderSlot, Encoders};
use precedent_service::{AppState, Search};
use precedent_similarity::Similarity;
use precedent_types::Channel;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A running embedding worker.
pub struct WorkerHandle {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks the worker to stop after its current job and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the embedding worker over the job queue; a running job whose worker died is taken
/// over after `lease_secs`.
pub fn start_worker(pool: PgPool, blobs: precedent_store::BlobStore, encoders: Arc<EncoderSlot>, lease_secs: i64) -> WorkerHandle {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(crate::worker::run(pool, blobs, encoders, lease_secs.max(1), rx));
    WorkerHandle { stop, task }
}

/// The similarity engine following the database, running in the background.
pub struct SearchHandle {
    pub similarity: Arc<Similarity>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl SearchHandle {
    /// Stops following the database and saves the index for a fast next start.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Opens (loads or builds) the similarity indexes under `index_dir` for the encoders in `slot`,
/// makes search available in `st`, and keeps the indexes in step with the database until
/// stopped. When another process (`precedent reindex --text-model …`) switches models, the new
/// index generation is swapped in and the encoders follow: `manifest` is where they are loaded from.
pub async fn start_search(
    st: &AppState,
    slot: Arc<EncoderSlot>,
    index_dir: PathBuf,
    manifest: PathBuf,
    threads: usize,
) -> Result<SearchHandle, crate::error::ServerError> {
    let started = std::time::Instant::now();
    let similarity = Similarity::open(st.pool.clone(), index_dir, crate::reindex::models_of(&slot.get()), Default::default())
        .await
        .map_err(|e| crate::error::ServerError::Other(format!("similarity index: {e}")))?;
    let stats = similarity.engine().stats();
    tracing::info!(cases = stats.cases, text = stats.text.live, image = stats.image.live, ms = started.elapsed().as_millis() as u64, "similarity index ready");
    let reindex = crate::reindex::reindexer(st.pool.clone(), st.blobs.clone(), Arc::clone(&similarity), Arc::clone(&slot), manifest.clone(), threads);
    let _ = st.search.set(Search { similarity: Arc::clone(&similarity), encoders: Arc::clone(&slot), manifest: manifest.clone(), reindex });
    let (stop, rx) = tokio::sync::watch::channel(false);
    let follow = tokio::spawn(Arc::clone(&similarity).follow(rx.clone(), Duration::from_millis(250)));
    let models = tokio::spawn(follow_models(st.pool.clone(), Arc::clone(&similarity), slot, manifest, rx));
    let task = tokio::spawn(async move {
        let _ = follow.await;
        let _ = models.await;
    });
    Ok(SearchHandle { similarity, stop, task })
}

/// Keeps the encoders equal to the models of the live index: after a switch, loads the new
/// encoders, swaps them in (the worker and ad-hoc queries pick them up) and queues embedding for
/// cases that still lack vectors of the new models.
async fn follow_models(pool: PgPool, similarity: Arc<Similarity>, slot: Arc<EncoderSlot>, manifest: PathBuf, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        let want = similarity.models();
        let have = crate::reindex::models_of(&slot.get());
        if want.text == have.text && want.image == have.image {
            continue;
        }
        let (m, t, i) = (manifest.clone(), want.text.clone(), want.image.clone());
        match tokio::task::spawn_blocking(move || Encoders::load_ids(&m, Some(&t), i.as_deref(), 1)).await {
            Ok(Ok(enc)) => {
                slot.set(Arc::new(enc));
                tracing::info!(text = %want.text, image = ?want.image, "encoders switched to the index's models");
                let mut queued = precedent_store::index_feed::enqueue_missing(&pool, Channel::Text, &want.text).await.unwrap_or(0);
                if let Some(m) = &want.image {
                    queued += precedent_store::index_feed::enqueue_missing(&pool, Channel::Image, m).await.unwrap_or(0);
                }
                if queued > 0 {
                    tracing::info!(cases = queued, "queued embedding for cases missing the new models' vectors");
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "cannot load the index's encoders; ad-hoc queries and new cases use the old ones"),
            Err(e) => tracing::error!(error = %e, "encoder loading task failed"),
        }
    }
}

/// The encoders a server should run: the models the index was last built with (recorded by
/// `precedent reindex`) when the manifest still has them, else the manifest's defaults.
pub async fn load_active_encoders(pool: &PgPool, manifest: &Path, threads: usize) -> Result<Arc<Encoders>, crate::error::ServerError> {
    let text = precedent_store::index_feed::active_model(pool, Channel::Text).await.ok().flatten();
    let image = precedent_store::index_feed::active_model(pool, Channel::Image).await.ok().flatten();
    let m = manifest.to_path_buf();
    let loaded = tokio::task::spawn_blocking(move || Encoders::load_ids(&m, text.as_deref(), image.as_deref(), threads))
        .await
        .map_err(crate::error::ServerError::other)?;
    match loaded {
        Ok(e) => Ok(Arc::new(e)),
        Err(e) => {
            tracing::warn!(error = %e, "the recorded models cannot be loaded; using the manifest's defaults");
            load_encoders(manifest, threads).await
        }
    }
}

/// Loads the encoders named in the manifest (off the async threads).
pub async fn load_encoders(manifest: &Path, threads: usize) -> Result<Arc<Encoders>, crate::error::ServerError> {
    let manifest = manifest.to_path_buf();
    tokio::task::spawn_blocking(move || Encoders::load(&manifest, threads))
        .await
        .map_err(crate::error::ServerError::other)?
        .map(Arc::new)
        .map_err(crate::error::ServerError::other)
}
