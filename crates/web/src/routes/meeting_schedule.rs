//! Scheduling meetings: regular meetings at the Marac's cadence, or a one-off or emergency
//! meeting, with the arrangements every meeting has (format, time, place, capacity).

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::routes::meetings::list_page;
use crate::session::Signed;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{NewMeeting, Ts};
use marac_domain::meeting_rules::{self, MeetingFormat, MeetingKind};
use marac_domain::policy::Action;
use marac_domain::referral_form::parse_date;

/// The longest a schedule can be made for at once.
const MAX_SCHEDULE_DAYS: i64 = 366;

/// `POST /meetings`: schedules regular meetings from a date until another at the Marac's
/// cadence, or one one-off or emergency meeting.
///
/// # Errors
/// Refused to anyone who does not coordinate the Marac.
pub async fn schedule(State(state): State<AppState>, me: Signed, form: FormData) -> Result<Response, AppError> {
    let mut errors = Errors::default();
    let marac = match form.get("marac").parse::<i64>() {
        Ok(id) => Some(state.store.get_marac(id).await?),
        Err(_) => None,
    };
    let Some(marac) = marac else {
        errors.add("marac", "Select the Marac");
        return list_page(&state, &me, form, errors).await;
    };
    me.authorise(&state, Action::ManageMeetings { marac_id: marac.id }, &format!("marac:{}", marac.id)).await?;
    let kind = MeetingKind::from_code(form.get("kind"));
    if kind.is_none() {
        errors.add("kind", "Select the kind of meeting");
    }
    let arranged = arrangements(&form, &mut errors);
    let today = state.clock.today();
    let first = parse_date(form.get("first"));
    match first {
        None => errors.add("first", "Enter the date of the meeting, for example 3/12/2026"),
        Some(d) if d < today => errors.add("first", "The meeting must be today or later"),
        Some(_) => {}
    }
    let until = if kind == Some(MeetingKind::Regular) {
        match (parse_date(form.get("until")), first) {
            (None, _) => {
                errors.add("until", "Enter the date of the last regular meeting to schedule");
                None
            }
            (Some(u), Some(f)) if u < f => {
                errors.add("until", "The last meeting must be on or after the first");
                None
            }
            (Some(u), Some(f)) if (u - f).whole_days() > MAX_SCHEDULE_DAYS => {
                errors.add("until", "Schedule at most a year at a time");
                None
            }
            (u, _) => u,
        }
    } else {
        first
    };
    let (Some(kind), Some(arranged), Some(first), Some(until), true) =
        (kind, arranged, first, until, errors.is_empty())
    else {
        errors.in_page_order(&["marac", "kind", "format", "first", "until", "starts_at", "closing_on", "location"]);
        return list_page(&state, &me, form, errors).await;
    };
    let dates =
        if kind == MeetingKind::Regular { meeting_rules::schedule(marac.cadence, first, until) } else { vec![first] };
    let invited: Vec<i64> = state
        .store
        .list_agencies()
        .await?
        .into_iter()
        .filter(|a| a.marac_ids.contains(&marac.id))
        .map(|a| a.id)
        .collect();
    let meetings: Vec<NewMeeting> = dates
        .iter()
        .map(|d| NewMeeting {
            marac_id: marac.id,
            kind,
            format: arranged.format,
            held_on: *d,
            starts_at: arranged.starts_at.clone(),
            closing_on: arranged.closing_on,
            location: arranged.location.clone(),
            chair_user_id: None,
            capacity: marac.rules.meeting_capacity,
            // One-off and emergency meetings are called for cases that cannot wait.
            list_cutoff_on: (kind == MeetingKind::Regular)
                .then(|| meeting_rules::list_cutoff(*d, marac.rules.list_cutoff_days)),
            invited_agency_ids: invited.clone(),
        })
        .collect();
    let event = me.audit(
        &state,
        "meeting.schedule",
        &format!("marac:{}", marac.id),
        serde_json::json!({ "kind": kind.code(), "count": meetings.len() }),
    );
    let ids = state.store.create_meetings(&meetings, Ts::new(state.clock.now()), event).await?;
    match ids.as_slice() {
        [one] => Ok(Redirect::to(&format!("/meetings/{one}")).into_response()),
        _ => Ok(Redirect::to("/meetings").into_response()),
    }
}

/// How and where a meeting is held: what scheduling and changing a meeting both ask.
pub(crate) struct Arrangements {
    /// In person, virtual or no meeting.
    pub format: MeetingFormat,
    /// Start time, `HH:MM`.
    pub starts_at: String,
    /// For a no-meeting, when contributions close.
    pub closing_on: Option<time::Date>,
    /// Room or call.
    pub location: String,
}

/// Reads the arrangements from a form, adding a message to `errors` for each field wrong.
pub(crate) fn arrangements(form: &FormData, errors: &mut Errors) -> Option<Arrangements> {
    let format = MeetingFormat::from_code(form.get("format"));
    if format.is_none() {
        errors.add("format", "Select how the meeting is held");
    }
    let starts_at = form.get("starts_at").trim();
    if !valid_time(starts_at) {
        errors.add("starts_at", "Enter the start time as hours and minutes, for example 10:00");
    }
    let closing_on = parse_date(form.get("closing_on"));
    if format == Some(MeetingFormat::NoMeeting) && closing_on.is_none() {
        errors.add("closing_on", "Enter the date contributions close, for example 1/12/2026");
    }
    let location = form.get("location").trim();
    if let Err(e) = marac_domain::fields::check_text(location, marac_domain::fields::TextKind::Line) {
        errors.add("location", e);
    }
    let format = format?;
    valid_time(starts_at).then(|| Arrangements {
        format,
        starts_at: starts_at.to_owned(),
        closing_on: (format == MeetingFormat::NoMeeting).then_some(closing_on).flatten(),
        location: location.to_owned(),
    })
}

fn valid_time(s: &str) -> bool {
    match s.split_once(':') {
        Some((h, m)) => {
            h.len() <= 2
                && m.len() == 2
                && h.parse::<u8>().is_ok_and(|h| h < 24)
                && m.parse::<u8>().is_ok_and(|m| m < 60)
        }
        None => false,
    }
}
