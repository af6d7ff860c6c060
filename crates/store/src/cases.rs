//! Cases as the unit of work: where each stands, every move it made, and the lists of cases a
//! person may see, filtered and paged by the database.
//!
//! A case's stage moves in the transaction of the change that moves it (a referral decided, a
//! list set, a case heard, an action reported), by [`marac_domain::case_stage::after`].

use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::case_stage::CaseStage;
use marac_domain::paging::{Page, PageRequest};
use marac_domain::policy::CaseScope;
use time::Date;

/// One move of a case from one stage to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStageChange {
    /// Where it moved to.
    pub stage: CaseStage,
    /// The meeting the move concerns (listed for, heard at, deferred at), if any.
    pub meeting_id: Option<i64>,
    /// That meeting's day.
    pub meeting_on: Option<Date>,
    /// That meeting's Marac.
    pub meeting_marac_id: Option<i64>,
    /// Who made the change that moved it (none for the system's own moves).
    pub by_user_id: Option<i64>,
    /// When.
    pub at: Ts,
}

/// A case as a list shows it: where it stands and its latest accepted referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseListRow {
    /// The case.
    pub case_id: i64,
    /// The Marac holding it.
    pub marac_id: i64,
    /// Where it stands (none only before the store has worked it out, just after an upgrade).
    pub stage: Option<CaseStage>,
    /// The meeting its stage concerns, and that meeting's day.
    pub stage_meeting: Option<(i64, Date)>,
    /// Its latest referral (accepted, or waiting for triage when none is accepted yet).
    pub referral_id: i64,
    /// That referral's reference.
    pub reference: String,
    /// That referral's sealed form, for the victim's name.
    pub form_sealed: String,
    /// The day of that referral.
    pub referral_date: Option<Date>,
}

/// The order of a list of cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseOrder {
    /// Cases listed for the soonest meeting first, then those still waiting, oldest first.
    #[default]
    SoonestMeeting,
    /// The case with the latest referral first.
    Newest,
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Whose list it is: only cases this scope sees.
    pub scope: CaseScope,
    /// Only these Maracs' (`None`: every Marac the scope covers).
    pub marac_ids: Option<Vec<i64>>,
    /// Only cases at these stages (empty: any).
    pub stages: Vec<CaseStage>,
    /// Only cases open to research: on their way to a meeting, or waiting for triage in a
    /// Marac that opens research when a referral is sent
    /// ([`marac_domain::marac_rules::ResearchOpens`]).
    pub open_to_research: bool,
    /// Only cases whose victim is one of these people, or a record merged into one of them.
    pub victim_person_ids: Option<Vec<i64>>,
    /// Only these cases.
    pub case_ids: Option<Vec<i64>>,
    /// In which order.
    pub order: CaseOrder,
    /// Which page.
    pub page: PageRequest,
}

/// Cases: their stages, their history and the lists of them.
#[async_trait]
pub trait CaseStore {
    /// A page of the cases the filter admits, and how many it admits in all.
    async fn list_cases(&self, filter: &CaseFilter) -> StoreResult<Page<CaseListRow>>;
    /// Every move a case made, oldest first.
    async fn case_history(&self, case_id: i64) -> StoreResult<Vec<CaseStageChange>>;
    /// Where a case stands now, with the meeting the stage concerns.
    async fn case_stage(&self, case_id: i64) -> StoreResult<(Option<CaseStage>, Option<(i64, Date)>)>;
    /// Works out the stage of every case that has none from its records (cases older than
    /// stages, and those a history import wrote); returns how many it staged.
    async fn stage_unstaged_cases(&self) -> StoreResult<u64>;
}
