//! Lab reports on the server: reading an uploaded report into stored values, re-reading
//! reports stored without values (`precedent labs backfill`), and the parser from the command
//! line (`precedent labs parse | bench`).
use precedent_labs::score::{score, Expected};
use precedent_labs::{read_values, Extracted, LabValue, PdfReader};
use precedent_store::cases::TextStatus;
use precedent_store::labs::NewLabValue;
use precedent_synth::labfix;
use std::time::{Duration, Instant};

/// What reading one report produced, ready to store.
#[derive(Debug, Clone)]
pub struct ReadReport {
    pub text_status: TextStatus,
    pub extracted_text: String,
    pub extract_error: Option<String>,
    pub values: Vec<NewLabValue>,
    pub collected_on: Option<time::Date>,
}

/// Reads a report's text layer with `reader`, then its values. Never fails: an unreadable file
/// is a report with an error to show; one in which nothing is recognised keeps its text.
pub fn read_report(reader: &PdfReader, bytes: &[u8]) -> ReadReport {
    let (text_status, extracted_text, extract_error) = match reader.read(bytes) {
        Ok(Extracted::Text(t)) => (TextStatus::Extracted, t, None),
        Ok(Extracted::NoTextLayer) => (TextStatus::NoText, String::new(), None),
        Err(e) => {
            // The file name is the uploader's text (often a patient's name): never logged.
            tracing::info!(bytes = bytes.len(), error = %e, "lab report text not extracted");
            (TextStatus::Failed, String::new(), Some(e.to_string()))
        }
    };
    let (values, collected_on) = if text_status == TextStatus::Extracted { values_from_text(&extracted_text) } else { (Vec::new(), None) };
    ReadReport { text_status, extracted_text, extract_error, values, collected_on }
}

/// The values in a report's extracted text, and its collection date.
pub fn values_from_text(text: &str) -> (Vec<NewLabValue>, Option<time::Date>) {
    let (values, collected) = read_values(text);
    let collected_on = collected.and_then(|d| time::Date::parse(&d, time::macros::format_description!("[year]-[month]-[day]")).ok());
    (values.iter().map(precedent_store::labs::NewLabValue::from).collect(), collected_on)
}

/// What `precedent labs backfill` did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct BackfillReport {
    /// Reports stored without values that were looked at.
    pub reports: usize,
    /// Reports that now have values.
    pub filled: usize,
    pub values: usize,
    /// Reports whose PDF was read again (`--reread`: those that could not be read before).
    pub reread: usize,
    /// Reports still without values (no text layer, unreadable, or nothing recognised).
    pub still_empty: usize,
}

/// Reads values for every report stored without any (reports uploaded before values were read,
/// or whose reading failed); with `reread`, PDFs that could not be read are read again from the
/// blob store with `reader`. Each report is written in its own transaction and its case's lab
/// profile is marked changed, so the running index picks it up.
pub async fn backfill(
    pool: &sqlx::PgPool,
    blobs: &precedent_store::BlobStore,
    reader: &PdfReader,
    reread: bool,
) -> Result<BackfillReport, crate::error::ServerError> {
    let pending = precedent_store::labs::reports_without_values(pool).await?;
    let mut out = BackfillReport { reports: pending.len(), ..Default::default() };
    for r in pending {
        let read = match r.text_status {
            TextStatus::Extracted => {
                let (values, collected_on) = values_from_text(&r.extracted_text);
                ReadReport { text_status: TextStatus::Extracted, extracted_text: r.extracted_text, extract_error: None, values, collected_on }
            }
            TextStatus::Failed if reread => {
                let bytes = blobs.get(&r.sha256)?;
                let reader = reader.clone();
                out.reread += 1;
                tokio::task::spawn_blocking(move || read_report(&reader, &bytes)).await.map_err(|e| crate::error::ServerError::Other(e.to_string()))?
            }
            _ => {
                out.still_empty += 1;
                continue;
            }
        };
        let filled = precedent_store::labs::fill_report(
            pool,
            r.id,
            &precedent_store::labs::ReportReading {
                text_status: read.text_status,
                extracted_text: &read.extracted_text,
                extract_error: read.extract_error.as_deref(),
                values: &read.values,
                collected_on: read.collected_on,
            },
        )
        .await?;
        if filled > 0 {
            out.filled += 1;
            out.values += filled;
        } else {
            out.still_empty += 1;
        }
    }
    tracing::info!(?out, "lab values backfilled");
    Ok(out)
}

/// Reads one PDF's values.
pub fn parse_pdf(bytes: &[u8], reader: &PdfReader) -> Result<(Vec<LabValue>, Option<String>), String> {
    match reader.read(bytes).map_err(|e| e.to_string())? {
        Extracted::Text(t) => Ok(read_values(&t)),
        Extracted::NoTextLayer => Err("no text layer — values not extracted (a scanned report?)".into()),
    }
}

/// Accuracy and speed on freshly generated fixtures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub reports: usize,
    pub values: usize,
    pub correct: usize,
    pub accuracy: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Two-page reports only (the multi-page layout).
    pub p50_ms_two_page: f64,
    /// The same two-page reports read the way the server reads uploads: in a memory-capped
    /// child process (process start included).
    pub p50_ms_two_page_isolated: Option<f64>,
    pub by_layout: Vec<LayoutScore>,
    /// What was read wrong (at most 50), for the report of failures.
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct LayoutScore {
    pub layout: String,
    pub values: usize,
    pub correct: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Regenerates `per_layout` fixtures of every layout, parses them, scores them; with `isolated`,
/// also times the two-page reports read through that reader.
pub fn bench(seed: u64, per_layout: usize, isolated: Option<&PdfReader>) -> Result<BenchReport, String> {
    let in_thread = PdfReader::in_thread(Duration::from_secs(10));
    let mut times = Vec::new();
    let mut two_page = Vec::new();
    let mut two_page_isolated = Vec::new();
    let mut by_layout: Vec<LayoutScore> = labfix::LAYOUTS.iter().map(|l| LayoutScore { layout: l.to_string(), values: 0, correct: 0 }).collect();
    let mut failures = Vec::new();
    let fixtures = labfix::fixtures(seed, per_layout);
    for (n, f) in fixtures.iter().enumerate() {
        let started = Instant::now();
        let (values, _) = parse_pdf(&f.pdf, &in_thread)?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        if f.layout == "multi-page-panels" {
            two_page.push(ms);
            if let Some(reader) = isolated {
                let started = Instant::now();
                let (again, _) = parse_pdf(&f.pdf, reader)?;
                two_page_isolated.push(started.elapsed().as_secs_f64() * 1000.0);
                if again != values {
                    return Err(format!("report {n}: the isolated reader read other values"));
                }
            }
        }
        let expected: Vec<Expected> =
            f.values.iter().map(|t| Expected { name: t.name.clone(), value: t.value.clone(), unit: t.unit.clone(), low: t.low, high: t.high }).collect();
        let (right, wrong) = score(&values, &expected);
        let slot = by_layout.iter_mut().find(|l| l.layout == f.layout).ok_or("unknown layout")?;
        slot.values += expected.len();
        slot.correct += right;
        for (e, got) in wrong {
            if failures.len() < 50 {
                failures.push(format!(
                    "report {n} ({}): expected {} = {} {} [{:?}–{:?}], read {}",
                    f.layout,
                    e.name,
                    e.value,
                    e.unit,
                    e.low,
                    e.high,
                    got.map(|g| format!(
                        "{} = {:?}{:?} {:?} [{:?}–{:?}] from “{}”",
                        g.printed_name,
                        g.qualifier,
                        g.value.map(|v| v.to_string()).or(g.text_value.clone()),
                        g.unit,
                        g.low,
                        g.high,
                        g.raw.replace('\n', " / ")
                    ))
                    .unwrap_or_else(|| "nothing".into())
                ));
            }
        }
    }
    times.sort_by(f64::total_cmp);
    two_page.sort_by(f64::total_cmp);
    two_page_isolated.sort_by(f64::total_cmp);
    let values: usize = by_layout.iter().map(|l| l.values).sum();
    let correct: usize = by_layout.iter().map(|l| l.correct).sum();
    Ok(BenchReport {
        reports: fixtures.len(),
        values,
        correct,
        accuracy: correct as f64 / values.max(1) as f64,
        p50_ms: percentile(&times, 0.5),
        p95_ms: percentile(&times, 0.95),
        p50_ms_two_page: percentile(&two_page, 0.5),
        p50_ms_two_page_isolated: isolated.map(|_| percentile(&two_page_isolated, 0.5)),
        by_layout,
        failures,
    })
}
