//! The embedding worker: takes jobs from the Postgres queue, computes the case's text and image
//! vectors with the ONNX encoders, and stores them with their model id. Requests never wait for
//! it; a crash loses nothing (a running job's lease expires and it is taken again).
use precedent_encoders::{EncodeError, EncoderSlot, Encoders};
use precedent_library::{full_text, presenting_text};
use precedent_store::embeddings::{self, ImageVector, Job, TextVector};
use precedent_store::{blobs::sha256_hex, BlobStore};
use precedent_types::CaseId;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] precedent_store::StoreError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("file store: {0}")]
    Blob(String),
    #[error("task: {0}")]
    Task(String),
}

/// Attempts before a job is given up (and left `failed` with its error).
pub const MAX_ATTEMPTS: i32 = 5;

/// Runs until `stop` is set. A running job is protected for `lease_secs` before another worker
/// may take it over.
pub async fn run(pool: PgPool, blobs: BlobStore, encoders: Arc<EncoderSlot>, lease_secs: i64, stop: tokio::sync::watch::Receiver<bool>) {
    tracing::info!("embedding worker started");
    loop {
        if *stop.borrow() {
            break;
        }
        match embeddings::claim(&pool, lease_secs).await {
            Ok(Some(job)) => {
                let started = std::time::Instant::now();
                match process(&pool, &blobs, &encoders.get(), &job).await {
                    Ok(n) => tracing::info!(job = job.id, case = %job.case_id, vectors = n, ms = started.elapsed().as_millis() as u64, "case embedded"),
                    Err(e) => {
                        let retry = (job.attempts < MAX_ATTEMPTS).then(|| 5i64 << job.attempts.clamp(0, 10));
                        tracing::warn!(job = job.id, case = %job.case_id, attempt = job.attempts, error = %e, retry_in = ?retry, "embedding failed");
                        if let Err(e) = embeddings::fail(&pool, &job, &e.to_string(), retry).await {
                            tracing::error!(error = %e, "could not record the failure");
                        }
                    }
                }
            }
            Ok(None) => idle(&stop, Duration::from_millis(300)).await,
            Err(e) => {
                tracing::warn!(error = %e, "job queue unavailable");
                idle(&stop, Duration::from_secs(2)).await;
            }
        }
    }
    tracing::info!("embedding worker stopped");
}

async fn idle(stop: &tokio::sync::watch::Receiver<bool>, d: Duration) {
    let mut s = stop.clone();
    tokio::select! {
        _ = tokio::time::sleep(d) => {},
        _ = s.changed() => {},
    }
}

/// The vectors `case` still lacks for `enc`'s models (`None` if the case no longer exists).
pub async fn compute(pool: &PgPool, blobs: &BlobStore, enc: &Arc<Encoders>, case: CaseId) -> Result<Option<(Vec<TextVector>, Vec<ImageVector>)>, WorkerError> {
    let Some(detail) = precedent_store::cases::get(pool, case).await? else {
        return Ok(None);
    };
    let c = &detail.case;
    let text_model = enc.text.spec().model_id();
    let stored = embeddings::text_hashes(pool, case, &text_model).await?;
    let presenting = presenting_text(&c.history, &c.exam);
    let full = full_text(&c.title, &c.history, &c.exam, &c.findings, c.diagnosis.as_deref());
    let mut todo = Vec::new();
    for (field, text) in [("presenting", presenting), ("full", full)] {
        if text.trim().is_empty() {
            continue;
        }
        let sha = sha256_hex(text.as_bytes());
        if !stored.iter().any(|(f, h)| f == field && *h == sha) {
            todo.push((field, sha, text));
        }
    }
    let mut images = Vec::new();
    if let Some(ie) = &enc.image {
        let done = embeddings::embedded_images(pool, case, &ie.spec().model_id()).await?;
        images = detail.images.iter().filter(|i| !done.contains(&i.id)).map(|i| (i.id, i.sha256.clone())).collect();
    }
    let enc = Arc::clone(enc);
    let blobs = blobs.clone();
    // Encoding is CPU work: off the async threads.
    let (texts, image_vectors) = tokio::task::spawn_blocking(move || -> Result<_, WorkerError> {
        let model = enc.text.spec().model_id();
        let mut texts = Vec::new();
        for (field, sha, text) in todo {
            let v = enc.text.encode(&[text.as_str()])?.remove(0);
            texts.push(TextVector { field, model: model.clone(), text_sha256: sha, vector: v });
        }
        let mut out = Vec::new();
        if let Some(ie) = &enc.image {
            for (id, sha) in images {
                let bytes = blobs.get(&sha).map_err(|e| WorkerError::Blob(e.to_string()))?;
                match ie.encode_bytes(&bytes) {
                    Ok(vector) => out.push(ImageVector { image: id, model: ie.spec().model_id(), vector }),
                    // An image the encoder cannot use (e.g. too small once cropped) will never
                    // succeed: it gets no vector, and the rest of the case is still indexed.
                    Err(EncodeError::Image(reason)) => tracing::warn!(image = %id, %reason, "image not embedded"),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok((texts, out))
    })
    .await
    .map_err(|e| WorkerError::Task(e.to_string()))??;
    Ok(Some((texts, image_vectors)))
}

/// Computes what is missing for the job's case; returns how many vectors were written.
pub async fn process(pool: &PgPool, blobs: &BlobStore, enc: &Arc<Encoders>, job: &Job) -> Result<usize, WorkerError> {
    let Some((texts, image_vectors)) = compute(pool, blobs, enc, job.case_id).await? else {
        embeddings::complete(pool, job, &[], &[]).await?;
        return Ok(0);
    };
    let n = texts.len() + image_vectors.len();
    embeddings::complete(pool, job, &texts, &image_vectors).await?;
    Ok(n)
}

/// Embeds every case with `enc`'s models where vectors are missing (a model change), outside
/// the job queue; `progress(done, total)` after each case. Returns how many vectors were written.
pub async fn embed_all(pool: &PgPool, blobs: &BlobStore, enc: &Arc<Encoders>, mut progress: impl FnMut(usize, usize)) -> Result<usize, WorkerError> {
    let ids = embeddings::case_ids(pool).await?;
    let mut written = 0;
    for (i, case) in ids.iter().enumerate() {
        if let Some((texts, images)) = compute(pool, blobs, enc, *case).await? {
            if !texts.is_empty() || !images.is_empty() {
                embeddings::store(pool, *case, &texts, &images).await?;
                written += texts.len() + images.len();
            }
        }
        progress(i + 1, ids.len());
    }
    Ok(written)
}
