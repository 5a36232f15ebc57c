//! Reading the results on one line: a name (the longest catalog name, else the words before
//! the value), the value, then unit, flag and reference range in any order — until another
//! catalog name with a value starts a second result (two tables side by side).
use super::tokens::{flag_of, looks_like_unit, qualitative_word, tokens, Tok};
use super::types::{Flag, Qualifier, RefRange, Value};
use crate::catalog::{self, Analyte};

/// One result as read from a line: name as printed, analyte, value, unit, range, printed flag.
pub(super) type LineRow = (String, Option<&'static Analyte>, Value, Option<String>, Option<RefRange>, Option<Flag>);

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

/// Every result on one line (usually one; two when tables sit side by side).
pub(super) fn parse_line(line: &str) -> Vec<LineRow> {
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
