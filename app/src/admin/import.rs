//! The case-library import page (`/admin/import`): upload an archive, follow its progress, list
//! earlier imports with their refused rows.
#[cfg(feature = "hydrate")]
use super::follow_events;
use super::list_imports;
use crate::dto::ImportView;
use crate::error::AppError;
use leptos::prelude::*;

fn import_line(i: &ImportView) -> String {
    let counts = format!("{} imported, {} already present, {} refused", i.imported, i.already_present, i.refused.len());
    match i.status.as_str() {
        "running" if i.phase == "unpacking" => "Unpacking the archive…".to_string(),
        "running" => format!("Importing: {} / {} rows — {counts}", i.done, i.total),
        "finished" => format!("Finished: {} rows — {counts}", i.total),
        _ => format!("{}: {}", if i.status == "failed" { "Failed" } else { "Interrupted" }, i.error.clone().unwrap_or_default()),
    }
}

/// One import's progress line and its refused rows.
#[component]
fn ImportReport(import: ImportView) -> impl IntoView {
    let refused = import.refused.clone();
    let open = refused.len() <= 20;
    view! {
        <article class="import" data-import=import.id data-status=import.status.clone()>
            <h3>
                {format!("{} · started {}", import.filename, import.started_at)}
                {import.shareable.then(|| view! { <span class="badge badge-teaching">"shared with patients"</span> })}
            </h3>
            <p class="import-line" role="status">
                {import_line(&import)}
            </p>
            {(!refused.is_empty())
                .then(|| {
                    view! {
                        <details open=open>
                            <summary>{format!("{} refused row{}", refused.len(), if refused.len() == 1 { "" } else { "s" })}</summary>
                            <div class="table-wrap">
                                <table class="refused">
                                    <thead>
                                        <tr>
                                            <th>"Line"</th>
                                            <th>"Key"</th>
                                            <th>"Reason"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {refused
                                            .into_iter()
                                            .map(|r| {
                                                view! {
                                                    <tr>
                                                        <td>{r.line}</td>
                                                        <td>{r.key.unwrap_or_default()}</td>
                                                        <td>{r.reason}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        </details>
                    }
                })}
        </article>
    }
}

/// The import page: upload a case-library archive (the documented import format, zipped or
/// tarred); its progress streams in (server-sent events) and refused rows are listed with their
/// reasons. Earlier imports and their outcomes are listed below.
#[component]
pub fn ImportPage() -> impl IntoView {
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    let refresh = RwSignal::new(0u32);
    let imports = Resource::new(move || refresh.get(), |_| list_imports());
    // The import being watched: the one just uploaded, or `?job=` after a no-script upload.
    let watching = RwSignal::new(query.read_untracked().get("job").and_then(|j| j.parse::<i64>().ok()));
    let _ = watching; // read by the progress stream in the browser
    let live = RwSignal::new(None::<ImportView>);
    let upload_error = RwSignal::new(query.read_untracked().get("error"));
    let sending = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let Some(id) = watching.get() else { return };
        follow_events(&format!("/api/v1/admin/imports/{id}/progress"), move |i: ImportView| {
            let over = i.status != "running";
            live.set(Some(i));
            if over {
                refresh.update(|n| *n += 1);
            }
            !over
        });
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            sending.set(true);
            upload_error.set(None);
            crate::upload::submit_case_form(ev, move |r| {
                sending.set(false);
                match r {
                    Ok(id) => {
                        live.set(None);
                        watching.set(Some(id));
                        refresh.update(|n| *n += 1);
                    }
                    Err(e) => upload_error.set(Some(e)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <section>
            <div class="page-head">
                <h1>"Import a case library"</h1>
            </div>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match imports.await {
                        Err(AppError::Forbidden) => {
                            view! {
                                <section class="notice">
                                    <h2>"Admins only"</h2>
                                    <p>"Importing case libraries is for administrators."</p>
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
                        Ok(list) => {
                            view! {
                                <section class="panel">
                                    <h2>"Upload"</h2>
                                    <p class="small">
                                        "A .zip, .tar.gz or .tar holding "<code>"cases.jsonl"</code>
                                        " and the files it names (see docs/import-format.md), or a MedPix 2.0 folder. Cases already imported from an archive of the same name are skipped, so an interrupted import resumes when uploaded again."
                                    </p>
                                    <form method="post" action="/api/v1/admin/imports" enctype="multipart/form-data" class="stack" on:submit=on_submit>
                                        <label>
                                            "Archive"
                                            <input
                                                type="file"
                                                name="archive"
                                                required
                                                accept=".zip,.tar,.gz,.tgz,application/zip,application/gzip,application/x-tar"
                                            />
                                        </label>
                                        <label class="check">
                                            <input type="checkbox" name="shareable" />
                                            " Teaching library: patients may see its cases, de-identified, among their similar cases (they never see other patients' cases)"
                                        </label>
                                        <button type="submit" class="button primary" disabled=move || sending.get()>
                                            {move || if sending.get() { "Uploading…" } else { "Import" }}
                                        </button>
                                    </form>
                                    {move || {
                                        upload_error
                                            .get()
                                            .map(|e| {
                                                view! {
                                                    <p class="form-error" role="alert">
                                                        {e}
                                                    </p>
                                                }
                                            })
                                    }}
                                    <div id="import-live">{move || live.get().map(|i| view! { <ImportReport import=i /> })}</div>
                                </section>
                                <h2>"Recent imports"</h2>
                                {if list.is_empty() {
                                    view! { <p class="muted">"No imports yet."</p> }.into_any()
                                } else {
                                    view! { <div class="imports">{list.into_iter().map(|i| view! { <ImportReport import=i /> }).collect_view()}</div> }
                                        .into_any()
                                }}
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
