//! Small cryptographic helpers: random tokens, hashing tokens for storage, HMAC, and sealing
//! secrets at rest with XChaCha20-Poly1305.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Random bytes from the operating system.
///
/// # Errors
/// When the operating system has no randomness to give (never on supported systems).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)?;
    Ok(b)
}

/// A 256-bit random token, URL-safe base64.
///
/// # Errors
/// When the operating system has no randomness.
pub fn random_token() -> Result<String, getrandom::Error> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// SHA-256 of a token, hex: what the database keeps instead of the token.
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// HMAC-SHA256 of `parts`, URL-safe base64.
#[must_use]
pub fn hmac(key: &[u8], parts: &[&[u8]]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        // HMAC takes keys of any length; this branch is never taken.
        return String::new();
    };
    for p in parts {
        mac.update(p);
        mac.update(&[0]);
    }
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Compares two strings in time independent of where they differ.
#[must_use]
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Sealing or opening a secret failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// No randomness for the nonce.
    #[error("no randomness available")]
    Random,
    /// The stored value is damaged, or was sealed for another purpose or under another key of
    /// the same id.
    #[error("sealed value cannot be opened")]
    Open,
    /// The value was sealed under a version of the encryption key this process does not hold.
    #[error("sealed under version {0} of the encryption key, which this server was not given")]
    UnknownKey(u32),
}

/// The key values are sealed under, with its id. What it seals starts `k{id}:`, so a value
/// sealed under a key this server lacks is told apart from a damaged one; a value without the
/// prefix was sealed before keys had ids, under [`marac_domain::keys::FIRST_KEY_ID`].
#[derive(Clone)]
pub struct SealingKey {
    /// Which version of the encryption key.
    pub id: u32,
    /// The key.
    pub key: [u8; 32],
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey {{ id: {} }}", self.id)
    }
}

/// What a user's authenticator secret is sealed for: bound to the user, so it cannot be moved.
#[must_use]
pub fn totp_context(user_id: i64) -> String {
    format!("user:{user_id}:totp")
}

/// The key id a sealed value names, and the rest of it.
fn split_key_id(sealed: &str) -> Result<(u32, &str), SealError> {
    // The base64 alphabet has no ':', so a value without one predates key ids.
    match sealed.split_once(':') {
        None => Ok((marac_domain::keys::FIRST_KEY_ID, sealed)),
        Some((prefix, rest)) => {
            let id = prefix.strip_prefix('k').and_then(|n| n.parse().ok()).ok_or(SealError::Open)?;
            Ok((id, rest))
        }
    }
}

/// Encrypts `plain` under `key`, bound to `context` (e.g. `user:12:totp`) so a sealed value
/// cannot be moved to another row. Output: `k{id}:` then base64 of nonce ‖ ciphertext.
///
/// # Errors
/// When there is no randomness for the nonce.
pub fn seal(key: &SealingKey, context: &str, plain: &[u8]) -> Result<String, SealError> {
    let cipher = XChaCha20Poly1305::new_from_slice(&key.key).map_err(|_| SealError::Open)?;
    let nonce_bytes = random_bytes::<24>().map_err(|_| SealError::Random)?;
    let nonce = XNonce::try_from(&nonce_bytes[..]).map_err(|_| SealError::Random)?;
    let ct = cipher.encrypt(&nonce, Payload { msg: plain, aad: context.as_bytes() }).map_err(|_| SealError::Open)?;
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&ct);
    Ok(format!("k{}:{}", key.id, URL_SAFE_NO_PAD.encode(out)))
}

/// Decrypts what [`seal`] produced for the same `context`.
///
/// # Errors
/// [`SealError::UnknownKey`] when it names a key id other than `key`'s; [`SealError::Open`]
/// when it is damaged or belongs to another context.
pub fn open(key: &SealingKey, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
    let (id, body) = split_key_id(sealed)?;
    if id != key.id {
        return Err(SealError::UnknownKey(id));
    }
    let raw = URL_SAFE_NO_PAD.decode(body).map_err(|_| SealError::Open)?;
    if raw.len() < 24 {
        return Err(SealError::Open);
    }
    let (nonce_bytes, ct) = raw.split_at(24);
    let cipher = XChaCha20Poly1305::new_from_slice(&key.key).map_err(|_| SealError::Open)?;
    let nonce = XNonce::try_from(nonce_bytes).map_err(|_| SealError::Open)?;
    cipher.decrypt(&nonce, Payload { msg: ct, aad: context.as_bytes() }).map_err(|_| SealError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: SealingKey = SealingKey { id: 1, key: [7u8; 32] };

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let sealed = seal(&KEY, "user:1:totp", b"secret").unwrap_or_default();
        assert!(sealed.starts_with("k1:"), "{sealed}");
        assert_eq!(open(&KEY, "user:1:totp", &sealed).ok(), Some(b"secret".to_vec()));
        assert!(open(&KEY, "user:2:totp", &sealed).is_err(), "wrong context");
        let other = SealingKey { id: 1, key: [8u8; 32] };
        assert!(matches!(open(&other, "user:1:totp", &sealed), Err(SealError::Open)), "wrong key");
        let mut flipped = sealed.into_bytes();
        flipped[30] ^= 1;
        assert!(open(&KEY, "user:1:totp", &String::from_utf8_lossy(&flipped)).is_err(), "tampered");
        assert_ne!(seal(&KEY, "c", b"x").ok(), seal(&KEY, "c", b"x").ok(), "nonces differ");
    }

    #[test]
    fn a_value_sealed_before_key_ids_is_opened_as_key_one() {
        let sealed = seal(&KEY, "person", b"{}").unwrap_or_default();
        let legacy = sealed.trim_start_matches("k1:");
        assert_eq!(open(&KEY, "person", legacy).ok(), Some(b"{}".to_vec()));
    }

    #[test]
    fn a_value_sealed_under_a_key_not_held_is_told_apart_from_a_damaged_one() {
        let second = SealingKey { id: 2, key: [9u8; 32] };
        let sealed = seal(&second, "person", b"{}").unwrap_or_default();
        assert!(matches!(open(&KEY, "person", &sealed), Err(SealError::UnknownKey(2))));
        assert!(matches!(open(&KEY, "person", "kx:abc"), Err(SealError::Open)));
        assert!(matches!(open(&KEY, "person", "k1:not base64!"), Err(SealError::Open)));
    }

    #[test]
    fn tokens_are_long_and_hashed() {
        let t = random_token().unwrap_or_default();
        assert_eq!(t.len(), 43, "256 bits in base64");
        assert_eq!(token_hash(&t).len(), 64);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
