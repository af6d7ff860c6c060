//! Small-number suppression, for figures shown to analysts and board members: a count from 1
//! to one less than the threshold could point to a person, so it shows as "fewer than 5".
//! Where figures add up to a total that is shown, hiding one is not enough (the total less the
//! rest gives it back), so a second figure is hidden as well; and a rate worked out from a
//! hidden count is hidden with it.

use crate::safelives_return::{Figure, Line};

/// The usual threshold: counts of 1 to 4 are hidden.
pub const DEFAULT_THRESHOLD: u32 = 5;

/// Figures that add up to another: the keys of the parts and the key of the total.
pub struct Group<'a> {
    /// The total's key.
    pub total: &'a str,
    /// The parts' keys (a key prefix ending in `*` takes every key starting with it).
    pub parts: &'a str,
}

/// A figure worked out from others: hidden if any of them is.
pub struct Derived<'a> {
    /// The derived figure's key.
    pub key: &'a str,
    /// The keys it comes from.
    pub from: &'a [&'a str],
}

fn small(figure: Figure, threshold: u32) -> bool {
    match figure {
        Figure::Count(n) => n > 0 && n < threshold,
        Figure::Halves(h) => h > 0 && h < 2 * threshold,
        _ => false,
    }
}

fn hidden(figure: Figure) -> bool {
    matches!(figure, Figure::FewerThan(_) | Figure::Suppressed)
}

fn size(figure: Figure) -> u32 {
    match figure {
        Figure::Count(n) => 2 * n,
        Figure::Halves(h) => h,
        _ => u32::MAX,
    }
}

fn matches_key(key: &str, pattern: &str) -> bool {
    pattern.strip_suffix('*').map_or(key == pattern, |prefix| key.starts_with(prefix))
}

/// Hides small counts in `lines` (all but those in `exempt`, such as the number of meetings),
/// then a second part of each group whose total is shown and which would otherwise give a
/// hidden part away, then derived figures whose sources are hidden.
pub fn suppress(lines: &mut [Line], threshold: u32, exempt: &[&str], groups: &[Group<'_>], derived: &[Derived<'_>]) {
    for line in lines.iter_mut() {
        if !exempt.contains(&line.key.as_str()) && small(line.figure, threshold) {
            line.figure = Figure::FewerThan(threshold);
        }
    }
    for group in groups {
        let total_shown = lines.iter().any(|l| l.key == group.total && !hidden(l.figure));
        let parts: Vec<usize> = (0..lines.len()).filter(|i| matches_key(&lines[*i].key, group.parts)).collect();
        let hidden_parts = parts.iter().filter(|i| hidden(lines[**i].figure)).count();
        if total_shown && hidden_parts == 1 {
            // The smallest part still shown that is not zero (a zero reveals nothing new).
            let next = parts
                .iter()
                .filter(|i| !hidden(lines[**i].figure) && size(lines[**i].figure) > 0)
                .min_by_key(|i| size(lines[**i].figure));
            if let Some(i) = next {
                lines[*i].figure = Figure::Suppressed;
            }
        }
    }
    for d in derived {
        let from_hidden = lines.iter().any(|l| d.from.contains(&l.key.as_str()) && hidden(l.figure));
        if from_hidden && let Some(line) = lines.iter_mut().find(|l| l.key == d.key) {
            line.figure = Figure::Suppressed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, figure: Figure) -> Line {
        Line { key: key.into(), label: key.into(), definition: String::new(), figure, recorded_for: None }
    }

    fn shown(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.figure.text()).collect()
    }

    #[test]
    fn small_counts_hide_and_zero_and_exempt_stay() {
        let mut l = vec![
            line("meetings", Figure::Count(2)),
            line("a", Figure::Count(0)),
            line("b", Figure::Count(4)),
            line("c", Figure::Count(5)),
        ];
        suppress(&mut l, 5, &["meetings"], &[], &[]);
        assert_eq!(shown(&l), ["2", "0", "fewer than 5", "5"]);
        let mut halves = vec![line("h", Figure::Halves(9)), line("i", Figure::Halves(10))];
        suppress(&mut halves, 5, &[], &[], &[]);
        assert_eq!(shown(&halves), ["fewer than 5", "5"]);
    }

    #[test]
    fn a_total_cannot_give_a_hidden_part_away() {
        // 20 cases: police 12, health 3, housing 5, education 0. Hiding health alone, 20 - 12 - 5
        // would give it back, so the next smallest part (housing) is hidden too.
        let mut l = vec![
            line("cases", Figure::Count(20)),
            line("source_police", Figure::Halves(24)),
            line("source_health", Figure::Halves(6)),
            line("source_housing", Figure::Halves(10)),
            line("source_education", Figure::Halves(0)),
            line("partner_share", Figure::Percent(40.0)),
            line("repeat_rate", Figure::Percent(10.0)),
            line("repeats", Figure::Count(2)),
        ];
        let groups = [Group { total: "cases", parts: "source_*" }];
        let derived = [
            Derived { key: "partner_share", from: &["cases", "source_police"] },
            Derived { key: "repeat_rate", from: &["cases", "repeats"] },
        ];
        suppress(&mut l, 5, &[], &groups, &derived);
        assert_eq!(shown(&l), ["20", "12", "fewer than 5", "suppressed", "0", "40.0%", "suppressed", "fewer than 5"]);
    }

    #[test]
    fn two_hidden_parts_need_no_more() {
        let mut l = vec![
            line("cases", Figure::Count(10)),
            line("source_a", Figure::Halves(2)),
            line("source_b", Figure::Halves(4)),
            line("source_c", Figure::Halves(14)),
        ];
        suppress(&mut l, 5, &[], &[Group { total: "cases", parts: "source_*" }], &[]);
        assert_eq!(shown(&l), ["10", "fewer than 5", "fewer than 5", "7"]);
    }
}
