//! Flags agreed at a meeting (a police safety marker on the address, a flag on the health or
//! housing record): the chair records which agency places which flag until when, and ends one
//! early when the Marac agrees. Each runs for the Marac's set months unless ended.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::routes::display_date;
use crate::routes::meeting_case::{Sent, case_page, runner};
use crate::session::Signed;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::store::{Agency, CaseFlag, FlagFilter, NewFlag, Ts};
use marac_domain::flags::{self, FlagKind, FlagState};
use marac_domain::referral_form::parse_date;
use time::Date;

/// A flag as shown.
pub struct FlagView {
    /// The flag's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The agency that places it.
    pub agency: String,
    /// What kind.
    pub kind: &'static str,
    /// What it says.
    pub note: String,
    /// The day it runs out.
    pub until: String,
    /// Running, ending soon, expired or ended early.
    pub state: FlagState,
    /// Why it was ended early.
    pub ended_reason: String,
    /// The name of the field for the reason to end it early.
    pub end_field: String,
}

impl FlagView {
    /// Whether it can still be ended early.
    #[must_use]
    pub fn running(&self) -> bool {
        matches!(self.state, FlagState::Active | FlagState::EndingSoon)
    }

    /// The tag colour for its state.
    #[must_use]
    pub fn tag(&self) -> &'static str {
        match self.state {
            FlagState::Active => "govuk-tag--green",
            FlagState::EndingSoon => "govuk-tag--yellow",
            FlagState::Expired => "govuk-tag--red",
            FlagState::Ended => "govuk-tag--grey",
        }
    }
}

fn end_field(flag_id: i64) -> String {
    format!("end_reason_{flag_id}")
}

/// Opens and labels flags for a page.
///
/// # Errors
/// A sealed note that does not open.
pub fn views(state: &AppState, list: &[CaseFlag], agencies: &[Agency], today: Date) -> Result<Vec<FlagView>, AppError> {
    list.iter()
        .map(|f| {
            Ok(FlagView {
                id: f.id,
                agency: agencies.iter().find(|a| a.id == f.flag.agency_id).map(|a| a.name.clone()).unwrap_or_default(),
                kind: f.flag.kind.label(),
                note: casework::open(state, Purpose::Flag, &f.flag.note_sealed)?,
                until: display_date(f.flag.expires_on),
                state: flags::state(f.flag.expires_on, f.ended_at.is_some(), today),
                ended_reason: match &f.ended_reason_sealed {
                    Some(s) => casework::open(state, Purpose::Flag, s)?,
                    None => String::new(),
                },
                end_field: end_field(f.id),
            })
        })
        .collect()
}

/// `POST /meetings/{id}/cases/{case}/flags`: records a flag the meeting agreed.
///
/// # Errors
/// Refused to anyone who does not run the meeting.
pub async fn add(
    State(state): State<AppState>,
    me: Signed,
    Path((id, case_id)): Path<(i64, i64)>,
    form: FormData,
) -> Result<Response, AppError> {
    let st = runner(&state, &me, id, case_id).await?;
    let mut errors = Errors::default();
    let agency =
        form.get("flag_agency").parse::<i64>().ok().filter(|a| st.meeting.details.invited_agency_ids.contains(a));
    if agency.is_none() {
        errors.add("flag_agency", "Select the agency that places the flag");
    }
    let kind = FlagKind::from_code(form.get("flag_kind"));
    if kind.is_none() {
        errors.add("flag_kind", "Select the kind of flag");
    }
    let note = form.get("flag_note").trim();
    if note.chars().count() > 500 {
        errors.add("flag_note", "The note must be 500 characters or fewer");
    } else if let Err(e) = marac_domain::fields::check_text(note, marac_domain::fields::TextKind::Line) {
        errors.add("flag_note", e);
    }
    let today = state.clock.today();
    let until = match parse_date(form.get("flag_until")) {
        None => {
            errors.add("flag_until", "Enter the day the flag runs until, for example 23/11/2027");
            None
        }
        Some(d) => match flags::check_expiry(d, today) {
            Ok(()) => Some(d),
            Err(message) => {
                errors.add("flag_until", message);
                None
            }
        },
    };
    let (Some(agency_id), Some(kind), Some(expires_on), true) = (agency, kind, until, errors.is_empty()) else {
        return case_page(&state, &me, id, case_id, Sent::Other(form), errors).await;
    };
    let flag = NewFlag {
        case_id,
        meeting_id: Some(id),
        agency_id,
        kind,
        note_sealed: casework::seal(&state, Purpose::Flag, &note)?,
        set_on: today,
        expires_on,
        set_by: me.user.id,
        set_at: Ts::new(state.clock.now()),
    };
    let event = me.audit(
        &state,
        "flag.create",
        &format!("case:{case_id}"),
        serde_json::json!({ "meeting": id, "agency": agency_id, "kind": kind.code(), "until": expires_on.to_string() }),
    );
    state.store.add_flag(&flag, event).await?;
    Ok(Redirect::to(&format!("/meetings/{id}/cases/{case_id}#flags")).into_response())
}

/// `POST /meetings/{id}/cases/{case}/flags/{flag}/end`: ends a running flag early, with the
/// reason the Marac agreed.
///
/// # Errors
/// Refused to anyone who does not run the meeting; 404 for a flag not of this case or ended.
pub async fn end(
    State(state): State<AppState>,
    me: Signed,
    Path((id, case_id, flag_id)): Path<(i64, i64, i64)>,
    form: FormData,
) -> Result<Response, AppError> {
    runner(&state, &me, id, case_id).await?;
    let filter = FlagFilter { case_id: Some(case_id), running_only: true, ..FlagFilter::default() };
    if !state.store.list_flags(&filter).await?.iter().any(|f| f.id == flag_id) {
        return Err(AppError::NotFound);
    }
    let field = end_field(flag_id);
    let reason = form.get(&field).trim().to_owned();
    let mut errors = Errors::default();
    if reason.is_empty() {
        errors.add(&field, "Give the reason the Marac agreed to end the flag");
    } else if reason.chars().count() > 500 {
        errors.add(&field, "The reason must be 500 characters or fewer");
    } else if let Err(e) = marac_domain::fields::check_text(&reason, marac_domain::fields::TextKind::Line) {
        errors.add(&field, e);
    }
    if !errors.is_empty() {
        return case_page(&state, &me, id, case_id, Sent::Other(form), errors).await;
    }
    let event =
        me.audit(&state, "flag.end", &format!("case:{case_id}"), serde_json::json!({ "meeting": id, "flag": flag_id }));
    let sealed = casework::seal(&state, Purpose::Flag, &reason)?;
    state.store.end_flag(flag_id, me.user.id, &sealed, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&format!("/meetings/{id}/cases/{case_id}#flags")).into_response())
}
