//! The form page (`/` and the shared links `/?plan=…`), rendered once per catalog snapshot and
//! query and kept compressed, so a page view is a lookup rather than a render and a compression.
//!
//! A cached page cannot carry a per-request nonce, so its inline scripts are allowed by their
//! SHA-256 instead: the scripts the render marked with its nonce are hashed, the nonce is taken out
//! of the bytes, and [`CachedScripts`] tells the security headers to list the hashes. The CSP stays
//! as strict: exactly the scripts that would have run under the nonce run, and no other. Pages
//! that are one person's (a refusal or sealed keys in the query, the success view) are rendered
//! per request as before.

use std::{sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use deploy::DeployService;
use domain::prefill::RETRY_KEYS_PARAM;
use http::{
    header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE},
    HeaderMap, HeaderValue, Method, StatusCode,
};
use leptos::nonce::Nonce;
use sha2::{Digest, Sha256};

use crate::site::{
    encoding::{negotiate, Encoding},
    representations::{Representations, Stored},
    REVALIDATE,
};

/// Memory for cached pages: each page's stored forms and its key, in bytes (a form page is ~40 KB
/// as it is, ~7 KB in brotli).
const CAPACITY_BYTES: u64 = 8 * 1024 * 1024;
/// A page nobody asked for this long is dropped (a new catalog snapshot drops it sooner: it is
/// no longer asked for).
const IDLE: Duration = Duration::from_secs(600);
/// Brotli quality 5 and gzip's default level: anyone can make the server render and compress a
/// new query, so a miss must stay about as cheap as the per-request render it replaced (quality 9
/// with gzip's best level, both made on every miss, cost ~20 ms a miss on the bench machine); the
/// higher levels would save a few hundred bytes of a ~6 KB page.
const BROTLI_QUALITY: i32 = 5;
/// The largest page read back from a render (the form page is ~40 KB; this is a fault).
const MAX_PAGE: usize = 4 * 1024 * 1024;
/// A longer query is rendered but not kept: real shared links are a few hundred bytes, and the key
/// is memory too.
const MAX_QUERY: usize = 2048;
/// Query parameters that make a page one person's: never cached.
const PERSONAL: &[&str] = &["refused", "__err", RETRY_KEYS_PARAM];

#[derive(Clone)]
pub struct PageCache {
    pages: moka::future::Cache<PageKey, Arc<CachedPage>>,
    deploy: Arc<DeployService>,
    /// Renders of pages not yet cached, at most one per core at a time: anyone can ask for new
    /// queries, and more renders at once than cores only add memory and latency.
    renders: Arc<tokio::sync::Semaphore>,
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
        let pages =
            moka::future::Cache::builder().max_capacity(CAPACITY_BYTES).weigher(weigh).time_to_idle(IDLE).build();
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self { pages, deploy, renders: Arc::new(tokio::sync::Semaphore::new(cores)) }
    }
}

/// What an entry costs in [`CAPACITY_BYTES`].
fn weigh(key: &PageKey, page: &Arc<CachedPage>) -> u32 {
    let bytes = page.page.weight() + key.query.len() + std::mem::size_of::<PageKey>();
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// Middleware: answers GET and HEAD of `/` from the cache, rendering and keeping the page on a
/// miss. Misses take turns (one render per core at a time), and one that finds its page rendered
/// while it waited uses it.
pub async fn serve(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if (method != Method::GET && method != Method::HEAD) || request.uri().path() != "/" {
        return next.run(request).await;
    }
    let query = request.uri().query().unwrap_or_default().to_owned();
    if query.len() > MAX_QUERY || is_personal(&query) {
        return next.run(request).await;
    }
    // No snapshot means the page shows Linode's error: rendered each time, never kept.
    let Some(catalog) = cache.deploy.catalog_version().await else { return next.run(request).await };
    let key = PageKey { catalog, query };
    if let Some(page) = cache.pages.get(&key).await {
        return cache.answer(key, page, false, request.headers()).await;
    }
    // Never closed, so acquiring only waits.
    let _turn = cache.renders.acquire().await;
    if let Some(page) = cache.pages.get(&key).await {
        return cache.answer(key, page, false, request.headers()).await;
    }
    // The render takes the request; the answer still needs what it accepts.
    let headers = request.headers().clone();
    match render(request, next).await {
        Ok(page) => cache.answer(key, Arc::new(page), true, &headers).await,
        Err(response) => response,
    }
}

impl PageCache {
    /// Answers with `page` in the form `headers` prefer, making that form the first time it is
    /// asked for (so a miss costs one render and one compression, as the per-request page did),
    /// and keeps the page when it is new or gained a form.
    async fn answer(&self, key: PageKey, page: Arc<CachedPage>, rendered: bool, headers: &HeaderMap) -> Response {
        let wanted = negotiate(headers, &[Encoding::Brotli, Encoding::Gzip]);
        let page = match page.with_form(wanted) {
            Some(completed) => Arc::new(completed),
            None if rendered => page,
            None => return page.respond(wanted, headers),
        };
        self.pages.insert(key, page.clone()).await;
        page.respond(wanted, headers)
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
    let hashed = match (keepable, nonce, std::str::from_utf8(&bytes)) {
        (true, Some(nonce), Ok(html)) => nonce_to_hashes(html, &nonce),
        _ => None,
    };
    let Some((html, scripts)) = hashed else { return Err(Response::from_parts(parts, Body::from(bytes))) };
    let content_type =
        parts.headers.get(CONTENT_TYPE).cloned().unwrap_or(HeaderValue::from_static("text/html; charset=utf-8"));
    Ok(CachedPage::new(content_type, html, &scripts))
}

impl CachedPage {
    /// The page as it is; its compressed forms come with [`Self::with_form`].
    fn new(content_type: HeaderValue, html: String, scripts: &[String]) -> Self {
        let page = Representations {
            content_type,
            // Revalidated on each use (a 304 while it is the same): a new catalog changes the page.
            cache_control: HeaderValue::from_static(REVALIDATE),
            identity: Stored::new(Bytes::from(html)),
            brotli: None,
            gzip: None,
        };
        Self { page, scripts: CachedScripts(scripts.join(" ").into()) }
    }

    /// This page with the `encoding` form added, if it lacks it.
    fn with_form(&self, encoding: Encoding) -> Option<Self> {
        let plain = &self.page.identity.body;
        let form = match encoding {
            Encoding::Brotli if self.page.brotli.is_none() => brotli(plain),
            Encoding::Gzip if self.page.gzip.is_none() => gzip(plain),
            _ => return None,
        };
        let mut page = self.page.clone();
        let slot = if encoding == Encoding::Brotli { &mut page.brotli } else { &mut page.gzip };
        *slot = Some(Stored::new(form));
        Some(Self { page, scripts: self.scripts.clone() })
    }

    fn respond(&self, encoding: Encoding, headers: &HeaderMap) -> Response {
        let mut response = self.page.respond_as(encoding, headers);
        response.extensions_mut().insert(self.scripts.clone());
        response
    }
}

/// Names are compared as Leptos reads them, percent-decoded: `%72efused` is `refused`.
fn is_personal(query: &str) -> bool {
    url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| PERSONAL.contains(&name.as_ref()))
}

/// The page without the render's nonce, and the `'sha256-<base64>'` (CSP Level 2 hash sources)
/// of each inline script that carried it. Only those: a script Leptos did not mark with this
/// render's nonce — one smuggled into the page through some injection — would not have run under
/// the nonce, and gets no hash now. `None` if the nonce appears anywhere but as Leptos writes it
/// (`nonce="…"` on its scripts, the `crossorigin` value of its preload links): it would then be
/// page content that cannot be shared.
fn nonce_to_hashes(html: &str, nonce: &str) -> Option<(String, Vec<String>)> {
    let marked = format!(" nonce=\"{nonce}\"");
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start + "<script".len()..];
        let Some(tag_end) = after.find('>') else { break };
        let attributes = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let Some(close) = body.find("</script>") else { break };
        if attributes.contains(&marked) && !attributes.contains(" src=") {
            let digest = Sha256::digest(&body.as_bytes()[..close]);
            hashes.push(format!("'sha256-{}'", STANDARD.encode(digest)));
        }
        rest = &body[close + "</script>".len()..];
    }
    hashes.sort();
    hashes.dedup();
    let html = html.replace(&marked, "").replace(&format!("crossorigin=\"{nonce}\""), "crossorigin=\"\"");
    (!html.contains(nonce)).then_some((html, hashes))
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 4);
    let params = brotli::enc::BrotliEncoderParams { quality: BROTLI_QUALITY, ..Default::default() };
    // Writing into a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    Bytes::from(out)
}

fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::default());
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

    fn hash(text: &str) -> String {
        format!("'sha256-{}'", STANDARD.encode(Sha256::digest(text.as_bytes())))
    }

    #[test]
    fn the_nonce_leaves_the_page_and_each_inline_script_it_marked_is_hashed() {
        let (html, hashes) = nonce_to_hashes(PAGE, "N0nce").unwrap();
        assert!(!html.contains("N0nce"));
        assert!(html.contains("crossorigin=\"\""));
        let mut want = vec![hash("import('/pkg/a.js')"), hash("window.x=1")];
        want.sort();
        assert_eq!(hashes, want);
    }

    #[test]
    fn an_inline_script_without_the_nonce_is_not_allowed_by_a_hash() {
        let injected = PAGE.replace("<body>", "<body><p><script>alert(1)</script></p>");
        let (html, hashes) = nonce_to_hashes(&injected, "N0nce").unwrap();
        assert!(html.contains("alert(1)"), "the page is kept as rendered");
        assert!(!hashes.contains(&hash("alert(1)")), "a script the render did not mark must stay blocked");
        assert_eq!(hashes.len(), 2);
    }

    #[test]
    fn a_nonce_in_the_page_content_keeps_the_page_out_of_the_cache() {
        assert!(nonce_to_hashes(&format!("{PAGE}<p>N0nce</p>"), "N0nce").is_none());
    }

    #[test]
    fn personal_queries_are_not_cached() {
        assert!(is_personal("refused=abc"));
        assert!(is_personal("plan=g6&__err=x"));
        assert!(is_personal(&format!("{RETRY_KEYS_PARAM}=sealed")));
        assert!(is_personal("%72efused=abc"), "percent-encoded names are the same names");
        assert!(is_personal("plan=g6&%6Beys=sealed"));
        assert!(is_personal("%5F%5Ferr=x"));
        assert!(!is_personal("plan=g6-nanode-1&region=us-east"));
        assert!(!is_personal(""));
    }

    #[test]
    fn each_stored_form_decodes_to_the_page() {
        let cached = CachedPage::new(HeaderValue::from_static("text/html"), PAGE.to_owned(), &[]);
        assert!(cached.page.brotli.is_none() && cached.page.gzip.is_none(), "compressed when first asked for");
        let cached = cached.with_form(Encoding::Brotli).unwrap();
        let cached = cached.with_form(Encoding::Gzip).unwrap();
        assert!(cached.with_form(Encoding::Brotli).is_none(), "nothing left to add");
        assert!(cached.with_form(Encoding::Identity).is_none());
        let (gzip, brotli) = (cached.page.gzip.as_ref().unwrap(), cached.page.brotli.as_ref().unwrap());
        let mut gunzipped = String::new();
        flate2::read::GzDecoder::new(&gzip.body[..]).read_to_string(&mut gunzipped).unwrap();
        assert_eq!(gunzipped, PAGE);
        let mut unbrotlied = Vec::new();
        brotli::BrotliDecompress(&mut &brotli.body[..], &mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, PAGE.as_bytes());
    }
}
