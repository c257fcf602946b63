//! Parsing and validating a `POST /linode/instances` body the way Linode does: every
//! problem is collected and reported at once, each with its field.

use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::catalog::{Catalog, PlanType, Region, StackScript};
use crate::errors::FieldError;

/// The fields of a create request the sandbox looks at; others are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CreateBody {
    #[serde(rename = "type")]
    plan: Option<String>,
    region: Option<String>,
    image: Option<String>,
    root_pass: Option<String>,
    authorized_keys: Option<Vec<String>>,
    authorized_users: Option<Vec<String>>,
    stackscript_id: Option<u64>,
    stackscript_data: Option<Map<String, Value>>,
    label: Option<String>,
    group: Option<String>,
    tags: Option<Vec<String>>,
    booted: Option<bool>,
    private_ip: Option<bool>,
    backups_enabled: Option<bool>,
}

/// A create request that passed validation.
pub(super) struct ValidCreate<'c> {
    pub plan: &'c PlanType,
    pub region: &'c Region,
    pub image: Option<String>,
    pub stackscript: Option<&'c StackScript>,
    pub stackscript_data: Map<String, Value>,
    pub authorized_keys: Vec<String>,
    /// `None` means "generate `linode<id>`".
    pub label: Option<String>,
    pub group: String,
    pub tags: Vec<String>,
    pub booted: bool,
    pub private_ip: bool,
    pub backups_enabled: bool,
}

pub(super) fn parse_body(bytes: &[u8]) -> Result<CreateBody, FieldError> {
    serde_json::from_slice(bytes)
        .map_err(|e| FieldError { reason: format!("Malformed request body: {e}"), field: None })
}

pub(super) fn validate(catalog: &Catalog, body: CreateBody) -> Result<ValidCreate<'_>, Vec<FieldError>> {
    let mut errors = Vec::new();

    // The two messages below are production's (docs/LINODE.md, API v4); the others are [undocumented].
    let plan = match body.plan.as_deref() {
        None => {
            errors.push(FieldError::new("type", "type is required"));
            None
        }
        Some(id) => {
            let found = catalog.plan_type(id);
            if found.is_none() {
                errors.push(FieldError::new("type", "A valid plan type by that ID was not found"));
            }
            found
        }
    };
    let region = match body.region.as_deref() {
        None => {
            errors.push(FieldError::new("region", "region is required"));
            None
        }
        Some(id) => match catalog.region(id) {
            None => {
                errors.push(FieldError::new("region", "region is not valid"));
                None
            }
            Some(region) if region.status != "ok" => {
                errors.push(FieldError::new(
                    "region",
                    "This region is currently unavailable. Please choose another region.",
                ));
                None
            }
            Some(region) => Some(region),
        },
    };
    if let (Some(plan), Some(region)) = (plan, region) {
        if !region.offers(&plan.class) {
            errors.push(FieldError::new("type", format!("The {} plan is not available in {}", plan.id, region.id)));
        }
    }

    let stackscript = body.stackscript_id.and_then(|id| {
        let found = catalog.stackscript(id).filter(|s| s.is_public);
        if found.is_none() {
            errors.push(FieldError::new("stackscript_id", "StackScript not found"));
        }
        found
    });
    match (body.image.as_deref(), stackscript) {
        (None, Some(_)) => {
            errors.push(FieldError::new("image", "An image is required when deploying from a StackScript"))
        }
        (Some(image), stackscript) => {
            if catalog.image(image).is_none() {
                errors.push(FieldError::new("image", "image is not valid"));
            } else if let Some(script) = stackscript.filter(|s| !s.accepts_image(image)) {
                errors.push(FieldError::new(
                    "image",
                    format!("The image {image} is not compatible with StackScript {}", script.id),
                ));
            }
        }
        (None, None) => {}
    }

    check_credentials(&body, &mut errors);
    if let Some(label) = body.label.as_deref() {
        if let Err(reason) = check_label(label) {
            errors.push(FieldError::new("label", reason));
        }
    }
    if let Some(script) = stackscript {
        check_stackscript_data(script, body.stackscript_data.as_ref(), &mut errors);
    }
    if let Some(tag) = body.tags.iter().flatten().find(|t| t.len() < 3 || t.len() > 50) {
        errors.push(FieldError::new("tags", format!("Tag {tag:?} must be 3-50 characters")));
    }

    match (plan, region, errors.is_empty()) {
        (Some(plan), Some(region), true) => Ok(ValidCreate {
            plan,
            region,
            image: body.image,
            stackscript,
            stackscript_data: body.stackscript_data.unwrap_or_default(),
            authorized_keys: body.authorized_keys.unwrap_or_default(),
            label: body.label,
            group: body.group.unwrap_or_default(),
            tags: body.tags.unwrap_or_default(),
            booted: body.booted.unwrap_or(true),
            private_ip: body.private_ip.unwrap_or(false),
            backups_enabled: body.backups_enabled.unwrap_or(false),
        }),
        _ => Err(errors),
    }
}

/// An image deploy needs a root password or SSH keys (linode_api4 ≥ 5.44 sends either).
fn check_credentials(body: &CreateBody, errors: &mut Vec<FieldError>) {
    let keys = body.authorized_keys.as_deref().unwrap_or_default();
    for key in keys {
        if !is_ssh_public_key(key) {
            errors.push(FieldError::new("authorized_keys", "Invalid SSH public key"));
        }
    }
    let has_users = body.authorized_users.as_ref().is_some_and(|u| !u.is_empty());
    match body.root_pass.as_deref() {
        Some(password) if !(7..=128).contains(&password.chars().count()) => {
            errors.push(FieldError::new("root_pass", "root_pass must be between 7 and 128 characters"))
        }
        Some(password) if !is_strong_password(password) => {
            errors.push(FieldError::new("root_pass", "Password does not meet strength requirement"))
        }
        Some(_) => {}
        None if body.image.is_some() && keys.is_empty() && !has_users => {
            errors.push(FieldError::new("root_pass", "root_pass is required when deploying from an image"))
        }
        None => {}
    }
}

/// The sandbox's deterministic stand-in for Linode's (unpublished) strength score: at least
/// 50 bits by `length × log2(alphabet size)`, two character classes and five distinct
/// characters. `Password1` passes; `password`, `hunter22` and `aB3$aB3$` do not.
pub(crate) fn is_strong_password(password: &str) -> bool {
    let classes = [
        (password.chars().any(|c| c.is_ascii_lowercase()), 26.0),
        (password.chars().any(|c| c.is_ascii_uppercase()), 26.0),
        (password.chars().any(|c| c.is_ascii_digit()), 10.0),
        (password.chars().any(|c| !c.is_ascii_alphanumeric()), 33.0),
    ];
    let used = classes.iter().filter(|(present, _)| *present).count();
    let alphabet: f64 = classes.iter().filter(|(present, _)| *present).map(|(_, size)| size).sum();
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let bits = password.chars().count() as f64 * alphabet.log2();
    used >= 2 && distinct.len() >= 5 && bits >= 50.0
}

/// `<type> <base64 blob> [comment]` where the blob starts with the same type name.
pub(crate) fn is_ssh_public_key(key: &str) -> bool {
    const TYPES: &[&str] = &[
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    ];
    let mut parts = key.split_whitespace();
    let (Some(kind), Some(blob)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !TYPES.contains(&kind) {
        return false;
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(blob) else {
        return false;
    };
    let Some((len, rest)) = bytes.split_first_chunk::<4>() else {
        return false;
    };
    let len = u32::from_be_bytes(*len) as usize;
    rest.len() > len && &rest[..len] == kind.as_bytes()
}

/// Label rules from the spec: 3–64 chars, starts with a letter, then letters, digits, `-`,
/// `_`, `.`, never two of `-`, `_`, `.` in a row.
pub(crate) fn check_label(label: &str) -> Result<(), &'static str> {
    if !(3..=64).contains(&label.chars().count()) {
        return Err("Length must be 3-64 characters");
    }
    let starts_with_letter = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let allowed = label.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let doubled = ["--", "__", ".."].iter().any(|d| label.contains(d));
    if starts_with_letter && allowed && !doubled {
        Ok(())
    } else {
        Err("Must begin with a letter and contain only letters, numbers, '-', '_' and '.', \
without two '-', '_' or '.' in a row")
    }
}

fn check_stackscript_data(script: &StackScript, data: Option<&Map<String, Value>>, errors: &mut Vec<FieldError>) {
    for udf in &script.user_defined_fields {
        let field = format!("stackscript_data.{}", udf.name);
        let value = data.and_then(|d| d.get(&udf.name)).and_then(|v| match v {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        });
        let Some(value) = value else {
            if udf.is_required() {
                errors.push(FieldError::new(&field, format!("{} is required", udf.label)));
            }
            continue;
        };
        let Some(choices) = udf.choices() else {
            continue;
        };
        let picked: Vec<&str> = if udf.manyof.is_some() && udf.oneof.is_none() {
            value.split(',').map(str::trim).collect()
        } else {
            vec![value.as_str()]
        };
        if picked.iter().any(|p| !choices.contains(p)) {
            errors.push(FieldError::new(&field, format!("Must be one of: {}", choices.join(", "))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_strength() {
        for weak in ["password", "hunter22", "aB3$aB3$", "aaaaaaaaaaaaaaaaaaaa", "1234567890123"] {
            assert!(!is_strong_password(weak), "{weak}");
        }
        for strong in ["Password1", "Tr0ub4dor&3", "correct-horse-battery-staple"] {
            assert!(is_strong_password(strong), "{strong}");
        }
    }

    #[test]
    fn labels() {
        for ok in ["web", "my-app.prod_1", "a23"] {
            assert!(check_label(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "1abc", "a--b", "a__b", "a..b", "a b", &"a".repeat(65)] {
            assert!(check_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ssh_keys() {
        let mut blob = vec![0, 0, 0, 11];
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&[0, 0, 0, 32]);
        blob.extend_from_slice(&[7; 32]);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&blob);
        assert!(is_ssh_public_key(&format!("ssh-ed25519 {encoded} me@host")));
        assert!(!is_ssh_public_key(&format!("ssh-rsa {encoded}")));
        assert!(!is_ssh_public_key("ssh-ed25519 not-base64!"));
        assert!(!is_ssh_public_key("hello"));
    }
}
