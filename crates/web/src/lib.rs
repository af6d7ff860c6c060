//! The web application: every page, the security layers around them, and sign-in.
//!
//! A request passes, outermost first: request id → tracing → panic catcher → security
//! headers → metrics → [`faults::guard`] (a read whose connection broke is tried again) →
//! [`session::load`] (who is signed in) → [`csrf::check`] (state-changing requests carry a
//! valid token) → the route in [`routes`]. Handlers parse input, ask
//! [`marac_domain::policy::authorise`] through [`session::Signed::authorise`], call
//! [`marac_app`] (a workflow, or a read of its [`marac_app::store`]), and render an askama template. See `ARCHITECTURE.md`.

pub mod api;
pub mod assets;
pub mod audit;
pub mod charts;
pub mod csrf;
pub mod error;
pub mod faults;
pub mod forms;
pub mod idempotency;
pub mod metrics;
pub mod page;
pub mod paging;
pub mod returns_files;
pub mod routes;
pub mod security_headers;
pub mod server;
pub mod session;
pub mod spreadsheet;

use marac_app::App;
use marac_app::clock::Clock;
use marac_app::store::Store;
use marac_domain::Role;
use std::sync::Arc;

pub use marac_app::{DEFAULT_LIST_RETENTION_DAYS, Keys};
pub use routes::router;

/// Settings the web layer needs, resolved by the command line from flags, environment and file.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Cookies carry `Secure` and the `__Host-` prefix; false only for plain HTTP on loopback.
    pub secure_cookies: bool,
    /// Send `Strict-Transport-Security` (served over TLS, directly or behind a proxy).
    pub hsts: bool,
    /// Roles that must use a second factor, on top of admin and coordinator which always do.
    pub second_factor_roles: Vec<Role>,
    /// The installation holds demo data: every page says so.
    pub demo: bool,
    /// Trust `X-Forwarded-For` from a reverse proxy for the client address.
    pub trust_proxy: bool,
    /// Figures from 1 to this less one are shown to analysts and board members as "fewer than".
    pub suppress_below: u32,
    /// Days an agency's uploaded list is kept before its rows are deleted.
    pub list_retention_days: u32,
}

impl WebConfig {
    /// Whether someone holding these roles must use a second factor.
    #[must_use]
    pub fn needs_second_factor(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| r.always_needs_second_factor() || self.second_factor_roles.contains(r))
    }
}

/// What every handler can reach: the application (the database, the keys, the time, through
/// [`std::ops::Deref`], as `state.store`), and what only the web layer needs.
#[derive(Clone)]
pub struct AppState {
    /// The application layer the handlers call.
    pub app: App,
    /// Settings.
    pub config: Arc<WebConfig>,
    /// Request counters and latency histograms.
    pub metrics: Arc<metrics::Metrics>,
    /// Password hashing with a bound on concurrent hashes.
    pub passwords: Arc<marac_app::password::Passwords>,
    /// Whether writes are failing for want of space, for `/readyz`.
    pub writes: Arc<faults::WriteHealth>,
}

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    /// Puts the parts together.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, config: WebConfig, keys: Keys, clock: Arc<dyn Clock>) -> Self {
        let app = App::new(store, keys, clock, config.list_retention_days);
        AppState {
            app,
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::new()),
            passwords: Arc::new(marac_app::password::Passwords::new()),
            writes: Arc::new(faults::WriteHealth::default()),
        }
    }
}
