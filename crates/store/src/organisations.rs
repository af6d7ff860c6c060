//! Partnerships, their Maracs and agencies, and the directory of agency contacts.

use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;
use marac_domain::{AgencyCategory, MaracRules, MeetingCadence};

/// A domestic abuse partnership: runs one or more Maracs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partnership {
    /// The partnership's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Synthetic data made by `marac demo`.
    pub is_demo: bool,
}

/// What is needed to create or change a partnership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnershipInput {
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Synthetic data made by `marac demo`.
    pub is_demo: bool,
}

/// A Marac and the rules it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marac {
    /// The Marac's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The partnership running it.
    pub partnership_id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The area it covers.
    pub area: String,
    /// Women aged 16 and over in the area, for the recommended volume.
    pub adult_female_population: i64,
    /// How often it meets.
    pub cadence: MeetingCadence,
    /// Thresholds and windows.
    pub rules: MaracRules,
}

/// What is needed to create or change a Marac.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaracInput {
    /// The partnership running it.
    pub partnership_id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The area it covers.
    pub area: String,
    /// Women aged 16 and over in the area.
    pub adult_female_population: i64,
    /// How often it meets.
    pub cadence: MeetingCadence,
    /// Thresholds and windows.
    pub rules: MaracRules,
}

/// A partner agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    /// The agency's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The partnership it belongs to.
    pub partnership_id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// SafeLives referral-source category.
    pub category: AgencyCategory,
    /// The Maracs it attends.
    pub marac_ids: Vec<i64>,
}

/// What is needed to create or change an agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyInput {
    /// The partnership it belongs to.
    pub partnership_id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// SafeLives referral-source category.
    pub category: AgencyCategory,
    /// The Maracs it attends.
    pub marac_ids: Vec<i64>,
}

pub use marac_domain::directory::DirectoryKind;

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

/// Partnerships, their Maracs and agencies, and the directory of agency contacts.
#[async_trait]
pub trait OrganisationStore {
    /// All partnerships, by name.
    async fn list_partnerships(&self) -> StoreResult<Vec<Partnership>>;
    /// One partnership.
    async fn get_partnership(&self, id: i64) -> StoreResult<Partnership>;
    /// One partnership by code.
    async fn find_partnership_by_code(&self, code: &str) -> StoreResult<Option<Partnership>>;
    /// Creates a partnership.
    async fn create_partnership(&self, input: &PartnershipInput, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Changes a partnership.
    async fn update_partnership(&self, id: i64, input: &PartnershipInput, audit: NewAuditEvent) -> StoreResult<()>;
    /// All Maracs, by name.
    async fn list_maracs(&self) -> StoreResult<Vec<Marac>>;
    /// One Marac.
    async fn get_marac(&self, id: i64) -> StoreResult<Marac>;
    /// One Marac by code.
    async fn find_marac_by_code(&self, code: &str) -> StoreResult<Option<Marac>>;
    /// Creates a Marac.
    async fn create_marac(&self, input: &MaracInput, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Changes a Marac.
    async fn update_marac(&self, id: i64, input: &MaracInput, audit: NewAuditEvent) -> StoreResult<()>;
    /// All agencies, by name.
    async fn list_agencies(&self) -> StoreResult<Vec<Agency>>;
    /// One agency.
    async fn get_agency(&self, id: i64) -> StoreResult<Agency>;
    /// One agency by code.
    async fn find_agency_by_code(&self, code: &str) -> StoreResult<Option<Agency>>;
    /// Creates an agency.
    async fn create_agency(&self, input: &AgencyInput, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Changes an agency.
    async fn update_agency(&self, id: i64, input: &AgencyInput, audit: NewAuditEvent) -> StoreResult<()>;
    /// Every directory entry.
    async fn list_directory(&self) -> StoreResult<Vec<DirectoryEntry>>;
    /// Adds a contact.
    async fn add_directory_entry(&self, entry: &DirectoryEntry, at: Ts, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Removes a contact.
    async fn remove_directory_entry(&self, id: i64, audit: NewAuditEvent) -> StoreResult<()>;
}
