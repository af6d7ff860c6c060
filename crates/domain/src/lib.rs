//! The Marac domain: roles, the access policy, the rules each Marac sets, and the audit chain.
//!
//! Everything here is plain Rust with no I/O, so every rule can be unit-tested on its own and
//! the web and storage layers only translate between this and the outside world.

pub mod agency_category;
pub mod agency_list;
pub mod areas;
pub mod audit;
pub mod cadence;
pub mod case_stage;
pub mod checklist;
pub mod coded;
pub mod confidentiality;
pub mod directory;
pub mod fields;
pub mod flags;
pub mod idempotency;
pub mod import;
pub mod keys;
pub mod marac_rules;
pub mod matching;
pub mod measures;
pub mod meeting_rules;
pub mod notices;
pub mod paging;
pub mod password_policy;
pub mod period;
pub mod policy;
pub mod referral_form;
pub mod referral_rules;
pub mod referral_status;
pub mod research;
pub mod role;
pub mod safelives_return;
pub mod search;
pub mod session_rules;
pub mod sign_in_throttle;
pub mod suppression;
pub mod transfer;
pub mod uk_time;

pub use agency_category::AgencyCategory;
pub use cadence::MeetingCadence;
pub use marac_rules::MaracRules;
pub use referral_status::ReferralStatus;
pub use role::Role;
