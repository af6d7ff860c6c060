//! When a person's confirmation of a Marac's information-sharing and confidentiality statement
//! still counts.
//!
//! To see any case content of a Marac a person must have confirmed its current statement: again
//! when the coordinator saves a new version, and every 12 months. The one exception, a
//! referrer reading a referral they wrote, is the policy's ([`crate::policy::Basis::OwnReferral`]).

use crate::policy::{Action, Actor, Basis};
use crate::role::Role;
use time::{Date, Month};

/// Where a person stands with one Marac's statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The Marac has no statement yet: its coordinators must set one before anyone else sees
    /// its cases.
    NoStatement,
    /// The current version, confirmed within the last 12 months.
    Confirmed,
    /// Never confirmed.
    Never,
    /// An earlier version was confirmed; the statement has changed since.
    NewVersion,
    /// The current version was confirmed more than 12 months ago.
    Expired,
}

impl Standing {
    /// Works out where a person stands: `current` is the Marac's current version, `confirmed`
    /// the highest version the person confirmed and the day they last did.
    #[must_use]
    pub fn of(current: Option<i64>, confirmed: Option<(i64, Date)>, today: Date) -> Self {
        let Some(current) = current else { return Standing::NoStatement };
        match confirmed {
            None => Standing::Never,
            Some((version, _)) if version < current => Standing::NewVersion,
            Some((_, on)) if expires(on) <= today => Standing::Expired,
            Some(_) => Standing::Confirmed,
        }
    }

    /// Whether case content may be shown.
    #[must_use]
    pub fn counts(self) -> bool {
        self == Standing::Confirmed
    }

    /// Whether a person standing here sees the Marac's cases: having confirmed, or, while the
    /// Marac has no statement yet, as one of its coordinators (who must set it).
    #[must_use]
    pub fn lets_see(self, coordinator: bool) -> bool {
        self.counts() || (self == Standing::NoStatement && coordinator)
    }

    /// Why the person is asked, in words for the page.
    #[must_use]
    pub fn reason(self) -> &'static str {
        match self {
            Standing::NoStatement => {
                "The Marac's coordinator has not set its confidentiality statement yet. Its cases can be seen once they have."
            }
            Standing::Confirmed => "You have confirmed the current statement.",
            Standing::Never => "Before you see any case of this Marac, confirm its confidentiality statement.",
            Standing::NewVersion => {
                "The statement has changed since you confirmed it. Read and confirm the new version."
            }
            Standing::Expired => "You confirmed the statement more than 12 months ago. Read and confirm it again.",
        }
    }
}

/// The Marac whose statement must be confirmed before `action`, allowed on `basis`, shows
/// case content; `None` for actions that show none, and for a referrer reading their own
/// referral (they wrote it). Someone reading a case their Marac held before it was transferred
/// works under their own Marac's statement.
#[must_use]
pub fn governing_marac(actor: &Actor, action: &Action<'_>, basis: Basis) -> Option<i64> {
    if basis == Basis::OwnReferral {
        return None;
    }
    match action {
        Action::ReadCase(access) | Action::WriteCase(access) => {
            if basis == Basis::HeldBefore {
                let own = |m: i64| Role::ALL.iter().any(|r| r.reads_cases() && actor.has_role_for(*r, m));
                access.held_before.iter().map(|h| h.marac_id).find(|m| own(*m))
            } else {
                Some(access.marac_id)
            }
        }
        Action::ReadReferral { marac_id, .. }
        | Action::TriageReferrals { marac_id }
        | Action::ReadMeetingCases { marac_id, .. }
        | Action::UpdateAction { marac_id, .. } => Some(*marac_id),
        _ => None,
    }
}

/// The first day a confirmation made on `on` no longer counts: the same day 12 months later
/// (the last day of the month when that day does not exist, as for 29 February).
#[must_use]
pub fn expires(on: Date) -> Date {
    let year = on.year() + 1;
    let month: Month = on.month();
    let day = on.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_confirmation_counts_for_the_current_version_for_twelve_months() {
        let today = date!(2026 - 12 - 02);
        assert_eq!(Standing::of(None, None, today), Standing::NoStatement);
        assert_eq!(Standing::of(Some(1), None, today), Standing::Never);
        assert_eq!(Standing::of(Some(2), Some((1, today)), today), Standing::NewVersion);
        assert_eq!(Standing::of(Some(2), Some((2, today)), today), Standing::Confirmed);
        assert_eq!(Standing::of(Some(2), Some((2, date!(2025 - 12 - 03))), today), Standing::Confirmed);
        assert_eq!(Standing::of(Some(2), Some((2, date!(2025 - 12 - 02))), today), Standing::Expired);
        assert!(Standing::Confirmed.counts());
        for s in [Standing::NoStatement, Standing::Never, Standing::NewVersion, Standing::Expired] {
            assert!(!s.counts());
        }
    }

    #[test]
    fn case_content_is_governed_by_its_marac_and_a_referrers_own_referral_by_none() {
        use crate::policy::{CaseAccess, Grant, HeldBefore};
        let rep =
            Actor { user_id: 1, agency_id: Some(1), grants: vec![Grant { role: Role::AgencyRep, marac_id: Some(7) }] };
        let mut case = CaseAccess { marac_id: 9, ..CaseAccess::default() };
        assert_eq!(governing_marac(&rep, &Action::ReadCase(&case), Basis::AttendingAgency), Some(9));
        case.held_before = vec![HeldBefore { marac_id: 7, until: time::OffsetDateTime::UNIX_EPOCH }];
        assert_eq!(governing_marac(&rep, &Action::ReadCase(&case), Basis::HeldBefore), Some(7));
        let own = Action::ReadReferral { marac_id: 9, referrer_user_id: 1 };
        assert_eq!(governing_marac(&rep, &own, Basis::OwnReferral), None);
        assert_eq!(governing_marac(&rep, &own, Basis::Coordinator), Some(9));
        assert_eq!(governing_marac(&rep, &Action::ViewHome, Basis::Role(Role::AgencyRep)), None);
    }

    #[test]
    fn a_leap_day_confirmation_runs_to_the_end_of_february() {
        assert_eq!(expires(date!(2028 - 02 - 29)), date!(2029 - 02 - 28));
        assert_eq!(expires(date!(2026 - 01 - 31)), date!(2027 - 01 - 31));
    }
}
