//! Keys of requests that may be sent twice ([`marac_domain::idempotency`]): claimed before the
//! work starts, marked with what the work made in the work's own transaction, and given the
//! response once it is sent.

use crate::{StoreResult, Ts};
use async_trait::async_trait;

/// A request's claim on its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// The key's scope ([`marac_domain::idempotency::scope`]).
    pub scope: String,
    /// Whose key it is.
    pub user_id: i64,
    /// What makes a second sending the same request ([`marac_domain::idempotency::fingerprint`]).
    pub fingerprint: String,
    /// This request.
    pub request_id: String,
    /// Now.
    pub now: Ts,
    /// Until when this request holds the key, unless it finishes first.
    pub lease_until: Ts,
    /// Keys claimed before this are forgotten and may be used afresh.
    pub forget_before: Ts,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The key is this request's: do the work.
    Claimed,
    /// The key was used and answered: send the same answer.
    Answered {
        /// The answer's status.
        status: u16,
        /// The answer, sealed by the caller.
        response_sealed: String,
        /// What the request made, if it saved anything.
        outcome: Option<String>,
    },
    /// Another request with this key is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
    /// The request that held the key saved its work but its server stopped before answering;
    /// `outcome` is what it made (the target of its first audit event, e.g. `referral:12`).
    SavedUnanswered {
        /// What was made.
        outcome: String,
    },
}

/// Requests that may be sent twice: who holds an idempotency key and what it was answered.
#[async_trait]
pub trait IdempotencyStore {
    /// Claims an idempotency key for a request, or says what became of its earlier use.
    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> StoreResult<ClaimOutcome>;
    /// Extends the hold of the request still running with the key.
    async fn renew_idempotency(&self, scope: &str, request_id: &str, lease_until: Ts) -> StoreResult<()>;
    /// Keeps the answer given to the request holding the key.
    async fn answer_idempotency(
        &self,
        scope: &str,
        request_id: &str,
        status: u16,
        response_sealed: &str,
    ) -> StoreResult<()>;
    /// Lets the key go when the request saved nothing (so it may be sent again); returns
    /// whether it was let go.
    async fn release_idempotency(&self, scope: &str, request_id: &str) -> StoreResult<bool>;
    /// Forgets keys claimed before `before`; returns how many.
    async fn forget_idempotency(&self, before: Ts) -> StoreResult<u64>;
}
