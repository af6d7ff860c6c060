//! Where a referral is in its life, and the rule of which referrals may still be changed.

crate::coded_enum! {
    /// Where a referral is in its life.
    pub enum ReferralStatus {
        /// Being written; only its referrer sees it.
        Draft = ("draft", "Draft"),
        /// Sent to the coordinator, waiting for triage.
        Submitted = ("submitted", "Waiting for triage"),
        /// Sent back to the referrer with a question.
        Returned = ("returned", "Sent back to you"),
        /// Accepted for a meeting.
        Accepted = ("accepted", "Accepted"),
        /// Screened out, with a reason.
        Declined = ("declined", "Declined"),
    }
}

impl ReferralStatus {
    /// The statuses in which the referrer may still change a referral: a draft, and one sent
    /// back with a question. Anything submitted is triage's until it is sent back.
    pub const EDITABLE: [ReferralStatus; 2] = [ReferralStatus::Draft, ReferralStatus::Returned];

    /// Whether the referrer may still change (and submit) the referral.
    #[must_use]
    pub fn is_editable(self) -> bool {
        Self::EDITABLE.contains(&self)
    }

    /// Whether triage may decide on it: only a referral waiting for triage.
    #[must_use]
    pub fn awaits_triage(self) -> bool {
        self == ReferralStatus::Submitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_drafts_and_referrals_sent_back_are_changed_by_their_referrer() {
        let editable: Vec<_> = ReferralStatus::ALL.iter().filter(|s| s.is_editable()).collect();
        assert_eq!(editable, [&ReferralStatus::Draft, &ReferralStatus::Returned]);
        assert!(ReferralStatus::Submitted.awaits_triage());
        assert!(!ReferralStatus::Returned.awaits_triage());
        assert_eq!(ReferralStatus::from_code("returned"), Some(ReferralStatus::Returned));
        assert_eq!(ReferralStatus::Accepted.label(), "Accepted");
    }
}
