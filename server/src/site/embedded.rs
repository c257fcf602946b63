//! The site as a release build carries it: every file cargo-leptos wrote under `target/site` (the
//! hashed WASM, JS and CSS with the `.br` and `.gz` it made of each, the split chunks, the
//! favicon), served from memory. Each body is sent as it was built (see [`super::stored`]), so
//! nothing is read from disk or compressed per request.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::{
    encoding::Encoding,
    has_content_hash,
    representations::{Representations, Stored},
    IMMUTABLE, REVALIDATE,
};

/// `target/site` at the time the release server was compiled. cargo-leptos builds the site before
/// the server whenever it hashes file names, so this is the site of the same build; the build
/// script re-runs the compilation when the site changes.
#[cfg(not(debug_assertions))]
#[derive(rust_embed::Embed)]
// Relative to this crate's Cargo.toml: the workspace's site-root.
#[folder = "../target/site"]
#[allow_missing = true]
struct BuiltSite;

/// cargo-leptos' `hash.txt` of the same build (empty when it wrote none); see `build.rs`.
#[cfg(not(debug_assertions))]
const BUILT_HASHES: &str = include_str!(concat!(env!("OUT_DIR"), "/site-hashes.txt"));

/// The files of one site build, by path without the leading slash (`pkg/app.<hash>.wasm`).
pub struct EmbeddedSite {
    files: HashMap<String, Representations>,
    hashes: String,
}

impl EmbeddedSite {
    /// The site compiled into this binary: `None` in debug builds (which serve `target/site` from
    /// disk, as `cargo leptos watch` rewrites it) and in a release binary built with no site.
    pub fn built_in() -> Option<Self> {
        #[cfg(not(debug_assertions))]
        {
            let files = BuiltSite::iter().filter_map(|path| {
                let file = BuiltSite::get(&path)?;
                let body = match file.data {
                    // Compiled in: served without a copy.
                    std::borrow::Cow::Borrowed(bytes) => Bytes::from_static(bytes),
                    std::borrow::Cow::Owned(bytes) => Bytes::from(bytes),
                };
                Some((path.into_owned(), body))
            });
            let site = Self::from_files(files, BUILT_HASHES.to_owned());
            (!site.files.is_empty()).then_some(site)
        }
        #[cfg(debug_assertions)]
        None
    }

    /// Indexes a site's files. A `name.br` or `name.gz` next to `name` is a stored form of it,
    /// not a file of its own; `hashes` is cargo-leptos' `hash.txt` for these files.
    pub fn from_files(files: impl IntoIterator<Item = (String, Bytes)>, hashes: String) -> Self {
        let mut plain = HashMap::new();
        let mut compressed = Vec::new();
        for (path, body) in files {
            match (path.strip_suffix(".br"), path.strip_suffix(".gz")) {
                (Some(base), _) => compressed.push((base.to_owned(), Encoding::Brotli, body)),
                (_, Some(base)) => compressed.push((base.to_owned(), Encoding::Gzip, body)),
                _ => {
                    plain.insert(path, body);
                }
            }
        }
        let mut files: HashMap<String, Representations> = plain
            .into_iter()
            .map(|(path, body)| {
                let content_type = mime_guess::from_path(&path).first_or_octet_stream();
                let asset = Representations {
                    content_type: HeaderValue::from_str(content_type.as_ref())
                        .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                    cache_control: HeaderValue::from_static(if has_content_hash(&path) {
                        IMMUTABLE
                    } else {
                        REVALIDATE
                    }),
                    identity: Stored::new(body),
                    brotli: None,
                    gzip: None,
                };
                (path, asset)
            })
            .collect();
        for (base, encoding, body) in compressed {
            if let Some(asset) = files.get_mut(&base) {
                let slot = if encoding == Encoding::Brotli { &mut asset.brotli } else { &mut asset.gzip };
                *slot = Some(Stored::new(body));
            }
        }
        Self { files, hashes }
    }

    /// cargo-leptos' `hash.txt` of this build.
    pub fn hashes(&self) -> &str {
        &self.hashes
    }

    /// The content of `path` as built (not compressed).
    pub fn file(&self, path: &str) -> Option<&Bytes> {
        self.files.get(path).map(|asset| &asset.identity.body)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The answer to a GET or HEAD of `/path`, or `None` when this site has no such file.
    pub fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
        let asset = self.files.get(path.trim_start_matches('/'))?;
        if method != Method::GET && method != Method::HEAD {
            return Some(StatusCode::METHOD_NOT_ALLOWED.into_response());
        }
        Some(asset.respond(headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{
        ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
    };

    const WASM: &str = "pkg/app.Xq3pYh1b0a9Zr2m4Tt8uWw.wasm";

    fn site() -> EmbeddedSite {
        EmbeddedSite::from_files(
            [
                (WASM.to_owned(), Bytes::from_static(b"\0asm-identity")),
                (format!("{WASM}.br"), Bytes::from_static(b"brotli-bytes")),
                (format!("{WASM}.gz"), Bytes::from_static(b"gzip-bytes")),
                ("favicon.svg".to_owned(), Bytes::from_static(b"<svg/>")),
                ("orphan.js.br".to_owned(), Bytes::from_static(b"x")),
            ],
            String::new(),
        )
    }

    fn request(accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
        headers
    }

    async fn body(response: Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()
    }

    #[tokio::test]
    async fn each_stored_form_is_sent_as_built_with_its_own_length_and_etag() {
        let site = site();
        let br = site.respond(&Method::GET, &format!("/{WASM}"), &request("gzip, br")).unwrap();
        assert_eq!(br.headers()[CONTENT_ENCODING], "br");
        assert_eq!(br.headers()[CONTENT_LENGTH], "12");
        assert_eq!(br.headers()[CONTENT_TYPE], "application/wasm");
        assert_eq!(br.headers()[CACHE_CONTROL], IMMUTABLE);
        assert_eq!(br.headers()[VARY], "accept-encoding");
        let br_etag = br.headers()[ETAG].clone();
        assert_eq!(body(br).await, b"brotli-bytes");

        let gzip = site.respond(&Method::GET, &format!("/{WASM}"), &request("gzip")).unwrap();
        assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");
        assert_ne!(gzip.headers()[ETAG], br_etag);
        assert_eq!(body(gzip).await, b"gzip-bytes");

        let plain = site.respond(&Method::GET, &format!("/{WASM}"), &HeaderMap::new()).unwrap();
        assert!(plain.headers().get(CONTENT_ENCODING).is_none());
        assert_eq!(body(plain).await, b"\0asm-identity");
    }

    #[tokio::test]
    async fn a_matching_if_none_match_gets_304_without_a_body() {
        let site = site();
        let first = site.respond(&Method::GET, &format!("/{WASM}"), &request("br")).unwrap();
        let mut again = request("br");
        again.insert(IF_NONE_MATCH, first.headers()[ETAG].clone());
        let revalidated = site.respond(&Method::GET, &format!("/{WASM}"), &again).unwrap();
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(revalidated.headers()[ETAG], first.headers()[ETAG]);
        assert!(body(revalidated).await.is_empty());

        // The gzip form's client holds another tag: it gets the body.
        let mut other = request("gzip");
        other.insert(IF_NONE_MATCH, first.headers()[ETAG].clone());
        assert_eq!(site.respond(&Method::GET, &format!("/{WASM}"), &other).unwrap().status(), StatusCode::OK);
    }

    #[test]
    fn unhashed_names_are_revalidated_and_compressed_forms_are_not_files() {
        let site = site();
        let icon = site.respond(&Method::GET, "/favicon.svg", &request("br")).unwrap();
        assert_eq!(icon.headers()[CACHE_CONTROL], REVALIDATE);
        assert_eq!(icon.headers()[CONTENT_TYPE], "image/svg+xml");
        assert!(icon.headers().get(VARY).is_none());
        assert!(site.respond(&Method::GET, &format!("/{WASM}.br"), &request("br")).is_none());
        assert!(site.respond(&Method::GET, "/orphan.js", &request("br")).is_none());
        assert!(site.respond(&Method::GET, "/missing.js", &request("br")).is_none());
        assert_eq!(
            site.respond(&Method::POST, "/favicon.svg", &HeaderMap::new()).unwrap().status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
}
