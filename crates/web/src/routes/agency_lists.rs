//! Children's social care's restricted area for cross-referencing: its representatives upload
//! the list of their open and recently closed cases, see their own lists, and delete them. The
//! list is compared with a Marac's victims and children; what matched is recorded on the cases
//! as "known to children's social care", and nothing about the Marac's cases is shown here.
//! Every view, upload and deletion is audited, and so is every refusal.

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose};
use marac_app::cross_reference::{self, Uploaded};
use marac_app::import::MAX_FILE_BYTES;
use marac_app::store::{AgencyList, Marac, Ts};
use marac_domain::AgencyCategory;
use marac_domain::agency_list::{COLUMNS, ListRow};
use marac_domain::import::{Column, Problems};
use marac_domain::policy::{Action, authorise};

/// A list as the page shows it.
pub struct ListView {
    /// The list's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// Uploaded on.
    pub uploaded: String,
    /// The Marac it was compared with.
    pub marac: String,
    /// Rows.
    pub rows: i64,
    /// People linked.
    pub linked: i64,
    /// "Kept until …" or "Deleted on …".
    pub kept: String,
    /// Its rows are still kept.
    pub live: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "agency_lists/index.html")]
struct IndexPage {
    ctx: PageContext,
    maracs: Vec<(i64, String, bool)>,
    columns: &'static [Column],
    lists: Vec<ListView>,
    days: u32,
    marac_error: Option<String>,
    file_error: Option<String>,
    errors: Problems,
    file_name: String,
    done: Option<Uploaded>,
}

/// A row as the list's own page shows it.
pub struct RowView {
    /// Line in the file.
    pub line: i64,
    /// Name.
    pub name: String,
    /// Date of birth.
    pub born: String,
    /// Postcode and address.
    pub address: String,
    /// Open or closed.
    pub status: &'static str,
    /// Opened on.
    pub opened: String,
    /// Closed on.
    pub closed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "agency_lists/show.html")]
struct ShowPage {
    ctx: PageContext,
    list: ListView,
    rows: Vec<RowView>,
}

/// What `me` may use the area for: their agency, every Marac (to name those a list was compared
/// with), and those for which they may cross-reference their agency's list.
struct Permitted {
    agency_id: i64,
    all: Vec<Marac>,
    maracs: Vec<Marac>,
}

/// What `me` may use the area for. Refused (and audited) if there is no Marac.
async fn permitted(state: &AppState, me: &Signed) -> Result<Permitted, AppError> {
    let agency = match me.user.agency_id {
        Some(id) => Some(state.store.get_agency(id).await?),
        None => None,
    };
    let agency_id = agency.as_ref().map_or(0, |a| a.id);
    let social_care = agency.as_ref().is_some_and(|a| a.category == AgencyCategory::ChildrensSocialCare);
    let actor = me.actor();
    let action = |marac_id| Action::CrossReferenceList { marac_id, list_agency_id: agency_id, social_care };
    let all = state.store.list_maracs().await?;
    let maracs: Vec<Marac> = all.iter().filter(|m| authorise(&actor, action(m.id)).is_ok()).cloned().collect();
    if maracs.is_empty() {
        me.authorise(state, action(0), "agency_lists").await?;
    }
    Ok(Permitted { agency_id, all, maracs })
}

/// The list `id`, if `me` may see it (their own agency's, for a Marac they work in).
async fn own_list(state: &AppState, me: &Signed, id: i64) -> Result<(AgencyList, Vec<Marac>), AppError> {
    let list = state.store.get_agency_list(id).await?;
    let agency = state.store.get_agency(list.agency_id).await?;
    let action = Action::CrossReferenceList {
        marac_id: list.marac_id,
        list_agency_id: list.agency_id,
        social_care: agency.category == AgencyCategory::ChildrensSocialCare,
    };
    me.authorise(state, action, &format!("agency_list:{id}")).await?;
    Ok((list, state.store.list_maracs().await?))
}

fn list_view(l: &AgencyList, maracs: &[Marac]) -> ListView {
    let day = |ts: &Ts| crate::routes::display_day(*ts);
    ListView {
        id: l.id,
        uploaded: day(&l.uploaded_at),
        marac: maracs.iter().find(|m| m.id == l.marac_id).map(|m| m.name.clone()).unwrap_or_default(),
        rows: l.row_count,
        linked: l.linked_count,
        kept: match &l.deleted_at {
            Some(at) => format!("Deleted on {}", day(at)),
            None => format!("Kept until {}", day(&l.delete_after)),
        },
        live: l.deleted_at.is_none(),
    }
}

#[derive(Default)]
struct Outcome {
    chosen: Option<i64>,
    marac_error: Option<String>,
    file_error: Option<String>,
    errors: Problems,
    file_name: String,
    done: Option<Uploaded>,
}

async fn index_page(state: &AppState, me: &Signed, p: &Permitted, o: Outcome) -> Result<Response, AppError> {
    let Permitted { agency_id, all, maracs } = p;
    let lists = state.store.agency_lists(*agency_id).await?;
    let only = (maracs.len() == 1).then(|| maracs[0].id);
    Ok(IndexPage {
        ctx: PageContext::new(state, &me.visitor, "Cross-reference your list", "/agency-lists"),
        maracs: maracs.iter().map(|m| (m.id, m.name.clone(), Some(m.id) == o.chosen.or(only))).collect(),
        columns: COLUMNS,
        lists: lists.iter().map(|l| list_view(l, all)).collect(),
        days: state.config.list_retention_days,
        marac_error: o.marac_error,
        file_error: o.file_error,
        errors: o.errors,
        file_name: o.file_name,
        done: o.done,
    }
    .into_response())
}

/// `GET /agency-lists`: the upload form and the agency's lists.
///
/// # Errors
/// Refused to anyone but children's social care's representatives.
pub async fn index(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    let p = permitted(&state, &me).await?;
    index_page(&state, &me, &p, Outcome::default()).await
}

/// `GET /agency-lists/template.csv`: the list's header line.
///
/// # Errors
/// Refused to anyone but children's social care's representatives.
pub async fn template(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    permitted(&state, &me).await?;
    let header: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"social-care-list-template.csv\""),
        ],
        format!("{}\n", header.join(",")),
    )
        .into_response())
}

/// `POST /agency-lists`: checks the list and, if every row is good, links and keeps it.
///
/// # Errors
/// Refused to anyone but children's social care's representatives for the Marac chosen; 400
/// for a request that is not an upload.
pub async fn upload(State(state): State<AppState>, me: Signed, mut multipart: Multipart) -> Result<Response, AppError> {
    let p = permitted(&state, &me).await?;
    let (agency_id, maracs) = (p.agency_id, &p.maracs);
    let (mut file, mut marac) = (None, String::new());
    while let Some(field) = multipart.next_field().await.map_err(|_| AppError::BadRequest)? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                let bytes = field.bytes().await.map_err(|e| AppError::unreadable_body(&e))?;
                file = Some((name, bytes));
            }
            Some("marac") => marac = field.text().await.map_err(|_| AppError::BadRequest)?,
            _ => {}
        }
    }
    let chosen = marac.trim().parse::<i64>().ok();
    let mut o = Outcome { chosen, ..Outcome::default() };
    let marac_id = match chosen {
        Some(id) if maracs.iter().any(|m| m.id == id) => Some(id),
        Some(id) => {
            // Not a Marac this person works in: refused and audited like any other.
            let action = Action::CrossReferenceList { marac_id: id, list_agency_id: agency_id, social_care: true };
            me.authorise(&state, action, "agency_lists").await?;
            None
        }
        None if maracs.len() == 1 => Some(maracs[0].id),
        None => {
            o.marac_error = Some("Select the Marac to compare the list with".into());
            None
        }
    };
    let file = file.filter(|(_, b)| !b.is_empty());
    if file.is_none() {
        o.file_error = Some("Choose a CSV file to upload".into());
    }
    let (Some(marac_id), Some((name, bytes))) = (marac_id, file) else {
        return index_page(&state, &me, &p, o).await;
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::TooLarge);
    }
    let audit = |detail| me.audit(&state, "agency_list.upload", "", detail);
    o.file_name = name;
    match cross_reference::upload(&state, &me.user, agency_id, marac_id, &bytes, audit).await? {
        Ok(done) => o.done = Some(done),
        Err(errors) => o.errors = errors,
    }
    index_page(&state, &me, &p, o).await
}

/// `GET /agency-lists/{id}`: the agency's own list, while it is kept.
///
/// # Errors
/// Refused to anyone but the agency's representatives for the list's Marac.
pub async fn show(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (list, maracs) = own_list(&state, &me, id).await?;
    let day = |d: Option<time::Date>| d.map(crate::routes::display_date).unwrap_or_default();
    let mut rows = Vec::new();
    for (line, sealed) in state.store.agency_list_rows(id).await? {
        let r: ListRow = casework::open(&state, Purpose::AgencyListRow, &sealed)?;
        rows.push(RowView {
            line,
            name: format!("{} {}", r.given_name, r.family_name).trim().to_owned(),
            born: day(r.date_of_birth),
            address: [r.address.as_str(), r.postcode.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
            status: if r.open { "Open" } else { "Closed" },
            opened: day(Some(r.opened_on)),
            closed: day(r.closed_on),
        });
    }
    let event =
        me.audit(&state, "agency_list.view", &format!("agency_list:{id}"), serde_json::json!({ "rows": rows.len() }));
    state.store.append_audit(event).await?;
    Ok(ShowPage {
        ctx: PageContext::new(&state, &me.visitor, "Your list", "/agency-lists"),
        list: list_view(&list, &maracs),
        rows,
    }
    .into_response())
}

/// `POST /agency-lists/{id}/delete`: deletes the list's rows now; what it linked stays.
///
/// # Errors
/// Refused to anyone but the agency's representatives for the list's Marac; 404 once deleted.
pub async fn delete(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    own_list(&state, &me, id).await?;
    let event = me.audit(&state, "agency_list.delete", &format!("agency_list:{id}"), serde_json::json!({}));
    state.store.delete_agency_list(id, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to("/agency-lists").into_response())
}
