//! Finding a case from what someone on the phone can say: a reference, a name (misspelt,
//! a nickname, or given and family names the other way round), a date of birth, a postcode, or
//! a family name alone. The terms are read here; the index keys they look up and the test each
//! candidate must pass are the person matcher's.

use crate::matching::{self, PersonDetails, normalise_name, normalise_postcode, soundex};
use crate::referral_form::parse_date;
use marac_linkage::Record;
use marac_linkage::compare::{MISSING, Prepared, levels};
use time::Date;

/// What a search asks for, read from the words typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchTerms {
    /// A referral's reference, upper case (`NSN-2025-00027`).
    pub reference: Option<String>,
    /// A date of birth.
    pub date_of_birth: Option<Date>,
    /// A postcode, normalised (`NS14AB`).
    pub postcode: Option<String>,
    /// The given name, when two or more names were typed.
    pub given_name: Option<String>,
    /// The family name (the last name typed, or the only one).
    pub family_name: Option<String>,
}

/// Why the words could not be searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchProblem {
    /// Nothing was typed.
    Empty,
    /// Nothing typed was a name, date, postcode or reference.
    Unreadable,
}

impl SearchProblem {
    /// What the search box says.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::Empty => "Enter a name, date of birth, postcode or case reference",
            Self::Unreadable => {
                "Enter a name, a date of birth like 4/4/1990, a postcode like NS1 4AB or a reference like NSN-2025-00027"
            }
        }
    }
}

/// A referral's reference: letters, a year and a number (`NSN-2025-00027`).
fn reference(word: &str) -> Option<String> {
    let parts: Vec<&str> = word.split('-').collect();
    let [code, year, number] = parts.as_slice() else { return None };
    let ok = !code.is_empty()
        && code.chars().all(|c| c.is_ascii_alphabetic())
        && year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit());
    ok.then(|| word.to_ascii_uppercase())
}

/// A UK postcode's outward code (`NS1`, `SW1A`, `M1`).
fn outward(w: &str) -> bool {
    let b = w.as_bytes();
    (2..=4).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter().all(u8::is_ascii_alphanumeric)
        && b.iter().any(u8::is_ascii_digit)
}

/// A UK postcode's inward code (`4AB`).
fn inward(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() == 3 && b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic()
}

/// A whole postcode written without its space (`NS14AB`).
fn joined_postcode(w: &str) -> bool {
    w.len() >= 5 && w.len() <= 7 && outward(&w[..w.len() - 3]) && inward(&w[w.len() - 3..])
}

/// Reads what was typed into the terms of a search.
///
/// # Errors
/// Nothing typed, or nothing that could be searched for.
pub fn read(typed: &str) -> Result<SearchTerms, SearchProblem> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(SearchProblem::Empty);
    }
    let mut terms = SearchTerms::default();
    let words: Vec<&str> = typed.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    let mut names = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if let Some(r) = reference(w) {
            terms.reference = Some(r);
        } else if let Some(d) = parse_date(w) {
            terms.date_of_birth = Some(d);
        } else if i + 1 < words.len() && outward(w) && inward(words[i + 1]) {
            terms.postcode = Some(normalise_postcode(&format!("{w}{}", words[i + 1])));
            i += 1;
        } else if joined_postcode(w) {
            terms.postcode = Some(normalise_postcode(w));
        } else if !normalise_name(w).is_empty() && w.chars().all(|c| c.is_alphabetic() || c == '\'' || c == '-') {
            names.push(w);
        } else {
            return Err(SearchProblem::Unreadable);
        }
        i += 1;
    }
    match names.as_slice() {
        [] => {}
        [family] => terms.family_name = Some((*family).to_owned()),
        [given, .., family] => {
            terms.given_name = Some((*given).to_owned());
            terms.family_name = Some((*family).to_owned());
        }
    }
    Ok(terms)
}

impl SearchTerms {
    /// The unhashed index keys to look up: a name both ways round (and the family name alone,
    /// so a nickname or a misspelling that changes the sound still finds its candidates), a
    /// date of birth, a postcode.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let sx = |n: &Option<String>| n.as_deref().map(|n| soundex(&normalise_name(n))).filter(|s| !s.is_empty());
        let (given, family) = (sx(&self.given_name), sx(&self.family_name));
        if let Some(f) = &family {
            keys.push(matching::family_key(f));
        }
        if let (Some(g), Some(f)) = (&given, &family) {
            keys.push(matching::name_key(g, f));
            keys.push(matching::name_key(f, g));
            // Typed the other way round: the first name typed may be the family name.
            keys.push(matching::family_key(g));
        }
        if let Some(d) = self.date_of_birth {
            keys.push(matching::birth_key(d));
        }
        if let Some(pc) = &self.postcode {
            keys.push(matching::postcode_key(pc));
        }
        keys
    }

    /// Whether a known person answers the search: every term given agrees (names tolerant of
    /// typing slips, nicknames and being swapped; a date of birth exactly or by one slip; a
    /// postcode exactly).
    #[must_use]
    pub fn admits(&self, known: &PersonDetails) -> bool {
        if let Some(pc) = &self.postcode
            && known.postcode.as_deref().map(normalise_postcode).as_deref() != Some(pc.as_str())
        {
            return false;
        }
        let probe = Prepared::new(&Record {
            given_name: self.given_name.clone().unwrap_or_default(),
            surname: self.family_name.clone().unwrap_or_default(),
            date_of_birth: self.date_of_birth.map(dob_text).unwrap_or_default(),
            ..Record::default()
        });
        let names = std::iter::once((known.given_name.clone(), known.family_name.clone())).chain(
            known.aliases.iter().map(|a| match a.rsplit_once(' ') {
                Some((g, f)) => (g.to_owned(), f.to_owned()),
                None => (String::new(), a.clone()),
            }),
        );
        names.into_iter().any(|(given, family)| {
            let record = Prepared::new(&Record {
                given_name: given,
                surname: family,
                date_of_birth: known.date_of_birth.map(dob_text).unwrap_or_default(),
                ..Record::default()
            });
            let l = levels(&probe, &record);
            let agrees = |level: u8, least: u8| level != MISSING && level >= least;
            let names_ok = match (&self.given_name, &self.family_name) {
                (Some(_), Some(_)) => agrees(l[0], 1) && agrees(l[1], 1) && l[0].max(l[1]) >= 2,
                (None, Some(_)) => agrees(l[1], 1),
                _ => true,
            };
            let dob_ok = self.date_of_birth.is_none() || agrees(l[2], 2);
            names_ok && dob_ok
        })
    }

    /// Whether it names no person at all (a reference alone).
    #[must_use]
    pub fn is_reference_only(&self) -> bool {
        self.reference.is_some()
            && self.family_name.is_none()
            && self.date_of_birth.is_none()
            && self.postcode.is_none()
    }
}

fn dob_text(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn person(given: &str, family: &str, dob: Option<Date>, postcode: Option<&str>) -> PersonDetails {
        PersonDetails {
            given_name: given.into(),
            family_name: family.into(),
            date_of_birth: dob,
            postcode: postcode.map(Into::into),
            ..PersonDetails::default()
        }
    }

    #[test]
    fn words_are_read_as_the_terms_they_are() {
        let t = read("Nina Vale 4/4/1990 ns1 4ab").unwrap();
        assert_eq!(t.given_name.as_deref(), Some("Nina"));
        assert_eq!(t.family_name.as_deref(), Some("Vale"));
        assert_eq!(t.date_of_birth, Some(date!(1990 - 04 - 04)));
        assert_eq!(t.postcode.as_deref(), Some("NS14AB"));
        assert_eq!(read("nsn-2025-00027").unwrap().reference.as_deref(), Some("NSN-2025-00027"));
        assert!(read("nsn-2025-00027").unwrap().is_reference_only());
        assert_eq!(read("NS14AB").unwrap().postcode.as_deref(), Some("NS14AB"));
        assert_eq!(read("Vale").unwrap().family_name.as_deref(), Some("Vale"));
        assert_eq!(read("   "), Err(SearchProblem::Empty));
        assert_eq!(read("Vale #12"), Err(SearchProblem::Unreadable));
    }

    #[test]
    fn names_are_found_misspelt_nicknamed_and_swapped() {
        let nina = person("Nina", "Vale", Some(date!(1990 - 04 - 04)), Some("NS1 4AB"));
        for typed in ["Nina Vale", "Nina Vail", "Vale Nina", "Nina Vale 4/4/1990", "Vale", "NS1 4AB", "4/4/1990"] {
            assert!(read(typed).unwrap().admits(&nina), "{typed}");
        }
        let kate = person("Katherine", "Holt", None, None);
        assert!(read("Kate Holt").unwrap().admits(&kate), "a nickname");
        for typed in ["Nina Vale 5/6/1971", "Nina Vale NS2 9ZZ", "Mary Vale", "Nina Smith"] {
            assert!(!read(typed).unwrap().admits(&nina), "{typed}");
        }
    }

    #[test]
    fn the_keys_looked_up_cover_what_a_known_person_is_filed_under() {
        let nina = person("Nina", "Vale", Some(date!(1990 - 04 - 04)), Some("NS1 4AB"));
        let filed = matching::filing_keys(&nina);
        for typed in ["Nina Vale", "Vale Nina", "Vale", "NS1 4AB", "4/4/1990", "Nina Vail"] {
            let keys = read(typed).unwrap().keys();
            assert!(keys.iter().any(|k| filed.contains(k)), "{typed}: {keys:?} against {filed:?}");
        }
    }
}
