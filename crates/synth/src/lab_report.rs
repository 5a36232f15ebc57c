//! A case's lab report: the analytes printed (with normal ranges and panels), values drawn
//! around normal and shifted by the condition's abnormalities, and the report PDF in one of a
//! few column layouts.
use crate::conditions::Condition;
use crate::pdf;
use crate::rng::Rng;

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

pub(crate) fn lab_values(rng: &mut Rng, c: &Condition) -> Vec<LabValue> {
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
