//! Is a person named on a referral someone already known?
//!
//! Two steps, so a fuller matcher can replace this one behind the same functions:
//! [`blocking_keys`] names the few groups a person could share with a match (cheap to look
//! up in an index), and [`compare`] scores one candidate and says why. For now the evidence
//! is names (exact, phonetic and Jaro–Winkler similar, aliases included), date of birth
//! (exact, or day and month swapped), estimated age and postcode.

use serde::Serialize;
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

/// The index keys under which a person is filed and searched. Two people who could match
/// share at least one key; most people share none.
#[must_use]
pub fn blocking_keys(p: &PersonDetails) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(d) = p.date_of_birth {
        keys.push(format!("dob:{d}"));
    }
    let postcode = p.postcode.as_deref().map(normalise_postcode).filter(|s| !s.is_empty());
    for (given, family) in names_of(p) {
        let (g, f) = (soundex(&given), soundex(&family));
        if !f.is_empty() {
            for y in birth_years(p) {
                keys.push(format!("fy:{f}:{y}"));
            }
            keys.push(format!("nm:{g}:{f}"));
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

/// Scores `known` as a match for `new`; `None` when it is not a likely match.
#[must_use]
pub fn compare(new: &PersonDetails, known: &PersonDetails) -> Option<MatchResult> {
    let mut reasons = Vec::new();
    let mut score: u32 = 0;

    let mut best_name: u32 = 0;
    let mut exact_name = false;
    let (new_names, known_names) = (names_of(new), names_of(known));
    for (i, (ng, nf)) in new_names.iter().enumerate() {
        for (j, (kg, kf)) in known_names.iter().enumerate() {
            let (name_score, why) = if ng == kg && nf == kf {
                (50, "Same name".to_owned())
            } else if nf == kf && !ng.is_empty() && ng.chars().next() == kg.chars().next() {
                (30, format!("Same family name and initial ({} / {})", title(ng), title(kg)))
            } else if strsim::jaro_winkler(nf, kf) >= 0.88 && strsim::jaro_winkler(ng, kg) >= 0.88 {
                (35, format!("Similar name ({} {} / {} {})", title(ng), title(nf), title(kg), title(kf)))
            } else if soundex(nf) == soundex(kf) && soundex(ng) == soundex(kg) && !nf.is_empty() {
                (25, format!("Name sounds alike ({} {} / {} {})", title(ng), title(nf), title(kg), title(kf)))
            } else {
                (0, String::new())
            };
            if name_score > best_name {
                best_name = name_score;
                exact_name = name_score == 50;
                reasons.retain(|r: &String| !r.contains("name") && !r.contains("Name"));
                reasons.push(if i > 0 || j > 0 { format!("{why}, using a known alias") } else { why });
            }
        }
    }
    if best_name == 0 {
        return None;
    }
    score += best_name;

    let mut exact_dob = false;
    match (new.date_of_birth, known.date_of_birth) {
        (Some(a), Some(b)) if a == b => {
            score += 40;
            exact_dob = true;
            reasons.push("Same date of birth".into());
        }
        (Some(a), Some(b))
            if a.year() == b.year() && u8::from(a.month()) == b.day() && a.day() == u8::from(b.month()) =>
        {
            score += 25;
            reasons.push("Date of birth with day and month swapped".into());
        }
        (Some(a), Some(b)) if a.year() != b.year() || a.month() != b.month() => {
            // A different known date of birth is evidence against.
            score = score.saturating_sub(30);
        }
        _ => {
            let (a, b) = (birth_years(new), birth_years(known));
            if a.iter().any(|y| b.contains(y)) {
                score += 10;
                reasons.push("Similar age".into());
            }
        }
    }

    let (pa, pb) = (new.postcode.as_deref().map(normalise_postcode), known.postcode.as_deref().map(normalise_postcode));
    if let (Some(a), Some(b)) = (pa, pb)
        && !a.is_empty()
        && a == b
    {
        score += 20;
        reasons.push("Same postcode".into());
    }

    let score = score.min(100);
    (score >= LIKELY).then_some(MatchResult { score, certain: exact_name && exact_dob, reasons })
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
}
