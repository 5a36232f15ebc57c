//! The case report: a doctor drafts it from the suggestions (prefilled), edits, saves versions
//! and releases it; the patient sees only the latest released version, with the teaching
//! library cases it rests on and nothing of any other patient's case. What the doctor did with
//! each suggestion (accepted, rejected, or a line added) is stored with every version.
use crate::{audit, Caller, ServiceError};
use precedent_accounts::can_review;
use precedent_store::case_reports::{CaseReportRow, Decision, NewCaseReport};
use precedent_suggest::normalise::diagnosis_key;
use precedent_types::dto::{CaseReportVersion, CaseReportView, ReportDecisionView, ReportDraft, SuggestionsView};
use precedent_types::CaseId;

/// At most this many characters per field, and lines per list.
pub const MAX_FIELD: usize = 5000;
pub const MAX_LINES: usize = 20;

/// What a doctor submits.
#[derive(Debug, Clone, Default)]
pub struct ReportForm {
    pub draft: ReportDraft,
    /// Release to the patient (else saved as a draft).
    pub release: bool,
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

fn version(r: CaseReportRow, staff: bool) -> CaseReportVersion {
    CaseReportVersion {
        status: r.status,
        diagnoses: lines(&r.diagnoses),
        next_tests: lines(&r.next_tests),
        specialist: r.specialist,
        summary: r.summary,
        author: r.author_name,
        at: crate::display_time(r.created_at),
        decisions: if staff {
            r.decisions.0.into_iter().map(|d| ReportDecisionView { kind: d.kind, suggested: d.suggested, decision: d.decision }).collect()
        } else {
            Vec::new()
        },
    }
}

/// A first draft from the suggestions: the likelier diagnoses, the tests, the specialist.
pub fn prefill(s: &SuggestionsView) -> ReportDraft {
    ReportDraft {
        diagnoses: s.differential.iter().filter(|d| d.confidence >= 0.05).take(3).map(|d| d.name.clone()).collect::<Vec<_>>().join("\n"),
        next_tests: s.next_tests.iter().map(|t| t.what.clone()).collect::<Vec<_>>().join("\n"),
        specialist: s.specialist.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
        summary: String::new(),
    }
}

/// What the doctor did with each suggestion, judged from what they submitted: a suggested line
/// kept (diagnoses compared under the suggestion engine's name normalisation) is accepted, one
/// left out rejected; a submitted line nobody suggested is added.
pub fn decisions(s: &SuggestionsView, d: &ReportDraft) -> Vec<Decision> {
    let mut out = Vec::new();
    let mut judge = |kind: &str, suggested: Vec<String>, submitted: Vec<String>, same: &dyn Fn(&str, &str) -> bool| {
        for x in &suggested {
            let kept = submitted.iter().any(|y| same(x, y));
            out.push(Decision { kind: kind.into(), suggested: x.clone(), decision: if kept { "accepted" } else { "rejected" }.into() });
        }
        for y in submitted.iter().filter(|y| !suggested.iter().any(|x| same(x, y))) {
            out.push(Decision { kind: kind.into(), suggested: y.clone(), decision: "added".into() });
        }
    };
    let same_dx = |a: &str, b: &str| diagnosis_key(a) == diagnosis_key(b);
    let same_text = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    judge("diagnosis", s.differential.iter().map(|x| x.name.clone()).collect(), lines(&d.diagnoses), &same_dx);
    judge("next_test", s.next_tests.iter().map(|x| x.what.clone()).collect(), lines(&d.next_tests), &same_text);
    judge("specialist", s.specialist.iter().map(|x| x.name.clone()).collect(), lines(&d.specialist), &same_text);
    out
}

/// The report of `case_id` as the caller may see it.
pub async fn view(c: &Caller, case_id: i64) -> Result<CaseReportView, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    crate::similar::readable_case(st, actor, case_id, &ip).await?;
    let out = if actor.role.is_staff() {
        let history: Vec<CaseReportVersion> =
            precedent_store::case_reports::versions(&st.pool, CaseId(case_id)).await?.into_iter().map(|r| version(r, true)).collect();
        let prefill = match history.is_empty() && can_review(&actor) {
            true => Some(prefill(&crate::suggest::for_case(c, case_id).await?)),
            false => None,
        };
        CaseReportView { current: history.first().cloned(), history, prefill, can_edit: can_review(&actor), teaching_evidence: Vec::new() }
    } else {
        match precedent_store::case_reports::latest_released(&st.pool, CaseId(case_id)).await? {
            Some(r) => {
                let teaching = precedent_store::case_reports::shareable_titles(&st.pool, &r.evidence).await?;
                CaseReportView { current: Some(version(r, false)), teaching_evidence: teaching, ..CaseReportView::default() }
            }
            None => CaseReportView::default(),
        }
    };
    audit(&st.pool, Some(actor), "case.report", Some(("case", case_id)), ip, "ok").await?;
    Ok(out)
}

/// Saves a new version of the report (doctors); released when the form says so.
pub async fn save(c: &Caller, case_id: i64, form: &ReportForm) -> Result<(), ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    if !can_review(&actor) {
        audit(&st.pool, Some(actor), "case.report.save", Some(("case", case_id)), ip, "denied").await?;
        return Err(ServiceError::Forbidden);
    }
    crate::similar::readable_case(st, actor, case_id, &ip).await?;
    let d = &form.draft;
    for (name, text) in [("diagnoses", &d.diagnoses), ("next tests", &d.next_tests), ("specialist", &d.specialist), ("summary", &d.summary)] {
        if text.chars().count() > MAX_FIELD {
            return Err(ServiceError::Invalid(format!("The {name} are too long (at most {MAX_FIELD} characters).")));
        }
        if lines(text).len() > MAX_LINES {
            return Err(ServiceError::Invalid(format!("At most {MAX_LINES} lines of {name}.")));
        }
    }
    if form.release && lines(&d.diagnoses).is_empty() && d.summary.trim().is_empty() {
        return Err(ServiceError::Invalid("Write at least one diagnosis or a summary before releasing the report.".into()));
    }
    let suggestions = crate::suggest::for_case(c, case_id).await?;
    let new = NewCaseReport {
        case: CaseId(case_id),
        author: actor.id,
        released: form.release,
        diagnoses: lines(&d.diagnoses).join("\n"),
        next_tests: lines(&d.next_tests).join("\n"),
        specialist: d.specialist.trim().to_string(),
        summary: d.summary.trim().to_string(),
        decisions: decisions(&suggestions, d),
        evidence: suggestions.evidence.iter().map(|e| e.case.0).collect(),
    };
    precedent_store::case_reports::insert(&st.pool, &new).await?;
    let action = if form.release { "case.report.release" } else { "case.report.draft" };
    audit(&st.pool, Some(actor), action, Some(("case", case_id)), ip, "ok").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use precedent_types::dto::{SuggestedDiagnosis, SuggestedSpecialist, SuggestedTest};

    #[test]
    fn decisions_follow_what_the_doctor_kept_left_out_and_added() {
        let s = SuggestionsView {
            differential: vec![
                SuggestedDiagnosis { name: "Bladder diverticulum".into(), confidence: 0.6, evidence: vec![] },
                SuggestedDiagnosis { name: "Cystitis".into(), confidence: 0.2, evidence: vec![] },
            ],
            next_tests: vec![SuggestedTest { kind: "confirmed_by".into(), what: "Biopsy".into(), support: 0.5, evidence: vec![] }],
            specialist: Some(SuggestedSpecialist { name: "Urology".into(), source: "mapping".into(), evidence: vec![] }),
            ..SuggestionsView::default()
        };
        let p = prefill(&s);
        assert_eq!(p.diagnoses, "Bladder diverticulum\nCystitis");
        let d = ReportDraft {
            diagnoses: "Diverticulum of the bladder\nBladder stone".into(),
            next_tests: "biopsy".into(),
            specialist: "Nephrology".into(),
            summary: String::new(),
        };
        let got: Vec<(String, String, String)> = decisions(&s, &d).into_iter().map(|x| (x.kind, x.suggested, x.decision)).collect();
        let want = [
            ("diagnosis", "Bladder diverticulum", "accepted"),
            ("diagnosis", "Cystitis", "rejected"),
            ("diagnosis", "Bladder stone", "added"),
            ("next_test", "Biopsy", "accepted"),
            ("specialist", "Urology", "rejected"),
            ("specialist", "Nephrology", "added"),
        ];
        assert_eq!(got, want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).to_vec());
    }
}
