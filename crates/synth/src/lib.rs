//! Deterministic synthetic cases with known labels, for the demo, tests and scale benchmarks.
//!
//! `generate(seed, n)` always returns the same cases for the same arguments. Each case comes
//! from one of a fixed set of conditions (its label: diagnosis, body region, topic, modality);
//! its images are scan-like grey-scale pictures of the region with the condition's finding
//! planted at a random place, its text is assembled from the condition's phrases, and its lab
//! report is a real PDF whose values carry the condition's abnormalities.
pub mod labfix;
pub mod pdf;

use image::{DynamicImage, GrayImage, ImageFormat, Luma};
use precedent_types::Modality;
use std::io::Cursor;

/// A small, fast, well-mixed deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f32()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// Approximately normal (sum of uniforms).
    pub fn normal(&mut self) -> f32 {
        (0..6).map(|_| self.f32()).sum::<f32>() - 3.0
    }
}

/// The anatomical backdrop drawn for a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Brain,
    Chest,
    Abdomen,
    Spine,
    Limb,
}

impl Region {
    pub fn label(self) -> &'static str {
        match self {
            Region::Brain => "Head and neck",
            Region::Chest => "Thorax",
            Region::Abdomen => "Abdomen",
            Region::Spine => "Spine and muscles",
            Region::Limb => "Extremities",
        }
    }
}

/// What is planted in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    BrightMass,
    RingLesion,
    DarkWedge,
    Consolidation,
    AirCrescent,
    BrightDot,
    CorticalBreak,
    Bulge,
}

/// A lab abnormality typical of a condition: analyte index and how many SDs off normal.
type LabShift = (&'static str, f32);

/// One condition: the label every case generated from it carries.
pub struct Condition {
    pub diagnosis: &'static str,
    pub topic: &'static str,
    pub region: Region,
    pub modality: Modality,
    pub finding: Finding,
    pub complaints: &'static [&'static str],
    pub exam: &'static [&'static str],
    pub findings_text: &'static [&'static str],
    pub labs: &'static [LabShift],
}

pub const CONDITIONS: &[Condition] = &[
    Condition {
        diagnosis: "Acute appendicitis",
        topic: "Inflammation",
        region: Region::Abdomen,
        modality: Modality::Ct,
        finding: Finding::BrightDot,
        complaints: &["periumbilical pain migrating to the right lower quadrant", "right lower abdominal pain with nausea and anorexia", "fever and right iliac fossa pain since yesterday"],
        exam: &["tenderness at McBurney's point with guarding", "rebound tenderness in the right lower quadrant", "positive Rovsing sign, low-grade fever"],
        findings_text: &["dilated appendix with periappendiceal fat stranding", "appendicolith with thickened enhancing appendiceal wall"],
        labs: &[("WBC", 3.0), ("CRP", 3.5), ("Neutrophils", 2.5)],
    },
    Condition {
        diagnosis: "Ischaemic stroke, left MCA territory",
        topic: "Vascular",
        region: Region::Brain,
        modality: Modality::Mr,
        finding: Finding::DarkWedge,
        complaints: &["sudden right-sided weakness and slurred speech", "acute onset aphasia and right arm weakness", "woke with right facial droop and difficulty speaking"],
        exam: &["right hemiparesis and expressive aphasia", "right facial droop, pronator drift of the right arm", "NIHSS 12, right hemianopia"],
        findings_text: &["restricted diffusion in the left MCA territory", "wedge-shaped cortical infarct in the left frontoparietal lobe"],
        labs: &[("Glucose", 1.5), ("Cholesterol", 2.0), ("LDL", 2.0)],
    },
    Condition {
        diagnosis: "Glioblastoma",
        topic: "Neoplasm, brain",
        region: Region::Brain,
        modality: Modality::Mr,
        finding: Finding::RingLesion,
        complaints: &["progressive headaches and personality change over weeks", "new-onset seizure and morning headaches", "worsening confusion and left-sided weakness"],
        exam: &["papilloedema and mild left hemiparesis", "disorientation, left pronator drift", "no focal deficit, bilateral papilloedema"],
        findings_text: &["ring-enhancing mass with central necrosis and surrounding oedema", "heterogeneous enhancing mass crossing the corpus callosum"],
        labs: &[],
    },
    Condition {
        diagnosis: "Community-acquired pneumonia",
        topic: "Infection",
        region: Region::Chest,
        modality: Modality::Xray,
        finding: Finding::Consolidation,
        complaints: &["productive cough, fever and pleuritic chest pain", "three days of fever, rigors and cough with rusty sputum", "shortness of breath and fever with green sputum"],
        exam: &["bronchial breathing and crackles at the right base", "dullness to percussion at the right lower zone", "tachypnoea, oxygen saturation 91% on air, coarse crackles"],
        findings_text: &["lobar consolidation with air bronchograms in the right lower lobe", "patchy airspace opacity in the right lower zone"],
        labs: &[("WBC", 2.5), ("CRP", 4.0), ("Neutrophils", 2.5)],
    },
    Condition {
        diagnosis: "Spontaneous pneumothorax",
        topic: "Trauma and air",
        region: Region::Chest,
        modality: Modality::Xray,
        finding: Finding::AirCrescent,
        complaints: &["sudden sharp left chest pain and breathlessness", "acute pleuritic pain and dyspnoea in a tall young smoker", "sudden breathlessness while at rest"],
        exam: &["reduced breath sounds and hyper-resonance on the left", "absent breath sounds over the left apex", "tachycardia with reduced chest expansion on the left"],
        findings_text: &["visible pleural line with absent lung markings peripherally", "left apical pneumothorax without mediastinal shift"],
        labs: &[],
    },
    Condition {
        diagnosis: "Pulmonary embolism",
        topic: "Vascular",
        region: Region::Chest,
        modality: Modality::Ct,
        finding: Finding::BrightMass,
        complaints: &["sudden dyspnoea and pleuritic chest pain after a long flight", "breathlessness and haemoptysis ten days after knee surgery", "syncope with acute shortness of breath"],
        exam: &["tachycardia, tachypnoea and a swollen left calf", "hypoxia with clear lungs on auscultation", "raised jugular venous pressure, heart rate 118"],
        findings_text: &["filling defects in the segmental pulmonary arteries", "saddle embolus with right ventricular strain"],
        labs: &[("D-dimer", 4.0), ("Troponin I", 2.0)],
    },
    Condition {
        diagnosis: "Renal calculus with obstruction",
        topic: "Calculi",
        region: Region::Abdomen,
        modality: Modality::Ct,
        finding: Finding::BrightDot,
        complaints: &["colicky left flank pain radiating to the groin", "severe intermittent loin pain with haematuria", "writhing flank pain and vomiting"],
        exam: &["left renal angle tenderness, unable to lie still", "costovertebral angle tenderness, afebrile", "microscopic haematuria on dipstick"],
        findings_text: &["obstructing calculus at the left vesicoureteric junction with hydronephrosis", "dense calculus in the proximal ureter with perinephric stranding"],
        labs: &[("Creatinine", 2.0), ("Urea", 1.5)],
    },
    Condition {
        diagnosis: "Hepatocellular carcinoma",
        topic: "Neoplasm, abdomen",
        region: Region::Abdomen,
        modality: Modality::Ct,
        finding: Finding::BrightMass,
        complaints: &["weight loss and right upper quadrant discomfort in a patient with cirrhosis", "abdominal distension and early satiety, known hepatitis B", "fatigue, jaundice and weight loss"],
        exam: &["hepatomegaly with an irregular liver edge", "ascites and palmar erythema", "jaundice with a palpable liver mass"],
        findings_text: &["arterially enhancing liver mass with washout on portal venous phase", "large heterogeneous hepatic mass with portal vein thrombus"],
        labs: &[("ALT", 2.5), ("AST", 3.0), ("Bilirubin", 2.5), ("Albumin", -2.0)],
    },
    Condition {
        diagnosis: "Lumbar disc herniation",
        topic: "Degenerative",
        region: Region::Spine,
        modality: Modality::Mr,
        finding: Finding::Bulge,
        complaints: &["low back pain radiating down the left leg", "sciatica with numbness of the lateral foot", "back pain after lifting, shooting pain below the knee"],
        exam: &["positive straight leg raise at 40 degrees on the left", "reduced ankle reflex and weak plantar flexion", "paraspinal spasm and dermatomal sensory loss"],
        findings_text: &["posterolateral disc extrusion at L5-S1 compressing the S1 root", "broad-based disc protrusion at L4-L5 with canal narrowing"],
        labs: &[],
    },
    Condition {
        diagnosis: "Osteosarcoma of the distal femur",
        topic: "Neoplasm, bone",
        region: Region::Limb,
        modality: Modality::Xray,
        finding: Finding::CorticalBreak,
        complaints: &["knee pain worse at night in a teenager", "painful swelling above the knee for two months", "limp and thigh pain without trauma"],
        exam: &["firm tender mass at the distal thigh", "warm swelling above the knee with reduced flexion", "palpable bony mass, normal distal pulses"],
        findings_text: &["aggressive metaphyseal lesion with sunburst periosteal reaction", "mixed lytic-sclerotic lesion with Codman triangle"],
        labs: &[("Alkaline phosphatase", 3.0), ("LDH", 2.0)],
    },
];

/// One analyte on the synthetic lab report, with its normal range.
pub struct Analyte {
    pub name: &'static str,
    pub unit: &'static str,
    pub low: f32,
    pub high: f32,
    pub decimals: usize,
    pub panel: &'static str,
}

pub const ANALYTES: &[Analyte] = &[
    Analyte { name: "Haemoglobin", unit: "g/dL", low: 12.0, high: 16.0, decimals: 1, panel: "Full blood count" },
    Analyte { name: "WBC", unit: "x10^9/L", low: 4.0, high: 11.0, decimals: 1, panel: "Full blood count" },
    Analyte { name: "Neutrophils", unit: "x10^9/L", low: 2.0, high: 7.5, decimals: 1, panel: "Full blood count" },
    Analyte { name: "Platelets", unit: "x10^9/L", low: 150.0, high: 400.0, decimals: 0, panel: "Full blood count" },
    Analyte { name: "Sodium", unit: "mmol/L", low: 135.0, high: 145.0, decimals: 0, panel: "Biochemistry" },
    Analyte { name: "Potassium", unit: "mmol/L", low: 3.5, high: 5.1, decimals: 1, panel: "Biochemistry" },
    Analyte { name: "Urea", unit: "mmol/L", low: 2.5, high: 7.8, decimals: 1, panel: "Biochemistry" },
    Analyte { name: "Creatinine", unit: "umol/L", low: 60.0, high: 110.0, decimals: 0, panel: "Biochemistry" },
    Analyte { name: "Glucose", unit: "mmol/L", low: 3.9, high: 7.8, decimals: 1, panel: "Biochemistry" },
    Analyte { name: "CRP", unit: "mg/L", low: 0.0, high: 5.0, decimals: 0, panel: "Biochemistry" },
    Analyte { name: "ALT", unit: "U/L", low: 7.0, high: 56.0, decimals: 0, panel: "Liver panel" },
    Analyte { name: "AST", unit: "U/L", low: 10.0, high: 40.0, decimals: 0, panel: "Liver panel" },
    Analyte { name: "Alkaline phosphatase", unit: "U/L", low: 44.0, high: 147.0, decimals: 0, panel: "Liver panel" },
    Analyte { name: "Bilirubin", unit: "umol/L", low: 3.0, high: 21.0, decimals: 0, panel: "Liver panel" },
    Analyte { name: "Albumin", unit: "g/L", low: 35.0, high: 50.0, decimals: 0, panel: "Liver panel" },
    Analyte { name: "Cholesterol", unit: "mmol/L", low: 0.0, high: 5.2, decimals: 1, panel: "Lipids" },
    Analyte { name: "LDL", unit: "mmol/L", low: 0.0, high: 3.0, decimals: 1, panel: "Lipids" },
    Analyte { name: "LDH", unit: "U/L", low: 140.0, high: 280.0, decimals: 0, panel: "Other" },
    Analyte { name: "D-dimer", unit: "mg/L FEU", low: 0.0, high: 0.5, decimals: 2, panel: "Coagulation" },
    Analyte { name: "Troponin I", unit: "ng/L", low: 0.0, high: 34.0, decimals: 0, panel: "Cardiac" },
];

/// The truth for one printed lab value.
#[derive(Debug, Clone, PartialEq)]
pub struct LabValue {
    pub analyte: &'static str,
    pub value: f32,
    pub printed: String,
    pub unit: &'static str,
    pub low: f32,
    pub high: f32,
    pub flag: Option<char>,
}

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
            DynamicImage::ImageLuma8(img)
                .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
                .expect("PNG encoding into memory cannot fail");
            SynthImage {
                filename: format!("synth-{index:06}-{k}.png"),
                png,
                modality: c.modality,
                plane,
                caption: format!("{} {} of the {}", c.modality.label(), plane.to_lowercase(), c.region.label().to_lowercase()),
            }
        })
        .collect();
    let lab_values = lab_values(&mut rng, c);
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
            DynamicImage::ImageLuma8(img)
                .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
                .expect("PNG encoding into memory cannot fail");
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

fn lab_values(rng: &mut Rng, c: &Condition) -> Vec<LabValue> {
    ANALYTES
        .iter()
        .map(|a| {
            let mid = (a.low + a.high) / 2.0;
            let sd = (a.high - a.low) / 4.0;
            let shift = c.labs.iter().find(|(n, _)| *n == a.name).map(|(_, s)| *s).unwrap_or(0.0);
            let mut v = mid + sd * (0.6 * rng.normal() + shift * rng.range(0.8, 1.3));
            if v < 0.0 {
                v = a.low.max(0.0) + sd * 0.1;
            }
            let printed = format!("{:.*}", a.decimals, v);
            let value: f32 = printed.parse().unwrap_or(v);
            let flag = if value > a.high {
                Some('H')
            } else if value < a.low {
                Some('L')
            } else {
                None
            };
            LabValue { analyte: a.name, value, printed, unit: a.unit, low: a.low, high: a.high, flag }
        })
        .collect()
}

fn fmt_range(low: f32, high: f32, decimals: usize) -> String {
    if low <= 0.0 {
        format!("< {:.*}", decimals, high)
    } else {
        format!("{:.*} - {:.*}", decimals, low, decimals, high)
    }
}

/// A lab report PDF in one of a few layouts, panels as headings.
pub fn lab_report_pdf(key: &str, age: i32, sex: &str, values: &[LabValue], layout: usize) -> Vec<u8> {
    let mut w = pdf::PdfWriter::new().title("Laboratory report");
    let mut page = pdf::Page::default();
    let mut y = 790.0;
    page.text(50.0, y, 16.0, true, "Precedent Demo Laboratory");
    y -= 20.0;
    page.text(50.0, y, 9.0, false, &format!("Patient ref: {key}   Age: {age}   Sex: {sex}   Collected: 2026-03-{:02}", 1 + key.len() % 27));
    y -= 14.0;
    page.rule(50.0, 545.0, y);
    y -= 18.0;
    let cols: [f32; 5] = match layout {
        0 => [50.0, 220.0, 290.0, 380.0, 500.0],
        1 => [60.0, 250.0, 320.0, 410.0, 520.0],
        _ => [50.0, 200.0, 260.0, 360.0, 480.0],
    };
    let mut panel = "";
    for v in values {
        let a = ANALYTES.iter().find(|a| a.name == v.analyte).expect("values come from ANALYTES");
        if a.panel != panel {
            panel = a.panel;
            y -= 6.0;
            page.text(cols[0], y, 11.0, true, panel);
            y -= 14.0;
            for (x, h) in cols.iter().zip(["Test", "Result", "Units", "Reference range", "Flag"]) {
                page.text(*x, y, 8.0, true, h);
            }
            y -= 13.0;
        }
        page.text(cols[0], y, 10.0, false, v.analyte);
        page.text(cols[1], y, 10.0, v.flag.is_some(), &v.printed);
        page.text(cols[2], y, 10.0, false, v.unit);
        page.text(cols[3], y, 10.0, false, &fmt_range(v.low, v.high, a.decimals));
        if let Some(f) = v.flag {
            page.text(cols[4], y, 10.0, true, &f.to_string());
        }
        y -= 14.0;
        if y < 80.0 {
            *w.page() = std::mem::take(&mut page);
            y = 790.0;
        }
    }
    page.text(50.0, 50.0, 8.0, false, "Synthetic report generated for demonstration; not a real patient.");
    *w.page() = page;
    w.finish()
}

/// A 256×256 grey-scale scan-like image of `region` with `finding` planted at a random place.
pub fn render_scan(rng: &mut Rng, region: Region, finding: Finding) -> GrayImage {
    const S: u32 = 256;
    let mut img = GrayImage::new(S, S);
    let noise_seed = rng.next_u64();
    let cx = S as f32 / 2.0 + rng.range(-8.0, 8.0);
    let cy = S as f32 / 2.0 + rng.range(-8.0, 8.0);
    // Where the finding sits, in the region's tissue.
    let (fx, fy) = (cx + rng.range(-40.0, 40.0), cy + rng.range(-40.0, 40.0));
    let fr = rng.range(10.0, 22.0);
    let angle = rng.range(0.0, std::f32::consts::TAU);
    let mut noise = Rng::new(noise_seed);
    for y in 0..S {
        for x in 0..S {
            let (xf, yf) = (x as f32, y as f32);
            let mut v = backdrop(region, xf - cx, yf - cy);
            v += plant(finding, xf - fx, yf - fy, fr, angle, v);
            v += noise.normal() * 6.0;
            img.put_pixel(x, y, Luma([v.clamp(0.0, 255.0) as u8]));
        }
    }
    img
}

fn ellipse(dx: f32, dy: f32, rx: f32, ry: f32) -> f32 {
    (dx / rx).powi(2) + (dy / ry).powi(2)
}

fn backdrop(region: Region, dx: f32, dy: f32) -> f32 {
    match region {
        Region::Brain => {
            let e = ellipse(dx, dy, 100.0, 118.0);
            if e > 1.0 {
                5.0
            } else if e > 0.85 {
                230.0 // skull
            } else {
                95.0 + 25.0 * ((dx * 0.08).sin() * (dy * 0.05).cos()).abs() // grey/white matter
            }
        }
        Region::Chest => {
            let body = ellipse(dx, dy, 120.0, 100.0);
            let left = ellipse(dx + 50.0, dy + 5.0, 42.0, 75.0);
            let right = ellipse(dx - 50.0, dy + 5.0, 42.0, 75.0);
            if body > 1.0 {
                5.0
            } else if left < 1.0 || right < 1.0 {
                30.0 + 10.0 * ((dx * 0.3).sin() * (dy * 0.3).sin()).abs() // aerated lung
            } else if dx.abs() < 12.0 {
                200.0 // spine / mediastinum
            } else {
                120.0
            }
        }
        Region::Abdomen => {
            let body = ellipse(dx, dy, 118.0, 95.0);
            if body > 1.0 {
                5.0
            } else if ellipse(dx + 45.0, dy + 20.0, 45.0, 35.0) < 1.0 {
                140.0 // liver
            } else if ellipse(dx, dy - 55.0, 14.0, 14.0) < 1.0 {
                220.0 // vertebral body
            } else if ellipse(dx - 60.0, dy - 30.0, 16.0, 24.0) < 1.0 || ellipse(dx + 60.0, dy - 30.0, 16.0, 24.0) < 1.0 {
                150.0 // kidneys
            } else {
                100.0 + 20.0 * ((dx * 0.15).sin() + (dy * 0.12).cos()) // bowel
            }
        }
        Region::Spine => {
            if dx.abs() > 70.0 {
                20.0
            } else if dx.abs() < 22.0 {
                let seg = (dy + 128.0) % 40.0;
                if seg < 30.0 {
                    170.0 // vertebral bodies
                } else {
                    90.0 // discs
                }
            } else if dx > 22.0 && dx < 36.0 {
                60.0 // canal
            } else {
                110.0
            }
        }
        Region::Limb => {
            if dx.abs() > 60.0 {
                10.0
            } else if dx.abs() > 26.0 {
                90.0 // soft tissue
            } else if dx.abs() > 14.0 {
                235.0 // cortex
            } else {
                150.0 // medulla
            }
        }
    }
}

fn plant(finding: Finding, dx: f32, dy: f32, r: f32, angle: f32, base: f32) -> f32 {
    let d = (dx * dx + dy * dy).sqrt();
    match finding {
        Finding::BrightMass => {
            if d < r {
                90.0 * (1.0 - (d / r).powi(2))
            } else {
                0.0
            }
        }
        Finding::RingLesion => {
            if (d - r).abs() < 3.5 {
                110.0
            } else if d < r {
                -35.0
            } else if d < r * 1.8 {
                -15.0 // oedema
            } else {
                0.0
            }
        }
        Finding::DarkWedge => {
            let a = dy.atan2(dx) - angle;
            let a = (a + std::f32::consts::PI).rem_euclid(std::f32::consts::TAU) - std::f32::consts::PI;
            if a.abs() < 0.45 && d < r * 3.0 {
                -45.0
            } else {
                0.0
            }
        }
        Finding::Consolidation => {
            if d < r * 1.8 {
                (120.0 - base).max(0.0) * (1.0 - d / (r * 1.8))
            } else {
                0.0
            }
        }
        Finding::AirCrescent => {
            if d < r * 2.6 && d > r * 1.6 && dx * angle.cos() + dy * angle.sin() > 0.0 {
                -(base - 8.0).max(0.0)
            } else {
                0.0
            }
        }
        Finding::BrightDot => {
            if d < r * 0.45 {
                140.0
            } else if d < r {
                25.0
            } else {
                0.0
            }
        }
        Finding::CorticalBreak => {
            if d < r * 1.5 {
                if ((dx * 0.9).sin() * (dy * 0.9).cos()) > 0.2 {
                    60.0
                } else {
                    -40.0
                }
            } else {
                0.0
            }
        }
        Finding::Bulge => {
            if ellipse(dx, dy, r * 1.2, r * 0.6) < 1.0 {
                -50.0
            } else {
                0.0
            }
        }
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
