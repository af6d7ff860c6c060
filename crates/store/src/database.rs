//! The database itself: which backend it is, its migrations, and whether it answers and takes
//! writes.

use crate::{Backend, StoreResult};
use async_trait::async_trait;

/// The database itself: which backend it is, its migrations, and whether it answers and takes writes.
#[async_trait]
pub trait DatabaseStore {
    /// Which database this is.
    fn backend(&self) -> Backend;
    /// Applies any migrations not yet applied.
    async fn migrate(&self) -> StoreResult<()>;
    /// Checks the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Commits a write of some size (64 KiB), to tell whether the database takes writes again
    /// after they failed for want of space.
    async fn probe_write(&self) -> StoreResult<()>;
    /// Every `(table, column)` in the schema, sorted, for the parity test.
    async fn schema_columns(&self) -> StoreResult<Vec<(String, String)>>;
}
