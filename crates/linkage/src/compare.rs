//! Comparing two records field by field into agreement levels: names by Jaro-Winkler (and
//! swapped given and family names), dates with typo and day/month-swap tolerance, postcodes and
//! addresses by similarity. A missing value is its own level and counts for nothing.

use crate::Record;
use crate::normalise::{digits, given_name, soundex, surname, text};
use crate::similarity::{jaro_winkler, within_one_edit};

/// The fields compared, in order. The parts of an address are compared as one field: they
/// move together when a person moves, and counting each would punish a move four times.
pub const FIELDS: [&str; 5] = ["given name", "surname", "date of birth", "address", "national id"];

/// Levels per field, the highest being exact agreement; [`MISSING`] where either is empty.
pub const LEVELS: [u8; 5] = [4, 4, 4, 5, 2];

/// Either value missing.
pub const MISSING: u8 = u8::MAX;

/// One pair's agreement level per field.
pub type Levels = [u8; 5];

/// A record normalised for comparing and blocking. Its values live in one allocation, so
/// comparing a pair touches two places in memory rather than two dozen: on a large list the
/// comparisons are bound by memory, not arithmetic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    text: Box<str>,
    ends: [u32; PARTS],
}

const PARTS: usize = 13;

macro_rules! parts {
    ($($(#[$doc:meta])* $name:ident = $i:expr;)*) => {
        impl Prepared {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(&self) -> &str {
                    let start = if $i == 0 { 0 } else { self.ends[$i - 1] as usize };
                    self.text.get(start..self.ends[$i] as usize).unwrap_or("")
                }
            )*
        }
    };
}

parts! {
    /// Given name, nicknames expanded.
    given = 0;
    /// Given name as typed (normalised).
    given_typed = 1;
    /// Family name.
    surname = 2;
    /// Soundex of the given name.
    given_sx = 3;
    /// Soundex of the family name.
    surname_sx = 4;
    /// `YYYYMMDD` or empty.
    dob = 5;
    /// Postcode.
    postcode = 6;
    /// Town or suburb.
    suburb = 7;
    /// First address line.
    address_1 = 8;
    /// Second address line.
    address_2 = 9;
    /// House number.
    street_number = 10;
    /// State or county.
    state = 11;
    /// National id.
    national_id = 12;
}

impl Prepared {
    /// Normalises a record.
    #[must_use]
    pub fn new(r: &Record) -> Prepared {
        let given = given_name(&r.given_name);
        let family = surname(&r.surname);
        let dob = digits(&r.date_of_birth);
        let values: [&str; PARTS] = [
            &given,
            &text(&r.given_name),
            &family,
            &soundex(&given),
            &soundex(&family),
            if dob.len() == 8 { &dob } else { "" },
            &text(&r.postcode).replace(' ', ""),
            &text(&r.suburb),
            &text(&r.address_1),
            &text(&r.address_2),
            &digits(&r.street_number),
            &text(&r.state),
            &digits(&r.national_id),
        ];
        let mut all = String::with_capacity(values.iter().map(|v| v.len()).sum());
        let mut ends = [0; PARTS];
        for (end, v) in ends.iter_mut().zip(values) {
            all.push_str(v);
            *end = u32::try_from(all.len()).unwrap_or(u32::MAX);
        }
        Prepared { text: all.into_boxed_str(), ends }
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
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let swapped = x.len() == 8 && y.len() == 8 && x[..4] == y[..4] && x[4..6] == y[6..8] && x[6..8] == y[4..6];
    if swapped || within_one_edit(a, b) || transposed(x, y) {
        return 2;
    }
    let year = |s: &str| s.get(..4).and_then(|y| y.parse::<i32>().ok()).unwrap_or(0);
    if a.get(..4) == b.get(..4) || (a.get(4..) == b.get(4..) && (year(a) - year(b)).abs() == 1) {
        return 1;
    }
    0
}

/// Two adjacent characters swapped, and nothing else different.
fn transposed(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let Some(first) = a.iter().zip(b).position(|(x, y)| x != y) else { return false };
    first + 1 < a.len() && a[first] == b[first + 1] && a[first + 1] == b[first] && a[first + 2..] == b[first + 2..]
}

/// Text: 2 the same, 1 close (Jaro-Winkler 0.9 or one edit), 0 different.
fn similar(a: &str, b: &str) -> u8 {
    if a.is_empty() || b.is_empty() {
        MISSING
    } else if a == b {
        2
    } else if within_one_edit(a, b) || jaro_winkler(a, b) >= 0.9 {
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
    let street = |p: &Prepared| !p.address_1().is_empty() || !p.address_2().is_empty();
    let area = |p: &Prepared| !p.postcode().is_empty() || !p.suburb().is_empty();
    if !(street(a) || area(a)) || !(street(b) || area(b)) {
        return MISSING;
    }
    let lines = |x: &str, y: &str| !x.is_empty() && !y.is_empty() && similar(x, y) >= 1;
    let same_number =
        a.street_number().is_empty() || b.street_number().is_empty() || a.street_number() == b.street_number();
    let same_street = same_number && (lines(a.address_1(), b.address_1()) || lines(a.address_2(), b.address_2()));
    let postcode = !a.postcode().is_empty() && similar(a.postcode(), b.postcode()) == 2;
    let town = !a.suburb().is_empty() && !b.suburb().is_empty() && similar(a.suburb(), b.suburb()) >= 1;
    if same_street && (postcode || town) {
        4
    } else if same_street || (postcode && town) {
        3
    } else if postcode || town {
        2
    } else if (!a.state().is_empty() && a.state() == b.state()) || similar(a.postcode(), b.postcode()) == 1 {
        1
    } else {
        0
    }
}

/// The agreement levels of a pair.
#[must_use]
pub fn levels(a: &Prepared, b: &Prepared) -> Levels {
    let mut given = name(a.given(), b.given());
    if given != 3 && (a.given_typed() != a.given() || b.given_typed() != b.given()) {
        // A nickname expanded on one side only may still agree as typed.
        given = match (given, name(a.given_typed(), b.given_typed())) {
            (MISSING, t) => t,
            (g, MISSING) => g,
            (g, t) => g.max(t),
        };
    }
    let mut family = name(a.surname(), b.surname());
    // Given and family names written the other way round agree as names, typos and all.
    let swap = || (name(a.given(), b.surname()), name(a.surname(), b.given()));
    let unsure = |l: u8| l == MISSING || l < 2;
    let initial = |x: &str| x.as_bytes().first().copied();
    // Both cross comparisons must start alike to reach "very close", which spares the two
    // Jaro-Winkler computations for almost every pair.
    if (unsure(given) || unsure(family))
        && initial(a.given()) == initial(b.surname())
        && initial(a.surname()) == initial(b.given())
        && let (swap_given, swap_family) = swap()
        && swap_given != MISSING
        && swap_family != MISSING
        && swap_given >= 2
        && swap_family >= 2
    {
        let (g, f) = (if given == MISSING { 0 } else { given }, if family == MISSING { 0 } else { family });
        if swap_given.min(swap_family) > g.min(f) {
            given = swap_given;
            family = swap_family;
        }
    }
    [given, family, date(a.dob(), b.dob()), address(a, b), exact(a.national_id(), b.national_id())]
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
