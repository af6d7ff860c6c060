//! Meetings and their actions: the schedule, what goes on the list and in which order, and
//! what an action's status means. Plain rules; the store and pages only record and show them.

use crate::MeetingCadence;
use crate::coded_enum;
use time::{Date, Duration, Month, Weekday};

coded_enum! {
    /// Why a meeting is held.
    pub enum MeetingKind {
        /// From the Marac's regular schedule.
        Regular = ("regular", "Regular"),
        /// Arranged once, outside the schedule.
        OneOff = ("one_off", "One-off"),
        /// Called at short notice for a case that cannot wait.
        Emergency = ("emergency", "Emergency"),
    }
}

coded_enum! {
    /// How a meeting is held.
    pub enum MeetingFormat {
        /// Everyone in one room.
        InPerson = ("in_person", "In person"),
        /// On a video call.
        Virtual = ("virtual", "Virtual"),
        /// No meeting: agencies contribute in writing by a closing date.
        NoMeeting = ("no_meeting", "No meeting (contributions by a closing date)"),
    }
}

coded_enum! {
    /// Where a meeting is in its life.
    pub enum MeetingStatus {
        /// Scheduled; the list is being built and nobody outside the coordinators sees it.
        Planned = ("planned", "Planned"),
        /// The list has gone to the invited agencies, and research on its cases is open.
        Published = ("published", "List published"),
        /// The meeting has taken place; the minutes are final.
        Held = ("held", "Held"),
    }
}

coded_enum! {
    /// What happened to a listed case at the meeting.
    pub enum CaseOutcome {
        /// On the list, not yet discussed.
        Listed = ("listed", "Listed"),
        /// Discussed, with an action plan.
        Heard = ("heard", "Heard"),
        /// Moved to a later meeting (the reason is recorded).
        Deferred = ("deferred", "Deferred"),
    }
}

coded_enum! {
    /// How someone took part in a meeting.
    pub enum AttendanceKind {
        /// Attended for their agency.
        Present = ("present", "Present"),
        /// Sent apologies (perhaps with information sent beforehand).
        Apologies = ("apologies", "Apologies"),
        /// Watched without representing an agency, e.g. a student or inspector.
        Observer = ("observer", "Observer"),
    }
}

coded_enum! {
    /// Whom an action is about.
    pub enum ActionSubject {
        /// The victim.
        Victim = ("victim", "Victim"),
        /// A named child of the household.
        Child = ("child", "A child"),
        /// The person causing harm.
        Perpetrator = ("perpetrator", "Person causing harm"),
        /// Anything else, e.g. another household member.
        Other = ("other", "Other"),
    }
}

coded_enum! {
    /// What kind of step an action is, where the partnership's measures count it.
    pub enum ActionKind {
        /// Any other action.
        General = ("general", "Other action"),
        /// A referral of the family to early help; done means the family took it up.
        EarlyHelp = ("early_help", "Referral to early help"),
        /// The Right to Know under the Domestic Violence Disclosure Scheme (Clare's Law).
        RightToKnow = ("right_to_know", "Right to Know (Clare's Law) considered"),
        /// Information to, or a referral to, a child protection conference.
        ChildProtectionConference = ("child_protection_conference", "Link to a child protection conference"),
        /// Multi-agency public protection arrangements.
        Mappa = ("mappa", "Link to MAPPA"),
        /// A child exploitation panel.
        ChildExploitationPanel = ("child_exploitation_panel", "Link to a child exploitation panel"),
    }
}

coded_enum! {
    /// What an action about the person causing harm sets out to do.
    pub enum PerpetratorApproach {
        /// Disrupt the abuse (e.g. enforcement of conditions).
        Disruption = ("disruption", "Disruption"),
        /// Divert into a behaviour change programme or support.
        Diversion = ("diversion", "Diversion"),
        /// Pursue a prosecution.
        Prosecution = ("prosecution", "Prosecution"),
        /// Manage through existing supervision (e.g. probation, MAPPA).
        Management = ("management", "Management"),
    }
}

coded_enum! {
    /// Where an action stands.
    pub enum ActionStatus {
        /// Agreed, not yet done.
        Open = ("open", "Open"),
        /// Done.
        Done = ("done", "Done"),
        /// Not done because the circumstances changed (e.g. the victim moved away).
        NotDoneCircumstances = ("not_done_circumstances", "Not done: circumstances changed"),
        /// Not done by the agency that owned it.
        NotDoneByAgency = ("not_done_agency", "Not done by the agency"),
        /// Carried forward to the next meeting.
        CarriedForward = ("carried_forward", "Carried forward"),
    }
}

coded_enum! {
    /// Why an action is late or was not done, as the returns count it.
    pub enum DelayReason {
        /// The victim could not be reached.
        VictimNotContactable = ("victim_not_contactable", "Victim could not be contacted"),
        /// Waiting on another agency.
        AwaitingAnotherAgency = ("awaiting_agency", "Waiting for another agency"),
        /// The owning agency lacked capacity.
        AgencyCapacity = ("agency_capacity", "Agency capacity"),
        /// The situation changed.
        CircumstancesChanged = ("circumstances_changed", "Circumstances changed"),
        /// Something else, said in the note.
        Other = ("other", "Other"),
    }
}

impl ActionStatus {
    /// Still to be done: shown for review at the next meeting.
    #[must_use]
    pub const fn is_outstanding(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::CarriedForward)
    }

    /// Closing without doing it needs a reason category.
    #[must_use]
    pub const fn needs_reason(self) -> bool {
        matches!(
            self,
            ActionStatus::NotDoneCircumstances | ActionStatus::NotDoneByAgency | ActionStatus::CarriedForward
        )
    }
}

/// An outstanding action past its due date.
#[must_use]
pub fn is_overdue(status: ActionStatus, due: Date, today: Date) -> bool {
    status.is_outstanding() && due < today
}

/// Days the Idva has, after a case is heard, to tell the victim the outcome.
pub const TELL_VICTIM_WITHIN_DAYS: i64 = 2;

/// The action each heard case gets for its Idva.
pub const TELL_VICTIM_OUTCOME: &str = "Tell the victim the outcome of the Marac: what was agreed to keep them and any children safe, and who will contact them.";

/// Days before the due date on which the owner is reminded.
pub const REMINDER_DAYS_BEFORE_DUE: i64 = 3;

/// Regular meeting dates from `first` up to and including `until`, at the Marac's cadence.
/// Daily meetings skip weekends; monthly ones keep the weekday and its week of the month
/// ("the second Tuesday"), falling back to the last such weekday in short months.
#[must_use]
pub fn schedule(cadence: MeetingCadence, first: Date, until: Date) -> Vec<Date> {
    let mut dates = Vec::new();
    let mut day = first;
    let nth = (first.day() - 1) / 7;
    let mut months = 0u32;
    while day <= until && dates.len() < 400 {
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        if !(cadence == MeetingCadence::Daily && weekend) {
            dates.push(day);
        }
        day = match cadence {
            MeetingCadence::Daily => day + Duration::days(1),
            MeetingCadence::Weekly => day + Duration::days(7),
            MeetingCadence::Fortnightly => day + Duration::days(14),
            MeetingCadence::Monthly => {
                months += 1;
                match nth_weekday(first, months, nth) {
                    Some(d) => d,
                    None => break,
                }
            }
        };
    }
    dates
}

/// The `nth` (0-based) `first.weekday()` of the month `months` after `first`'s, or the last
/// one when that month has fewer.
fn nth_weekday(first: Date, months: u32, nth: u8) -> Option<Date> {
    let index = i32::from(u8::from(first.month())) - 1 + i32::try_from(months).ok()?;
    let year = first.year() + index.div_euclid(12);
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let mut day = Date::from_calendar_date(year, month, 1).ok()?;
    while day.weekday() != first.weekday() {
        day = day.next_day()?;
    }
    let mut wanted = day + Duration::weeks(i64::from(nth));
    while wanted.month() != month {
        wanted -= Duration::weeks(1);
    }
    Some(wanted)
}

/// A case that could go on a meeting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCandidate {
    /// The case.
    pub case_id: i64,
    /// Children in the household.
    pub children: u32,
    /// When it was accepted (`YYYY-MM-DD...`, so text order is time order).
    pub accepted_at: String,
}

/// The cases proposed for a meeting with `room` places left: cases with children first, then
/// the longest waiting, so nobody waits behind later referrals.
#[must_use]
pub fn propose(candidates: &[ListCandidate], room: usize) -> Vec<i64> {
    let mut sorted: Vec<&ListCandidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| {
        (b.children > 0)
            .cmp(&(a.children > 0))
            .then_with(|| a.accepted_at.cmp(&b.accepted_at))
            .then(a.case_id.cmp(&b.case_id))
    });
    sorted.into_iter().take(room).map(|c| c.case_id).collect()
}

/// Puts cases with children first, keeping the coordinator's order within each group.
#[must_use]
pub fn children_first(list: &[(i64, u32)]) -> Vec<i64> {
    let with = list.iter().filter(|(_, n)| *n > 0).map(|(id, _)| *id);
    let without = list.iter().filter(|(_, n)| *n == 0).map(|(id, _)| *id);
    with.chain(without).collect()
}

/// Moves the item at `from` one place up or down; out of range leaves the list as it is.
#[must_use]
pub fn move_item(list: &[i64], from: usize, up: bool) -> Vec<i64> {
    let mut out = list.to_vec();
    let to = if up { from.checked_sub(1) } else { Some(from + 1) };
    if let Some(to) = to
        && from < out.len()
        && to < out.len()
    {
        out.swap(from, to);
    }
    out
}

/// The day a meeting's list closes, `days` before the meeting: cases accepted after it are
/// proposed for the meeting after, though the coordinator may still add one by hand.
#[must_use]
pub fn list_cutoff(meeting_on: Date, days: u32) -> Date {
    meeting_on - Duration::days(i64::from(days))
}

/// A case reaches its 12-month review when this many months have passed since its last
/// referral: it is listed as a standing item.
#[must_use]
pub fn twelve_months_passed(last_referral: Date, today: Date) -> bool {
    crate::referral_rules::add_months(last_referral, 12) <= today
}

/// Whether a case's 12 months since its last referral ended in the month before a meeting on
/// `meeting_on`, so that meeting takes it as a standing item: from then on a new incident is
/// no longer a repeat, and the Marac confirms what happens to its flags.
#[must_use]
pub fn twelve_month_review_due(last_referral: Date, meeting_on: Date) -> bool {
    twelve_months_passed(last_referral, meeting_on)
        && !twelve_months_passed(last_referral, meeting_on - Duration::days(31))
}

/// A report on an action's progress, checked: what the agency's page and the API both take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionReport {
    /// The new status (never back to open).
    pub status: ActionStatus,
    /// Why it was not done or is carried forward; only kept where the status needs one.
    pub reason: Option<DelayReason>,
    /// What was done, trimmed; may be empty.
    pub note: String,
}

impl ActionReport {
    /// Reads a report from its codes and note, or says what is wrong with each field (by the
    /// field's name: `status`, `reason`, `note`).
    ///
    /// # Errors
    /// Each field's problem, in the form's order.
    pub fn read(status: &str, reason: &str, note: &str) -> Result<Self, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let status = ActionStatus::from_code(status).filter(|s| *s != ActionStatus::Open);
        if status.is_none() {
            problems.push(("status", "Select the action's status".to_owned()));
        }
        let reason = DelayReason::from_code(reason);
        if status.is_some_and(ActionStatus::needs_reason) && reason.is_none() {
            problems.push(("reason", "Select why it was not done or is carried forward".to_owned()));
        }
        let note = note.trim();
        if note.chars().count() > 2_000 {
            problems.push(("note", "The note must be 2,000 characters or fewer".to_owned()));
        } else if let Err(e) = crate::fields::check_text(note, crate::fields::TextKind::Multiline) {
            problems.push(("note", e));
        }
        match status {
            Some(status) if problems.is_empty() => {
                Ok(Self { status, reason: reason.filter(|_| status.needs_reason()), note: note.to_owned() })
            }
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_list_closes_the_set_days_before() {
        assert_eq!(list_cutoff(date!(2026 - 12 - 3), 7), date!(2026 - 11 - 26));
        assert_eq!(list_cutoff(date!(2026 - 12 - 3), 0), date!(2026 - 12 - 3));
    }

    #[test]
    fn the_twelve_month_review_falls_to_the_first_meeting_after_the_window_ends() {
        let last = date!(2025 - 11 - 20);
        assert!(!twelve_month_review_due(last, date!(2026 - 11 - 19)));
        assert!(twelve_month_review_due(last, date!(2026 - 11 - 20)));
        assert!(twelve_month_review_due(last, date!(2026 - 12 - 20)));
        assert!(!twelve_month_review_due(last, date!(2026 - 12 - 22)));
    }

    #[test]
    fn schedules_follow_the_cadence() {
        // Monday 2 November 2026.
        let d = schedule(MeetingCadence::Daily, date!(2026 - 11 - 05), date!(2026 - 11 - 10));
        assert_eq!(d, [date!(2026 - 11 - 05), date!(2026 - 11 - 06), date!(2026 - 11 - 09), date!(2026 - 11 - 10)]);
        let w = schedule(MeetingCadence::Weekly, date!(2026 - 11 - 03), date!(2026 - 11 - 24));
        assert_eq!(w.len(), 4);
        let f = schedule(MeetingCadence::Fortnightly, date!(2026 - 11 - 03), date!(2026 - 12 - 31));
        assert_eq!(
            f,
            [
                date!(2026 - 11 - 03),
                date!(2026 - 11 - 17),
                date!(2026 - 12 - 01),
                date!(2026 - 12 - 15),
                date!(2026 - 12 - 29)
            ]
        );
        // The second Tuesday of each month.
        let m = schedule(MeetingCadence::Monthly, date!(2026 - 11 - 10), date!(2027 - 03 - 31));
        assert_eq!(
            m,
            [
                date!(2026 - 11 - 10),
                date!(2026 - 12 - 08),
                date!(2027 - 01 - 12),
                date!(2027 - 02 - 09),
                date!(2027 - 03 - 09)
            ]
        );
        // The fifth Thursday falls back to the last one in months with four.
        let m = schedule(MeetingCadence::Monthly, date!(2026 - 10 - 29), date!(2026 - 12 - 31));
        assert_eq!(m, [date!(2026 - 10 - 29), date!(2026 - 11 - 26), date!(2026 - 12 - 31)]);
        assert!(schedule(MeetingCadence::Weekly, date!(2026 - 11 - 03), date!(2026 - 11 - 02)).is_empty());
    }

    fn c(case_id: i64, children: u32, accepted_at: &str) -> ListCandidate {
        ListCandidate { case_id, children, accepted_at: accepted_at.into() }
    }

    #[test]
    fn proposals_put_children_first_then_the_longest_waiting() {
        let all = [c(1, 0, "2026-11-01"), c(2, 2, "2026-11-05"), c(3, 0, "2026-10-20"), c(4, 1, "2026-11-02")];
        assert_eq!(propose(&all, 16), [4, 2, 3, 1]);
        assert_eq!(propose(&all, 3), [4, 2, 3]);
        assert!(propose(&all, 0).is_empty());
    }

    #[test]
    fn reordering_keeps_children_first_and_moves_within_bounds() {
        assert_eq!(children_first(&[(1, 0), (2, 1), (3, 0), (4, 3)]), [2, 4, 1, 3]);
        assert_eq!(move_item(&[1, 2, 3], 1, true), [2, 1, 3]);
        assert_eq!(move_item(&[1, 2, 3], 1, false), [1, 3, 2]);
        assert_eq!(move_item(&[1, 2, 3], 0, true), [1, 2, 3]);
        assert_eq!(move_item(&[1, 2, 3], 2, false), [1, 2, 3]);
        assert_eq!(move_item(&[1, 2, 3], 9, false), [1, 2, 3]);
    }

    #[test]
    fn outstanding_actions_become_overdue_the_day_after_they_are_due() {
        let due = date!(2026 - 11 - 20);
        for (status, outstanding) in [
            (ActionStatus::Open, true),
            (ActionStatus::CarriedForward, true),
            (ActionStatus::Done, false),
            (ActionStatus::NotDoneCircumstances, false),
            (ActionStatus::NotDoneByAgency, false),
        ] {
            assert_eq!(status.is_outstanding(), outstanding);
            assert!(!is_overdue(status, due, due), "not overdue on the day");
            assert_eq!(is_overdue(status, due, date!(2026 - 11 - 21)), outstanding);
        }
        assert!(ActionStatus::NotDoneByAgency.needs_reason() && !ActionStatus::Done.needs_reason());
    }

    #[test]
    fn codes_round_trip() {
        for s in ActionStatus::ALL {
            assert_eq!(ActionStatus::from_code(s.code()), Some(*s));
        }
        assert_eq!(MeetingFormat::from_code("no_meeting"), Some(MeetingFormat::NoMeeting));
        assert_eq!(CaseOutcome::from_code("maybe"), None);
    }

    #[test]
    fn the_twelve_month_review_comes_on_the_anniversary() {
        assert!(!twelve_months_passed(date!(2025 - 11 - 24), date!(2026 - 11 - 23)));
        assert!(twelve_months_passed(date!(2025 - 11 - 23), date!(2026 - 11 - 23)));
    }

    #[test]
    fn a_report_needs_a_status_and_a_reason_when_not_done() {
        let done = ActionReport::read("done", "resources", "  Flagged on the GP record. ").unwrap();
        assert_eq!(
            (done.status, done.reason, done.note.as_str()),
            (ActionStatus::Done, None, "Flagged on the GP record.")
        );
        let fields = |r: Result<ActionReport, Vec<(&'static str, String)>>| {
            r.unwrap_err().into_iter().map(|(f, _)| f).collect::<Vec<_>>()
        };
        assert_eq!(fields(ActionReport::read("open", "", "")), ["status"], "never back to open");
        assert_eq!(fields(ActionReport::read("carried_forward", "", "")), ["reason"]);
        assert_eq!(fields(ActionReport::read("", "", &"x".repeat(2_001))), ["status", "note"]);
        let carried = ActionReport::read("carried_forward", DelayReason::ALL[0].code(), "").unwrap();
        assert_eq!(carried.reason, Some(DelayReason::ALL[0]));
    }
}
