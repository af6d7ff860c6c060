//! The records returns are built from: per meeting, the cases heard there counted as the
//! SafeLives return asks ([`marac_domain::safelives_return::MeetingCounts`]).

use marac_domain::safelives_return::MeetingCounts;
use time::Date;

/// Which meetings a return covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnScope {
    /// The Maracs.
    pub marac_ids: Vec<i64>,
    /// First day, included.
    pub from: Date,
    /// Last day, included.
    pub to: Date,
}

/// One meeting's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingReturn {
    /// The meeting.
    pub meeting_id: i64,
    /// Its Marac.
    pub marac_id: i64,
    /// Its day.
    pub held_on: Date,
    /// The cases heard there, counted.
    pub counts: MeetingCounts,
}
