//! CSRF protection on every state-changing request.
//!
//! Each form carries `_csrf`, an HMAC of the session id (or, before signing in, of a random
//! cookie) under the session key: a page on another site cannot read it, so cannot forge it.
//! A file upload (`multipart/form-data`) carries it in its address's query string. Other
//! requests must send the token in `X-CSRF-Token`. Browsers that say the
//! request is cross-site (`Sec-Fetch-Site`) are refused outright.

use crate::AppState;
use crate::error::AppError;
use crate::session::Visitor;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use marac_app::crypto;

/// Largest form body accepted.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// Middleware: refuses unsafe methods without a valid token.
///
/// # Errors
/// [`AppError::BadCsrf`] when the token is missing or wrong.
pub async fn check(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, AppError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.run(req).await);
    }
    let cross_site =
        req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "cross-site");
    if cross_site {
        return Err(AppError::BadCsrf);
    }
    let visitor = req
        .extensions()
        .get::<Visitor>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("session layer missing")))?;
    let expected = visitor.csrf_token(&state.keys.session_key);

    if let Some(sent) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if crypto::constant_time_eq(sent, &expected) {
            Ok(next.run(req).await)
        } else {
            Err(AppError::BadCsrf)
        };
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // A file upload's body is not read here; its form carries the token in its address instead
    // (never logged: the trace records the path only, and no page sends a referrer).
    if content_type.starts_with("multipart/form-data") {
        let sent = req.uri().query().and_then(|q| form_urlencoded_value(q.as_bytes(), "_csrf"));
        return if sent.is_some_and(|s| crypto::constant_time_eq(&s, &expected)) {
            Ok(next.run(req).await)
        } else {
            Err(AppError::BadCsrf)
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(AppError::BadCsrf);
    }
    let (mut parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES).await.map_err(|e| AppError::unreadable_body(&e))?;
    let sent = form_urlencoded_value(&bytes, "_csrf");
    if !sent.is_some_and(|s| crypto::constant_time_eq(&s, &expected)) {
        return Err(AppError::BadCsrf);
    }
    // Kept so that, if the database cannot save it, the error page can offer it again.
    parts.extensions.insert(SentForm(bytes.clone()));
    Ok(next.run(Request::from_parts(parts, Body::from(bytes))).await)
}

/// The body of a form the CSRF check has read, as sent.
#[derive(Debug, Clone)]
pub struct SentForm(pub axum::body::Bytes);

impl SentForm {
    /// Its fields in order, as sent.
    #[must_use]
    pub fn fields(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.0).unwrap_or_default()
    }
}

fn form_urlencoded_value(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
