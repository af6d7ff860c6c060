//! Many years of one Marac's history in one go, for national-scale data and benchmarks
//! (`marac demo --scale national`): the rows the pages would have made, written with
//! multi-row inserts in one transaction instead of one referral at a time.

use marac_domain::meeting_rules::{ActionKind, ActionStatus, ActionSubject};
use marac_domain::referral_form::Profile;
use time::Date;

/// One referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkReferral {
    /// The case: an index into [`BulkHistory::cases`].
    pub case: usize,
    /// Referring agency.
    pub agency_id: i64,
    /// Joint agency.
    pub joint_agency_id: Option<i64>,
    /// Day made.
    pub referral_date: Date,
    /// Accepted (or else declined).
    pub accepted: bool,
    /// Checklist score.
    pub score: i64,
    /// Criteria codes, comma-separated.
    pub criteria: String,
    /// A repeat.
    pub is_repeat: bool,
    /// Children.
    pub children: i64,
    /// Age band.
    pub victim_age_group: String,
    /// Age flag codes.
    pub age_flags: String,
    /// The plain profile.
    pub profile: Profile,
}

/// One action agreed at a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkAction {
    /// The heard referral it is about: an index into [`BulkHistory::referrals`].
    pub referral: usize,
    /// Owning agency.
    pub agency_id: i64,
    /// Subject.
    pub subject: ActionSubject,
    /// Kind.
    pub kind: ActionKind,
    /// Status now.
    pub status: ActionStatus,
    /// Due.
    pub due_on: Date,
}

/// One held meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkMeeting {
    /// Its day.
    pub held_on: Date,
    /// Agencies invited.
    pub invited: Vec<i64>,
    /// Of those, agencies that attended.
    pub present: Vec<i64>,
    /// Referrals heard (indexes into [`BulkHistory::referrals`]) and whether the child's voice
    /// was recorded.
    pub heard: Vec<(usize, bool)>,
    /// Actions agreed.
    pub actions: Vec<BulkAction>,
}

/// A Marac's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkHistory {
    /// The Marac.
    pub marac_id: i64,
    /// Its code, for references.
    pub marac_code: String,
    /// Its partnership.
    pub partnership_id: i64,
    /// Who is recorded as making and deciding the referrals.
    pub user_id: i64,
    /// How many people to file.
    pub people: usize,
    /// Their details (one sealed synthetic person for all: these rows are for figures).
    pub person_sealed: String,
    /// Each referral's form (likewise one for all).
    pub form_sealed: String,
    /// Cases: (victim, person causing harm), indexes of people.
    pub cases: Vec<(usize, usize)>,
    /// Referrals, in date order.
    pub referrals: Vec<BulkReferral>,
    /// Held meetings, in date order.
    pub meetings: Vec<BulkMeeting>,
}
