use leptos::prelude::*;

/// Copies the text of the element with id `source` to the clipboard. Rendered disabled on the
/// server and enabled once the WASM is running, since copying needs script. An island of its own,
/// so the server-rendered password row can offer it; it takes the element's id rather than the
/// text, so the password is not written into the page a second time as the island's props.
#[island(lazy)]
pub fn CopyButton(source: String, what: String) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    let copy = move |_| {
        copy_to_clipboard(&source);
        set_copied.set(true);
    };
    view! {
        <button type="button" class="copy" on:click=copy disabled=move || !ready.get()
            aria-label=format!("Copy the {what}")>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

fn copy_to_clipboard(source: &str) {
    #[cfg(feature = "hydrate")]
    {
        let Some(text) = document().get_element_by_id(source).and_then(|element| element.text_content()) else {
            return;
        };
        let promise = window().navigator().clipboard().write_text(&text);
        leptos::task::spawn_local(async move {
            if let Err(error) = wasm_bindgen_futures::JsFuture::from(promise).await {
                leptos::logging::warn!("copy failed: {error:?}");
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = source;
}
