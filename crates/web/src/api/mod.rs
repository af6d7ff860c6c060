//! The JSON API under `/api/v1`, for integrations: personal API tokens, the same policy as
//! the pages, errors as `application/problem+json` (RFC 9457), and an OpenAPI document
//! generated from the handlers themselves (`/api/v1/openapi.json`), so it cannot drift.

pub mod actions;
pub mod cases;
pub mod checklists;
pub mod maracs;
pub mod meetings;
pub mod problem;
pub mod referrals;
pub mod search;

use crate::AppState;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use marac_app::crypto;
use marac_app::store::User;
use marac_domain::audit::NewAuditEvent;
use marac_domain::policy::{Action, Actor, Basis, authorise};
use problem::Problem;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The signed-in caller of an API request, from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct ApiUser {
    /// The token's user.
    pub user: User,
    /// The `Idempotency-Key` claimed for this request, which its changes record
    /// ([`crate::idempotency`]).
    pub idempotency: Option<marac_domain::idempotency::IdempotencyMark>,
}

impl ApiUser {
    /// The user as the policy sees them.
    #[must_use]
    pub fn actor(&self) -> Actor {
        crate::session::actor_of(&self.user)
    }

    /// An audit event by this caller through the API.
    #[must_use]
    pub fn event(&self, state: &AppState, action: &str, target: &str, detail: serde_json::Value) -> NewAuditEvent {
        NewAuditEvent {
            at: state.clock.now(),
            actor_user_id: Some(self.user.id),
            actor_label: self.user.email.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: "success".to_owned(),
            ip: "api".to_owned(),
            detail: detail.to_string(),
            idempotency: self.idempotency.clone(),
            notices: Vec::new(),
        }
    }

    /// Asks the policy and records a refusal in the audit trail.
    ///
    /// # Errors
    /// A 403 problem when it refuses; a store failure recording it.
    pub async fn authorise_audited(
        &self,
        state: &AppState,
        action: Action<'_>,
        target: &str,
    ) -> Result<Basis, Problem> {
        let actor = self.actor();
        match authorise(&actor, action) {
            Ok(basis) => match marac_app::casework::statement_needed(state, &actor, &action, basis).await? {
                None => Ok(basis),
                Some(_) => Err(self
                    .refuse(
                        state,
                        target,
                        "the Marac's confidentiality statement is not confirmed: confirm it in the service first",
                    )
                    .await),
            },
            Err(denied) => Err(self.refuse(state, target, denied.0).await),
        }
    }

    /// Asks the policy; a refusal is recorded but answered as 404, for records whose existence
    /// is not the caller's to know.
    ///
    /// # Errors
    /// A 404 problem when it refuses.
    pub async fn authorise_hidden(&self, state: &AppState, action: Action<'_>, target: &str) -> Result<Basis, Problem> {
        match self.authorise_audited(state, action, target).await {
            Err(p) if p.status == 403 => Err(Problem::not_found()),
            other => other,
        }
    }

    /// Refuses this call with a 403 problem, recording why in the audit trail.
    pub async fn refuse(&self, state: &AppState, target: &str, reason: &str) -> Problem {
        let e = self.event(state, "access.denied", target, serde_json::json!({ "via": "api", "reason": reason }));
        match crate::audit::refuse(state, e).await {
            Ok(recorded) => Problem::forbidden(recorded),
            Err(e) => e.into(),
        }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(Problem::unauthorised)?;
        let found = state.store.find_api_token(&crypto::token_hash(token)).await?;
        let Some(t) = found.filter(|t| t.revoked_at.is_none()) else {
            return Err(Problem::unauthorised());
        };
        let user = state.store.get_user(t.user_id).await?;
        if user.disabled {
            return Err(Problem::unauthorised());
        }
        let idempotency = parts.extensions.get::<marac_domain::idempotency::IdempotencyMark>().cloned();
        Ok(ApiUser { user, idempotency })
    }
}

/// The user whose live token the request carries, if any: whose `Idempotency-Key` it is.
///
/// # Errors
/// When the store cannot be read.
pub async fn token_user(state: &AppState, headers: &axum::http::HeaderMap) -> Result<Option<i64>, Problem> {
    let Some(token) = bearer_token(headers) else {
        return Ok(None);
    };
    let found = state.store.find_api_token(&crypto::token_hash(token)).await?;
    Ok(found.filter(|t| t.revoked_at.is_none()).map(|t| t.user_id))
}

fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The API's routes and its OpenAPI document, built from the same declarations.
pub fn routes() -> (Router<AppState>, OpenApi) {
    let (router, mut doc) = OpenApiRouter::<AppState>::new()
        .routes(routes!(checklists::list))
        .routes(routes!(checklists::get))
        .routes(routes!(maracs::list))
        .routes(routes!(referrals::submit))
        .routes(routes!(referrals::get))
        .routes(routes!(meetings::list))
        .routes(routes!(meetings::case))
        .routes(routes!(search::find))
        .routes(routes!(actions::list))
        .routes(routes!(actions::report))
        .routes(routes!(cases::get))
        .routes(routes!(cases::chronology))
        .split_for_parts();
    doc.info = InfoBuilder::new()
        .title("Marac case management API")
        .version("1")
        .description(Some("Every call needs `Authorization: Bearer <token>` (make one with `marac token create`). Errors are application/problem+json."))
        .build();
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme("token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new("token", Vec::<String>::new())]);
    (router, doc)
}

/// Mounts the API (with its document) under `/api/v1`.
pub fn router(state: &AppState) -> Router<AppState> {
    let (api, doc) = routes();
    let doc = Arc::new(doc.to_json().unwrap_or_else(|_| "{}".to_owned()));
    let openapi = move |State(_): State<AppState>| {
        let doc = doc.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], doc.as_str().to_owned()).into_response() }
    };
    Router::new().nest(
        "/api/v1",
        api.route("/openapi.json", axum::routing::get(openapi))
            .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::routes::guard_api))
            .fallback(|| async { Problem::not_found() })
            .layer(axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::api))
            .layer(axum::middleware::from_fn(Problem::for_rejections)),
    )
}
