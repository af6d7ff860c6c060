//! Comparing two records field by field into agreement levels: names by Jaro-Winkler (and
//! swapped given and family names), dates with typo and day/month-swap tolerance, postcodes and
//! addresses by similarity. A missing value is its own level and counts for nothing.

use crate::Record;
use crate::normalise::{digits, given_name, soundex, surname, text};
use strsim::{jaro_winkler, levenshtein};

/// The fields compared, in order. The parts of an address are compared as one field: they
/// move together when a person moves, and counting each would punish a move four times.
pub const FIELDS: [&str; 5] = ["given name", "surname", "date of birth", "address", "national id"];

/// Levels per field, the highest being exact agreement; [`MISSING`] where either is empty.
pub const LEVELS: [u8; 5] = [4, 4, 4, 5, 2];

/// Either value missing.
pub const MISSING: u8 = u8::MAX;

/// One pair's agreement level per field.
pub type Levels = [u8; 5];

/// A record normalised for comparing and blocking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Given name, nicknames expanded.
    pub given: String,
    /// Given name as typed (normalised).
    pub given_typed: String,
    /// Family name.
    pub surname: String,
    /// Soundex of each.
    pub given_sx: String,
    /// Soundex of the family name.
    pub surname_sx: String,
    /// `YYYYMMDD` or empty.
    pub dob: String,
    /// Postcode.
    pub postcode: String,
    /// Suburb.
    pub suburb: String,
    /// Address lines.
    pub address_1: String,
    /// Second line.
    pub address_2: String,
    /// House number.
    pub street_number: String,
    /// State.
    pub state: String,
    /// National id.
    pub national_id: String,
}

impl Prepared {
    /// Normalises a record.
    #[must_use]
    pub fn new(r: &Record) -> Prepared {
        let given = given_name(&r.given_name);
        let surname = surname(&r.surname);
        let dob = digits(&r.date_of_birth);
        Prepared {
            given_sx: soundex(&given),
            surname_sx: soundex(&surname),
            given_typed: text(&r.given_name),
            given,
            surname,
            dob: if dob.len() == 8 { dob } else { String::new() },
            postcode: text(&r.postcode).replace(' ', ""),
            suburb: text(&r.suburb),
            address_1: text(&r.address_1),
            address_2: text(&r.address_2),
            street_number: digits(&r.street_number),
            state: text(&r.state),
            national_id: digits(&r.national_id),
        }
    }
}

/// Names: 3 the same, 2 very close (Jaro-Winkler 0.92), 1 close (0.80), 0 different.
fn name(a: &str, b: &str) -> u8 {
    if a.is_empty() || b.is_empty() {
        MISSING
    } else if a == b {
        3
    } else {
        let s = jaro_winkler(a, b);
        if s >= 0.92 {
            2
        } else if s >= 0.8 {
            1
        } else {
            0
        }
    }
}

/// Dates: 3 the same, 2 one typo or day and month swapped, 1 the same year (or month and day
/// with a year one out), 0 different.
fn date(a: &str, b: &str) -> u8 {
    if a.is_empty() || b.is_empty() {
        return MISSING;
    }
    if a == b {
        return 3;
    }
    let swapped = format!("{}{}{}", &b[..4], &b[6..8], &b[4..6]);
    if a == swapped || levenshtein(a, b) == 1 || transposed(a, b) {
        return 2;
    }
    let year = |s: &str| s[..4].parse::<i32>().unwrap_or(0);
    if a[..4] == b[..4] || (a[4..] == b[4..] && (year(a) - year(b)).abs() == 1) {
        return 1;
    }
    0
}

/// Two adjacent characters swapped.
fn transposed(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff: Vec<usize> = a.bytes().zip(b.bytes()).enumerate().filter(|(_, (x, y))| x != y).map(|(i, _)| i).collect();
    diff.len() == 2
        && diff[1] == diff[0] + 1
        && a.as_bytes()[diff[0]] == b.as_bytes()[diff[1]]
        && a.as_bytes()[diff[1]] == b.as_bytes()[diff[0]]
}

/// Text: 2 the same, 1 close (Jaro-Winkler 0.9 or one edit), 0 different.
fn similar(a: &str, b: &str) -> u8 {
    if a.is_empty() || b.is_empty() {
        MISSING
    } else if a == b {
        2
    } else if jaro_winkler(a, b) >= 0.9 || levenshtein(a, b) == 1 {
        1
    } else {
        0
    }
}

fn exact(a: &str, b: &str) -> u8 {
    if a.is_empty() || b.is_empty() { MISSING } else { u8::from(a == b) }
}

/// The address as one field: 4 the same street address in the same postcode or town, 3 the
/// same street address, or the same postcode and town, 2 the same postcode or town, 1 the same
/// state or a postcode one character out, 0 elsewhere.
fn address(a: &Prepared, b: &Prepared) -> u8 {
    let street = |p: &Prepared| !p.address_1.is_empty() || !p.address_2.is_empty();
    let area = |p: &Prepared| !p.postcode.is_empty() || !p.suburb.is_empty();
    if !(street(a) || area(a)) || !(street(b) || area(b)) {
        return MISSING;
    }
    let lines = |x: &str, y: &str| !x.is_empty() && !y.is_empty() && similar(x, y) >= 1;
    let same_street = (lines(&a.address_1, &b.address_1) || lines(&a.address_2, &b.address_2))
        && (a.street_number.is_empty() || b.street_number.is_empty() || a.street_number == b.street_number);
    let postcode = !a.postcode.is_empty() && similar(&a.postcode, &b.postcode) == 2;
    let town = !a.suburb.is_empty() && !b.suburb.is_empty() && similar(&a.suburb, &b.suburb) >= 1;
    if same_street && (postcode || town) {
        4
    } else if same_street || (postcode && town) {
        3
    } else if postcode || town {
        2
    } else if (!a.state.is_empty() && a.state == b.state) || similar(&a.postcode, &b.postcode) == 1 {
        1
    } else {
        0
    }
}

/// The agreement levels of a pair.
#[must_use]
pub fn levels(a: &Prepared, b: &Prepared) -> Levels {
    let typed = if a.given_typed.is_empty() { MISSING } else { name(&a.given_typed, &b.given_typed) };
    let mut given = match (name(&a.given, &b.given), typed) {
        (MISSING, t) => t,
        (g, MISSING) => g,
        (g, t) => g.max(t),
    };
    let mut family = name(&a.surname, &b.surname);
    // Given and family names written the other way round agree as names, typos and all.
    let (swap_given, swap_family) = (name(&a.given, &b.surname), name(&a.surname, &b.given));
    if swap_given != MISSING && swap_family != MISSING && swap_given >= 2 && swap_family >= 2 {
        let (g, f) = (if given == MISSING { 0 } else { given }, if family == MISSING { 0 } else { family });
        if swap_given.min(swap_family) > g.min(f) {
            given = swap_given;
            family = swap_family;
        }
    }
    [given, family, date(&a.dob, &b.dob), address(a, b), exact(&a.national_id, &b.national_id)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(given: &str, family: &str, dob: &str) -> Prepared {
        Prepared::new(&Record {
            given_name: given.into(),
            surname: family.into(),
            date_of_birth: dob.into(),
            ..Record::default()
        })
    }

    #[test]
    fn names_agree_by_degree_and_when_swapped() {
        // A nickname is the same name; Smyth and Smith are close (Jaro-Winkler 0.89).
        assert_eq!(levels(&rec("Kate", "Smyth", ""), &rec("Katherine", "Smith", ""))[..2], [3, 1]);
        assert_eq!(levels(&rec("Lee", "Ward", ""), &rec("Ward", "Lee", ""))[..2], [3, 3]);
        assert_eq!(levels(&rec("Ann", "Bell", ""), &rec("", "Bell", ""))[0], MISSING);
    }

    #[test]
    fn an_address_is_one_field_so_a_move_counts_once() {
        let at = |number: &str, street: &str, postcode: &str, state: &str| {
            Prepared::new(&Record {
                street_number: number.into(),
                address_1: street.into(),
                postcode: postcode.into(),
                state: state.into(),
                ..Record::default()
            })
        };
        let home = at("12", "Herschell Circuit", "2272", "nsw");
        assert_eq!(levels(&home, &at("12", "Herschell Circuit", "2272", "nsw"))[3], 4, "the same address");
        assert_eq!(levels(&home, &at("12", "Herschel Circuit", "2227", "nsw"))[3], 3, "same street, typos");
        assert_eq!(levels(&home, &at("4", "Rogers Street", "2272", "nsw"))[3], 2, "same postcode");
        assert_eq!(levels(&home, &at("4", "Rogers Street", "2000", "nsw"))[3], 1, "same state");
        assert_eq!(levels(&home, &at("4", "Rogers Street", "3000", "vic"))[3], 0, "moved away");
        assert_eq!(levels(&home, &Prepared::new(&Record::default()))[3], MISSING);
    }

    #[test]
    fn dates_tolerate_typos_and_swaps() {
        let d = |a: &str, b: &str| levels(&rec("a", "b", a), &rec("a", "b", b))[2];
        assert_eq!(d("19910703", "19910703"), 3);
        assert_eq!(d("19910703", "19910307"), 2, "day and month swapped");
        assert_eq!(d("19910703", "19910704"), 2, "one digit");
        assert_eq!(d("19910703", "19190703"), 2, "two digits transposed");
        assert_eq!(d("19910703", "19911225"), 1, "same year");
        assert_eq!(d("19910703", "19800101"), 0);
        assert_eq!(d("19910703", "1991"), MISSING, "not a date");
    }
}
