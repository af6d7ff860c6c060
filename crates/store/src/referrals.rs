//! The records of casework: referrals, the people and cases they concern, research notes and
//! the agency directory.
//!
//! Fields ending `_sealed` are ciphertext made and opened by the application; the store
//! never sees names or case detail in clear. `person keys` are keyed hashes of matching keys.

use crate::Ts;
use marac_domain::referral_rules::Criterion;

/// Where a referral is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferralStatus {
    /// Being written; only its referrer sees it.
    Draft,
    /// Sent to the coordinator, waiting for triage.
    Submitted,
    /// Sent back to the referrer with a question.
    Returned,
    /// Accepted for a meeting.
    Accepted,
    /// Screened out, with a reason.
    Declined,
}

impl ReferralStatus {
    /// Every status.
    pub const ALL: [ReferralStatus; 5] = [
        ReferralStatus::Draft,
        ReferralStatus::Submitted,
        ReferralStatus::Returned,
        ReferralStatus::Accepted,
        ReferralStatus::Declined,
    ];

    /// The stored code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            ReferralStatus::Draft => "draft",
            ReferralStatus::Submitted => "submitted",
            ReferralStatus::Returned => "returned",
            ReferralStatus::Accepted => "accepted",
            ReferralStatus::Declined => "declined",
        }
    }

    /// The words shown to people.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            ReferralStatus::Draft => "Draft",
            ReferralStatus::Submitted => "Waiting for triage",
            ReferralStatus::Returned => "Sent back to you",
            ReferralStatus::Accepted => "Accepted: awaiting a meeting",
            ReferralStatus::Declined => "Declined",
        }
    }

    /// The status with this code.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// One referral: a draft, or an episode of a case once submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// Id.
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
    /// Age flag codes, comma-separated.
    pub age_flags: String,
    /// The victim's age band.
    pub victim_age_group: String,
    /// Children in the household.
    pub children_count: i64,
    /// The date it was referred (`YYYY-MM-DD`).
    pub referral_date: Option<String>,
    /// The date of the incident or concern.
    pub incident_date: Option<String>,
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
    /// waits for it to be transferred (see [`CaseTransfer`]) and knows nothing else of it.
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
    /// Age flag codes, comma-separated.
    pub age_flags: String,
    /// Victim's age band.
    pub victim_age_group: String,
    /// Children in the household.
    pub children_count: i64,
    /// `YYYY-MM-DD`.
    pub referral_date: String,
    /// `YYYY-MM-DD`.
    pub incident_date: String,
    /// The plain facts returns count.
    pub profile: marac_domain::referral_form::Profile,
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
    /// Accepted for a meeting.
    Accept,
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
    /// At most this many, newest first.
    pub limit: i64,
}

/// A case: one victim with one set of people causing harm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Id.
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

/// A known person's encrypted details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    /// Id.
    pub id: i64,
    /// Encrypted details.
    pub details_sealed: String,
    /// The person this one was merged into (confirmed to be), if any.
    pub merged_into: Option<i64>,
}

impl PersonRecord {
    /// The person this record counts as: the one it was merged into, or itself.
    #[must_use]
    pub fn counted_as(&self) -> i64 {
        self.merged_into.unwrap_or(self.id)
    }
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

/// What kind of research note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// A fact from the agency's records.
    Fact,
    /// A professional opinion.
    Opinion,
    /// The agency holds information it will not share, and why.
    NotShared,
}

impl NoteKind {
    /// Every kind.
    pub const ALL: [NoteKind; 3] = [NoteKind::Fact, NoteKind::Opinion, NoteKind::NotShared];

    /// Stored code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            NoteKind::Fact => "fact",
            NoteKind::Opinion => "opinion",
            NoteKind::NotShared => "not_shared",
        }
    }

    /// Words shown.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            NoteKind::Fact => "Fact",
            NoteKind::Opinion => "Opinion",
            NoteKind::NotShared => "Not shared, and why",
        }
    }

    /// The kind with this code.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// An agency's research note on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResearchNote {
    /// Id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// The agency whose note it is.
    pub agency_id: i64,
    /// Who wrote it.
    pub author_user_id: i64,
    /// Fact, opinion or not shared.
    pub kind: NoteKind,
    /// The note, encrypted.
    pub body_sealed: String,
    /// Shared with the other agencies.
    pub shared: bool,
    /// Written.
    pub created_at: Ts,
    /// Shared.
    pub shared_at: Option<Ts>,
}

/// A new research note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResearchNote {
    /// The case.
    pub case_id: i64,
    /// The author's agency.
    pub agency_id: i64,
    /// The author.
    pub author_user_id: i64,
    /// Fact, opinion or not shared.
    pub kind: NoteKind,
    /// The note, encrypted.
    pub body_sealed: String,
    /// Share at once.
    pub shared: bool,
}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryKind {
    /// A Marac's coordinator contact.
    Coordinator,
    /// An agency's Marac representative.
    Representative,
    /// Their deputy.
    Deputy,
}

impl DirectoryKind {
    /// Every kind.
    pub const ALL: [DirectoryKind; 3] =
        [DirectoryKind::Coordinator, DirectoryKind::Representative, DirectoryKind::Deputy];

    /// Stored code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            DirectoryKind::Coordinator => "coordinator",
            DirectoryKind::Representative => "representative",
            DirectoryKind::Deputy => "deputy",
        }
    }

    /// Words shown.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            DirectoryKind::Coordinator => "Coordinator",
            DirectoryKind::Representative => "Representative",
            DirectoryKind::Deputy => "Deputy",
        }
    }

    /// The kind with this code.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A contact in the agency directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// Id (0 for a new one).
    pub id: i64,
    /// The Marac.
    pub marac_id: i64,
    /// The agency; `None` for a coordinator contact.
    pub agency_id: Option<i64>,
    /// Coordinator, representative or deputy.
    pub kind: DirectoryKind,
    /// Name.
    pub name: String,
    /// Job title.
    pub job_title: String,
    /// Secure e-mail address.
    pub email: String,
    /// Telephone.
    pub phone: String,
}

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
