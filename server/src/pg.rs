//! The managed PostgreSQL cluster: with no `DATABASE_URL`, Precedent runs its own cluster
//! (Debian's `initdb`/`pg_ctl`) under the data directory, listening only on a unix socket,
//! and stops it on shutdown.
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's `postgresql` package or set PRECEDENT_PG_BIN")]
    NoBinaries,
    #[error("running as root needs the `postgres` system user (from Debian's `postgresql` package) to own the cluster")]
    NoPostgresUser,
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("I/O error for {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// A cluster directory and how to reach it.
#[derive(Debug, Clone)]
pub struct ManagedPg {
    bin: PathBuf,
    pgdata: PathBuf,
    sockdir: PathBuf,
    run_as: Option<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PgError + '_ {
    move |source| PgError::Io { path: path.to_path_buf(), source }
}

/// The directory holding `initdb` and `pg_ctl`.
pub fn find_bin() -> Result<PathBuf, PgError> {
    if let Ok(dir) = std::env::var("PRECEDENT_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    // Debian keeps server binaries out of PATH, one folder per major version: take the newest.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())).ok_or(PgError::NoBinaries)
}

fn is_root() -> bool {
    // `id -u` avoids a libc dependency for one call.
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// A short, stable name for a path (FNV-1a), used to keep socket paths short.
fn short_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

impl ManagedPg {
    /// Describes (does not start) the cluster for `dir`.
    pub fn for_dir(dir: &Path) -> Result<Self, PgError> {
        Self::for_dir_with_bin(dir, find_bin()?)
    }

    /// Like [`for_dir`](Self::for_dir) with the server binaries from `bin` (e.g. the PostgreSQL
    /// with pgvector unpacked from PyPI's `pgserver` for the benchmark).
    pub fn for_dir_with_bin(dir: &Path, bin: PathBuf) -> Result<Self, PgError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let dir = dir.canonicalize().map_err(io(dir))?;
        let run_as = if is_root() {
            let exists = Command::new("id").arg("postgres").output().map(|o| o.status.success()).unwrap_or(false);
            if !exists {
                return Err(PgError::NoPostgresUser);
            }
            Some("postgres".to_string())
        } else {
            None
        };
        let mut base = dir.join("postgres");
        if run_as.is_some() && !postgres_can_reach(&dir) {
            // PostgreSQL refuses to run as root; the `postgres` user must reach its data directory.
            // When the data dir sits under a private home, keep the cluster in a shared place.
            let alt = PathBuf::from("/var/tmp").join(format!("precedent-pg-{}", short_hash(&dir.to_string_lossy())));
            tracing::info!(cluster = %alt.display(), "data dir not reachable by the postgres user; cluster kept elsewhere");
            base = alt;
        }
        let pgdata = base.join("data");
        let mut sockdir = base.join("run");
        if sockdir.as_os_str().len() > 90 {
            sockdir = std::env::temp_dir().join(format!("precedent-{}", &short_hash(&base.to_string_lossy())[..12]));
        }
        Ok(Self { bin, pgdata, sockdir, run_as })
    }

    /// The URL of database `db` in this cluster (over its unix socket).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@localhost/{db}?host={}", self.sockdir.display())
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn run(&self, what: &str, mut cmd: Command) -> Result<std::process::Output, PgError> {
        let out = cmd.output().map_err(|e| PgError::Command { what: what.into(), detail: e.to_string() })?;
        if !out.status.success() {
            return Err(PgError::Command {
                what: what.into(),
                detail: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)).trim().to_string(),
            });
        }
        Ok(out)
    }

    fn chown(&self, path: &Path) -> Result<(), PgError> {
        if let Some(user) = &self.run_as {
            let mut c = Command::new("chown");
            c.arg("-R").arg(format!("{user}:")).arg(path);
            self.run("chown", c)?;
        }
        Ok(())
    }

    pub fn is_running(&self) -> bool {
        let mut c = self.command("pg_ctl");
        c.arg("-D").arg(&self.pgdata).arg("status");
        c.output().map(|o| o.status.success()).unwrap_or(false)
    }

    /// Initialises the cluster if needed and starts it unless it already runs. Returns whether
    /// this call started it.
    pub fn start(&self) -> Result<bool, PgError> {
        // A running cluster is left alone: a recursive chown would race its own file changes.
        if self.pgdata.join("PG_VERSION").exists() && self.is_running() {
            return Ok(false);
        }
        for d in [&self.pgdata, &self.sockdir] {
            std::fs::create_dir_all(d).map_err(io(d))?;
        }
        if let Some(parent) = self.pgdata.parent() {
            self.chown(parent)?;
        }
        self.chown(&self.sockdir)?;
        if !self.pgdata.join("PG_VERSION").exists() {
            tracing::info!(pgdata = %self.pgdata.display(), "initialising a PostgreSQL cluster");
            let mut c = self.command("initdb");
            c.arg("-D").arg(&self.pgdata).args(["-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale"]);
            self.run("initdb", c)?;
        }
        if self.is_running() {
            return Ok(false);
        }
        let log = self.pgdata.join("server.log");
        let opts = format!("-c listen_addresses='' -k {} -c unix_socket_permissions=0700 -c max_connections=200 -c fsync=on", self.sockdir.display());
        let mut c = self.command("pg_ctl");
        c.arg("-D").arg(&self.pgdata).arg("-l").arg(&log).args(["-w", "-t", "60", "-o", &opts, "start"]);
        self.run("pg_ctl start", c)?;
        tracing::info!(socket = %self.sockdir.display(), "managed PostgreSQL started");
        Ok(true)
    }

    pub fn stop(&self) -> Result<(), PgError> {
        if !self.is_running() {
            return Ok(());
        }
        let mut c = self.command("pg_ctl");
        c.arg("-D").arg(&self.pgdata).args(["-m", "fast", "-w", "-t", "60", "stop"]);
        self.run("pg_ctl stop", c)?;
        tracing::info!("managed PostgreSQL stopped");
        Ok(())
    }
}

/// Whether the `postgres` user can enter every directory down to `dir`.
fn postgres_can_reach(dir: &Path) -> bool {
    Command::new("runuser").args(["-u", "postgres", "--", "test", "-x"]).arg(dir).status().map(|s| s.success()).unwrap_or(false)
}
