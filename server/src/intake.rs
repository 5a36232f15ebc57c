//! Case intake: the one path by which a case enters Precedent (browser form, JSON API, demo
//! seeding). Everything is checked before anything is written; file bytes are stored before the
//! rows that name them, and the rows are written in one transaction.
use precedent_accounts::Actor;
use precedent_labs::PdfReader;
use precedent_media::{accept_image, accept_pdf, check_size, ImageLimits, MediaError};
use precedent_service::AppState;
use precedent_store::cases::{NewCase, NewImage, NewReport};
use precedent_store::StoreError;
use precedent_types::{CaseId, Modality};

pub const MAX_TITLE: usize = 300;
pub const MAX_TEXT: usize = 100_000;

/// One uploaded scan.
#[derive(Debug, Clone)]
pub struct UploadImage {
    pub filename: String,
    pub bytes: Vec<u8>,
    pub modality: Modality,
    pub plane: Option<String>,
    pub caption: Option<String>,
}

/// One uploaded lab report.
#[derive(Debug, Clone)]
pub struct UploadReport {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A case as submitted, before any check.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub title: String,
    pub history: String,
    pub exam: String,
    pub findings: String,
    pub diagnosis: Option<String>,
    pub age_years: Option<i32>,
    pub sex: Option<String>,
    pub body_region: Option<String>,
    pub source: String,
    pub external_ref: Option<String>,
    /// A library case patients may meet as a teaching case (library imports only).
    pub shareable: bool,
    /// A library's labels of the case (imports only).
    pub labels: std::collections::BTreeMap<String, String>,
    pub images: Vec<UploadImage>,
    pub reports: Vec<UploadReport>,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("background task failed: {0}")]
    Task(String),
}

fn clean_name(name: &str, fallback: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        fallback.to_string()
    } else {
        cleaned
    }
}

/// Checks the text fields; returns the trimmed upload.
pub fn validate(mut u: Upload, limits: &precedent_service::UploadLimits) -> Result<Upload, IntakeError> {
    u.title = u.title.trim().to_string();
    if u.title.is_empty() {
        return Err(IntakeError::Invalid("Give the case a title.".into()));
    }
    if u.title.chars().count() > MAX_TITLE {
        return Err(IntakeError::Invalid(format!("The title is too long (at most {MAX_TITLE} characters).")));
    }
    for (label, text) in [("history", &u.history), ("examination", &u.exam), ("findings", &u.findings)] {
        if text.chars().count() > MAX_TEXT {
            return Err(IntakeError::Invalid(format!("The {label} text is too long (at most {MAX_TEXT} characters); attach long documents as PDF instead.")));
        }
    }
    if let Some(age) = u.age_years {
        if !(0..=130).contains(&age) {
            return Err(IntakeError::Invalid("Age must be between 0 and 130.".into()));
        }
    }
    u.sex = match u.sex.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s @ ("F" | "M" | "X")) => Some(s.to_string()),
        Some(_) => return Err(IntakeError::Invalid("Sex must be F, M or X.".into())),
    };
    let files = u.images.len() + u.reports.len();
    if files > limits.max_files {
        return Err(IntakeError::Invalid(format!("Too many files ({files}); at most {} per case.", limits.max_files)));
    }
    for (i, img) in u.images.iter_mut().enumerate() {
        img.filename = clean_name(&img.filename, &format!("image-{}", i + 1));
        check_size(&img.filename, img.bytes.len(), limits.max_file_mb)?;
    }
    for (i, rep) in u.reports.iter_mut().enumerate() {
        rep.filename = clean_name(&rep.filename, &format!("report-{}.pdf", i + 1));
        check_size(&rep.filename, rep.bytes.len(), limits.max_file_mb)?;
        accept_pdf(&rep.filename, &rep.bytes)?;
    }
    if u.images.is_empty() {
        return Err(IntakeError::Invalid("Add at least one scan (JPEG or PNG).".into()));
    }
    if u.source.is_empty() {
        u.source = "upload".into();
    }
    Ok(u)
}

/// Validates, stores the files and creates the case for `owner` (who is also the actor).
pub async fn create_case(st: &AppState, actor: Actor, upload: Upload, ip: Option<String>) -> Result<CaseId, IntakeError> {
    let limits = st.limits;
    let u = validate(upload, &limits)?;
    let blobs = st.blobs.clone();
    let pdf = st.pdf.clone();
    // Decoding, thumbnails, PDF text and hashing are CPU work: keep them off the async threads.
    let prepared = tokio::task::spawn_blocking(move || prepare(u, limits, &blobs, &pdf)).await.map_err(|e| IntakeError::Task(e.to_string()))??;
    let new = NewCase { owner: actor.id, ..prepared };
    Ok(precedent_store::cases::create(&st.pool, &new, ip, actor.role).await?)
}

fn prepare(u: Upload, limits: precedent_service::UploadLimits, blobs: &precedent_store::BlobStore, pdf: &PdfReader) -> Result<NewCase, IntakeError> {
    let image_limits = ImageLimits { max_side: limits.max_image_side, ..ImageLimits::default() };
    let mut accepted = Vec::with_capacity(u.images.len());
    for img in &u.images {
        accepted.push(accept_image(&img.filename, &img.bytes, image_limits)?);
    }
    let reports: Vec<_> = u.reports.iter().map(|rep| (rep, crate::labs::read_report(pdf, &rep.bytes))).collect();
    // Every check passed: now write the bytes, before any row names them.
    let mut images = Vec::with_capacity(u.images.len());
    for (img, acc) in u.images.iter().zip(accepted) {
        let sha256 = blobs.put(&img.bytes).map_err(StoreError::from)?;
        let thumb_sha256 = blobs.put(&acc.thumbnail_jpeg).map_err(StoreError::from)?;
        images.push(NewImage {
            filename: img.filename.clone(),
            mime: acc.kind.mime().to_string(),
            sha256,
            byte_size: img.bytes.len() as i64,
            width: acc.width as i32,
            height: acc.height as i32,
            modality: img.modality,
            plane: img.plane.clone(),
            caption: img.caption.clone(),
            thumb_sha256,
        });
    }
    let mut new_reports = Vec::with_capacity(reports.len());
    for (rep, read) in reports {
        let sha256 = blobs.put(&rep.bytes).map_err(StoreError::from)?;
        new_reports.push(NewReport {
            filename: rep.filename.clone(),
            sha256,
            byte_size: rep.bytes.len() as i64,
            text_status: read.text_status,
            extracted_text: read.extracted_text,
            extract_error: read.extract_error,
            values: read.values,
            collected_on: read.collected_on,
        });
    }
    Ok(NewCase {
        owner: precedent_types::UserId(0),
        title: u.title,
        history: u.history,
        exam: u.exam,
        findings: u.findings,
        diagnosis: u.diagnosis,
        age_years: u.age_years,
        sex: u.sex,
        body_region: u.body_region,
        source: u.source,
        external_ref: u.external_ref,
        shareable: u.shareable,
        labels: u.labels,
        images,
        reports: new_reports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_messages_are_clear() {
        let limits = precedent_service::UploadLimits::default();
        let err = validate(Upload { title: "  ".into(), ..Default::default() }, &limits).unwrap_err();
        assert_eq!(err.to_string(), "Give the case a title.");
        let long = Upload { title: "t".into(), history: "x".repeat(MAX_TEXT + 1), ..Default::default() };
        assert!(validate(long, &limits).unwrap_err().to_string().contains("too long"));
        let exe = Upload {
            title: "t".into(),
            reports: vec![UploadReport { filename: "../../evil.pdf".into(), bytes: b"MZ\x90\x00".to_vec() }],
            ..Default::default()
        };
        assert!(validate(exe, &limits).unwrap_err().to_string().contains("not a PDF"));
        let no_scan = Upload { title: "t".into(), ..Default::default() };
        assert!(validate(no_scan, &limits).unwrap_err().to_string().contains("at least one scan"));
        let scan = UploadImage { filename: "a.png".into(), bytes: vec![1], modality: Modality::Ct, plane: None, caption: None };
        let ok = validate(Upload { title: " Cough ".into(), sex: Some("F".into()), images: vec![scan], ..Default::default() }, &limits).unwrap();
        assert_eq!(ok.title, "Cough");
        assert_eq!(ok.source, "upload");
        assert_eq!(clean_name("C:\\x\\scan.png", "f"), "scan.png");
    }
}
