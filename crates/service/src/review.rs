//! Doctors' reviews: the review form checked against the case's current diagnosis (validate
//! confirms it, correct replaces it), appended to the case's history; and the review queue of
//! cases without a review, oldest first, by body region.
use crate::{audit, display_time};
use crate::{Caller, ServiceError};
use precedent_accounts::can_review;
use precedent_store::cases::NewValidation;
use precedent_types::dto::{QueueItemView, ReviewQueueView};
use precedent_types::{CaseId, Certainty, ReviewAction};

/// Cases per page of the review queue.
pub const QUEUE_PER_PAGE: u32 = 25;

pub const MAX_DIAGNOSIS: usize = 500;
pub const MAX_NOTES: usize = 5_000;
pub const MAX_SHORT: usize = 500;

/// What the review form sends.
#[derive(Debug, Clone, Default)]
pub struct ReviewForm {
    pub action: String,
    pub diagnosis: String,
    pub certainty: String,
    pub notes: String,
    pub next_tests: String,
    pub specialist: String,
}

fn limited(value: &str, max: usize, what: &str) -> Result<String, ServiceError> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(ServiceError::Invalid(format!("The {what} is too long (at most {max} characters).")));
    }
    Ok(v.to_string())
}

/// Checks the form against the case's current diagnosis: validating confirms it (and needs
/// one), correcting replaces it (and needs a new one).
pub fn validate_form(form: &ReviewForm, current: Option<&str>) -> Result<NewValidation, ServiceError> {
    let certainty: Certainty = form.certainty.trim().parse().map_err(|_| ServiceError::Invalid("Choose a certainty: possible, probable or certain.".into()))?;
    let typed = limited(&form.diagnosis, MAX_DIAGNOSIS, "diagnosis")?;
    let (action, diagnosis) = match form.action.trim() {
        "validate" => {
            let Some(current) = current.map(str::trim).filter(|c| !c.is_empty()) else {
                return Err(ServiceError::Invalid("This case has no diagnosis to validate; enter one and choose “Correct”.".into()));
            };
            (ReviewAction::Validate, current.to_string())
        }
        "correct" => {
            if typed.is_empty() {
                return Err(ServiceError::Invalid("Enter the corrected diagnosis.".into()));
            }
            (ReviewAction::Correct, typed)
        }
        _ => return Err(ServiceError::Invalid("Choose whether to validate or correct the diagnosis.".into())),
    };
    Ok(NewValidation {
        action,
        diagnosis,
        certainty,
        notes: limited(&form.notes, MAX_NOTES, "notes")?,
        next_tests: limited(&form.next_tests, MAX_SHORT, "recommended tests")?,
        specialist: limited(&form.specialist, MAX_SHORT, "specialist")?,
    })
}

/// Appends `actor`'s review to the case's history.
pub async fn review(c: &Caller, case_id: i64, form: &ReviewForm) -> Result<(), ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    if !can_review(&actor) {
        audit(&st.pool, Some(actor), "case.review", Some(("case", case_id)), ip, "denied").await?;
        return Err(ServiceError::Forbidden);
    }
    let Some(detail) = precedent_store::cases::get(&st.pool, CaseId(case_id)).await? else {
        return Err(ServiceError::NotFound);
    };
    let current = detail.validations.first().map(|v| v.diagnosis.clone()).or(detail.case.diagnosis.clone());
    let v = validate_form(form, current.as_deref())?;
    precedent_store::cases::add_validation(&st.pool, CaseId(case_id), actor.id, actor.role, &v, ip).await?;
    tracing::info!(case = case_id, action = %v.action, "case reviewed");
    Ok(())
}

pub async fn queue(c: &Caller, page: u32, region: Option<String>) -> Result<ReviewQueueView, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    if !can_review(&actor) {
        audit(&st.pool, Some(actor), "review.queue", None, ip, "denied").await?;
        return Err(ServiceError::Forbidden);
    }
    let page = page.clamp(1, 1_000_000);
    let region = region.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    let (rows, total) = precedent_store::cases::review_queue(&st.pool, region.as_deref(), QUEUE_PER_PAGE as i64, ((page - 1) * QUEUE_PER_PAGE) as i64).await?;
    let shown: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
    crate::audit_detail(&st.pool, Some(actor), "review.queue", None, ip, "ok", serde_json::json!({ "shown": shown })).await?;
    Ok(ReviewQueueView {
        items: rows
            .into_iter()
            .map(|r| QueueItemView {
                id: r.id,
                title: r.title,
                diagnosis: r.diagnosis,
                body_region: r.body_region,
                age_years: r.age_years,
                sex: r.sex,
                created_at: display_time(r.created_at),
            })
            .collect(),
        total,
        page,
        per_page: QUEUE_PER_PAGE,
        region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(action: &str, diagnosis: &str, certainty: &str) -> ReviewForm {
        ReviewForm { action: action.into(), diagnosis: diagnosis.into(), certainty: certainty.into(), ..Default::default() }
    }

    #[test]
    fn validating_confirms_the_current_diagnosis_and_correcting_replaces_it() {
        let v = validate_form(&form("validate", "ignored", "certain"), Some("Pneumonia")).unwrap();
        assert_eq!((v.action, v.diagnosis.as_str(), v.certainty), (ReviewAction::Validate, "Pneumonia", Certainty::Certain));
        let v = validate_form(&form("correct", "  Pulmonary embolism ", "possible"), Some("Pneumonia")).unwrap();
        assert_eq!((v.action, v.diagnosis.as_str()), (ReviewAction::Correct, "Pulmonary embolism"));
    }

    #[test]
    fn bad_reviews_are_refused_with_reasons() {
        for (f, current, needle) in [
            (form("validate", "", "certain"), None, "no diagnosis to validate"),
            (form("correct", "  ", "certain"), Some("x"), "corrected diagnosis"),
            (form("correct", "x", "sure"), Some("x"), "certainty"),
            (form("delete", "x", "certain"), Some("x"), "validate or correct"),
            (form("correct", &"x".repeat(501), "certain"), Some("x"), "too long"),
        ] {
            match validate_form(&f, current) {
                Err(ServiceError::Invalid(m)) => assert!(m.contains(needle), "{m}"),
                other => panic!("{f:?}: {other:?}"),
            }
        }
    }
}
