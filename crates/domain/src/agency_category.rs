//! The fourteen SafeLives referral-source categories every agency maps to.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The SafeLives referral-source category of an agency. Returns count referrals by these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyCategory {
    /// Police.
    Police,
    /// Independent domestic violence advisers.
    Idva,
    /// Children's social care services.
    ChildrensSocialCare,
    /// Adult social care services.
    AdultSocialCare,
    /// Primary care services (GPs, health visiting).
    PrimaryCare,
    /// Secondary care / acute trust services.
    SecondaryCare,
    /// Mental health services.
    MentalHealth,
    /// Substance misuse services.
    SubstanceMisuse,
    /// Probation.
    Probation,
    /// Voluntary sector.
    VoluntarySector,
    /// Multi-agency safeguarding hub.
    Mash,
    /// Education.
    Education,
    /// Housing.
    Housing,
    /// Any other agency.
    Other,
}

impl AgencyCategory {
    /// All fourteen, in SafeLives' order.
    pub const ALL: [AgencyCategory; 14] = [
        AgencyCategory::Police,
        AgencyCategory::Idva,
        AgencyCategory::ChildrensSocialCare,
        AgencyCategory::AdultSocialCare,
        AgencyCategory::PrimaryCare,
        AgencyCategory::SecondaryCare,
        AgencyCategory::MentalHealth,
        AgencyCategory::SubstanceMisuse,
        AgencyCategory::Probation,
        AgencyCategory::VoluntarySector,
        AgencyCategory::Mash,
        AgencyCategory::Education,
        AgencyCategory::Housing,
        AgencyCategory::Other,
    ];

    /// The stable code stored in the database.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            AgencyCategory::Police => "police",
            AgencyCategory::Idva => "idva",
            AgencyCategory::ChildrensSocialCare => "childrens_social_care",
            AgencyCategory::AdultSocialCare => "adult_social_care",
            AgencyCategory::PrimaryCare => "primary_care",
            AgencyCategory::SecondaryCare => "secondary_care",
            AgencyCategory::MentalHealth => "mental_health",
            AgencyCategory::SubstanceMisuse => "substance_misuse",
            AgencyCategory::Probation => "probation",
            AgencyCategory::VoluntarySector => "voluntary_sector",
            AgencyCategory::Mash => "mash",
            AgencyCategory::Education => "education",
            AgencyCategory::Housing => "housing",
            AgencyCategory::Other => "other",
        }
    }

    /// The name as SafeLives prints it.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            AgencyCategory::Police => "Police",
            AgencyCategory::Idva => "Idva",
            AgencyCategory::ChildrensSocialCare => "Children's Social Care",
            AgencyCategory::AdultSocialCare => "Adult Social Care",
            AgencyCategory::PrimaryCare => "Primary Care",
            AgencyCategory::SecondaryCare => "Secondary Care / Acute Trust",
            AgencyCategory::MentalHealth => "Mental Health",
            AgencyCategory::SubstanceMisuse => "Substance Misuse",
            AgencyCategory::Probation => "Probation",
            AgencyCategory::VoluntarySector => "Voluntary Sector",
            AgencyCategory::Mash => "MASH",
            AgencyCategory::Education => "Education",
            AgencyCategory::Housing => "Housing",
            AgencyCategory::Other => "Other",
        }
    }
}

/// The text was not one of the category codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown agency category '{0}'")]
pub struct UnknownCategory(pub String);

impl FromStr for AgencyCategory {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgencyCategory::ALL.into_iter().find(|c| c.code() == s.trim()).ok_or_else(|| UnknownCategory(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_distinct_categories_round_trip() {
        let mut codes: Vec<&str> = AgencyCategory::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 14);
        for c in AgencyCategory::ALL {
            assert_eq!(c.code().parse::<AgencyCategory>(), Ok(c));
        }
    }
}
