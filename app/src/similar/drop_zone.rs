//! The search page's query images: a drop zone and file picker that upload each image at once
//! (in the browser) and put its token in the search form.
use leptos::prelude::*;

/// Query images on the search page: drop scans or pick files; each is uploaded at once and
/// shown as a preview, and its token joins the form (so the search URL names it).
#[component]
pub(super) fn QueryImages(initial: Vec<String>) -> impl IntoView {
    use crate::dto::UploadedQueryImage;
    let images = RwSignal::new(
        initial
            .into_iter()
            .map(|t| UploadedQueryImage { thumb: format!("/api/v1/search/images/{t}/thumb"), filename: "uploaded image".into(), token: t })
            .collect::<Vec<_>>(),
    );
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let dragging = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    let add = move |list: Option<web_sys::FileList>| {
        let Some(list) = list else { return };
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        if files.is_empty() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match crate::upload::upload_query_images(files).await {
                Ok(list) => images.update(|v| v.extend(list)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        add(ev.data_transfer().and_then(|d| d.files()));
    };
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            add(input.as_ref().and_then(|i| i.files()));
            if let Some(i) = input {
                i.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <div
            class="dropzone"
            class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <label for="query-images">"Images (PNG or JPEG): drop scans here or choose files"</label>
            <input id="query-images" type="file" accept="image/png,image/jpeg" multiple on:change=on_pick />
            {move || {
                busy
                    .get()
                    .then(|| {
                        view! {
                            <p class="muted small" role="status">
                                "Uploading…"
                            </p>
                        }
                    })
            }}
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
            <ul class="query-images">
                <For each=move || images.get() key=|i| i.token.clone() let:img>
                    <li class="query-image">
                        <img src=img.thumb.clone() alt=format!("Query image {}", img.filename) />
                        <input type="hidden" name="img" value=img.token.clone() />
                        <button
                            type="button"
                            class="chip"
                            on:click={
                                let t = img.token.clone();
                                move |_| images.update(|v| v.retain(|i| i.token != t))
                            }
                        >
                            "Remove"
                        </button>
                    </li>
                </For>
            </ul>
        </div>
    }
}
