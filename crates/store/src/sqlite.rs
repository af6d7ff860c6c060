//! The SQLite backend: one file, WAL journal, durable commits, one writer at a time.

use crate::{Backend, ConnectOptions, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
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
}

impl SqliteStore {
    const BACKEND: Backend = Backend::Sqlite;
    /// Claims need no row locks: the one writer connection already serialises them.
    const CLAIM_OUTBOX: &'static str = crate::notice_sql::claim_outbox_sql!("");
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
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        Ok(SqliteStore { pool, writer, audit_key: options.audit_key.clone() })
    }

    /// Write transactions take SQLite's write lock at the start, so a transaction that reads
    /// then writes never fails half-way when another writer got there first.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
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

crate::sql::impl_store!(SqliteStore, Sqlite);
