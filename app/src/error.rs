//! The error type of every server function: it crosses the wire to the browser, so it carries only
//! messages meant for the person, never upstream bodies or secrets.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// A submitted value is not one the form offers (a forged or outdated form).
    #[error("{message}")]
    InvalidSelection { field: String, message: String },
    /// The plans, regions and images could not be read from Linode and nothing is cached yet.
    #[error("Linode's catalog could not be loaded ({reason}). Please try again in a minute.")]
    CatalogUnavailable { reason: String },
    /// The server's database did not answer; nothing was lost, the page can be reloaded.
    #[error(
        "This site could not reach its database just now. Your deployment is not lost: reload this page in a minute."
    )]
    StoreUnavailable,
    /// A stored record failed its integrity check (altered, or sealed with another key).
    #[error("The record of this deployment could not be read (it was altered, or written by a server with another key), so nothing is shown from it. Check your Linodes in Cloud Manager.")]
    StoredRecordUnreadable,
    /// A state-changing request that did not come from this site's own pages.
    #[error("This request came from another website, so it was refused. To deploy, open this site and use its form.")]
    CrossSite,
    /// Too many requests from this address.
    #[error("Too many attempts from your address; please wait a minute and try again.")]
    RateLimited,
    /// The request's arguments could not be decoded (a forged or truncated post, bytes that are
    /// not UTF-8…): the sender's mistake, answered with 400. The decoder's own text is not carried:
    /// it echoes what was sent, so a sender would choose words on this site's answer.
    #[error("The request was not understood: it is not a form this site's page sends, or it was cut short. Please reload the page and try again.")]
    Malformed,
    /// Anything the server-function machinery reports (network, encoding…).
    #[error("The request could not be completed: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status this error is answered with, chosen here and nowhere else: the server's
    /// middleware sets it on every server function's error, and the refusals made before a
    /// server function runs (rate limits, cross-site posts) use it too. A `u16`, so the WASM
    /// build needs no HTTP types.
    pub fn status(&self) -> u16 {
        match self {
            // The sender's mistake: a forged, outdated or truncated form.
            AppError::InvalidSelection { .. } | AppError::Malformed => 400,
            AppError::CrossSite => 403,
            AppError::RateLimited => 429,
            // Something this server depends on is down for now; the same request may work later.
            AppError::CatalogUnavailable { .. } | AppError::StoreUnavailable => 503,
            AppError::StoredRecordUnreadable | AppError::Transport(_) => 500,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<deploy::catalog::CatalogError> for AppError {
    fn from(error: deploy::catalog::CatalogError) -> Self {
        match error {
            deploy::catalog::CatalogError::Unavailable { reason } => AppError::CatalogUnavailable { reason },
        }
    }
}

impl From<domain::selection::Invalid> for AppError {
    fn from(invalid: domain::selection::Invalid) -> Self {
        AppError::InvalidSelection { field: invalid.field, message: invalid.message }
    }
}

#[cfg(feature = "ssr")]
fn server_fn_error_kind(error: &ServerFnErrorErr) -> &'static str {
    match error {
        ServerFnErrorErr::Args(_) => "arguments",
        ServerFnErrorErr::MissingArg(_) => "missing argument",
        ServerFnErrorErr::Deserialization(_) => "body",
        _ => "other",
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) | ServerFnErrorErr::Deserialization(_) => {
                // For the operator who wonders why a page of theirs is refused: the kind only, as
                // the decoder's text may quote what was posted, password inputs included.
                #[cfg(feature = "ssr")]
                tracing::debug!(kind = server_fn_error_kind(&value), "request not understood");
                AppError::Malformed
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_status() {
        let invalid = AppError::InvalidSelection { field: "plan".into(), message: "no".into() };
        let cases = [
            (invalid, 400),
            (AppError::Malformed, 400),
            (AppError::CrossSite, 403),
            (AppError::RateLimited, 429),
            (AppError::CatalogUnavailable { reason: "down".into() }, 503),
            (AppError::StoreUnavailable, 503),
            (AppError::StoredRecordUnreadable, 500),
            (AppError::Transport("lost".into()), 500),
        ];
        for (error, status) in &cases {
            // A new variant must be added here: this match has no wildcard.
            match error {
                AppError::InvalidSelection { .. }
                | AppError::Malformed
                | AppError::CrossSite
                | AppError::RateLimited
                | AppError::CatalogUnavailable { .. }
                | AppError::StoreUnavailable
                | AppError::StoredRecordUnreadable
                | AppError::Transport(_) => {}
            }
            assert_eq!(error.status(), *status, "{error:?}");
        }
    }
}
