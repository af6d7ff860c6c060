//! The action tracker on the API, for the systems agencies keep their own records in:
//! `GET /api/v1/actions` lists what the caller tracks (the same rule, filters and paging as the
//! Actions page), and `POST /api/v1/actions/{id}/reports` reports progress as the action's page
//! does. Every list and report is audited.

use super::ApiUser;
use super::problem::{FieldProblem, Problem};
use crate::AppState;
use crate::routes::actions::{case_of, report_event, state_of};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use marac_app::casework::{self, Purpose};
use marac_app::payloads::ActionText;
use marac_app::store::ActionFilter;
use marac_domain::meeting_rules::{self, ActionReport};
use marac_domain::paging::PageRequest;
use marac_domain::policy::{self, Action, authorise};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Which actions to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionsQuery {
    /// `outstanding` (the default), `overdue`, `ended` or `all`.
    pub status: Option<String>,
    /// Only this agency's.
    pub agency: Option<i64>,
    /// Only this Marac's.
    pub marac: Option<i64>,
    /// Only those this meeting agreed.
    pub meeting: Option<i64>,
    /// Only those due on or before this day, `YYYY-MM-DD`.
    pub due_by: Option<String>,
    /// The page, from 1 (25 a page).
    pub page: Option<u32>,
}

/// An action as the tracker lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedAction {
    /// The action's id: report on it at `/actions/{id}/reports`.
    pub id: i64,
    /// The case.
    pub case: i64,
    /// The case's latest referral's reference.
    pub reference: String,
    /// The Marac.
    pub marac: i64,
    /// The meeting that agreed it.
    pub meeting: i64,
    /// The day of that meeting, `YYYY-MM-DD`.
    pub agreed_on: String,
    /// The owning agency's id.
    pub agency: i64,
    /// The named person.
    pub owner: String,
    /// `victim`, `child`, `perpetrator` or `other`.
    pub subject: String,
    /// What is to be done.
    pub description: String,
    /// Due date, `YYYY-MM-DD`.
    pub due: String,
    /// `open`, `done`, `not_done_circumstances`, `not_done_agency` or `carried_forward`.
    pub status: String,
    /// Outstanding and past its due date.
    pub overdue: bool,
}

/// A page of the actions the caller tracks: outstanding ones soonest due first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionList {
    /// Actions matching in all.
    pub total: u64,
    /// This page.
    pub page: u32,
    /// Pages in all.
    pub pages: u32,
    /// This page's actions.
    pub actions: Vec<TrackedAction>,
}

/// Lists the actions the caller tracks: every action of the Maracs they coordinate or chair,
/// and their own agency's in the Maracs they practise in.
#[utoipa::path(
    get,
    path = "/actions",
    tag = "actions",
    params(ActionsQuery),
    responses(
        (status = 200, description = "A page of actions", body = ActionList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller holds no role", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter that cannot be read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    Query(q): Query<ActionsQuery>,
) -> Result<Json<ActionList>, Problem> {
    caller.authorise_audited(&state, Action::ViewHome, "actions").await?;
    let today = state.clock.today();
    let mut problems = Vec::new();
    let wanted = state_of(q.status.as_deref().unwrap_or("outstanding"), today);
    if wanted.is_none() {
        problems
            .push(FieldProblem { pointer: "/status".into(), detail: "Use outstanding, overdue, ended or all".into() });
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let due_by = match q.due_by.as_deref() {
        None => None,
        Some(d) => match time::Date::parse(d.trim(), format) {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(FieldProblem { pointer: "/due_by".into(), detail: "Give the day as YYYY-MM-DD".into() });
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(Problem::invalid(problems));
    }
    let actor = caller.actor();
    let all: Vec<i64> = state.store.list_maracs().await?.iter().map(|m| m.id).collect();
    // What an action says is case content: a Marac's actions show once its statement is
    // confirmed in the service.
    let scope = policy::CaseScope::of(&actor, &all);
    let tracked: Vec<i64> = all
        .iter()
        .copied()
        .filter(|m| scope.whole_maracs.contains(m) || scope.practitioner_maracs.contains(m))
        .collect();
    let (seen, _) = casework::confirmed_maracs(&state, &actor, &tracked).await?;
    let filter = ActionFilter {
        agency_id: q.agency,
        marac_ids: Some(seen.into_iter().filter(|m| q.marac.is_none_or(|asked| asked == *m)).collect()),
        meeting_id: q.meeting,
        state: wanted.flatten(),
        due_by,
        // The tracker's rule as a filter: the caller's own filters only narrow it.
        tracked_by: Some(scope),
        ..Default::default()
    };
    let request = PageRequest { number: q.page.unwrap_or(1).max(1), ..PageRequest::default() };
    let page = state.store.page_actions(&filter, request).await?;
    let pages = page.pages();
    let mut actions = Vec::with_capacity(page.rows.len());
    let mut cases = Vec::new();
    for a in page.rows {
        // Each case shown is still asked of the policy, as the page asks it.
        let access = state.store.case_access(a.action.case_id).await?;
        if authorise(&actor, Action::ReadCase(&access)).is_err() {
            continue;
        }
        let text: ActionText = casework::open(&state, Purpose::Action, &a.action.description_sealed)?;
        let (reference, _) = case_of(&state, a.action.case_id).await?;
        cases.push(a.action.case_id);
        actions.push(TrackedAction {
            id: a.id,
            case: a.action.case_id,
            reference,
            marac: a.marac_id,
            meeting: a.action.meeting_id,
            agreed_on: a.meeting_held_on.to_string(),
            agency: a.action.agency_id,
            owner: a.action.owner_name.clone(),
            subject: a.action.subject.code().to_owned(),
            description: text.description,
            due: a.action.due_on.to_string(),
            status: a.status.code().to_owned(),
            overdue: meeting_rules::is_overdue(a.status, a.action.due_on, today),
        });
    }
    cases.sort_unstable();
    cases.dedup();
    let detail = serde_json::json!({ "cases": cases, "page": request.number, "via": "api" });
    state.store.append_audit(caller.event(&state, "action.list", "actions", detail)).await?;
    Ok(Json(ActionList { total: page.total, page: request.number, pages, actions }))
}

/// A report on an action's progress.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({ "status": "done", "note": "Flagged on the GP record." }))]
pub struct ReportRequest {
    /// `done`, `not_done_circumstances`, `not_done_agency` or `carried_forward`.
    pub status: String,
    /// Why it was not done or is carried forward (needed for those statuses).
    #[serde(default)]
    pub reason: Option<String>,
    /// What was done (at most 2,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// The action once reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reported {
    /// The action.
    pub id: i64,
    /// Its status now.
    pub status: String,
}

/// Reports an action's progress: its agency's representatives, or the Marac's coordinator.
#[utoipa::path(
    post,
    path = "/actions/{id}/reports",
    tag = "actions",
    params(("id" = i64, Path, description = "The action")),
    request_body = ReportRequest,
    responses(
        (status = 201, description = "The report is recorded", body = Reported),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owning agency or the coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such action", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The report has problems", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<i64>,
    body: Result<Json<ReportRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Reported>), Problem> {
    let a = state.store.get_action(id).await?;
    caller
        .authorise_audited(
            &state,
            Action::UpdateAction { marac_id: a.marac_id, owner_agency_id: a.action.agency_id },
            &format!("action:{id}"),
        )
        .await?;
    let Json(asked) = body.map_err(|e| Problem::bad_request(&e.body_text()))?;
    let report = ActionReport::read(
        &asked.status,
        asked.reason.as_deref().unwrap_or_default(),
        asked.note.as_deref().unwrap_or_default(),
    )
    .map_err(|problems| {
        Problem::invalid(
            problems.into_iter().map(|(field, detail)| FieldProblem { pointer: format!("/{field}"), detail }).collect(),
        )
    })?;
    let event = report_event(&state, &report, caller.user.id)?;
    let audit = caller.event(
        &state,
        "action.report",
        &format!("action:{id}"),
        serde_json::json!({ "status": report.status.code(), "via": "api" }),
    );
    state.store.report_action(id, &event, audit).await?;
    Ok((StatusCode::CREATED, Json(Reported { id, status: report.status.code().to_owned() })))
}
