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
    /// The stored value is damaged, or was sealed under another key or for another purpose.
    #[error("sealed value cannot be opened")]
    Open,
}

/// Encrypts `plain` under `key`, bound to `context` (e.g. `user:12:totp`) so a sealed value
/// cannot be moved to another row. Output: base64 of nonce ‖ ciphertext.
///
/// # Errors
/// When there is no randomness for the nonce.
pub fn seal(key: &[u8; 32], context: &str, plain: &[u8]) -> Result<String, SealError> {
    let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| SealError::Open)?;
    let nonce_bytes = random_bytes::<24>().map_err(|_| SealError::Random)?;
    let nonce = XNonce::try_from(&nonce_bytes[..]).map_err(|_| SealError::Random)?;
    let ct = cipher.encrypt(&nonce, Payload { msg: plain, aad: context.as_bytes() }).map_err(|_| SealError::Open)?;
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&ct);
    Ok(URL_SAFE_NO_PAD.encode(out))
}

/// Decrypts what [`seal`] produced for the same `context`.
///
/// # Errors
/// When the value is damaged or belongs to another key or context.
pub fn open(key: &[u8; 32], context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
    let raw = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SealError::Open)?;
    if raw.len() < 24 {
        return Err(SealError::Open);
    }
    let (nonce_bytes, ct) = raw.split_at(24);
    let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(|_| SealError::Open)?;
    let nonce = XNonce::try_from(nonce_bytes).map_err(|_| SealError::Open)?;
    cipher.decrypt(&nonce, Payload { msg: ct, aad: context.as_bytes() }).map_err(|_| SealError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = [7u8; 32];
        let sealed = seal(&key, "user:1:totp", b"secret").unwrap_or_default();
        assert_eq!(open(&key, "user:1:totp", &sealed).ok(), Some(b"secret".to_vec()));
        assert!(open(&key, "user:2:totp", &sealed).is_err(), "wrong context");
        assert!(open(&[8u8; 32], "user:1:totp", &sealed).is_err(), "wrong key");
        let mut flipped = sealed.into_bytes();
        flipped[30] ^= 1;
        assert!(open(&key, "user:1:totp", &String::from_utf8_lossy(&flipped)).is_err(), "tampered");
        assert_ne!(seal(&key, "c", b"x").ok(), seal(&key, "c", b"x").ok(), "nonces differ");
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
