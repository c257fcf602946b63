use leptos::prelude::*;

use crate::{error::AppError, model::SiteInfo};

/// Who runs this site and whether it talks to the real Linode.
#[server(endpoint = "site_info")]
pub async fn load_site_info() -> Result<SiteInfo, AppError> {
    Ok(crate::ssr::context::deploy()?.site_info())
}

#[component]
pub fn SiteHeader() -> impl IntoView {
    let info = OnceResource::new(load_site_info());
    view! {
        <header class="site-header">
            <a class="skip" href="#main">"Skip to content"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    info.await.ok().map(|info| view! {
                        <div class="brand">
                            <span class="logo" aria-hidden="true">"◆"</span>
                            <span>{info.app_name}</span>
                            <span class="muted">" · Install on Linode"</span>
                        </div>
                        <Show when=move || info.sandbox>
                            <p class="sandbox-banner" role="note" data-testid="sandbox-banner">
                                <strong>"Sandbox"</strong>" — nothing is created on Linode. This site talks to a local stand-in for Linode."
                            </p>
                        </Show>
                    })
                })}
            </Suspense>
        </header>
    }
}
