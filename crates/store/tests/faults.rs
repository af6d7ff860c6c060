//! The store when the database fails underneath it: a full disk on SQLite, connections ended
//! by PostgreSQL's administrator, a server that is not there; and the key checks, which must
//! work before migrations too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests stop at the first failure")]

use marac_domain::audit::NewAuditEvent;
use marac_domain::keys::{KeyCheck, KeyPurpose};
use marac_store::testing::{TEST_AUDIT_KEY, TestDb};
use marac_store::*;
use std::time::{Duration, Instant};

fn event(n: usize, detail_bytes: usize) -> NewAuditEvent {
    let mut e = marac_store::testing::event(&format!("test.fill{n}"));
    e.detail = serde_json::json!({ "filler": "x".repeat(detail_bytes) }).to_string();
    e
}

#[tokio::test]
async fn a_full_sqlite_database_refuses_writes_cleanly_and_takes_them_again_once_space_is_back() {
    let db = TestDb::sqlite().await;
    let sqlite = db.sqlite.clone().unwrap();
    let store = db.store.as_ref();
    store.append_audit(event(0, 10)).await.unwrap();
    sqlite.limit_pages(Some(sqlite.page_count().await.unwrap())).await.unwrap();

    let mut failure = None;
    for n in 1..500 {
        if let Err(e) = store.append_audit(event(n, 3_000)).await {
            failure = Some(e);
            break;
        }
    }
    let failure = failure.expect("the database filled up");
    assert!(matches!(failure, StoreError::StorageFault(_)), "{failure:?}");
    assert!(failure.is_transient());
    // Every later write fails the same way (not with a connection stuck in the failed
    // transaction), reads go on working, and nothing half-written is left behind.
    for n in 0..3 {
        let again = store.append_audit(event(n, 3_000)).await;
        assert!(matches!(again, Err(StoreError::StorageFault(_))), "{again:?}");
    }
    let (head, _) = store.audit_head().await.unwrap();

    // Space is back: the next write works, without a restart.
    sqlite.limit_pages(None).await.unwrap();
    store.append_audit(event(999, 3_000)).await.unwrap();
    assert_eq!(store.audit_head().await.unwrap().0, head + 1);
    assert!(verify_audit_chain(store, TEST_AUDIT_KEY).await.is_ok());
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(sqlite.pool()).await.unwrap();
    assert_eq!(check, "ok");
    db.cleanup().await;
}

#[tokio::test]
async fn probing_a_write_tells_a_full_database_from_one_with_room() {
    let db = TestDb::sqlite().await;
    let sqlite = db.sqlite.clone().unwrap();
    db.store.probe_write().await.unwrap();
    sqlite.limit_pages(Some(sqlite.page_count().await.unwrap())).await.unwrap();
    // Fill what room the last pages had.
    for n in 0..500 {
        if db.store.append_audit(event(n, 3_000)).await.is_err() {
            break;
        }
    }
    let probe = db.store.probe_write().await;
    assert!(matches!(probe, Err(StoreError::StorageFault(_))), "{probe:?}");
    sqlite.limit_pages(None).await.unwrap();
    db.store.probe_write().await.unwrap();
    db.cleanup().await;
}

#[tokio::test]
async fn postgresql_ending_a_connection_is_unavailable_not_an_internal_error() {
    let Some(db) = TestDb::postgres().await else { return };
    let pg = db.postgres.clone().unwrap();
    // A connection busy in a query when the administrator ends it: error 57P01.
    let mut conn = pg.pool().acquire().await.unwrap();
    let (pid,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()").fetch_one(&mut *conn).await.unwrap();
    let killer = {
        let pool = pg.pool().clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(&pool).await.unwrap();
        })
    };
    let ended = sqlx::query("SELECT pg_sleep(5)").execute(&mut *conn).await.unwrap_err();
    killer.await.unwrap();
    drop(conn);
    let e = StoreError::from(ended);
    assert!(matches!(e, StoreError::ConnectionLost(_)), "{e:?}");
    assert!(e.is_transient());
    // The pool does not hand the dead connection out again.
    db.store.ping().await.unwrap();
    db.cleanup().await;
}

#[tokio::test]
async fn a_database_that_is_not_there_answers_unavailable_within_the_acquire_timeout() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut options = ConnectOptions::new(&format!("postgres://postgres@127.0.0.1:{port}/none"), vec![1; 32]);
    options.acquire_timeout = Duration::from_millis(500);
    let started = Instant::now();
    let e = match connect(&options).await {
        Ok(_) => panic!("connected to nothing"),
        Err(e) => e,
    };
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn key_checks_are_recorded_once_and_read_before_migrations_as_none() {
    for db in TestDb::each_backend().await {
        let store = db.store.as_ref();
        assert!(store.key_checks().await.unwrap().is_empty());
        assert!(!store.holds_data().await.unwrap());
        let check = |purpose, id, value: &str| KeyCheck { purpose, key_id: id, check_value: value.into() };
        let checks = [check(KeyPurpose::Encryption, 1, "e1"), check(KeyPurpose::Audit, 1, "a1")];
        assert_eq!(store.record_key_checks(&checks, event(1, 1)).await.unwrap(), 2);
        // A second server recording at the same time adds nothing and writes no event.
        assert_eq!(store.record_key_checks(&checks, event(2, 1)).await.unwrap(), 0);
        assert_eq!(store.audit_head().await.unwrap().0, 1);
        let mut read = store.key_checks().await.unwrap();
        read.sort_by_key(|c| c.purpose);
        assert_eq!(read, [check(KeyPurpose::Encryption, 1, "e1"), check(KeyPurpose::Audit, 1, "a1")]);
        assert!(store.holds_data().await.unwrap());
        assert!(store.sealed_samples(10).await.unwrap().is_empty());
        db.cleanup().await;
    }
    // A database file with no tables yet: nothing recorded, nothing held.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("new.db").display());
    let store = connect(&ConnectOptions::new(&url, vec![1; 32])).await.unwrap();
    assert!(store.key_checks().await.unwrap().is_empty());
    assert!(!store.holds_data().await.unwrap());
    assert!(store.sealed_samples(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_change_made_under_a_key_another_request_has_taken_over_is_refused_whole() {
    use marac_domain::idempotency::IdempotencyMark;
    for db in TestDb::each_backend().await {
        let store = db.store.as_ref();
        let user = store
            .create_user(
                &NewUser {
                    email: "kim@x.org".into(),
                    name: "Kim".into(),
                    agency_id: None,
                    password_hash: "x".into(),
                    is_demo: false,
                    grants: vec![],
                },
                event(0, 1),
            )
            .await
            .unwrap();
        let t0 = time::OffsetDateTime::now_utc();
        let claim = |request: &str, at: time::OffsetDateTime| IdempotencyClaim {
            scope: "scope-1".into(),
            user_id: user,
            fingerprint: "f".into(),
            request_id: request.into(),
            now: Ts::new(at),
            lease_until: Ts::new(at + time::Duration::seconds(60)),
            forget_before: Ts::new(at - time::Duration::hours(24)),
        };
        assert_eq!(store.claim_idempotency(&claim("first", t0)).await.unwrap(), ClaimOutcome::Claimed);
        assert_eq!(store.claim_idempotency(&claim("second", t0)).await.unwrap(), ClaimOutcome::InFlight);
        assert_eq!(
            store
                .claim_idempotency(&IdempotencyClaim { fingerprint: "g".into(), ..claim("second", t0) })
                .await
                .unwrap(),
            ClaimOutcome::Mismatch
        );
        // The first request's server stops before saving; after its lease another takes the key.
        let later = t0 + time::Duration::seconds(61);
        assert_eq!(store.claim_idempotency(&claim("second", later)).await.unwrap(), ClaimOutcome::Claimed);
        // The first request wakes and tries to save: refused, with nothing written.
        let (head, _) = store.audit_head().await.unwrap();
        let mut stale = event(1, 1);
        stale.idempotency = Some(IdempotencyMark { scope: "scope-1".into(), request_id: "first".into() });
        let refused = store.set_user_disabled(user, true, stale).await;
        assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
        assert!(!store.get_user(user).await.unwrap().disabled);
        assert_eq!(store.audit_head().await.unwrap().0, head);
        // The request that holds it saves, recording its outcome in the same transaction.
        let mut current = event(2, 1);
        current.target = format!("user:{user}");
        current.idempotency = Some(IdempotencyMark { scope: "scope-1".into(), request_id: "second".into() });
        store.set_user_disabled(user, true, current).await.unwrap();
        // Its server stops before answering: a third sending learns what was made.
        assert_eq!(
            store.claim_idempotency(&claim("third", later + time::Duration::seconds(61))).await.unwrap(),
            ClaimOutcome::SavedUnanswered { outcome: format!("user:{user}") }
        );
        // An event on its own (a read, a refusal) is never an outcome.
        assert_eq!(
            store.claim_idempotency(&IdempotencyClaim { scope: "scope-2".into(), ..claim("r", t0) }).await.unwrap(),
            ClaimOutcome::Claimed
        );
        let mut read = event(3, 1);
        read.idempotency = Some(IdempotencyMark { scope: "scope-2".into(), request_id: "r".into() });
        store.append_audit(read).await.unwrap();
        assert!(store.release_idempotency("scope-2", "r").await.unwrap(), "nothing was saved, so the key is let go");
        // Answered keys give their answer; a day later they are forgotten.
        store.answer_idempotency("scope-1", "second", 303, "sealed").await.unwrap();
        assert_eq!(
            store.claim_idempotency(&claim("fourth", later)).await.unwrap(),
            ClaimOutcome::Answered {
                status: 303,
                response_sealed: "sealed".into(),
                outcome: Some(format!("user:{user}"))
            }
        );
        assert_eq!(store.forget_idempotency(Ts::new(t0 + time::Duration::seconds(1))).await.unwrap(), 1);
        assert_eq!(store.claim_idempotency(&claim("fifth", later)).await.unwrap(), ClaimOutcome::Claimed);
        db.cleanup().await;
    }
}
