//! Install on Linode: the Leptos application.
//!
//! The crate is compiled twice: to WASM with `hydrate` (the browser half) and natively with `ssr`
//! (server rendering, server functions, and in [`server_side`] the adapters to the deploy engine,
//! the `deploy` crate). Everything that holds a secret — the OAuth client secret, access tokens,
//! the Linode client — is in `deploy`, which only `ssr` depends on, so it cannot end up in the
//! WASM. What both halves share is the `domain` crate.

pub mod components;
pub mod error;
pub mod live_form;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod server_side;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::components::site_header::SiteHeader;
use crate::pages::{deploy_form::DeployPage, deployment::DeploymentPage, not_found::NotFound};

/// The HTML document around [`App`], rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // With cargo-leptos' `hash-files`, both read the hashed names from `hash.txt`.
                <HashedStylesheet id="leptos" options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="Install on Linode"/>
        <Meta name="description" content="Deploy this application to your own Linode account in one step."/>
        <Meta name="referrer" content="same-origin"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Router>
            <SiteHeader/>
            <main id="main">
                <Routes fallback=NotFound>
                    // Rendered whole before sending (no streamed fallbacks): the pages must work
                    // before, and without, the WASM.
                    <Route path=path!("/") view=DeployPage ssr=SsrMode::Async/>
                    <Route path=path!("/deployment") view=DeploymentPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Entry point of the WASM module: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
