//! The one create request: built here for what is sent to Linode, and from the same value, with
//! its secrets masked, for what people read before they deploy (the form's preview) and after
//! (the success view). Serialized by the same code either way, so what is shown is what is sent.

use linode::CreateInstance;
use secrecy::SecretString;

use super::{credentials, settings::DeploySettings};
use crate::{model::LinodeRequest, selection::Selection};

/// Stands for what the server makes up as it deploys: the root password, a label left empty.
pub const GENERATED: &str = "<generated on the server>";
/// Stands for the value of a password-type input.
pub const HIDDEN: &str = "<hidden>";
/// The root password in the `linode-cli` command: a shell variable the person sets first.
const ROOT_PASS_VARIABLE: &str = "\"$ROOT_PASS\"";

/// The request that creates the Linode for `selection`.
pub fn create_instance(
    settings: &DeploySettings,
    selection: &Selection,
    label: String,
    root_pass: SecretString,
) -> CreateInstance {
    CreateInstance {
        type_id: selection.plan.clone(),
        region: selection.region.clone(),
        image: Some(selection.image.clone()),
        root_pass: Some(root_pass),
        authorized_keys: selection.authorized_keys.clone(),
        stackscript_id: Some(settings.stackscript_id),
        stackscript_data: Some(selection.stackscript_data.clone()).filter(|data| !data.is_empty()),
        label: Some(label),
        tags: vec![credentials::app_tag(&settings.app_name)],
        booted: Some(true),
    }
}

/// What would be sent for `selection` now: the label, when left empty, and the root password
/// are made up by the server at deploy time.
pub fn preview(settings: &DeploySettings, selection: &Selection) -> LinodeRequest {
    let label = selection.label.clone().unwrap_or_else(|| GENERATED.to_owned());
    let request = create_instance(settings, selection, label, SecretString::from(GENERATED));
    described(&request, selection)
}

/// `request` as people read it, with the root password and `selection`'s secret inputs masked.
pub fn described(request: &CreateInstance, selection: &Selection) -> LinodeRequest {
    let mut masked = request.clone();
    masked.root_pass = masked.root_pass.map(|_| SecretString::from(GENERATED));
    if let Some(data) = &mut masked.stackscript_data {
        for (name, value) in data.iter_mut() {
            if selection.is_secret(name) {
                *value = HIDDEN.to_owned();
            }
        }
    }
    // Serializing a plain struct of strings cannot fail.
    let body = serde_json::to_string_pretty(&masked).unwrap_or_default();
    LinodeRequest { body, cli: cli_command(&masked) }
}

/// The same request as `linode-cli linodes create …`, one option per line.
fn cli_command(request: &CreateInstance) -> String {
    // Each option with its value already as one shell word.
    let quoted = |name, value: &str| (name, shell_quoted(value));
    let mut options: Vec<(&str, String)> = vec![quoted("type", &request.type_id), quoted("region", &request.region)];
    options.extend(request.image.iter().map(|image| quoted("image", image)));
    // A command to run: with a password the person sets, never a placeholder anyone can read.
    options.extend(request.root_pass.iter().map(|_| ("root_pass", ROOT_PASS_VARIABLE.to_owned())));
    options.extend(request.authorized_keys.iter().map(|key| quoted("authorized_keys", key)));
    options.extend(request.stackscript_id.iter().map(|id| quoted("stackscript_id", &id.to_string())));
    if let Some(data) = &request.stackscript_data {
        options.push(quoted("stackscript_data", &serde_json::to_string(data).unwrap_or_default()));
    }
    options.extend(request.label.iter().map(|label| quoted("label", label)));
    options.extend(request.tags.iter().map(|tag| quoted("tags", tag)));
    options.extend(request.booted.iter().map(|booted| quoted("booted", &booted.to_string())));
    let mut command = "linode-cli linodes create".to_owned();
    for (name, word) in options {
        command.push_str(&format!(" \\\n  --{name} {word}"));
    }
    command
}

/// `value` as one shell word: as is when it is plain, else in single quotes.
fn shell_quoted(value: &str) -> String {
    let plain = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn selection() -> Selection {
        Selection {
            plan: "g6-nanode-1".into(),
            region: "us-east".into(),
            image: "linode/debian12".into(),
            label: None,
            authorized_keys: vec!["ssh-ed25519 AAAAC3Nza me@laptop".into()],
            stackscript_data: BTreeMap::from([
                ("db_password".to_owned(), "s3cret".to_owned()),
                ("hostname".to_owned(), "it's-me".to_owned()),
            ]),
            secret_fields: vec!["db_password".into()],
        }
    }

    fn settings() -> DeploySettings {
        DeploySettings {
            app_name: "Demo App".into(),
            stackscript_id: 1234,
            redirect_uri: url::Url::parse("http://127.0.0.1:3000/auth/callback").unwrap(),
            secure_cookies: false,
            sandbox: true,
            flow_ttl: std::time::Duration::from_secs(900),
            catalog_ttl: std::time::Duration::from_secs(600),
            outcome_ttl: std::time::Duration::from_secs(3600),
            follow: Default::default(),
            lease: std::time::Duration::from_secs(15),
            pkce: true,
            create_settles: std::time::Duration::from_secs(35),
        }
    }

    #[test]
    fn the_preview_is_the_sent_body_with_its_secrets_masked() {
        let preview = preview(&settings(), &selection());
        let shown: serde_json::Value = serde_json::from_str(&preview.body).unwrap();
        assert_eq!(shown["root_pass"], GENERATED);
        assert_eq!(shown["label"], GENERATED);
        assert_eq!(shown["stackscript_data"]["db_password"], HIDDEN);
        assert_eq!(shown["stackscript_data"]["hostname"], "it's-me");
        assert!(!preview.body.contains("s3cret") && !preview.cli.contains("s3cret"));

        let sent = create_instance(&settings(), &selection(), "web01".into(), SecretString::from("pw-Real-1"));
        let sent: serde_json::Value = serde_json::to_value(&sent).unwrap();
        let keys = |value: &serde_json::Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&sent), keys(&shown), "the same fields");
        assert_eq!(sent["stackscript_data"]["hostname"], shown["stackscript_data"]["hostname"]);
    }

    #[test]
    fn the_cli_command_quotes_what_a_shell_would_split() {
        let cli = preview(&settings(), &selection()).cli;
        assert!(cli.starts_with("linode-cli linodes create \\\n  --type g6-nanode-1"), "{cli}");
        assert!(cli.contains("--root_pass \"$ROOT_PASS\""), "{cli}");
        assert!(cli.contains("--authorized_keys 'ssh-ed25519 AAAAC3Nza me@laptop'"), "{cli}");
        assert!(cli.contains(r#"--stackscript_data '{"db_password":"<hidden>","hostname":"it'\''s-me"}'"#), "{cli}");
        assert!(cli.contains("--tags 'Demo App'") && cli.ends_with("--booted true"), "{cli}");
    }
}
