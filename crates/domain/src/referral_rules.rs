//! The Marac referral rules of the brief (§4), as plain functions of the facts.
//!
//! Each Marac's thresholds come from [`MaracRules`]; nothing here reads a clock or a
//! database, so every rule is tested by tables below.

use crate::MaracRules;
use crate::referral_form::field;
use serde::Serialize;
use time::{Date, Month};

crate::coded_enum! {
    /// The four SafeLives criteria for referral to Marac, in SafeLives' order.
    pub enum Criterion {
        /// "Yes" answers at or above the Marac's threshold.
        VisibleHighRisk = ("visible_high_risk", "Visible high risk"),
        /// The referrer's professional judgement, with a written reason.
        ProfessionalJudgement = ("professional_judgement", "Professional judgement"),
        /// Enough police-reported incidents in the window.
        PotentialEscalation = ("potential_escalation", "Potential escalation"),
        /// A further incident within the repeat window of the last referral.
        Repeat = ("repeat", "Repeat"),
    }
}

crate::coded_enum! {
    /// Flags the returns count separately.
    pub enum AgeFlag {
        /// The victim is 16 or 17.
        VictimAged16To17 = ("victim_16_17", "Victim aged 16 or 17"),
        /// A person causing harm is 17 or under.
        PerpetratorAged17OrUnder = ("perpetrator_under_18", "Person causing harm aged 17 or under"),
    }
}

/// Codes as stored in one text column, comma-separated: the row layer's form of a list.
#[must_use]
pub fn join_codes<T: Copy>(items: &[T], code: fn(T) -> &'static str) -> String {
    items.iter().map(|i| code(*i)).collect::<Vec<_>>().join(",")
}

/// The list back from its stored text; `None` names the first code not known.
///
/// # Errors
/// The first code that is not one of `T`'s.
pub fn split_codes<T>(text: &str, from_code: fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    text.split(',').filter(|c| !c.is_empty()).map(|c| from_code(c).ok_or_else(|| c.to_owned())).collect()
}

/// Why a referral cannot go to Marac at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Marac is for victims aged 16 and over.
    #[error(
        "Marac is for victims aged 16 and over. Refer a child or young person under 16 to children's \
         safeguarding (children's social care or your MASH) today, and tell your safeguarding lead"
    )]
    VictimUnder16,
}

/// A problem with what the referrer gave, tied to the field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub message: &'static str,
}

/// The facts the rules need about one referral.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferralFacts {
    /// "Yes" answers on the risk checklist.
    pub yes_answers: u32,
    /// Set when the referrer uses professional judgement; the reason they gave (may be blank,
    /// which is refused).
    pub professional_judgement: Option<String>,
    /// Dates of incidents reported to the police.
    pub police_incidents: Vec<Date>,
    /// The date of the incident or concern this referral is about.
    pub incident_date: Option<Date>,
    /// The date of this referral.
    pub referral_date: Option<Date>,
    /// The last referral to Marac of the same victim with the same perpetrator(s).
    pub last_referral_date: Option<Date>,
    /// The victim's age on the referral date, if known or estimated.
    pub victim_age: Option<u32>,
    /// The ages of the people causing harm, where known.
    pub perpetrator_ages: Vec<Option<u32>>,
}

/// What the rules conclude.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// Criteria met, in SafeLives' order.
    pub criteria: Vec<Criterion>,
    /// Whether the case goes to Marac (any criterion met).
    pub goes_to_marac: bool,
    /// Age flags for the returns.
    pub age_flags: Vec<AgeFlag>,
}

/// Adds calendar months to a date, keeping the day where the month has it and otherwise
/// using the month's last day (31 January + 1 month = 28 or 29 February).
#[must_use]
pub fn add_months(date: Date, months: u32) -> Date {
    let total = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(date.year());
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1)).unwrap_or(Month::January);
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(date)
}

/// Whether an incident on `incident` is a repeat of a referral on `last_referral`: within
/// `months` of it, the last day included. One day later it is a new referral.
#[must_use]
pub fn is_repeat(last_referral: Date, incident: Date, months: u32) -> bool {
    incident >= last_referral && incident <= add_months(last_referral, months)
}

/// Whether enough police-reported incidents fall in the window ending on `on`.
#[must_use]
pub fn is_potential_escalation(incidents: &[Date], on: Date, count: u32, months: u32) -> bool {
    let n = incidents.iter().filter(|d| **d <= on && add_months(**d, months) > on).count();
    u32::try_from(n).unwrap_or(u32::MAX) >= count
}

/// Applies every rule.
///
/// # Errors
/// [`Refusal`] when the case cannot go to Marac at all (a victim under 16); the guidance is
/// the message. Missing reasons for professional judgement are [`assess_input`]'s concern.
pub fn assess(rules: &MaracRules, facts: &ReferralFacts) -> Result<Assessment, Refusal> {
    if facts.victim_age.is_some_and(|a| a < 16) {
        return Err(Refusal::VictimUnder16);
    }
    let mut criteria = Vec::new();
    if facts.yes_answers >= rules.high_risk_threshold {
        criteria.push(Criterion::VisibleHighRisk);
    }
    // Judgement can only add a reason to refer; it never takes one away.
    if facts.professional_judgement.as_deref().is_some_and(|r| !r.trim().is_empty()) {
        criteria.push(Criterion::ProfessionalJudgement);
    }
    if let Some(on) = facts.referral_date
        && is_potential_escalation(&facts.police_incidents, on, rules.escalation_incidents, rules.escalation_months)
    {
        criteria.push(Criterion::PotentialEscalation);
    }
    if let (Some(last), Some(incident)) = (facts.last_referral_date, facts.incident_date.or(facts.referral_date))
        && is_repeat(last, incident, rules.repeat_months)
    {
        criteria.push(Criterion::Repeat);
    }
    let mut age_flags = Vec::new();
    if facts.victim_age.is_some_and(|a| a < 18) {
        age_flags.push(AgeFlag::VictimAged16To17);
    }
    if facts.perpetrator_ages.iter().any(|a| a.is_some_and(|a| a <= 17)) {
        age_flags.push(AgeFlag::PerpetratorAged17OrUnder);
    }
    Ok(Assessment { goes_to_marac: !criteria.is_empty(), criteria, age_flags })
}

/// Checks what the referrer must supply for the rules to apply.
///
/// # Errors
/// Every problem, each tied to its field.
pub fn assess_input(facts: &ReferralFacts) -> Result<(), Vec<InputError>> {
    let mut errors = Vec::new();
    if facts.professional_judgement.as_deref().is_some_and(|r| r.trim().len() < 20) {
        errors.push(InputError {
            field: field::REASON_PROFESSIONAL_JUDGEMENT_REASON,
            message: "Explain your professional judgement: what worries you about this person's safety, in at least a sentence",
        });
    }
    if facts.victim_age.is_some_and(|a| a > 120) {
        errors.push(InputError {
            field: field::VICTIM_AGE,
            message: "Enter the victim's age, or an estimate, between 16 and 120",
        });
    }
    if let (Some(incident), Some(referral)) = (facts.incident_date, facts.referral_date)
        && incident > referral
    {
        errors.push(InputError {
            field: field::REFERRAL_INCIDENT_DATE,
            message: "The date of the incident must be on or before today",
        });
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_are_calendar_months() {
        let table = [
            (date!(2025 - 03 - 15), 12, date!(2026 - 03 - 15)),
            (date!(2025 - 01 - 31), 1, date!(2025 - 02 - 28)),
            (date!(2024 - 01 - 31), 1, date!(2024 - 02 - 29)),
            (date!(2024 - 02 - 29), 12, date!(2025 - 02 - 28)),
            (date!(2025 - 11 - 30), 3, date!(2026 - 02 - 28)),
            (date!(2025 - 12 - 01), 0, date!(2025 - 12 - 01)),
        ];
        for (from, months, expected) in table {
            assert_eq!(add_months(from, months), expected, "{from} + {months}");
        }
    }

    #[test]
    fn repeats_are_within_twelve_months_of_the_last_referral() {
        let last = date!(2025 - 06 - 10);
        let table = [
            (date!(2025 - 06 - 10), true),
            (date!(2026 - 05 - 10), true),  // 11 months after
            (date!(2026 - 06 - 10), true),  // the last day of the window
            (date!(2026 - 06 - 11), false), // one day past: a new referral
            (date!(2026 - 07 - 10), false), // 13 months after
            (date!(2025 - 06 - 09), false), // before the last referral
        ];
        for (incident, expected) in table {
            assert_eq!(is_repeat(last, incident, 12), expected, "{incident}");
        }
    }

    #[test]
    fn potential_escalation_counts_incidents_in_the_window() {
        let on = date!(2026 - 03 - 01);
        let three_in_year = [date!(2025 - 04 - 01), date!(2025 - 10 - 01), date!(2026 - 02 - 01)];
        let one_too_old = [date!(2025 - 03 - 01), date!(2025 - 10 - 01), date!(2026 - 02 - 01)];
        let table: [(&[Date], u32, u32, bool); 6] = [
            (&three_in_year, 3, 12, true),
            (&one_too_old, 3, 12, false),
            (&three_in_year, 3, 6, false),  // a Marac using 3 in 6 months
            (&three_in_year, 5, 12, false), // a Marac using 5 in 12 months
            (&three_in_year[1..], 2, 6, true),
            (&[], 3, 12, false),
        ];
        for (incidents, count, months, expected) in table {
            assert_eq!(
                is_potential_escalation(incidents, on, count, months),
                expected,
                "{count} in {months}: {incidents:?}"
            );
        }
    }

    fn facts(yes: u32) -> ReferralFacts {
        ReferralFacts {
            yes_answers: yes,
            victim_age: Some(30),
            referral_date: Some(date!(2026 - 03 - 01)),
            ..ReferralFacts::default()
        }
    }

    #[test]
    fn visible_high_risk_at_the_threshold() {
        let rules = MaracRules::default();
        let table = [(13, false), (14, true), (24, true), (0, false)];
        for (yes, expected) in table {
            let a = assess(&rules, &facts(yes)).ok();
            assert_eq!(a.map(|a| a.criteria.contains(&Criterion::VisibleHighRisk)), Some(expected), "{yes} yes");
        }
        let strict = MaracRules { high_risk_threshold: 15, ..MaracRules::default() };
        assert_eq!(assess(&strict, &facts(14)).map(|a| a.goes_to_marac), Ok(false));
    }

    #[test]
    fn professional_judgement_only_raises_and_needs_a_reason() {
        let rules = MaracRules::default();
        let mut f = facts(9);
        assert_eq!(assess(&rules, &f).map(|a| a.goes_to_marac), Ok(false));
        f.professional_judgement = Some("She is too frightened to answer; he has access to a firearm at work.".into());
        assert!(assess_input(&f).is_ok());
        assert_eq!(assess(&rules, &f).map(|a| a.criteria), Ok(vec![Criterion::ProfessionalJudgement]));
        f.professional_judgement = Some("  ".into());
        let errors = assess_input(&f).err().unwrap_or_default();
        assert_eq!(
            errors.iter().map(|e| e.field).collect::<Vec<_>>(),
            vec![field::REASON_PROFESSIONAL_JUDGEMENT_REASON]
        );
        // A high score stays high whatever the judgement says.
        let mut high = facts(16);
        high.professional_judgement = Some("I do not think the risk is high.".into());
        assert!(assess(&rules, &high).map(|a| a.criteria.contains(&Criterion::VisibleHighRisk)).unwrap_or(false));
    }

    #[test]
    fn a_repeat_goes_to_marac_whatever_the_score() {
        let rules = MaracRules::default();
        let mut f = facts(3);
        f.last_referral_date = Some(date!(2025 - 04 - 01));
        f.incident_date = Some(date!(2026 - 03 - 01)); // 11 months later
        assert_eq!(assess(&rules, &f).map(|a| (a.goes_to_marac, a.criteria)), Ok((true, vec![Criterion::Repeat])));
        f.last_referral_date = Some(date!(2025 - 02 - 01)); // 13 months before
        assert_eq!(assess(&rules, &f).map(|a| a.goes_to_marac), Ok(false));
    }

    #[test]
    fn ages() {
        let rules = MaracRules::default();
        let mut f = facts(14);
        f.victim_age = Some(15);
        assert_eq!(assess(&rules, &f), Err(Refusal::VictimUnder16));
        assert!(Refusal::VictimUnder16.to_string().contains("children's safeguarding"));
        f.victim_age = Some(17);
        f.perpetrator_ages = vec![None, Some(17)];
        assert_eq!(
            assess(&rules, &f).map(|a| a.age_flags),
            Ok(vec![AgeFlag::VictimAged16To17, AgeFlag::PerpetratorAged17OrUnder])
        );
        f.victim_age = Some(16);
        f.perpetrator_ages = vec![Some(18)];
        assert_eq!(assess(&rules, &f).map(|a| a.age_flags), Ok(vec![AgeFlag::VictimAged16To17]));
        f.victim_age = Some(130);
        assert!(assess_input(&f).is_err());
    }

    #[test]
    fn incident_dates_cannot_be_in_the_future() {
        let mut f = facts(14);
        f.incident_date = Some(date!(2026 - 03 - 02));
        assert_eq!(assess_input(&f).err().map(|e| e[0].field), Some(field::REFERRAL_INCIDENT_DATE));
    }
}
