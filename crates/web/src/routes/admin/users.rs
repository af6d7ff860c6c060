//! User accounts: who they are, their agency, their roles per Marac; disabling.

use super::{Choice, conflict_to_field};
use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{NewUser, User, UserChanges};
use marac_domain::Role;
use marac_domain::fields::{Email, required_text};
use marac_domain::password_policy;
use marac_domain::policy::{Action, Grant};

struct Row {
    user: User,
    agency: String,
    roles: String,
    /// Holds the administrator role with roles that read cases: to be resolved by hand.
    mixed: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct ListPage {
    ctx: PageContext,
    rows: Vec<Row>,
    mixed: usize,
}

/// Accounts holding the administrator role together with roles that read cases, which
/// [`marac_domain::policy::separate_duties`] no longer allows: left as they are, for an
/// administrator to resolve, and named at start-up and on the users page until then.
#[must_use]
pub fn mixed_duties(users: &[User]) -> Vec<&User> {
    users.iter().filter(|u| marac_domain::policy::separate_duties(&u.grants).is_err()).collect()
}

/// The checkboxes for one Marac's roles.
struct MaracRoles {
    id: String,
    name: String,
    roles: Vec<Choice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user_form.html")]
struct FormPage {
    ctx: PageContext,
    id: Option<i64>,
    form: FormData,
    agencies: Vec<Choice>,
    installation_roles: Vec<Choice>,
    marac_roles: Vec<MaracRoles>,
    disabled: bool,
    is_self: bool,
    errors: Errors,
}

/// The value a grant's checkbox submits: `coordinator:3`, or `admin:` for installation roles.
fn grant_value(g: &Grant) -> String {
    format!("{}:{}", g.role.code(), g.marac_id.map(|m| m.to_string()).unwrap_or_default())
}

fn parse_grant(value: &str, marac_ids: &[i64]) -> Option<Grant> {
    let (role, marac) = value.split_once(':')?;
    let role: Role = role.parse().ok()?;
    let marac_id =
        if marac.is_empty() { None } else { Some(marac.parse::<i64>().ok().filter(|m| marac_ids.contains(m))?) };
    (role.is_per_marac() == marac_id.is_some()).then_some(Grant { role, marac_id })
}

/// `GET /admin/users`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn list(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageUsers, "admin/users").await?;
    let agencies = state.store.list_agencies().await?;
    let maracs = state.store.list_maracs().await?;
    let rows = state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| Row {
            agency: u
                .agency_id
                .and_then(|a| agencies.iter().find(|x| x.id == a))
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            roles: u
                .grants
                .iter()
                .map(|g| match g.marac_id.and_then(|m| maracs.iter().find(|x| x.id == m)) {
                    Some(m) => format!("{} ({})", g.role.label(), m.code),
                    None => g.role.label().to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            mixed: marac_domain::policy::separate_duties(&u.grants).is_err(),
            user: u,
        })
        .collect::<Vec<Row>>();
    let mixed = rows.iter().filter(|r| r.mixed).count();
    Ok(ListPage { ctx: PageContext::new(&state, &me.visitor, "Users", "/admin"), rows, mixed }.into_response())
}

fn fields_of(u: &User) -> FormData {
    let mut pairs = vec![
        ("email".to_owned(), u.email.clone()),
        ("name".to_owned(), u.name.clone()),
        ("agency".to_owned(), u.agency_id.map(|a| a.to_string()).unwrap_or_default()),
    ];
    pairs.extend(u.grants.iter().map(|g| ("grant".to_owned(), grant_value(g))));
    FormData(pairs)
}

async fn form_page(
    state: &AppState,
    me: &Signed,
    id: Option<i64>,
    form: FormData,
    errors: Errors,
) -> Result<FormPage, AppError> {
    let agencies = state
        .store
        .list_agencies()
        .await?
        .into_iter()
        .map(|a| Choice::new(a.id, a.name, form.get("agency") == a.id.to_string()))
        .collect();
    let installation_roles = Role::ALL
        .iter()
        .filter(|r| !r.is_per_marac())
        .map(|r| {
            let value = grant_value(&Grant { role: *r, marac_id: None });
            Choice::new(&value, r.label(), form.has("grant", &value))
        })
        .collect();
    let marac_roles = state
        .store
        .list_maracs()
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, m)| MaracRoles {
            id: format!("grant-marac-{}", i + 1),
            roles: Role::ALL
                .iter()
                .filter(|r| r.is_per_marac())
                .map(|r| {
                    let value = grant_value(&Grant { role: *r, marac_id: Some(m.id) });
                    Choice::new(&value, r.label(), form.has("grant", &value))
                })
                .collect(),
            name: m.name,
        })
        .collect();
    let disabled = match id {
        Some(id) => state.store.get_user(id).await?.disabled,
        None => false,
    };
    let title = if id.is_some() { "Change user" } else { "Add a user" };
    Ok(FormPage {
        ctx: PageContext::new(state, &me.visitor, title, "/admin"),
        id,
        form,
        agencies,
        installation_roles,
        marac_roles,
        disabled,
        is_self: id == Some(me.user.id),
        errors,
    })
}

/// `GET /admin/users/new`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn new_form(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageUsers, "admin/users").await?;
    Ok(form_page(&state, &me, None, FormData::default(), Errors::default()).await?.into_response())
}

/// `GET /admin/users/{id}`.
///
/// # Errors
/// Refused to everyone but administrators; 404 for no such user.
pub async fn edit_form(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageUsers, "admin/users").await?;
    let u = state.store.get_user(id).await?;
    Ok(form_page(&state, &me, Some(id), fields_of(&u), Errors::default()).await?.into_response())
}

struct Parsed {
    email: Option<Email>,
    name: Option<String>,
    agency_id: Option<i64>,
    grants: Vec<Grant>,
}

async fn parse(state: &AppState, form: &FormData, errors: &mut Errors) -> Result<Parsed, AppError> {
    let agencies: Vec<i64> = state.store.list_agencies().await?.iter().map(|a| a.id).collect();
    let marac_ids: Vec<i64> = state.store.list_maracs().await?.iter().map(|m| m.id).collect();
    let email = errors.take("email", Email::parse(form.get("email")));
    let name = errors.take("name", required_text(form.get("name"), "the person's full name", 200));
    let agency_id = match form.get("agency") {
        "" => None,
        raw => match raw.parse::<i64>().ok().filter(|a| agencies.contains(a)) {
            Some(a) => Some(a),
            None => {
                errors.add("agency", "Select an agency from the list");
                None
            }
        },
    };
    let grants: Vec<Grant> = form.all("grant").iter().filter_map(|v| parse_grant(v, &marac_ids)).collect();
    if grants.is_empty() {
        errors.add("grant", "Select at least one role");
    } else if let Err(m) = marac_domain::policy::separate_duties(&grants) {
        errors.add("grant", m);
    } else if agency_id.is_none() && grants.iter().any(|g| g.role.needs_agency()) && errors.get("agency").is_none() {
        errors.add("agency", "Select the person's agency: their Marac roles need one");
    }
    Ok(Parsed { email, name, agency_id, grants })
}

/// `POST /admin/users/new`.
///
/// # Errors
/// Refused to everyone but administrators; database failures.
pub async fn create(State(state): State<AppState>, me: Signed, form: FormData) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageUsers, "admin/users").await?;
    let mut errors = Errors::default();
    let p = parse(&state, &form, &mut errors).await?;
    let password = form.get("password");
    if let Err(m) = password_policy::check(password, form.get("email")) {
        errors.add("password", m);
    }
    errors.in_page_order(&["email", "name", "agency", "password", "grant"]);
    if let (Some(email), Some(name), true) = (p.email, p.name, errors.is_empty()) {
        let password_hash =
            state.passwords.hash(password.to_owned()).await.map_err(|e| AppError::Internal(e.into()))?;
        let detail = serde_json::json!({ "email": email.as_str(), "grants": p.grants });
        let user = NewUser {
            email: email.to_string(),
            name,
            agency_id: p.agency_id,
            password_hash,
            is_demo: false,
            grants: p.grants,
        };
        let result = state.store.create_user(&user, me.audit(&state, "user.create", "", detail)).await;
        if conflict_to_field(result, &mut errors, &[("users.email", "email", "A user already has that email address")])?
            .is_some()
        {
            return Ok(Redirect::to("/admin/users").into_response());
        }
    }
    // The password is never sent back to the page.
    let kept = FormData(form.0.into_iter().filter(|(k, _)| k != "password").collect());
    Ok(form_page(&state, &me, None, kept, errors).await?.into_response())
}

/// `POST /admin/users/{id}`: name, agency and roles. The e-mail address is the sign-in name
/// and is not changed here.
///
/// # Errors
/// Refused to everyone but administrators; 404 for no such user; database failures.
pub async fn update(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageUsers, "admin/users").await?;
    let existing = state.store.get_user(id).await?;
    let mut form = form;
    form.0.retain(|(k, _)| k != "email");
    form.0.push(("email".to_owned(), existing.email.clone()));
    let mut errors = Errors::default();
    let p = parse(&state, &form, &mut errors).await?;
    let changed = !marac_domain::policy::same_grants(&existing.grants, &p.grants);
    // No one changes their own roles: another administrator must.
    if id == me.user.id && changed {
        errors.0.retain(|(field, _)| field != "grant");
        errors.add("grant", "You cannot change your own roles: ask another administrator");
    }
    if let (Some(name), true) = (p.name, errors.is_empty()) {
        let detail = serde_json::json!({ "before": existing.grants, "after": p.grants, "agency": p.agency_id });
        let event = me.audit(&state, "user.update", &format!("user:{id}"), detail);
        let changes = UserChanges { name, agency_id: p.agency_id, grants: p.grants };
        marac_app::workflows::accounts::update_user(&state, &existing, &changes, event).await?;
        return Ok(Redirect::to("/admin/users").into_response());
    }
    Ok(form_page(&state, &me, Some(id), form, errors).await?.into_response())
}

async fn set_disabled(state: AppState, me: Signed, id: i64, disabled: bool) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageUsers, "admin/users").await?;
    if id == me.user.id {
        return Err(me.refuse(&state, &format!("user:{id}"), "may not disable or enable their own account").await);
    }
    let action = if disabled { "user.disable" } else { "user.enable" };
    let event = me.audit(&state, action, &format!("user:{id}"), serde_json::json!({}));
    state.store.set_user_disabled(id, disabled, event).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

/// `POST /admin/users/{id}/disable`: the account cannot sign in and its sessions end now.
///
/// # Errors
/// Refused to everyone but administrators, and for one's own account.
pub async fn disable(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    set_disabled(state, me, id, true).await
}

/// `POST /admin/users/{id}/enable`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn enable(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    set_disabled(state, me, id, false).await
}
