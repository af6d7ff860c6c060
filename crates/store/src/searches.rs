//! Searches kept for the session that made them: the results of a search live at an opaque
//! address, and the terms (names, dates of birth) are sealed by the application.

use crate::{StoreResult, Ts};
use async_trait::async_trait;

/// A search as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSearch {
    /// The opaque id its address carries.
    pub id: String,
    /// The session (the hash of its token) that made it: no other session may open it.
    pub session_id: String,
    /// Who searched.
    pub user_id: i64,
    /// The terms, sealed.
    pub terms_sealed: String,
    /// When.
    pub created_at: Ts,
}

/// Searches kept for their session.
#[async_trait]
pub trait SearchStore {
    /// Keeps a search.
    async fn save_search(&self, search: &SavedSearch) -> StoreResult<()>;
    /// A kept search; `NotFound` if there is none.
    async fn get_search(&self, id: &str) -> StoreResult<SavedSearch>;
    /// Removes the searches made before `before`; returns how many.
    async fn remove_searches_before(&self, before: Ts) -> StoreResult<u64>;
}
