//! The application layer: what the product does, between the pages and the database.
//!
//! The web crate parses a request, asks the policy, calls one function here and renders what
//! it returns; the command line's demo seeds through the same functions. Here live casework
//! (sealing what is typed, filing and matching people, applying the referral rules), the
//! workflows that write a change with its audit event and notices, the notices themselves, the
//! imports, cross-referencing and the background worker's jobs. Nothing here knows HTTP or
//! HTML: failures are [`Error`]s, which the web crate maps to pages and problem+json in one
//! place.
//!
//! The storage types the web crate needs are re-exported as [`store`], so the web crate
//! depends on this crate and not on the store.

pub mod audit;
pub mod casework;
pub mod chronology;
pub mod clock;
pub mod cross_reference;
pub mod crypto;
pub mod documents;
pub mod error;
pub mod import;
pub mod mailer;
pub mod notify;
pub mod password;
pub mod payloads;
pub mod search;
pub mod totp;
pub mod worker;
pub mod workflows;

pub use error::{Error, Result};
/// The storage layer's records, filters and traits, for the web crate's handlers.
pub use marac_store as store;

use clock::Clock;
use marac_domain::policy::Actor;
use marac_store::{Store, User};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Secrets the application uses; generated on first run or taken from the environment.
#[derive(Clone)]
pub struct Keys {
    /// Signs CSRF tokens.
    pub session_key: [u8; 32],
    /// Seals case data and second-factor secrets at rest, and keys the person index.
    pub encryption: crypto::SealingKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys { .. }")
    }
}

/// The application: the database, the keys, the time and what the workflows are configured
/// with. Cheap to clone; every clone shares the same parts.
#[derive(Clone)]
pub struct App {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Secrets.
    pub keys: Arc<Keys>,
    /// The time; injected so tests can move it.
    pub clock: Arc<dyn Clock>,
    /// Days an agency's uploaded list is kept before its rows are deleted.
    pub list_retention_days: u32,
    /// Set once the worker finds no one left filed under older blocking keys; until then
    /// matching searches the older keys too ([`casework::find_matches`]).
    people_all_filed: Arc<AtomicBool>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("list_retention_days", &self.list_retention_days).finish_non_exhaustive()
    }
}

impl App {
    /// Puts the parts together.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, keys: Keys, clock: Arc<dyn Clock>, list_retention_days: u32) -> Self {
        App { store, keys: Arc::new(keys), clock, list_retention_days, people_all_filed: Arc::default() }
    }

    /// Whether everyone is known to be filed under the current blocking keys.
    #[must_use]
    pub fn people_all_filed(&self) -> bool {
        self.people_all_filed.load(Ordering::Relaxed)
    }

    fn set_people_all_filed(&self) {
        self.people_all_filed.store(true, Ordering::Relaxed);
    }
}

/// How long an agency's list is kept unless the installation says otherwise: four weeks, time
/// to upload the next month's list.
pub const DEFAULT_LIST_RETENTION_DAYS: u32 = 28;

/// The policy's view of a user: the one place an [`Actor`] is made from a stored user.
#[must_use]
pub fn actor_of(user: &User) -> Actor {
    Actor { user_id: user.id, agency_id: user.agency_id, grants: user.grants.clone() }
}
