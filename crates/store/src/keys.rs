//! What the database knows of the installation's keys: their check values
//! ([`marac_domain::keys`]), and samples of what the encryption key sealed, by which a database
//! set up before check values existed tells whether a key is its own.

pub use marac_domain::keys::{KeyCheck, KeyPurpose};

/// A value sealed under the encryption key, with what it was sealed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedSample {
    /// A person's details.
    Person {
        /// The sealed text.
        sealed: String,
    },
    /// A user's authenticator secret.
    TotpSecret {
        /// Whose.
        user_id: i64,
        /// The sealed text.
        sealed: String,
    },
}
