//! What makes an acceptable password (ASVS 5.0 6.2): length, not a common or context word.

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted; long enough for pass-phrases, short enough to bound hashing work.
pub const MAX_LENGTH: usize = 256;

/// Passwords refused however long they are, because they are the first an attacker tries.
const COMMON: &[&str] = &[
    "password1234",
    "passwordpassword",
    "123456789012",
    "qwertyuiopas",
    "letmeinletmein",
    "welcome12345",
    "iloveyou1234",
    "administrator",
    "changemechangeme",
    "password123!",
    "qwerty123456",
    "111111111111",
    "000000000000",
    "abc123abc123",
    "trustno1trustno1",
];

/// Words of this service that make a password guessable when it is mostly made of them.
const CONTEXT_WORDS: &[&str] = &["marac", "safelives", "dash", "idva", "police", "password"];

/// Checks a new password. Composition rules are deliberately absent: length and a deny-list
/// do more and annoy less.
///
/// # Errors
/// A message for the person choosing the password.
pub fn check(password: &str, email: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(format!("Password must be {MIN_LENGTH} characters or more"));
    }
    if len > MAX_LENGTH {
        return Err(format!("Password must be {MAX_LENGTH} characters or fewer"));
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Err("Password is too common; choose a longer phrase only you would know".into());
    }
    let mut rest = lower.clone();
    for word in CONTEXT_WORDS {
        rest = rest.replace(word, "");
    }
    if let Some(local) = email.split('@').next().filter(|l| l.len() >= 3) {
        rest = rest.replace(&local.to_lowercase(), "");
    }
    if rest.chars().filter(|c| c.is_alphanumeric()).count() < 6 {
        return Err("Password must not be mostly your email address or the name of this service".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_unusual_passwords_pass() {
        assert!(check("correct horse battery staple", "kim@x.org").is_ok());
        assert!(check("ünïcödé-pässphrase", "kim@x.org").is_ok());
    }

    #[test]
    fn short_common_and_context_passwords_fail() {
        assert!(check("short", "kim@x.org").is_err());
        assert!(check("Password1234", "kim@x.org").is_err());
        assert!(check("marac-marac-2026", "kim@x.org").is_err());
        assert!(check("kimberley.lee1", "kimberley.lee@x.org").is_err());
        assert!(check(&"x".repeat(300), "kim@x.org").is_err());
    }
}
