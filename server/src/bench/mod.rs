//! `precedent bench …`: numbers printed as tables and, with `--json`, one JSON line last.
//! `encoders` (here): encode latency on one thread; `ann`, `pgvector`, `http`: the search engine;
//! `load`: a separate server process under many concurrent connections.
pub mod ann;
pub mod http;
pub mod load;
pub mod pgvector;

use precedent_encoders::Encoders;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct Latency {
    pub n: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub mean_ms: f64,
}

/// A vector as text: `[0.1,0.2]` for pgvector, `{0.1,0.2}` for a Postgres array (`COPY`).
pub(crate) fn vector_text(v: &[f32], open: char, close: char) -> String {
    let mut s = String::with_capacity(v.len() * 11 + 2);
    s.push(open);
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&x.to_string());
    }
    s.push(close);
    s
}

/// Resident memory in MB (10^6 bytes) of `/proc/<proc>` — `self` or a process id — 0 when unknown.
pub fn rss_mb_of(proc: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{proc}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<f64>().ok()))
        .map(|pages| pages * 4096.0 / 1e6)
        .unwrap_or(0.0)
}

/// The `q` quantile (nearest rank) of ascending `sorted` samples; 0 when there are none.
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0).max(0.0) * q).round() as usize).copied().unwrap_or(0.0)
}

pub(crate) fn latency(mut samples: Vec<f64>) -> Latency {
    if samples.is_empty() {
        return Latency { n: 0, p50_ms: 0.0, p95_ms: 0.0, mean_ms: 0.0 };
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| percentile(&samples, q);
    Latency { n: samples.len(), p50_ms: at(0.5), p95_ms: at(0.95), mean_ms: samples.iter().sum::<f64>() / samples.len() as f64 }
}

#[derive(Debug, Serialize)]
pub struct EncoderBench {
    pub threads: usize,
    pub text_model: String,
    pub text_short_query: Latency,
    pub text_case_note: Latency,
    pub image_model: Option<String>,
    /// Decode + preprocess + encode of a 512 × 512 PNG.
    pub image_512px: Option<Latency>,
}

/// Times the encoders on synthetic inputs (`runs` each, after a warm-up).
pub fn encoders(enc: &Encoders, runs: usize, threads: usize) -> Result<EncoderBench, precedent_encoders::EncodeError> {
    let queries = ["fever and productive cough", "sudden right-sided weakness", "knee pain at night", "flank pain with haematuria"];
    let cases = precedent_synth::generate(3, 8);
    let notes: Vec<String> = cases.iter().map(|c| format!("{}\n{}\n{}", c.history, c.exam, c.findings)).collect();
    let time = |f: &mut dyn FnMut(usize) -> Result<(), precedent_encoders::EncodeError>| -> Result<Latency, precedent_encoders::EncodeError> {
        for i in 0..5 {
            f(i)?;
        }
        let mut s = Vec::with_capacity(runs);
        for i in 0..runs {
            let t = Instant::now();
            f(i)?;
            s.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(latency(s))
    };
    let short = time(&mut |i| enc.text.encode(&[queries[i % queries.len()]]).map(|_| ()))?;
    let note = time(&mut |i| enc.text.encode(&[notes[i % notes.len()].as_str()]).map(|_| ()))?;
    let image = match &enc.image {
        Some(ie) => {
            let pngs: Vec<Vec<u8>> = cases
                .iter()
                .take(4)
                .map(|c| {
                    let img = image::load_from_memory(&c.images[0].png).map(|i| i.resize_exact(512, 512, image::imageops::FilterType::Triangle));
                    let mut out = Vec::new();
                    if let Ok(img) = img {
                        let _ = img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png);
                    }
                    out
                })
                .collect();
            Some(time(&mut |i| ie.encode_bytes(&pngs[i % pngs.len()]).map(|_| ()))?)
        }
        None => None,
    };
    Ok(EncoderBench {
        threads,
        text_model: enc.text.spec().model_id(),
        text_short_query: short,
        text_case_note: note,
        image_model: enc.image.as_ref().map(|i| i.spec().model_id()),
        image_512px: image,
    })
}
