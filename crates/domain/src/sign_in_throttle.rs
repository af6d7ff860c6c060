//! How many failed sign-ins are allowed before an account or address is locked for a while.
//!
//! Counting per account *and* per address stops both guessing one account from many places
//! and guessing many accounts from one place. The lock is timed, not permanent, so nobody can
//! lock an Idva out for good by typing wrong passwords on purpose. The address's limit is ten
//! times the account's: a police station or a hospital signs in from one address, and one
//! person's typos must not lock out the whole office.

use time::Duration;

/// Failed attempts allowed within [`WINDOW`] per account.
pub const MAX_FAILURES: u32 = 10;
/// Failed attempts allowed within [`WINDOW`] from one address, whatever the accounts.
pub const MAX_FAILURES_PER_ADDRESS: u32 = 100;
/// The window failures are counted over.
pub const WINDOW: Duration = Duration::minutes(5);

/// Whether another attempt may be made, given the failures in the window.
#[must_use]
pub fn is_locked(failures_for_account: u32, failures_for_address: u32) -> bool {
    failures_for_account >= MAX_FAILURES || failures_for_address >= MAX_FAILURES_PER_ADDRESS
}

/// Seconds a refused visitor is told to wait (`Retry-After`): the window, so a failure that
/// counted has left it by then.
#[must_use]
pub fn retry_after_seconds() -> i64 {
    WINDOW.whole_seconds()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_attempt_is_refused() {
        assert!(!is_locked(9, 0));
        assert!(is_locked(10, 0));
        assert!(!is_locked(0, 99), "a shared office keeps signing in");
        assert!(is_locked(0, 100));
    }
}
