//! What every page shares: the header, navigation for the signed-in user's roles, the CSRF
//! token for its forms, and the demo banner. Also the error pages.

use crate::AppState;
use crate::csrf::SentForm;
use crate::error::{AppError, Rejection};
use crate::session::Visitor;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use marac_domain::policy::{Action, Actor, Gate, authorise};

/// The product's name, in the header and every title.
pub const SERVICE_NAME: &str = "Marac case management";

/// Seconds of inactivity before the session ends, for the page's warning script.
pub const IDLE_SECONDS: i64 = marac_domain::session_rules::IDLE_TIMEOUT.whole_seconds();
/// Seconds before the end at which the page warns and offers to keep the session.
pub const WARN_SECONDS: i64 = 120;

/// One link in the service navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// Whether the current page is in this section.
    pub current: bool,
}

/// The shared parts of a page.
#[derive(Debug, Clone)]
pub struct PageContext {
    /// The `<title>` before the service name.
    pub title: String,
    /// The signed-in user's name.
    pub user_name: Option<String>,
    /// Navigation for their roles.
    pub nav: Vec<NavItem>,
    /// Token for the page's forms.
    pub csrf: String,
    /// Demo banner.
    pub demo: bool,
    /// The header holds the search box: the visitor holds a role that reads cases.
    pub can_search: bool,
}

impl PageContext {
    /// The context for `visitor` on a page in the section at `path`.
    #[must_use]
    pub fn new(state: &AppState, visitor: &Visitor, title: impl Into<String>, path: &str) -> Self {
        let signed = visitor.signed_in();
        let nav = signed.map(|s| navigation(&crate::session::actor_of(&s.user), path)).unwrap_or_default();
        PageContext {
            title: title.into(),
            user_name: signed.map(|s| s.user.name.clone()),
            nav,
            csrf: visitor.csrf_token(&state.keys.session_key),
            demo: state.config.demo,
            can_search: signed.is_some_and(|s| Gate::ReadCases.admits(&crate::session::actor_of(&s.user)).is_ok()),
        }
    }

    /// A context with no visitor, for errors raised before the session is known.
    #[must_use]
    pub fn bare(title: impl Into<String>) -> Self {
        PageContext {
            title: title.into(),
            user_name: None,
            nav: Vec::new(),
            csrf: String::new(),
            demo: false,
            can_search: false,
        }
    }
}

/// The sections a user's roles open, in the order shown.
#[must_use]
pub fn navigation(actor: &Actor, path: &str) -> Vec<NavItem> {
    let mut items = vec![NavItem { href: "/", label: "Home", current: path == "/" }];
    let opens = |gate: Gate| gate.admits(actor).is_ok();
    if opens(Gate::Refer) {
        items.push(NavItem { href: "/referrals", label: "Referrals", current: path.starts_with("/referrals") });
    }
    if opens(Gate::TriageReferrals) {
        items.push(NavItem { href: "/triage", label: "Triage", current: path.starts_with("/triage") });
    }
    // Research and meetings are for those who take part in meetings.
    if opens(Gate::AttendMeetings) {
        items.push(NavItem { href: "/research", label: "Research", current: path.starts_with("/research") });
        items.push(NavItem { href: "/meetings", label: "Meetings", current: path.starts_with("/meetings") });
    }
    if opens(Gate::ReportActions) {
        items.push(NavItem { href: "/actions", label: "Actions", current: path.starts_with("/actions") });
    }
    if opens(Gate::MergePeople) {
        items.push(NavItem { href: "/people/duplicates", label: "People", current: path.starts_with("/people") });
    }
    if opens(Gate::ViewFigures) {
        items.push(NavItem { href: "/returns", label: "Returns", current: path.starts_with("/returns") });
    }
    if authorise(actor, Action::ReadDirectory).is_ok() {
        items.push(NavItem { href: "/directory", label: "Directory", current: path.starts_with("/directory") });
    }
    if authorise(actor, Action::ManageConfiguration).is_ok() {
        items.push(NavItem { href: "/admin", label: "Administration", current: path.starts_with("/admin") });
    }
    if authorise(actor, Action::ReadAuditTrail).is_ok() {
        items.push(NavItem { href: "/audit", label: "Audit trail", current: path.starts_with("/audit") });
    }
    // The inbox and the account are the person's own: they sit by their name in the header.
    items
}

/// An error page.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// HTTP status.
    pub status: u16,
    /// Heading.
    pub title: String,
    /// What to do next.
    pub message: String,
    /// A form the service could not save, offered to send again as it was typed.
    pub resend: Option<Resend>,
}

/// A form to send again: where it went and what was in it.
#[derive(Debug, Clone)]
pub struct Resend {
    /// Where it was sent (path and query).
    pub action: String,
    /// Its fields, as typed, without the CSRF token (the page adds its own).
    pub fields: Vec<(String, String)>,
}

impl Resend {
    /// The fields that hold something a person typed, labelled for reading.
    #[must_use]
    pub fn typed(&self) -> Vec<(String, &str)> {
        self.fields
            .iter()
            .filter(|(name, value)| !name.starts_with('_') && !value.trim().is_empty())
            .map(|(name, value)| (name.replace(['.', '_'], " "), value.as_str()))
            .collect()
    }
}

#[derive(Template)]
#[template(path = "error_page.html")]
struct ErrorView<'a> {
    ctx: PageContext,
    page: &'a ErrorPage,
}

impl ErrorPage {
    /// Renders without knowing who is signed in.
    #[must_use]
    pub fn render_plain(&self) -> String {
        ErrorView { ctx: PageContext::bare(self.title.clone()), page: self }
            .render()
            .unwrap_or_else(|_| self.title.clone())
    }

    fn render_for(&self, ctx: PageContext) -> String {
        ErrorView { ctx, page: self }.render().unwrap_or_else(|_| self.title.clone())
    }
}

/// The framework answers a request it cannot read (a path segment that is not a number, a
/// form body of the wrong type) in plain text; pages answer with the service's own error page:
/// a path that cannot be read names no page there (404), anything else could not be read (400).
async fn from_rejection(response: Response) -> Response {
    match crate::error::rejection(response).await {
        Ok(response) => response,
        Err(Rejection::NotThere) => AppError::NotFound.into_response(),
        Err(Rejection::Method) => AppError::MethodNotAllowed.into_response(),
        Err(Rejection::Unreadable(..)) => AppError::BadRequest.into_response(),
    }
}

/// Middleware: re-renders error pages with the signed-in user's header and navigation. When
/// the service could not save a form (503), the page holds what was typed and sends it again.
pub async fn render_error_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let visitor = req.extensions().get::<Visitor>().cloned();
    let sent = req.extensions().get::<SentForm>().cloned();
    let action = req.uri().path_and_query().map(ToString::to_string).unwrap_or_default();
    let response = from_rejection(next.run(req).await).await;
    let (Some(mut page), Some(visitor)) = (response.extensions().get::<ErrorPage>().cloned(), visitor) else {
        return response;
    };
    if let (503, Some(sent)) = (page.status, sent) {
        page.title = "The service cannot save right now".into();
        page.message = "Nothing you typed is lost: it is kept on this page. Try again in a minute. \
                        If it keeps happening, tell your system administrator the time it happened."
            .into();
        let fields = sent.fields().into_iter().filter(|(name, _)| name != "_csrf").collect();
        page.resend = Some(Resend { action, fields });
    }
    let ctx = PageContext::new(&state, &visitor, page.title.clone(), "");
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page.render_for(ctx))).into_response()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn templates(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                templates(&path, out);
            } else if path.extension().is_some_and(|e| e == "html") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }

    /// Every field error goes through the shared macros, so none can lose its id, its error
    /// class or its link to the control; and every page that can show errors says so in its
    /// title; and every table can scroll inside itself on a narrow screen.
    #[test]
    fn every_template_shows_errors_and_tables_the_one_way() {
        let mut all = Vec::new();
        templates(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"), &mut all);
        assert!(all.len() > 40);
        for (path, text) in &all {
            let name = path.display();
            if !path.ends_with("macros.html") {
                assert!(!text.contains("govuk-error-message"), "{name} writes an error message by hand");
            }
            let has_summary = text.contains("m::error_summary") || text.contains("\"govuk-error-summary\"");
            if has_summary && !path.ends_with("macros.html") {
                assert!(text.contains("{% block title %}{% if "), "{name} shows errors but its title does not say so");
            }
            let tables = text.matches("<table").count();
            assert_eq!(
                text.matches("class=\"app-table-scroll\"").count(),
                tables,
                "{name}: a table outside a scrolling region"
            );
        }
    }
}
