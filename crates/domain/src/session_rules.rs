//! When a signed-in session ends by itself.

use crate::coded_enum;

use time::{Duration, OffsetDateTime};

/// A session unused for this long has ended (ASVS 4.0.3 L3: 15 minutes).
pub const IDLE_TIMEOUT: Duration = Duration::minutes(15);
/// No session lasts longer than this, however busy (ASVS 4.0.3 L3: 12 hours).
pub const ABSOLUTE_TIMEOUT: Duration = Duration::hours(12);
/// A half-finished sign-in (password given, second factor not yet) lasts this long.
pub const PENDING_TIMEOUT: Duration = Duration::minutes(5);
/// Last-seen times are written at most this often, so reading pages does not mean a write
/// per request; the idle limit is therefore exact to within this.
pub const TOUCH_INTERVAL: Duration = Duration::seconds(30);

/// Why a session is no longer live, or `None` if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Unused for longer than the idle limit.
    Idle,
    /// Older than the absolute limit.
    Absolute,
}

/// Checks a session's times against the limits at `now`.
#[must_use]
pub fn expiry(
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    fully_signed_in: bool,
    now: OffsetDateTime,
) -> Option<Expiry> {
    let idle_limit = if fully_signed_in { IDLE_TIMEOUT } else { PENDING_TIMEOUT };
    if now - created_at >= ABSOLUTE_TIMEOUT {
        Some(Expiry::Absolute)
    } else if now - last_seen_at >= idle_limit {
        Some(Expiry::Idle)
    } else {
        None
    }
}

coded_enum! {
    /// How far a session has got through signing in.
    pub enum SessionStage {
        /// Password accepted; the second factor is still to come.
        SecondFactor = ("second_factor", "Second factor to give"),
        /// Password accepted; a second factor must be set up before going further.
        Enrol = ("enrol", "Second factor to set up"),
        /// Fully signed in.
        Full = ("full", "Signed in"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn idle_and_absolute_limits() {
        let t0 = datetime!(2026-11-23 09:00 UTC);
        assert_eq!(expiry(t0, t0, true, t0 + Duration::minutes(14)), None);
        assert_eq!(expiry(t0, t0, true, t0 + Duration::minutes(15)), Some(Expiry::Idle));
        let busy = t0 + Duration::hours(12);
        assert_eq!(expiry(t0, busy - Duration::minutes(1), true, busy), Some(Expiry::Absolute));
        assert_eq!(expiry(t0, t0, false, t0 + Duration::minutes(5)), Some(Expiry::Idle));
    }
}
