//! Flags a Marac agrees for a case (a police safety marker on the address, a flag on the
//! health or housing record): who places them, how long they run, and when the Marac looks
//! at them again. Each runs for the Marac's set time unless ended early.

use crate::coded_enum;
use crate::referral_rules::add_months;
use time::{Date, Duration};

coded_enum! {
    /// What kind of flag an agency places.
    pub enum FlagKind {
        /// Police: a safety marker on the victim's address so calls get an urgent response.
        AddressSafetyMarker = ("address_safety_marker", "Safety marker on the address"),
        /// Police: a marker on the person causing harm.
        PerpetratorMarker = ("perpetrator_marker", "Marker on the person causing harm"),
        /// Health: a flag on the GP or hospital record (kept out of patient online access).
        HealthRecord = ("health_record", "Flag on the health record"),
        /// Housing: a flag on the tenancy or housing file.
        HousingRecord = ("housing_record", "Flag on the housing record"),
        /// Children's social care or education: a flag on a child's record.
        ChildRecord = ("child_record", "Flag on a child's record"),
        /// Any other agreed flag.
        Other = ("other", "Other flag"),
    }
}

coded_enum! {
    /// Where a flag is in its life on a given day.
    pub enum FlagState {
        /// Running, and not near its end.
        Active = ("active", "Active"),
        /// Running, and ends within [`ENDING_SOON_DAYS`].
        EndingSoon = ("ending_soon", "Ends soon"),
        /// Its time has run out; the owning agency should take it off its system.
        Expired = ("expired", "Expired"),
        /// Ended early by the Marac.
        Ended = ("ended", "Ended early"),
    }
}

/// A flag is shown as ending soon, and put before the Marac, this many days before it runs out.
pub const ENDING_SOON_DAYS: i64 = 31;

/// The day a flag set on `from` runs out when the Marac's flags run for `months`.
#[must_use]
pub fn expiry(from: Date, months: u32) -> Date {
    add_months(from, months)
}

/// A flag's state on `today`: ended early if it was, else by its expiry.
#[must_use]
pub fn state(expires_on: Date, ended: bool, today: Date) -> FlagState {
    if ended {
        FlagState::Ended
    } else if expires_on <= today {
        FlagState::Expired
    } else if expires_on - today <= Duration::days(ENDING_SOON_DAYS) {
        FlagState::EndingSoon
    } else {
        FlagState::Active
    }
}

/// Whether a meeting on `meeting_on` should review a running flag: it runs out within a month
/// after the meeting or ran out in the month before, so the Marac can agree whether the agency
/// renews it or takes it off.
#[must_use]
pub fn review_due(expires_on: Date, ended: bool, meeting_on: Date) -> bool {
    !ended
        && expires_on > meeting_on - Duration::days(ENDING_SOON_DAYS)
        && expires_on <= meeting_on + Duration::days(ENDING_SOON_DAYS)
}

/// Checks a flag's expiry as typed: after the day it is set, and no more than three years on.
///
/// # Errors
/// What is wrong with the date, for the person who typed it.
pub fn check_expiry(expires_on: Date, set_on: Date) -> Result<(), &'static str> {
    if expires_on <= set_on {
        Err("The flag must run until a date after today")
    } else if expires_on > add_months(set_on, 36) {
        Err("A flag can run for at most 3 years; the Marac can renew it")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_flag_runs_for_the_marac_s_months() {
        assert_eq!(expiry(date!(2026 - 11 - 23), 12), date!(2027 - 11 - 23));
        // A flag set on the last day of a long month ends on the last day of the short one.
        assert_eq!(expiry(date!(2026 - 1 - 31), 1), date!(2026 - 2 - 28));
    }

    #[test]
    fn state_follows_the_calendar_and_ending_early_wins() {
        let ends = date!(2027 - 1 - 31);
        assert_eq!(state(ends, false, date!(2026 - 11 - 23)), FlagState::Active);
        assert_eq!(state(ends, false, date!(2026 - 12 - 31)), FlagState::EndingSoon);
        assert_eq!(state(ends, false, date!(2027 - 1 - 30)), FlagState::EndingSoon);
        assert_eq!(state(ends, false, ends), FlagState::Expired);
        assert_eq!(state(ends, true, date!(2026 - 11 - 23)), FlagState::Ended);
    }

    #[test]
    fn the_meeting_either_side_of_the_expiry_reviews_it() {
        let ends = date!(2027 - 1 - 31);
        assert!(!review_due(ends, false, date!(2026 - 12 - 30)));
        assert!(review_due(ends, false, date!(2026 - 12 - 31)));
        assert!(review_due(ends, false, date!(2027 - 3 - 2)));
        assert!(!review_due(ends, false, date!(2027 - 3 - 3)));
        assert!(!review_due(ends, true, date!(2027 - 1 - 31)));
    }

    #[test]
    fn typed_expiries_are_checked() {
        let today = date!(2026 - 11 - 23);
        assert!(check_expiry(today, today).is_err());
        assert!(check_expiry(date!(2027 - 11 - 23), today).is_ok());
        assert!(check_expiry(date!(2029 - 11 - 24), today).is_err());
    }
}
