//! Reading the audit log: the filter as typed on the admin page, checked and turned into the
//! store's filter; a page of entries, newest first. Admins only, and reading it is audited too.
use crate::{audit, display_time_seconds};
use crate::{Caller, ServiceError};
use precedent_accounts::can_manage_users;
use precedent_store::audit::Filter;
use precedent_types::dto::{AuditEntryView, AuditPageView};

/// Audit entries per page.
pub const PAGE_SIZE: u32 = 50;

/// The filter as typed on the page.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: String,
    pub actor: String,
    pub object: String,
    pub outcome: String,
    pub from: String,
    pub to: String,
    pub page: u32,
}

fn day(s: &str, what: &str) -> Result<Option<time::Date>, ServiceError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| ServiceError::Invalid(format!("“{s}” is not a date ({what}: YYYY-MM-DD).")))
}

/// Reads the typed filter: `object` is `kind`, `kind id` or `kind:id` (`case 12`).
pub fn filter(q: &AuditQuery) -> Result<Filter, ServiceError> {
    let text = |s: &str, max: usize, what: &str| -> Result<Option<String>, ServiceError> {
        let s = s.trim();
        if s.chars().count() > max {
            return Err(ServiceError::Invalid(format!("The {what} filter is too long (at most {max} characters).")));
        }
        Ok(Some(s.to_string()).filter(|s| !s.is_empty()))
    };
    let object = text(&q.object, 80, "object")?;
    let (object_kind, object_id) = match object {
        None => (None, None),
        Some(o) => {
            let mut parts = o.split(|c: char| c == ':' || c.is_whitespace()).filter(|p| !p.is_empty());
            let kind = parts.next().map(|k| k.to_ascii_lowercase());
            let id = match parts.next() {
                None => None,
                Some(n) => Some(n.parse::<i64>().map_err(|_| ServiceError::Invalid(format!("“{o}” is not an object (e.g. “case 12”).")))?),
            };
            (kind, id)
        }
    };
    let (from, to) = (day(&q.from, "from")?, day(&q.to, "to")?);
    if let (Some(a), Some(b)) = (from, to) {
        if a > b {
            return Err(ServiceError::Invalid("“From” is after “to”.".into()));
        }
    }
    Ok(Filter {
        action: text(&q.action, 80, "action")?,
        actor: text(&q.actor, 200, "account")?,
        object_kind,
        object_id,
        outcome: text(&q.outcome, 40, "outcome")?,
        from,
        to,
    })
}

/// Most entries one CSV export holds (narrow the filter for more).
pub const EXPORT_LIMIT: u32 = 100_000;

pub async fn page(c: &Caller, q: &AuditQuery) -> Result<AuditPageView, ServiceError> {
    let page = q.page.max(1);
    let (entries, total) = entries(c, q, PAGE_SIZE, (page - 1) * PAGE_SIZE, "audit.read").await?;
    let pages = ((total.max(0) as u64).div_ceil(PAGE_SIZE as u64)).max(1) as u32;
    Ok(AuditPageView { entries, total, page, pages })
}

/// Every entry the filter matches (newest first, at most [`EXPORT_LIMIT`]) as CSV: id, time to
/// the second, account, role, action, object, address, outcome, details.
pub async fn export_csv(c: &Caller, q: &AuditQuery) -> Result<String, ServiceError> {
    let (entries, _) = entries(c, q, EXPORT_LIMIT, 0, "audit.export").await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let row = |w: &mut csv::Writer<Vec<u8>>, r: [&str; 9]| w.write_record(r).map_err(|e| ServiceError::internal("audit csv", e));
    row(&mut w, ["id", "at", "account", "role", "action", "object", "ip", "outcome", "detail"])?;
    for e in &entries {
        let id = e.id.to_string();
        let o = |x: &Option<String>| x.clone().unwrap_or_default();
        row(&mut w, [&id, &e.at, &o(&e.who), &o(&e.role), &e.action, &o(&e.object), &o(&e.ip), &e.outcome, &e.detail])?;
    }
    let bytes = w.into_inner().map_err(|e| ServiceError::internal("audit csv", e))?;
    String::from_utf8(bytes).map_err(|e| ServiceError::internal("audit csv", e))
}

/// A page of entries for an admin, the reading audited as `action`.
async fn entries(c: &Caller, q: &AuditQuery, limit: u32, offset: u32, action: &str) -> Result<(Vec<AuditEntryView>, i64), ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    if !can_manage_users(&actor) {
        audit(&st.pool, Some(actor), action, None, ip, "denied").await?;
        return Err(ServiceError::Forbidden);
    }
    let f = filter(q)?;
    let (rows, total) = precedent_store::audit::list(&st.pool, &f, limit as i64, offset as i64).await?;
    audit(&st.pool, Some(actor), action, None, ip, "ok").await?;
    let entries = rows
        .into_iter()
        .map(|r| AuditEntryView {
            id: r.id,
            at: display_time_seconds(r.at),
            who: r.actor_email,
            role: r.actor_role,
            action: r.action,
            object: r.object_kind.map(|k| match r.object_id {
                Some(id) => format!("{k} {id}"),
                None => k,
            }),
            ip: r.ip,
            outcome: r.outcome,
            detail: match &r.detail {
                serde_json::Value::Object(m) if m.is_empty() => String::new(),
                other => other.to_string(),
            },
        })
        .collect();
    Ok((entries, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_filters_are_read_or_refused_clearly() {
        let q = AuditQuery { action: " case. ".into(), object: "Case 12".into(), from: "2026-11-01".into(), ..Default::default() };
        let f = filter(&q).unwrap();
        assert_eq!(f.action.as_deref(), Some("case."));
        assert_eq!((f.object_kind.as_deref(), f.object_id), (Some("case"), Some(12)));
        assert_eq!(f.from.map(|d| d.to_string()).as_deref(), Some("2026-11-01"));
        assert_eq!(filter(&AuditQuery { object: "image:7".into(), ..Default::default() }).unwrap().object_id, Some(7));
        assert_eq!(filter(&AuditQuery { object: "image".into(), ..Default::default() }).unwrap().object_id, None);
        let err = |q: AuditQuery| filter(&q).unwrap_err().to_string();
        assert!(err(AuditQuery { object: "case twelve".into(), ..Default::default() }).contains("is not an object"));
        assert!(err(AuditQuery { from: "yesterday".into(), ..Default::default() }).contains("is not a date"));
        assert!(err(AuditQuery { from: "2026-11-02".into(), to: "2026-11-01".into(), ..Default::default() }).contains("after"));
        assert!(err(AuditQuery { action: "x".repeat(81), ..Default::default() }).contains("too long"));
    }
}
