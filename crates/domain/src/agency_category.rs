//! The fourteen SafeLives referral-source categories every agency maps to.

use crate::coded_enum;
use std::str::FromStr;

coded_enum! {
    /// The SafeLives referral-source category of an agency. Returns count referrals by these.
    pub enum AgencyCategory {
        /// Police.
        Police = ("police", "Police"),
        /// Independent domestic violence advisers.
        Idva = ("idva", "Idva"),
        /// Children's social care services.
        ChildrensSocialCare = ("childrens_social_care", "Children's Social Care"),
        /// Adult social care services.
        AdultSocialCare = ("adult_social_care", "Adult Social Care"),
        /// Primary care services (GPs, health visiting).
        PrimaryCare = ("primary_care", "Primary Care"),
        /// Secondary care / acute trust services.
        SecondaryCare = ("secondary_care", "Secondary Care / Acute Trust"),
        /// Mental health services.
        MentalHealth = ("mental_health", "Mental Health"),
        /// Substance misuse services.
        SubstanceMisuse = ("substance_misuse", "Substance Misuse"),
        /// Probation.
        Probation = ("probation", "Probation"),
        /// Voluntary sector.
        VoluntarySector = ("voluntary_sector", "Voluntary Sector"),
        /// Multi-agency safeguarding hub.
        Mash = ("mash", "MASH"),
        /// Education.
        Education = ("education", "Education"),
        /// Housing.
        Housing = ("housing", "Housing"),
        /// Any other agency.
        Other = ("other", "Other"),
    }
}

/// The text was not one of the category codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown agency category '{0}'")]
pub struct UnknownCategory(pub String);

impl FromStr for AgencyCategory {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgencyCategory::from_code(s.trim()).ok_or_else(|| UnknownCategory(s.to_owned()))
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
        for c in AgencyCategory::ALL.iter().copied() {
            assert_eq!(c.code().parse::<AgencyCategory>(), Ok(c));
        }
    }
}
