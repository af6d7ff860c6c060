//! Agencies' research notes on a case before its meeting.

use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;

pub use marac_domain::research::NoteKind;

/// An agency's research note on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResearchNote {
    /// The note's id in the database: addresses, links and other records name it by this.
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

/// Agencies' research notes on a case before its meeting.
#[async_trait]
pub trait ResearchStore {
    /// Adds an agency's research note.
    async fn add_research_note(&self, note: &NewResearchNote, at: Ts, audit: NewAuditEvent) -> StoreResult<i64>;
    /// The notes on a case that `agency_id` may read: its own, and others' shared ones.
    async fn list_research_notes(&self, case_id: i64, agency_id: Option<i64>) -> StoreResult<Vec<ResearchNote>>;
    /// Shares one of the agency's notes; `NotFound` if it is not theirs or already shared.
    async fn share_research_note(
        &self,
        case_id: i64,
        id: i64,
        agency_id: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
}
