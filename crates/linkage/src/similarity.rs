//! String similarity without allocating, for the tens of millions of comparisons a large list
//! needs. Normalised values are ASCII and short, so the work fits in fixed arrays; anything
//! longer goes to `strsim`, whose results these match exactly.

/// Longest value handled here; longer ones use `strsim`.
const SHORT: usize = 64;

/// Jaro-Winkler similarity (prefix scale 0.1, up to four characters, above Jaro 0.7), 0 to 1.
#[must_use]
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if x.len() > SHORT || y.len() > SHORT || !a.is_ascii() || !b.is_ascii() {
        return strsim::jaro_winkler(a, b);
    }
    let j = jaro(x, y);
    // Winkler's boost applies only to strings already fairly alike.
    if j <= 0.7 {
        return j;
    }
    let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count();
    #[allow(clippy::cast_precision_loss, reason = "at most 4")]
    let bonus = prefix as f64 * 0.1 * (1.0 - j);
    j + bonus
}

fn jaro(x: &[u8], y: &[u8]) -> f64 {
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    // Matching characters: equal and no further apart than half the longer length, less one.
    let window = (x.len().max(y.len()) / 2).saturating_sub(1);
    let mut x_matched = [false; SHORT];
    let mut y_matched = [false; SHORT];
    let mut matches = 0usize;
    for (i, c) in x.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(y.len());
        for j in lo..hi {
            if !y_matched[j] && y[j] == *c {
                x_matched[i] = true;
                y_matched[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    // Half the matched characters that are out of order.
    let mut transpositions = 0usize;
    let mut j = 0;
    for (i, c) in x.iter().enumerate() {
        if x_matched[i] {
            while !y_matched[j] {
                j += 1;
            }
            if *c != y[j] {
                transpositions += 1;
            }
            j += 1;
        }
    }
    #[allow(clippy::cast_precision_loss, reason = "lengths are at most 64")]
    let (m, t, lx, ly) = (matches as f64, (transpositions / 2) as f64, x.len() as f64, y.len() as f64);
    (m / lx + m / ly + (m - t) / m) / 3.0
}

/// Whether two values are at most one insertion, deletion or substitution apart.
#[must_use]
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let (x, y) = if a.len() <= b.len() { (a.as_bytes(), b.as_bytes()) } else { (b.as_bytes(), a.as_bytes()) };
    if y.len() - x.len() > 1 {
        return false;
    }
    let prefix = x.iter().zip(y).take_while(|(p, q)| p == q).count();
    if x.len() == y.len() {
        // One substitution: everything after the first difference agrees.
        prefix == x.len() || x[prefix + 1..] == y[prefix + 1..]
    } else {
        // One insertion into the shorter.
        x[prefix..] == y[prefix + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: [&str; 16] = [
        "martha",
        "marhta",
        "dwayne",
        "duane",
        "dixon",
        "dicksonx",
        "katherine",
        "catherine",
        "smith",
        "smyth",
        "",
        "a",
        "ab",
        "ba",
        "jones",
        "johnson",
    ];

    #[test]
    fn jaro_winkler_agrees_with_strsim() {
        for a in WORDS {
            for b in WORDS {
                let (ours, theirs) = (jaro_winkler(a, b), strsim::jaro_winkler(a, b));
                assert!((ours - theirs).abs() < 1e-12, "{a} / {b}: {ours} against {theirs}");
            }
        }
    }

    #[test]
    fn one_edit_agrees_with_levenshtein() {
        for a in WORDS {
            for b in WORDS {
                assert_eq!(within_one_edit(a, b), strsim::levenshtein(a, b) <= 1, "{a} / {b}");
            }
        }
    }
}
