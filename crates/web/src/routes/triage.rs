//! The coordinator's queue of new referrals.

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::paging::Pagination;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use marac_app::casework::{self, Purpose};
use marac_app::store::{ReferralFilter, ReferralStatus};
use marac_domain::paging::PageRequest;
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
    /// What the last decision did, said in a banner.
    done: Option<String>,
    total: u64,
    pagination: Pagination,
}

/// The queue's address: which page, and what was just decided (codes and ids only).
#[derive(Debug, Default, serde::Deserialize)]
pub struct QueueQuery {
    page: Option<String>,
    done: Option<String>,
    referral: Option<String>,
    meeting: Option<String>,
}

/// The banner after a decision: "Referral TM-2026-00001 accepted and listed for the meeting on
/// 30 November 2026". Only what the coordinator may see of the referral named is said.
async fn done_banner(state: &AppState, me: &Signed, q: &QueueQuery) -> Result<Option<String>, AppError> {
    let id = |v: &Option<String>| v.as_deref().and_then(|v| v.trim().parse::<i64>().ok());
    let (Some(done), Some(referral)) = (q.done.as_deref(), id(&q.referral)) else { return Ok(None) };
    let r = match state.store.get_referral(referral).await {
        Ok(r) => r,
        Err(marac_app::store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if authorise(&me.actor(), Action::TriageReferrals { marac_id: r.marac_id }).is_err() {
        return Ok(None);
    }
    let reference = r.reference.unwrap_or_default();
    Ok(match done {
        "listed" => {
            let on = match id(&q.meeting) {
                Some(m) => match state.store.get_meeting(m).await {
                    Ok(meeting) if meeting.details.marac_id == r.marac_id => {
                        format!(" for the meeting on {}", crate::routes::display_date(meeting.details.held_on))
                    }
                    Ok(_) | Err(marac_app::store::StoreError::NotFound) => String::new(),
                    Err(e) => return Err(e.into()),
                },
                None => String::new(),
            };
            Some(format!("Referral {reference} accepted and listed{on}"))
        }
        "accepted" => Some(format!("Referral {reference} accepted: it waits for a meeting")),
        "returned" => Some(format!("Referral {reference} sent back to the referrer with your question")),
        "declined" => Some(format!("Referral {reference} declined")),
        _ => None,
    })
}

/// `GET /triage`: the referrals waiting for a decision, oldest first, a page at a time.
///
/// # Errors
/// Refused to anyone who coordinates no Marac.
pub async fn queue(
    State(state): State<AppState>,
    me: Signed,
    Query(q): Query<QueueQuery>,
) -> Result<Response, AppError> {
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
    let page = state
        .store
        .page_referrals(
            &ReferralFilter { marac_ids: Some(mine), statuses: vec![ReferralStatus::Submitted], ..Default::default() },
            PageRequest::from_query(q.page.as_deref()),
            true,
        )
        .await?;
    let waiting = &page.rows;
    let mut rows = Vec::new();
    for r in waiting {
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
    let ids: Vec<i64> = waiting.iter().map(|r| r.id).collect();
    state
        .store
        .append_audit(me.audit(&state, "triage.view", "triage", serde_json::json!({ "referrals": ids })))
        .await?;
    Ok(QueuePage {
        ctx: PageContext::new(&state, &me.visitor, "Referrals to triage", "/triage"),
        rows,
        done: done_banner(&state, &me, &q).await?,
        total: page.total,
        pagination: Pagination::new(&page, "/triage", &[]),
    }
    .into_response())
}
