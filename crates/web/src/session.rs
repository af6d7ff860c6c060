//! Who is asking: the session cookie, the session held in the database, and the extractors
//! handlers use ([`Signed`] for signed-in pages, [`Visitor`] for everything).

use crate::AppState;
use crate::error::AppError;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use cookie::{Cookie, SameSite};
use marac_app::crypto;
use marac_app::store::{Session, SessionStage, Ts, User};
use marac_domain::audit::NewAuditEvent;
use marac_domain::policy::{Action, Actor, Basis, authorise};
use marac_domain::session_rules::{self, Expiry};
use std::net::SocketAddr;

/// The page script's question "how long has this session left?", answered without extending it.
pub const STATUS_PATH: &str = "/account/session-status";

/// Name of the session cookie: `__Host-` prefixed whenever cookies are `Secure`.
#[must_use]
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-marac_session" } else { "marac_session" }
}

/// Name of the cookie that binds CSRF tokens on pages seen before signing in.
#[must_use]
pub fn anon_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-marac_csrf" } else { "marac_csrf" }
}

/// A `Set-Cookie` value with the flags every cookie of ours carries.
#[must_use]
pub fn cookie_header(name: &str, value: &str, secure: bool, same_site: SameSite, clear: bool) -> String {
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .build();
    if clear {
        c.make_removal();
    }
    c.to_string()
}

/// A signed-in (or half signed-in) session with its user.
#[derive(Debug, Clone)]
pub struct LoadedSession {
    /// The session.
    pub session: Session,
    /// Its user.
    pub user: User,
}

/// Why the visitor has no session although they sent a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Unused for 15 minutes.
    Idle,
    /// Older than 12 hours.
    Absolute,
}

/// Everyone who sends a request: maybe signed in, always with an address.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The session, if the cookie names a live one.
    pub session: Option<LoadedSession>,
    /// Client address.
    pub ip: String,
    /// Browser, as it says (for the sessions page).
    pub user_agent: String,
    /// The pre-sign-in CSRF binding value.
    pub anon: String,
    /// Set when a session ended by timeout on this request.
    pub ended: Option<Ended>,
    /// The address asked for (path and query), to come back to after confirming a statement.
    pub path: String,
    /// The one-use token this form carried, claimed for this request: its changes record it
    /// ([`crate::idempotency`]).
    pub idempotency: Option<marac_domain::idempotency::IdempotencyMark>,
}

impl Visitor {
    /// The CSRF token forms on this page must carry.
    #[must_use]
    pub fn csrf_token(&self, key: &[u8]) -> String {
        match &self.session {
            Some(s) => crypto::hmac(key, &[b"csrf", s.session.id.as_bytes()]),
            None => crypto::hmac(key, &[b"csrf-anon", self.anon.as_bytes()]),
        }
    }

    /// The fully signed-in user, if any.
    #[must_use]
    pub fn signed_in(&self) -> Option<&LoadedSession> {
        self.session.as_ref().filter(|s| s.session.stage == SessionStage::Full)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("session layer missing")))
    }
}

pub use marac_app::actor_of;

/// A fully signed-in user; handlers that take this cannot run for anyone else.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The visitor.
    pub visitor: Visitor,
    /// The session.
    pub session: Session,
    /// The user.
    pub user: User,
}

impl Signed {
    /// The user as the policy sees them.
    #[must_use]
    pub fn actor(&self) -> Actor {
        actor_of(&self.user)
    }

    /// Asks the policy; a refusal becomes a 403 page and an audit event.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses.
    pub async fn authorise(&self, state: &AppState, action: Action<'_>, what: &str) -> Result<Basis, AppError> {
        let actor = self.actor();
        match authorise(&actor, action) {
            Ok(basis) => match marac_app::casework::statement_needed(state, &actor, &action, basis).await? {
                None => Ok(basis),
                Some((marac_id, _)) => Err(AppError::StatementNeeded { marac_id, next: self.visitor.path.clone() }),
            },
            Err(denied) => Err(self.refuse(state, what, denied.0).await),
        }
    }

    /// Refuses this request with a 403, recording why in the audit trail.
    pub async fn refuse(&self, state: &AppState, what: &str, reason: &str) -> AppError {
        let event = crate::audit::event(
            state,
            &self.visitor,
            "access.denied",
            what,
            "denied",
            serde_json::json!({ "reason": reason }),
        );
        match crate::audit::refuse(state, event).await {
            Ok(recorded) => AppError::Forbidden(recorded),
            Err(e) => e.into(),
        }
    }

    /// Asks the policy; a refusal is recorded like any other but answered as if the record did
    /// not exist (404), for records whose existence is itself not the asker's to know.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when the policy refuses.
    pub async fn authorise_hidden(&self, state: &AppState, action: Action<'_>, what: &str) -> Result<Basis, AppError> {
        match self.authorise(state, action, what).await {
            Err(AppError::Forbidden(_)) => Err(AppError::NotFound),
            other => other,
        }
    }

    /// An audit event by this user.
    #[must_use]
    pub fn audit(&self, state: &AppState, action: &str, target: &str, detail: serde_json::Value) -> NewAuditEvent {
        crate::audit::event(state, &self.visitor, action, target, "success", detail)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        match &visitor.session {
            Some(s) if s.session.stage == SessionStage::Full => {
                Ok(Signed { session: s.session.clone(), user: s.user.clone(), visitor })
            }
            Some(s) => Err(AppError::SecondFactorPending(s.session.stage)),
            None => Err(AppError::SignInRequired(visitor.ended)),
        }
    }
}

fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn client_ip(req: &Request, trust_proxy: bool) -> String {
    if trust_proxy {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok());
        if let Some(ip) = forwarded {
            return ip.to_owned();
        }
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// Middleware: finds the session the cookie names, ends it if it has timed out or its user
/// is disabled, and puts a [`Visitor`] in the request for everything after.
///
/// # Errors
/// When the database cannot be read: the request fails rather than proceeding unsigned.
pub async fn load(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, AppError> {
    let secure = state.config.secure_cookies;
    let now = state.clock.now();
    let ip = client_ip(&req, state.config.trust_proxy);
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect())
        .unwrap_or_default();
    let token = read_cookie(req.headers(), session_cookie_name(secure)).map(str::to_owned);
    // Asking how long is left must not itself keep the session alive.
    let touch = req.uri().path() != STATUS_PATH;
    let anon_cookie = read_cookie(req.headers(), anon_cookie_name(secure)).filter(|v| v.len() == 43).map(str::to_owned);
    let anon = match &anon_cookie {
        Some(v) => v.clone(),
        None => crypto::random_token().map_err(|e| AppError::Internal(e.into()))?,
    };

    let mut session = None;
    let mut ended = None;
    let mut clear_session_cookie = false;
    if let Some(token) = token {
        let id = crypto::token_hash(&token);
        match state.store.get_session(&id).await? {
            None => clear_session_cookie = true,
            Some(s) => {
                let full = s.stage == SessionStage::Full;
                let expiry = session_rules::expiry(s.created_at.0, s.last_seen_at.0, full, now);
                let user = state.store.get_user(s.user_id).await?;
                if expiry.is_some() || user.disabled {
                    let why = match expiry {
                        Some(Expiry::Idle) => "idle",
                        Some(Expiry::Absolute) => "absolute",
                        None => "account disabled",
                    };
                    let mut event =
                        marac_app::audit::system_event(&state, "session.expired", &format!("user:{}", user.id));
                    event.actor_user_id = Some(user.id);
                    event.actor_label.clone_from(&user.email);
                    event.ip.clone_from(&ip);
                    event.detail = serde_json::json!({ "why": why }).to_string();
                    state.store.delete_session(&s.id, Some(event)).await?;
                    ended = match expiry {
                        Some(Expiry::Idle) => Some(Ended::Idle),
                        Some(Expiry::Absolute) => Some(Ended::Absolute),
                        None => None,
                    };
                    clear_session_cookie = true;
                } else {
                    // Keeping the last-seen time is worth a write, not a failed request: with the
                    // disk full, the page (and what was typed on it) still gets its answer.
                    if touch
                        && now - s.last_seen_at.0 >= session_rules::TOUCH_INTERVAL
                        && let Err(e) = state.store.touch_session(&s.id, Ts::new(now)).await
                    {
                        tracing::warn!(error = %e, "could not record a session's last-seen time");
                    }
                    session = Some(LoadedSession { session: s, user });
                }
            }
        }
    }

    // Only a GET can be come back to; a form's address leads back to its page (a GET of it).
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str()).chars().take(2_000).collect();
    req.extensions_mut().insert(Visitor {
        session,
        ip,
        user_agent,
        anon: anon.clone(),
        ended,
        path,
        idempotency: None,
    });
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if clear_session_cookie && !headers.contains_key(header::SET_COOKIE) {
        let clear = cookie_header(session_cookie_name(secure), "", secure, SameSite::Lax, true);
        if let Ok(v) = HeaderValue::from_str(&clear) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    if anon_cookie.is_none() {
        let set = cookie_header(anon_cookie_name(secure), &anon, secure, SameSite::Strict, false);
        if let Ok(v) = HeaderValue::from_str(&set) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}
