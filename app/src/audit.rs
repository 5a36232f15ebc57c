//! Admin: the audit log — every read and write, who, role, what, when, from where — filtered by
//! action, account, object, outcome and date, newest first. Admins only; reading it is audited.
use crate::dto::AuditPageView;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Entries per page.
pub const PAGE_SIZE: u32 = 50;

/// A page of the audit log matching the filter (admins only). Empty fields do not filter;
/// `action` ending in `.` is a prefix (`case.`); dates are `YYYY-MM-DD` (UTC).
#[server(endpoint = "admin_audit")]
pub async fn audit_log(
    #[server(default)] action: String,
    #[server(default)] actor: String,
    #[server(default)] object: String,
    #[server(default)] outcome: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] page: u32,
) -> Result<AuditPageView, AppError> {
    let (st, who, _) = crate::ssr::require_actor().await?;
    let form = service::AuditQuery { action, actor, object, outcome, from, to, page };
    service::page(&st, who, &form, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

#[cfg(feature = "ssr")]
pub mod service {
    use super::PAGE_SIZE;
    use crate::dto::{AuditEntryView, AuditPageView};
    use crate::error::AppError;
    use crate::ssr::{audit, display_time, AppState};
    use precedent_accounts::{can_manage_users, Actor};
    use precedent_store::audit::Filter;

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

    fn day(s: &str, what: &str) -> Result<Option<time::Date>, AppError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .map(Some)
            .map_err(|_| AppError::Invalid(format!("“{s}” is not a date ({what}: YYYY-MM-DD).")))
    }

    /// Reads the typed filter: `object` is `kind`, `kind id` or `kind:id` (`case 12`).
    pub fn filter(q: &AuditQuery) -> Result<Filter, AppError> {
        let text = |s: &str, max: usize, what: &str| -> Result<Option<String>, AppError> {
            let s = s.trim();
            if s.chars().count() > max {
                return Err(AppError::Invalid(format!("The {what} filter is too long (at most {max} characters).")));
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
                    Some(n) => Some(n.parse::<i64>().map_err(|_| AppError::Invalid(format!("“{o}” is not an object (e.g. “case 12”).")))?),
                };
                (kind, id)
            }
        };
        let (from, to) = (day(&q.from, "from")?, day(&q.to, "to")?);
        if let (Some(a), Some(b)) = (from, to) {
            if a > b {
                return Err(AppError::Invalid("“From” is after “to”.".into()));
            }
        }
        Ok(Filter { action: text(&q.action, 80, "action")?, actor: text(&q.actor, 200, "account")?, object_kind, object_id, outcome: text(&q.outcome, 40, "outcome")?, from, to })
    }

    pub async fn page(st: &AppState, actor: Actor, q: &AuditQuery, ip: Option<String>) -> Result<AuditPageView, AppError> {
        if !can_manage_users(&actor) {
            audit(&st.pool, Some(actor), "audit.read", None, ip, "denied").await?;
            return Err(AppError::Forbidden);
        }
        let f = filter(q)?;
        let page = q.page.max(1);
        let (rows, total) = precedent_store::audit::list(&st.pool, &f, PAGE_SIZE as i64, (page as i64 - 1) * PAGE_SIZE as i64).await?;
        audit(&st.pool, Some(actor), "audit.read", None, ip, "ok").await?;
        let entries = rows
            .into_iter()
            .map(|r| AuditEntryView {
                id: r.id,
                at: display_time(r.at),
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
        let pages = ((total.max(0) as u64).div_ceil(PAGE_SIZE as u64)).max(1) as u32;
        Ok(AuditPageView { entries, total, page, pages })
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
}

/// `/admin/audit`: the filter lives in the URL (a plain GET form), so a view can be bookmarked.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let field = move |k: &'static str| move || query.read().get(k).unwrap_or_default();
    let entries = Resource::new(
        move || {
            let q = query.read();
            let g = |k: &str| q.get(k).unwrap_or_default();
            (g("action"), g("actor"), g("object"), g("outcome"), g("from"), g("to"), g("page").parse::<u32>().unwrap_or(1))
        },
        |(action, actor, object, outcome, from, to, page)| audit_log(action, actor, object, outcome, from, to, page),
    );
    // The same filter on another page of results.
    let page_href = move |page: u32| {
        let mut q = query.get_untracked();
        q.replace("page", page.to_string());
        format!("/admin/audit{}", q.to_query_string())
    };
    view! {
        <section>
            <div class="page-head"><h1>"Audit log"</h1></div>
            <form method="get" action="/admin/audit" class="panel audit-filter">
                <div class="row">
                    <label>"Action"<input type="text" name="action" prop:value=field("action") placeholder="e.g. case.read or case."/></label>
                    <label>"Account"<input type="text" name="actor" prop:value=field("actor") placeholder="part of an email"/></label>
                    <label>"Object"<input type="text" name="object" prop:value=field("object") placeholder="e.g. case 12"/></label>
                    <label>"Outcome"
                        <select name="outcome" prop:value=field("outcome")>
                            <option value="">"Any"</option>
                            <option value="ok">"ok"</option>
                            <option value="denied">"denied"</option>
                            <option value="failed">"failed"</option>
                        </select>
                    </label>
                    <label>"From"<input type="date" name="from" prop:value=field("from")/></label>
                    <label>"To"<input type="date" name="to" prop:value=field("to")/></label>
                </div>
                <button type="submit" class="button primary">"Filter"</button>
            </form>
            <Suspense fallback=|| view! { <p class="muted">"Loading the audit log…"</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Err(AppError::Forbidden) => view! {
                            <section class="notice"><h2>"Admins only"</h2><p>"The audit log is for administrators."</p></section>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(p) => {
                            let (page, pages) = (p.page, p.pages);
                            view! {
                                <p class="muted" role="status">{format!("{} entr{} · page {} of {}", p.total, if p.total == 1 { "y" } else { "ies" }, page, pages)}</p>
                                <div class="table-wrap"><table class="audit">
                                    <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Object"</th><th>"Outcome"</th><th>"From"</th><th>"Details"</th></tr></thead>
                                    <tbody>
                                        {p.entries.into_iter().map(|e| {
                                            let who = match (e.who, e.role) {
                                                (Some(w), Some(r)) => format!("{w} ({r})"),
                                                (Some(w), None) => w,
                                                _ => "anonymous".into(),
                                            };
                                            let outcome_class = format!("outcome outcome-{}", e.outcome);
                                            let action = e.action.clone();
                                            view! {
                                                <tr data-action=action>
                                                    <td class="nowrap">{e.at}</td>
                                                    <td>{who}</td>
                                                    <td><code>{e.action}</code></td>
                                                    <td>{e.object.unwrap_or_default()}</td>
                                                    <td><span class=outcome_class>{e.outcome}</span></td>
                                                    <td class="small">{e.ip.unwrap_or_default()}</td>
                                                    <td class="small detail">{e.detail}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                                <nav class="pager">
                                    {(page > 1).then(|| view! { <a href=page_href(page - 1) rel="prev">"← Newer"</a> })}
                                    {(page < pages).then(|| view! { <a href=page_href(page + 1) rel="next">"Older →"</a> })}
                                </nav>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
