//! Other agencies' lists kept for cross-referencing (children's social care's open and
//! recently closed cases), and what the Marac keeps from them: a case's victim or child known
//! to children's social care, with the dates. Rows are sealed by the caller; they are deleted
//! when the list's time is up, and the links stay.

use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;
use time::Date;

/// A list to keep, with what it linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgencyList {
    /// The Marac it was compared with.
    pub marac_id: i64,
    /// The agency whose list it is.
    pub agency_id: i64,
    /// Who uploaded it.
    pub uploaded_by: i64,
    /// When.
    pub uploaded_at: Ts,
    /// When its rows are deleted.
    pub delete_after: Ts,
    /// Each row's line and sealed details.
    pub rows: Vec<(i64, String)>,
    /// What it linked.
    pub links: Vec<NewSocialCareLink>,
}

/// A case's victim or child found on a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSocialCareLink {
    /// The case.
    pub case_id: i64,
    /// The referral whose form names the person.
    pub referral_id: i64,
    /// `victim`, or `household:N` for the form's Nth child or household member.
    pub subject: String,
    /// Still open on the list's day.
    pub open: bool,
    /// The day children's social care opened its case.
    pub opened_on: Date,
    /// The day it closed, if it did.
    pub closed_on: Option<Date>,
    /// The match's score, 0 to 100.
    pub score: i64,
}

/// A list as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyList {
    /// The list's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The Marac it was compared with.
    pub marac_id: i64,
    /// The agency whose list it is.
    pub agency_id: i64,
    /// Who uploaded it.
    pub uploaded_by: i64,
    /// When.
    pub uploaded_at: Ts,
    /// When its rows are deleted.
    pub delete_after: Ts,
    /// When they were, if they have been.
    pub deleted_at: Option<Ts>,
    /// Rows it had.
    pub row_count: i64,
    /// Links it made.
    pub linked_count: i64,
}

/// A link as kept, with the agency whose list made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialCareLink {
    /// The list.
    pub list_id: i64,
    /// The agency whose list it was.
    pub agency_id: i64,
    /// What was linked.
    pub link: NewSocialCareLink,
    /// When.
    pub recorded_at: Ts,
}

/// Other agencies' lists uploaded for cross-referencing.
#[async_trait]
pub trait AgencyListStore {
    /// Keeps an uploaded list (sealed rows) and the links it made, in one transaction.
    async fn add_agency_list(&self, list: &NewAgencyList, audit: NewAuditEvent) -> StoreResult<i64>;
    /// One list.
    async fn get_agency_list(&self, id: i64) -> StoreResult<AgencyList>;
    /// An agency's lists, newest first.
    async fn agency_lists(&self, agency_id: i64) -> StoreResult<Vec<AgencyList>>;
    /// A list's rows (line and sealed details); none once deleted.
    async fn agency_list_rows(&self, id: i64) -> StoreResult<Vec<(i64, String)>>;
    /// Deletes a list's rows and marks it deleted; its links stay. `NotFound` if already done.
    async fn delete_agency_list(&self, id: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// Lists whose time is up at `now` and whose rows are still kept.
    async fn expired_agency_lists(&self, now: Ts) -> StoreResult<Vec<i64>>;
    /// What lists linked to a case, newest first.
    async fn social_care_links(&self, case_id: i64) -> StoreResult<Vec<SocialCareLink>>;
}
