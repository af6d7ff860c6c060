//! Referrals from draft to decision, the cases they make and their candidate matches.
//!
//! Fields ending `_sealed` are ciphertext made and opened by the application; the store
//! never sees names or case detail in clear. `person keys` are keyed hashes of matching keys.

use crate::{StoreResult, Ts};
use async_trait::async_trait;
pub use marac_domain::ReferralStatus;
use marac_domain::audit::NewAuditEvent;
use marac_domain::referral_rules::{AgeFlag, Criterion};
use time::Date;

/// One referral: a draft, or an episode of a case once submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// The referral's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The reference given on submission, e.g. `NSN-2026-00042`.
    pub reference: Option<String>,
    /// The Marac referred to.
    pub marac_id: i64,
    /// Who wrote it.
    pub referrer_user_id: i64,
    /// Their agency.
    pub referring_agency_id: i64,
    /// Another agency referring jointly.
    pub joint_agency_id: Option<i64>,
    /// Where it is.
    pub status: ReferralStatus,
    /// Everything typed, encrypted.
    pub form_sealed: String,
    /// The case it is an episode of, once submitted.
    pub case_id: Option<i64>,
    /// The checklist used.
    pub checklist_id: Option<String>,
    /// Its version.
    pub checklist_version: Option<String>,
    /// "Yes" answers.
    pub score: Option<i64>,
    /// Criteria met.
    pub criteria: Vec<Criterion>,
    /// Whether it is a repeat.
    pub is_repeat: bool,
    /// The age rules the victim's age met.
    pub age_flags: Vec<AgeFlag>,
    /// The victim's age band.
    pub victim_age_group: String,
    /// Children in the household.
    pub children_count: i64,
    /// The day it was referred, once submitted.
    pub referral_date: Option<Date>,
    /// The day of the incident or concern, once submitted.
    pub incident_date: Option<Date>,
    /// The coordinator's question or reason for declining, encrypted.
    pub decision_note_sealed: Option<String>,
    /// Who decided.
    pub decided_by: Option<i64>,
    /// When.
    pub decided_at: Option<Ts>,
    /// Started.
    pub created_at: Ts,
    /// Last saved.
    pub updated_at: Ts,
    /// Submitted.
    pub submitted_at: Option<Ts>,
    /// A case another Marac holds for the same victim and people causing harm: the referral
    /// waits for it to be transferred (see [`crate::CaseTransfer`]) and knows nothing else of it.
    pub known_case_id: Option<i64>,
}

/// A new draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDraft {
    /// The Marac referred to.
    pub marac_id: i64,
    /// Who is writing it.
    pub referrer_user_id: i64,
    /// Their agency.
    pub referring_agency_id: i64,
    /// What is typed so far, encrypted.
    pub form_sealed: String,
}

/// A person on a submitted referral: someone already known, or someone new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    /// Certainly this known person.
    Existing(i64),
    /// Someone not known before.
    New {
        /// Their details, encrypted.
        details_sealed: String,
        /// Keyed hashes of their matching keys.
        keys: Vec<String>,
    },
}

/// A possible match shown to the coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateMatch {
    /// `victim` or `perpetrator:N`.
    pub subject: String,
    /// The known person.
    pub person_id: i64,
    /// 0 to 100.
    pub score: i64,
    /// Treated as the same person.
    pub certain: bool,
    /// The reasons, encrypted (they quote names).
    pub reasons_sealed: String,
}

/// Everything recorded when a referral is submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The draft being submitted; `None` to create it in the same step (the API).
    pub referral_id: Option<i64>,
    /// Who submits (for a new referral).
    pub referrer_user_id: i64,
    /// Their agency.
    pub referring_agency_id: i64,
    /// The Marac.
    pub marac_id: i64,
    /// Its code, for the reference.
    pub marac_code: String,
    /// The partnership whose people are matched.
    pub partnership_id: i64,
    /// Another agency referring jointly.
    pub joint_agency_id: Option<i64>,
    /// Everything typed, encrypted.
    pub form_sealed: String,
    /// The victim.
    pub victim: PersonRef,
    /// The people causing harm.
    pub perpetrators: Vec<PersonRef>,
    /// Candidate matches for the coordinator.
    pub matches: Vec<CandidateMatch>,
    /// The checklist used.
    pub checklist_id: String,
    /// Its version.
    pub checklist_version: String,
    /// "Yes" answers.
    pub score: i64,
    /// Criteria met.
    pub criteria: Vec<Criterion>,
    /// Whether it is a repeat.
    pub is_repeat: bool,
    /// The age rules the victim's age met.
    pub age_flags: Vec<AgeFlag>,
    /// Victim's age band.
    pub victim_age_group: String,
    /// Children in the household.
    pub children_count: i64,
    /// The day it is referred.
    pub referral_date: Date,
    /// The day of the incident or concern.
    pub incident_date: Date,
    /// The plain facts returns count.
    pub profile: marac_domain::referral_form::Profile,
}

/// Who is told that a referral names the people of a case another Marac holds: given the id of
/// the question opened and the Marac holding the case, the notices to add. The application
/// decides who; the store writes them with the submission.
pub type TellHeldElsewhere = dyn Fn(i64, i64) -> Vec<crate::NewNotice> + Send + Sync;

/// For a submission that tells no one (a test, the demo's history).
#[must_use]
pub fn tell_no_one(_transfer_id: i64, _holder_marac_id: i64) -> Vec<crate::NewNotice> {
    Vec::new()
}

/// What submission made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The referral.
    pub referral_id: i64,
    /// Its reference.
    pub reference: String,
    /// The case it is an episode of: none while another Marac holds the case.
    pub case_id: Option<i64>,
    /// The case another Marac holds for the same people, and that Marac.
    pub held_elsewhere: Option<(i64, i64)>,
    /// The transfer question opened between the two Maracs.
    pub transfer_id: Option<i64>,
}

/// What triage decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Accepted to wait for a meeting.
    Accept,
    /// Accepted and put on this meeting's list (of the referral's Marac, not yet held, with
    /// room), in the same transaction.
    AcceptOnto(i64),
    /// Sent back with a question (encrypted).
    SendBack(String),
    /// Declined with a reason (encrypted).
    Decline(String),
}

/// Which referrals to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferralFilter {
    /// Only this referrer's.
    pub referrer_user_id: Option<i64>,
    /// Only these Maracs' (`Some(vec![])` lists nothing).
    pub marac_ids: Option<Vec<i64>>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<ReferralStatus>,
    /// Only this case's.
    pub case_id: Option<i64>,
    /// Only those with a candidate match the coordinator has still to answer.
    pub with_open_matches: bool,
    /// At most this many, newest first.
    pub limit: i64,
}

/// A case: one victim with one set of people causing harm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The case's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The Marac of its latest referral.
    pub marac_id: i64,
    /// The victim.
    pub victim_person_id: i64,
    /// The people causing harm, sorted.
    pub perpetrator_ids: Vec<i64>,
    /// First referred.
    pub created_at: Ts,
}

/// A candidate match as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMatch {
    /// `victim` or `perpetrator:N`.
    pub subject: String,
    /// The known person.
    pub person_id: i64,
    /// 0 to 100.
    pub score: i64,
    /// Treated as the same person.
    pub certain: bool,
    /// Encrypted reasons.
    pub reasons_sealed: String,
    /// The coordinator's answer: `Some(true)` confirmed, `Some(false)` rejected.
    pub confirmed: Option<bool>,
    /// Whether it can be answered: the referral's own record of the person is known (not so
    /// for referrals submitted before answers were recorded).
    pub decidable: bool,
}

/// A coordinator's answer to one candidate match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchDecision {
    /// The referral.
    pub referral_id: i64,
    /// `victim` or `perpetrator:N`.
    pub subject: String,
    /// The known person the candidate names.
    pub person_id: i64,
    /// Confirmed (the same person) or rejected.
    pub confirm: bool,
    /// The Marac's repeat window, for working out again whether the referral is a repeat.
    pub repeat_months: u32,
    /// Who answered.
    pub by: i64,
}

/// A Marac's case as the meeting pages summarise it, without opening anything sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    /// The case.
    pub case_id: i64,
    /// Its first referral's reference.
    pub reference: String,
    /// The date of its latest accepted referral.
    pub last_referral_on: Option<Date>,
}

/// Referrals from draft to decision, the cases they make, and candidate matches.
#[async_trait]
pub trait ReferralStore {
    /// Starts a draft referral.
    async fn create_draft(&self, draft: &NewDraft, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Saves a draft (or a referral sent back) as typed so far; `NotFound` once submitted.
    async fn save_draft(
        &self,
        id: i64,
        marac_id: i64,
        form_sealed: &str,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// One referral.
    async fn get_referral(&self, id: i64) -> StoreResult<Referral>;
    /// One referral by its reference.
    async fn find_referral_by_reference(&self, reference: &str) -> StoreResult<Option<Referral>>;
    /// Referrals matching a filter, most recently changed first.
    async fn list_referrals(&self, filter: &ReferralFilter) -> StoreResult<Vec<Referral>>;
    /// A page of the referrals matching the filter (its `limit` aside), oldest first (the order
    /// a queue is worked in) or latest changed first, and how many match in all.
    async fn page_referrals(
        &self,
        filter: &ReferralFilter,
        page: marac_domain::paging::PageRequest,
        oldest_first: bool,
    ) -> StoreResult<marac_domain::paging::Page<Referral>>;
    /// The date of the last referral (submitted or accepted) of the case with this victim and
    /// exactly these people causing harm.
    async fn last_referral_date(&self, victim_person_id: i64, perpetrator_ids: &[i64]) -> StoreResult<Option<Date>>;
    /// Records a submission: people, case, reference and candidate matches, in one step. When
    /// its people are a case another Marac holds, the question it opens is told to whoever
    /// `tell` names (given the question's id and the Marac holding the case), in the same
    /// transaction.
    async fn submit_referral(
        &self,
        submission: &Submission,
        at: Ts,
        audit: NewAuditEvent,
        tell: &TellHeldElsewhere,
    ) -> StoreResult<Submitted>;
    /// Records triage's decision on a submitted referral; `NotFound` if it is not waiting.
    async fn decide_referral(
        &self,
        id: i64,
        decision: &Decision,
        by: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// The candidate matches found on submission.
    async fn referral_matches(&self, referral_id: i64) -> StoreResult<Vec<StoredMatch>>;
    /// Records a coordinator's answer to a candidate. Confirming merges the referral's own
    /// record of the person into the known person; rejecting a confirmed candidate undoes that.
    /// Either way the referral's repeat criterion is worked out again from the people as now
    /// counted, and returned. `NotFound` if there is no such candidate; `Conflict` if the
    /// referral predates recorded answers.
    async fn decide_match(&self, decision: &MatchDecision, at: Ts, audit: NewAuditEvent) -> StoreResult<bool>;
    /// One case.
    async fn get_case(&self, id: i64) -> StoreResult<Case>;
    /// The facts that decide who may see a case.
    async fn case_access(&self, case_id: i64) -> StoreResult<marac_domain::policy::CaseAccess>;
    /// Every accepted case of a Marac with its reference and latest referral date, in one
    /// query (for the meeting page's review of actions and its 12-month standing item).
    async fn case_summaries(&self, marac_id: i64) -> StoreResult<Vec<CaseSummary>>;
}
