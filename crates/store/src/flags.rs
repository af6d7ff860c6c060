//! The records of flags a Marac agrees for a case: which agency places it, what kind, until
//! when, and whether it was ended early. The note and the reason are sealed by the caller.

use crate::Ts;
use marac_domain::flags::FlagKind;
use time::Date;

/// A flag to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFlag {
    /// The case.
    pub case_id: i64,
    /// The meeting that agreed it, if one did.
    pub meeting_id: Option<i64>,
    /// The agency that places it on its own system.
    pub agency_id: i64,
    /// What kind of flag.
    pub kind: FlagKind,
    /// What the flag says or asks for (sealed).
    pub note_sealed: String,
    /// The day it starts.
    pub set_on: Date,
    /// The day it runs out.
    pub expires_on: Date,
    /// Who recorded it.
    pub set_by: i64,
    /// When.
    pub set_at: Ts,
}

/// A recorded flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFlag {
    /// Id.
    pub id: i64,
    /// What was recorded.
    pub flag: NewFlag,
    /// The case's Marac.
    pub marac_id: i64,
    /// When it was ended early, if it was.
    pub ended_at: Option<Ts>,
    /// Why (sealed).
    pub ended_reason_sealed: Option<String>,
}

/// Which flags to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagFilter {
    /// One case's.
    pub case_id: Option<i64>,
    /// The cases of one Marac.
    pub marac_id: Option<i64>,
    /// Agreed at one meeting.
    pub meeting_id: Option<i64>,
    /// Leave out those ended early.
    pub running_only: bool,
}
