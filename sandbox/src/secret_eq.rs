//! Comparing secrets (tokens, codes, client secrets) without leaking where they differ. A leaf:
//! the state and the login server both use it.

use subtle::ConstantTimeEq;

/// Compares secrets without leaking where they differ.
pub(crate) fn secrets_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}
