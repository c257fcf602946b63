use leptos::prelude::*;

use domain::SiteInfo;

/// Who runs this site and whether it talks to the real Linode. Rendered on the server only (it is
/// not an island), straight from the server's configuration: no resource, no `<Suspense>`.
#[component]
pub fn SiteHeader() -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="skip" href="#main">"Skip to content"</a>
            {site_info().map(|info| view! {
                <div class="brand">
                    <span class="logo" aria-hidden="true">"◆"</span>
                    <span>{info.app_name}</span>
                    <span class="muted">" · Install on Linode"</span>
                </div>
                {info.sandbox.then(|| view! {
                    <p class="sandbox-banner" role="note" data-testid="sandbox-banner">
                        <strong>"Sandbox"</strong>" — nothing is created on Linode. This site talks to a local stand-in for Linode."
                    </p>
                })}
            })}
        </header>
    }
}

#[cfg(feature = "ssr")]
fn site_info() -> Option<SiteInfo> {
    crate::server_side::context::deploy().ok().map(|deploy| deploy.site_info())
}

/// The WASM never renders this component (islands mode), but still compiles it.
#[cfg(not(feature = "ssr"))]
fn site_info() -> Option<SiteInfo> {
    None
}
