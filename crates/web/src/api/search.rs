//! `POST /api/v1/search`: the search the pages offer, for integrations: the words in the JSON
//! body (never in an address), the same reading, scope and audit.

use super::ApiUser;
use super::problem::{FieldProblem, Problem};
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use marac_app::search;
use marac_domain::paging::PageRequest;
use marac_domain::search::read;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What to search for.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({ "q": "Nina Vale 4/4/1990", "page": 1 }))]
pub struct SearchRequest {
    /// A name, a date of birth, a postcode or a case reference, as a person would type them.
    pub q: String,
    /// The page of results, from 1 (25 a page).
    #[serde(default)]
    pub page: Option<u32>,
}

/// A case found.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    /// The case's id.
    pub case_id: i64,
    /// Its latest referral's reference.
    pub reference: String,
    /// The victim's name.
    pub victim: String,
    /// The victim's date of birth, `YYYY-MM-DD`, if known.
    pub date_of_birth: Option<String>,
    /// The victim's postcode, if known.
    pub postcode: String,
    /// Where the case stands: `referred`, `declined`, `awaiting_meeting`, `listed`, `deferred`,
    /// `heard`, `actions_open` or `closed`.
    pub stage: Option<String>,
    /// The day of the meeting the stage concerns, `YYYY-MM-DD`.
    pub stage_meeting_on: Option<String>,
    /// The caller has not confirmed the case's Marac's confidentiality statement (in the
    /// service): the case is found, but its victim's name, date of birth and postcode are
    /// left empty until they do.
    pub statement_needed: bool,
}

/// A page of cases found, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    /// Cases found in all.
    pub total: u64,
    /// This page.
    pub page: u32,
    /// Pages in all.
    pub pages: u32,
    /// This page's cases.
    pub cases: Vec<SearchHit>,
}

/// Searches the cases the caller may see.
#[utoipa::path(
    post,
    path = "/search",
    tag = "cases",
    request_body = SearchRequest,
    responses(
        (status = 200, description = "Cases found, newest first", body = SearchResults),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's roles read no cases", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing that can be searched for", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn find(
    State(state): State<AppState>,
    caller: ApiUser,
    body: Result<Json<SearchRequest>, JsonRejection>,
) -> Result<Json<SearchResults>, Problem> {
    let Json(asked) = body.map_err(|e| Problem::bad_request(&e.body_text()))?;
    let terms = read(&asked.q)
        .map_err(|p| Problem::invalid(vec![FieldProblem { pointer: "/q".into(), detail: p.message().into() }]))?;
    let page = PageRequest { number: asked.page.unwrap_or(1).max(1), ..PageRequest::default() };
    let found = search::find(&state, &caller.actor(), &terms, page).await?;
    let cases: Vec<i64> = found.rows.iter().map(|h| h.case_id).collect();
    let detail = serde_json::json!({
        "results": found.total,
        "terms": search::terms_hash(&state, &asked.q),
        "cases": cases,
        "page": page.number,
    });
    state.store.append_audit(caller.event(&state, "search", "search:api", detail)).await?;
    let pages = found.pages();
    Ok(Json(SearchResults {
        total: found.total,
        page: page.number,
        pages,
        cases: found
            .rows
            .into_iter()
            .map(|h| SearchHit {
                case_id: h.case_id,
                reference: h.reference,
                victim: h.victim,
                date_of_birth: h.born.map(|d| d.to_string()),
                postcode: h.postcode,
                stage: h.stage.map(|s| s.code().to_owned()),
                stage_meeting_on: h.stage_meeting_on.map(|d| d.to_string()),
                statement_needed: h.statement_needed,
            })
            .collect(),
    }))
}
