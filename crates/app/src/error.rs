//! What can go wrong in a workflow, for the web crate to map to a page or a problem+json.

use marac_store::StoreError;

/// A workflow that could not be done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such record, or one the caller may not know exists.
    #[error("not found")]
    NotFound,
    /// The record changed in the meantime (a list already published, a meeting held).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A stored value was sealed under a version of the encryption key this server was not
    /// given: a configuration fault of this server, not damage, and not the user's doing.
    #[error("sealed under version {0} of the encryption key, which this server was not given")]
    KeyNotHeld(u32),
    /// The database refused or failed; the store's error says whether it is worth retrying.
    #[error(transparent)]
    Store(StoreError),
    /// Anything else: a bug or damaged data.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A workflow's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            other => Error::Store(other),
        }
    }
}

impl From<crate::crypto::SealError> for Error {
    fn from(e: crate::crypto::SealError) -> Self {
        match e {
            crate::crypto::SealError::UnknownKey(id) => Error::KeyNotHeld(id),
            other => Error::Internal(other.into()),
        }
    }
}
