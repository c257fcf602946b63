//! The form page served from the page cache, over real HTTP against the embedded sandbox: one
//! render per catalog snapshot and query, sent precompressed and revalidated by ETag, with a CSP
//! that admits exactly the page's own inline scripts by hash; personal pages are not cached.

use std::io::Read as _;

use crate::support::spawn_app;
use base64::{engine::general_purpose::STANDARD, Engine as _};
use reqwest::{header, Client, StatusCode};
use sha2::{Digest, Sha256};

struct Page {
    status: StatusCode,
    csp: String,
    etag: Option<String>,
    encoding: Option<String>,
    body: Vec<u8>,
}

/// reqwest, as built here, decodes nothing itself: the test sees the bytes that were sent.
fn raw() -> Client {
    Client::new()
}

async fn get(client: &Client, url: &str, accept: &str, if_none_match: Option<&str>) -> Page {
    let mut request = client.get(url).header(header::ACCEPT_ENCODING, accept);
    if let Some(tag) = if_none_match {
        request = request.header(header::IF_NONE_MATCH, tag);
    }
    let response = request.send().await.unwrap();
    let text = |name| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    Page {
        status: response.status(),
        csp: text(header::CONTENT_SECURITY_POLICY).expect("every page has a CSP"),
        etag: text(header::ETAG),
        encoding: text(header::CONTENT_ENCODING),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

fn html(page: &Page) -> String {
    String::from_utf8(page.body.clone()).unwrap()
}

/// The `'sha256-…'` of every inline script of `html`, as a browser would compute it.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes: Vec<String> = html
        .split("<script")
        .skip(1)
        .filter_map(|tag| {
            let (attributes, rest) = tag.split_once('>')?;
            (!attributes.contains("src=")).then(|| {
                let text = &rest[..rest.find("</script>").unwrap()];
                format!("'sha256-{}'", STANDARD.encode(Sha256::digest(text.as_bytes())))
            })
        })
        .collect();
    hashes.sort();
    hashes
}

/// The hash sources of a CSP's `script-src`.
fn csp_hashes(csp: &str) -> Vec<String> {
    let script_src = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap();
    let mut hashes: Vec<String> =
        script_src.split_whitespace().filter(|s| s.starts_with("'sha256-")).map(str::to_owned).collect();
    hashes.sort();
    hashes
}

#[tokio::test]
async fn the_form_page_is_rendered_once_and_its_csp_names_exactly_its_inline_scripts() {
    let app = spawn_app(&[]).await;
    let client = raw();
    let url = app.url("/");
    let first = get(&client, &url, "identity", None).await;
    assert_eq!(first.status, StatusCode::OK);
    let page = html(&first);
    assert!(page.contains("deploy-heading"), "not the form page");
    assert!(!first.csp.contains("'nonce-"), "{}", first.csp);
    assert!(!page.contains(" nonce="), "a cached page must not carry a nonce");
    let scripts = inline_script_hashes(&page);
    assert!(!scripts.is_empty(), "the hydration script is missing");
    assert_eq!(csp_hashes(&first.csp), scripts, "the CSP must admit exactly the page's inline scripts");
    assert!(first.csp.contains("script-src 'self' 'sha256-") && first.csp.contains("'wasm-unsafe-eval'"));

    // The same bytes again, not a new render (a render would carry a new nonce somewhere).
    let second = get(&client, &url, "identity", None).await;
    assert_eq!(second.body, first.body);
    assert_eq!(second.etag, first.etag);
    assert_eq!(second.csp, first.csp);

    // A browser that holds it revalidates it for nothing.
    let etag = first.etag.clone().expect("a cached page has an ETag");
    let revalidated = get(&client, &url, "identity", Some(&etag)).await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert!(revalidated.body.is_empty());
}

#[tokio::test]
async fn a_head_before_any_get_does_not_leave_an_empty_page_in_the_cache() {
    // The body of a HEAD is dropped on the way out, after the cache has kept the rendered page.
    let app = spawn_app(&[]).await;
    let client = raw();
    let head = client.head(app.url("/?plan=g6-nanode-1")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let page = get(&client, &app.url("/?plan=g6-nanode-1"), "identity", None).await;
    assert!(html(&page).contains("deploy-heading"), "the GET after a HEAD got {} bytes", page.body.len());
    // Once cached, a HEAD is answered from the cache: the same length and ETag as the GET.
    let head =
        client.head(app.url("/?plan=g6-nanode-1")).header(header::ACCEPT_ENCODING, "identity").send().await.unwrap();
    assert_eq!(head.headers()[header::ETAG].to_str().unwrap(), page.etag.as_deref().unwrap());
    assert_eq!(head.headers()[header::CONTENT_LENGTH].to_str().unwrap(), page.body.len().to_string());
}

#[tokio::test]
async fn the_page_is_sent_precompressed_in_the_form_the_browser_accepts() {
    let app = spawn_app(&[]).await;
    let client = raw();
    let url = app.url("/");
    let plain = get(&client, &url, "identity", None).await;
    let br = get(&client, &url, "gzip, deflate, br", None).await;
    assert_eq!(br.encoding.as_deref(), Some("br"));
    let mut unbrotlied = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut unbrotlied).unwrap();
    assert_eq!(unbrotlied, plain.body);
    assert!(br.body.len() * 3 < plain.body.len(), "brotli: {} of {} bytes", br.body.len(), plain.body.len());

    let gzip = get(&client, &url, "gzip", None).await;
    assert_eq!(gzip.encoding.as_deref(), Some("gzip"));
    let mut gunzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..]).read_to_end(&mut gunzipped).unwrap();
    assert_eq!(gunzipped, plain.body);
    assert_ne!(gzip.etag, br.etag, "each stored form has its own ETag");
    assert_eq!(gzip.csp, br.csp);
}

#[tokio::test]
async fn shared_links_are_cached_per_query_and_differ_only_where_the_page_does() {
    let app = spawn_app(&[]).await;
    let client = raw();
    let nanode = get(&client, &app.url("/?plan=g6-nanode-1&region=us-east"), "identity", None).await;
    let standard = get(&client, &app.url("/?plan=g6-standard-2&region=us-east"), "identity", None).await;
    assert_ne!(nanode.etag, standard.etag);
    let (a, b) = (html(&nanode), html(&standard));
    assert!(a.contains(r#"<option value="g6-nanode-1" selected"#), "the link's plan is chosen");
    assert!(b.contains(r#"<option value="g6-standard-2" selected"#), "the link's plan is chosen");
    // Each page's CSP fits its own scripts.
    assert_eq!(csp_hashes(&nanode.csp), inline_script_hashes(&a));
    assert_eq!(csp_hashes(&standard.csp), inline_script_hashes(&b));
    // Apart from the choice and what follows from it (the price, the request preview), the pages
    // are the same: the same head, scripts and header.
    let head = |page: &str| page[..page.find("<main").unwrap()].to_owned();
    assert_eq!(head(&a), head(&b));

    let again = get(&client, &app.url("/?plan=g6-nanode-1&region=us-east"), "identity", None).await;
    assert_eq!(again.body, nanode.body, "a query's page is kept");
}

#[tokio::test]
async fn a_page_that_is_one_persons_is_rendered_each_time_with_a_nonce() {
    let app = spawn_app(&[]).await;
    let client = raw();
    // Percent-encoded names are the same names to the page (it decodes them).
    for query in ["/?refused=sealed", "/?keys=sealed", "/?__err=x", "/?%72efused=sealed", "/?plan=x&%6Beys=sealed"] {
        let one = get(&client, &app.url(query), "identity", None).await;
        let two = get(&client, &app.url(query), "identity", None).await;
        assert!(one.csp.contains("'nonce-") && !one.csp.contains("'sha256-"), "{query}: {}", one.csp);
        assert_ne!(one.csp, two.csp, "{query}: a fresh nonce each time");
        assert!(one.etag.is_none(), "{query}");
    }
}
