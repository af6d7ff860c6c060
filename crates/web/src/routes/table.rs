//! The route table's machinery: every address the service answers is added through [`Table`],
//! which records who may reach it ([`Access`]) beside the handler and puts that check in front
//! of the handler. A route cannot be added without saying who it is for; the list itself is
//! [`super::router`].

use crate::AppState;
use crate::error::AppError;
use crate::session::Signed;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use marac_domain::policy::Gate;

/// Who may reach a route, before its handler decides on the record it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not: signing in, health checks, assets.
    Public,
    /// Someone part-way through signing in (the handler reads the session's stage).
    SigningIn,
    /// Someone fully signed in whom the gate admits; anyone else is refused (403).
    Signed(Gate),
    /// As `Signed`, but a refusal answers as if the record did not exist (404): whether a
    /// meeting or a transfer exists is not the asker's to know.
    Hidden(Gate),
    /// An API caller whose token's user the gate admits; anyone else is refused (403).
    Api(Gate),
    /// As `Api`, with a refusal answered 404.
    ApiHidden(Gate),
}

impl Access {
    /// The gate a person must pass, if any.
    #[must_use]
    pub fn gate(self) -> Option<Gate> {
        match self {
            Access::Public | Access::SigningIn => None,
            Access::Signed(g) | Access::Hidden(g) | Access::Api(g) | Access::ApiHidden(g) => Some(g),
        }
    }

    /// Whether a refusal answers as if the record did not exist.
    #[must_use]
    pub fn hides(self) -> bool {
        matches!(self, Access::Hidden(_) | Access::ApiHidden(_))
    }

    /// Whether the route is the API's (a token, not a session).
    #[must_use]
    pub fn is_api(self) -> bool {
        matches!(self, Access::Api(_) | Access::ApiHidden(_))
    }
}

/// One route: a method, an address pattern as the router writes it, and who may reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The method (`GET` also answers `HEAD`).
    pub method: &'static str,
    /// The address pattern, e.g. `/cases/{id}`.
    pub path: &'static str,
    /// Who may reach it.
    pub access: Access,
}

/// Builds the router and its table together.
pub(crate) struct Table {
    state: AppState,
    router: Router<AppState>,
    routes: Vec<Route>,
}

impl Table {
    pub(crate) fn new(state: &AppState) -> Self {
        Table { state: state.clone(), router: Router::new(), routes: Vec::new() }
    }

    /// A `GET` route.
    pub(crate) fn get<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("GET", path, access, get(handler))
    }

    /// A `POST` route.
    pub(crate) fn post<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("POST", path, access, post(handler))
    }

    /// A `POST` route taking a file of up to `limit` bytes.
    pub(crate) fn upload<H, T>(self, path: &'static str, access: Access, handler: H, limit: usize) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("POST", path, access, post(handler).layer(DefaultBodyLimit::max(limit)))
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppState>,
    ) -> Self {
        let route = Route { method, path, access };
        // A route with no gate (public, or the sign-in steps that check their own stage) has
        // nothing to check in front of it, and is spared the layer on every request.
        let handler = if access.gate().is_some() {
            let state = self.state.clone();
            handler.route_layer(from_fn(move |req: Request, next: Next| {
                let state = state.clone();
                async move { guard(&state, route, req, next).await }
            }))
        } else {
            handler
        };
        self.router = self.router.route(path, handler);
        self.routes.push(route);
        self
    }

    /// The router, and the table of what it serves.
    pub(crate) fn finish(self) -> (Router<AppState>, Vec<Route>) {
        (self.router, self.routes)
    }
}

/// Lets a request reach its handler only if the route's access admits the person asking; a
/// refusal is recorded in the audit trail like the handler's own.
async fn guard(state: &AppState, route: Route, req: Request, next: Next) -> Response {
    let Some(gate) = route.access.gate() else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let me = match Signed::from_request_parts(&mut parts, state).await {
        Ok(me) => me,
        Err(e) => return e.into_response(),
    };
    if let Err(denied) = gate.admits(&me.actor()) {
        let refused = me.refuse(state, parts.uri.path(), denied.0).await;
        let answer = match refused {
            AppError::Forbidden(_) if route.access.hides() => AppError::NotFound,
            other => other,
        };
        return answer.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The API's counterpart of [`guard`], for routes its own router makes: finds the route by the
/// pattern that matched and lets the call through only if the caller's gate admits them. A
/// route missing from the table is refused, never served unguarded.
pub(crate) async fn guard_api(
    axum::extract::State(state): axum::extract::State<AppState>,
    matched: Option<axum::extract::MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let pattern = matched.as_ref().map(axum::extract::MatchedPath::as_str).unwrap_or_default();
    let head_as_get = |m: &str| m == method.as_str() || (m == "GET" && method == Method::HEAD);
    let route = super::API_ROUTES.iter().find(|r| r.path == pattern && head_as_get(r.method));
    let access = route.map(|r| r.access);
    let gate = match access {
        Some(Access::Public) => return next.run(req).await,
        Some(a) if a.is_api() => a.gate(),
        _ => None,
    };
    let Some(gate) = gate else {
        tracing::error!(path = pattern, "an API route missing from the route table was refused");
        return crate::api::problem::Problem::not_found().into_response();
    };
    let (mut parts, body) = req.into_parts();
    let caller = match crate::api::ApiUser::from_request_parts(&mut parts, &state).await {
        Ok(caller) => caller,
        Err(problem) => return problem.into_response(),
    };
    if let Err(denied) = gate.admits(&caller.actor()) {
        let problem = caller.refuse(&state, parts.uri.path(), denied.0).await;
        return if access.is_some_and(Access::hides) && problem.status == 403 {
            crate::api::problem::Problem::not_found().into_response()
        } else {
            problem.into_response()
        };
    }
    next.run(Request::from_parts(parts, body)).await
}
