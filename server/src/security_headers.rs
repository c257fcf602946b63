//! Security headers on every response. The app's Content-Security-Policy admits only scripts that
//! carry this response's nonce (Leptos' hydration script) or come from our own origin (the
//! `/pkg` module it imports), so an injected inline script does not run.
//!
//! The nonce is made here, before the handler runs, and handed to Leptos through the request's
//! extensions ([`provide_request_nonce`]): header and `<script nonce>` cannot disagree. A page
//! served from the page cache carries no nonce: its response names the hashes of its inline
//! scripts ([`CachedScripts`]), which the policy lists instead.

use crate::page_cache::CachedScripts;
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{
    header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS},
    request::Parts,
    HeaderMap, HeaderValue,
};
use leptos::{
    nonce::Nonce,
    prelude::{provide_context, use_context},
};

/// One year; without `includeSubDomains`, which would bind the operator's other sites too.
const HSTS: &str = "max-age=31536000";

/// What differs between deployments of the policy.
#[derive(Clone, Copy, Debug)]
pub struct SecurityPolicy {
    /// Sent only when the public address is https: over http it is ignored at best, and it would
    /// lock a local development host out of plain http at worst.
    pub hsts: bool,
    /// `cargo leptos watch` injects a script that reloads the page over a websocket on another port.
    pub live_reload: bool,
}

impl SecurityPolicy {
    /// `scripts`: the CSP sources that admit this page's inline scripts (its nonce, or hashes).
    fn app_csp(&self, scripts: &str) -> String {
        let reload = if self.live_reload { " ws: wss:" } else { "" };
        // No `form-action`: the deploy form's answer is a 302 to Linode's login host, and browsers
        // apply form-action to redirects after a form submission too.
        format!(
            "default-src 'self'; script-src 'self' {scripts} 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'{reload}; object-src 'none'; base-uri 'none'; \
             frame-ancestors 'none'"
        )
    }
}

/// For the app's routes: a fresh nonce per request, in the CSP and in the request for Leptos.
pub async fn app(State(policy): State<SecurityPolicy>, mut request: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    request.extensions_mut().insert(nonce.clone());
    let callback = request.uri().path().starts_with("/auth/");
    let mut response = next.run(request).await;
    let scripts = match response.extensions().get::<CachedScripts>() {
        Some(CachedScripts(hashes)) => hashes.to_string(),
        None => format!("'nonce-{nonce}'"),
    };
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&policy.app_csp(&scripts)) {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    common(headers, policy);
    if !callback {
        // Our own pages send a Referer to our own server only: without it a form posted with
        // JavaScript off cannot be sent back to the page it came from with its error. Nothing
        // crosses to another origin, and the callback (whose URL holds the code) keeps none.
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    response
}

/// For the embedded sandbox, which stands in for Linode's login pages: no script at all, and the
/// inline `<style>` those pages carry.
pub async fn sandbox(State(policy): State<SecurityPolicy>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    common(headers, policy);
    response
}

fn common(headers: &mut HeaderMap, policy: SecurityPolicy) {
    // The callback's URL holds the OAuth code: no page of ours may send it on as a Referer.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if policy.hsts {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
}

/// Leptos context: replaces the nonce `leptos_axum` made for this render with the one in the CSP
/// header. Runs after `leptos_axum` has provided the request's parts.
pub fn provide_request_nonce() {
    if let Some(nonce) = use_context::<Parts>().and_then(|parts| parts.extensions.get::<Nonce>().cloned()) {
        provide_context(nonce);
    }
}
