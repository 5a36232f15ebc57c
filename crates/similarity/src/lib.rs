//! The similarity indexes as a service. Postgres is the source of truth; the indexes are derived:
//!
//! * **build** reads every case's vectors in batches and builds one hnsw graph per modality;
//! * **persist**: each build is a *generation* directory under the index folder (hnsw_rs dumps +
//!   a header with model ids, counts and the last change applied); `CURRENT` names the live one;
//! * **start**: the current generation is loaded when its models match, then the change log
//!   (`search_changes`) written since its header is replayed; otherwise it is rebuilt;
//! * **follow**: a running server replays new changes every few hundred milliseconds (new and
//!   changed cases enter the live graphs; vanished vectors are marked dead) and notices when
//!   another process (`precedent reindex`) made a new generation current: it loads it beside the
//!   old one and swaps atomically, so queries never wait;
//! * **check** compares the index with the database case by case.
use precedent_search::engine::{imaging, CaseMeta, CaseVectors, Engine, Header};
use precedent_search::index::{IndexError, IndexParams};
use precedent_store::search::{self as rows, IndexRow, Selection};
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub use precedent_search::engine;

#[derive(Debug, thiserror::Error)]
pub enum SimilarityError {
    #[error(transparent)]
    Store(#[from] precedent_store::StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("index files: {0}")]
    Io(#[from] std::io::Error),
    #[error("a rebuild is already running")]
    Busy,
    #[error("task: {0}")]
    Task(String),
}

pub type Result<T, E = SimilarityError> = std::result::Result<T, E>;

/// Which models and dimensions the indexes are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Models {
    pub text: String,
    pub image: Option<String>,
    pub text_dim: usize,
    pub image_dim: usize,
}

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

/// What `check` found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CheckReport {
    pub cases_in_db: usize,
    pub cases_in_index: usize,
    /// In the database, not in the index.
    pub missing: Vec<i64>,
    /// In the index, not in the database.
    pub extra: Vec<i64>,
    /// In both, but with different vectors, lab profiles or filter fields.
    pub stale: Vec<i64>,
}

impl CheckReport {
    pub fn agrees(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.stale.is_empty()
    }
}

const BATCH: i64 = 1000;
const CURRENT: &str = "CURRENT";

fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A database row as the engine holds it. Vectors of the wrong size or not unit length (which
/// no encoder writes) are left out with a warning rather than failing the whole case.
pub fn case_vectors(row: IndexRow, models: &Models) -> CaseVectors {
    let ok = |v: &[f32], dim: usize| {
        let n: f32 = v.iter().map(|x| x * x).sum();
        v.len() == dim && n.is_finite() && (n - 1.0).abs() <= 1e-2
    };
    let mut bits = 0u8;
    for m in &row.modalities {
        bits |= match m.as_str() {
            "xray" => imaging::XRAY,
            "ct" => imaging::CT,
            "mr" => imaging::MR,
            _ => imaging::OTHER,
        };
    }
    let text = row.text.filter(|v| {
        let good = ok(v, models.text_dim);
        if !good {
            tracing::warn!(case = row.case_id, "stored text vector unusable; left out of the index");
        }
        good
    });
    let images = row
        .images
        .into_iter()
        .filter(|(id, v)| {
            let good = ok(v, models.image_dim);
            if !good {
                tracing::warn!(case = row.case_id, image = id, "stored image vector unusable; left out of the index");
            }
            good
        })
        .collect();
    let labs = lab_profile(&row.labs);
    CaseVectors {
        labs,
        meta: CaseMeta {
            validated: row.validated,
            imaging: bits,
            body_region: row.body_region.map(|r| r.trim().to_lowercase()).filter(|r| !r.is_empty()),
            created_day: row.created_day,
        },
        text,
        images,
    }
}

/// Index of a catalog analyte in the lab profile (its position in the catalog).
pub fn analyte_index(id: &str) -> Option<u16> {
    precedent_labs::catalog::ANALYTES.iter().position(|a| a.id == id).map(|i| i as u16)
}

/// The catalog name of a profile's analyte index.
pub fn analyte_name(index: u16) -> Option<&'static str> {
    precedent_labs::catalog::ANALYTES.get(index as usize).map(|a| a.name)
}

/// Deviation of one stored value: from its reference range when it has one, else from the
/// report's (or computed) flag; qualitative results are 0 (normal) or 1 (abnormal).
pub fn lab_deviation(value: Option<f64>, low: Option<f64>, high: Option<f64>, flag: Option<&str>, text: Option<&str>) -> Option<f32> {
    if let Some(v) = value {
        if let Some(d) = precedent_search::labprofile::deviation(v, low, high) {
            return Some(d);
        }
    }
    match (flag, value, text) {
        (Some("high"), ..) => Some(1.0),
        (Some("low"), ..) => Some(-1.0),
        (Some("critical_high"), ..) => Some(3.0),
        (Some("critical_low"), ..) => Some(-3.0),
        (Some("abnormal"), ..) => Some(1.0),
        (None, _, Some(_)) => Some(0.0),
        _ => None,
    }
}

/// A case's lab profile from its latest values (`None` when it has none usable).
pub fn lab_profile(rows: &[rows::LabRow]) -> Option<precedent_search::labprofile::LabProfile> {
    let entries: Vec<(u16, f32)> = rows
        .iter()
        .filter_map(|r| Some((analyte_index(&r.analyte_id)?, lab_deviation(r.value, r.low, r.high, r.flag.as_deref(), r.text_value.as_deref())?)))
        .collect();
    (!entries.is_empty()).then(|| precedent_search::labprofile::LabProfile::new(entries))
}

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
        let (name, header) = tokio::task::spawn_blocking(move || save_generation(&dir, &engine, applied))
            .await
            .map_err(|e| SimilarityError::Task(e.to_string()))??;
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
        let (engine, header) =
            tokio::task::spawn_blocking(move || Engine::load(&path)).await.map_err(|e| SimilarityError::Task(e.to_string()))??;
        let models = Models {
            text: header.text_model.clone(),
            image: header.image_model.clone(),
            text_dim: header.text_dim,
            image_dim: header.image_dim,
        };
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
    pub async fn check(&self) -> Result<CheckReport> {
        self.catch_up().await?;
        let engine = self.engine();
        let models = self.models();
        let mut report = CheckReport::default();
        let mut in_db = std::collections::HashSet::new();
        let mut after = 0;
        loop {
            let batch = rows::index_rows(&self.pool, Selection::After { after, limit: BATCH }, &models.text, models.image.as_deref()).await?;
            let Some(last) = batch.last() else { break };
            after = last.case_id;
            for row in batch {
                let id = row.case_id;
                in_db.insert(id);
                let want = case_vectors(row, &models);
                match engine.case(id) {
                    None => report.missing.push(id),
                    Some(have) => {
                        if have.meta != want.meta || have.text != want.text || have.images != want.images || have.labs != want.labs {
                            report.stale.push(id);
                        }
                    }
                }
            }
        }
        let ids = engine.case_ids();
        report.extra = ids.iter().copied().filter(|id| !in_db.contains(id)).collect();
        report.cases_in_db = in_db.len();
        report.cases_in_index = ids.len();
        Ok(report)
    }
}

fn fits(h: &Header, m: &Models) -> bool {
    h.text_model == m.text && h.image_model == m.image && h.text_dim == m.text_dim && h.image_dim == m.image_dim
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
        let (name, header) = tokio::task::spawn_blocking(move || save_generation(&d, &e2, applied)).await.map_err(|e| SimilarityError::Task(e.to_string()))??;
        rows::set_active_model(pool, "text", &models.text).await?;
        if let Some(m) = &models.image {
            rows::set_active_model(pool, "image", m).await?;
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
async fn replay(pool: &PgPool, engine: &Engine, models: &Models, mut after: i64) -> Result<(i64, usize)> {
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

fn current_generation(dir: &Path) -> Option<String> {
    let name = std::fs::read_to_string(dir.join(CURRENT)).ok()?;
    let name = name.trim().to_string();
    (!name.is_empty() && !name.contains('/') && dir.join(&name).join("header.json").is_file()).then_some(name)
}

/// Saves into a new generation directory and points `CURRENT` at it (write + rename: atomic).
fn save_generation(dir: &Path, engine: &Engine, applied: i64) -> Result<(String, Header)> {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let mut name = format!("gen-{millis}");
    let mut n = 0;
    while dir.join(&name).exists() {
        n += 1;
        name = format!("gen-{millis}-{n}");
    }
    let header = engine.save(&dir.join(&name), applied)?;
    let tmp = dir.join(format!("{CURRENT}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &name)?;
    std::fs::rename(&tmp, dir.join(CURRENT))?;
    Ok((name, header))
}

/// Deletes generations other than the current one (engines are fully in memory once loaded).
fn remove_old_generations(dir: &Path) {
    let Some(current) = current_generation(dir) else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("gen-") && name != current {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                tracing::warn!(generation = %name, error = %err, "could not remove an old index generation");
            }
        }
    }
}
