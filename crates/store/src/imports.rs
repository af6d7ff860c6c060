//! Records arriving in bulk: imported referrals and synthetic history.

use crate::StoreResult;
use crate::{Submission, Ts};
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;
use marac_domain::meeting_rules::{ActionKind, ActionStatus, ActionSubject};
use marac_domain::referral_form::Profile;
use time::Date;

/// A referral from a Marac's history, with what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedReferral {
    /// As a referral made on the pages would be filed.
    pub submission: Submission,
    /// The spreadsheet's own reference, unique per Marac.
    pub import_reference: String,
    /// When it was made (the referral day).
    pub made_at: Ts,
    /// The meeting day that heard it, if one did.
    pub heard_on: Option<time::Date>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCount {
    /// Referrals added.
    pub added: u32,
    /// Rows already imported before, left alone.
    pub already: u32,
    /// Meetings made for the days cases were heard.
    pub meetings_made: u32,
}

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
    /// Criteria met.
    pub criteria: Vec<marac_domain::referral_rules::Criterion>,
    /// A repeat.
    pub is_repeat: bool,
    /// Children.
    pub children: i64,
    /// Age band.
    pub victim_age_group: String,
    /// The age rules met.
    pub age_flags: Vec<marac_domain::referral_rules::AgeFlag>,
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

/// Records arriving in bulk: imported referrals and synthetic history.
#[async_trait]
pub trait ImportStore {
    /// Files referrals from a Marac's history in one transaction (all or none), accepted, with
    /// the meetings that heard them (made as held where none is on that day). Rows whose
    /// reference is already in are left alone.
    async fn import_referrals(
        &self,
        items: &[ImportedReferral],
        by: i64,
        audit: NewAuditEvent,
    ) -> StoreResult<ImportCount>;
    /// Writes years of a Marac's synthetic history at once (national-scale demo data).
    async fn write_history(&self, history: &BulkHistory) -> StoreResult<()>;
    /// Whether any partnership not made by `marac demo` exists.
    async fn has_real_partnerships(&self) -> StoreResult<bool>;
}
