//! A meeting's papers, to print or download and circulate: the agenda with its list of cases,
//! the action tracking form, and the minutes and tracker as Word documents. Each is marked
//! OFFICIAL-SENSITIVE, needs the reader's confidentiality confirmation for the meeting, and
//! is audited (a view, or an export with its format).

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::routes::meeting_case::{ActionView, action_view};
use crate::routes::meeting_minutes::{Minutes, minutes_of};
use crate::routes::meetings::{Standing, StandingItems, standing, standing_items};
use crate::routes::{display_clock, display_date, download};
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use marac_app::casework::{self, Purpose};
use marac_app::documents::Document;
use marac_app::store::ActionFilter;
use marac_domain::referral_form::FormMap;

/// Most rows a paper lists in one table: every outstanding action of a Marac fits, however
/// long its history; a list past this is cut short rather than holding the server.
pub const PAPER_ROWS: i64 = 5_000;

/// The Word document's content type.
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// One case on the agenda.
pub struct AgendaCase {
    position: usize,
    reference: String,
    victim: String,
    children: i64,
    score: String,
    referred_by: String,
    repeat: bool,
    transferred_from: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/agenda.html")]
struct AgendaPage {
    ctx: PageContext,
    id: i64,
    heading: String,
    location: String,
    chair: String,
    cases: Vec<AgendaCase>,
    review_count: usize,
    standing: StandingItems,
}

/// Records the reading of one of the meeting's papers; the reader's standing, once checked.
async fn read_paper(state: &AppState, me: &Signed, id: i64, what: &str, format: &str) -> Result<Standing, AppError> {
    let st = standing(state, me, id).await?;
    let basis = st.require_cases(state, me).await?;
    let action = if format == "html" { format!("meeting.{what}.view") } else { format!("meeting.{what}.export") };
    let event =
        me.audit(state, &action, &format!("meeting:{id}"), serde_json::json!({ "basis": basis, "format": format }));
    state.store.append_audit(event).await?;
    Ok(st)
}

fn heading(st: &Standing) -> String {
    let d = &st.meeting.details;
    format!("{} meeting, {} at {}", st.marac.name, display_date(d.held_on), display_clock(&d.starts_at))
}

/// A page of no rows: how many there are, without reading any.
const COUNTING: marac_domain::paging::PageRequest = marac_domain::paging::PageRequest { number: 1, size: 0 };

/// The actions agreed at the Marac's earlier meetings and still outstanding.
fn earlier_filter(st: &Standing) -> ActionFilter {
    ActionFilter {
        marac_ids: Some(vec![st.marac.id]),
        outstanding_only: true,
        agreed_before: Some(st.meeting.details.held_on),
        limit: PAPER_ROWS,
        ..Default::default()
    }
}

/// The outstanding actions agreed at the Marac's earlier meetings: (meeting date, action).
async fn earlier_outstanding(
    state: &AppState,
    st: &Standing,
    agencies: &[marac_app::store::Agency],
) -> Result<Vec<(String, String, ActionView)>, AppError> {
    let filter = earlier_filter(st);
    let summaries = state.store.case_summaries(st.marac.id).await?;
    let reference = |case_id: i64| {
        summaries
            .binary_search_by_key(&case_id, |c| c.case_id)
            .map(|i| summaries[i].reference.clone())
            .unwrap_or_default()
    };
    let mut rows = Vec::new();
    for a in state.store.list_actions(&filter).await? {
        rows.push((display_date(a.meeting_held_on), reference(a.action.case_id), action_view(state, &a, agencies)?));
    }
    Ok(rows)
}

/// `GET /meetings/{id}/agenda`: the agenda and its list of cases, in the order they are heard.
///
/// # Errors
/// Refused until the reader has confirmed confidentiality for the meeting.
pub async fn agenda(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let st = read_paper(&state, &me, id, "agenda", "html").await?;
    let agencies = state.store.list_agencies().await?;
    let agency_name = |a: Option<i64>| {
        a.and_then(|a| agencies.iter().find(|x| x.id == a)).map(|x| x.name.clone()).unwrap_or_default()
    };
    let mut cases = Vec::new();
    for (i, c) in state.store.meeting_cases(id).await?.into_iter().enumerate() {
        let (victim, transferred_from) = match &c.form_sealed {
            Some(s) => {
                let map: FormMap = casework::open(&state, Purpose::Form, s)?;
                (casework::victim_name(&map), crate::routes::meetings::transferred_from(&map))
            }
            None => (String::new(), String::new()),
        };
        cases.push(AgendaCase {
            position: i + 1,
            reference: c.reference.unwrap_or_default(),
            victim,
            children: c.children_count,
            score: c.score.map(|s| s.to_string()).unwrap_or_default(),
            referred_by: agency_name(c.referring_agency_id),
            repeat: c.is_repeat,
            transferred_from,
        });
    }
    let summaries = state.store.case_summaries(st.marac.id).await?;
    let standing = standing_items(&state, &summaries, &st.meeting, &agencies).await?;
    let chair = match st.meeting.details.chair_user_id {
        Some(user) => crate::routes::name_of_user(&state, user).await?,
        None => "To be confirmed".to_owned(),
    };
    Ok(AgendaPage {
        ctx: PageContext::new(&state, &me.visitor, "Agenda", "/meetings"),
        id,
        heading: heading(&st),
        location: st.meeting.details.location.clone(),
        chair,
        cases,
        review_count: usize::try_from(state.store.page_actions(&earlier_filter(&st), COUNTING).await?.total)
            .unwrap_or(usize::MAX),
        standing,
    }
    .into_response())
}

/// The action tracking form: this meeting's actions by case, and those still outstanding from
/// earlier meetings, each with a column for the agency's update.
struct Tracker {
    heading: String,
    /// (case reference, action) agreed at this meeting.
    agreed: Vec<(String, ActionView)>,
    /// (meeting date, case reference, action) still outstanding from earlier meetings.
    earlier: Vec<(String, String, ActionView)>,
}

async fn tracker_of(state: &AppState, st: &Standing) -> Result<Tracker, AppError> {
    let agencies = state.store.list_agencies().await?;
    let mut agreed = Vec::new();
    for c in state.store.meeting_cases(st.meeting.id).await? {
        let filter = ActionFilter {
            case_id: Some(c.case_id),
            meeting_id: Some(st.meeting.id),
            limit: 200,
            ..Default::default()
        };
        for a in state.store.list_actions(&filter).await? {
            agreed.push((c.reference.clone().unwrap_or_default(), action_view(state, &a, &agencies)?));
        }
    }
    Ok(Tracker { heading: heading(st), agreed, earlier: earlier_outstanding(state, st, &agencies).await? })
}

#[derive(Template, WebTemplate)]
#[template(path = "meetings/tracker.html")]
struct TrackerPage {
    ctx: PageContext,
    id: i64,
    heading: String,
    agreed: Vec<(String, ActionView)>,
    earlier: Vec<(String, String, ActionView)>,
}

/// `GET /meetings/{id}/tracker`: the action tracking form to print.
///
/// # Errors
/// Refused until the reader has confirmed confidentiality for the meeting.
pub async fn tracker(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let st = read_paper(&state, &me, id, "tracker", "html").await?;
    let t = tracker_of(&state, &st).await?;
    Ok(TrackerPage {
        ctx: PageContext::new(&state, &me.visitor, "Action tracking form", "/meetings"),
        id,
        heading: t.heading,
        agreed: t.agreed,
        earlier: t.earlier,
    }
    .into_response())
}

const ACTION_COLUMNS: [&str; 8] = ["Case", "Agency", "Owner", "About", "Action", "Due", "Status", "Update"];

fn action_row(reference: &str, a: &ActionView) -> Vec<String> {
    vec![
        reference.to_owned(),
        a.agency.clone(),
        a.owner.clone(),
        a.subject.clone(),
        a.description.clone(),
        a.due.clone(),
        a.status.to_owned(),
        String::new(),
    ]
}

/// `GET /meetings/{id}/tracker.docx`: the action tracking form as a Word document.
///
/// # Errors
/// Refused until the reader has confirmed confidentiality for the meeting.
pub async fn tracker_docx(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let st = read_paper(&state, &me, id, "tracker", "docx").await?;
    let t = tracker_of(&state, &st).await?;
    let mut d = Document::titled(format!("Action tracking form: {}", t.heading));
    d.paragraph(
        "Agencies: write what has been done in the Update column and report it under Actions before the due date.",
    );
    d.heading(2, "Actions agreed at this meeting");
    d.table(&ACTION_COLUMNS, t.agreed.iter().map(|(r, a)| action_row(r, a)).collect());
    d.heading(2, "Still outstanding from earlier meetings");
    let mut columns = vec!["Agreed"];
    columns.extend(ACTION_COLUMNS);
    d.table(
        &columns,
        t.earlier.iter().map(|(on, r, a)| std::iter::once(on.clone()).chain(action_row(r, a)).collect()).collect(),
    );
    let name = format!("marac-action-tracker-{}.docx", st.meeting.details.held_on);
    Ok(download(&name, DOCX, d.to_docx().map_err(AppError::Internal)?))
}

/// `GET /meetings/{id}/minutes.docx`: the minutes as a Word document, to edit and circulate.
///
/// # Errors
/// Refused until the reader has confirmed confidentiality for the meeting.
pub async fn minutes_docx(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let st = read_paper(&state, &me, id, "minutes", "docx").await?;
    let m = minutes_of(&state, &st).await?;
    let name = format!("marac-minutes-{}.docx", st.meeting.details.held_on);
    Ok(download(&name, DOCX, minutes_document(&m).to_docx().map_err(AppError::Internal)?))
}

/// The minutes as a document, in the order of the printed minutes.
fn minutes_document(m: &Minutes) -> Document {
    let mut d = Document::titled(format!("Minutes: {}", m.heading));
    d.heading(2, "Confidentiality");
    d.paragraph(m.statement.clone());
    d.paragraph(format!("Statement version {}, read at the start of the meeting.", m.statement_version));
    d.heading(2, "Attendance");
    d.heading(3, "Present");
    d.table(&["Name", "Agency"], m.present.iter().map(|(agency, name)| vec![name.clone(), agency.clone()]).collect());
    d.heading(3, "Apologies");
    d.table(
        &["Name", "Agency", "Information sent"],
        m.apologies
            .iter()
            .map(|(agency, name, sent)| vec![name.clone(), agency.clone(), if *sent { "Yes" } else { "No" }.to_owned()])
            .collect(),
    );
    d.heading(3, "Observers");
    d.table(&["Name", "Confidentiality"], m.observers.iter().map(|(n, c)| vec![n.clone(), c.clone()]).collect());
    d.heading(2, "Review of incomplete actions");
    d.table(
        &["Agreed", "Agency", "Action", "Due", "Status"],
        m.review
            .iter()
            .map(|(on, a)| {
                vec![on.clone(), a.agency.clone(), a.description.clone(), a.due.clone(), a.status.to_owned()]
            })
            .collect(),
    );
    d.heading(2, "Cases");
    for c in &m.cases {
        d.heading(3, format!("{}: {} ({})", c.reference, c.victim, c.outcome));
        if !c.transferred_from.is_empty() {
            d.paragraph(format!("Transferred from {}.", c.transferred_from));
        }
        if !c.deferred_reason.is_empty() {
            d.paragraph(format!("Deferred: {}", c.deferred_reason));
        }
        for f in &c.fields {
            d.paragraph(format!("{}:\n{}", f.label, f.value));
        }
        d.paragraph("Action plan:");
        d.table(
            &["Agency", "Owner", "About", "Action", "Due", "Status"],
            c.actions
                .iter()
                .map(|a| {
                    vec![
                        a.agency.clone(),
                        a.owner.clone(),
                        a.subject.clone(),
                        a.description.clone(),
                        a.due.clone(),
                        a.status.to_owned(),
                    ]
                })
                .collect(),
        );
        if !c.flags.is_empty() {
            d.paragraph("Flags agreed:");
            d.table(
                &["Agency", "Flag", "Note", "Runs until"],
                c.flags
                    .iter()
                    .map(|f| vec![f.agency.clone(), f.kind.to_owned(), f.note.clone(), f.until.clone()])
                    .collect(),
            );
        }
    }
    d.heading(2, "Standing items");
    d.heading(3, "Cases where 12 months have passed since the last referral");
    d.table(
        &["Case", "Last referred"],
        m.standing.twelve_months.iter().map(|(r, last)| vec![r.clone(), last.clone()]).collect(),
    );
    d.heading(3, "Flags running out");
    d.table(
        &["Case", "Flag", "Agency", "Runs until"],
        m.standing
            .flags_ending
            .iter()
            .map(|(r, f)| vec![r.clone(), f.kind.to_owned(), f.agency.clone(), f.until.clone()])
            .collect(),
    );
    d
}
