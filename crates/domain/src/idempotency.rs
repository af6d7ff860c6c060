//! Requests that may be sent twice: an API call with an `Idempotency-Key` header (the IETF
//! httpapi draft's semantics), a form with a one-use token. The first sending does the work
//! and its answer is kept; a second sending with the same key gets that answer and makes
//! nothing new.
//!
//! A key is scoped to its user and kind, so one client's key never meets another's, and only
//! a hash of it is stored. The work's own transaction records what it made (the
//! [`IdempotencyMark`] travels with the request's audit events), so even a server that dies
//! between saving and answering never lets a retry save twice.

use sha2::{Digest, Sha256};
use time::Duration;

/// How long a key and its answer are kept.
pub const KEY_LIFETIME: Duration = Duration::hours(24);

/// How long a request holds its key before another may take it over, unless it renews it:
/// short, so a retry after the server died waits seconds, not a minute.
pub const LEASE: Duration = Duration::seconds(5);

/// How often a request still running renews its hold on its key.
pub const RENEW_EVERY: Duration = Duration::seconds(2);

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// An API client's `Idempotency-Key` header.
    Api,
    /// A form's one-use token.
    Form,
}

impl KeyKind {
    const fn code(self) -> &'static str {
        match self {
            KeyKind::Api => "api",
            KeyKind::Form => "form",
        }
    }
}

/// Marks a request's writes as the work of an idempotent request: the store records the
/// first write's target as the key's outcome, in the same transaction, and refuses the write
/// if another request has taken the key over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyMark {
    /// The key's scope (see [`scope`]).
    pub scope: String,
    /// The request holding it.
    pub request_id: String,
}

/// Reads an `Idempotency-Key` header value: a string of 1 to 255 visible ASCII characters,
/// quoted as the draft's structured field or bare as most clients send it.
///
/// # Errors
/// What is wrong with it, for the problem's detail.
pub fn parse_key(header: &str) -> Result<&str, &'static str> {
    let key = header.trim();
    let key = key.strip_prefix('"').and_then(|k| k.strip_suffix('"')).unwrap_or(key);
    if key.is_empty() || key.len() > 255 {
        return Err("Idempotency-Key must be 1 to 255 characters");
    }
    if !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err("Idempotency-Key must be visible ASCII characters without spaces");
    }
    Ok(key)
}

/// The stored name of `key` sent by `user_id`: a hash, so the key itself is not kept, and one
/// per user and kind.
#[must_use]
pub fn scope(kind: KeyKind, user_id: i64, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(kind.code().as_bytes());
    h.update([0]);
    h.update(user_id.to_be_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    hex::encode(h.finalize())
}

/// What makes two sendings the same request: method, path and body.
#[must_use]
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_quoted_or_bare_and_bad_ones_refused() {
        assert_eq!(parse_key("\"8e03978e-40d5-43e8-bc93-6894a57f9324\""), Ok("8e03978e-40d5-43e8-bc93-6894a57f9324"));
        assert_eq!(parse_key(" abc123 "), Ok("abc123"));
        assert!(parse_key("").is_err());
        assert!(parse_key("\"\"").is_err());
        assert!(parse_key("has space").is_err());
        assert!(parse_key("caf\u{e9}").is_err());
        assert!(parse_key(&"k".repeat(256)).is_err());
        assert!(parse_key(&"k".repeat(255)).is_ok());
    }

    #[test]
    fn a_key_is_scoped_to_its_user_and_kind() {
        let a = scope(KeyKind::Api, 1, "k");
        assert_eq!(a, scope(KeyKind::Api, 1, "k"));
        assert_ne!(a, scope(KeyKind::Api, 2, "k"));
        assert_ne!(a, scope(KeyKind::Form, 1, "k"));
        assert_ne!(a, scope(KeyKind::Api, 1, "k2"));
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint() {
        let f = fingerprint("POST", "/api/v1/referrals", b"{}");
        assert_eq!(f, fingerprint("POST", "/api/v1/referrals", b"{}"));
        assert_ne!(f, fingerprint("POST", "/api/v1/referrals", b"{ }"));
        assert_ne!(f, fingerprint("POST", "/api/v1/other", b"{}"));
    }
}
