//! Lab-report PDF fixtures in many layouts, each with the truth for every printed value, for
//! testing and benchmarking the lab parser (`precedent labs bench`). The test table here is
//! deliberately independent of the parser's analyte catalog: names, abbreviations and units
//! are what reports print.
use crate::pdf::{Page, PdfWriter};
use crate::rng::Rng;

/// One test as reports print it.
struct Spec {
    names: &'static [&'static str],
    /// (unit, low, high, decimals); low 0 prints as "< high".
    units: &'static [(&'static str, f64, f64, usize)],
    panel: &'static str,
    /// Urinalysis-style words instead of numbers.
    qualitative: bool,
}

const fn s(names: &'static [&'static str], units: &'static [(&'static str, f64, f64, usize)], panel: &'static str) -> Spec {
    Spec { names, units, panel, qualitative: false }
}

const SPECS: &[Spec] = &[
    s(&["Haemoglobin", "Hemoglobin", "Hb", "HGB"], &[("g/dL", 12.0, 16.0, 1), ("g/L", 120.0, 160.0, 0)], "Full blood count"),
    s(&["Haematocrit", "HCT"], &[("%", 36.0, 46.0, 1), ("L/L", 0.36, 0.46, 2)], "Full blood count"),
    s(&["RBC", "Red cell count"], &[("x10^12/L", 3.8, 5.2, 2), ("x10^6/uL", 3.8, 5.2, 2)], "Full blood count"),
    s(&["WBC", "White cell count", "Leucocytes"], &[("x10^9/L", 4.0, 11.0, 1), ("x10^3/uL", 4.0, 11.0, 1)], "Full blood count"),
    s(&["Platelets", "Platelet count", "PLT"], &[("x10^9/L", 150.0, 400.0, 0), ("x10^3/uL", 150.0, 400.0, 0)], "Full blood count"),
    s(&["MCV", "Mean cell volume"], &[("fL", 80.0, 100.0, 1)], "Full blood count"),
    s(&["MCH"], &[("pg", 27.0, 33.0, 1)], "Full blood count"),
    s(&["Neutrophils", "Neutrophil count"], &[("x10^9/L", 2.0, 7.5, 2)], "Full blood count"),
    s(&["Lymphocytes", "Lymphocyte count"], &[("x10^9/L", 1.0, 4.0, 2)], "Full blood count"),
    s(&["Monocytes"], &[("x10^9/L", 0.2, 1.0, 2)], "Full blood count"),
    s(&["Eosinophils"], &[("x10^9/L", 0.0, 0.5, 2)], "Full blood count"),
    s(&["Sodium", "Na"], &[("mmol/L", 135.0, 145.0, 0), ("mEq/L", 135.0, 145.0, 0)], "Biochemistry"),
    s(&["Potassium", "K"], &[("mmol/L", 3.5, 5.1, 1), ("mEq/L", 3.5, 5.1, 1)], "Biochemistry"),
    s(&["Chloride", "Cl"], &[("mmol/L", 98.0, 107.0, 0)], "Biochemistry"),
    s(&["Bicarbonate", "Total CO2"], &[("mmol/L", 22.0, 29.0, 0)], "Biochemistry"),
    s(&["Urea"], &[("mmol/L", 2.5, 7.8, 1)], "Biochemistry"),
    s(&["BUN", "Blood urea nitrogen"], &[("mg/dL", 7.0, 20.0, 0)], "Biochemistry"),
    s(&["Creatinine"], &[("umol/L", 60.0, 110.0, 0), ("mg/dL", 0.6, 1.2, 2), ("µmol/L", 60.0, 110.0, 0)], "Biochemistry"),
    s(&["Glucose", "Fasting glucose"], &[("mmol/L", 3.9, 5.5, 1), ("mg/dL", 70.0, 99.0, 0)], "Biochemistry"),
    s(&["Calcium"], &[("mmol/L", 2.15, 2.55, 2), ("mg/dL", 8.6, 10.2, 1)], "Biochemistry"),
    s(&["Magnesium"], &[("mmol/L", 0.7, 1.0, 2)], "Biochemistry"),
    s(&["Phosphate"], &[("mmol/L", 0.8, 1.5, 2)], "Biochemistry"),
    s(&["Uric acid", "Urate"], &[("umol/L", 200.0, 430.0, 0)], "Biochemistry"),
    s(&["Albumin"], &[("g/L", 35.0, 50.0, 0), ("g/dL", 3.5, 5.0, 1)], "Liver panel"),
    s(&["Total protein"], &[("g/L", 60.0, 80.0, 0)], "Liver panel"),
    s(&["ALT", "Alanine aminotransferase", "ALT (SGPT)"], &[("U/L", 7.0, 56.0, 0), ("IU/L", 7.0, 56.0, 0)], "Liver panel"),
    s(&["AST", "Aspartate aminotransferase"], &[("U/L", 10.0, 40.0, 0)], "Liver panel"),
    s(&["Alkaline phosphatase", "ALP", "Alk. phosphatase"], &[("U/L", 44.0, 147.0, 0)], "Liver panel"),
    s(&["Gamma glutamyl transferase", "GGT", "Gamma-GT"], &[("U/L", 0.0, 55.0, 0)], "Liver panel"),
    s(&["Total bilirubin", "Bilirubin"], &[("umol/L", 3.0, 21.0, 0), ("mg/dL", 0.2, 1.2, 1)], "Liver panel"),
    s(&["Lactate dehydrogenase", "LDH"], &[("U/L", 140.0, 280.0, 0)], "Liver panel"),
    s(&["Total cholesterol", "Cholesterol"], &[("mmol/L", 0.0, 5.2, 1), ("mg/dL", 0.0, 200.0, 0)], "Lipids"),
    s(&["HDL cholesterol", "HDL"], &[("mmol/L", 1.0, 3.0, 2)], "Lipids"),
    s(&["LDL cholesterol", "LDL-C"], &[("mmol/L", 0.0, 3.0, 1), ("mg/dL", 0.0, 100.0, 0)], "Lipids"),
    s(&["Triglycerides"], &[("mmol/L", 0.0, 1.7, 2)], "Lipids"),
    s(&["TSH", "Thyroid stimulating hormone"], &[("mIU/L", 0.4, 4.0, 2), ("uIU/mL", 0.4, 4.0, 2)], "Thyroid"),
    s(&["Free T4", "FT4"], &[("pmol/L", 12.0, 22.0, 1), ("ng/dL", 0.9, 1.7, 2)], "Thyroid"),
    s(&["HbA1c"], &[("mmol/mol", 20.0, 42.0, 0), ("%", 4.0, 5.6, 1)], "Diabetes"),
    s(&["CRP", "C-reactive protein"], &[("mg/L", 0.0, 5.0, 1)], "Inflammation"),
    s(&["ESR"], &[("mm/h", 0.0, 20.0, 0)], "Inflammation"),
    s(&["Prothrombin time", "PT"], &[("s", 11.0, 13.5, 1)], "Coagulation"),
    s(&["INR"], &[("", 0.8, 1.2, 2)], "Coagulation"),
    s(&["Activated partial thromboplastin time", "APTT"], &[("s", 25.0, 35.0, 1)], "Coagulation"),
    s(&["Fibrinogen"], &[("g/L", 2.0, 4.0, 1)], "Coagulation"),
    s(&["D-dimer"], &[("mg/L FEU", 0.0, 0.5, 2), ("ng/mL FEU", 0.0, 500.0, 0)], "Coagulation"),
    s(&["Troponin I", "hs Troponin I"], &[("ng/L", 0.0, 34.0, 0)], "Cardiac"),
    s(&["NT-proBNP"], &[("pg/mL", 0.0, 125.0, 0)], "Cardiac"),
    s(&["Ferritin"], &[("ug/L", 30.0, 300.0, 0), ("ng/mL", 30.0, 300.0, 0)], "Haematinics"),
    s(&["Vitamin B12", "B12"], &[("pmol/L", 150.0, 600.0, 0), ("pg/mL", 200.0, 900.0, 0)], "Haematinics"),
    s(&["Folate"], &[("ng/mL", 3.0, 20.0, 1)], "Haematinics"),
    s(&["Vitamin D", "25-OH Vitamin D"], &[("nmol/L", 50.0, 125.0, 0), ("ng/mL", 20.0, 50.0, 0)], "Vitamins"),
    s(&["eGFR"], &[("mL/min/1.73m2", 60.0, 0.0, 0)], "Biochemistry"),
    Spec { names: &["Urine protein", "Protein (urine)"], units: &[("", 0.0, 0.0, 0)], panel: "Urinalysis", qualitative: true },
    Spec { names: &["Urine glucose"], units: &[("", 0.0, 0.0, 0)], panel: "Urinalysis", qualitative: true },
    Spec { names: &["Ketones"], units: &[("", 0.0, 0.0, 0)], panel: "Urinalysis", qualitative: true },
    Spec { names: &["Nitrite"], units: &[("", 0.0, 0.0, 0)], panel: "Urinalysis", qualitative: true },
];

/// The truth for one printed value.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthValue {
    pub name: String,
    /// As printed, qualifier included ("<0.5", "12.3", "Negative").
    pub value: String,
    pub unit: String,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// `H`, `L` or `A` when the report prints a flag.
    pub flag: Option<char>,
    pub panel: &'static str,
}

/// One fixture report.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub layout: &'static str,
    pub pdf: Vec<u8>,
    pub values: Vec<TruthValue>,
    /// `YYYY-MM-DD`.
    pub collected: String,
}

/// The layouts, in order.
pub const LAYOUTS: &[&str] = &["single-table", "two-column", "wrapped-names", "units-in-value", "text-ranges", "multi-page-panels", "flags-first"];

fn fmt(v: f64, d: usize) -> String {
    format!("{v:.d$}")
}

fn truth_values(rng: &mut Rng, n: usize) -> Vec<TruthValue> {
    let mut idx: Vec<usize> = (0..SPECS.len()).collect();
    // A random subset in catalog order, so panels stay together.
    for i in (1..idx.len()).rev() {
        let j = rng.below(i + 1);
        idx.swap(i, j);
    }
    let mut chosen: Vec<usize> = idx.into_iter().take(n.min(SPECS.len())).collect();
    chosen.sort_unstable();
    chosen
        .into_iter()
        .map(|i| {
            let spec = &SPECS[i];
            let name = rng.pick(spec.names).to_string();
            if spec.qualitative {
                let v = *rng.pick(&["Negative", "Negative", "Trace", "1+", "2+", "Negative"]);
                return TruthValue {
                    name,
                    value: v.into(),
                    unit: String::new(),
                    low: None,
                    high: None,
                    flag: (v != "Negative").then_some('A'),
                    panel: spec.panel,
                };
            }
            let &(unit, low, high, d) = rng.pick(spec.units);
            let (lo, hi) = (if low > 0.0 { Some(low) } else { None }, if high > 0.0 { Some(high) } else { None });
            let span = hi.unwrap_or(low * 2.0) - lo.unwrap_or(0.0);
            let mid = lo.unwrap_or(0.0) + span / 2.0;
            let v = (mid + span * 0.45 * rng.normal() as f64).max(span * 0.02 + lo.unwrap_or(0.0) * 0.5);
            let mut printed = fmt(v, d);
            let value: f64 = printed.parse().unwrap_or(v);
            // Censored values: below detection, above the reportable range.
            let mut qualifier = "";
            if rng.below(9) == 0 {
                if hi.is_some() && lo.is_none() {
                    qualifier = "<";
                    printed = fmt((hi.unwrap_or(1.0) * 0.1).max(10f64.powi(-(d as i32))), d);
                } else if lo.is_some() && hi.is_none() {
                    qualifier = ">";
                    printed = fmt(lo.unwrap_or(1.0) * 1.5, d);
                }
            }
            let flag = if !qualifier.is_empty() {
                None
            } else if hi.is_some_and(|h| value > h) {
                Some('H')
            } else if lo.is_some_and(|l| value < l) {
                Some('L')
            } else {
                None
            };
            TruthValue { name, value: format!("{qualifier}{printed}"), unit: unit.into(), low: lo, high: hi, flag, panel: spec.panel }
        })
        .collect()
}

fn range_text(v: &TruthValue, with_words: bool, rng: &mut Rng) -> String {
    let d = |x: f64| {
        let s = format!("{x}");
        s
    };
    if v.unit.is_empty() && v.low.is_none() && v.high.is_none() {
        return "Negative".into();
    }
    let core = match (v.low, v.high) {
        (Some(l), Some(h)) => format!("{} - {}", d(l), d(h)),
        (None, Some(h)) => format!("< {}", d(h)),
        (Some(l), None) => format!("> {}", d(l)),
        (None, None) => String::new(),
    };
    if !with_words {
        return core;
    }
    match rng.below(4) {
        0 => format!("Adult: {core}"),
        1 if v.low.is_none() => format!("{core} (desirable)"),
        2 => format!("({core})"),
        _ => core,
    }
}

fn flag_text(v: &TruthValue, words: bool) -> String {
    match (v.flag, words) {
        (Some('H'), true) => "High".into(),
        (Some('L'), true) => "Low".into(),
        (Some('A'), true) => "Abnormal".into(),
        (Some(c), _) => c.to_string(),
        (None, _) => String::new(),
    }
}

struct Sheet {
    w: PdfWriter,
    page: Page,
    y: f32,
    pages: usize,
    header: Box<dyn Fn(&mut Page, f32)>,
    footer: bool,
}

impl Sheet {
    fn new(title: &str, collected_line: &str, footer: bool, header: Box<dyn Fn(&mut Page, f32)>) -> Self {
        let mut page = Page::default();
        page.text(50.0, 800.0, 15.0, true, title);
        page.text(50.0, 784.0, 9.0, false, "Patient: TEST, Fixture   MRN: 000000   DOB: 01/01/1970");
        page.text(50.0, 772.0, 9.0, false, collected_line);
        page.rule(50.0, 545.0, 764.0);
        Sheet { w: PdfWriter::new().title("Laboratory report"), page, y: 745.0, pages: 1, header, footer }
    }

    fn need(&mut self, h: f32) {
        if self.y - h < 70.0 {
            self.break_page();
        }
    }

    fn break_page(&mut self) {
        if self.footer {
            self.page.text(260.0, 40.0, 8.0, false, &format!("Page {}", self.pages));
        }
        *self.w.page() = std::mem::take(&mut self.page);
        self.pages += 1;
        self.y = 790.0;
        (self.header)(&mut self.page, self.y);
        self.y -= 16.0;
    }

    fn finish(mut self) -> Vec<u8> {
        self.page.text(50.0, 55.0, 7.0, false, "Fixture report generated by Precedent for parser testing; not a real patient.");
        if self.footer {
            self.page.text(260.0, 40.0, 8.0, false, &format!("Page {}", self.pages));
        }
        *self.w.page() = self.page;
        self.w.finish()
    }
}

fn columns_header(cols: &'static [(f32, &'static str)]) -> Box<dyn Fn(&mut Page, f32)> {
    Box::new(move |p: &mut Page, y: f32| {
        for (x, h) in cols {
            p.text(*x, y, 8.0, true, h);
        }
    })
}

/// Writes one fixture in `layout` (an index into [`LAYOUTS`]).
pub fn fixture(seed: u64, index: usize, layout: usize) -> Fixture {
    let mut rng = Rng::new(seed.wrapping_mul(7_919).wrapping_add(index as u64 * 104_729 + layout as u64));
    let n = match layout {
        5 => 45 + rng.below(10),
        1 => 24 + rng.below(8),
        _ => 16 + rng.below(12),
    };
    let values = truth_values(&mut rng, n);
    let day = 1 + rng.below(28);
    let month = 1 + rng.below(12);
    let collected = format!("2026-{month:02}-{day:02}");
    let collected_line = match layout % 3 {
        0 => format!("Collected: {collected} 08:{:02}", rng.below(60)),
        1 => format!("Specimen collected: {day:02}/{month:02}/2026   Reported: {day:02}/{month:02}/2026"),
        _ => format!("Collection date: {day:02}.{month:02}.2026"),
    };
    let title = *rng.pick(&["City Hospital Laboratory", "Precedent Reference Lab", "Northside Pathology"]);
    let pdf = match LAYOUTS[layout] {
        "two-column" => {
            // Narrow columns: reports print the shortest name.
            let mut values = values;
            for v in &mut values {
                if v.name.len() > 18 {
                    if let Some(short) = SPECS.iter().find(|s| s.names.contains(&v.name.as_str())).and_then(|s| s.names.iter().min_by_key(|n| n.len())) {
                        v.name = short.to_string();
                    }
                }
            }
            let pdf = two_column(&values, title, &collected_line);
            return Fixture { layout: LAYOUTS[layout], pdf, values, collected };
        }
        name => {
            // (name x, result x, units x, range x, flag x) and how each row is written.
            const SINGLE: &[(f32, &str)] = &[(50.0, "Test"), (230.0, "Result"), (300.0, "Units"), (380.0, "Reference range"), (500.0, "Flag")];
            const IN_VALUE: &[(f32, &str)] = &[(50.0, "Test"), (230.0, "Result"), (360.0, "Reference range"), (500.0, "Flag")];
            const FLAGS_FIRST: &[(f32, &str)] = &[(50.0, "Analyte"), (220.0, "Value"), (280.0, "Flag"), (320.0, "Units"), (420.0, "Ref. interval")];
            const WRAPPED: &[(f32, &str)] = &[(50.0, "Test"), (150.0, "Result"), (220.0, "Units"), (310.0, "Reference range"), (450.0, "Flag")];
            let cols: &'static [(f32, &'static str)] = match name {
                "units-in-value" => IN_VALUE,
                "flags-first" => FLAGS_FIRST,
                "wrapped-names" => WRAPPED,
                _ => SINGLE,
            };
            let footer = name == "multi-page-panels";
            let mut sheet = Sheet::new(title, &collected_line, footer, columns_header(cols));
            let mut panel = "";
            for v in &values {
                if v.panel != panel && name != "single-table" {
                    panel = v.panel;
                    sheet.need(40.0);
                    sheet.y -= 6.0;
                    sheet.page.text(50.0, sheet.y, 11.0, true, panel);
                    sheet.y -= 14.0;
                    (sheet.header)(&mut sheet.page, sheet.y);
                    sheet.y -= 13.0;
                } else if panel.is_empty() {
                    panel = v.panel;
                    (sheet.header)(&mut sheet.page, sheet.y);
                    sheet.y -= 13.0;
                }
                sheet.need(28.0);
                let y = sheet.y;
                let words = name == "text-ranges";
                let range = range_text(v, words, &mut rng);
                let flag = flag_text(v, words);
                match name {
                    "units-in-value" => {
                        sheet.page.text(cols[0].0, y, 10.0, false, &v.name);
                        sheet.page.text(cols[1].0, y, 10.0, false, format!("{} {}", v.value, v.unit).trim());
                        sheet.page.text(cols[2].0, y, 10.0, false, &range);
                        sheet.page.text(cols[3].0, y, 10.0, true, &flag);
                    }
                    "flags-first" => {
                        sheet.page.text(cols[0].0, y, 10.0, false, &v.name);
                        sheet.page.text(cols[1].0, y, 10.0, false, &v.value);
                        sheet.page.text(cols[2].0, y, 10.0, true, &flag);
                        sheet.page.text(cols[3].0, y, 10.0, false, &v.unit);
                        sheet.page.text(cols[4].0, y, 10.0, false, &range);
                    }
                    "wrapped-names" if v.name.len() > 14 && v.name.contains(' ') => {
                        // Split the name over two lines; values on the first or the second.
                        // At the space nearest the middle: both halves fit the name column.
                        let mid = v.name.len() / 2;
                        let cut = v.name.match_indices(' ').map(|(i, _)| i).min_by_key(|i| i.abs_diff(mid)).unwrap_or(v.name.len());
                        let (a, b) = (v.name[..cut].trim(), v.name[cut..].trim());
                        let values_on_second = rng.below(2) == 0;
                        let vy = if values_on_second { y - 12.0 } else { y };
                        sheet.page.text(cols[0].0, y, 10.0, false, a);
                        if !values_on_second {
                            write_values(&mut sheet.page, cols, vy, v, &range, &flag);
                            sheet.page.text(cols[0].0, y - 12.0, 10.0, false, b);
                        } else {
                            sheet.page.text(cols[0].0, vy, 10.0, false, b);
                            write_values(&mut sheet.page, cols, vy, v, &range, &flag);
                        }
                        sheet.y -= 12.0;
                    }
                    _ => {
                        sheet.page.text(cols[0].0, y, 10.0, false, &v.name);
                        write_values(&mut sheet.page, cols, y, v, &range, &flag);
                    }
                }
                sheet.y -= 14.0;
            }
            sheet.finish()
        }
    };
    Fixture { layout: LAYOUTS[layout], pdf, values, collected }
}

fn write_values(p: &mut Page, cols: &[(f32, &str)], y: f32, v: &TruthValue, range: &str, flag: &str) {
    p.text(cols[1].0, y, 10.0, v.flag.is_some(), &v.value);
    p.text(cols[2].0, y, 10.0, false, &v.unit);
    p.text(cols[3].0, y, 10.0, false, range);
    p.text(cols[4].0, y, 10.0, true, flag);
}

fn two_column(values: &[TruthValue], title: &str, collected_line: &str) -> Vec<u8> {
    const LEFT: [f32; 5] = [40.0, 130.0, 170.0, 225.0, 280.0];
    const RIGHT: [f32; 5] = [305.0, 395.0, 435.0, 490.0, 548.0];
    let header: Box<dyn Fn(&mut Page, f32)> = Box::new(|p: &mut Page, y: f32| {
        for cols in [LEFT, RIGHT] {
            for (x, h) in cols.iter().zip(["Test", "Result", "Units", "Range", "Flag"]) {
                p.text(*x, y, 7.0, true, h);
            }
        }
    });
    let mut sheet = Sheet::new(title, collected_line, false, header);
    (sheet.header)(&mut sheet.page, sheet.y);
    sheet.y -= 13.0;
    let half = values.len().div_ceil(2);
    for i in 0..half {
        sheet.need(14.0);
        let y = sheet.y;
        for (cols, v) in [(LEFT, values.get(i)), (RIGHT, values.get(half + i))] {
            let Some(v) = v else { continue };
            sheet.page.text(cols[0], y, 8.0, false, &v.name);
            sheet.page.text(cols[1], y, 8.0, v.flag.is_some(), &v.value);
            sheet.page.text(cols[2], y, 8.0, false, &v.unit);
            let mut r = Rng::new(i as u64);
            sheet.page.text(cols[3], y, 8.0, false, &range_text(v, false, &mut r));
            sheet.page.text(cols[4], y, 8.0, true, &flag_text(v, false));
        }
        sheet.y -= 12.0;
    }
    sheet.finish()
}

/// `per_layout` fixtures of every layout.
pub fn fixtures(seed: u64, per_layout: usize) -> Vec<Fixture> {
    (0..LAYOUTS.len()).flat_map(|l| (0..per_layout).map(move |i| fixture(seed, i, l))).collect()
}
