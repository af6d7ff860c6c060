//! Person matching with no web or database dependency: records are normalised, candidate pairs
//! found by several blocking rules (so no single typo hides a match), each pair compared field by
//! field into agreement levels, and a Fellegi-Sunter model whose match probabilities are
//! estimated by EM (non-match probabilities from random pairs, with term frequencies so a
//! common surname counts for less than a rare one) scores every pair and explains it.

pub mod compare;
pub mod model;
pub mod normalise;

use compare::Prepared;
use std::collections::{HashMap, HashSet};

/// A person as a list holds them. Empty means missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The list's own key; never read for matching.
    pub id: String,
    /// Given name(s).
    pub given_name: String,
    /// Family name.
    pub surname: String,
    /// House number.
    pub street_number: String,
    /// First address line.
    pub address_1: String,
    /// Second address line.
    pub address_2: String,
    /// Town or suburb.
    pub suburb: String,
    /// Postcode.
    pub postcode: String,
    /// State or county.
    pub state: String,
    /// Date of birth, `YYYYMMDD` (may be wrong or invalid).
    pub date_of_birth: String,
    /// A national identifier, where a list has one.
    pub national_id: String,
}

/// A pair judged to be the same person.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index of the first record (in the left list for linking).
    pub a: usize,
    /// Index of the second record (in the right list for linking).
    pub b: usize,
    /// Probability that they are the same person.
    pub probability: f64,
}

/// The blocking keys of a record: pairs sharing any key are compared.
fn blocking_keys(p: &Prepared) -> Vec<String> {
    let mut keys = Vec::with_capacity(8);
    if p.dob.len() == 8 {
        keys.push(format!("d{}", p.dob));
    }
    let initial = p.given.chars().next().map(String::from).unwrap_or_default();
    if !p.surname_sx.is_empty() {
        keys.push(format!("s{}{initial}", p.surname_sx));
        if p.dob.len() == 8 {
            keys.push(format!("y{}{}", p.surname_sx, &p.dob[..4]));
        }
    }
    if !p.given_sx.is_empty() && !p.postcode.is_empty() {
        keys.push(format!("g{}{}", p.given_sx, p.postcode));
    }
    if !p.given_sx.is_empty() && !p.surname_sx.is_empty() {
        // Either order, so swapped given and family names still meet.
        let (a, b) =
            if p.given_sx <= p.surname_sx { (&p.given_sx, &p.surname_sx) } else { (&p.surname_sx, &p.given_sx) };
        keys.push(format!("n{a}{b}"));
    }
    if !p.national_id.is_empty() {
        keys.push(format!("i{}", p.national_id));
    }
    if !p.street_number.is_empty() && !p.address_1.is_empty() {
        keys.push(format!("a{}{}", p.street_number, p.address_1));
    }
    if p.dob.len() == 8 && !p.given_sx.is_empty() {
        // Day and month, with the given name: catches a wrong year or a changed surname.
        keys.push(format!("m{}{}", &p.dob[4..], p.given_sx));
    }
    keys
}

/// Blocks larger than this are skipped: the other rules still meet their members.
const MAX_BLOCK: usize = 400;

/// Candidate pairs of one list (`right` is `None`) or across two, each once.
fn candidates(left: &[Prepared], right: Option<&[Prepared]>) -> Vec<(u32, u32)> {
    let mut blocks: HashMap<String, (Vec<u32>, Vec<u32>)> = HashMap::new();
    for (i, p) in left.iter().enumerate() {
        for k in blocking_keys(p) {
            blocks.entry(k).or_default().0.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
    }
    if let Some(right) = right {
        for (i, p) in right.iter().enumerate() {
            for k in blocking_keys(p) {
                if let Some(b) = blocks.get_mut(&k) {
                    b.1.push(u32::try_from(i).unwrap_or(u32::MAX));
                }
            }
        }
    }
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    for (l, r) in blocks.values() {
        match right {
            None => {
                if l.len() > MAX_BLOCK {
                    continue;
                }
                for (x, a) in l.iter().enumerate() {
                    for b in &l[x + 1..] {
                        seen.insert((*a.min(b), *a.max(b)));
                    }
                }
            }
            Some(_) => {
                if l.len() * r.len() > MAX_BLOCK * MAX_BLOCK / 4 {
                    continue;
                }
                for a in l {
                    for b in r {
                        seen.insert((*a, *b));
                    }
                }
            }
        }
    }
    let mut pairs: Vec<(u32, u32)> = seen.into_iter().collect();
    pairs.sort_unstable();
    pairs
}

/// Finds the pairs in one list that are the same person, with the model's own threshold.
#[must_use]
pub fn dedupe(records: &[Record]) -> Vec<Match> {
    let prepared: Vec<Prepared> = records.iter().map(Prepared::new).collect();
    let pairs = candidates(&prepared, None);
    score(&prepared, &prepared, &pairs)
}

/// Finds the pairs across two lists that are the same person.
#[must_use]
pub fn link(left: &[Record], right: &[Record]) -> Vec<Match> {
    let l: Vec<Prepared> = left.iter().map(Prepared::new).collect();
    let r: Vec<Prepared> = right.iter().map(Prepared::new).collect();
    let pairs = candidates(&l, Some(&r));
    score(&l, &r, &pairs)
}

fn score(left: &[Prepared], right: &[Prepared], pairs: &[(u32, u32)]) -> Vec<Match> {
    let at = |i: u32| usize::try_from(i).unwrap_or(usize::MAX);
    let vectors: Vec<compare::Levels> =
        pairs.iter().map(|(a, b)| compare::levels(&left[at(*a)], &right[at(*b)])).collect();
    let mut all: Vec<&Prepared> = left.iter().collect();
    if !std::ptr::eq(left, right) {
        all.extend(right.iter());
    }
    let frequencies = model::Frequencies::of(&all);
    let u = model::random_pair_u(left, right, 200_000);
    let fitted = model::fit(&vectors, u);
    pairs
        .iter()
        .zip(&vectors)
        .filter_map(|((a, b), v)| {
            let p = fitted.probability(v, &frequencies, &left[at(*a)]);
            (p >= 0.5).then_some(Match { a: at(*a), b: at(*b), probability: p })
        })
        .collect()
}
