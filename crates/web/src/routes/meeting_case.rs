//! Running a meeting: each listed case on one page (referral, shared research, the victim's
//! and child's voice, risks, notes, outcome and the action plan). Attendance and the minutes
//! are in `meeting_minutes.rs`. Every page needs the viewer's confidentiality confirmation for
//! that meeting.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::routes::admin::Choice;
use crate::routes::display_date;
use crate::routes::meeting_flags::FlagView;
use crate::routes::meetings::{Standing, standing};
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::payloads::{ActionText, Discussion};
use marac_app::store::{DiscussionRecord, ListedCase, NewAction, Ts};
use marac_domain::flags::FlagKind;
use marac_domain::meeting_rules::{ActionKind, ActionSubject, CaseOutcome, MeetingStatus, PerpetratorApproach};
use marac_domain::policy::Action;
use marac_domain::referral_form::field;
use marac_domain::referral_form::{self as form, FormMap, parse_date};

pub(crate) const DISCUSSION_FIELDS: [(&str, &str); 5] = [
    ("information", "Information shared by the agencies"),
    ("victim_voice", "The victim's voice (through the Idva)"),
    ("child_voice", "The child's voice, where sought"),
    ("risks", "Risks identified"),
    ("notes", "Other notes"),
];

/// Which form on the meeting-mode case page was sent (and came back with a problem): its
/// values fill its own fields only, so a mistake in one form never blanks another.
pub(crate) enum Sent {
    /// Nothing: the page as saved.
    Nothing,
    /// The discussion, as typed.
    Discussion(FormData),
    /// Another form (an action, a flag), as typed.
    Other(FormData),
}

/// An action as shown.
pub struct ActionView {
    /// Agency.
    pub agency: String,
    /// Named owner.
    pub owner: String,
    /// Subject, with approach or child.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Due.
    pub due: String,
    /// Status.
    pub status: &'static str,
}

/// A labelled text area's content.
pub struct TextField {
    /// Field name.
    pub name: &'static str,
    /// Label.
    pub label: &'static str,
    /// Value.
    pub value: String,
}

/// A shared research note.
pub struct SharedNote {
    /// Agency.
    pub agency: String,
    /// Fact, opinion or not shared.
    pub kind: &'static str,
    /// Text.
    pub body: String,
    /// Private to the viewer's agency still.
    pub private: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/case.html")]
struct CasePage {
    ctx: PageContext,
    meeting_id: i64,
    case_id: i64,
    meeting: String,
    reference: String,
    victim: String,
    perpetrators: Vec<String>,
    score: String,
    repeat: bool,
    children: i64,
    /// The children the referral names, to choose which one an action is about; empty when it
    /// names none (the field is then typed).
    child_choices: Vec<Choice>,
    /// A referral listed the case, so its full text can be read.
    has_referral: bool,
    summary: String,
    notes: Vec<SharedNote>,
    /// The discussion's saved version, sent back with the next save.
    version: i64,
    fields: Vec<TextField>,
    deferred_reason: String,
    outcomes: Vec<Choice>,
    can_edit: bool,
    actions: Vec<ActionView>,
    /// Earlier meetings' actions for this case, a group per meeting, the latest first.
    earlier: Vec<(String, Vec<ActionView>)>,
    agencies: Vec<Choice>,
    subjects: Vec<Choice>,
    approaches: Vec<Choice>,
    kinds: Vec<Choice>,
    form: FormData,
    errors: Errors,
    next: Option<String>,
    transferred_from: String,
    flags: Vec<FlagView>,
    /// Some flag is still running, so the page offers to end it early.
    flags_running: bool,
    flag_kinds: Vec<Choice>,
    flag_agencies: Vec<Choice>,
    flag_until: String,
}

/// The listed referral's form, or an empty one for a case listed without a referral.
fn listed_form(state: &AppState, listed: &ListedCase) -> Result<FormMap, AppError> {
    match &listed.form_sealed {
        Some(sealed) => Ok(casework::open(state, Purpose::Form, sealed)?),
        None => Ok(FormMap::new()),
    }
}

pub(crate) async fn listed_case(
    state: &AppState,
    st: &Standing,
    case_id: i64,
) -> Result<(ListedCase, Option<i64>), AppError> {
    let list = state.store.meeting_cases(st.meeting.id).await?;
    let pos = list.iter().position(|c| c.case_id == case_id).ok_or(AppError::NotFound)?;
    let next = list.get(pos + 1).map(|c| c.case_id);
    Ok((list[pos].clone(), next))
}

/// Confirmation for the meeting, and the case's own access rule besides.
pub(crate) async fn require_case(state: &AppState, me: &Signed, st: &Standing, case_id: i64) -> Result<(), AppError> {
    st.require_cases(state, me).await?;
    // A case is worked on at a meeting only if that meeting's list holds it.
    if !state.store.meeting_cases(st.meeting.id).await?.iter().any(|c| c.case_id == case_id) {
        return Err(AppError::NotFound);
    }
    let access = state.store.case_access(case_id).await?;
    me.authorise(state, Action::ReadCase(&access), &format!("case:{case_id}")).await?;
    Ok(())
}

pub(crate) fn action_view(
    state: &AppState,
    a: &marac_app::store::ActionRecord,
    agencies: &[marac_app::store::Agency],
) -> Result<ActionView, AppError> {
    let text: ActionText = casework::open(state, Purpose::Action, &a.action.description_sealed)?;
    let mut subject = a.action.subject.label().to_owned();
    if let Some(p) = a.action.approach {
        subject = format!("{subject}: {}", p.label().to_lowercase());
    }
    if !text.child.is_empty() {
        subject = format!("Child: {}", text.child);
    }
    if a.action.kind != ActionKind::General {
        subject = format!("{subject} ({})", a.action.kind.label());
    }
    Ok(ActionView {
        agency: agencies.iter().find(|x| x.id == a.action.agency_id).map(|x| x.name.clone()).unwrap_or_default(),
        owner: a.action.owner_name.clone(),
        subject,
        description: text.description,
        due: display_date(a.action.due_on),
        status: a.status.label(),
    })
}

pub(crate) async fn case_page(
    state: &AppState,
    me: &Signed,
    id: i64,
    case_id: i64,
    sent: Sent,
    errors: Errors,
) -> Result<Response, AppError> {
    let st = standing(state, me, id).await?;
    require_case(state, me, &st, case_id).await?;
    let (listed, next) = listed_case(state, &st, case_id).await?;
    let event = me.audit(
        state,
        "meeting.case.view",
        &format!("case:{case_id}"),
        serde_json::json!({ "meeting": id, "basis": st.basis }),
    );
    state.store.append_audit(event).await?;
    let case = state.store.get_case(case_id).await?;
    let (victim, perpetrators) = casework::case_names(state, &case).await?;
    let map = listed_form(state, &listed)?;
    let summary = map.get(field::SUMMARY_TEXT).cloned().unwrap_or_default();
    let transferred_from =
        if listed.form_sealed.is_some() { crate::routes::meetings::transferred_from(&map) } else { String::new() };
    let agencies = state.store.list_agencies().await?;
    let agency_name = |a: i64| agencies.iter().find(|x| x.id == a).map(|x| x.name.clone()).unwrap_or_default();
    let mut notes = Vec::new();
    for n in state.store.list_research_notes(case_id, me.user.agency_id).await? {
        notes.push(SharedNote {
            agency: agency_name(n.agency_id),
            kind: n.kind.label(),
            body: casework::open(state, Purpose::Note, &n.body_sealed)?,
            private: !n.shared,
        });
    }
    let saved: Discussion = match &listed.discussion_sealed {
        Some(s) => casework::open(state, Purpose::Discussion, s)?,
        None => Discussion::default(),
    };
    let (discussion, form, typed_outcome) = match sent {
        Sent::Nothing => (saved, FormData::default(), false),
        Sent::Discussion(form) => (saved.overlay(&form.0), form, true),
        Sent::Other(form) => (saved, form, false),
    };
    let filter = marac_app::store::ActionFilter { case_id: Some(case_id), limit: 500, ..Default::default() };
    let mut actions = Vec::new();
    // Earlier meetings' actions are not this meeting's plan: they come apart, a group per meeting,
    // the latest meeting first.
    let mut earlier: Vec<(i64, time::Date, Vec<ActionView>)> = Vec::new();
    for a in state.store.list_actions(&filter).await? {
        let view = action_view(state, &a, &agencies)?;
        if a.action.meeting_id == id {
            actions.push(view);
        } else {
            match earlier.iter_mut().find(|(m, _, _)| *m == a.action.meeting_id) {
                Some((_, _, views)) => views.push(view),
                None => earlier.push((a.action.meeting_id, a.meeting_held_on, vec![view])),
            }
        }
    }
    earlier.sort_by_key(|e| std::cmp::Reverse(e.1));
    let earlier: Vec<(String, Vec<ActionView>)> = earlier
        .into_iter()
        .map(|(_, on, views)| (format!("Agreed at the meeting on {}", display_date(on)), views))
        .collect();
    let choice = |value: &str, label: &str, selected: bool| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected,
    };
    let outcome =
        if typed_outcome && !form.get("outcome").is_empty() { form.get("outcome") } else { listed.outcome.code() };
    let today = state.clock.today();
    let flag_filter = marac_app::store::FlagFilter { case_id: Some(case_id), ..Default::default() };
    let flags =
        crate::routes::meeting_flags::views(state, &state.store.list_flags(&flag_filter).await?, &agencies, today)?;
    let flag_until = match form.get("flag_until") {
        "" => crate::routes::input_date(marac_domain::flags::expiry(
            today.max(st.meeting.details.held_on),
            st.marac.rules.flag_months,
        )),
        typed => typed.to_owned(),
    };
    Ok(CasePage {
        ctx: PageContext::new(
            state,
            &me.visitor,
            format!("Meeting case {}", listed.reference.as_deref().unwrap_or_default()),
            "/meetings",
        ),
        meeting_id: id,
        case_id,
        meeting: format!("{}, {}", st.marac.name, display_date(st.meeting.details.held_on)),
        reference: listed.reference.clone().unwrap_or_default(),
        victim,
        perpetrators,
        score: listed.score.map(|s| s.to_string()).unwrap_or_default(),
        repeat: listed.is_repeat,
        children: listed.children_count,
        child_choices: form::children_named(&map)
            .into_iter()
            .map(|c| {
                let selected = form.get("child") == c;
                choice(&c, &c, selected)
            })
            .collect(),
        has_referral: listed.form_sealed.is_some(),
        summary,
        notes,
        fields: DISCUSSION_FIELDS
            .iter()
            .map(|(name, label)| TextField { name, label, value: discussion.get(name).to_owned() })
            .collect(),
        deferred_reason: discussion.deferred_reason.clone(),
        version: listed.discussion_version,
        outcomes: [CaseOutcome::Heard, CaseOutcome::Deferred]
            .iter()
            .map(|o| choice(o.code(), o.label(), o.code() == outcome))
            .collect(),
        can_edit: st.can_run && st.meeting.status != MeetingStatus::Held,
        actions,
        earlier,
        agencies: st
            .meeting
            .details
            .invited_agency_ids
            .iter()
            .map(|a| choice(&a.to_string(), &agency_name(*a), form.get("agency") == a.to_string()))
            .collect(),
        subjects: ActionSubject::ALL
            .iter()
            .map(|s| choice(s.code(), s.label(), form.get("subject") == s.code()))
            .collect(),
        approaches: PerpetratorApproach::ALL
            .iter()
            .map(|p| choice(p.code(), p.label(), form.get("approach") == p.code()))
            .collect(),
        kinds: ActionKind::ALL
            .iter()
            .filter(|k| **k != ActionKind::General)
            .map(|k| choice(k.code(), k.label(), form.get("kind") == k.code()))
            .collect(),
        flag_kinds: FlagKind::ALL
            .iter()
            .map(|k| choice(k.code(), k.label(), form.get("flag_kind") == k.code()))
            .collect(),
        flag_agencies: st
            .meeting
            .details
            .invited_agency_ids
            .iter()
            .map(|a| choice(&a.to_string(), &agency_name(*a), form.get("flag_agency") == a.to_string()))
            .collect(),
        flag_until,
        flags_running: flags.iter().any(FlagView::running),
        flags,
        transferred_from,
        form,
        errors,
        next: next.map(|n| format!("/meetings/{id}/cases/{n}")),
    }
    .into_response())
}

/// `GET /meetings/{id}/cases/{case}`: one listed case in meeting mode.
///
/// # Errors
/// Refused until the viewer has confirmed confidentiality for the meeting; 404 if not listed.
pub async fn show(
    State(state): State<AppState>,
    me: Signed,
    Path((id, case_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    case_page(&state, &me, id, case_id, Sent::Nothing, Errors::default()).await
}

pub(crate) async fn runner(state: &AppState, me: &Signed, id: i64, case_id: i64) -> Result<Standing, AppError> {
    let st = standing(state, me, id).await?;
    require_case(state, me, &st, case_id).await?;
    me.authorise(state, Action::RunMeeting { marac_id: st.marac.id }, &format!("meeting:{id}")).await?;
    if st.meeting.status == MeetingStatus::Held {
        // The meeting is over: its record is changed through the minutes, not the run of it.
        return Err(AppError::Conflict);
    }
    Ok(st)
}

/// The header the page's script sends when it saves the notes as they are typed.
const AUTOSAVE_HEADER: &str = "x-autosave";

/// `POST /meetings/{id}/cases/{case}`: saves the discussion and outcome.
///
/// With the `X-Autosave` header (the page's script, saving as the chair types) it saves the
/// notes only, keeping the recorded outcome, and answers in JSON: `{"saved": true}`, or 422
/// with each problem and its field, so nothing typed is lost and the page says what is wrong.
///
/// # Errors
/// Refused to anyone who does not run the meeting.
pub async fn save(
    State(state): State<AppState>,
    me: Signed,
    Path((id, case_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, AppError> {
    let st = runner(&state, &me, id, case_id).await?;
    let autosave = headers.contains_key(AUTOSAVE_HEADER);
    let mut errors = Errors::default();
    let (before, _) = listed_case(&state, &st, case_id).await?;
    let saved = open_discussion(&state, &before)?;
    // An autosave sends only the boxes that changed; the rest keep what was saved.
    let discussion = saved.overlay(&form.0);
    let outcome = match form.get("outcome") {
        _ if autosave => before.outcome,
        "" => CaseOutcome::Listed,
        code => CaseOutcome::from_code(code).unwrap_or(CaseOutcome::Listed),
    };
    if outcome == CaseOutcome::Deferred && discussion.deferred_reason.is_empty() {
        errors.add("deferred_reason", "Give the reason the case is deferred");
    }
    for (name, label) in DISCUSSION_FIELDS {
        if discussion.get(name).chars().count() > 20_000 {
            errors.add(name, format!("{label} must be 20,000 characters or fewer"));
        } else if let Err(e) =
            marac_domain::fields::check_text(discussion.get(name), marac_domain::fields::TextKind::Multiline)
        {
            errors.add(name, e);
        }
    }
    if !errors.is_empty() && autosave {
        let problems: Vec<_> =
            errors.0.iter().map(|(field, message)| serde_json::json!({ "field": field, "message": message })).collect();
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(serde_json::json!({ "errors": problems }))).into_response());
    }
    if !errors.is_empty() {
        return case_page(&state, &me, id, case_id, Sent::Discussion(form), errors).await;
    }
    let record = DiscussionRecord {
        sealed: casework::seal(&state, Purpose::Discussion, &discussion)?,
        child_voice_recorded: !discussion.child_voice.is_empty(),
        // Typed over the version the page was loaded (or last saved) with; a page without one
        // (an older tab) is taken as typed over what it read now.
        saved_version: Some(form.get("version").parse().unwrap_or(before.discussion_version)),
    };
    let event = me.audit(
        &state,
        "meeting.case.save",
        &format!("case:{case_id}"),
        serde_json::json!({ "meeting": id, "outcome": outcome.code(), "autosave": autosave }),
    );
    let at = Ts::new(state.clock.now());
    let version = match state.store.save_discussion((id, case_id), &record, outcome, me.user.id, at, event).await {
        Ok(v) => v,
        Err(marac_app::store::StoreError::Conflict { .. }) => {
            return conflict(&state, &me, (id, case_id), &st, &form, &discussion, autosave).await;
        }
        Err(e) => return Err(e.into()),
    };
    if autosave {
        return Ok(Json(serde_json::json!({ "saved": true, "version": version })).into_response());
    }
    if outcome == CaseOutcome::Heard && before.outcome != CaseOutcome::Heard {
        let event = me.audit(&state, "action.create", "", serde_json::json!({}));
        marac_app::workflows::actions::tell_victim_outcome(&state, &st.meeting, &before, me.user.id, event).await?;
    }
    let to = if form.get("then") == "next" {
        listed_case(&state, &standing(&state, &me, id).await?, case_id)
            .await?
            .1
            .map_or_else(|| format!("/meetings/{id}#list"), |n| format!("/meetings/{id}/cases/{n}"))
    } else {
        format!("/meetings/{id}/cases/{case_id}#discussion")
    };
    Ok(Redirect::to(&to).into_response())
}

fn open_discussion(state: &AppState, listed: &ListedCase) -> Result<Discussion, AppError> {
    Ok(match &listed.discussion_sealed {
        Some(s) => casework::open(state, Purpose::Discussion, s)?,
        None => Discussion::default(),
    })
}

/// Someone else saved the discussion after this page read it: nothing is overwritten. Each box
/// sent whose text differs from the newer save shows both texts (the page keeps what was
/// typed, with the newer save beside it; an autosave gets them as JSON), to merge and save over
/// the newer version.
async fn conflict(
    state: &AppState,
    me: &Signed,
    (id, case_id): (i64, i64),
    st: &Standing,
    form: &FormData,
    typed: &Discussion,
    autosave: bool,
) -> Result<Response, AppError> {
    let (now, _) = listed_case(state, st, case_id).await?;
    let newer = open_discussion(state, &now)?;
    let sent = |k: &str| form.0.iter().any(|(name, _)| name == k);
    let differing: Vec<(&str, &str)> = DISCUSSION_FIELDS
        .iter()
        .chain(std::iter::once(&("deferred_reason", "If deferred, why")))
        .filter(|(name, _)| sent(name) && typed.get(name) != newer.get(name))
        .map(|(name, label)| (*name, *label))
        .collect();
    if autosave {
        let fields: Vec<_> = differing
            .iter()
            .map(|(name, label)| serde_json::json!({ "field": name, "label": label, "saved": newer.get(name) }))
            .collect();
        let body = serde_json::json!({ "conflict": true, "version": now.discussion_version, "fields": fields });
        return Ok((StatusCode::CONFLICT, Json(body)).into_response());
    }
    let mut errors = Errors::default();
    for (name, _) in &differing {
        errors.add(
            name,
            format!(
                "Someone saved this box after you opened the page. Their text: \u{201c}{}\u{201d}. Merge it into yours and save again.",
                newer.get(name)
            ),
        );
    }
    case_page(state, me, id, case_id, Sent::Discussion(form.clone()), errors).await
}

/// `POST /meetings/{id}/cases/{case}/actions`: adds an action to the case's plan.
///
/// # Errors
/// Refused to anyone who does not run the meeting.
pub async fn add_action(
    State(state): State<AppState>,
    me: Signed,
    Path((id, case_id)): Path<(i64, i64)>,
    form: FormData,
) -> Result<Response, AppError> {
    let st = runner(&state, &me, id, case_id).await?;
    let mut errors = Errors::default();
    let agency = form.get("agency").parse::<i64>().ok().filter(|a| st.meeting.details.invited_agency_ids.contains(a));
    if agency.is_none() {
        errors.add("agency", "Select the agency that owns the action");
    }
    let owner = form.get("owner").trim();
    if owner.is_empty() {
        errors.add("owner", "Enter the named person who will do it");
    } else if owner.chars().count() > 100 {
        errors.add("owner", "The name must be 100 characters or fewer");
    } else if let Err(e) = marac_domain::fields::check_text(owner, marac_domain::fields::TextKind::Line) {
        errors.add("owner", e);
    }
    let subject = ActionSubject::from_code(form.get("subject"));
    if subject.is_none() {
        errors.add("subject", "Select whom the action is about");
    }
    let approach = PerpetratorApproach::from_code(form.get("approach"));
    if subject == Some(ActionSubject::Perpetrator) && approach.is_none() {
        errors.add("approach", "Select the approach: disruption, diversion, prosecution or management");
    }
    let child = form.get("child").trim();
    // Where the referral names its children the action names one of them, as written there.
    let children = form::children_named(&listed_form(&state, &listed_case(&state, &st, case_id).await?.0)?);
    if subject == Some(ActionSubject::Child) && child.is_empty() {
        errors.add(
            "child",
            if children.is_empty() {
                "Enter which child the action is about"
            } else {
                "Select which child the action is about"
            },
        );
    } else if subject == Some(ActionSubject::Child) && !children.is_empty() && !children.iter().any(|c| c == child) {
        errors.add("child", "Select one of the children the referral names");
    }
    let description = form.get("description").trim();
    if description.chars().count() < 10 {
        errors.add("description", "Describe the action specifically: what will be done, and how");
    } else if description.chars().count() > 2_000 {
        errors.add("description", "The description must be 2,000 characters or fewer");
    } else if let Err(e) = marac_domain::fields::check_text(description, marac_domain::fields::TextKind::Multiline) {
        errors.add("description", e);
    }
    let today = state.clock.today();
    let due = parse_date(form.get("due"));
    match due {
        None => errors.add("due", "Enter the date it is due, for example 15/12/2026"),
        Some(d) if d < today => errors.add("due", "The due date must be today or later"),
        Some(_) => {}
    }
    let kind = match form.get("kind") {
        "" => Some(ActionKind::General),
        code => ActionKind::from_code(code),
    };
    if kind.is_none() {
        errors.add("kind", "Select the type of action from the list");
    }
    let (Some(agency_id), Some(subject), Some(due_on), Some(kind), true) =
        (agency, subject, due, kind, errors.is_empty())
    else {
        return case_page(&state, &me, id, case_id, Sent::Other(form), errors).await;
    };
    let text = ActionText {
        description: description.to_owned(),
        child: if subject == ActionSubject::Child { child.to_owned() } else { String::new() },
    };
    let action = NewAction {
        case_id,
        meeting_id: id,
        agency_id,
        owner_name: owner.to_owned(),
        subject,
        approach: approach.filter(|_| subject == ActionSubject::Perpetrator),
        description_sealed: casework::seal(&state, Purpose::Action, &text)?,
        due_on,
        kind,
    };
    let event = me.audit(
        &state,
        "action.create",
        "",
        serde_json::json!({ "case": case_id, "meeting": id, "agency": agency_id }),
    );
    state.store.add_action(&action, me.user.id, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&format!("/meetings/{id}/cases/{case_id}#actions")).into_response())
}
