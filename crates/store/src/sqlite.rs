//! The SQLite backend: one file, WAL journal, durable commits, one writer at a time.

use crate::{Backend, ConnectOptions, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The store on a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// The one connection that writes. Writers queue here in order instead of in SQLite's
    /// busy handler, which sleeps with back-off and so lets an unlucky writer wait a second
    /// while others pass it.
    writer: SqlitePool,
    pub(crate) audit_key: Vec<u8>,
    /// The most pages the writer may use (`PRAGMA max_page_count`), 0 for SQLite's own limit.
    /// Only tests set it, to make the database "full" on demand; it is applied to every writer
    /// connection, including one that replaces a broken one, as a full disk would be.
    #[cfg_attr(not(feature = "test-support"), expect(dead_code, reason = "set only by tests"))]
    page_limit: Arc<AtomicU64>,
}

impl SqliteStore {
    const BACKEND: Backend = Backend::Sqlite;
    /// How a write transaction locks the row it reads before changing it.
    const LOCK_ROW: &'static str = "";
    /// Claims need no row locks: the one writer connection already serialises them.
    const CLAIM_OUTBOX: &'static str = crate::rows::claim_outbox_sql!("");
    /// SQLite's rowids carry on from the largest by themselves.
    const FOLLOW_IDS: Option<&'static str> = None;

    /// Opens (creating if needed) the file the `sqlite:` URL names.
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub async fn connect(options: &ConnectOptions) -> StoreResult<Self> {
        let connect = SqliteConnectOptions::from_str(&options.url)?
            .create_if_missing(options.create)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit the user saw is on disk, audit events included.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.clamp(1, 8))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await?;
        let page_limit = Arc::new(AtomicU64::new(0));
        let limit = page_limit.clone();
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _| {
                let pages = limit.load(Ordering::Relaxed);
                Box::pin(async move {
                    if pages > 0 {
                        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA max_page_count = {pages}")))
                            .execute(conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        Ok(SqliteStore { pool, writer, audit_key: options.audit_key.clone(), page_limit })
    }

    /// Write transactions take SQLite's write lock at the start, so a transaction that reads
    /// then writes never fails half-way when another writer got there first.
    ///
    /// A write that fails for want of space (`SQLITE_FULL`, `SQLITE_IOERR`) can make SQLite
    /// roll the transaction back by itself; the driver's own `ROLLBACK` then fails and it goes
    /// on believing a transaction is open, refusing every later `BEGIN` on that connection
    /// (`InvalidSavePointStatement`) until the process restarts. Such a connection is closed
    /// here and the write begins on a fresh one, so writes work again as soon as space is back.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        // Another writer may leave the fresh connection in the same state before this one gets
        // it, while the disk stays full: a few tries, then the failure is the disk's.
        for _ in 0..4 {
            match self.writer.begin_with("BEGIN IMMEDIATE").await {
                Err(sqlx::Error::InvalidSavePointStatement | sqlx::Error::BeginFailed) => {
                    tracing::warn!("the database writer connection was left inside a failed transaction; replacing it");
                    self.writer.acquire().await?.close().await?;
                }
                other => return Ok(other?),
            }
        }
        Err(crate::StoreError::StorageFault("every write fails: the database cannot complete a transaction".into()))
    }

    /// Makes the database "full" from the writer's side: it may use no more than `pages` pages
    /// (`None`: SQLite's own limit again). What a full disk does to writes, without root.
    ///
    /// # Errors
    /// When the writer connection cannot be reached.
    #[cfg(feature = "test-support")]
    pub async fn limit_pages(&self, pages: Option<u64>) -> StoreResult<()> {
        // SQLite's default maximum, which a larger page count cannot be set above.
        const SQLITE_MAX: u64 = 1_073_741_823;
        self.page_limit.store(pages.unwrap_or(0), Ordering::Relaxed);
        let pragma = format!("PRAGMA max_page_count = {}", pages.unwrap_or(SQLITE_MAX));
        sqlx::query(sqlx::AssertSqlSafe(pragma)).execute(&self.writer).await?;
        Ok(())
    }

    /// How many pages the database file holds now.
    ///
    /// # Errors
    /// When the database cannot be read.
    #[cfg(feature = "test-support")]
    pub async fn page_count(&self) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as("PRAGMA page_count").fetch_one(&self.writer).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Where statements that write outside a transaction run.
    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub(crate) async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.pool).await.map_err(|e| crate::StoreError::Database(e.into()))
    }

    async fn list_schema_columns(&self) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' \
             ORDER BY 1, 2",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The pool, for tests that need to reach past the store (e.g. to tamper with the audit trail).
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// The database the shared queries in `queries/` are compiled for here.
type Db = Sqlite;
/// The store those queries implement the aggregates' traits for.
type This = SqliteStore;

// The queries both backends share, one file per aggregate, each compiled once for this backend.
#[path = "queries/accounts.rs"]
mod accounts;
#[path = "queries/actions.rs"]
mod actions;
#[path = "queries/agency_lists.rs"]
mod agency_lists;
#[path = "queries/audit.rs"]
mod audit;
#[path = "queries/cases.rs"]
mod cases;
#[path = "queries/checklists.rs"]
mod checklists;
#[path = "queries/database.rs"]
mod database;
#[path = "queries/idempotency.rs"]
mod idempotency;
#[path = "queries/imports.rs"]
mod imports;
#[path = "queries/keys.rs"]
mod keys;
#[path = "queries/meetings.rs"]
mod meetings;
#[path = "queries/notices.rs"]
mod notices;
#[path = "queries/organisations.rs"]
mod organisations;
#[path = "queries/people.rs"]
mod people;
#[path = "queries/referrals.rs"]
mod referrals;
#[path = "queries/research.rs"]
mod research;
#[path = "queries/returns.rs"]
mod returns;
#[path = "queries/searches.rs"]
mod searches;
#[path = "queries/transfers.rs"]
mod transfers;
