//! `precedent eval`: the evaluation protocol on a library folder (no database), or the live
//! index scored against the doctors' relevance judgements.
use super::print_json;
use crate::config::Config;
use crate::{error::ServerError, startup};
use std::path::PathBuf;

/// P@10, MRR@10, mAP@10 of every method on a library folder (`medpix2-dev/SOURCE.md`).
pub async fn library(
    cfg: &Config,
    library: PathBuf,
    query_split: Option<String>,
    library_split: Option<String>,
    json: bool,
    cache: Option<PathBuf>,
    suggest: bool,
    fit: Option<PathBuf>,
) -> Result<(), ServerError> {
    let enc = crate::background::load_encoders(&cfg.models_manifest, cfg.encoder_threads.max(2)).await?;
    let cache = crate::eval::VectorCache::new(cache.unwrap_or_else(|| cfg.data_dir.join("eval-cache")));
    let suggest = suggest || fit.is_some();
    let library_name = library.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let split_name = query_split.clone().unwrap_or_else(|| "all".into());
    let report = tokio::task::spawn_blocking(move || {
        crate::eval::evaluate(&library, query_split.as_deref(), library_split.as_deref(), &enc, &cache, suggest, |done, total| {
            if done % 25 == 0 || done == total {
                eprint!("\rencoding library: {done}/{total}");
                if done == total {
                    eprintln!();
                }
            }
        })
    })
    .await
    .map_err(ServerError::other)?
    .map_err(ServerError::other)?;
    print!("{}", crate::eval::table(&report));
    if let (Some(path), Some(s)) = (&fit, &report.suggest) {
        let mut p = s.fitted.clone();
        let today = time::OffsetDateTime::now_utc().date();
        p.fitted = format!("{} query cases of {} (split {}), library of {}; {today}", s.queries, library_name, split_name, report.library);
        std::fs::write(path, fitted_file(&p))?;
        eprintln!("wrote the fitted suggestion parameters to {}", path.display());
    }
    print_json(json, &report)
}

/// The parameters file, with a note on how it was made.
fn fitted_file(p: &precedent_suggest::Params) -> String {
    format!(
        "# Decision-support parameters (precedent-suggest), fitted by `precedent eval --suggest --fit`\n# on the query cases of the library named in `fitted`. Regenerate; do not edit by hand.\n{}",
        p.to_toml()
    )
}

/// The live index's rankings against the doctors' judgements: P@k, judged precision, coverage.
pub async fn judged(cfg: &Config, k: usize, json: bool) -> Result<(), ServerError> {
    startup::with_database(cfg, 4, |st| async move {
        let sim = super::index::open_similarity(cfg, &st).await?;
        let pairs = precedent_store::index_feed::judged_pairs(&st.pool).await?;
        let engine = sim.engine();
        let r = tokio::task::spawn_blocking(move || precedent_search::eval::judged(&engine, &pairs, k)).await.map_err(ServerError::other)?;
        println!("judged queries {}  judged pairs {}  models {}, {}", r.queries, r.judged_pairs, sim.models().text, sim.models().image.unwrap_or_default());
        println!("{:<18} {:>7}", "metric", "value");
        println!("{:<18} {:>7.3}", format!("P@{}", r.k), r.p_at_k);
        println!("{:<18} {:>7.3}", "judged precision", r.judged_precision);
        println!("{:<18} {:>7.3}", "coverage", r.coverage);
        // How doctors judged the suggestions in the case reports they saved (latest version per case).
        let counts = precedent_store::case_reports::decision_counts(&st.pool).await?;
        let mut decisions: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>> = Default::default();
        for (kind, decision, n) in counts {
            decisions.entry(kind).or_default().insert(decision, n);
        }
        if !decisions.is_empty() {
            println!("suggestions in case reports: {:<12} {:>8} {:>8} {:>8} {:>9}", "kind", "accepted", "rejected", "added", "accepted%");
            for (kind, d) in &decisions {
                let (a, r, x) = (d.get("accepted").copied().unwrap_or(0), d.get("rejected").copied().unwrap_or(0), d.get("added").copied().unwrap_or(0));
                let pct = if a + r > 0 { 100.0 * a as f64 / (a + r) as f64 } else { 0.0 };
                println!("{:<29}{kind:<12} {a:>8} {r:>8} {x:>8} {pct:>8.1}%", "");
            }
        }
        let mut v = serde_json::to_value(&r).map_err(ServerError::other)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("suggestion_decisions".into(), serde_json::to_value(&decisions).map_err(ServerError::other)?);
        }
        print_json(json, &v)
    })
    .await
}
