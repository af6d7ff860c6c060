//! Action tracking: each agency sees and reports on its own actions; coordinators see all of
//! their Maracs'. The view is the one Maracs keep in spreadsheets today: meeting date, case,
//! victim, action, agency, date status reported, status.

use crate::AppState;
use crate::casework::{self, Purpose};
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::routes::admin::Choice;
use crate::routes::display_date;
use crate::routes::meeting_case::ActionText;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_domain::Role;
use marac_domain::meeting_rules::{self, ActionStatus, DelayReason};
use marac_domain::policy::{Action, authorise};
use marac_store::{ActionEvent, ActionFilter, ReferralFilter, Ts};

/// One line of the tracker.
pub struct TrackerRow {
    /// Action id.
    pub id: i64,
    /// Meeting date.
    pub meeting: String,
    /// Case reference.
    pub case_ref: String,
    /// Victim.
    pub victim: String,
    /// The action.
    pub description: String,
    /// Owning agency and person.
    pub agency: String,
    /// Due.
    pub due: String,
    /// Overdue.
    pub overdue: bool,
    /// Date the status was last reported.
    pub reported: String,
    /// Status.
    pub status: &'static str,
    /// The viewer may report on it.
    pub can_update: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "actions.html")]
struct TrackerPage {
    ctx: PageContext,
    rows: Vec<TrackerRow>,
    statuses: Vec<Choice>,
    reasons: Vec<Choice>,
    errors: Errors,
    failed: i64,
}

async fn page(state: &AppState, me: &Signed, errors: Errors, failed: i64) -> Result<Response, AppError> {
    me.authorise(state, Action::ViewHome, "actions").await?;
    let actor = me.actor();
    let maracs = state.store.list_maracs().await?;
    let coordinated: Vec<i64> =
        maracs.iter().filter(|m| actor.has_role_for(Role::Coordinator, m.id)).map(|m| m.id).collect();
    let mut records = Vec::new();
    if !coordinated.is_empty() {
        records.extend(
            state
                .store
                .list_actions(&ActionFilter { marac_ids: Some(coordinated), limit: 500, ..Default::default() })
                .await?,
        );
    }
    if let Some(agency) = me.user.agency_id {
        for a in state
            .store
            .list_actions(&ActionFilter { agency_id: Some(agency), limit: 500, ..Default::default() })
            .await?
        {
            if !records.iter().any(|r| r.id == a.id) {
                records.push(a);
            }
        }
    }
    records.sort_by(|a, b| a.action.due_on.cmp(&b.action.due_on).then(a.id.cmp(&b.id)));
    let agencies = state.store.list_agencies().await?;
    let today = state.clock.now().date();
    let mut rows = Vec::new();
    let mut cases = Vec::new();
    for a in &records {
        let access = state.store.case_access(a.action.case_id).await?;
        if authorise(&actor, Action::ReadCase(&access)).is_err() {
            continue;
        }
        cases.push(a.action.case_id);
        let text: ActionText = casework::open(state, Purpose::Action, &a.action.description_sealed)?;
        let latest = state
            .store
            .list_referrals(&ReferralFilter { case_id: Some(a.action.case_id), limit: 1, ..Default::default() })
            .await?;
        let (case_ref, victim) = match latest.first() {
            Some(r) => (
                r.reference.clone().unwrap_or_default(),
                casework::victim_name(&casework::open(state, Purpose::Form, &r.form_sealed)?),
            ),
            None => (String::new(), String::new()),
        };
        rows.push(TrackerRow {
            id: a.id,
            meeting: display_date(a.meeting_held_on),
            case_ref,
            victim,
            description: text.description,
            agency: format!(
                "{}, {}",
                agencies.iter().find(|x| x.id == a.action.agency_id).map(|x| x.name.as_str()).unwrap_or(""),
                a.action.owner_name
            ),
            due: display_date(a.action.due_on),
            overdue: meeting_rules::is_overdue(a.status, a.action.due_on, today),
            reported: a.status_reported_at.map(|t| display_date(t.0.date())).unwrap_or_default(),
            status: a.status.label(),
            can_update: authorise(
                &actor,
                Action::UpdateAction { marac_id: a.marac_id, owner_agency_id: a.action.agency_id },
            )
            .is_ok(),
        });
    }
    cases.sort_unstable();
    cases.dedup();
    if !cases.is_empty() {
        state
            .store
            .append_audit(me.audit(state, "action.list", "actions", serde_json::json!({ "cases": cases })))
            .await?;
    }
    let choice =
        |value: &str, label: &str| Choice { value: value.to_owned(), label: label.to_owned(), selected: false };
    Ok(TrackerPage {
        ctx: PageContext::new(state, &me.visitor, "Actions", "/actions"),
        rows,
        statuses: ActionStatus::ALL
            .iter()
            .filter(|s| **s != ActionStatus::Open)
            .map(|s| choice(s.code(), s.label()))
            .collect(),
        reasons: DelayReason::ALL.iter().map(|r| choice(r.code(), r.label())).collect(),
        errors,
        failed,
    }
    .into_response())
}

/// `GET /actions`: the action tracker.
///
/// # Errors
/// Store failures; refused to those holding no role.
pub async fn list(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    page(&state, &me, Errors::default(), 0).await
}

/// `POST /actions/{id}`: reports an action's status, with a reason category when it is not done.
///
/// # Errors
/// Refused to anyone but the owning agency and the coordinator.
pub async fn report(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let a = state.store.get_action(id).await?;
    me.authorise(
        &state,
        Action::UpdateAction { marac_id: a.marac_id, owner_agency_id: a.action.agency_id },
        &format!("action:{id}"),
    )
    .await?;
    let mut errors = Errors::default();
    let status = ActionStatus::from_code(form.get("status")).filter(|s| *s != ActionStatus::Open);
    if status.is_none() {
        errors.add(&format!("status-{id}"), "Select the action's status");
    }
    let reason = DelayReason::from_code(form.get("reason"));
    if status.is_some_and(ActionStatus::needs_reason) && reason.is_none() {
        errors.add(&format!("reason-{id}"), "Select why it was not done or is carried forward");
    }
    let note = form.get("note").trim();
    if note.chars().count() > 2_000 {
        errors.add(&format!("note-{id}"), "The note must be 2,000 characters or fewer");
    } else if let Err(e) = marac_domain::fields::check_text(note, marac_domain::fields::TextKind::Multiline) {
        errors.add(&format!("note-{id}"), e);
    }
    let Some(status) = status.filter(|_| errors.is_empty()) else {
        return page(&state, &me, errors, id).await;
    };
    let event = ActionEvent {
        status,
        reason: reason.filter(|_| status.needs_reason()),
        note_sealed: if note.is_empty() { None } else { Some(casework::seal(&state, Purpose::Action, &note)?) },
        by_user_id: Some(me.user.id),
        at: Ts::new(state.clock.now()),
    };
    let audit =
        me.audit(&state, "action.report", &format!("action:{id}"), serde_json::json!({ "status": status.code() }));
    state.store.report_action(id, &event, audit).await?;
    Ok(Redirect::to("/actions").into_response())
}
