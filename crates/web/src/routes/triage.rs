//! The coordinator's queue of new referrals.

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use marac_app::casework::{self, Purpose};
use marac_app::store::{ReferralFilter, ReferralStatus};
use marac_domain::policy::{Action, authorise};
use marac_domain::referral_form::FormMap;

/// One referral waiting for triage.
pub struct QueueRow {
    /// Link.
    pub href: String,
    /// Reference.
    pub reference: String,
    /// Received.
    pub received: String,
    /// Victim.
    pub victim: String,
    /// Marac code.
    pub marac: String,
    /// Score.
    pub score: i64,
    /// Criteria met.
    pub criteria: String,
    /// Repeat.
    pub repeat: bool,
    /// Children.
    pub children: i64,
    /// Victim's age band.
    pub age_group: String,
    /// Referring agency.
    pub agency: String,
    /// Another Marac holding the case of these people, and the transfer question's page.
    pub elsewhere: Option<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "triage.html")]
struct QueuePage {
    ctx: PageContext,
    rows: Vec<QueueRow>,
}

/// `GET /triage`.
///
/// # Errors
/// Refused to anyone who coordinates no Marac.
pub async fn queue(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    let actor = me.actor();
    let maracs = state.store.list_maracs().await?;
    let mine: Vec<i64> = maracs
        .iter()
        .filter(|m| authorise(&actor, Action::TriageReferrals { marac_id: m.id }).is_ok())
        .map(|m| m.id)
        .collect();
    if mine.is_empty() {
        me.authorise(&state, Action::TriageReferrals { marac_id: 0 }, "triage").await?;
    }
    let agencies = state.store.list_agencies().await?;
    let waiting = state
        .store
        .list_referrals(&ReferralFilter {
            marac_ids: Some(mine),
            statuses: vec![ReferralStatus::Submitted],
            limit: 500,
            ..Default::default()
        })
        .await?;
    let mut rows = Vec::new();
    for r in &waiting {
        let map: FormMap = casework::open(&state, Purpose::Form, &r.form_sealed)?;
        let elsewhere = match r.known_case_id {
            Some(_) => state.store.case_transfer_for_referral(r.id).await?.map(|t| {
                let holder =
                    maracs.iter().find(|m| m.id == t.from_marac_id).map(|m| m.name.clone()).unwrap_or_default();
                (holder, format!("/transfers/{}", t.id))
            }),
            None => None,
        };
        rows.push(QueueRow {
            href: format!("/referrals/{}", r.id),
            reference: r.reference.clone().unwrap_or_default(),
            received: r.referral_date.map(crate::routes::display_date).unwrap_or_default(),
            victim: casework::victim_name(&map),
            marac: maracs.iter().find(|m| m.id == r.marac_id).map(|m| m.code.clone()).unwrap_or_default(),
            score: r.score.unwrap_or(0),
            criteria: r.criteria.iter().map(|c| c.label()).collect::<Vec<_>>().join(", "),
            repeat: r.is_repeat,
            children: r.children_count,
            age_group: r.victim_age_group.clone(),
            agency: agencies.iter().find(|a| a.id == r.referring_agency_id).map(|a| a.name.clone()).unwrap_or_default(),
            elsewhere,
        });
    }
    // Oldest first: the queue is worked in the order referrals arrived.
    rows.reverse();
    let ids: Vec<i64> = waiting.iter().map(|r| r.id).collect();
    state
        .store
        .append_audit(me.audit(&state, "triage.view", "triage", serde_json::json!({ "referrals": ids })))
        .await?;
    Ok(QueuePage { ctx: PageContext::new(&state, &me.visitor, "Referrals to triage", "/triage"), rows }.into_response())
}
