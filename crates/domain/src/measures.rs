//! The Marac's health against SafeLives recommendations, and the children's safeguarding
//! partnership's measures: each with its definition, target where one exists, and status
//! (met, not met, not held), worked out from one quarter's facts.

use crate::AgencyCategory;
use crate::safelives_return::{Figure, MeetingCounts, Population};
use serde::Serialize;

/// Whether a measure meets its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It meets the target.
    Met,
    /// It does not.
    NotMet,
    /// The records do not hold what it needs.
    NotHeld,
    /// There is no target; the figure is for the partnership to judge.
    NoTarget,
}

impl Status {
    /// The words on the page.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Status::Met => "Met",
            Status::NotMet => "Not met",
            Status::NotHeld => "Not held",
            Status::NoTarget => "No target",
        }
    }
}

/// What the action plans agreed in the quarter hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionFacts {
    /// Cases heard with an action about the person causing harm.
    pub cases_with_perpetrator_action: u32,
    /// Cases heard with an action about a child.
    pub cases_with_child_action: u32,
    /// Actions agreed.
    pub agreed: u32,
    /// Of those, done.
    pub done: u32,
    /// Referrals to early help agreed.
    pub early_help: u32,
    /// Of those, taken up (reported done).
    pub early_help_taken_up: u32,
    /// Of those, reported not done (not taken up).
    pub early_help_not_taken_up: u32,
    /// The Right to Know (Clare's Law) considered.
    pub right_to_know: u32,
    /// Links to a child protection conference.
    pub child_protection_conference: u32,
    /// Links to MAPPA.
    pub mappa: u32,
    /// Links to a child exploitation panel.
    pub child_exploitation_panel: u32,
}

/// One agency category's attendance at the quarter's held meetings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attendance {
    /// The category.
    pub category: AgencyCategory,
    /// Invitations to held meetings.
    pub invited: u32,
    /// Of those, attended.
    pub present: u32,
}

/// A figure entered from outside the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outside {
    /// The measure's key.
    pub key: String,
    /// The figure.
    pub value: u32,
}

/// Everything one quarter's measures are worked out from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The cases heard, counted.
    pub counts: MeetingCounts,
    /// What the plans hold.
    pub actions: ActionFacts,
    /// Attendance by agency category.
    pub attendance: Vec<Attendance>,
    /// Visible high-risk referrals decided in the quarter.
    pub high_risk_decided: u32,
    /// Of those, screened out.
    pub high_risk_screened_out: u32,
    /// Figures from outside the records.
    pub outside: Vec<Outside>,
    /// The area and the period, for volume.
    pub population: Option<Population>,
}

/// One measure, worked out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measure {
    /// Stable key.
    pub key: &'static str,
    /// What people read.
    pub label: &'static str,
    /// Exactly how it is counted.
    pub definition: &'static str,
    /// The target, in words, where there is one.
    pub target: Option<&'static str>,
    /// The figure.
    pub figure: Figure,
    /// Against the target.
    pub status: Status,
    /// The count the figure rests on, for suppression: a share of 2 of 3 cases shows a small
    /// number as surely as the count does.
    #[serde(skip)]
    pub small_base: Option<u32>,
}

/// Figures from outside the records the partnership enters each quarter: key and label.
pub const OUTSIDE_MEASURES: &[(&str, &str)] = &[
    ("police_notifications_to_csc", "Police notifications of domestic abuse to children's social care"),
    ("young_peoples_advocates", "Young people's violence advocates commissioned (posts)"),
    ("operation_encompass_notifications", "Notifications to schools (Operation Encompass)"),
];

fn share(part: u32, whole: u32) -> Figure {
    if whole == 0 { Figure::NotHeld } else { Figure::Percent(f64::from(part) * 100.0 / f64::from(whole)) }
}

fn percent_value(f: Figure) -> Option<f64> {
    match f {
        Figure::Percent(p) => Some(p),
        _ => None,
    }
}

fn no_target(key: &'static str, label: &'static str, definition: &'static str, figure: Figure) -> Measure {
    let status = if figure == Figure::NotHeld { Status::NotHeld } else { Status::NoTarget };
    Measure { key, label, definition, target: None, figure, status, small_base: None }
}

fn with_target(
    key: &'static str,
    label: &'static str,
    definition: &'static str,
    target: &'static str,
    figure: Figure,
    met: impl Fn(Figure) -> bool,
) -> Measure {
    let status = match figure {
        Figure::NotHeld => Status::NotHeld,
        f if met(f) => Status::Met,
        _ => Status::NotMet,
    };
    Measure { key, label, definition, target: Some(target), figure, status, small_base: None }
}

fn based(mut m: Measure, base: u32) -> Measure {
    m.small_base = Some(base);
    m
}

fn attendance_of(facts: &Facts, categories: &[AgencyCategory]) -> (u32, u32) {
    facts
        .attendance
        .iter()
        .filter(|a| categories.contains(&a.category))
        .fold((0, 0), |(p, i), a| (p + a.present, i + a.invited))
}

fn halves(c: &MeetingCounts, categories: &[AgencyCategory]) -> u32 {
    AgencyCategory::ALL.iter().zip(c.source_halves).filter(|(cat, _)| categories.contains(cat)).map(|(_, h)| h).sum()
}

/// Agencies that work with children, for the measures that count them.
pub const CHILDREN_AGENCIES: [AgencyCategory; 3] =
    [AgencyCategory::ChildrensSocialCare, AgencyCategory::Education, AgencyCategory::Mash];

/// Plans with an action about the person causing harm: a health measure and a children's one.
fn perpetrator_plans(f: &Facts) -> Measure {
    based(
        no_target(
            "plans_with_perpetrator_action",
            "Action plans with an action about the person causing harm",
            "Cases heard whose action plan from that meeting has an action about the person causing harm.",
            share(f.actions.cases_with_perpetrator_action, f.counts.cases),
        ),
        f.actions.cases_with_perpetrator_action,
    )
}

/// Referrals from agencies that work with children: a health measure and a children's one.
fn children_agency_referrals(c: &MeetingCounts) -> Measure {
    based(
        no_target(
            "referrals_from_children_agencies",
            "Referrals from agencies that work with children",
            "Cases heard referred by children's social care, education or the MASH (joint referrals half), as a share of cases.",
            share(halves(c, &CHILDREN_AGENCIES), 2 * c.cases),
        ),
        halves(c, &CHILDREN_AGENCIES) / 2,
    )
}

/// Victims aged 16 or 17: a health measure and a children's one.
fn victims_16_17(c: &MeetingCounts) -> Measure {
    no_target(
        "victims_16_17",
        "Victims aged 16 or 17",
        "Cases heard whose victim was 16 or 17 on the day of referral.",
        if c.aged_16_17.recorded == 0 { Figure::NotHeld } else { Figure::Count(c.aged_16_17.yes) },
    )
}

/// The Marac's health against the SafeLives recommendations.
#[must_use]
pub fn marac_health(f: &Facts) -> Vec<Measure> {
    let c = &f.counts;
    let volume = match f.population.and_then(|p| Some((p.cases_a_year_per_10k(c.cases)?, p.recommended_per_10k))) {
        Some((rate, recommended)) => (Figure::Decimal(rate), f64::from(recommended)),
        None => (Figure::NotHeld, 40.0),
    };
    let (present, invited) = attendance_of(f, AgencyCategory::ALL);
    vec![
        with_target(
            "volume",
            "Cases a year per 10,000 adult women",
            "Cases discussed in the quarter, scaled to a year, per 10,000 women aged 16 and over in the area.",
            "At least the recommended 40",
            volume.0,
            |fig| matches!(fig, Figure::Decimal(r) if r >= volume.1),
        ),
        with_target(
            "high_risk_screened_out",
            "High-risk referrals screened out",
            "Referrals decided in the quarter that met the visible high-risk threshold and were declined.",
            "None",
            Figure::Count(f.high_risk_screened_out),
            |fig| fig == Figure::Count(0),
        ),
        based(
            with_target(
                "repeat_rate",
                "Repeat rate",
                "Repeat cases as a share of cases discussed.",
                "28% to 40% (SafeLives' expected range)",
                share(c.repeats, c.cases),
                |fig| percent_value(fig).is_some_and(|p| (28.0..=40.0).contains(&p)),
            ),
            c.repeats,
        ),
        based(
            no_target(
                "attendance",
                "Agency attendance",
                "Invitations to the quarter's held meetings that someone from the agency attended.",
                share(present, invited),
            ),
            present,
        ),
        based(
            no_target(
                "actions_done",
                "Actions done",
                "Actions agreed at the quarter's meetings that are reported done.",
                share(f.actions.done, f.actions.agreed),
            ),
            f.actions.done,
        ),
        perpetrator_plans(f),
        children_agency_referrals(c),
        victims_16_17(c),
    ]
}

/// The children's safeguarding partnership's measures that the records (and the figures
/// entered from outside them) can answer.
#[must_use]
pub fn children(f: &Facts) -> Vec<Measure> {
    let c = &f.counts;
    let a = &f.actions;
    let (csc_present, csc_invited) = attendance_of(f, &[AgencyCategory::ChildrensSocialCare]);
    let (edu_present, edu_invited) = attendance_of(f, &[AgencyCategory::Education]);
    let young = |n: u32| if c.young_perpetrators.recorded == 0 { Figure::NotHeld } else { Figure::Count(n) };
    let every_meeting = |fig: Figure| percent_value(fig).is_some_and(|p| p >= 100.0);
    let mut out = vec![
        no_target(
            "cases_with_children",
            "Cases with children",
            "Cases heard with children in the household.",
            Figure::Count(c.cases_with_children),
        ),
        no_target(
            "children",
            "Children in the households",
            "Children listed in the referrals of the cases heard.",
            Figure::Count(c.children),
        ),
        no_target(
            "referrals_from_csc",
            "Referrals from children's social care",
            "Cases heard referred by children's social care (joint referrals half). The trend shows the change each quarter.",
            Figure::Halves(halves(c, &[AgencyCategory::ChildrensSocialCare])),
        ),
        children_agency_referrals(c),
        no_target(
            "children_known_to_csc",
            "Children known to children's social care",
            "Children the referral records as known to children's social care, in the cases heard.",
            Figure::Count(c.children_known_csc),
        ),
        no_target(
            "cases_on_csc_list",
            "Families on children's social care's own list",
            "Cases heard whose victim or a child matched children's social care's uploaded list of open and recently closed cases, opened by the day of the meeting.",
            Figure::Count(c.cases_on_csc_list),
        ),
        no_target(
            "cases_closed_to_csc",
            "Closed to children's social care before the Marac shared information",
            "Of the families on children's social care's list, those whose cases it had closed before the meeting.",
            Figure::Count(c.cases_closed_to_csc),
        ),
        no_target(
            "children_on_protection_plan",
            "Children on a child protection plan whose parent was referred",
            "Children the referral records as subject to a child protection plan, in the cases heard.",
            Figure::Count(c.children_cp_plan),
        ),
        with_target(
            "csc_attendance",
            "Children's social care attendance",
            "Invitations of children's social care to the quarter's held meetings that it attended.",
            "Every meeting",
            share(csc_present, csc_invited),
            every_meeting,
        ),
        with_target(
            "education_attendance",
            "Education and early-years attendance",
            "Invitations of education (schools, colleges, early years) to the quarter's held meetings that it attended.",
            "Every meeting",
            share(edu_present, edu_invited),
            every_meeting,
        ),
        based(
            no_target(
                "plans_with_child_action",
                "Plans with actions for the children",
                "Cases heard with children whose action plan from that meeting has an action about a child.",
                share(a.cases_with_child_action, c.cases_with_children),
            ),
            a.cases_with_child_action,
        ),
        perpetrator_plans(f),
        based(
            no_target(
                "child_voice",
                "The child's voice recorded",
                "Cases heard with children where the meeting recorded the child's voice.",
                share(c.child_voice_recorded, c.cases_with_children),
            ),
            c.child_voice_recorded,
        ),
        no_target(
            "young_people_harming_partner",
            "Young people using harmful behaviour in their own relationship",
            "People causing harm aged 17 or under whose victim is their partner or ex-partner.",
            young(c.young_perpetrators_partner),
        ),
        no_target(
            "young_people_harming_family",
            "Young people using harmful behaviour towards a parent or family member",
            "People causing harm aged 17 or under whose victim is a parent or other family member.",
            young(c.young_perpetrators.yes.saturating_sub(c.young_perpetrators_partner)),
        ),
        victims_16_17(c),
        no_target(
            "early_help_referrals",
            "Referrals from the Marac to early help",
            "Actions agreed at the quarter's meetings that are referrals to early help.",
            Figure::Count(a.early_help),
        ),
        based(
            no_target(
                "early_help_take_up",
                "Early help taken up",
                "Of the referrals to early help reported on, those reported done (the family took it up).",
                share(a.early_help_taken_up, a.early_help_taken_up + a.early_help_not_taken_up),
            ),
            a.early_help_taken_up,
        ),
        no_target(
            "right_to_know",
            "The Right to Know (Clare's Law) considered",
            "Actions agreed at the quarter's meetings to consider a disclosure under the Right to Know.",
            Figure::Count(a.right_to_know),
        ),
        no_target(
            "links_child_protection_conference",
            "Links to child protection conferences",
            "Actions agreed at the quarter's meetings linking the case to a child protection conference.",
            Figure::Count(a.child_protection_conference),
        ),
        no_target(
            "links_mappa",
            "Links to MAPPA",
            "Actions agreed at the quarter's meetings linking the case to MAPPA.",
            Figure::Count(a.mappa),
        ),
        no_target(
            "links_child_exploitation_panel",
            "Links to child exploitation panels",
            "Actions agreed at the quarter's meetings linking the case to a child exploitation panel.",
            Figure::Count(a.child_exploitation_panel),
        ),
    ];
    for (key, label) in OUTSIDE_MEASURES {
        let value = f.outside.iter().find(|o| o.key == *key).map(|o| o.value);
        out.push(no_target(
            key,
            label,
            "Entered for the quarter by the partnership from outside the Marac's records.",
            value.map_or(Figure::NotHeld, Figure::Count),
        ));
    }
    out
}

/// Hides small numbers for those who see suppressed figures: a count from 1 to one less than
/// `threshold`, and a share resting on such a count.
pub fn suppress(measures: &mut [Measure], threshold: u32) {
    for m in measures {
        let small = |n: u32| n > 0 && n < threshold;
        m.figure = match m.figure {
            Figure::Count(n) if small(n) => Figure::FewerThan(threshold),
            Figure::Halves(h) if h > 0 && h < 2 * threshold => Figure::FewerThan(threshold),
            Figure::Percent(_) if m.small_base.is_some_and(small) => Figure::Suppressed,
            other => other,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::safelives_return::Tally;

    fn facts() -> Facts {
        let mut counts = MeetingCounts {
            meetings: 2,
            cases: 20,
            repeats: 6,
            children: 25,
            cases_with_children: 12,
            child_voice_recorded: 3,
            children_known_csc: 7,
            children_cp_plan: 2,
            young_perpetrators: Tally { yes: 3, recorded: 15 },
            young_perpetrators_partner: 2,
            aged_16_17: Tally { yes: 1, recorded: 18 },
            ..MeetingCounts::default()
        };
        counts.add_source(AgencyCategory::Police, None, 14);
        counts.add_source(AgencyCategory::ChildrensSocialCare, None, 4);
        counts.add_source(AgencyCategory::Education, Some(AgencyCategory::Police), 2);
        Facts {
            counts,
            actions: ActionFacts {
                cases_with_perpetrator_action: 15,
                cases_with_child_action: 9,
                agreed: 60,
                done: 45,
                early_help: 5,
                early_help_taken_up: 3,
                early_help_not_taken_up: 1,
                right_to_know: 4,
                ..ActionFacts::default()
            },
            attendance: vec![
                Attendance { category: AgencyCategory::ChildrensSocialCare, invited: 2, present: 2 },
                Attendance { category: AgencyCategory::Education, invited: 2, present: 1 },
                Attendance { category: AgencyCategory::Police, invited: 2, present: 2 },
            ],
            high_risk_decided: 30,
            high_risk_screened_out: 1,
            outside: vec![Outside { key: "police_notifications_to_csc".into(), value: 140 }],
            population: Some(Population { adult_women: 50_000, days: 91, recommended_per_10k: 40 }),
        }
    }

    fn find<'a>(ms: &'a [Measure], key: &str) -> &'a Measure {
        ms.iter().find(|m| m.key == key).unwrap_or_else(|| panic!("no measure {key}"))
    }

    #[test]
    fn health_against_the_recommendations() {
        let h = marac_health(&facts());
        // 20 cases in 91 days is 80.2 a year; per 10,000 of 50,000 women, 16.0: below 40.
        assert_eq!((find(&h, "volume").figure.text(), find(&h, "volume").status), ("16.0".into(), Status::NotMet));
        assert_eq!(find(&h, "high_risk_screened_out").status, Status::NotMet);
        assert_eq!(
            (find(&h, "repeat_rate").figure.text(), find(&h, "repeat_rate").status),
            ("30.0%".into(), Status::Met)
        );
        assert_eq!(find(&h, "attendance").figure.text(), "83.3%");
        assert_eq!(find(&h, "actions_done").figure.text(), "75.0%");
        assert_eq!(find(&h, "plans_with_perpetrator_action").figure.text(), "75.0%");
        // Children's social care 4, education 1 (half of 2): 5 of 20.
        assert_eq!(find(&h, "referrals_from_children_agencies").figure.text(), "25.0%");
    }

    #[test]
    fn the_children_s_measures() {
        let ch = children(&facts());
        assert_eq!(find(&ch, "referrals_from_csc").figure.text(), "4");
        assert_eq!(
            (find(&ch, "csc_attendance").status, find(&ch, "education_attendance").status),
            (Status::Met, Status::NotMet)
        );
        assert_eq!(find(&ch, "plans_with_child_action").figure.text(), "75.0%");
        assert_eq!(find(&ch, "child_voice").figure.text(), "25.0%");
        assert_eq!(
            (
                find(&ch, "young_people_harming_partner").figure.text(),
                find(&ch, "young_people_harming_family").figure.text()
            ),
            ("2".into(), "1".into())
        );
        assert_eq!(find(&ch, "early_help_take_up").figure.text(), "75.0%");
        assert_eq!(find(&ch, "police_notifications_to_csc").figure.text(), "140");
        assert_eq!(find(&ch, "young_peoples_advocates").status, Status::NotHeld, "not entered is not held");
        let mut none = Facts::default();
        none.counts.cases = 3;
        let ch = children(&none);
        assert_eq!(find(&ch, "csc_attendance").status, Status::NotHeld);
        assert_eq!(find(&ch, "young_people_harming_partner").figure, Figure::NotHeld);
    }

    #[test]
    fn small_numbers_and_the_shares_resting_on_them_are_hidden() {
        let mut ch = children(&facts());
        suppress(&mut ch, 5);
        assert_eq!(find(&ch, "children_on_protection_plan").figure.text(), "fewer than 5");
        assert_eq!(find(&ch, "child_voice").figure.text(), "suppressed", "3 of 12");
        assert_eq!(find(&ch, "children_known_to_csc").figure.text(), "7");
        assert_eq!(find(&ch, "plans_with_child_action").figure.text(), "75.0%", "9 of 12");
    }
}
