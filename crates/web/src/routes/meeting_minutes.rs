//! A meeting's attendance and its minutes. Every page needs the viewer's confidentiality
//! confirmation for that meeting.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::routes::display_date;
use crate::routes::meeting_case::{ActionView, DISCUSSION_FIELDS, TextField, action_view};
use crate::routes::meeting_flags::FlagView;
use crate::routes::meetings::{Standing, StandingItems, standing, standing_items};
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::payloads::Discussion;
use marac_app::store::{AttendanceEntry, Ts};
use marac_domain::meeting_rules::AttendanceKind;
use marac_domain::policy::Action;
use marac_domain::referral_form::FormMap;

/// An invited agency's line on the attendance form.
pub struct AttendanceRow {
    /// Agency id.
    pub agency_id: i64,
    /// Agency name.
    pub agency: String,
    /// Person.
    pub name: String,
    /// present / apologies / absent.
    pub kind: String,
    /// Information sent with apologies.
    pub information_sent: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/attendance.html")]
struct AttendancePage {
    ctx: PageContext,
    id: i64,
    heading: String,
    rows: Vec<AttendanceRow>,
    observers: String,
    errors: Errors,
}

/// `GET /meetings/{id}/attendance`: the chair's attendance record.
///
/// # Errors
/// Refused to anyone who does not run the meeting.
pub async fn attendance_form(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let st = standing(&state, &me, id).await?;
    st.require_cases(&state, &me).await?;
    me.authorise(&state, Action::RunMeeting { marac_id: st.marac.id }, &format!("meeting:{id}")).await?;
    let agencies = state.store.list_agencies().await?;
    let recorded = state.store.attendance(id).await?;
    let rows = st
        .meeting
        .details
        .invited_agency_ids
        .iter()
        .map(|a| {
            let r = recorded.iter().find(|e| e.agency_id == Some(*a) && e.kind != AttendanceKind::Observer);
            AttendanceRow {
                agency_id: *a,
                agency: agencies.iter().find(|x| x.id == *a).map(|x| x.name.clone()).unwrap_or_default(),
                name: r.map(|e| e.person_name.clone()).unwrap_or_default(),
                kind: r.map_or("absent", |e| e.kind.code()).to_owned(),
                information_sent: r.is_some_and(|e| e.information_sent),
            }
        })
        .collect();
    let observers = recorded
        .iter()
        .filter(|e| e.kind == AttendanceKind::Observer)
        .map(|e| e.person_name.clone())
        .collect::<Vec<_>>()
        .join("\n");
    Ok(AttendancePage {
        ctx: PageContext::new(&state, &me.visitor, "Attendance", "/meetings"),
        id,
        heading: format!("{}, {}", st.marac.name, display_date(st.meeting.details.held_on)),
        rows,
        observers,
        errors: Errors::default(),
    }
    .into_response())
}

/// `POST /meetings/{id}/attendance`: records who attended, sent apologies or observed; each
/// observer named is recorded as having confirmed the statement in the room.
///
/// # Errors
/// Refused to anyone who does not run the meeting.
pub async fn attendance_save(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let st = standing(&state, &me, id).await?;
    st.require_cases(&state, &me).await?;
    me.authorise(&state, Action::RunMeeting { marac_id: st.marac.id }, &format!("meeting:{id}")).await?;
    let mut entries = Vec::new();
    for a in &st.meeting.details.invited_agency_ids {
        let kind = match form.get(&format!("kind-{a}")) {
            "present" => AttendanceKind::Present,
            "apologies" => AttendanceKind::Apologies,
            _ => continue,
        };
        let name = form.get(&format!("name-{a}")).trim().chars().take(100).collect();
        entries.push(AttendanceEntry {
            agency_id: Some(*a),
            person_name: name,
            kind,
            information_sent: kind == AttendanceKind::Apologies && form.has(&format!("sent-{a}"), "yes"),
        });
    }
    let observers: Vec<String> = form
        .get("observers")
        .lines()
        .map(|l| l.trim().chars().take(100).collect::<String>())
        .filter(|l| !l.is_empty())
        .collect();
    let statement = state.store.current_statement(st.marac.id).await?.ok_or(AppError::NotFound)?;
    let at = Ts::new(state.clock.now());
    let already: Vec<String> =
        state.store.confirmations(id).await?.into_iter().filter_map(|c| c.observer_name).collect();
    for o in &observers {
        entries.push(AttendanceEntry {
            agency_id: None,
            person_name: o.clone(),
            kind: AttendanceKind::Observer,
            information_sent: false,
        });
        if !already.contains(o) {
            let event = me.audit(
                &state,
                "confidentiality.confirm",
                &format!("meeting:{id}"),
                serde_json::json!({ "observer": true, "statement_version": statement.version }),
            );
            state.store.confirm_confidentiality(id, None, Some(o), statement.id, at, event).await?;
        }
    }
    let event = me.audit(
        &state,
        "meeting.attendance",
        &format!("meeting:{id}"),
        serde_json::json!({ "entries": entries.len() }),
    );
    state.store.set_attendance(id, &entries, me.user.id, at, event).await?;
    Ok(Redirect::to(&format!("/meetings/{id}")).into_response())
}

/// A case in the minutes.
pub struct MinutesCase {
    /// Reference.
    pub reference: String,
    /// Victim.
    pub victim: String,
    /// Outcome.
    pub outcome: &'static str,
    /// Discussion fields with content.
    pub fields: Vec<TextField>,
    /// Deferred reason.
    pub deferred_reason: String,
    /// The plan.
    pub actions: Vec<ActionView>,
    /// Flags agreed at this meeting.
    pub flags: Vec<FlagView>,
    /// The Marac a transferred-in case came from.
    pub transferred_from: String,
}

/// What a meeting's minutes hold, for the page and the document alike.
pub(crate) struct Minutes {
    /// "Eastport meeting, 6 December 2026 at 10:00am".
    pub heading: String,
    pub statement: String,
    pub statement_version: i64,
    /// (agency, name).
    pub present: Vec<(String, String)>,
    /// (agency, name, information sent).
    pub apologies: Vec<(String, String, bool)>,
    /// (name, whether and when they confirmed the statement).
    pub observers: Vec<(String, String)>,
    pub cases: Vec<MinutesCase>,
    /// Incomplete actions from earlier meetings: (meeting date, action).
    pub review: Vec<(String, ActionView)>,
    pub standing: StandingItems,
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/minutes.html")]
struct MinutesPage {
    ctx: PageContext,
    id: i64,
    heading: String,
    statement: String,
    statement_version: i64,
    present: Vec<(String, String)>,
    apologies: Vec<(String, String, bool)>,
    observers: Vec<(String, String)>,
    cases: Vec<MinutesCase>,
    review: Vec<(String, ActionView)>,
    standing: StandingItems,
}

/// `GET /meetings/{id}/minutes`: the printable minutes, marked OFFICIAL-SENSITIVE.
///
/// # Errors
/// Refused until the viewer has confirmed confidentiality for the meeting.
pub async fn minutes(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let st = standing(&state, &me, id).await?;
    let basis = st.require_cases(&state, &me).await?;
    let event =
        me.audit(&state, "meeting.minutes.view", &format!("meeting:{id}"), serde_json::json!({ "basis": basis }));
    state.store.append_audit(event).await?;
    let m = minutes_of(&state, &st).await?;
    Ok(MinutesPage {
        ctx: PageContext::new(&state, &me.visitor, "Minutes", "/meetings"),
        id,
        heading: m.heading,
        statement: m.statement,
        statement_version: m.statement_version,
        present: m.present,
        apologies: m.apologies,
        observers: m.observers,
        cases: m.cases,
        review: m.review,
        standing: m.standing,
    }
    .into_response())
}

/// The minutes of the meeting `st` stands for. The caller has checked the reader's standing
/// and recorded the reading.
///
/// # Errors
/// The store's, or a sealed value that does not open.
pub(crate) async fn minutes_of(state: &AppState, st: &Standing) -> Result<Minutes, AppError> {
    let id = st.meeting.id;
    let agencies = state.store.list_agencies().await?;
    let agency_name = |a: Option<i64>| {
        a.and_then(|a| agencies.iter().find(|x| x.id == a)).map(|x| x.name.clone()).unwrap_or_default()
    };
    let attendance = state.store.attendance(id).await?;
    let confirmations = state.store.confirmations(id).await?;
    let statement = state.store.current_statement(st.marac.id).await?;
    let mut cases = Vec::new();
    for c in state.store.meeting_cases(id).await? {
        let (victim, transferred_from) = match &c.form_sealed {
            Some(s) => {
                let map: FormMap = casework::open(state, Purpose::Form, s)?;
                (casework::victim_name(&map), crate::routes::meetings::transferred_from(&map))
            }
            None => (String::new(), String::new()),
        };
        let flag_filter =
            marac_app::store::FlagFilter { case_id: Some(c.case_id), meeting_id: Some(id), ..Default::default() };
        let flags = crate::routes::meeting_flags::views(
            state,
            &state.store.list_flags(&flag_filter).await?,
            &agencies,
            state.clock.today(),
        )?;
        let d: Discussion = match &c.discussion_sealed {
            Some(s) => casework::open(state, Purpose::Discussion, s)?,
            None => Discussion::default(),
        };
        let filter = marac_app::store::ActionFilter {
            case_id: Some(c.case_id),
            meeting_id: Some(id),
            limit: 200,
            ..Default::default()
        };
        let mut actions = Vec::new();
        for a in state.store.list_actions(&filter).await? {
            actions.push(action_view(state, &a, &agencies)?);
        }
        cases.push(MinutesCase {
            reference: c.reference.clone().unwrap_or_default(),
            victim,
            outcome: c.outcome.label(),
            fields: DISCUSSION_FIELDS
                .iter()
                .filter(|(n, _)| !d.get(n).is_empty())
                .map(|(name, label)| TextField { name, label, value: d.get(name).to_owned() })
                .collect(),
            deferred_reason: d.deferred_reason.clone(),
            actions,
            flags,
            transferred_from,
        });
    }
    let filter = marac_app::store::ActionFilter {
        marac_ids: Some(vec![st.marac.id]),
        outstanding_only: true,
        agreed_before: Some(st.meeting.details.held_on),
        limit: crate::routes::meeting_papers::PAPER_ROWS,
        ..Default::default()
    };
    let summaries = state.store.case_summaries(st.marac.id).await?;
    let standing = standing_items(state, &summaries, &st.meeting, &agencies).await?;
    let mut review = Vec::new();
    for a in state.store.list_actions(&filter).await? {
        review.push((display_date(a.meeting_held_on), action_view(state, &a, &agencies)?));
    }
    let when = |user: Option<i64>, name: &str| {
        confirmations
            .iter()
            .find(|c| (user.is_some() && c.user_id == user) || c.observer_name.as_deref() == Some(name))
            .map(|c| {
                format!(
                    "confirmed version {} at {}",
                    c.statement_version,
                    marac_domain::uk_time::time(c.confirmed_at.0)
                )
            })
            .unwrap_or_else(|| "not confirmed".into())
    };
    Ok(Minutes {
        heading: format!(
            "{} meeting, {} at {}",
            st.marac.name,
            display_date(st.meeting.details.held_on),
            crate::routes::display_clock(&st.meeting.details.starts_at)
        ),
        statement_version: statement.as_ref().map_or(0, |s| s.version),
        statement: statement.map(|s| s.body).unwrap_or_default(),
        present: attendance
            .iter()
            .filter(|e| e.kind == AttendanceKind::Present)
            .map(|e| (agency_name(e.agency_id), e.person_name.clone()))
            .collect(),
        apologies: attendance
            .iter()
            .filter(|e| e.kind == AttendanceKind::Apologies)
            .map(|e| (agency_name(e.agency_id), e.person_name.clone(), e.information_sent))
            .collect(),
        observers: attendance
            .iter()
            .filter(|e| e.kind == AttendanceKind::Observer)
            .map(|e| (e.person_name.clone(), when(None, &e.person_name)))
            .collect(),
        cases,
        review,
        standing,
    })
}
