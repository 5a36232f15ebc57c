//! Cases: one page of the cases a caller may see (a patient's own, all of them for staff), and
//! one case with its images, reports, lab values and review history. Another patient's case is
//! "not found", so ids cannot be probed; every read is audited.
use crate::{audit, display_time};
use crate::{Caller, ServiceError};
use precedent_accounts::can_read_case;
use precedent_store::cases::TextStatus;
use precedent_types::dto::{CaseListView, CaseSummaryView, CaseView, ImageView, ReportText, ReportView, ValidationView};

/// Cases per page of the case list.
pub const PER_PAGE: u32 = 20;

/// One page of the cases `actor` may see, newest first.
pub async fn list(c: &Caller, page: u32) -> Result<CaseListView, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    let page = page.clamp(1, 1_000_000);
    let owner = if actor.role.is_staff() { None } else { Some(actor.id) };
    let (rows, total) = precedent_store::cases::list(&st.pool, owner, PER_PAGE as i64, ((page - 1) * PER_PAGE) as i64).await?;
    let shown: Vec<i64> = rows.iter().map(|r| r.id.0).collect();
    crate::audit_detail(&st.pool, Some(actor), "case.list", None, ip, "ok", serde_json::json!({ "shown": shown })).await?;
    let items = rows
        .into_iter()
        .map(|r| CaseSummaryView {
            id: r.id,
            title: r.title,
            status: r.status,
            diagnosis: r.diagnosis,
            owner_email: actor.role.is_staff().then_some(r.owner_email),
            image_count: r.image_count,
            report_count: r.report_count,
            thumbnail: r.first_image,
            created_at: display_time(r.created_at),
        })
        .collect();
    Ok(CaseListView { items, total, page, per_page: PER_PAGE })
}

/// The case, if `actor` may read it. Another patient's case is "not found", so ids cannot be probed.
pub async fn get(c: &Caller, id: i64) -> Result<CaseView, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    let d = match precedent_store::cases::get(&st.pool, precedent_types::CaseId(id)).await? {
        Some(d) if can_read_case(&actor, d.case.owner) => d,
        Some(_) => {
            audit(&st.pool, Some(actor), "case.read", Some(("case", id)), ip, "denied").await?;
            return Err(ServiceError::NotFound);
        }
        None => return Err(ServiceError::NotFound),
    };
    audit(&st.pool, Some(actor), "case.read", Some(("case", id)), ip, "ok").await?;
    let indexing = precedent_store::embeddings::is_indexing(&st.pool, d.case.id).await?;
    let lab_rows = precedent_store::labs::of_case(&st.pool, d.case.id).await?;
    let lab_trends = crate::labs::trends(&lab_rows);
    let c = d.case;
    Ok(CaseView {
        id: c.id,
        title: c.title,
        history: c.history,
        exam: c.exam,
        findings: c.findings,
        diagnosis: d.validations.first().map(|v| v.diagnosis.clone()).or(c.diagnosis),
        status: c.status,
        age_years: c.age_years,
        sex: c.sex,
        body_region: c.body_region,
        owner_email: actor.role.is_staff().then_some(c.owner_email),
        created_at: display_time(c.created_at),
        indexing,
        can_review: precedent_accounts::can_review(&actor),
        images: d
            .images
            .into_iter()
            .map(|i| ImageView {
                id: i.id,
                filename: i.filename,
                mime: i.mime,
                width: i.width,
                height: i.height,
                modality: i.modality,
                plane: i.plane,
                caption: i.caption,
            })
            .collect(),
        reports: d
            .reports
            .into_iter()
            .map(|r| {
                let own: Vec<_> = lab_rows.iter().filter(|v| v.report_id == r.id).collect();
                ReportView {
                    id: r.id,
                    filename: r.filename,
                    byte_size: r.byte_size,
                    text: match r.text_status {
                        TextStatus::Extracted => ReportText::Extracted(r.extracted_text),
                        TextStatus::NoText => ReportText::NoTextLayer,
                        TextStatus::Failed => ReportText::Failed(r.extract_error.unwrap_or_default()),
                    },
                    collected_on: own.first().and_then(|v| v.collected_on).map(|d| d.to_string()),
                    values: own.into_iter().map(|v| crate::labs::value_view(v, actor.role.is_staff())).collect(),
                }
            })
            .collect(),
        lab_trends,
        validations: d
            .validations
            .into_iter()
            .map(|v| ValidationView {
                // Patients see the doctor's name, never their e-mail address.
                author: if actor.role.is_staff() { v.author_email } else { v.author_name },
                action: v.action,
                diagnosis: v.diagnosis,
                certainty: v.certainty,
                notes: v.notes,
                next_tests: v.next_tests,
                specialist: v.specialist,
                at: display_time(v.created_at),
            })
            .collect(),
    })
}
