//! The second factor: the code asked for after the password, and setting up an
//! authenticator app (with recovery codes).

use super::sign_in::{LOCKED, begin_session, locked_out, record_failure, too_many};
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::{PageContext, SERVICE_NAME};
use crate::session::{LoadedSession, Visitor};
use crate::{AppState, audit};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{SessionStage, Ts};
use marac_app::{crypto, totp};

#[derive(Template, WebTemplate)]
#[template(path = "two_factor.html")]
struct ChallengePage {
    ctx: PageContext,
    errors: Errors,
}

#[derive(Template, WebTemplate)]
#[template(path = "enrol.html")]
struct EnrolPage {
    ctx: PageContext,
    errors: Errors,
    sealed: String,
    secret_display: String,
    qr_svg: String,
    needs_password: bool,
    replacing: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    ctx: PageContext,
    codes: Vec<String>,
}

fn pending(visitor: &Visitor, stage: SessionStage) -> Result<&LoadedSession, AppError> {
    match &visitor.session {
        Some(s) if s.session.stage == stage => Ok(s),
        Some(s) if s.session.stage == SessionStage::Full => Err(AppError::NotFound),
        Some(s) => Err(AppError::SecondFactorPending(s.session.stage)),
        None => Err(AppError::SignInRequired(visitor.ended)),
    }
}

fn secret_context(user_id: i64) -> String {
    crypto::totp_context(user_id)
}

fn challenge(state: &AppState, visitor: &Visitor, errors: Errors) -> ChallengePage {
    ChallengePage { ctx: PageContext::new(state, visitor, "Enter your security code", "/sign-in"), errors }
}

/// `GET /sign-in/two-factor`.
///
/// # Errors
/// Redirects visitors who are not at this step.
pub async fn challenge_form(State(state): State<AppState>, visitor: Visitor) -> Result<Response, AppError> {
    pending(&visitor, SessionStage::SecondFactor)?;
    Ok(challenge(&state, &visitor, Errors::default()).into_response())
}

/// `POST /sign-in/two-factor`: a code from the app, or a recovery code.
///
/// # Errors
/// Redirects visitors who are not at this step; database failures.
pub async fn challenge_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    form: FormData,
) -> Result<Response, AppError> {
    let s = pending(&visitor, SessionStage::SecondFactor)?;
    let user = s.user.clone();
    let typed = form.get("code").trim().to_owned();
    let mut errors = Errors::default();
    if typed.is_empty() {
        errors.add("code", "Enter the 6-digit code from your authenticator app");
        return Ok(challenge(&state, &visitor, errors).into_response());
    }
    if locked_out(&state, &visitor, &user.email).await? {
        errors.add("code", LOCKED);
        return Ok(too_many(challenge(&state, &visitor, errors)));
    }
    let secret = user
        .totp_secret
        .as_deref()
        .map(|sealed| crypto::open(&state.keys.encryption, &secret_context(user.id), sealed))
        .transpose()
        .map_err(marac_app::Error::from)?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("second factor step without a secret")))?;
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let now = state.clock.now().unix_timestamp();
    if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        match totp::check(&secret, &digits, now) {
            Some(step) if state.store.use_totp_step(user.id, step).await? => {
                return signed_in(&state, &visitor, &user, serde_json::json!({ "method": "totp" })).await;
            }
            Some(_) => {
                record_failure(&state, &visitor, &user.email, "sign_in.totp_reused", Some(&user)).await?;
                errors.add(
                    "code",
                    "That code has already been used. Wait for your app to show a new code, then enter it",
                );
            }
            None => {
                record_failure(&state, &visitor, &user.email, "sign_in.totp_failure", Some(&user)).await?;
                errors
                    .add("code", "The code is not right. Check your authenticator app and enter the code it shows now");
            }
        }
        return Ok(challenge(&state, &visitor, errors).into_response());
    }
    let hash = totp::recovery_code_hash(&state.keys.encryption.key, user.id, &typed);
    if state.store.use_recovery_code(user.id, &hash, Ts::new(state.clock.now())).await? {
        let left = state.store.unused_recovery_codes(user.id).await?;
        let detail = serde_json::json!({ "method": "recovery_code", "recovery_codes_left": left });
        return signed_in(&state, &visitor, &user, detail).await;
    }
    record_failure(&state, &visitor, &user.email, "sign_in.recovery_failure", Some(&user)).await?;
    errors.add("code", "Enter the 6-digit code from your app, or one of your unused recovery codes");
    Ok(challenge(&state, &visitor, errors).into_response())
}

/// Completes sign-in: a new, fully signed-in session.
async fn signed_in(
    state: &AppState,
    visitor: &Visitor,
    user: &marac_app::store::User,
    detail: serde_json::Value,
) -> Result<Response, AppError> {
    begin_session(state, visitor, user, SessionStage::Full, "sign_in.success", detail).await
}

fn enrolling(visitor: &Visitor) -> Result<&LoadedSession, AppError> {
    match &visitor.session {
        Some(s) if matches!(s.session.stage, SessionStage::Enrol | SessionStage::Full) => Ok(s),
        Some(s) => Err(AppError::SecondFactorPending(s.session.stage)),
        None => Err(AppError::SignInRequired(visitor.ended)),
    }
}

fn enrol_page(
    state: &AppState,
    visitor: &Visitor,
    s: &LoadedSession,
    secret: &[u8],
    errors: Errors,
) -> Result<EnrolPage, AppError> {
    let context = format!("enrol:{}", s.session.id);
    let sealed = crypto::seal(&state.keys.encryption, &context, secret).map_err(|e| AppError::Internal(e.into()))?;
    let url = totp::otpauth_url(SERVICE_NAME, &s.user.email, secret);
    Ok(EnrolPage {
        ctx: PageContext::new(state, visitor, "Set up your authenticator app", "/account"),
        errors,
        sealed,
        secret_display: totp::secret_for_display(secret),
        qr_svg: totp::qr_svg(&url),
        needs_password: s.session.stage == SessionStage::Full,
        replacing: s.user.totp_secret.is_some(),
    })
}

/// `GET /sign-in/set-up-two-factor` and `GET /account/two-factor`.
///
/// # Errors
/// Redirects visitors who are not signed in.
pub async fn enrol_form(State(state): State<AppState>, visitor: Visitor) -> Result<Response, AppError> {
    let s = enrolling(&visitor)?;
    let secret = totp::new_secret().map_err(|e| AppError::Internal(e.into()))?;
    Ok(enrol_page(&state, &visitor, s, &secret, Errors::default())?.into_response())
}

/// `POST` of the set-up form: the first code proves the app holds the secret.
///
/// # Errors
/// Redirects visitors who are not signed in; database failures.
pub async fn enrol_submit(
    State(state): State<AppState>,
    visitor: Visitor,
    form: FormData,
) -> Result<Response, AppError> {
    let s = enrolling(&visitor)?.clone();
    let context = format!("enrol:{}", s.session.id);
    let Ok(secret) = crypto::open(&state.keys.encryption, &context, form.get("secret")) else {
        // The hidden field was altered or belongs to another session: start again.
        return Ok(Redirect::to("/account/two-factor").into_response());
    };
    let mut errors = Errors::default();
    if s.session.stage == SessionStage::Full {
        let ok = state.passwords.verify(form.get("password").to_owned(), Some(s.user.password_hash.clone())).await;
        if !ok {
            record_failure(&state, &visitor, &s.user.email, "second_factor.password_failure", Some(&s.user)).await?;
            errors.add("password", "Enter your current password");
        }
    }
    if locked_out(&state, &visitor, &s.user.email).await? {
        errors.add("code", LOCKED);
        return Ok(too_many(enrol_page(&state, &visitor, &s, &secret, errors)?));
    }
    let now = state.clock.now().unix_timestamp();
    let step = totp::check(&secret, form.get("code"), now);
    if step.is_none() {
        errors.add("code", "The code is not right. Enter the 6-digit code your app shows now");
    }
    let (Some(step), true) = (step, errors.is_empty()) else {
        return Ok(enrol_page(&state, &visitor, &s, &secret, errors)?.into_response());
    };
    let codes = totp::new_recovery_codes().map_err(|e| AppError::Internal(e.into()))?;
    let hashes: Vec<String> =
        codes.iter().map(|c| totp::recovery_code_hash(&state.keys.encryption.key, s.user.id, c)).collect();
    let sealed = crypto::seal(&state.keys.encryption, &secret_context(s.user.id), &secret)
        .map_err(|e| AppError::Internal(e.into()))?;
    let event = audit::event(
        &state,
        &visitor,
        "second_factor.enrolled",
        &format!("user:{}", s.user.id),
        "success",
        serde_json::json!({ "replaced": s.user.totp_secret.is_some() }),
    );
    state.store.set_second_factor(s.user.id, &sealed, step, &hashes, event).await?;
    let page =
        RecoveryCodesPage { ctx: PageContext::new(&state, &visitor, "Save your recovery codes", "/account"), codes };
    if s.session.stage == SessionStage::Enrol {
        // Fully signed in now, with a fresh token; the codes page is shown once, here.
        let redirect = signed_in(&state, &visitor, &s.user, serde_json::json!({ "method": "totp_enrolment" })).await?;
        let mut response = page.into_response();
        for cookie in redirect.headers().get_all(axum::http::header::SET_COOKIE) {
            response.headers_mut().append(axum::http::header::SET_COOKIE, cookie.clone());
        }
        return Ok(response);
    }
    Ok(page.into_response())
}
