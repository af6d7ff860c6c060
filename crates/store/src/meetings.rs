//! The records of meetings: schedules and lists, confidentiality, attendance, each case's
//! discussion, and actions with their history. `_sealed` fields are ciphertext.

use crate::Ts;
use marac_domain::meeting_rules::{
    ActionStatus, ActionSubject, AttendanceKind, CaseOutcome, DelayReason, MeetingFormat, MeetingKind, MeetingStatus,
    PerpetratorApproach,
};
use time::Date;

/// A Marac's confidentiality statement, one version of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfidentialityStatement {
    /// Id.
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
    /// Id.
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

/// What is needed to agree an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAction {
    /// The case.
    pub case_id: i64,
    /// The meeting that agreed it.
    pub meeting_id: i64,
    /// The owning agency.
    pub agency_id: i64,
    /// The named person in that agency.
    pub owner_name: String,
    /// Whom it is about.
    pub subject: ActionSubject,
    /// For the person causing harm: the approach.
    pub approach: Option<PerpetratorApproach>,
    /// What is to be done, and for a child which child (sealed).
    pub description_sealed: String,
    /// Due date.
    pub due_on: Date,
    /// Early help, the Right to Know, a link to another panel, or general.
    pub kind: marac_domain::meeting_rules::ActionKind,
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

/// An action and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    /// Id.
    pub id: i64,
    /// What was agreed.
    pub action: NewAction,
    /// Its status.
    pub status: ActionStatus,
    /// Why it is late or not done.
    pub status_reason: Option<DelayReason>,
    /// When the status was last reported.
    pub status_reported_at: Option<Ts>,
    /// When it was agreed.
    pub created_at: Ts,
    /// The Marac of its meeting.
    pub marac_id: i64,
    /// The meeting's date.
    pub meeting_held_on: Date,
}

/// A change of an action's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionEvent {
    /// The new status.
    pub status: ActionStatus,
    /// Its reason category.
    pub reason: Option<DelayReason>,
    /// A note (sealed).
    pub note_sealed: Option<String>,
    /// Who reported it.
    pub by_user_id: Option<i64>,
    /// When.
    pub at: Ts,
}

/// Which actions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFilter {
    /// Only this agency's.
    pub agency_id: Option<i64>,
    /// Only this case's.
    pub case_id: Option<i64>,
    /// Only those agreed at this meeting.
    pub meeting_id: Option<i64>,
    /// Only those of these Maracs.
    pub marac_ids: Option<Vec<i64>>,
    /// Only open or carried forward.
    pub outstanding_only: bool,
    /// At most this many.
    pub limit: i64,
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
