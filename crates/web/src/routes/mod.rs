//! Every route, in one place.

pub mod account;
pub mod actions;
pub mod admin;
pub mod agency_lists;
pub mod audit_trail;
pub mod chronology;
pub mod confidentiality;
pub mod dashboards;
pub mod directory;
pub mod home;
pub mod imports;
pub mod inbox;
pub mod meeting_case;
pub mod meeting_edit;
pub mod meeting_flags;
pub mod meeting_minutes;
pub mod meeting_papers;
pub mod meeting_publish;
pub mod meeting_referral;
pub mod meeting_schedule;
pub mod meetings;
pub mod ops;
pub mod people;
pub mod person;
pub mod postcodes;
pub mod referrals;
pub mod research;
pub mod returns;
pub mod search;
pub mod sign_in;
mod table;
pub mod transfers;
pub mod triage;
pub mod two_factor;

pub(crate) use table::guard_api;
pub use table::{Access, Route};

use crate::error::AppError;
use crate::{AppState, assets, csrf, faults, idempotency, metrics, page, security_headers, session};
use axum::Router;
use axum::http::{HeaderName, Request, Response, StatusCode, header};
use axum::middleware::from_fn_with_state;
use marac_domain::policy::Gate;
use std::time::Duration;
use table::Table;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

/// Longest a request body may pause between parts before the request is given up.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = marac_app::crypto::random_bytes::<8>().ok().map(hex::encode)?;
        axum::http::HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// A `GET` of an address that only takes a form (after an error the address bar holds it, so a
/// reload or a bookmark asks for it) leads back to the form's page; any other method it does
/// not take is the service's own error page.
async fn back_to_page(method: axum::http::Method, uri: axum::http::Uri) -> Response<axum::body::Body> {
    use axum::response::IntoResponse;
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        axum::response::Redirect::to(&page_of(uri.path())).into_response()
    } else {
        AppError::MethodNotAllowed.into_response()
    }
}

/// The page whose form posts to `path`: the address less its last part, and less the form's
/// own record where that has no page (a note's share, a flag's end, a session, a contact).
#[must_use]
pub fn page_of(path: &str) -> String {
    let mut parts: Vec<&str> = path.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
    parts.pop();
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // `.../notes/{n}` and `.../flags/{n}` are parts of their case's page.
    if parts.len() >= 2 && matches!(parts[parts.len() - 2], "notes" | "flags") && numeric(parts[parts.len() - 1]) {
        parts.truncate(parts.len() - 2);
    }
    match parts.as_slice() {
        ["account", "sessions"] => "/account".to_owned(),
        ["directory", id] if numeric(id) => "/directory".to_owned(),
        _ => format!("/{}", parts.join("/")),
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<axum::body::Body> {
    tracing::error!("a request handler panicked");
    let page = crate::page::ErrorPage {
        status: 500,
        title: "Sorry, there is a problem with the service".into(),
        message: "Try again later. If it keeps happening, tell your system administrator the time it happened.".into(),
        resend: None,
    };
    let mut response = Response::new(axum::body::Body::from(page.render_plain()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

/// The API's routes as its own router serves them (made from their OpenAPI declarations in
/// [`crate::api::routes`]), with who may call each; a test checks the two agree.
pub const API_ROUTES: &[Route] = &[
    Route { method: "GET", path: "/api/v1/openapi.json", access: Access::Public },
    Route { method: "GET", path: "/api/v1/checklists", access: Access::Api(Gate::AnyRole) },
    Route { method: "GET", path: "/api/v1/checklists/{id}/{version}", access: Access::Api(Gate::AnyRole) },
    // Answers every caller: the Maracs they may refer to, none for roles that do not refer.
    Route { method: "GET", path: "/api/v1/maracs", access: Access::Api(Gate::OwnAccount) },
    Route { method: "POST", path: "/api/v1/referrals", access: Access::Api(Gate::Refer) },
    Route { method: "GET", path: "/api/v1/referrals/{reference}", access: Access::Api(Gate::AnyRole) },
    Route {
        method: "GET",
        path: "/api/v1/meetings/{id}/cases/{case}",
        access: Access::ApiHidden(Gate::AttendMeetings),
    },
    Route { method: "POST", path: "/api/v1/search", access: Access::Api(Gate::ReadCases) },
    Route { method: "GET", path: "/api/v1/actions", access: Access::Api(Gate::AnyRole) },
    Route { method: "GET", path: "/api/v1/meetings", access: Access::Api(Gate::AnyRole) },
    Route { method: "GET", path: "/api/v1/cases/{id}", access: Access::Api(Gate::ReadCases) },
    Route { method: "GET", path: "/api/v1/cases/{id}/chronology", access: Access::Api(Gate::ReadCases) },
    Route { method: "POST", path: "/api/v1/actions/{id}/reports", access: Access::Api(Gate::ReportActions) },
];

/// The route table: every address the service answers and who may reach it, built with the
/// router so that neither exists without the other.
#[must_use]
pub fn table(state: &AppState) -> Vec<Route> {
    routes(state).2
}

/// Every route, with who may reach it. Pages sit behind the session, CSRF and error-page
/// layers; `ops` (health, metrics, assets) does not.
fn routes(state: &AppState) -> (Router<AppState>, Router<AppState>, Vec<Route>) {
    use Access::{Hidden, Public, Signed, SigningIn};
    let file = marac_app::import::MAX_FILE_BYTES;
    let (pages, mut table) = Table::new(state)
        .get("/", Signed(Gate::AnyRole), home::show)
        .get("/sign-in", Public, sign_in::form)
        .post("/sign-in", Public, sign_in::submit)
        .get("/sign-in/two-factor", SigningIn, two_factor::challenge_form)
        .post("/sign-in/two-factor", SigningIn, two_factor::challenge_submit)
        .get("/sign-in/set-up-two-factor", SigningIn, two_factor::enrol_form)
        .post("/sign-in/set-up-two-factor", SigningIn, two_factor::enrol_submit)
        .post("/sign-out", SigningIn, sign_in::sign_out)
        .get("/account", Signed(Gate::OwnAccount), account::show)
        .post("/account/sessions/end", Signed(Gate::OwnAccount), account::end_session)
        .post("/account/keep-alive", Signed(Gate::OwnAccount), account::keep_alive)
        .get(session::STATUS_PATH, Signed(Gate::OwnAccount), account::session_status)
        .get("/account/two-factor", Signed(Gate::OwnAccount), two_factor::enrol_form)
        .post("/account/two-factor", Signed(Gate::OwnAccount), two_factor::enrol_submit)
        .get("/audit", Signed(Gate::ReadAuditTrail), audit_trail::list)
        .get("/referrals", Signed(Gate::AnyRole), referrals::list)
        .post("/referrals/new", Signed(Gate::Refer), referrals::start)
        .get("/referrals/{id}", Signed(Gate::AnyRole), referrals::drafting::show)
        .get("/referrals/{id}/check", Signed(Gate::AnyRole), referrals::submitting::check)
        .post("/referrals/{id}/check", Signed(Gate::Refer), referrals::submitting::submit)
        .get("/referrals/{id}/submitted", Signed(Gate::AnyRole), referrals::submitting::submitted)
        .post("/referrals/{id}/decision", Signed(Gate::TriageReferrals), referrals::triage::decide)
        .post("/referrals/{id}/matches", Signed(Gate::TriageReferrals), referrals::triage::answer_match)
        .get("/referrals/{id}/{section}", Signed(Gate::AnyRole), referrals::drafting::section_form)
        .post("/referrals/{id}/{section}", Signed(Gate::AnyRole), referrals::drafting::section_save)
        .get("/referrals/{id}/{section}/remove/{index}", Signed(Gate::AnyRole), referrals::drafting::remove_person_form)
        .post("/referrals/{id}/{section}/remove/{index}", Signed(Gate::AnyRole), referrals::drafting::remove_person)
        .get("/triage", Signed(Gate::TriageReferrals), triage::queue)
        .get("/confidentiality/{marac}", Signed(Gate::ConfirmStatement), confidentiality::show)
        .post("/confidentiality/{marac}", Signed(Gate::ConfirmStatement), confidentiality::confirm)
        .get("/transfers/{id}", Hidden(Gate::TriageReferrals), transfers::show)
        .post("/transfers/{id}/ask", Hidden(Gate::TriageReferrals), transfers::ask)
        .post("/transfers/{id}/answer", Hidden(Gate::TriageReferrals), transfers::answer)
        .get("/research", Signed(Gate::AnyRole), research::list)
        .get("/search", Signed(Gate::ReadCases), search::form)
        .post("/search", Signed(Gate::ReadCases), search::submit)
        .get("/search/{id}", Signed(Gate::ReadCases), search::results)
        .get("/cases/{id}", Signed(Gate::ReadCases), research::show)
        .post("/cases/{id}/notes", Signed(Gate::ReadCases), research::add_note)
        .post("/cases/{id}/notes/{note}/share", Signed(Gate::ReadCases), research::share_note)
        .get("/meetings", Signed(Gate::AnyRole), meetings::list)
        .post("/meetings", Signed(Gate::ManageMeetings), meeting_schedule::schedule)
        .get("/actions", Signed(Gate::AnyRole), actions::list)
        .get("/actions/{id}", Signed(Gate::ReportActions), actions::show)
        .post("/actions/{id}", Signed(Gate::ReportActions), actions::report)
        // A meeting's addresses are open to anyone who may take part in some meeting; the
        // handler refuses a meeting they may not see as if it did not exist, and what they may
        // not do at one they see with a 403.
        .get("/meetings/{id}", Hidden(Gate::AttendMeetings), meetings::show)
        .get("/meetings/{id}/edit", Hidden(Gate::AttendMeetings), meeting_edit::form)
        .post("/meetings/{id}/edit", Hidden(Gate::AttendMeetings), meeting_edit::save)
        .post("/meetings/{id}/list", Hidden(Gate::AttendMeetings), meetings::change_list)
        .post("/meetings/{id}/publish", Hidden(Gate::AttendMeetings), meeting_publish::publish)
        .post("/meetings/{id}/close", Hidden(Gate::AttendMeetings), meetings::close)
        .post("/meetings/{id}/confirm", Hidden(Gate::AttendMeetings), meetings::confirm)
        .post("/meetings/{id}/statement", Hidden(Gate::AttendMeetings), meetings::set_statement)
        .get("/meetings/{id}/attendance", Hidden(Gate::AttendMeetings), meeting_minutes::attendance_form)
        .post("/meetings/{id}/attendance", Hidden(Gate::AttendMeetings), meeting_minutes::attendance_save)
        .get("/meetings/{id}/minutes", Hidden(Gate::AttendMeetings), meeting_minutes::minutes)
        .get("/meetings/{id}/minutes.docx", Hidden(Gate::AttendMeetings), meeting_papers::minutes_docx)
        .get("/meetings/{id}/agenda", Hidden(Gate::AttendMeetings), meeting_papers::agenda)
        .get("/meetings/{id}/tracker", Hidden(Gate::AttendMeetings), meeting_papers::tracker)
        .get("/meetings/{id}/tracker.docx", Hidden(Gate::AttendMeetings), meeting_papers::tracker_docx)
        .get("/meetings/{id}/cases/{case}", Hidden(Gate::AttendMeetings), meeting_case::show)
        .get("/meetings/{id}/cases/{case}/referral", Hidden(Gate::AttendMeetings), meeting_referral::show)
        .post("/meetings/{id}/cases/{case}", Hidden(Gate::AttendMeetings), meeting_case::save)
        .post("/meetings/{id}/cases/{case}/actions", Hidden(Gate::AttendMeetings), meeting_case::add_action)
        .post("/meetings/{id}/cases/{case}/flags", Hidden(Gate::AttendMeetings), meeting_flags::add)
        .post("/meetings/{id}/cases/{case}/flags/{flag}/end", Hidden(Gate::AttendMeetings), meeting_flags::end)
        .get("/returns", Signed(Gate::ViewFigures), returns::show)
        .get("/returns/download", Signed(Gate::ViewFigures), returns::download)
        .get("/returns/import", Signed(Gate::ManageMeetings), imports::form)
        .upload("/returns/import", Signed(Gate::ManageMeetings), imports::upload, file)
        .get("/returns/import/template.csv", Signed(Gate::ManageMeetings), imports::template)
        .get("/returns/postcodes", Signed(Gate::ViewFigures), postcodes::show)
        .get("/returns/health", Signed(Gate::ViewFigures), dashboards::health)
        .get("/returns/children", Signed(Gate::ViewFigures), dashboards::children)
        .post("/returns/children/figures", Signed(Gate::EnterFigures), dashboards::enter_figures)
        .get("/inbox", Signed(Gate::OwnAccount), inbox::list)
        .get("/inbox/{id}", Signed(Gate::OwnAccount), inbox::open)
        .get("/people/duplicates", Signed(Gate::MergePeople), people::queue)
        .post("/people/duplicates", Signed(Gate::MergePeople), people::answer)
        .get("/people/{id}", Signed(Gate::ReadCases), person::show)
        .get("/agency-lists", Signed(Gate::CrossReference), agency_lists::index)
        .upload("/agency-lists", Signed(Gate::CrossReference), agency_lists::upload, file)
        .get("/agency-lists/template.csv", Signed(Gate::CrossReference), agency_lists::template)
        .get("/agency-lists/{id}", Signed(Gate::CrossReference), agency_lists::show)
        .post("/agency-lists/{id}/delete", Signed(Gate::CrossReference), agency_lists::delete)
        .get("/directory", Signed(Gate::AnyRole), directory::show)
        .post("/directory", Signed(Gate::ManageDirectory), directory::add)
        .post("/directory/{id}/remove", Signed(Gate::ManageDirectory), directory::remove)
        .get("/admin", Signed(Gate::ManageConfiguration), admin::index)
        .get("/admin/partnerships", Signed(Gate::ManageConfiguration), admin::partnerships::list)
        .get("/admin/partnerships/new", Signed(Gate::ManageConfiguration), admin::partnerships::new_form)
        .post("/admin/partnerships/new", Signed(Gate::ManageConfiguration), admin::partnerships::create)
        .get("/admin/partnerships/{id}", Signed(Gate::ManageConfiguration), admin::partnerships::edit_form)
        .post("/admin/partnerships/{id}", Signed(Gate::ManageConfiguration), admin::partnerships::update)
        .get("/admin/maracs", Signed(Gate::ManageConfiguration), admin::maracs::list)
        .get("/admin/maracs/new", Signed(Gate::ManageConfiguration), admin::maracs::new_form)
        .post("/admin/maracs/new", Signed(Gate::ManageConfiguration), admin::maracs::create)
        .get("/admin/maracs/{id}", Signed(Gate::ManageConfiguration), admin::maracs::edit_form)
        .post("/admin/maracs/{id}", Signed(Gate::ManageConfiguration), admin::maracs::update)
        .get("/admin/agencies", Signed(Gate::ManageConfiguration), admin::agencies::list)
        .get("/admin/agencies/new", Signed(Gate::ManageConfiguration), admin::agencies::new_form)
        .post("/admin/agencies/new", Signed(Gate::ManageConfiguration), admin::agencies::create)
        .get("/admin/agencies/{id}", Signed(Gate::ManageConfiguration), admin::agencies::edit_form)
        .post("/admin/agencies/{id}", Signed(Gate::ManageConfiguration), admin::agencies::update)
        .get("/admin/users", Signed(Gate::ManageUsers), admin::users::list)
        .get("/admin/users/new", Signed(Gate::ManageUsers), admin::users::new_form)
        .post("/admin/users/new", Signed(Gate::ManageUsers), admin::users::create)
        .get("/admin/users/{id}", Signed(Gate::ManageUsers), admin::users::edit_form)
        .post("/admin/users/{id}", Signed(Gate::ManageUsers), admin::users::update)
        .post("/admin/users/{id}/disable", Signed(Gate::ManageUsers), admin::users::disable)
        .post("/admin/users/{id}/enable", Signed(Gate::ManageUsers), admin::users::enable)
        .finish();
    let (ops, ops_table) = Table::new(state)
        .get("/healthz", Public, ops::healthz)
        .get("/readyz", Public, ops::readyz)
        .get("/metrics", Public, ops::metrics)
        .get("/assets/{name}", Public, assets::serve)
        .get("/favicon.ico", Public, assets::favicon)
        .finish();
    // The API's own router makes its routes from their OpenAPI declarations; `guard_api`
    // guards them by this table.
    table.extend(ops_table);
    table.extend_from_slice(API_ROUTES);
    (pages, ops, table)
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let (pages, ops, _) = routes(&state);
    let pages = pages
        .fallback(not_found)
        .method_not_allowed_fallback(back_to_page)
        .layer(from_fn_with_state(state.clone(), idempotency::forms))
        .layer(from_fn_with_state(state.clone(), page::render_error_pages))
        .layer(from_fn_with_state(state.clone(), csrf::check))
        .layer(from_fn_with_state(state.clone(), session::load));

    Router::new()
        .merge(pages)
        .merge(crate::api::router(&state))
        .merge(ops)
        .layer(from_fn_with_state(state.clone(), faults::guard))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(from_fn_with_state(state.clone(), security_headers::apply))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        // A body that stops arriving is given up, rather than holding its connection.
        .layer(RequestBodyTimeoutLayer::new(BODY_READ_TIMEOUT))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<axum::body::Body>| {
            let id = req
                .extensions()
                .get::<RequestId>()
                .and_then(|r| r.header_value().to_str().ok())
                .unwrap_or("-")
                .to_owned();
            // The path only: query strings can hold search terms.
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, RandomRequestId))
        .with_state(state)
}

/// A date as it is typed into a form: "1/12/2026".
#[must_use]
pub fn input_date(d: time::Date) -> String {
    format!("{}/{}/{}", d.day(), u8::from(d.month()), d.year())
}

/// The name of the user who made a change, as a record's history shows it: nothing for an
/// account since removed; any other failure is the page's.
///
/// # Errors
/// Store failures other than the account not being found.
pub async fn name_of_user(state: &AppState, id: i64) -> Result<String, crate::error::AppError> {
    match state.store.get_user(id).await {
        Ok(u) => Ok(u.name),
        Err(marac_app::store::StoreError::NotFound) => Ok(String::new()),
        Err(e) => Err(e.into()),
    }
}

/// A file to download: named, typed, and kept by no cache (it holds case data).
pub fn download(name: &str, content_type: &str, body: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// A date as people write it: "1 December 2026".
#[must_use]
pub fn display_date(d: time::Date) -> String {
    marac_domain::uk_time::date(d)
}

/// The UK day a moment fell on: "1 December 2026".
#[must_use]
pub fn display_day(t: marac_app::store::Ts) -> String {
    marac_domain::uk_time::date(marac_domain::uk_time::uk_date(t.0))
}

/// A moment in UK time: "1 December 2026 at 9:48pm".
#[must_use]
pub fn display_at(t: time::OffsetDateTime) -> String {
    marac_domain::uk_time::date_time(t)
}

/// A meeting's start as typed ("14:30"), the way pages write times ("2:30pm"); what cannot be
/// read is shown as it is.
#[must_use]
pub fn display_clock(hh_mm: &str) -> String {
    let parsed = hh_mm
        .split_once(':')
        .and_then(|(h, m)| time::Time::from_hms(h.trim().parse().ok()?, m.trim().parse().ok()?, 0).ok());
    parsed.map_or_else(|| hh_mm.to_owned(), marac_domain::uk_time::clock)
}
