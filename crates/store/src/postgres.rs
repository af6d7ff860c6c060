//! The PostgreSQL backend: a pool sized by setting; sessions, locks and the audit chain head
//! live in the database so any number of servers can share it.

use crate::{Backend, ConnectOptions, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// The store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    pub(crate) audit_key: Vec<u8>,
}

impl PgStore {
    const BACKEND: Backend = Backend::Postgres;
    /// How a write transaction locks the row it reads before changing it.
    const LOCK_ROW: &'static str = " FOR UPDATE";
    /// Concurrent workers each take rows nobody else holds, without waiting on one another.
    const CLAIM_OUTBOX: &'static str = crate::rows::claim_outbox_sql!(" FOR UPDATE SKIP LOCKED");
    /// After rows are written with their own ids, the identity carries on from the largest.
    const FOLLOW_IDS: Option<&'static str> =
        Some("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))");

    /// Connects to the database the `postgres://` URL names.
    ///
    /// # Errors
    /// When the server cannot be reached.
    pub async fn connect(options: &ConnectOptions) -> StoreResult<Self> {
        let mut connect = PgConnectOptions::from_str(&options.url)?;
        // Named, so an operator sees (and can end) this product's connections in pg_stat_activity.
        if connect.get_application_name().is_none() {
            connect = connect.application_name("marac");
        }
        Self::connect_with(connect, options.max_connections, options.audit_key.clone(), options.acquire_timeout).await
    }

    /// Connects with prepared options (tests use this to pick a schema).
    ///
    /// # Errors
    /// When the server cannot be reached.
    pub async fn connect_with(
        connect: PgConnectOptions,
        max_connections: u32,
        audit_key: Vec<u8>,
        acquire_timeout: Duration,
    ) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            // A database that does not answer should give a quick 503, not a pile-up.
            .acquire_timeout(acquire_timeout)
            .connect_with(connect)
            .await?;
        Ok(PgStore { pool, audit_key })
    }

    /// Row locks order concurrent writers (the audit head's `UPDATE` serialises appends).
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Where statements that write outside a transaction run: the shared pool, since
    /// PostgreSQL takes row locks rather than one lock for the database.
    fn writer(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await.map_err(|e| crate::StoreError::Database(e.into()))
    }

    async fn list_schema_columns(&self) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' ORDER BY 1, 2",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The pool, for tests that need to reach past the store.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The database the shared queries in `queries/` are compiled for here.
type Db = Postgres;
/// The store those queries implement the aggregates' traits for.
type This = PgStore;

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
