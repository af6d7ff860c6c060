//! A fresh, migrated database per test, on each backend.
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a new schema in the `marac_test`
//! database of the server at `MARAC_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the test ends.
//! Outside CI an unreachable PostgreSQL skips those tests with a loud message; with `CI=true`
//! it fails them.

use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::{Backend, ConnectOptions, Store};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use std::str::FromStr;
use std::sync::Arc;

/// The audit key used by every test store.
pub const TEST_AUDIT_KEY: &[u8] = b"test-audit-key-not-for-real-use!";

/// A test database; dropping the schema or directory happens in [`TestDb::cleanup`].
pub struct TestDb {
    /// The store on it.
    pub store: Arc<dyn Store>,
    /// Which backend.
    pub backend: Backend,
    /// The SQLite store, for tests that reach past the trait.
    pub sqlite: Option<SqliteStore>,
    /// The PostgreSQL store, for tests that reach past the trait.
    pub postgres: Option<PgStore>,
    /// A URL another process can use to reach the same database.
    pub url: String,
    dir: Option<tempfile::TempDir>,
    schema: Option<String>,
}

fn server_url() -> String {
    std::env::var("MARAC_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap_or_default();
    hex::encode(b)
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

impl TestDb {
    /// A fresh SQLite database.
    ///
    /// # Panics
    /// If it cannot be created; tests want to stop there.
    #[expect(clippy::expect_used, reason = "test set-up")]
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("marac.db").display());
        let mut options = ConnectOptions::new(&url, TEST_AUDIT_KEY.to_vec());
        options.max_connections = 4;
        let store = SqliteStore::connect(&options).await.expect("open sqlite");
        store.run_migrations().await.expect("migrate sqlite");
        TestDb {
            store: Arc::new(store.clone()),
            backend: Backend::Sqlite,
            sqlite: Some(store),
            postgres: None,
            url,
            dir: Some(dir),
            schema: None,
        }
    }

    /// A fresh PostgreSQL schema, or `None` (after a loud message) when no server answers
    /// outside CI.
    ///
    /// # Panics
    /// Under CI when PostgreSQL cannot be reached, or if set-up fails.
    #[expect(clippy::expect_used, clippy::panic, reason = "test set-up")]
    pub async fn postgres() -> Option<TestDb> {
        let server = server_url();
        let admin = match PgConnection::connect(&server).await {
            Ok(c) => c,
            Err(e) if !in_ci() => {
                eprintln!("\n*** SKIPPING PostgreSQL tests: cannot reach {server}: {e} ***\n");
                return None;
            }
            Err(e) => panic!("PostgreSQL is required under CI but {server} is unreachable: {e}"),
        };
        ensure_test_database(admin).await;
        let base = PgConnectOptions::from_str(&server).expect("postgres url").database("marac_test");
        let schema = format!("t_{}", random_suffix());
        let mut conn = PgConnection::connect_with(&base).await.expect("connect marac_test");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .expect("create schema");
        let _ = conn.close().await;
        let options = base.clone().options([("search_path", schema.as_str())]);
        let store =
            PgStore::connect_with(options, 5, TEST_AUDIT_KEY.to_vec(), crate::ConnectOptions::DEFAULT_ACQUIRE_TIMEOUT)
                .await
                .expect("connect schema");
        store.run_migrations().await.expect("migrate postgres");
        let url = format!(
            "{}/marac_test?options=-c%20search_path%3D{schema}",
            server.trim_end_matches(|c| c != '/').trim_end_matches('/')
        );
        Some(TestDb {
            store: Arc::new(store.clone()),
            backend: Backend::Postgres,
            sqlite: None,
            postgres: Some(store),
            url,
            dir: None,
            schema: Some(schema),
        })
    }

    /// One database per backend that is available.
    pub async fn each_backend() -> Vec<TestDb> {
        let mut out = vec![TestDb::sqlite().await];
        out.extend(TestDb::postgres().await);
        out
    }

    /// Runs one statement past the store, to set up a state only an older version could
    /// leave behind.
    ///
    /// # Panics
    /// If the statement fails.
    #[expect(clippy::expect_used, reason = "test set-up")]
    pub async fn execute(&self, sql: &'static str) {
        if let Some(s) = &self.sqlite {
            sqlx::query(sql).execute(s.pool()).await.expect("statement");
        }
        if let Some(p) = &self.postgres {
            sqlx::query(sql).execute(p.pool()).await.expect("statement");
        }
    }

    /// Drops the PostgreSQL schema or removes the SQLite directory.
    pub async fn cleanup(mut self) {
        if let (Some(pg), Some(schema)) = (self.postgres.take(), self.schema.take()) {
            pg.pool.close().await;
            if let Ok(server) = PgConnectOptions::from_str(&server_url())
                && let Ok(mut conn) = PgConnection::connect_with(&server.database("marac_test")).await
            {
                let _ =
                    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&mut conn).await;
                let _ = conn.close().await;
            }
        }
        drop(self.dir.take());
    }
}

async fn ensure_test_database(mut admin: PgConnection) {
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = 'marac_test'")
        .fetch_optional(&mut admin)
        .await
        .unwrap_or(None);
    if exists.is_none() {
        // Several test processes may race here; losing the race is fine.
        let _ = sqlx::query("CREATE DATABASE marac_test").execute(&mut admin).await;
    }
    let _ = admin.close().await;
}

/// An audit event by the test itself at `at`, for the writes a test makes to set up what it
/// checks: every test file builds its events here rather than writing the struct out again.
#[must_use]
pub fn event_at(at: time::OffsetDateTime, action: &str) -> marac_domain::audit::NewAuditEvent {
    marac_domain::audit::NewAuditEvent {
        at,
        actor_user_id: None,
        actor_label: "system".into(),
        action: action.into(),
        target: String::new(),
        outcome: "success".into(),
        ip: "127.0.0.1".into(),
        detail: "{}".into(),
        idempotency: None,
        notices: Vec::new(),
    }
}

/// [`event_at`] now.
#[must_use]
pub fn event(action: &str) -> marac_domain::audit::NewAuditEvent {
    event_at(time::OffsetDateTime::now_utc(), action)
}

/// The smallest installation a test of casework needs: one partnership, one Marac and one
/// agency (the police) working for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Organisation {
    /// The partnership.
    pub partnership_id: i64,
    /// Its Marac.
    pub marac_id: i64,
    /// Its police agency, working for the Marac.
    pub agency_id: i64,
}

/// Makes an [`Organisation`] whose codes start with `code`.
///
/// # Panics
/// If the store refuses; tests want to stop there.
#[expect(clippy::expect_used, reason = "test set-up")]
pub async fn seed_organisation(store: &dyn Store, code: &str) -> Organisation {
    use marac_domain::{AgencyCategory, MaracRules, MeetingCadence};
    let partnership_id = store
        .create_partnership(
            &crate::PartnershipInput { code: code.into(), name: format!("{code} Partnership"), is_demo: false },
            event("partnership.create"),
        )
        .await
        .expect("partnership");
    let marac_id = store
        .create_marac(
            &crate::MaracInput {
                partnership_id,
                code: format!("{code}M"),
                name: format!("{code} Marac"),
                area: format!("{code} area"),
                adult_female_population: 120_000,
                cadence: MeetingCadence::Fortnightly,
                rules: MaracRules::default(),
            },
            event("marac.create"),
        )
        .await
        .expect("marac");
    let agency_id = store
        .create_agency(
            &crate::AgencyInput {
                partnership_id,
                code: format!("{code}P"),
                name: format!("{code} Police"),
                category: AgencyCategory::Police,
                marac_ids: vec![marac_id],
            },
            event("agency.create"),
        )
        .await
        .expect("agency");
    Organisation { partnership_id, marac_id, agency_id }
}
