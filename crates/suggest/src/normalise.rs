//! How names are normalised before they are counted together.
//!
//! A diagnosis's key is the set of its content words: lower case, accents and punctuation
//! dropped, parentheses removed with what they hold, a few filler words dropped ("of", "the",
//! "with", "left", "right", …), simple plurals made singular, a short list of spelled-out
//! abbreviations expanded, the words sorted. So "Bladder Diverticulum" and "Diverticulum of the
//! bladder" are one entry, "GBM" and "glioblastoma multiforme" too; "Left upper lobe collapse"
//! and "Right upper lobe collapse" also (the side is not part of what the disease is).

/// Words that do not change which disease is meant.
const FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "of",
    "with",
    "and",
    "in",
    "on",
    "to",
    "due",
    "secondary",
    "left",
    "right",
    "bilateral",
    "probable",
    "possible",
    "likely",
    "suspected",
    "consistent",
    "type",
    "case",
    "disease",
    "syndrome",
    // WHO 2021 dropped "multiforme": glioblastoma multiforme is glioblastoma.
    "multiforme",
];

/// Abbreviations and their spelled-out words (expanded before the words are collected).
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("gbm", "glioblastoma multiforme"),
    ("avm", "arteriovenous malformation"),
    ("ms", "multiple sclerosis"),
    ("rcc", "renal cell carcinoma"),
    ("hcc", "hepatocellular carcinoma"),
    ("pe", "pulmonary embolism"),
    ("sah", "subarachnoid hemorrhage"),
    ("tb", "tuberculosis"),
    ("nf1", "neurofibromatosis 1"),
    ("adpkd", "autosomal dominant polycystic kidney"),
];

/// British and American spellings counted as one.
fn spelling(w: &str) -> String {
    w.replace("haem", "hem").replace("oedema", "edema").replace("tumour", "tumor").replace("oesoph", "esoph").replace("paed", "ped")
}

/// A simple plural made singular ("lesions" → "lesion", "arteries" → "artery").
pub fn singular(w: &str) -> String {
    if w.len() > 4 && w.ends_with("ies") {
        format!("{}y", &w[..w.len() - 3])
    } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..w.len() - 1].to_string()
    } else {
        w.to_string()
    }
}

/// The key under which diagnoses are grouped (empty for an empty or all-filler name).
pub fn diagnosis_key(name: &str) -> String {
    let mut depth = 0;
    let mut plain = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = (depth - 1).max(0),
            _ if depth > 0 => {}
            c if c.is_alphanumeric() => plain.extend(fold(c).to_lowercase()),
            _ => plain.push(' '),
        }
    }
    let mut words: Vec<String> = Vec::new();
    for w in plain.split_whitespace() {
        match ABBREVIATIONS.iter().find(|(a, _)| *a == w) {
            Some((_, full)) => words.extend(full.split(' ').map(str::to_string)),
            None => words.push(w.to_string()),
        }
    }
    let mut key: Vec<String> = words.into_iter().filter(|w| !FILLER.contains(&w.as_str())).map(|w| singular(&spelling(&w))).collect();
    key.sort();
    key.dedup();
    key.join(" ")
}

/// Latin letters with accents as their base letter (é → e); other characters unchanged.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        c => c,
    }
}

/// The kinds of test a free-text "diagnosis by" names ("Lung biopsy proven" → Biopsy; "MRI and
/// pathology" → MRI, Pathology), in a fixed order; nothing for text that names none.
pub fn confirmation(text: &str) -> Vec<String> {
    let t = format!(" {} ", text.to_lowercase().replace(|c: char| !c.is_alphanumeric(), " "));
    const KINDS: &[(&str, &[&str])] = &[
        ("Biopsy", &["biops"]),
        ("Pathology", &["patholog", "histolog", "cytolog"]),
        ("Surgery", &["surg", "resection", "operat"]),
        ("MRI", &[" mri ", " mr "]),
        ("CT", &[" ct ", "computed tomograph"]),
        ("Angiography", &["angiogra"]),
        ("Ultrasound", &["ultrasound", " us ", "sonograph"]),
        ("Radiograph", &["radiograph", "x ray", "xray"]),
        ("Lumbar puncture", &["lumbar puncture", " csf "]),
        ("Culture", &["culture"]),
        ("Laboratory tests", &["laborator", " lab ", " labs ", "serolog", "blood test"]),
        ("Clinical follow-up", &["follow up", "clinical"]),
    ];
    KINDS.iter().filter(|(_, needles)| needles.iter().any(|n| t.contains(n))).map(|(k, _)| k.to_string()).collect()
}

/// A modality's name as doctors say it.
pub fn modality_name(m: &str) -> String {
    match m.to_lowercase().as_str() {
        "ct" => "CT".into(),
        "mr" | "mri" => "MR".into(),
        "xray" => "X-ray".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_diagnosis_written_differently_has_one_key() {
        for (a, b) in [
            ("Bladder Diverticulum", "Diverticulum of the bladder"),
            ("GBM", "Glioblastoma multiforme"),
            ("Subarachnoid haemorrhage", "subarachnoid hemorrhages"),
            ("Left upper lobe collapse", "Right upper lobe collapse"),
            ("Meningioma (WHO grade I)", "meningioma"),
            ("Méningiome", "meningiome"),
        ] {
            assert_eq!(diagnosis_key(a), diagnosis_key(b), "{a} / {b}");
        }
        assert_ne!(diagnosis_key("Renal cell carcinoma"), diagnosis_key("Hepatocellular carcinoma"));
        assert_eq!(diagnosis_key("the (of)"), "");
        assert_eq!(diagnosis_key("Glioma"), "glioma");
    }

    #[test]
    fn confirmations_are_read_from_free_text() {
        assert_eq!(confirmation("Lung biopsy proven Small Cell Lung Cancer."), vec!["Biopsy"]);
        assert_eq!(confirmation("MRI and surgical pathology"), vec!["Pathology", "Surgery", "MRI"]);
        assert_eq!(confirmation("CT scan"), vec!["CT"]);
        assert!(confirmation("N/A").is_empty());
    }
}
