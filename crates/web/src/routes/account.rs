//! The signed-in user's own account: who they are, their second factor, their sessions.

use crate::AppState;
use crate::error::AppError;
use crate::forms::FormData;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use marac_domain::policy::Action;

struct SessionView {
    id: String,
    current: bool,
    started: String,
    last_seen: String,
    ip: String,
    browser: String,
}

/// A role as shown on pages.
pub(crate) struct RoleView {
    pub(crate) role: &'static str,
    pub(crate) marac: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    ctx: PageContext,
    name: String,
    email: String,
    agency: String,
    roles: Vec<RoleView>,
    has_second_factor: bool,
    recovery_codes_left: i64,
    sessions: Vec<SessionView>,
}

/// Names for the grants a user holds ("Coordinator, North Marac").
pub(crate) async fn role_views(state: &AppState, user: &marac_app::store::User) -> Result<Vec<RoleView>, AppError> {
    let maracs = state.store.list_maracs().await?;
    Ok(user
        .grants
        .iter()
        .map(|g| RoleView {
            role: g.role.label(),
            marac: g
                .marac_id
                .and_then(|id| maracs.iter().find(|m| m.id == id))
                .map_or_else(|| "All".to_owned(), |m| m.name.clone()),
        })
        .collect())
}

/// `GET /account`.
///
/// # Errors
/// Database failures.
pub async fn show(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageOwnAccount, "account").await?;
    let agency = match me.user.agency_id {
        Some(id) => state.store.get_agency(id).await?.name,
        None => "None".to_owned(),
    };
    let sessions = state
        .store
        .list_user_sessions(me.user.id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.id == me.session.id,
            started: crate::routes::display_at(s.created_at.0),
            last_seen: crate::routes::display_at(s.last_seen_at.0),
            ip: s.ip,
            browser: s.user_agent,
            id: s.id,
        })
        .collect();
    Ok(AccountPage {
        ctx: PageContext::new(&state, &me.visitor, "Your account", "/account"),
        name: me.user.name.clone(),
        email: me.user.email.clone(),
        agency,
        roles: role_views(&state, &me.user).await?,
        has_second_factor: me.user.totp_secret.is_some(),
        recovery_codes_left: state.store.unused_recovery_codes(me.user.id).await?,
        sessions,
    }
    .into_response())
}

/// `POST /account/sessions/end`: ends one of the user's own sessions.
///
/// # Errors
/// 404 for a session that is not theirs; database failures.
pub async fn end_session(State(state): State<AppState>, me: Signed, form: FormData) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageOwnAccount, "account").await?;
    let id = form.get("session");
    let theirs = state.store.get_session(id).await?.is_some_and(|s| s.user_id == me.user.id);
    if !theirs {
        return Err(AppError::NotFound);
    }
    let event = me.audit(&state, "session.ended_by_user", &format!("user:{}", me.user.id), serde_json::json!({}));
    state.store.delete_session(id, Some(event)).await?;
    if id == me.session.id {
        return Ok(Redirect::to("/sign-in?signed_out=1").into_response());
    }
    Ok(Redirect::to("/account").into_response())
}

/// `POST /account/keep-alive`: the page's "Stay signed in" button. Passing the session layer
/// already moved the session's last-seen time; this only answers.
///
/// # Errors
/// Redirects visitors who are no longer signed in.
pub async fn keep_alive(State(state): State<AppState>, me: Signed) -> Result<axum::http::StatusCode, AppError> {
    me.authorise(&state, Action::ManageOwnAccount, "account").await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /account/session-status`: seconds left before the session ends, for the page's
/// timeout warning. Reading it does not extend the session.
///
/// # Errors
/// Redirects visitors who are no longer signed in.
pub async fn session_status(
    State(state): State<AppState>,
    me: Signed,
) -> Result<axum::Json<serde_json::Value>, AppError> {
    me.authorise(&state, Action::ManageOwnAccount, "account").await?;
    let now = state.clock.now();
    let idle_left = marac_domain::session_rules::IDLE_TIMEOUT - (now - me.session.last_seen_at.0);
    let absolute_left = marac_domain::session_rules::ABSOLUTE_TIMEOUT - (now - me.session.created_at.0);
    let left = idle_left.min(absolute_left).whole_seconds().max(0);
    Ok(axum::Json(serde_json::json!({ "remaining_seconds": left })))
}
