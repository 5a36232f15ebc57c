//! Prometheus metrics at `/metrics`: request latency per route (recorded by a middleware),
//! encoder latency (recorded by the search core through the `metrics` facade), and, read at
//! each scrape, index sizes, the embedding job queue and the database pool.
//!
//! Labels are bounded: routes are the router's templates (`/api/v1/cases/{id}`), never raw
//! paths or query strings, so nothing a user typed reaches the metrics.
use crate::http::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use precedent_service::{AppState, Caller, ServiceError};
use precedent_types::Role;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tower_sessions::Session;

/// Latency buckets (seconds) for every `*_seconds` histogram: 0.5 ms to 10 s.
const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls return the same handle).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new().set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS).and_then(|b| b.install_recorder());
            match built {
                Ok(handle) => {
                    // Histograms are drained into their buckets by the upkeep; without it they
                    // would only be drained at scrape time and grow in between.
                    let h = handle.clone();
                    let _ = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || loop {
                        std::thread::sleep(Duration::from_secs(5));
                        h.run_upkeep();
                    });
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics answers 503");
                    None
                }
            }
        })
        .as_ref()
}

/// Records every request's latency and status under its route template.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::histogram!("precedent_http_request_duration_seconds", "route" => route, "method" => method, "status" => status)
        .record(started.elapsed().as_secs_f64());
    res
}

/// True when the `Authorization: Bearer …` header carries `token` (compared in constant time).
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")) else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`: for admins, or for a scraper presenting `PRECEDENT_METRICS_TOKEN` (whose
/// scrape reads no session and no account).
pub async fn endpoint(State(st): State<AppState>, session: Session, headers: HeaderMap) -> Response {
    let by_token = st.metrics_token.as_deref().is_some_and(|t| bearer_matches(&headers, t));
    if !by_token {
        match Caller::from_session(st.clone(), &session, None).await {
            Ok((c, _)) if c.actor.role == Role::Admin => {}
            Ok(_) => return ApiError(ServiceError::Forbidden).into_response(),
            Err(e) => return e.into_response(),
        }
    }
    let Some(handle) = install() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable").into_response();
    };
    refresh_gauges(&st).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// Sets the gauges that are read rather than counted: index sizes, job queue, database pool.
async fn refresh_gauges(st: &AppState) {
    if let Ok(search) = st.search() {
        let stats = search.similarity.engine().stats();
        metrics::gauge!("precedent_index_cases").set(stats.cases as f64);
        for (modality, m) in [("text", &stats.text), ("image", &stats.image)] {
            metrics::gauge!("precedent_index_vectors", "modality" => modality, "state" => "live").set(m.live as f64);
            metrics::gauge!("precedent_index_vectors", "modality" => modality, "state" => "dead").set(m.dead as f64);
            metrics::gauge!("precedent_index_memory_bytes", "modality" => modality).set(m.memory_bytes as f64);
        }
        metrics::gauge!("precedent_index_lab_profiles").set(stats.labs as f64);
        metrics::gauge!("precedent_index_applied_change").set(search.similarity.applied_change() as f64);
    }
    match sqlx::query_as::<_, (String, i64)>("SELECT state, count(*) FROM embedding_jobs GROUP BY state").fetch_all(&st.pool).await {
        Ok(rows) => {
            for state in ["pending", "running", "done", "failed"] {
                let n = rows.iter().find(|(s, _)| s == state).map(|(_, n)| *n).unwrap_or(0);
                metrics::gauge!("precedent_embedding_jobs", "state" => state).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "job queue depth unavailable for metrics"),
    }
    metrics::gauge!("precedent_db_pool_connections", "state" => "open").set(st.pool.size() as f64);
    metrics::gauge!("precedent_db_pool_connections", "state" => "idle").set(st.pool.num_idle() as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_must_match_exactly() {
        let mut h = HeaderMap::new();
        assert!(!bearer_matches(&h, "s3cret"));
        h.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(bearer_matches(&h, "s3cret"));
        assert!(!bearer_matches(&h, "s3cre"));
        assert!(!bearer_matches(&h, "s3cret!"));
        h.insert(header::AUTHORIZATION, "Basic s3cret".parse().unwrap());
        assert!(!bearer_matches(&h, "s3cret"));
    }
}
