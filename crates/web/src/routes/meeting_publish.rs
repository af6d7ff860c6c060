//! Publishing a meeting's list: the coordinator sees what publishing will do (the cases, the
//! agencies to be told, research opening to them) and confirms, since a list once out cannot
//! be taken back.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::routes::meetings::{managed, show_page};
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Template, WebTemplate)]
#[template(path = "meetings/publish.html")]
struct ConfirmPage {
    ctx: PageContext,
    id: i64,
    marac: String,
    held_on: String,
    cases: i64,
    invited: Vec<String>,
}

/// `POST /meetings/{id}/publish`: without `confirm=yes`, the page that asks the coordinator
/// to confirm (or the meeting's page saying why it cannot be published yet); with it, sends
/// the list to the invited agencies and opens research.
///
/// # Errors
/// Refused to anyone who does not coordinate the Marac; 409 unless planned.
pub async fn publish(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let meeting = managed(&state, &me, id).await?;
    let unready = if form.has("confirm", "yes") {
        let event = me.audit(&state, "meeting.publish", &format!("meeting:{id}"), serde_json::json!({}));
        match marac_app::workflows::meetings::publish(&state, &meeting, event).await? {
            Ok(()) => return Ok(Redirect::to(&format!("/meetings/{id}?done=published")).into_response()),
            Err(unready) => unready,
        }
    } else {
        if meeting.status != marac_domain::meeting_rules::MeetingStatus::Planned {
            return Err(AppError::Conflict);
        }
        match marac_app::workflows::meetings::invitation(&state, &meeting).await? {
            Ok(invited) => return confirm_page(&state, &me, &meeting, &invited).await,
            Err(unready) => unready,
        }
    };
    let mut errors = Errors::default();
    for u in unready {
        errors.add(u.field(), u.message());
    }
    show_page(&state, &me, id, errors).await
}

/// What publishing will do, with the button that does it.
async fn confirm_page(
    state: &AppState,
    me: &Signed,
    meeting: &marac_app::store::Meeting,
    invited: &[i64],
) -> Result<Response, AppError> {
    let marac = state.store.get_marac(meeting.details.marac_id).await?;
    let mut names: Vec<String> =
        state.store.list_agencies().await?.into_iter().filter(|a| invited.contains(&a.id)).map(|a| a.name).collect();
    names.sort();
    Ok(ConfirmPage {
        ctx: PageContext::new(state, &me.visitor, "Publish the list?", "/meetings"),
        id: meeting.id,
        marac: marac.name,
        held_on: marac_domain::uk_time::date(meeting.details.held_on),
        cases: meeting.listed,
        invited: names,
    }
    .into_response())
}
