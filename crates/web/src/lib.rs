//! The web application: every page, the security layers around them, and sign-in.
//!
//! A request passes, outermost first: request id → tracing → panic catcher → security
//! headers → metrics → [`faults::guard`] (a read whose connection broke is tried again) →
//! [`session::load`] (who is signed in) → [`csrf::check`] (state-changing requests carry a
//! valid token) → the route in [`routes`]. Handlers parse input, ask
//! [`marac_domain::policy::authorise`] through [`session::Signed::authorise`], call the
//! [`marac_store::Store`], and render an askama template. See `ARCHITECTURE.md`.

pub mod api;
pub mod assets;
pub mod audit;
pub mod casework;
pub mod charts;
pub mod clock;
pub mod cross_reference;
pub mod crypto;
pub mod csrf;
pub mod error;
pub mod faults;
pub mod forms;
pub mod idempotency;
pub mod import;
pub mod mailer;
pub mod metrics;
pub mod notify;
pub mod page;
pub mod password;
pub mod returns_files;
pub mod routes;
pub mod security_headers;
pub mod server;
pub mod session;
pub mod spreadsheet;
pub mod totp;
pub mod worker;

use clock::Clock;
use marac_domain::Role;
use marac_store::Store;
use std::sync::Arc;

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

/// How long an agency's list is kept unless the installation says otherwise: four weeks, time
/// to upload the next month's list.
pub const DEFAULT_LIST_RETENTION_DAYS: u32 = 28;

impl WebConfig {
    /// Whether someone holding these roles must use a second factor.
    #[must_use]
    pub fn needs_second_factor(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| r.always_needs_second_factor() || self.second_factor_roles.contains(r))
    }
}

/// Secrets the web layer uses; generated on first run or taken from the environment.
#[derive(Clone)]
pub struct Keys {
    /// Signs CSRF tokens.
    pub session_key: [u8; 32],
    /// Seals case data and second-factor secrets at rest, and keys the person index.
    pub encryption: crypto::SealingKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys { .. }")
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub config: Arc<WebConfig>,
    /// Secrets.
    pub keys: Arc<Keys>,
    /// The time; injected so tests can move it.
    pub clock: Arc<dyn Clock>,
    /// Request counters and latency histograms.
    pub metrics: Arc<metrics::Metrics>,
    /// Password hashing with a bound on concurrent hashes.
    pub passwords: Arc<password::Passwords>,
    /// Set once this server's worker finds no one left filed under older blocking keys; until
    /// then matching searches the older keys too ([`casework::find_matches`]).
    pub people_all_filed: Arc<std::sync::atomic::AtomicBool>,
    /// Whether writes are failing for want of space, for `/readyz`.
    pub writes: Arc<faults::WriteHealth>,
}

impl AppState {
    /// Puts the parts together.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, config: WebConfig, keys: Keys, clock: Arc<dyn Clock>) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            keys: Arc::new(keys),
            clock,
            metrics: Arc::new(metrics::Metrics::new()),
            passwords: Arc::new(password::Passwords::new()),
            people_all_filed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            writes: Arc::new(faults::WriteHealth::default()),
        }
    }
}
