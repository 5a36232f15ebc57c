//! Why two case texts match: the clinical terms they share, found lexically (content words and
//! two-word phrases, lower case, simple plurals folded), each located in both texts so a page can
//! highlight it. A term mentioned only under a negation ("no pneumothorax", "denies fever",
//! "negative for malignancy", "without …") is never a match for its positive form: it is listed
//! as negated in the text that negates it. Sentence embeddings confuse the two; this does not.

/// Words that carry no clinical meaning on their own.
const STOP: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "in",
    "on",
    "at",
    "to",
    "for",
    "with",
    "by",
    "from",
    "as",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "has",
    "have",
    "had",
    "this",
    "that",
    "these",
    "those",
    "there",
    "which",
    "who",
    "his",
    "her",
    "their",
    "its",
    "he",
    "she",
    "they",
    "it",
    "patient",
    "presents",
    "presented",
    "history",
    "year",
    "years",
    "old",
    "yo",
    "y",
    "male",
    "female",
    "man",
    "woman",
    "mm",
    "cm",
    "also",
    "after",
    "before",
    "within",
    "into",
    "than",
    "then",
    "but",
    "not",
    "no",
    "some",
    "any",
    "both",
    "each",
    "other",
    "over",
    "under",
    "about",
    "one",
    "two",
    "three",
    "left",
    "right",
    "seen",
    "noted",
    "shows",
    "show",
    "demonstrates",
    "demonstrate",
    "there",
    "case",
    "findings",
    "image",
    "images",
];

/// Cues that negate what follows them in the same clause.
const NEGATIONS: &[&str] = &["no", "not", "denies", "denied", "without", "negative", "absent", "absence", "free", "never", "nor"];

/// Words that end a negation's reach.
const CLAUSE_BREAKS: &[&str] = &["but", "however", "although", "except", "which", "with"];

/// How many words a negation reaches.
const NEGATION_WINDOW: usize = 5;

/// One word of a text: its folded form, byte span, and whether a negation covers it.
#[derive(Debug, Clone, PartialEq)]
struct Word {
    norm: String,
    start: usize,
    end: usize,
    negated: bool,
}

/// Lower case, simple plurals singular: the form terms are compared in.
fn fold(w: &str) -> String {
    crate::normalise::singular(&w.to_lowercase())
}

fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    // Negation reach left; reset at sentence and clause ends.
    let mut reach = 0usize;
    let mut start = None;
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let flush = |s: usize, e: usize, out: &mut Vec<Word>, reach: &mut usize| {
        let raw = &text[s..e];
        let norm = fold(raw);
        let lower = raw.to_lowercase();
        if NEGATIONS.contains(&norm.as_str()) || NEGATIONS.contains(&lower.as_str()) {
            *reach = NEGATION_WINDOW;
        } else if CLAUSE_BREAKS.contains(&norm.as_str()) {
            *reach = 0;
        } else {
            out.push(Word { norm, start: s, end: e, negated: *reach > 0 });
            *reach = reach.saturating_sub(1);
        }
    };
    for (i, c) in bytes.iter().copied() {
        if c.is_alphanumeric() || (c == '-' && start.is_some()) {
            start.get_or_insert(i);
        } else {
            if let Some(s) = start.take() {
                flush(s, i, &mut out, &mut reach);
            }
            if matches!(c, '.' | ';' | ':' | '\n' | '!' | '?') {
                reach = 0;
            }
        }
    }
    if let Some(s) = start {
        flush(s, text.len(), &mut out, &mut reach);
    }
    out
}

fn content(w: &Word) -> bool {
    w.norm.chars().count() > 2 && !STOP.contains(&w.norm.as_str()) && !w.norm.chars().all(|c| c.is_ascii_digit())
}

/// A term as it appears in one text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mention {
    /// Byte range in that text.
    pub start: usize,
    pub end: usize,
}

/// A term the texts share, or one negated in one of them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Term {
    /// The term as first written in the query.
    pub text: String,
    pub in_query: Vec<Mention>,
    pub in_hit: Vec<Mention>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TextMatch {
    /// Terms affirmed in both texts, two-word phrases first, then by rarity (longer first).
    pub shared: Vec<Term>,
    /// Terms one text affirms and the other negates: shown, never counted as a match.
    pub negated: Vec<Term>,
}

type Terms = Vec<(String, String, Mention, bool)>;

/// (key, as written, mention, negated) for every content word and two-word phrase.
fn terms(text: &str) -> Terms {
    let ws: Vec<Word> = words(text);
    let mut out = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        if content(w) {
            out.push((w.norm.clone(), text[w.start..w.end].to_string(), Mention { start: w.start, end: w.end }, w.negated));
        }
        if let Some(n) = ws.get(i + 1) {
            // Adjacent in the text (only spaces between) and both content words.
            if content(w) && content(n) && text[w.end..n.start].chars().all(|c| c == ' ') {
                out.push((format!("{} {}", w.norm, n.norm), text[w.start..n.end].to_string(), Mention { start: w.start, end: n.end }, w.negated || n.negated));
            }
        }
    }
    out
}

/// The terms `query` and `hit` share, and those one of them negates.
pub fn match_texts(query: &str, hit: &str) -> TextMatch {
    let (q, h) = (terms(query), terms(hit));
    let mut keys: Vec<&String> = Vec::new();
    for t in &q {
        if !keys.contains(&&t.0) {
            keys.push(&t.0);
        }
    }
    let mut shared = Vec::new();
    let mut negated = Vec::new();
    for key in keys {
        let mentions = |ts: &Terms, neg: bool| ts.iter().filter(|t| &t.0 == key && t.3 == neg).map(|t| t.2.clone()).collect::<Vec<_>>();
        let shown = q.iter().find(|t| &t.0 == key).map(|t| t.1.clone()).unwrap_or_default();
        let (qa, qn, ha, hn) = (mentions(&q, false), mentions(&q, true), mentions(&h, false), mentions(&h, true));
        if !qa.is_empty() && !ha.is_empty() {
            shared.push(Term { text: shown, in_query: qa, in_hit: ha });
        } else if (!qa.is_empty() && !hn.is_empty()) || (!qn.is_empty() && !ha.is_empty()) {
            negated.push(Term { text: shown, in_query: [qa, qn].concat(), in_hit: [ha, hn].concat() });
        }
    }
    // Phrases first; within each, longer (rarer) terms first; a word already inside a shared
    // phrase is not listed again on its own.
    shared.sort_by(|a, b| b.text.contains(' ').cmp(&a.text.contains(' ')).then(b.text.len().cmp(&a.text.len())));
    let phrases: Vec<String> = shared.iter().filter(|t| t.text.contains(' ')).map(|t| t.text.to_lowercase()).collect();
    shared.retain(|t| t.text.contains(' ') || !phrases.iter().any(|p| p.split(' ').any(|w| fold(w) == fold(&t.text))));
    TextMatch { shared, negated }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(m: &[Term]) -> Vec<String> {
        m.iter().map(|t| t.text.to_lowercase()).collect()
    }

    #[test]
    fn shared_terms_are_found_and_located_in_both_texts() {
        let q = "Headache and left-sided weakness. MRI shows a ring-enhancing lesions.";
        let h = "Ring-enhancing lesion in the right frontal lobe; weakness of the arm.";
        let m = match_texts(q, h);
        let t = texts(&m.shared);
        assert!(t.contains(&"ring-enhancing lesions".to_string()), "{t:?}");
        assert!(t.contains(&"weakness".to_string()));
        assert!(!t.contains(&"lesions".to_string()), "a word inside a shared phrase is not repeated: {t:?}");
        let ring = m.shared.iter().find(|x| x.text.starts_with("ring")).unwrap();
        assert_eq!(&q[ring.in_query[0].start..ring.in_query[0].end], "ring-enhancing lesions");
        assert_eq!(&h[ring.in_hit[0].start..ring.in_hit[0].end], "Ring-enhancing lesion");
    }

    #[test]
    fn a_negated_finding_never_matches_its_positive_form() {
        let m = match_texts("Chest pain. No pneumothorax. Denies fever.", "Large pneumothorax on the left; fever and chest pain.");
        let shared = texts(&m.shared);
        assert!(shared.contains(&"chest pain".to_string()), "{shared:?}");
        assert!(!shared.iter().any(|s| s.contains("pneumothorax") || s.contains("fever")), "{shared:?}");
        let neg = texts(&m.negated);
        assert!(neg.contains(&"pneumothorax".to_string()) && neg.contains(&"fever".to_string()), "{neg:?}");
        // Both negated: they agree, but an absent finding is no matched evidence either.
        let m = match_texts("Negative for malignancy.", "Biopsy negative for malignancy.");
        assert!(m.shared.is_empty() && m.negated.is_empty(), "{m:?}");
        // The negation ends at the clause: "no fever but cough" still affirms cough.
        let m = match_texts("No fever but productive cough.", "Productive cough for a week.");
        assert!(texts(&m.shared).contains(&"productive cough".to_string()));
    }

    #[test]
    fn nothing_in_common_is_nothing() {
        assert_eq!(match_texts("", "anything"), TextMatch::default());
        assert_eq!(match_texts("the and of", "the and of").shared, vec![]);
    }
}
