//! From a lab report's text lines to result rows. Reports differ in column order, put units
//! inside the value column, wrap long names, print two tables side by side, add words to
//! reference ranges and spread panels over pages; so each line is cut into tokens ([`tokens`])
//! that are classified one by one (name, value, unit, range, flag) rather than read by column
//! position ([`line`]). This module walks the page: headers, panel headings, the collection
//! date, and names wrapped onto the next line.
mod line;
mod tokens;
mod types;

pub use types::{Flag, Parsed, Qualifier, RefRange, Row, Value};

use crate::catalog;
use line::{parse_line, LineRow};

fn text_only(line: &str) -> bool {
    !line.chars().any(|c| c.is_ascii_digit()) && line.chars().any(|c| c.is_alphabetic())
}

fn is_header(line: &str) -> bool {
    let l = line.to_lowercase();
    let words = ["test", "result", "units", "unit", "reference", "range", "flag", "analyte", "value", "ref.", "interval"];
    l.split_whitespace().filter(|w| words.contains(w)).count() >= 2
}

/// `YYYY-MM-DD` from a line naming the collection date.
fn collection_date(line: &str) -> Option<String> {
    let l = line.to_lowercase();
    if !(l.contains("collect") || l.contains("specimen date") || l.contains("sample date") || l.contains("sampled")) {
        return None;
    }
    let after = l.find("collect").or_else(|| l.find("specimen date")).or_else(|| l.find("sample")).map(|i| &line[i..]).unwrap_or(line);
    after.split(|c: char| c.is_whitespace() || c == ',').find_map(|w| {
        let w = w.trim_matches(|c: char| !c.is_ascii_digit());
        let parts: Vec<&str> = w.split(['-', '/', '.']).collect();
        if parts.len() != 3 || !parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())) {
            return None;
        }
        let (y, m, d) = if parts[0].len() == 4 { (parts[0], parts[1], parts[2]) } else { (parts[2], parts[1], parts[0]) };
        let (y, m, d): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        ((1900..=2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)).then(|| format!("{y:04}-{m:02}-{d:02}"))
    })
}

/// Parses a report's text (one line per printed line).
pub fn parse_text(text: &str) -> Parsed {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut out = Parsed::default();
    let mut panel: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if out.collected.is_none() {
            if let Some(d) = collection_date(line) {
                out.collected = Some(d);
                i += 1;
                continue;
            }
        }
        if is_header(line) {
            i += 1;
            continue;
        }
        let rows = parse_line(line);
        // A long name wrapped onto the next line (values on either line). A known first half
        // ("Lactate" of "Lactate dehydrogenase") does not stop the longer name from winning.
        let longer_name = |next: &str| rows.first().is_some_and(|r| text_only(next) && catalog::lookup(&format!("{} {}", r.0, next.trim())).is_some());
        if rows.first().is_none_or(|r| r.1.is_none()) || lines.get(i + 1).is_some_and(|n| longer_name(n)) {
            if let Some(next) = lines.get(i + 1) {
                if let Some(joined) = join_wrapped(line, next) {
                    let raw = format!("{line}\n{next}");
                    for r in joined {
                        out.rows.push(row(r, &panel, &raw));
                    }
                    i += 2;
                    continue;
                }
            }
        }
        if rows.is_empty() {
            if text_only(line) && line.split_whitespace().count() <= 6 && !line.ends_with(':') {
                panel = Some(line.trim_end_matches(':').to_string());
            }
            i += 1;
            continue;
        }
        for r in rows {
            out.rows.push(row(r, &panel, line));
        }
        i += 1;
    }
    out
}

/// Reads `line` + `next` as one row whose name was wrapped: either `line` holds the start of
/// the name (and maybe the values) and `next` the rest of the name, or `line` holds only the
/// start of the name and `next` the rest with the values. Only names the catalog knows count.
fn join_wrapped(line: &str, next: &str) -> Option<Vec<LineRow>> {
    if is_header(next) {
        return None;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    if text_only(next) && next.split_whitespace().count() <= 4 {
        // Values on the first line: the name's start, then the values; the rest of the name below.
        for k in (1..=words.len().min(6)).rev() {
            let name = format!("{} {}", words[..k].join(" "), next.trim());
            if catalog::lookup(&name).is_some() {
                let rows = parse_line(&format!("{name} {}", words[k..].join(" ")));
                if rows.first().is_some_and(|r| r.1.is_some()) {
                    return Some(rows);
                }
            }
        }
    }
    if text_only(line) && words.len() <= 4 {
        // Only the name's start on the first line; the rest of the name and the values below.
        let merged = parse_line(&format!("{line} {next}"));
        let alone = parse_line(next);
        let merged_words = merged.first().filter(|r| r.1.is_some()).map(|r| r.0.split_whitespace().count())?;
        let alone_words = alone.first().filter(|r| r.1.is_some()).map(|r| r.0.split_whitespace().count()).unwrap_or(0);
        if merged_words > alone_words {
            return Some(merged);
        }
    }
    None
}

fn row(r: LineRow, panel: &Option<String>, raw: &str) -> Row {
    Row { panel: panel.clone(), name: r.0, analyte: r.1, value: r.2, unit: r.3, range: r.4, printed_flag: r.5, raw: raw.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Row {
        let p = parse_text(line);
        assert_eq!(p.rows.len(), 1, "{line}: {:?}", p.rows);
        p.rows[0].clone()
    }

    #[test]
    fn rows_in_many_shapes() {
        let r = one("Haemoglobin 10.2 g/dL 12.0 - 16.0 L");
        assert_eq!(r.analyte.map(|a| a.id), Some("hemoglobin"));
        assert_eq!(r.value, Value::Number { qualifier: None, number: 10.2 });
        assert_eq!(r.unit.as_deref(), Some("g/dL"));
        assert_eq!((r.range.as_ref().unwrap().low, r.range.as_ref().unwrap().high), (Some(12.0), Some(16.0)));
        assert_eq!(r.printed_flag, Some(Flag::Low));

        let r = one("CRP <5 mg/L (0-5)");
        assert_eq!(r.value, Value::Number { qualifier: Some(Qualifier::Lt), number: 5.0 });
        assert_eq!(r.range.unwrap().high, Some(5.0));

        let r = one("Glucose 7.9mmol/L 3.9-7.8 H");
        assert_eq!(r.unit.as_deref(), Some("mmol/L"));
        assert_eq!(r.printed_flag, Some(Flag::High));

        let r = one("Cholesterol 5.9 mmol/L < 5.2 (desirable) High");
        assert_eq!(r.range.as_ref().unwrap().high, Some(5.2));
        assert!(r.range.unwrap().text.contains("desirable"));
        assert_eq!(r.printed_flag, Some(Flag::High));

        let r = one("Potassium 4.1 Adult: 3.5 - 5.1 mmol/L");
        assert_eq!(r.unit.as_deref(), Some("mmol/L"));
        assert_eq!(r.range.as_ref().unwrap().low, Some(3.5));

        let r = one("Urine protein Negative Negative");
        assert_eq!(r.value, Value::Text("Negative".into()));
        let r = one("Nitrite Not detected Not detected");
        assert_eq!(r.value, Value::Text("Not detected".into()));

        let r = one("eGFR >90 mL/min/1.73 m2 > 60");
        assert_eq!(r.unit.as_deref(), Some("mL/min/1.73 m2"));
        assert_eq!(r.value, Value::Number { qualifier: Some(Qualifier::Gt), number: 90.0 });
        assert_eq!(r.range.unwrap().low, Some(60.0));

        let r = one("WBC 14.2 x10^9/L 4.0-11.0 H");
        assert_eq!(r.unit.as_deref(), Some("x10^9/L"));
        let r = one("D-dimer 0.84 mg/L FEU < 0.50 H");
        assert_eq!(r.unit.as_deref(), Some("mg/L FEU"));
        let r = one("Mystery marker 12 U/L 5 - 20");
        assert!(r.analyte.is_none());
        assert_eq!(r.name, "Mystery marker");
    }

    #[test]
    fn side_by_side_tables_give_two_rows_per_line() {
        let p = parse_text("Sodium 140 mmol/L 135 - 145 Potassium 5.9 mmol/L 3.5 - 5.1 H");
        let ids: Vec<_> = p.rows.iter().map(|r| r.analyte.map(|a| a.id)).collect();
        assert_eq!(ids, [Some("sodium"), Some("potassium")]);
        assert_eq!(p.rows[1].printed_flag, Some(Flag::High));
        assert_eq!(p.rows[0].printed_flag, None);
    }

    #[test]
    fn wrapped_names_panels_dates_and_noise() {
        let text = "City Hospital Laboratory\nPatient: J Doe  DOB: 01/02/1970\nCollected: 05/03/2026 08:30\nLiver panel\nTest Result Units Reference range Flag\nGamma glutamyl 80 U/L 0 - 55 H\ntransferase\nAlkaline\nphosphatase 120 U/L 44 - 147\nPage 1 of 2\n";
        let p = parse_text(text);
        assert_eq!(p.collected.as_deref(), Some("2026-03-05"));
        let ids: Vec<_> = p.rows.iter().map(|r| r.analyte.map(|a| a.id)).collect();
        assert_eq!(ids, [Some("ggt"), Some("alp")], "{:?}", p.rows);
        assert_eq!(p.rows[0].panel.as_deref(), Some("Liver panel"));
        assert!(p.rows[0].raw.contains("transferase"), "{:?}", p.rows[0]);
        let p = parse_text("Lactate 174 U/L 140 - 280\ndehydrogenase\nLactate 1.1 mmol/L 0.5 - 2.2");
        let ids: Vec<_> = p.rows.iter().map(|r| r.analyte.map(|a| a.id)).collect();
        assert_eq!(ids, [Some("ldh"), Some("lactate")]);
    }
}
