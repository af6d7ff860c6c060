//! Storage for the Marac case-management system.
//!
//! [`Store`] is the one interface the application uses. Two backends implement it with
//! native sqlx drivers: [`sqlite::SqliteStore`] (the default, one file in the data directory)
//! and [`postgres::PgStore`] (for several servers sharing one database). Both run the same
//! SQL text from [`mod@sql`] wherever the dialects agree; each has its own migrations and
//! whatever differs (connection set-up, write locking, schema listing).
//!
//! Every change is written in one transaction together with the audit event that records it,
//! so an event exists exactly when its change does.

mod agency_list_sql;
pub mod agency_lists;
pub mod bulk;
mod bulk_sql;
mod flag_sql;
pub mod flags;
pub mod idempotency;
mod idempotency_sql;
mod import_sql;
mod key_sql;
pub mod keys;
mod meeting_rows;
pub mod meetings;
pub mod models;
mod notice_sql;
pub mod notices;
pub mod people;
mod person_link_sql;
pub mod postgres;
pub mod referrals;
mod return_sql;
pub mod returns;
mod sql;
pub mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;
mod transfer_sql;
pub mod transfers;
mod ts;

pub use agency_lists::*;
use async_trait::async_trait;
pub use bulk::*;
pub use flags::*;
pub use idempotency::*;
pub use keys::*;
use marac_domain::audit::{AuditEvent, NewAuditEvent};
pub use meetings::*;
pub use models::*;
pub use notices::*;
pub use people::*;
pub use referrals::*;
pub use returns::*;
use std::sync::Arc;
use time::Date;
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

/// Everything the application reads and writes.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which database this is.
    fn backend(&self) -> Backend;
    /// Applies any migrations not yet applied.
    async fn migrate(&self) -> StoreResult<()>;
    /// Checks the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Commits a write of some size (64 KiB), to tell whether the database takes writes again
    /// after they failed for want of space.
    async fn probe_write(&self) -> StoreResult<()>;
    /// Every `(table, column)` in the schema, sorted, for the parity test.
    async fn schema_columns(&self) -> StoreResult<Vec<(String, String)>>;

    // --- cases moving between Maracs ---

    /// One transfer question.
    async fn get_case_transfer(&self, id: i64) -> StoreResult<CaseTransfer>;
    /// The transfer question a referral opened, if it did.
    async fn case_transfer_for_referral(&self, referral_id: i64) -> StoreResult<Option<CaseTransfer>>;
    /// Transfer questions involving these Maracs, newest first.
    async fn list_case_transfers(
        &self,
        marac_ids: &[i64],
        open_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<CaseTransfer>>;
    /// One side (`marac_id`, one of the two) asks for the case to move.
    async fn ask_case_transfer(&self, id: i64, marac_id: i64, by: i64, at: Ts, audit: NewAuditEvent)
    -> StoreResult<()>;
    /// The other side agrees (the case moves, with its flags, actions and notes, and the
    /// receiving Marac's waiting referrals join it) or refuses; one audit event for each side.
    async fn decide_case_transfer(
        &self,
        id: i64,
        agree: bool,
        by: i64,
        at: Ts,
        audit: Vec<NewAuditEvent>,
    ) -> StoreResult<()>;

    // --- requests that may be sent twice ---

    /// Claims an idempotency key for a request, or says what became of its earlier use.
    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> StoreResult<ClaimOutcome>;
    /// Extends the hold of the request still running with the key.
    async fn renew_idempotency(&self, scope: &str, request_id: &str, lease_until: Ts) -> StoreResult<()>;
    /// Keeps the answer given to the request holding the key.
    async fn answer_idempotency(
        &self,
        scope: &str,
        request_id: &str,
        status: u16,
        response_sealed: &str,
    ) -> StoreResult<()>;
    /// Lets the key go when the request saved nothing (so it may be sent again); returns
    /// whether it was let go.
    async fn release_idempotency(&self, scope: &str, request_id: &str) -> StoreResult<bool>;
    /// Forgets keys claimed before `before`; returns how many.
    async fn forget_idempotency(&self, before: Ts) -> StoreResult<u64>;

    // --- the installation's keys (these work before migrations too) ---

    /// The check values recorded for the installation's keys; none before they are recorded.
    async fn key_checks(&self) -> StoreResult<Vec<KeyCheck>>;
    /// Records check values (each once per purpose and key id); returns how many were new.
    async fn record_key_checks(&self, checks: &[KeyCheck], audit: NewAuditEvent) -> StoreResult<u64>;
    /// Whether anything has been written yet (an audit event or a user).
    async fn holds_data(&self) -> StoreResult<bool>;
    /// Up to `limit` of the newest people's and of authenticator secrets' sealed values.
    async fn sealed_samples(&self, limit: i64) -> StoreResult<Vec<SealedSample>>;

    // --- partnerships, Maracs, agencies ---

    /// All partnerships, by name.
    async fn list_partnerships(&self) -> StoreResult<Vec<Partnership>>;
    /// One partnership.
    async fn get_partnership(&self, id: i64) -> StoreResult<Partnership>;
    /// One partnership by code.
    async fn find_partnership_by_code(&self, code: &str) -> StoreResult<Option<Partnership>>;
    /// Creates a partnership.
    async fn create_partnership(&self, input: &PartnershipInput, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Changes a partnership.
    async fn update_partnership(&self, id: i64, input: &PartnershipInput, audit: NewAuditEvent) -> StoreResult<()>;

    /// All Maracs, by name.
    async fn list_maracs(&self) -> StoreResult<Vec<Marac>>;
    /// One Marac.
    async fn get_marac(&self, id: i64) -> StoreResult<Marac>;
    /// One Marac by code.
    async fn find_marac_by_code(&self, code: &str) -> StoreResult<Option<Marac>>;
    /// Creates a Marac.
    async fn create_marac(&self, input: &MaracInput, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Changes a Marac.
    async fn update_marac(&self, id: i64, input: &MaracInput, audit: NewAuditEvent) -> StoreResult<()>;

    /// All agencies, by name.
    async fn list_agencies(&self) -> StoreResult<Vec<Agency>>;
    /// One agency.
    async fn get_agency(&self, id: i64) -> StoreResult<Agency>;
    /// One agency by code.
    async fn find_agency_by_code(&self, code: &str) -> StoreResult<Option<Agency>>;
    /// Creates an agency.
    async fn create_agency(&self, input: &AgencyInput, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Changes an agency.
    async fn update_agency(&self, id: i64, input: &AgencyInput, audit: NewAuditEvent) -> StoreResult<()>;

    // --- users ---

    /// All users, by name.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// One user.
    async fn get_user(&self, id: i64) -> StoreResult<User>;
    /// One user by normalised e-mail address.
    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// Creates a user with their roles.
    async fn create_user(&self, user: &NewUser, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Changes a user's name, agency and roles.
    async fn update_user(&self, id: i64, changes: &UserChanges, audit: NewAuditEvent) -> StoreResult<()>;
    /// Disables or re-enables an account; disabling ends all its sessions at once.
    async fn set_user_disabled(&self, id: i64, disabled: bool, audit: NewAuditEvent) -> StoreResult<()>;
    /// Replaces a password hash (e.g. when argon2 parameters rise).
    async fn set_password_hash(&self, id: i64, password_hash: &str) -> StoreResult<()>;

    // --- second factor ---

    /// Stores a new TOTP secret (encrypted) and recovery-code hashes, replacing old ones.
    async fn set_second_factor(
        &self,
        user_id: i64,
        totp_secret: &str,
        first_step: i64,
        recovery_code_hashes: &[String],
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// Records that a TOTP time step was used. Returns `false` if that step or a later one was
    /// already used: each code works once, even with several servers racing.
    async fn use_totp_step(&self, user_id: i64, step: i64) -> StoreResult<bool>;
    /// Marks an unused recovery code used. Returns `false` if there is no such unused code.
    async fn use_recovery_code(&self, user_id: i64, code_hash: &str, at: Ts) -> StoreResult<bool>;
    /// How many recovery codes are left.
    async fn unused_recovery_codes(&self, user_id: i64) -> StoreResult<i64>;

    // --- sessions and sign-in ---

    /// Stores a new session.
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// Replaces one session with another in one step (rotation at each sign-in stage).
    async fn replace_session(&self, old_id: &str, new: &Session, audit: Option<NewAuditEvent>) -> StoreResult<()>;
    /// One session, if it exists.
    async fn get_session(&self, id: &str) -> StoreResult<Option<Session>>;
    /// Moves a session's last-seen time.
    async fn touch_session(&self, id: &str, at: Ts) -> StoreResult<()>;
    /// Ends a session; with an audit event when a person ended it.
    async fn delete_session(&self, id: &str, audit: Option<NewAuditEvent>) -> StoreResult<()>;
    /// A user's sessions, newest first.
    async fn list_user_sessions(&self, user_id: i64) -> StoreResult<Vec<Session>>;
    /// Records a failed sign-in for the account and the address, with its audit event.
    async fn record_sign_in_failure(
        &self,
        account: &str,
        address: &str,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// Failed sign-ins since `since`, for the account and for the address.
    async fn count_sign_in_failures(&self, account: &str, address: &str, since: Ts) -> StoreResult<(u32, u32)>;
    /// Forgets an account's failures after it signs in.
    async fn clear_sign_in_failures(&self, account: &str) -> StoreResult<()>;

    // --- audit ---

    /// Appends one event in its own transaction.
    async fn append_audit(&self, audit: NewAuditEvent) -> StoreResult<()>;
    /// Events matching a filter, newest first.
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>>;
    /// Events after `after_seq`, oldest first, at most `limit`: for verification and export.
    async fn audit_events_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEvent>>;
    /// The chain head: newest sequence number and hash.
    async fn audit_head(&self) -> StoreResult<(i64, String)>;

    // --- risk checklists ---

    /// Loads a checklist version. Returns `false` if that id and version are already loaded
    /// with the same definition; a different definition under the same id and version is a
    /// [`StoreError::Conflict`], because assessments made with it must keep meaning the same.
    async fn install_checklist(&self, checklist: &ChecklistRecord, audit: NewAuditEvent) -> StoreResult<bool>;
    /// Every loaded checklist version, by id then version.
    async fn list_checklists(&self) -> StoreResult<Vec<ChecklistRecord>>;
    /// One checklist version.
    async fn get_checklist(&self, checklist_id: &str, version: &str) -> StoreResult<Option<ChecklistRecord>>;

    // --- API tokens ---

    /// Stores a new token (its hash only).
    async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        audit: NewAuditEvent,
    ) -> StoreResult<i64>;
    /// The live or revoked token with this hash.
    async fn find_api_token(&self, token_hash: &str) -> StoreResult<Option<ApiToken>>;
    /// A user's tokens, newest first.
    async fn list_api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>>;
    /// Revokes one of a user's tokens; `NotFound` if it is not theirs or already revoked.
    async fn revoke_api_token(&self, id: i64, user_id: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;

    // --- referrals, people and cases ---

    /// Starts a draft referral.
    async fn create_draft(&self, draft: &NewDraft, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Saves a draft (or a referral sent back) as typed so far; `NotFound` once submitted.
    async fn save_draft(
        &self,
        id: i64,
        marac_id: i64,
        form_sealed: &str,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// One referral.
    async fn get_referral(&self, id: i64) -> StoreResult<Referral>;
    /// One referral by its reference.
    async fn find_referral_by_reference(&self, reference: &str) -> StoreResult<Option<Referral>>;
    /// Referrals matching a filter, most recently changed first.
    async fn list_referrals(&self, filter: &ReferralFilter) -> StoreResult<Vec<Referral>>;
    /// Known people of a partnership filed under any of `keys`, at most `limit`: those sharing
    /// the most keys first, then those sharing the rarest (a date of birth before a common
    /// name), so a cap on candidates drops the least telling ones. The keys are the
    /// partnership's own (keyed per partnership by the caller): the cap is applied before
    /// anyone of another partnership is left out.
    async fn find_people(&self, partnership_id: i64, keys: &[String], limit: i64) -> StoreResult<Vec<PersonRecord>>;
    /// How many people a partnership knows.
    async fn count_people(&self, partnership_id: i64) -> StoreResult<i64>;
    /// People still filed under a set of blocking keys older than `version`, each with their
    /// partnership, lowest id first, at most `limit`.
    async fn people_to_file_again(&self, version: i64, limit: i64) -> StoreResult<Vec<(i64, PersonRecord)>>;
    /// Files each person again under their new keys, in place of their old ones, and marks them
    /// filed under `version`; with one audit event for the batch.
    async fn file_people_again(
        &self,
        version: i64,
        people: &[(i64, Vec<String>)],
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// One known person.
    async fn get_person(&self, id: i64) -> StoreResult<PersonRecord>;
    /// The date of the last referral (submitted or accepted) of the case with this victim and
    /// exactly these people causing harm.
    async fn last_referral_date(&self, victim_person_id: i64, perpetrator_ids: &[i64]) -> StoreResult<Option<String>>;
    /// Records a submission: people, case, reference and candidate matches, in one step.
    async fn submit_referral(&self, submission: &Submission, at: Ts, audit: NewAuditEvent) -> StoreResult<Submitted>;
    /// Records triage's decision on a submitted referral; `NotFound` if it is not waiting.
    async fn decide_referral(
        &self,
        id: i64,
        decision: &Decision,
        by: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// The candidate matches found on submission.
    async fn referral_matches(&self, referral_id: i64) -> StoreResult<Vec<StoredMatch>>;
    /// Records a coordinator's answer to a candidate. Confirming merges the referral's own
    /// record of the person into the known person; rejecting a confirmed candidate undoes that.
    /// Either way the referral's repeat criterion is worked out again from the people as now
    /// counted, and returned. `NotFound` if there is no such candidate; `Conflict` if the
    /// referral predates recorded answers.
    async fn decide_match(&self, decision: &MatchDecision, at: Ts, audit: NewAuditEvent) -> StoreResult<bool>;
    /// The people named on these Maracs' cases (victims and people causing harm), with the
    /// Maracs and the references of the referrals naming them, for the duplicates queue.
    async fn marac_people(&self, marac_ids: &[i64]) -> StoreResult<Vec<MaracPerson>>;
    /// Every pair of records said to be different people, smaller id first.
    async fn distinct_people(&self) -> StoreResult<Vec<(i64, i64)>>;
    /// Records that two records are different people; the queue stops offering them.
    async fn mark_distinct(&self, a: i64, b: i64, by: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// Merges a record (and any merged into it) into the person `into_id` counts as, and works
    /// out again whether the given Maracs' referrals naming them are repeats. `Conflict` if they are
    /// already one person.
    async fn merge_people(&self, merge: &PersonMerge, audit: NewAuditEvent) -> StoreResult<()>;
    /// Undoes a record's merge (and a coordinator's confirmation that made it), and works out
    /// the repeats again. `NotFound` if it is not merged.
    async fn unmerge_person(&self, merge: &PersonMerge, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// One case.
    async fn get_case(&self, id: i64) -> StoreResult<Case>;
    /// The facts that decide who may see a case.
    async fn case_access(&self, case_id: i64) -> StoreResult<marac_domain::policy::CaseAccess>;
    /// Files many people at once (synthetic data and benchmarks), with one audit event.
    async fn import_people(
        &self,
        partnership_id: i64,
        people: &[(String, Vec<String>)],
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<u64>;

    // --- research ---

    /// Adds an agency's research note.
    async fn add_research_note(&self, note: &NewResearchNote, at: Ts, audit: NewAuditEvent) -> StoreResult<i64>;
    /// The notes on a case that `agency_id` may read: its own, and others' shared ones.
    async fn list_research_notes(&self, case_id: i64, agency_id: Option<i64>) -> StoreResult<Vec<ResearchNote>>;
    /// Shares one of the agency's notes; `NotFound` if it is not theirs or already shared.
    async fn share_research_note(
        &self,
        case_id: i64,
        id: i64,
        agency_id: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;

    // --- directory ---

    /// Every directory entry.
    async fn list_directory(&self) -> StoreResult<Vec<DirectoryEntry>>;
    /// Adds a contact.
    async fn add_directory_entry(&self, entry: &DirectoryEntry, at: Ts, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Removes a contact.
    async fn remove_directory_entry(&self, id: i64, audit: NewAuditEvent) -> StoreResult<()>;

    // --- meetings ---
    /// The current (latest) confidentiality statement of a Marac.
    async fn current_statement(&self, marac_id: i64) -> StoreResult<Option<ConfidentialityStatement>>;
    /// Adds a new version of a Marac's confidentiality statement; returns its version.
    async fn add_statement(
        &self,
        marac_id: i64,
        body: &str,
        by: Option<i64>,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<i64>;
    /// Schedules meetings, each with its invited agencies; returns their ids.
    async fn create_meetings(&self, meetings: &[NewMeeting], at: Ts, audit: NewAuditEvent) -> StoreResult<Vec<i64>>;
    /// Changes a planned or published meeting's details and invitations.
    async fn update_meeting(&self, id: i64, details: &NewMeeting, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// One meeting; `NotFound` if none.
    async fn get_meeting(&self, id: i64) -> StoreResult<Meeting>;
    /// Meetings of these Maracs held on or after `from` (all if `None`), by date.
    async fn list_meetings(&self, marac_ids: &[i64], from: Option<Date>, limit: i64) -> StoreResult<Vec<Meeting>>;
    /// Accepted cases of a Marac not on any list (or deferred since), longest waiting first.
    async fn waiting_cases(&self, marac_id: i64) -> StoreResult<Vec<WaitingCase>>;
    /// A meeting's list in order.
    async fn meeting_cases(&self, meeting_id: i64) -> StoreResult<Vec<ListedCase>>;
    /// Replaces a meeting's list with these (case, referral) pairs in this order. Cases already
    /// heard or deferred at this meeting keep their record; `Conflict` once the meeting is held.
    async fn set_meeting_list(
        &self,
        meeting_id: i64,
        list: &[(i64, i64)],
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// Publishes a planned meeting's list; `Conflict` if it is not planned.
    async fn publish_meeting(&self, meeting_id: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// Marks a meeting held; `Conflict` if it is not published.
    async fn close_meeting(&self, meeting_id: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// Records a signed-in person's (or, with `observer_name`, an observer's) confirmation of
    /// the current statement for a meeting. Confirming again changes nothing.
    async fn confirm_confidentiality(
        &self,
        meeting_id: i64,
        user_id: Option<i64>,
        observer_name: Option<&str>,
        statement_id: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// Who has confirmed for a meeting, in order.
    async fn confirmations(&self, meeting_id: i64) -> StoreResult<Vec<Confirmation>>;
    /// Records a person's confirmation of a Marac's statement outside a meeting (a meeting's
    /// confirmation records one too).
    async fn confirm_statement(&self, user_id: i64, statement_id: i64, at: Ts, audit: NewAuditEvent)
    -> StoreResult<()>;
    /// A person's newest confirmation of each Marac's statement: the highest version they
    /// confirmed, and when they last did.
    async fn statement_confirmations(&self, user_id: i64) -> StoreResult<Vec<StatementConfirmation>>;
    /// Replaces a meeting's attendance record.
    async fn set_attendance(
        &self,
        meeting_id: i64,
        entries: &[AttendanceEntry],
        by: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// A meeting's attendance record.
    async fn attendance(&self, meeting_id: i64) -> StoreResult<Vec<AttendanceEntry>>;
    /// Saves the discussion and outcome of a (meeting, case) on the list; returns its new
    /// version. `Conflict` when the record's `saved_version` is not the current one.
    async fn save_discussion(
        &self,
        (meeting_id, case_id): (i64, i64),
        discussion: &DiscussionRecord,
        outcome: marac_domain::meeting_rules::CaseOutcome,
        by: i64,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<i64>;
    /// Agrees an action; returns its id.
    async fn add_action(&self, action: &NewAction, by: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<i64>;
    /// One action; `NotFound` if none.
    async fn get_action(&self, id: i64) -> StoreResult<ActionRecord>;
    /// Actions matching a filter, soonest due first.
    async fn list_actions(&self, filter: &ActionFilter) -> StoreResult<Vec<ActionRecord>>;
    /// Reports an action's new status, kept with its history.
    async fn report_action(&self, id: i64, event: &ActionEvent, audit: NewAuditEvent) -> StoreResult<()>;
    /// An action's history, oldest first.
    async fn action_events(&self, id: i64) -> StoreResult<Vec<ActionEvent>>;
    /// Every accepted case of a Marac with its reference and latest referral date, in one
    /// query (for the meeting page's review of actions and its 12-month standing item).
    async fn case_summaries(&self, marac_id: i64) -> StoreResult<Vec<CaseSummary>>;

    // --- import ---

    /// Files referrals from a Marac's history in one transaction (all or none), accepted, with
    /// the meetings that heard them (made as held where none is on that day). Rows whose
    /// reference is already in are left alone.
    async fn import_referrals(
        &self,
        items: &[ImportedReferral],
        by: i64,
        audit: NewAuditEvent,
    ) -> StoreResult<ImportCount>;

    // --- returns ---

    /// Per meeting in the scope, the cases heard there counted as the SafeLives return asks;
    /// meetings with no case heard are left out. Ordered by day.
    async fn meeting_returns(&self, scope: &ReturnScope) -> StoreResult<Vec<MeetingReturn>>;
    /// What the action plans agreed at the scope's meetings hold.
    async fn action_counts(&self, scope: &ReturnScope) -> StoreResult<ActionCounts>;
    /// Per agency, the held meetings of the scope it was invited to and attended.
    async fn agency_attendance(&self, scope: &ReturnScope) -> StoreResult<Vec<AgencyAttendance>>;
    /// Visible high-risk referrals decided in the scope's period, and those screened out.
    async fn screening(&self, scope: &ReturnScope) -> StoreResult<Screening>;
    /// Referrals made in the scope's period (not drafts) by the victim's postcode sector; an
    /// empty sector counts those with no postcode.
    async fn postcode_counts(&self, scope: &ReturnScope) -> StoreResult<Vec<(String, u32)>>;
    /// Figures entered from outside the records for a partnership's quarter (`2026-q3`).
    async fn partnership_figures(&self, partnership_id: i64, quarter: &str) -> StoreResult<Vec<PartnershipFigure>>;
    /// Enters (or corrects) one such figure, with its audit event.
    async fn set_partnership_figure(
        &self,
        partnership_id: i64,
        quarter: &str,
        figure: &PartnershipFigure,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;

    // --- flags ---

    /// Records a flag with its audit event; returns its id.
    async fn add_flag(&self, flag: &NewFlag, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Flags, soonest expiry first.
    async fn list_flags(&self, filter: &FlagFilter) -> StoreResult<Vec<CaseFlag>>;
    /// Ends a running flag early.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such flag or it has already ended.
    async fn end_flag(&self, id: i64, by: i64, reason_sealed: &str, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;

    // --- notifications ---

    /// Adds notices (and their e-mails) not already made for the same reader and event;
    /// returns how many are new. Safe to call from any number of servers at once.
    async fn add_notices(&self, notices: &[NewNotice], at: Ts) -> StoreResult<u64>;
    /// A reader's notices, newest first.
    async fn list_notices(&self, user_id: i64, limit: i64) -> StoreResult<Vec<Notice>>;
    /// Marks a reader's notice read and returns it; `NotFound` if it is not theirs.
    async fn open_notice(&self, id: i64, user_id: i64, at: Ts) -> StoreResult<Notice>;
    /// How many of a reader's notices are unread.
    async fn count_unread(&self, user_id: i64) -> StoreResult<i64>;
    /// Claims up to `limit` e-mails due for sending for `worker` until `lease_until`; no two
    /// workers hold the same message.
    async fn claim_outbox(&self, worker: &str, now: Ts, lease_until: Ts, limit: i64)
    -> StoreResult<Vec<OutboxMessage>>;
    /// Records how a claimed e-mail's delivery went.
    async fn finish_outbox(&self, id: i64, worker: &str, delivery: &Delivery, at: Ts) -> StoreResult<()>;
    /// The outbox, newest first.
    async fn list_outbox(&self, limit: i64) -> StoreResult<Vec<OutboxMessage>>;

    // --- other agencies' lists ---

    /// Keeps an uploaded list (sealed rows) and the links it made, in one transaction.
    async fn add_agency_list(&self, list: &NewAgencyList, audit: NewAuditEvent) -> StoreResult<i64>;
    /// One list.
    async fn get_agency_list(&self, id: i64) -> StoreResult<AgencyList>;
    /// An agency's lists, newest first.
    async fn agency_lists(&self, agency_id: i64) -> StoreResult<Vec<AgencyList>>;
    /// A list's rows (line and sealed details); none once deleted.
    async fn agency_list_rows(&self, id: i64) -> StoreResult<Vec<(i64, String)>>;
    /// Deletes a list's rows and marks it deleted; its links stay. `NotFound` if already done.
    async fn delete_agency_list(&self, id: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// Lists whose time is up at `now` and whose rows are still kept.
    async fn expired_agency_lists(&self, now: Ts) -> StoreResult<Vec<i64>>;
    /// What lists linked to a case, newest first.
    async fn social_care_links(&self, case_id: i64) -> StoreResult<Vec<SocialCareLink>>;

    // --- demo ---

    /// Whether any partnership not made by `marac demo` exists.
    async fn has_real_partnerships(&self) -> StoreResult<bool>;
    /// Writes years of a Marac's synthetic history at once (national-scale demo data).
    async fn write_history(&self, history: &BulkHistory) -> StoreResult<()>;
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
