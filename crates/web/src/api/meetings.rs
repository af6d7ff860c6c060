//! Meetings on the API, for the systems agencies keep their own records in: `GET
//! /api/v1/meetings` lists those the caller may take part in, and `GET
//! /api/v1/meetings/{id}/cases/{case}` reads a case as its meeting recorded it. The same gates
//! as the meeting pages: the caller's agency is invited, the list is published, the caller has
//! confirmed the Marac's confidentiality statement for this meeting, and the case's own access
//! rule allows it.

use super::ApiUser;
use super::problem::Problem;
use crate::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use marac_app::casework::{self, Purpose};
use marac_app::payloads::{ActionText, Discussion};
use marac_app::store::ActionFilter;
use marac_domain::meeting_rules::MeetingStatus;
use marac_domain::policy::Action;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An action agreed for the case.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    /// The action's id in the database: addresses, links and other records name it by this.
    pub id: i64,
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
}

/// A case as its meeting recorded it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingCaseView {
    /// The meeting.
    pub meeting: i64,
    /// The case.
    pub case: i64,
    /// The referral's reference.
    pub reference: Option<String>,
    /// Place on the list.
    pub position: i64,
    /// `listed`, `heard` or `deferred`.
    pub outcome: String,
    /// Information shared.
    pub information: String,
    /// Risks identified.
    pub risks: String,
    /// The actions agreed at this meeting.
    pub actions: Vec<ActionView>,
}

/// Reads one case of a meeting. Refused (403) until the caller's agency is invited, the list
/// is published and the caller has confirmed confidentiality for the meeting.
#[utoipa::path(
    get,
    path = "/meetings/{id}/cases/{case}",
    tag = "meetings",
    params(("id" = i64, Path, description = "The meeting"), ("case" = i64, Path, description = "The case")),
    responses(
        (status = 200, description = "The case as recorded", body = MeetingCaseView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Invited, but the list is not published or confidentiality not confirmed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such meeting, one the caller is not invited to, or no such case on its list", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn case(
    State(state): State<AppState>,
    caller: ApiUser,
    Path((id, case_id)): Path<(i64, i64)>,
) -> Result<Json<MeetingCaseView>, Problem> {
    let meeting = state.store.get_meeting(id).await?;
    let d = &meeting.details;
    let target = format!("meeting:{id}");
    // A meeting the caller may not see answers as one that is not there.
    caller
        .authorise_hidden(
            &state,
            Action::ViewMeeting { marac_id: d.marac_id, invited_agency_ids: &d.invited_agency_ids },
            &target,
        )
        .await?;
    let confirmed = crate::routes::meetings::confirmed_current(&state, &meeting, caller.user.id).await?;
    let read = Action::ReadMeetingCases {
        marac_id: d.marac_id,
        invited_agency_ids: &d.invited_agency_ids,
        confirmed,
        published: meeting.status != MeetingStatus::Planned,
    };
    caller.authorise_audited(&state, read, &target).await?;
    let listed = state
        .store
        .meeting_cases(id)
        .await?
        .into_iter()
        .find(|c| c.case_id == case_id)
        .ok_or_else(Problem::not_found)?;
    let access = state.store.case_access(case_id).await?;
    let basis = caller.authorise_audited(&state, Action::ReadCase(&access), &format!("case:{case_id}")).await?;
    let discussion: Discussion = match &listed.discussion_sealed {
        Some(s) => casework::open(&state, Purpose::Discussion, s)?,
        None => Discussion::default(),
    };
    let records = state
        .store
        .list_actions(&ActionFilter { case_id: Some(case_id), meeting_id: Some(id), limit: 200, ..Default::default() })
        .await?;
    let mut actions = Vec::with_capacity(records.len());
    for a in records {
        let text: ActionText = casework::open(&state, Purpose::Action, &a.action.description_sealed)?;
        actions.push(ActionView {
            id: a.id,
            agency: a.action.agency_id,
            owner: a.action.owner_name,
            subject: a.action.subject.code().to_owned(),
            description: text.description,
            due: a.action.due_on.to_string(),
            status: a.status.code().to_owned(),
        });
    }
    let event = caller.event(
        &state,
        "meeting.case.view",
        &format!("case:{case_id}"),
        serde_json::json!({ "meeting": id, "basis": basis, "via": "api" }),
    );
    state.store.append_audit(event).await?;
    Ok(Json(MeetingCaseView {
        meeting: id,
        case: case_id,
        reference: listed.reference,
        position: listed.position,
        outcome: listed.outcome.code().to_owned(),
        information: discussion.information,
        risks: discussion.risks,
        actions,
    }))
}

/// Which meetings to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeetingsQuery {
    /// Held on or after this day, `YYYY-MM-DD` (today if not given).
    pub from: Option<String>,
}

/// A meeting the caller may take part in.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingSummary {
    /// The meeting's id.
    pub id: i64,
    /// Its Marac's id.
    pub marac: i64,
    /// The day, `YYYY-MM-DD`.
    pub held_on: String,
    /// Start time, `HH:MM`.
    pub starts_at: String,
    /// `planned`, `published` or `held`.
    pub status: String,
    /// Cases on its list.
    pub listed: i64,
    /// Cases it can hear.
    pub capacity: u32,
    /// The last day a case can join its list, `YYYY-MM-DD`.
    pub list_cutoff_on: Option<String>,
    /// The agencies invited.
    pub invited_agencies: Vec<i64>,
}

/// The meetings the caller may take part in, from a day on, by date (at most 200).
#[utoipa::path(
    get,
    path = "/meetings",
    tag = "meetings",
    params(MeetingsQuery),
    responses(
        (status = 200, description = "Meetings by date", body = Vec<MeetingSummary>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller holds no role", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A day that cannot be read", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiUser,
    Query(q): Query<MeetingsQuery>,
) -> Result<Json<Vec<MeetingSummary>>, Problem> {
    caller.authorise_audited(&state, Action::ViewHome, "meetings").await?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let from = match q.from.as_deref() {
        None => state.clock.today(),
        Some(d) => time::Date::parse(d.trim(), format).map_err(|_| {
            Problem::invalid(vec![super::problem::FieldProblem {
                pointer: "/from".into(),
                detail: "Give the day as YYYY-MM-DD".into(),
            }])
        })?,
    };
    let maracs = state.store.list_maracs().await?;
    let meetings = crate::routes::meetings::visible_meetings(&state, &caller.actor(), &maracs, from, 200).await?;
    Ok(Json(
        meetings
            .into_iter()
            .map(|m| MeetingSummary {
                id: m.id,
                marac: m.details.marac_id,
                held_on: m.details.held_on.to_string(),
                starts_at: m.details.starts_at.clone(),
                status: m.status.code().to_owned(),
                listed: m.listed,
                capacity: m.details.capacity,
                list_cutoff_on: m.details.list_cutoff_on.map(|d| d.to_string()),
                invited_agencies: m.details.invited_agency_ids,
            })
            .collect(),
    ))
}
