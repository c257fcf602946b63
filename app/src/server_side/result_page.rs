//! Adapters for the result page and its progress poll: read the browser's cookies, ask the
//! deploy service, and keep the page out of every cache.

use http::{header::CACHE_CONTROL, request::Parts, HeaderMap, HeaderValue, Method, StatusCode};

use deploy::{
    sealed::{FlowCookie, OutcomeCookie},
    store::StoreError,
};
use domain::{Outcome, Progress};

use super::context;
use crate::error::AppError;

/// Who a request for the result page shows it to. The one-time root password is handed out
/// only to a page view: a HEAD, a prefetch or a request that is not a tab's page would take it
/// and show it to nobody, and the person's own view would then say it is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// A GET that renders the page in the person's tab (a navigation, a reload), or from a
    /// client that says nothing about what it is.
    Person,
    /// HEAD (link checkers, extensions, monitors): the GET's headers, no body.
    HeadersOnly,
    /// A request that says it is not a page view: a prefetch or prerender (`Sec-Purpose`,
    /// `Purpose: prefetch`, `X-Purpose: preview`, `X-Moz: prefetch`), or a destination other than
    /// a document (`Sec-Fetch-Dest`: a script's fetch, a frame, an image…).
    NotAPageView,
}

impl Viewer {
    pub fn of(method: &Method, headers: &HeaderMap) -> Self {
        let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let says = |name: &str, words: &[&str]| {
            text(name).is_some_and(|value| {
                let value = value.to_ascii_lowercase();
                words.iter().any(|word| value.contains(word))
            })
        };
        if method == Method::HEAD {
            return Self::HeadersOnly;
        }
        if method != Method::GET
            // Fetch metadata's only purpose is `prefetch` (with `;prerender` and other parameters).
            || headers.contains_key("sec-purpose")
            || says("purpose", &["prefetch", "preview"])
            || says("x-purpose", &["prefetch", "preview"])
            || says("x-moz", &["prefetch"])
            || text("sec-fetch-dest").is_some_and(|dest| !dest.eq_ignore_ascii_case("document"))
        {
            return Self::NotAPageView;
        }
        Self::Person
    }
}

/// Body of the result page's outcome read (a plain server-side function: the root password
/// must have no second way out).
pub async fn deployment_outcome() -> Result<Option<Outcome>, AppError> {
    let deploy = context::deploy()?;
    let parts: Parts = leptos_axum::extract().await.map_err(|error| AppError::Transport(error.to_string()))?;
    let viewer = Viewer::of(&parts.method, &parts.headers);
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        // The page may carry a root password: never cache it anywhere.
        response.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if viewer == Viewer::NotAPageView {
            // Not a 2xx: browsers drop such a prefetch or prerender and load the page for real
            // when the person goes to it, which is when the password is handed out. `Retry-After`
            // says so, and keeps this meant answer out of the server's error log.
            response.set_status(StatusCode::SERVICE_UNAVAILABLE);
            response.insert_header(http::header::RETRY_AFTER, HeaderValue::from_static("0"));
        }
    }
    let result = deploy.sealer().open::<OutcomeCookie>(&parts.headers);
    let flow = deploy.sealer().open::<FlowCookie>(&parts.headers);
    deploy.take_outcome(result, flow, viewer == Viewer::Person).await.map_err(|error| {
        tracing::error!(%error, "could not read an outcome");
        match error {
            StoreError::Corrupt(_) => AppError::StoredRecordUnreadable,
            _ => AppError::StoreUnavailable,
        }
    })
}

/// Body of the `deployment_progress` server function.
pub async fn deployment_progress() -> Result<Option<Progress>, AppError> {
    let deploy = context::deploy()?;
    let parts: http::request::Parts =
        leptos_axum::extract().await.map_err(|error| AppError::Transport(error.to_string()))?;
    let result = deploy.sealer().open::<OutcomeCookie>(&parts.headers);
    let flow = deploy.sealer().open::<FlowCookie>(&parts.headers);
    deploy.progress(result, flow).await.map_err(|error| {
        tracing::warn!(%error, "could not read a deployment's progress");
        AppError::StoreUnavailable
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(method: Method, pairs: &[(&'static str, &'static str)]) -> Viewer {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        Viewer::of(&method, &headers)
    }

    #[test]
    fn only_a_get_that_renders_a_page_is_the_person() {
        assert_eq!(viewer(Method::GET, &[]), Viewer::Person, "a client that says nothing");
        let navigation = [("sec-fetch-dest", "document"), ("sec-fetch-mode", "navigate"), ("sec-fetch-user", "?1")];
        assert_eq!(viewer(Method::GET, &navigation), Viewer::Person);
        assert_eq!(viewer(Method::HEAD, &navigation), Viewer::HeadersOnly);
        for pair in [
            ("sec-purpose", "prefetch"),
            ("sec-purpose", "prefetch;prerender"),
            ("sec-purpose", "prefetch;anonymous-client-ip"),
            ("purpose", "prefetch"),
            ("x-purpose", "preview"),
            ("x-moz", "prefetch"),
            ("sec-fetch-dest", "empty"),
            ("sec-fetch-dest", "iframe"),
            ("sec-fetch-dest", "image"),
        ] {
            assert_eq!(viewer(Method::GET, &[pair]), Viewer::NotAPageView, "{pair:?}");
        }
        // A prerendered navigation still says it is a prefetch.
        let prerender = [("sec-fetch-dest", "document"), ("sec-purpose", "prefetch;prerender")];
        assert_eq!(viewer(Method::GET, &prerender), Viewer::NotAPageView);
        assert_eq!(viewer(Method::POST, &[]), Viewer::NotAPageView);
    }
}
