//! `precedent backup` / `precedent restore`: everything a hospital would lose with the machine —
//! the database (a `pg_dump` snapshot, consistent by itself), every stored file (content
//! addressed: each is checked against its name on the way out and in) and the similarity index
//! generation on disk (an optimisation: a restore without it rebuilds the index from the
//! database) — taken while the server runs, restored into a fresh database and data directory.
//!
//! Order makes a running server's backup consistent: the index generation is copied first (its
//! changes are ≤ the dump's, and the server replays the rest from the change log on start), then
//! the dump, then the files (they are written before any row names them and never deleted, so
//! every file a dumped row names is there).
use crate::config::Config;
use crate::error::ServerError;
use crate::startup::resolve_database;
use precedent_store::blobs::sha256_hex;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The backup format this build writes and reads.
pub const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("{tool} failed: {message}")]
    Tool { tool: &'static str, message: String },
    #[error("file {0} fails its checksum")]
    Corrupt(String),
    #[error("I/O at {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] precedent_store::StoreError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<BackupError> for ServerError {
    fn from(e: BackupError) -> Self {
        ServerError::Other(e.to_string())
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.to_path_buf(), source }
}

/// What a backup holds, written beside it as `backup.json` and checked by a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: String,
    pub counts: Counts,
    /// Files copied (every stored file, including any no row names).
    pub files: u64,
    pub file_bytes: u64,
    /// The index generation copied, if the server had saved one.
    pub index_generation: Option<String>,
    /// SHA-256 of `database.dump`.
    pub dump_sha256: String,
}

/// Row counts of the tables that hold what people entered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub users: i64,
    pub cases: i64,
    pub images: i64,
    pub reports: i64,
    pub lab_values: i64,
    pub validations: i64,
    pub case_reports: i64,
    pub audit_log: i64,
    pub text_vectors: i64,
    pub image_vectors: i64,
}

/// The row counts of the database at `pool`.
pub async fn counts(pool: &sqlx::PgPool) -> Result<Counts, BackupError> {
    let n = |table: &'static str| async move { sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}")).fetch_one(pool).await };
    Ok(Counts {
        users: n("users").await?,
        cases: n("cases").await?,
        images: n("case_images").await?,
        reports: n("lab_reports").await?,
        lab_values: n("lab_values").await?,
        validations: n("validations").await?,
        case_reports: n("case_reports").await?,
        audit_log: n("audit_log").await?,
        text_vectors: n("text_vectors").await?,
        image_vectors: n("image_vectors").await?,
    })
}

fn pg_tool(name: &str) -> PathBuf {
    crate::pg::find_bin().map(|b| b.join(name)).unwrap_or_else(|_| PathBuf::from(name))
}

fn run_tool(tool: &'static str, cmd: &mut Command) -> Result<(), BackupError> {
    let out = cmd.output().map_err(|e| BackupError::Tool { tool, message: e.to_string() })?;
    if out.status.success() {
        Ok(())
    } else {
        // The tools print the database URL only when it is wrong; its password is never ours
        // to print, so only the last lines of the message are kept.
        let msg = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = msg.lines().rev().take(3).collect();
        Err(BackupError::Tool { tool, message: tail.into_iter().rev().collect::<Vec<_>>().join(" / ") })
    }
}

/// Copies every stored file under `from` (the `xx/yy/<sha256>` layout) to `to`, checking each
/// against its name; returns (files, bytes).
fn copy_files(from: &Path, to: &Path) -> Result<(u64, u64), BackupError> {
    let (mut files, mut bytes) = (0u64, 0u64);
    if !from.is_dir() {
        return Ok((0, 0));
    }
    for a in std::fs::read_dir(from).map_err(io(from))? {
        let a = a.map_err(io(from))?.path();
        let name = a.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if !a.is_dir() || name.len() != 2 {
            continue; // tmp/ and anything else that is not a file of the store
        }
        for b in std::fs::read_dir(&a).map_err(io(&a))? {
            let b = b.map_err(io(&a))?.path();
            if !b.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&b).map_err(io(&b))? {
                let f = f.map_err(io(&b))?.path();
                let Some(sha) = f.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
                if sha.len() != 64 {
                    continue;
                }
                let data = std::fs::read(&f).map_err(io(&f))?;
                if sha256_hex(&data) != sha {
                    return Err(BackupError::Corrupt(sha));
                }
                let target = to.join(&sha[..2]).join(&sha[2..4]);
                std::fs::create_dir_all(&target).map_err(io(&target))?;
                let dest = target.join(&sha);
                if !dest.exists() {
                    std::fs::write(&dest, &data).map_err(io(&dest))?;
                    std::fs::File::open(&dest).and_then(|f| f.sync_all()).map_err(io(&dest))?;
                }
                files += 1;
                bytes += data.len() as u64;
            }
        }
    }
    Ok((files, bytes))
}

/// Copies the index generation `CURRENT` names (if any) from `index_dir` to `to`.
fn copy_index(index_dir: &Path, to: &Path) -> Result<Option<String>, BackupError> {
    let Ok(name) = std::fs::read_to_string(index_dir.join("CURRENT")) else { return Ok(None) };
    let name = name.trim().to_string();
    let src = index_dir.join(&name);
    if name.is_empty() || name.contains(['/', '\\']) || !src.is_dir() {
        return Ok(None);
    }
    let dest = to.join(&name);
    std::fs::create_dir_all(&dest).map_err(io(&dest))?;
    for f in std::fs::read_dir(&src).map_err(io(&src))? {
        let f = f.map_err(io(&src))?.path();
        if f.is_file() {
            let d = dest.join(f.file_name().unwrap_or_default());
            std::fs::copy(&f, &d).map_err(io(&f))?;
        }
    }
    std::fs::write(to.join("CURRENT"), &name).map_err(io(to))?;
    Ok(Some(name))
}

/// Writes a backup of the configured database and data directory into `out` (which must not
/// exist or be empty). Safe while the server runs.
pub async fn backup(cfg: &Config, out: &Path) -> Result<Manifest, ServerError> {
    if out.exists() && std::fs::read_dir(out).map_err(io(out))?.next().is_some() {
        return Err(BackupError::Refused(format!("{} is not empty; back up into a new folder", out.display())).into());
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    let (url, managed) = resolve_database(cfg).await?;
    let outcome = async {
        let index_generation = copy_index(&cfg.index_dir, &out.join("index"))?;
        let dump = out.join("database.dump");
        run_tool(
            "pg_dump",
            Command::new(pg_tool("pg_dump"))
                .args(["--format=custom", "--no-owner", "--no-privileges", "--exclude-table-data=tower_sessions.session", "--file"])
                .arg(&dump)
                .arg(&url),
        )?;
        let dump_bytes = std::fs::read(&dump).map_err(io(&dump))?;
        let (files, file_bytes) = copy_files(&cfg.data_dir.join("blobs"), &out.join("blobs"))?;
        // Counts from the dump itself would need a restore; the live database's are at least
        // the dump's (rows are only ever added), so the restore checks "at most" against them.
        let pool = precedent_store::connect(&url, 2).await?;
        let counts = counts(&pool).await?;
        pool.close().await;
        let manifest = Manifest {
            format: FORMAT,
            created_at: time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            counts,
            files,
            file_bytes,
            index_generation,
            dump_sha256: sha256_hex(&dump_bytes),
        };
        let path = out.join("backup.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&manifest).map_err(ServerError::other)?).map_err(io(&path))?;
        Ok::<_, ServerError>(manifest)
    }
    .await;
    crate::startup::stop_managed(managed).await;
    outcome
}

/// What a restore found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restored {
    pub counts: Counts,
    pub files: u64,
    pub index_generation: Option<String>,
}

/// Restores the backup in `from` into the configured database (which must hold no tables) and
/// data directory, then checks that every file a row names is there and intact.
pub async fn restore(cfg: &Config, from: &Path) -> Result<Restored, ServerError> {
    let path = from.join("backup.json");
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(&path).map_err(io(&path))?).map_err(|e| BackupError::Refused(format!("{}: {e}", path.display())))?;
    if manifest.format != FORMAT {
        return Err(BackupError::Refused(format!("backup format {} is not {FORMAT}", manifest.format)).into());
    }
    let dump = from.join("database.dump");
    if sha256_hex(&std::fs::read(&dump).map_err(io(&dump))?) != manifest.dump_sha256 {
        return Err(BackupError::Corrupt("database.dump".into()).into());
    }
    let (url, managed) = resolve_database(cfg).await?;
    let outcome = async {
        let pool = precedent_store::connect(&url, 2).await?;
        let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
            .fetch_one(&pool)
            .await
            .map_err(BackupError::from)?;
        if tables > 0 {
            pool.close().await;
            return Err(BackupError::Refused("the database is not empty; restore into a new one".into()).into());
        }
        run_tool(
            "pg_restore",
            Command::new(pg_tool("pg_restore"))
                .args(["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname"])
                .arg(&url)
                .arg(&dump),
        )?;
        let (files, _) = copy_files(&from.join("blobs"), &cfg.data_dir.join("blobs"))?;
        let index_generation = copy_index(&from.join("index"), &cfg.index_dir)?;
        let counts = counts(&pool).await?;
        // Every file a row names must be there and intact.
        let named: Vec<String> =
            sqlx::query_scalar("SELECT sha256 FROM case_images UNION SELECT thumb_sha256 FROM case_images UNION SELECT sha256 FROM lab_reports")
                .fetch_all(&pool)
                .await
                .map_err(BackupError::from)?;
        pool.close().await;
        let blobs = precedent_store::BlobStore::open(cfg.data_dir.join("blobs"))?;
        for sha in &named {
            blobs.get(sha).map_err(|_| BackupError::Corrupt(sha.clone()))?;
        }
        let m = &manifest.counts;
        if counts.cases > m.cases || counts.images > m.images || counts.reports > m.reports || counts.users > m.users {
            return Err(BackupError::Refused("the restored database holds more than the backup recorded".into()).into());
        }
        Ok::<_, ServerError>(Restored { counts, files, index_generation })
    }
    .await;
    crate::startup::stop_managed(managed).await;
    outcome
}
