//! Person matching with no web or database dependency: records are normalised, candidate pairs
//! found by several blocking rules (so no single typo hides a match; the wide rules within a
//! pair budget, so time and memory grow with the list), each pair compared field by field into
//! agreement levels, and a Fellegi-Sunter model estimated by EM (scored against random pairs,
//! with term frequencies so a common surname counts for less than a rare one) scores every pair
//! and explains it. Deduplication then groups sure pairs into people. The work runs across cores.

pub mod cluster;
pub mod compare;
pub mod generate;
pub mod model;
pub mod normalise;
pub mod similarity;

use compare::Prepared;
use rayon::prelude::*;
use std::hash::{Hash, Hasher};

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

/// One blocking key: a rule's tag and the values it groups by, hashed (the same on every run).
fn key(tag: u8, parts: &[&str]) -> (u64, u8) {
    let mut h = std::hash::DefaultHasher::new();
    tag.hash(&mut h);
    parts.hash(&mut h);
    (h.finish(), tag)
}

/// The blocking keys of a record, each with its rule's tag: pairs sharing any key are
/// compared. Several rules, so that a typo or a change in any one field still leaves a key in
/// common, each narrow enough that a list of a million people gives tens of millions of pairs,
/// not billions.
fn blocking_keys(p: &Prepared) -> Vec<(u64, u8)> {
    let mut keys = Vec::with_capacity(8);
    let dob = p.dob().len() == 8;
    let given_initial = p.given().get(..1).unwrap_or("");
    let surname_initial = p.surname().get(..1).unwrap_or("");
    if dob {
        // The date of birth with either initial: one of the names may have changed.
        keys.push(key(b'd', &[p.dob(), given_initial]));
        keys.push(key(b'e', &[p.dob(), surname_initial]));
        keys.push(key(WIDE[0], &[p.dob()]));
    }
    if dob && !p.surname_sx().is_empty() {
        // A typo in the day or month.
        keys.push(key(b'y', &[p.surname_sx(), &p.dob()[..4], given_initial]));
        keys.push(key(WIDE[1], &[p.surname_sx(), &p.dob()[..4]]));
    }
    if dob && !p.given_sx().is_empty() {
        // A typo in the year.
        keys.push(key(b'm', &[&p.dob()[4..], p.given_sx(), surname_initial]));
        keys.push(key(WIDE[2], &[&p.dob()[4..], p.given_sx()]));
    }
    if !p.surname_sx().is_empty() {
        // A family name that sounds the same, and a given name with the same initial.
        keys.push(key(WIDE[3], &[p.surname_sx(), given_initial]));
    }
    if !p.given_sx().is_empty() && !p.postcode().is_empty() {
        // No date of birth, or a changed surname, at the same postcode.
        keys.push(key(b'g', &[p.given_sx(), p.postcode()]));
    }
    if !p.given_sx().is_empty() && !p.surname_sx().is_empty() {
        // The names alone, either order, so swapped given and family names still meet.
        let (a, b) = if p.given_sx() <= p.surname_sx() {
            (p.given_sx(), p.surname_sx())
        } else {
            (p.surname_sx(), p.given_sx())
        };
        keys.push(key(WIDE[4], &[a, b]));
    }
    if !p.national_id().is_empty() {
        keys.push(key(b'i', &[p.national_id()]));
    }
    if !p.street_number().is_empty() && !p.address_1().is_empty() {
        keys.push(key(b'a', &[p.street_number(), p.address_1()]));
    }
    keys
}

/// The wide rules (the date of birth alone, a family name's sound with the year, the day and
/// month with the given name's sound, the family name's sound with an initial, the names'
/// sounds): they catch the most but give the most pairs, so they share a budget.
const WIDE: [u8; 5] = [b'D', b'Y', b'M', b'S', b'N'];

/// Pairs the wide rules may add, per record: their blocks are taken smallest first (the most
/// telling) until the budget is spent. A small list gets every block; a list of a million
/// keeps its pairs, its time and its memory in proportion to its size.
const WIDE_PAIRS_PER_RECORD: usize = 8;

/// Blocks of the narrow rules larger than this are skipped: the other rules still meet their
/// members.
const MAX_BLOCK: usize = 400;

/// One blocking key of one record: (key, rule, right-hand list, index).
type Filed = (u64, u8, bool, u32);

/// Every record's keys as (key, rule, side, index), sorted so each block is one run.
fn filed(left: &[Prepared], right: Option<&[Prepared]>) -> Vec<Filed> {
    let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    let side = |list: &[Prepared], right: bool| -> Vec<Filed> {
        list.par_iter()
            .enumerate()
            .flat_map_iter(|(i, p)| blocking_keys(p).into_iter().map(move |(k, tag)| (k, tag, right, index(i))))
            .collect()
    };
    let mut all = side(left, false);
    if let Some(r) = right {
        all.extend(side(r, true));
    }
    all.par_sort_unstable();
    all
}

/// Candidate pairs of one list (`right` is `None`) or across two, each once, in order.
fn candidates(left: &[Prepared], right: Option<&[Prepared]>) -> Vec<(u32, u32)> {
    let all = filed(left, right);
    let pairs_in = |block: &[Filed]| {
        let split = block.partition_point(|e| !e.2);
        if right.is_none() { split * split.saturating_sub(1) / 2 } else { split * (block.len() - split) }
    };
    let (mut wide, narrow): (Vec<&[Filed]>, Vec<_>) =
        all.chunk_by(|x, y| x.0 == y.0).filter(|b| pairs_in(b) > 0).partition(|b| WIDE.contains(&b[0].1));
    wide.sort_by_key(|b| pairs_in(b));
    let records = left.len() + right.map_or(0, <[Prepared]>::len);
    let mut budget = WIDE_PAIRS_PER_RECORD * records;
    let mut blocks = narrow;
    blocks.extend(wide.into_iter().take_while(|b| {
        let n = pairs_in(b);
        budget = budget.saturating_sub(n);
        budget > 0
    }));
    let mut pairs: Vec<(u32, u32)> = blocks
        .par_iter()
        .flat_map_iter(|block| {
            let split = block.partition_point(|e| !e.2);
            let (l, r) = block.split_at(split);
            // Wide blocks were chosen within the budget already; narrow ones stop at a size.
            let wide = WIDE.contains(&block[0].1);
            let mut out = Vec::new();
            match right {
                None if wide || l.len() <= MAX_BLOCK => {
                    for (x, a) in l.iter().enumerate() {
                        for b in &l[x + 1..] {
                            out.push((a.3.min(b.3), a.3.max(b.3)));
                        }
                    }
                }
                Some(_) if wide || l.len() * r.len() <= MAX_BLOCK * MAX_BLOCK / 4 => {
                    for a in l {
                        for b in r {
                            out.push((a.3, b.3));
                        }
                    }
                }
                _ => {}
            }
            out
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

/// A fitted model with the name frequencies it weighs exact names by: scores any pair of the
/// lists it was fitted on.
pub struct Scorer {
    /// The model.
    pub model: model::Model,
    frequencies: model::Frequencies,
}

impl Scorer {
    /// Fits the model to the candidate pairs of `left` and `right` (the same slice for one list)
    /// and returns it with each pair's levels.
    #[must_use]
    pub fn fit(left: &[Prepared], right: &[Prepared], pairs: &[(u32, u32)]) -> (Scorer, Vec<compare::Levels>) {
        let vectors: Vec<compare::Levels> =
            pairs.par_iter().map(|(a, b)| compare::levels(&left[at(*a)], &right[at(*b)])).collect();
        let one_list = std::ptr::eq(left, right);
        let mut all: Vec<&Prepared> = left.iter().collect();
        if !one_list {
            all.extend(right.iter());
        }
        let frequencies = model::Frequencies::of(&all);
        let u = model::random_pair_u(left, right, 200_000);
        #[allow(clippy::cast_precision_loss, reason = "record counts are far below 2^26")]
        let all_pairs = if one_list {
            left.len() as f64 * (left.len() as f64 - 1.0) / 2.0
        } else {
            left.len() as f64 * right.len() as f64
        };
        let model = model::fit(&vectors, u, all_pairs);
        (Scorer { model, frequencies }, vectors)
    }

    /// The probability that two records are the same person.
    #[must_use]
    pub fn probability(&self, a: &Prepared, b: &Prepared) -> f64 {
        self.model.probability(&compare::levels(a, b), &self.frequencies, a)
    }

    /// Why two records scored as they did.
    #[must_use]
    pub fn explain(&self, a: &Prepared, b: &Prepared) -> model::Explanation {
        self.model.explain(&compare::levels(a, b), &self.frequencies, a)
    }

    fn matches(&self, left: &[Prepared], pairs: &[(u32, u32)], vectors: &[compare::Levels]) -> Vec<Match> {
        pairs
            .par_iter()
            .zip(vectors)
            .filter_map(|((a, b), v)| {
                let p = self.model.probability(v, &self.frequencies, &left[at(*a)]);
                (p >= THRESHOLD).then_some(Match { a: at(*a), b: at(*b), probability: p })
            })
            .collect()
    }
}

/// The model's own threshold: a pair is a match when it is more likely than not.
pub const THRESHOLD: f64 = 0.5;

fn at(i: u32) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

/// Finds the pairs in one list that are the same person, with the model's own threshold, and
/// every pair inside the groups they form.
#[must_use]
pub fn dedupe(records: &[Record]) -> Vec<Match> {
    let prepared: Vec<Prepared> = records.par_iter().map(Prepared::new).collect();
    let pairs = candidates(&prepared, None);
    let (scorer, vectors) = Scorer::fit(&prepared, &prepared, &pairs);
    let matches = scorer.matches(&prepared, &pairs, &vectors);
    cluster::closed_pairs(records.len(), &matches, |a, b| scorer.probability(&prepared[a], &prepared[b]))
}

/// Finds the pairs across two lists that are the same person.
#[must_use]
pub fn link(left: &[Record], right: &[Record]) -> Vec<Match> {
    let l: Vec<Prepared> = left.par_iter().map(Prepared::new).collect();
    let r: Vec<Prepared> = right.par_iter().map(Prepared::new).collect();
    let pairs = candidates(&l, Some(&r));
    let (scorer, vectors) = Scorer::fit(&l, &r, &pairs);
    scorer.matches(&l, &pairs, &vectors)
}
