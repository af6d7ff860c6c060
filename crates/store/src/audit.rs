//! The tamper-evident audit trail: appending events and reading them back.

use crate::StoreResult;
use crate::Ts;
use async_trait::async_trait;
use marac_domain::audit::AuditEvent;
use marac_domain::audit::NewAuditEvent;

/// Filter for the auditor's list of events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Action code prefix, e.g. `sign_in`.
    pub action_prefix: Option<String>,
    /// Actor label (e-mail) contains this.
    pub actor_contains: Option<String>,
    /// Only `success`, `failure` or `denied`.
    pub outcome: Option<String>,
    /// Not before this time.
    pub from: Option<Ts>,
    /// Before this time.
    pub to: Option<Ts>,
    /// Only events with a sequence number below this (for paging back in time).
    pub before_seq: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// The tamper-evident audit trail: appending events and reading them back.
#[async_trait]
pub trait AuditStore {
    /// Appends one event in its own transaction.
    async fn append_audit(&self, audit: NewAuditEvent) -> StoreResult<()>;
    /// Events matching a filter, newest first.
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>>;
    /// Events after `after_seq`, oldest first, at most `limit`: for verification and export.
    async fn audit_events_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEvent>>;
    /// The chain head: newest sequence number and hash.
    async fn audit_head(&self) -> StoreResult<(i64, String)>;
}
