//! What the server's tests, the engine's tests and the bench share to drive a deployment against
//! the Linode sandbox, written once: reading the sandbox's consent page, and the environment a
//! server process talking to a standalone sandbox starts with.

use sandbox::RunningSandbox;

/// The `name` and `value` of each hidden input of a page (the consent form's `client_id`,
/// `state`, …): the sandbox writes them one per `<input>`, attributes double-quoted and escaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input")
        .skip(1)
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&").replace("&quot;", "\""))
}

/// The environment of a release or test server on `port` that talks to `sandbox` as it would to
/// Linode (its default OAuth client, its demo StackScript), with every per-address limit off:
/// the tests and the bench send from 127.0.0.1 faster than any person. Callers add what is
/// theirs (the site, `PUBLIC_BASE_URL`, the store…); a later value of the same name wins.
pub fn server_env(
    port: u16,
    app_name: &str,
    session_key: &str,
    sandbox: &RunningSandbox,
) -> Vec<(&'static str, String)> {
    vec![
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("LEPTOS_OUTPUT_NAME", "install-on-linode".to_owned()),
        ("APP_NAME", app_name.to_owned()),
        ("LINODE_CLIENT_ID", sandbox::DEFAULT_CLIENT_ID.to_owned()),
        ("LINODE_CLIENT_SECRET", sandbox::DEFAULT_CLIENT_SECRET.to_owned()),
        ("LINODE_LOGIN_URL", sandbox.login_base()),
        ("LINODE_API_URL", sandbox.api_base()),
        ("LINODE_STACKSCRIPT_ID", sandbox::STACKSCRIPT_NO_INPUT.to_string()),
        ("SESSION_KEY", session_key.to_owned()),
        ("RATE_LIMIT_DEPLOYS_PER_MINUTE", "0".to_owned()),
        ("RATE_LIMIT_CALLBACKS_PER_MINUTE", "0".to_owned()),
        ("MAX_CONNECTIONS_PER_CLIENT", "0".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_inputs_are_read_unescaped_and_others_skipped() {
        let html = r#"<form><input type="hidden" name="state" value="a&amp;b&quot;c">
            <input type="text" name="username" value="x"><input name="client_id" type="hidden" value="id-1"></form>"#;
        assert_eq!(
            hidden_inputs(html),
            [("state".to_owned(), "a&b\"c".to_owned()), ("client_id".to_owned(), "id-1".to_owned())]
        );
    }
}
