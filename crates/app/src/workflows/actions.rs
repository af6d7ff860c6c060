//! Workflows of the actions a meeting agrees.

use crate::payloads::ActionText;
use crate::{App, Result, casework, notify};
use marac_domain::audit::NewAuditEvent;
use marac_domain::meeting_rules::{self, ActionKind, ActionSubject};
use marac_domain::{AgencyCategory, Role};
use marac_store::{ListedCase, Meeting, NewAction, Ts};

/// Once a case is heard, its Idva service gets an action to tell the victim the outcome, so it
/// is tracked, reminded and escalated like any other, and its Idvas get a notice, in one
/// transaction with `event` (whose detail is filled here). The Idva service is the referring
/// agency if that is one, else the first invited; with neither, nothing is added. `by` is who
/// recorded the hearing; returns the action's id.
///
/// # Errors
/// The store's, or no randomness to seal with.
pub async fn tell_victim_outcome(
    app: &App,
    meeting: &Meeting,
    case: &ListedCase,
    by: i64,
    mut event: NewAuditEvent,
) -> Result<Option<i64>> {
    let marac_id = meeting.details.marac_id;
    let agencies = app.store.list_agencies().await?;
    let is_idva = |id: i64| agencies.iter().any(|a| a.id == id && a.category == AgencyCategory::Idva);
    let idva = case
        .referring_agency_id
        .filter(|a| is_idva(*a))
        .or_else(|| meeting.details.invited_agency_ids.iter().copied().find(|a| is_idva(*a)));
    let Some(agency_id) = idva else {
        return Ok(None);
    };
    let idvas: Vec<_> = app
        .store
        .users_holding(&[Role::Idva], &[marac_id])
        .await?
        .into_iter()
        .filter(|u| u.agency_id == Some(agency_id) && !u.disabled)
        .collect();
    let text = ActionText { description: meeting_rules::TELL_VICTIM_OUTCOME.to_owned(), child: String::new() };
    let now = app.clock.now();
    let action = NewAction {
        case_id: case.case_id,
        meeting_id: meeting.id,
        agency_id,
        owner_name: match idvas.as_slice() {
            [one] => one.name.clone(),
            _ => "The case's Idva".to_owned(),
        },
        subject: ActionSubject::Victim,
        approach: None,
        description_sealed: casework::seal(app, casework::Purpose::Action, &text)?,
        due_on: marac_domain::uk_time::uk_date(now) + time::Duration::days(meeting_rules::TELL_VICTIM_WITHIN_DAYS),
        kind: ActionKind::General,
    };
    event.detail =
        serde_json::json!({ "case": case.case_id, "meeting": meeting.id, "agency": agency_id, "tell_victim": true })
            .to_string();
    let marac = app.store.get_marac(marac_id).await?;
    let about = marac_domain::notices::about_meeting(&marac.name, meeting.details.held_on);
    event.notices = notify::tell_victim_outcome(&idvas, (marac_id, agency_id), (case.case_id, meeting.id), &about);
    Ok(Some(app.store.add_action(&action, by, Ts::new(now), event).await?))
}
