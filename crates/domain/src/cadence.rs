//! How often a Marac meets.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The regular meeting cadence of a Marac.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingCadence {
    /// Every working day.
    Daily,
    /// Once a week.
    Weekly,
    /// Every two weeks.
    Fortnightly,
    /// Once a month.
    Monthly,
}

impl MeetingCadence {
    /// Every cadence, shortest first.
    pub const ALL: [MeetingCadence; 4] =
        [MeetingCadence::Daily, MeetingCadence::Weekly, MeetingCadence::Fortnightly, MeetingCadence::Monthly];

    /// The stable code stored in the database.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            MeetingCadence::Daily => "daily",
            MeetingCadence::Weekly => "weekly",
            MeetingCadence::Fortnightly => "fortnightly",
            MeetingCadence::Monthly => "monthly",
        }
    }

    /// The word people read.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            MeetingCadence::Daily => "Daily",
            MeetingCadence::Weekly => "Weekly",
            MeetingCadence::Fortnightly => "Fortnightly",
            MeetingCadence::Monthly => "Monthly",
        }
    }
}

/// The text was not a cadence code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown meeting cadence '{0}' (expected daily, weekly, fortnightly or monthly)")]
pub struct UnknownCadence(pub String);

impl FromStr for MeetingCadence {
    type Err = UnknownCadence;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MeetingCadence::ALL.into_iter().find(|c| c.code() == s.trim()).ok_or_else(|| UnknownCadence(s.to_owned()))
    }
}
