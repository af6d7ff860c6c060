//! A chronology in words: each entry of [`marac_app::chronology`] as the case page and the
//! person page show it, with a link to the record where the reader may open it.

use crate::AppState;
use crate::error::AppError;
use crate::routes::{display_at, display_date};
use marac_app::chronology::{Entry, What};
use marac_app::store::{Agency, Marac, ReferralStatus, TransferOutcome};
use marac_domain::case_stage::CaseStage;
use marac_domain::policy::{Action, Actor, authorise};
use std::collections::HashMap;

/// One entry as a page shows it.
pub struct EntryView {
    /// When, in UK time: "6 December 2026 at 10:15am".
    pub at: String,
    /// The machine-readable moment, for `<time datetime>`.
    pub datetime: String,
    /// What happened, in a line: "Action agreed for Housing".
    pub title: String,
    /// What it said or asked, if anything.
    pub detail: String,
    /// Who made the change, where known.
    pub by: String,
    /// The case's reference, on a page that shows several cases.
    pub case: String,
    /// The record's own page, where the reader may open it.
    pub href: Option<String>,
}

/// What a chronology's words need besides the entries.
pub struct Words<'a> {
    /// Who reads: links go only where they may go.
    pub actor: &'a Actor,
    /// Every agency, for names.
    pub agencies: &'a [Agency],
    /// Every Marac, for names.
    pub maracs: &'a [Marac],
    /// Each case's reference, when the page shows several cases.
    pub case_refs: &'a HashMap<i64, String>,
}

impl Words<'_> {
    fn agency(&self, id: i64) -> String {
        self.agencies.iter().find(|a| a.id == id).map(|a| a.name.clone()).unwrap_or_default()
    }

    fn marac(&self, id: i64) -> String {
        self.maracs.iter().find(|m| m.id == id).map(|m| m.name.clone()).unwrap_or_default()
    }
}

/// The entries in words, in their order.
///
/// # Errors
/// The store's, looking up who made a change.
pub async fn views(state: &AppState, entries: &[Entry], words: &Words<'_>) -> Result<Vec<EntryView>, AppError> {
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let by_id = match &e.what {
            What::Referred(r) => Some(r.referrer_user_id),
            What::Decided(r) => r.decided_by,
            What::Moved(m) => m.by_user_id,
            What::ActionReported { event, .. } => event.by_user_id,
            What::FlagSet(f) => Some(f.flag.set_by),
            What::TransferAsked(t) => t.asked_by,
            What::TransferDecided(t) => t.decided_by,
            What::ActionAgreed { .. } | What::FlagEnded(_) | What::Note { .. } => None,
        };
        let by = match by_id {
            None => String::new(),
            Some(id) => match names.get(&id) {
                Some(n) => n.clone(),
                None => {
                    let name = crate::routes::name_of_user(state, id).await?;
                    names.insert(id, name.clone());
                    name
                }
            },
        };
        let (title, detail, href) = describe(e, words);
        out.push(EntryView {
            at: display_at(e.at),
            datetime: e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            title,
            detail,
            by,
            case: words.case_refs.get(&e.case_id).cloned().unwrap_or_default(),
            href,
        });
    }
    Ok(out)
}

/// An entry's title, detail and link.
fn describe(e: &Entry, w: &Words<'_>) -> (String, String, Option<String>) {
    let actor = w.actor;
    let can = |action: Action<'_>| authorise(actor, action).is_ok();
    let referral_link = |r: &marac_app::store::Referral| {
        can(Action::ReadReferral { marac_id: r.marac_id, referrer_user_id: r.referrer_user_id })
            .then(|| format!("/referrals/{}", r.id))
    };
    match &e.what {
        What::Referred(r) => {
            let mut title = format!("Referred to {} by {}", w.marac(r.marac_id), w.agency(r.referring_agency_id));
            if let Some(joint) = r.joint_agency_id {
                title = format!("{title} and {}", w.agency(joint));
            }
            let mut detail = r.reference.clone().unwrap_or_default();
            let criteria: Vec<&str> = r.criteria.iter().map(|c| c.label()).collect();
            if !criteria.is_empty() {
                detail = format!("{detail}: {}", criteria.join(", "));
            }
            if r.is_repeat {
                detail = format!("{detail} (a repeat referral)");
            }
            (title, detail, referral_link(r))
        }
        What::Decided(r) => {
            let reference = r.reference.clone().unwrap_or_default();
            let title = match r.status {
                ReferralStatus::Accepted => format!("Referral {reference} accepted"),
                ReferralStatus::Declined => format!("Referral {reference} declined"),
                _ => format!("Referral {reference} sent back to the referrer"),
            };
            (title, String::new(), referral_link(r))
        }
        What::Moved(m) => {
            let on = m.meeting_on.map(display_date).unwrap_or_default();
            let title = match m.stage {
                CaseStage::Listed => format!("Listed for the meeting on {on}"),
                CaseStage::Deferred => format!("Deferred at the meeting on {on}"),
                CaseStage::Heard => format!("Heard at the meeting on {on}"),
                CaseStage::Closed => "Closed: every action ended".to_owned(),
                CaseStage::ActionsOpen => "Opened again: a new action agreed".to_owned(),
                other => other.label().to_owned(),
            };
            // The meeting's case page, for those who run that Marac's meetings; others reach a
            // meeting's cases through the meeting they were invited to.
            let href = m
                .meeting_id
                .zip(m.meeting_marac_id)
                .filter(|(_, marac_id)| can(Action::RunMeeting { marac_id: *marac_id }))
                .map(|(meeting, _)| format!("/meetings/{meeting}/cases/{}", e.case_id));
            (title, String::new(), href)
        }
        What::ActionAgreed { action, text } => {
            let a = &action.action;
            let title = format!(
                "Action agreed for {} at the meeting on {}",
                w.agency(a.agency_id),
                display_date(action.meeting_held_on)
            );
            let mut detail = text.description.clone();
            if !text.child.is_empty() {
                detail = format!("{detail} (for {})", text.child);
            }
            detail = format!("{}. Due {}.", detail.trim_end_matches('.'), display_date(a.due_on));
            (title, detail, action_link(actor, action))
        }
        What::ActionReported { action, text, event } => {
            let title = format!("Action for {} reported: {}", w.agency(action.action.agency_id), event.status.label());
            let mut detail = text.description.clone();
            if let Some(reason) = event.reason {
                detail = format!("{}. Reason: {}.", detail.trim_end_matches('.'), reason.label());
            }
            (title, detail, action_link(actor, action))
        }
        What::FlagSet(f) => (
            format!("{} flag set by {}", f.flag.kind.label(), w.agency(f.flag.agency_id)),
            format!("Runs until {}.", display_date(f.flag.expires_on)),
            None,
        ),
        What::FlagEnded(f) => {
            (format!("{} flag of {} ended early", f.flag.kind.label(), w.agency(f.flag.agency_id)), String::new(), None)
        }
        What::Note { id, agency_id, kind, shared } => {
            let state = if *shared { "shared" } else { "private to your agency" };
            (
                format!("Research note from {}: {}", w.agency(*agency_id), kind.label().to_lowercase()),
                format!("The note is {state}."),
                Some(format!("/cases/{}#note-{id}", e.case_id)),
            )
        }
        What::TransferAsked(t) => (
            format!("Transfer asked from {} to {}", w.marac(t.from_marac_id), w.marac(t.to_marac_id)),
            String::new(),
            transfer_link(actor, t),
        ),
        What::TransferDecided(t) => {
            let title = match t.outcome {
                Some(TransferOutcome::Moved) => format!("Moved to {}", w.marac(t.to_marac_id)),
                Some(TransferOutcome::Refused) => "Transfer refused".to_owned(),
                _ => "Transfer withdrawn".to_owned(),
            };
            (title, String::new(), transfer_link(actor, t))
        }
    }
}

fn action_link(actor: &Actor, a: &marac_app::store::ActionRecord) -> Option<String> {
    authorise(actor, Action::UpdateAction { marac_id: a.marac_id, owner_agency_id: a.action.agency_id })
        .is_ok()
        .then(|| format!("/actions/{}", a.id))
}

fn transfer_link(actor: &Actor, t: &marac_app::store::CaseTransfer) -> Option<String> {
    [t.from_marac_id, t.to_marac_id]
        .iter()
        .any(|m| authorise(actor, Action::TriageReferrals { marac_id: *m }).is_ok())
        .then(|| format!("/transfers/{}", t.id))
}
