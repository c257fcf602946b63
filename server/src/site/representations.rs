//! A body kept in memory in each form it is sent in (as it is, brotli, gzip), and the answer to a
//! GET of it: the form the request accepts, its `Content-Length`, its own strong `ETag` and a
//! `304` when the request already holds that form. Shared by the compiled-in assets and the
//! cached form page, which differ only in how their bodies were made.

use axum::{
    body::{Body, Bytes},
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use http::{
    header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY},
    HeaderMap, HeaderValue, StatusCode,
};
use sha2::{Digest, Sha256};

use super::encoding::{negotiate, Encoding};

/// One form of a body and its entity tag (from its own bytes, so each form has its own).
#[derive(Clone)]
pub struct Stored {
    pub body: Bytes,
    etag: HeaderValue,
}

impl Stored {
    pub fn new(body: Bytes) -> Self {
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..18]));
        Self { body, etag: HeaderValue::from_str(&etag).expect("base64url is a valid header value") }
    }
}

/// A body in the forms it is kept in (cloned cheaply: the bodies are shared).
#[derive(Clone)]
pub struct Representations {
    pub content_type: HeaderValue,
    pub cache_control: HeaderValue,
    pub identity: Stored,
    pub brotli: Option<Stored>,
    pub gzip: Option<Stored>,
}

impl Representations {
    /// Bytes held, all forms together.
    pub fn weight(&self) -> usize {
        let compressed = [&self.brotli, &self.gzip].into_iter().flatten().map(|stored| stored.body.len());
        self.identity.body.len() + compressed.sum::<usize>()
    }

    /// The answer to a GET or HEAD with these request headers.
    pub fn respond(&self, headers: &HeaderMap) -> Response {
        self.respond_as(self.preferred(headers), headers)
    }

    /// The stored form these request headers prefer.
    pub fn preferred(&self, headers: &HeaderMap) -> Encoding {
        const BOTH: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];
        let offered: &[Encoding] = match (self.brotli.is_some(), self.gzip.is_some()) {
            (true, true) => &BOTH,
            (true, false) => &BOTH[..1],
            (false, true) => &BOTH[1..],
            (false, false) => &[],
        };
        negotiate(headers, offered)
    }

    /// The answer in `encoding` (the body as it is when that form is not held).
    pub fn respond_as(&self, encoding: Encoding, headers: &HeaderMap) -> Response {
        let (encoding, stored) = match encoding {
            Encoding::Brotli => self.brotli.as_ref().map(|stored| (encoding, stored)),
            Encoding::Gzip => self.gzip.as_ref().map(|stored| (encoding, stored)),
            Encoding::Identity => None,
        }
        .unwrap_or((Encoding::Identity, &self.identity));

        let mut response = if matches_etag(headers, &stored.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut response = Response::new(Body::from(stored.body.clone()));
            let out = response.headers_mut();
            out.insert(CONTENT_TYPE, self.content_type.clone());
            out.insert(CONTENT_LENGTH, HeaderValue::from(stored.body.len()));
            if let Some(value) = encoding.header_value() {
                out.insert(CONTENT_ENCODING, HeaderValue::from_static(value));
            }
            response
        };
        let out = response.headers_mut();
        out.insert(ETAG, stored.etag.clone());
        out.insert(CACHE_CONTROL, self.cache_control.clone());
        if self.brotli.is_some() || self.gzip.is_some() {
            out.insert(VARY, HeaderValue::from_static("accept-encoding"));
        }
        response
    }
}

/// `If-None-Match` names this ETag (or `*`). Weak comparison, as RFC 9110 §13.1.2 asks for GET.
fn matches_etag(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let etag = etag.as_bytes();
    headers.get_all(IF_NONE_MATCH).iter().any(|value| {
        value.as_bytes().split(|&b| b == b',').map(|tag| tag.trim_ascii()).any(|tag| {
            let tag = tag.strip_prefix(b"W/").unwrap_or(tag);
            tag == b"*" || tag == etag
        })
    })
}
