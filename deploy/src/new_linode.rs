//! What the server invents for a new Linode: its root password and its label.

use rand::{seq::IndexedRandom, seq::SliceRandom, Rng};
use secrecy::SecretString;

use domain::selection::slugify;

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
/// Symbols that survive shells, URLs and copy-paste without quoting surprises.
const SYMBOLS: &[u8] = b"-_.+=@%";
const PASSWORD_LENGTH: usize = 32;

/// A root password with every character class (Linode rejects weak ones) and about 190 bits of
/// entropy, from the operating system's CSPRNG via `rand`'s thread RNG.
pub fn root_password() -> SecretString {
    let mut rng = rand::rng();
    let all: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS].concat();
    let mut chars: Vec<u8> =
        [LOWER, UPPER, DIGITS, SYMBOLS].iter().filter_map(|class| class.choose(&mut rng).copied()).collect();
    while chars.len() < PASSWORD_LENGTH {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    chars.shuffle(&mut rng);
    SecretString::from(String::from_utf8_lossy(&chars).into_owned())
}

/// A label that satisfies Linode's rules (3–64 characters, starts with a letter, letters, digits,
/// `-`, `_`, `.`, no doubled punctuation) and says what the Linode is for:
/// `<app-slug>-<region>-<8 hex>`. Labels must be unique per account: 32 random bits keep the chance
/// that two concurrent deployments into one account collide negligible (16 bits failed about one
/// run in four of 200 concurrent deployments).
pub fn linode_label(app_name: &str, region: &str) -> String {
    let mut slug = slugify(app_name);
    if !slug.starts_with(|c: char| c.is_ascii_alphabetic()) {
        slug.insert_str(0, "app-");
    }
    let region = slugify(region);
    // 64 characters at most: the slug gives way to the region and the suffix.
    slug.truncate(40.min(64usize.saturating_sub(region.len() + 10)).max(1));
    let slug = slug.trim_end_matches('-');
    let suffix: u32 = rand::rng().random();
    format!("{slug}-{region}-{suffix:08x}")
}

/// The application's name as a Linode tag (tags are 3–50 characters).
pub fn app_tag(app_name: &str) -> String {
    let mut tag: String = app_name.trim().chars().take(50).collect();
    while tag.chars().count() < 3 {
        tag.push('_');
    }
    tag
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    /// The rule the form applies to a label a person types.
    fn is_valid_label(label: &str) -> bool {
        domain::selection::check_label(label).is_ok_and(|label| label.is_some())
    }

    #[test]
    fn passwords_have_every_class_and_differ() {
        let a = root_password();
        let b = root_password();
        let a = a.expose_secret();
        assert_eq!(a.len(), PASSWORD_LENGTH);
        assert_ne!(a, b.expose_secret());
        for class in [LOWER, UPPER, DIGITS, SYMBOLS] {
            assert!(a.bytes().any(|c| class.contains(&c)), "{class:?} missing");
        }
    }

    #[test]
    fn labels_follow_linode_rules() {
        for name in ["My App", "42 things", "Ünïcode — app!!", "a", "x".repeat(200).as_str(), "--"] {
            let label = linode_label(name, "us-east");
            assert!(is_valid_label(&label), "{label}");
        }
        assert!(linode_label("My App", "us-east").starts_with("my-app-us-east-"));
        assert!(is_valid_label(&linode_label(&"x".repeat(80), "ap-southeast")));
        let labels: std::collections::HashSet<String> = (0..1000).map(|_| linode_label("My App", "us-east")).collect();
        assert_eq!(labels.len(), 1000, "suffixes collide");
    }

    #[test]
    fn tags_are_three_to_fifty_chars() {
        assert_eq!(app_tag("My App"), "My App");
        assert_eq!(app_tag("a"), "a__");
        assert_eq!(app_tag(&"x".repeat(80)).len(), 50);
    }
}
