//! `READY_CHECK`: how the operator says to tell the installed application answers, as a template
//! over the new Linode's address (`http://{ipv4}/`, `tcp://{ipv4}:22`), parsed once at start.

use std::net::{Ipv4Addr, SocketAddr};

/// Stands for the new Linode's address in `READY_CHECK`.
pub const PLACEHOLDER: &str = "{ipv4}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Any answer below 500 counts.
    Http,
    /// As HTTP; the certificate is not checked (a new Linode's address has none yet).
    Https,
    /// A completed TCP connection counts.
    Tcp,
}

/// How the operator said to tell the application is up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyCheck {
    pub(super) scheme: Scheme,
    pub(super) port: u16,
    /// Path and query for HTTP(S), `/` at least; empty for TCP.
    pub(super) path: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadyCheckError {
    #[error("the scheme must be http://, https:// or tcp://, as in http://{{ipv4}}/")]
    Scheme,
    #[error("the host must be exactly {{ipv4}} (the new Linode's address), as in http://{{ipv4}}:8080/health")]
    Host,
    #[error("a tcp:// check needs a port and nothing after it, as in tcp://{{ipv4}}:22")]
    Tcp,
    #[error("not a valid URL once {{ipv4}} is filled in: {0}")]
    Url(String),
    #[error("a user name or password does not belong in the check")]
    Credentials,
    #[error("port 0 cannot be checked")]
    Port,
}

impl Scheme {
    /// The URL scheme and its default port, for the HTTP checks.
    pub(super) fn http(self) -> Option<(&'static str, u16)> {
        match self {
            Self::Http => Some(("http", 80)),
            Self::Https => Some(("https", 443)),
            Self::Tcp => None,
        }
    }
}

impl ReadyCheck {
    /// Reads a template such as `http://{ipv4}/`, `https://{ipv4}:8443/health` or
    /// `tcp://{ipv4}:22`.
    pub fn parse(template: &str) -> Result<Self, ReadyCheckError> {
        let template = template.trim();
        let (scheme, rest) = template.split_once("://").ok_or(ReadyCheckError::Scheme)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            "tcp" => Scheme::Tcp,
            _ => return Err(ReadyCheckError::Scheme),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(ReadyCheckError::Credentials);
        }
        let rest = rest.strip_prefix(PLACEHOLDER).ok_or(ReadyCheckError::Host)?;
        // Validate the rest as a URL around a stand-in address: port, path and query.
        let stand_in = Ipv4Addr::new(192, 0, 2, 1);
        // A `tcp://` template is read as an http URL: only its port matters.
        let (parsed_scheme, _) = scheme.http().unwrap_or(("http", 80));
        let url = url::Url::parse(&format!("{parsed_scheme}://{stand_in}{rest}"))
            .map_err(|error| ReadyCheckError::Url(error.to_string()))?;
        if url.host_str() != Some(&stand_in.to_string()) {
            return Err(ReadyCheckError::Host);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ReadyCheckError::Credentials);
        }
        // The port as written (`url` drops one equal to the scheme's default, which for `tcp://`
        // read as http would lose `:80`).
        let written_port = rest.strip_prefix(':').map(|after| after.split(['/', '?', '#']).next().unwrap_or_default());
        let port = url.port_or_known_default().ok_or(ReadyCheckError::Scheme)?;
        if port == 0 {
            return Err(ReadyCheckError::Port);
        }
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path = format!("{path}?{query}");
        }
        if scheme == Scheme::Tcp {
            let bare = rest.trim_end_matches('/');
            if written_port.is_none_or(str::is_empty) || bare.contains(['/', '?', '#']) {
                return Err(ReadyCheckError::Tcp);
            }
            return Ok(Self { scheme, port, path: String::new() });
        }
        Ok(Self { scheme, port, path })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ip:port`, as the success view names what was checked.
    pub fn address(&self, ip: Ipv4Addr) -> String {
        SocketAddr::from((ip, self.port)).to_string()
    }

    /// The link to the application, for HTTP(S) checks: the check's URL on this address.
    pub fn link(&self, ip: Ipv4Addr) -> Option<String> {
        let (scheme, _) = self.scheme.http()?;
        Some(format!("{scheme}://{}{}", self.host(ip), self.path))
    }

    /// The host as a browser names it: the address, with the port unless it is the scheme's own.
    pub(super) fn host(&self, ip: Ipv4Addr) -> String {
        match self.scheme.http() {
            Some((_, default)) if self.port == default => ip.to_string(),
            _ => self.address(ip),
        }
    }
}
