//! Dashboards: the Marac's health against SafeLives recommendations and the children's
//! safeguarding partnership's measures, each measure with its definition, target, status and a
//! trend over the last quarters (a chart with its table beside it). Figures from outside the
//! records are entered here per partnership and quarter by a coordinator, with who and when.

use crate::AppState;
use crate::charts;
use crate::error::AppError;
use crate::forms::{Errors, FormData, Params};
use crate::page::PageContext;
use crate::routes::admin::Choice;
use crate::routes::returns::{MARKING, Resolved, resolve};
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{AgencyAttendance, PartnershipFigure, Ts};
use marac_domain::measures::{self, ActionFacts, Attendance, Facts, Measure, OUTSIDE_MEASURES, Outside, Status};
use marac_domain::period::Quarter;
use marac_domain::policy::Action;
use marac_domain::safelives_return::MeetingCounts;
use marac_domain::{AgencyCategory, fields::number_in_range};
use serde::Deserialize;

/// Quarters in each trend, the chosen one last.
const TREND_QUARTERS: usize = 4;

/// Which dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Board {
    Health,
    Children,
}

/// The scope and quarter asked for.
#[derive(Debug, Default, Deserialize)]
pub struct BoardQuery {
    scope: Option<String>,
    quarter: Option<String>,
}

/// One measure's row.
pub struct MeasureRow {
    /// Key.
    pub key: &'static str,
    /// Label.
    pub label: &'static str,
    /// Definition.
    pub definition: &'static str,
    /// Target, or empty.
    pub target: &'static str,
    /// This quarter's figure.
    pub figure: String,
    /// Status.
    pub status: Status,
    /// The trend chart (SVG built by [`charts::trend`], labels escaped).
    pub chart: String,
    /// The trend's figures: (quarter, figure).
    pub trend: Vec<(String, String)>,
}

impl MeasureRow {
    /// The tag colour for the status.
    #[must_use]
    pub fn tag(&self) -> &'static str {
        match self.status {
            Status::Met => "govuk-tag--green",
            Status::NotMet => "govuk-tag--red",
            Status::NotHeld => "govuk-tag--grey",
            Status::NoTarget => "govuk-tag--blue",
        }
    }
}

/// A figure from outside the records as the form shows it.
pub struct OutsideRow {
    /// Key (the field's name).
    pub key: &'static str,
    /// Label.
    pub label: &'static str,
    /// Value as typed or stored.
    pub value: String,
    /// Who entered it and when.
    pub entered: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "returns/dashboard.html")]
struct BoardPage {
    ctx: PageContext,
    heading: &'static str,
    path: &'static str,
    scope: String,
    period: String,
    query: String,
    quarter: String,
    scope_code: String,
    scopes: Vec<Choice>,
    quarters: Vec<Choice>,
    marking: &'static str,
    suppressed: bool,
    threshold: u32,
    rows: Vec<MeasureRow>,
    attendance_chart: String,
    attendance: Vec<(String, u32, u32, String)>,
    outside: Vec<OutsideRow>,
    can_enter: bool,
    errors: Errors,
}

/// Gathers one quarter's facts for a scope.
async fn facts(state: &AppState, r: &Resolved, quarter: Quarter) -> Result<(Facts, Vec<AgencyAttendance>), AppError> {
    let scope = r.scope(quarter);
    let returns = state.store.meeting_returns(&scope).await?;
    let a = state.store.action_counts(&scope).await?;
    let attendance_rows = state.store.agency_attendance(&scope).await?;
    let screening = state.store.screening(&scope).await?;
    let early = |status: Option<&str>| a.count(Some("early_help"), status);
    let actions = ActionFacts {
        cases_with_perpetrator_action: a.cases_with_perpetrator_action,
        cases_with_child_action: a.cases_with_child_action,
        agreed: a.count(None, None),
        done: a.count(None, Some("done")),
        early_help: early(None),
        early_help_taken_up: early(Some("done")),
        early_help_not_taken_up: early(Some("not_done_circumstances")) + early(Some("not_done_agency")),
        right_to_know: a.count(Some("right_to_know"), None),
        child_protection_conference: a.count(Some("child_protection_conference"), None),
        mappa: a.count(Some("mappa"), None),
        child_exploitation_panel: a.count(Some("child_exploitation_panel"), None),
    };
    let attendance = AgencyCategory::ALL
        .iter()
        .map(|c| {
            let (invited, present) = attendance_rows
                .iter()
                .filter(|x| x.category == *c)
                .fold((0, 0), |(i, p), x| (i + x.invited, p + x.present));
            Attendance { category: *c, invited, present }
        })
        .filter(|x| x.invited > 0)
        .collect();
    let outside = match partnership_of(r) {
        Some(p) => state
            .store
            .partnership_figures(p, &quarter.code())
            .await?
            .into_iter()
            .map(|f| Outside { key: f.measure, value: u32::try_from(f.value).unwrap_or(0) })
            .collect(),
        None => Vec::new(),
    };
    let f = Facts {
        counts: MeetingCounts::total(returns.iter().map(|m| &m.counts)),
        actions,
        attendance,
        high_risk_decided: screening.high_risk,
        high_risk_screened_out: screening.screened_out,
        outside,
        population: Some(r.population(quarter)),
    };
    Ok((f, attendance_rows))
}

/// The one partnership the scope's Maracs belong to; none for a scope across partnerships.
fn partnership_of(r: &Resolved) -> Option<i64> {
    let first = r.maracs.first().map(|(m, _)| m.partnership_id)?;
    r.maracs.iter().all(|(m, _)| m.partnership_id == first).then_some(first)
}

fn measures_of(board: Board, f: &Facts, r: &Resolved, threshold: u32) -> Vec<Measure> {
    let mut m = match board {
        Board::Health => measures::marac_health(f),
        Board::Children => measures::children(f),
    };
    if !r.exact() {
        measures::suppress(&mut m, threshold);
    }
    m
}

async fn page(
    state: &AppState,
    me: &Signed,
    board: Board,
    r: Resolved,
    form: Option<FormData>,
    errors: Errors,
) -> Result<Response, AppError> {
    let mut quarters = vec![r.quarter];
    while quarters.len() < TREND_QUARTERS {
        let earliest = quarters[0];
        quarters.insert(0, earliest.previous());
    }
    let threshold = state.config.suppress_below;
    let mut per_quarter = Vec::new();
    let mut current_attendance = Vec::new();
    for q in &quarters {
        let (f, attendance) = facts(state, &r, *q).await?;
        per_quarter.push(measures_of(board, &f, &r, threshold));
        current_attendance = attendance;
    }
    let current = per_quarter.last().cloned().unwrap_or_default();
    let rows = current
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let points: Vec<(String, Option<f64>)> =
                quarters.iter().zip(&per_quarter).map(|(q, ms)| (short(*q), ms[i].figure.number())).collect();
            MeasureRow {
                key: m.key,
                label: m.label,
                definition: m.definition,
                target: m.target.unwrap_or(""),
                figure: m.figure.text(),
                status: m.status,
                chart: charts::trend(&format!("chart-{}", m.key), &format!("{} by quarter", m.label), &points),
                trend: quarters.iter().zip(&per_quarter).map(|(q, ms)| (short(*q), ms[i].figure.text())).collect(),
            }
        })
        .collect();
    // Attendance by agency: exact viewers only, since one agency's attendance is not about a
    // victim but small meetings make small numbers.
    let shares: Vec<(String, u32, u32, f64)> = if board == Board::Health && r.exact() {
        current_attendance
            .iter()
            .map(|a| {
                let share = if a.invited == 0 { 0.0 } else { f64::from(a.present) * 100.0 / f64::from(a.invited) };
                (a.name.clone(), a.invited, a.present, share)
            })
            .collect()
    } else {
        Vec::new()
    };
    let attendance_chart = if shares.is_empty() {
        String::new()
    } else {
        let rows: Vec<(String, f64)> = shares.iter().map(|(name, _, _, share)| (name.clone(), *share)).collect();
        charts::bars("chart-attendance", "Attendance by agency at the quarter's held meetings", &rows)
    };
    let attendance: Vec<(String, u32, u32, String)> = shares
        .into_iter()
        .map(|(name, invited, present, share)| (name, invited, present, format!("{share:.0}%")))
        .collect();
    let marac_ids: Vec<i64> = r.maracs.iter().map(|(m, _)| m.id).collect();
    let can_enter = board == Board::Children
        && marac_domain::policy::authorise(&me.actor(), Action::EnterPartnershipFigures { marac_ids: &marac_ids })
            .is_ok();
    let mut outside = Vec::new();
    if board == Board::Children {
        let stored = match partnership_of(&r) {
            Some(p) => state.store.partnership_figures(p, &r.quarter.code()).await?,
            None => Vec::new(),
        };
        for (key, label) in OUTSIDE_MEASURES {
            let found = stored.iter().find(|f| f.measure == *key);
            let entered = match found {
                Some(f) => format!(
                    "Entered by {} on {}",
                    state.store.get_user(f.entered_by).await.map(|u| u.name).unwrap_or_default(),
                    crate::routes::display_day(f.entered_at)
                ),
                None => "Not entered".to_owned(),
            };
            let value = match &form {
                Some(form) => form.get(key).to_owned(),
                None => found.map(|f| f.value.to_string()).unwrap_or_default(),
            };
            outside.push(OutsideRow { key, label, value, entered });
        }
    }
    let (heading, path) = match board {
        Board::Health => ("Marac health against SafeLives recommendations", "/returns/health"),
        Board::Children => ("Children's safeguarding measures", "/returns/children"),
    };
    let event = me.audit(
        state,
        "returns.dashboard",
        path,
        serde_json::json!({ "scope": r.name, "quarter": r.quarter.code(), "suppressed": !r.exact() }),
    );
    state.store.append_audit(event).await?;
    Ok(BoardPage {
        ctx: PageContext::new(state, &me.visitor, heading, "/returns"),
        heading,
        path,
        scope: r.name.clone(),
        period: r.quarter.label(),
        query: r.query(),
        quarter: r.quarter.code(),
        scope_code: r.code.clone(),
        scopes: r.scope_choices.clone(),
        quarters: r.quarter_choices.clone(),
        marking: MARKING,
        suppressed: !r.exact(),
        threshold,
        rows,
        attendance_chart,
        attendance,
        outside,
        can_enter,
        errors,
    }
    .into_response())
}

/// "Jul–Sep 2026".
fn short(q: Quarter) -> String {
    let month = |d: time::Date| d.month().to_string().chars().take(3).collect::<String>();
    format!("{}–{} {}", month(q.first_day()), month(q.last_day()), q.year)
}

/// `GET /returns/health`: the Marac's health against SafeLives recommendations.
///
/// # Errors
/// Refused to anyone who sees no Marac's figures.
pub async fn health(
    State(state): State<AppState>,
    me: Signed,
    Params(q): Params<BoardQuery>,
) -> Result<Response, AppError> {
    let r = resolve(&state, &me, q.scope.as_deref(), q.quarter.as_deref()).await?;
    page(&state, &me, Board::Health, r, None, Errors::default()).await
}

/// `GET /returns/children`: the children's safeguarding partnership's measures.
///
/// # Errors
/// Refused to anyone who sees no Marac's figures.
pub async fn children(
    State(state): State<AppState>,
    me: Signed,
    Params(q): Params<BoardQuery>,
) -> Result<Response, AppError> {
    let r = resolve(&state, &me, q.scope.as_deref(), q.quarter.as_deref()).await?;
    page(&state, &me, Board::Children, r, None, Errors::default()).await
}

/// `POST /returns/children/figures`: enters the quarter's figures from outside the records
/// for the scope's partnership; an empty field leaves a figure as it is.
///
/// # Errors
/// Refused to anyone but a coordinator of one of the partnership's Maracs.
pub async fn enter_figures(State(state): State<AppState>, me: Signed, form: FormData) -> Result<Response, AppError> {
    let r = resolve(&state, &me, Some(form.get("scope")), Some(form.get("quarter"))).await?;
    let marac_ids: Vec<i64> = r.maracs.iter().map(|(m, _)| m.id).collect();
    me.authorise(&state, Action::EnterPartnershipFigures { marac_ids: &marac_ids }, "returns/children").await?;
    let Some(partnership_id) = partnership_of(&r) else { return Err(AppError::NotFound) };
    let mut errors = Errors::default();
    let mut values = Vec::new();
    for (key, label) in OUTSIDE_MEASURES {
        let raw = form.get(key).trim();
        if raw.is_empty() {
            continue;
        }
        match number_in_range(raw, &label.to_lowercase(), 0, 1_000_000) {
            Ok(n) => values.push((*key, n)),
            Err(message) => errors.add(key, message),
        }
    }
    if !errors.is_empty() {
        return page(&state, &me, Board::Children, r, Some(form), errors).await;
    }
    let now = Ts::new(state.clock.now());
    for (key, value) in values {
        let figure = PartnershipFigure { measure: key.to_owned(), value, entered_by: me.user.id, entered_at: now };
        let event = me.audit(
            &state,
            "partnership_figure.set",
            &format!("partnership:{partnership_id}"),
            serde_json::json!({ "quarter": r.quarter.code(), "measure": key, "value": value }),
        );
        state.store.set_partnership_figure(partnership_id, &r.quarter.code(), &figure, event).await?;
    }
    Ok(Redirect::to(&format!("/returns/children?{}#outside", r.query())).into_response())
}
