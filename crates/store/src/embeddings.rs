//! The embedding job queue and the stored vectors. Jobs are claimed with
//! `FOR UPDATE SKIP LOCKED`, so several workers never take the same job, and a job whose
//! worker died is taken again (its lease expires); finished work is written with the job's
//! completion in one transaction.
use crate::Result;
use precedent_types::{CaseId, ImageId};
use sqlx::PgPool;

/// A claimed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub case_id: CaseId,
    pub attempts: i32,
}

/// Queues a job for `case` (idempotent while one is pending).
pub async fn enqueue<'e, E: sqlx::PgExecutor<'e>>(executor: E, case: CaseId) -> Result<()> {
    sqlx::query(
        "INSERT INTO embedding_jobs (case_id) SELECT $1
         WHERE NOT EXISTS (SELECT 1 FROM embedding_jobs WHERE case_id = $1 AND state = 'pending')",
    )
    .bind(case)
    .execute(executor)
    .await?;
    Ok(())
}

/// Takes the oldest runnable job: pending and due, or running with an expired lease.
pub async fn claim(pool: &PgPool, lease_secs: i64) -> Result<Option<Job>> {
    Ok(sqlx::query_as(
        "UPDATE embedding_jobs SET state = 'running', attempts = attempts + 1, updated_at = now()
         WHERE id = (
             SELECT id FROM embedding_jobs
             WHERE (state = 'pending' AND run_after <= now())
                OR (state = 'running' AND updated_at < now() - make_interval(secs => $1))
             ORDER BY run_after, id
             FOR UPDATE SKIP LOCKED
             LIMIT 1)
         RETURNING id, case_id, attempts",
    )
    .bind(lease_secs as f64)
    .fetch_optional(pool)
    .await?)
}

/// Marks a job failed for now: retried after `retry_in_secs`, or given up for good.
pub async fn fail(pool: &PgPool, job: &Job, error: &str, retry_in_secs: Option<i64>) -> Result<()> {
    match retry_in_secs {
        Some(s) => {
            sqlx::query(
                "UPDATE embedding_jobs SET state = 'pending', last_error = $2, run_after = now() + make_interval(secs => $3), updated_at = now() WHERE id = $1",
            )
            .bind(job.id)
            .bind(error)
            .bind(s as f64)
            .execute(pool)
            .await?
        }
        None => {
            sqlx::query("UPDATE embedding_jobs SET state = 'failed', last_error = $2, updated_at = now() WHERE id = $1")
                .bind(job.id)
                .bind(error)
                .execute(pool)
                .await?
        }
    };
    Ok(())
}

/// A case's text vector to store.
pub struct TextVector {
    pub field: &'static str,
    pub model: String,
    pub text_sha256: String,
    pub vector: Vec<f32>,
}

/// An image's vector to store.
pub struct ImageVector {
    pub image: ImageId,
    pub model: String,
    pub vector: Vec<f32>,
}

/// Stores the vectors of a finished job and marks it done, atomically.
pub async fn complete(pool: &PgPool, job: &Job, texts: &[TextVector], images: &[ImageVector]) -> Result<()> {
    let mut tx = pool.begin().await?;
    write_vectors(&mut tx, job.case_id, texts, images).await?;
    sqlx::query("UPDATE embedding_jobs SET state = 'done', last_error = NULL, updated_at = now() WHERE id = $1").bind(job.id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Stores vectors computed outside the job queue (a reindex with another model), atomically.
pub async fn store(pool: &PgPool, case: CaseId, texts: &[TextVector], images: &[ImageVector]) -> Result<()> {
    let mut tx = pool.begin().await?;
    write_vectors(&mut tx, case, texts, images).await?;
    tx.commit().await?;
    Ok(())
}

async fn write_vectors(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, case: CaseId, texts: &[TextVector], images: &[ImageVector]) -> Result<()> {
    for t in texts {
        sqlx::query(
            "INSERT INTO text_vectors (case_id, field, model, text_sha256, vector) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (case_id, field, model) DO UPDATE SET text_sha256 = EXCLUDED.text_sha256, vector = EXCLUDED.vector, created_at = now()",
        )
        .bind(case)
        .bind(t.field)
        .bind(&t.model)
        .bind(&t.text_sha256)
        .bind(&t.vector)
        .execute(&mut **tx)
        .await?;
    }
    for v in images {
        sqlx::query(
            "INSERT INTO image_vectors (image_id, case_id, model, vector) VALUES ($1, $2, $3, $4)
             ON CONFLICT (image_id, model) DO UPDATE SET vector = EXCLUDED.vector, created_at = now()",
        )
        .bind(v.image)
        .bind(case)
        .bind(&v.model)
        .bind(&v.vector)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Ids of every case, in order (for passes over the whole library).
pub async fn case_ids(pool: &PgPool) -> Result<Vec<CaseId>> {
    Ok(sqlx::query_scalar("SELECT id FROM cases ORDER BY id").fetch_all(pool).await?)
}

/// The sha256 of each stored text vector of `case` for `model`, by field.
pub async fn text_hashes(pool: &PgPool, case: CaseId, model: &str) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as("SELECT field, text_sha256 FROM text_vectors WHERE case_id = $1 AND model = $2").bind(case).bind(model).fetch_all(pool).await?)
}

/// Images of `case` that have a vector for `model`.
pub async fn embedded_images(pool: &PgPool, case: CaseId, model: &str) -> Result<Vec<ImageId>> {
    Ok(sqlx::query_scalar("SELECT image_id FROM image_vectors WHERE case_id = $1 AND model = $2").bind(case).bind(model).fetch_all(pool).await?)
}

/// Whether `case` still has embedding work queued or running.
pub async fn is_indexing(pool: &PgPool, case: CaseId) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM embedding_jobs WHERE case_id = $1 AND state IN ('pending', 'running'))")
        .bind(case)
        .fetch_one(pool)
        .await?)
}

/// Jobs by state, for status displays and tests.
pub async fn counts(pool: &PgPool) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as("SELECT state, count(*) FROM embedding_jobs GROUP BY state ORDER BY state").fetch_all(pool).await?)
}

/// A stored text vector.
pub async fn text_vector(pool: &PgPool, case: CaseId, field: &str, model: &str) -> Result<Option<Vec<f32>>> {
    Ok(sqlx::query_scalar("SELECT vector FROM text_vectors WHERE case_id = $1 AND field = $2 AND model = $3")
        .bind(case)
        .bind(field)
        .bind(model)
        .fetch_optional(pool)
        .await?)
}
