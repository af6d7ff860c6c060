//! How many failed sign-ins are allowed before an account or address is locked for a while.
//!
//! Counting per account *and* per address stops both guessing one account from many places
//! and guessing many accounts from one place. The lock is timed, not permanent, so nobody can
//! lock an Idva out for good by typing wrong passwords on purpose.

use time::Duration;

/// Failed attempts allowed within [`WINDOW`] per account and per address.
pub const MAX_FAILURES: u32 = 10;
/// The window failures are counted over.
pub const WINDOW: Duration = Duration::minutes(5);

/// Whether another attempt may be made, given the failures in the window.
#[must_use]
pub fn is_locked(failures_for_account: u32, failures_for_address: u32) -> bool {
    failures_for_account >= MAX_FAILURES || failures_for_address >= MAX_FAILURES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_attempt_is_refused() {
        assert!(!is_locked(9, 0));
        assert!(is_locked(10, 0));
        assert!(is_locked(0, 10));
    }
}
