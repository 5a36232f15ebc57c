//! The demo: accounts for each role and synthetic cases from `precedent-synth`, entered through
//! the same intake path as real uploads. Idempotent: a case already seeded is skipped.
use crate::intake::{self, IntakeError, Upload, UploadImage, UploadReport};
use precedent_accounts::{hash_password, Actor};
use precedent_service::AppState;
use precedent_store::{users, StoreError};
use precedent_types::{AccountKind, Certainty, Role};

pub const DEMO_ACCOUNTS: &[(&str, &str, Role)] = &[
    ("patient@demo.precedent", "Pat Demo", Role::Patient),
    ("patient2@demo.precedent", "Sam Example", Role::Patient),
    ("doctor@demo.precedent", "Dr Demo", Role::Doctor),
    ("admin@demo.precedent", "Admin Demo", Role::Admin),
];

/// The demo accounts' password: the configured one (`PRECEDENT_DEMO_PASSWORD`), else a fresh
/// random one (the same kind an admin's reset hands out), printed once when the accounts are
/// created.
pub fn demo_password(configured: Option<&str>) -> String {
    match configured.filter(|p| !p.is_empty()) {
        Some(p) => p.to_string(),
        None => precedent_accounts::password::temporary_password(),
    }
}

/// Creates the demo accounts that do not exist yet with `password`; returns all of them and
/// whether any was created (only then is `password` theirs).
pub async fn ensure_accounts(st: &AppState, password: &str) -> Result<(Vec<users::User>, bool), IntakeError> {
    let existing = users::of_kind(&st.pool, AccountKind::Demo).await?;
    let missing: Vec<_> = DEMO_ACCOUNTS.iter().filter(|(email, _, _)| !existing.iter().any(|u| u.email.eq_ignore_ascii_case(email))).collect();
    if missing.is_empty() {
        return Ok((existing, false));
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| IntakeError::Task(e.to_string()))?
        .map_err(|e| IntakeError::Task(e.to_string()))?;
    let mut out = existing;
    for (email, name, role) in missing {
        // A person holding a demo address (signed up before it was reserved) is never taken
        // for the demo account: creating it then fails as a conflict.
        out.push(users::create_system(&st.pool, AccountKind::Demo, email, name, &hash, *role).await?);
    }
    Ok((out, true))
}

/// What seeding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    /// Synthetic cases added now.
    pub cases: usize,
    /// The demo accounts were created now, with this password.
    pub new_password: Option<String>,
}

/// Adds synthetic cases `0..n` of stream `seed`: every fourth one a shareable teaching case of
/// the library (what patients may meet among their similar cases), the rest spread over the
/// demo patients; every third one is validated by the demo doctor. Demo accounts that do not
/// exist yet are created with `password`.
pub async fn seed_cases(st: &AppState, n: usize, seed: u64, password: &str) -> Result<Seeded, IntakeError> {
    let (accounts, created_accounts) = ensure_accounts(st, password).await?;
    let library = crate::import::library_owner(st).await.map_err(|e| match e {
        crate::import::ImportError::Store(e) => IntakeError::Store(e),
        other => IntakeError::Task(other.to_string()),
    })?;
    let patients: Vec<&users::User> = accounts.iter().filter(|u| u.role == Role::Patient).collect();
    let doctor = accounts.iter().find(|u| u.role == Role::Doctor).ok_or(StoreError::NotFound)?;
    let mut created = 0;
    for i in 0..n {
        let c = tokio::task::spawn_blocking(move || precedent_synth::generate_one(seed, i)).await.map_err(|e| IntakeError::Task(e.to_string()))?;
        let teaching = i % 4 == 3;
        let owner = if teaching { library } else { Actor { id: patients[i % patients.len()].id, role: Role::Patient } };
        let upload = Upload {
            title: c.title.clone(),
            history: c.history.clone(),
            exam: c.exam.clone(),
            findings: c.findings.clone(),
            diagnosis: Some(c.diagnosis.to_string()),
            age_years: Some(c.age),
            sex: Some(c.sex.to_string()),
            body_region: Some(c.region.label().to_string()),
            source: "demo".into(),
            external_ref: Some(c.key.clone()),
            shareable: teaching,
            labels: [("location", c.region.label().to_string()), ("topic", c.topic.to_string())].into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            images: c
                .images
                .iter()
                .map(|im| UploadImage {
                    filename: im.filename.clone(),
                    bytes: im.png.clone(),
                    modality: im.modality,
                    plane: Some(im.plane.to_string()),
                    caption: Some(im.caption.clone()),
                })
                .collect(),
            reports: c.lab_pdf.iter().map(|pdf| UploadReport { filename: format!("{}-labs.pdf", c.key), bytes: pdf.clone() }).collect(),
        };
        match intake::create_case(st, owner, upload, None).await {
            Ok(id) => {
                created += 1;
                if i % 3 == 0 {
                    let review = precedent_store::cases::NewValidation {
                        action: precedent_types::ReviewAction::Validate,
                        diagnosis: c.diagnosis.to_string(),
                        certainty: Certainty::Probable,
                        notes: "Consistent with the imaging and the history.".into(),
                        next_tests: String::new(),
                        specialist: String::new(),
                    };
                    precedent_store::cases::add_validation(&st.pool, id, doctor.id, doctor.role, &review, None).await?;
                }
            }
            Err(IntakeError::Store(StoreError::Conflict(_))) => {} // seeded before
            Err(e) => return Err(e),
        }
    }
    Ok(Seeded { cases: created, new_password: created_accounts.then(|| password.to_string()) })
}

/// Writes synthetic cases `0..n` of stream `seed` to `dir` as a library in the import format
/// (`docs/import-format.md`): one folder per case with its PNG scans and lab PDF, and
/// `cases.jsonl` with the labels (every tenth case is in the `dev` split).
pub fn export_synth(dir: &std::path::Path, n: usize, seed: u64) -> std::io::Result<usize> {
    export_cases(dir, &precedent_synth::generate(seed, n))
}

/// Writes `cases` to `dir` as a library in the import format (every tenth in the `dev` split).
pub fn export_cases(dir: &std::path::Path, cases: &[precedent_synth::SynthCase]) -> std::io::Result<usize> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut manifest = std::io::BufWriter::new(std::fs::File::create(dir.join("cases.jsonl"))?);
    for (i, c) in cases.iter().enumerate() {
        let folder = dir.join(&c.key);
        std::fs::create_dir_all(&folder)?;
        let mut images = Vec::new();
        for im in &c.images {
            std::fs::write(folder.join(&im.filename), &im.png)?;
            images.push(serde_json::json!({
                "file": format!("{}/{}", c.key, im.filename), "modality": im.modality, "plane": im.plane, "caption": im.caption,
            }));
        }
        let mut reports = Vec::new();
        if let Some(pdf) = &c.lab_pdf {
            std::fs::write(folder.join("labs.pdf"), pdf)?;
            reports.push(format!("{}/labs.pdf", c.key));
        }
        let row = serde_json::json!({
            "key": c.key, "split": if i % 10 == 0 { "dev" } else { "train" },
            "title": c.title, "history": c.history, "exam": c.exam, "findings": c.findings,
            "diagnosis": c.diagnosis, "age": c.age, "sex": c.sex, "region": c.region.label(),
            "labels": { "location": c.region.label(), "topic": c.topic, "diagnosis": c.diagnosis },
            "images": images, "lab_reports": reports,
        });
        writeln!(manifest, "{row}")?;
    }
    manifest.flush()?;
    Ok(cases.len())
}
