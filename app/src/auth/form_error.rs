//! The error line under a form, from its last submission.
use crate::error::AppError;
use leptos::prelude::*;

/// Shows the error of the last submission of a form, if any.
#[component]
pub fn FormError(value: impl Fn() -> Option<Result<(), AppError>> + Send + Sync + 'static) -> impl IntoView {
    move || {
        value().and_then(|r| r.err()).map(|e| {
            view! {
                <p class="form-error" role="alert">
                    {e.to_string()}
                </p>
            }
        })
    }
}
