//! The installation's keys as the database knows them.
//!
//! A key is never stored in the database, but a check value of it is: an HMAC of a fixed label
//! under the key. A server given the wrong key (a database restored without its keys, a second
//! server started without the shared `MARAC_*_KEY` values) finds that its check values differ and
//! refuses to start, instead of making new keys and sealing case data that no other server can
//! open. Each key has an id, so that several versions of a key can be recorded once keys are
//! rotated; values sealed before ids existed were sealed under [`FIRST_KEY_ID`].

use crate::coded_enum;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// The id of the first key of each purpose, and of every value sealed without a key-id prefix.
pub const FIRST_KEY_ID: u32 = 1;

coded_enum! {
    /// What a key is for; listed in the order keys are checked and reported.
    #[derive(PartialOrd, Ord)]
    pub enum KeyPurpose {
        /// Seals case data and second-factor secrets; keys the person index.
        Encryption = ("encryption", "Encryption key"),
        /// Chains the audit trail.
        Audit = ("audit", "Audit key"),
        /// Signs CSRF tokens.
        Session = ("session", "Session key"),
    }
}

impl KeyPurpose {
    /// The key's file in the data directory's `keys/`.
    #[must_use]
    pub const fn file_name(self) -> &'static str {
        match self {
            KeyPurpose::Session => "session.key",
            KeyPurpose::Encryption => "encryption.key",
            KeyPurpose::Audit => "audit.key",
        }
    }

    /// The environment variable that gives the key instead of the file.
    #[must_use]
    pub const fn env_var(self) -> &'static str {
        match self {
            KeyPurpose::Session => "MARAC_SESSION_KEY",
            KeyPurpose::Encryption => "MARAC_ENCRYPTION_KEY",
            KeyPurpose::Audit => "MARAC_AUDIT_KEY",
        }
    }
}

impl fmt::Display for KeyPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} key", self.code())
    }
}

/// A key's check value as the database records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCheck {
    /// What the key is for.
    pub purpose: KeyPurpose,
    /// Which version of the key.
    pub key_id: u32,
    /// [`check_value`] of the key.
    pub check_value: String,
}

/// A key this process holds.
#[derive(Clone, Copy)]
pub struct HeldKey<'a> {
    /// What it is for.
    pub purpose: KeyPurpose,
    /// Which version it is.
    pub key_id: u32,
    /// The key.
    pub key: &'a [u8; 32],
}

impl fmt::Debug for HeldKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HeldKey {{ {}, id {} }}", self.purpose.code(), self.key_id)
    }
}

impl HeldKey<'_> {
    /// The check value the database records for this key.
    #[must_use]
    pub fn check(&self) -> KeyCheck {
        KeyCheck { purpose: self.purpose, key_id: self.key_id, check_value: check_value(self.purpose, self.key) }
    }
}

/// HMAC-SHA256 of a fixed label naming the purpose, under the key, in hex. It says whether a key
/// is the right one and nothing about the key itself.
#[must_use]
pub fn check_value(purpose: KeyPurpose, key: &[u8; 32]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        // HMAC takes keys of any length; this branch is never taken.
        return String::new();
    };
    mac.update(b"marac key check v1: ");
    mac.update(purpose.code().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Why this process may not open the database with the keys it holds. Each says which key and
/// what to do, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    /// No key was given for a purpose this command needs.
    #[error(
        "{purpose} was not given: restore keys/{file} or set {env} \
         (a key is made only for an empty database, by a command that writes)",
        file = purpose.file_name(), env = purpose.env_var()
    )]
    Missing {
        /// Which key.
        purpose: KeyPurpose,
    },
    /// The key given is not the one the database was set up with.
    #[error(
        "{purpose} does not match this database: restore keys/{file} or set {env}",
        file = purpose.file_name(), env = purpose.env_var()
    )]
    Mismatch {
        /// Which key.
        purpose: KeyPurpose,
    },
    /// The database's current version of a key is not one this process holds.
    #[error(
        "this database uses version {key_id} of {purpose}, which was not given: restore keys/{file} or set {env}",
        file = purpose.file_name(), env = purpose.env_var()
    )]
    NotHeld {
        /// Which key.
        purpose: KeyPurpose,
        /// The version the database uses.
        key_id: u32,
    },
}

/// Compares the keys held with the check values the database records, for the purposes this
/// command needs. A purpose with no check value recorded is left to the caller, which decides
/// from the data itself (see the command line's key check).
///
/// # Errors
/// The first key that is missing, wrong, or older than the database's current one.
pub fn compare(held: &[HeldKey<'_>], recorded: &[KeyCheck], needed: &[KeyPurpose]) -> Result<(), KeyProblem> {
    for &purpose in KeyPurpose::ALL.iter().filter(|p| needed.contains(p)) {
        let checks: Vec<&KeyCheck> = recorded.iter().filter(|c| c.purpose == purpose).collect();
        let Some(current) = checks.iter().map(|c| c.key_id).max() else {
            continue;
        };
        let Some(key) = held.iter().find(|h| h.purpose == purpose) else {
            return Err(KeyProblem::Missing { purpose });
        };
        match checks.iter().find(|c| c.key_id == key.key_id) {
            Some(c) if c.check_value == check_value(purpose, key.key) => {}
            _ => return Err(KeyProblem::Mismatch { purpose }),
        }
        if key.key_id != current {
            return Err(KeyProblem::NotHeld { purpose, key_id: current });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [1; 32];
    const B: [u8; 32] = [2; 32];

    fn held(purpose: KeyPurpose, key: &[u8; 32]) -> HeldKey<'_> {
        HeldKey { purpose, key_id: FIRST_KEY_ID, key }
    }

    #[test]
    fn check_values_depend_on_the_key_and_purpose_and_do_not_hold_the_key() {
        let v = check_value(KeyPurpose::Encryption, &A);
        assert_eq!(v.len(), 64);
        assert_eq!(v, check_value(KeyPurpose::Encryption, &A), "stable");
        assert_ne!(v, check_value(KeyPurpose::Encryption, &B));
        assert_ne!(v, check_value(KeyPurpose::Audit, &A));
        assert!(!v.contains(&hex::encode(A)));
    }

    #[test]
    fn the_right_keys_pass_and_a_wrong_or_missing_one_is_named() {
        let recorded: Vec<KeyCheck> = KeyPurpose::ALL.iter().map(|&p| held(p, &A).check()).collect();
        let right: Vec<HeldKey<'_>> = KeyPurpose::ALL.iter().map(|&p| held(p, &A)).collect();
        assert_eq!(compare(&right, &recorded, KeyPurpose::ALL), Ok(()));

        let wrong = [held(KeyPurpose::Encryption, &B), held(KeyPurpose::Audit, &A), held(KeyPurpose::Session, &A)];
        let problem = compare(&wrong, &recorded, KeyPurpose::ALL);
        assert_eq!(problem, Err(KeyProblem::Mismatch { purpose: KeyPurpose::Encryption }));
        assert_eq!(
            problem.err().map(|p| p.to_string()).unwrap_or_default(),
            "the encryption key does not match this database: restore keys/encryption.key or set MARAC_ENCRYPTION_KEY"
        );

        let missing = [held(KeyPurpose::Encryption, &A), held(KeyPurpose::Session, &A)];
        assert_eq!(
            compare(&missing, &recorded, KeyPurpose::ALL),
            Err(KeyProblem::Missing { purpose: KeyPurpose::Audit })
        );
        // A command that needs only the audit key is not stopped by the others.
        assert_eq!(compare(&[held(KeyPurpose::Audit, &A)], &recorded, &[KeyPurpose::Audit]), Ok(()));
    }

    #[test]
    fn a_database_on_a_newer_key_version_names_it() {
        let mut recorded = vec![held(KeyPurpose::Encryption, &A).check()];
        recorded.push(KeyCheck {
            purpose: KeyPurpose::Encryption,
            key_id: 2,
            check_value: check_value(KeyPurpose::Encryption, &B),
        });
        assert_eq!(
            compare(&[held(KeyPurpose::Encryption, &A)], &recorded, &[KeyPurpose::Encryption]),
            Err(KeyProblem::NotHeld { purpose: KeyPurpose::Encryption, key_id: 2 })
        );
        let second = HeldKey { purpose: KeyPurpose::Encryption, key_id: 2, key: &B };
        assert_eq!(compare(&[second], &recorded, &[KeyPurpose::Encryption]), Ok(()));
    }

    #[test]
    fn nothing_recorded_is_left_to_the_caller() {
        assert_eq!(compare(&[], &[], KeyPurpose::ALL), Ok(()));
    }

    #[test]
    fn codes_round_trip() {
        for &p in KeyPurpose::ALL {
            assert_eq!(KeyPurpose::from_code(p.code()), Some(p));
        }
        assert_eq!(KeyPurpose::from_code("other"), None);
    }
}
