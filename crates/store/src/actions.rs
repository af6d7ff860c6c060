//! A meeting's actions with their history, and the flags agencies place on cases.

use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;
use marac_domain::flags::FlagKind;
use marac_domain::meeting_rules::{ActionStatus, ActionSubject, DelayReason, PerpetratorApproach};
use marac_domain::paging::{Page, PageRequest};
use marac_domain::policy::CaseScope;
use time::Date;

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

/// An action and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    /// The action's id in the database: addresses, links and other records name it by this.
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
    /// Only those in this state (the tracker's status filter).
    pub state: Option<ActionState>,
    /// Only those due on or before this day.
    pub due_by: Option<Date>,
    /// Only those agreed at meetings held before this day (a meeting's review of earlier ones).
    pub agreed_before: Option<Date>,
    /// Only those this person tracks: every action of the Maracs they coordinate or chair, and
    /// their own agency's in the Maracs they practise in.
    pub tracked_by: Option<CaseScope>,
    /// At most this many.
    pub limit: i64,
}

/// The states the action tracker filters by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionState {
    /// Open or carried forward.
    Outstanding,
    /// Outstanding and due before this day.
    OverdueOn(Date),
    /// Done, or not done for a reason recorded.
    Ended,
}

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
    /// The flag's id in the database: addresses, links and other records name it by this.
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

/// A meeting's actions with their history, and the flags agencies place on cases.
#[async_trait]
pub trait ActionStore {
    /// Agrees an action; returns its id.
    async fn add_action(&self, action: &NewAction, by: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<i64>;
    /// One action; `NotFound` if none.
    async fn get_action(&self, id: i64) -> StoreResult<ActionRecord>;
    /// Actions matching a filter, soonest due first.
    async fn list_actions(&self, filter: &ActionFilter) -> StoreResult<Vec<ActionRecord>>;
    /// A page of the actions matching the filter (its `limit` aside): outstanding ones first, the
    /// soonest due first, then ended ones, the latest due first; and how many match in all.
    async fn page_actions(&self, filter: &ActionFilter, page: PageRequest) -> StoreResult<Page<ActionRecord>>;
    /// Reports an action's new status, kept with its history.
    async fn report_action(&self, id: i64, event: &ActionEvent, audit: NewAuditEvent) -> StoreResult<()>;
    /// An action's history, oldest first.
    async fn action_events(&self, id: i64) -> StoreResult<Vec<ActionEvent>>;
    /// The history of every action of a case, each with its action's id, oldest first: a
    /// case's chronology reads them in one query.
    async fn case_action_events(&self, case_id: i64) -> StoreResult<Vec<(i64, ActionEvent)>>;
    /// Records a flag with its audit event; returns its id.
    async fn add_flag(&self, flag: &NewFlag, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Flags, soonest expiry first.
    async fn list_flags(&self, filter: &FlagFilter) -> StoreResult<Vec<CaseFlag>>;
    /// Ends a running flag early.
    ///
    /// # Errors
    /// [`crate::StoreError::NotFound`] if there is no such flag or it has already ended.
    async fn end_flag(&self, id: i64, by: i64, reason_sealed: &str, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
}
