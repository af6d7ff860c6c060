//! The keys of a form map: a field's key, the numbered keys of a group of people, and
//! adding and removing people of a group without losing what was typed for the others.

use super::*;

/// The key of a field of one person in a group: `perpetrators.0.family_name`.
#[must_use]
pub fn group_key(section: Section, index: usize, name: &str) -> String {
    format!("{}.{index}.{name}", section.prefix())
}

/// The key of a single field: `victim.family_name`.
#[must_use]
pub fn key(section: Section, name: &str) -> String {
    format!("{}.{name}", section.prefix())
}

/// The key that records a section was saved at least once.
#[must_use]
pub fn saved_key(section: Section) -> String {
    format!("_saved.{}", section.prefix())
}

pub(super) fn get<'m>(map: &'m FormMap, key: &str) -> &'m str {
    map.get(key).map_or("", |v| v.trim())
}

/// How many people a group lists: one more than the highest index with anything in it, or
/// the count kept when someone pressed "add another".
#[must_use]
pub fn group_count(map: &FormMap, section: Section) -> usize {
    let prefix = format!("{}.", section.prefix());
    let highest = map
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split('.').next()?.parse::<usize>().ok())
        .max()
        .map_or(0, |i| i + 1);
    let kept = map.get(&format!("_count.{}", section.prefix())).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    highest.max(kept).min(MAX_GROUP)
}

pub(super) fn count_key(section: Section) -> String {
    format!("_count.{}", section.prefix())
}

/// Adds an empty person to a group ("Add another") and returns their index, or `None` when
/// the group is full.
pub fn add_to_group(map: &mut FormMap, section: Section) -> Option<usize> {
    let count = group_count(map, section).max(1);
    if count >= MAX_GROUP {
        return None;
    }
    map.insert(count_key(section), (count + 1).to_string());
    Some(count)
}

/// Whether person `index` of a group has nothing typed in, so removing them loses nothing.
#[must_use]
pub fn group_member_is_empty(map: &FormMap, section: Section, index: usize) -> bool {
    section.group_fields().iter().all(|f| get(map, &group_key(section, index, f.name)).is_empty())
}

/// Removes person `index` from a group: the later ones move up and the group is one shorter
/// (never fewer than one, empty, person).
pub fn remove_from_group(map: &mut FormMap, section: Section, index: usize) {
    let before = group_count(map, section).max(1);
    let prefix = format!("{}.", section.prefix());
    let moved: Vec<(String, String)> = std::mem::take(map)
        .into_iter()
        .filter_map(|(k, v)| {
            let Some((i, name)) = k.strip_prefix(&prefix).and_then(|rest| rest.split_once('.')) else {
                return Some((k, v));
            };
            match i.parse::<usize>() {
                Ok(i) if i == index => None,
                Ok(i) if i > index => Some((group_key(section, i - 1, name), v)),
                _ => Some((k, v)),
            }
        })
        .collect();
    map.extend(moved);
    let after = if index < before { before - 1 } else { before };
    map.insert(count_key(section), after.max(1).to_string());
}

/// Whether `key` names a field of the form (the API refuses anything else).
#[must_use]
pub fn is_known_key(key: &str) -> bool {
    let Some((prefix, rest)) = key.split_once('.') else { return false };
    let Some(section) = Section::ALL.into_iter().find(|s| s.prefix() == prefix) else { return false };
    if section == Section::Checklist {
        return rest == "version"
            || rest
                .split_once('.')
                .is_some_and(|(part, id)| ["answer", "who", "source", "comment"].contains(&part) && !id.is_empty());
    }
    if section.fields().iter().any(|f| f.name == rest) {
        return true;
    }
    match rest.split_once('.') {
        Some((i, name)) => {
            i.parse::<usize>().is_ok_and(|i| i < MAX_GROUP) && section.group_fields().iter().any(|f| f.name == name)
        }
        None => false,
    }
}

/// The keys of the form's own fields, one constant each, so code that reads or checks a field
/// names it rather than retyping its key (a person of a group is keyed by [`group_key`]). The
/// test `every_field_key_constant_names_a_field` holds them to the definition.
pub mod field {
    /// `referral.marac`.
    pub const REFERRAL_MARAC: &str = "referral.marac";
    /// `referral.incident_date`.
    pub const REFERRAL_INCIDENT_DATE: &str = "referral.incident_date";
    /// `referral.police_incidents`.
    pub const REFERRAL_POLICE_INCIDENTS: &str = "referral.police_incidents";
    /// `referral.joint_agency`.
    pub const REFERRAL_JOINT_AGENCY: &str = "referral.joint_agency";
    /// `referral.transferred_from`.
    pub const REFERRAL_TRANSFERRED_FROM: &str = "referral.transferred_from";
    /// `victim.given_name`.
    pub const VICTIM_GIVEN_NAME: &str = "victim.given_name";
    /// `victim.family_name`.
    pub const VICTIM_FAMILY_NAME: &str = "victim.family_name";
    /// `victim.aliases`.
    pub const VICTIM_ALIASES: &str = "victim.aliases";
    /// `victim.date_of_birth`.
    pub const VICTIM_DATE_OF_BIRTH: &str = "victim.date_of_birth";
    /// `victim.age`.
    pub const VICTIM_AGE: &str = "victim.age";
    /// `victim.gender`.
    pub const VICTIM_GENDER: &str = "victim.gender";
    /// `victim.ethnicity`.
    pub const VICTIM_ETHNICITY: &str = "victim.ethnicity";
    /// `victim.disability`.
    pub const VICTIM_DISABILITY: &str = "victim.disability";
    /// `victim.lgbt`.
    pub const VICTIM_LGBT: &str = "victim.lgbt";
    /// `victim.pregnant`.
    pub const VICTIM_PREGNANT: &str = "victim.pregnant";
    /// `victim.first_language`.
    pub const VICTIM_FIRST_LANGUAGE: &str = "victim.first_language";
    /// `victim.interpreter`.
    pub const VICTIM_INTERPRETER: &str = "victim.interpreter";
    /// `victim.address`.
    pub const VICTIM_ADDRESS: &str = "victim.address";
    /// `victim.postcode`.
    pub const VICTIM_POSTCODE: &str = "victim.postcode";
    /// `victim.phone`.
    pub const VICTIM_PHONE: &str = "victim.phone";
    /// `victim.safe_to_call`.
    pub const VICTIM_SAFE_TO_CALL: &str = "victim.safe_to_call";
    /// `victim.safe_times`.
    pub const VICTIM_SAFE_TIMES: &str = "victim.safe_times";
    /// `victim.email`.
    pub const VICTIM_EMAIL: &str = "victim.email";
    /// `children.any`.
    pub const CHILDREN_ANY: &str = "children.any";
    /// `checklist.version`.
    pub const CHECKLIST_VERSION: &str = "checklist.version";
    /// `reason.professional_judgement`.
    pub const REASON_PROFESSIONAL_JUDGEMENT: &str = "reason.professional_judgement";
    /// `reason.professional_judgement_reason`.
    pub const REASON_PROFESSIONAL_JUDGEMENT_REASON: &str = "reason.professional_judgement_reason";
    /// `consent.given`.
    pub const CONSENT_GIVEN: &str = "consent.given";
    /// `consent.victim_knows`.
    pub const CONSENT_VICTIM_KNOWS: &str = "consent.victim_knows";
    /// `consent.justification`.
    pub const CONSENT_JUSTIFICATION: &str = "consent.justification";
    /// `consent.afraid_of`.
    pub const CONSENT_AFRAID_OF: &str = "consent.afraid_of";
    /// `consent.safe_to_talk`.
    pub const CONSENT_SAFE_TO_TALK: &str = "consent.safe_to_talk";
    /// `consent.not_safe_to_talk`.
    pub const CONSENT_NOT_SAFE_TO_TALK: &str = "consent.not_safe_to_talk";
    /// `consent.previous_maracs`.
    pub const CONSENT_PREVIOUS_MARACS: &str = "consent.previous_maracs";
    /// `consent.previous_details`.
    pub const CONSENT_PREVIOUS_DETAILS: &str = "consent.previous_details";
    /// `summary.text`.
    pub const SUMMARY_TEXT: &str = "summary.text";

    /// Every constant above, for the test that holds them to the form's definition.
    pub const ALL: &[&str] = &[
        REFERRAL_MARAC,
        REFERRAL_INCIDENT_DATE,
        REFERRAL_POLICE_INCIDENTS,
        REFERRAL_JOINT_AGENCY,
        REFERRAL_TRANSFERRED_FROM,
        VICTIM_GIVEN_NAME,
        VICTIM_FAMILY_NAME,
        VICTIM_ALIASES,
        VICTIM_DATE_OF_BIRTH,
        VICTIM_AGE,
        VICTIM_GENDER,
        VICTIM_ETHNICITY,
        VICTIM_DISABILITY,
        VICTIM_LGBT,
        VICTIM_PREGNANT,
        VICTIM_FIRST_LANGUAGE,
        VICTIM_INTERPRETER,
        VICTIM_ADDRESS,
        VICTIM_POSTCODE,
        VICTIM_PHONE,
        VICTIM_SAFE_TO_CALL,
        VICTIM_SAFE_TIMES,
        VICTIM_EMAIL,
        CHILDREN_ANY,
        CHECKLIST_VERSION,
        REASON_PROFESSIONAL_JUDGEMENT,
        REASON_PROFESSIONAL_JUDGEMENT_REASON,
        CONSENT_GIVEN,
        CONSENT_VICTIM_KNOWS,
        CONSENT_JUSTIFICATION,
        CONSENT_AFRAID_OF,
        CONSENT_SAFE_TO_TALK,
        CONSENT_NOT_SAFE_TO_TALK,
        CONSENT_PREVIOUS_MARACS,
        CONSENT_PREVIOUS_DETAILS,
        SUMMARY_TEXT,
    ];
}
