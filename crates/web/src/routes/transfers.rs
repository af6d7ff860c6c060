//! A case moving between two Maracs of the installation. A referral that names the victim and
//! people causing harm of a case another Marac holds does not join that case: it waits in its
//! own Marac's triage, and the coordinators of both Maracs get this question. Either side asks
//! for the case to move, the other agrees or refuses. Neither side sees the other's case
//! content here: the page says which Maracs, which referral and case references, when the
//! people were last referred, and whom to contact.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{CaseTransfer, DirectoryKind, TransferOutcome, Ts};
use marac_domain::policy::{Action, authorise};

/// What one Marac may know of a case another Marac holds: never its content.
pub struct HeldElsewhere {
    /// The transfer question's page.
    pub href: String,
    /// The Marac holding the case.
    pub marac: String,
    /// When the victim and people causing harm were last referred, in any Marac.
    pub last_referred: String,
    /// The holding Marac's coordinator contacts: name, e-mail and telephone.
    pub contacts: Vec<String>,
    /// Where the question stands.
    pub status: String,
}

/// The contacts the directory gives for a Marac's coordinator.
async fn coordinator_contacts(state: &AppState, marac_id: i64) -> Result<Vec<String>, AppError> {
    Ok(state
        .store
        .list_directory()
        .await?
        .into_iter()
        .filter(|e| e.marac_id == marac_id && e.kind == DirectoryKind::Coordinator)
        .map(|e| format!("{}, {} ({})", e.name, e.email, e.phone))
        .collect())
}

/// Where a transfer question stands, in words.
fn status(t: &CaseTransfer, from: &str, to: &str) -> String {
    let day = |ts: Option<Ts>| ts.map(crate::routes::display_day).unwrap_or_default();
    match (t.outcome, t.asked_by_marac) {
        (Some(TransferOutcome::Moved), _) => format!("Moved from {from} to {to} on {}", day(t.decided_at)),
        (Some(TransferOutcome::Refused), _) => format!("The move was refused on {}", day(t.decided_at)),
        (Some(TransferOutcome::Withdrawn), _) => "Closed: the referral was declined".to_owned(),
        (None, Some(m)) if m == t.to_marac_id => format!("{to} asked for the case on {}", day(t.asked_at)),
        (None, Some(_)) => format!("{from} offered the case on {}", day(t.asked_at)),
        (None, None) => "Not yet decided".to_owned(),
    }
}

/// What the receiving Marac's triage shows of a referral's case held elsewhere.
///
/// # Errors
/// Store failures.
pub async fn held_elsewhere(state: &AppState, t: &CaseTransfer) -> Result<HeldElsewhere, AppError> {
    let from = state.store.get_marac(t.from_marac_id).await?.name;
    let to = state.store.get_marac(t.to_marac_id).await?.name;
    let case = state.store.get_case(t.case_id).await?;
    let last = state.store.last_referral_date(case.victim_person_id, &case.perpetrator_ids).await?;
    Ok(HeldElsewhere {
        href: format!("/transfers/{}", t.id),
        last_referred: last.map(crate::routes::display_date).unwrap_or_default(),
        contacts: coordinator_contacts(state, t.from_marac_id).await?,
        status: status(t, &from, &to),
        marac: from,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "transfer.html")]
struct TransferPage {
    ctx: PageContext,
    id: i64,
    from: String,
    to: String,
    referral: String,
    case_reference: String,
    last_referred: String,
    from_contacts: Vec<String>,
    to_contacts: Vec<String>,
    status: String,
    /// "Ask for the case" or "Offer the case", when the viewer's side may.
    ask: Option<String>,
    /// The viewer answers the other side's ask.
    answer: bool,
    errors: Errors,
}

/// The Maracs of the question the signed-in person coordinates: the receiving side first.
fn sides(me: &Signed, t: &CaseTransfer) -> Vec<i64> {
    [t.to_marac_id, t.from_marac_id]
        .into_iter()
        .filter(|m| authorise(&me.actor(), Action::TriageReferrals { marac_id: *m }).is_ok())
        .collect()
}

/// Loads the question for one of its two Maracs' coordinators. Anyone else is refused as if it
/// did not exist (404), and the refusal is recorded.
async fn load(state: &AppState, me: &Signed, id: i64) -> Result<(CaseTransfer, Vec<i64>), AppError> {
    let found = match state.store.get_case_transfer(id).await {
        Ok(t) => Some(t),
        Err(marac_app::store::StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    match found {
        Some(t) if !sides(me, &t).is_empty() => {
            let mine = sides(me, &t);
            Ok((t, mine))
        }
        other => {
            let marac_id = other.map_or(0, |t| t.to_marac_id);
            me.authorise_hidden(state, Action::TriageReferrals { marac_id }, &format!("case_transfer:{id}")).await?;
            Err(AppError::NotFound)
        }
    }
}

async fn page(
    state: &AppState,
    me: &Signed,
    t: &CaseTransfer,
    mine: &[i64],
    errors: Errors,
) -> Result<Response, AppError> {
    let from = state.store.get_marac(t.from_marac_id).await?.name;
    let to = state.store.get_marac(t.to_marac_id).await?.name;
    let referral = state.store.get_referral(t.referral_id).await?;
    // The case's newest reference: which case, not what it holds.
    let case_reference = state
        .store
        .list_referrals(&marac_app::store::ReferralFilter { case_id: Some(t.case_id), limit: 1, ..Default::default() })
        .await?
        .first()
        .and_then(|r| r.reference.clone())
        .unwrap_or_default();
    let held = held_elsewhere(state, t).await?;
    let ask = (t.open() && t.asked_by_marac.is_none()).then(|| {
        if mine.contains(&t.to_marac_id) {
            format!("Ask {from} to move the case here")
        } else {
            format!("Offer the case to {to}")
        }
    });
    let answer = t.open() && t.answered_by().is_some_and(|m| mine.contains(&m));
    let target = format!("case_transfer:{}", t.id);
    state.store.append_audit(me.audit(state, "case_transfer.view", &target, serde_json::json!({}))).await?;
    Ok(TransferPage {
        ctx: PageContext::new(state, &me.visitor, "Case held by another Marac", "/triage"),
        id: t.id,
        referral: referral.reference.unwrap_or_default(),
        case_reference,
        last_referred: held.last_referred,
        from_contacts: held.contacts,
        to_contacts: coordinator_contacts(state, t.to_marac_id).await?,
        status: held.status,
        ask,
        answer,
        errors,
        from,
        to,
    }
    .into_response())
}

/// `GET /transfers/{id}`.
///
/// # Errors
/// Refused to anyone who coordinates neither Marac.
pub async fn show(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (t, mine) = load(&state, &me, id).await?;
    page(&state, &me, &t, &mine, Errors::default()).await
}

/// `POST /transfers/{id}/ask`: one side asks for (or offers) the move.
///
/// # Errors
/// Refused to anyone who coordinates neither Marac; 409 once asked or closed.
pub async fn ask(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (t, mine) = load(&state, &me, id).await?;
    let Some(&side) = mine.first() else { return Err(AppError::NotFound) };
    if !t.open() || t.asked_by_marac.is_some() {
        return Err(AppError::Conflict);
    }
    let target = format!("case:{}", t.case_id);
    let detail =
        serde_json::json!({ "transfer": t.id, "from": t.from_marac_id, "to": t.to_marac_id, "asked_by_marac": side });
    let event = me.audit(&state, "case.transfer.ask", &target, detail);
    marac_app::workflows::transfers::ask(&state, &t, side, me.user.id, event).await?;
    Ok(Redirect::to(&format!("/transfers/{}", t.id)).into_response())
}

/// `POST /transfers/{id}/answer`: the side that was asked agrees (the case moves) or refuses.
///
/// # Errors
/// Refused to anyone but the coordinators of the side that was asked; 409 once closed.
pub async fn answer(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let (t, mine) = load(&state, &me, id).await?;
    let Some(side) = t.answered_by().filter(|m| mine.contains(m)) else {
        me.authorise(
            &state,
            Action::TriageReferrals { marac_id: t.answered_by().unwrap_or(0) },
            &format!("case_transfer:{id}"),
        )
        .await?;
        return Err(AppError::Conflict);
    };
    if !t.open() {
        return Err(AppError::Conflict);
    }
    let agree = match form.get("answer") {
        "agree" => true,
        "refuse" => false,
        _ => {
            let mut errors = Errors::default();
            errors.add("answer", "Select whether the case moves");
            return page(&state, &me, &t, &mine, errors).await;
        }
    };
    let target = format!("case:{}", t.case_id);
    let detail = |role: &str| serde_json::json!({ "transfer": t.id, "from": t.from_marac_id, "to": t.to_marac_id, "side": role, "answered_by_marac": side });
    let events = if agree {
        // Recorded on both sides: each Marac's trail shows the case leaving or arriving.
        vec![
            me.audit(&state, "case.transfer", &target, detail("sending")),
            me.audit(&state, "case.transfer", &target, detail("receiving")),
        ]
    } else {
        vec![me.audit(&state, "case.transfer.refuse", &target, detail("answering"))]
    };
    marac_app::workflows::transfers::answer(&state, &t, agree, me.user.id, events).await?;
    Ok(Redirect::to(&format!("/transfers/{}", t.id)).into_response())
}
