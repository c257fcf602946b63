//! The HTML of the login/consent page and of the error page. Every link and form target is
//! relative, so the pages work wherever the router is mounted.

/// Escapes text for HTML element content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A scope in words, e.g. `linodes:read_write` → "Linodes: create, change and delete".
fn describe(scope: &str) -> String {
    if scope == "*" {
        return "Everything on your account: read, create, change and delete".to_owned();
    }
    let (resource, level) = scope.split_once(':').unwrap_or((scope, ""));
    let resource = match resource {
        "ips" => "IP addresses".to_owned(),
        "lke" => "Kubernetes (LKE)".to_owned(),
        "vpc" => "VPCs".to_owned(),
        "stackscripts" => "StackScripts".to_owned(),
        "nodebalancers" => "NodeBalancers".to_owned(),
        "object_storage" => "Object Storage".to_owned(),
        other => {
            let mut chars = other.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    };
    let level = match level {
        "read_only" => "view only",
        _ => "view, create, change and delete",
    };
    format!("{resource}: {level}")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1f2933;margin:0}\
main{max-width:30rem;margin:3rem auto;background:#fff;border-radius:8px;padding:2rem;\
box-shadow:0 2px 8px rgba(0,0,0,.08)}h1{font-size:1.3rem;margin-top:0}\
.banner{background:#fff4d6;border:1px solid #f0c36d;border-radius:4px;padding:.5rem .75rem;font-size:.9rem}\
label{display:block;margin:.4rem 0}input[type=text]{width:100%;padding:.4rem;box-sizing:border-box}\
fieldset{border:1px solid #d9dde3;border-radius:4px;margin:1rem 0}code{font-size:.85em;color:#52606d}\
.actions{display:flex;gap:.75rem}button{padding:.5rem 1.2rem;border-radius:4px;border:1px solid #02b159;\
font-size:1rem;cursor:pointer}button[value=approve]{background:#02b159;color:#fff}\
button[value=deny]{background:#fff;color:#1f2933;border-color:#9aa5b1}small{color:#52606d}";

/// The pages' icon, inline: without one a browser asks for `/favicon.ico`, which is not the
/// sandbox's (it may be mounted under another site) and would fail on every visit.
const ICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E\
%3Ccircle cx='8' cy='8' r='7' fill='%2302b159'/%3E%3C/svg%3E";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><link rel=\"icon\" href=\"{ICON}\"><style>{STYLE}</style></head><body><main>\
<p class=\"banner\">Linode sandbox — nothing real is created.</p>{body}</main></body></html>\n",
        title = escape(title),
    )
}

/// The login and consent form. It posts back to its own URL.
pub(super) fn consent_page(app_label: &str, scopes: &[String], request_id: &str, username: &str) -> String {
    let app = escape(app_label);
    let checkboxes: String = scopes
        .iter()
        .map(|scope| {
            let value = escape(scope);
            format!(
                "<label><input type=\"checkbox\" name=\"scope\" value=\"{value}\" checked> \
{words} <code>{value}</code></label>",
                words = escape(&describe(scope)),
            )
        })
        .collect();
    let body = format!(
        "<h1>Authorize {app}</h1>\
<p><strong>{app}</strong> wants to access your Linode account.</p>\
<form method=\"post\">\
<input type=\"hidden\" name=\"request\" value=\"{request}\">\
<fieldset><legend>Sign in as</legend>\
<label><input type=\"radio\" name=\"username\" value=\"{user}\" checked> <strong>{user}</strong> \
<small>unrestricted user: may create Linodes and firewalls</small></label>\
<label><input type=\"radio\" name=\"username\" value=\"{restricted}\"> <strong>{restricted}</strong> \
<small>restricted IAM user without a Linode creator role: creating a Linode is refused (403)</small></label>\
</fieldset><small>There is no password in the sandbox.</small>\
<fieldset><legend>Permissions requested (untick to refuse one)</legend>{checkboxes}</fieldset>\
<div class=\"actions\">\
<button type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
</div></form>",
        request = escape(request_id),
        user = escape(username),
        restricted = escape(crate::account::RESTRICTED_USER),
    );
    page(&format!("Authorize {app_label}"), &body)
}

/// Shown instead of redirecting when the request cannot be trusted.
pub(super) fn error_page(title: &str, message: &str) -> String {
    page(title, &format!("<h1>{}</h1><p>{}</p>", escape(title), escape(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_the_app_and_each_scope_and_escapes() {
        let html = consent_page("My <App>", &["linodes:read_write".to_owned(), "*".to_owned()], "abc", "me");
        assert!(html.contains("My &lt;App&gt;"));
        assert!(html.contains("<input type=\"checkbox\" name=\"scope\" value=\"linodes:read_write\" checked>"));
        assert!(html.contains("Linodes: view, create, change and delete"));
        assert!(html.contains("name=\"request\" value=\"abc\""));
        assert!(html.contains("nothing real is created"));
    }
}
