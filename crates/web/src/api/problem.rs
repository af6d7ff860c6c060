//! API errors as `application/problem+json` (RFC 9457), with a JSON pointer for each field
//! that was wrong.

use crate::faults::DatabaseFault;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use marac_app::store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// One thing wrong with the request body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// JSON pointer to the field, e.g. `/victim/date_of_birth`.
    pub pointer: String,
    /// What is wrong with it.
    pub detail: String,
}

/// An error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Explanation for this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field-level problems, for bad input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Seconds to wait before trying again, sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u32>,
    /// What failed in the database, for the layers that react to it.
    #[serde(skip)]
    pub fault: Option<DatabaseFault>,
}

impl Problem {
    fn new(status: StatusCode, kind: &str, title: &str, detail: Option<&str>) -> Self {
        Problem {
            kind: format!("https://marac.invalid/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.map(str::to_owned),
            errors: Vec::new(),
            retry_after: None,
            fault: None,
        }
    }

    /// The database could not serve the request; nothing was saved.
    #[must_use]
    pub fn unavailable(fault: DatabaseFault) -> Self {
        let title = match fault {
            DatabaseFault::Storage => "The service cannot save right now; nothing was saved",
            DatabaseFault::Unavailable | DatabaseFault::ConnectionLost => {
                "The database is not answering; nothing was saved"
            }
        };
        let mut p = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            title,
            Some("Try again after Retry-After seconds."),
        );
        p.retry_after = Some(fault.retry_after_seconds());
        p.fault = Some(fault);
        p
    }

    /// No valid token.
    #[must_use]
    pub fn unauthorised() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorised",
            "A valid API token is needed",
            Some("Send Authorization: Bearer <token>; tokens are made with `marac token create`."),
        )
    }

    /// The policy refused.
    #[must_use]
    pub fn forbidden(_recorded: crate::audit::Refused) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Your roles do not allow this", None)
    }

    /// The record changed in the meantime (e.g. a list already published).
    #[must_use]
    pub fn conflict() -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "The record changed in the meantime; read it again", None)
    }

    /// Nothing there (or nothing the caller may know of).
    #[must_use]
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", None)
    }

    /// The address does not take this method.
    #[must_use]
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "This address does not take this method", None)
    }

    /// Turns the plain-text answers the framework gives for a request it could not read (a path
    /// segment that is not a number, a body of the wrong type, a method the address does not
    /// take) into problems, so the API never answers in plain text. A path that cannot be read
    /// names nothing there: 404.
    pub async fn for_rejections(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
        use crate::error::Rejection;
        match crate::error::rejection(next.run(req).await).await {
            Ok(response) => response,
            Err(Rejection::NotThere) => Problem::not_found().into_response(),
            Err(Rejection::Method) => Problem::method_not_allowed().into_response(),
            Err(Rejection::Unreadable(status, text)) => {
                let mut p = Problem::bad_request(&text);
                p.status = status.as_u16();
                p.into_response()
            }
        }
    }

    /// A request that cannot be read as sent (the detail says why).
    #[must_use]
    pub fn bad_request(detail: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", "The request cannot be read", Some(detail))
    }

    /// Another request with the same `Idempotency-Key` is still being processed.
    #[must_use]
    pub fn key_in_use() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "idempotency-key-in-use",
            "A request with this Idempotency-Key is still being processed",
            Some("Wait for it to finish, then send the request again with the same key to get its response."),
        )
    }

    /// The `Idempotency-Key` was used with a different request.
    #[must_use]
    pub fn key_reused() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "This Idempotency-Key was used for a different request",
            Some("Use a new key for a new request."),
        )
    }

    /// The first request with this key was saved, but its response was lost.
    #[must_use]
    pub fn saved_unanswered() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "idempotency-key-saved",
            "The request with this Idempotency-Key was saved, but its response was lost",
            Some("Nothing new was made. Look the result up instead of sending the request again."),
        )
    }

    /// Bad input, field by field.
    #[must_use]
    pub fn invalid(errors: Vec<FieldProblem>) -> Self {
        let mut p = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "The request has problems", None);
        p.errors = errors;
        p
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        Problem::from(crate::error::AppError::from(e))
    }
}

impl From<marac_app::Error> for Problem {
    fn from(e: marac_app::Error) -> Self {
        Problem::from(crate::error::AppError::from(e))
    }
}

impl From<crate::error::AppError> for Problem {
    /// Every failure answers the API with the status its page has (`AppError::status`); no
    /// catch-all, so a new kind of failure must be given its problem here.
    fn from(e: crate::error::AppError) -> Self {
        use crate::error::AppError;
        let status = e.status();
        if matches!(e, AppError::KeyNotHeld(_) | AppError::Internal(_)) {
            e.log();
        }
        let mut p = match e {
            AppError::NotFound => Problem::not_found(),
            AppError::MethodNotAllowed => Problem::method_not_allowed(),
            AppError::Conflict => Problem::conflict(),
            AppError::StillSaving => Problem::key_in_use(),
            AppError::AlreadySaved => Problem::saved_unanswered(),
            AppError::BadRequest => Problem::bad_request("The request could not be read as sent."),
            AppError::TooLarge => Self::new(status, "too-large", "The request is too large", None),
            AppError::BadCsrf => {
                Self::new(status, "bad-csrf", "The request did not come from a form of this service", None)
            }
            AppError::SignInRequired(_) | AppError::SecondFactorPending(_) => Problem::unauthorised(),
            AppError::StatementNeeded { .. } => Self::new(
                status,
                "statement-needed",
                "The Marac's confidentiality statement must be confirmed first",
                Some("Sign in to the service and confirm the statement, then try again."),
            ),
            AppError::Unavailable(fault, m) => {
                tracing::warn!(error = %m, ?fault, "database unavailable");
                Problem::unavailable(fault)
            }
            AppError::KeyNotHeld(_) => {
                let mut p = Self::new(status, "unavailable", "The service cannot open this record right now", None);
                p.retry_after = Some(60);
                p
            }
            AppError::Internal(_) => Self::new(status, "internal", "Something went wrong on the server", None),
            AppError::Forbidden(recorded) => Problem::forbidden(recorded),
        };
        p.status = status.as_u16();
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&self)).into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(fault) = self.fault {
            response.extensions_mut().insert(fault);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::Problem;
    use crate::error::AppError;
    use crate::faults::DatabaseFault;
    use axum::http::StatusCode;

    /// A page and an API answer of the same failure carry the same status: a request that
    /// cannot be read is 400, a body too large 413, a stale form 403, never a 500.
    #[test]
    fn the_api_answers_every_failure_with_the_status_of_its_page() {
        let cases = [
            (AppError::NotFound, StatusCode::NOT_FOUND),
            (AppError::BadRequest, StatusCode::BAD_REQUEST),
            (AppError::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
            (AppError::BadCsrf, StatusCode::FORBIDDEN),
            (AppError::Conflict, StatusCode::CONFLICT),
            (AppError::AlreadySaved, StatusCode::CONFLICT),
            (AppError::StillSaving, StatusCode::CONFLICT),
            (AppError::MethodNotAllowed, StatusCode::METHOD_NOT_ALLOWED),
            (AppError::SignInRequired(None), StatusCode::UNAUTHORIZED),
            (AppError::StatementNeeded { marac_id: 1, next: "/".into() }, StatusCode::FORBIDDEN),
            (AppError::Unavailable(DatabaseFault::Unavailable, "down".into()), StatusCode::SERVICE_UNAVAILABLE),
            (AppError::KeyNotHeld(3), StatusCode::SERVICE_UNAVAILABLE),
            (AppError::Internal(anyhow::anyhow!("boom")), StatusCode::INTERNAL_SERVER_ERROR),
        ];
        for (e, expected) in cases {
            let name = format!("{e:?}");
            assert_eq!(e.status(), expected, "{name}");
            assert_eq!(Problem::from(e).status, expected.as_u16(), "{name}");
        }
    }
}
