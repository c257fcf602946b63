//! The publisher's cloud-init user data (`USER_DATA_FILE`): checked once at start against what
//! Linode accepts, then sent with every create as `metadata.user_data`.

use std::{io::Read, path::Path};

use base64::Engine;

/// Linode's limit on `metadata.user_data`, counted in its base64 form (spec 4.234.0).
pub const MAX_BASE64_BYTES: usize = 65_535;

/// A byte-order mark, which some editors put first and which is left out of what is sent.
const BOM: char = '\u{feff}';

/// The longest file that can fit: what `MAX_BASE64_BYTES` of base64 hold (49 149 bytes), and a
/// byte-order mark. Reading one byte past it is enough to refuse a file as too large.
const MAX_FILE_BYTES: u64 = (MAX_BASE64_BYTES / 4 * 3 + BOM.len_utf8()) as u64;

/// User data Linode will take and cloud-init will run.
#[derive(Clone, PartialEq, Eq)]
pub struct UserData {
    text: String,
    base64: String,
}

/// Why a file cannot be sent as user data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserDataError {
    #[error("it is empty")]
    Empty,
    #[error("it is not UTF-8 text (cloud-config and scripts are text; a gzipped or MIME file is not supported here)")]
    NotText,
    #[error("its first line is {0:?}; this site sends a cloud-config (first line #cloud-config) or a script (first line starting with #!)")]
    FirstLine(String),
    #[error("it is {base64} bytes in base64, and Linode takes at most {MAX_BASE64_BYTES} (about 48 KiB of file)")]
    TooLarge { base64: usize },
}

/// Why a file named as user data was not taken.
#[derive(Debug, thiserror::Error)]
pub enum UserDataFileError {
    #[error("cannot be read: {0}")]
    Unreadable(#[from] std::io::Error),
    #[error("cannot be sent as cloud-init user data: {0}")]
    Refused(#[from] UserDataError),
}

impl UserData {
    /// The file at `path`, if Linode and cloud-init would take it. Only a regular file is read,
    /// and no further than the limit: `/dev/zero`, a FIFO or a disk image named by mistake would
    /// otherwise be read into memory whole before being refused.
    pub fn read(path: &Path) -> Result<Self, UserDataFileError> {
        let file = std::fs::File::open(path)?;
        let metadata = file.metadata()?;
        if !metadata.is_file() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "it is not a regular file").into());
        }
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            let base64 = usize::try_from(metadata.len().div_ceil(3) * 4).unwrap_or(usize::MAX);
            return Err(UserDataError::TooLarge { base64 }.into());
        }
        Ok(Self::parse(&bytes)?)
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, UserDataError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(UserDataError::Empty);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| UserDataError::NotText)?;
        // Some editors start a UTF-8 file with a byte-order mark, which would hide the first
        // line from cloud-init: it is left out of what is sent.
        let text = text.strip_prefix(BOM).unwrap_or(text);
        let first = text.lines().next().unwrap_or_default().trim_end();
        if first != "#cloud-config" && !first.starts_with("#!") {
            return Err(UserDataError::FirstLine(first.chars().take(40).collect()));
        }
        let base64 = base64::engine::general_purpose::STANDARD.encode(text);
        if base64.len() > MAX_BASE64_BYTES {
            return Err(UserDataError::TooLarge { base64: base64.len() });
        }
        Ok(Self { text: text.to_owned(), base64 })
    }

    /// The file as the person reads it on the form.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What `metadata.user_data` carries.
    pub fn base64(&self) -> &str {
        &self.base64
    }
}

/// Long: print its size, not its text.
impl std::fmt::Debug for UserData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserData").field("bytes", &self.text.len()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_config_and_scripts_are_taken_and_sent_in_base64() {
        let config = UserData::parse(b"#cloud-config\npackages: [nginx]\n").unwrap();
        assert_eq!(config.base64(), "I2Nsb3VkLWNvbmZpZwpwYWNrYWdlczogW25naW54XQo=");
        assert!(UserData::parse(b"#!/bin/sh\necho hi\n").is_ok());
        assert!(UserData::parse(b"#cloud-config\r\nruncmd: []\r\n").is_ok());
        let marked = UserData::parse(b"\xef\xbb\xbf#cloud-config\npackages: [nginx]\n").unwrap();
        assert_eq!(marked, config, "a byte-order mark is left out");
    }

    #[test]
    fn what_cloud_init_would_ignore_or_linode_refuse_is_refused() {
        assert_eq!(UserData::parse(b" \n"), Err(UserDataError::Empty));
        assert_eq!(UserData::parse(b"#cloud-config\n\xff"), Err(UserDataError::NotText));
        assert_eq!(UserData::parse(b"packages: [nginx]\n"), Err(UserDataError::FirstLine("packages: [nginx]".into())));
        assert!(matches!(UserData::parse(b"# cloud-config\n"), Err(UserDataError::FirstLine(_))));
        // 49 149 bytes are 65 532 in base64; three more bytes make 65 536.
        let fits = format!("#cloud-config\n{}", "#".repeat(49_149 - 14));
        assert_eq!(UserData::parse(fits.as_bytes()).unwrap().base64().len(), 65_532);
        let over = format!("{fits}###");
        assert_eq!(UserData::parse(over.as_bytes()), Err(UserDataError::TooLarge { base64: 65_536 }));
        assert_eq!(MAX_FILE_BYTES, 49_152, "the largest file that fits, and a byte-order mark");
    }
}
