//! The home page, different for each role.

use super::account::role_views;
use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use marac_domain::policy::{Action, authorise};

struct MaracView {
    name: String,
    agencies: usize,
    area: String,
    cadence: &'static str,
    threshold: u32,
    capacity: u32,
    recommended: u64,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageContext,
    first_name: String,
    roles: Vec<super::account::RoleView>,
    is_admin: bool,
    is_auditor: bool,
    maracs: Vec<MaracView>,
    second_factor: bool,
    cross_reference: bool,
}

/// `GET /`.
///
/// # Errors
/// Database failures.
pub async fn show(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ViewHome, "home").await?;
    let actor = me.actor();
    let agencies = state.store.list_agencies().await?;
    let all = state.store.list_maracs().await?;
    let own = agencies.iter().find(|a| Some(a.id) == me.user.agency_id);
    let cross_reference = own.is_some_and(|a| {
        let social_care = a.category == marac_domain::AgencyCategory::ChildrensSocialCare;
        all.iter().any(|m| {
            let action = Action::CrossReferenceList { marac_id: m.id, list_agency_id: a.id, social_care };
            authorise(&actor, action).is_ok()
        })
    });
    let maracs = all
        .into_iter()
        .filter(|m| me.user.grants.iter().any(|g| g.role.is_per_marac() && g.marac_id.is_none_or(|id| id == m.id)))
        .map(|m| MaracView {
            agencies: agencies.iter().filter(|a| a.marac_ids.contains(&m.id)).count(),
            recommended: m.rules.recommended_cases_a_year(u64::try_from(m.adult_female_population).unwrap_or(0)),
            name: m.name,
            area: m.area,
            cadence: m.cadence.label(),
            threshold: m.rules.high_risk_threshold,
            capacity: m.rules.meeting_capacity,
        })
        .collect();
    Ok(HomePage {
        ctx: PageContext::new(&state, &me.visitor, "Home", "/"),
        first_name: me.user.name.split_whitespace().next().unwrap_or("").to_owned(),
        roles: role_views(&state, &me.user).await?,
        is_admin: authorise(&actor, Action::ManageConfiguration).is_ok(),
        is_auditor: authorise(&actor, Action::ReadAuditTrail).is_ok(),
        maracs,
        second_factor: me.user.totp_secret.is_some(),
        cross_reference,
    }
    .into_response())
}
