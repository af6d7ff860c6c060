//! The installed versions of the risk checklists.

use crate::StoreResult;
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;

/// A risk checklist as loaded into the database: its definition is the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistRecord {
    /// Checklist id, e.g. `safelives-dash`.
    pub checklist_id: String,
    /// Version.
    pub version: String,
    /// Title.
    pub title: String,
    /// `shipped` with the product, or `imported` by an area.
    pub source: String,
    /// Number of questions.
    pub question_count: i64,
    /// The TOML definition.
    pub definition: String,
}

impl ChecklistRecord {
    /// The record for a checked checklist and the file text it was read from.
    #[must_use]
    pub fn new(checklist: &marac_domain::checklist::Checklist, definition: String, source: &str) -> Self {
        ChecklistRecord {
            checklist_id: checklist.id.clone(),
            version: checklist.version.clone(),
            title: checklist.title.clone(),
            source: source.to_owned(),
            question_count: i64::try_from(checklist.questions().count()).unwrap_or(i64::MAX),
            definition,
        }
    }
}

/// The installed versions of the risk checklists.
#[async_trait]
pub trait ChecklistStore {
    /// Loads a checklist version. Returns `false` if that id and version are already loaded
    /// with the same definition; a different definition under the same id and version is a
    /// [`crate::StoreError::Conflict`], because assessments made with it must keep meaning the same.
    async fn install_checklist(&self, checklist: &ChecklistRecord, audit: NewAuditEvent) -> StoreResult<bool>;
    /// Every loaded checklist version, by id then version.
    async fn list_checklists(&self) -> StoreResult<Vec<ChecklistRecord>>;
    /// One checklist version.
    async fn get_checklist(&self, checklist_id: &str, version: &str) -> StoreResult<Option<ChecklistRecord>>;
}
