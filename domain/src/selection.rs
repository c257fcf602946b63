//! What the person asks for on the deploy form, and the rules it must meet. Compiled into both
//! halves: the browser checks as the person types, the server checks again on submit, with the
//! same code and the same messages. A [`Selection`] from [`Selection::parse`] holds only values
//! the form offers; the preview's [`Selection::as_typed`] is the one way to build one that may
//! not, and what it builds is only shown, never sent.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::{DeployForm, FieldKind, FieldSpec};

/// The form as submitted: every value a browser can send, unchecked. Every field has a default,
/// so a forged post that leaves one out gets the same clear message as a wrong value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeployRequest {
    pub plan: String,
    pub region: String,
    pub image: String,
    pub label: String,
    pub ssh_keys: String,
    /// The "SSH keys only, no root password" box: `on` when ticked, absent otherwise.
    pub keys_only: String,
    /// Text, password and one-of fields: `fields[<name>]=value`.
    pub fields: BTreeMap<String, String>,
    /// Many-of fields: `many[<name>][]=value`, once per ticked box.
    pub many: BTreeMap<String, Vec<String>>,
}

/// A checked request: what the Linode is created with.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub plan: String,
    pub region: String,
    pub image: String,
    /// `None` lets the server choose one.
    pub label: Option<String>,
    pub authorized_keys: Vec<String>,
    /// Whether root gets a generated password as well as the keys (older cookies: it does).
    #[serde(default)]
    pub root_login: RootLogin,
    pub stackscript_data: BTreeMap<String, String>,
    /// The inputs of password type: masked wherever the request is shown, never in a link.
    #[serde(default)]
    pub secret_fields: Vec<String>,
}

/// Values of password fields may sit in here: print names, not values.
impl std::fmt::Debug for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selection")
            .field("plan", &self.plan)
            .field("region", &self.region)
            .field("image", &self.image)
            .field("label", &self.label)
            .field("authorized_keys", &self.authorized_keys.len())
            .field("root_login", &self.root_login)
            .field("stackscript_data", &self.stackscript_data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// How root logs in to the new Linode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootLogin {
    /// A strong password generated on the server and shown once, besides any SSH keys given.
    #[default]
    Password,
    /// The SSH keys given and no root password: Linode creates a Linode without `root_pass` when
    /// `authorized_keys` is sent (since June 2026), and nothing secret is shown or kept here.
    KeysOnly,
}

impl RootLogin {
    /// What the form's box posted: `keys_only=on` when ticked, nothing otherwise (any other
    /// value is not the box's, and keeps the default).
    pub fn from_box(ticked: &str) -> Self {
        if ticked.trim() == "on" {
            Self::KeysOnly
        } else {
            Self::Password
        }
    }
}

/// A value the form does not accept, with the field it belongs to and what to do about it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    Invalid { field: field.to_owned(), message: message.into() }
}

/// The refusal of "SSH keys only" with no key: the Linode would have no way in for root.
pub const KEYS_ONLY_WITHOUT_KEYS: &str = "“SSH keys only” needs at least one SSH key: paste your public key above, or untick the box to get a root password.";

/// Linode's rule for `stackscript_data` as a whole.
const MAX_STACKSCRIPT_DATA: usize = 65_535;
/// More keys than anyone pastes by hand; it also keeps the sealed selection inside one cookie.
pub const MAX_SSH_KEYS: usize = 5;
const MAX_FIELD_LEN: usize = 1_000;
const SSH_KEY_TYPES: [&str; 7] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

impl Selection {
    pub fn parse(form: &DeployForm, request: &DeployRequest) -> Result<Self, Invalid> {
        let plan = form
            .plan(request.plan.trim())
            .ok_or_else(|| invalid("plan", "That plan is not offered. Please choose a plan from the list."))?;
        let region = form.region(request.region.trim()).ok_or_else(|| {
            invalid("region", "That region is not available for new Linodes. Please choose a region from the list.")
        })?;
        if let Some(why) = region.unavailable_for(&plan.offered_as()) {
            return Err(invalid(
                "region",
                format!("{} cannot host a {} Linode ({why}). Please choose another region.", region.label, plan.label),
            ));
        }
        let image = form.image(request.image.trim()).ok_or_else(|| {
            invalid("image", "That image cannot be used with this application. Please choose an image from the list.")
        })?;
        if let Some(why) = image.unavailable() {
            return Err(invalid(
                "image",
                format!("That image {why}, which installs this application. Please choose another image."),
            ));
        }
        let label = check_label(&request.label).map_err(|message| invalid("label", message))?;
        let authorized_keys = check_ssh_keys(&request.ssh_keys).map_err(|message| invalid("ssh_keys", message))?;
        let root_login = RootLogin::from_box(&request.keys_only);
        if root_login == RootLogin::KeysOnly && authorized_keys.is_empty() {
            return Err(invalid("ssh_keys", KEYS_ONLY_WITHOUT_KEYS));
        }
        let stackscript_data = stackscript_data(form, request)?;
        Ok(Self {
            plan: plan.id.clone(),
            region: region.id.clone(),
            image: image.id.clone(),
            label,
            authorized_keys,
            root_login,
            stackscript_data,
            secret_fields: secret_fields(form),
        })
    }

    /// What would be sent for `request` as it stands, for the preview: [`Selection::parse`]'s
    /// result when it passes, else each value as typed (the form will not send it like that,
    /// and says why next to the field).
    pub fn as_typed(form: &DeployForm, request: &DeployRequest) -> Self {
        if let Ok(selection) = Self::parse(form, request) {
            return selection;
        }
        let label = check_label(&request.label).unwrap_or_else(|_| Some(request.label.trim().to_owned()));
        let authorized_keys = check_ssh_keys(&request.ssh_keys).unwrap_or_else(|_| {
            let lines = request.ssh_keys.lines().map(str::trim);
            lines.filter(|line| !line.is_empty() && !line.starts_with('#')).map(str::to_owned).collect()
        });
        let mut stackscript_data = BTreeMap::new();
        for field in &form.fields {
            let value = match &field.kind {
                FieldKind::ManyOf(_) => {
                    let values = request.many.get(&field.name).cloned().unwrap_or_default();
                    check_many(field, &values).unwrap_or_else(|_| Some(values.join(",")))
                }
                _ => {
                    let typed = request.fields.get(&field.name).map(String::as_str).unwrap_or_default();
                    check_field(field, typed).unwrap_or_else(|_| Some(typed.to_owned()))
                }
            };
            // A required input left empty is shown empty: the form will not go without it.
            if let Some(value) = value.filter(|value| !value.is_empty() || field.required) {
                stackscript_data.insert(field.name.clone(), value);
            }
        }
        Self {
            plan: request.plan.trim().to_owned(),
            region: request.region.trim().to_owned(),
            image: request.image.trim().to_owned(),
            label,
            authorized_keys,
            root_login: RootLogin::from_box(&request.keys_only),
            stackscript_data,
            secret_fields: secret_fields(form),
        }
    }
}

fn secret_fields(form: &DeployForm) -> Vec<String> {
    let secret = |field: &&FieldSpec| field.kind == FieldKind::Password || looks_secret(&field.name);
    form.fields.iter().filter(secret).map(|field| field.name.clone()).collect()
}

/// Whether an input's name says it holds a secret (`db_password`, `api_token`, `secret_key`…):
/// such values are masked wherever the request is shown and never put in a link, whatever the
/// form's own classification (and whatever an older cookie recorded).
pub fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "secret", "token", "apikey", "api_key", "private"].iter().any(|word| name.contains(word))
}

impl Selection {
    /// Whether input `name` is secret: of password type, or named like one.
    pub fn is_secret(&self, name: &str) -> bool {
        self.secret_fields.iter().any(|secret| secret == name) || looks_secret(name)
    }
}

/// Linode's label rule: 3–64 characters, a letter first, then letters, digits, `-`, `_` and `.`,
/// with no `--`, `__` or `..`. Empty means "choose one for me".
pub fn check_label(label: &str) -> Result<Option<String>, String> {
    let label = label.trim();
    if label.is_empty() {
        return Ok(None);
    }
    let rule = "Labels are 3 to 64 characters: a letter first, then letters, digits, “-”, “_” or “.”, without “--”, “__” or “..”.";
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    let ok = (3..=64).contains(&label.len())
        && label.starts_with(|c: char| c.is_ascii_alphabetic())
        && label.chars().all(allowed)
        && !["--", "__", ".."].iter().any(|twice| label.contains(twice));
    if ok {
        Ok(Some(label.to_owned()))
    } else {
        Err(rule.to_owned())
    }
}

/// One OpenSSH public key per line (`type base64 [comment]`); blank lines and `#` comments are
/// skipped. Each key's body must decode and name its own type, which catches truncated pastes
/// and private keys.
pub fn check_ssh_keys(text: &str) -> Result<Vec<String>, String> {
    let lines: Vec<&str> =
        text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).collect();
    if lines.len() > MAX_SSH_KEYS {
        return Err(format!(
            "At most {MAX_SSH_KEYS} SSH keys can be installed here; add more later in ~/.ssh/authorized_keys."
        ));
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(index, line)| check_ssh_key(line).map_err(|why| format!("SSH key {}: {why}", index + 1)))
        .collect()
}

fn check_ssh_key(line: &str) -> Result<String, String> {
    if line.contains("PRIVATE KEY") {
        return Err(
            "this is a private key. Paste the public key (the .pub file) instead; never share the private one.".into(),
        );
    }
    let mut parts = line.split_whitespace();
    let (Some(kind), Some(body)) = (parts.next(), parts.next()) else {
        return Err("expected “type key [comment]”, as in an id_ed25519.pub file.".into());
    };
    if !SSH_KEY_TYPES.contains(&kind) {
        return Err(format!("“{}” is not a supported key type (use ssh-ed25519, ssh-rsa or ecdsa).", short(kind)));
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "the key is not valid base64; it may be cut short.".to_owned())?;
    // The body is a run of length-prefixed strings (RFC 4253 §6.6): the type again, then the
    // key's numbers. A cut-off paste leaves a string short or the run too short.
    let parts = length_prefixed(&blob).ok_or_else(|| "the key is cut short or damaged.".to_owned())?;
    if parts.first() != Some(&kind.as_bytes()) {
        return Err("the key's contents do not match its type; it may be damaged.".into());
    }
    if !key_material_is_whole(kind, &parts[1..]) {
        return Err("the key is cut short or damaged: it holds no usable key, so it could never log in.".into());
    }
    // Comments may be several words; keep the key as one normalised line.
    Ok(line.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Lower-case ASCII letters and digits, runs of anything else as one `-`: `My App!` → `my-app`.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Whether the numbers after the type make a key sshd can use (RFC 4253 §6.6, RFC 5656 §3.1,
/// RFC 8709, OpenSSH's PROTOCOL.u2f): a key that merely parses — a zero-length ed25519 key, a
/// one-byte RSA modulus — would be installed and never let anyone in, and "SSH keys only" would
/// then leave root with no way in at all.
fn key_material_is_whole(kind: &str, fields: &[&[u8]]) -> bool {
    // An uncompressed point (0x04, x, y) on the curve the type names.
    let point_on = |curve: &[u8], point: &[u8]| {
        let size = match curve {
            b"nistp256" => 65,
            b"nistp384" => 97,
            b"nistp521" => 133,
            _ => return false,
        };
        point.len() == size && point.first() == Some(&4) && kind.contains(std::str::from_utf8(curve).unwrap_or("?"))
    };
    match (kind, fields) {
        ("ssh-ed25519", [key]) => key.len() == 32,
        ("sk-ssh-ed25519@openssh.com", [key, application]) => key.len() == 32 && !application.is_empty(),
        // OpenSSH refuses RSA keys under 1024 bits; an exponent of zero encrypts nothing.
        ("ssh-rsa", [exponent, modulus]) => {
            let significant = |number: &[u8]| number.iter().skip_while(|byte| **byte == 0).count();
            significant(exponent) > 0 && significant(modulus) >= 128
        }
        ("sk-ecdsa-sha2-nistp256@openssh.com", [curve, point, application]) => {
            point_on(curve, point) && !application.is_empty()
        }
        (_, [curve, point]) if kind.starts_with("ecdsa-sha2-") => point_on(curve, point),
        _ => false,
    }
}

fn length_prefixed(mut blob: &[u8]) -> Option<Vec<&[u8]>> {
    let mut parts = Vec::new();
    while !blob.is_empty() {
        let (len, rest) = blob.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        if len > rest.len() {
            return None;
        }
        let (part, rest) = rest.split_at(len);
        parts.push(part);
        blob = rest;
    }
    Some(parts)
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Every field's value, checked against its spec; unknown names are refused (a forged form).
fn stackscript_data(form: &DeployForm, request: &DeployRequest) -> Result<BTreeMap<String, String>, Invalid> {
    if let Some(name) = request.fields.keys().chain(request.many.keys()).find(|name| form.field(name).is_none()) {
        return Err(invalid(name, format!("“{}” is not an input of this form.", short(name))));
    }
    let mut data = BTreeMap::new();
    for field in &form.fields {
        let value = match &field.kind {
            FieldKind::ManyOf(_) => {
                let values = request.many.get(&field.name).map(Vec::as_slice).unwrap_or_default();
                check_many(field, values)
            }
            _ => check_field(field, request.fields.get(&field.name).map(String::as_str).unwrap_or_default()),
        }
        .map_err(|message| invalid(&field.name, message))?;
        if let Some(value) = value {
            data.insert(field.name.clone(), value);
        }
    }
    let total: usize = data.iter().map(|(name, value)| name.len() + value.len()).sum();
    if total > MAX_STACKSCRIPT_DATA {
        return Err(invalid("fields", "The inputs are longer than Linode accepts (65,535 characters in all)."));
    }
    Ok(data)
}

/// A text, password or one-of field. Empty falls back to the default; `None` sends nothing.
pub fn check_field(field: &FieldSpec, value: &str) -> Result<Option<String>, String> {
    // Passwords are taken as typed; elsewhere stray spaces are a slip.
    let value = if field.kind == FieldKind::Password { value } else { value.trim() };
    if value.is_empty() {
        return match &field.default {
            Some(default) => Ok(Some(default.clone())),
            None if field.required => Err(format!("{} is required.", field.label)),
            None => Ok(None),
        };
    }
    if value.len() > MAX_FIELD_LEN {
        return Err(format!("{} is too long (at most {MAX_FIELD_LEN} characters).", field.label));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{} must be a single line of text.", field.label));
    }
    if let FieldKind::OneOf(choices) = &field.kind {
        if !choices.iter().any(|choice| choice == value) {
            return Err(format!("{}: choose one of {}.", field.label, choices.join(", ")));
        }
    }
    Ok(Some(value.to_owned()))
}

/// A many-of field, sent as Linode expects: the ticked values joined by commas.
pub fn check_many(field: &FieldSpec, values: &[String]) -> Result<Option<String>, String> {
    let FieldKind::ManyOf(choices) = &field.kind else {
        return Err(format!("{} takes a single value.", field.label));
    };
    if let Some(value) = values.iter().find(|value| !choices.contains(value)) {
        return Err(format!("{}: “{}” is not one of {}.", field.label, short(value), choices.join(", ")));
    }
    if values.is_empty() {
        return if field.required { Err(format!("{}: tick at least one.", field.label)) } else { Ok(None) };
    }
    // In the StackScript's order, once each, whatever order the browser sent.
    let picked: Vec<&str> = choices.iter().filter(|c| values.contains(c)).map(String::as_str).collect();
    Ok(Some(picked.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        form::{PlanChoice, RegionChoice},
        test_fixtures::{field, form as fixture, plan, region},
    };

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";

    fn form() -> DeployForm {
        let gpu = PlanChoice { label: "GPU 1".into(), gpus: 1, ..plan("g1-gpu", "gpu") };
        let newark = RegionChoice { label: "Newark, NJ".into(), ..region("us-east", &["standard"]) };
        let fields = vec![
            field("host", FieldKind::Text, None),
            field("db_password", FieldKind::Password, None),
            field("env", FieldKind::OneOf(vec!["prod".into(), "staging".into()]), Some("prod")),
            field("pkgs", FieldKind::ManyOf(vec!["git".into(), "vim".into(), "curl".into()]), None),
        ];
        fixture(vec![gpu], vec![newark], fields)
    }

    #[test]
    fn labels_follow_linodes_rule() {
        assert_eq!(check_label("  "), Ok(None));
        assert_eq!(check_label("web-01.prod"), Ok(Some("web-01.prod".into())));
        for bad in ["ab", "1web", "web--01", "web__1", "we..b", "web 01", "wéb01", &"a".repeat(65)] {
            assert!(check_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ssh_keys_must_be_whole_public_keys() {
        assert_eq!(check_ssh_keys(&format!("# mine\n\n{ED25519}\n")), Ok(vec![ED25519.to_owned()]));
        let truncated = &ED25519[..40];
        assert!(check_ssh_keys(truncated).unwrap_err().contains("SSH key 1: the key is cut short"));
        assert!(check_ssh_keys(&ED25519[..46]).unwrap_err().contains("SSH key 1"));
        assert!(check_ssh_keys("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz")
            .unwrap_err()
            .contains("do not match"));
        assert!(check_ssh_keys("-----BEGIN OPENSSH PRIVATE KEY-----").unwrap_err().contains("private key"));
        assert!(check_ssh_keys("ssh-dss AAAA").unwrap_err().contains("not a supported"));

        // Keys that parse but could never log in: sshd would ignore them, and with "SSH keys
        // only" root would have no way in at all.
        let key = |kind: &str, numbers: &[&[u8]]| {
            let mut blob = Vec::new();
            for field in [kind.as_bytes()].iter().chain(numbers) {
                blob.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
                blob.extend_from_slice(field);
            }
            format!("{kind} {}", base64::engine::general_purpose::STANDARD.encode(blob))
        };
        let modulus = [0xc5u8; 256];
        let point = [[4u8].as_slice(), &[7u8; 64]].concat();
        for (usable, line) in [
            (true, key("ssh-ed25519", &[&[1; 32]])),
            (false, key("ssh-ed25519", &[b""])),
            (true, key("ssh-rsa", &[&[1, 0, 1], &modulus])),
            (false, key("ssh-rsa", &[&[1, 0, 1], &[0xc5]])),
            (false, key("ssh-rsa", &[&[0], &modulus])),
            (true, key("ecdsa-sha2-nistp256", &[b"nistp256", &point])),
            (false, key("ecdsa-sha2-nistp256", &[b"nistp384", &point])),
            (false, key("ecdsa-sha2-nistp256", &[b"nistp256", &point[..40]])),
            (true, key("sk-ssh-ed25519@openssh.com", &[&[1; 32], b"ssh:"])),
            (false, key("sk-ssh-ed25519@openssh.com", &[&[1; 32]])),
        ] {
            assert_eq!(check_ssh_keys(&line).is_ok(), usable, "{line}");
        }
        assert!(check_ssh_keys(&format!("{ED25519}\n").repeat(MAX_SSH_KEYS + 1)).is_err());
    }

    #[test]
    fn ssh_keys_only_needs_a_key_and_a_password_is_the_default() {
        let mut form = form();
        form.regions[0].regions[0].classes.push("gpu".into());
        let fields = [("host", "web01"), ("db_password", "pw")];
        let mut request = DeployRequest {
            plan: "g1-gpu".into(),
            region: "us-east".into(),
            image: "linode/debian12".into(),
            fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..Default::default()
        };
        request.many.insert("pkgs".into(), vec!["git".into()]);
        assert_eq!(Selection::parse(&form, &request).unwrap().root_login, RootLogin::Password);
        request.keys_only = "on".into();
        let refused = Selection::parse(&form, &request).unwrap_err();
        assert_eq!((refused.field.as_str(), refused.message.as_str()), ("ssh_keys", KEYS_ONLY_WITHOUT_KEYS));
        request.ssh_keys = ED25519.into();
        let selection = Selection::parse(&form, &request).unwrap();
        assert_eq!(selection.root_login, RootLogin::KeysOnly);
        // A cookie sealed before the choice existed reads as a password deployment.
        let mut old = serde_json::to_value(&selection).unwrap();
        old.as_object_mut().unwrap().remove("root_login");
        assert_eq!(serde_json::from_value::<Selection>(old).unwrap().root_login, RootLogin::Password);
    }

    #[test]
    fn a_plan_priced_only_per_region_goes_only_where_it_is_priced() {
        let mut form = form();
        let regional = PlanChoice {
            price: crate::Price::default(),
            region_prices: vec![crate::RegionPrice {
                region: "us-ord".into(),
                price: crate::Price { hourly: 2.5, monthly: 1680.0 },
            }],
            ..plan("g3-gpu", "gpu")
        };
        assert_eq!(
            (regional.offered_as(), regional.price_text()),
            ("gpu@g3-gpu".to_owned(), "from $1680/mo ($2.50/hr), by region".to_owned())
        );
        form.plans[0].plans.push(regional);
        form.regions[0].regions[0].classes.push("gpu".into());
        let request = DeployRequest {
            plan: "g3-gpu".into(),
            region: "us-east".into(),
            image: "linode/debian12".into(),
            ..Default::default()
        };
        let refused = Selection::parse(&form, &request).unwrap_err();
        assert_eq!(refused.field, "region", "us-east hosts GPU plans but does not price this one");
        form.regions[0].regions[0].classes.push("gpu@g3-gpu".into());
        assert_ne!(Selection::parse(&form, &request).unwrap_err().field, "region");
    }

    #[test]
    fn fields_are_checked_against_the_stackscript() {
        let form = form();
        let mut request = DeployRequest {
            plan: "g1-gpu".into(),
            region: "us-east".into(),
            image: "linode/debian12".into(),
            ..Default::default()
        };
        // The region does not host GPU plans.
        assert_eq!(Selection::parse(&form, &request).unwrap_err().field, "region");

        let mut form = form;
        form.regions[0].regions[0].classes.push("gpu".into());
        assert_eq!(Selection::parse(&form, &request).unwrap_err().field, "host");
        request.fields.insert("host".into(), " web01 ".into());
        request.fields.insert("db_password".into(), " pass word ".into());
        assert_eq!(Selection::parse(&form, &request).unwrap_err().field, "pkgs");
        request.many.insert("pkgs".into(), vec!["curl".into(), "git".into()]);
        let selection = Selection::parse(&form, &request).unwrap();
        assert_eq!(selection.stackscript_data["host"], "web01");
        assert_eq!(selection.stackscript_data["db_password"], " pass word ");
        assert_eq!(selection.stackscript_data["env"], "prod");
        assert_eq!(selection.stackscript_data["pkgs"], "git,curl");
        assert!(!format!("{selection:?}").contains("pass word"));

        request.fields.insert("env".into(), "dev".into());
        assert!(Selection::parse(&form, &request).unwrap_err().message.contains("choose one of prod, staging"));
        request.fields.insert("env".into(), "staging".into());
        request.many.insert("pkgs".into(), vec!["emacs".into()]);
        assert_eq!(Selection::parse(&form, &request).unwrap_err().field, "pkgs");
        request.many.remove("pkgs");
        request.fields.insert("PATH".into(), "/tmp".into());
        assert_eq!(Selection::parse(&form, &request).unwrap_err().field, "PATH");
    }
}
