//! The installation's keys: taken from `MARAC_SESSION_KEY`, `MARAC_ENCRYPTION_KEY` and
//! `MARAC_AUDIT_KEY` (64 hex characters each) when set, which is how several servers share
//! them; otherwise generated on first run into `<data dir>/keys/`, readable by the owner only.

use crate::settings::SettingError;
use std::io::Write;
use std::path::Path;

/// The three keys.
pub struct Secrets {
    /// Signs CSRF tokens.
    pub session_key: [u8; 32],
    /// Encrypts second-factor secrets.
    pub encryption_key: [u8; 32],
    /// Chains the audit trail.
    pub audit_key: [u8; 32],
}

fn decode(name: &str, hex_text: &str) -> Result<[u8; 32], SettingError> {
    let bytes = hex::decode(hex_text.trim())
        .map_err(|_| SettingError(format!("{name}: not hexadecimal (expected 64 hex characters)")))?;
    bytes.try_into().map_err(|_| SettingError(format!("{name}: wrong length (expected 64 hex characters, 32 bytes)")))
}

fn load_or_create(dir: &Path, file: &str, env: &str) -> Result<[u8; 32], SettingError> {
    if let Ok(v) = std::env::var(env) {
        return decode(env, &v);
    }
    let path = dir.join(file);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| SettingError(format!("{}: cannot read: {e}", path.display())))?;
        return decode(&path.display().to_string(), &text);
    }
    std::fs::create_dir_all(dir).map_err(|e| SettingError(format!("{}: cannot create: {e}", dir.display())))?;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| SettingError(format!("no randomness to make {file}: {e}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&path).map_err(|e| SettingError(format!("{}: cannot create: {e}", path.display())))?;
    writeln!(f, "{}", hex::encode(key)).map_err(|e| SettingError(format!("{}: cannot write: {e}", path.display())))?;
    Ok(key)
}

/// Loads the keys, making any that are missing.
///
/// # Errors
/// When a key is malformed or cannot be stored.
pub fn load(data_dir: &Path) -> Result<Secrets, SettingError> {
    let dir = data_dir.join("keys");
    Ok(Secrets {
        session_key: load_or_create(&dir, "session.key", "MARAC_SESSION_KEY")?,
        encryption_key: load_or_create(&dir, "encryption.key", "MARAC_ENCRYPTION_KEY")?,
        audit_key: load_or_create(&dir, "audit.key", "MARAC_AUDIT_KEY")?,
    })
}
