//! What the database knows of the installation's keys: their check values
//! ([`marac_domain::keys`]), and samples of what the encryption key sealed, by which a database
//! set up before check values existed tells whether a key is its own.
use crate::StoreResult;
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;

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

/// The check values of the installation's keys, and samples to test them against.
#[async_trait]
pub trait KeyStore {
    /// The check values recorded for the installation's keys; none before they are recorded.
    async fn key_checks(&self) -> StoreResult<Vec<KeyCheck>>;
    /// Records check values (each once per purpose and key id); returns how many were new.
    async fn record_key_checks(&self, checks: &[KeyCheck], audit: NewAuditEvent) -> StoreResult<u64>;
    /// Whether anything has been written yet (an audit event or a user).
    async fn holds_data(&self) -> StoreResult<bool>;
    /// Up to `limit` of the newest people's and of authenticator secrets' sealed values.
    async fn sealed_samples(&self, limit: i64) -> StoreResult<Vec<SealedSample>>;
}
