//! How often a Marac meets.

use crate::coded_enum;
use std::str::FromStr;

coded_enum! {
    /// The regular meeting cadence of a Marac.
    pub enum MeetingCadence {
        /// Every working day.
        Daily = ("daily", "Daily"),
        /// Once a week.
        Weekly = ("weekly", "Weekly"),
        /// Every two weeks.
        Fortnightly = ("fortnightly", "Fortnightly"),
        /// Once a month.
        Monthly = ("monthly", "Monthly"),
    }
}

/// The text was not a cadence code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown meeting cadence '{0}' (expected daily, weekly, fortnightly or monthly)")]
pub struct UnknownCadence(pub String);

impl FromStr for MeetingCadence {
    type Err = UnknownCadence;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MeetingCadence::from_code(s.trim()).ok_or_else(|| UnknownCadence(s.to_owned()))
    }
}
