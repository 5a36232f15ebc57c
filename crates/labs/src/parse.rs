//! From a lab report's text lines to result rows. Reports differ in column order, put units
//! inside the value column, wrap long names, print two tables side by side, add words to
//! reference ranges and spread panels over pages; so each line is cut into tokens that are
//! classified one by one (name, value, unit, range, flag) rather than read by column position.
use crate::catalog::{self, Analyte};

/// `<`, `≤`, `>`, `≥` before a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Qualifier {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

/// A result as printed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Value {
    Number { qualifier: Option<Qualifier>, number: f64 },
    Text(String),
}

/// A reference range: numeric bounds where printed, and its text as printed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RefRange {
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub text: String,
}

/// Low / high / critical / abnormal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Low,
    High,
    CriticalLow,
    CriticalHigh,
    Abnormal,
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The panel heading above it, if any.
    pub panel: Option<String>,
    /// The name as printed.
    pub name: String,
    pub analyte: Option<&'static Analyte>,
    pub value: Value,
    /// The unit as printed.
    pub unit: Option<String>,
    pub range: Option<RefRange>,
    /// The report's own flag, if it printed one.
    pub printed_flag: Option<Flag>,
    /// The line(s) the row came from.
    pub raw: String,
}

/// What a report's text yielded.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub rows: Vec<Row>,
    /// Collection date (`YYYY-MM-DD`) when the report prints one.
    pub collected: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num(f64),
    Qual(Qualifier),
    Dash,
}

fn number(s: &str) -> Option<f64> {
    let s = s.trim_end_matches(['.', ',', ';', ':']);
    if s.is_empty() || !s.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    if !s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',' || c == '-' || c == '+') {
        return None;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.contains(['-', '+']) {
        return None;
    }
    // "1,234" is a thousands separator; "12,5" a decimal comma.
    let cleaned = match body.split_once(',') {
        Some((a, b)) if b.len() == 3 && !b.contains(',') && !a.is_empty() => format!("{a}{b}"),
        Some((a, b)) if !b.contains(',') => format!("{a}.{b}"),
        Some(_) => return None,
        None => body.to_string(),
    };
    let v: f64 = cleaned.parse().ok()?;
    Some(if s.starts_with('-') { -v } else { v })
}

/// Cuts a line into tokens: qualifiers and dashes split from numbers, brackets dropped,
/// `3.5-5.1` split into a range, `13.2g/dL` into value and unit.
fn tokens(line: &str) -> Vec<(Tok, String)> {
    let mut out = Vec::new();
    // "m2>60": a comparison glued to the word before it starts a new token.
    let spaced: String = line.chars().enumerate().fold(String::with_capacity(line.len() + 4), |mut acc, (i, c)| {
        if i > 0 && matches!(c, '<' | '>' | '≤' | '≥') && !acc.ends_with(' ') {
            acc.push(' ');
        }
        acc.push(c);
        acc
    });
    for raw in spaced.split_whitespace() {
        let mut w = raw.trim_matches(|c| matches!(c, '(' | ')' | '[' | ']' | '{' | '}'));
        if w.is_empty() {
            continue;
        }
        loop {
            let q = [("<=", Qualifier::Le), (">=", Qualifier::Ge), ("≤", Qualifier::Le), ("≥", Qualifier::Ge), ("<", Qualifier::Lt), (">", Qualifier::Gt)]
                .into_iter()
                .find(|(p, _)| w.starts_with(p));
            match q {
                Some((p, q)) => {
                    out.push((Tok::Qual(q), p.to_string()));
                    w = &w[p.len()..];
                }
                None => break,
            }
        }
        if w.is_empty() {
            continue;
        }
        if matches!(w, "-" | "–" | "—" | "to") {
            out.push((Tok::Dash, w.to_string()));
            continue;
        }
        if let Some(n) = number(w) {
            out.push((Tok::Num(n), w.to_string()));
            continue;
        }
        // "3.5-5.1", "3.5–5.1"
        if let Some((a, b)) = w.split_once(['-', '–']).filter(|(a, _)| !a.is_empty()) {
            if let (Some(x), Some(y)) = (number(a), number(b)) {
                out.push((Tok::Num(x), a.to_string()));
                out.push((Tok::Dash, "-".into()));
                out.push((Tok::Num(y), b.to_string()));
                continue;
            }
        }
        // "13.2g/dL", "7.2x10^9/L": a number glued to a unit.
        let split = w.char_indices().find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == ',')).map(|(i, _)| i);
        if let Some(i) = split.filter(|i| *i > 0) {
            let (num, rest) = w.split_at(i);
            if let (Some(n), true) = (number(num), looks_like_unit(rest)) {
                out.push((Tok::Num(n), num.to_string()));
                out.push((Tok::Word(rest.to_string()), rest.to_string()));
                continue;
            }
        }
        out.push((Tok::Word(w.to_string()), w.to_string()));
    }
    out
}

const QUALITATIVE: &[&str] = &[
    "negative", "positive", "trace", "nil", "none", "detected", "not", "normal", "reactive", "non-reactive", "nonreactive", "small",
    "moderate", "large", "clear", "cloudy", "yellow", "amber", "+", "++", "+++", "++++", "1+", "2+", "3+", "4+",
];

fn qualitative_word(w: &str) -> bool {
    QUALITATIVE.contains(&w.to_lowercase().as_str())
}

fn flag_of(w: &str) -> Option<Flag> {
    Some(match w.trim_matches(['(', ')', '*', '!']).to_uppercase().as_str() {
        "H" | "HI" | "HIGH" => Flag::High,
        "L" | "LO" | "LOW" => Flag::Low,
        "HH" | "H!" | "CRITICAL HIGH" | "CH" | "PANIC HIGH" => Flag::CriticalHigh,
        "LL" | "L!" | "CL" => Flag::CriticalLow,
        "A" | "AB" | "ABN" | "ABNORMAL" => Flag::Abnormal,
        "" if w.contains('*') || w.contains('!') => Flag::Abnormal,
        _ => return None,
    })
}

/// Whether a word is a unit: has a `/` (and is no date), `%`, a power of ten, or is one of the
/// unitless names reports use.
fn looks_like_unit(w: &str) -> bool {
    let l = w.to_lowercase();
    if l.chars().all(|c| c.is_ascii_digit() || c == '/' || c == '.' || c == '-') {
        return false; // a date or a fraction
    }
    l.contains('/')
        || l == "%"
        || l.starts_with("x10")
        || l.starts_with("×10")
        || l.starts_with("10^")
        || l.starts_with("10*")
        || l.starts_with("10e")
        || matches!(l.as_str(), "fl" | "pg" | "s" | "sec" | "secs" | "seconds" | "ratio" | "mmhg" | "um3" | "index" | "g/l" | "iu")
}

/// The longest catalog name starting at token `i` (at most 6 words): (analyte, tokens used).
fn catalog_name(toks: &[(Tok, String)], i: usize) -> Option<(&'static Analyte, usize)> {
    let max = (toks.len() - i).min(6);
    (1..=max).rev().find_map(|n| {
        let words: Vec<&str> = toks[i..i + n].iter().map(|(_, s)| s.as_str()).collect();
        if toks[i..i + n].iter().any(|(t, _)| matches!(t, Tok::Num(_) | Tok::Qual(_))) && n > 1 {
            // names like "Vitamin B12" are single words with digits; numbers end names otherwise
            return None;
        }
        catalog::lookup(&words.join(" ")).map(|a| (a, n))
    })
}

fn value_at(toks: &[(Tok, String)], i: usize) -> Option<(Value, usize)> {
    match toks.get(i)? {
        (Tok::Qual(q), _) => match toks.get(i + 1)? {
            (Tok::Num(n), _) => Some((Value::Number { qualifier: Some(*q), number: *n }, i + 2)),
            _ => None,
        },
        (Tok::Num(n), _) => Some((Value::Number { qualifier: None, number: *n }, i + 1)),
        (Tok::Word(w), _) if qualitative_word(w) => {
            // "Not detected" is two words.
            if w.eq_ignore_ascii_case("not") {
                match toks.get(i + 1) {
                    Some((Tok::Word(n), _)) if n.eq_ignore_ascii_case("detected") => Some((Value::Text("Not detected".into()), i + 2)),
                    _ => None,
                }
            } else {
                Some((Value::Text(w.clone()), i + 1))
            }
        }
        _ => None,
    }
}

/// Reads one result starting at token `i`; returns it and where the next one may start.
fn result_at(toks: &[(Tok, String)], i: usize) -> Option<(String, Option<&'static Analyte>, Value, Option<String>, Option<RefRange>, Option<Flag>, usize)> {
    // The name: a catalog name, else words up to the first value.
    let (analyte, mut j) = match catalog_name(toks, i) {
        Some((a, n)) => (Some(a), i + n),
        None => {
            let mut j = i;
            while j < toks.len() && value_at(toks, j).is_none() {
                if !matches!(toks[j].0, Tok::Word(_)) {
                    return None;
                }
                j += 1;
            }
            if j == i || j - i > 8 {
                return None;
            }
            (None, j)
        }
    };
    let name = toks[i..j].iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join(" ");
    if !name.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    let (value, k) = value_at(toks, j)?;
    j = k;
    let mut unit: Option<String> = None;
    let mut flag = None;
    let mut range_toks: Vec<&(Tok, String)> = Vec::new();
    while j < toks.len() {
        // Another result on the same line (two tables side by side).
        if !range_toks.iter().any(|(t, _)| matches!(t, Tok::Dash | Tok::Qual(_))) || range_complete(&range_toks) {
            if let Some((_, n)) = catalog_name(toks, j) {
                if value_at(toks, j + n).is_some() {
                    break;
                }
            }
        }
        let t = &toks[j].0;
        match t {
            Tok::Word(w) if unit.is_none() && looks_like_unit(w) => {
                let mut u = w.clone();
                // "mg/L FEU", "mL/min/1.73 m2"
                if let Some((Tok::Word(next), _)) = toks.get(j + 1) {
                    if matches!(next.to_uppercase().as_str(), "FEU" | "DDU" | "M2" | "M²") {
                        u = format!("{u} {next}");
                        j += 1;
                    }
                }
                if let Some((Tok::Num(_), n)) = toks.get(j + 1).filter(|_| u.ends_with("/1.73") || u.ends_with("/min/")) {
                    u = format!("{u}{n}");
                    j += 1;
                }
                unit = Some(u);
            }
            Tok::Word(w) if flag.is_none() && flag_of(w).is_some() && !is_range_word(w) => flag = flag_of(w),
            _ => range_toks.push(&toks[j]),
        }
        j += 1;
    }
    let range = parse_range(&range_toks);
    // A row needs a known analyte, or a unit or numeric range to tell it from prose.
    if analyte.is_none() && unit.is_none() && range.as_ref().is_none_or(|r| r.low.is_none() && r.high.is_none()) {
        return None;
    }
    Some((name, analyte, value, unit, range, flag, j))
}

fn is_range_word(w: &str) -> bool {
    w.eq_ignore_ascii_case("to")
}

fn range_complete(toks: &[&(Tok, String)]) -> bool {
    let nums = toks.iter().filter(|(t, _)| matches!(t, Tok::Num(_))).count();
    let has_dash = toks.iter().any(|(t, _)| matches!(t, Tok::Dash));
    let has_qual = toks.iter().any(|(t, _)| matches!(t, Tok::Qual(_)));
    (has_dash && nums >= 2) || (has_qual && nums >= 1)
}

fn parse_range(toks: &[&(Tok, String)]) -> Option<RefRange> {
    if toks.is_empty() {
        return None;
    }
    let text = toks.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join(" ");
    let mut r = RefRange { text, ..RefRange::default() };
    let nums: Vec<(usize, f64)> = toks.iter().enumerate().filter_map(|(i, (t, _))| if let Tok::Num(n) = t { Some((i, *n)) } else { None }).collect();
    let lower = r.text.to_lowercase();
    for (i, (t, _)) in toks.iter().enumerate() {
        match t {
            Tok::Dash => {
                let before = nums.iter().rev().find(|(j, _)| *j < i);
                let after = nums.iter().find(|(j, _)| *j > i);
                if let (Some((_, a)), Some((_, b))) = (before, after) {
                    r.low = Some(*a);
                    r.high = Some(*b);
                    return Some(r);
                }
            }
            Tok::Qual(q) => {
                if let Some((_, n)) = nums.iter().find(|(j, _)| *j > i) {
                    match q {
                        Qualifier::Lt | Qualifier::Le => r.high = Some(*n),
                        Qualifier::Gt | Qualifier::Ge => r.low = Some(*n),
                    }
                    return Some(r);
                }
            }
            _ => {}
        }
    }
    if lower.contains("up to") || lower.contains("less than") || lower.contains("below") {
        r.high = nums.first().map(|(_, n)| *n);
    } else if lower.contains("more than") || lower.contains("greater than") || lower.contains("above") {
        r.low = nums.first().map(|(_, n)| *n);
    }
    Some(r)
}

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

type LineRow = (String, Option<&'static Analyte>, Value, Option<String>, Option<RefRange>, Option<Flag>);

fn row(r: LineRow, panel: &Option<String>, raw: &str) -> Row {
    Row { panel: panel.clone(), name: r.0, analyte: r.1, value: r.2, unit: r.3, range: r.4, printed_flag: r.5, raw: raw.to_string() }
}

/// Every result on one line (usually one; two when tables sit side by side).
fn parse_line(line: &str) -> Vec<LineRow> {
    let toks = tokens(line);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match result_at(&toks, i) {
            Some((name, a, v, u, r, f, next)) => {
                out.push((name, a, v, u, r, f));
                i = next;
            }
            None => break,
        }
    }
    out
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
