//! The agency directory: each Marac's coordinator contact and each agency's representatives
//! and deputies, so a referrer can find theirs.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::routes::admin::Choice;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{DirectoryEntry, DirectoryKind, Ts};
use marac_domain::fields::{Email, required_text};
use marac_domain::policy::{Action, authorise};

/// One Marac's contacts.
pub struct MaracContacts {
    /// Name.
    pub name: String,
    /// Coordinator contacts.
    pub coordinators: Vec<DirectoryEntry>,
    /// Agencies and their people.
    pub agencies: Vec<(String, Vec<DirectoryEntry>)>,
    /// Whether the viewer keeps this Marac's entries.
    pub can_manage: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "directory.html")]
struct DirectoryPage {
    ctx: PageContext,
    maracs: Vec<MaracContacts>,
    manageable: Vec<Choice>,
    agencies: Vec<Choice>,
    kinds: Vec<Choice>,
    form: FormData,
    errors: Errors,
}

async fn page(state: &AppState, me: &Signed, form: FormData, errors: Errors) -> Result<Response, AppError> {
    let actor = me.actor();
    let entries = state.store.list_directory().await?;
    let agencies = state.store.list_agencies().await?;
    let all = state.store.list_maracs().await?;
    let maracs = all
        .iter()
        .map(|m| MaracContacts {
            name: m.name.clone(),
            coordinators: entries.iter().filter(|e| e.marac_id == m.id && e.agency_id.is_none()).cloned().collect(),
            agencies: agencies
                .iter()
                .filter(|a| a.marac_ids.contains(&m.id))
                .map(|a| {
                    (
                        a.name.clone(),
                        entries.iter().filter(|e| e.marac_id == m.id && e.agency_id == Some(a.id)).cloned().collect(),
                    )
                })
                .collect(),
            can_manage: authorise(&actor, Action::ManageDirectory { marac_id: m.id }).is_ok(),
        })
        .collect();
    let manageable = all
        .iter()
        .filter(|m| authorise(&actor, Action::ManageDirectory { marac_id: m.id }).is_ok())
        .map(|m| Choice::new(m.id, m.name.clone(), form.get("marac") == m.id.to_string()))
        .collect();
    Ok(DirectoryPage {
        ctx: PageContext::new(state, &me.visitor, "Agency directory", "/directory"),
        maracs,
        manageable,
        agencies: agencies
            .iter()
            .map(|a| Choice::new(a.id, a.name.clone(), form.get("agency") == a.id.to_string()))
            .collect(),
        kinds: DirectoryKind::ALL
            .iter()
            .map(|k| Choice::new(k.code(), k.label(), form.get("kind") == k.code()))
            .collect(),
        form,
        errors,
    }
    .into_response())
}

/// `GET /directory`.
///
/// # Errors
/// Refused to anyone holding no role.
pub async fn show(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ReadDirectory, "directory").await?;
    page(&state, &me, FormData::default(), Errors::default()).await
}

/// `POST /directory`: adds a contact.
///
/// # Errors
/// Refused to anyone but the Marac's coordinators and administrators.
pub async fn add(State(state): State<AppState>, me: Signed, form: FormData) -> Result<Response, AppError> {
    let marac_id = form.get("marac").parse::<i64>().unwrap_or(0);
    let mut errors = Errors::default();
    if state.store.list_maracs().await?.iter().all(|m| m.id != marac_id) {
        me.authorise(&state, Action::ReadDirectory, "directory").await?;
        errors.add("marac", "Select the Marac");
    } else {
        me.authorise(&state, Action::ManageDirectory { marac_id }, "directory").await?;
    }
    let kind = DirectoryKind::from_code(form.get("kind"));
    if kind.is_none() {
        errors.add("kind", "Select coordinator, representative or deputy");
    }
    let agency_id = form.get("agency").parse::<i64>().ok();
    if kind.is_some_and(|k| k != DirectoryKind::Coordinator) && agency_id.is_none() {
        errors.add("agency", "Select the agency they represent");
    }
    let name = errors.take("name", required_text(form.get("name"), "their name", 200));
    let job_title = form.get("job_title").trim().chars().take(200).collect::<String>();
    let email = errors.take("email", Email::parse(form.get("email")));
    let phone = form.get("phone").trim().chars().take(50).collect::<String>();
    if let (Some(kind), Some(name), Some(email), true) = (kind, name, email, errors.is_empty()) {
        let entry = DirectoryEntry {
            id: 0,
            marac_id,
            agency_id: if kind == DirectoryKind::Coordinator { None } else { agency_id },
            kind,
            name,
            job_title,
            email: email.to_string(),
            phone,
        };
        let event =
            me.audit(&state, "directory.add", "", serde_json::json!({ "marac": marac_id, "kind": kind.code() }));
        state.store.add_directory_entry(&entry, Ts::new(state.clock.now()), event).await?;
        return Ok(Redirect::to("/directory").into_response());
    }
    page(&state, &me, form, errors).await
}

/// `POST /directory/{id}/remove`.
///
/// # Errors
/// Refused to anyone but the Marac's coordinators and administrators.
pub async fn remove(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let entry = state.store.list_directory().await?.into_iter().find(|e| e.id == id).ok_or(AppError::NotFound)?;
    me.authorise(&state, Action::ManageDirectory { marac_id: entry.marac_id }, &format!("directory_entry:{id}"))
        .await?;
    let event = me.audit(&state, "directory.remove", &format!("directory_entry:{id}"), serde_json::json!({}));
    state.store.remove_directory_entry(id, event).await?;
    Ok(Redirect::to("/directory").into_response())
}
