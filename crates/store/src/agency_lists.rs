//! Other agencies' lists kept for cross-referencing (children's social care's open and
//! recently closed cases), and what the Marac keeps from them: a case's victim or child known
//! to children's social care, with the dates. Rows are sealed by the caller; they are deleted
//! when the list's time is up, and the links stay.

use crate::Ts;
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
    /// Id.
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
