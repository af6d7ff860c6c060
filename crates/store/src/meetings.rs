//! Meetings: schedules and lists, confidentiality, attendance and each case's discussion.
//! `_sealed` fields are ciphertext.

use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;
use marac_domain::meeting_rules::{AttendanceKind, CaseOutcome, MeetingFormat, MeetingKind, MeetingStatus};
use time::Date;

/// A Marac's confidentiality statement, one version of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfidentialityStatement {
    /// The statement version's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The Marac.
    pub marac_id: i64,
    /// 1, 2, … per Marac.
    pub version: i64,
    /// The text read out and confirmed.
    pub body: String,
    /// When this version was made.
    pub created_at: Ts,
}

/// What is needed to schedule a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeeting {
    /// The Marac.
    pub marac_id: i64,
    /// Regular, one-off or emergency.
    pub kind: MeetingKind,
    /// In person, virtual or no meeting.
    pub format: MeetingFormat,
    /// The day.
    pub held_on: Date,
    /// Start time, `HH:MM`.
    pub starts_at: String,
    /// For a no-meeting: the date contributions close.
    pub closing_on: Option<Date>,
    /// Room or call link description (no case detail).
    pub location: String,
    /// The chair, if known.
    pub chair_user_id: Option<i64>,
    /// Cases the meeting can hear.
    pub capacity: u32,
    /// Last day a case can be added to the list.
    pub list_cutoff_on: Option<Date>,
    /// Agencies invited.
    pub invited_agency_ids: Vec<i64>,
}

/// A scheduled meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// The meeting's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// Its details.
    pub details: NewMeeting,
    /// Planned, published or held.
    pub status: MeetingStatus,
    /// When the list went out.
    pub published_at: Option<Ts>,
    /// Cases on the list.
    pub listed: i64,
}

/// What publishing a meeting's list writes with it.
#[derive(Debug, Clone, Default)]
pub struct Publication {
    /// Every agency invited: the Marac's regulars and those that referred a listed case.
    pub invited_agency_ids: Vec<i64>,
}

/// A case on a meeting's list, with what triage knew of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCase {
    /// The meeting.
    pub meeting_id: i64,
    /// The case.
    pub case_id: i64,
    /// The referral that brought it.
    pub referral_id: Option<i64>,
    /// Place on the list, from 1.
    pub position: i64,
    /// Listed, heard or deferred.
    pub outcome: CaseOutcome,
    /// The discussion as recorded (sealed JSON).
    pub discussion_sealed: Option<String>,
    /// How many times the discussion has been saved: a save names the version it was typed
    /// over, and is refused if another came first.
    pub discussion_version: i64,
    /// The referral's reference.
    pub reference: Option<String>,
    /// Checklist score.
    pub score: Option<i64>,
    /// Marked as a repeat.
    pub is_repeat: bool,
    /// Children in the household.
    pub children_count: i64,
    /// The referring agency.
    pub referring_agency_id: Option<i64>,
    /// The referral form (sealed), for the victim's name and the summary.
    pub form_sealed: Option<String>,
}

/// An accepted case waiting for a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingCase {
    /// The case.
    pub case_id: i64,
    /// The accepted referral.
    pub referral_id: i64,
    /// Its reference.
    pub reference: String,
    /// When triage accepted it.
    pub accepted_at: Ts,
    /// Children in the household.
    pub children_count: i64,
}

impl WaitingCase {
    /// What the list proposal ([`marac_domain::meeting_rules::propose`]) weighs.
    #[must_use]
    pub fn as_candidate(&self) -> marac_domain::meeting_rules::ListCandidate {
        marac_domain::meeting_rules::ListCandidate {
            case_id: self.case_id,
            children: u32::try_from(self.children_count).unwrap_or(0),
            accepted_at: self.accepted_at.0.to_string(),
        }
    }
}

/// Someone's confirmation of the statement for a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// A signed-in attendee.
    pub user_id: Option<i64>,
    /// An observer without an account, confirmed in the room by the chair.
    pub observer_name: Option<String>,
    /// The statement's version.
    pub statement_version: i64,
    /// When.
    pub confirmed_at: Ts,
}

/// A person's newest confirmation of one Marac's confidentiality statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementConfirmation {
    /// The Marac whose statement it is.
    pub marac_id: i64,
    /// The highest version confirmed.
    pub version: i64,
    /// When that version was last confirmed.
    pub confirmed_at: Ts,
}

/// One line of the attendance record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceEntry {
    /// The agency represented (none for an observer).
    pub agency_id: Option<i64>,
    /// The person.
    pub person_name: String,
    /// Present, apologies or observer.
    pub kind: AttendanceKind,
    /// With apologies: information was sent beforehand.
    pub information_sent: bool,
}

/// A case's discussion at a meeting as stored: the sealed text, and the plain facts the
/// partnership's measures count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscussionRecord {
    /// The discussion, sealed.
    pub sealed: String,
    /// The child's voice was recorded.
    pub child_voice_recorded: bool,
    /// The version this was typed over; `None` saves whatever came before.
    pub saved_version: Option<i64>,
}

/// Meetings: schedules, lists, confidentiality, attendance and discussions.
#[async_trait]
pub trait MeetingStore {
    /// The current (latest) confidentiality statement of a Marac.
    async fn current_statement(&self, marac_id: i64) -> StoreResult<Option<ConfidentialityStatement>>;
    /// Adds a new version of a Marac's confidentiality statement; returns its version.
    async fn add_statement(
        &self,
        marac_id: i64,
        body: &str,
        by: Option<i64>,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<i64>;
    /// Schedules meetings, each with its invited agencies; returns their ids.
    async fn create_meetings(&self, meetings: &[NewMeeting], at: Ts, audit: NewAuditEvent) -> StoreResult<Vec<i64>>;
    /// Changes a planned or published meeting's details and invitations.
    async fn update_meeting(&self, id: i64, details: &NewMeeting, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// One meeting; `NotFound` if none.
    async fn get_meeting(&self, id: i64) -> StoreResult<Meeting>;
    /// Meetings of these Maracs held on or after `from` (all if `None`), by date.
    async fn list_meetings(&self, marac_ids: &[i64], from: Option<Date>, limit: i64) -> StoreResult<Vec<Meeting>>;
    /// Accepted cases of a Marac not on any list (or deferred since), longest waiting first.
    async fn waiting_cases(&self, marac_id: i64) -> StoreResult<Vec<WaitingCase>>;
    /// A meeting's list in order.
    async fn meeting_cases(&self, meeting_id: i64) -> StoreResult<Vec<ListedCase>>;
    /// Replaces a meeting's list with these (case, referral) pairs in this order. Cases already
    /// heard or deferred at this meeting keep their record; `Conflict` once the meeting is held.
    async fn set_meeting_list(
        &self,
        meeting_id: i64,
        list: &[(i64, i64)],
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// Publishes a planned meeting's list in one transaction with who is invited and its audit
    /// event (with the notices it carries); `Conflict` if it is not planned.
    async fn publish_meeting(
        &self,
        meeting_id: i64,
        publication: &Publication,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// Marks a meeting held; `Conflict` if it is not published.
    async fn close_meeting(&self, meeting_id: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// Records a signed-in person's (or, with `observer_name`, an observer's) confirmation of
    /// the current statement for a meeting. Confirming again changes nothing.
    async fn confirm_confidentiality(
        &self,
        meeting_id: i64,
        user_id: Option<i64>,
        observer_name: Option<&str>,
        statement_id: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// Who has confirmed for a meeting, in order.
    async fn confirmations(&self, meeting_id: i64) -> StoreResult<Vec<Confirmation>>;
    /// Records a person's confirmation of a Marac's statement outside a meeting (a meeting's
    /// confirmation records one too).
    async fn confirm_statement(&self, user_id: i64, statement_id: i64, at: Ts, audit: NewAuditEvent)
    -> StoreResult<()>;
    /// A person's newest confirmation of each Marac's statement: the highest version they
    /// confirmed, and when they last did.
    async fn statement_confirmations(&self, user_id: i64) -> StoreResult<Vec<StatementConfirmation>>;
    /// Replaces a meeting's attendance record.
    async fn set_attendance(
        &self,
        meeting_id: i64,
        entries: &[AttendanceEntry],
        by: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// A meeting's attendance record.
    async fn attendance(&self, meeting_id: i64) -> StoreResult<Vec<AttendanceEntry>>;
    /// Saves the discussion and outcome of a (meeting, case) on the list; returns its new
    /// version. `Conflict` when the record's `saved_version` is not the current one.
    async fn save_discussion(
        &self,
        (meeting_id, case_id): (i64, i64),
        discussion: &DiscussionRecord,
        outcome: marac_domain::meeting_rules::CaseOutcome,
        by: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<i64>;
}
