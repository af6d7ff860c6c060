//! Agencies: who they are, their SafeLives category, the Maracs they attend and their
//! representatives.

use super::{Choice, conflict_to_field, partnership_choices};
use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{Agency, AgencyInput};
use marac_domain::fields::{Code, required_text};
use marac_domain::policy::Action;
use marac_domain::{AgencyCategory, Role};

struct Row {
    agency: Agency,
    category: &'static str,
    maracs: String,
    representatives: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/agencies.html")]
struct ListPage {
    ctx: PageContext,
    rows: Vec<Row>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/agency_form.html")]
struct FormPage {
    ctx: PageContext,
    id: Option<i64>,
    form: FormData,
    partnerships: Vec<Choice>,
    categories: Vec<Choice>,
    maracs: Vec<Choice>,
    representatives: Vec<String>,
    errors: Errors,
}

/// `GET /admin/agencies`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn list(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/agencies").await?;
    let maracs = state.store.list_maracs().await?;
    let users = state.store.list_users().await?;
    let rows = state
        .store
        .list_agencies()
        .await?
        .into_iter()
        .map(|a| Row {
            category: a.category.label(),
            maracs: maracs
                .iter()
                .filter(|m| a.marac_ids.contains(&m.id))
                .map(|m| m.code.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            representatives: users
                .iter()
                .filter(|u| u.agency_id == Some(a.id) && !u.disabled && u.has_role(Role::AgencyRep))
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            agency: a,
        })
        .collect();
    Ok(ListPage { ctx: PageContext::new(&state, &me.visitor, "Agencies", "/admin"), rows }.into_response())
}

fn fields_of(a: &Agency) -> FormData {
    let mut pairs = vec![
        ("partnership".to_owned(), a.partnership_id.to_string()),
        ("code".to_owned(), a.code.clone()),
        ("name".to_owned(), a.name.clone()),
        ("category".to_owned(), a.category.code().to_owned()),
    ];
    pairs.extend(a.marac_ids.iter().map(|m| ("marac".to_owned(), m.to_string())));
    FormData(pairs)
}

async fn form_page(
    state: &AppState,
    me: &Signed,
    id: Option<i64>,
    form: FormData,
    errors: Errors,
) -> Result<FormPage, AppError> {
    let partnerships = partnership_choices(state, &form).await?;
    let categories = AgencyCategory::ALL
        .iter()
        .map(|c| Choice::new(c.code(), c.label(), form.get("category") == c.code()))
        .collect();
    let maracs = state
        .store
        .list_maracs()
        .await?
        .into_iter()
        .map(|m| Choice::new(m.id, format!("{} ({})", m.name, m.code), form.has("marac", &m.id.to_string())))
        .collect();
    let representatives = match id {
        Some(id) => state
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| u.agency_id == Some(id) && u.has_role(Role::AgencyRep))
            .map(|u| format!("{} ({})", u.name, u.email))
            .collect(),
        None => Vec::new(),
    };
    let title = if id.is_some() { "Change agency" } else { "Add an agency" };
    Ok(FormPage {
        ctx: PageContext::new(state, &me.visitor, title, "/admin"),
        id,
        form,
        partnerships,
        categories,
        maracs,
        representatives,
        errors,
    })
}

/// `GET /admin/agencies/new`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn new_form(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/agencies").await?;
    Ok(form_page(&state, &me, None, FormData::default(), Errors::default()).await?.into_response())
}

/// `GET /admin/agencies/{id}`.
///
/// # Errors
/// Refused to everyone but administrators; 404 for no such agency.
pub async fn edit_form(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/agencies").await?;
    let a = state.store.get_agency(id).await?;
    Ok(form_page(&state, &me, Some(id), fields_of(&a), Errors::default()).await?.into_response())
}

async fn save(state: AppState, me: Signed, id: Option<i64>, form: FormData) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/agencies").await?;
    if let Some(id) = id {
        state.store.get_agency(id).await?;
    }
    let mut errors = Errors::default();
    let partnerships: Vec<i64> = state.store.list_partnerships().await?.iter().map(|p| p.id).collect();
    let marac_ids: Vec<i64> = state.store.list_maracs().await?.iter().map(|m| m.id).collect();
    let partnership = form.get("partnership").parse::<i64>().ok().filter(|p| partnerships.contains(p));
    if partnership.is_none() {
        errors.add("partnership", "Select the partnership the agency belongs to");
    }
    let code = errors.take("code", Code::parse(form.get("code")));
    let name = errors.take("name", required_text(form.get("name"), "the agency's name", 200));
    let category = form.get("category").parse::<AgencyCategory>().ok();
    if category.is_none() {
        errors.add("category", "Select the kind of agency");
    }
    let chosen: Vec<i64> =
        form.all("marac").iter().filter_map(|m| m.parse().ok()).filter(|m| marac_ids.contains(m)).collect();
    if let (Some(partnership_id), Some(code), Some(name), Some(category), true) =
        (partnership, code, name, category, errors.is_empty())
    {
        let input = AgencyInput { partnership_id, code: code.to_string(), name, category, marac_ids: chosen };
        let detail =
            serde_json::json!({ "code": input.code, "category": input.category.code(), "maracs": input.marac_ids });
        let result = match id {
            Some(id) => {
                let event = me.audit(&state, "agency.update", &format!("agency:{id}"), detail);
                state.store.update_agency(id, &input, event).await.map(|()| id)
            }
            None => state.store.create_agency(&input, me.audit(&state, "agency.create", "", detail)).await,
        };
        if conflict_to_field(result, &mut errors, &[("agencies.code", "code", "An agency already has that code")])?
            .is_some()
        {
            return Ok(Redirect::to("/admin/agencies").into_response());
        }
    }
    Ok(form_page(&state, &me, id, form, errors).await?.into_response())
}

/// `POST /admin/agencies/new`.
///
/// # Errors
/// Refused to everyone but administrators; database failures.
pub async fn create(State(state): State<AppState>, me: Signed, form: FormData) -> Result<Response, AppError> {
    save(state, me, None, form).await
}

/// `POST /admin/agencies/{id}`.
///
/// # Errors
/// Refused to everyone but administrators; database failures.
pub async fn update(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    save(state, me, Some(id), form).await
}
