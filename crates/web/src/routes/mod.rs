//! Every route, in one place.

pub mod account;
pub mod actions;
pub mod admin;
pub mod agency_lists;
pub mod audit_trail;
pub mod confidentiality;
pub mod dashboards;
pub mod directory;
pub mod home;
pub mod imports;
pub mod inbox;
pub mod meeting_case;
pub mod meeting_edit;
pub mod meeting_flags;
pub mod meetings;
pub mod ops;
pub mod people;
pub mod postcodes;
pub mod referrals;
pub mod research;
pub mod returns;
pub mod sign_in;
pub mod transfers;
pub mod triage;
pub mod two_factor;

use crate::error::AppError;
use crate::{AppState, assets, csrf, faults, idempotency, metrics, page, security_headers, session};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, Response, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

/// Routes anyone may reach without signing in. A test walks the router and checks every
/// other route refuses visitors who are not signed in.
pub const PUBLIC_ROUTES: &[&str] =
    &["/sign-in", "/healthz", "/readyz", "/metrics", "/assets/{name}", "/favicon.ico", "/api/v1/openapi.json"];

/// Longest a request body may pause between parts before the request is given up.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = crate::crypto::random_bytes::<8>().ok().map(hex::encode)?;
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

/// The whole application.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let pages = Router::new()
        .route("/", get(home::show))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-in/two-factor", get(two_factor::challenge_form).post(two_factor::challenge_submit))
        .route("/sign-in/set-up-two-factor", get(two_factor::enrol_form).post(two_factor::enrol_submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/account", get(account::show))
        .route("/account/sessions/end", post(account::end_session))
        .route("/account/keep-alive", post(account::keep_alive))
        .route(session::STATUS_PATH, get(account::session_status))
        .route("/account/two-factor", get(two_factor::enrol_form).post(two_factor::enrol_submit))
        .route("/audit", get(audit_trail::list))
        .route("/referrals", get(referrals::list))
        .route("/referrals/new", post(referrals::start))
        .route("/referrals/{id}", get(referrals::show))
        .route("/referrals/{id}/check", get(referrals::check).post(referrals::submit))
        .route("/referrals/{id}/submitted", get(referrals::submitted))
        .route("/referrals/{id}/decision", post(referrals::decide))
        .route("/referrals/{id}/matches", post(referrals::answer_match))
        .route("/referrals/{id}/{section}", get(referrals::section_form).post(referrals::section_save))
        .route(
            "/referrals/{id}/{section}/remove/{index}",
            get(referrals::remove_person_form).post(referrals::remove_person),
        )
        .route("/triage", get(triage::queue))
        .route("/confidentiality/{marac}", get(confidentiality::show).post(confidentiality::confirm))
        .route("/transfers/{id}", get(transfers::show))
        .route("/transfers/{id}/ask", post(transfers::ask))
        .route("/transfers/{id}/answer", post(transfers::answer))
        .route("/research", get(research::list))
        .route("/cases/{id}", get(research::show))
        .route("/cases/{id}/notes", post(research::add_note))
        .route("/cases/{id}/notes/{note}/share", post(research::share_note))
        .route("/meetings", get(meetings::list).post(meetings::schedule))
        .route("/actions", get(actions::list))
        .route("/actions/{id}", get(actions::show).post(actions::report))
        .route("/meetings/{id}", get(meetings::show))
        .route("/meetings/{id}/edit", get(meeting_edit::form).post(meeting_edit::save))
        .route("/meetings/{id}/list", post(meetings::change_list))
        .route("/meetings/{id}/publish", post(meetings::publish))
        .route("/meetings/{id}/close", post(meetings::close))
        .route("/meetings/{id}/confirm", post(meetings::confirm))
        .route("/meetings/{id}/statement", post(meetings::set_statement))
        .route("/meetings/{id}/attendance", get(meeting_case::attendance_form).post(meeting_case::attendance_save))
        .route("/meetings/{id}/minutes", get(meeting_case::minutes))
        .route("/meetings/{id}/cases/{case}", get(meeting_case::show).post(meeting_case::save))
        .route("/meetings/{id}/cases/{case}/actions", post(meeting_case::add_action))
        .route("/meetings/{id}/cases/{case}/flags", post(meeting_flags::add))
        .route("/meetings/{id}/cases/{case}/flags/{flag}/end", post(meeting_flags::end))
        .route("/returns", get(returns::show))
        .route("/returns/download", get(returns::download))
        .route(
            "/returns/import",
            get(imports::form).post(imports::upload).layer(DefaultBodyLimit::max(crate::import::MAX_FILE_BYTES)),
        )
        .route("/returns/import/template.csv", get(imports::template))
        .route("/returns/postcodes", get(postcodes::show))
        .route("/returns/health", get(dashboards::health))
        .route("/returns/children", get(dashboards::children))
        .route("/returns/children/figures", post(dashboards::enter_figures))
        .route("/inbox", get(inbox::list))
        .route("/inbox/{id}", get(inbox::open))
        .route("/people/duplicates", get(people::queue).post(people::answer))
        .route(
            "/agency-lists",
            get(agency_lists::index)
                .post(agency_lists::upload)
                .layer(DefaultBodyLimit::max(crate::import::MAX_FILE_BYTES)),
        )
        .route("/agency-lists/template.csv", get(agency_lists::template))
        .route("/agency-lists/{id}", get(agency_lists::show))
        .route("/agency-lists/{id}/delete", post(agency_lists::delete))
        .route("/directory", get(directory::show).post(directory::add))
        .route("/directory/{id}/remove", post(directory::remove))
        .nest("/admin", admin::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(back_to_page)
        .layer(from_fn_with_state(state.clone(), idempotency::forms))
        .layer(from_fn_with_state(state.clone(), page::render_error_pages))
        .layer(from_fn_with_state(state.clone(), csrf::check))
        .layer(from_fn_with_state(state.clone(), session::load));

    Router::new()
        .merge(pages)
        .merge(crate::api::router(&state))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/assets/{name}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
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

/// A date as people write it: "1 December 2026".
#[must_use]
pub fn display_date(d: time::Date) -> String {
    format!("{} {} {}", d.day(), d.month(), d.year())
}
