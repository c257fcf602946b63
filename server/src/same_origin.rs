//! Cross-site request forgery: a state-changing request (anything but GET, HEAD, OPTIONS) is
//! served only when the browser says it comes from this site. Browsers send `Origin` on every
//! form post and `fetch` that is not a GET; older ones may send only `Sec-Fetch-Site` or a
//! `Referer`, which are used in that order. A request that proves nothing is refused: a page on
//! another site must not be able to start a deployment (with its own plan and SSH key) in the
//! name of someone who is logged in at Linode.

use std::sync::Arc;

use app::error::AppError;

use crate::plain_page;
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{
    header::{HOST, ORIGIN, REFERER},
    HeaderMap, HeaderValue, Method,
};
use leptos::prelude::LeptosOptions;
use url::Url;

use crate::server_fn_status::{app_error, status_of, wants_html};

pub struct SiteOrigin {
    /// `scheme://host[:port]` of `PUBLIC_BASE_URL`, or of the listening address.
    public: String,
    /// Whether `public` is the operator's `PUBLIC_BASE_URL`: then it is the only origin that
    /// counts. Without one, the `Host` the browser reached counts too.
    configured: bool,
    scheme: String,
    options: LeptosOptions,
}

impl SiteOrigin {
    /// `configured`: `PUBLIC_BASE_URL`, when set; `listening`: the address the server listens on.
    pub fn new(configured: Option<&Url>, listening: &Url, options: LeptosOptions) -> Arc<Self> {
        let public_base = configured.unwrap_or(listening);
        Arc::new(Self {
            public: public_base.origin().ascii_serialization(),
            configured: configured.is_some(),
            scheme: public_base.scheme().to_owned(),
            options,
        })
    }

    /// This site's origin: `PUBLIC_BASE_URL`'s when it is set, and nothing else (the `Host`
    /// header is whatever name the client used: an attacker's own domain pointed at this server
    /// makes the browser send `Host` and `Origin` of that domain, which would then match).
    /// Without a configured public address, the origin the browser reached (`Host`) counts as
    /// well: a site reached as `localhost:3000` or `127.0.0.1:3000` is the same site.
    fn allows(&self, origin: &str, headers: &HeaderMap) -> bool {
        origin == self.public
            || (!self.configured
                && headers
                    .get(HOST)
                    .and_then(|host| host.to_str().ok())
                    .is_some_and(|host| origin == format!("{}://{host}", self.scheme)))
    }

    fn verdict(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        let text = |name: &str| headers.get(name).and_then(|value: &HeaderValue| value.to_str().ok());
        if let Some(origin) = text(ORIGIN.as_str()) {
            return if self.allows(origin, headers) { Ok(()) } else { Err("its Origin is another site") };
        }
        if let Some(site) = text("sec-fetch-site") {
            return match site {
                "same-origin" => Ok(()),
                _ => Err("the browser reports it as cross-site"),
            };
        }
        if let Some(referer) = text(REFERER.as_str()) {
            let origin = Url::parse(referer).map(|url| url.origin().ascii_serialization()).unwrap_or_default();
            return if self.allows(&origin, headers) { Ok(()) } else { Err("its Referer is another site") };
        }
        Err("it carries no Origin, Sec-Fetch-Site or Referer")
    }
}

/// The middleware.
pub async fn require(State(site): State<Arc<SiteOrigin>>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    match site.verdict(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(reason) => {
            // The request's span names the path (cut to a length a log line can hold).
            tracing::warn!(reason, "cross-site request refused");
            refusal(&site, &request)
        }
    }
}

fn refusal(site: &SiteOrigin, request: &Request) -> Response {
    if !wants_html(request) {
        return app_error(&AppError::CrossSite, request);
    }
    let message = AppError::CrossSite.to_string();
    let page = plain_page::PlainPage {
        status: status_of(&AppError::CrossSite),
        testid: "cross-site",
        kind: "cross_site",
        title: "This request came from another site",
        message: &message,
        next: "Nothing was started and nothing changed. To deploy, use the form on this site.",
    };
    plain_page::page(&site.options, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> LeptosOptions {
        LeptosOptions::builder().output_name("x").build()
    }

    fn site() -> Arc<SiteOrigin> {
        let listening = Url::parse("http://127.0.0.1:3000").unwrap();
        SiteOrigin::new(Some(&Url::parse("https://deploy.example.com").unwrap()), &listening, options())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn only_this_sites_origin_passes() {
        let site = site();
        assert!(site.verdict(&headers(&[("origin", "https://deploy.example.com")])).is_ok());
        assert!(site.verdict(&headers(&[("origin", "https://evil.example")])).is_err());
        assert!(site.verdict(&headers(&[("origin", "null")])).is_err());
        assert!(site.verdict(&headers(&[("origin", "http://deploy.example.com")])).is_err(), "scheme counts");
        assert!(site.verdict(&headers(&[("origin", "https://deploy.example.com.evil.example")])).is_err());
        // The Origin decides even when a Referer says otherwise.
        let both = headers(&[("origin", "https://evil.example"), ("referer", "https://deploy.example.com/")]);
        assert!(site.verdict(&both).is_err());
    }

    #[test]
    fn without_origin_fetch_metadata_then_referer_decide() {
        let site = site();
        assert!(site.verdict(&headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        assert!(site.verdict(&headers(&[("sec-fetch-site", "cross-site")])).is_err());
        assert!(site.verdict(&headers(&[("sec-fetch-site", "same-site")])).is_err());
        assert!(site.verdict(&headers(&[("referer", "https://deploy.example.com/?type=g6")])).is_ok());
        assert!(site.verdict(&headers(&[("referer", "https://evil.example/page")])).is_err());
        assert!(site.verdict(&HeaderMap::new()).is_err());
    }

    #[test]
    fn without_a_public_base_url_the_host_the_browser_reached_counts_as_this_site() {
        let site = SiteOrigin::new(None, &Url::parse("http://127.0.0.1:3000").unwrap(), options());
        assert!(site.verdict(&headers(&[("origin", "http://127.0.0.1:3000")])).is_ok());
        assert!(site.verdict(&headers(&[("origin", "http://localhost:3000"), ("host", "localhost:3000")])).is_ok());
        assert!(site.verdict(&headers(&[("origin", "http://evil.example"), ("host", "localhost:3000")])).is_err());
    }

    #[test]
    fn with_a_public_base_url_the_host_header_counts_for_nothing() {
        let site = site();
        let evil = [("origin", "http://evil.example:5112"), ("host", "evil.example:5112")];
        assert!(site.verdict(&headers(&evil)).is_err());
        let evil = [("referer", "https://evil.example/x"), ("host", "evil.example")];
        assert!(site.verdict(&headers(&evil)).is_err());
        let listening = [("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")];
        assert!(site.verdict(&headers(&listening)).is_err(), "the listening address is not the public one");
        let public = [("origin", "https://deploy.example.com"), ("host", "127.0.0.1:3000")];
        assert!(site.verdict(&headers(&public)).is_ok(), "a proxy may forward any Host");
    }
}
