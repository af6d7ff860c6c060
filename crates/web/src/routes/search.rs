//! Finding a case: the search box in every page's header posts the words typed (never in an
//! address), the search is kept for the session under an opaque id, and its results live at
//! `/search/{id}`, a page at a time. Every search is audited with how many cases it found and a
//! keyed hash of its words; every page of results with the cases it showed.

use crate::AppState;
use crate::error::AppError;
use crate::forms::FormData;
use crate::page::PageContext;
use crate::paging::Pagination;
use crate::routes::research::stage_line;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::search;
use marac_app::store::{SavedSearch, StoreError, Ts};
use marac_domain::paging::{Page, PageRequest};
use marac_domain::search::read;

/// A case found, as the results list it.
pub struct HitView {
    /// Its page.
    pub href: String,
    /// The victim's name.
    pub victim: String,
    /// Date of birth.
    pub born: String,
    /// Postcode.
    pub postcode: String,
    /// Reference.
    pub reference: String,
    /// Marac.
    pub marac: String,
    /// Where it stands.
    pub stage: String,
    /// Where to confirm the Marac's statement first, when the searcher has not: the case is
    /// listed, but nothing about its people.
    pub confirm: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
struct SearchPage {
    ctx: PageContext,
    typed: String,
    error: Option<&'static str>,
    searched: bool,
    hits: Vec<HitView>,
    pagination: Pagination,
}

/// The audit trail names a search by the start of its id: enough to tell searches apart, not
/// enough to open one.
fn audit_target(id: &str) -> String {
    format!("search:{}", id.chars().take(8).collect::<String>())
}

fn empty_page() -> Pagination {
    Pagination::new(&Page::<()> { rows: Vec::new(), total: 0, request: PageRequest::default() }, "/search", &[])
}

/// `GET /search`: the search box on a page of its own.
///
/// # Errors
/// Refused to those who see no cases.
pub async fn form(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    Ok(SearchPage {
        ctx: PageContext::new(&state, &me.visitor, "Search for a case", "/search"),
        typed: String::new(),
        error: None,
        searched: false,
        hits: Vec::new(),
        pagination: empty_page(),
    }
    .into_response())
}

/// `POST /search`: reads the words, keeps the search for this session and shows its results at
/// their own address. Words that cannot be searched for come back with the message beside them.
///
/// # Errors
/// Store failures; refused to those who see no cases.
pub async fn submit(State(state): State<AppState>, me: Signed, form: FormData) -> Result<Response, AppError> {
    let typed = form.get("q").trim().to_owned();
    let terms = match read(&typed) {
        Ok(terms) => terms,
        Err(problem) => {
            return Ok(SearchPage {
                ctx: PageContext::new(&state, &me.visitor, "Search for a case", "/search"),
                typed,
                error: Some(problem.message()),
                searched: false,
                hits: Vec::new(),
                pagination: empty_page(),
            }
            .into_response());
        }
    };
    // Counted here for the audit trail; the results page finds and shows them.
    let found = search::count(&state, &me.actor(), &terms).await?;
    let id = marac_app::crypto::random_token().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let saved = SavedSearch {
        id: id.clone(),
        session_id: me.session.id.clone(),
        user_id: me.user.id,
        terms_sealed: casework::seal(&state, Purpose::Search, &typed)?,
        created_at: Ts::new(state.clock.now()),
    };
    state.store.save_search(&saved).await?;
    let detail = serde_json::json!({ "results": found, "terms": search::terms_hash(&state, &typed) });
    state.store.append_audit(me.audit(&state, "search", &audit_target(&id), detail)).await?;
    Ok(Redirect::to(&format!("/search/{id}")).into_response())
}

/// `GET /search/{id}`: a page of a search's results, for the session that made it only.
///
/// # Errors
/// Not found for another session's search or one that has ended; store failures.
pub async fn results(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<String>,
    Query(q): Query<crate::paging::PageQuery>,
) -> Result<Response, AppError> {
    let saved = match state.store.get_search(&id).await {
        Ok(s) if s.session_id == me.session.id && s.user_id == me.user.id => s,
        Ok(_) | Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let typed: String = casework::open(&state, Purpose::Search, &saved.terms_sealed)?;
    let terms = read(&typed).map_err(|_| AppError::NotFound)?;
    let page = search::find(&state, &me.actor(), &terms, q.request()).await?;
    let maracs = state.store.list_maracs().await?;
    let cases: Vec<i64> = page.rows.iter().map(|h| h.case_id).collect();
    if !cases.is_empty() {
        let detail = serde_json::json!({ "cases": cases, "page": page.request.number });
        state.store.append_audit(me.audit(&state, "search.view", &audit_target(&saved.id), detail)).await?;
    }
    let pagination = Pagination::new(&page, &format!("/search/{id}"), &[]);
    let hits = page
        .rows
        .into_iter()
        .map(|h| HitView {
            href: format!("/cases/{}", h.case_id),
            confirm: h.statement_needed.then(|| format!("/confidentiality/{}?next=/cases/{}", h.marac_id, h.case_id)),
            victim: h.victim,
            born: h.born.map(crate::routes::display_date).unwrap_or_default(),
            postcode: h.postcode,
            reference: h.reference,
            marac: maracs.iter().find(|m| m.id == h.marac_id).map(|m| m.code.clone()).unwrap_or_default(),
            stage: stage_line(h.stage, h.stage_meeting_on),
        })
        .collect();
    Ok(SearchPage {
        ctx: PageContext::new(&state, &me.visitor, "Search results", "/search"),
        typed,
        error: None,
        searched: true,
        hits,
        pagination,
    }
    .into_response())
}
