//! A person at the centre: a victim's cases the reader may see, and everything that happened
//! in them on one chronology, newest first.

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::paging::{PageQuery, Pagination};
use crate::routes::chronology::{EntryView, Words};
use crate::routes::research::{PersonView, stage_line};
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::chronology::{self, Reader};
use marac_app::store::{CaseFilter, CaseOrder, StoreError};
use marac_domain::paging::{Page, PageRequest};
use marac_domain::policy::{self, Action, authorise};
use marac_domain::referral_form::{self as form, FormMap};

/// A case of the person's, as the page lists them.
pub struct PersonCase {
    /// Its page.
    pub href: String,
    /// Its latest referral's reference.
    pub reference: String,
    /// The Marac holding it.
    pub marac: String,
    /// Where it stands.
    pub stage: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "people/person.html")]
struct PersonPage {
    ctx: PageContext,
    name: String,
    details: Option<PersonView>,
    cases: Vec<PersonCase>,
    to_confirm: Vec<(String, String, &'static str)>,
    chronology: Vec<EntryView>,
    pagination: Pagination,
}

/// Cases one person is the victim of: more than this is not one person's history.
const MOST_CASES: u32 = 100;

/// `GET /people/{id}`: the victim's cases the reader may see, with their chronology.
///
/// # Errors
/// Not found when the reader may see none of the person's cases (recorded as a refusal), or
/// no such person.
pub async fn show(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let person = match state.store.get_person(id).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    // A record merged into another is that person: one page, one address.
    if let Some(into) = person.merged_into {
        return Ok(Redirect::to(&format!("/people/{into}")).into_response());
    }
    let actor = me.actor();
    let maracs = state.store.list_maracs().await?;
    let all: Vec<i64> = maracs.iter().map(|m| m.id).collect();
    let found = state
        .store
        .list_cases(&CaseFilter {
            scope: policy::CaseScope::of(&actor, &all),
            victim_person_ids: Some(vec![id]),
            order: CaseOrder::Newest,
            page: PageRequest { number: 1, size: MOST_CASES },
            ..CaseFilter::default()
        })
        .await?;
    let mut cases = Vec::new();
    let mut readers = Vec::new();
    let mut refs = std::collections::HashMap::new();
    let mut to_confirm = Vec::new();
    let mut details = None;
    let mut name = String::new();
    for row in &found.rows {
        // The database filtered by the same rule; each case is still asked of the policy, and
        // of the confidentiality statement of the Marac it is seen through.
        let access = state.store.case_access(row.case_id).await?;
        let Ok(basis) = authorise(&actor, Action::ReadCase(&access)) else { continue };
        if let Some((marac_id, standing)) =
            casework::statement_needed(&state, &actor, &Action::ReadCase(&access), basis).await?
        {
            let marac = maracs.iter().find(|m| m.id == marac_id).map(|m| m.name.clone()).unwrap_or_default();
            let href = format!("/confidentiality/{marac_id}?next=/people/{id}");
            if !to_confirm.iter().any(|(_, h, _)| *h == href) {
                to_confirm.push((marac, href, standing.reason()));
            }
            continue;
        }
        if details.is_none() {
            let map: FormMap = casework::open(&state, Purpose::Form, &row.form_sealed)?;
            let people = form::people_named(&map);
            details = people.first().map(PersonView::of);
            name = casework::victim_name(&map);
        }
        refs.insert(row.case_id, row.reference.clone());
        readers.push((row.case_id, Reader { agency_id: me.user.agency_id, limit: access.history_limit(&actor) }));
        cases.push(PersonCase {
            href: format!("/cases/{}", row.case_id),
            reference: row.reference.clone(),
            marac: maracs.iter().find(|m| m.id == row.marac_id).map(|m| m.name.clone()).unwrap_or_default(),
            stage: stage_line(row.stage, row.stage_meeting.map(|(_, d)| d)),
        });
    }
    if cases.is_empty() && to_confirm.is_empty() {
        // Whether the person exists is not the reader's to know.
        let refused = me.refuse(&state, &format!("person:{id}"), "no case of this person is the reader's to see").await;
        return Err(match refused {
            AppError::Forbidden(_) => AppError::NotFound,
            other => other,
        });
    }
    let ids: Vec<i64> = readers.iter().map(|(c, _)| *c).collect();
    let event = me.audit(&state, "person.view", &format!("person:{id}"), serde_json::json!({ "cases": ids }));
    state.store.append_audit(event).await?;
    let entries = chronology::of_cases(&state, &readers).await?;
    let entries = Page::of_list(entries, q.request());
    let agencies = state.store.list_agencies().await?;
    // Each entry names its case only when there is more than one.
    let no_refs = std::collections::HashMap::new();
    let words = Words {
        actor: &actor,
        agencies: &agencies,
        maracs: &maracs,
        case_refs: if cases.len() > 1 { &refs } else { &no_refs },
    };
    let chronology = crate::routes::chronology::views(&state, &entries.rows, &words).await?;
    let pagination = Pagination::new(&entries, &format!("/people/{id}"), &[]);
    Ok(PersonPage {
        // The title names no one: titles stay in browser history and window lists.
        ctx: PageContext::new(&state, &me.visitor, "A person's cases and chronology", "/search"),
        name: if name.is_empty() { "Cases to confirm".to_owned() } else { name },
        details,
        cases,
        to_confirm,
        chronology,
        pagination,
    }
    .into_response())
}
