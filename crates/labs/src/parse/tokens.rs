//! Cutting a printed line into tokens — words, numbers, qualifiers (`<`, `≥`…), dashes — and
//! telling what a word is: a unit, a flag, a qualitative result.
use super::types::{Flag, Qualifier};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
pub(super) fn tokens(line: &str) -> Vec<(Tok, String)> {
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
    "negative",
    "positive",
    "trace",
    "nil",
    "none",
    "detected",
    "not",
    "normal",
    "reactive",
    "non-reactive",
    "nonreactive",
    "small",
    "moderate",
    "large",
    "clear",
    "cloudy",
    "yellow",
    "amber",
    "+",
    "++",
    "+++",
    "++++",
    "1+",
    "2+",
    "3+",
    "4+",
];

pub(super) fn qualitative_word(w: &str) -> bool {
    QUALITATIVE.contains(&w.to_lowercase().as_str())
}

pub(super) fn flag_of(w: &str) -> Option<Flag> {
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
pub(super) fn looks_like_unit(w: &str) -> bool {
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
