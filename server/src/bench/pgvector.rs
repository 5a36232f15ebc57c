//! `precedent bench pgvector`: hnsw_rs against pgvector's HNSW on the same vectors, same machine,
//! same graph parameters (M, ef_construction), one connection / one thread each, each at
//! the smallest search setting reaching recall@10 ≥ 0.99. PostgreSQL 16.2 + pgvector 0.6.2 come
//! from PyPI's `pgserver` wheel (`scripts/pgvector.sh`), run on a scratch cluster over a unix socket.
use super::ann::{self, AnnRun, K};
use crate::pg::ManagedPg;
use precedent_search::index::IndexParams;
use serde::Serialize;
use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const EF_SEARCH: [usize; 9] = [10, 20, 40, 60, 80, 120, 200, 400, 800];

#[derive(Debug, Clone, Copy, Serialize)]
pub struct PgRun {
    pub ef_search: usize,
    pub recall10: f64,
    pub qps: f64,
}

#[derive(Debug, Serialize)]
pub struct PgReport {
    pub n: usize,
    pub dim: usize,
    pub k: usize,
    pub queries: usize,
    pub hnsw_rs: AnnRun,
    pub pgvector: PgRun,
    pub hnsw_rs_runs: Vec<AnnRun>,
    pub pgvector_runs: Vec<PgRun>,
    pub hnsw_rs_build_s: f64,
    pub pgvector_build_s: f64,
    pub pgvector_version: String,
    pub m: usize,
    pub ef_construction: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PgBenchError {
    #[error("pgvector is not unpacked at {0}: run scripts/pgvector.sh (or set PRECEDENT_PGVECTOR_DIR)")]
    Missing(String),
    #[error(transparent)]
    Pg(#[from] crate::pg::PgError),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("task: {0}")]
    Task(String),
}

/// Where `scripts/pgvector.sh` unpacks the binaries.
pub fn bin_dir() -> PathBuf {
    let base = std::env::var("PRECEDENT_PGVECTOR_DIR").unwrap_or_else(|_| "/var/tmp/precedent-pgserver".into());
    PathBuf::from(base).join("pgserver/pginstall/bin")
}

fn literal(v: &[f32]) -> String {
    super::vector_text(v, '[', ']')
}

pub async fn run(n: usize, dim: usize, queries: usize, seed: u64, scratch: &Path, progress: &(dyn Fn(&str) + Sync)) -> Result<PgReport, PgBenchError> {
    let bin = bin_dir();
    if !bin.join("postgres").exists() {
        return Err(PgBenchError::Missing(bin.display().to_string()));
    }
    progress(&format!("generating {n} × {dim} vectors"));
    let (data, qs) = ann::data(n, dim, queries, seed);
    progress("exact scan");
    let (truth, _) = ann::exact(&data, &qs);

    progress("hnsw_rs: building");
    // The engine's parameters for this dimension; pgvector gets the same M and ef_construction.
    let params = IndexParams::default().for_dim(dim);
    let (index, hnsw_build_s, _) = ann::build(&data, params);
    let hnsw_runs = ann::sweep(&index, &qs, &truth);
    drop(index);

    progress("pgvector: starting PostgreSQL from the pgserver wheel");
    let cluster = ManagedPg::for_dir_with_bin(scratch, bin)?;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start()).await.map_err(|e| PgBenchError::Task(e.to_string()))??;
    let result = async {
        let mut conn = PgConnection::connect(&cluster.url("postgres")).await?;
        sqlx::query("CREATE EXTENSION IF NOT EXISTS vector").execute(&mut conn).await?;
        let version: String = sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetch_one(&mut conn).await?;
        sqlx::query("DROP TABLE IF EXISTS bench_items").execute(&mut conn).await?;
        sqlx::query(&format!("CREATE TABLE bench_items (id INTEGER PRIMARY KEY, v vector({dim}))")).execute(&mut conn).await?;
        progress("pgvector: loading vectors");
        let mut copy = conn.copy_in_raw("COPY bench_items (id, v) FROM STDIN").await?;
        let mut buf = String::new();
        for (i, v) in data.iter().enumerate() {
            buf.push_str(&format!("{i}\t{}\n", literal(v)));
            if buf.len() > 1 << 20 {
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
            }
        }
        copy.send(buf.into_bytes()).await?;
        copy.finish().await?;
        progress("pgvector: building the HNSW index");
        sqlx::query("SET maintenance_work_mem = '2GB'").execute(&mut conn).await?;
        sqlx::query("SET max_parallel_maintenance_workers = 1").execute(&mut conn).await?;
        let t = Instant::now();
        sqlx::query(&format!(
            "CREATE INDEX bench_items_hnsw ON bench_items USING hnsw (v vector_cosine_ops) WITH (m = {}, ef_construction = {})",
            params.max_connections, params.ef_construction
        ))
        .execute(&mut conn)
        .await?;
        let pg_build_s = t.elapsed().as_secs_f64();
        sqlx::query("VACUUM ANALYZE bench_items").execute(&mut conn).await?;
        let lits: Vec<String> = qs.iter().map(|q| literal(q)).collect();
        let mut pg_runs = Vec::new();
        for ef in EF_SEARCH {
            progress(&format!("pgvector: ef_search {ef}"));
            sqlx::query(&format!("SET hnsw.ef_search = {ef}")).execute(&mut conn).await?;
            let sql = "SELECT id FROM bench_items ORDER BY v <=> $1::vector LIMIT 10";
            for l in lits.iter().take(20) {
                sqlx::query_scalar::<_, i32>(sql).bind(l).fetch_all(&mut conn).await?;
            }
            let t = Instant::now();
            let mut found = Vec::with_capacity(lits.len());
            for l in &lits {
                let ids: Vec<i32> = sqlx::query_scalar(sql).bind(l).fetch_all(&mut conn).await?;
                found.push(ids.into_iter().map(|i| i as usize).collect::<Vec<_>>());
            }
            let qps = lits.len() as f64 / t.elapsed().as_secs_f64();
            let recall = found.iter().zip(&truth).map(|(f, t)| ann::recall(f, t)).sum::<f64>() / lits.len().max(1) as f64;
            pg_runs.push(PgRun { ef_search: ef, recall10: recall, qps });
            if recall >= 0.999 {
                break;
            }
        }
        sqlx::query("DROP TABLE bench_items").execute(&mut conn).await?;
        conn.close().await?;
        Ok::<_, PgBenchError>((version, pg_build_s, pg_runs))
    }
    .await;
    let c = cluster.clone();
    let _ = tokio::task::spawn_blocking(move || c.stop()).await;
    let (version, pg_build_s, pg_runs) = result?;
    let pg_best = pg_runs
        .iter()
        .find(|r| r.recall10 >= 0.99)
        .copied()
        .or_else(|| pg_runs.iter().copied().max_by(|a, b| a.recall10.total_cmp(&b.recall10)))
        .unwrap_or(PgRun { ef_search: 0, recall10: 0.0, qps: 0.0 });
    let hnsw_best = ann::at_target(&hnsw_runs).unwrap_or_default();
    Ok(PgReport {
        n,
        dim,
        k: K,
        queries: qs.len(),
        hnsw_rs: hnsw_best,
        pgvector: pg_best,
        hnsw_rs_runs: hnsw_runs,
        pgvector_runs: pg_runs,
        hnsw_rs_build_s: hnsw_build_s,
        pgvector_build_s: pg_build_s,
        pgvector_version: version,
        m: params.max_connections,
        ef_construction: params.ef_construction,
    })
}

pub fn table(r: &PgReport) -> String {
    let mut out = format!(
        "n {}  dim {}  k {}  queries {}  (both: M {}, ef_construction {}; one thread / one connection)\n",
        r.n, r.dim, r.k, r.queries, r.m, r.ef_construction
    );
    out += &format!("{:<16} {:>9} {:>9} {:>10} {:>9}\n", "engine", "setting", "recall10", "q/s", "build s");
    out += &format!(
        "{:<16} {:>9} {:>9.4} {:>10.0} {:>9.1}\n",
        "hnsw_rs (walk)",
        format!("ef {}", r.hnsw_rs.ef),
        r.hnsw_rs.recall10,
        r.hnsw_rs.qps,
        r.hnsw_rs_build_s
    );
    out += &format!(
        "{:<16} {:>9} {:>9.4} {:>10.0} {:>9.1}\n",
        format!("pgvector {}", r.pgvector_version),
        format!("ef {}", r.pgvector.ef_search),
        r.pgvector.recall10,
        r.pgvector.qps,
        r.pgvector_build_s
    );
    out += &format!("hnsw_rs / pgvector q/s at recall ≥ 0.99: {:.1}×\n", r.hnsw_rs.qps / r.pgvector.qps.max(1e-9));
    out += "pgvector sweep:";
    for p in &r.pgvector_runs {
        out += &format!("  ef {} → {:.4} @ {:.0} q/s;", p.ef_search, p.recall10, p.qps);
    }
    out.push('\n');
    out
}
