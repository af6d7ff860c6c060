//! The one mapping from failures to HTTP responses.
//!
//! Every error becomes a GOV.UK-style page with the right status; internal details go to the
//! log (with the request id), never to the page.

use crate::faults::DatabaseFault;
use crate::page::ErrorPage;
use crate::session::Ended;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{SessionStage, StoreError};

/// A request that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such page or record (or one the user may not know exists).
    #[error("not found")]
    NotFound,
    /// The policy refused, and the refusal is in the audit trail (the only way to build one).
    #[error("forbidden")]
    Forbidden(crate::audit::Refused),
    /// Not signed in (or the session ended).
    #[error("sign-in required")]
    SignInRequired(Option<Ended>),
    /// The policy allows it, but the person has not confirmed the current confidentiality
    /// statement of the Marac whose case content it shows: they are sent to confirm it, and
    /// then on to `next`.
    #[error("confidentiality statement not confirmed")]
    StatementNeeded {
        /// The Marac.
        marac_id: i64,
        /// Where to go once confirmed.
        next: String,
    },
    /// Password accepted, second factor still to do.
    #[error("second factor pending")]
    SecondFactorPending(SessionStage),
    /// A state-changing request without a valid CSRF token.
    #[error("bad csrf token")]
    BadCsrf,
    /// The request could not be read (e.g. a malformed form body).
    #[error("bad request")]
    BadRequest,
    /// The record changed in the meantime (e.g. a list already published or a meeting held).
    #[error("conflict")]
    Conflict,
    /// The address does not take this method (a `PUT` on a page, say). A `GET` of a form's
    /// address never gets this: it leads back to the form's page.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request body is too large.
    #[error("request too large")]
    TooLarge,
    /// The database could not serve the request: not reachable, the connection lost, or its
    /// disk full. Nothing was saved.
    #[error("service unavailable ({0:?}): {1}")]
    Unavailable(DatabaseFault, String),
    /// A form sent again after its first sending was saved (a double click, back and resubmit).
    #[error("already saved")]
    AlreadySaved,
    /// A form sent again while its first sending is still being saved.
    #[error("still being saved")]
    StillSaving,
    /// A stored value was sealed under a version of the encryption key this server was not
    /// given: a configuration fault of this server, not damage, and not the user's doing.
    #[error("sealed under version {0} of the encryption key, which this server was not given")]
    KeyNotHeld(u32),
    /// Anything else.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict { .. } => AppError::Conflict,
            e if e.is_transient() => {
                let fault = DatabaseFault::of(&e).unwrap_or(DatabaseFault::Unavailable);
                AppError::Unavailable(fault, e.to_string())
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<marac_app::Error> for AppError {
    fn from(e: marac_app::Error) -> Self {
        match e {
            marac_app::Error::NotFound => AppError::NotFound,
            marac_app::Error::Conflict(_) => AppError::Conflict,
            marac_app::Error::KeyNotHeld(id) => AppError::KeyNotHeld(id),
            marac_app::Error::Store(e) => AppError::from(e),
            marac_app::Error::Internal(e) => AppError::Internal(e),
        }
    }
}

impl AppError {
    /// A request body that could not be read: too large, or cut off or too slow to arrive.
    #[must_use]
    pub fn unreadable_body(e: &(dyn std::error::Error + 'static)) -> Self {
        let mut cause = Some(e);
        while let Some(c) = cause {
            if c.is::<http_body_util::LengthLimitError>() {
                return AppError::TooLarge;
            }
            cause = c.source();
        }
        AppError::BadRequest
    }
}

impl AppError {
    /// Writes what the operator needs to know to the log: internal errors with their cause, an
    /// unavailable database, a key this server lacks. Nothing for what users did.
    pub fn log(&self) {
        match self {
            AppError::Internal(e) => tracing::error!(error = ?e, "request failed"),
            AppError::Unavailable(fault, e) => tracing::warn!(error = %e, ?fault, "database unavailable"),
            AppError::KeyNotHeld(id) => tracing::error!(
                key_id = id,
                "a stored value was sealed under version {id} of the encryption key, which this server was not given: \
                 give every server the same keys (keys/encryption.key or MARAC_ENCRYPTION_KEY)"
            ),
            _ => {}
        }
    }

    /// The one status code of each failure, for pages and the API alike (`api::problem` maps
    /// to problem+json through this too).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) | AppError::BadCsrf | AppError::StatementNeeded { .. } => StatusCode::FORBIDDEN,
            AppError::SignInRequired(_) | AppError::SecondFactorPending(_) => StatusCode::UNAUTHORIZED,
            AppError::BadRequest => StatusCode::BAD_REQUEST,
            AppError::Conflict | AppError::AlreadySaved | AppError::StillSaving => StatusCode::CONFLICT,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(..) | AppError::KeyNotHeld(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The status code and the page shown.
    fn page(&self) -> (StatusCode, ErrorPage) {
        let status = self.status();
        let (title, message): (&str, &str) = match self {
            AppError::NotFound => (
                "Page not found",
                "If you typed the web address, check it is correct. If you followed a link, the page may have moved or you may not have access to it.",
            ),
            AppError::Forbidden(_) => (
                "You do not have access to this page",
                "Your role does not allow this. If you need access, ask your Marac coordinator or system administrator.",
            ),
            AppError::Conflict => (
                "This has already changed",
                "It was changed by someone else, or already done. Go back and reload the page to see where it stands.",
            ),
            AppError::BadCsrf => (
                "This form could not be sent",
                "The form had expired or did not come from this service. Go back, reload the page and try again. Nothing was saved.",
            ),
            AppError::AlreadySaved => (
                "This was already saved",
                "The form was sent more than once. It was saved the first time, and nothing was saved twice.",
            ),
            AppError::StillSaving => (
                "This is still being saved",
                "The form was sent more than once and the first sending has not finished. Wait a moment, then check whether it was saved before sending it again.",
            ),
            AppError::MethodNotAllowed => (
                "This address cannot be used like that",
                "Go back to the page you were on and use its links and buttons.",
            ),
            AppError::TooLarge => ("What you sent is too large", "Go back and send less at a time."),
            AppError::BadRequest => {
                ("What you sent could not be read", "Go back, reload the page and try again. Nothing was saved.")
            }
            AppError::Unavailable(DatabaseFault::Storage, _) => (
                "The service cannot save right now",
                "Nothing you typed is lost. Try again in a few minutes; if it keeps happening, tell your system administrator the time it happened.",
            ),
            AppError::Unavailable(..) | AppError::KeyNotHeld(_) => (
                "Sorry, the service is unavailable",
                "The database is not answering. Try again in a few minutes. Nothing you sent has been lost unless you were told it was saved.",
            ),
            AppError::Internal(_)
            | AppError::SignInRequired(_)
            | AppError::SecondFactorPending(_)
            | AppError::StatementNeeded { .. } => (
                "Sorry, there is a problem with the service",
                "Try again later. If it keeps happening, tell your system administrator the time it happened.",
            ),
        };
        (
            status,
            ErrorPage { status: status.as_u16(), title: title.to_owned(), message: message.to_owned(), resend: None },
        )
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::SignInRequired(ended) => {
                let to = if ended.is_some() { "/sign-in?ended=1" } else { "/sign-in" };
                return Redirect::to(to).into_response();
            }
            AppError::StatementNeeded { marac_id, next } => {
                let query = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                return Redirect::to(&format!("/confidentiality/{marac_id}?{query}")).into_response();
            }
            AppError::SecondFactorPending(stage) => {
                let to =
                    if *stage == SessionStage::Enrol { "/sign-in/set-up-two-factor" } else { "/sign-in/two-factor" };
                return Redirect::to(to).into_response();
            }
            _ => self.log(),
        }
        let (status, page) = self.page();
        // The page is rendered without the visitor here; `page::render_error_pages` re-renders
        // it with the header and navigation of whoever is signed in.
        let body = page.render_plain();
        let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
        response.extensions_mut().insert(page);
        if let AppError::Unavailable(fault, _) = &self {
            response.extensions_mut().insert(*fault);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(fault.retry_after_seconds()));
        } else if matches!(self, AppError::KeyNotHeld(_)) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        response
    }
}

/// What the framework's own plain-text answer to a request it could not read was about.
#[derive(Debug)]
pub enum Rejection {
    /// A path segment that could not be read (`/cases/abc`): it names nothing there.
    NotThere,
    /// A method the address does not take.
    Method,
    /// Anything else that could not be read, with the framework's words.
    Unreadable(StatusCode, String),
}

/// Reads a plain-text (or untyped) client-error answer of the framework's as a [`Rejection`];
/// any other response is given back unchanged.
///
/// # Errors
/// The rejection, for the caller to answer in its own form (a page or a problem).
pub async fn rejection(response: Response) -> Result<Response, Rejection> {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    let status = response.status();
    if !plain || !status.is_client_error() || response.extensions().get::<ErrorPage>().is_some() {
        return Ok(response);
    }
    let (_, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4_096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).into_owned();
    Err(if status == StatusCode::METHOD_NOT_ALLOWED {
        Rejection::Method
    } else if text.starts_with("Invalid URL") {
        Rejection::NotThere
    } else {
        Rejection::Unreadable(status, text)
    })
}
