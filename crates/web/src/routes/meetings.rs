//! Meetings: the schedule, building and publishing the list, and the confidentiality
//! confirmation every participant gives before any case of a meeting is shown to them.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::routes::admin::Choice;
use crate::routes::meeting_flags::FlagView;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::store::{Marac, Meeting, Ts, WaitingCase};
use marac_domain::flags;
use marac_domain::meeting_rules::{self, ListCandidate, MeetingFormat, MeetingKind, MeetingStatus};
use marac_domain::paging::PageRequest;
use marac_domain::policy::{Action, Basis, authorise};
use marac_domain::referral_form::FormMap;
use marac_domain::referral_form::field;

/// A meeting in the list of meetings.
pub struct MeetingRow {
    /// Link.
    pub href: String,
    /// Date and time.
    pub when: String,
    /// Marac name.
    pub marac: String,
    /// Kind and format.
    pub kind: &'static str,
    /// Format.
    pub format: &'static str,
    /// Status.
    pub status: &'static str,
    /// Cases listed, of capacity.
    pub listed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/list.html")]
struct ListPage {
    ctx: PageContext,
    upcoming: Vec<MeetingRow>,
    past: Vec<MeetingRow>,
    maracs: Vec<Choice>,
    kinds: Vec<Choice>,
    formats: Vec<Choice>,
    form: FormData,
    errors: Errors,
}

fn meeting_row(m: &Meeting, maracs: &[Marac]) -> MeetingRow {
    let d = &m.details;
    MeetingRow {
        href: format!("/meetings/{}", m.id),
        when: format!("{} at {}", crate::routes::display_date(d.held_on), crate::routes::display_clock(&d.starts_at)),
        marac: maracs.iter().find(|x| x.id == d.marac_id).map(|x| x.name.clone()).unwrap_or_default(),
        kind: d.kind.label(),
        format: d.format.label(),
        status: m.status.label(),
        listed: format!("{} of {}", m.listed, d.capacity),
    }
}

/// Meetings held on or after `from` that `actor` may see (their Maracs' as chair or
/// coordinator, and those their agency is invited to), by date, at most `limit`. Only the
/// Maracs whose meetings they may take part in are asked for, so years of other Maracs'
/// meetings never crowd theirs out.
pub(crate) async fn visible_meetings(
    state: &AppState,
    actor: &marac_domain::policy::Actor,
    maracs: &[Marac],
    from: time::Date,
    limit: i64,
) -> Result<Vec<Meeting>, AppError> {
    let ids: Vec<i64> = maracs.iter().filter(|m| marac_domain::policy::researches(actor, m.id)).map(|m| m.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let all = state.store.list_meetings(&ids, Some(from), limit).await?;
    Ok(all
        .into_iter()
        .filter(|m| {
            authorise(
                actor,
                Action::ViewMeeting { marac_id: m.details.marac_id, invited_agency_ids: &m.details.invited_agency_ids },
            )
            .is_ok()
        })
        .collect())
}

pub(crate) async fn list_page(
    state: &AppState,
    me: &Signed,
    form: FormData,
    errors: Errors,
) -> Result<Response, AppError> {
    me.authorise(state, Action::ViewHome, "meetings").await?;
    let maracs = state.store.list_maracs().await?;
    let today = state.clock.today();
    let actor = me.actor();
    // The last year's meetings and those to come: the page shows the latest 20 held.
    let meetings = visible_meetings(state, &actor, &maracs, today - time::Duration::days(366), 2_000).await?;
    let (past, upcoming): (Vec<&Meeting>, Vec<&Meeting>) = meetings.iter().partition(|m| m.details.held_on < today);
    let manageable: Vec<&Marac> =
        maracs.iter().filter(|m| authorise(&actor, Action::ManageMeetings { marac_id: m.id }).is_ok()).collect();
    let choice = |value: &str, label: &str, field: &str| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: form.get(field) == value,
    };
    Ok(ListPage {
        ctx: PageContext::new(state, &me.visitor, "Meetings", "/meetings"),
        upcoming: upcoming.iter().map(|m| meeting_row(m, &maracs)).collect(),
        past: past.iter().rev().take(20).map(|m| meeting_row(m, &maracs)).collect(),
        maracs: manageable
            .iter()
            .map(|m| choice(&m.id.to_string(), &format!("{} ({})", m.name, m.cadence.label().to_lowercase()), "marac"))
            .collect(),
        kinds: MeetingKind::ALL.iter().map(|k| choice(k.code(), k.label(), "kind")).collect(),
        formats: MeetingFormat::ALL.iter().map(|f| choice(f.code(), f.label(), "format")).collect(),
        form,
        errors,
    }
    .into_response())
}

/// `GET /meetings`: upcoming and recent meetings, and for coordinators the scheduling form.
///
/// # Errors
/// Store failures; refused to those holding no role.
pub async fn list(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    list_page(&state, &me, FormData::default(), Errors::default()).await
}

/// What a person may do at a meeting.
pub struct Standing {
    /// The meeting.
    pub meeting: Meeting,
    /// Its Marac.
    pub marac: Marac,
    /// Why they may see it.
    pub basis: Basis,
    /// They build its list.
    pub can_manage: bool,
    /// They run it.
    pub can_run: bool,
    /// They have confirmed the statement for it.
    pub confirmed: bool,
}

/// Loads a meeting for someone who may see it; refuses (and audits) anyone else.
///
/// # Errors
/// 404 for no meeting, 403 for anyone not a participant.
pub async fn standing(state: &AppState, me: &Signed, id: i64) -> Result<Standing, AppError> {
    let (meeting, basis) = visible(state, me, id).await?;
    let marac_id = meeting.details.marac_id;
    let actor = me.actor();
    let confirmed = confirmed_current(state, &meeting, me.user.id).await?;
    Ok(Standing {
        can_manage: authorise(&actor, Action::ManageMeetings { marac_id }).is_ok(),
        can_run: authorise(&actor, Action::RunMeeting { marac_id }).is_ok(),
        marac: state.store.get_marac(marac_id).await?,
        meeting,
        basis,
        confirmed,
    })
}

/// The meeting, for someone who may see it. To anyone else a meeting that exists answers as one
/// that does not (404), so ids cannot be probed for which meetings there are; the refusal is
/// recorded all the same.
///
/// # Errors
/// 404 for a meeting that is not there or not the asker's to see.
pub(crate) async fn visible(state: &AppState, me: &Signed, id: i64) -> Result<(Meeting, Basis), AppError> {
    let meeting = state.store.get_meeting(id).await?;
    let d = &meeting.details;
    let view = Action::ViewMeeting { marac_id: d.marac_id, invited_agency_ids: &d.invited_agency_ids };
    let basis = me.authorise_hidden(state, view, &format!("meeting:{id}")).await?;
    Ok((meeting, basis))
}

/// The meeting, for one of its Marac's coordinators (a meeting they may not see is not found).
///
/// # Errors
/// 404 for a meeting hidden from them; 403 to anyone else who sees it.
pub(crate) async fn managed(state: &AppState, me: &Signed, id: i64) -> Result<Meeting, AppError> {
    let (meeting, _) = visible(state, me, id).await?;
    me.authorise(state, Action::ManageMeetings { marac_id: meeting.details.marac_id }, &format!("meeting:{id}"))
        .await?;
    Ok(meeting)
}

/// Whether `user_id` has confirmed, for this meeting, the Marac's current statement (a
/// confirmation of an earlier version is asked for again).
///
/// # Errors
/// The store's.
pub(crate) async fn confirmed_current(
    state: &AppState,
    meeting: &Meeting,
    user_id: i64,
) -> Result<bool, marac_app::store::StoreError> {
    let Some(current) = state.store.current_statement(meeting.details.marac_id).await? else { return Ok(false) };
    Ok(state
        .store
        .confirmations(meeting.id)
        .await?
        .iter()
        .any(|c| c.user_id == Some(user_id) && c.statement_version == current.version))
}

impl Standing {
    /// Seeing this meeting's cases, as the policy is asked it.
    fn read_cases(&self) -> Action<'_> {
        let d = &self.meeting.details;
        Action::ReadMeetingCases {
            marac_id: d.marac_id,
            invited_agency_ids: &d.invited_agency_ids,
            confirmed: self.confirmed,
            published: self.meeting.status != MeetingStatus::Planned,
        }
    }

    /// Requires confirmation (and, for agencies, publication) before any case of the meeting
    /// is shown; refusals are audited.
    ///
    /// # Errors
    /// 403 until the person may see the cases.
    pub async fn require_cases(&self, state: &AppState, me: &Signed) -> Result<Basis, AppError> {
        me.authorise(state, self.read_cases(), &format!("meeting:{}", self.meeting.id)).await
    }
}

/// A case on the list as the meeting page shows it.
pub struct ListedView {
    /// Meeting-mode case page.
    pub href: String,
    /// Referral page (for the coordinator building the list).
    pub referral_href: String,
    /// Case id.
    pub case_id: i64,
    /// Reference.
    pub reference: String,
    /// Victim (shown only after confirmation).
    pub victim: String,
    /// Score.
    pub score: String,
    /// Children.
    pub children: i64,
    /// Repeat.
    pub repeat: bool,
    /// Referring agency.
    pub agency: String,
    /// Outcome.
    pub outcome: &'static str,
    /// The Marac a transferred-in case came from; empty if none.
    pub transferred_from: String,
}

/// The Marac a referral says the case is transferring from; empty if none.
pub(crate) fn transferred_from(form: &FormMap) -> String {
    form.get(field::REFERRAL_TRANSFERRED_FROM).map(|s| s.trim().to_owned()).unwrap_or_default()
}

/// A case waiting for a meeting.
pub struct WaitingView {
    /// Case id.
    pub case_id: i64,
    /// Referral id.
    pub referral_id: i64,
    /// Reference.
    pub reference: String,
    /// Children.
    pub children: i64,
    /// Accepted on.
    pub accepted: String,
    /// Accepted after the list's cut-off, so not proposed.
    pub late: bool,
}

/// An outstanding action from an earlier meeting.
pub struct OutstandingView {
    /// Case reference.
    pub case_ref: String,
    /// Agency.
    pub agency: String,
    /// Due.
    pub due: String,
    /// Overdue.
    pub overdue: bool,
    /// Status.
    pub status: &'static str,
    /// Reason category.
    pub reason: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/show.html")]
struct ShowPage {
    ctx: PageContext,
    /// What the last change did.
    done: Option<&'static str>,
    id: i64,
    heading: String,
    marac: String,
    kind: &'static str,
    format: &'static str,
    location: String,
    closing_on: String,
    status: &'static str,
    planned: bool,
    published: bool,
    capacity: u32,
    chair: String,
    list_cutoff: String,
    invited: Vec<String>,
    can_manage: bool,
    can_run: bool,
    confirmed: bool,
    statement: Option<(i64, String)>,
    listed: Vec<ListedView>,
    waiting: Vec<WaitingView>,
    outstanding: Vec<OutstandingView>,
    /// The review's pages, once there is a review to show.
    review_pages: Option<crate::paging::Pagination>,
    /// Cases whose 12 months since the last referral ended in the month before the meeting:
    /// (reference, last referral date).
    twelve_months: Vec<(String, String)>,
    /// Flags running out within a month either side of the meeting: (case reference, flag).
    flags_ending: Vec<(String, FlagView)>,
    statement_form: String,
    errors: Errors,
}

pub(crate) async fn show_page(state: &AppState, me: &Signed, id: i64, errors: Errors) -> Result<Response, AppError> {
    show_page_done(state, me, id, errors, None, PageRequest::default()).await
}

/// The meeting's page, with a banner saying what the last change did.
async fn show_page_done(
    state: &AppState,
    me: &Signed,
    id: i64,
    errors: Errors,
    done: Option<&'static str>,
    review_page: PageRequest,
) -> Result<Response, AppError> {
    let st = standing(state, me, id).await?;
    let d = &st.meeting.details;
    let agencies = state.store.list_agencies().await?;
    let agency_name = |id: Option<i64>| {
        id.and_then(|id| agencies.iter().find(|a| a.id == id)).map(|a| a.name.clone()).unwrap_or_default()
    };
    let statement = state.store.current_statement(d.marac_id).await?;
    let show_cases = authorise(&me.actor(), st.read_cases()).is_ok();
    let mut listed = Vec::new();
    if st.can_manage || show_cases {
        for c in state.store.meeting_cases(id).await? {
            let form: Option<FormMap> = match &c.form_sealed {
                Some(sealed) => Some(marac_app::casework::open(state, marac_app::casework::Purpose::Form, sealed)?),
                None => None,
            };
            let victim = match (&form, show_cases) {
                (Some(map), true) => marac_app::casework::victim_name(map),
                _ => String::new(),
            };
            let transferred_from = form.as_ref().map(transferred_from).unwrap_or_default();
            listed.push(ListedView {
                href: format!("/meetings/{id}/cases/{}", c.case_id),
                referral_href: c.referral_id.map(|r| format!("/referrals/{r}")).unwrap_or_default(),
                case_id: c.case_id,
                reference: c.reference.clone().unwrap_or_default(),
                victim,
                score: c.score.map(|s| s.to_string()).unwrap_or_default(),
                children: c.children_count,
                repeat: c.is_repeat,
                agency: agency_name(c.referring_agency_id),
                outcome: c.outcome.label(),
                transferred_from,
            });
        }
        if show_cases {
            let event = me.audit(
                state,
                "meeting.list.view",
                &format!("meeting:{id}"),
                serde_json::json!({ "basis": st.basis, "cases": listed.iter().map(|l| l.case_id).collect::<Vec<_>>() }),
            );
            state.store.append_audit(event).await?;
        }
    }
    let waiting = if st.can_manage && st.meeting.status != MeetingStatus::Held {
        state
            .store
            .waiting_cases(d.marac_id)
            .await?
            .into_iter()
            .map(|w| WaitingView {
                case_id: w.case_id,
                referral_id: w.referral_id,
                reference: w.reference,
                children: w.children_count,
                accepted: crate::routes::display_day(w.accepted_at),
                late: d.list_cutoff_on.is_some_and(|c| marac_domain::uk_time::uk_date(w.accepted_at.0) > c),
            })
            .collect()
    } else {
        Vec::new()
    };
    let today = state.clock.today();
    let mut outstanding = Vec::new();
    let mut review_pages = None;
    let mut twelve_months = Vec::new();
    let mut flags_ending = Vec::new();
    if show_cases || st.can_manage {
        let cases = state.store.case_summaries(d.marac_id).await?;
        let reference = |case_id: i64| {
            cases.binary_search_by_key(&case_id, |c| c.case_id).map(|i| cases[i].reference.clone()).unwrap_or_default()
        };
        // The review holds what earlier meetings agreed and is still outstanding: a Marac with
        // years of history has hundreds, so the database pages them, the soonest due first.
        let filter = marac_app::store::ActionFilter {
            marac_ids: Some(vec![d.marac_id]),
            outstanding_only: true,
            agreed_before: Some(d.held_on),
            ..Default::default()
        };
        let page = state.store.page_actions(&filter, review_page).await?;
        review_pages = Some(crate::paging::Pagination::new(&page, &format!("/meetings/{id}"), &[]));
        for a in page.rows {
            outstanding.push(OutstandingView {
                case_ref: reference(a.action.case_id),
                agency: agency_name(Some(a.action.agency_id)),
                due: crate::routes::display_date(a.action.due_on),
                overdue: meeting_rules::is_overdue(a.status, a.action.due_on, today),
                status: a.status.label(),
                reason: a.status_reason.map(|r| r.label()).unwrap_or(""),
            });
        }
        StandingItems { twelve_months, flags_ending } = standing_items(state, &cases, &st.meeting, &agencies).await?;
    }
    Ok(ShowPage {
        done,
        ctx: PageContext::new(
            state,
            &me.visitor,
            format!("{} meeting, {}", st.marac.name, crate::routes::display_date(d.held_on)),
            "/meetings",
        ),
        id,
        heading: format!(
            "{} at {}",
            crate::routes::display_date(d.held_on),
            crate::routes::display_clock(&d.starts_at)
        ),
        marac: st.marac.name.clone(),
        kind: d.kind.label(),
        format: d.format.label(),
        location: d.location.clone(),
        closing_on: d.closing_on.map(crate::routes::display_date).unwrap_or_default(),
        status: st.meeting.status.label(),
        planned: st.meeting.status == MeetingStatus::Planned,
        published: st.meeting.status == MeetingStatus::Published,
        capacity: d.capacity,
        chair: match d.chair_user_id {
            Some(c) => state.store.get_user(c).await?.name,
            None => String::new(),
        },
        list_cutoff: d.list_cutoff_on.map(crate::routes::display_date).unwrap_or_default(),
        invited: d.invited_agency_ids.iter().map(|a| agency_name(Some(*a))).collect(),
        can_manage: st.can_manage,
        can_run: st.can_run,
        confirmed: st.confirmed,
        statement_form: statement.as_ref().map(|s| s.body.clone()).unwrap_or_default(),
        statement: statement.map(|s| (s.version, s.body)),
        listed,
        waiting,
        outstanding,
        review_pages,
        twelve_months,
        flags_ending,
        errors,
    }
    .into_response())
}

/// The standing items a meeting takes besides its list and the review of actions.
pub(crate) struct StandingItems {
    /// Cases whose 12 months since the last referral ended in the month before the meeting:
    /// (reference, last referral date).
    pub twelve_months: Vec<(String, String)>,
    /// Flags running out within a month either side of the meeting: (case reference, flag).
    pub flags_ending: Vec<(String, FlagView)>,
}

/// Works out the standing items of `meeting` from its Marac's cases (as
/// [`marac_app::store::Store::case_summaries`] gives them, ordered by case id).
pub(crate) async fn standing_items(
    state: &AppState,
    cases: &[marac_app::store::CaseSummary],
    meeting: &Meeting,
    agencies: &[marac_app::store::Agency],
) -> Result<StandingItems, AppError> {
    let held_on = meeting.details.held_on;
    let reference = |case_id: i64| {
        cases.binary_search_by_key(&case_id, |c| c.case_id).map(|i| cases[i].reference.clone()).unwrap_or_default()
    };
    let twelve_months = cases
        .iter()
        .filter_map(|c| c.last_referral_on.map(|last| (c, last)))
        .filter(|(_, last)| meeting_rules::twelve_month_review_due(*last, held_on))
        .map(|(c, last)| (c.reference.clone(), crate::routes::display_date(last)))
        .collect();
    let running = marac_app::store::FlagFilter {
        marac_id: Some(meeting.details.marac_id),
        running_only: true,
        ..Default::default()
    };
    let due: Vec<marac_app::store::CaseFlag> = state
        .store
        .list_flags(&running)
        .await?
        .into_iter()
        .filter(|f| flags::review_due(f.flag.expires_on, false, held_on))
        .collect();
    let views = crate::routes::meeting_flags::views(state, &due, agencies, state.clock.today())?;
    Ok(StandingItems {
        twelve_months,
        flags_ending: due.iter().map(|f| reference(f.flag.case_id)).zip(views).collect(),
    })
}

/// `GET /meetings/{id}`: the meeting; its cases once the viewer has confirmed confidentiality.
///
/// # Errors
/// Refused to anyone not a participant.
pub async fn show(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Result<Response, AppError> {
    let done = match q.done.as_deref() {
        Some("published") => Some("List published: the invited agencies have been told"),
        Some("held") => Some("Meeting marked as held"),
        Some("confirmed") => Some("Confidentiality statement confirmed"),
        _ => None,
    };
    show_page_done(&state, &me, id, Errors::default(), done, PageRequest::from_query(q.page.as_deref())).await
}

/// What a change just did, as a code in the address.
#[derive(Debug, Default, serde::Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
    /// The page of the review of incomplete actions.
    page: Option<String>,
}

/// `POST /meetings/{id}/list`: the coordinator proposes, adds, removes or moves cases.
///
/// # Errors
/// Refused to anyone who does not coordinate the Marac; 409 once the meeting is held.
pub async fn change_list(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let meeting = managed(&state, &me, id).await?;
    let current = state.store.meeting_cases(id).await?;
    let mut list: Vec<(i64, i64)> = current.iter().filter_map(|c| c.referral_id.map(|r| (c.case_id, r))).collect();
    let waiting = state.store.waiting_cases(meeting.details.marac_id).await?;
    let room = usize::try_from(meeting.details.capacity).unwrap_or(0).saturating_sub(list.len());
    let case: i64 = form.get("case").parse().unwrap_or(0);
    let mut errors = Errors::default();
    match form.get("op") {
        "propose" => {
            let cutoff = meeting.details.list_cutoff_on;
            let candidates: Vec<ListCandidate> = waiting
                .iter()
                .filter(|w| cutoff.is_none_or(|c| marac_domain::uk_time::uk_date(w.accepted_at.0) <= c))
                .map(WaitingCase::as_candidate)
                .collect();
            for c in meeting_rules::propose(&candidates, room) {
                if let Some(w) = waiting.iter().find(|w| w.case_id == c) {
                    list.push((w.case_id, w.referral_id));
                }
            }
        }
        "add" => match waiting.iter().find(|w| w.case_id == case) {
            Some(_) if room == 0 => {
                errors.add("list", "The list is full; remove a case or raise the meeting's capacity")
            }
            Some(w) => list.push((w.case_id, w.referral_id)),
            None => return Err(AppError::NotFound),
        },
        "remove" => list.retain(|(c, _)| *c != case),
        "up" | "down" => {
            let ids: Vec<i64> = list.iter().map(|(c, _)| *c).collect();
            if let Some(from) = ids.iter().position(|c| *c == case) {
                let moved = meeting_rules::move_item(&ids, from, form.get("op") == "up");
                list = moved.iter().filter_map(|c| list.iter().find(|(x, _)| x == c).copied()).collect();
            }
        }
        _ => return Err(AppError::BadRequest),
    }
    if !errors.is_empty() {
        return show_page(&state, &me, id, errors).await;
    }
    // Cases with children first, the coordinator's order kept within each group.
    let counts: Vec<(i64, u32)> = list
        .iter()
        .map(|(c, r)| {
            let n = current
                .iter()
                .find(|x| x.case_id == *c)
                .map(|x| x.children_count)
                .or_else(|| waiting.iter().find(|w| w.referral_id == *r).map(|w| w.children_count))
                .unwrap_or(0);
            (*c, u32::try_from(n).unwrap_or(0))
        })
        .collect();
    let ordered: Vec<(i64, i64)> = meeting_rules::children_first(&counts)
        .iter()
        .filter_map(|c| list.iter().find(|(x, _)| x == c).copied())
        .collect();
    let event = me.audit(
        &state,
        "meeting.list.change",
        &format!("meeting:{id}"),
        serde_json::json!({ "op": form.get("op"), "cases": ordered.iter().map(|(c, _)| c).collect::<Vec<_>>() }),
    );
    state.store.set_meeting_list(id, &ordered, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&format!("/meetings/{id}#list")).into_response())
}

/// `POST /meetings/{id}/close`: marks a published meeting as held.
///
/// # Errors
/// Refused to anyone who does not run the Marac's meetings.
pub async fn close(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (meeting, _) = visible(&state, &me, id).await?;
    me.authorise(&state, Action::RunMeeting { marac_id: meeting.details.marac_id }, &format!("meeting:{id}")).await?;
    let event = me.audit(&state, "meeting.close", &format!("meeting:{id}"), serde_json::json!({}));
    state.store.close_meeting(id, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&format!("/meetings/{id}?done=held")).into_response())
}

/// `POST /meetings/{id}/confirm`: the signed-in participant confirms the current statement.
///
/// # Errors
/// Refused to anyone not a participant; 409 when the Marac has no statement yet.
pub async fn confirm(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let st = standing(&state, &me, id).await?;
    let Some(statement) = state.store.current_statement(st.marac.id).await? else {
        return Err(AppError::NotFound);
    };
    if !form.has("agree", "yes") {
        let mut errors = Errors::default();
        errors.add("agree", "Confirm that you will keep the information shared confidential");
        return show_page(&state, &me, id, errors).await;
    }
    let event = me.audit(
        &state,
        "confidentiality.confirm",
        &format!("meeting:{id}"),
        serde_json::json!({ "statement_version": statement.version }),
    );
    state
        .store
        .confirm_confidentiality(id, Some(me.user.id), None, statement.id, Ts::new(state.clock.now()), event)
        .await?;
    Ok(Redirect::to(&format!("/meetings/{id}?done=confirmed")).into_response())
}

/// `POST /meetings/{id}/statement`: the coordinator sets a new version of the Marac's statement.
///
/// # Errors
/// Refused to anyone who does not coordinate the Marac.
pub async fn set_statement(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let (meeting, _) = visible(&state, &me, id).await?;
    let marac_id = meeting.details.marac_id;
    me.authorise(&state, Action::ManageMeetings { marac_id }, &format!("marac:{marac_id}")).await?;
    let body = form.get("statement").trim();
    let mut errors = Errors::default();
    if body.chars().count() < 20 {
        errors.add("statement", "Enter the confidentiality statement read at the start of each meeting");
    } else if body.chars().count() > 5_000 {
        errors.add("statement", "The statement must be 5,000 characters or fewer");
    } else if let Err(e) = marac_domain::fields::check_text(body, marac_domain::fields::TextKind::Multiline) {
        errors.add("statement", e);
    }
    if !errors.is_empty() {
        return show_page(&state, &me, id, errors).await;
    }
    let unchanged = state.store.current_statement(marac_id).await?.is_some_and(|s| s.body == body);
    if !unchanged {
        let event = me.audit(&state, "confidentiality.statement", &format!("marac:{marac_id}"), serde_json::json!({}));
        let at = Ts::new(state.clock.now());
        state.store.add_statement(marac_id, body, Some(me.user.id), at, event).await?;
        // The coordinator who wrote it has read it.
        if let Some(statement) = state.store.current_statement(marac_id).await? {
            let event = me.audit(
                &state,
                "confidentiality.confirm",
                &format!("marac:{marac_id}"),
                serde_json::json!({ "statement_version": statement.version }),
            );
            state.store.confirm_statement(me.user.id, statement.id, at, event).await?;
        }
    }
    Ok(Redirect::to(&format!("/meetings/{id}")).into_response())
}
