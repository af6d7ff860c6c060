//! Health, readiness and metrics for operators and load balancers.

use crate::{AppState, faults};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers, and takes writes; answered within a second whatever
/// the database does ([`faults::readiness`]).
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let backend = match state.store.backend() {
        marac_app::store::Backend::Sqlite => "sqlite",
        marac_app::store::Backend::Postgres => "postgres",
    };
    match faults::readiness(&state).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready", "database": backend }))).into_response(),
        Err(why) => {
            tracing::warn!(reason = why.code(), "not ready");
            let body = Json(json!({ "status": "unavailable", "database": backend, "reason": why.code() }));
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], body).into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}
