//! Workflows of a referral.

use crate::{App, Result, casework, notify};
use marac_domain::Role;
use marac_domain::audit::NewAuditEvent;
use marac_domain::notices::NoticeKind;
use marac_domain::referral_form::{FieldError, FormMap};
use marac_store::{Decision, Referral, Submitted, Ts, User};

/// A referral sent.
#[derive(Debug, Clone)]
pub struct Sent {
    /// What the store did with it: its id, reference, and any case another Marac holds.
    pub done: Submitted,
    /// How long finding the people took, for the server's metrics.
    pub matching: std::time::Duration,
}

/// Submits `user`'s referral (`referral_id`, or a new one when the API sends it whole): checks
/// the whole form, finds the people it names, applies the Marac's rules and writes the referral
/// with `event` (its detail gains the criteria and score). When the people are a case another
/// Marac holds, both Maracs' coordinators are told, in the same transaction. `Ok(Err(..))` carries the problems for the
/// form or the API.
///
/// # Errors
/// The store's failures, or a stored person that cannot be opened.
pub async fn submit(
    app: &App,
    user: &User,
    map: &FormMap,
    referral_id: Option<i64>,
    mut event: NewAuditEvent,
) -> Result<Result<Sent, Vec<FieldError>>> {
    let prepared = match casework::prepare(app, user, map, referral_id).await? {
        Ok(p) => p,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut detail: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&event.detail).unwrap_or_default();
    detail.insert("criteria".into(), serde_json::json!(prepared.assessment.criteria));
    detail.insert("score".into(), serde_json::json!(prepared.submission.score));
    event.detail = serde_json::Value::Object(detail).to_string();
    // Which Marac holds the people's case, if one does, is found as the referral is written; the
    // coordinators who may have to be asked are read first (a case is held within the
    // partnership), so the question's notices are written in the same transaction.
    let to = prepared.submission.marac_id;
    let partnership = prepared.submission.partnership_id;
    let maracs: Vec<marac_store::Marac> =
        app.store.list_maracs().await?.into_iter().filter(|m| m.partnership_id == partnership).collect();
    let ids: Vec<i64> = maracs.iter().map(|m| m.id).collect();
    let coordinators = app.store.users_holding(&[Role::Coordinator], &ids).await?;
    let tell = move |transfer_id: i64, holder: i64| {
        let names: Vec<&str> =
            maracs.iter().filter(|m| m.id == holder || m.id == to).map(|m| m.name.as_str()).collect();
        let about = marac_domain::notices::about_maracs(&names);
        notify::case_transfer(
            &coordinators,
            NoticeKind::CaseHeldElsewhere,
            &[holder, to],
            (transfer_id, "opened"),
            &about,
        )
    };
    let done = app.store.submit_referral(&prepared.submission, Ts::new(app.clock.now()), event, &tell).await?;
    Ok(Ok(Sent { done, matching: prepared.matching }))
}

/// Records the coordinator's triage decision on `referral`; a referral sent back tells its
/// referrer, in the same transaction.
///
/// # Errors
/// The store's: `Conflict` when the referral is no longer waiting for triage.
pub async fn decide(
    app: &App,
    referral: &Referral,
    decision: &Decision,
    by: i64,
    mut event: NewAuditEvent,
) -> Result<()> {
    let at = Ts::new(app.clock.now());
    match decision {
        Decision::SendBack(_) => {
            let referrer = app.store.get_user(referral.referrer_user_id).await?;
            let marac = app.store.get_marac(referral.marac_id).await?;
            event.notices =
                notify::referral_returned(&[referrer], (referral.id, referral.referrer_user_id), &marac.name, at);
        }
        // A case added to a list already out is news to the agencies invited to it.
        Decision::AcceptOnto(meeting_id) => {
            let meeting = app.store.get_meeting(*meeting_id).await?;
            if let (marac_domain::meeting_rules::MeetingStatus::Published, Some(case_id)) =
                (meeting.status, referral.case_id)
            {
                let readers =
                    app.store.users_holding(&[Role::AgencyRep, Role::Idva], &[meeting.details.marac_id]).await?;
                let marac = app.store.get_marac(meeting.details.marac_id).await?;
                event.notices = notify::case_added_to_list(&readers, &meeting, &marac.name, case_id);
            }
        }
        Decision::Accept | Decision::Decline(_) => {}
    }
    app.store.decide_referral(referral.id, decision, by, at, event).await?;
    Ok(())
}
