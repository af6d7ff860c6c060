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
