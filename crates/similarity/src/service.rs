//! The similarity service of one process: the live engine behind an `Arc` swapped atomically,
//! opened from the current generation or rebuilt, kept in step with the change log, rebuilt on
//! request while queries go on, and saved on the way out.
use crate::build::{build, build_generation, replay, Progress};
use crate::check::{compare, CheckReport};
use crate::error::{Result, SimilarityError};
use crate::generation::{current_generation, fits, remove_old_generations, save_generation};
use crate::models::Models;
use precedent_search::engine::persist::Header;
use precedent_search::engine::Engine;
use precedent_search::index::IndexParams;
use precedent_store::index_feed as rows;
use sqlx::PgPool;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The similarity service of one process.
pub struct Similarity {
    pool: PgPool,
    dir: PathBuf,
    params: IndexParams,
    models: RwLock<Models>,
    engine: RwLock<Arc<Engine>>,
    /// Generation directory name the live engine came from (or was saved to).
    generation: Mutex<Option<String>>,
    applied: AtomicI64,
    progress: Mutex<Progress>,
    building: tokio::sync::Mutex<()>,
}

impl Similarity {
    /// Loads the current generation under `dir` if it fits `models`, else builds one from the
    /// database; then replays the changes made since.
    pub async fn open(pool: PgPool, dir: PathBuf, models: Models, params: IndexParams) -> Result<Arc<Self>> {
        std::fs::create_dir_all(&dir)?;
        let loaded = match current_generation(&dir) {
            Some(name) => {
                let path = dir.join(&name);
                let m = models.clone();
                match tokio::task::spawn_blocking(move || Engine::load(&path)).await.map_err(|e| SimilarityError::Task(e.to_string()))? {
                    Ok((engine, header)) if fits(&header, &m) => Some((engine, header, name)),
                    Ok((_, header)) => {
                        tracing::info!(generation = %name, text = %header.text_model, image = ?header.image_model, "index is for other models; rebuilding");
                        None
                    }
                    Err(e) => {
                        tracing::warn!(generation = %name, error = %e, "index files unusable; rebuilding");
                        None
                    }
                }
            }
            None => None,
        };
        let last = rows::last_change(&pool).await?;
        let (engine, applied, generation) = match loaded {
            Some((engine, header, name)) if header.last_change <= last => {
                tracing::info!(generation = %name, cases = header.cases, "index loaded");
                (engine, header.last_change, Some(name))
            }
            _ => {
                let (engine, applied) = build(&pool, &models, params, &|_, _| {}).await?;
                (engine, applied, None)
            }
        };
        let s = Arc::new(Self {
            pool,
            dir,
            params,
            models: RwLock::new(models),
            engine: RwLock::new(Arc::new(engine)),
            generation: Mutex::new(generation),
            applied: AtomicI64::new(applied),
            progress: Mutex::new(Progress::default()),
            building: tokio::sync::Mutex::new(()),
        });
        s.catch_up().await?;
        // A loaded index must also hold as many cases and vectors as the database (files from
        // another database, or a log that was cut, would not): otherwise rebuild.
        if s.generation.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            let m = s.models();
            let (cases, texts, images) = rows::counts(&s.pool, &m.text, m.image.as_deref()).await?;
            let st = s.engine().stats();
            if (st.cases as i64, st.text.live as i64, st.image.live as i64) != (cases, texts, images) {
                tracing::warn!(
                    index = ?(st.cases, st.text.live, st.image.live),
                    database = ?(cases, texts, images),
                    "saved index disagrees with the database; rebuilding"
                );
                let (engine, applied) = build(&s.pool, &m, params, &|_, _| {}).await?;
                *s.engine.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(engine);
                s.applied.store(applied, Ordering::SeqCst);
                *s.generation.lock().unwrap_or_else(|e| e.into_inner()) = None;
                s.catch_up().await?;
            }
        }
        if s.generation.lock().unwrap_or_else(|e| e.into_inner()).is_none() {
            s.persist().await?;
        }
        Ok(s)
    }

    /// The live engine (cheap: an `Arc`).
    pub fn engine(&self) -> Arc<Engine> {
        Arc::clone(&self.engine.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn models(&self) -> Models {
        self.models.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The last change from the log the live engine has applied.
    pub fn applied_change(&self) -> i64 {
        self.applied.load(Ordering::SeqCst)
    }

    pub fn progress(&self) -> Progress {
        self.progress.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Applies the changes logged since the last call; returns how many cases were refreshed.
    pub async fn catch_up(&self) -> Result<usize> {
        let engine = self.engine();
        let models = self.models();
        let (applied, refreshed) = replay(&self.pool, &engine, &models, self.applied.load(Ordering::SeqCst)).await?;
        // A swap may have happened meanwhile: only move forward, and only for the same engine.
        if Arc::ptr_eq(&engine, &self.engine()) {
            self.applied.fetch_max(applied, Ordering::SeqCst);
        }
        Ok(refreshed)
    }

    /// Saves the live engine as a new generation and makes it current.
    pub async fn persist(&self) -> Result<Header> {
        let engine = self.engine();
        let applied = self.applied_change();
        let dir = self.dir.clone();
        let (name, header) =
            tokio::task::spawn_blocking(move || save_generation(&dir, &engine, applied)).await.map_err(|e| SimilarityError::Task(e.to_string()))??;
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) = Some(name);
        remove_old_generations(&self.dir);
        Ok(header)
    }

    /// Publishes progress of work done outside the build itself (e.g. re-embedding every case
    /// before a rebuild for a new model), so the admin page shows one continuous job.
    pub fn report_progress(&self, p: Progress) {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = p;
    }

    /// Whether a rebuild holds the build lock right now.
    pub fn is_building(&self) -> bool {
        self.building.try_lock().is_err()
    }

    /// When the live generation was built (unix seconds), if it has been saved.
    pub fn built_at(&self) -> Option<i64> {
        let name = self.generation.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
        Engine::read_header(&self.dir.join(name)).ok().map(|h| h.built_at)
    }

    /// Builds fresh indexes from the database (optionally for other models, whose vectors must
    /// already be stored) while queries keep using the live ones, then swaps them in and makes
    /// them the current generation. `on_progress` sees every batch.
    pub async fn rebuild(&self, models: Option<Models>, on_progress: &(dyn Fn(&Progress) + Sync)) -> Result<Header> {
        let _guard = self.building.try_lock().map_err(|_| SimilarityError::Busy)?;
        let models = models.unwrap_or_else(|| self.models());
        let report = |p: &Progress| {
            on_progress(p);
            *self.progress.lock().unwrap_or_else(|e| e.into_inner()) = p.clone();
        };
        let (engine, applied, name, header) = build_generation(&self.pool, &self.dir, &models, self.params, &report).await?;
        self.swap(engine, models, applied, name);
        Ok(header)
    }

    fn swap(&self, engine: Arc<Engine>, models: Models, applied: i64, generation: String) {
        let mut live = self.engine.write().unwrap_or_else(|e| e.into_inner());
        *live = engine;
        *self.models.write().unwrap_or_else(|e| e.into_inner()) = models;
        self.applied.store(applied, Ordering::SeqCst);
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) = Some(generation);
    }

    /// If another process made a different generation current, loads it and swaps it in.
    pub async fn follow_generation(&self) -> Result<bool> {
        let Some(name) = current_generation(&self.dir) else { return Ok(false) };
        if self.generation.lock().unwrap_or_else(|e| e.into_inner()).as_deref() == Some(name.as_str()) {
            return Ok(false);
        }
        if self.building.try_lock().is_err() {
            return Ok(false);
        }
        let path = self.dir.join(&name);
        let (engine, header) = tokio::task::spawn_blocking(move || Engine::load(&path)).await.map_err(|e| SimilarityError::Task(e.to_string()))??;
        let models = Models { text: header.text_model.clone(), image: header.image_model.clone(), text_dim: header.text_dim, image_dim: header.image_dim };
        let engine = Arc::new(engine);
        let (applied, _) = replay(&self.pool, &engine, &models, header.last_change).await?;
        tracing::info!(generation = %name, cases = header.cases, text = %models.text, image = ?models.image, "switched to a new index generation");
        self.swap(engine, models, applied, name);
        Ok(true)
    }

    /// Keeps the live engine in step with the database until `stop` is set; saves it on the way out.
    pub async fn follow(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>, every: Duration) {
        loop {
            if *stop.borrow() {
                break;
            }
            if let Err(e) = self.follow_generation().await {
                tracing::warn!(error = %e, "could not switch index generation");
            }
            match self.catch_up().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(cases = n, "index updated"),
                Err(e) => tracing::warn!(error = %e, "index update failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => {}
            }
        }
        if let Err(e) = self.catch_up().await {
            tracing::warn!(error = %e, "final index update failed");
        }
        match self.persist().await {
            Ok(h) => tracing::info!(cases = h.cases, last_change = h.last_change, "index saved"),
            Err(e) => tracing::warn!(error = %e, "could not save the index"),
        }
    }

    /// Compares the live engine with the database, case by case.
    /// Compares the live engine with the database, case by case.
    pub async fn check(&self) -> Result<CheckReport> {
        self.catch_up().await?;
        compare(&self.pool, &self.engine(), &self.models()).await
    }
}
