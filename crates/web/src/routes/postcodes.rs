//! Referrals by the victim's postcode district or sector, for the council's mapping: the page,
//! and the same counts as CSV. Suppressed for those who see suppressed figures; audited and
//! marked like every other figure.

use crate::AppState;
use crate::error::AppError;
use crate::forms::Params;
use crate::page::PageContext;
use crate::routes::admin::Choice;
use crate::routes::returns::{MARKING, resolve};
use crate::session::Signed;
use anyhow::Context;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use marac_domain::areas::{self, Level};
use marac_domain::safelives_return::Line;
use serde::Deserialize;

/// The scope, quarter, level and format asked for.
#[derive(Debug, Default, Deserialize)]
pub struct AreaQuery {
    scope: Option<String>,
    quarter: Option<String>,
    level: Option<String>,
    format: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "returns/postcodes.html")]
struct AreaPage {
    ctx: PageContext,
    scope: String,
    period: String,
    query: String,
    path: &'static str,
    level: &'static str,
    scopes: Vec<Choice>,
    quarters: Vec<Choice>,
    levels: Vec<Choice>,
    lines: Vec<Line>,
    suppressed: bool,
    threshold: u32,
    marking: &'static str,
}

fn csv(lines: &[Line], scope: &str, period: &str, level: Level, suppressed: bool) -> anyhow::Result<Vec<u8>> {
    let mut w = crate::spreadsheet::SafeCsv::in_memory();
    w.write_record(["classification", MARKING])?;
    w.write_record(["scope", scope])?;
    w.write_record(["period", period])?;
    w.write_record(["small_numbers_suppressed", if suppressed { "yes" } else { "no" }])?;
    w.write_record([level.code(), "referrals", "value"])?;
    for l in lines {
        w.write_record([
            l.label.as_str(),
            &l.figure.text(),
            &l.figure.number().map(|n| n.to_string()).unwrap_or_default(),
        ])?;
    }
    w.into_inner().context("finishing the CSV")
}

/// `GET /returns/postcodes`: referrals by postcode district or sector, as a page or (with
/// `format=csv`) a download.
///
/// # Errors
/// Refused to anyone who sees no Marac's figures; 400 for an unknown level or format.
pub async fn show(
    State(state): State<AppState>,
    me: Signed,
    Params(q): Params<AreaQuery>,
) -> Result<Response, AppError> {
    let r = resolve(&state, &me, q.scope.as_deref(), q.quarter.as_deref()).await?;
    let level = match q.level.as_deref() {
        None | Some("") => Level::District,
        Some(l) => Level::from_code(l).ok_or(AppError::BadRequest)?,
    };
    let counts = state.store.postcode_counts(&r.scope(r.quarter)).await?;
    let suppressed = !r.exact();
    let threshold = state.config.suppress_below;
    let lines = areas::lines(&counts, level, suppressed.then_some(threshold));
    let download = match q.format.as_deref() {
        None | Some("") => false,
        Some("csv") => true,
        Some(_) => return Err(AppError::BadRequest),
    };
    let event = me.audit(
        &state,
        if download { "returns.postcodes.download" } else { "returns.postcodes.view" },
        "returns/postcodes",
        serde_json::json!({ "scope": r.name, "quarter": r.quarter.code(), "level": level.code(), "suppressed": suppressed }),
    );
    state.store.append_audit(event).await?;
    if download {
        let body = csv(&lines, &r.name, &r.quarter.label(), level, suppressed).map_err(AppError::Internal)?;
        let name = format!("referrals-by-postcode-{}-{}.csv", level.code(), r.quarter.code());
        return Ok(crate::routes::download(&name, "text/csv; charset=utf-8", body));
    }
    Ok(AreaPage {
        ctx: PageContext::new(&state, &me.visitor, "Referrals by postcode", "/returns"),
        scope: r.name.clone(),
        period: r.quarter.label(),
        query: r.query(),
        path: "/returns/postcodes",
        level: level.code(),
        levels: [Level::District, Level::Sector]
            .iter()
            .map(|l| {
                Choice::new(
                    l.code(),
                    if *l == Level::District { "District (NS1)" } else { "Sector (NS1 4)" },
                    *l == level,
                )
            })
            .collect(),
        scopes: r.scope_choices.clone(),
        quarters: r.quarter_choices.clone(),
        lines,
        suppressed,
        threshold,
        marking: MARKING,
    }
    .into_response())
}
