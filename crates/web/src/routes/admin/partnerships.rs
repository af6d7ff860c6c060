//! Partnerships: the domestic abuse partnerships that run Maracs.

use super::conflict_to_field;
use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{Partnership, PartnershipInput};
use marac_domain::fields::{Code, required_text};
use marac_domain::policy::Action;

#[derive(Template, WebTemplate)]
#[template(path = "admin/partnerships.html")]
struct ListPage {
    ctx: PageContext,
    partnerships: Vec<Partnership>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/partnership_form.html")]
struct FormPage {
    ctx: PageContext,
    code: String,
    name: String,
    errors: Errors,
}

/// `GET /admin/partnerships`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn list(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/partnerships").await?;
    Ok(ListPage {
        ctx: PageContext::new(&state, &me.visitor, "Partnerships", "/admin"),
        partnerships: state.store.list_partnerships().await?,
    }
    .into_response())
}

fn form_page(state: &AppState, me: &Signed, id: Option<i64>, code: &str, name: &str, errors: Errors) -> FormPage {
    let title = if id.is_some() { "Change partnership" } else { "Add a partnership" };
    FormPage {
        ctx: PageContext::new(state, &me.visitor, title, "/admin"),
        code: code.into(),
        name: name.into(),
        errors,
    }
}

/// `GET /admin/partnerships/new`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn new_form(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/partnerships").await?;
    Ok(form_page(&state, &me, None, "", "", Errors::default()).into_response())
}

/// `GET /admin/partnerships/{id}`.
///
/// # Errors
/// Refused to everyone but administrators; 404 for no such partnership.
pub async fn edit_form(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/partnerships").await?;
    let p = state.store.get_partnership(id).await?;
    Ok(form_page(&state, &me, Some(id), &p.code, &p.name, Errors::default()).into_response())
}

fn parse(form: &FormData, errors: &mut Errors, is_demo: bool) -> Option<PartnershipInput> {
    let code = errors.take("code", Code::parse(form.get("code")));
    let name = errors.take("name", required_text(form.get("name"), "the partnership's name", 200));
    Some(PartnershipInput { code: code?.to_string(), name: name?, is_demo })
}

async fn save(state: AppState, me: Signed, id: Option<i64>, form: FormData) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/partnerships").await?;
    let mut errors = Errors::default();
    let is_demo = match id {
        Some(id) => state.store.get_partnership(id).await?.is_demo,
        // Everything added to a demo installation is demo data too, so the two never mix.
        None => state.config.demo,
    };
    if let Some(input) = parse(&form, &mut errors, is_demo).filter(|_| errors.is_empty()) {
        let detail = serde_json::json!({ "code": input.code, "name": input.name });
        let result = match id {
            Some(id) => {
                let event = me.audit(&state, "partnership.update", &format!("partnership:{id}"), detail);
                state.store.update_partnership(id, &input, event).await.map(|()| id)
            }
            None => state.store.create_partnership(&input, me.audit(&state, "partnership.create", "", detail)).await,
        };
        if conflict_to_field(
            result,
            &mut errors,
            &[("partnerships.code", "code", "A partnership already has that code")],
        )?
        .is_some()
        {
            return Ok(Redirect::to("/admin/partnerships").into_response());
        }
    }
    Ok(form_page(&state, &me, id, form.get("code"), form.get("name"), errors).into_response())
}

/// `POST /admin/partnerships/new`.
///
/// # Errors
/// Refused to everyone but administrators; database failures.
pub async fn create(State(state): State<AppState>, me: Signed, form: FormData) -> Result<Response, AppError> {
    save(state, me, None, form).await
}

/// `POST /admin/partnerships/{id}`.
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
