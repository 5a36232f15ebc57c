//! Data shared by the server and the browser. Nothing secret (no password hashes, no file
//! paths) is ever part of these types.
use crate::{CaseId, CaseStatus, Certainty, Channel, ImageId, LabFlag, Modality, ReportId, ReviewAction, Role, UserId};
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
    /// Collection date the report printed (`YYYY-MM-DD`).
    pub collected_on: Option<String>,
    /// The values read from it, in printed order.
    pub values: Vec<LabValueView>,
}

/// One lab value as the case page shows it (the latest correction applied, the reading kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabValueView {
    pub id: i64,
    pub analyte: String,
    pub printed_name: String,
    pub loinc: Option<String>,
    /// "13.2", "<5", "Negative".
    pub value: String,
    pub unit: String,
    /// "12.0 – 16.0", "< 5.2", or the printed text.
    pub range: String,
    pub flag: Option<LabFlag>,
    pub flag_printed: bool,
    pub panel: Option<String>,
    /// The line(s) of the report the value was read from.
    pub raw: String,
    /// In the analyte's canonical unit, when known.
    pub canonical: Option<String>,
    pub correction: Option<LabCorrectionView>,
}

/// A doctor's correction of a value as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabCorrectionView {
    pub by: String,
    pub at: String,
    pub note: String,
    /// What was read before, e.g. "13.2 g/dL".
    pub original: String,
}

/// One analyte over a case's reports, in canonical units, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabTrendView {
    pub analyte: String,
    pub unit: String,
    /// (date or report label, value).
    pub points: Vec<(String, f64)>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationView {
    pub author: String,
    pub action: ReviewAction,
    pub diagnosis: String,
    pub certainty: Certainty,
    pub notes: String,
    pub next_tests: String,
    pub specialist: String,
    pub at: String,
}

/// A case waiting for a doctor's review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueItemView {
    pub id: CaseId,
    pub title: String,
    pub diagnosis: Option<String>,
    pub body_region: Option<String>,
    pub age_years: Option<i32>,
    pub sex: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewQueueView {
    pub items: Vec<QueueItemView>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub region: Option<String>,
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
    /// The viewer may review (validate or correct) this case.
    pub can_review: bool,
    pub images: Vec<ImageView>,
    pub reports: Vec<ReportView>,
    /// Analytes measured in more than one report.
    pub lab_trends: Vec<LabTrendView>,
    pub validations: Vec<ValidationView>,
}

/// Options of a similar-case query. Every field is optional: missing weights count as equal,
/// `k` defaults to 10 (at most 100).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimilarParams {
    pub k: Option<u32>,
    pub text_weight: Option<f32>,
    pub image_weight: Option<f32>,
    pub lab_weight: Option<f32>,
    pub validated_only: bool,
    /// Only cases with a scan of this modality.
    pub modality: Option<Modality>,
    pub body_region: Option<String>,
    /// Created on or after / on or before this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    pub to: Option<String>,
    /// `z_score` (default), `rrf` or `raw`.
    pub calibration: Option<String>,
    /// Only cases whose diagnosis (the latest review's, else the recorded one) contains this.
    pub diagnosis: Option<String>,
    /// Refine by example (doctors): move the query toward the hits the caller marked relevant
    /// for this case and away from those marked not relevant.
    pub refine: bool,
}

/// An uploaded query image: use `token` in a search; `thumb` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadedQueryImage {
    pub token: String,
    pub filename: String,
    pub thumb: String,
}

/// An ad-hoc query: a stored case, free text and/or images (base64), in any mix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    pub case_id: Option<CaseId>,
    pub text: Option<String>,
    /// Image files (PNG or JPEG), base64-encoded.
    pub images_base64: Vec<String>,
    /// Images uploaded before (`POST /api/v1/search/images`), by token; only the uploader's.
    pub image_tokens: Vec<String>,
    /// Lab values typed by hand, one per line, each with its reference range or a flag
    /// ("CRP 85 mg/L 0 - 5", "WBC 14.2 x10^9/L H").
    pub labs: Option<String>,
    #[serde(flatten)]
    pub params: SimilarParams,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Review {
    Validated,
    Corrected,
    Unreviewed,
}

/// One modality's share of a hit's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelScoreView {
    /// `text` or `image`.
    pub channel: Channel,
    /// Cosine similarity × 100 (for images: of the best-matching pair).
    pub pct: f32,
    /// The weight it had after renormalising over the modalities both sides have.
    pub weight: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarHitView {
    pub case: CaseId,
    pub title: String,
    pub diagnosis: Option<String>,
    pub review: Review,
    pub age_band: Option<String>,
    pub sex: Option<String>,
    pub body_region: Option<String>,
    /// Weighted mean of the per-modality cosines, × 100.
    pub match_pct: f32,
    /// The calibrated fused score the list is ordered by.
    pub score: f32,
    pub channels: Vec<ChannelScoreView>,
    /// The query's image (when it is a stored image) and the hit's image that matched best.
    pub query_image: Option<ImageId>,
    pub matched_image: Option<ImageId>,
    /// An image the caller may open (the matched one, else the first); none for de-identified hits.
    pub thumbnail: Option<ImageId>,
    /// Where the hit's thumbnail is: the image's own thumbnail link, or for a de-identified hit
    /// a signed link that only this viewer can use, for a limited time.
    pub thumb_url: Option<String>,
    /// A teaching case from a shareable library shown to a patient: not linked (they cannot
    /// open it), no age band, sex or image ids. Patients never get other patients' cases.
    pub deidentified: bool,
    /// Analytes abnormal in the same direction in the query and this case.
    pub shared_abnormal: Vec<String>,
    /// The viewer's own relevance judgement of this hit for this query case, if any.
    pub judged: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarResults {
    pub hits: Vec<SimilarHitView>,
    /// Which modalities the query had (`text`, `image`).
    pub query_channels: Vec<Channel>,
    pub calibration: String,
    pub text_model: String,
    pub image_model: Option<String>,
    /// The query case is still being embedded: results will come once it is indexed.
    pub pending: bool,
    /// The viewer may mark hits relevant / not relevant (doctors, for a stored query case).
    pub can_judge: bool,
    pub took_ms: f32,
    /// Staff, on `POST /api/v1/search` and the search page: decision support for the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<SuggestionsView>,
}

/// An account as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminUserView {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    /// The viewer's own account (it cannot be disabled from here).
    pub is_me: bool,
    /// Signs in with an authenticator code too.
    pub two_factor: bool,
    /// Must choose a new password at next login (an admin reset it).
    pub must_change_password: bool,
    /// The log-in-less owner of imported libraries: no password to reset.
    pub library: bool,
}

/// The signed-in user's own account page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// An admin reset the password: a new one must be chosen before anything else.
    pub must_change_password: bool,
    /// Two-factor sign-in is on.
    pub two_factor: bool,
    /// This role may turn two-factor sign-in on (doctors and admins).
    pub two_factor_available: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

/// Enrolling an authenticator app: the QR code (SVG) and the secret to type in by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoFactorSetupView {
    pub secret: String,
    pub qr_svg: String,
}

/// A rebuild of the similarity index: what it is doing, how far, how fast.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexProgressView {
    pub running: bool,
    pub phase: String,
    pub done: u64,
    pub total: u64,
    pub rate_per_s: f64,
    pub eta_s: Option<f64>,
    /// How the last rebuild ended.
    pub finished: Option<String>,
}

/// One modality's index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelIndexView {
    pub channel: Channel,
    pub model: Option<String>,
    pub dim: usize,
    pub vectors: usize,
    /// Superseded or deleted points still in the graph until the next rebuild.
    pub dead: usize,
    /// Estimated memory of this modality's index.
    pub memory_mb: f64,
}

/// An encoder of the models manifest an admin can rebuild with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelOptionView {
    /// Manifest name (what a rebuild asks for).
    pub name: String,
    /// `name@version`, as vectors and indexes record it.
    pub model: String,
    /// `text` or `image`.
    pub channel: Channel,
    pub in_use: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexStatusView {
    pub cases: usize,
    pub channels: Vec<ChannelIndexView>,
    /// Last change from the database's log applied to the live index.
    pub applied_change: i64,
    /// Embedding jobs by state (`pending`, `running`, `done`, `failed`).
    pub jobs: Vec<(String, i64)>,
    pub progress: IndexProgressView,
    /// When the live indexes were built (UTC), if saved.
    pub built_at: Option<String>,
    /// Resident memory of the whole server process.
    pub process_rss_mb: Option<f64>,
    /// The encoders a rebuild may use.
    pub models: Vec<ModelOptionView>,
}

/// A row of an imported library that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedRowView {
    pub line: usize,
    pub key: Option<String>,
    pub reason: String,
}

/// A case-library import started from the admin page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportView {
    pub id: i64,
    pub filename: String,
    /// A teaching library: patients may meet its cases, de-identified, as similar cases.
    pub shareable: bool,
    /// `running`, `finished`, `failed` or `interrupted`.
    pub status: String,
    /// `unpacking`, `importing`, then the status.
    pub phase: String,
    pub total: i64,
    pub done: i64,
    pub imported: i64,
    pub already_present: i64,
    pub refused: Vec<RefusedRowView>,
    pub error: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
}

/// One audit-log entry as the admin's audit page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: String,
    /// The acting account's email; `None` for anonymous requests.
    pub who: Option<String>,
    pub role: Option<String>,
    pub action: String,
    /// `case 12`, `image 40`, …
    pub object: Option<String>,
    pub ip: Option<String>,
    pub outcome: String,
    /// The entry's details as compact JSON (empty when there are none).
    pub detail: String,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub entries: Vec<AuditEntryView>,
    /// Entries matching the filter, in all.
    pub total: i64,
    pub page: u32,
    pub pages: u32,
}

/// Decision support for a case or a query: what its most similar cases with a validated (or
/// library-recorded) diagnosis suggest, each suggestion with its evidence. Computed, never
/// generated: every line comes from those cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SuggestionsView {
    /// Why nothing is suggested ("not enough similar validated cases", …); the lists are then empty.
    pub abstained: Option<String>,
    /// Likely diagnoses, most likely first (at most 5).
    pub differential: Vec<SuggestedDiagnosis>,
    /// The coarser categories the evidence implies: body region, disease class, topic.
    pub categories: Vec<SuggestedCategory>,
    pub next_tests: Vec<SuggestedTest>,
    pub specialist: Option<SuggestedSpecialist>,
    /// The evidence cases considered (similar cases with a diagnosis), most similar first.
    pub evidence: Vec<EvidenceCase>,
}

/// One case the suggestions were computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceCase {
    pub case: CaseId,
    pub title: String,
    pub diagnosis: String,
    /// `validated`, `corrected` (by a doctor) or `library` (recorded by the teaching library).
    pub basis: String,
    pub certainty: Option<Certainty>,
    /// The fused similarity the list is ordered by.
    pub score: f32,
    /// Its share of the vote (0–1).
    pub weight: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestedDiagnosis {
    pub name: String,
    /// Calibrated: on the development split, suggestions shown at 70% were right about 70% of the time.
    pub confidence: f32,
    /// The evidence cases that voted for it.
    pub evidence: Vec<CaseId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestedCategory {
    /// `body_region`, `disease_class` or `topic`.
    pub kind: String,
    pub label: String,
    pub confidence: f32,
    pub evidence: Vec<CaseId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestedTest {
    /// `confirmed_by` (what confirmed the diagnosis in the evidence), `lab` (abnormal there, not
    /// measured here) or `imaging` (a modality the evidence had and this case lacks).
    pub kind: String,
    pub what: String,
    /// Share of the evidence's vote behind it (0–1).
    pub support: f32,
    pub evidence: Vec<CaseId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestedSpecialist {
    pub name: String,
    /// `reviewers` (what doctors recorded on the evidence cases) or `mapping` (the reviewed
    /// region × disease-class table).
    pub source: String,
    pub evidence: Vec<CaseId>,
}

/// A case's report as the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CaseReportView {
    /// Doctors: the latest version, draft or released. Patients: the latest released one.
    pub current: Option<CaseReportVersion>,
    /// Doctors only: every version, newest first.
    pub history: Vec<CaseReportVersion>,
    /// Doctors, before the first version: a draft made from the suggestions.
    pub prefill: Option<ReportDraft>,
    /// The caller may save and release versions (doctors).
    pub can_edit: bool,
    /// Patients: titles of the teaching-library cases a released report rests on (nothing of
    /// any other patient's case).
    pub teaching_evidence: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReportVersion {
    /// `draft` or `released`.
    pub status: String,
    pub diagnoses: Vec<String>,
    pub next_tests: Vec<String>,
    pub specialist: String,
    pub summary: String,
    /// The doctor's display name.
    pub author: String,
    pub at: String,
    /// Doctors only: what the author did with each suggestion.
    pub decisions: Vec<ReportDecisionView>,
}

/// The editable text of a report, one line per diagnosis and per test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ReportDraft {
    pub diagnoses: String,
    pub next_tests: String,
    pub specialist: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportDecisionView {
    /// `diagnosis`, `next_test` or `specialist`.
    pub kind: String,
    pub suggested: String,
    /// `accepted`, `rejected` or `added`.
    pub decision: String,
}

/// Why a hit matched its query, modality by modality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainView {
    pub query: CaseId,
    pub hit: CaseId,
    pub query_title: String,
    pub hit_title: String,
    /// The hit is a teaching case shown to a patient (no link, no image ids).
    pub deidentified: bool,
    /// Each text cut into pieces, the shared and the negated terms marked.
    pub query_text: Vec<TextPiece>,
    pub hit_text: Vec<TextPiece>,
    /// Terms both texts affirm, phrases first.
    pub shared_terms: Vec<String>,
    /// Terms one text affirms and the other negates ("no pneumothorax"): never counted as a match.
    pub negated_terms: Vec<String>,
    pub channels: Vec<ChannelScoreView>,
    /// Analytes abnormal in the same direction in both; abnormal in one of them only.
    pub shared_abnormal: Vec<String>,
    pub query_only_abnormal: Vec<String>,
    pub hit_only_abnormal: Vec<String>,
    /// The pair of images that matched best: the query's (the caller's own case) and the hit's
    /// (a link the caller may open: the image's thumbnail, or a signed one for a teaching case).
    pub query_image: Option<ImageId>,
    pub hit_image_url: Option<String>,
}

/// A piece of a text: plain, or a marked term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextPiece {
    pub text: String,
    /// `shared`, `negated`, or none.
    pub mark: Option<String>,
}
