//! The workflows: each checks its rules, then writes its change, its audit event and its
//! notices in one transaction of the store, so a failure leaves none of them behind and a
//! success leaves all three. The caller has already asked the policy; a workflow's refusals are
//! the rules of the work itself (a list cannot be published empty), returned as values for the
//! page or the API to show, not as errors.

pub mod accounts;
pub mod actions;
pub mod meetings;
pub mod referrals;
pub mod transfers;
