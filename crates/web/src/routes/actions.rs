//! Action tracking: each agency sees and reports on its own actions; coordinators see all of
//! their Maracs'. The view is the one Maracs keep in spreadsheets today: meeting date, case,
//! victim, action, agency, date status reported, status.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::routes::admin::Choice;
use crate::routes::display_date;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::payloads::ActionText;
use marac_app::store::{ActionEvent, ActionFilter, ActionRecord, ReferralFilter, Ts};
use marac_domain::meeting_rules::{self, ActionStatus, DelayReason};
use marac_domain::policy::{Action, authorise};

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
}

/// One earlier report on an action.
pub struct ReportView {
    /// When.
    pub at: String,
    /// Who.
    pub by: String,
    /// The status reported.
    pub status: &'static str,
    /// Why not done or carried forward.
    pub reason: &'static str,
    /// The note.
    pub note: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "action.html")]
struct ActionPage {
    ctx: PageContext,
    row: TrackerRow,
    reports: Vec<ReportView>,
    statuses: Vec<Choice>,
    reasons: Vec<Choice>,
    note: String,
    errors: Errors,
}

/// The case reference and victim's name of an action's case, from its latest referral.
async fn case_of(state: &AppState, case_id: i64) -> Result<(String, String), AppError> {
    let latest =
        state.store.list_referrals(&ReferralFilter { case_id: Some(case_id), limit: 1, ..Default::default() }).await?;
    Ok(match latest.first() {
        Some(r) => (
            r.reference.clone().unwrap_or_default(),
            casework::victim_name(&casework::open(state, Purpose::Form, &r.form_sealed)?),
        ),
        None => (String::new(), String::new()),
    })
}

/// An action as the tracker and its own page show it.
async fn row_of(
    state: &AppState,
    actor: &marac_domain::policy::Actor,
    a: &ActionRecord,
    agency: &str,
) -> Result<TrackerRow, AppError> {
    let text: ActionText = casework::open(state, Purpose::Action, &a.action.description_sealed)?;
    let (case_ref, victim) = case_of(state, a.action.case_id).await?;
    Ok(TrackerRow {
        id: a.id,
        meeting: display_date(a.meeting_held_on),
        case_ref,
        victim,
        description: text.description,
        agency: format!("{agency}, {}", a.action.owner_name),
        due: display_date(a.action.due_on),
        overdue: meeting_rules::is_overdue(a.status, a.action.due_on, state.clock.now().date()),
        reported: a.status_reported_at.map(|t| display_date(t.0.date())).unwrap_or_default(),
        status: a.status.label(),
        can_update: authorise(
            actor,
            Action::UpdateAction { marac_id: a.marac_id, owner_agency_id: a.action.agency_id },
        )
        .is_ok(),
    })
}

async fn page(state: &AppState, me: &Signed) -> Result<Response, AppError> {
    me.authorise(state, Action::ViewHome, "actions").await?;
    let actor = me.actor();
    let maracs = state.store.list_maracs().await?;
    let coordinated: Vec<i64> =
        maracs.iter().filter(|m| marac_domain::policy::coordinates(&actor, m.id)).map(|m| m.id).collect();
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
    let mut rows = Vec::new();
    let mut cases = Vec::new();
    for a in &records {
        let access = state.store.case_access(a.action.case_id).await?;
        if authorise(&actor, Action::ReadCase(&access)).is_err() {
            continue;
        }
        cases.push(a.action.case_id);
        let agency = agencies.iter().find(|x| x.id == a.action.agency_id).map_or("", |x| x.name.as_str());
        rows.push(row_of(state, &actor, a, agency).await?);
    }
    cases.sort_unstable();
    cases.dedup();
    if !cases.is_empty() {
        state
            .store
            .append_audit(me.audit(state, "action.list", "actions", serde_json::json!({ "cases": cases })))
            .await?;
    }
    Ok(TrackerPage { ctx: PageContext::new(state, &me.visitor, "Actions", "/actions"), rows }.into_response())
}

/// `GET /actions`: the action tracker.
///
/// # Errors
/// Store failures; refused to those holding no role.
pub async fn list(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    page(&state, &me).await
}

/// What the report form held, shown again with its problems.
#[derive(Default)]
struct Typed<'a> {
    status: &'a str,
    reason: &'a str,
    note: &'a str,
}

/// The action's own page: what was agreed, every report so far, and the form to report.
async fn action_page(
    state: &AppState,
    me: &Signed,
    a: &ActionRecord,
    typed: &Typed<'_>,
    errors: Errors,
) -> Result<Response, AppError> {
    let agency = state.store.get_agency(a.action.agency_id).await?;
    let row = row_of(state, &me.actor(), a, &agency.name).await?;
    let mut reports = Vec::new();
    for e in state.store.action_events(a.id).await? {
        // A report by an account since removed shows no name; any other failure is the page's.
        let by = match e.by_user_id {
            Some(id) => match state.store.get_user(id).await {
                Ok(u) => u.name,
                Err(marac_app::store::StoreError::NotFound) => String::new(),
                Err(other) => return Err(other.into()),
            },
            None => String::new(),
        };
        let note = match &e.note_sealed {
            Some(n) => casework::open::<String>(state, Purpose::Action, n)?,
            None => String::new(),
        };
        reports.push(ReportView {
            at: display_date(e.at.0.date()),
            by,
            status: e.status.label(),
            reason: e.reason.map_or("", DelayReason::label),
            note,
        });
    }
    state
        .store
        .append_audit(me.audit(
            state,
            "action.view",
            &format!("action:{}", a.id),
            serde_json::json!({ "case": a.action.case_id }),
        ))
        .await?;
    let choice = |value: &str, label: &str, chosen: &str| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: value == chosen,
    };
    Ok(ActionPage {
        ctx: PageContext::new(state, &me.visitor, format!("Action for {}", row.case_ref), "/actions"),
        row,
        reports,
        statuses: ActionStatus::ALL
            .iter()
            .filter(|s| **s != ActionStatus::Open)
            .map(|s| choice(s.code(), s.label(), typed.status))
            .collect(),
        reasons: DelayReason::ALL.iter().map(|r| choice(r.code(), r.label(), typed.reason)).collect(),
        note: typed.note.to_owned(),
        errors,
    }
    .into_response())
}

/// The action, once `me` may report on it (its agency or the Marac's coordinator).
async fn reportable(state: &AppState, me: &Signed, id: i64) -> Result<ActionRecord, AppError> {
    let a = state.store.get_action(id).await?;
    me.authorise(
        state,
        Action::UpdateAction { marac_id: a.marac_id, owner_agency_id: a.action.agency_id },
        &format!("action:{id}"),
    )
    .await?;
    Ok(a)
}

/// `GET /actions/{id}`: one action, its reports, and the form to report progress.
///
/// # Errors
/// Refused to anyone but the owning agency and the coordinator.
pub async fn show(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let a = reportable(&state, &me, id).await?;
    action_page(&state, &me, &a, &Typed::default(), Errors::default()).await
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
    let a = reportable(&state, &me, id).await?;
    let mut errors = Errors::default();
    let status = ActionStatus::from_code(form.get("status")).filter(|s| *s != ActionStatus::Open);
    if status.is_none() {
        errors.add("status", "Select the action's status");
    }
    let reason = DelayReason::from_code(form.get("reason"));
    if status.is_some_and(ActionStatus::needs_reason) && reason.is_none() {
        errors.add("reason", "Select why it was not done or is carried forward");
    }
    let note = form.get("note").trim();
    if note.chars().count() > 2_000 {
        errors.add("note", "The note must be 2,000 characters or fewer");
    } else if let Err(e) = marac_domain::fields::check_text(note, marac_domain::fields::TextKind::Multiline) {
        errors.add("note", e);
    }
    let Some(status) = status.filter(|_| errors.is_empty()) else {
        let typed = Typed { status: form.get("status"), reason: form.get("reason"), note: form.get("note") };
        return action_page(&state, &me, &a, &typed, errors).await;
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
