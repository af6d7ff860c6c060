//! Requests sent twice make one change ([`marac_domain::idempotency`]).
//!
//! [`api`]: a `POST` to the API with an `Idempotency-Key` header is claimed before it runs.
//! The same key with the same body gets the first response again (`Idempotent-Replayed:
//! true`); with a different body a 422 problem; while the first is still running a 409. Keys
//! and their responses (sealed, like any case data) are kept 24 hours, in the database, so any
//! server answers the same.
//!
//! [`forms`]: a form that creates something carries a one-use `_once` token. Sent again (a
//! double click, back and resubmit, a reload after a lost response), it goes where the first
//! sending went; sent twice at once, the second waits for the first.
//!
//! In both, the request's changes carry its [`IdempotencyMark`], and the store records the
//! first change as the key's outcome in the same transaction: a server that dies between
//! saving and answering still never lets a retry save twice.

use crate::AppState;
use crate::api::problem::Problem;
use crate::csrf::SentForm;
use crate::error::AppError;
use crate::faults::DatabaseFault;
use crate::session::Visitor;
use axum::body::{Body, to_bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::crypto;
use marac_app::store::{ClaimOutcome, IdempotencyClaim, Ts};
use marac_domain::idempotency::{self as rules, IdempotencyMark, KeyKind};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The header an API client names its request with.
pub const HEADER: &str = "idempotency-key";
/// The header on a response sent again from a key.
pub const REPLAYED: &str = "idempotent-replayed";
/// The form field holding a form's one-use token.
pub const FORM_FIELD: &str = "_once";
/// Largest API body kept to compare with a second sending.
const MAX_API_BODY: usize = 2 * 1024 * 1024;
/// How long a form sent twice at once waits for the first sending to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);

/// A one-use token for a form that creates something: a hidden `_once` field.
#[must_use]
pub fn form_token() -> String {
    crypto::random_token().unwrap_or_default()
}

/// A response as kept for a second sending.
#[derive(Debug, Serialize, Deserialize)]
struct KeptResponse {
    status: u16,
    content_type: Option<String>,
    location: Option<String>,
    body: String,
}

fn claim(state: &AppState, kind: KeyKind, user_id: i64, key: &str, fingerprint: String) -> IdempotencyClaim {
    let now = state.clock.now();
    IdempotencyClaim {
        scope: rules::scope(kind, user_id, key),
        user_id,
        fingerprint,
        request_id: crypto::random_token().unwrap_or_default(),
        now: Ts::new(now),
        lease_until: Ts::new(now + rules::LEASE),
        forget_before: Ts::new(now - rules::KEY_LIFETIME),
    }
}

/// Whether the request failed: a server error, or the database failing under it.
fn failed(response: &Response) -> bool {
    response.status().is_server_error() || response.extensions().get::<DatabaseFault>().is_some()
}

/// Middleware for the API: see the module's description.
pub async fn api(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(sent) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match sent.to_str().map_err(|_| "Idempotency-Key must be visible ASCII").and_then(rules::parse_key) {
        Ok(k) => k.to_owned(),
        Err(why) => return Problem::bad_request(why).into_response(),
    };
    // An unknown token is the route's to refuse; a key belongs to a known user.
    let user_id = match crate::api::token_user(&state, req.headers()).await {
        Ok(Some(id)) => id,
        Ok(None) => return next.run(req).await,
        Err(p) => return p.into_response(),
    };
    let (mut parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_API_BODY).await {
        Ok(b) => b,
        Err(e) => return Problem::from(AppError::unreadable_body(&e)).into_response(),
    };
    // The address as sent, not as the API's own router sees it under `/api/v1`.
    let uri = parts.extensions.get::<OriginalUri>().map_or(&parts.uri, |o| &o.0);
    let path = uri.path_and_query().map(ToString::to_string).unwrap_or_default();
    let claim = claim(&state, KeyKind::Api, user_id, &key, rules::fingerprint("POST", &path, &bytes));
    match state.store.claim_idempotency(&claim).await {
        Err(e) => Problem::from(e).into_response(),
        Ok(ClaimOutcome::Claimed) => {
            let mark = IdempotencyMark { scope: claim.scope.clone(), request_id: claim.request_id.clone() };
            parts.extensions.insert(mark);
            let response = holding(&state, &claim, next.run(Request::from_parts(parts, Body::from(bytes)))).await;
            keep_api_response(&state, &claim, response).await
        }
        Ok(ClaimOutcome::Answered { response_sealed, outcome, .. }) => {
            replay_api_response(&state, user_id, &response_sealed, outcome.as_deref()).await
        }
        Ok(ClaimOutcome::InFlight) => {
            let mut p = Problem::key_in_use();
            p.retry_after = Some(1);
            p.into_response()
        }
        Ok(ClaimOutcome::Mismatch) => Problem::key_reused().into_response(),
        Ok(ClaimOutcome::SavedUnanswered { outcome }) => saved_unanswered(&state, &outcome).await,
    }
}

/// Runs the work of the request holding `claim`, renewing its hold on the key while it runs: a
/// request that outlives its lease keeps its key; a server that dies stops renewing, and a retry
/// may take the key over within seconds.
async fn holding(
    state: &AppState,
    claim: &IdempotencyClaim,
    work: impl std::future::Future<Output = Response>,
) -> Response {
    let every = Duration::from_secs(u64::try_from(rules::RENEW_EVERY.whole_seconds()).unwrap_or(2));
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            response = &mut work => return response,
            () = tokio::time::sleep(every) => {
                let until = Ts::new(state.clock.now() + rules::LEASE);
                if let Err(e) = state.store.renew_idempotency(&claim.scope, &claim.request_id, until).await {
                    tracing::warn!(error = %e, "could not renew a request's hold on its idempotency key");
                }
            }
        }
    }
}

/// Keeps the answer to a claimed API request, or lets the key go when nothing was saved and the
/// request may be sent again.
async fn keep_api_response(state: &AppState, claim: &IdempotencyClaim, response: Response) -> Response {
    if failed(&response) {
        // Nothing saved: the key is let go, and a retry does the work afresh. Saved before the
        // failure (reading the result back, say): no answer is kept, the hold ends now, and a
        // retry is sent to what was made. A failure is never the answer kept.
        if let Ok(false) = state.store.release_idempotency(&claim.scope, &claim.request_id).await {
            let now = Ts::new(state.clock.now());
            if let Err(e) = state.store.renew_idempotency(&claim.scope, &claim.request_id, now).await {
                tracing::warn!(error = %e, "could not end a failed request's hold on its idempotency key");
            }
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_API_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let header_text = |name| parts.headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
    let kept = KeptResponse {
        status: parts.status.as_u16(),
        content_type: header_text(header::CONTENT_TYPE),
        location: header_text(header::LOCATION),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let stored = match casework::seal(state, Purpose::IdempotentResponse, &kept) {
        Ok(sealed) => state.store.answer_idempotency(&claim.scope, &claim.request_id, kept.status, &sealed).await,
        Err(e) => Err(marac_app::store::StoreError::Corrupt(e.to_string())),
    };
    if let Err(e) = stored {
        // The change is saved and its outcome recorded; a second sending is pointed to it.
        tracing::warn!(error = %e, "could not keep an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The first answer again, as it was sent.
async fn replay_api_response(state: &AppState, user_id: i64, sealed: &str, outcome: Option<&str>) -> Response {
    let kept: KeptResponse = match casework::open(state, Purpose::IdempotentResponse, sealed) {
        Ok(k) => k,
        Err(e) => return Problem::from(e).into_response(),
    };
    // Sending a response again discloses what it holds again: recorded like any read.
    if let Some(target) = outcome {
        let mut event = marac_app::audit::system_event(state, "request.replayed", target);
        event.actor_user_id = Some(user_id);
        event.actor_label = format!("user:{user_id}");
        event.ip = "api".into();
        if let Err(e) = state.store.append_audit(event).await {
            return Problem::from(e).into_response();
        }
    }
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let mut response = (status, kept.body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [(header::CONTENT_TYPE, kept.content_type), (header::LOCATION, kept.location)] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// The first request with this key saved its change but its server stopped before answering:
/// the client is sent to what it made, where it has an address of its own.
async fn saved_unanswered(state: &AppState, outcome: &str) -> Response {
    if let Some(id) = outcome.strip_prefix("referral:").and_then(|id| id.parse::<i64>().ok())
        && let Ok(r) = state.store.get_referral(id).await
        && let Some(reference) = r.reference
    {
        let mut response = Redirect::to(&format!("/api/v1/referrals/{reference}")).into_response();
        response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
        return response;
    }
    Problem::saved_unanswered().into_response()
}

/// Middleware for the pages: see the module's description.
pub async fn forms(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = req
        .extensions()
        .get::<SentForm>()
        .and_then(|f| f.fields().into_iter().find(|(name, _)| name == FORM_FIELD).map(|(_, v)| v));
    let user_id = req.extensions().get::<Visitor>().and_then(|v| v.session.as_ref()).map(|s| s.user.id);
    let (Some(token), Some(user_id)) = (token, user_id) else {
        return next.run(req).await;
    };
    if rules::parse_key(&token).is_err() {
        return AppError::BadRequest.into_response();
    }
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        let claim = claim(&state, KeyKind::Form, user_id, &token, String::new());
        match state.store.claim_idempotency(&claim).await {
            Err(e) => return AppError::from(e).into_response(),
            Ok(ClaimOutcome::Claimed) => {
                let mark = IdempotencyMark { scope: claim.scope.clone(), request_id: claim.request_id.clone() };
                if let Some(visitor) = req.extensions_mut().get_mut::<Visitor>() {
                    visitor.idempotency = Some(mark);
                }
                let response = holding(&state, &claim, next.run(req)).await;
                let location = response
                    .status()
                    .is_redirection()
                    .then(|| response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned))
                    .flatten();
                keep_form_response(&state, &claim, response.status(), location).await;
                return response;
            }
            Ok(ClaimOutcome::Answered { response_sealed, .. }) => {
                return match casework::open::<String>(&state, Purpose::IdempotentResponse, &response_sealed) {
                    Ok(location) if !location.is_empty() => Redirect::to(&location).into_response(),
                    Ok(_) => AppError::AlreadySaved.into_response(),
                    Err(e) => AppError::from(e).into_response(),
                };
            }
            // Sent twice at once (a double click): the second waits for the first's answer.
            Ok(ClaimOutcome::InFlight) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(ClaimOutcome::InFlight) => return AppError::StillSaving.into_response(),
            Ok(ClaimOutcome::Mismatch | ClaimOutcome::SavedUnanswered { .. }) => {
                return AppError::AlreadySaved.into_response();
            }
        }
    }
}

/// Keeps where a form's first sending went (a redirect after saving), or lets the token go when
/// it saved nothing (errors to put right, or a failure worth trying again).
async fn keep_form_response(state: &AppState, claim: &IdempotencyClaim, status: StatusCode, location: Option<String>) {
    let kept = match location {
        Some(location) => Some(location),
        None => match state.store.release_idempotency(&claim.scope, &claim.request_id).await {
            Ok(true) => None,
            // Saved, but answered with a page rather than a redirect: a second sending is told so.
            Ok(false) => Some(String::new()),
            Err(e) => {
                tracing::warn!(error = %e, "could not let a form's token go");
                None
            }
        },
    };
    let Some(location) = kept else { return };
    let stored = match casework::seal(state, Purpose::IdempotentResponse, &location) {
        Ok(sealed) => state.store.answer_idempotency(&claim.scope, &claim.request_id, status.as_u16(), &sealed).await,
        Err(e) => Err(marac_app::store::StoreError::Corrupt(e.to_string())),
    };
    if let Err(e) = stored {
        tracing::warn!(error = %e, "could not keep where a form went");
    }
}
