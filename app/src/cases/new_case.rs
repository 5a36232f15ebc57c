//! The new-case form (`/cases/new`).
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The new-case form. It posts multipart to `/api/v1/cases`: without JavaScript the server
/// answers with a redirect; once hydrated the form is sent with `fetch`, so an error is shown
/// in place and nothing typed is lost.
#[component]
pub fn NewCasePage() -> impl IntoView {
    let query = use_query_map();
    let (error, set_error) = signal(query.read_untracked().get("error"));
    let (busy, set_busy) = signal(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            set_busy.set(true);
            set_error.set(None);
            crate::upload::submit_case_form(ev, move |outcome| {
                set_busy.set(false);
                match outcome {
                    Ok(id) => {
                        let _ = window().location().assign(&format!("/cases/{id}"));
                    }
                    Err(msg) => set_error.set(Some(msg)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (ev, set_busy, set_error);
        }
    };
    view! {
        <section class="form-page">
            <h1>"New case"</h1>
            <form method="post" action="/api/v1/cases" enctype="multipart/form-data" class="stack" id="new-case-form" on:submit=on_submit>
                <label>"Title" <input type="text" name="title" required maxlength="300" placeholder="e.g. Persistent cough and fever" /></label>
                <label>
                    "History and symptoms"
                    <textarea name="history" rows="6" placeholder="What happened, since when, what makes it better or worse…"></textarea>
                </label>
                <label>"Examination (optional)" <textarea name="exam" rows="3"></textarea></label>
                <div class="row">
                    <label>"Age" <input type="number" name="age" min="0" max="130" /></label>
                    <label>
                        "Sex" <select name="sex">
                            <option value="">"—"</option>
                            <option value="F">"Female"</option>
                            <option value="M">"Male"</option>
                            <option value="X">"Other"</option>
                        </select>
                    </label>
                    <label>
                        "Scan type" <select name="modality">
                            <option value="xray">"X-ray"</option>
                            <option value="ct">"CT"</option>
                            <option value="mr">"MRI"</option>
                            <option value="other" selected>
                                "Other / unsure"
                            </option>
                        </select>
                    </label>
                </div>
                <label>"Scans (JPEG or PNG)" <input type="file" name="images" accept="image/png,image/jpeg" multiple required /></label>
                <label>"Lab reports (PDF)" <input type="file" name="reports" accept="application/pdf" multiple /></label>
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Uploading…" } else { "Create case" }}
                </button>
            </form>
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="form-error" role="alert">
                                {e}
                            </p>
                        }
                    })
            }}
        </section>
    }
}
