//! The form page (`/` and the shared links `/?plan=…`), rendered once per catalog snapshot and
//! query and kept compressed, so a page view is a lookup rather than a render and a compression.
//!
//! A cached page cannot carry a per-request nonce, so its inline scripts are allowed by their
//! SHA-256 instead: the render's nonce is taken out of the bytes, the scripts are hashed, and
//! [`CachedScripts`] tells the security headers to list the hashes. The CSP stays as strict: only
//! these exact scripts run. Pages that are one person's (a refusal or sealed keys in the query,
//! the success view) are rendered per request as before.

use std::{sync::Arc, time::Duration};

use app::{share::RETRY_KEYS_PARAM, ssr::DeployService};
use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use http::{
    header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE},
    HeaderMap, HeaderValue, Method, StatusCode,
};
use leptos::nonce::Nonce;
use sha2::{Digest, Sha256};

use crate::site::{
    stored::{Representations, Stored},
    REVALIDATE,
};

/// Memory for cached pages, in bytes of the three stored forms together (a form page is ~60 KB).
const CAPACITY_BYTES: u64 = 8 * 1024 * 1024;
/// A page nobody asked for this long is dropped (a new catalog snapshot drops it sooner: it is
/// no longer asked for).
const IDLE: Duration = Duration::from_secs(600);
/// Brotli quality: 9 gets within a few percent of 11 on these pages at a fraction of the time,
/// which matters because anyone can make the server render a new query.
const BROTLI_QUALITY: u32 = 9;
/// The largest page read back from a render (the form page is ~40 KB; this is a fault).
const MAX_PAGE: usize = 4 * 1024 * 1024;
/// Query parameters that make a page one person's: never cached.
const PERSONAL: &[&str] = &["refused", "__err", RETRY_KEYS_PARAM];

#[derive(Clone)]
pub struct PageCache {
    pages: moka::future::Cache<PageKey, Arc<CachedPage>>,
    deploy: Arc<DeployService>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PageKey {
    catalog: u64,
    query: String,
}

/// One rendered page in each stored form, and the CSP sources of its inline scripts.
pub struct CachedPage {
    page: Representations,
    scripts: CachedScripts,
}

/// On a response: its inline scripts, as CSP source expressions (`'sha256-…'`), stand in for a nonce.
#[derive(Clone, Debug)]
pub struct CachedScripts(pub Arc<str>);

impl PageCache {
    pub fn new(deploy: Arc<DeployService>) -> Self {
        let pages = moka::future::Cache::builder()
            .max_capacity(CAPACITY_BYTES)
            .weigher(|_: &PageKey, page: &Arc<CachedPage>| page.weight())
            .time_to_idle(IDLE)
            .build();
        Self { pages, deploy }
    }
}

/// Middleware: answers GET and HEAD of `/` from the cache, rendering and keeping the page on a
/// miss. Concurrent misses each render (a few renders once per catalog snapshot) rather than
/// queue behind one.
pub async fn serve(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if (method != Method::GET && method != Method::HEAD) || request.uri().path() != "/" {
        return next.run(request).await;
    }
    let query = request.uri().query().unwrap_or_default().to_owned();
    if is_personal(&query) {
        return next.run(request).await;
    }
    // No snapshot means the page shows Linode's error: rendered each time, never kept.
    let Some(catalog) = cache.deploy.catalog_version().await else { return next.run(request).await };
    let key = PageKey { catalog, query };
    if let Some(page) = cache.pages.get(&key).await {
        return page.respond(request.headers());
    }
    let headers = request.headers().clone();
    match render(request, next).await {
        Ok(page) => {
            let page = Arc::new(page);
            cache.pages.insert(key, page.clone()).await;
            page.respond(&headers)
        }
        Err(response) => response,
    }
}

/// The page as rendered for this request, ready to keep; or the response as it is when it cannot
/// be kept (not a plain 200, a cookie, a nonce in the content, too large).
async fn render(request: Request, next: Next) -> Result<CachedPage, Response> {
    let nonce = request.extensions().get::<Nonce>().map(ToString::to_string);
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE).await {
        Ok(bytes) => bytes,
        Err(_) => return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
    };
    let keepable = parts.status == StatusCode::OK
        && !parts.headers.contains_key(SET_COOKIE)
        && parts.headers.get(CACHE_CONTROL).is_none_or(|value| !value.as_bytes().starts_with(b"no-store"));
    let sealed = match (keepable, nonce, std::str::from_utf8(&bytes)) {
        (true, Some(nonce), Ok(html)) => without_nonce(html, &nonce),
        _ => None,
    };
    let Some(html) = sealed else { return Err(Response::from_parts(parts, Body::from(bytes))) };
    let content_type =
        parts.headers.get(CONTENT_TYPE).cloned().unwrap_or(HeaderValue::from_static("text/html; charset=utf-8"));
    Ok(CachedPage::new(content_type, html))
}

impl CachedPage {
    fn new(content_type: HeaderValue, html: String) -> Self {
        let scripts = inline_script_hashes(&html).join(" ");
        let html = Bytes::from(html);
        let page = Representations {
            content_type,
            // Revalidated on each use (a 304 while it is the same): a new catalog changes the page.
            cache_control: HeaderValue::from_static(REVALIDATE),
            brotli: Some(Stored::new(brotli(&html))),
            gzip: Some(Stored::new(gzip(&html))),
            identity: Stored::new(html),
        };
        Self { page, scripts: CachedScripts(scripts.into()) }
    }

    fn weight(&self) -> u32 {
        u32::try_from(self.page.weight()).unwrap_or(u32::MAX)
    }

    fn respond(&self, headers: &HeaderMap) -> Response {
        let mut response = self.page.respond(headers);
        response.extensions_mut().insert(self.scripts.clone());
        response
    }
}

fn is_personal(query: &str) -> bool {
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        PERSONAL.contains(&name)
    })
}

/// The page without the render's nonce: Leptos writes it as `nonce="…"` on its scripts and as
/// the `crossorigin` value of its preload links. `None` if it appears anywhere else, where it
/// would be page content that cannot be shared.
fn without_nonce(html: &str, nonce: &str) -> Option<String> {
    let html = html
        .replace(&format!(" nonce=\"{nonce}\""), "")
        .replace(&format!("crossorigin=\"{nonce}\""), "crossorigin=\"\"");
    (!html.contains(nonce)).then_some(html)
}

/// `'sha256-<base64>'` of the text of each `<script>` without a `src` (CSP Level 2 hash sources).
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start + "<script".len()..];
        let Some(tag_end) = after.find('>') else { break };
        let attributes = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let Some(close) = body.find("</script>") else { break };
        if !attributes.contains(" src=") {
            let digest = Sha256::digest(&body.as_bytes()[..close]);
            hashes.push(format!("'sha256-{}'", STANDARD.encode(digest)));
        }
        rest = &body[close + "</script>".len()..];
    }
    hashes.sort();
    hashes.dedup();
    hashes
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 4);
    let params = brotli::enc::BrotliEncoderParams { quality: BROTLI_QUALITY as i32, ..Default::default() };
    // Writing into a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    Bytes::from(out)
}

fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::best());
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    const PAGE: &str = concat!(
        "<html><head><link rel=\"modulepreload\" href=\"/pkg/a.js\" crossorigin=\"N0nce\">",
        "<script type=\"module\" nonce=\"N0nce\">import('/pkg/a.js')</script>",
        "<script src=\"/pkg/b.js\"></script></head>",
        "<body><script nonce=\"N0nce\">window.x=1</script></body></html>"
    );

    #[test]
    fn the_nonce_leaves_the_page_and_each_inline_script_is_hashed() {
        let html = without_nonce(PAGE, "N0nce").unwrap();
        assert!(!html.contains("N0nce"));
        assert!(html.contains("crossorigin=\"\""));
        let hashes = inline_script_hashes(&html);
        let expected = |text: &str| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(text.as_bytes())));
        let mut want = vec![expected("import('/pkg/a.js')"), expected("window.x=1")];
        want.sort();
        assert_eq!(hashes, want);
    }

    #[test]
    fn a_nonce_in_the_page_content_keeps_the_page_out_of_the_cache() {
        assert!(without_nonce(&format!("{PAGE}<p>N0nce</p>"), "N0nce").is_none());
    }

    #[test]
    fn personal_queries_are_not_cached() {
        assert!(is_personal("refused=abc"));
        assert!(is_personal("plan=g6&__err=x"));
        assert!(is_personal(&format!("{RETRY_KEYS_PARAM}=sealed")));
        assert!(!is_personal("plan=g6-nanode-1&region=us-east"));
        assert!(!is_personal(""));
    }

    #[test]
    fn each_stored_form_decodes_to_the_page() {
        let cached = CachedPage::new(HeaderValue::from_static("text/html"), PAGE.to_owned());
        let (gzip, brotli) = (cached.page.gzip.as_ref().unwrap(), cached.page.brotli.as_ref().unwrap());
        let mut gunzipped = String::new();
        flate2::read::GzDecoder::new(&gzip.body[..]).read_to_string(&mut gunzipped).unwrap();
        assert_eq!(gunzipped, PAGE);
        let mut unbrotlied = Vec::new();
        brotli::BrotliDecompress(&mut &brotli.body[..], &mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, PAGE.as_bytes());
    }
}
