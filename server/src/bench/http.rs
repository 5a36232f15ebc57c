//! `precedent bench http`: find-similar end to end over HTTP on loopback — session, authorisation,
//! fused ANN search, hit summaries from Postgres, audit row — against a library of N cases, with
//! a bounded closed-loop load generator (C concurrent clients for D seconds, after a warm-up).
//!
//! The library lives in a scratch PostgreSQL cluster: N cases with 1–3 scans each, whose text and
//! image vectors come from clustered synthetic embeddings of the real dimensions (encoding 10k
//! cases would measure the encoders, which `bench encoders` already does).
use super::{latency, Latency};
use crate::config::Config;
use crate::pg::ManagedPg;
use crate::startup::Application;
use precedent_encoders::Encoders;
use precedent_search::synthetic::{Mixture, Rng};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct HttpReport {
    pub cases: usize,
    pub image_vectors: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub requests: usize,
    pub errors: usize,
    pub rps: f64,
    pub latency: Latency,
    pub p99_ms: f64,
    pub index_build_s: f64,
    /// Resident memory the loaded similarity index added, and that scaled to 100k cases.
    pub index_rss_mb: f64,
    pub index_rss_mb_per_100k_cases: f64,
    /// With `--suggestions`: `GET /api/v1/cases/{id}/suggestions` measured the same way, right after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Scenario>,
}

/// One measured endpoint.
#[derive(Debug, Serialize)]
pub struct Scenario {
    pub requests: usize,
    pub errors: usize,
    pub rps: f64,
    pub latency: Latency,
    pub p99_ms: f64,
}

fn pg_array(v: &[f32]) -> String {
    super::vector_text(v, '{', '}')
}

/// Fills an empty, migrated database with `n` synthetic cases and their vectors.
pub async fn populate(
    pool: &sqlx::PgPool,
    blobs: &precedent_store::BlobStore,
    enc: &Encoders,
    n: usize,
    seed: u64,
) -> Result<(Vec<i64>, usize), crate::error::ServerError> {
    use precedent_store::blobs::sha256_hex;
    let other = |e: sqlx::Error| crate::error::ServerError::Other(e.to_string());
    let hash = precedent_accounts::hash_password(BENCH_PASSWORD).map_err(|e| crate::error::ServerError::Other(e.to_string()))?;
    let owner = precedent_store::users::create(pool, "library@bench.local", "Library", &hash, precedent_types::Role::Doctor).await?;
    let doctor = precedent_store::users::create(pool, BENCH_USER, "Bench doctor", &hash, precedent_types::Role::Doctor).await?;
    // The cases are a library's, and a third of them validated: the evidence decision support votes with.
    sqlx::query("UPDATE users SET kind = 'library' WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE kind = 'library')")
        .bind(owner.id.0)
        .execute(pool)
        .await
        .map_err(other)?;
    let png = precedent_synth::generate_one(seed, 0).images[0].png.clone();
    let sha = blobs.put(&png)?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO cases (owner_id, title, history, diagnosis, body_region, age_years, sex, source, created_at)
         SELECT $1, 'Synthetic case ' || g, 'Synthetic history ' || g, 'Condition ' || (g % 97),
                (ARRAY['chest','head','abdomen','limb'])[1 + g % 4], 20 + g % 60, (ARRAY['F','M'])[1 + g % 2], 'bench',
                now() - make_interval(mins => g::int)
         FROM generate_series(1, $2) g ORDER BY g RETURNING id",
    )
    .bind(owner.id.0)
    .bind(n as i64)
    .fetch_all(pool)
    .await
    .map_err(other)?;
    sqlx::query(
        "INSERT INTO case_images (case_id, position, filename, mime, sha256, byte_size, width, height, modality, thumb_sha256)
         SELECT c.id, p, 'scan-' || p || '.png', 'image/png', $1, $2, 256, 256, (ARRAY['xray','ct','mr'])[1 + c.id % 3], $1
         FROM cases c CROSS JOIN LATERAL generate_series(0, (c.id % 3)::int) p",
    )
    .bind(&sha)
    .bind(png.len() as i64)
    .execute(pool)
    .await
    .map_err(other)?;
    sqlx::query(
        "INSERT INTO validations (case_id, author_id, action, diagnosis, certainty, specialist)
         SELECT id, $1, 'validate', diagnosis, 'probable', (ARRAY['Pulmonology','Neurology','Gastroenterology'])[1 + id % 3] FROM cases WHERE id % 3 = 0",
    )
    .bind(doctor.id.0)
    .execute(pool)
    .await
    .map_err(other)?;
    let images: Vec<(i64, i64)> = sqlx::query_as("SELECT id, case_id FROM case_images ORDER BY case_id, position").fetch_all(pool).await.map_err(other)?;
    let (text_model, image_model) = enc.model_ids();
    let (text_dim, image_dim) = enc.dims();
    let text_mix = Mixture::for_points(text_dim, n, seed);
    let image_mix = Mixture::new(image_dim.max(1), text_mix.clusters(), seed + 1);
    let mut rng = Rng::new(seed + 2);
    let mut cluster_of = std::collections::HashMap::new();
    let mut conn = pool.acquire().await.map_err(other)?;
    let mut copy = conn.copy_in_raw("COPY text_vectors (case_id, field, model, text_sha256, vector) FROM STDIN").await.map_err(other)?;
    let mut buf = String::new();
    for id in &ids {
        let (c, v) = text_mix.sample(&mut rng);
        cluster_of.insert(*id, c);
        buf.push_str(&format!("{id}\tfull\t{text_model}\t{}\t{}\n", sha256_hex(id.to_string().as_bytes()), pg_array(&v)));
        if buf.len() > 1 << 20 {
            copy.send(std::mem::take(&mut buf).into_bytes()).await.map_err(other)?;
        }
    }
    copy.send(buf.into_bytes()).await.map_err(other)?;
    copy.finish().await.map_err(other)?;
    if let Some(model) = image_model {
        let mut copy = conn.copy_in_raw("COPY image_vectors (image_id, case_id, model, vector) FROM STDIN").await.map_err(other)?;
        let mut buf = String::new();
        for (image, case) in &images {
            let v = image_mix.sample_from(cluster_of.get(case).copied().unwrap_or(0), &mut rng);
            buf.push_str(&format!("{image}\t{case}\t{model}\t{}\n", pg_array(&v)));
            if buf.len() > 1 << 20 {
                copy.send(std::mem::take(&mut buf).into_bytes()).await.map_err(other)?;
            }
        }
        copy.send(buf.into_bytes()).await.map_err(other)?;
        copy.finish().await.map_err(other)?;
    }
    Ok((ids, images.len()))
}

/// The scenario every run measures: the similar-cases panel's request.
const SIMILAR: &str = "similar?k=10";

pub const BENCH_USER: &str = "bench@bench.local";
pub const BENCH_PASSWORD: &str = "bench-password-2026";

/// Runs the whole benchmark in a scratch cluster under `scratch` (deleted afterwards), serving
/// the application as `cfg` describes it (database, data and index under `scratch`).
pub async fn run(
    enc: Arc<Encoders>,
    cfg: &Config,
    cases: usize,
    concurrency: usize,
    seconds: f64,
    suggestions: bool,
    scratch: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<HttpReport, crate::error::ServerError> {
    let other = |e: &dyn std::fmt::Display| crate::error::ServerError::Other(e.to_string());
    let _ = std::fs::remove_dir_all(scratch);
    let cluster = ManagedPg::for_dir(scratch)?;
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start()).await.map_err(|e| other(&e))??;
    let result = async {
        let url = precedent_store::ensure_database(&cluster.url("postgres"), "bench").await?;
        let mut cfg = cfg.clone();
        cfg.database_url = Some(url.clone());
        cfg.data_dir = scratch.to_path_buf();
        cfg.index_dir = scratch.join("index");
        cfg.site_root = scratch.join("site");
        cfg.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        cfg.db_max_connections = 32;
        cfg.encoder_threads = 1;
        progress(&format!("creating {cases} synthetic cases with vectors"));
        let (ids, image_vectors) = {
            let (pool, _) = crate::startup::open_database(&url, 8).await?;
            let out = populate(&pool, &precedent_store::BlobStore::open(cfg.data_dir.join("blobs"))?, &enc, cases, 11).await;
            pool.close().await;
            out?
        };
        progress("building the similarity index");
        let t = Instant::now();
        let rss_before = super::ann::rss_mb();
        let app = Application::builder(&cfg).encoders(Arc::clone(&enc)).worker(false).build().await?;
        let index_build_s = t.elapsed().as_secs_f64();
        let index_rss_mb = (super::ann::rss_mb() - rss_before).max(0.0);
        let addr = app.address()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder().cookie_store(true).pool_max_idle_per_host(concurrency * 2).build().map_err(|e| other(&e))?;
        let base = format!("http://{addr}");
        let login =
            client.post(format!("{base}/api/login")).form(&[("email", BENCH_USER), ("password", BENCH_PASSWORD)]).send().await.map_err(|e| other(&e))?;
        if !login.status().is_success() {
            return Err(other(&format!("bench login failed: {}", login.status())));
        }
        let ids = Arc::new(ids);
        let hit = |client: reqwest::Client, base: String, ids: Arc<Vec<i64>>, what: &'static str, seed: u64, until: Instant| async move {
            let mut rng = Rng::new(seed);
            let (mut lat, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < until {
                let id = ids[rng.below(ids.len())];
                let t = Instant::now();
                let ok = match client.get(format!("{base}/api/v1/cases/{id}/{what}")).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                if !ok {
                    errors += 1;
                }
            }
            (lat, errors)
        };
        // C clients on `what` for `secs` seconds: latencies, errors, elapsed seconds.
        let measure = |what: &'static str, secs: f64, seed: u64| {
            let (client, base, ids) = (client.clone(), base.clone(), Arc::clone(&ids));
            async move {
                let started = Instant::now();
                let until = started + Duration::from_secs_f64(secs);
                let tasks: Vec<_> =
                    (0..concurrency).map(|i| tokio::spawn(hit(client.clone(), base.clone(), Arc::clone(&ids), what, seed + i as u64, until))).collect();
                let (mut all, mut errors) = (Vec::new(), 0);
                for t in tasks {
                    let (l, e) = t.await.map_err(|e| other(&e))?;
                    all.extend(l);
                    errors += e;
                }
                Ok::<_, crate::error::ServerError>((all, errors, started.elapsed().as_secs_f64()))
            }
        };
        progress("warming up (2 s)");
        measure(SIMILAR, 2.0, 100).await?;
        progress(&format!("measuring: {concurrency} clients for {seconds} s"));
        let (mut all, errors, elapsed) = measure(SIMILAR, seconds, 0).await?;
        let suggestions = if suggestions {
            progress(&format!("measuring suggestions: {concurrency} clients for {seconds} s"));
            measure("suggestions", 2.0, 200).await?;
            let (mut lat, errors, secs) = measure("suggestions", seconds, 300).await?;
            lat.sort_by(|a, b| a.total_cmp(b));
            let p99_ms = super::percentile(&lat, 0.99);
            Some(Scenario { requests: lat.len(), errors, rps: lat.len() as f64 / secs, p99_ms, latency: latency(lat) })
        } else {
            None
        };
        let _ = stop.send(());
        server.await.map_err(|e| other(&e))??;
        let requests = all.len();
        all.sort_by(|a, b| a.total_cmp(b));
        let p99 = super::percentile(&all, 0.99);
        Ok(HttpReport {
            cases,
            image_vectors,
            concurrency,
            seconds: elapsed,
            requests,
            errors,
            rps: requests as f64 / elapsed,
            latency: latency(all),
            p99_ms: p99,
            index_build_s,
            index_rss_mb,
            index_rss_mb_per_100k_cases: index_rss_mb * 100_000.0 / cases.max(1) as f64,
            suggestions,
        })
    }
    .await;
    let c = cluster.clone();
    let _ = tokio::task::spawn_blocking(move || c.stop()).await;
    let _ = std::fs::remove_dir_all(scratch);
    result
}

pub fn table(r: &HttpReport) -> String {
    let mut out = format!(
        "index: built in {:.1} s, {:.0} MB resident ({:.0} MB per 100k cases)\nGET /api/v1/cases/{{id}}/similar?k=10 — {} cases ({} image vectors), {} clients, {:.1} s\n\
         {:>9} {:>7} {:>9} {:>8} {:>8} {:>8}\n{:>9} {:>7} {:>9.0} {:>8.2} {:>8.2} {:>8.2}\n",
        r.index_build_s, r.index_rss_mb, r.index_rss_mb_per_100k_cases,
        r.cases, r.image_vectors, r.concurrency, r.seconds, "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms",
        r.requests, r.errors, r.rps, r.latency.p50_ms, r.latency.p95_ms, r.p99_ms
    );
    if let Some(s) = &r.suggestions {
        out += &format!(
            "GET /api/v1/cases/{{id}}/suggestions — same clients and length, right after\n{:>9} {:>7} {:>9.0} {:>8.2} {:>8.2} {:>8.2}\n\
             a case page asks for both: suggestions p95 {:.2} ms beside the similar panel's\n",
            s.requests, s.errors, s.rps, s.latency.p50_ms, s.latency.p95_ms, s.p99_ms, s.latency.p95_ms
        );
    }
    out
}
