use leptos::prelude::*;

/// Copies `text` to the clipboard. Rendered disabled on the server and enabled once the WASM is
/// running, since copying needs script. An island of its own, so the server-rendered password
/// row can offer it.
#[island]
pub fn CopyButton(text: String, what: String) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    let copy = move |_| {
        copy_to_clipboard(&text);
        set_copied.set(true);
    };
    view! {
        <button type="button" class="copy" on:click=copy disabled=move || !ready.get()
            aria-label=format!("Copy the {what}")>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let promise = window().navigator().clipboard().write_text(text);
        leptos::task::spawn_local(async move {
            if let Err(error) = wasm_bindgen_futures::JsFuture::from(promise).await {
                leptos::logging::warn!("copy failed: {error:?}");
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
