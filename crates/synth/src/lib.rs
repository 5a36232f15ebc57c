//! Deterministic synthetic cases with known labels, for the demo, tests and scale benchmarks.
//!
//! `generate(seed, n)` always returns the same cases for the same arguments. Each case comes
//! from one of a fixed set of conditions ([`CONDITIONS`]: its label — diagnosis, body region,
//! topic, modality); its images are scan-like grey-scale pictures of the region with the
//! condition's finding planted at a random place ([`render_scan`]), its text is assembled from
//! the condition's phrases, and its lab report is a real PDF whose values carry the condition's
//! abnormalities ([`lab_report_pdf`], written with the small [`pdf`] writer). [`labfix`] makes
//! lab-report fixtures in many layouts for the report parser.
mod conditions;
mod lab_report;
pub mod labfix;
pub mod pdf;
mod rng;
mod scan;

pub use conditions::{Condition, Finding, Region, CONDITIONS};
pub use lab_report::{lab_report_pdf, Analyte, LabValue, ANALYTES};
pub use rng::Rng;
pub use scan::render_scan;

use image::{DynamicImage, GrayImage, ImageFormat};
use precedent_types::Modality;
use std::io::Cursor;

#[derive(Debug, Clone)]
pub struct SynthImage {
    pub filename: String,
    pub png: Vec<u8>,
    pub modality: Modality,
    pub plane: &'static str,
    pub caption: String,
}

/// A generated case and its known labels.
#[derive(Debug, Clone)]
pub struct SynthCase {
    pub key: String,
    pub condition: usize,
    pub diagnosis: &'static str,
    pub topic: &'static str,
    pub region: Region,
    pub modality: Modality,
    pub title: String,
    pub history: String,
    pub exam: String,
    pub findings: String,
    pub age: i32,
    pub sex: &'static str,
    pub images: Vec<SynthImage>,
    pub lab_values: Vec<LabValue>,
    pub lab_pdf: Option<Vec<u8>>,
}

/// `n` cases from `seed`; case `i` is the same whatever `n` is.
pub fn generate(seed: u64, n: usize) -> Vec<SynthCase> {
    (0..n).map(|i| generate_one(seed, i)).collect()
}

/// Case number `index` of the stream for `seed`.
pub fn generate_one(seed: u64, index: usize) -> SynthCase {
    let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(index as u64));
    let condition = index % CONDITIONS.len();
    let c = &CONDITIONS[condition];
    let age = match c.region {
        Region::Limb => 12 + rng.below(10) as i32,
        _ => 25 + rng.below(60) as i32,
    };
    let sex = if rng.below(2) == 0 { "F" } else { "M" };
    let sex_word = if sex == "F" { "woman" } else { "man" };
    let days = 1 + rng.below(20);
    let history = format!(
        "{age}-year-old {sex_word} with {} for {days} day{}. {}",
        rng.pick(c.complaints),
        if days == 1 { "" } else { "s" },
        rng.pick(&["No relevant past history.", "Past history of hypertension.", "Non-smoker, no regular medication.", "Type 2 diabetes on metformin."]),
    );
    let exam = format!("On examination: {}.", rng.pick(c.exam));
    let findings = format!("{}.", capitalise(*rng.pick(c.findings_text)));
    let n_images = 1 + rng.below(2);
    let images = (0..n_images)
        .map(|k| {
            let plane = match (c.modality, k) {
                (Modality::Xray, 0) => "Frontal",
                (Modality::Xray, _) => "Lateral",
                (_, 0) => "Axial",
                _ => "Coronal",
            };
            let img = render_scan(&mut rng, c.region, c.finding);
            let mut png = Vec::new();
            DynamicImage::ImageLuma8(img).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).expect("PNG encoding into memory cannot fail");
            SynthImage {
                filename: format!("synth-{index:06}-{k}.png"),
                png,
                modality: c.modality,
                plane,
                caption: format!("{} {} of the {}", c.modality.label(), plane.to_lowercase(), c.region.label().to_lowercase()),
            }
        })
        .collect();
    let lab_values = lab_report::lab_values(&mut rng, c);
    let key = format!("synth-{seed}-{index:06}");
    let lab_pdf = Some(lab_report_pdf(&key, age, sex, &lab_values, rng.below(3)));
    SynthCase {
        key,
        condition,
        diagnosis: c.diagnosis,
        topic: c.topic,
        region: c.region,
        modality: c.modality,
        title: format!("{} — {}", capitalise(c.complaints[0].split(" and ").next().unwrap_or(c.complaints[0])), c.region.label()),
        history,
        exam,
        findings,
        age,
        sex,
        images,
        lab_values,
        lab_pdf,
    }
}

/// A near-duplicate of `c` (a re-scan and a re-worded note of the same patient): the same text
/// with a different title and one sentence added, and each image re-encoded with fresh
/// low-level noise and a small brightness change. Search must rank it first for `c`.
pub fn near_duplicate(c: &SynthCase, seed: u64) -> SynthCase {
    let mut rng = Rng::new(seed ^ 0x5eed_d0b1e);
    let mut d = c.clone();
    d.key = format!("{}-dup", c.key);
    d.title = format!("Follow-up: {}", c.title);
    d.history = format!("{} Re-presented for review.", c.history);
    d.images = c
        .images
        .iter()
        .enumerate()
        .map(|(k, im)| {
            let mut img = image::load_from_memory(&im.png).map(|i| i.to_luma8()).unwrap_or_else(|_| GrayImage::new(8, 8));
            let shift = rng.range(-6.0, 6.0);
            for p in img.pixels_mut() {
                p.0[0] = (p.0[0] as f32 + shift + rng.normal() * 3.0).clamp(0.0, 255.0) as u8;
            }
            let mut png = Vec::new();
            DynamicImage::ImageLuma8(img).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).expect("PNG encoding into memory cannot fail");
            SynthImage { filename: format!("{}-dup-{k}.png", d.key), png, ..im.clone() }
        })
        .collect();
    d
}

fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().collect::<String>() + cs.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_labelled() {
        let a = generate(42, 12);
        let b = generate(42, 12);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.history, y.history);
            assert_eq!(x.images[0].png, y.images[0].png);
            assert_eq!(x.lab_pdf, y.lab_pdf);
        }
        assert_ne!(generate(43, 1)[0].history, a[0].history);
        // Each condition appears, and labels follow the condition table.
        for (i, c) in a.iter().enumerate() {
            assert_eq!(c.diagnosis, CONDITIONS[i % CONDITIONS.len()].diagnosis);
            assert!(!c.images.is_empty());
            let img = image::load_from_memory(&c.images[0].png).unwrap();
            assert_eq!((img.width(), img.height()), (256, 256));
        }
        // Case i does not depend on n.
        assert_eq!(generate(42, 3)[2].history, a[2].history);
    }

    #[test]
    fn labs_carry_the_conditions_abnormalities() {
        // Pneumonia: raised CRP.
        let c = generate_one(1, 3);
        assert_eq!(c.diagnosis, "Community-acquired pneumonia");
        let crp = c.lab_values.iter().find(|v| v.analyte == "CRP").unwrap();
        assert_eq!(crp.flag, Some('H'));
        let pdf = c.lab_pdf.unwrap();
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
    }
}
