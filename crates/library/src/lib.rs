//! Case libraries on disk, for `precedent import` and `precedent eval`.
//!
//! The import format (see `docs/import-format.md`) is a folder with `cases.jsonl`, one JSON
//! object per line, whose image and PDF paths are relative to the folder. A MedPix 2.0 folder
//! (`cases.csv` + `images.csv` + `images/`) is read through the built-in adapter, as is.
//! Rows that cannot be used are refused with their line and reason; the rest are returned.
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("{0} is not a case library: it has neither cases.jsonl nor cases.csv + images.csv")]
    UnknownFormat(String),
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LibraryImage {
    /// Absolute path of the file.
    pub path: PathBuf,
    pub modality: Option<String>,
    pub plane: Option<String>,
    pub caption: Option<String>,
}

/// One case of a library.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LibraryCase {
    /// Line of the manifest (1-based; for CSV, counting the header) the case came from.
    pub line: usize,
    pub key: String,
    pub split: Option<String>,
    pub title: String,
    pub history: String,
    pub exam: String,
    pub findings: String,
    pub diagnosis: Option<String>,
    pub age: Option<i32>,
    pub sex: Option<String>,
    pub region: Option<String>,
    /// Evaluation labels, e.g. `location`, `topic`.
    pub labels: BTreeMap<String, String>,
    pub images: Vec<LibraryImage>,
    pub reports: Vec<PathBuf>,
}

impl LibraryCase {
    pub fn presenting_text(&self) -> String {
        presenting_text(&self.history, &self.exam)
    }

    pub fn full_text(&self) -> String {
        full_text(&self.title, &self.history, &self.exam, &self.findings, self.diagnosis.as_deref())
    }
}

// How case text is assembled for encoding: one definition, shared by the server's embedding
// worker and `precedent eval`, so stored vectors and evaluated vectors mean the same thing.

/// The presenting information a new case has (the query side): history and examination.
pub fn presenting_text(history: &str, exam: &str) -> String {
    join_text(&[history, exam])
}

/// Everything a case says (the library side): title, history, examination, findings, diagnosis.
pub fn full_text(title: &str, history: &str, exam: &str, findings: &str, diagnosis: Option<&str>) -> String {
    join_text(&[title, history, exam, findings, diagnosis.unwrap_or("")])
}

fn join_text(parts: &[&str]) -> String {
    parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("\n")
}

/// A row that was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub line: usize,
    pub key: Option<String>,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Library {
    pub name: String,
    pub cases: Vec<LibraryCase>,
    pub refused: Vec<Refusal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonImage {
    file: String,
    #[serde(default)]
    modality: Option<String>,
    #[serde(default)]
    plane: Option<String>,
    #[serde(default)]
    caption: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonCase {
    key: String,
    #[serde(default)]
    split: Option<String>,
    title: String,
    #[serde(default)]
    history: String,
    #[serde(default)]
    exam: String,
    #[serde(default)]
    findings: String,
    #[serde(default)]
    diagnosis: Option<String>,
    #[serde(default)]
    age: Option<i32>,
    #[serde(default)]
    sex: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    images: Vec<JsonImage>,
    #[serde(default)]
    lab_reports: Vec<String>,
}

/// Resolves `rel` inside `root`, refusing absolute paths and `..`.
fn inside(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if rel.is_empty() || p.is_absolute() || p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(format!("path {rel:?} must be relative to the library folder, without '..'"));
    }
    let full = root.join(p);
    if !full.is_file() {
        return Err(format!("file {rel:?} does not exist"));
    }
    Ok(full)
}

fn normalise_sex(s: Option<String>) -> Option<String> {
    match s.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
        Some(s) if s == "f" || s == "female" => Some("F".into()),
        Some(s) if s == "m" || s == "male" => Some("M".into()),
        Some(s) if !s.is_empty() => Some("X".into()),
        _ => None,
    }
}

/// Opens the library in `dir`, in whichever supported format it is.
pub fn open(dir: &Path) -> Result<Library, LibraryError> {
    let name = dir.canonicalize().ok().and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string())).unwrap_or_else(|| "library".into());
    if dir.join("cases.jsonl").is_file() {
        let mut lib = read_jsonl(dir)?;
        lib.name = name;
        Ok(lib)
    } else if dir.join("cases.csv").is_file() && dir.join("images.csv").is_file() {
        let mut lib = read_medpix(dir)?;
        lib.name = name;
        Ok(lib)
    } else {
        Err(LibraryError::UnknownFormat(dir.display().to_string()))
    }
}

fn read_err(path: &Path, e: impl std::fmt::Display) -> LibraryError {
    LibraryError::Read { path: path.display().to_string(), reason: e.to_string() }
}

/// Reads `cases.jsonl`.
pub fn read_jsonl(dir: &Path) -> Result<Library, LibraryError> {
    let path = dir.join("cases.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
    let mut lib = Library::default();
    let mut seen = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row: JsonCase = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => {
                lib.refused.push(Refusal { line: line_no, key: None, reason: format!("not a valid case object: {e}") });
                continue;
            }
        };
        let key = row.key.clone();
        let refuse = |reason: String| Refusal { line: line_no, key: Some(key.clone()), reason };
        if row.key.trim().is_empty() {
            lib.refused.push(refuse("empty key".into()));
            continue;
        }
        if !seen.insert(row.key.clone()) {
            lib.refused.push(refuse("duplicate key".into()));
            continue;
        }
        if row.title.trim().is_empty() {
            lib.refused.push(refuse("empty title".into()));
            continue;
        }
        let images: Result<Vec<LibraryImage>, String> = row
            .images
            .iter()
            .map(|im| Ok(LibraryImage { path: inside(dir, &im.file)?, modality: im.modality.clone(), plane: im.plane.clone(), caption: im.caption.clone() }))
            .collect();
        let reports: Result<Vec<PathBuf>, String> = row.lab_reports.iter().map(|r| inside(dir, r)).collect();
        match (images, reports) {
            (Ok(images), _) if images.is_empty() => lib.refused.push(refuse("no images (a case needs at least one scan)".into())),
            (Err(e), _) | (_, Err(e)) => lib.refused.push(refuse(e)),
            (Ok(images), Ok(reports)) => lib.cases.push(LibraryCase {
                line: line_no,
                key: row.key,
                split: row.split,
                title: row.title,
                history: row.history,
                exam: row.exam,
                findings: row.findings,
                diagnosis: row.diagnosis,
                age: row.age,
                sex: normalise_sex(row.sex),
                region: row.region,
                labels: row.labels,
                images,
                reports,
            }),
        }
    }
    Ok(lib)
}

/// The ACR disease class of an ACR index code: the first digit after the dot ("64.749" → 7,
/// "8.9" → 9); `None` for unknown codes ("-1.-1", "").
pub fn disease_class(acr: &str) -> Option<u8> {
    let (_, pathology) = acr.trim().split_once('.')?;
    pathology.chars().next()?.to_digit(10).map(|d| d as u8)
}

/// Reads a MedPix 2.0 folder (`cases.csv`, `images.csv`, `images/`) as it is published.
pub fn read_medpix(dir: &Path) -> Result<Library, LibraryError> {
    let cases_path = dir.join("cases.csv");
    let images_path = dir.join("images.csv");
    let mut images: BTreeMap<String, Vec<(LibraryImage, Option<i32>, Option<String>)>> = BTreeMap::new();
    let mut rdr = csv::Reader::from_path(&images_path).map_err(|e| read_err(&images_path, e))?;
    let headers = rdr.headers().map_err(|e| read_err(&images_path, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (c_uid, c_file, c_type, c_plane, c_caption, c_age, c_sex) =
        (col("U_id"), col("stored_file"), col("type"), col("plane"), col("caption"), col("age"), col("sex"));
    let mut lib = Library::default();
    let mut bad_images: BTreeMap<String, String> = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| read_err(&images_path, e))?;
        let get = |c: Option<usize>| c.and_then(|i| rec.get(i)).map(str::to_string).filter(|s| !s.is_empty());
        let (Some(uid), Some(file)) = (get(c_uid), get(c_file)) else { continue };
        match inside(dir, &file) {
            Ok(path) => images.entry(uid).or_default().push((
                LibraryImage { path, modality: get(c_type), plane: get(c_plane), caption: get(c_caption) },
                get(c_age).and_then(|a| a.parse().ok()),
                get(c_sex),
            )),
            Err(e) => {
                bad_images.insert(uid, e);
            }
        }
    }
    let mut rdr = csv::Reader::from_path(&cases_path).map_err(|e| read_err(&cases_path, e))?;
    let headers = rdr.headers().map_err(|e| read_err(&cases_path, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let cols =
        ["U_id", "split", "case_title", "history", "exam", "findings", "case_diagnosis", "location_category", "topic_category", "acr_code", "diagnosis_by"]
            .map(col);
    let mut seen = HashSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                lib.refused.push(Refusal { line, key: None, reason: e.to_string() });
                continue;
            }
        };
        let get = |k: usize| cols[k].and_then(|i| rec.get(i)).map(|s| s.trim().to_string()).unwrap_or_default();
        let key = get(0);
        let refuse = |reason: String| Refusal { line, key: Some(key.clone()), reason };
        if key.is_empty() || !seen.insert(key.clone()) {
            lib.refused.push(refuse("missing or duplicate U_id".into()));
            continue;
        }
        if let Some(e) = bad_images.get(&key) {
            lib.refused.push(refuse(e.clone()));
            continue;
        }
        let imgs = images.remove(&key).unwrap_or_default();
        if imgs.is_empty() {
            lib.refused.push(refuse("no images (a case needs at least one scan)".into()));
            continue;
        }
        let title = get(2);
        if title.is_empty() {
            lib.refused.push(refuse("empty case_title".into()));
            continue;
        }
        let mut labels = BTreeMap::new();
        for (name, k) in [("location", 7), ("topic", 8), ("diagnosis_by", 10)] {
            let v = get(k);
            if !v.is_empty() && v != "N/A" {
                labels.insert(name.to_string(), v);
            }
        }
        if let Some(class) = disease_class(&get(9)) {
            labels.insert("disease_class".into(), class.to_string());
        }
        let diagnosis = Some(get(6)).filter(|d| !d.is_empty()).or_else(|| Some(title.clone()));
        let (age, sex) = (imgs[0].1, normalise_sex(imgs[0].2.clone()));
        lib.cases.push(LibraryCase {
            line,
            key,
            split: Some(get(1)).filter(|s| !s.is_empty()),
            title,
            history: get(3),
            exam: get(4),
            findings: get(5),
            diagnosis,
            age,
            sex,
            region: labels.get("location").cloned(),
            labels,
            images: imgs.into_iter().map(|(im, _, _)| im).collect(),
            reports: Vec::new(),
        });
    }
    Ok(lib)
}

/// For fuzzing (the `library_manifest` target and the test that replays its inputs): one input
/// laid out as a library folder and read, with the reader's promises checked.
#[doc(hidden)]
pub mod fuzzing {
    use std::collections::HashSet;
    use std::path::Path;

    /// Writes `data` into `dir` beside one scan, `images/a.png` — first byte even: as
    /// `cases.jsonl`; odd: as MedPix `cases.csv` and `images.csv`, split at byte 0xff — reads the
    /// folder and panics if an accepted case has no scan, a scan outside the folder, or a line
    /// both read and refused. Returns false for an empty input (nothing to lay out).
    pub fn check_manifest_bytes(dir: &Path, data: &[u8]) -> bool {
        let scan = dir.join("images/a.png");
        if !scan.exists() {
            std::fs::create_dir_all(dir.join("images")).expect("fuzz dir");
            std::fs::write(&scan, b"scan").expect("scan");
        }
        for f in ["cases.jsonl", "cases.csv", "images.csv"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        let Some((b, rest)) = data.split_first() else { return false };
        if b % 2 == 0 {
            std::fs::write(dir.join("cases.jsonl"), rest).expect("write");
        } else {
            let cut = rest.iter().position(|&b| b == 0xff).unwrap_or(rest.len());
            std::fs::write(dir.join("cases.csv"), &rest[..cut]).expect("write");
            std::fs::write(dir.join("images.csv"), rest.get(cut + 1..).unwrap_or_default()).expect("write");
        }
        if let Ok(lib) = super::open(dir) {
            let refused: HashSet<_> = lib.refused.iter().map(|r| r.line).collect();
            for c in &lib.cases {
                assert!(!c.images.is_empty(), "line {}: a case without scans was accepted", c.line);
                assert!(c.images.iter().all(|i| i.path.starts_with(dir)), "line {}: a scan outside the library folder", c.line);
                assert!(!refused.contains(&c.line), "line {} both read and refused", c.line);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_disease_class_is_the_first_digit_after_the_dot() {
        assert_eq!(disease_class("64.749"), Some(7));
        assert_eq!(disease_class("8.9"), Some(9));
        assert_eq!(disease_class("1.3"), Some(3));
        assert_eq!(disease_class("-1.-1"), None);
        assert_eq!(disease_class(""), None);
        assert_eq!(disease_class("12"), None);
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("precedent-lib-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("a")).unwrap();
        std::fs::write(d.join("a/1.png"), b"png").unwrap();
        std::fs::write(d.join("a/r.pdf"), b"pdf").unwrap();
        d
    }

    #[test]
    fn jsonl_rows_are_read_or_refused_with_reasons() {
        let d = tmp("jsonl");
        let rows = [
            r#"{"key":"c1","title":"Pneumonia","history":"cough","images":[{"file":"a/1.png","modality":"xray"}],"lab_reports":["a/r.pdf"],"labels":{"location":"Thorax"},"sex":"female"}"#,
            r#"{"key":"c1","title":"dup","images":[{"file":"a/1.png"}]}"#,
            r#"{"key":"c2","title":"escape","images":[{"file":"../etc/passwd"}]}"#,
            r#"{"key":"c3","title":"missing","images":[{"file":"a/none.png"}]}"#,
            r#"{"key":"c4","title":"no images"}"#,
            r#"not json"#,
            r#"{"key":"c5","title":"typo","imagez":[]}"#,
        ];
        std::fs::write(d.join("cases.jsonl"), rows.join("\n")).unwrap();
        let lib = open(&d).unwrap();
        assert_eq!(lib.cases.len(), 1);
        let c = &lib.cases[0];
        assert_eq!(c.sex.as_deref(), Some("F"));
        assert_eq!(c.labels["location"], "Thorax");
        assert_eq!(c.reports.len(), 1);
        assert_eq!(c.full_text(), "Pneumonia\ncough");
        let reasons: Vec<(usize, &str)> = lib.refused.iter().map(|r| (r.line, r.reason.as_str())).collect();
        assert_eq!(reasons.len(), 6, "{reasons:?}");
        assert!(reasons[0].1.contains("duplicate"));
        assert!(reasons[1].1.contains(".."));
        assert!(reasons[2].1.contains("does not exist"));
        assert!(reasons[3].1.contains("no images"));
        assert!(reasons[4].1.contains("not a valid case"));
        assert!(reasons[5].1.contains("unknown field"));
    }

    #[test]
    fn medpix_adapter_reads_csvs() {
        let d = tmp("medpix");
        std::fs::write(
            d.join("cases.csv"),
            "U_id,split,location_category,topic_category,case_title,history,exam,findings,case_diagnosis\n\
             M1,dev,Head,Neoplasm,Glioma,\"headache, seizures\",normal,mass,Glioblastoma\n\
             M2,train,Thorax,Infection,Pneumonia,cough,,,\n",
        )
        .unwrap();
        std::fs::write(d.join("images.csv"), "image,stored_file,U_id,type,plane,age,sex,caption\nx,a/1.png,M1,MR,Axial,54,male,\"cap, tion\"\n").unwrap();
        let lib = open(&d).unwrap();
        assert_eq!(lib.cases.len(), 1);
        assert_eq!(lib.cases[0].presenting_text(), "headache, seizures\nnormal");
        assert_eq!(lib.cases[0].labels["topic"], "Neoplasm");
        assert_eq!(lib.cases[0].sex.as_deref(), Some("M"));
        assert_eq!(lib.cases[0].age, Some(54));
        assert_eq!(lib.refused.len(), 1);
        assert!(lib.refused[0].reason.contains("no images"));
        assert!(open(&d.join("a")).is_err());
    }

    #[test]
    fn real_medpix_dev_reads_when_present() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/medpix2-dev");
        if !dir.is_dir() {
            eprintln!("skipped: {} is absent", dir.display());
            return;
        }
        let lib = open(&dir).unwrap();
        assert_eq!(lib.cases.len() + lib.refused.len(), 602);
        assert!(lib.cases.len() >= 600, "{:?}", &lib.refused[..lib.refused.len().min(3)]);
        assert_eq!(lib.cases.iter().map(|c| c.images.len()).sum::<usize>(), 1850);
    }
}
