//! Data shared by the server and the browser. Nothing secret (no password hashes, no file
//! paths) is ever part of these types.
use precedent_types::{CaseId, CaseStatus, Certainty, ImageId, Modality, ReportId, Role, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummaryView {
    pub id: CaseId,
    pub title: String,
    pub status: CaseStatus,
    pub diagnosis: Option<String>,
    pub owner_email: Option<String>,
    pub image_count: i64,
    pub report_count: i64,
    pub thumbnail: Option<ImageId>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseListView {
    pub items: Vec<CaseSummaryView>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl CaseListView {
    pub fn pages(&self) -> u32 {
        ((self.total.max(0) as u32).div_ceil(self.per_page.max(1))).max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageView {
    pub id: ImageId,
    pub filename: String,
    pub mime: String,
    pub width: i32,
    pub height: i32,
    pub modality: Modality,
    pub plane: Option<String>,
    pub caption: Option<String>,
}

/// What was read from a lab report: in JSON `{"Extracted": "…"}`, `"NoTextLayer"` or `{"Failed": "…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReportText {
    Extracted(String),
    NoTextLayer,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    pub id: ReportId,
    pub filename: String,
    pub byte_size: i64,
    pub text: ReportText,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationView {
    pub author: String,
    pub action: String,
    pub diagnosis: String,
    pub certainty: Certainty,
    pub notes: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub id: CaseId,
    pub title: String,
    pub history: String,
    pub exam: String,
    pub findings: String,
    pub diagnosis: Option<String>,
    pub status: CaseStatus,
    pub age_years: Option<i32>,
    pub sex: Option<String>,
    pub body_region: Option<String>,
    pub owner_email: Option<String>,
    pub created_at: String,
    /// Embedding work is still queued or running for this case.
    pub indexing: bool,
    pub images: Vec<ImageView>,
    pub reports: Vec<ReportView>,
    pub validations: Vec<ValidationView>,
}
