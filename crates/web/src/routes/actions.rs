//! Action tracking: each agency sees and reports on its own actions; coordinators see all of
//! their Maracs'. The view is the one Maracs keep in spreadsheets today: meeting date, case,
//! victim, action, agency, date status reported, status.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::paging::Pagination;
use crate::routes::admin::Choice;
use crate::routes::display_date;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::payloads::ActionText;
use marac_app::store::{ActionEvent, ActionFilter, ActionRecord, ActionState, ReferralFilter, Ts};
use marac_domain::meeting_rules::{self, ActionReport, ActionStatus, DelayReason};
use marac_domain::paging::PageRequest;
use marac_domain::policy;
use marac_domain::policy::{Action, authorise};
use marac_domain::referral_form::parse_date;

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
pub(crate) async fn case_of(state: &AppState, case_id: i64) -> Result<(String, String), AppError> {
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
        overdue: meeting_rules::is_overdue(a.status, a.action.due_on, state.clock.today()),
        reported: a.status_reported_at.map(crate::routes::display_day).unwrap_or_default(),
        status: a.status.label(),
        can_update: authorise(
            actor,
            Action::UpdateAction { marac_id: a.marac_id, owner_agency_id: a.action.agency_id },
        )
        .is_ok(),
    })
}

/// The tracker's filters, as they come in the address (nothing in them names a person).
#[derive(Debug, Default, serde::Deserialize)]
pub struct TrackerQuery {
    /// `outstanding` (the default), `overdue`, `ended` or `all`.
    status: Option<String>,
    /// An agency's id.
    agency: Option<String>,
    /// A Marac's id.
    marac: Option<String>,
    /// A meeting's id: the actions it agreed.
    meeting: Option<String>,
    /// Due on or before this day, as typed.
    due_by: Option<String>,
    /// The page.
    page: Option<String>,
    /// What a change just did: `updated` after a report.
    done: Option<String>,
}

/// What the tracker's status filter asks the database for on `today`: `None` for a status it
/// does not offer, `Some(None)` for all of them.
pub(crate) fn state_of(status: &str, today: time::Date) -> Option<Option<ActionState>> {
    match status {
        "outstanding" => Some(Some(ActionState::Outstanding)),
        "overdue" => Some(Some(ActionState::OverdueOn(today))),
        "ended" => Some(Some(ActionState::Ended)),
        "all" => Some(None),
        _ => None,
    }
}

/// The status filter's choices: value and label.
const STATUS_CHOICES: [(&str, &str); 4] =
    [("outstanding", "Outstanding"), ("overdue", "Overdue"), ("ended", "Ended"), ("all", "All")];

#[derive(Template, WebTemplate)]
#[template(path = "actions.html")]
struct TrackerPage {
    ctx: PageContext,
    rows: Vec<TrackerRow>,
    /// Maracs whose actions wait for the reader to confirm their statement: (name, where to
    /// confirm it, why).
    to_confirm: Vec<(String, String, &'static str)>,
    statuses: Vec<Choice>,
    agencies: Vec<Choice>,
    maracs: Vec<Choice>,
    /// The meeting filtered by: its id, described, and the address without it.
    meeting: Option<(i64, String, String)>,
    due_by: String,
    due_by_error: Option<String>,
    pagination: Pagination,
    /// What the list holds, for its caption.
    caption: String,
    /// What the last change did.
    done: Option<&'static str>,
}

/// `GET /actions`: the action tracker, filtered and paged by the database.
///
/// # Errors
/// Store failures; refused to those holding no role.
pub async fn list(
    State(state): State<AppState>,
    me: Signed,
    Query(q): Query<TrackerQuery>,
) -> Result<Response, AppError> {
    me.authorise(&state, Action::ViewHome, "actions").await?;
    let actor = me.actor();
    let maracs = state.store.list_maracs().await?;
    let all: Vec<i64> = maracs.iter().map(|m| m.id).collect();
    let scope = policy::CaseScope::of(&actor, &all);
    let today = state.clock.today();
    let text = |o: &Option<String>| o.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let id = |o: &Option<String>| o.as_deref().and_then(|v| v.trim().parse::<i64>().ok());
    let status = STATUS_CHOICES.iter().find(|(v, _)| Some(*v) == q.status.as_deref()).map_or("outstanding", |c| c.0);
    let state_filter = state_of(status, today).unwrap_or(Some(ActionState::Outstanding));
    let due_typed = text(&q.due_by);
    let (due_by, due_by_error) = match due_typed.as_str() {
        "" => (None, None),
        typed => match parse_date(typed) {
            Some(d) => (Some(d), None),
            None => (None, Some("Enter the date as day, month and year, for example 6/12/2026".to_owned())),
        },
    };
    let tracked: Vec<i64> = maracs
        .iter()
        .filter(|m| scope.whole_maracs.contains(&m.id) || scope.practitioner_maracs.contains(&m.id))
        .map(|m| m.id)
        .collect();
    let marac = id(&q.marac).filter(|m| tracked.contains(m));
    // What an action says is case content: a Marac's actions show once its statement is confirmed.
    let (seen, waiting) = casework::confirmed_maracs(&state, &actor, &tracked).await?;
    let to_confirm = waiting
        .iter()
        .filter_map(|(m, standing)| {
            let name = maracs.iter().find(|x| x.id == *m)?.name.clone();
            Some((name, format!("/confidentiality/{m}?next=/actions"), standing.reason()))
        })
        .collect();
    let meeting = match id(&q.meeting) {
        Some(m) => match state.store.get_meeting(m).await {
            Ok(found) if tracked.contains(&found.details.marac_id) => Some(found),
            Ok(_) | Err(marac_app::store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let filter = ActionFilter {
        agency_id: id(&q.agency),
        marac_ids: Some(match marac {
            Some(m) => seen.iter().copied().filter(|s| *s == m).collect(),
            None => seen.clone(),
        }),
        meeting_id: meeting.as_ref().map(|m| m.id),
        state: state_filter,
        due_by,
        tracked_by: Some(scope.clone()),
        ..Default::default()
    };
    let page = state.store.page_actions(&filter, PageRequest::from_query(q.page.as_deref())).await?;
    let agencies = state.store.list_agencies().await?;
    let mut rows = Vec::new();
    let mut cases = Vec::new();
    for a in &page.rows {
        // The database filtered by the tracker's rule; each case shown is still asked of the policy.
        let access = state.store.case_access(a.action.case_id).await?;
        if authorise(&actor, Action::ReadCase(&access)).is_err() {
            continue;
        }
        cases.push(a.action.case_id);
        let agency = agencies.iter().find(|x| x.id == a.action.agency_id).map_or("", |x| x.name.as_str());
        rows.push(row_of(&state, &actor, a, agency).await?);
    }
    cases.sort_unstable();
    cases.dedup();
    if !cases.is_empty() {
        state
            .store
            .append_audit(me.audit(&state, "action.list", "actions", serde_json::json!({ "cases": cases })))
            .await?;
    }
    // The agency filter offers the agencies of the Maracs whose every action the person sees;
    // someone tracking only their own agency's actions has nothing to choose.
    let chosen_agency = filter.agency_id.unwrap_or(0);
    let agency_choices: Vec<Choice> = if scope.whole_maracs.is_empty() {
        Vec::new()
    } else {
        agencies
            .iter()
            .filter(|a| a.marac_ids.iter().any(|m| scope.whole_maracs.contains(m)))
            .map(|a| Choice::new(a.id, a.name.clone(), a.id == chosen_agency))
            .collect()
    };
    let marac_choices: Vec<Choice> = if tracked.len() > 1 {
        maracs
            .iter()
            .filter(|m| tracked.contains(&m.id))
            .map(|m| Choice::new(m.id, m.name.clone(), Some(m.id) == marac))
            .collect()
    } else {
        Vec::new()
    };
    let filters = [
        ("status", if status == "outstanding" { String::new() } else { status.to_owned() }),
        ("agency", filter.agency_id.map(|a| a.to_string()).unwrap_or_default()),
        ("marac", marac.map(|m| m.to_string()).unwrap_or_default()),
        ("meeting", meeting.as_ref().map(|m| m.id.to_string()).unwrap_or_default()),
        ("due_by", if due_by.is_some() { due_typed.clone() } else { String::new() }),
    ];
    let pagination = Pagination::new(&page, "/actions", &filters);
    let meeting_view = meeting.map(|m| {
        let without: Vec<(&str, String)> = filters.iter().filter(|(k, _)| *k != "meeting").cloned().collect();
        let href = crate::paging::filtered_href("/actions", &without);
        (m.id, format!("Agreed at the meeting on {}", display_date(m.details.held_on)), href)
    });
    let label = STATUS_CHOICES.iter().find(|(v, _)| *v == status).map_or("Outstanding", |c| c.1);
    Ok(TrackerPage {
        ctx: PageContext::new(&state, &me.visitor, "Actions", "/actions"),
        caption: match status {
            "ended" => "Ended actions, the latest due first".to_owned(),
            "all" => "All actions: outstanding ones soonest due first, then ended ones".to_owned(),
            _ => format!("{label} actions, soonest due first"),
        },
        done: (q.done.as_deref() == Some("updated")).then_some("Action updated"),
        rows,
        to_confirm,
        statuses: STATUS_CHOICES.iter().map(|(v, l)| Choice::new(v, *l, *v == status)).collect(),
        agencies: agency_choices,
        maracs: marac_choices,
        meeting: meeting_view,
        due_by: due_typed,
        due_by_error,
        pagination,
    }
    .into_response())
}

/// A checked report as the store keeps it, its note sealed, made by `by` now.
///
/// # Errors
/// No randomness to seal with.
pub(crate) fn report_event(state: &AppState, report: &ActionReport, by: i64) -> Result<ActionEvent, AppError> {
    Ok(ActionEvent {
        status: report.status,
        reason: report.reason,
        note_sealed: if report.note.is_empty() {
            None
        } else {
            Some(casework::seal(state, Purpose::Action, &report.note)?)
        },
        by_user_id: Some(by),
        at: Ts::new(state.clock.now()),
    })
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
        let by = match e.by_user_id {
            Some(id) => crate::routes::name_of_user(state, id).await?,
            None => String::new(),
        };
        let note = match &e.note_sealed {
            Some(n) => casework::open::<String>(state, Purpose::Action, n)?,
            None => String::new(),
        };
        reports.push(ReportView {
            at: crate::routes::display_day(e.at),
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
    let report = match ActionReport::read(form.get("status"), form.get("reason"), form.get("note")) {
        Ok(r) => r,
        Err(problems) => {
            let mut errors = Errors::default();
            for (field, message) in problems {
                errors.add(field, message);
            }
            let typed = Typed { status: form.get("status"), reason: form.get("reason"), note: form.get("note") };
            return action_page(&state, &me, &a, &typed, errors).await;
        }
    };
    let status = report.status;
    let event = report_event(&state, &report, me.user.id)?;
    let audit =
        me.audit(&state, "action.report", &format!("action:{id}"), serde_json::json!({ "status": status.code() }));
    state.store.report_action(id, &event, audit).await?;
    Ok(Redirect::to("/actions?done=updated").into_response())
}
