//! Lab values on the case page: the table per report (flag colours, the source line on hover),
//! trend charts for analytes measured more than once, and doctors' corrections.
//!
//! The server function is here; the table and the trend charts have their own files.
use crate::error::AppError;
use leptos::prelude::*;

mod table;
mod trends;

pub use table::LabTable;
pub use trends::LabTrends;

/// Corrects a value as read (doctors only); the reading is kept beside the correction.
/// `value`: a number, optionally with `<`/`>` ("<5"), or a word ("Negative"); `unit`: empty keeps it.
#[server(endpoint = "correct_lab_value")]
pub async fn correct_lab_value(value_id: i64, value: String, #[server(default)] unit: String, #[server(default)] note: String) -> Result<(), AppError> {
    let c = crate::ssr::caller().await?;
    crate::ssr::answer(precedent_service::labs::correct(&c, value_id, &value, &unit, &note).await)
}
