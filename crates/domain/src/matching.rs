//! Is a person named on a referral someone already known?
//!
//! Two steps: [`blocking_keys`] names the few groups a person could share with a match (cheap
//! to look up in an index), and [`compare`] scores one candidate and says why. The scoring is
//! the person matcher's (`marac-linkage`): names normalised with nicknames and accents and
//! compared by Jaro-Winkler (swapped given and family names too, aliases included), dates of
//! birth tolerant of typing slips and day/month swaps, estimated age, and postcode, weighed by a
//! Fellegi-Sunter model whose evidence is shown field by field in bits.

use marac_linkage::Record;
use marac_linkage::compare::{Levels, MISSING, Prepared, levels};
use marac_linkage::model::{Explanation, Frequencies, Model};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::LazyLock;
use time::Date;

/// What is known about a person for matching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonDetails {
    /// Given name(s).
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Other names they are known by ("given family", or one word).
    pub aliases: Vec<String>,
    /// Date of birth, if known.
    pub date_of_birth: Option<Date>,
    /// Year of birth estimated from an age, if the date is not known.
    pub estimated_birth_year: Option<i32>,
    /// Postcode of their address, if known.
    pub postcode: Option<String>,
}

/// Why a candidate looks like the same person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchResult {
    /// 0 to 100; 50 and above is shown as a likely match.
    pub score: u32,
    /// Same name and date of birth: treated as the same person without asking.
    pub certain: bool,
    /// The evidence, in words for the coordinator.
    pub reasons: Vec<String>,
}

/// The score from which a candidate is shown to the coordinator.
pub const LIKELY: u32 = 50;

/// Lower-case letters only, words separated by one space ("O'Neil-Smith" → "oneil smith").
#[must_use]
pub fn normalise_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(|c: char| c.is_whitespace() || c == '-') {
        let w: String = word.chars().filter(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect();
        if !w.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&w);
        }
    }
    out
}

/// Upper-case letters and digits only ("ns1 4ab" → "NS14AB").
#[must_use]
pub fn normalise_postcode(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

/// Soundex, as the person matcher computes it: names that sound alike share a code.
pub use marac_linkage::normalise::soundex;

fn names_of(p: &PersonDetails) -> Vec<(String, String)> {
    let mut names = vec![(normalise_name(&p.given_name), normalise_name(&p.family_name))];
    for alias in &p.aliases {
        let n = normalise_name(alias);
        match n.rsplit_once(' ') {
            Some((g, f)) => names.push((g.to_owned(), f.to_owned())),
            None if !n.is_empty() => names.push((String::new(), n)),
            None => {}
        }
    }
    names.retain(|(g, f)| !g.is_empty() || !f.is_empty());
    names
}

fn birth_years(p: &PersonDetails) -> Vec<i32> {
    match (p.date_of_birth, p.estimated_birth_year) {
        (Some(d), _) => vec![d.year()],
        // An estimated age may be a year out either way.
        (None, Some(y)) => vec![y - 1, y, y + 1],
        (None, None) => Vec::new(),
    }
}

/// Which set of [`filing_keys`] people are filed under. When the keys (or how the store's
/// index hashes them) change, this goes up and everyone filed under an older set is filed again
/// by the worker (2: the hashes keyed per partnership, and the name with day and month of birth
/// added; 3: the [`search_keys`] for a family name or a postcode alone).
pub const BLOCKING_KEYS_VERSION: i64 = 3;

/// Every key a person is filed under: the [`blocking_keys`] matching looks up, and the
/// [`search_keys`] only a search asks.
#[must_use]
pub fn filing_keys(p: &PersonDetails) -> Vec<String> {
    let mut keys = blocking_keys(p);
    keys.extend(search_keys(p));
    keys.sort();
    keys.dedup();
    keys
}

/// The keys a search finds a person by when it has no more than a family name or a postcode:
/// too common to find candidates for a referral, so matching never looks them up.
#[must_use]
pub fn search_keys(p: &PersonDetails) -> Vec<String> {
    let mut keys: Vec<String> = names_of(p)
        .into_iter()
        .map(|(_, family)| soundex(&family))
        .filter(|f| !f.is_empty())
        .map(|f| family_key(&f))
        .collect();
    if let Some(pc) = p.postcode.as_deref().map(normalise_postcode).filter(|s| !s.is_empty()) {
        keys.push(postcode_key(&pc));
    }
    keys
}

/// The search key of a family name's Soundex code.
#[must_use]
pub fn family_key(soundex_code: &str) -> String {
    format!("sn:{soundex_code}")
}

/// The search key of a normalised postcode.
#[must_use]
pub fn postcode_key(postcode: &str) -> String {
    format!("po:{postcode}")
}

/// The matching key of a given and family name's Soundex codes.
#[must_use]
pub fn name_key(given_sx: &str, family_sx: &str) -> String {
    format!("nm:{given_sx}:{family_sx}")
}

/// The matching key of a date of birth.
#[must_use]
pub fn birth_key(d: Date) -> String {
    format!("dob:{d}")
}

/// The index keys under which a person is filed and searched. Two people who could match
/// share at least one key; most people share none, and a likely match shares two or more
/// unless it differs in nearly everything but one field (the store searches those first).
#[must_use]
pub fn blocking_keys(p: &PersonDetails) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(d) = p.date_of_birth {
        keys.push(birth_key(d));
    }
    let postcode = p.postcode.as_deref().map(normalise_postcode).filter(|s| !s.is_empty());
    for (given, family) in names_of(p) {
        let (g, f) = (soundex(&given), soundex(&family));
        if !f.is_empty() {
            for y in birth_years(p) {
                keys.push(format!("fy:{f}:{y}"));
            }
            keys.push(name_key(&g, &f));
            // With the name, a slip in the year of birth still leaves a second key in common.
            if let Some(d) = p.date_of_birth {
                keys.push(format!("nd:{g}:{f}:{:02}-{:02}", u8::from(d.month()), d.day()));
            }
        }
        if let Some(pc) = &postcode
            && !g.is_empty()
        {
            keys.push(format!("pc:{pc}:{g}"));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The model a single comparison is scored with, and the (empty) name frequencies it uses.
static STANDARD: LazyLock<(Model, Frequencies)> = LazyLock::new(|| (Model::standard(), Frequencies::of(&[])));

/// One name of a person as the matcher's record.
fn record(given: &str, family: &str, p: &PersonDetails) -> Record {
    Record {
        given_name: given.to_owned(),
        surname: family.to_owned(),
        postcode: p.postcode.clone().unwrap_or_default(),
        date_of_birth: p
            .date_of_birth
            .map(|d| format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day()))
            .unwrap_or_default(),
        ..Record::default()
    }
}

/// The evidence for one pair of names, with its probability.
struct Compared {
    levels: Levels,
    explanation: Explanation,
    alias: bool,
    names: ((String, String), (String, String)),
}

fn compared(
    new: &PersonDetails,
    known: &PersonDetails,
    (n, a): &((String, String), Prepared),
    (k, b): &((String, String), Prepared),
    alias: bool,
) -> Compared {
    let mut levels = levels(a, b);
    // A given name written as an initial agrees a little with a name that starts with it.
    let initial = |x: &str, y: &str| x.len() == 1 && y.starts_with(x);
    if levels[0] == 0 && (initial(&n.0, &k.0) || initial(&k.0, &n.0)) {
        levels[0] = 1;
    }
    // With no date of birth on one side, an age puts the birth year within a year or so.
    if levels[2] == MISSING {
        let (x, y) = (birth_years(new), birth_years(known));
        if !x.is_empty() && !y.is_empty() {
            levels[2] = if x.iter().any(|year| y.contains(year)) { 1 } else { 0 };
        }
    }
    let explanation = STANDARD.0.explain(&levels, &STANDARD.1, a);
    Compared { levels, explanation, alias, names: (n.clone(), k.clone()) }
}

/// Each name of a person (their own first, then aliases) with its normalised record.
fn prepared_names(p: &PersonDetails) -> Vec<((String, String), Prepared)> {
    names_of(p)
        .into_iter()
        .map(|n| {
            let prepared = Prepared::new(&record(&n.0, &n.1, p));
            (n, prepared)
        })
        .collect()
}

/// A person prepared once to be compared with many candidates: a referral's person against
/// everyone its keys find.
pub struct Matcher<'a> {
    person: &'a PersonDetails,
    names: Vec<((String, String), Prepared)>,
}

impl<'a> Matcher<'a> {
    /// Normalises `person`'s names once.
    #[must_use]
    pub fn new(person: &'a PersonDetails) -> Self {
        Matcher { person, names: prepared_names(person) }
    }

    /// Scores `known` as a match, as [`compare`] does.
    #[must_use]
    pub fn compare(&self, known: &PersonDetails) -> Option<MatchResult> {
        let known_names = prepared_names(known);
        let best = self
            .names
            .iter()
            .enumerate()
            .flat_map(|(i, n)| known_names.iter().enumerate().map(move |(j, k)| (i, n, j, k)))
            .map(|(i, n, j, k)| compared(self.person, known, n, k, i > 0 || j > 0))
            .max_by(|x, y| x.explanation.probability.total_cmp(&y.explanation.probability))?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a probability times 100, rounded")]
        let score = (best.explanation.probability * 100.0).round() as u32;
        if score < LIKELY {
            return None;
        }
        let new = self.person;
        let certain =
            best.names.0 == best.names.1 && new.date_of_birth.is_some() && new.date_of_birth == known.date_of_birth;
        Some(MatchResult { score, certain, reasons: reasons(&best, new, known) })
    }
}

/// Scores `known` as a match for `new`, with the person matcher's comparisons and a model fitted
/// on referral-like data; `None` when it is not a likely match.
#[must_use]
pub fn compare(new: &PersonDetails, known: &PersonDetails) -> Option<MatchResult> {
    Matcher::new(new).compare(known)
}

/// How strongly a weight in bits speaks, in words.
fn strength(bits: f64) -> &'static str {
    if bits >= 8.0 {
        "strong evidence"
    } else if bits >= 3.0 {
        "good evidence"
    } else if bits > 0.0 {
        "weak evidence"
    } else {
        "evidence against"
    }
}

/// The evidence in words for the coordinator, strongest first, each with how much it counts.
fn reasons(c: &Compared, new: &PersonDetails, known: &PersonDetails) -> Vec<String> {
    let weight = |field: &str| c.explanation.fields.iter().find(|f| f.0 == field).map_or(0.0, |f| f.2);
    let ((ng, nf), (kg, kf)) = &c.names;
    let alias = if c.alias { ", using a known alias" } else { "" };
    let mut out: Vec<(f64, String)> = Vec::new();
    let (g, f) = (c.levels[0], c.levels[1]);
    let names = weight("given name") + weight("surname");
    let shown = |g: &str, f: &str| format!("{} {}", title(g), title(f)).trim().to_owned();
    let name = match (g, f) {
        (3, 3) if ng == kg => "Same name".to_owned(),
        (3, 3) => format!("Same name, one a short form ({} / {})", shown(ng, nf), shown(kg, kf)),
        (3, _) if f != MISSING && f >= 1 => {
            format!("Same given name, similar family name ({} / {})", shown(ng, nf), shown(kg, kf))
        }
        (_, 3) if g != MISSING && g >= 1 => {
            format!("Same family name, similar given name or initial ({} / {})", shown(ng, nf), shown(kg, kf))
        }
        (g, f) if g != MISSING && f != MISSING && g >= 1 && f >= 1 => {
            format!("Similar name ({} / {})", shown(ng, nf), shown(kg, kf))
        }
        (3, _) => format!("Same given name only ({} / {})", shown(ng, nf), shown(kg, kf)),
        (_, 3) => format!("Same family name only ({} / {})", shown(ng, nf), shown(kg, kf)),
        _ => format!("Different names ({} / {})", shown(ng, nf), shown(kg, kf)),
    };
    out.push((names, format!("{name}{alias}")));
    let dob = weight("date of birth");
    match (c.levels[2], new.date_of_birth, known.date_of_birth) {
        (3, _, _) => out.push((dob, "Same date of birth".into())),
        (2, Some(a), Some(b))
            if a.year() == b.year() && u8::from(a.month()) == b.day() && a.day() == u8::from(b.month()) =>
        {
            out.push((dob, "Date of birth with day and month swapped".into()));
        }
        (2, _, _) => out.push((dob, "Date of birth one typing slip out".into())),
        (1, Some(_), Some(_)) => out.push((dob, "Born the same year, different date".into())),
        (1, _, _) => out.push((dob, "Similar age".into())),
        (0, _, _) => out.push((dob, "Different date of birth or age".into())),
        _ => {}
    }
    let place = weight("address");
    match c.levels[3] {
        MISSING => {}
        l if l >= 2 => out.push((place, "Same postcode".into())),
        _ => out.push((place, "Different postcode".into())),
    }
    out.sort_by(|x, y| y.0.total_cmp(&x.0));
    out.into_iter().map(|(bits, text)| format!("{text}: {} ({bits:+.1} bits)", strength(bits))).collect()
}

fn title(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A key shared by more people than this says little (a common name, a popular birthday) and
/// is not searched, as a stored search reads at most as many candidates.
const MAX_KEY_PEOPLE: usize = 500;

/// People filed under their [`blocking_keys`] in memory, for comparing whole lists.
struct KeyIndex(HashMap<String, Vec<usize>>);

impl KeyIndex {
    fn new(people: &[PersonDetails]) -> Self {
        let mut map: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in people.iter().enumerate() {
            for key in blocking_keys(p) {
                map.entry(key).or_default().push(i);
            }
        }
        KeyIndex(map)
    }

    /// Everyone sharing a key with `p`, once each, in order.
    fn candidates(&self, p: &PersonDetails) -> Vec<usize> {
        let mut found: Vec<usize> = blocking_keys(p)
            .iter()
            .filter_map(|k| self.0.get(k))
            .filter(|ids| ids.len() <= MAX_KEY_PEOPLE)
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

fn best_first(mut pairs: Vec<(usize, usize, MatchResult)>) -> Vec<(usize, usize, MatchResult)> {
    pairs.sort_by(|a, b| b.2.score.cmp(&a.2.score).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    pairs
}

/// Pairs of people in one list who are likely the same person (for the duplicates queue):
/// `(i, j, result)` with `i < j`, found and scored as a referral's candidates are, best first.
#[must_use]
pub fn likely_pairs(people: &[PersonDetails]) -> Vec<(usize, usize, MatchResult)> {
    let index = KeyIndex::new(people);
    let mut pairs = Vec::new();
    for (i, p) in people.iter().enumerate() {
        let matcher = Matcher::new(p);
        for j in index.candidates(p).into_iter().filter(|j| *j > i) {
            if let Some(m) = matcher.compare(&people[j]) {
                pairs.push((i, j, m));
            }
        }
    }
    best_first(pairs)
}

/// Each person of `list` against `known` (for cross-referencing another agency's list):
/// `(list index, known index, result)` for the likely matches, best first.
#[must_use]
pub fn likely_links(list: &[PersonDetails], known: &[PersonDetails]) -> Vec<(usize, usize, MatchResult)> {
    let index = KeyIndex::new(known);
    let mut pairs = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let matcher = Matcher::new(p);
        for j in index.candidates(p) {
            if let Some(m) = matcher.compare(&known[j]) {
                pairs.push((i, j, m));
            }
        }
    }
    best_first(pairs)
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
            postcode: postcode.map(str::to_owned),
            ..PersonDetails::default()
        }
    }

    #[test]
    fn soundex_codes() {
        for (name, code) in [
            ("Robert", "R163"),
            ("Rupert", "R163"),
            ("Ashcraft", "A261"),
            ("Tymczak", "T522"),
            ("Pfister", "P236"),
            ("", ""),
        ] {
            assert_eq!(soundex(name), code, "{name}");
        }
    }

    #[test]
    fn names_and_postcodes_are_normalised() {
        assert_eq!(normalise_name("  O'Neil-Smith  Jr "), "oneil smith jr");
        assert_eq!(normalise_postcode("ns1 4ab"), "NS14AB");
    }

    #[test]
    fn matches_are_scored_with_reasons() {
        let dob = Some(date!(1990 - 04 - 03));
        let known = person("Jane", "Smith", dob, Some("NS1 4AB"));
        let table: [(PersonDetails, Option<(bool, &str)>); 7] = [
            (person("jane", "SMITH", dob, None), Some((true, "Same date of birth"))),
            (person("Jayne", "Smyth", dob, None), Some((false, "Similar name"))),
            (person("Jane", "Smith", Some(date!(1990 - 03 - 04)), None), Some((false, "day and month swapped"))),
            (person("J", "Smith", None, Some("ns14ab")), Some((false, "Same postcode"))),
            (person("Jane", "Smith", Some(date!(1971 - 01 - 01)), None), None),
            (person("Alice", "Brown", dob, Some("NS1 4AB")), None),
            (person("Jane", "Smith", None, None), Some((false, "Same name"))),
        ];
        for (new, expected) in table {
            let got = compare(&new, &known);
            match expected {
                None => assert!(got.is_none(), "{new:?} should not match: {got:?}"),
                Some((certain, reason)) => {
                    let got = got.unwrap_or_else(|| panic!("{new:?} should match"));
                    assert_eq!(got.certain, certain, "{new:?}");
                    assert!(got.reasons.iter().any(|r| r.contains(reason)), "{new:?}: {:?}", got.reasons);
                }
            }
        }
    }

    #[test]
    fn the_issue_example_is_one_person_and_the_evidence_is_explained() {
        // "Kate Smyth, 03/07/1991" and "Katherine Smith, 07/03/1991, new address".
        let known = person("Katherine", "Smith", Some(date!(1991 - 03 - 07)), Some("NS1 4AB"));
        let new = person("Kate", "Smyth", Some(date!(1991 - 07 - 03)), Some("NS9 9ZZ"));
        let found = compare(&new, &known).unwrap_or_else(|| panic!("should match"));
        assert!(!found.certain, "a near match is for the coordinator to confirm");
        assert!(found.score >= 90, "{found:?}");
        let r = &found.reasons;
        assert!(r[0].starts_with("Same given name, similar family name (Kate Smyth / Katherine Smith)"), "{r:?}");
        assert!(r.iter().any(|x| x.starts_with("Date of birth with day and month swapped: strong evidence")), "{r:?}");
        assert!(r.iter().any(|x| x.starts_with("Different postcode: evidence against (-")), "{r:?}");
        // Strongest first.
        let bits: Vec<f64> = r.iter().filter_map(|x| x.rsplit_once('(')?.1.split_once(' ')?.0.parse().ok()).collect();
        assert_eq!(bits.len(), r.len());
        assert!(bits.windows(2).all(|w| w[0] >= w[1]), "{bits:?}");
    }

    #[test]
    fn aliases_count_as_names() {
        let mut known = person("Jane", "Smith", Some(date!(1990 - 04 - 03)), None);
        known.aliases = vec!["Jane Doe".into()];
        let found = compare(&person("Jane", "Doe", Some(date!(1990 - 04 - 03)), None), &known);
        assert!(found.is_some_and(|m| m.certain && m.reasons[0].contains("alias")));
    }

    #[test]
    fn people_who_could_match_share_a_blocking_key() {
        let a = person("Jane", "Smith", Some(date!(1990 - 04 - 03)), Some("NS1 4AB"));
        let mut b = person("Jayne", "Smyth", None, None);
        b.estimated_birth_year = Some(1991);
        let (ka, kb) = (blocking_keys(&a), blocking_keys(&b));
        assert!(ka.iter().any(|k| kb.contains(k)), "{ka:?} / {kb:?}");
        let c = person("Alice", "Brown", Some(date!(1950 - 01 - 01)), Some("XY1 1AA"));
        assert!(!blocking_keys(&c).iter().any(|k| ka.contains(k)));
    }

    #[test]
    fn a_likely_match_shares_two_keys_even_with_a_slip_in_the_year() {
        // Same name, born 1990 or 1980 by a slip, moved: the model calls it likely, so it must
        // not rank with people who share only a common name.
        let a = person("Jane", "Smith", Some(date!(1990 - 04 - 03)), Some("NS1 4AB"));
        let b = person("Jane", "Smith", Some(date!(1980 - 04 - 03)), Some("SS2 9ZZ"));
        assert!(compare(&a, &b).is_some_and(|m| m.score >= LIKELY));
        let kb = blocking_keys(&b);
        let shared: Vec<String> = blocking_keys(&a).into_iter().filter(|k| kb.contains(k)).collect();
        assert_eq!(shared, ["nd:J500:S530:04-03", "nm:J500:S530"]);
        // Day and month swapped, same year: the year and the name.
        let c = person("Jane", "Smith", Some(date!(1990 - 03 - 04)), None);
        let kc = blocking_keys(&c);
        assert_eq!(blocking_keys(&a).iter().filter(|k| kc.contains(k)).count(), 2);
    }
    #[test]
    fn a_list_finds_its_own_duplicates_once_each() {
        let people = [
            person("Kate", "Smyth", Some(date!(1991 - 07 - 03)), Some("NS1 4AB")),
            person("Alan", "Brown", Some(date!(1980 - 01 - 02)), None),
            person("Katherine", "Smith", Some(date!(1991 - 03 - 07)), Some("NS2 9ZZ")),
            person("Kate", "Smyth", Some(date!(1991 - 07 - 03)), None),
            person("Mary", "Jones", Some(date!(1975 - 05 - 05)), None),
        ];
        let pairs = likely_pairs(&people);
        let mut found: Vec<(usize, usize)> = pairs.iter().map(|p| (p.0, p.1)).collect();
        // The identical pair first, then Katherine with each Kate; no one else.
        assert_eq!(found[0], (0, 3));
        found.sort_unstable();
        assert_eq!(found, vec![(0, 2), (0, 3), (2, 3)]);
        assert!(pairs[0].2.certain && pairs[1..].iter().all(|p| !p.2.certain));
        assert!(pairs[1].2.reasons.iter().any(|r| r.contains("day and month swapped")), "{:?}", pairs[1].2.reasons);
        assert!(likely_pairs(&[]).is_empty());
    }

    #[test]
    fn another_list_links_to_the_people_it_names() {
        let known = [
            person("Ellie", "Smith", Some(date!(2015 - 02 - 01)), None),
            person("Tom", "Smith", Some(date!(2012 - 06 - 30)), None),
        ];
        let list = [
            person("Eleanor", "Smith", Some(date!(2015 - 02 - 01)), Some("NS1 4AB")),
            person("Tom", "Smith", Some(date!(1962 - 06 - 30)), None),
            person("Ruby", "Green", Some(date!(2015 - 02 - 01)), None),
        ];
        let links: Vec<(usize, usize)> = likely_links(&list, &known).iter().map(|l| (l.0, l.1)).collect();
        // Ellie is Eleanor; a Tom Smith fifty years older is not the child; Ruby shares only a birthday.
        assert_eq!(links, vec![(0, 0)]);
    }
}
