//! Signing in with e-mail and password, and signing out.

use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::session::{self, Visitor};
use crate::{AppState, audit};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::SameSite;
use marac_app::crypto;
use marac_app::store::{Session, SessionStage, Ts, User};
use marac_domain::fields::Email;
use marac_domain::sign_in_throttle;
use serde::Deserialize;

/// The longest e-mail address there can be (RFC 5321's path limit less its brackets).
pub const MAX_EMAIL_CHARS: usize = 254;

/// The one message for an unknown account, a wrong password or a disabled account, so the
/// page never tells anyone which accounts exist.
pub const GENERIC_FAILURE: &str = "The email address or password is not right";
/// Shown when too many attempts were made.
pub const LOCKED: &str = "Too many attempts to sign in. Wait 5 minutes, then try again";

#[derive(Template, WebTemplate)]
#[template(path = "sign_in.html")]
struct SignInPage {
    ctx: PageContext,
    email: String,
    errors: Errors,
    notice: Option<&'static str>,
}

/// Query flags that explain why the visitor is here.
#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    ended: Option<String>,
    signed_out: Option<String>,
}

/// `GET /sign-in`.
pub async fn form(State(state): State<AppState>, visitor: Visitor, Query(q): Query<SignInQuery>) -> Response {
    if visitor.signed_in().is_some() {
        return Redirect::to("/").into_response();
    }
    let notice = if q.ended.is_some() || visitor.ended.is_some() {
        Some(
            "You were signed out because you had not used the service for 15 minutes, or had been signed in for 12 hours. Sign in again to carry on.",
        )
    } else if q.signed_out.is_some() {
        Some("You have signed out.")
    } else {
        None
    };
    SignInPage {
        ctx: PageContext::new(&state, &visitor, "Sign in", "/sign-in"),
        email: String::new(),
        errors: Errors::default(),
        notice,
    }
    .into_response()
}

fn page_with_error(state: &AppState, visitor: &Visitor, email: &str, field: &str, message: &str) -> SignInPage {
    let mut errors = Errors::default();
    errors.add(field, message);
    SignInPage {
        ctx: PageContext::new(state, visitor, "Sign in", "/sign-in"),
        email: email.to_owned(),
        errors,
        notice: None,
    }
}

/// The account key failures are counted under: the normalised address, or what was typed.
fn account_key(typed: &str) -> String {
    Email::parse(typed).map_or_else(|_| typed.trim().to_lowercase(), |e| e.as_str().to_owned())
}

/// Whether the account or the address is locked out; records the refusal if so.
pub(crate) async fn locked_out(state: &AppState, visitor: &Visitor, account: &str) -> Result<bool, AppError> {
    let since = Ts::new(state.clock.now() - sign_in_throttle::WINDOW);
    let (by_account, by_address) = state.store.count_sign_in_failures(account, &visitor.ip, since).await?;
    if sign_in_throttle::is_locked(by_account, by_address) {
        let mut event =
            audit::event(state, visitor, "sign_in.locked", "", "denied", serde_json::json!({ "account": account }));
        event.actor_label = account.to_owned();
        state.store.append_audit(event).await?;
        return Ok(true);
    }
    Ok(false)
}

/// A refusal for too many failures: 429 with `Retry-After`, answered at once (never by holding
/// the connection open).
pub(crate) fn too_many(page: impl IntoResponse) -> Response {
    let wait = sign_in_throttle::retry_after_seconds().to_string();
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, wait)], page).into_response()
}

/// Records a failed attempt against the account and address.
pub(crate) async fn record_failure(
    state: &AppState,
    visitor: &Visitor,
    account: &str,
    action: &str,
    user: Option<&User>,
) -> Result<(), AppError> {
    let mut event = audit::event(state, visitor, action, "", "failure", serde_json::json!({}));
    event.actor_label = account.to_owned();
    event.actor_user_id = user.map(|u| u.id);
    let at = Ts::new(state.clock.now());
    state.store.record_sign_in_failure(account, &visitor.ip, at, event).await?;
    Ok(())
}

/// Starts a new session for `user` at `stage`, ending any session the visitor had (a new
/// token at every step, so a token seen before signing in is worthless after).
pub(crate) async fn begin_session(
    state: &AppState,
    visitor: &Visitor,
    user: &User,
    stage: SessionStage,
    action: &str,
    detail: serde_json::Value,
) -> Result<Response, AppError> {
    let token = crypto::random_token().map_err(|e| AppError::Internal(e.into()))?;
    let now = Ts::new(state.clock.now());
    let new = Session {
        id: crypto::token_hash(&token),
        user_id: user.id,
        stage,
        created_at: now,
        last_seen_at: now,
        ip: visitor.ip.clone(),
        user_agent: visitor.user_agent.clone(),
    };
    let mut event = audit::event(state, visitor, action, &format!("user:{}", user.id), "success", detail);
    event.actor_user_id = Some(user.id);
    event.actor_label.clone_from(&user.email);
    let old = visitor.session.as_ref().map_or("", |s| s.session.id.as_str());
    state.store.replace_session(old, &new, Some(event)).await?;
    let to = match stage {
        SessionStage::Full => "/",
        SessionStage::SecondFactor => "/sign-in/two-factor",
        SessionStage::Enrol => "/sign-in/set-up-two-factor",
    };
    let secure = state.config.secure_cookies;
    let cookie = session::cookie_header(session::session_cookie_name(secure), &token, secure, SameSite::Lax, false);
    let mut response = Redirect::to(to).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(e.into()))?);
    Ok(response)
}

/// `POST /sign-in`.
///
/// # Errors
/// When the database fails.
pub async fn submit(State(state): State<AppState>, visitor: Visitor, form: FormData) -> Result<Response, AppError> {
    let typed_email = form.get("email").trim().to_owned();
    let password = form.get("password").to_owned();
    let mut errors = Errors::default();
    if typed_email.is_empty() {
        errors.add("email", "Enter your email address");
    } else if typed_email.chars().count() > MAX_EMAIL_CHARS {
        // Refused before anything is hashed, looked up or written: what an unsigned-in visitor
        // sends must not grow the audit trail or the failure counts.
        errors.add("email", "Enter an email address of 254 characters or fewer");
    }
    if password.is_empty() {
        errors.add("password", "Enter your password");
    }
    if !errors.is_empty() {
        return Ok(SignInPage {
            ctx: PageContext::new(&state, &visitor, "Sign in", "/sign-in"),
            email: typed_email.chars().take(MAX_EMAIL_CHARS + 1).collect(),
            errors,
            notice: None,
        }
        .into_response());
    }
    let account = account_key(&typed_email);
    if locked_out(&state, &visitor, &account).await? {
        let page = page_with_error(&state, &visitor, &typed_email, "email", LOCKED);
        return Ok(too_many(page));
    }
    let user = state.store.find_user_by_email(&account).await?;
    let ok = state.passwords.verify(password.clone(), user.as_ref().map(|u| u.password_hash.clone())).await;
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        other => {
            record_failure(&state, &visitor, &account, "sign_in.failure", other.as_ref()).await?;
            return Ok(page_with_error(&state, &visitor, &typed_email, "email", GENERIC_FAILURE).into_response());
        }
    };
    state.store.clear_sign_in_failures(&account).await?;
    if marac_app::password::needs_rehash(&user.password_hash)
        && let Ok(h) = state.passwords.hash(password).await
    {
        state.store.set_password_hash(user.id, &h).await?;
    }
    let roles: Vec<_> = user.grants.iter().map(|g| g.role).collect();
    let (stage, action) = if user.totp_secret.is_some() {
        (SessionStage::SecondFactor, "sign_in.password_accepted")
    } else if state.config.needs_second_factor(&roles) {
        (SessionStage::Enrol, "sign_in.password_accepted")
    } else {
        (SessionStage::Full, "sign_in.success")
    };
    begin_session(&state, &visitor, &user, stage, action, serde_json::json!({ "method": "password" })).await
}

/// `POST /sign-out`: ends the session on the server and tells the browser to forget it.
///
/// # Errors
/// When the database fails.
pub async fn sign_out(State(state): State<AppState>, visitor: Visitor) -> Result<Response, AppError> {
    if let Some(s) = &visitor.session {
        let event = audit::event(
            &state,
            &visitor,
            "sign_out",
            &format!("user:{}", s.user.id),
            "success",
            serde_json::json!({}),
        );
        state.store.delete_session(&s.session.id, Some(event)).await?;
    }
    let secure = state.config.secure_cookies;
    let clear = session::cookie_header(session::session_cookie_name(secure), "", secure, SameSite::Lax, true);
    let mut response = Redirect::to("/sign-in?signed_out=1").into_response();
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, HeaderValue::from_str(&clear).map_err(|e| AppError::Internal(e.into()))?);
    h.insert("clear-site-data", HeaderValue::from_static("\"cache\", \"storage\""));
    Ok(response)
}
