//! OAuth scopes as Linode writes them: `<resource>:<level>` with levels `read_only` and
//! `read_write`, `<resource>:*` and `*` for everything. Clients join them with `,`, the login
//! server with a space (linode_api4 issue #219), so both separate.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScopeLevel {
    ReadOnly,
    ReadWrite,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes {
    /// As received, in order, without duplicates.
    raw: Vec<String>,
    /// `*`: read_write on every resource.
    all: bool,
    grants: Vec<(String, ScopeLevel)>,
}

impl Scopes {
    /// Parses a scope string; pieces that are not scopes are kept in `as_wire` but grant nothing.
    pub fn parse(text: &str) -> Self {
        let mut scopes = Scopes::default();
        for piece in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
            if scopes.raw.iter().any(|seen| seen == piece) {
                continue;
            }
            scopes.raw.push(piece.to_owned());
            if piece == "*" {
                scopes.all = true;
                continue;
            }
            let Some((resource, level)) = piece.split_once(':') else { continue };
            let level = match level.to_ascii_lowercase().as_str() {
                "read_only" => ScopeLevel::ReadOnly,
                // `resource:*` means every level of that resource.
                "read_write" | "*" => ScopeLevel::ReadWrite,
                _ => continue,
            };
            scopes.grants.push((resource.to_ascii_lowercase(), level));
        }
        scopes
    }

    /// Whether these scopes let a token act on `resource` at `level` (read_write implies
    /// read_only).
    pub fn allows(&self, resource: &str, level: ScopeLevel) -> bool {
        self.all || self.grants.iter().any(|(granted, granted_level)| granted == resource && *granted_level >= level)
    }

    /// What was granted beyond `resource` (e.g. `*`, or `domains:read_write`): more than a
    /// client that asked for `resource` alone needs, which the person should be told about.
    pub fn beyond(&self, resource: &str) -> Vec<String> {
        self.raw
            .iter()
            .filter(|piece| piece.split_once(':').is_none_or(|(granted, _)| !granted.eq_ignore_ascii_case(resource)))
            .cloned()
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Space-separated, as the login server sends them.
    pub fn as_wire(&self) -> String {
        self.raw.join(" ")
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_wire())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_granted_beyond_the_resource_asked_for() {
        assert!(Scopes::parse("linodes:read_write").beyond("linodes").is_empty());
        assert_eq!(Scopes::parse("*").beyond("linodes"), vec!["*"]);
        assert_eq!(Scopes::parse("linodes:read_write domains:read_only").beyond("linodes"), vec!["domains:read_only"]);
    }
    use ScopeLevel::*;

    #[test]
    fn exact_scopes() {
        let scopes = Scopes::parse("linodes:read_write");
        assert!(scopes.allows("linodes", ReadWrite));
        assert!(scopes.allows("linodes", ReadOnly));
        assert!(!scopes.allows("domains", ReadOnly));
        assert!(!Scopes::parse("linodes:read_only").allows("linodes", ReadWrite));
    }

    #[test]
    fn wildcards() {
        assert!(Scopes::parse("*").allows("linodes", ReadWrite));
        assert!(Scopes::parse("linodes:*").allows("linodes", ReadWrite));
        assert!(!Scopes::parse("domains:*").allows("linodes", ReadOnly));
    }

    #[test]
    fn separators_and_noise() {
        let scopes = Scopes::parse("images:read_only, linodes:read_write  stackscripts:read_only");
        assert!(scopes.allows("linodes", ReadWrite) && scopes.allows("images", ReadOnly));
        assert_eq!(scopes.as_wire(), "images:read_only linodes:read_write stackscripts:read_only");
        let junk = Scopes::parse("linodes linodes:admin :read_write ,,");
        assert!(!junk.allows("linodes", ReadOnly));
        assert!(Scopes::parse("").is_empty());
    }
}
