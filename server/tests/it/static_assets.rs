//! The `/pkg` assets as a debug build (and `cargo leptos watch`) serves them, from `target/site` on
//! disk: precompressed files are sent as they are to browsers that accept them, hashed names are
//! cacheable for a year, anything else is revalidated. The release binary's compiled-in site is
//! tested in `src/site/` and, as built, by end2end/tests/binary.spec.ts.

use std::{collections::HashMap, path::PathBuf};

use leptos::prelude::LeptosOptions;
use reqwest::{
    header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY},
    Client, StatusCode,
};
use server::{Application, Config};

const HASHED_WASM: &str = "install-on-linode.Xq3pYh1b0a9Zr2m4Tt8uWw.wasm";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A site root with a hashed WASM (plus its `.br` and `.gz`) and an unhashed stylesheet. The
/// compressed files hold marker bytes, so the test can tell which file was sent.
fn site_root(test: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("install-on-linode-{test}-{}", std::process::id()));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join(HASHED_WASM), b"\0asm-identity").unwrap();
    std::fs::write(pkg.join(format!("{HASHED_WASM}.br")), b"brotli-bytes").unwrap();
    std::fs::write(pkg.join(format!("{HASHED_WASM}.gz")), b"gzip-bytes").unwrap();
    std::fs::write(pkg.join("install-on-linode.css"), b"body{}").unwrap();
    root
}

async fn spawn(site_root: &std::path::Path) -> String {
    let data = site_root.join("data");
    let data = data.to_str().unwrap();
    let vars: HashMap<&str, &str> = HashMap::from([("LEPTOS_SITE_ADDR", "127.0.0.1:0"), ("DATA_DIR", data)]);
    let config = Config::from_lookup(|name| vars.get(name).map(|v| v.to_string())).unwrap();
    let options = LeptosOptions::builder()
        .output_name("install-on-linode")
        .site_root(site_root.to_str().unwrap())
        .site_pkg_dir("pkg")
        .build();
    let application = Application::build(config, options).await.expect("the app starts");
    let base = format!("http://{}", application.local_addr());
    tokio::spawn(application.run_until(std::future::pending()));
    base
}

#[tokio::test]
async fn the_wasm_is_sent_precompressed_and_cached_for_a_year() {
    let root = site_root("precompressed");
    let base = spawn(&root).await;
    let client = Client::new();
    let url = format!("{base}/pkg/{HASHED_WASM}");

    let response = client.get(&url).header(ACCEPT_ENCODING, "gzip, deflate, br, zstd").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(header(CONTENT_ENCODING).as_deref(), Some("br"));
    assert_eq!(header(CONTENT_TYPE).as_deref(), Some("application/wasm"));
    assert_eq!(header(CACHE_CONTROL).as_deref(), Some(IMMUTABLE));
    assert_eq!(header(VARY).as_deref(), Some("accept-encoding"));
    assert_eq!(&response.bytes().await.unwrap()[..], b"brotli-bytes");

    let gzip = client.get(&url).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(gzip.headers().get(CONTENT_ENCODING).unwrap(), "gzip");
    assert_eq!(&gzip.bytes().await.unwrap()[..], b"gzip-bytes");

    let plain = client.get(&url).header(ACCEPT_ENCODING, "identity").send().await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.headers().get(CACHE_CONTROL).unwrap(), IMMUTABLE);
    assert_eq!(&plain.bytes().await.unwrap()[..], b"\0asm-identity");
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn unhashed_and_missing_assets_are_not_cached() {
    let root = site_root("unhashed");
    let base = spawn(&root).await;
    let client = Client::new();

    let css = client.get(format!("{base}/pkg/install-on-linode.css")).send().await.unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers().get(CACHE_CONTROL).unwrap(), "no-cache");

    let missing = client.get(format!("{base}/pkg/install-on-linode.AAAAAAAAAAAAAAAAAAAAAA.wasm")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers().get(CACHE_CONTROL).unwrap(), "no-cache");
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn a_site_built_without_split_is_refused_at_start_up_saying_what_to_run() {
    let root = site_root("unsplit");
    let js = root.join("pkg").join("install-on-linode.js");
    std::fs::write(&js, b"import * as split from \"__wasm_split_placeholder__\";\nexport default split;\n").unwrap();
    let data = root.join("data");
    let data = data.to_str().unwrap();
    let vars: HashMap<&str, &str> = HashMap::from([("LEPTOS_SITE_ADDR", "127.0.0.1:0"), ("DATA_DIR", data)]);
    let config = Config::from_lookup(|name| vars.get(name).map(|v| v.to_string())).unwrap();
    let options = LeptosOptions::builder()
        .output_name("install-on-linode")
        .site_root(root.to_str().unwrap())
        .site_pkg_dir("pkg")
        .build();
    let Err(error) = Application::build(config, options).await else { panic!("an unsplit site must not start") };
    let message = error.to_string();
    assert!(message.contains("--split") && message.contains("cargo leptos build"), "{message}");
    let _ = std::fs::remove_dir_all(root);
}
