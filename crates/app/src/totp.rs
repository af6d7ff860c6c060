//! The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock
//! drift either way) and one-use recovery codes.
//!
//! Each accepted code's time step is recorded (`Store::use_totp_step`), so a code works once
//! even when two servers see it at the same moment.

use crate::crypto;
use qrcode::QrCode;
use qrcode::render::svg;
use totp_rs::{Builder, Secret, Totp};

/// Length of a new secret in bytes (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

fn totp(secret: &[u8]) -> Option<Totp> {
    Builder::new().with_secret(secret.to_vec()).build().ok()
}

/// A fresh random secret.
///
/// # Errors
/// When the operating system has no randomness.
pub fn new_secret() -> Result<Vec<u8>, getrandom::Error> {
    Ok(crypto::random_bytes::<SECRET_BYTES>()?.to_vec())
}

/// The secret as people type it into an authenticator app, in groups of four.
#[must_use]
pub fn secret_for_display(secret: &[u8]) -> String {
    let b32 = Secret::from(secret.to_vec()).to_base32();
    b32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// Checks a code typed at `unix_time`; returns the time step it belongs to.
#[must_use]
pub fn check(secret: &[u8], code: &str, unix_time: i64) -> Option<i64> {
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    if code.len() != 6 {
        return None;
    }
    let t = totp(secret)?;
    let time = u64::try_from(unix_time).ok()?;
    t.check(&code, time).and_then(|step| i64::try_from(step).ok())
}

/// The code for `unix_time` (for tests and the demo helper).
#[must_use]
pub fn code_at(secret: &[u8], unix_time: i64) -> String {
    match (totp(secret), u64::try_from(unix_time)) {
        (Some(t), Ok(time)) => t.generate(time).to_string(),
        _ => String::new(),
    }
}

/// The time step of `unix_time`.
#[must_use]
pub fn step_of(unix_time: i64) -> i64 {
    unix_time.div_euclid(30)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `otpauth://` address an authenticator app reads from the QR code.
#[must_use]
pub fn otpauth_url(issuer: &str, account: &str, secret: &[u8]) -> String {
    let b32 = Secret::from(secret.to_vec()).to_base32();
    format!(
        "otpauth://totp/{}:{}?secret={b32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        percent_encode(issuer),
        percent_encode(account),
        percent_encode(issuer)
    )
}

/// The QR code of `url` as an inline SVG element (no script, no style, no external request).
#[must_use]
pub fn qr_svg(url: &str) -> String {
    let Ok(code) = QrCode::new(url.as_bytes()) else { return String::new() };
    let image = code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    let start = image.find("<svg").unwrap_or(0);
    image[start..].replacen("<svg ", "<svg role=\"img\" aria-label=\"QR code to scan with your authenticator app\" ", 1)
}

/// New recovery codes: 16 characters (80 bits) each, shown as four groups of four.
///
/// # Errors
/// When the operating system has no randomness.
pub fn new_recovery_codes() -> Result<Vec<String>, getrandom::Error> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes = crypto::random_bytes::<16>()?;
            let chars: Vec<char> = bytes.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect();
            Ok(chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-"))
        })
        .collect()
}

/// What is stored for a recovery code: a keyed hash, so a copy of the database alone does not
/// allow the codes to be guessed offline.
#[must_use]
pub fn recovery_code_hash(key: &[u8], user_id: i64, code: &str) -> String {
    let normalised: String = code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    crypto::hmac(key, &[b"recovery", user_id.to_string().as_bytes(), normalised.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 seed; the last six digits of the eight-digit vectors.
    #[test]
    fn rfc_6238_vectors() {
        let seed = b"12345678901234567890";
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(seed, t), code, "at {t}");
            assert_eq!(check(seed, code, t), Some(step_of(t)));
        }
    }

    #[test]
    fn one_step_of_drift_and_no_more() {
        let seed = b"12345678901234567890";
        let t = 1_234_567_890;
        let code = code_at(seed, t);
        assert!(check(seed, &code, t + 30).is_some());
        assert!(check(seed, &code, t + 90).is_none());
        assert!(check(seed, "12345", t).is_none());
        assert_eq!(check(seed, &format!("{} {}", &code[..3], &code[3..]), t), Some(step_of(t)), "spaces allowed");
    }

    #[test]
    fn otpauth_and_qr() {
        let url = otpauth_url("Marac case management", "kim@x.org", b"12345678901234567890");
        assert!(url.starts_with(
            "otpauth://totp/Marac%20case%20management:kim%40x.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"
        ));
        let svg = qr_svg(&url);
        assert!(svg.starts_with("<svg role=\"img\""));
        assert!(!svg.contains("<script") && !svg.contains("style="));
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_alike_however_typed() {
        let codes = new_recovery_codes().unwrap_or_default();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes[0].len(), 19);
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), RECOVERY_CODES);
        let k = [1u8; 32];
        assert_eq!(
            recovery_code_hash(&k, 1, &codes[0]),
            recovery_code_hash(&k, 1, &codes[0].to_uppercase().replace('-', " "))
        );
        assert_ne!(recovery_code_hash(&k, 1, &codes[0]), recovery_code_hash(&k, 2, &codes[0]));
    }
}
