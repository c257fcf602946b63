//! The environment as the configuration reads it: one reader per kind of value, each naming its
//! variable in its error. It notes every name it is asked for, so a test can hold the README's
//! table to what the code reads.

use std::{cell::RefCell, str::FromStr, time::Duration};

use url::Url;

use super::ConfigError;

pub(super) struct Vars<L> {
    lookup: L,
    asked: RefCell<Vec<&'static str>>,
}

impl<L: Fn(&str) -> Option<String>> Vars<L> {
    pub(super) fn new(lookup: L) -> Self {
        Self { lookup, asked: RefCell::new(Vec::new()) }
    }

    /// Every variable asked for so far.
    #[cfg(test)]
    pub(super) fn asked(&self) -> Vec<&'static str> {
        self.asked.borrow().clone()
    }

    pub(super) fn text(&self, name: &'static str) -> Option<String> {
        self.asked.borrow_mut().push(name);
        (self.lookup)(name)
    }

    /// A value of type `T`, trimmed; `expected` says what it should look like.
    pub(super) fn parsed<T: FromStr>(
        &self,
        name: &'static str,
        expected: &'static str,
    ) -> Result<Option<T>, ConfigError> {
        self.text(name)
            .map(|value| value.trim().parse().map_err(|_| ConfigError::BadValue { variable: name, expected, value }))
            .transpose()
    }

    pub(super) fn seconds(&self, name: &'static str) -> Result<Option<Duration>, ConfigError> {
        self.text(name)
            .map(|value| {
                value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                    .ok_or(ConfigError::BadValue { variable: name, expected: "a number of seconds", value })
            })
            .transpose()
    }

    pub(super) fn count(&self, name: &'static str) -> Result<Option<u32>, ConfigError> {
        self.parsed(name, "a whole number (0 or more)")
    }

    /// A time limit: a number of seconds above zero (a zero timeout would fail every call).
    pub(super) fn timeout(&self, name: &'static str) -> Result<Option<Duration>, ConfigError> {
        match self.seconds(name) {
            Ok(Some(duration)) if duration.is_zero() => Err(ConfigError::BadValue {
                variable: name,
                expected: "a number of seconds above 0",
                value: self.text(name).unwrap_or_default(),
            }),
            other => other,
        }
    }

    /// An http(s) URL with a host.
    pub(super) fn url(&self, name: &'static str) -> Result<Option<Url>, ConfigError> {
        self.text(name).map(|value| parse_url(name, value)).transpose()
    }

    /// `true`/`false` (and `1`/`0`, `yes`/`no`, `on`/`off`).
    pub(super) fn switch(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.text(name).map(|value| value.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(value) if ["true", "1", "yes", "on"].contains(&value.as_str()) => Ok(Some(true)),
            Some(value) if ["false", "0", "no", "off"].contains(&value.as_str()) => Ok(Some(false)),
            Some(value) => Err(ConfigError::BadValue { variable: name, expected: "true or false", value }),
        }
    }
}

fn parse_url(variable: &'static str, value: String) -> Result<Url, ConfigError> {
    let url = Url::parse(value.trim()).map_err(|error| ConfigError::BadUrl {
        variable,
        value: value.clone(),
        reason: error.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::BadUrl { variable, value, reason: "expected an http(s) URL with a host".into() });
    }
    Ok(url)
}
