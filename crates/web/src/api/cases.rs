//! A case on the API, for the systems agencies keep their own records in: `GET /api/v1/cases/{id}`
//! (where it stands, its people with the dates of birth and addresses agencies search their own
//! records by, the referral's summary) and `GET /api/v1/cases/{id}/chronology` (everything that
//! happened to it, newest first, paged). The case page's rule, history limit and audit apply.

use super::ApiUser;
use super::problem::Problem;
use crate::AppState;
use crate::routes::chronology::{Words, views};
use axum::Json;
use axum::extract::{Path, Query, State};
use marac_app::casework::{self, Purpose};
use marac_app::chronology;
use marac_app::store::ReferralStatus;
use marac_domain::paging::{Page, PageRequest};
use marac_domain::policy::{Action, HistoryLimit};
use marac_domain::referral_form::{self as form, FormMap, field};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A person the case's referral names.
#[derive(Debug, Serialize, ToSchema)]
pub struct CasePerson {
    /// "Victim", "Person causing harm (ex-partner)", "Child of both", ...
    pub role: String,
    /// The name as referred.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`, if given.
    pub date_of_birth: Option<String>,
    /// Age as given, when the date of birth is not known.
    pub age: Option<u32>,
    /// The address as given (empty when it must not be shared).
    pub address: String,
    /// The postcode as given.
    pub postcode: String,
}

/// A case as its Marac holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    /// The case's id.
    pub id: i64,
    /// Its Marac's id.
    pub marac: i64,
    /// Its latest referral's reference.
    pub reference: Option<String>,
    /// Where it stands: `referred`, `declined`, `awaiting_meeting`, `listed`, `deferred`,
    /// `heard`, `actions_open` or `closed`.
    pub stage: Option<String>,
    /// The day of the meeting the stage concerns, `YYYY-MM-DD`.
    pub stage_meeting_on: Option<String>,
    /// The people the latest accepted referral names.
    pub people: Vec<CasePerson>,
    /// That referral's summary of the situation.
    pub summary: String,
}

/// Reads a case. Refused (403) to anyone with no reason to see it, or before they have
/// confirmed its Marac's confidentiality statement in the service.
#[utoipa::path(
    get,
    path = "/cases/{id}",
    tag = "cases",
    params(("id" = i64, Path, description = "The case")),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No reason to see it, or the statement not confirmed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<CaseView>, Problem> {
    let limit = read_case(&state, &caller, id, "case.view").await?;
    let referrals = crate::routes::research::held_referrals(&state, id, limit.as_ref()).await?;
    let latest = referrals.iter().find(|r| r.status == ReferralStatus::Accepted).or(referrals.first());
    let (people, summary) = match latest {
        Some(r) => {
            let map: FormMap = casework::open(&state, Purpose::Form, &r.form_sealed)?;
            let people = form::people_named(&map)
                .into_iter()
                .map(|p| CasePerson {
                    role: p.role,
                    name: p.name,
                    date_of_birth: p.born.map(|d| d.to_string()),
                    age: p.age,
                    address: p.address,
                    postcode: p.postcode,
                })
                .collect();
            (people, map.get(field::SUMMARY_TEXT).cloned().unwrap_or_default())
        }
        None => (Vec::new(), String::new()),
    };
    let case = state.store.get_case(id).await?;
    let (stage, meeting) = state.store.case_stage(id).await?;
    Ok(Json(CaseView {
        id,
        marac: case.marac_id,
        reference: latest.and_then(|r| r.reference.clone()),
        stage: stage.map(|s| s.code().to_owned()),
        stage_meeting_on: meeting.map(|(_, d)| d.to_string()),
        people,
        summary,
    }))
}

/// Which page of a chronology.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChronologyQuery {
    /// The page, from 1 (25 a page).
    pub page: Option<u32>,
}

/// One thing that happened to a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChronologyEntry {
    /// When, RFC 3339.
    pub at: String,
    /// What happened, in a line: "Action agreed for Housing".
    pub title: String,
    /// What it said or asked, if anything.
    pub detail: String,
    /// Who made the change, where known.
    pub by: String,
}

/// A page of a case's chronology, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Chronology {
    /// Entries in all.
    pub total: u64,
    /// This page.
    pub page: u32,
    /// Pages in all.
    pub pages: u32,
    /// This page's entries.
    pub entries: Vec<ChronologyEntry>,
}

/// Reads a case's chronology: every referral and decision, every move of the case, every
/// action and report on it, flag, research note the caller may see and transfer.
#[utoipa::path(
    get,
    path = "/cases/{id}/chronology",
    tag = "cases",
    params(("id" = i64, Path, description = "The case"), ChronologyQuery),
    responses(
        (status = 200, description = "A page of the chronology, newest first", body = Chronology),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No reason to see it, or the statement not confirmed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn chronology(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<ChronologyQuery>,
) -> Result<Json<Chronology>, Problem> {
    let limit = read_case(&state, &caller, id, "case.chronology.view").await?;
    let reader = chronology::Reader { agency_id: caller.user.agency_id, limit };
    let request = PageRequest { number: q.page.unwrap_or(1).max(1), ..PageRequest::default() };
    let entries = Page::of_list(chronology::of_case(&state, id, &reader).await?, request);
    let (agencies, maracs) = (state.store.list_agencies().await?, state.store.list_maracs().await?);
    let actor = caller.actor();
    let no_refs = std::collections::HashMap::new();
    let words = Words { actor: &actor, agencies: &agencies, maracs: &maracs, case_refs: &no_refs };
    let shown = views(&state, &entries.rows, &words).await?;
    Ok(Json(Chronology {
        total: entries.total,
        page: request.number,
        pages: entries.pages(),
        entries: shown
            .into_iter()
            .map(|e| ChronologyEntry { at: e.datetime, title: e.title, detail: e.detail, by: e.by })
            .collect(),
    }))
}

/// Asks the case's rule (and the statement) for the caller and records the reading as
/// `action`; what a Marac the case has left may still read of it.
async fn read_case(state: &AppState, caller: &ApiUser, id: i64, action: &str) -> Result<Option<HistoryLimit>, Problem> {
    let access = state.store.case_access(id).await?;
    let target = format!("case:{id}");
    let basis = caller.authorise_audited(state, Action::ReadCase(&access), &target).await?;
    let limit = access.history_limit(&caller.actor());
    let detail =
        serde_json::json!({ "basis": basis, "until": limit.as_ref().map(|l| l.until.to_string()), "via": "api" });
    state.store.append_audit(caller.event(state, action, &target, detail)).await?;
    Ok(limit)
}
