//! A Marac's information-sharing and confidentiality statement, confirmed by a person before
//! they see any of its case content (again when its version changes and every 12 months; the
//! rule is `marac_domain::confidentiality`). Pages that show case content send anyone who has
//! not confirmed here ([`AppError::StatementNeeded`]), and back again once they have.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData, Params};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::Ts;
use marac_domain::confidentiality::Standing;
use marac_domain::policy::Action;
use serde::Deserialize;

/// Where to go once confirmed.
#[derive(Debug, Default, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only an address of this service: a path, never another site (`//host` or `/\host`).
fn local(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && n.len() <= 2_000 => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "confidentiality.html")]
struct StatementPage {
    ctx: PageContext,
    marac_id: i64,
    marac: String,
    statement: Option<(i64, String)>,
    reason: &'static str,
    confirmed: bool,
    next: String,
    errors: Errors,
}

async fn page(
    state: &AppState,
    me: &Signed,
    marac_id: i64,
    next: String,
    errors: Errors,
) -> Result<Response, AppError> {
    me.authorise(state, Action::ConfirmStatement { marac_id }, &format!("marac:{marac_id}")).await?;
    let marac = state.store.get_marac(marac_id).await?;
    let statement = state.store.current_statement(marac_id).await?;
    let standing = marac_app::casework::statement_standing(state, me.user.id, marac_id).await?;
    Ok(StatementPage {
        ctx: PageContext::new(state, &me.visitor, "Confidentiality statement", "/"),
        marac_id,
        marac: marac.name,
        statement: statement.map(|s| (s.version, s.body)),
        reason: standing.reason(),
        confirmed: standing == Standing::Confirmed,
        next,
        errors,
    }
    .into_response())
}

/// `GET /confidentiality/{marac}`: the statement, and where the person stands with it.
///
/// # Errors
/// Refused to anyone without a role in the Marac that reads cases.
pub async fn show(
    State(state): State<AppState>,
    me: Signed,
    Path(marac_id): Path<i64>,
    Params(q): Params<Next>,
) -> Result<Response, AppError> {
    page(&state, &me, marac_id, local(q.next.as_deref()), Errors::default()).await
}

/// `POST /confidentiality/{marac}`: confirms the current version, then goes on.
///
/// # Errors
/// Refused as [`show`]; 404 when the Marac has no statement yet.
pub async fn confirm(
    State(state): State<AppState>,
    me: Signed,
    Path(marac_id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let next = local(Some(form.get("next")));
    me.authorise(&state, Action::ConfirmStatement { marac_id }, &format!("marac:{marac_id}")).await?;
    let Some(statement) = state.store.current_statement(marac_id).await? else { return Err(AppError::NotFound) };
    if !form.has("agree", "yes") {
        let mut errors = Errors::default();
        errors.add("agree", "Confirm that you will keep the information shared confidential");
        return page(&state, &me, marac_id, next, errors).await;
    }
    let event = me.audit(
        &state,
        "confidentiality.confirm",
        &format!("marac:{marac_id}"),
        serde_json::json!({ "statement_version": statement.version }),
    );
    state.store.confirm_statement(me.user.id, statement.id, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&next).into_response())
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn only_an_address_of_this_service_is_gone_on_to() {
        assert_eq!(local(Some("/cases/3?x=1")), "/cases/3?x=1");
        for away in ["//evil.example", "/\\evil.example", "https://evil.example", "", "cases"] {
            assert_eq!(local(Some(away)), "/", "{away}");
        }
        assert_eq!(local(None), "/");
    }
}
