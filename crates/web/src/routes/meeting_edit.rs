//! Changing a scheduled meeting: when and how it is held, its chair, capacity, list cut-off
//! and the agencies invited. Only the Marac's coordinators may, and only until it is held.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::routes::admin::Choice;
use crate::routes::meeting_schedule::arrangements;
use crate::routes::{display_date, input_date};
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{Meeting, NewMeeting, Ts};
use marac_domain::Role;
use marac_domain::fields::number_in_range;
use marac_domain::meeting_rules::{MeetingFormat, MeetingStatus};
use marac_domain::referral_form::parse_date;

#[derive(Template, WebTemplate)]
#[template(path = "meetings/edit.html")]
struct EditPage {
    ctx: PageContext,
    id: i64,
    heading: String,
    marac: String,
    formats: Vec<Choice>,
    chairs: Vec<Choice>,
    agencies: Vec<Choice>,
    form: FormData,
    errors: Errors,
}

/// The meeting's details as the browser would send them.
fn fields_of(m: &Meeting) -> FormData {
    let d = &m.details;
    let mut pairs = vec![
        ("held_on".to_owned(), input_date(d.held_on)),
        ("starts_at".to_owned(), d.starts_at.clone()),
        ("format".to_owned(), d.format.code().to_owned()),
        ("closing_on".to_owned(), d.closing_on.map(input_date).unwrap_or_default()),
        ("location".to_owned(), d.location.clone()),
        ("chair".to_owned(), d.chair_user_id.map(|c| c.to_string()).unwrap_or_default()),
        ("capacity".to_owned(), d.capacity.to_string()),
        ("list_cutoff_on".to_owned(), d.list_cutoff_on.map(input_date).unwrap_or_default()),
    ];
    pairs.extend(d.invited_agency_ids.iter().map(|a| ("agency".to_owned(), a.to_string())));
    FormData(pairs)
}

/// The meeting, for one of its Marac's coordinators, while it can still change.
async fn editable(state: &AppState, me: &Signed, id: i64) -> Result<Meeting, AppError> {
    let meeting = super::meetings::managed(state, me, id).await?;
    if meeting.status == MeetingStatus::Held {
        return Err(AppError::Conflict);
    }
    Ok(meeting)
}

async fn page(
    state: &AppState,
    me: &Signed,
    meeting: &Meeting,
    form: FormData,
    errors: Errors,
) -> Result<Response, AppError> {
    let d = &meeting.details;
    let marac = state.store.get_marac(d.marac_id).await?;
    // Chairs of this Marac; a chair already set stays on offer even if their role has gone.
    let mut candidates = state.store.users_holding(&[Role::Chair], &[d.marac_id]).await?;
    if let Some(chair) = d.chair_user_id.filter(|c| candidates.iter().all(|u| u.id != *c)) {
        candidates.push(state.store.get_user(chair).await?);
    }
    let chairs = candidates
        .into_iter()
        .filter(|u| !u.disabled)
        .filter(|u| {
            marac_domain::policy::may_chair(&crate::session::actor_of(u), d.marac_id) || Some(u.id) == d.chair_user_id
        })
        .map(|u| Choice::new(u.id, u.name, form.get("chair") == u.id.to_string()))
        .collect();
    // The Marac's agencies and any invited besides (for example, a referring agency).
    let agencies = state
        .store
        .list_agencies()
        .await?
        .into_iter()
        .filter(|a| a.marac_ids.contains(&d.marac_id) || d.invited_agency_ids.contains(&a.id))
        .map(|a| Choice::new(a.id, a.name, form.has("agency", &a.id.to_string())))
        .collect();
    let formats =
        MeetingFormat::ALL.iter().map(|f| Choice::new(f.code(), f.label(), form.get("format") == f.code())).collect();
    Ok(EditPage {
        ctx: PageContext::new(state, &me.visitor, "Change the meeting", "/meetings"),
        id: meeting.id,
        heading: format!("{} at {}", display_date(d.held_on), crate::routes::display_clock(&d.starts_at)),
        marac: marac.name,
        formats,
        chairs,
        agencies,
        form,
        errors,
    }
    .into_response())
}

/// `GET /meetings/{id}/edit`: the form, filled in with the meeting as it is.
///
/// # Errors
/// Refused to anyone who does not coordinate the Marac; 409 once the meeting is held.
pub async fn form(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let meeting = editable(&state, &me, id).await?;
    page(&state, &me, &meeting, fields_of(&meeting), Errors::default()).await
}

/// `POST /meetings/{id}/edit`: saves the changes, each field checked and every problem shown
/// beside its field with what was typed kept.
///
/// # Errors
/// Refused to anyone who does not coordinate the Marac; 409 once the meeting is held.
pub async fn save(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let meeting = editable(&state, &me, id).await?;
    let d = &meeting.details;
    let mut errors = Errors::default();
    let today = state.clock.today();
    let held_on = match parse_date(form.get("held_on")) {
        None => {
            errors.add("held_on", "Enter the date of the meeting, for example 3/12/2026");
            None
        }
        // A meeting already set for today or earlier may keep its date; a new one must be ahead.
        Some(day) if day < today && day != d.held_on => {
            errors.add("held_on", "The meeting must be today or later");
            None
        }
        Some(day) => Some(day),
    };
    let arranged = arrangements(&form, &mut errors);
    let users = state.store.users_holding(&[Role::Chair], &[d.marac_id]).await?;
    let chair = match form.get("chair") {
        "" => Some(None),
        raw => {
            // The chair already set stays a valid choice even if their role has gone.
            let chosen = raw.parse::<i64>().ok().filter(|c| {
                Some(*c) == d.chair_user_id
                    || users.iter().any(|u| {
                        u.id == *c && marac_domain::policy::may_chair(&crate::session::actor_of(u), d.marac_id)
                    })
            });
            if chosen.is_none() {
                errors.add("chair", "Select a chair of this Marac");
            }
            chosen.map(Some)
        }
    };
    let capacity = errors.take("capacity", number_in_range(form.get("capacity"), "the number of cases", 1, 60));
    let listed = usize::try_from(meeting.listed).unwrap_or(0);
    if let Some(c) = capacity
        && usize::try_from(c).unwrap_or(0) < listed
    {
        errors.add("capacity", format!("{listed} cases are already listed; remove some before lowering the capacity"));
    }
    let cutoff = match form.get("list_cutoff_on").trim() {
        "" => Some(None),
        raw => match (parse_date(raw), held_on) {
            (Some(c), Some(h)) if c > h => {
                errors.add("list_cutoff_on", "The list must close on or before the day of the meeting");
                None
            }
            (Some(c), _) => Some(Some(c)),
            (None, _) => {
                errors
                    .add("list_cutoff_on", "Enter the day the list closes, for example 26/11/2026, or leave it empty");
                None
            }
        },
    };
    let all_agencies = state.store.list_agencies().await?;
    let invited: Vec<i64> = form
        .all("agency")
        .iter()
        .filter_map(|a| a.parse::<i64>().ok())
        .filter(|a| all_agencies.iter().any(|x| x.id == *a))
        .collect();
    if invited.is_empty() {
        errors.add("agency", "Invite at least one agency");
    }
    let (Some(held_on), Some(arranged), Some(chair), Some(capacity), Some(cutoff), true) =
        (held_on, arranged, chair, capacity, cutoff, errors.is_empty())
    else {
        errors.in_page_order(&[
            "held_on",
            "starts_at",
            "format",
            "closing_on",
            "location",
            "chair",
            "capacity",
            "list_cutoff_on",
            "agency",
        ]);
        return page(&state, &me, &meeting, form, errors).await;
    };
    let changed = NewMeeting {
        marac_id: d.marac_id,
        kind: d.kind,
        format: arranged.format,
        held_on,
        starts_at: arranged.starts_at,
        closing_on: arranged.closing_on,
        location: arranged.location,
        chair_user_id: chair,
        capacity: u32::try_from(capacity).unwrap_or(d.capacity),
        list_cutoff_on: cutoff,
        invited_agency_ids: invited,
    };
    let event = me.audit(
        &state,
        "meeting.change",
        &format!("meeting:{id}"),
        serde_json::json!({ "held_on": held_on.to_string(), "agencies": changed.invited_agency_ids }),
    );
    state.store.update_meeting(id, &changed, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&format!("/meetings/{id}")).into_response())
}
