//! `GET /api/v1/maracs`: the Maracs the caller may refer to, so an integration learns the ids
//! a referral names.

use super::ApiUser;
use super::problem::Problem;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use marac_app::casework;
use serde::Serialize;
use utoipa::ToSchema;

/// A Marac the caller may refer to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaracView {
    /// Id, for `referral.marac`.
    pub id: i64,
    /// Short code, as in referral references.
    pub code: String,
    /// Name.
    pub name: String,
    /// The area it covers.
    pub area: String,
    /// Checklist score at or above which a case is visible high risk here.
    pub high_risk_threshold: u32,
    /// Months after a referral within which a further incident makes a repeat.
    pub repeat_months: u32,
}

/// Lists the Maracs the caller may refer to (empty for roles that do not refer).
#[utoipa::path(
    get,
    path = "/maracs",
    tag = "referrals",
    responses(
        (status = 200, description = "Maracs the caller may refer to", body = [MaracView]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(State(state): State<AppState>, caller: ApiUser) -> Result<Json<Vec<MaracView>>, Problem> {
    let maracs = casework::referable_maracs(&state, &caller.actor()).await?;
    Ok(Json(
        maracs
            .into_iter()
            .map(|m| MaracView {
                id: m.id,
                code: m.code,
                name: m.name,
                area: m.area,
                high_risk_threshold: m.rules.high_risk_threshold,
                repeat_months: m.rules.repeat_months,
            })
            .collect(),
    ))
}
