//! `POST /api/v1/referrals` and `GET /api/v1/referrals/{reference}`: the referral form's
//! validation and rules, for case-management systems that refer electronically.

use super::ApiUser;
use super::problem::{FieldProblem, Problem};
use crate::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use marac_app::casework;
use marac_app::store::Referral;
use marac_domain::policy::Action;
use marac_domain::referral_form::{self as form, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// A referral, as nested objects whose fields are the form's (see the referral pages): each
/// value a string (dates as `YYYY-MM-DD` or `27/3/2026`), a number or a boolean.
#[derive(Debug, ToSchema)]
#[schema(example = json!({
    "referral": { "marac": 1, "incident_date": "2026-11-20", "police_incidents": "2026-03-01\n2026-09-14" },
    "victim": { "given_name": "Alex", "family_name": "Morgan", "date_of_birth": "1991-04-03", "gender": "female",
                "ethnicity": "white_british", "disability": "no", "lgbt": "no", "pregnant": "no", "interpreter": false },
    "perpetrators": [{ "given_name": "Sam", "family_name": "Morgan", "gender": "male", "relationship": "ex_partner" }],
    "children": { "any": false },
    "checklist": { "version": "safelives-dash@2026.1", "answer": { "injury": "yes", "fear": "no" } },
    "reason": { "professional_judgement": false },
    "consent": { "given": true, "victim_knows": true, "previous_maracs": "no" },
    "summary": { "text": "What happened, what the victim wants and what is asked of the Marac." }
}))]
pub struct ReferralRequest {
    /// `marac` (id), `incident_date`, `police_incidents` (dates, one per line), `joint_agency` (id).
    #[schema(value_type = Object)]
    pub referral: serde_json::Value,
    /// The victim's details.
    #[schema(value_type = Object)]
    pub victim: serde_json::Value,
    /// The people causing harm.
    #[schema(value_type = Vec<Object>)]
    pub perpetrators: serde_json::Value,
    /// `any`, and `members`: children and other household members.
    #[schema(value_type = Object)]
    pub children: serde_json::Value,
    /// `version` (`id@version`) and `answer`, `who`, `source`, `comment` keyed by question id.
    #[schema(value_type = Object)]
    pub checklist: serde_json::Value,
    /// `professional_judgement` and `professional_judgement_reason`.
    #[schema(value_type = Object)]
    pub reason: serde_json::Value,
    /// Consent, safety and previous Maracs.
    #[schema(value_type = Object)]
    pub consent: serde_json::Value,
    /// `text`.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
}

/// A referral and what the rules concluded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralResult {
    /// Reference, e.g. `NSN-2026-00042`.
    pub reference: String,
    /// `submitted`, `returned`, `accepted` or `declined`.
    pub status: String,
    /// The checklist used, `id@version`.
    pub checklist: String,
    /// Number of `yes` answers.
    pub score: i64,
    /// Criteria met: `visible_high_risk`, `professional_judgement`, `potential_escalation`, `repeat`.
    pub criteria: Vec<String>,
    /// Whether it is a repeat referral.
    pub repeat: bool,
    /// `victim_16_17`, `perpetrator_under_18`.
    pub age_flags: Vec<String>,
    /// Children in the household.
    pub children: i64,
}

impl From<&Referral> for ReferralResult {
    fn from(r: &Referral) -> Self {
        ReferralResult {
            reference: r.reference.clone().unwrap_or_default(),
            status: r.status.code().to_owned(),
            checklist: format!(
                "{}@{}",
                r.checklist_id.clone().unwrap_or_default(),
                r.checklist_version.clone().unwrap_or_default()
            ),
            score: r.score.unwrap_or(0),
            criteria: r.criteria.iter().map(|c| c.code().to_owned()).collect(),
            repeat: r.is_repeat,
            age_flags: r.age_flags.iter().map(|f| f.code().to_owned()).collect(),
            children: r.children_count,
        }
    }
}

fn problems(errors: Vec<FieldError>) -> Problem {
    // The form's `children.N` people arrive as `/children/members/N` in the API.
    Problem::invalid(
        errors
            .into_iter()
            .map(|e| FieldProblem {
                pointer: e
                    .pointer()
                    .replace("/children/", "/children/members/")
                    .replace("/children/members/any", "/children/any"),
                detail: e.message,
            })
            .collect(),
    )
}

/// Submits a referral: the same validation, matching and rules as the form.
#[utoipa::path(
    post,
    path = "/referrals",
    tag = "referrals",
    request_body = ReferralRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Optional; 1 to 255 visible ASCII characters, unique per request (a UUID, say). Sent again with the same key and body, the request makes nothing new and gets the first response again, with `Idempotent-Replayed: true`; with a different body it is refused (422); while the first is still being processed, 409. Keys are kept 24 hours. Send one with every submission you may retry."),
    ),
    responses(
        (status = 201, description = "Referral submitted", body = ReferralResult),
        (status = 303, description = "A submission with this Idempotency-Key was saved but its response was lost: its result is at the Location"),
        (status = 400, description = "The Idempotency-Key cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The user may not refer to any Marac", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key is still being processed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Problems with the referral, each with a JSON pointer; or an Idempotency-Key used for a different request", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot save right now; nothing was saved. Send the same request again (with the same Idempotency-Key) after Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    user: ApiUser,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, Problem> {
    if casework::referable_maracs(&state, &user.actor()).await?.is_empty() || user.user.agency_id.is_none() {
        return Err(user.refuse(&state, "referral:new", "may not refer to any Marac").await);
    }
    let Json(mut body) =
        body.map_err(|e| Problem::invalid(vec![FieldProblem { pointer: String::new(), detail: e.body_text() }]))?;
    // `children.members` in the API is the form's numbered household members.
    if let Some(children) = body.get_mut("children").and_then(serde_json::Value::as_object_mut)
        && let Some(members) = children.remove("members")
        && let Some(list) = members.as_array()
    {
        for (i, m) in list.iter().enumerate() {
            children.insert(i.to_string(), m.clone());
        }
    }
    let mut map = form::from_json(&body).map_err(problems)?;
    for s in form::Section::ALL {
        map.insert(form::saved_key(s), "1".into());
    }
    let event = user.event(&state, "referral.submit", "", serde_json::json!({ "via": "api" }));
    let sent = match marac_app::workflows::referrals::submit(&state, &user.user, &map, None, event).await? {
        Ok(sent) => sent,
        Err(errors) => return Err(problems(errors)),
    };
    state.metrics.observe_matching(sent.matching);
    let done = sent.done;
    let r = state.store.get_referral(done.referral_id).await?;
    Ok((StatusCode::CREATED, Json(ReferralResult::from(&r))).into_response())
}

/// Reads a referral and its result. Only its referrer and the Marac's coordinators and chairs
/// may; anyone else is told it does not exist.
#[utoipa::path(
    get,
    path = "/referrals/{reference}",
    tag = "referrals",
    params(("reference" = String, Path, description = "The referral's reference")),
    responses(
        (status = 200, description = "The referral's result", body = ReferralResult),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such referral you may see", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    user: ApiUser,
    Path(reference): Path<String>,
) -> Result<Json<ReferralResult>, Problem> {
    let r = state.store.find_referral_by_reference(&reference).await?.ok_or_else(Problem::not_found)?;
    let target = format!("referral:{}", r.id);
    let action = Action::ReadReferral { marac_id: r.marac_id, referrer_user_id: r.referrer_user_id };
    // A reference the caller may not read is answered as one that does not exist.
    let basis = user.authorise_hidden(&state, action, &target).await?;
    let e = user.event(&state, "referral.view", &target, serde_json::json!({ "basis": basis, "via": "api" }));
    state.store.append_audit(e).await?;
    Ok(Json(ReferralResult::from(&r)))
}
