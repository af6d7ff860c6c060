//! Maracs: their area, population, cadence and the thresholds they apply.

use super::{Choice, conflict_to_field, partnership_choices};
use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{Marac, MaracInput};
use marac_domain::fields::{Code, number_in_range, required_text};
use marac_domain::marac_rules::ResearchOpens;
use marac_domain::policy::Action;
use marac_domain::{MaracRules, MeetingCadence};

struct Row {
    marac: Marac,
    partnership: String,
    cadence: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/maracs.html")]
struct ListPage {
    ctx: PageContext,
    rows: Vec<Row>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/marac_form.html")]
struct FormPage {
    ctx: PageContext,
    form: FormData,
    partnerships: Vec<Choice>,
    cadences: Vec<Choice>,
    research: Vec<Choice>,
    errors: Errors,
}

/// `GET /admin/maracs`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn list(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/maracs").await?;
    let partnerships = state.store.list_partnerships().await?;
    let rows = state
        .store
        .list_maracs()
        .await?
        .into_iter()
        .map(|m| Row {
            partnership: partnerships
                .iter()
                .find(|p| p.id == m.partnership_id)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            cadence: m.cadence.label(),
            marac: m,
        })
        .collect();
    Ok(ListPage { ctx: PageContext::new(&state, &me.visitor, "Maracs", "/admin"), rows }.into_response())
}

/// The rule fields as the browser would send them.
fn rule_fields(r: &MaracRules) -> Vec<(String, String)> {
    [
        ("high_risk_threshold", r.high_risk_threshold),
        ("escalation_incidents", r.escalation_incidents),
        ("escalation_months", r.escalation_months),
        ("repeat_months", r.repeat_months),
        ("meeting_capacity", r.meeting_capacity),
        ("recommended_cases_per_10k", r.recommended_cases_per_10k),
        ("list_cutoff_days", r.list_cutoff_days),
        ("flag_months", r.flag_months),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_string()))
    .chain(std::iter::once(("research_opens".to_owned(), r.research_opens.code().to_owned())))
    .collect()
}

/// The form's fields for an existing Marac, as the browser would send them.
fn fields_of(m: &Marac) -> FormData {
    let mut pairs: Vec<(String, String)> = [
        ("partnership", m.partnership_id.to_string()),
        ("code", m.code.clone()),
        ("name", m.name.clone()),
        ("area", m.area.clone()),
        ("adult_female_population", m.adult_female_population.to_string()),
        ("cadence", m.cadence.code().to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    pairs.extend(rule_fields(&m.rules));
    FormData(pairs)
}

/// A new Marac starts with the national defaults.
fn defaults() -> FormData {
    let mut pairs = vec![("cadence".to_owned(), MeetingCadence::Monthly.code().to_owned())];
    pairs.extend(rule_fields(&MaracRules::default()));
    FormData(pairs)
}

async fn form_page(
    state: &AppState,
    me: &Signed,
    id: Option<i64>,
    form: FormData,
    errors: Errors,
) -> Result<FormPage, AppError> {
    let partnerships = partnership_choices(state, &form).await?;
    let cadences =
        MeetingCadence::ALL.iter().map(|c| Choice::new(c.code(), c.label(), form.get("cadence") == c.code())).collect();
    let research = ResearchOpens::ALL
        .iter()
        .map(|r| Choice::new(r.code(), r.label(), form.get("research_opens") == r.code()))
        .collect();
    let title = if id.is_some() { "Change Marac" } else { "Add a Marac" };
    Ok(FormPage {
        ctx: PageContext::new(state, &me.visitor, title, "/admin"),
        form,
        partnerships,
        cadences,
        research,
        errors,
    })
}

/// `GET /admin/maracs/new`.
///
/// # Errors
/// Refused to everyone but administrators.
pub async fn new_form(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/maracs").await?;
    Ok(form_page(&state, &me, None, defaults(), Errors::default()).await?.into_response())
}

/// `GET /admin/maracs/{id}`.
///
/// # Errors
/// Refused to everyone but administrators; 404 for no such Marac.
pub async fn edit_form(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/maracs").await?;
    let m = state.store.get_marac(id).await?;
    Ok(form_page(&state, &me, Some(id), fields_of(&m), Errors::default()).await?.into_response())
}

fn rule(form: &FormData, errors: &mut Errors, field: &str, what: &str) -> Option<u32> {
    let n = errors.take(field, number_in_range(form.get(field), what, 0, 1_000))?;
    u32::try_from(n).ok()
}

fn parse(form: &FormData, errors: &mut Errors, partnership_ids: &[i64]) -> Option<MaracInput> {
    let partnership = form.get("partnership").parse::<i64>().ok().filter(|id| partnership_ids.contains(id));
    if partnership.is_none() {
        errors.add("partnership", "Select the partnership that runs this Marac");
    }
    let code = errors.take("code", Code::parse(form.get("code")));
    let name = errors.take("name", required_text(form.get("name"), "the Marac's name", 200));
    let area = errors.take("area", required_text(form.get("area"), "the area the Marac covers", 200));
    let population = errors.take(
        "adult_female_population",
        number_in_range(form.get("adult_female_population"), "the number of women aged 16 and over", 0, 50_000_000),
    );
    let cadence = form.get("cadence").parse::<MeetingCadence>().ok();
    if cadence.is_none() {
        errors.add("cadence", "Select how often the Marac meets");
    }
    let research_opens = ResearchOpens::from_code(form.get("research_opens"));
    if research_opens.is_none() {
        errors.add("research_opens", "Select when the attending agencies may start researching a case");
    }
    let values: Vec<Option<u32>> = [
        ("high_risk_threshold", "the high-risk threshold"),
        ("escalation_incidents", "the number of incidents"),
        ("escalation_months", "the escalation window"),
        ("repeat_months", "the repeat window"),
        ("meeting_capacity", "the cases per meeting"),
        ("recommended_cases_per_10k", "the recommended volume"),
        ("list_cutoff_days", "the list cut-off"),
        ("flag_months", "how long a flag runs"),
    ]
    .into_iter()
    .map(|(field, what)| rule(form, errors, field, what))
    .collect();
    let [Some(hr), Some(ei), Some(em), Some(rm), Some(mc), Some(rc), Some(cutoff), Some(fm)] = values[..] else {
        return None;
    };
    let research_opens = research_opens?;
    let rules = MaracRules {
        high_risk_threshold: hr,
        escalation_incidents: ei,
        escalation_months: em,
        repeat_months: rm,
        meeting_capacity: mc,
        recommended_cases_per_10k: rc,
        list_cutoff_days: cutoff,
        flag_months: fm,
        research_opens,
    };
    if let Err(problems) = rules.validate() {
        for p in problems {
            errors.add(p.field, p.message);
        }
    }
    Some(MaracInput {
        partnership_id: partnership?,
        code: code?.to_string(),
        name: name?,
        area: area?,
        adult_female_population: population?,
        cadence: cadence?,
        rules,
    })
}

async fn save(state: AppState, me: Signed, id: Option<i64>, form: FormData) -> Result<Response, AppError> {
    me.authorise(&state, Action::ManageConfiguration, "admin/maracs").await?;
    if let Some(id) = id {
        state.store.get_marac(id).await?;
    }
    let mut errors = Errors::default();
    let partnership_ids: Vec<i64> = state.store.list_partnerships().await?.iter().map(|p| p.id).collect();
    if let Some(input) = parse(&form, &mut errors, &partnership_ids).filter(|_| errors.is_empty()) {
        let detail = serde_json::json!({ "code": input.code, "rules": input.rules, "cadence": input.cadence.code() });
        let result = match id {
            Some(id) => {
                let event = me.audit(&state, "marac.update", &format!("marac:{id}"), detail);
                state.store.update_marac(id, &input, event).await.map(|()| id)
            }
            None => state.store.create_marac(&input, me.audit(&state, "marac.create", "", detail)).await,
        };
        if conflict_to_field(result, &mut errors, &[("maracs.code", "code", "A Marac already has that code")])?
            .is_some()
        {
            return Ok(Redirect::to("/admin/maracs").into_response());
        }
    }
    Ok(form_page(&state, &me, id, form, errors).await?.into_response())
}

/// `POST /admin/maracs/new`.
///
/// # Errors
/// Refused to everyone but administrators; database failures.
pub async fn create(State(state): State<AppState>, me: Signed, form: FormData) -> Result<Response, AppError> {
    save(state, me, None, form).await
}

/// `POST /admin/maracs/{id}`.
///
/// # Errors
/// Refused to everyone but administrators; database failures.
pub async fn update(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    save(state, me, Some(id), form).await
}
