//! One referral's page, the coordinator's decision on it, and their answers to its candidate
//! matches.

use super::submitting::{SummarySection, summary};
use super::{audit_view, checklist_choices};
use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Context, Purpose};
use marac_app::store::{Decision, Referral, ReferralStatus, Ts};
use marac_domain::policy::Action;
use marac_domain::referral_form::FormMap;

/// A candidate match on the referral page.
pub struct MatchView {
    /// Victim or person causing harm N.
    pub subject: String,
    /// Their name on the earlier record.
    pub name: String,
    /// Score.
    pub score: i64,
    /// Treated as the same person.
    pub certain: bool,
    /// Why.
    pub reasons: Vec<String>,
    /// `victim` or `perpetrator:N`, for the answer form.
    pub subject_code: String,
    /// The known person, for the answer form.
    pub person_id: i64,
    /// The coordinator's answer so far.
    pub confirmed: Option<bool>,
    /// Whether the coordinator may answer it here.
    pub can_answer: bool,
}

/// A meeting a case can be put on as its referral is accepted.
pub struct MeetingOffer {
    /// The meeting's id.
    pub id: i64,
    /// "Tuesday 8 December 2026, 10am".
    pub label: String,
    /// "3 of 16 places taken; the list closes on 4 December 2026".
    pub hint: String,
    /// Chosen.
    pub checked: bool,
}

/// The next meetings of `marac_id` a case can join: not yet held, with room, soonest first.
pub async fn meetings_with_room(state: &AppState, marac_id: i64, chosen: &str) -> Result<Vec<MeetingOffer>, AppError> {
    let today = state.clock.today();
    let meetings = state.store.list_meetings(&[marac_id], Some(today), 8).await?;
    Ok(meetings
        .into_iter()
        .filter(|m| m.status != marac_domain::meeting_rules::MeetingStatus::Held)
        .filter(|m| m.listed < i64::from(m.details.capacity))
        .take(4)
        .map(|m| {
            let d = &m.details;
            let cutoff = match d.list_cutoff_on {
                Some(c) if c < today => format!("; the list closed on {}", crate::routes::display_date(c)),
                Some(c) => format!("; the list closes on {}", crate::routes::display_date(c)),
                None => String::new(),
            };
            let published = if m.status == marac_domain::meeting_rules::MeetingStatus::Published {
                "; published: the invited agencies are told"
            } else {
                ""
            };
            MeetingOffer {
                id: m.id,
                label: format!(
                    "{} {}, {}",
                    d.held_on.weekday(),
                    crate::routes::display_date(d.held_on),
                    crate::routes::display_clock(&d.starts_at)
                ),
                hint: format!("{} of {} places taken{cutoff}{published}", m.listed, d.capacity),
                checked: chosen == m.id.to_string(),
            }
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/view.html")]
pub(super) struct ViewPage {
    ctx: PageContext,
    referral: Referral,
    marac: String,
    agency: String,
    status: &'static str,
    sections: Vec<SummarySection>,
    criteria: Vec<&'static str>,
    flags: Vec<&'static str>,
    matches: Vec<MatchView>,
    note: Option<String>,
    can_triage: bool,
    /// A case another Marac holds for these people, as the coordinators may know of it.
    held_elsewhere: Option<crate::routes::transfers::HeldElsewhere>,
    errors: Errors,
    decision: String,
    /// What was typed for the decision chosen, kept when the page comes back with a problem.
    send_back_note: String,
    decline_note: String,
    /// Meetings the case can be put on as it is accepted.
    offers: Vec<MeetingOffer>,
    /// "Keep it waiting" chosen.
    keep_waiting: bool,
}

pub(super) async fn view(
    state: &AppState,
    me: &Signed,
    r: Referral,
    errors: Errors,
    decision: String,
    decision_note: String,
    chosen_meeting: &str,
) -> Result<Response, AppError> {
    let target = format!("referral:{}", r.id);
    let basis = me
        .authorise(state, Action::ReadReferral { marac_id: r.marac_id, referrer_user_id: r.referrer_user_id }, &target)
        .await?;
    audit_view(state, me, &target, "referral", basis).await?;
    let map: FormMap = casework::open(state, Purpose::Form, &r.form_sealed)?;
    let can_triage = r.status == ReferralStatus::Submitted
        && marac_domain::policy::authorise(&me.actor(), Action::TriageReferrals { marac_id: r.marac_id }).is_ok();
    let checklists = checklist_choices(state).await?;
    let ctx = Context::for_reading(state, &map).await?;
    let mut matches = Vec::new();
    if marac_domain::policy::authorise(&me.actor(), Action::TriageReferrals { marac_id: r.marac_id }).is_ok() {
        let found = state.store.referral_matches(r.id).await?;
        let ids: Vec<i64> = found.iter().map(|m| m.person_id).collect();
        let people = state.store.get_people(&ids).await?;
        for m in found {
            let can_answer = m.decidable && !m.certain;
            let record = people.iter().find(|p| p.id == m.person_id).ok_or(AppError::NotFound)?;
            let person: casework::StoredPerson = casework::open(state, Purpose::Person, &record.details_sealed)?;
            matches.push(MatchView {
                subject: match m.subject.strip_prefix("perpetrator:") {
                    Some(n) => format!("Person causing harm {n}"),
                    None => "Victim".into(),
                },
                name: format!("{} {}", person.given_name, person.family_name),
                score: m.score,
                certain: m.certain,
                reasons: casework::open(state, Purpose::MatchReasons, &m.reasons_sealed)?,
                subject_code: m.subject,
                person_id: m.person_id,
                confirmed: m.confirmed,
                can_answer,
            });
        }
    }
    let note = match &r.decision_note_sealed {
        Some(n) => Some(casework::open::<String>(state, Purpose::Decision, n)?),
        None => None,
    };
    let coordinates =
        marac_domain::policy::authorise(&me.actor(), Action::TriageReferrals { marac_id: r.marac_id }).is_ok();
    let held_elsewhere = match state.store.case_transfer_for_referral(r.id).await? {
        Some(t) if coordinates => Some(crate::routes::transfers::held_elsewhere(state, &t).await?),
        _ => None,
    };
    let marac = state.store.get_marac(r.marac_id).await?.name;
    let agency = state.store.get_agency(r.referring_agency_id).await?.name;
    let offers = if can_triage { meetings_with_room(state, r.marac_id, chosen_meeting).await? } else { Vec::new() };
    Ok(ViewPage {
        ctx: PageContext::new(
            state,
            &me.visitor,
            format!("Referral {}", r.reference.clone().unwrap_or_default()),
            "/referrals",
        ),
        marac,
        agency,
        status: r.status.label(),
        sections: summary(None, &map, &ctx, &checklists),
        criteria: r.criteria.iter().map(|c| c.label()).collect(),
        flags: r.age_flags.iter().map(|f| f.label()).collect(),
        matches,
        note,
        can_triage,
        held_elsewhere,
        errors,
        send_back_note: if decision == "send_back" { decision_note.clone() } else { String::new() },
        decline_note: if decision == "decline" { decision_note } else { String::new() },
        keep_waiting: decision == "accept" && chosen_meeting == "waiting",
        offers,
        decision,
        referral: r,
    }
    .into_response())
}

/// `POST /referrals/{id}/matches`: the coordinator's answer to one candidate: the same person
/// (the referral's record is merged into the known person, so repeats count them as one) or
/// not (undoing an earlier confirmation). The referral's repeat criterion is worked out again.
///
/// # Errors
/// Refused to anyone but the Marac's coordinators; 404 for a candidate the referral does not
/// have; 409 for a referral submitted before answers were recorded.
pub async fn answer_match(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    posted: FormData,
) -> Result<Response, AppError> {
    let r = state.store.get_referral(id).await?;
    let target = format!("referral:{id}");
    me.authorise(&state, Action::TriageReferrals { marac_id: r.marac_id }, &target).await?;
    let confirm = match posted.get("answer") {
        "same" => true,
        "different" => false,
        _ => return Err(AppError::BadRequest),
    };
    let person_id: i64 = posted.get("person").trim().parse().map_err(|_| AppError::BadRequest)?;
    let subject = posted.get("subject").to_owned();
    let repeat_months = state.store.get_marac(r.marac_id).await?.rules.repeat_months;
    let event = me.audit(
        &state,
        if confirm { "referral.match_confirm" } else { "referral.match_reject" },
        &target,
        serde_json::json!({ "subject": subject, "person": person_id }),
    );
    let decision =
        marac_app::store::MatchDecision { referral_id: id, subject, person_id, confirm, repeat_months, by: me.user.id };
    state.store.decide_match(&decision, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&format!("/referrals/{id}#matches")).into_response())
}

/// `POST /referrals/{id}/decision`: accept, send back with a question, or decline with a reason.
///
/// # Errors
/// Refused to anyone but the Marac's coordinators; 404 when it is not waiting for triage.
pub async fn decide(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    posted: FormData,
) -> Result<Response, AppError> {
    let r = state.store.get_referral(id).await?;
    me.authorise(&state, Action::TriageReferrals { marac_id: r.marac_id }, &format!("referral:{id}")).await?;
    let decision = posted.get("decision").to_owned();
    let note = posted.get(&format!("{decision}_note")).trim().to_owned();
    let mut errors = Errors::default();
    let chosen = match decision.as_str() {
        // A referral joins a case of its own Marac: one held by another waits for the move.
        "accept" if r.case_id.is_none() && r.known_case_id.is_some() => {
            errors.add("decision", "Another Marac holds this case: ask for it to move here, or decline the referral");
            None
        }
        "accept" => match posted.get("meeting").trim() {
            "" | "waiting" => Some(Decision::Accept),
            m => match m.parse::<i64>() {
                // Only a meeting offered: of this Marac, not yet held, with room.
                Ok(meeting) if meetings_with_room(&state, r.marac_id, "").await?.iter().any(|o| o.id == meeting) => {
                    Some(Decision::AcceptOnto(meeting))
                }
                _ => {
                    errors.add("meeting", "Choose a meeting that still has room, or keep the case waiting");
                    None
                }
            },
        },
        "send_back" if note.chars().count() >= 5 => {
            Some(Decision::SendBack(casework::seal(&state, Purpose::Decision, &note)?))
        }
        "send_back" => {
            errors.add("send_back_note", "Write the question for the referrer");
            None
        }
        "decline" if note.chars().count() >= 5 => {
            Some(Decision::Decline(casework::seal(&state, Purpose::Decision, &note)?))
        }
        "decline" => {
            errors.add("decline_note", "Give the reason for declining; it is kept and counted as screened out");
            None
        }
        _ => {
            errors.add("decision", "Select what to do with this referral");
            None
        }
    };
    let Some(chosen) = chosen else {
        return view(&state, &me, r, errors, decision, note, posted.get("meeting")).await;
    };
    let action = match chosen {
        Decision::Accept | Decision::AcceptOnto(_) => "referral.accept",
        Decision::SendBack(_) => "referral.send_back",
        Decision::Decline(_) => "referral.decline",
    };
    let listed_on = match chosen {
        Decision::AcceptOnto(m) => Some(m),
        _ => None,
    };
    let event = me.audit(&state, action, &format!("referral:{id}"), serde_json::json!({ "meeting": listed_on }));
    marac_app::workflows::referrals::decide(&state, &r, &chosen, me.user.id, event).await?;
    let done = match (&chosen, listed_on) {
        (_, Some(m)) => format!("/triage?done=listed&referral={id}&meeting={m}"),
        (Decision::Accept, None) => format!("/triage?done=accepted&referral={id}"),
        (Decision::SendBack(_), _) => format!("/triage?done=returned&referral={id}"),
        _ => format!("/triage?done=declined&referral={id}"),
    };
    Ok(Redirect::to(&done).into_response())
}
