//! Research before the meeting: accepted cases for the agencies attending their Marac, and
//! each agency's notes, private to it until it shares them.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData};
use crate::page::PageContext;
use crate::paging::Pagination;
use crate::routes::chronology::{EntryView, Words};
use crate::routes::meeting_flags::FlagView;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::chronology;
use marac_app::store::{CaseFilter, CaseOrder, NewResearchNote, NoteKind, ReferralFilter, ReferralStatus, Ts};
use marac_domain::case_stage::{self, CaseStage};
use marac_domain::paging::PageRequest;
use marac_domain::policy;
use marac_domain::policy::{Action, authorise};
use marac_domain::referral_form::field;
use marac_domain::referral_form::{self as form, FormMap};

/// An accepted case in the research list.
pub struct CaseRow {
    /// Link.
    pub href: String,
    /// Latest reference.
    pub reference: String,
    /// Victim.
    pub victim: String,
    /// Marac code.
    pub marac: String,
    /// Referred on.
    pub referred: String,
    /// Where it stands: "Listed for the meeting on 6 December 2026".
    pub stage: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "research/list.html")]
struct ListPage {
    ctx: PageContext,
    rows: Vec<CaseRow>,
    /// Maracs whose cases wait for the statement to be confirmed: name, link, why.
    to_confirm: Vec<(String, String, &'static str)>,
    pagination: Pagination,
}

/// A note as shown.
pub struct NoteView {
    /// The note's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// Agency.
    pub agency: String,
    /// Kind.
    pub kind: &'static str,
    /// Text.
    pub body: String,
    /// Shared.
    pub shared: bool,
    /// Written by the viewer's agency.
    pub own: bool,
    /// When.
    pub written: String,
}

/// A victim or child found on children's social care's list.
pub struct SocialCareView {
    /// Who: the victim, or the child's name.
    pub who: String,
    /// "Open since 3 January 2026" or "Closed 2 September 2026 (opened 1 May 2025)".
    pub dates: String,
    /// The agency whose list it was, and when it was compared.
    pub source: String,
}

/// What other agencies' lists said about a case's people, newest first: one line per person
/// and list, named from the referral that named them.
async fn social_care_views(
    state: &AppState,
    case_id: i64,
    referrals: &[marac_app::store::Referral],
    agencies: &[marac_app::store::Agency],
    until: Option<time::OffsetDateTime>,
) -> Result<Vec<SocialCareView>, AppError> {
    let mut out = Vec::new();
    let mut forms: std::collections::HashMap<i64, FormMap> = std::collections::HashMap::new();
    let links = state.store.social_care_links(case_id).await?;
    for l in links.into_iter().filter(|l| until.is_none_or(|u| l.recorded_at.0 <= u)) {
        let k = &l.link;
        let who = match k.subject.strip_prefix("household:") {
            None => "The victim".to_owned(),
            Some(i) => {
                let (Some(r), Ok(i)) = (referrals.iter().find(|r| r.id == k.referral_id), i.parse()) else { continue };
                let map = match forms.entry(r.id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(casework::open(state, Purpose::Form, &r.form_sealed)?)
                    }
                };
                map.get(&form::group_key(form::Section::Children, i, "name")).cloned().unwrap_or_default()
            }
        };
        let day = crate::routes::display_date;
        let dates = match k.closed_on {
            Some(c) => format!("Closed {} (opened {})", day(c), day(k.opened_on)),
            None => format!("Open since {}", day(k.opened_on)),
        };
        let agency = agencies.iter().find(|a| a.id == l.agency_id).map(|a| a.name.clone()).unwrap_or_default();
        out.push(SocialCareView {
            who,
            dates,
            source: format!("{agency}, list of {}", crate::routes::display_day(l.recorded_at)),
        });
    }
    Ok(out)
}

/// Someone the case's latest referral names, as agencies need them to search their own
/// records.
pub struct PersonView {
    /// Victim, person causing harm, child.
    pub role: String,
    /// Name.
    pub name: String,
    /// "27 March 1990", or "Age 40 (given on the referral)".
    pub born: String,
    /// Address and postcode.
    pub address: String,
}

impl PersonView {
    /// The person as the referral gives them.
    #[must_use]
    pub fn of(p: &form::NamedPerson) -> Self {
        let born = match (p.born, p.age) {
            (Some(d), _) => crate::routes::display_date(d),
            (None, Some(age)) => format!("Age {age} (given on the referral)"),
            (None, None) => "Not known".to_owned(),
        };
        let address = [p.address.trim(), p.postcode.trim()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        Self { role: p.role.clone(), name: p.name.clone(), born, address }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "research/case.html")]
struct CasePage {
    ctx: PageContext,
    case_id: i64,
    victim: String,
    perpetrators: Vec<String>,
    marac: String,
    stage: String,
    window: String,
    person_id: i64,
    people: Vec<PersonView>,
    chronology: Vec<EntryView>,
    pagination: Pagination,
    summary: String,
    notes: Vec<NoteView>,
    flags: Vec<FlagView>,
    social_care: Vec<SocialCareView>,
    transferred_from: String,
    can_write: bool,
    kinds: Vec<(&'static str, &'static str, bool)>,
    body: String,
    share_now: bool,
    errors: Errors,
}

/// Where a case stands, in words: "Listed for 6 December 2026", "Heard on 1 December 2026:
/// actions open".
#[must_use]
pub fn stage_line(stage: Option<CaseStage>, meeting_on: Option<time::Date>) -> String {
    let on = |words: &str| match meeting_on {
        Some(d) => format!("{words} {}", crate::routes::display_date(d)),
        None => words.to_owned(),
    };
    match stage {
        None => "Not yet worked out".into(),
        Some(CaseStage::Listed) => on("Listed for the meeting on"),
        Some(CaseStage::Deferred) => on("Deferred at the meeting on"),
        Some(CaseStage::Heard) => on("Heard on"),
        Some(CaseStage::ActionsOpen) => format!("{}: actions open", on("Heard on")),
        Some(CaseStage::Closed) => format!("Closed: {}, all actions ended", on("heard on")),
        Some(s) => s.label().to_owned(),
    }
}

/// `GET /research`: the cases on their way to a meeting that the user's agency may research,
/// the soonest meeting first, a page at a time.
///
/// # Errors
/// Store failures.
pub async fn list(
    State(state): State<AppState>,
    me: Signed,
    axum::extract::Query(q): axum::extract::Query<crate::paging::PageQuery>,
) -> Result<Response, AppError> {
    me.authorise(&state, Action::ViewHome, "research").await?;
    let actor = me.actor();
    let maracs = state.store.list_maracs().await?;
    let theirs: Vec<&marac_app::store::Marac> = maracs.iter().filter(|m| policy::researches(&actor, m.id)).collect();
    let ids: Vec<i64> = theirs.iter().map(|m| m.id).collect();
    let standings = casework::statement_standings(&state, me.user.id, &ids).await?;
    let mut mine: Vec<i64> = Vec::new();
    // A Marac whose statement the person has not confirmed shows none of its cases, only a link
    // to confirm it.
    let mut to_confirm = Vec::new();
    for (m, standing) in theirs.iter().zip(standings) {
        if standing.lets_see(policy::coordinates(&actor, m.id)) {
            mine.push(m.id);
        } else {
            to_confirm.push((m.name.clone(), format!("/confidentiality/{}?next=/research", m.id), standing.reason()));
        }
    }
    let all: Vec<i64> = maracs.iter().map(|m| m.id).collect();
    let page = state
        .store
        .list_cases(&CaseFilter {
            scope: policy::CaseScope::of(&actor, &all),
            marac_ids: Some(mine),
            open_to_research: true,
            order: CaseOrder::SoonestMeeting,
            page: q.request(),
            ..CaseFilter::default()
        })
        .await?;
    let mut rows = Vec::new();
    let mut seen = Vec::new();
    for r in &page.rows {
        // The database filtered by the same rule; each case shown is still asked of the policy.
        let access = state.store.case_access(r.case_id).await?;
        if authorise(&actor, Action::ReadCase(&access)).is_err() {
            continue;
        }
        seen.push(r.case_id);
        let map: FormMap = casework::open(&state, Purpose::Form, &r.form_sealed)?;
        rows.push(CaseRow {
            href: format!("/cases/{}", r.case_id),
            reference: r.reference.clone(),
            victim: casework::victim_name(&map),
            marac: maracs.iter().find(|m| m.id == r.marac_id).map(|m| m.code.clone()).unwrap_or_default(),
            referred: r.referral_date.map(crate::routes::display_date).unwrap_or_default(),
            stage: stage_line(r.stage, r.stage_meeting.map(|(_, d)| d)),
        });
    }
    if !seen.is_empty() {
        let event = me.audit(&state, "case.list", "research", serde_json::json!({ "cases": seen }));
        state.store.append_audit(event).await?;
    }
    let pagination = Pagination::new(&page, "/research", &[]);
    Ok(ListPage {
        ctx: PageContext::new(&state, &me.visitor, "Cases to research", "/research"),
        rows,
        to_confirm,
        pagination,
    }
    .into_response())
}

/// A case's referrals, newest first, that the reader may read: all of them, or for a Marac the
/// case has left, those it held until then.
///
/// # Errors
/// The store's.
pub(crate) async fn held_referrals(
    state: &AppState,
    case_id: i64,
    limit: Option<&marac_domain::policy::HistoryLimit>,
) -> Result<Vec<marac_app::store::Referral>, AppError> {
    let mut referrals = state
        .store
        .list_referrals(&ReferralFilter { case_id: Some(case_id), limit: 100, ..Default::default() })
        .await?;
    referrals.retain(|r| limit.is_none_or(|l| l.shows(Some(r.marac_id), r.submitted_at.unwrap_or(r.created_at).0)));
    Ok(referrals)
}

async fn case_page(
    state: &AppState,
    me: &Signed,
    case_id: i64,
    page: marac_domain::paging::PageRequest,
    form: &FormData,
    errors: Errors,
) -> Result<Response, AppError> {
    let access = state.store.case_access(case_id).await?;
    let target = format!("case:{case_id}");
    let basis = me.authorise(state, Action::ReadCase(&access), &target).await?;
    // A Marac the case has left reads what it held until then, and nothing after.
    let limit = access.history_limit(&me.actor());
    let until = limit.as_ref().map(|l| l.until);
    let held = |at: Ts| limit.as_ref().is_none_or(|l| l.shows(None, at.0));
    let detail = serde_json::json!({ "basis": basis, "until": until.map(|u| u.to_string()) });
    state.store.append_audit(me.audit(state, "case.view", &target, detail)).await?;
    let case = state.store.get_case(case_id).await?;
    let (victim, perpetrators) = casework::case_names(state, &case).await?;
    let referrals = held_referrals(state, case_id, limit.as_ref()).await?;
    let latest = referrals.iter().find(|r| r.status == ReferralStatus::Accepted).or(referrals.first());
    let (summary, people, transferred_from) = match latest {
        Some(r) => {
            let map: FormMap = casework::open(state, Purpose::Form, &r.form_sealed)?;
            (
                map.get(field::SUMMARY_TEXT).cloned().unwrap_or_default(),
                form::people_named(&map).iter().map(PersonView::of).collect(),
                crate::routes::meetings::transferred_from(&map),
            )
        }
        None => (String::new(), Vec::new(), String::new()),
    };
    let agencies = state.store.list_agencies().await?;
    let maracs = state.store.list_maracs().await?;
    let flag_filter = marac_app::store::FlagFilter { case_id: Some(case_id), ..Default::default() };
    let mut flag_records = state.store.list_flags(&flag_filter).await?;
    flag_records.retain(|f| held(f.flag.set_at));
    let flags = crate::routes::meeting_flags::views(state, &flag_records, &agencies, state.clock.today())?;
    let social_care = social_care_views(state, case_id, &referrals, &agencies, until).await?;
    let mut notes = Vec::new();
    for n in
        state.store.list_research_notes(case_id, me.user.agency_id).await?.into_iter().filter(|n| held(n.created_at))
    {
        notes.push(NoteView {
            id: n.id,
            agency: agencies.iter().find(|a| a.id == n.agency_id).map(|a| a.name.clone()).unwrap_or_default(),
            kind: n.kind.label(),
            body: casework::open(state, Purpose::Note, &n.body_sealed)?,
            shared: n.shared,
            own: Some(n.agency_id) == me.user.agency_id,
            written: crate::routes::display_day(n.created_at),
        });
    }
    let marac = maracs.iter().find(|m| m.id == case.marac_id).ok_or(AppError::NotFound)?;
    let (stage, stage_meeting) = state.store.case_stage(case_id).await?;
    let last_accepted = referrals.iter().filter(|r| r.status == ReferralStatus::Accepted).find_map(|r| r.referral_date);
    let window = last_accepted.map(|last| {
        let (end, runs) = case_stage::repeat_window(last, marac.rules.repeat_months, state.clock.today());
        let end = crate::routes::display_date(end);
        if runs { format!("Runs until {end}: a referral by then is a repeat") } else { format!("Ended on {end}") }
    });
    let reader = chronology::Reader { agency_id: me.user.agency_id, limit: limit.clone() };
    let entries = chronology::of_case(state, case_id, &reader).await?;
    let entries = marac_domain::paging::Page::of_list(entries, page);
    let actor = me.actor();
    let no_refs = std::collections::HashMap::new();
    let words = Words { actor: &actor, agencies: &agencies, maracs: &maracs, case_refs: &no_refs };
    let chronology = crate::routes::chronology::views(state, &entries.rows, &words).await?;
    let pagination = Pagination::new(&entries, &format!("/cases/{case_id}"), &[]);
    let can_write = me.user.agency_id.is_some() && authorise(&actor, Action::WriteCase(&access)).is_ok();
    let chosen = form.get("kind");
    // The title names the case, never a person: titles stay in browser history and window lists.
    let reference = latest.and_then(|r| r.reference.clone()).unwrap_or_else(|| format!("case {case_id}"));
    Ok(CasePage {
        ctx: PageContext::new(state, &me.visitor, format!("Case {reference}"), "/research"),
        case_id,
        victim,
        perpetrators,
        marac: marac.name.clone(),
        stage: stage_line(stage, stage_meeting.map(|(_, d)| d)),
        window: window.unwrap_or_default(),
        person_id: case.victim_person_id,
        people,
        chronology,
        pagination,
        summary,
        notes,
        flags,
        social_care,
        transferred_from,
        can_write,
        kinds: NoteKind::ALL.iter().map(|k| (k.code(), k.label(), k.code() == chosen)).collect(),
        body: form.get("body").to_owned(),
        share_now: form.has("share", "yes"),
        errors,
    }
    .into_response())
}

/// `GET /cases/{id}`: the case summary and research notes.
///
/// # Errors
/// Refused to anyone with no reason to see the case.
pub async fn show(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<crate::paging::PageQuery>,
) -> Result<Response, AppError> {
    case_page(&state, &me, id, q.request(), &FormData::default(), Errors::default()).await
}

/// `POST /cases/{id}/notes`: adds a note from the user's agency.
///
/// # Errors
/// Refused to anyone who may not work on the case.
pub async fn add_note(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, AppError> {
    let access = state.store.case_access(id).await?;
    me.authorise(&state, Action::WriteCase(&access), &format!("case:{id}")).await?;
    let Some(agency_id) = me.user.agency_id else {
        return Err(me.refuse(&state, &format!("case:{id}"), "research needs an agency").await);
    };
    let mut errors = Errors::default();
    let kind = NoteKind::from_code(form.get("kind"));
    if kind.is_none() {
        errors.add("kind", "Select whether this is a fact, an opinion, or information you will not share");
    }
    let body = form.get("body").trim();
    if body.is_empty() {
        errors.add("body", "Enter the note");
    } else if body.chars().count() > 5_000 {
        errors.add("body", "The note must be 5,000 characters or fewer");
    } else if let Err(e) = marac_domain::fields::check_text(body, marac_domain::fields::TextKind::Multiline) {
        errors.add("body", e);
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return case_page(&state, &me, id, PageRequest::default(), &form, errors).await;
    };
    let note = NewResearchNote {
        case_id: id,
        agency_id,
        author_user_id: me.user.id,
        kind,
        body_sealed: casework::seal(&state, Purpose::Note, &body)?,
        shared: form.has("share", "yes"),
    };
    let event = me.audit(&state, "research_note.create", "", serde_json::json!({ "case": id, "shared": note.shared }));
    state.store.add_research_note(&note, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&format!("/cases/{id}#notes")).into_response())
}

/// `POST /cases/{id}/notes/{note}/share`: shares one of the agency's own notes.
///
/// # Errors
/// Refused to anyone who may not work on the case; 404 for another agency's note.
pub async fn share_note(
    State(state): State<AppState>,
    me: Signed,
    Path((id, note)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let access = state.store.case_access(id).await?;
    me.authorise(&state, Action::WriteCase(&access), &format!("case:{id}")).await?;
    let Some(agency_id) = me.user.agency_id else {
        return Err(me.refuse(&state, &format!("case:{id}"), "research needs an agency").await);
    };
    let event =
        me.audit(&state, "research_note.share", &format!("research_note:{note}"), serde_json::json!({ "case": id }));
    state.store.share_research_note(id, note, agency_id, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&format!("/cases/{id}#notes")).into_response())
}
