//! The rules of the brief that each Marac may set for itself, with the national defaults.

use crate::case_stage::CaseStage;
use serde::{Deserialize, Serialize};

crate::coded_enum! {
    /// When the representatives of the agencies attending a Marac may start researching a case
    /// of it (under the confidentiality rule, as ever).
    #[derive(Default)]
    pub enum ResearchOpens {
        /// As soon as the referral is sent, so agencies can add to it before triage.
        OnSubmission = ("submission", "When the referral is sent"),
        /// When the coordinator accepts the referral.
        #[default]
        OnAcceptance = ("acceptance", "When the coordinator accepts the referral"),
        /// When the meeting's list is published, for the agencies invited to it.
        OnPublication = ("publication", "When the meeting's list is published"),
    }
}

impl ResearchOpens {
    /// Whether a case at `stage` is open to every agency attending its Marac (before any list
    /// is published). Publication opens a case only to the agencies a published list invites,
    /// which the case's meetings say; research closes for everyone once the case is heard.
    #[must_use]
    pub fn opens(self, stage: Option<CaseStage>) -> bool {
        match (self, stage) {
            (Self::OnSubmission, Some(CaseStage::Referred)) => true,
            (Self::OnSubmission | Self::OnAcceptance, Some(s)) => CaseStage::ON_THE_WAY.contains(&s),
            _ => false,
        }
    }

    /// The stages at which `opens` is true, for a database to ask.
    #[must_use]
    pub fn open_stages(self) -> &'static [CaseStage] {
        match self {
            Self::OnSubmission => CaseStage::RESEARCHABLE,
            Self::OnAcceptance => CaseStage::ON_THE_WAY,
            Self::OnPublication => &[],
        }
    }
}

/// Thresholds and windows one Marac applies. Defaults are the SafeLives ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaracRules {
    /// "Yes" answers on the risk checklist at or above which a case is visible high risk.
    pub high_risk_threshold: u32,
    /// Police-reported incidents within `escalation_months` that make potential escalation.
    pub escalation_incidents: u32,
    /// The window, in months, for potential escalation.
    pub escalation_months: u32,
    /// A further incident within this many months of the last referral is a repeat.
    pub repeat_months: u32,
    /// Cases heard per meeting before the list is full.
    pub meeting_capacity: u32,
    /// Recommended cases a year per 10,000 adult women.
    pub recommended_cases_per_10k: u32,
    /// Days before a meeting that its list closes: cases accepted later are proposed for
    /// the meeting after.
    pub list_cutoff_days: u32,
    /// Months a flag agreed at a meeting (e.g. a safety marker on an address) runs.
    pub flag_months: u32,
    /// When attending agencies may start researching a case.
    #[serde(default)]
    pub research_opens: ResearchOpens,
}

impl Default for MaracRules {
    fn default() -> Self {
        MaracRules {
            high_risk_threshold: 14,
            escalation_incidents: 3,
            escalation_months: 12,
            repeat_months: 12,
            meeting_capacity: 16,
            recommended_cases_per_10k: 40,
            list_cutoff_days: 7,
            flag_months: 12,
            research_opens: ResearchOpens::OnAcceptance,
        }
    }
}

/// One rule was out of range; `field` names it as the form does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    /// The form field the problem belongs to.
    pub field: &'static str,
    /// What is wrong, for the person who typed it.
    pub message: String,
}

impl MaracRules {
    /// Checks each rule is within the range a Marac could sensibly use.
    ///
    /// # Errors
    /// Every rule out of range, each tied to its field.
    pub fn validate(&self) -> Result<(), Vec<RuleError>> {
        let checks: [(&'static str, u32, u32, u32, &str); 8] = [
            ("high_risk_threshold", self.high_risk_threshold, 1, 40, "The high-risk threshold"),
            ("escalation_incidents", self.escalation_incidents, 1, 20, "The number of incidents"),
            ("escalation_months", self.escalation_months, 1, 24, "The escalation window"),
            ("repeat_months", self.repeat_months, 1, 24, "The repeat window"),
            ("meeting_capacity", self.meeting_capacity, 1, 60, "The meeting capacity"),
            ("recommended_cases_per_10k", self.recommended_cases_per_10k, 1, 200, "The recommended volume"),
            ("list_cutoff_days", self.list_cutoff_days, 0, 30, "The list cut-off"),
            ("flag_months", self.flag_months, 1, 36, "How long a flag runs"),
        ];
        let errors: Vec<RuleError> = checks
            .into_iter()
            .filter(|(_, v, lo, hi, _)| v < lo || v > hi)
            .map(|(field, _, lo, hi, what)| RuleError {
                field,
                message: format!("{what} must be between {lo} and {hi}"),
            })
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Recommended cases a year for an adult (16+) female population.
    #[must_use]
    pub fn recommended_cases_a_year(&self, adult_female_population: u64) -> u64 {
        (adult_female_population * u64::from(self.recommended_cases_per_10k)).div_ceil(10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_brief() {
        let r = MaracRules::default();
        assert_eq!((r.high_risk_threshold, r.escalation_incidents, r.escalation_months), (14, 3, 12));
        assert_eq!((r.repeat_months, r.meeting_capacity, r.recommended_cases_per_10k), (12, 16, 40));
        assert_eq!((r.list_cutoff_days, r.flag_months), (7, 12));
        assert!(r.validate().is_ok());
    }

    #[test]
    fn out_of_range_rules_name_their_fields() {
        let r = MaracRules { high_risk_threshold: 0, meeting_capacity: 99, ..MaracRules::default() };
        let fields: Vec<&str> = r.validate().err().unwrap_or_default().iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["high_risk_threshold", "meeting_capacity"]);
    }

    #[test]
    fn recommended_volume() {
        // 100,000 adult women at 40 per 10,000 is 400 cases a year.
        assert_eq!(MaracRules::default().recommended_cases_a_year(100_000), 400);
        assert_eq!(MaracRules::default().recommended_cases_a_year(1), 1);
    }

    #[test]
    fn research_opens_when_the_marac_says_and_closes_when_the_case_is_heard() {
        use crate::case_stage::CaseStage as S;
        for setting in ResearchOpens::ALL {
            for stage in [
                None,
                Some(S::Referred),
                Some(S::Declined),
                Some(S::AwaitingMeeting),
                Some(S::Listed),
                Some(S::Deferred),
                Some(S::Heard),
                Some(S::ActionsOpen),
                Some(S::Closed),
            ] {
                assert_eq!(
                    setting.opens(stage),
                    stage.is_some_and(|s| setting.open_stages().contains(&s)),
                    "{setting:?} {stage:?}"
                );
            }
        }
        assert!(ResearchOpens::OnSubmission.opens(Some(S::Referred)));
        assert!(!ResearchOpens::OnAcceptance.opens(Some(S::Referred)), "waiting for triage opens nothing by default");
        assert!(ResearchOpens::OnAcceptance.opens(Some(S::Listed)));
        assert!(!ResearchOpens::OnPublication.opens(Some(S::Listed)), "only the published list's invitations open it");
        assert!(
            !ResearchOpens::OnSubmission.opens(Some(S::Heard)) && !ResearchOpens::OnSubmission.opens(Some(S::Declined))
        );
        assert_eq!(MaracRules::default().research_opens, ResearchOpens::OnAcceptance);
    }
}
