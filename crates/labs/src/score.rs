//! Scoring parsed values against the truth of a generated report: a value is right when its
//! analyte, value (qualifier included), unit and reference range all match what was printed.
use crate::catalog::{lookup, name_key, unit_key};
use crate::normalise::LabValue;
use crate::parse::Qualifier;

/// What a report printed for one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub name: String,
    /// As printed: "12.3", "<0.5", "Negative".
    pub value: String,
    pub unit: String,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

fn same_name(a: &str, b: &str) -> bool {
    name_key(a) == name_key(b) || matches!((lookup(a), lookup(b)), (Some(x), Some(y)) if x.id == y.id)
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => false,
    }
}

/// Whether `v` is exactly the printed `e`.
pub fn matches(v: &LabValue, e: &Expected) -> bool {
    if !same_name(&v.printed_name, &e.name) {
        return false;
    }
    let value_ok = match (&v.text_value, v.value) {
        (Some(t), _) => t.eq_ignore_ascii_case(e.value.trim()),
        (None, Some(n)) => {
            let printed = e.value.trim();
            let (q, rest) = [("<=", Some(Qualifier::Le)), (">=", Some(Qualifier::Ge)), ("<", Some(Qualifier::Lt)), (">", Some(Qualifier::Gt))]
                .into_iter()
                .find_map(|(p, q)| printed.strip_prefix(p).map(|r| (q, r)))
                .unwrap_or((None, printed));
            q == v.qualifier && rest.trim().parse::<f64>().is_ok_and(|x| close(Some(x), Some(n)))
        }
        (None, None) => false,
    };
    let unit_ok = unit_key(v.unit.as_deref().unwrap_or("")) == unit_key(&e.unit);
    value_ok && unit_ok && close(v.low, e.low) && close(v.high, e.high)
}

/// Pairs parsed values with expected ones in order; returns how many expected values were
/// read right and the ones that were not (with what was read in their place, if anything).
pub fn score<'a>(parsed: &'a [LabValue], expected: &'a [Expected]) -> (usize, Vec<(&'a Expected, Option<&'a LabValue>)>) {
    let mut used = vec![false; parsed.len()];
    let mut right = 0;
    let mut wrong = Vec::new();
    for e in expected {
        match parsed.iter().enumerate().find(|(i, v)| !used[*i] && matches(v, e)) {
            Some((i, _)) => {
                used[i] = true;
                right += 1;
            }
            None => {
                let near = parsed.iter().enumerate().find(|(i, v)| !used[*i] && same_name(&v.printed_name, &e.name)).map(|(_, v)| v);
                wrong.push((e, near));
            }
        }
    }
    (right, wrong)
}
