//! The installation's keys: taken from `MARAC_SESSION_KEY`, `MARAC_ENCRYPTION_KEY` and
//! `MARAC_AUDIT_KEY` (64 hex characters each) when set, which is how several servers share
//! them; otherwise read from `<data dir>/keys/`, readable by the owner only.
//!
//! Reading never creates a key. A key is made only when the database is empty and the command
//! writes ([`create_missing`]); `commands::open` decides that after comparing what is held
//! with what the database records.

use crate::settings::SettingError;
use marac_domain::keys::{FIRST_KEY_ID, HeldKey, KeyPurpose};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The keys this process was given, by purpose.
#[derive(Default)]
pub struct HeldKeys {
    keys: BTreeMap<KeyPurpose, [u8; 32]>,
}

impl HeldKeys {
    /// The key for `purpose`, if given.
    #[must_use]
    pub fn get(&self, purpose: KeyPurpose) -> Option<&[u8; 32]> {
        self.keys.get(&purpose)
    }

    /// The keys as the key check sees them.
    #[must_use]
    pub fn held(&self) -> Vec<HeldKey<'_>> {
        self.keys.iter().map(|(&purpose, key)| HeldKey { purpose, key_id: FIRST_KEY_ID, key }).collect()
    }

    /// The session and encryption keys, once the key check has made sure they are there.
    ///
    /// # Errors
    /// The first one missing.
    pub fn secrets(&self) -> Result<Secrets, marac_domain::keys::KeyProblem> {
        let get = |purpose| self.get(purpose).copied().ok_or(marac_domain::keys::KeyProblem::Missing { purpose });
        Ok(Secrets { session_key: get(KeyPurpose::Session)?, encryption_key: get(KeyPurpose::Encryption)? })
    }
}

impl std::fmt::Debug for HeldKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.keys()).finish()
    }
}

/// The keys the application uses beside the audit key, which the store holds.
pub struct Secrets {
    /// Signs CSRF tokens.
    pub session_key: [u8; 32],
    /// Seals case data and second-factor secrets.
    pub encryption_key: [u8; 32],
}

impl Secrets {
    /// The keys the web layer uses.
    #[must_use]
    pub fn web_keys(&self) -> marac_app::Keys {
        marac_app::Keys {
            session_key: self.session_key,
            encryption: marac_app::crypto::SealingKey { id: FIRST_KEY_ID, key: self.encryption_key },
        }
    }
}

fn decode(name: &str, hex_text: &str) -> Result<[u8; 32], SettingError> {
    let bytes = hex::decode(hex_text.trim())
        .map_err(|_| SettingError(format!("{name}: not hexadecimal (expected 64 hex characters)")))?;
    bytes.try_into().map_err(|_| SettingError(format!("{name}: wrong length (expected 64 hex characters, 32 bytes)")))
}

/// Reads the keys given in the environment or in `<data dir>/keys/`, creating nothing.
///
/// # Errors
/// When a key is malformed or its file cannot be read.
pub fn read(data_dir: &Path) -> Result<HeldKeys, SettingError> {
    let dir = data_dir.join("keys");
    let mut held = HeldKeys::default();
    for &purpose in KeyPurpose::ALL {
        if let Ok(v) = std::env::var(purpose.env_var()) {
            held.keys.insert(purpose, decode(purpose.env_var(), &v)?);
            continue;
        }
        let path = dir.join(purpose.file_name());
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                held.keys.insert(purpose, decode(&path.display().to_string(), &text)?);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SettingError(format!("{}: cannot read: {e}", path.display()))),
        }
    }
    Ok(held)
}

/// Makes each key not given, in `<data dir>/keys/` with mode 0600: only for an empty database.
///
/// # Errors
/// When there is no randomness or a file cannot be written.
pub fn create_missing(data_dir: &Path, held: &mut HeldKeys) -> Result<Vec<KeyPurpose>, SettingError> {
    let dir = data_dir.join("keys");
    let mut made = Vec::new();
    for &purpose in KeyPurpose::ALL {
        if held.keys.contains_key(&purpose) {
            continue;
        }
        std::fs::create_dir_all(&dir).map_err(|e| SettingError(format!("{}: cannot create: {e}", dir.display())))?;
        let path = dir.join(purpose.file_name());
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| SettingError(format!("no randomness to make {}: {e}", purpose.file_name())))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&path).map_err(|e| SettingError(format!("{}: cannot create: {e}", path.display())))?;
        writeln!(f, "{}", hex::encode(key))
            .map_err(|e| SettingError(format!("{}: cannot write: {e}", path.display())))?;
        f.sync_all().map_err(|e| SettingError(format!("{}: cannot write: {e}", path.display())))?;
        held.keys.insert(purpose, key);
        made.push(purpose);
    }
    Ok(made)
}
