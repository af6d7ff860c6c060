//! Where a case stands on its way through the Marac cycle, and what moves it on.
//!
//! A case is referred, accepted to wait for a meeting, listed for one, heard (or deferred to a
//! later one), and then stays open while the actions agreed for it are outstanding; it closes
//! when every action has ended. A new referral about the same people starts the cycle again.
//! The store records each move with who made it and when, in the transaction of the change that
//! caused it, and every list of cases is driven by the stage recorded here.

use crate::coded_enum;
use time::Date;

coded_enum! {
    /// Where a case stands.
    pub enum CaseStage {
        /// A referral waits for the coordinator's decision.
        Referred = ("referred", "Referred: awaiting triage"),
        /// The latest referral was declined and nothing else is open.
        Declined = ("declined", "Referral declined"),
        /// Accepted: waits to be put on a meeting's list.
        AwaitingMeeting = ("awaiting_meeting", "Awaiting a meeting"),
        /// On a meeting's list.
        Listed = ("listed", "Listed for a meeting"),
        /// Moved at a meeting to a later one.
        Deferred = ("deferred", "Deferred"),
        /// Discussed at a meeting; its actions are still being agreed.
        Heard = ("heard", "Heard"),
        /// Heard, with actions still outstanding.
        ActionsOpen = ("actions_open", "Heard: actions open"),
        /// Heard, and every action agreed for it has ended.
        Closed = ("closed", "Closed: all actions ended"),
    }
}

impl CaseStage {
    /// The stages of a case on its way to a meeting: the ones agencies research.
    pub const ON_THE_WAY: &'static [CaseStage] = &[CaseStage::AwaitingMeeting, CaseStage::Listed, CaseStage::Deferred];

    /// The stages at which a case may be researched at all: on its way, or (where a Marac opens
    /// research when a referral is sent) waiting for triage.
    pub const RESEARCHABLE: &'static [CaseStage] =
        &[CaseStage::Referred, CaseStage::AwaitingMeeting, CaseStage::Listed, CaseStage::Deferred];

    /// Whether the case has been heard at its latest meeting (and not referred again since):
    /// research on it is closed.
    #[must_use]
    pub const fn is_heard(self) -> bool {
        matches!(self, Self::Heard | Self::ActionsOpen | Self::Closed)
    }

    /// Whether the stage names the meeting it concerns (listed for, heard at, deferred at).
    #[must_use]
    pub const fn names_meeting(self) -> bool {
        matches!(self, Self::Listed | Self::Deferred | Self::Heard | Self::ActionsOpen | Self::Closed)
    }
}

/// Something that happened to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEvent {
    /// A referral about its people was submitted.
    Referred,
    /// The coordinator accepted a referral onto it.
    Accepted,
    /// The coordinator declined a referral about it.
    Declined,
    /// It was put on a meeting's list.
    Listed,
    /// It was taken off a list before the meeting recorded anything on it.
    Unlisted,
    /// The meeting recorded it as heard.
    Heard,
    /// The meeting deferred it to a later meeting.
    Deferred,
    /// An action on it was added or reported on.
    ActionsChanged,
    /// The meeting that heard it was closed.
    MeetingClosed,
}

/// The stage a case moves to when `event` happens, given whether any of its actions are
/// outstanding afterwards; `None` when the event leaves it where it is.
#[must_use]
pub fn after(current: Option<CaseStage>, event: CaseEvent, open_actions: bool) -> Option<CaseStage> {
    use CaseStage as S;
    let heard = if open_actions { S::ActionsOpen } else { S::Heard };
    let next = match (event, current) {
        // A further referral while the case is on its way to a meeting joins it there.
        (CaseEvent::Referred, None | Some(S::Closed | S::Declined | S::Heard | S::ActionsOpen)) => S::Referred,
        (CaseEvent::Referred, Some(_)) => return None,
        // Accepted onto a case already on a list: it is discussed there.
        (CaseEvent::Accepted, Some(S::Listed)) => return None,
        (CaseEvent::Accepted, _) => S::AwaitingMeeting,
        (CaseEvent::Declined, None | Some(S::Referred)) => S::Declined,
        (CaseEvent::Declined, Some(_)) => return None,
        (CaseEvent::Listed, _) => S::Listed,
        (CaseEvent::Unlisted, Some(S::Listed)) => S::AwaitingMeeting,
        (CaseEvent::Unlisted, _) => return None,
        (CaseEvent::Heard, _) => heard,
        (CaseEvent::Deferred, _) => S::Deferred,
        (CaseEvent::ActionsChanged, Some(S::Heard | S::Closed)) if open_actions => S::ActionsOpen,
        (CaseEvent::ActionsChanged, Some(S::ActionsOpen)) if !open_actions => S::Closed,
        (CaseEvent::ActionsChanged, _) => return None,
        (CaseEvent::MeetingClosed, Some(S::Heard | S::ActionsOpen)) => {
            if open_actions {
                S::ActionsOpen
            } else {
                S::Closed
            }
        }
        (CaseEvent::MeetingClosed, _) => return None,
    };
    (current != Some(next)).then_some(next)
}

/// The window after a case's latest referral within which another referral is a repeat (12
/// months unless the Marac set otherwise): its last day, and whether it still runs on `today`.
#[must_use]
pub fn repeat_window(latest_referral: Date, months: u32, today: Date) -> (Date, bool) {
    let end = crate::referral_rules::add_months(latest_referral, months);
    (end, today <= end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseEvent as E;
    use CaseStage as S;
    use time::macros::date;

    /// Runs events from nothing, with whether actions are open after each.
    fn run(events: &[(CaseEvent, bool)]) -> Vec<CaseStage> {
        let mut at = None;
        let mut seen = Vec::new();
        for (e, open) in events {
            if let Some(next) = after(at, *e, *open) {
                at = Some(next);
                seen.push(next);
            }
        }
        seen
    }

    #[test]
    fn a_case_moves_through_the_cycle_and_closes_when_its_actions_end() {
        let stages = run(&[
            (E::Referred, false),
            (E::Accepted, false),
            (E::Listed, false),
            (E::Heard, false),
            (E::ActionsChanged, true),
            (E::MeetingClosed, true),
            (E::ActionsChanged, true),
            (E::ActionsChanged, false),
        ]);
        assert_eq!(stages, [S::Referred, S::AwaitingMeeting, S::Listed, S::Heard, S::ActionsOpen, S::Closed]);
    }

    #[test]
    fn a_case_heard_with_no_actions_closes_with_its_meeting() {
        let stages = run(&[(E::Referred, false), (E::Accepted, false), (E::Listed, false), (E::Heard, false)]);
        assert_eq!(stages.last(), Some(&S::Heard));
        assert_eq!(after(Some(S::Heard), E::MeetingClosed, false), Some(S::Closed));
        assert_eq!(after(Some(S::Listed), E::MeetingClosed, false), None, "a case not heard stays listed");
    }

    #[test]
    fn deferral_and_unlisting_send_a_case_back_to_wait() {
        assert_eq!(after(Some(S::Listed), E::Deferred, false), Some(S::Deferred));
        assert_eq!(after(Some(S::Deferred), E::Listed, false), Some(S::Listed));
        assert_eq!(after(Some(S::Listed), E::Unlisted, false), Some(S::AwaitingMeeting));
        assert_eq!(after(Some(S::Deferred), E::Unlisted, false), None);
    }

    #[test]
    fn a_new_referral_reopens_a_closed_case_but_not_one_on_its_way() {
        assert_eq!(after(Some(S::Closed), E::Referred, false), Some(S::Referred));
        assert_eq!(after(Some(S::ActionsOpen), E::Referred, true), Some(S::Referred));
        assert_eq!(after(Some(S::Listed), E::Referred, false), None);
        assert_eq!(after(Some(S::AwaitingMeeting), E::Referred, false), None);
        assert_eq!(after(Some(S::Listed), E::Accepted, false), None, "accepted onto a listed case stays listed");
        assert_eq!(after(Some(S::Referred), E::Declined, false), Some(S::Declined));
        assert_eq!(after(Some(S::AwaitingMeeting), E::Declined, false), None);
    }

    #[test]
    fn actions_reopen_a_closed_case_and_leave_one_on_its_way_alone() {
        assert_eq!(after(Some(S::Closed), E::ActionsChanged, true), Some(S::ActionsOpen));
        assert_eq!(after(Some(S::AwaitingMeeting), E::ActionsChanged, true), None);
        assert_eq!(after(Some(S::ActionsOpen), E::ActionsChanged, true), None);
    }

    #[test]
    fn the_repeat_window_runs_twelve_months_from_the_latest_referral() {
        assert_eq!(repeat_window(date!(2025 - 12 - 06), 12, date!(2026 - 12 - 06)), (date!(2026 - 12 - 06), true));
        assert_eq!(repeat_window(date!(2025 - 12 - 06), 12, date!(2026 - 12 - 07)), (date!(2026 - 12 - 06), false));
        assert_eq!(repeat_window(date!(2024 - 02 - 29), 12, date!(2025 - 02 - 28)), (date!(2025 - 02 - 28), true));
    }

    #[test]
    fn every_stage_has_a_distinct_code() {
        for s in S::ALL {
            assert_eq!(S::from_code(s.code()), Some(*s));
        }
    }
}
