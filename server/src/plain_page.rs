//! Small pages the server answers without rendering the app: a refused callback, a cross-site
//! post, too many attempts. Styled by the site's stylesheet under its hashed name.

use std::sync::OnceLock;

use axum::response::{IntoResponse, Response};
use http::{
    header::{CACHE_CONTROL, CONTENT_TYPE},
    HeaderValue, StatusCode,
};
use leptos::prelude::LeptosOptions;

/// `/pkg/<name>[.<hash>].css`, as the app's own `<HashedStylesheet>` names it: with cargo-leptos'
/// `hash-files`, the hash is read once from `hash.txt` next to the server binary.
pub fn stylesheet_href(options: &LeptosOptions) -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let mut name = options.output_name.to_string();
        if options.hash_files {
            let hashes = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(&*options.hash_file)))
                .and_then(|path| std::fs::read_to_string(path).ok())
                .unwrap_or_default();
            if let Some(hash) = hashes.lines().find_map(|line| line.trim().strip_prefix("css:")) {
                name = format!("{name}.{}", hash.trim());
            }
        }
        format!("/{}/{name}.css", options.site_pkg_dir)
    })
}

/// Text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A page with a heading, the message as an alert, a next step, and a link back to the form.
/// `title`, `message` and `next` are plain text.
/// `kind` goes to `data-kind`, as on the result page's failures.
pub struct PlainPage<'a> {
    pub status: StatusCode,
    pub testid: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub message: &'a str,
    pub next: &'a str,
}

pub fn page(options: &LeptosOptions, page: PlainPage<'_>) -> Response {
    let PlainPage { status, testid, kind, title, message, next } = page;
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — Install on Linode</title>\
         <link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.svg\">\
         <link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body><main id=\"main\"><section class=\"card failure\" data-testid=\"{testid}\" data-kind=\"{kind}\">\
         <h1>{title}</h1>\
         <p class=\"alert error\" role=\"alert\">{message}</p>\
         <p>{next}</p>\
         <p><a class=\"button primary\" href=\"/\">Back to the form</a></p></section></main></body></html>\n",
        title = escape(title),
        css = escape(stylesheet_href(options)),
        testid = escape(testid),
        kind = escape(kind),
        message = escape(message),
        next = escape(next),
    );
    let mut response = (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
