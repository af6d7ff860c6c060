//! The Fellegi-Sunter model: for each field and level, how likely that level is among true
//! matches (m) and among non-matches (u). m and the share of matches among candidates are
//! estimated by EM from the candidate pairs' level patterns, without any truth; pairs are then
//! scored with u from random pairs (almost all non-matches) and the share of matches among all
//! pairs, since candidates agree by construction on what they were blocked on. Exact name agreement is weighed by how common the name
//! is, so "Smith" counts for less than "Okonkwo".

use crate::compare::{FIELDS, LEVELS, Levels, MISSING, Prepared, levels};
use rayon::prelude::*;
use std::collections::HashMap;

/// Per field, per level: probabilities.
type Table = Vec<Vec<f64>>;

/// How often each normalised name occurs.
pub struct Frequencies {
    given: HashMap<String, u32>,
    surname: HashMap<String, u32>,
    total: f64,
}

impl Frequencies {
    /// Counts the names of the records.
    #[must_use]
    pub fn of(records: &[&Prepared]) -> Frequencies {
        let mut given = HashMap::new();
        let mut surname = HashMap::new();
        for r in records {
            *given.entry(r.given().to_owned()).or_insert(0) += 1;
            *surname.entry(r.surname().to_owned()).or_insert(0) += 1;
        }
        #[allow(clippy::cast_precision_loss, reason = "record counts are far below 2^52")]
        let total = records.len().max(1) as f64;
        Frequencies { given, surname, total }
    }

    fn share(map: &HashMap<String, u32>, value: &str, total: f64) -> Option<f64> {
        map.get(value).map(|n| f64::from(*n) / total)
    }
}

/// u from `samples` random pairs, smoothed so no level is impossible.
#[must_use]
pub fn random_pair_u(left: &[Prepared], right: &[Prepared], samples: usize) -> Table {
    let mut counts: Table = LEVELS.iter().map(|n| vec![1.0; usize::from(*n)]).collect();
    if left.is_empty() || right.is_empty() {
        return normalised(counts);
    }
    // A fixed-seed generator: the same input always gives the same model.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
    };
    for _ in 0..samples {
        let v = levels(&left[next(left.len())], &right[next(right.len())]);
        for (f, l) in v.iter().enumerate() {
            if *l != MISSING {
                counts[f][usize::from(*l)] += 1.0;
            }
        }
    }
    normalised(counts)
}

fn normalised(mut t: Table) -> Table {
    for row in &mut t {
        let sum: f64 = row.iter().sum();
        row.iter_mut().for_each(|x| *x /= sum);
    }
    t
}

/// A fitted model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Probability of each level among matches.
    pub m: Table,
    /// Among non-matches.
    pub u: Table,
    /// Share of matches among the candidate pairs.
    pub lambda: f64,
    /// Share of matches among all pairs: the prior with which pairs are scored.
    pub prior: f64,
    /// Among random pairs: how common a value is across the whole list.
    pub random_u: Table,
}

impl Model {
    /// A model for comparing one person at a time against a register, where there is no list
    /// to fit by EM: m as EM estimated it on the development file (`dev_dedupe_10k`, the noise
    /// of real referrals), u from its random pairs, and the prior of a register of 10,000
    /// people (a partnership's people over several years). The product compares a postcode
    /// only, and a full UK postcode is shared by about 15 households, so agreeing on it is
    /// rarer by chance than the development file's Australian postcodes (u 0.0005, not 0.0026).
    #[must_use]
    pub fn standard() -> Model {
        let m = vec![
            vec![0.0372, 0.0958, 0.2355, 0.6313],
            vec![0.0966, 0.0824, 0.2397, 0.5811],
            vec![0.0444, 0.0113, 0.2859, 0.6582],
            vec![0.1487, 0.0427, 0.0096, 0.0460, 0.7527],
            vec![0.01, 0.99],
        ];
        let u = vec![
            vec![0.9884, 0.0061, 0.0015, 0.0037],
            vec![0.9928, 0.0026, 0.0009, 0.0035],
            vec![0.9887, 0.0099, 0.0009, 0.0002],
            vec![0.7653, 0.2315, 0.0005, 0.0001, 0.0002],
            vec![0.9999, 0.0001],
        ];
        Model { m, u: u.clone(), lambda: 1e-4, prior: 1e-4, random_u: u }
    }
}

/// Each distinct level pattern with how many pairs have it. The patterns are few (a few
/// thousand at most), so they are counted in a dense table, in parallel.
fn patterns(vectors: &[Levels]) -> Vec<(Levels, f64)> {
    // Each field's level, with missing as one more value.
    let code = |v: &Levels| {
        v.iter().zip(LEVELS).fold(0usize, |acc, (l, n)| {
            let n = usize::from(n) + 1;
            acc * n + if *l == MISSING { n - 1 } else { usize::from(*l) }
        })
    };
    let size: usize = LEVELS.iter().map(|n| usize::from(*n) + 1).product();
    let counts = vectors
        .par_iter()
        .fold(
            || vec![0u64; size],
            |mut c, v| {
                c[code(v)] += 1;
                c
            },
        )
        .reduce(
            || vec![0u64; size],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let decode = |mut code: usize| {
        let mut v: Levels = [0; FIELDS.len()];
        for (l, n) in v.iter_mut().zip(LEVELS).rev() {
            let n = usize::from(n) + 1;
            let level = code % n;
            *l = if level == n - 1 { MISSING } else { u8::try_from(level).unwrap_or(MISSING) };
            code /= n;
        }
        v
    };
    #[allow(clippy::cast_precision_loss, reason = "pair counts are far below 2^52")]
    counts.into_iter().enumerate().filter(|(_, c)| *c > 0).map(|(i, c)| (decode(i), c as f64)).collect()
}

/// Fits m and the share of matches by EM over the candidate pairs' patterns.
#[must_use]
pub fn fit(vectors: &[Levels], u: Table, all_pairs: f64) -> Model {
    let patterns = patterns(vectors);
    // Start from matches agreeing mostly exactly.
    let mut m: Table = LEVELS
        .iter()
        .map(|n| {
            let n = usize::from(*n);
            (0..n).map(|l| if l + 1 == n { 0.9 } else { 0.1 / (n - 1) as f64 }).collect()
        })
        .collect();
    // Candidate pairs agree on what they were blocked on far more often than random pairs, so
    // u is re-estimated among the candidates too (starting from the random pairs'), or every
    // candidate would look like a match.
    let random_u = u;
    let mut u = random_u.clone();
    let mut lambda = 0.1;
    for _ in 0..60 {
        let mut m_next: Table = LEVELS.iter().map(|n| vec![1e-6; usize::from(*n)]).collect();
        let mut u_next: Table = LEVELS.iter().map(|n| vec![1e-6; usize::from(*n)]).collect();
        let (mut matched, mut total) = (0.0, 0.0);
        for (v, count) in &patterns {
            let (pm, pu) = likelihoods(v, &m, &u);
            let w = lambda * pm / (lambda * pm + (1.0 - lambda) * pu);
            matched += w * count;
            total += count;
            for (f, l) in v.iter().enumerate() {
                if *l != MISSING {
                    m_next[f][usize::from(*l)] += w * count;
                    u_next[f][usize::from(*l)] += (1.0 - w) * count;
                }
            }
        }
        m = normalised(m_next);
        u = normalised(u_next);
        lambda = (matched / total.max(1.0)).clamp(1e-6, 0.999);
    }
    // The matches EM found among the candidates are (almost) all the matches there are, so
    // their share of every possible pair is the prior for scoring against random-pair u.
    #[allow(clippy::cast_precision_loss, reason = "pair counts are far below 2^52")]
    let prior = (lambda * vectors.len() as f64 / all_pairs.max(1.0)).clamp(1e-9, 0.5);
    Model { m, u, lambda, prior, random_u }
}

fn likelihoods(v: &Levels, m: &Table, u: &Table) -> (f64, f64) {
    let (mut pm, mut pu) = (1.0, 1.0);
    for (f, l) in v.iter().enumerate() {
        if *l != MISSING {
            pm *= m[f][usize::from(*l)];
            pu *= u[f][usize::from(*l)];
        }
    }
    (pm, pu)
}

/// Why a pair scored as it did: each field's level and its weight in bits.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// (field, level, weight): positive weights are evidence for a match.
    pub fields: Vec<(&'static str, u8, f64)>,
    /// The probability.
    pub probability: f64,
}

impl Model {
    fn u_for(&self, f: usize, l: u8, freq: &Frequencies, a: &Prepared) -> f64 {
        let exact = usize::from(l) + 1 == usize::from(LEVELS[f]);
        let tf = match (f, exact) {
            (0, true) => Frequencies::share(&freq.given, a.given(), freq.total),
            (1, true) => Frequencies::share(&freq.surname, a.surname(), freq.total),
            _ => None,
        };
        // Among random pairs, two records share this exact name as often as the name occurs:
        // a common name agrees by chance often, a rare one seldom (never below a floor, so
        // one rare name cannot decide alone).
        let u = self.random_u[f][usize::from(l)];
        tf.map_or(u, |t| t.clamp(1e-5, 0.999))
    }

    /// The probability that a pair with these levels is a match.
    #[must_use]
    pub fn probability(&self, v: &Levels, freq: &Frequencies, a: &Prepared) -> f64 {
        self.explain(v, freq, a).probability
    }

    /// The evidence, field by field.
    #[must_use]
    pub fn explain(&self, v: &Levels, freq: &Frequencies, a: &Prepared) -> Explanation {
        let mut log_odds = (self.prior / (1.0 - self.prior)).log2();
        let mut fields = Vec::new();
        for (f, l) in v.iter().enumerate() {
            if *l == MISSING {
                continue;
            }
            let w = (self.m[f][usize::from(*l)] / self.u_for(f, *l, freq, a)).log2();
            log_odds += w;
            fields.push((FIELDS[f], *l, w));
        }
        Explanation { fields, probability: 1.0 / (1.0 + (-log_odds).exp2()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known mixture: 200 matches agreeing on everything but a typo in one name in a
    /// quarter of them, and 800 non-matches agreeing on nothing but a shared date of birth in
    /// a tenth of them (what blocking on the date brings).
    fn mixture() -> Vec<Levels> {
        let mut v = Vec::new();
        for i in 0..200 {
            v.push([if i % 4 == 0 { 2 } else { 3 }, 3, 3, 4, MISSING]);
        }
        for i in 0..800 {
            v.push([0, 0, if i % 10 == 0 { 3 } else { 0 }, 0, MISSING]);
        }
        v
    }

    fn uniform_u() -> Table {
        normalised(LEVELS.iter().map(|n| vec![1.0; usize::from(*n)]).collect())
    }

    #[test]
    fn em_recovers_a_known_mixture() {
        let fitted = fit(&mixture(), uniform_u(), 1000.0 * 999.0 / 2.0);
        assert!((fitted.lambda - 0.2).abs() < 0.01, "share of matches {}", fitted.lambda);
        // Among matches the given name agreed exactly three times in four, a typo otherwise.
        assert!((fitted.m[0][3] - 0.75).abs() < 0.02, "{:?}", fitted.m[0]);
        assert!((fitted.m[0][2] - 0.25).abs() < 0.02, "{:?}", fitted.m[0]);
        // Among non-matches the date agreed one time in ten.
        assert!((fitted.u[2][3] - 0.1).abs() < 0.02, "{:?}", fitted.u[2]);
        // 200 matches over 499,500 possible pairs.
        assert!((fitted.prior - 200.0 / 499_500.0).abs() < 1e-5, "{}", fitted.prior);
    }

    #[test]
    fn the_explanation_adds_up_to_the_probability() {
        let model = Model::standard();
        let freq = Frequencies::of(&[]);
        let a = Prepared::new(&crate::Record { given_name: "Kate".into(), ..crate::Record::default() });
        let e = model.explain(&[3, 1, 2, MISSING, MISSING], &freq, &a);
        assert_eq!(e.fields.iter().map(|f| f.0).collect::<Vec<_>>(), ["given name", "surname", "date of birth"]);
        assert!(e.fields.iter().all(|f| f.2 > 0.0), "{e:?}");
        let log_odds = (model.prior / (1.0 - model.prior)).log2() + e.fields.iter().map(|f| f.2).sum::<f64>();
        assert!((e.probability - 1.0 / (1.0 + (-log_odds).exp2())).abs() < 1e-12);
        // Disagreeing on the date of birth counts against.
        let against = model.explain(&[3, 1, 0, MISSING, MISSING], &freq, &a);
        assert!(against.fields[2].2 < 0.0 && against.probability < e.probability);
    }

    #[test]
    fn a_common_name_counts_for_less_than_a_rare_one() {
        // Thirty Smiths and one Okonkwo.
        let named =
            |surname: &str| Prepared::new(&crate::Record { surname: surname.into(), ..crate::Record::default() });
        let people: Vec<Prepared> = (0..31).map(|i| named(if i < 30 { "smith" } else { "okonkwo" })).collect();
        let freq = Frequencies::of(&people.iter().collect::<Vec<_>>());
        let model = Model::standard();
        let v = [MISSING, 3, MISSING, MISSING, MISSING];
        let common = model.explain(&v, &freq, &people[0]).fields[0].2;
        let rare = model.explain(&v, &freq, &people[30]).fields[0].2;
        assert!(rare > common + 3.0, "rare {rare} bits, common {common} bits");
    }
}
