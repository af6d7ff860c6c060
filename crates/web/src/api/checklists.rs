//! `GET /api/v1/checklists` and `GET /api/v1/checklists/{id}/{version}`.

use super::ApiUser;
use super::problem::Problem;
use crate::AppState;
use axum::Json;
use axum::extract::{Path, State};
use marac_domain::checklist::Checklist;
use marac_domain::policy::Action;
use serde::Serialize;
use utoipa::ToSchema;

/// A loaded checklist version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistSummary {
    /// Checklist id.
    pub id: String,
    /// Version.
    pub version: String,
    /// Title.
    pub title: String,
    /// Number of questions.
    pub questions: i64,
    /// `shipped` or `imported`.
    pub source: String,
}

/// One question.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    /// Question id, used as the key of an answer.
    pub id: String,
    /// Section it belongs to.
    pub section: String,
    /// The question.
    pub text: String,
    /// Guidance.
    pub help: Option<String>,
    /// "Who" choices.
    pub who: Vec<String>,
    /// Marked as a high-risk factor.
    pub high_risk_factor: bool,
}

/// A checklist version with its questions. Answers are `yes`, `no` or `dont_know`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistView {
    /// Checklist id.
    pub id: String,
    /// Version.
    pub version: String,
    /// Title.
    pub title: String,
    /// Score = number of `yes` answers; visible high risk at or above this (a Marac may set its own).
    pub high_risk_threshold: Option<u32>,
    /// The questions, in order.
    pub questions: Vec<QuestionView>,
}

/// Lists every loaded checklist version.
#[utoipa::path(
    get,
    path = "/checklists",
    tag = "checklists",
    responses(
        (status = 200, description = "Loaded checklist versions", body = [ChecklistSummary]),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The user holds no role", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(State(state): State<AppState>, caller: ApiUser) -> Result<Json<Vec<ChecklistSummary>>, Problem> {
    caller.authorise_audited(&state, Action::ViewHome, "checklists").await?;
    let all = state.store.list_checklists().await?;
    Ok(Json(
        all.into_iter()
            .map(|c| ChecklistSummary {
                id: c.checklist_id,
                version: c.version,
                title: c.title,
                questions: c.question_count,
                source: c.source,
            })
            .collect(),
    ))
}

/// One checklist version with its questions.
#[utoipa::path(
    get,
    path = "/checklists/{id}/{version}",
    tag = "checklists",
    params(("id" = String, Path, description = "Checklist id"), ("version" = String, Path, description = "Version")),
    responses(
        (status = 200, description = "The checklist", body = ChecklistView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such checklist version", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiUser,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<ChecklistView>, Problem> {
    caller.authorise_audited(&state, Action::ViewHome, "checklists").await?;
    let record = state.store.get_checklist(&id, &version).await?.ok_or_else(Problem::not_found)?;
    let c = Checklist::parse(&record.definition)
        .map_err(|e| Problem::from(marac_app::store::StoreError::Corrupt(e.to_string())))?;
    let questions = c
        .sections
        .iter()
        .flat_map(|s| {
            s.questions.iter().map(|q| QuestionView {
                id: q.id.clone(),
                section: s.id.clone(),
                text: q.text.clone(),
                help: q.help.clone(),
                who: q.who.clone(),
                high_risk_factor: q.high_risk_factor,
            })
        })
        .collect();
    Ok(Json(ChecklistView {
        id: c.id,
        version: c.version,
        title: c.title,
        high_risk_threshold: c.scoring.high_risk_threshold,
        questions,
    }))
}
