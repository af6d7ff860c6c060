//! Storage for the Marac case-management system.
//!
//! [`Store`] is the one interface the application uses: the sum of one trait per aggregate
//! (accounts, audit, organisations, referrals and cases, people, research, meetings, actions
//! and flags, notices, returns, agency lists, imports, transfers, idempotency, keys, the
//! database itself), each declared beside its records in the module of that name. Two
//! backends implement every trait with native sqlx drivers: [`sqlite::SqliteStore`] (the
//! default, one file in the data directory) and [`postgres::PgStore`] (for several servers
//! sharing one database). The queries are written once, one file per aggregate under
//! `queries/`, and compiled for each backend (`sqlite.rs` and `postgres.rs` include them
//! with their own types); what really differs (connection set-up, write locking, row locks,
//! migrations, schema listing) stays in those two files. Rows become records in `rows.rs` and
//! `meeting_rows.rs`.
//!
//! Every change is written in one transaction together with the audit event that records it,
//! so an event exists exactly when its change does.

#![expect(
    clippy::duplicate_mod,
    reason = "sqlite.rs and postgres.rs each compile the shared queries in queries/ for their own types"
)]

pub mod accounts;
pub mod actions;
pub mod agency_lists;
pub mod audit;
pub mod cases;
pub mod checklists;
pub mod database;
mod day;
pub mod idempotency;
pub mod imports;
pub mod keys;
mod meeting_rows;
pub mod meetings;
pub mod notices;
pub mod organisations;
pub mod people;
pub mod postgres;
pub mod referrals;
pub mod research;
pub mod returns;
mod rows;
pub mod searches;
pub mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod transfers;
mod ts;

pub use accounts::*;
pub use actions::*;
pub use agency_lists::*;
pub use audit::*;
pub use cases::*;
pub use checklists::*;
pub use database::*;
pub use day::Day;
pub use idempotency::*;
pub use imports::*;
pub use keys::*;
pub use meetings::*;
pub use notices::*;
pub use organisations::*;
pub use people::*;
pub use referrals::*;
pub use research::*;
pub use returns::*;
pub use searches::*;
use std::sync::Arc;
pub use transfers::*;
pub use ts::Ts;

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL's scheme.
    ///
    /// # Errors
    /// A message naming the schemes that work.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(format!(
                "'{}' is not a database URL this product understands (use sqlite:PATH or postgres://...)",
                redact_url(url)
            ))
        }
    }
}

/// The URL with any password replaced, for messages and logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// What went wrong in the store, in the terms callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record.
    #[error("not found")]
    NotFound,
    /// A unique value is already taken; `constraint` names which (e.g. `users.email`).
    #[error("already exists: {constraint}")]
    Conflict {
        /// The column or constraint that clashed.
        constraint: String,
    },
    /// No connection to the database in time (the server down or refusing connections, every
    /// connection busy, SQLite busy past its timeout). Nothing was saved; the same request may
    /// be tried again later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The connection broke while in use (the server restarted or ended it, the network reset
    /// it). Nothing was saved; a read may be tried again at once on a fresh connection.
    #[error("database connection lost: {0}")]
    ConnectionLost(String),
    /// The database could not store or read its files: the disk is full, or failing. Nothing
    /// was saved; writes work again once space is back.
    #[error("database cannot write: {0}")]
    StorageFault(String),
    /// A stored value could not be read back.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Anything else from the driver.
    #[error(transparent)]
    Database(sqlx::Error),
}

impl StoreError {
    /// Whether the failure was the database's availability rather than the request: worth
    /// answering 503 and trying again, never a 500.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::ConnectionLost(_) | StoreError::StorageFault(_))
    }
}

/// Which kind of failure a database error is, when it is not the request's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The server is not taking connections.
    Unavailable,
    /// The connection broke.
    Connection,
    /// The disk or the files under the database.
    Storage,
}

/// Sorts a database error by its code: SQLite's result codes, PostgreSQL's SQLSTATE classes.
fn fault_of(db: &dyn sqlx::error::DatabaseError) -> Option<Fault> {
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // The primary result code is the low byte of the extended one.
        let primary = db.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff);
        return match primary {
            // SQLITE_BUSY, SQLITE_LOCKED: busy past the timeout.
            Some(5 | 6) => Some(Fault::Unavailable),
            // SQLITE_NOMEM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN.
            Some(7 | 8 | 10 | 13 | 14) => Some(Fault::Storage),
            _ => None,
        };
    }
    let code = db.code()?;
    match code.as_ref() {
        // Connection exceptions; administrator or crash shutdown.
        c if c.starts_with("08") => Some(Fault::Connection),
        "57P01" | "57P02" => Some(Fault::Connection),
        // Starting up or shutting down; too many connections.
        "57P03" | "53300" => Some(Fault::Unavailable),
        // Disk full, out of memory, I/O error.
        "53100" | "53200" | "58030" => Some(Fault::Storage),
        _ => None,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            // A stored value that is not what its column holds (a day that is not a day): damage.
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Corrupt(e.to_string()),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => {
                StoreError::ConnectionLost(e.to_string())
            }
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::Conflict { constraint: unique_column(db.message(), db.constraint()) }
            }
            sqlx::Error::Database(ref db) => match fault_of(db.as_ref()) {
                Some(Fault::Unavailable) => StoreError::Unavailable(e.to_string()),
                Some(Fault::Connection) => StoreError::ConnectionLost(e.to_string()),
                Some(Fault::Storage) => StoreError::StorageFault(e.to_string()),
                None => StoreError::Database(e),
            },
            other => StoreError::Database(other),
        }
    }
}

/// Names the clashing column the same way on both backends: SQLite says
/// "UNIQUE constraint failed: users.email", PostgreSQL names the constraint "users_email_key".
fn unique_column(message: &str, constraint: Option<&str>) -> String {
    if let Some(rest) = message.strip_prefix("UNIQUE constraint failed: ") {
        return rest.split(',').next().unwrap_or(rest).trim().to_owned();
    }
    match constraint {
        Some(c) => {
            let c = c.strip_suffix("_key").unwrap_or(c);
            match c.split_once('_') {
                Some((table, column)) => format!("{table}.{column}"),
                None => c.to_owned(),
            }
        }
        None => message.to_owned(),
    }
}

/// Result of store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the application reads and writes: the sum of the aggregates' traits, one per
/// kind of record, each implemented for both backends in its own file under `sql/`.
///
/// Code that needs one aggregate takes `&dyn` that trait; code that needs several takes the
/// whole store. A type that implements every aggregate is a `Store` by the blanket impl.
pub trait Store:
    DatabaseStore
    + KeyStore
    + IdempotencyStore
    + TransferStore
    + OrganisationStore
    + AccountStore
    + AuditStore
    + ChecklistStore
    + ReferralStore
    + CaseStore
    + SearchStore
    + PeopleStore
    + ResearchStore
    + MeetingStore
    + ActionStore
    + NoticeStore
    + ReturnStore
    + AgencyListStore
    + ImportStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: DatabaseStore
        + KeyStore
        + IdempotencyStore
        + TransferStore
        + OrganisationStore
        + AccountStore
        + AuditStore
        + ChecklistStore
        + ReferralStore
        + CaseStore
        + SearchStore
        + PeopleStore
        + ResearchStore
        + MeetingStore
        + ActionStore
        + NoticeStore
        + ReturnStore
        + AgencyListStore
        + ImportStore
        + Send
        + Sync
        + 'static
{
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The database URL.
    pub url: String,
    /// Most connections held open (PostgreSQL); SQLite uses a small fixed pool.
    pub max_connections: u32,
    /// Key for the audit chain's HMAC.
    pub audit_key: Vec<u8>,
    /// Make the SQLite file if it is not there; commands that only read leave it false.
    pub create: bool,
    /// How long a request waits for a connection before the store answers
    /// [`StoreError::Unavailable`]: short, so a dead database gives a quick 503 rather than a
    /// queue of waiting requests.
    pub acquire_timeout: std::time::Duration,
}

impl ConnectOptions {
    /// How long a request waits for a connection unless set otherwise.
    pub const DEFAULT_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

    /// Options for `url` with the defaults: ten connections, the file made if missing, two
    /// seconds to get a connection.
    #[must_use]
    pub fn new(url: &str, audit_key: Vec<u8>) -> Self {
        ConnectOptions {
            url: url.to_owned(),
            max_connections: 10,
            audit_key,
            create: true,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

/// Opens the store the URL points at.
///
/// # Errors
/// When the URL is not understood or the database cannot be opened.
pub async fn connect(options: &ConnectOptions) -> StoreResult<Arc<dyn Store>> {
    match Backend::from_url(&options.url).map_err(StoreError::Unavailable)? {
        Backend::Sqlite => Ok(Arc::new(sqlite::SqliteStore::connect(options).await?)),
        Backend::Postgres => Ok(Arc::new(postgres::PgStore::connect(options).await?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/marac"), "postgres://app:***@db:5432/marac");
        assert_eq!(redact_url("postgres://db/marac"), "postgres://db/marac");
        assert_eq!(redact_url("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
    }

    #[test]
    fn backends_from_urls() {
        assert_eq!(Backend::from_url("sqlite:x.db"), Ok(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgresql://x/y"), Ok(Backend::Postgres));
        assert!(Backend::from_url("mysql://x/y").is_err());
    }

    #[test]
    fn unique_columns_are_named_alike() {
        assert_eq!(unique_column("UNIQUE constraint failed: users.email", None), "users.email");
        assert_eq!(unique_column("duplicate key", Some("users_email_key")), "users.email");
    }
}

/// Loads the checklists shipped with the product (idempotent); returns how many were new.
///
/// # Errors
/// A shipped file that does not parse (a build mistake the tests catch), or a store failure.
pub async fn install_shipped_checklists(store: &dyn Store, at: time::OffsetDateTime) -> StoreResult<usize> {
    let mut added = 0;
    for text in marac_domain::checklist::SHIPPED {
        let c = marac_domain::checklist::Checklist::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let record = ChecklistRecord::new(&c, text.to_owned(), "shipped");
        let event = marac_domain::audit::NewAuditEvent {
            at,
            actor_user_id: None,
            actor_label: "system".into(),
            action: "checklist.install".into(),
            target: format!("checklist:{}:{}", c.id, c.version),
            outcome: "success".into(),
            ip: String::new(),
            detail: "{\"source\":\"shipped\"}".into(),
            idempotency: None,
            notices: Vec::new(),
        };
        if store.install_checklist(&record, event).await? {
            added += 1;
        }
    }
    Ok(added)
}

/// Why the audit chain failed verification.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The chain was tampered with.
    #[error("{0}")]
    Tampered(marac_domain::audit::ChainProblem),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the whole audit trail in order and checks every link and the head.
/// Memory stays constant however long the trail.
///
/// # Errors
/// The first altered, removed or inserted event, or a store failure.
pub async fn verify_audit_chain(store: &dyn Store, key: &[u8]) -> Result<u64, VerifyError> {
    const BATCH: i64 = 2_000;
    // Events appended while this runs come after the head read here and are left for the next
    // run; an event beyond a head that never moved to cover it was not written by the product.
    let (head_seq, head_hash) = store.audit_head().await?;
    let mut verifier = marac_domain::audit::ChainVerifier::new(key);
    let mut after = 0;
    let mut beyond_head = None;
    'pages: loop {
        let page = store.audit_events_after(after, BATCH).await?;
        let full = i64::try_from(page.len()).unwrap_or(BATCH) == BATCH;
        for event in page {
            if event.seq > head_seq {
                beyond_head = Some(event.seq);
                break 'pages;
            }
            after = event.seq;
            verifier.push(event).map_err(VerifyError::Tampered)?;
        }
        if !full {
            break;
        }
    }
    let checked = verifier.finish(head_seq, &head_hash).map_err(VerifyError::Tampered)?;
    if let Some(seq) = beyond_head {
        let (now_seq, _) = store.audit_head().await?;
        if now_seq < seq {
            return Err(VerifyError::Tampered(marac_domain::audit::ChainProblem::Inserted { seq }));
        }
    }
    Ok(checked)
}
