//! Administration: partnerships, Maracs, agencies and users. Administrators only; none of
//! these pages shows case content.

pub mod agencies;
pub mod maracs;
pub mod partnerships;
pub mod users;

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use marac_domain::policy::Action;

/// One option of a select, radio group or checkbox group.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Submitted value.
    pub value: String,
    /// Shown text.
    pub label: String,
    /// Chosen.
    pub selected: bool,
}

impl Choice {
    pub(crate) fn new(value: impl ToString, label: impl Into<String>, selected: bool) -> Self {
        Choice { value: value.to_string(), label: label.into(), selected }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/index.html")]
struct IndexPage {
    ctx: PageContext,
    partnerships: usize,
    maracs: usize,
    agencies: usize,
    users: usize,
}

/// `GET /admin`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn index(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin").await?;
    Ok(IndexPage {
        ctx: PageContext::new(&state, &me.visitor, "Administration", "/admin"),
        partnerships: state.store.list_partnerships().await?.len(),
        maracs: state.store.list_maracs().await?.len(),
        agencies: state.store.list_agencies().await?.len(),
        users: state.store.list_users().await?.len(),
    }
    .into_response())
}

/// The partnerships as choices, with the one the form names selected.
async fn partnership_choices(state: &AppState, form: &crate::forms::FormData) -> Result<Vec<Choice>, AppError> {
    Ok(state
        .store
        .list_partnerships()
        .await?
        .into_iter()
        .map(|p| Choice::new(p.id, p.name, form.get("partnership") == p.id.to_string()))
        .collect())
}

/// Puts a clash on a unique column against the field it came from, or passes other errors on.
fn conflict_to_field(
    result: Result<i64, marac_app::store::StoreError>,
    errors: &mut crate::forms::Errors,
    fields: &[(&str, &str, &str)],
) -> Result<Option<i64>, AppError> {
    match result {
        Ok(id) => Ok(Some(id)),
        Err(marac_app::store::StoreError::Conflict { constraint }) => {
            let (field, message) = fields
                .iter()
                .find(|(c, _, _)| *c == constraint)
                .map_or(("code", "That is already in use"), |(_, f, m)| (*f, *m));
            errors.add(field, message);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
