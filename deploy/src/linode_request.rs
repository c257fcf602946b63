//! The one create request: built here for what is sent to Linode, and from the same value, with
//! its secrets masked, for what people read before they deploy (the form's preview) and after
//! (the success view). Serialized by the same code either way, so what is shown is what is sent.

use linode::{ApiError, CreateInstance, InstanceMetadata, InterfaceGeneration, NewInterface};
use secrecy::SecretString;

use domain::{selection::Selection, LinodeRequest, RootLogin};

use super::{new_linode, settings::DeploySettings};

/// Stands for what the server makes up as it deploys: the root password, a label left empty.
pub const GENERATED: &str = "<generated on the server>";
/// Stands for the value of a password-type input.
pub const HIDDEN: &str = "<hidden>";
/// The root password in the `linode-cli` command: a shell variable the person sets first.
const ROOT_PASS_VARIABLE: &str = "\"$ROOT_PASS\"";
/// The user data in the `linode-cli` command: the cloud-config the form shows, saved to a file.
const USER_DATA_COMMAND: &str = "\"$(base64 -w0 cloud-config.yaml)\"";

/// The request that creates the Linode for `selection`.
pub fn create_instance(
    settings: &DeploySettings,
    selection: &Selection,
    label: String,
    root_pass: Option<SecretString>,
) -> CreateInstance {
    CreateInstance {
        type_id: selection.plan.clone(),
        region: selection.region.clone(),
        image: Some(selection.image.clone()),
        root_pass,
        authorized_keys: selection.authorized_keys.clone(),
        stackscript_id: settings.stackscript_id,
        stackscript_data: Some(selection.stackscript_data.clone())
            .filter(|data| !data.is_empty() && settings.stackscript_id.is_some()),
        metadata: settings
            .user_data
            .as_ref()
            .map(|user_data| InstanceMetadata { user_data: user_data.base64().to_owned() }),
        label: Some(label),
        tags: vec![new_linode::app_tag(&settings.app_name)],
        booted: Some(true),
        ..NetworkPlan::FIRST.applied(CreateInstance::default(), None)
    }
}

/// How the new Linode gets its public address, always said explicitly: an account opened since
/// 2025 gives a create that names no interface generation Linode Interfaces, and such a Linode
/// with no interface has no network and never boots. Tried in this order until Linode accepts
/// one; a refusal (400) creates nothing, so the next try cannot make a second Linode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkPlan {
    /// Legacy configuration interfaces, the public one by default; the account's default
    /// firewall for Linodes, if it has one. Every account setting but `linode_only` allows it.
    Legacy,
    /// A public Linode Interface behind the account's default public-interface firewall.
    PublicInterface,
    /// A public Linode Interface without a firewall: for a `linode_only` account that has no
    /// default firewall, where Linode refuses a public interface that names none.
    PublicInterfaceWithoutFirewall,
}

impl NetworkPlan {
    pub const FIRST: Self = Self::Legacy;

    /// The plan to try after Linode refused this one, if any. With a firewall of the app's
    /// own, a public interface always carries it: there is no "without a firewall" to fall to.
    pub fn next(self, own_firewall: bool) -> Option<Self> {
        match self {
            Self::Legacy => Some(Self::PublicInterface),
            Self::PublicInterface if !own_firewall => Some(Self::PublicInterfaceWithoutFirewall),
            Self::PublicInterface | Self::PublicInterfaceWithoutFirewall => None,
        }
    }

    /// `request` with this plan's network, behind `firewall` (the app's own) when there is one:
    /// the Linode's `firewall_id` with legacy interfaces, the public interface's otherwise.
    pub fn applied(self, mut request: CreateInstance, firewall: Option<u64>) -> CreateInstance {
        let own = firewall.and_then(|id| i64::try_from(id).ok());
        let (generation, interfaces, firewall_id) = match self {
            Self::Legacy => (InterfaceGeneration::LegacyConfig, Vec::new(), own),
            Self::PublicInterface => {
                (InterfaceGeneration::Linode, vec![NewInterface::Public { firewall_id: own }], None)
            }
            Self::PublicInterfaceWithoutFirewall => {
                (InterfaceGeneration::Linode, vec![NewInterface::Public { firewall_id: Some(-1) }], None)
            }
        };
        request.interface_generation = Some(generation);
        request.interfaces = interfaces;
        request.firewall_id = firewall_id;
        request
    }

    /// Whether Linode refused a create for its network (the interface generation the account
    /// or region does not allow, or an interface it cannot accept), so another plan may pass.
    pub fn refused_for_network(error: &ApiError) -> bool {
        let ApiError::Rejected { status: 400, errors } = error else { return false };
        !errors.is_empty()
            && errors.iter().all(|e| {
                e.field
                    .as_deref()
                    .is_some_and(|field| field == "interface_generation" || field.starts_with("interfaces"))
            })
    }
}

/// Stands for the id of the firewall made for the app, which exists only once it is made.
pub const FIREWALL_MADE: &str = "<the firewall made for the app>";
/// The firewall id the preview is built with, replaced by [`FIREWALL_MADE`] as it is shown: no
/// real firewall has it.
const PREVIEW_FIREWALL_ID: u64 = i64::MAX as u64;
/// The Linode's label in the firewall's preview.
const LINODE_LABEL: &str = "<the Linode's label>";

/// What would be sent for `selection` now: the label, when left empty, and the root password
/// are made up by the server at deploy time, and the app's firewall, if one is made, first.
pub fn preview(settings: &DeploySettings, selection: &Selection) -> LinodeRequest {
    let label = selection.label.clone().unwrap_or_else(|| GENERATED.to_owned());
    let root_pass = (selection.root_login == RootLogin::Password).then(|| SecretString::from(GENERATED));
    let request = create_instance(settings, selection, label, root_pass);
    let firewall = settings.firewall.as_ref().map(|_| PREVIEW_FIREWALL_ID);
    let mut shown = described(&NetworkPlan::FIRST.applied(request, firewall), selection);
    // The id is a number on the wire; until the firewall exists it is shown as what it stands for.
    let id = PREVIEW_FIREWALL_ID.to_string();
    shown.body =
        shown.body.replace(&format!("\"firewall_id\": {id}"), &format!("\"firewall_id\": \"{FIREWALL_MADE}\""));
    shown.cli = shown.cli.replace(&format!("--firewall_id {id}"), "--firewall_id \"$FIREWALL_ID\"");
    shown
}

/// The firewall made for the app before its Linode, as people read it before they deploy.
pub fn firewall_preview(settings: &DeploySettings) -> Option<LinodeRequest> {
    let firewall = settings.firewall.as_ref()?;
    let request = firewall.request(LINODE_LABEL, &new_linode::app_tag(&settings.app_name));
    let body = serde_json::to_string_pretty(&request).unwrap_or_default();
    let rules = &request.rules;
    let mut command = "linode-cli firewalls create".to_owned();
    let options = [
        ("label", shell_quoted(&request.label)),
        ("rules.inbound_policy", shell_quoted(&rules.inbound_policy)),
        ("rules.outbound_policy", shell_quoted(&rules.outbound_policy)),
        ("rules.inbound", shell_quoted(&serde_json::to_string(&rules.inbound).unwrap_or_default())),
    ];
    for (name, word) in options.into_iter().chain(request.tags.iter().map(|tag| ("tags", shell_quoted(tag)))) {
        command.push_str(&format!(" \\\n  --{name} {word}"));
    }
    Some(LinodeRequest { body, cli: command })
}

/// `request` as people read it, with the root password and `selection`'s secret inputs masked.
pub fn described(request: &CreateInstance, selection: &Selection) -> LinodeRequest {
    let mut masked = request.clone();
    masked.root_pass = masked.root_pass.map(|_| SecretString::from(GENERATED));
    // Up to 64 KiB of base64 nobody reads: the form shows the cloud-config itself.
    if let Some(metadata) = &mut masked.metadata {
        metadata.user_data = format!("<this site's cloud-config, base64: {} bytes>", metadata.user_data.len());
    }
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
    if request.metadata.is_some() {
        options.push(("metadata.user_data", USER_DATA_COMMAND.to_owned()));
    }
    options.extend(request.label.iter().map(|label| quoted("label", label)));
    options.extend(request.tags.iter().map(|tag| quoted("tags", tag)));
    if let Some(generation) = request.interface_generation {
        let generation = serde_json::to_value(generation).ok().and_then(|v| v.as_str().map(str::to_owned));
        options.extend(generation.map(|generation| ("interface_generation", generation)));
    }
    if !request.interfaces.is_empty() {
        options.push(quoted("interfaces", &serde_json::to_string(&request.interfaces).unwrap_or_default()));
    }
    options.extend(request.firewall_id.iter().map(|id| quoted("firewall_id", &id.to_string())));
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
            root_login: RootLogin::Password,
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
            stackscript_id: Some(1234),
            user_data: None,
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
            firewall: None,
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

        let sent = create_instance(&settings(), &selection(), "web01".into(), Some(SecretString::from("pw-Real-1")));
        let sent: serde_json::Value = serde_json::to_value(&sent).unwrap();
        let keys = |value: &serde_json::Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&sent), keys(&shown), "the same fields");
        assert_eq!(sent["stackscript_data"]["hostname"], shown["stackscript_data"]["hostname"]);
    }

    #[test]
    fn user_data_is_sent_in_full_and_shown_as_what_it_stands_for() {
        let user_data = crate::user_data::UserData::parse(b"#cloud-config\npackages: [nginx]\n").unwrap();
        let only_cloud_init = DeploySettings { stackscript_id: None, user_data: Some(user_data.clone()), ..settings() };
        let sent = create_instance(&only_cloud_init, &selection(), "web01".into(), None);
        let body = serde_json::to_value(&sent).unwrap();
        assert_eq!(body["metadata"]["user_data"], user_data.base64());
        assert!(body.get("stackscript_id").is_none() && body.get("stackscript_data").is_none(), "{body}");

        let shown = described(&sent, &selection());
        assert!(shown.body.contains("<this site's cloud-config, base64: 44 bytes>"), "{}", shown.body);
        assert!(shown.cli.contains("--metadata.user_data \"$(base64 -w0 cloud-config.yaml)\""), "{}", shown.cli);
        assert!(!shown.body.contains(user_data.base64()));
        let both = DeploySettings { user_data: Some(user_data), ..settings() };
        let body = serde_json::to_value(create_instance(&both, &selection(), "web01".into(), None)).unwrap();
        assert_eq!((body["stackscript_id"].as_u64(), body["metadata"].is_object()), (Some(1234), true));
    }

    #[test]
    fn with_ssh_keys_only_no_root_password_is_sent_or_asked_for() {
        let keys_only = Selection { root_login: RootLogin::KeysOnly, ..selection() };
        let shown = preview(&settings(), &keys_only);
        let body: serde_json::Value = serde_json::from_str(&shown.body).unwrap();
        assert!(body.get("root_pass").is_none(), "{}", shown.body);
        assert_eq!(body["authorized_keys"][0], "ssh-ed25519 AAAAC3Nza me@laptop");
        assert!(!shown.cli.contains("root_pass") && !shown.cli.contains("ROOT_PASS"), "{}", shown.cli);
        let sent = serde_json::to_value(create_instance(&settings(), &keys_only, "web01".into(), None)).unwrap();
        assert!(sent.get("root_pass").is_none());
    }

    #[test]
    fn every_request_names_its_network_and_the_plans_follow_each_other() {
        let sent = create_instance(&settings(), &selection(), "web01".into(), Some(SecretString::from("pw-Real-1")));
        let body = serde_json::to_value(&sent).unwrap();
        assert_eq!(body["interface_generation"], "legacy_config");
        assert!(body.get("interfaces").is_none());
        let public = NetworkPlan::PublicInterface.applied(sent.clone(), None);
        let body = serde_json::to_value(&public).unwrap();
        assert_eq!(body["interface_generation"], "linode");
        assert_eq!(
            body["interfaces"],
            serde_json::json!([{ "public": {}, "default_route": { "ipv4": true, "ipv6": true } }])
        );
        let bare = NetworkPlan::PublicInterfaceWithoutFirewall.applied(sent.clone(), None);
        assert_eq!(serde_json::to_value(&bare).unwrap()["interfaces"][0]["firewall_id"], -1);
        let own = serde_json::to_value(NetworkPlan::Legacy.applied(sent.clone(), Some(7))).unwrap();
        assert_eq!(own["firewall_id"], 7);
        let own = serde_json::to_value(NetworkPlan::PublicInterface.applied(sent, Some(7))).unwrap();
        assert_eq!((own["interfaces"][0]["firewall_id"].as_i64(), own.get("firewall_id")), (Some(7), None));
        assert_eq!(NetworkPlan::FIRST.next(false), Some(NetworkPlan::PublicInterface));
        assert_eq!(NetworkPlan::PublicInterface.next(false), Some(NetworkPlan::PublicInterfaceWithoutFirewall));
        assert_eq!(NetworkPlan::PublicInterface.next(true), None, "never without the app's own firewall");
        assert_eq!(NetworkPlan::PublicInterfaceWithoutFirewall.next(false), None);
        let cli = preview(&settings(), &selection()).cli;
        assert!(cli.contains("--interface_generation legacy_config"), "{cli}");
    }

    #[test]
    fn only_a_refusal_of_the_network_moves_on_to_the_next_plan() {
        let rejected = |fields: &[Option<&str>]| ApiError::Rejected {
            status: 400,
            errors: fields
                .iter()
                .map(|field| linode::FieldError { reason: "no".into(), field: field.map(str::to_owned) })
                .collect(),
        };
        assert!(NetworkPlan::refused_for_network(&rejected(&[Some("interface_generation")])));
        assert!(NetworkPlan::refused_for_network(&rejected(&[Some("interfaces[0].firewall_id")])));
        assert!(!NetworkPlan::refused_for_network(&rejected(&[Some("interface_generation"), Some("root_pass")])));
        assert!(!NetworkPlan::refused_for_network(&rejected(&[None])));
        assert!(!NetworkPlan::refused_for_network(&rejected(&[])));
        assert!(!NetworkPlan::refused_for_network(&ApiError::Timeout));
    }

    #[test]
    fn with_a_firewall_for_the_app_the_preview_shows_it_first_and_the_create_behind_it() {
        let with_firewall = DeploySettings {
            firewall: Some(super::super::app_firewall::AppFirewall::parse("22/tcp,80/tcp").unwrap()),
            ..settings()
        };
        let preview = preview(&with_firewall, &selection());
        let shown: serde_json::Value = serde_json::from_str(&preview.body).unwrap();
        assert_eq!(shown["firewall_id"], FIREWALL_MADE);
        assert!(preview.cli.contains("--firewall_id \"$FIREWALL_ID\""), "{}", preview.cli);
        let firewall = firewall_preview(&with_firewall).expect("a firewall preview");
        let body: serde_json::Value = serde_json::from_str(&firewall.body).unwrap();
        assert_eq!(body["rules"]["inbound_policy"], "DROP");
        assert_eq!(body["rules"]["inbound"].as_array().unwrap().len(), 2);
        assert!(firewall.cli.starts_with("linode-cli firewalls create \\\n  --label"), "{}", firewall.cli);
        assert!(firewall.cli.contains("--rules.inbound '[{"), "{}", firewall.cli);
        assert!(firewall_preview(&settings()).is_none(), "no firewall, nothing to show");
        assert!(serde_json::from_str::<serde_json::Value>(&super::preview(&settings(), &selection()).body)
            .unwrap()
            .get("firewall_id")
            .is_none());
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
