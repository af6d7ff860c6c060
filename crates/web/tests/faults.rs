//! What users and operators see when something fails underneath the pages, through the real
//! router on SQLite and PostgreSQL: a record sealed under a key this server lacks, a full disk,
//! a database that restarts or goes away, a request sent twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use marac_domain::Role;
use std::sync::{Arc, Mutex};
use support::TestApp;

/// Log lines written while `f` runs on this thread.
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || Captured(writer.clone()))
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

fn logged(buffer: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

/// Runs one statement past the store, as a database administrator (or a restore) would.
async fn execute(app: &TestApp, sql: &str, text: &str, id: i64) {
    if let Some(s) = &app.db.sqlite {
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(text).bind(id).execute(s.pool()).await.unwrap();
    } else {
        let p = app.db.postgres.as_ref().unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(text).bind(id).execute(p.pool()).await.unwrap();
    }
}

#[tokio::test]
async fn a_record_sealed_under_a_key_this_server_lacks_is_a_503_that_says_so_in_the_log() {
    each_backend!(|app| {
        app.user("ref@x.org", Role::Referrer, false).await;
        let b = app.signed_in("ref@x.org").await;
        b.get("/referrals").await;
        let r = b.post("/referrals/new", &[]).await;
        let id: i64 = r.location().trim_start_matches("/referrals/").parse().unwrap();
        assert_eq!(b.get(&format!("/referrals/{id}/victim")).await.status, StatusCode::OK);

        // As another server holding version 2 of the encryption key would have sealed it.
        let second = marac_web::crypto::SealingKey { id: 2, key: [9u8; 32] };
        let sealed = marac_web::crypto::seal(&second, "referral-form", b"{}").unwrap();
        execute(&app, "UPDATE referrals SET form_sealed = $1 WHERE id = $2", &sealed, id).await;

        let (logs, _guard) = capture_logs();
        let r = b.get(&format!("/referrals/{id}/victim")).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
        assert!(!r.body.to_lowercase().contains("decrypt") && !r.body.contains("sealed"), "{}", r.body);
        let log = logged(&logs);
        assert!(log.contains("version 2 of the encryption key, which this server was not given"), "{log}");

        // A damaged value is still the server's fault, not a missing key.
        execute(&app, "UPDATE referrals SET form_sealed = $1 WHERE id = $2", "k1:damaged", id).await;
        assert_eq!(b.get(&format!("/referrals/{id}/victim")).await.status, StatusCode::INTERNAL_SERVER_ERROR);
    });
}
