//! What parsing yields: result rows (name, value, unit, reference range, flag as printed) and
//! the report's collection date.
use crate::catalog::Analyte;

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

impl Qualifier {
    /// The symbol as stored and shown (`<`, `<=`, `>`, `>=`; the serde name too).
    pub fn as_str(self) -> &'static str {
        match self {
            Qualifier::Lt => "<",
            Qualifier::Le => "<=",
            Qualifier::Gt => ">",
            Qualifier::Ge => ">=",
        }
    }
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

/// Low / high / critical / abnormal: the shared vocabulary (stored and shown as `low`, `high`,
/// `critical_low`, `critical_high`, `abnormal`).
pub use precedent_types::LabFlag as Flag;

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
