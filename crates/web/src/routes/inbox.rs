//! The in-application inbox: notices of lists published, actions due and overdue, referrals
//! returned and victims to be told an outcome. Each opens its page; e-mail links come here
//! first, so an e-mail never names the page, let alone the case.

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::Ts;
use marac_domain::policy::Action;

/// One notice as listed.
struct NoticeView {
    id: i64,
    heading: &'static str,
    summary: &'static str,
    /// The Marac and the day it concerns.
    about: String,
    received: String,
    unread: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox.html")]
struct InboxPage {
    ctx: PageContext,
    notices: Vec<NoticeView>,
    unread: usize,
}

/// `GET /inbox`: the signed-in person's notices, newest first.
///
/// # Errors
/// Database failures.
pub async fn list(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ViewHome, "inbox").await?;
    let notices: Vec<NoticeView> = state
        .store
        .list_notices(me.user.id, 200)
        .await?
        .into_iter()
        .map(|n| NoticeView {
            id: n.id,
            heading: n.kind.label(),
            summary: n.kind.summary(),
            about: n.about,
            received: marac_domain::uk_time::date_time(n.created_at.0),
            unread: n.read_at.is_none(),
        })
        .collect();
    Ok(InboxPage {
        ctx: PageContext::new(&state, &me.visitor, "Inbox", "/inbox"),
        unread: notices.iter().filter(|n| n.unread).count(),
        notices,
    }
    .into_response())
}

/// `GET /inbox/{id}`: marks the notice read and goes to its page, where that page's own
/// access rules apply. Someone else's notice is not found.
///
/// # Errors
/// 404 for a notice that is not the signed-in person's.
pub async fn open(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    me.authorise(&state, Action::ViewHome, "inbox").await?;
    let notice = state.store.open_notice(id, me.user.id, Ts::new(state.clock.now())).await?;
    // Links are made by the product as absolute paths; anything else is not followed.
    if !notice.link.starts_with('/') || notice.link.starts_with("//") {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&notice.link).into_response())
}
