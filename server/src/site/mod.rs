//! Where the site's files (WASM, JS, CSS, favicon) come from and how they are served.
//!
//! A release binary carries the site it was built with ([`embedded`]) and serves it from memory,
//! so the one file is the whole deployment. Debug builds, `cargo leptos watch` (which rewrites
//! the files as you edit) and a release binary compiled without a site read `target/site` from
//! disk, as the Leptos options name it.

pub mod embedded;
pub mod encoding;
pub mod representations;

use std::{path::Path, sync::Arc};

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::{from_fn, Next},
    response::{IntoResponse, Response},
    Router,
};
use leptos::prelude::LeptosOptions;
use tower_http::services::ServeDir;

pub use embedded::EmbeddedSite;

/// Names that carry a content hash never change content: browsers may keep them for a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Anything else is revalidated on every use.
pub const REVALIDATE: &str = "no-cache";

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(
        "the site in {0} was built without --split: its lazy islands would fail to load in every browser \
         (\"Failed to resolve module specifier __wasm_split_placeholder__\"). Rebuild it with \
         `cargo leptos build --release --precompress --split` (or `cargo leptos watch --split`)"
    )]
    UnsplitBuild(String),
    #[error(
        "the site compiled into this binary has no {0}, which its hash.txt names: it was built from a stale \
         target/site. Rebuild with `cargo leptos build --release --precompress --split`"
    )]
    Inconsistent(String),
    #[error("could not write Leptos' hash file and split manifest to a private temporary directory: {0}")]
    LeptosFiles(std::io::Error),
}

/// The site's files for this run.
pub enum Site {
    /// `<site_root>/<site_pkg_dir>` on disk.
    Disk,
    /// The files compiled into this binary.
    Embedded {
        files: Arc<EmbeddedSite>,
        /// Leptos 0.8 reads two small files itself on every render: `hash.txt` (for the hashed
        /// names it links) and the split manifest (for the lazy islands' preloads). They are
        /// written from memory into this directory, which the Leptos options then name; it is
        /// removed when the server stops.
        _leptos_files: tempfile::TempDir,
    },
}

impl Site {
    /// The compiled-in site, unless there is none or `cargo leptos watch` is serving files it
    /// keeps rewriting (`watching`); else the one on disk. Either is refused when it cannot hydrate.
    pub fn choose(options: &mut LeptosOptions, watching: bool) -> Result<Self, SiteError> {
        match EmbeddedSite::built_in().filter(|_| !watching) {
            Some(files) => Self::embedded(files, options),
            None => {
                refuse_unsplit_disk(options)?;
                Ok(Self::Disk)
            }
        }
    }

    /// Serves `files` and points `options` at the files Leptos reads itself.
    pub fn embedded(files: EmbeddedSite, options: &mut LeptosOptions) -> Result<Self, SiteError> {
        check_embedded(&files, options)?;
        let dir = tempfile::Builder::new().prefix("install-on-linode-").tempdir().map_err(SiteError::LeptosFiles)?;
        let hash_file = dir.path().join("hash.txt");
        let site_root = dir.path().join("site");
        let pkg = site_root.join(&*options.site_pkg_dir);
        std::fs::create_dir_all(&pkg).map_err(SiteError::LeptosFiles)?;
        std::fs::write(&hash_file, files.hashes()).map_err(SiteError::LeptosFiles)?;
        let manifest_prefix = format!("{}/__wasm_split_manifest", options.site_pkg_dir);
        for path in files.paths().filter(|path| path.starts_with(&manifest_prefix)) {
            if let (Some(body), Some(name)) = (files.file(path), Path::new(path).file_name()) {
                std::fs::write(pkg.join(name), body).map_err(SiteError::LeptosFiles)?;
            }
        }
        // An absolute `hash_file` is where Leptos looks, whatever directory the binary is in.
        options.hash_files = !files.hashes().trim().is_empty();
        options.hash_file = hash_file.to_string_lossy().into_owned().into();
        options.site_root = site_root.to_string_lossy().into_owned().into();
        tracing::info!(files = files.paths().count(), "serving the site compiled into this binary");
        Ok(Self::Embedded { files: Arc::new(files), _leptos_files: dir })
    }

    /// The compiled-in files, when they are served.
    pub fn embedded_files(&self) -> Option<Arc<EmbeddedSite>> {
        match self {
            Self::Disk => None,
            Self::Embedded { files, .. } => Some(files.clone()),
        }
    }

    /// The service for `/<site_pkg_dir>`: the WASM, JS and CSS.
    pub fn pkg_router(&self, options: &LeptosOptions) -> Router {
        match self.embedded_files() {
            Some(files) => {
                let pkg = options.site_pkg_dir.to_string();
                Router::new().fallback(move |request: Request| {
                    let files = files.clone();
                    let path = format!("/{pkg}{}", request.uri().path());
                    async move {
                        files.respond(request.method(), &path, request.headers()).unwrap_or_else(|| {
                            ([(header::CACHE_CONTROL, REVALIDATE)], StatusCode::NOT_FOUND).into_response()
                        })
                    }
                })
            }
            None => disk_pkg(options),
        }
    }
}

/// The site on disk. A release build (`cargo leptos build --release --precompress`) writes a `.br`
/// and a `.gz` next to each file, which are sent as they are to browsers that accept them.
fn disk_pkg(options: &LeptosOptions) -> Router {
    let dir = Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    Router::new()
        .fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(from_fn(disk_cache_headers))
}

/// Whether `path` is longer than a path, or has a segment longer than a file name, can be on Linux
/// (4096 and 255 bytes): such a path names no file of the site, and looking it up on disk fails
/// with an I/O error ("File name too long") instead of "not found".
pub fn names_no_file(path: &str) -> bool {
    const PATH_MAX: usize = 4096;
    const NAME_MAX: usize = 255;
    path.len() > PATH_MAX || path.split('/').any(|segment| segment.len() > NAME_MAX)
}

async fn disk_cache_headers(request: Request, next: Next) -> Response {
    if names_no_file(request.uri().path()) {
        return ([(header::CACHE_CONTROL, REVALIDATE)], StatusCode::NOT_FOUND).into_response();
    }
    let hashed = has_content_hash(request.uri().path());
    let mut response = next.run(request).await;
    let cacheable = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let policy = if hashed && cacheable { IMMUTABLE } else { REVALIDATE };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The success view's islands are lazy: a WASM build without cargo-leptos' `--split` leaves the
/// JS importing a placeholder module that no browser can resolve, so every page would fail at
/// hydration. Such a site is refused at start-up, with what to run instead.
fn is_unsplit(js: &[u8]) -> bool {
    const PLACEHOLDER: &[u8] = b"__wasm_split_placeholder__";
    js.windows(PLACEHOLDER.len()).any(|window| window == PLACEHOLDER)
}

fn refuse_unsplit_disk(options: &LeptosOptions) -> Result<(), SiteError> {
    let pkg = Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    let Ok(entries) = std::fs::read_dir(&pkg) else { return Ok(()) };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "js") && std::fs::read(&path).is_ok_and(|js| is_unsplit(&js)) {
            return Err(SiteError::UnsplitBuild(pkg.display().to_string()));
        }
    }
    Ok(())
}

/// Refuses a compiled-in site that could not hydrate: unsplit, or not the files its `hash.txt`
/// names (a server compiled against an older `target/site`).
fn check_embedded(files: &EmbeddedSite, options: &LeptosOptions) -> Result<(), SiteError> {
    let pkg = &*options.site_pkg_dir;
    if files.paths().any(|path| path.ends_with(".js") && files.file(path).is_some_and(|js| is_unsplit(js))) {
        return Err(SiteError::UnsplitBuild("this binary".to_owned()));
    }
    for line in files.hashes().lines() {
        let Some((kind, hash)) = line.split_once(':') else { continue };
        let name = match kind.trim() {
            kind @ ("js" | "wasm" | "css") => format!("{pkg}/{}.{}.{kind}", options.output_name, hash.trim()),
            "split" => format!("{pkg}/__wasm_split.{}.js", hash.trim()),
            "manifest" => format!("{pkg}/__wasm_split_manifest.{}.json", hash.trim()),
            _ => continue,
        };
        if files.file(&name).is_none() {
            return Err(SiteError::Inconsistent(name));
        }
    }
    Ok(())
}

/// True for cargo-leptos' hashed names, `<name>.<22 base64url chars>.<ext>` (an MD5 digest).
pub fn has_content_hash(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|part| part.len() == 22 && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    #[test]
    fn only_paths_no_file_system_can_hold_name_no_file() {
        assert!(!names_no_file("/pkg/app-0123456789abcdef.wasm"));
        assert!(!names_no_file(&format!("/{}", "a".repeat(255))));
        assert!(names_no_file(&format!("/{}", "a".repeat(256))));
        assert!(names_no_file(&format!("/x/{}.js", "a".repeat(300))));
        assert!(!names_no_file(&"/b".repeat(2048)));
        assert!(names_no_file(&"/b".repeat(2049)));
    }

    #[test]
    fn only_cargo_leptos_hashed_names_count_as_hashed() {
        assert!(has_content_hash("/install-on-linode.Xq3pYh1b0a9Zr2m4Tt8uWw.wasm"));
        assert!(has_content_hash("/install-on-linode.Xq3pYh1b0a9Zr2m4Tt8u-_.css"));
        assert!(!has_content_hash("/install-on-linode.wasm"));
        assert!(!has_content_hash("/install-on-linode_bg.wasm"));
        assert!(!has_content_hash("/snippets/x.js"));
        assert!(!has_content_hash("/a.Xq3pYh1b0a9Zr2m4Tt8u!!.js"));
    }

    fn options() -> LeptosOptions {
        LeptosOptions::builder().output_name("app").site_root("target/site").site_pkg_dir("pkg").build()
    }

    const HASH: &str = "Xq3pYh1b0a9Zr2m4Tt8uWw";

    fn files(names: &[&str], hashes: &str) -> EmbeddedSite {
        EmbeddedSite::from_files(
            names.iter().map(|name| (name.to_string(), Bytes::from_static(b"{}"))),
            hashes.to_owned(),
        )
    }

    #[test]
    fn a_compiled_in_site_points_leptos_at_its_own_hash_file_and_manifest() {
        let mut options = options();
        let site = files(
            &[&format!("pkg/app.{HASH}.js"), &format!("pkg/__wasm_split_manifest.{HASH}.json")],
            &format!("js: {HASH}\nmanifest: {HASH}\n"),
        );
        let site = Site::embedded(site, &mut options).unwrap();
        assert!(options.hash_files);
        let hash_file = Path::new(&*options.hash_file);
        assert!(hash_file.is_absolute());
        assert_eq!(std::fs::read_to_string(hash_file).unwrap(), format!("js: {HASH}\nmanifest: {HASH}\n"));
        let manifest = Path::new(&*options.site_root).join(format!("pkg/__wasm_split_manifest.{HASH}.json"));
        assert_eq!(std::fs::read(&manifest).unwrap(), b"{}");
        // hash.txt is not under the site root, which the fallback handler serves files from.
        assert!(!hash_file.starts_with(&*options.site_root));
        drop(site);
        assert!(!manifest.exists(), "the directory goes with the server");
    }

    #[test]
    fn a_compiled_in_site_that_lacks_a_file_its_hashes_name_is_refused() {
        let site = files(&[&format!("pkg/app.{HASH}.js")], &format!("js: {HASH}\nwasm: {HASH}\n"));
        let Err(error) = Site::embedded(site, &mut options()) else { panic!("a stale site must be refused") };
        assert!(error.to_string().contains(&format!("pkg/app.{HASH}.wasm")), "{error}");
    }

    #[test]
    fn a_compiled_in_unsplit_site_is_refused() {
        let site = EmbeddedSite::from_files(
            [("pkg/app.js".to_owned(), Bytes::from_static(b"import * as s from \"__wasm_split_placeholder__\";"))],
            String::new(),
        );
        let Err(error) = Site::embedded(site, &mut options()) else { panic!("an unsplit site must be refused") };
        assert!(error.to_string().contains("--split"), "{error}");
    }
}
