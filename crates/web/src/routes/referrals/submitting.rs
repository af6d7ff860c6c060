//! Sending a referral: checking the answers, submitting, and the confirmation.

use super::drafting::{CriterionView, criteria_views};
use super::{audit_view, checklist_choices, id_of, load_editable};
use crate::AppState;
use crate::error::AppError;
use crate::forms::Errors;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::Context;
use marac_domain::policy::{Action, Basis};
use marac_domain::referral_form::field;
use marac_domain::referral_form::{self as form, FieldError, FieldSpec, FormMap, Kind, Section};

/// One answer on a summary.
pub struct AnswerRow {
    /// Question.
    pub label: String,
    /// Answer as shown.
    pub value: String,
}

/// One section of a summary.
pub struct SummarySection {
    /// Heading.
    pub title: &'static str,
    /// Change link.
    pub href: String,
    /// Answers.
    pub rows: Vec<AnswerRow>,
    /// Still to finish.
    pub incomplete: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/check_answers.html")]
pub(super) struct CheckAnswersPage {
    ctx: PageContext,
    referral_id: i64,
    sections: Vec<SummarySection>,
    criteria: Vec<CriterionView>,
    score: u32,
    errors: Errors,
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/confirmation.html")]
pub(super) struct ConfirmationPage {
    ctx: PageContext,
    reference: String,
    criteria: Vec<&'static str>,
    is_repeat: bool,
    score: i64,
}

pub(super) fn display(spec: &FieldSpec, value: &str, ctx: &Context, checklists: &[(String, String)]) -> String {
    match spec.kind {
        Kind::Radios(o) | Kind::Select(o) => form::choice_label(o, value),
        Kind::Marac => {
            ctx.maracs.iter().find(|m| m.id.to_string() == value).map_or_else(|| value.to_owned(), |m| m.name.clone())
        }
        Kind::Agency => {
            ctx.agencies.iter().find(|a| a.id.to_string() == value).map_or_else(|| value.to_owned(), |a| a.name.clone())
        }
        Kind::Checklist => {
            checklists.iter().find(|(v, _)| v == value).map_or_else(|| value.to_owned(), |(_, l)| l.clone())
        }
        _ => value.to_owned(),
    }
}

/// A checklist question's answer as the summaries show it: the answer, then who is at risk, the
/// source of the information and the comment where the referrer gave them, a line each.
pub(crate) fn checklist_answer(map: &FormMap, question: &str) -> String {
    let get = |part: &str| map.get(&format!("checklist.{part}.{question}")).map_or("", |v| v.trim());
    let mut shown = match get("answer") {
        "yes" => "Yes",
        "no" => "No",
        "dont_know" => "Don't know",
        _ => "Not answered",
    }
    .to_owned();
    let who: Vec<&str> = get("who").split(',').map(str::trim).filter(|w| !w.is_empty()).collect();
    for (label, value) in [("Who", who.join(", ").as_str()), ("Source", get("source")), ("Comment", get("comment"))] {
        if !value.is_empty() {
            shown.push_str(&format!("\n{label}: {value}"));
        }
    }
    shown
}

pub(crate) fn summary(
    id: Option<i64>,
    map: &FormMap,
    ctx: &Context,
    checklists: &[(String, String)],
) -> Vec<SummarySection> {
    Section::ALL
        .into_iter()
        .map(|s| {
            let mut rows = Vec::new();
            let mut push = |spec: &FieldSpec, key: String, prefix: &str| {
                let value = map.get(&key).map_or("", |v| v.trim());
                if !value.is_empty() {
                    rows.push(AnswerRow {
                        label: format!("{prefix}{}", spec.label),
                        value: display(spec, value, ctx, checklists),
                    });
                }
            };
            for spec in s.fields().iter().filter(|spec| spec.called_for(s, map)) {
                push(spec, form::key(s, spec.name), "");
            }
            for i in 0..form::group_count(map, s) {
                for spec in s.group_fields() {
                    push(
                        spec,
                        form::group_key(s, i, spec.name),
                        &format!(
                            "{} {}: ",
                            if s == Section::Children { "Household member" } else { "Person causing harm" },
                            i + 1
                        ),
                    );
                }
            }
            if s == Section::Checklist
                && let Some(c) = &ctx.checklist
            {
                for (n, q) in c.questions().enumerate() {
                    rows.push(AnswerRow {
                        label: format!("{}. {}", n + 1, q.text),
                        value: checklist_answer(map, &q.id),
                    });
                }
            }
            SummarySection {
                title: s.title(),
                href: id.map(|id| format!("/referrals/{id}/{}", s.slug())).unwrap_or_default(),
                incomplete: !form::validate(s, map, &ctx.form()).is_empty(),
                rows,
            }
        })
        .collect()
}

pub(super) async fn check_page(
    state: &AppState,
    me: &Signed,
    id: i64,
    map: &FormMap,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let ctx = Context::load(state, &me.user, map).await?;
    let checklists = checklist_choices(state).await?;
    Ok(CheckAnswersPage {
        ctx: PageContext::new(state, &me.visitor, "Check your answers before sending your referral", "/referrals"),
        referral_id: id,
        sections: summary(Some(id), map, &ctx, &checklists),
        criteria: criteria_views(map, &ctx),
        score: form::score(map),
        errors: Errors(errors.iter().map(|e| (id_of(&e.key), e.message.clone())).collect()),
    }
    .into_response())
}

/// `GET /referrals/{id}/check`.
///
/// # Errors
/// Refused to anyone but the referrer; 404 once submitted.
pub async fn check(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (_, map) = load_editable(&state, &me, id).await?;
    audit_view(&state, &me, &format!("referral:{id}"), "check-answers", Basis::OwnReferral).await?;
    check_page(&state, &me, id, &map, &[]).await
}

/// `POST /referrals/{id}/check`: submits the referral.
///
/// # Errors
/// Refused to anyone but the referrer; 404 once submitted.
pub async fn submit(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (_, map) = load_editable(&state, &me, id).await?;
    me.authorise(
        &state,
        Action::CreateReferral { marac_id: map.get(field::REFERRAL_MARAC).and_then(|m| m.parse().ok()).unwrap_or(0) },
        &format!("referral:{id}"),
    )
    .await?;
    let event = me.audit(&state, "referral.submit", "", serde_json::json!({}));
    match marac_app::workflows::referrals::submit(&state, &me.user, &map, Some(id), event).await? {
        Ok(sent) => state.metrics.observe_matching(sent.matching),
        Err(errors) => return check_page(&state, &me, id, &map, &errors).await,
    }
    Ok(Redirect::to(&format!("/referrals/{id}/submitted")).into_response())
}

/// `GET /referrals/{id}/submitted`: the confirmation with the reference.
///
/// # Errors
/// Refused to anyone but the referrer.
pub async fn submitted(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let r = state.store.get_referral(id).await?;
    let basis = me
        .authorise(&state, Action::EditReferral { referrer_user_id: r.referrer_user_id }, &format!("referral:{id}"))
        .await?;
    let Some(reference) = r.reference.clone() else { return Err(AppError::NotFound) };
    audit_view(&state, &me, &format!("referral:{id}"), "confirmation", basis).await?;
    Ok(ConfirmationPage {
        ctx: PageContext::new(&state, &me.visitor, "Referral sent", "/referrals"),
        reference,
        criteria: r.criteria.iter().map(|c| c.label()).collect(),
        is_repeat: r.is_repeat,
        score: r.score.unwrap_or(0),
    }
    .into_response())
}
