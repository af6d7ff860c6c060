//! Notifications: what each kind says, when reminders and escalations fall due, and how often
//! a failed e-mail is tried again.
//!
//! Every message carries a link and nothing else about the case: no names, no addresses, no
//! case references. E-mail leaves the partnership's systems, and an inbox is read on phones
//! and shared screens; the link asks the reader to sign in, where the access rules apply.

use crate::coded_enum;
use crate::meeting_rules::{ActionStatus, REMINDER_DAYS_BEFORE_DUE, is_overdue};
use time::{Date, Duration};

coded_enum! {
    /// Why someone is told something.
    pub enum NoticeKind {
        /// A meeting list the reader's agency is invited to has been published.
        ListPublished = ("list_published", "Meeting list published"),
        /// A case was added to a published list the reader's agency is invited to.
        CaseAddedToList = ("case_added_to_list", "Case added to a published list"),
        /// An action the reader's agency owns is due soon.
        ActionDue = ("action_due", "Action due soon"),
        /// An action is overdue (to the coordinators).
        ActionOverdue = ("action_overdue", "Action overdue"),
        /// A referral the reader made has been returned with a question.
        ReferralReturned = ("referral_returned", "Referral returned with a question"),
        /// An Idva is asked to tell a victim the outcome of the meeting.
        TellVictimOutcome = ("tell_victim_outcome", "Tell the victim the outcome"),
        /// A referral names the people of a case another Marac holds (to both Maracs' coordinators).
        CaseHeldElsewhere = ("case_held_elsewhere", "A referral names a case another Marac holds"),
        /// One Marac asks the other to move a case (to the other's coordinators).
        CaseTransferAsked = ("case_transfer_asked", "A case transfer is asked for"),
        /// A case transfer was agreed or refused (to the asking Marac's coordinators).
        CaseTransferAnswered = ("case_transfer_answered", "A case transfer was answered"),
        /// The reader's own roles were changed by an administrator.
        RolesChanged = ("roles_changed", "Your roles were changed"),
        /// Someone's roles in the reader's Marac were changed (to its coordinators).
        MaracRolesChanged = ("marac_roles_changed", "Roles in your Marac were changed"),
    }
}

impl NoticeKind {
    /// The e-mail subject and inbox heading. Never holds case detail.
    #[must_use]
    pub const fn subject(self) -> &'static str {
        match self {
            NoticeKind::ListPublished => "Marac: a meeting list has been published",
            NoticeKind::CaseAddedToList => "Marac: a case was added to a meeting list",
            NoticeKind::ActionDue => "Marac: an action for your agency is due soon",
            NoticeKind::ActionOverdue => "Marac: an action is overdue",
            NoticeKind::ReferralReturned => "Marac: a referral has been returned to you with a question",
            NoticeKind::TellVictimOutcome => "Marac: please tell a victim the outcome of the meeting",
            NoticeKind::CaseHeldElsewhere => "Marac: a referral names a case another Marac holds",
            NoticeKind::CaseTransferAsked => "Marac: you are asked to agree a case transfer",
            NoticeKind::CaseTransferAnswered => "Marac: a case transfer you asked for was answered",
            NoticeKind::RolesChanged => "Marac: your roles were changed",
            NoticeKind::MaracRolesChanged => "Marac: roles in your Marac were changed",
        }
    }

    /// One sentence saying what to do, without case detail.
    #[must_use]
    pub const fn summary(self) -> &'static str {
        match self {
            NoticeKind::ListPublished => {
                "A list for a meeting your agency is invited to has been published. Research on its cases is open."
            }
            NoticeKind::CaseAddedToList => {
                "A case was added to the published list of a meeting your agency is invited to. Research on it is open."
            }
            NoticeKind::ActionDue => "An action your agency owns is due within three days. Please report its status.",
            NoticeKind::ActionOverdue => {
                "An action has passed its due date without being reported done. It will be reviewed at the next meeting."
            }
            NoticeKind::ReferralReturned => "Triage has returned a referral you made with a question.",
            NoticeKind::TellVictimOutcome => {
                "A case your service supports has been heard. Please tell the victim the outcome and record that you have."
            }

            NoticeKind::CaseHeldElsewhere => {
                "A referral to one of your Maracs names the victim and people causing harm of a case another Marac holds. Decide whether the case should move."
            }
            NoticeKind::CaseTransferAsked => {
                "Another Marac asks for a case to move between your Maracs. Please agree or refuse."
            }
            NoticeKind::CaseTransferAnswered => "A case transfer your Marac asked for has been agreed or refused.",
            NoticeKind::RolesChanged => {
                "An administrator changed your roles. Your account page lists them; if you did not expect this, tell your Marac coordinator."
            }
            NoticeKind::MaracRolesChanged => {
                "An administrator changed someone's roles in a Marac you coordinate. The audit trail records who and what."
            }
        }
    }

    /// The e-mail body: the summary, what it concerns (the Marac and a date, never a case) and
    /// the link, and a reminder why nothing more is said.
    #[must_use]
    pub fn email_body(self, about: &str, link: &str) -> String {
        let about = if about.is_empty() { String::new() } else { format!("\n\nThis concerns: {about}.") };
        format!(
            "{}{about}\n\nSign in to see it:\n{link}\n\nThis message holds no case detail by design. \
             If you were not expecting it, tell your Marac coordinator.\n",
            self.summary()
        )
    }
}

/// What a notice about a meeting concerns: the Marac (by its name, "Northshire North Marac")
/// and the meeting's day, which identify no one.
#[must_use]
pub fn about_meeting(marac: &str, held_on: Date) -> String {
    format!("{marac}, meeting on {}", crate::uk_time::date(held_on))
}

/// What a notice about an action concerns: the Marac and the day it is due.
#[must_use]
pub fn about_action(marac: &str, due_on: Date) -> String {
    format!("{marac}, action due on {}", crate::uk_time::date(due_on))
}

/// What a notice about one or more Maracs concerns, by their names ("Eastport Marac and
/// Northshire North Marac").
#[must_use]
pub fn about_maracs(maracs: &[&str]) -> String {
    match maracs {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A notice to be created, once per reader and event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// The reader.
    pub user_id: i64,
    /// What it is about.
    pub kind: NoticeKind,
    /// The page it opens, a path such as `/meetings/4`.
    pub link: String,
    /// The event, from [`dedupe_key`].
    pub dedupe_key: String,
    /// What it concerns, in words that identify no one: the Marac and the meeting's or the
    /// action's day ([`about_meeting`], [`about_action`], [`about_maracs`]); empty for none.
    pub about: String,
    /// Where to e-mail it as well; none for inbox only.
    pub email_to: Option<String>,
}

/// The key that makes a notice unique for its reader: the same event never notifies the same
/// person twice, however many servers look for it.
#[must_use]
pub fn dedupe_key(kind: NoticeKind, subject_id: i64, occasion: &str) -> String {
    format!("{}:{subject_id}:{occasion}", kind.code())
}

/// What an outstanding action calls for on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionNotice {
    /// Nothing yet, or nothing any more.
    None,
    /// Remind the owning agency: due within [`REMINDER_DAYS_BEFORE_DUE`] days.
    Reminder,
    /// Tell the coordinators: past due.
    Escalation,
}

/// Whether an action with this status and due date needs a reminder or an escalation today.
#[must_use]
pub fn action_notice(status: ActionStatus, due: Date, today: Date) -> ActionNotice {
    if !status.is_outstanding() {
        ActionNotice::None
    } else if is_overdue(status, due, today) {
        ActionNotice::Escalation
    } else if due - today <= Duration::days(REMINDER_DAYS_BEFORE_DUE) {
        ActionNotice::Reminder
    } else {
        ActionNotice::None
    }
}

/// After this many failed attempts an e-mail is given up and shown as failed.
pub const MAX_EMAIL_ATTEMPTS: i64 = 8;

/// How long to wait before trying a failed e-mail again: 30 s, doubling, at most an hour.
/// `None` once [`MAX_EMAIL_ATTEMPTS`] have been made.
#[must_use]
pub fn retry_after(attempts_made: i64) -> Option<Duration> {
    if attempts_made >= MAX_EMAIL_ATTEMPTS {
        return None;
    }
    let exponent = u32::try_from(attempts_made.clamp(1, 8) - 1).unwrap_or(0);
    Some(Duration::seconds((30_i64 << exponent).min(3600)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn reminders_start_three_days_before_and_escalate_after_the_due_date() {
        let due = date!(2026 - 11 - 20);
        let cases = [
            (date!(2026 - 11 - 16), ActionNotice::None),
            (date!(2026 - 11 - 17), ActionNotice::Reminder),
            (date!(2026 - 11 - 20), ActionNotice::Reminder),
            (date!(2026 - 11 - 21), ActionNotice::Escalation),
        ];
        for (today, expected) in cases {
            assert_eq!(action_notice(ActionStatus::Open, due, today), expected, "{today}");
            assert_eq!(action_notice(ActionStatus::CarriedForward, due, today), expected, "{today}");
            assert_eq!(action_notice(ActionStatus::Done, due, today), ActionNotice::None, "{today}");
            assert_eq!(action_notice(ActionStatus::NotDoneByAgency, due, today), ActionNotice::None, "{today}");
        }
    }

    #[test]
    fn retries_back_off_and_give_up() {
        assert_eq!(retry_after(1), Some(Duration::seconds(30)));
        assert_eq!(retry_after(2), Some(Duration::seconds(60)));
        assert_eq!(retry_after(7), Some(Duration::seconds(1920)));
        assert_eq!(retry_after(MAX_EMAIL_ATTEMPTS), None);
    }

    #[test]
    fn messages_say_what_to_do_and_carry_only_the_link() {
        for kind in NoticeKind::ALL {
            let body = kind.email_body("", "https://marac.example/inbox/7");
            assert!(body.contains("https://marac.example/inbox/7"));
            assert!(!body.contains("This concerns"));
            assert!(kind.subject().starts_with("Marac: "));
            assert_eq!(NoticeKind::from_code(kind.code()), Some(*kind));
        }
        assert_eq!(dedupe_key(NoticeKind::ActionDue, 42, "2026-11-20"), "action_due:42:2026-11-20");
    }

    #[test]
    fn notices_name_the_marac_and_the_day_in_uk_style() {
        let about = about_meeting("Northshire North Marac", date!(2026 - 12 - 06));
        assert_eq!(about, "Northshire North Marac, meeting on 6 December 2026");
        let body = NoticeKind::ListPublished.email_body(&about, "https://marac.example/inbox/7");
        assert!(body.contains("This concerns: Northshire North Marac, meeting on 6 December 2026."), "{body}");
        assert_eq!(
            about_action("Eastport Marac", date!(2026 - 11 - 20)),
            "Eastport Marac, action due on 20 November 2026"
        );
        assert_eq!(about_maracs(&["Eastport Marac"]), "Eastport Marac");
        assert_eq!(
            about_maracs(&["Eastport Marac", "Northshire North Marac"]),
            "Eastport Marac and Northshire North Marac"
        );
        assert_eq!(about_maracs(&[]), "");
    }
}
