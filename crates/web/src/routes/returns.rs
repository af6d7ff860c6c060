//! The SafeLives Marac return, for a Marac or a whole partnership, per quarter or per meeting:
//! the page, and the same figures as CSV, XLSX and JSON. Coordinators see their own Marac's
//! figures exactly; analysts, board members and chairs see small numbers suppressed. Every view
//! and download is audited and marked OFFICIAL-SENSITIVE.

use crate::AppState;
use crate::error::AppError;
use crate::forms::Params;
use crate::page::PageContext;
use crate::routes::admin::Choice;
use crate::routes::display_date;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use marac_domain::period::Quarter;
use marac_domain::policy::{Action, authorise};
use marac_domain::safelives_return::{self, Check, Line, MeetingCounts, Population};
use marac_store::{Marac, MeetingReturn, ReturnScope};
use serde::{Deserialize, Serialize};

/// The marking on every page and file.
pub const MARKING: &str = "OFFICIAL-SENSITIVE";

/// Quarters offered, newest first.
const QUARTERS_OFFERED: usize = 12;

/// What was asked for, from the query string.
#[derive(Debug, Default, Deserialize)]
pub struct ReturnQuery {
    /// `marac:ID` or `partnership:ID`.
    scope: Option<String>,
    /// `2026-q3`.
    quarter: Option<String>,
    /// One meeting of the scope, for its own return.
    meeting: Option<String>,
    /// `csv`, `xlsx` or `json`, for downloads.
    format: Option<String>,
}

/// One meeting's line in the list of meetings of the period.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingRow {
    /// The meeting.
    pub meeting_id: i64,
    /// Its Marac's code.
    pub marac: String,
    /// Its day.
    pub held_on: String,
    /// Cases heard.
    pub cases: u32,
    /// Repeats.
    pub repeats: u32,
    /// Children.
    pub children: u32,
}

/// A return worked out for someone.
#[derive(Debug, Clone, Serialize)]
pub struct Built {
    /// The marking.
    pub classification: &'static str,
    /// The Marac or partnership.
    pub scope: String,
    /// The quarter, or the meeting.
    pub period: String,
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// Small numbers hidden.
    pub suppressed: bool,
    /// The figures.
    pub lines: Vec<Line>,
    /// The checks on them.
    pub checks: Vec<Check>,
    /// The meetings, for those who see exact figures.
    pub meetings: Vec<MeetingRow>,
    #[serde(skip)]
    query: String,
    #[serde(skip)]
    meeting_id: Option<i64>,
}

/// Maracs the person may see figures for, and whether exactly.
fn visible(me: &Signed, maracs: &[Marac]) -> Vec<(Marac, bool)> {
    let actor = me.actor();
    maracs
        .iter()
        .filter(|m| authorise(&actor, Action::ViewAggregateFigures { marac_id: m.id }).is_ok())
        .map(|m| (m.clone(), authorise(&actor, Action::ViewExactFigures { marac_id: m.id }).is_ok()))
        .collect()
}

/// The scopes on offer: each Marac, and each partnership all of whose Maracs the person sees.
async fn scopes(state: &AppState, me: &Signed) -> Result<Vec<(String, String, Vec<(Marac, bool)>)>, AppError> {
    let all = state.store.list_maracs().await?;
    let seen = visible(me, &all);
    let mut out = Vec::new();
    for p in state.store.list_partnerships().await? {
        let members: Vec<&Marac> = all.iter().filter(|m| m.partnership_id == p.id).collect();
        let mine: Vec<(Marac, bool)> = seen.iter().filter(|(m, _)| m.partnership_id == p.id).cloned().collect();
        if members.len() > 1 && mine.len() == members.len() {
            out.push((format!("partnership:{}", p.id), format!("{} (all its Maracs)", p.name), mine));
        }
    }
    for (m, exact) in seen {
        out.push((format!("marac:{}", m.id), m.name.clone(), vec![(m, exact)]));
    }
    Ok(out)
}

/// Works out the return asked for, refusing (and auditing) anything the person may not see.
async fn build(state: &AppState, me: &Signed, q: &ReturnQuery) -> Result<(Built, Vec<Choice>, Vec<Choice>), AppError> {
    let offered = scopes(state, me).await?;
    if offered.is_empty() {
        me.authorise(state, Action::ViewAggregateFigures { marac_id: 0 }, "returns").await?;
    }
    let chosen = match q.scope.as_deref() {
        None | Some("") => offered.first(),
        Some(code) => match offered.iter().find(|(c, _, _)| c == code) {
            Some(found) => Some(found),
            // Asking for a scope not on offer is a refusal, audited like any other.
            None => {
                let marac_id = code.strip_prefix("marac:").and_then(|id| id.parse().ok()).unwrap_or(0);
                me.authorise(state, Action::ViewAggregateFigures { marac_id }, code).await?;
                return Err(AppError::NotFound);
            }
        },
    };
    let Some((scope_code, scope_name, maracs)) = chosen else { return Err(AppError::Forbidden) };
    let today = state.clock.now().date();
    let quarter = match q.quarter.as_deref() {
        None | Some("") => Quarter::containing(today).previous(),
        Some(code) => Quarter::parse(code).ok_or(AppError::BadRequest)?,
    };
    let exact = maracs.iter().all(|(_, e)| *e);
    let scope = ReturnScope {
        marac_ids: maracs.iter().map(|(m, _)| m.id).collect(),
        from: quarter.first_day(),
        to: quarter.last_day(),
    };
    let returns: Vec<MeetingReturn> = state.store.meeting_returns(&scope).await?;
    let code_of = |id: i64| maracs.iter().find(|(m, _)| m.id == id).map(|(m, _)| m.code.clone()).unwrap_or_default();
    let meeting = match q.meeting.as_deref().filter(|m| !m.is_empty()) {
        None => None,
        // A single meeting's figures are small by nature: exact viewers only.
        Some(_) if !exact => return Err(AppError::Forbidden),
        Some(raw) => {
            let id: i64 = raw.parse().map_err(|_| AppError::BadRequest)?;
            Some(returns.iter().find(|r| r.meeting_id == id).ok_or(AppError::NotFound)?.clone())
        }
    };
    let (counts, population, period, from, to) = match &meeting {
        Some(m) => (
            m.counts.clone(),
            // A rate per 10,000 women means nothing for one day's meeting.
            Population { adult_women: 0, days: 1, recommended_per_10k: 0 },
            format!("Meeting of {}, {}", code_of(m.marac_id), display_date(m.held_on)),
            m.held_on,
            m.held_on,
        ),
        None => {
            let women: i64 = maracs.iter().map(|(m, _)| m.adult_female_population).sum();
            let weighted: i64 = maracs
                .iter()
                .map(|(m, _)| m.adult_female_population * i64::from(m.rules.recommended_cases_per_10k))
                .sum();
            let recommended = if women > 0 { weighted / women } else { 40 };
            (
                MeetingCounts::total(returns.iter().map(|r| &r.counts)),
                Population {
                    adult_women: u64::try_from(women).unwrap_or(0),
                    days: quarter.days(),
                    recommended_per_10k: u32::try_from(recommended).unwrap_or(40),
                },
                quarter.label(),
                quarter.first_day(),
                quarter.last_day(),
            )
        }
    };
    let mut lines = safelives_return::lines(&counts, population);
    if !exact {
        safelives_return::suppress(&mut lines, state.config.suppress_below);
    }
    let meetings = if exact {
        returns
            .iter()
            .map(|r| MeetingRow {
                meeting_id: r.meeting_id,
                marac: code_of(r.marac_id),
                held_on: display_date(r.held_on),
                cases: r.counts.cases,
                repeats: r.counts.repeats,
                children: r.counts.children,
            })
            .collect()
    } else {
        Vec::new()
    };
    let query = serde_urlencoded::to_string([("scope", scope_code.as_str()), ("quarter", quarter.code().as_str())])
        .unwrap_or_default();
    let scope_choices =
        offered.iter().map(|(code, name, _)| Choice::new(code, name.clone(), code == scope_code)).collect();
    let mut quarters = Vec::new();
    let mut q_offered = Quarter::containing(today);
    for _ in 0..QUARTERS_OFFERED {
        quarters.push(Choice::new(q_offered.code(), q_offered.label(), q_offered == quarter));
        q_offered = q_offered.previous();
    }
    let built = Built {
        classification: MARKING,
        scope: scope_name.clone(),
        period,
        from: from.to_string(),
        to: to.to_string(),
        suppressed: !exact,
        checks: safelives_return::checks(&counts),
        lines,
        meetings,
        query,
        meeting_id: meeting.as_ref().map(|m| m.meeting_id),
    };
    Ok((built, scope_choices, quarters))
}

#[derive(Template, WebTemplate)]
#[template(path = "returns/show.html")]
struct ReturnPage {
    ctx: PageContext,
    built: Built,
    scopes: Vec<Choice>,
    quarters: Vec<Choice>,
    marking: &'static str,
    threshold: u32,
}

/// `GET /returns`: the SafeLives return for a scope and quarter (or one meeting).
///
/// # Errors
/// Refused to anyone who sees no Marac's figures; 400 for a malformed quarter or meeting.
pub async fn show(
    State(state): State<AppState>,
    me: Signed,
    Params(q): Params<ReturnQuery>,
) -> Result<Response, AppError> {
    let (built, scopes, quarters) = build(&state, &me, &q).await?;
    let event = me.audit(
        &state,
        "returns.view",
        "returns",
        serde_json::json!({ "scope": built.scope, "period": built.period, "suppressed": built.suppressed }),
    );
    state.store.append_audit(event).await?;
    Ok(ReturnPage {
        ctx: PageContext::new(&state, &me.visitor, "SafeLives return", "/returns"),
        built,
        scopes,
        quarters,
        marking: MARKING,
        threshold: state.config.suppress_below,
    }
    .into_response())
}

/// `GET /returns/download`: the same return as CSV, XLSX or JSON.
///
/// # Errors
/// As [`show`]; 400 for an unknown format.
pub async fn download(
    State(state): State<AppState>,
    me: Signed,
    Params(q): Params<ReturnQuery>,
) -> Result<Response, AppError> {
    let format = q.format.clone().unwrap_or_default();
    if !["csv", "xlsx", "json"].contains(&format.as_str()) {
        return Err(AppError::BadRequest);
    }
    let (built, _, _) = build(&state, &me, &q).await?;
    let event = me.audit(
        &state,
        "returns.download",
        "returns",
        serde_json::json!({ "scope": built.scope, "period": built.period, "format": format, "suppressed": built.suppressed }),
    );
    state.store.append_audit(event).await?;
    let name = format!("safelives-return-{}-{}.{format}", built.from, built.to);
    let (content_type, body) = match format.as_str() {
        "csv" => ("text/csv; charset=utf-8", crate::returns_files::csv(&built).map_err(AppError::Internal)?),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            crate::returns_files::xlsx(&built).map_err(AppError::Internal)?,
        ),
        _ => ("application/json", serde_json::to_vec_pretty(&built).map_err(|e| AppError::Internal(e.into()))?),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

impl Built {
    /// The query string of the scope and quarter (for links to its meetings' returns).
    #[must_use]
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The query string that asks for this very return again (for the download links).
    #[must_use]
    pub fn this_query(&self) -> String {
        match self.meeting_id {
            Some(m) => format!("{}&meeting={m}", self.query),
            None => self.query.clone(),
        }
    }
}
