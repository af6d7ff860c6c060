//! A case's chronology: every referral and decision, every move of the case (listed, heard,
//! deferred, closed), every action agreed and each report on it, every flag set and ended, the
//! research notes the reader may see and the transfers between Maracs, on one timeline, newest
//! first. A person's chronology is the chronologies of their cases put together.
//!
//! What goes in is only what the reader may see: the caller passes what the policy allowed (a
//! Marac that has passed a case on keeps what it held until then, and nothing after), and notes
//! come in only when shared or written by the reader's own agency. The words and links are the
//! page's business; this reads the records, opens what is sealed, and orders them.

use crate::casework::{self, Purpose};
use crate::payloads::ActionText;
use crate::{App, Error};
use marac_domain::case_stage::CaseStage;
use marac_domain::policy::HistoryLimit;
use marac_store::{
    ActionEvent, ActionFilter, ActionRecord, CaseFlag, CaseStageChange, CaseTransfer, FlagFilter, NoteKind, Referral,
    ReferralFilter, ReferralStatus, Ts,
};
use time::OffsetDateTime;

/// Something that happened to a case.
#[derive(Debug, Clone)]
pub enum What {
    /// A referral was sent to a Marac.
    Referred(Referral),
    /// The coordinator decided a referral: accepted, declined or sent back.
    Decided(Referral),
    /// The case moved: listed for a meeting, heard, deferred, closed.
    Moved(CaseStageChange),
    /// A meeting agreed an action.
    ActionAgreed {
        /// The action.
        action: Box<ActionRecord>,
        /// What it says, opened.
        text: ActionText,
    },
    /// Its agency or the coordinator reported on an action.
    ActionReported {
        /// The action.
        action: Box<ActionRecord>,
        /// What it says, opened.
        text: ActionText,
        /// The report.
        event: ActionEvent,
    },
    /// An agency placed a flag on its own system.
    FlagSet(Box<CaseFlag>),
    /// A flag was ended before it ran out.
    FlagEnded(Box<CaseFlag>),
    /// An agency wrote a research note (the reader's own agency's, or one shared).
    Note {
        /// The note's id.
        id: i64,
        /// Whose.
        agency_id: i64,
        /// Fact, opinion or withheld.
        kind: NoteKind,
        /// Shared with the other agencies.
        shared: bool,
    },
    /// One Marac asked another for the case.
    TransferAsked(CaseTransfer),
    /// The other Marac agreed or refused.
    TransferDecided(CaseTransfer),
}

/// One entry of a chronology.
#[derive(Debug, Clone)]
pub struct Entry {
    /// When it happened.
    pub at: OffsetDateTime,
    /// The case it belongs to.
    pub case_id: i64,
    /// What happened.
    pub what: What,
}

/// Who is reading, as far as a chronology depends on it.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    /// The reader's agency: its own research notes are in, private or not.
    pub agency_id: Option<i64>,
    /// For a Marac the case has left: what it held, and nothing after.
    pub limit: Option<HistoryLimit>,
}

impl Reader {
    fn shows(&self, marac_id: Option<i64>, at: Ts) -> bool {
        self.limit.as_ref().is_none_or(|l| l.shows(marac_id, at.0))
    }
}

/// A case's chronology as `reader` may see it, newest first.
///
/// # Errors
/// The store's, or a record that cannot be opened.
pub async fn of_case(app: &App, case_id: i64, reader: &Reader) -> Result<Vec<Entry>, Error> {
    let store = &app.store;
    let mut out = Vec::new();
    // Pushed in the order things were recorded; sorted newest first at the end.
    let mut push = |at: Ts, what: What| out.push(Entry { at: at.0, case_id, what });

    let referrals =
        store.list_referrals(&ReferralFilter { case_id: Some(case_id), limit: 500, ..Default::default() }).await?;
    for r in referrals.into_iter().filter(|r| r.status != ReferralStatus::Draft) {
        let Some(sent) = r.submitted_at.filter(|at| reader.shows(Some(r.marac_id), *at)) else { continue };
        // A referral sent back and sent again carries its last decision until it is decided anew.
        let decided_now =
            matches!(r.status, ReferralStatus::Accepted | ReferralStatus::Declined | ReferralStatus::Returned);
        let decided = r.decided_at.filter(|at| decided_now && reader.shows(Some(r.marac_id), *at));
        push(sent, What::Referred(r.clone()));
        if let Some(decided) = decided {
            push(decided, What::Decided(r));
        }
    }
    // Moves the referrals above already tell (referred, accepted, declined) are left out, and
    // so is "actions open" after a hearing, which the actions agreed tell; a closed case opened
    // again by a new action is a move worth its own line.
    let mut before = None;
    for change in store.case_history(case_id).await? {
        let told = match change.stage {
            CaseStage::Referred | CaseStage::AwaitingMeeting | CaseStage::Declined => true,
            CaseStage::ActionsOpen => before != Some(CaseStage::Closed),
            _ => false,
        };
        before = Some(change.stage);
        if !told && reader.shows(None, change.at) {
            push(change.at, What::Moved(change));
        }
    }
    let actions =
        store.list_actions(&ActionFilter { case_id: Some(case_id), limit: 1_000, ..Default::default() }).await?;
    let mut texts = std::collections::HashMap::new();
    for a in actions.iter().filter(|a| reader.shows(None, a.created_at)) {
        let text: ActionText = casework::open(app, Purpose::Action, &a.action.description_sealed)?;
        texts.insert(a.id, text.clone());
        push(a.created_at, What::ActionAgreed { action: Box::new(a.clone()), text });
    }
    for (action_id, event) in store.case_action_events(case_id).await? {
        let (Some(a), Some(text)) = (actions.iter().find(|a| a.id == action_id), texts.get(&action_id)) else {
            continue;
        };
        // The "open" an action starts with is its agreement, told already.
        let first = event.status == marac_domain::meeting_rules::ActionStatus::Open && event.at == a.created_at;
        if !first && reader.shows(None, event.at) {
            push(event.at, What::ActionReported { action: Box::new(a.clone()), text: text.clone(), event });
        }
    }
    for f in store.list_flags(&FlagFilter { case_id: Some(case_id), ..Default::default() }).await? {
        if !reader.shows(None, f.flag.set_at) {
            continue;
        }
        let ended = f.ended_at.filter(|at| reader.shows(None, *at));
        push(f.flag.set_at, What::FlagSet(Box::new(f.clone())));
        if let Some(ended) = ended {
            push(ended, What::FlagEnded(Box::new(f)));
        }
    }
    for n in store.list_research_notes(case_id, reader.agency_id).await? {
        if reader.shows(None, n.created_at) {
            push(n.created_at, What::Note { id: n.id, agency_id: n.agency_id, kind: n.kind, shared: n.shared });
        }
    }
    for t in store.case_transfers(case_id).await? {
        if let Some(asked) = t.asked_at.filter(|at| reader.shows(None, *at)) {
            let decided = t.decided_at.filter(|at| reader.shows(None, *at));
            push(asked, What::TransferAsked(t.clone()));
            if let Some(decided) = decided {
                push(decided, What::TransferDecided(t));
            }
        }
    }
    newest_first(&mut out);
    Ok(out)
}

/// The chronologies of several cases (a person's), each as its reader may see it, on one
/// timeline, newest first.
///
/// # Errors
/// The store's, or a record that cannot be opened.
pub async fn of_cases(app: &App, cases: &[(i64, Reader)]) -> Result<Vec<Entry>, Error> {
    let mut all = Vec::new();
    for (case_id, reader) in cases {
        // Back in the order they were recorded, so that ties keep it.
        all.extend(of_case(app, *case_id, reader).await?.into_iter().rev());
    }
    all.sort_by_key(|e| e.at);
    newest_first(&mut all);
    Ok(all)
}

/// Orders entries newest first; of two at the same moment, the one recorded later first (an
/// action agreed after the case was heard in the same second).
pub fn newest_first(entries: &mut [Entry]) {
    // The sort is stable: entries pushed later at the same moment are the later records.
    entries.reverse();
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn note(at: OffsetDateTime, id: i64) -> Entry {
        Entry { at, case_id: 1, what: What::Note { id, agency_id: 1, kind: NoteKind::Fact, shared: true } }
    }

    fn ids(entries: &[Entry]) -> Vec<i64> {
        entries.iter().map(|e| if let What::Note { id, .. } = e.what { id } else { 0 }).collect()
    }

    #[test]
    fn the_newest_comes_first_and_a_tie_keeps_the_later_record_first() {
        let mut entries = vec![
            note(datetime!(2026-01-01 10:00 UTC), 1),
            note(datetime!(2026-03-01 10:00 UTC), 2),
            note(datetime!(2026-03-01 10:00 UTC), 3),
            note(datetime!(2026-02-01 10:00 UTC), 4),
        ];
        newest_first(&mut entries);
        assert_eq!(ids(&entries), [3, 2, 4, 1]);
    }

    #[test]
    fn a_marac_that_passed_a_case_on_sees_nothing_after() {
        let reader = Reader {
            agency_id: None,
            limit: Some(HistoryLimit { maracs: vec![7], until: datetime!(2026-03-01 00:00 UTC) }),
        };
        assert!(reader.shows(Some(7), Ts(datetime!(2026-02-01 00:00 UTC))));
        assert!(!reader.shows(Some(8), Ts(datetime!(2026-02-01 00:00 UTC))));
        assert!(!reader.shows(None, Ts(datetime!(2026-04-01 00:00 UTC))));
        assert!(Reader::default().shows(Some(8), Ts(datetime!(2030-01-01 00:00 UTC))));
    }
}
