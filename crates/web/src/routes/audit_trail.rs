//! The auditor's view of the audit trail, with filters and paging back in time.

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use marac_app::store::{AuditFilter, Ts};
use marac_domain::policy::Action;
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

const PAGE: i64 = 50;

/// Filters from the query string.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
}

struct Row {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    ip: String,
    detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: PageContext,
    rows: Vec<Row>,
    action: String,
    actor: String,
    outcome: String,
    from: String,
    to: String,
    error: Option<&'static str>,
    older: Option<String>,
}

fn parse_day(s: &str) -> Option<Date> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()
}

/// `GET /audit`.
///
/// # Errors
/// Refused to everyone but auditors; database failures.
pub async fn list(
    State(state): State<AppState>,
    me: Signed,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    me.authorise(&state, Action::ReadAuditTrail, "audit").await?;
    let text = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut error = None;
    let day = |s: &Option<String>, error: &mut Option<&'static str>| -> Option<Ts> {
        let raw = text(s)?;
        match parse_day(&raw) {
            Some(d) => Some(Ts::new(OffsetDateTime::new_utc(d, Time::MIDNIGHT))),
            None => {
                *error = Some("Enter dates as year-month-day, like 2026-11-23");
                None
            }
        }
    };
    let from = day(&q.from, &mut error);
    let to = day(&q.to, &mut error).map(|t| Ts::new(t.0 + time::Duration::days(1)));
    let filter = AuditFilter {
        action_prefix: text(&q.action),
        actor_contains: text(&q.actor),
        outcome: text(&q.outcome).filter(|o| ["success", "failure", "denied"].contains(&o.as_str())),
        from,
        to,
        before_seq: q.before,
        limit: PAGE,
    };
    let events = state.store.list_audit(&filter).await?;
    // Reading the audit trail is itself recorded.
    let event = me.audit(&state, "audit.read", "audit", serde_json::json!({ "shown": events.len() }));
    state.store.append_audit(event).await?;
    let older = (i64::try_from(events.len()).unwrap_or(0) == PAGE).then(|| {
        let last = events.last().map_or(0, |e| e.seq);
        let enc =
            |s: &str| serde_urlencoded::to_string([("v", s)]).unwrap_or_default().trim_start_matches("v=").to_owned();
        format!(
            "/audit?action={}&actor={}&outcome={}&from={}&to={}&before={last}",
            enc(q.action.as_deref().unwrap_or("")),
            enc(q.actor.as_deref().unwrap_or("")),
            enc(q.outcome.as_deref().unwrap_or("")),
            enc(q.from.as_deref().unwrap_or("")),
            enc(q.to.as_deref().unwrap_or(""))
        )
    });
    let rows = events
        .into_iter()
        .map(|e| Row {
            seq: e.seq,
            at: crate::routes::display_at(e.event.at),
            actor: e.event.actor_label,
            action: e.event.action,
            target: e.event.target,
            outcome: e.event.outcome,
            ip: e.event.ip,
            detail: if e.event.detail == "{}" { String::new() } else { e.event.detail },
        })
        .collect();
    Ok(AuditPage {
        ctx: PageContext::new(&state, &me.visitor, "Audit trail", "/audit"),
        rows,
        action: q.action.unwrap_or_default(),
        actor: q.actor.unwrap_or_default(),
        outcome: q.outcome.unwrap_or_default(),
        from: q.from.unwrap_or_default(),
        to: q.to.unwrap_or_default(),
        error,
        older,
    }
    .into_response())
}
