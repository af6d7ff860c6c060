//! Keys of requests that may be sent twice ([`marac_domain::idempotency`]): claimed before the
//! work starts, marked with what the work made in the work's own transaction, and given the
//! response once it is sent.

use crate::Ts;

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
