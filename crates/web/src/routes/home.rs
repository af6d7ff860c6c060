//! The home page, different for each role.

use super::account::role_views;
use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use marac_app::store::{ActionFilter, ActionState, CaseFilter, ReferralFilter, ReferralStatus};
use marac_domain::case_stage::CaseStage;
use marac_domain::meeting_rules::MeetingStatus;
use marac_domain::paging::PageRequest;
use marac_domain::policy::{Action, CaseScope, Gate, authorise};

struct MaracView {
    name: String,
    agencies: usize,
    area: String,
    cadence: &'static str,
    threshold: u32,
    capacity: u32,
    recommended: u64,
}

/// One line of a role's to-do list: how many, of what, and where to work them.
pub struct Todo {
    /// How many.
    pub count: u64,
    /// Of what ("referrals to triage", or "referral to triage" for one).
    pub what: &'static str,
    /// The list that holds them.
    pub href: String,
}

/// A coming meeting on the home page.
pub struct ComingMeeting {
    /// Its page.
    pub href: String,
    /// "North Marac, Tuesday 8 December 2026, 10am".
    pub when: String,
    /// "Planned: 3 of 16 places taken; the list closes on 4 December 2026".
    pub list: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageContext,
    todos: Vec<Todo>,
    meetings: Vec<ComingMeeting>,
    can_refer: bool,
    first_name: String,
    roles: Vec<super::account::RoleView>,
    is_admin: bool,
    is_auditor: bool,
    maracs: Vec<MaracView>,
    second_factor: bool,
    cross_reference: bool,
}

/// `GET /`.
///
/// # Errors
/// Database failures.
pub async fn show(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ViewHome, "home").await?;
    let actor = me.actor();
    let agencies = state.store.list_agencies().await?;
    let all = state.store.list_maracs().await?;
    let (todos, meetings) = work(&state, &me, &all).await?;
    let own = agencies.iter().find(|a| Some(a.id) == me.user.agency_id);
    let cross_reference = own.is_some_and(|a| {
        let social_care = a.category == marac_domain::AgencyCategory::ChildrensSocialCare;
        all.iter().any(|m| {
            let action = Action::CrossReferenceList { marac_id: m.id, list_agency_id: a.id, social_care };
            authorise(&actor, action).is_ok()
        })
    });
    let maracs = all
        .into_iter()
        .filter(|m| me.user.grants.iter().any(|g| g.role.is_per_marac() && g.marac_id.is_none_or(|id| id == m.id)))
        .map(|m| MaracView {
            agencies: agencies.iter().filter(|a| a.marac_ids.contains(&m.id)).count(),
            recommended: m.rules.recommended_cases_a_year(u64::try_from(m.adult_female_population).unwrap_or(0)),
            name: m.name,
            area: m.area,
            cadence: m.cadence.label(),
            threshold: m.rules.high_risk_threshold,
            capacity: m.rules.meeting_capacity,
        })
        .collect();
    Ok(HomePage {
        ctx: PageContext::new(&state, &me.visitor, "Home", "/"),
        todos,
        meetings,
        can_refer: Gate::Refer.admits(&actor).is_ok(),
        first_name: me.user.name.split_whitespace().next().unwrap_or("").to_owned(),
        roles: role_views(&state, &me.user).await?,
        is_admin: authorise(&actor, Action::ManageConfiguration).is_ok(),
        is_auditor: authorise(&actor, Action::ReadAuditTrail).is_ok(),
        maracs,
        second_factor: me.user.totp_secret.is_some(),
        cross_reference,
    }
    .into_response())
}

/// Counting only: no rows fetched, the total counted by the database.
const COUNT_ONLY: PageRequest = PageRequest { number: 1, size: 0 };

/// What the person has to do, each with its count and the list that holds it, and the meetings
/// coming up in the Maracs they take part in. Every count is the database's, under the same
/// rules as the list it links to.
async fn work(
    state: &AppState,
    me: &Signed,
    maracs: &[marac_app::store::Marac],
) -> Result<(Vec<Todo>, Vec<ComingMeeting>), AppError> {
    let actor = me.actor();
    let all: Vec<i64> = maracs.iter().map(|m| m.id).collect();
    let all = all.as_slice();
    let today = state.clock.today();
    let scope = CaseScope::of(&actor, all);
    let mut todos = Vec::new();
    // Each thing is named as one and as many: "1 referral to triage", "3 referrals to triage".
    let mut add = |count: u64, (one, many): (&'static str, &'static str), href: &str| {
        if count > 0 {
            todos.push(Todo { count, what: if count == 1 { one } else { many }, href: href.to_owned() });
        }
    };
    let coordinated: Vec<i64> = all.iter().copied().filter(|m| marac_domain::policy::coordinates(&actor, *m)).collect();
    if !coordinated.is_empty() {
        let waiting = ReferralFilter {
            marac_ids: Some(coordinated.clone()),
            statuses: vec![ReferralStatus::Submitted],
            ..Default::default()
        };
        add(
            state.store.page_referrals(&waiting, COUNT_ONLY, true).await?.total,
            ("referral to triage", "referrals to triage"),
            "/triage",
        );
        let matching = ReferralFilter { with_open_matches: true, ..waiting.clone() };
        add(
            state.store.page_referrals(&matching, COUNT_ONLY, true).await?.total,
            ("referral with a possible match to answer", "referrals with a possible match to answer"),
            "/triage",
        );
        let waiting_cases = CaseFilter {
            scope: scope.clone(),
            marac_ids: Some(coordinated.clone()),
            stages: vec![CaseStage::AwaitingMeeting, CaseStage::Deferred],
            page: COUNT_ONLY,
            ..CaseFilter::default()
        };
        add(
            state.store.list_cases(&waiting_cases).await?.total,
            ("accepted case waiting for a meeting's list", "accepted cases waiting for a meeting's list"),
            "/meetings",
        );
    }
    let researched: Vec<i64> = all.iter().copied().filter(|m| marac_domain::policy::researches(&actor, *m)).collect();
    if !researched.is_empty() {
        let on_the_way = CaseFilter {
            scope: scope.clone(),
            marac_ids: Some(researched.clone()),
            open_to_research: true,
            page: COUNT_ONLY,
            ..CaseFilter::default()
        };
        add(
            state.store.list_cases(&on_the_way).await?.total,
            ("case to research before its meeting", "cases to research before their meeting"),
            "/research",
        );
    }
    if !researched.is_empty() {
        // A Marac's cases, actions and meetings open once its statement is confirmed.
        let (_, waiting) = marac_app::casework::confirmed_maracs(state, &actor, &researched).await?;
        let to_confirm: Vec<i64> = waiting
            .iter()
            .filter(|(_, s)| *s != marac_domain::confidentiality::Standing::NoStatement)
            .map(|(m, _)| *m)
            .collect();
        if let Some(first) = to_confirm.first() {
            add(
                to_confirm.len() as u64,
                ("Marac confidentiality statement to confirm", "Marac confidentiality statements to confirm"),
                &format!("/confidentiality/{first}?next=/"),
            );
        }
    }
    if Gate::ReportActions.admits(&actor).is_ok() {
        let tracked = |state_filter, due_by| ActionFilter {
            state: Some(state_filter),
            due_by,
            tracked_by: Some(scope.clone()),
            ..Default::default()
        };
        let overdue = state.store.page_actions(&tracked(ActionState::OverdueOn(today), None), COUNT_ONLY).await?;
        add(overdue.total, ("overdue action", "overdue actions"), "/actions?status=overdue");
        let week = today + time::Duration::days(7);
        let due = state.store.page_actions(&tracked(ActionState::Outstanding, Some(week)), COUNT_ONLY).await?;
        add(
            due.total,
            ("outstanding action due within a week", "outstanding actions due within a week"),
            &format!("/actions?due_by={}", crate::routes::input_date(week)),
        );
    }
    if Gate::Refer.admits(&actor).is_ok() {
        let mine = |status| ReferralFilter {
            referrer_user_id: Some(me.user.id),
            statuses: vec![status],
            ..Default::default()
        };
        add(
            state.store.page_referrals(&mine(ReferralStatus::Returned), COUNT_ONLY, true).await?.total,
            ("referral sent back to you with a question", "referrals sent back to you with a question"),
            "/referrals",
        );
        add(
            state.store.page_referrals(&mine(ReferralStatus::Draft), COUNT_ONLY, true).await?.total,
            ("referral you have not sent yet", "referrals you have not sent yet"),
            "/referrals",
        );
    }
    let mut meetings = Vec::new();
    if !researched.is_empty() {
        // The next four meetings the person may take part in (a representative's, those their
        // agency is invited to).
        let coming = crate::routes::meetings::visible_meetings(state, &actor, maracs, today, 40).await?;
        for m in coming.into_iter().take(4) {
            let d = &m.details;
            let name = maracs.iter().find(|x| x.id == d.marac_id).map(|x| x.name.clone()).unwrap_or_default();
            let cutoff = d
                .list_cutoff_on
                .map(|c| format!("; the list closes on {}", crate::routes::display_date(c)))
                .unwrap_or_default();
            let list = match m.status {
                MeetingStatus::Planned => {
                    format!("List not yet published: {} of {} places taken{cutoff}", m.listed, d.capacity)
                }
                MeetingStatus::Published => {
                    let confirmed = crate::routes::meetings::confirmed_current(state, &m, me.user.id).await?;
                    format!(
                        "List published: {} case{}{}",
                        m.listed,
                        if m.listed == 1 { "" } else { "s" },
                        if confirmed { "" } else { "; confirm the confidentiality statement to see them" }
                    )
                }
                MeetingStatus::Held => "Held".to_owned(),
            };
            meetings.push(ComingMeeting {
                href: format!("/meetings/{}", m.id),
                when: format!(
                    "{name}, {} {}, {}",
                    d.held_on.weekday(),
                    crate::routes::display_date(d.held_on),
                    crate::routes::display_clock(&d.starts_at)
                ),
                list,
            });
        }
    }
    Ok((todos, meetings))
}
