//! Clustering for deduplication: matched pairs joined into groups of one person, so that two
//! records each matched to a third are the same person even if their own comparison fell short.
//! A group only grows through pairs the model is sure of; a chain of doubtful links (A like B,
//! B like C) is exactly how two different people get merged, so doubtful pairs stay pairs.

use crate::Match;

/// Union-find over record indexes, by size, with path halving.
struct Sets {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl Sets {
    fn new(n: usize) -> Sets {
        Sets { parent: (0..n).collect(), size: vec![1; n] }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize, max_size: usize) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb || self.size[ra] + self.size[rb] > max_size {
            return;
        }
        if self.size[ra] < self.size[rb] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb] = ra;
        self.size[ra] += self.size[rb];
    }
}

/// Above this probability a pair joins two groups.
pub const SURE: f64 = 0.99;

/// No group grows beyond this many records: a real person is rarely on a list this often,
/// and a runaway chain is contained.
pub const MAX_CLUSTER: usize = 12;

/// The groups of `n` records implied by `matches`, each as its members' indexes in order;
/// records matched to nothing are left out.
#[must_use]
pub fn clusters(n: usize, matches: &[Match]) -> Vec<Vec<usize>> {
    let mut sets = Sets::new(n);
    let mut sure: Vec<&Match> = matches.iter().filter(|m| m.probability >= SURE).collect();
    // Strongest first, so a size cap keeps the best links.
    sure.sort_by(|x, y| y.probability.total_cmp(&x.probability));
    for m in sure {
        sets.union(m.a, m.b, MAX_CLUSTER);
    }
    let mut groups: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    for i in 0..n {
        let root = sets.find(i);
        if sets.size[root] > 1 {
            groups.entry(root).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort_unstable();
    out
}

/// A pair implied by its group is kept only if its own comparison is not strong evidence
/// against it: the group's links lift a doubtful pair, they do not overrule a clear "no".
pub const IMPLIED_FLOOR: f64 = 0.01;

/// Every pair inside each group (where `direct` scores it at least [`IMPLIED_FLOOR`]), plus the
/// matched pairs, each once. A pair kept for its group has probability [`SURE`] at least.
#[must_use]
pub fn closed_pairs(n: usize, matches: &[Match], direct: impl Fn(usize, usize) -> f64 + Sync) -> Vec<Match> {
    let mut found: std::collections::HashMap<(usize, usize), f64> =
        matches.iter().map(|m| ((m.a.min(m.b), m.a.max(m.b)), m.probability)).collect();
    for group in clusters(n, matches) {
        for (i, a) in group.iter().enumerate() {
            for b in &group[i + 1..] {
                if let std::collections::hash_map::Entry::Vacant(slot) = found.entry((*a, *b)) {
                    let p = direct(*a, *b);
                    if p >= IMPLIED_FLOOR {
                        slot.insert(p.max(SURE));
                    }
                }
            }
        }
    }
    let mut out: Vec<Match> = found.into_iter().map(|((a, b), probability)| Match { a, b, probability }).collect();
    out.sort_by_key(|m| (m.a, m.b));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(a: usize, b: usize, p: f64) -> Match {
        Match { a, b, probability: p }
    }

    #[test]
    fn sure_pairs_join_groups_and_doubtful_ones_stay_pairs() {
        let matches = [m(0, 1, 0.999), m(1, 2, 0.995), m(3, 4, 0.6), m(4, 5, 0.7)];
        assert_eq!(clusters(6, &matches), vec![vec![0, 1, 2]]);
        let pairs: Vec<(usize, usize)> = closed_pairs(6, &matches, |_, _| 0.2).iter().map(|m| (m.a, m.b)).collect();
        // 0-2 is implied by the group; 3-5 is not, because neither link is sure.
        assert_eq!(pairs, vec![(0, 1), (0, 2), (1, 2), (3, 4), (4, 5)]);
        // A group does not overrule a clear "no" between two of its members.
        let kept = closed_pairs(6, &matches, |_, _| 0.001);
        assert!(!kept.iter().any(|m| (m.a, m.b) == (0, 2)));
    }

    #[test]
    fn a_group_stops_growing_at_the_cap() {
        let chain: Vec<Match> = (0..30).map(|i| m(i, i + 1, 0.999)).collect();
        let groups = clusters(31, &chain);
        assert!(groups.iter().all(|g| g.len() <= MAX_CLUSTER), "{groups:?}");
    }
}
