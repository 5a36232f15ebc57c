//! The audit log page (`/admin/audit`).
use super::audit_log;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

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
    // The same filter as a CSV download.
    let csv_href = move || {
        let mut q = query.get();
        q.remove("page");
        format!("/api/v1/admin/audit.csv{}", q.to_query_string())
    };
    view! {
        <section>
            <div class="page-head">
                <h1>"Audit log"</h1>
                <a href=csv_href class="button" download="precedent-audit.csv">"Download CSV"</a>
            </div>
            <form method="get" action="/admin/audit" class="panel audit-filter">
                <div class="row">
                    <label>"Action"<input type="text" name="action" prop:value=field("action") placeholder="e.g. case.read or case." /></label>
                    <label>"Account"<input type="text" name="actor" prop:value=field("actor") placeholder="part of an email" /></label>
                    <label>"Object"<input type="text" name="object" prop:value=field("object") placeholder="e.g. case 12" /></label>
                    <label>
                        "Outcome" <select name="outcome" prop:value=field("outcome")>
                            <option value="">"Any"</option>
                            <option value="ok">"ok"</option>
                            <option value="denied">"denied"</option>
                            <option value="failed">"failed"</option>
                        </select>
                    </label>
                    <label>"From"<input type="date" name="from" prop:value=field("from") /></label>
                    <label>"To"<input type="date" name="to" prop:value=field("to") /></label>
                </div>
                <button type="submit" class="button primary">
                    "Filter"
                </button>
            </form>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading the audit log…"</p> }
            }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Err(AppError::Forbidden) => {
                            view! {
                                <section class="notice">
                                    <h2>"Admins only"</h2>
                                    <p>"The audit log is for administrators."</p>
                                </section>
                            }
                                .into_any()
                        }
                        Err(e) => {
                            view! {
                                <p class="form-error" role="alert">
                                    {e.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                        Ok(p) => {
                            let (page, pages) = (p.page, p.pages);
                            view! {
                                <p class="muted" role="status">
                                    {format!("{} entr{} · page {} of {}", p.total, if p.total == 1 { "y" } else { "ies" }, page, pages)}
                                </p>
                                <div class="table-wrap">
                                    <table class="audit">
                                        <thead>
                                            <tr>
                                                <th>"When"</th>
                                                <th>"Who"</th>
                                                <th>"Action"</th>
                                                <th>"Object"</th>
                                                <th>"Outcome"</th>
                                                <th>"From"</th>
                                                <th>"Details"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {p
                                                .entries
                                                .into_iter()
                                                .map(|e| {
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
                                                            <td>
                                                                <code>{e.action}</code>
                                                            </td>
                                                            <td>{e.object.unwrap_or_default()}</td>
                                                            <td>
                                                                <span class=outcome_class>{e.outcome}</span>
                                                            </td>
                                                            <td class="small">{e.ip.unwrap_or_default()}</td>
                                                            <td class="small detail">{e.detail}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <nav class="pager">
                                    {(page > 1)
                                        .then(|| {
                                            view! {
                                                <a href=page_href(page - 1) rel="prev">
                                                    "← Newer"
                                                </a>
                                            }
                                        })}
                                    {(page < pages)
                                        .then(|| {
                                            view! {
                                                <a href=page_href(page + 1) rel="next">
                                                    "Older →"
                                                </a>
                                            }
                                        })}
                                </nav>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
