//! The SafeLives Marac data return: what is counted, how, and the checks shown beside it.
//!
//! The return is built from the cases **heard** at each meeting (repeats included), so the
//! store hands over one additive [`MeetingCounts`] per meeting and everything else (quarters,
//! Maracs, partnerships, derived rates, checks) is worked out here. Each figure has one
//! definition, used by the page and every download alike.

use crate::AgencyCategory;
use serde::{Deserialize, Serialize};

/// How many cases had a characteristic recorded, and how many of those had it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Cases (or, for young people causing harm, people) with the characteristic.
    pub yes: u32,
    /// Cases where it was recorded at all.
    pub recorded: u32,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.yes += other.yes;
        self.recorded += other.recorded;
    }
}

/// The cases heard at one meeting, counted as the return asks. Counts add up across meetings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MeetingCounts {
    /// Meetings these counts cover.
    pub meetings: u32,
    /// Cases discussed, repeats included.
    pub cases: u32,
    /// Of those, repeats.
    pub repeats: u32,
    /// Children in the households.
    pub children: u32,
    /// Referrals by source, in half cases: a referral from one agency gives its category 2,
    /// a joint referral gives 1 to each agency's category. Indexed as [`AgencyCategory::ALL`].
    pub source_halves: [u32; 14],
    /// Victims who are Black, Asian or racially minoritised.
    pub minoritised: Tally,
    /// Victims who are LGBT+.
    pub lgbt: Tally,
    /// Victims with a disability.
    pub disabled: Tally,
    /// Victims who are male.
    pub male: Tally,
    /// Victims aged 16 or 17.
    pub aged_16_17: Tally,
    /// People aged 17 or under causing harm (`yes` counts people, `recorded` cases).
    pub young_perpetrators: Tally,
    /// Of those, people harming a partner or ex-partner (the rest harm a parent or family).
    pub young_perpetrators_partner: u32,
    /// Cases with children in the household.
    pub cases_with_children: u32,
    /// Of those, cases where the meeting recorded the child's voice.
    pub child_voice_recorded: u32,
    /// Children known to children's social care.
    pub children_known_csc: u32,
    /// Children subject to a child protection plan.
    pub children_cp_plan: u32,
    /// Cases whose victim or a child was on children's social care's own list (cross-referenced),
    /// opened by the day of the meeting.
    pub cases_on_csc_list: u32,
    /// Of those, cases children's social care had closed before the meeting shared its
    /// information (none of its links still open on that day).
    pub cases_closed_to_csc: u32,
}

impl MeetingCounts {
    /// Adds one heard case referred by `source`, jointly with `joint` if it was.
    pub fn add_source(&mut self, source: AgencyCategory, joint: Option<AgencyCategory>, cases: u32) {
        let index = |c: AgencyCategory| AgencyCategory::ALL.iter().position(|x| *x == c).unwrap_or(13);
        match joint {
            Some(j) => {
                self.source_halves[index(source)] += cases;
                self.source_halves[index(j)] += cases;
            }
            None => self.source_halves[index(source)] += 2 * cases,
        }
    }

    /// Adds another meeting's (or group's) counts.
    pub fn add(&mut self, other: &MeetingCounts) {
        self.meetings += other.meetings;
        self.cases += other.cases;
        self.repeats += other.repeats;
        self.children += other.children;
        for (mine, theirs) in self.source_halves.iter_mut().zip(other.source_halves) {
            *mine += theirs;
        }
        self.minoritised.add(other.minoritised);
        self.lgbt.add(other.lgbt);
        self.disabled.add(other.disabled);
        self.male.add(other.male);
        self.aged_16_17.add(other.aged_16_17);
        self.young_perpetrators.add(other.young_perpetrators);
        self.young_perpetrators_partner += other.young_perpetrators_partner;
        self.cases_with_children += other.cases_with_children;
        self.child_voice_recorded += other.child_voice_recorded;
        self.children_known_csc += other.children_known_csc;
        self.children_cp_plan += other.children_cp_plan;
        self.cases_on_csc_list += other.cases_on_csc_list;
        self.cases_closed_to_csc += other.cases_closed_to_csc;
    }

    /// The sum of many.
    #[must_use]
    pub fn total<'a>(all: impl IntoIterator<Item = &'a MeetingCounts>) -> MeetingCounts {
        let mut t = MeetingCounts::default();
        for c in all {
            t.add(c);
        }
        t
    }
}

/// One figure of the return.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Figure {
    /// A whole count.
    Count(u32),
    /// A count in half cases (joint referrals), shown with one decimal.
    Halves(u32),
    /// A share, as a percentage.
    Percent(f64),
    /// A rate or other decimal figure.
    Decimal(f64),
    /// The records do not hold it: never recorded for any case, or no population known.
    NotHeld,
    /// A small count hidden from those who see suppressed figures: from 1 to one less than this.
    FewerThan(u32),
    /// Hidden so that a total and the figures shown cannot reveal a small one.
    Suppressed,
}

impl Figure {
    /// The figure as a person reads it.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Figure::Count(n) => n.to_string(),
            Figure::Halves(h) if h % 2 == 0 => (h / 2).to_string(),
            Figure::Halves(h) => format!("{}.5", h / 2),
            Figure::Percent(p) => format!("{p:.1}%"),
            Figure::Decimal(d) => format!("{d:.1}"),
            Figure::NotHeld => "not held".to_owned(),
            Figure::FewerThan(n) => format!("fewer than {n}"),
            Figure::Suppressed => "suppressed".to_owned(),
        }
    }

    /// The figure as a number for spreadsheets; `None` when not held.
    #[must_use]
    pub fn number(&self) -> Option<f64> {
        match self {
            Figure::Count(n) => Some(f64::from(*n)),
            Figure::Halves(h) => Some(f64::from(*h) / 2.0),
            Figure::Percent(p) | Figure::Decimal(p) => Some((p * 10.0).round() / 10.0),
            Figure::NotHeld | Figure::FewerThan(_) | Figure::Suppressed => None,
        }
    }
}

/// One line of the return: a figure with its definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Stable key, used as the column name in downloads.
    pub key: String,
    /// What people read.
    pub label: String,
    /// Exactly how it is counted.
    pub definition: String,
    /// The figure.
    pub figure: Figure,
    /// For a characteristic: the cases it was recorded for.
    pub recorded_for: Option<u32>,
}

/// A check on the return's arithmetic, shown with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What is checked.
    pub what: String,
    /// Whether it holds.
    pub holds: bool,
    /// The figures compared.
    pub detail: String,
}

/// What the rate per 10,000 needs besides the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Population {
    /// Women aged 16 and over the Maracs cover; 0 if not known.
    pub adult_women: u64,
    /// Days in the period.
    pub days: u32,
    /// Recommended cases a year per 10,000 adult women.
    pub recommended_per_10k: u32,
}

impl Population {
    /// Cases scaled to a year from the days of the period, per 10,000 adult women; `None`
    /// without a population or a period.
    #[must_use]
    pub fn cases_a_year_per_10k(&self, cases: u32) -> Option<f64> {
        if self.adult_women == 0 || self.days == 0 {
            return None;
        }
        let a_year = f64::from(cases) * 365.0 / f64::from(self.days);
        #[allow(clippy::cast_precision_loss, reason = "populations are far below 2^52")]
        Some(a_year * 10_000.0 / self.adult_women as f64)
    }
}

fn tally(t: Tally) -> Figure {
    if t.recorded == 0 { Figure::NotHeld } else { Figure::Count(t.yes) }
}

fn percent(part: u32, whole: u32) -> Figure {
    if whole == 0 { Figure::NotHeld } else { Figure::Percent(f64::from(part) * 100.0 / f64::from(whole)) }
}

fn line(key: &str, label: &str, definition: &str, figure: Figure) -> Line {
    Line { key: key.to_owned(), label: label.to_owned(), definition: definition.to_owned(), figure, recorded_for: None }
}

/// The lines of the return for these counts, in the order SafeLives asks for them, then the
/// derived figures.
#[must_use]
pub fn lines(c: &MeetingCounts, population: Population) -> Vec<Line> {
    let mut out = vec![
        line(
            "meetings",
            "Meetings",
            "Meetings in the period at which at least one case was heard.",
            Figure::Count(c.meetings),
        ),
        line(
            "cases",
            "Cases discussed",
            "Cases heard at the meetings, repeats included: a case heard at two meetings counts twice.",
            Figure::Count(c.cases),
        ),
        line(
            "repeats",
            "Repeat cases",
            "Cases heard whose referral was a repeat: a further incident within the Marac's repeat window of the last referral.",
            Figure::Count(c.repeats),
        ),
        line(
            "children",
            "Children in the households",
            "Children under 18 (and unborn children) listed in the referrals of the cases heard.",
            Figure::Count(c.children),
        ),
    ];
    for (i, category) in AgencyCategory::ALL.iter().enumerate() {
        out.push(line(
            &format!("source_{}", category.code()),
            &format!("Referred by {}", category.label()),
            "Cases heard whose referral came from an agency of this category; a joint referral counts 0.5 to each agency.",
            Figure::Halves(c.source_halves[i]),
        ));
    }
    let characteristics = [
        (
            "victims_minoritised",
            "Victims who are Black, Asian or racially minoritised",
            "Victims whose recorded ethnic group is Mixed, Asian, Black, Other, Gypsy, Irish Traveller or Roma.",
            c.minoritised,
        ),
        ("victims_lgbt", "Victims who are LGBT+", "Victims recorded as lesbian, gay, bisexual or trans.", c.lgbt),
        (
            "victims_disabled",
            "Victims with a disability",
            "Victims recorded as having a disability (Equality Act 2010).",
            c.disabled,
        ),
        ("victims_male", "Victims who are male", "Victims whose recorded gender is male.", c.male),
        (
            "victims_16_17",
            "Victims aged 16 or 17",
            "Victims aged 16 or 17 on the day of referral, from the date of birth or the age given.",
            c.aged_16_17,
        ),
        (
            "perpetrators_17_or_under",
            "People aged 17 or under causing harm",
            "People causing harm aged 17 or under on the day of referral (people, not cases).",
            c.young_perpetrators,
        ),
    ];
    for (key, label, definition, t) in characteristics {
        let mut l =
            line(key, label, &format!("{definition} \"Not held\" when no case heard had it recorded."), tally(t));
        l.recorded_for = Some(t.recorded);
        out.push(l);
    }
    let police = c.source_halves[0];
    let per_10k = population.cases_a_year_per_10k(c.cases).map_or(Figure::NotHeld, Figure::Decimal);
    let recommended = if population.adult_women == 0 {
        Figure::NotHeld
    } else {
        #[allow(clippy::cast_precision_loss, reason = "populations are far below 2^52")]
        let per_year = population.adult_women as f64 * f64::from(population.recommended_per_10k) / 10_000.0;
        Figure::Decimal(per_year * f64::from(population.days) / 365.0)
    };
    out.extend([
        line(
            "cases_per_10k_a_year",
            "Cases a year per 10,000 adult women",
            "Cases discussed, scaled to a year from the days in the period, per 10,000 women aged 16 and over in the area.",
            per_10k,
        ),
        line(
            "recommended_cases",
            "Recommended cases for the period",
            "The SafeLives recommendation (the Marac's cases a year per 10,000 adult women) for the area and the days in the period.",
            recommended,
        ),
        line("repeat_rate", "Repeat rate", "Repeat cases as a share of cases discussed.", percent(c.repeats, c.cases)),
        line(
            "partner_agency_share",
            "Referrals from agencies other than the police",
            "Cases discussed less those referred by the police (joint referrals half), as a share of cases discussed.",
            if c.cases == 0 {
                Figure::NotHeld
            } else {
                Figure::Percent(f64::from(2 * c.cases - police.min(2 * c.cases)) * 50.0 / f64::from(c.cases))
            },
        ),
    ]);
    out
}

/// Hides small numbers for those who see suppressed figures (see [`crate::suppression`]): the
/// referral sources add up to the cases, and the rates come from the counts they divide.
pub fn suppress(lines: &mut [Line], threshold: u32) {
    use crate::suppression::{Derived, Group};
    crate::suppression::suppress(
        lines,
        threshold,
        &["meetings", "recommended_cases"],
        &[Group { total: "cases", parts: "source_*" }],
        &[
            Derived { key: "repeat_rate", from: &["cases", "repeats"] },
            Derived { key: "partner_agency_share", from: &["cases", "source_police"] },
            Derived { key: "cases_per_10k_a_year", from: &["cases"] },
        ],
    );
}

/// The arithmetic checks shown with the return.
#[must_use]
pub fn checks(c: &MeetingCounts) -> Vec<Check> {
    let halves: u32 = c.source_halves.iter().sum();
    let mut out = vec![
        Check {
            what: "The referral sources add up to the cases discussed".into(),
            holds: halves == 2 * c.cases,
            detail: format!("{} from the sources, {} cases", Figure::Halves(halves).text(), c.cases),
        },
        Check {
            what: "Repeat cases are no more than the cases discussed".into(),
            holds: c.repeats <= c.cases,
            detail: format!("{} repeats, {} cases", c.repeats, c.cases),
        },
    ];
    for (what, t) in [
        ("ethnic group", c.minoritised),
        ("LGBT+", c.lgbt),
        ("disability", c.disabled),
        ("gender", c.male),
        ("age", c.aged_16_17),
    ] {
        out.push(Check {
            what: format!("Victims counted by {what} are no more than the cases recorded"),
            holds: t.yes <= t.recorded && t.recorded <= c.cases,
            detail: format!("{} counted, recorded for {} of {} cases", t.yes, t.recorded, c.cases),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-worked meeting: four cases heard.
    ///  1. Police alone; repeat; 2 children; minoritised; disabled not recorded; 16-year-old victim.
    ///  2. Police jointly with health (secondary care); 1 child; male victim; one perpetrator aged 17.
    ///  3. Idva alone; repeat; LGBT+; no ethnicity recorded.
    ///  4. Health (secondary care) jointly with children's social care; 3 children.
    fn fixture() -> MeetingCounts {
        let mut c = MeetingCounts { meetings: 1, cases: 4, repeats: 2, children: 6, ..MeetingCounts::default() };
        c.add_source(AgencyCategory::Police, None, 1);
        c.add_source(AgencyCategory::Police, Some(AgencyCategory::SecondaryCare), 1);
        c.add_source(AgencyCategory::Idva, None, 1);
        c.add_source(AgencyCategory::SecondaryCare, Some(AgencyCategory::ChildrensSocialCare), 1);
        c.minoritised = Tally { yes: 1, recorded: 3 };
        c.lgbt = Tally { yes: 1, recorded: 4 };
        c.disabled = Tally { yes: 0, recorded: 0 };
        c.male = Tally { yes: 1, recorded: 4 };
        c.aged_16_17 = Tally { yes: 1, recorded: 4 };
        c.young_perpetrators = Tally { yes: 1, recorded: 2 };
        c
    }

    fn figure(lines: &[Line], key: &str) -> String {
        lines.iter().find(|l| l.key == key).map(|l| l.figure.text()).unwrap_or_default()
    }

    #[test]
    fn a_hand_worked_meeting() {
        let population = Population { adult_women: 40_000, days: 91, recommended_per_10k: 40 };
        let l = lines(&fixture(), population);
        assert_eq!(figure(&l, "source_police"), "1.5");
        assert_eq!(figure(&l, "source_secondary_care"), "1");
        assert_eq!(figure(&l, "source_childrens_social_care"), "0.5");
        assert_eq!(figure(&l, "source_idva"), "1");
        assert_eq!(figure(&l, "source_housing"), "0");
        assert_eq!(figure(&l, "victims_disabled"), "not held", "never recorded is not zero");
        assert_eq!(figure(&l, "victims_minoritised"), "1");
        assert_eq!(l.iter().find(|x| x.key == "victims_minoritised").and_then(|x| x.recorded_for), Some(3));
        assert_eq!(figure(&l, "repeat_rate"), "50.0%");
        // 4 - 1.5 police = 2.5 of 4.
        assert_eq!(figure(&l, "partner_agency_share"), "62.5%");
        // 4 cases in 91 days is 16.04 a year; per 10,000 of 40,000 women: 4.0.
        assert_eq!(figure(&l, "cases_per_10k_a_year"), "4.0");
        // 40 per 10,000 of 40,000 is 160 a year; for 91 days 39.9.
        assert_eq!(figure(&l, "recommended_cases"), "39.9");
        assert!(checks(&fixture()).iter().all(|c| c.holds));
    }

    #[test]
    fn meetings_add_up_and_broken_arithmetic_is_shown() {
        let total = MeetingCounts::total([&fixture(), &fixture()]);
        assert_eq!((total.meetings, total.cases, total.source_halves[0]), (2, 8, 6));
        assert_eq!(total.minoritised, Tally { yes: 2, recorded: 6 });
        let mut broken = fixture();
        broken.cases = 5;
        let failed: Vec<String> = checks(&broken).into_iter().filter(|c| !c.holds).map(|c| c.what).collect();
        assert_eq!(failed, ["The referral sources add up to the cases discussed"]);
        let none = lines(&MeetingCounts::default(), Population { adult_women: 0, days: 91, recommended_per_10k: 40 });
        assert_eq!(figure(&none, "repeat_rate"), "not held");
        assert_eq!(figure(&none, "cases_per_10k_a_year"), "not held");
    }
}
