//! The referral form: its sections, fields and validation, in one definition that the pages,
//! the check-answers summary and the JSON API all use.
//!
//! A referral is held as a flat map of field keys to what was typed (`victim.given_name`,
//! `perpetrators.0.family_name`, `checklist.answer.q3`), so a draft keeps everything exactly
//! as entered, errors and all, and the API's JSON maps onto the same keys (`/victim/given_name`).
//!
//! Split by job: `schema.rs` declares the sections and their fields, `keys.rs` names and moves
//! the keys of a map, `validate.rs` checks what was typed, `extract.rs` reads people, facts and
//! figures out of a checked map, and `json.rs` turns the API's JSON into a map.

use crate::MaracRules;
use crate::checklist::{Answer, Checklist};
use crate::fields::Email;
use crate::fields::{TextKind, check_text};
use crate::matching::PersonDetails;
use crate::referral_rules::{self, Assessment, ReferralFacts, Refusal};
use serde::Serialize;
use std::collections::BTreeMap;
use time::{Date, Month};

mod extract;
mod json;
mod keys;
mod schema;
#[cfg(test)]
mod tests;
mod validate;

pub use extract::*;
pub use json::*;
pub use keys::*;
pub use schema::*;
pub use validate::*;

/// Everything typed into a referral, by field key.
pub type FormMap = BTreeMap<String, String>;
