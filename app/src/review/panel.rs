//! The review form on a case page (doctors only).
use super::ReviewCase;
use crate::dto::CaseView;
use leptos::prelude::*;

/// The review form on a case page (doctors only). `done` is bumped after a successful review.
#[component]
pub fn ReviewPanel(case: CaseView, action: ServerAction<ReviewCase>) -> impl IntoView {
    let current = case.diagnosis.clone().unwrap_or_default();
    let has_current = !current.is_empty();
    let error = move || action.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    view! {
        <section class="panel review" aria-labelledby="review-title">
            <h2 id="review-title">"Review"</h2>
            <ActionForm action=action attr:class="review-form">
                <input type="hidden" name="case_id" value=case.id.0 />
                <fieldset class="choice">
                    <legend>"Diagnosis"</legend>
                    <label>
                        <input type="radio" name="action" value="validate" checked=has_current disabled=!has_current />
                        {if has_current { format!(" Validate “{current}”") } else { " Validate (no diagnosis recorded)".to_string() }}
                    </label>
                    <label>
                        <input type="radio" name="action" value="correct" checked=!has_current />
                        " Correct it:"
                    </label>
                </fieldset>
                <label>"Corrected diagnosis"<input type="text" name="diagnosis" maxlength="500" placeholder="Only when correcting" /></label>
                <label>
                    "Certainty" <select name="certainty">
                        <option value="possible">"Possible"</option>
                        <option value="probable" selected>
                            "Probable"
                        </option>
                        <option value="certain">"Certain"</option>
                    </select>
                </label>
                <label>"Notes"<textarea name="notes" rows="3" maxlength="5000"></textarea></label>
                <label>"Recommended next tests"<input type="text" name="next_tests" maxlength="500" /></label>
                <label>"Refer to specialist"<input type="text" name="specialist" maxlength="500" /></label>
                {move || {
                    error()
                        .map(|e| {
                            view! {
                                <p class="form-error" role="alert">
                                    {e}
                                </p>
                            }
                        })
                }}
                <button type="submit" class="button primary">
                    "Save review"
                </button>
            </ActionForm>
        </section>
    }
}
