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
use axum::response::{IntoResponse, Response};
use marac_app::store::{Marac, MeetingReturn, ReturnScope};
use marac_domain::period::Quarter;
use marac_domain::policy::{Action, authorise};
use marac_domain::safelives_return::{self, Check, Line, MeetingCounts, Population};
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
    // Someone who sees Maracs of several partnerships may see them all at once (the national
    // roll-up for a national analyst).
    let partnerships: std::collections::BTreeSet<i64> = seen.iter().map(|(m, _)| m.partnership_id).collect();
    if partnerships.len() > 1 {
        out.insert(0, ("all".to_owned(), format!("All {} Maracs you see", seen.len()), seen.clone()));
    }
    for (m, exact) in seen {
        out.push((format!("marac:{}", m.id), m.name.clone(), vec![(m, exact)]));
    }
    Ok(out)
}

/// A scope and quarter someone may see, resolved from the query string.
pub(crate) struct Resolved {
    /// `marac:ID` or `partnership:ID`.
    pub code: String,
    /// The Marac's or partnership's name.
    pub name: String,
    /// Its Maracs, each with whether the person sees its figures exactly.
    pub maracs: Vec<(Marac, bool)>,
    /// The quarter.
    pub quarter: Quarter,
    /// The scopes on offer, for the picker.
    pub scope_choices: Vec<Choice>,
    /// The quarters on offer, for the picker.
    pub quarter_choices: Vec<Choice>,
}

impl Resolved {
    /// Whether the person sees every figure of the scope exactly.
    pub fn exact(&self) -> bool {
        self.maracs.iter().all(|(_, e)| *e)
    }

    /// The store's scope for a quarter.
    pub fn scope(&self, quarter: Quarter) -> ReturnScope {
        ReturnScope {
            marac_ids: self.maracs.iter().map(|(m, _)| m.id).collect(),
            from: quarter.first_day(),
            to: quarter.last_day(),
        }
    }

    /// The area and the days of a quarter, for rates per 10,000 women.
    pub fn population(&self, quarter: Quarter) -> Population {
        let women: i64 = self.maracs.iter().map(|(m, _)| m.adult_female_population).sum();
        let weighted: i64 = self
            .maracs
            .iter()
            .map(|(m, _)| m.adult_female_population * i64::from(m.rules.recommended_cases_per_10k))
            .sum();
        let recommended = if women > 0 { weighted / women } else { 40 };
        Population {
            adult_women: u64::try_from(women).unwrap_or(0),
            days: quarter.days(),
            recommended_per_10k: u32::try_from(recommended).unwrap_or(40),
        }
    }

    /// The query string of the scope and quarter.
    pub fn query(&self) -> String {
        serde_urlencoded::to_string([("scope", self.code.as_str()), ("quarter", self.quarter.code().as_str())])
            .unwrap_or_default()
    }
}

/// Resolves the scope and quarter asked for, refusing (and auditing) any scope the person may
/// not see; with none asked, the first on offer and the last full quarter.
pub(crate) async fn resolve(
    state: &AppState,
    me: &Signed,
    scope: Option<&str>,
    quarter: Option<&str>,
) -> Result<Resolved, AppError> {
    let offered = scopes(state, me).await?;
    if offered.is_empty() {
        me.authorise(state, Action::ViewAggregateFigures { marac_id: 0 }, "returns").await?;
    }
    let chosen = match scope {
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
    let Some((code, name, maracs)) = chosen else {
        return Err(me.refuse(state, "returns", "no return on offer").await);
    };
    let today = state.clock.today();
    let quarter = match quarter {
        None | Some("") => Quarter::containing(today).previous(),
        Some(q) => Quarter::parse(q).ok_or(AppError::BadRequest)?,
    };
    let mut quarter_choices = Vec::new();
    let mut offer = Quarter::containing(today);
    for _ in 0..QUARTERS_OFFERED {
        quarter_choices.push(Choice::new(offer.code(), offer.label(), offer == quarter));
        offer = offer.previous();
    }
    Ok(Resolved {
        code: code.clone(),
        name: name.clone(),
        maracs: maracs.clone(),
        quarter,
        scope_choices: offered.iter().map(|(c, n, _)| Choice::new(c, n.clone(), c == code)).collect(),
        quarter_choices,
    })
}

/// Works out the return asked for, refusing (and auditing) anything the person may not see.
async fn build(state: &AppState, me: &Signed, q: &ReturnQuery) -> Result<(Built, Vec<Choice>, Vec<Choice>), AppError> {
    let r = resolve(state, me, q.scope.as_deref(), q.quarter.as_deref()).await?;
    let (scope_name, maracs, quarter) = (&r.name, &r.maracs, r.quarter);
    let exact = r.exact();
    let returns: Vec<MeetingReturn> = state.store.meeting_returns(&r.scope(quarter)).await?;
    let code_of = |id: i64| maracs.iter().find(|(m, _)| m.id == id).map(|(m, _)| m.code.clone()).unwrap_or_default();
    let meeting = match q.meeting.as_deref().filter(|m| !m.is_empty()) {
        None => None,
        // A single meeting's figures are small by nature: exact viewers only.
        Some(m) if !exact => {
            let meeting = m.parse::<i64>().unwrap_or(0);
            return Err(me.refuse(state, &format!("return:{}:meeting:{meeting}", r.code), "exact figures only").await);
        }
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
        None => (
            MeetingCounts::total(returns.iter().map(|m| &m.counts)),
            r.population(quarter),
            quarter.label(),
            quarter.first_day(),
            quarter.last_day(),
        ),
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
    let query = r.query();
    let built = Built {
        classification: MARKING,
        scope: scope_name.clone(),
        period,
        from: from.to_string(),
        to: to.to_string(),
        suppressed: !exact,
        // The checks quote exact counts ("2 repeats, 5 cases"): for those who see suppressed
        // figures they would undo the suppression, so they are left out.
        checks: if exact { safelives_return::checks(&counts) } else { Vec::new() },
        lines,
        meetings,
        query,
        meeting_id: meeting.as_ref().map(|m| m.meeting_id),
    };
    Ok((built, r.scope_choices, r.quarter_choices))
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
    Ok(crate::routes::download(&name, content_type, body))
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
