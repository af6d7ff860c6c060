//! Referrals counted by the victim's postcode district or sector, for the council's mapping:
//! small counts suppressed like every other figure for those who see suppressed figures, with
//! a second area hidden where the total would give one away.

use crate::coded_enum;
use crate::referral_form::postcode_district;
use crate::safelives_return::{Figure, Line};
use crate::suppression::{Group, suppress};
use std::collections::BTreeMap;

coded_enum! {
    /// How finely to count.
    pub enum Level {
        /// "NS1".
        District = ("district", "Postcode district"),
        /// "NS1 4".
        Sector = ("sector", "Postcode sector"),
    }
}

/// The lines of the export: one per area (key `area:NS1`), then those with no postcode, then
/// the total; suppressed when `threshold` is given.
#[must_use]
pub fn lines(by_sector: &[(String, u32)], level: Level, threshold: Option<u32>) -> Vec<Line> {
    let mut areas: BTreeMap<String, u32> = BTreeMap::new();
    let mut unknown = 0;
    for (sector, n) in by_sector {
        if sector.is_empty() {
            unknown += n;
            continue;
        }
        let area = match level {
            Level::District => postcode_district(sector).to_owned(),
            Level::Sector => sector.clone(),
        };
        *areas.entry(area).or_default() += n;
    }
    let total: u32 = areas.values().sum::<u32>() + unknown;
    let line = |key: String, label: String, n: u32| Line {
        key,
        label,
        definition: String::new(),
        figure: Figure::Count(n),
        recorded_for: None,
    };
    let mut out: Vec<Line> = areas.into_iter().map(|(a, n)| line(format!("area:{a}"), a, n)).collect();
    out.push(line("area:".into(), "No postcode recorded".into(), unknown));
    out.push(line("total".into(), "All referrals".into(), total));
    if let Some(t) = threshold {
        suppress(&mut out, t, &[], &[Group { total: "total", parts: "area:*" }], &[]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn districts_add_up_and_small_areas_are_hidden() {
        let counts = [("".to_owned(), 2), ("NS1 4".to_owned(), 6), ("NS1 5".to_owned(), 3), ("NS2 1".to_owned(), 9)];
        let shown = |l: &[Line]| l.iter().map(|x| (x.label.clone(), x.figure.text())).collect::<Vec<_>>();
        let d = lines(&counts, Level::District, None);
        assert_eq!(
            shown(&d),
            [
                ("NS1".into(), "9".into()),
                ("NS2".into(), "9".into()),
                ("No postcode recorded".into(), "2".into()),
                ("All referrals".into(), "20".into())
            ]
        );
        let s = lines(&counts, Level::Sector, Some(5));
        assert_eq!(
            shown(&s),
            [
                ("NS1 4".into(), "6".into()),
                ("NS1 5".into(), "fewer than 5".into()),
                ("NS2 1".into(), "9".into()),
                ("No postcode recorded".into(), "fewer than 5".into()),
                ("All referrals".into(), "20".into())
            ]
        );
        let one_small = [("NS1 4".to_owned(), 6), ("NS1 5".to_owned(), 3), ("NS2 1".to_owned(), 9)];
        let s = lines(&one_small, Level::Sector, Some(5));
        assert_eq!(s[0].figure.text(), "suppressed", "the total less the others would give NS1 5 away");
    }
}
