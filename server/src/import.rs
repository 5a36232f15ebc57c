//! `precedent import <dir>`: brings a case library (see `docs/import-format.md`) in through the
//! normal intake path. Resumable and idempotent: each case is keyed by the library's own key,
//! so a re-run (or a run after a crash) imports only what is missing. Refused rows are reported
//! with their reason and never stop the rest.
use crate::intake::{self, IntakeError, Upload, UploadImage, UploadReport};
use precedent_accounts::Actor;
use precedent_library::{LibraryCase, Refusal};
use precedent_service::AppState;
use precedent_store::StoreError;
use precedent_types::{AccountKind, Modality, Role};
use std::collections::HashSet;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Library(#[from] precedent_library::LibraryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ImportReport {
    pub library: String,
    pub rows: usize,
    pub imported: usize,
    pub already_present: usize,
    pub refused: Vec<RefusedRow>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RefusedRow {
    pub line: usize,
    pub key: Option<String>,
    pub reason: String,
}

impl From<Refusal> for RefusedRow {
    fn from(r: Refusal) -> Self {
        RefusedRow { line: r.line, key: r.key, reason: r.reason }
    }
}

/// The account that owns imported library cases: a doctor account that cannot log in.
pub const LIBRARY_ACCOUNT: &str = "library@precedent.internal";

/// The built-in owner of imported libraries, found by its kind (never by e-mail: the address
/// is reserved, but an account that took it before it was may exist), created on first use.
/// It has no usable password ("!" is no valid hash) and is disabled: nobody can log in as it.
pub async fn library_owner(st: &AppState) -> Result<Actor, ImportError> {
    let existing = precedent_store::users::of_kind(&st.pool, AccountKind::Library).await?.into_iter().next();
    let user = match existing {
        Some(u) => u,
        None => {
            // The usual address, or a fresh one beside it when a person already holds it.
            let email = match precedent_store::users::find_credentials(&st.pool, LIBRARY_ACCOUNT).await? {
                None => LIBRARY_ACCOUNT.to_string(),
                Some(_) => format!("library-{}@precedent.internal", uuid::Uuid::new_v4().simple()),
            };
            let u = precedent_store::users::create_system(&st.pool, AccountKind::Library, &email, "Case library", "!", Role::Doctor).await?;
            precedent_store::users::set_disabled(&st.pool, u.id, true).await?;
            u
        }
    };
    Ok(Actor { id: user.id, role: user.role })
}

fn modality(s: Option<&str>) -> Modality {
    match s.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("ct") => Modality::Ct,
        Some("mr" | "mri") => Modality::Mr,
        Some("xray" | "x-ray" | "cr" | "dx" | "radiograph") => Modality::Xray,
        _ => Modality::Other,
    }
}

fn upload_of(c: &LibraryCase, source: &str, shareable: bool) -> std::io::Result<Upload> {
    let mut images = Vec::with_capacity(c.images.len());
    for im in &c.images {
        images.push(UploadImage {
            filename: im.path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
            bytes: std::fs::read(&im.path)?,
            modality: modality(im.modality.as_deref()),
            plane: im.plane.clone(),
            caption: im.caption.clone(),
        });
    }
    let mut reports = Vec::with_capacity(c.reports.len());
    for r in &c.reports {
        reports.push(UploadReport { filename: r.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(), bytes: std::fs::read(r)? });
    }
    Ok(Upload {
        title: c.title.clone(),
        history: c.history.clone(),
        exam: c.exam.clone(),
        findings: c.findings.clone(),
        diagnosis: c.diagnosis.clone(),
        age_years: c.age.filter(|a| (0..=130).contains(a)),
        sex: c.sex.clone(),
        body_region: c.region.clone(),
        source: source.to_string(),
        external_ref: Some(c.key.clone()),
        shareable,
        labels: c.labels.clone(),
        images,
        reports,
    })
}

/// Most scans one imported case may carry (web uploads have their own, lower limit).
pub const MAX_FILES_PER_IMPORTED_CASE: usize = 500;

/// Whether an imported library's cases may be met by patients as teaching cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sharing {
    /// Staff only (the default): patients never see these cases.
    #[default]
    StaffOnly,
    /// A teaching library: patients' similar-case results may include its cases, de-identified.
    /// Only for the library account's cases; applies to the cases imported before too.
    Patients,
}

/// The `source` of the cases imported from the library named `name`.
pub fn source_of(name: &str) -> String {
    format!("import:{name}")
}

/// Marks (or unmarks) the library `name`'s imported cases as shareable with patients; returns
/// how many cases changed.
pub async fn set_sharing(st: &AppState, name: &str, sharing: Sharing) -> Result<u64, ImportError> {
    Ok(precedent_store::cases::set_library_shareable(&st.pool, &source_of(name), sharing == Sharing::Patients).await?)
}

/// Imports `dir` for `owner`, calling `progress(done, total, &report)` after each row. The
/// library's sharing ends as `sharing` says, for the cases imported before too.
pub async fn import(
    st: &AppState,
    dir: &Path,
    owner: Actor,
    sharing: Sharing,
    mut progress: impl FnMut(usize, usize, &ImportReport),
) -> Result<ImportReport, ImportError> {
    let shareable = sharing == Sharing::Patients;
    let for_library = owner.id == library_owner(st).await?.id;
    if shareable && !for_library {
        return Err(ImportError::Other("Only the library account's cases can be shared with patients (leave out the owner).".into()));
    }
    let lib = precedent_library::open(dir)?;
    // Teaching libraries hold cases with dozens of images; the per-file size limits still apply.
    let mut st = st.clone();
    st.limits.max_files = MAX_FILES_PER_IMPORTED_CASE;
    let st = &st;
    let source = source_of(&lib.name);
    let mut report = ImportReport { library: lib.name.clone(), rows: lib.cases.len() + lib.refused.len(), ..Default::default() };
    report.refused.extend(lib.refused.into_iter().map(RefusedRow::from));
    let present: HashSet<String> = sqlx::query_scalar::<_, String>("SELECT external_ref FROM cases WHERE source = $1 AND external_ref IS NOT NULL")
        .bind(&source)
        .fetch_all(&st.pool)
        .await
        .map_err(StoreError::from)?
        .into_iter()
        .collect();
    let total = lib.cases.len();
    for (i, c) in lib.cases.iter().enumerate() {
        if present.contains(&c.key) {
            report.already_present += 1;
        } else {
            let upload = match upload_of(c, &source, shareable) {
                Ok(u) => u,
                Err(e) => {
                    report.refused.push(RefusedRow { line: c.line, key: Some(c.key.clone()), reason: format!("cannot read a file: {e}") });
                    progress(i + 1, total, &report);
                    continue;
                }
            };
            match intake::create_case(st, owner, upload, None).await {
                Ok(_) => report.imported += 1,
                Err(IntakeError::Store(StoreError::Conflict(_))) => report.already_present += 1,
                Err(IntakeError::Invalid(m)) => report.refused.push(RefusedRow { line: c.line, key: Some(c.key.clone()), reason: m }),
                Err(IntakeError::Media(m)) => report.refused.push(RefusedRow { line: c.line, key: Some(c.key.clone()), reason: m.to_string() }),
                Err(IntakeError::Store(e)) => return Err(e.into()),
                Err(IntakeError::Task(t)) => return Err(ImportError::Other(t)),
            }
        }
        progress(i + 1, total, &report);
    }
    // The choice holds for the whole library, cases imported by earlier runs included.
    if for_library {
        set_sharing(st, &lib.name, sharing).await?;
    }
    Ok(report)
}

/// An archive uploaded on the admin page: unpacks it next to the data, imports it like
/// `precedent import`, and keeps the `imports` row up to date (progress, refused rows,
/// outcome). The unpacked files and the upload are removed afterwards.
pub async fn run_uploaded(st: AppState, job: i64, archive: std::path::PathBuf, work: std::path::PathBuf, sharing: Sharing) {
    use precedent_store::imports;
    let limits = crate::archive::Limits { max_bytes: st.limits.max_import_mb * 1024 * 1024 * 4, max_entries: 1_000_000 };
    let outcome = async {
        let (a, w) = (archive.clone(), work.clone());
        let root = tokio::task::spawn_blocking(move || crate::archive::unpack(&a, &w, limits))
            .await
            .map_err(|e| ImportError::Other(e.to_string()))?
            .map_err(|e| ImportError::Other(format!("The archive cannot be imported: {e}")))?;
        let _ = std::fs::remove_file(&archive);
        let owner = library_owner(&st).await?;
        // The callback cannot wait on the database: it publishes the latest counts, and a
        // writer task records them a few times a second.
        let (tx, mut rx) = tokio::sync::watch::channel(imports::Counts::default());
        let pool = st.pool.clone();
        let writer = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let counts = rx.borrow_and_update().clone();
                if let Err(e) = imports::progress(&pool, job, "importing", &counts).await {
                    tracing::warn!(error = %e, "import progress not recorded");
                }
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            }
        });
        let report = import(&st, &root, owner, sharing, |done, total, r| {
            let _ = tx.send(counts_of(done, total, r));
        })
        .await;
        drop(tx);
        let _ = writer.await;
        let report = report?;
        Ok::<_, ImportError>(report)
    }
    .await;
    let _ = std::fs::remove_file(&archive);
    // `work` is `<imports>/job-N/<library>`: the whole job folder goes.
    let job_dir = work.parent().filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("job-"))).map(|p| p.to_path_buf()).unwrap_or(work);
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(&job_dir)).await;
    // The audit trail gets the outcome, with the refused rows and their reasons, before the
    // import's row says it has ended (whoever sees it ended finds it audited).
    let (outcome_word, detail) = match &outcome {
        Ok(r) => (
            "ok",
            serde_json::json!({ "imported": r.imported, "already_present": r.already_present, "refused": r.refused.iter().take(100).collect::<Vec<_>>() }),
        ),
        Err(e) => ("failed", serde_json::json!({ "error": e.to_string() })),
    };
    let admin = imports::get(&st.pool, job).await.ok().flatten().map(|row| (row.admin_id, precedent_types::Role::Admin));
    let entry = precedent_store::audit::Entry {
        actor: admin,
        action: "admin.import",
        object_kind: Some("import"),
        object_id: Some(job),
        ip: None,
        outcome: outcome_word,
        detail,
    };
    if let Err(e) = precedent_store::audit::record(&st.pool, &entry).await {
        tracing::error!(job, error = %e, "import outcome not audited");
    }
    let result = match &outcome {
        Ok(r) => {
            tracing::info!(job, imported = r.imported, already = r.already_present, refused = r.refused.len(), "uploaded library imported");
            let done = r.rows;
            let counts = counts_of(done, r.rows, r);
            match imports::progress(&st.pool, job, "finished", &counts).await {
                Ok(()) => imports::finish(&st.pool, job, "finished", None).await,
                Err(e) => Err(e),
            }
        }
        Err(e) => {
            tracing::warn!(job, error = %e, "uploaded library import failed");
            imports::finish(&st.pool, job, "failed", Some(&e.to_string())).await
        }
    };
    if let Err(e) = result {
        tracing::error!(job, error = %e, "import outcome not recorded");
    }
}

fn counts_of(done: usize, total: usize, r: &ImportReport) -> precedent_store::imports::Counts {
    precedent_store::imports::Counts {
        total: r.rows as i32,
        done: (done + r.rows.saturating_sub(total)).min(r.rows) as i32,
        imported: r.imported as i32,
        already_present: r.already_present as i32,
        refused: serde_json::to_value(&r.refused).unwrap_or_default(),
    }
}
