//! What the first page makes the browser download: every `/pkg/` asset the HTML of `/` names,
//! fetched as is, with gzip and with brotli. When the server does not serve an encoding, the size
//! is computed here (brotli quality 11, gzip level 9) and marked as such.

use std::io::Write;

use reqwest::{
    header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING},
    Client,
};

use crate::{server::ServerProcess, Result};

pub(crate) struct Asset {
    pub path: String,
    pub raw: usize,
    pub gzip: Encoded,
    pub brotli: Encoded,
    pub cache_control: String,
}

pub(crate) struct Encoded {
    pub bytes: usize,
    /// True when the server sent this encoding itself (precompressed file).
    pub served: bool,
}

/// `/pkg/…` URLs in the page, in order of appearance, without duplicates.
pub(crate) fn asset_paths(html: &str) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for (start, _) in html.match_indices("\"/pkg/") {
        let rest = &html[start + 1..];
        let Some(end) = rest.find('"') else { continue };
        let path = rest[..end].to_owned();
        let is_asset = [".wasm", ".js", ".css"].iter().any(|ext| path.ends_with(ext));
        if is_asset && !paths.contains(&path) {
            paths.push(path);
        }
    }
    paths
}

/// The HTML of `/` itself, then every asset it names.
/// `/pkg/__wasm_split.<hash>.js` for each split loader a JS file imports.
fn split_loaders(js: &str) -> Vec<String> {
    js.match_indices("__wasm_split.")
        .filter_map(|(start, _)| {
            let rest = &js[start..];
            let end = rest.find(['"', '\'', '`'])?;
            rest[..end].ends_with(".js").then(|| format!("/pkg/{}", &rest[..end]))
        })
        .collect()
}

pub(crate) async fn measure(server: &ServerProcess) -> Result<(Asset, Vec<Asset>)> {
    let client = Client::new();
    let html = client.get(server.url("/")).send().await?.text().await?;
    let page = measure_one(&client, server, "/").await?;
    let mut paths = asset_paths(&html);
    // With `--split`, the JS glue imports the split loader itself, so the HTML does not name it.
    for script in paths.clone().iter().filter(|path| path.ends_with(".js")) {
        let glue = client.get(server.url(script)).send().await?.text().await?;
        for loader in split_loaders(&glue) {
            if !paths.contains(&loader) {
                paths.push(loader);
            }
        }
    }
    let mut assets = Vec::new();
    for path in paths {
        assets.push(measure_one(&client, server, &path).await?);
    }
    Ok((page, assets))
}

async fn measure_one(client: &Client, server: &ServerProcess, path: &str) -> Result<Asset> {
    let url = server.url(path);
    let plain = client.get(&url).header(ACCEPT_ENCODING, "identity").send().await?;
    if !plain.status().is_success() {
        return Err(format!("{path} answered {}", plain.status()).into());
    }
    let cache_control = plain.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()).unwrap_or("(none)").to_owned();
    let raw = plain.bytes().await?;
    let gzip = encoded(client, &url, "gzip", || gzip_len(&raw)).await?;
    let brotli = encoded(client, &url, "br", || brotli_len(&raw)).await?;
    Ok(Asset { path: path.to_owned(), raw: raw.len(), gzip, brotli, cache_control })
}

async fn encoded(client: &Client, url: &str, encoding: &str, compute: impl FnOnce() -> usize) -> Result<Encoded> {
    let response = client.get(url).header(ACCEPT_ENCODING, encoding).send().await?;
    let served = response.headers().get(CONTENT_ENCODING).is_some_and(|v| v == encoding);
    let body = response.bytes().await?;
    Ok(if served { Encoded { bytes: body.len(), served } } else { Encoded { bytes: compute(), served } })
}

fn gzip_len(data: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory").len()
}

fn brotli_len(data: &[u8]) -> usize {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).expect("writing to memory");
    out.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_hydration_assets_once() {
        let html = r#"<link rel="modulepreload" href="/pkg/app.abc.js"><link rel="preload" href="/pkg/app.abc.wasm" as="fetch">
            <link rel="stylesheet" id="leptos" href="/pkg/app.abc.css"><script>("", "pkg")</script><a href="/pkg/app.abc.js">"#;
        assert_eq!(asset_paths(html), ["/pkg/app.abc.js", "/pkg/app.abc.wasm", "/pkg/app.abc.css"]);
    }

    #[test]
    fn compression_shrinks_repetitive_text() {
        let text = "hello world ".repeat(1000);
        assert!(gzip_len(text.as_bytes()) < 200);
        assert!(brotli_len(text.as_bytes()) < 200);
    }
}
