//! Referrals: the referrer's own list and starting a draft here; writing one in `drafting`
//! (task list, question pages, adding and removing people), sending it in `submitting` (check
//! answers, confirmation), and triage's page, decision and answers to candidate matches in
//! `triage`.

use crate::AppState;
use crate::error::AppError;
use crate::forms::Errors;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::store::{Referral, ReferralFilter, ReferralStatus};
use marac_domain::policy::{Action, Basis};
use marac_domain::referral_form::field;
use marac_domain::referral_form::{FieldError, FormMap};

pub mod drafting;
pub mod submitting;
pub mod triage;

/// A referral in a list.
pub struct ListRow {
    /// Link.
    pub href: String,
    /// Reference or "Draft".
    pub reference: String,
    /// Victim.
    pub victim: String,
    /// Marac code.
    pub marac: String,
    /// Status words.
    pub status: &'static str,
    /// Sent back.
    pub returned: bool,
    /// Last change.
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/list.html")]
pub(super) struct ListPage {
    ctx: PageContext,
    rows: Vec<ListRow>,
    can_refer: bool,
    pagination: crate::paging::Pagination,
}

pub(super) fn id_of(key: &str) -> String {
    key.replace('.', "-")
}

pub(super) fn page_errors(errors: &[FieldError]) -> Errors {
    Errors(errors.iter().map(|e| (id_of(&e.key), e.message.clone())).collect())
}

/// Loads a referral its referrer is still writing.
pub(super) async fn load_editable(state: &AppState, me: &Signed, id: i64) -> Result<(Referral, FormMap), AppError> {
    editable(state, me, state.store.get_referral(id).await?).await
}

/// Checks a loaded referral is its referrer's to change and opens its form.
pub(super) async fn editable(state: &AppState, me: &Signed, r: Referral) -> Result<(Referral, FormMap), AppError> {
    let id = r.id;
    me.authorise(state, Action::EditReferral { referrer_user_id: r.referrer_user_id }, &format!("referral:{id}"))
        .await?;
    if !r.status.is_editable() {
        return Err(AppError::NotFound);
    }
    let map: FormMap = casework::open(state, Purpose::Form, &r.form_sealed)?;
    Ok((r, map))
}

pub(super) async fn audit_view(
    state: &AppState,
    me: &Signed,
    target: &str,
    page: &str,
    basis: Basis,
) -> Result<(), AppError> {
    let event = me.audit(state, "referral.view", target, serde_json::json!({ "page": page, "basis": basis }));
    Ok(state.store.append_audit(event).await?)
}

pub(crate) async fn checklist_choices(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    Ok(state
        .store
        .list_checklists()
        .await?
        .into_iter()
        .map(|c| (format!("{}@{}", c.checklist_id, c.version), format!("{} (version {})", c.title, c.version)))
        .collect())
}

/// `GET /referrals`: the signed-in user's own referrals, the latest changed first, a page at a
/// time.
///
/// # Errors
/// Store failures.
pub async fn list(
    State(state): State<AppState>,
    me: Signed,
    axum::extract::Query(q): axum::extract::Query<crate::paging::PageQuery>,
) -> Result<Response, AppError> {
    me.authorise(&state, Action::ViewHome, "referrals").await?;
    let page = state
        .store
        .page_referrals(
            &ReferralFilter { referrer_user_id: Some(me.user.id), ..Default::default() },
            q.request(),
            false,
        )
        .await?;
    let mine = &page.rows;
    let maracs = state.store.list_maracs().await?;
    let mut rows = Vec::new();
    for r in mine {
        let map: FormMap = casework::open(&state, Purpose::Form, &r.form_sealed)?;
        rows.push(ListRow {
            href: format!("/referrals/{}", r.id),
            reference: r.reference.clone().unwrap_or_else(|| "Not submitted".into()),
            victim: casework::victim_name(&map),
            marac: maracs.iter().find(|m| m.id == r.marac_id).map(|m| m.code.clone()).unwrap_or_default(),
            status: r.status.label(),
            returned: r.status == ReferralStatus::Returned,
            updated: crate::routes::display_day(r.updated_at),
        });
    }
    if !mine.is_empty() {
        let ids: Vec<i64> = mine.iter().map(|r| r.id).collect();
        let event = me.audit(&state, "referral.list", "referrals:own", serde_json::json!({ "referrals": ids }));
        state.store.append_audit(event).await?;
    }
    let can_refer = !casework::referable_maracs(&state, &me.actor()).await?.is_empty();
    Ok(ListPage {
        ctx: PageContext::new(&state, &me.visitor, "Your referrals", "/referrals"),
        rows,
        can_refer,
        pagination: crate::paging::Pagination::new(&page, "/referrals", &[]),
    }
    .into_response())
}

/// `POST /referrals/new`: starts a draft and opens its task list.
///
/// # Errors
/// Refused to anyone who may not refer to any Marac.
pub async fn start(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    let maracs = casework::referable_maracs(&state, &me.actor()).await?;
    let (Some(first), Some(agency)) = (maracs.first(), me.user.agency_id) else {
        me.authorise(&state, Action::CreateReferral { marac_id: 0 }, "referral:new").await?;
        return Err(me.refuse(&state, "referral:new", "no agency to refer from").await);
    };
    let mut map = FormMap::new();
    if maracs.len() == 1 {
        map.insert(field::REFERRAL_MARAC.into(), first.id.to_string());
    }
    let draft = marac_app::store::NewDraft {
        marac_id: first.id,
        referrer_user_id: me.user.id,
        referring_agency_id: agency,
        form_sealed: casework::seal(&state, Purpose::Form, &map)?,
    };
    let id =
        state.store.create_draft(&draft, me.audit(&state, "referral.draft.create", "", serde_json::json!({}))).await?;
    Ok(Redirect::to(&format!("/referrals/{id}")).into_response())
}
