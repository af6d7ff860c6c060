//! What users and operators see when something fails underneath the pages, through the real
//! router on SQLite and PostgreSQL: a record sealed under a key this server lacks, a full disk,
//! a database that restarts or goes away, a request sent twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use marac_domain::Role;
use sqlx::Connection;
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
        let second = marac_app::crypto::SealingKey { id: 2, key: [9u8; 32] };
        let sealed = marac_app::crypto::seal(&second, "referral-form", b"{}").unwrap();
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

/// Fills the SQLite database to its last page: big writes, then smaller ones, until none fits.
async fn fill_up(app: &TestApp) {
    let sqlite = app.db.sqlite.as_ref().unwrap();
    sqlite.limit_pages(Some(sqlite.page_count().await.unwrap())).await.unwrap();
    for size in [3_000, 300, 30] {
        for n in 0..2_000 {
            let mut e = marac_app::audit::system_event(&app.state, "test.fill", "");
            e.detail = serde_json::json!({ "n": n, "filler": "x".repeat(size) }).to_string();
            if app.db.store.append_audit(e).await.is_err() {
                break;
            }
        }
    }
}

async fn readyz(app: &TestApp) -> (StatusCode, serde_json::Value) {
    let r = app.browser().get("/readyz").await;
    (r.status, serde_json::from_str(&r.body).unwrap_or_default())
}

#[tokio::test]
async fn a_full_disk_is_a_503_that_keeps_what_was_typed_and_writes_work_again_without_a_restart() {
    let app = TestApp::new(marac_store::testing::TestDb::sqlite().await).await;
    marac_store::install_shipped_checklists(app.db.store.as_ref(), app.state.clock.now()).await.unwrap();
    let kim = app.user("kim@x.org", Role::Referrer, false).await;
    support::token_for(&app, kim, "marac_pat_kim").await;
    let b = app.signed_in("kim@x.org").await;
    b.get("/referrals").await;
    let r = b.post("/referrals/new", &[]).await;
    let id: i64 = r.location().trim_start_matches("/referrals/").parse().unwrap();
    let page = format!("/referrals/{id}/summary");
    b.get(&page).await;
    assert_eq!(readyz(&app).await.0, StatusCode::OK);

    fill_up(&app).await;
    // Several pages of text: a write that needs room the database no longer has.
    let summary = format!("She says he followed her home from work. {}", "Details of the incident. ".repeat(180));
    let typed = [("summary.text", summary.as_str())];
    for attempt in 0..2 {
        let r = b.post(&page, &typed).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "attempt {attempt}: {}", r.body);
        assert_eq!(r.header("retry-after"), "30");
        assert!(r.body.contains("The service cannot save right now"), "{}", r.body);
        assert!(r.body.contains("Nothing you typed is lost"), "{}", r.body);
        // What was typed is on the page, in a form that sends it again to the same place.
        assert!(r.body.contains(&format!("action=\"/referrals/{id}/summary\"")), "{}", r.body);
        assert!(r.body.contains("name=\"summary.text\" value=\"She says he followed her home"), "{}", r.body);
        assert!(r.body.contains("<dd class=\"govuk-summary-list__value app-pre\">She says"), "{}", r.body);
    }
    let (status, ready) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(ready["reason"], "database not taking writes");

    // The API says the same, as a problem with Retry-After.
    let body = support::referral_json(app.marac_id, "Ann", "Bell", "3/4/1990", 15, "2026-11-20");
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/referrals")
        .header("authorization", "Bearer marac_pat_kim")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let r = app.browser().send(req).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.header("content-type"), "application/problem+json");
    assert_eq!(r.header("retry-after"), "30");

    // Space is back: the page's "Try again" saves it, and the service is ready again.
    app.db.sqlite.as_ref().unwrap().limit_pages(None).await.unwrap();
    let r = b.post(&page, &typed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(b.get(&page).await.body.contains("She says he followed her home"));
    assert_eq!(readyz(&app).await.0, StatusCode::OK);
    let (n,): (String,) =
        sqlx::query_as("PRAGMA integrity_check").fetch_one(app.db.sqlite.as_ref().unwrap().pool()).await.unwrap();
    assert_eq!(n, "ok");
    app.cleanup().await;
}

#[tokio::test]
async fn readiness_comes_back_on_its_own_once_a_write_succeeds() {
    let app = TestApp::new(marac_store::testing::TestDb::sqlite().await).await;
    app.user("kim@x.org", Role::Referrer, false).await;
    let b = app.signed_in("kim@x.org").await;
    b.get("/referrals").await;
    let r = b.post("/referrals/new", &[]).await;
    let page = format!("{}/summary", r.location());
    b.get(&page).await;
    fill_up(&app).await;
    let summary = "Details of the incident. ".repeat(180);
    assert_eq!(b.post(&page, &[("summary.text", &summary)]).await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(readyz(&app).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(readyz(&app).await.0, StatusCode::SERVICE_UNAVAILABLE, "still full");
    app.db.sqlite.as_ref().unwrap().limit_pages(None).await.unwrap();
    // No one has written yet: the readiness check's own write finds the room.
    assert_eq!(readyz(&app).await.0, StatusCode::OK);
    app.cleanup().await;
}

#[tokio::test]
async fn a_read_whose_connection_broke_is_tried_once_more_and_a_write_is_not() {
    use axum::routing::get;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let app = TestApp::new(marac_store::testing::TestDb::sqlite().await).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let handler = move || {
        let calls = counted.clone();
        async move {
            if calls.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
                Err(marac_web::error::AppError::from(marac_store::StoreError::ConnectionLost("reset".into())))
            } else {
                Ok("fine")
            }
        }
    };
    let router = axum::Router::new()
        .route("/x", get(handler.clone()).post(handler))
        .layer(axum::middleware::from_fn_with_state(app.state.clone(), marac_web::faults::guard))
        .with_state(app.state.clone());
    let send = |method: &str| {
        let req = axum::http::Request::builder().method(method).uri("/x").body(axum::body::Body::empty()).unwrap();
        tower::ServiceExt::oneshot(router.clone(), req)
    };
    let r = send("GET").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "tried once more");
    let r = send("POST").await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "5");
    assert_eq!(calls.load(Ordering::SeqCst), 3, "a write is never sent twice by the server");
    app.cleanup().await;
}

/// A TCP relay to PostgreSQL that can be cut, as if the database server went away, and put
/// back on the same port.
struct Relay {
    port: u16,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut stop = watch.clone();
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((mut client, _)) = accepted else { break };
                        let mut stop = watch.clone();
                        tokio::spawn(async move {
                            let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await else { return };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                                _ = stop.changed() => {}
                            }
                        });
                    }
                }
            }
        });
        Relay { port, cut }
    }

    fn cut(&self) {
        let _ = self.cut.send(true);
    }
}

#[tokio::test]
async fn postgresql_going_away_gives_quick_503s_and_the_service_comes_back_by_itself() {
    let Some(db) = marac_store::testing::TestDb::postgres().await else { return };
    let app = TestApp::new(db).await;
    let kim = app.user("kim@x.org", Role::Referrer, false).await;
    support::token_for(&app, kim, "marac_pat_kim").await;
    let relay = Relay::start(0).await;
    let url = app.db.url.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", relay.port));
    assert_ne!(url, app.db.url, "the test database is reached through the relay");
    let mut options = marac_store::ConnectOptions::new(&url, marac_store::testing::TEST_AUDIT_KEY.to_vec());
    options.max_connections = 4;
    let store = marac_store::connect(&options).await.unwrap();
    let state = marac_web::AppState::new(
        store,
        (*app.state.config).clone(),
        support::KEYS,
        Arc::new(marac_app::clock::SystemClock),
    );
    let router = marac_web::router(state);
    let get = |path: &'static str| {
        let req = axum::http::Request::builder()
            .uri(path)
            .header("authorization", "Bearer marac_pat_kim")
            .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 4000))))
            .body(axum::body::Body::empty())
            .unwrap();
        let router = router.clone();
        async move {
            let started = std::time::Instant::now();
            let r = tower::ServiceExt::oneshot(router, req).await.unwrap();
            (r.status(), r.headers().get("retry-after").cloned(), started.elapsed())
        }
    };
    assert_eq!(get("/readyz").await.0, StatusCode::OK);
    assert_eq!(get("/api/v1/maracs").await.0, StatusCode::OK);

    relay.cut();
    let (status, _, took) = get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(took < std::time::Duration::from_millis(1_500), "readyz took {took:?}");
    let (status, retry_after, took) = get("/api/v1/maracs").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after.unwrap(), "5");
    assert!(took < std::time::Duration::from_millis(3_500), "a request waited {took:?}");

    // The database is back: so is the service, without a restart.
    let _relay = Relay::start(relay.port).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while get("/readyz").await.0 != StatusCode::OK {
        assert!(std::time::Instant::now() < deadline, "not ready again");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(get("/api/v1/maracs").await.0, StatusCode::OK);
    app.cleanup().await;
}

#[tokio::test]
async fn connections_ended_by_the_administrator_mid_request_are_never_a_500() {
    use std::collections::BTreeMap;
    let Some(db) = marac_store::testing::TestDb::postgres().await else { return };
    let app = TestApp::new(db).await;
    marac_store::install_shipped_checklists(app.db.store.as_ref(), app.state.clock.now()).await.unwrap();
    let kim = app.user("kim@x.org", Role::Referrer, false).await;
    support::token_for(&app, kim, "marac_pat_kim").await;
    // This server's own connections, named so that only they are ended.
    let name = format!("marac_fault_{}", std::process::id());
    let url = format!("{}&application_name={name}", app.db.url);
    let store =
        marac_store::connect(&marac_store::ConnectOptions::new(&url, marac_store::testing::TEST_AUDIT_KEY.to_vec()))
            .await
            .unwrap();
    let state = marac_web::AppState::new(store, (*app.state.config).clone(), support::KEYS, app.state.clock.clone());
    let router = marac_web::router(state);

    let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let terminator = tokio::spawn(async move {
        let mut admin = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/postgres").await.unwrap();
        let mut ended = 0;
        while std::time::Instant::now() < until {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t",
            )
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
            ended += n;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        ended
    });
    let clients: Vec<_> = (0..6)
        .map(|i| {
            let router = router.clone();
            tokio::spawn(async move {
                let mut statuses = BTreeMap::<u16, u32>::new();
                while std::time::Instant::now() < until {
                    let path = if i % 2 == 0 { "/api/v1/checklists" } else { "/api/v1/maracs" };
                    let req = axum::http::Request::builder()
                        .uri(path)
                        .header("authorization", "Bearer marac_pat_kim")
                        .body(axum::body::Body::empty())
                        .unwrap();
                    let r = tower::ServiceExt::oneshot(router.clone(), req).await.unwrap();
                    *statuses.entry(r.status().as_u16()).or_default() += 1;
                }
                statuses
            })
        })
        .collect();
    let mut statuses = BTreeMap::<u16, u32>::new();
    for c in clients {
        for (status, n) in c.await.unwrap() {
            *statuses.entry(status).or_default() += n;
        }
    }
    let ended = terminator.await.unwrap();
    eprintln!("{ended} connections ended; responses by status: {statuses:?}");
    assert!(ended > 10, "the administrator ended connections: {ended}");
    // Reads whose connection was ended are tried once more; only a second loss is a 503.
    assert!(statuses.keys().all(|s| [200, 503].contains(s)), "{statuses:?}");
    assert!(statuses.get(&200).copied().unwrap_or(0) > 0, "{statuses:?}");
    app.cleanup().await;
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    if let Some(s) = &app.db.sqlite {
        return sqlx::query_as::<_, (i64,)>(sql).fetch_one(s.pool()).await.unwrap().0;
    }
    sqlx::query_as::<_, (i64,)>(sql).fetch_one(app.db.postgres.as_ref().unwrap().pool()).await.unwrap().0
}

async fn api_post_keyed(app: &TestApp, token: &str, key: Option<&str>, body: &serde_json::Value) -> support::Page {
    let mut req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/referrals")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    app.browser().send(req.body(axum::body::Body::from(body.to_string())).unwrap()).await
}

#[tokio::test]
async fn an_api_submission_sent_again_with_its_key_makes_one_referral() {
    each_backend!(|app| {
        marac_store::install_shipped_checklists(app.db.store.as_ref(), app.state.clock.now()).await.unwrap();
        let kim = app.user("kim@x.org", Role::Referrer, false).await;
        support::token_for(&app, kim, "marac_pat_kim").await;
        let lee = app.user("lee@x.org", Role::Referrer, false).await;
        support::token_for(&app, lee, "marac_pat_lee").await;
        let body = support::referral_json(app.marac_id, "Ann", "Bell", "3/4/1990", 15, "2026-11-20");
        let referrals = "SELECT COUNT(*) FROM referrals";

        let first = api_post_keyed(&app, "marac_pat_kim", Some("\"k-1\""), &body).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        assert_eq!(first.header("idempotent-replayed"), "");
        // Sent again: the first response, and nothing new.
        let again = api_post_keyed(&app, "marac_pat_kim", Some("k-1"), &body).await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("idempotent-replayed"), "true");
        assert_eq!(again.header("content-type"), "application/json");
        assert_eq!(count(&app, referrals).await, 1);
        let replays = app
            .db
            .store
            .list_audit(&marac_store::AuditFilter {
                action_prefix: Some("request.replayed".into()),
                limit: 10,
                ..marac_store::AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(replays.len(), 1, "sending a response again is recorded like any read");
        assert!(replays[0].event.target.starts_with("referral:"));

        // The same key with another body is refused; another user's same key is their own.
        let mut other = body.clone();
        other["summary"]["text"] = "Something else entirely.".into();
        let r = api_post_keyed(&app, "marac_pat_kim", Some("k-1"), &other).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("idempotency-key-reused"), "{}", r.body);
        assert_eq!(api_post_keyed(&app, "marac_pat_lee", Some("k-1"), &body).await.status, StatusCode::CREATED);
        assert_eq!(count(&app, referrals).await, 2);
        // A key that cannot be read is refused before anything is done.
        let r = api_post_keyed(&app, "marac_pat_kim", Some("two words"), &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        // Refusals are answers too: the same bad request gets the same 422, and saves nothing.
        let mut bad = body.clone();
        bad["victim"]["given_name"] = "".into();
        let r1 = api_post_keyed(&app, "marac_pat_kim", Some("k-bad"), &bad).await;
        let r2 = api_post_keyed(&app, "marac_pat_kim", Some("k-bad"), &bad).await;
        assert_eq!((r1.status, r2.status), (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(r1.body, r2.body);
        assert_eq!(count(&app, referrals).await, 2);

        // Sent twice at once: one referral; the other sending is told to wait, or gets the answer.
        let (a, b) = tokio::join!(
            api_post_keyed(&app, "marac_pat_kim", Some("k-2"), &body),
            api_post_keyed(&app, "marac_pat_kim", Some("k-2"), &body)
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert!(statuses == [201, 201] || statuses == [201, 409], "{statuses:?} {} {}", a.body, b.body);
        assert_eq!(count(&app, referrals).await, 3);

        // Keys live a day: after that the worker forgets them, and the key is new again.
        app.clock.advance(time::Duration::hours(25));
        let round =
            marac_app::worker::Worker::new(app.state.app.clone(), None, "http://localhost").round().await.unwrap();
        assert!(round.keys_forgotten >= 3, "{round:?}");
        assert_eq!(api_post_keyed(&app, "marac_pat_kim", Some("k-1"), &body).await.status, StatusCode::CREATED);
        assert_eq!(count(&app, referrals).await, 4);

        // Without a key, every sending is a new referral, as before.
        assert_eq!(api_post_keyed(&app, "marac_pat_kim", None, &body).await.status, StatusCode::CREATED);
        assert_eq!(count(&app, referrals).await, 5);
    });
}

#[tokio::test]
async fn a_retry_after_the_server_died_makes_nothing_new_whether_or_not_the_first_was_saved() {
    each_backend!(|app| {
        marac_store::install_shipped_checklists(app.db.store.as_ref(), app.state.clock.now()).await.unwrap();
        let kim = app.user("kim@x.org", Role::Referrer, false).await;
        support::token_for(&app, kim, "marac_pat_kim").await;
        let body = support::referral_json(app.marac_id, "Ann", "Bell", "3/4/1990", 15, "2026-11-20");
        let referrals = "SELECT COUNT(*) FROM referrals";

        // Saved, then the server died before answering: its answer was never kept.
        let first = api_post_keyed(&app, "marac_pat_kim", Some("k-died"), &body).await;
        assert_eq!(first.status, StatusCode::CREATED);
        let reference =
            serde_json::from_str::<serde_json::Value>(&first.body).unwrap()["reference"].as_str().unwrap().to_owned();
        let forget_answer =
            "UPDATE idempotency_keys SET status = NULL, response_sealed = NULL, lease_until = $1 WHERE 1 = $2";
        let later = marac_store::Ts::new(app.state.clock.now() + time::Duration::seconds(30));
        execute_at(&app, forget_answer, later, 1).await;
        // While its lease runs, the retry is told the first is still being processed.
        let r = api_post_keyed(&app, "marac_pat_kim", Some("k-died"), &body).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert_eq!(r.header("retry-after"), "1");
        // After it, the retry is sent to what the first made, and nothing new is made.
        app.clock.advance(time::Duration::seconds(61));
        let r = api_post_keyed(&app, "marac_pat_kim", Some("k-died"), &body).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), format!("/api/v1/referrals/{reference}"));
        assert_eq!(count(&app, referrals).await, 1);

        // Died before saving anything: after the lease the retry does the work, once.
        let dead = marac_store::IdempotencyClaim {
            scope: marac_domain::idempotency::scope(marac_domain::idempotency::KeyKind::Api, kim, "k-lost"),
            user_id: kim,
            fingerprint: marac_domain::idempotency::fingerprint(
                "POST",
                "/api/v1/referrals",
                body.to_string().as_bytes(),
            ),
            request_id: "the dead server's request".into(),
            now: marac_store::Ts::new(app.state.clock.now()),
            lease_until: marac_store::Ts::new(app.state.clock.now() + time::Duration::seconds(60)),
            forget_before: marac_store::Ts::new(app.state.clock.now() - time::Duration::hours(24)),
        };
        assert_eq!(app.db.store.claim_idempotency(&dead).await.unwrap(), marac_store::ClaimOutcome::Claimed);
        app.clock.advance(time::Duration::seconds(61));
        let r = api_post_keyed(&app, "marac_pat_kim", Some("k-lost"), &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(count(&app, referrals).await, 2);
    });
}

/// Runs one statement with a time and a number past the store.
async fn execute_at(app: &TestApp, sql: &str, at: marac_store::Ts, n: i64) {
    if let Some(s) = &app.db.sqlite {
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).bind(n).execute(s.pool()).await.unwrap();
    } else {
        let p = app.db.postgres.as_ref().unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).bind(n).execute(p.pool()).await.unwrap();
    }
}

#[tokio::test]
async fn a_form_sent_twice_saves_once_and_goes_where_the_first_went() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        app.user("cha@x.org", Role::Chair, false).await;
        app.user("rep@x.org", Role::AgencyRep, false).await;
        let kim = app.signed_in("kim@x.org").await;

        // Starting a referral: a double click, then back and send again.
        let list = kim.get("/referrals").await;
        let once = support::once_token(&list.body, "/referrals/new");
        let start = [("_once", once.as_str())];
        let (a, b) = tokio::join!(kim.post("/referrals/new", &start), kim.post("/referrals/new", &start));
        assert_eq!((a.status, b.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER), "{} {}", a.body, b.body);
        assert_eq!(a.location(), b.location());
        let again = kim.post("/referrals/new", &[("_once", &once)]).await;
        assert_eq!(again.location(), a.location());
        assert_eq!(count(&app, "SELECT COUNT(*) FROM referrals").await, 1);
        // A new page is a new token: a second referral is a deliberate one.
        let list = kim.get("/referrals").await;
        let r = kim.post("/referrals/new", &[("_once", &support::once_token(&list.body, "/referrals/new"))]).await;
        assert_ne!(r.location(), a.location());
        assert_eq!(count(&app, "SELECT COUNT(*) FROM referrals").await, 2);

        // Submitting: sent twice, one submission, and both go to its result.
        let id: i64 = a.location().trim_start_matches("/referrals/").parse().unwrap();
        for section in marac_domain::referral_form::Section::ALL {
            let page = format!("/referrals/{id}/{}", section.slug());
            kim.get(&page).await;
            let prefix = format!("{}.", section.prefix());
            let fields = support::referral_fields(app.marac_id, "Jess", "Hale", "3/4/1990", 15);
            let mine: Vec<(&str, &str)> =
                fields.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(kim.post(&page, &mine).await.status, StatusCode::SEE_OTHER);
        }
        let check = format!("/referrals/{id}/check");
        let once = support::once_token(&kim.get(&check).await.body, &check);
        let first = kim.post(&check, &[("_once", &once)]).await;
        let second = kim.post(&check, &[("_once", &once)]).await;
        assert_eq!(first.location(), format!("/referrals/{id}/submitted"), "{}", first.body);
        assert_eq!(second.location(), first.location(), "{}", second.body);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM referrals WHERE status = 'submitted'").await, 1);

        // The coordinator accepts; the case is listed; the chair adds an action, twice.
        let cora = app.signed_in("cora@x.org").await;
        cora.get(&format!("/referrals/{id}")).await;
        assert_eq!(
            cora.post(&format!("/referrals/{id}/decision"), &[("decision", "accept")]).await.status,
            StatusCode::SEE_OTHER
        );
        let case_id = s.get_referral(id).await.unwrap().case_id.unwrap();
        let meeting = support::list_on_published_meeting(&app, case_id, id, &[app.agency_id]).await;
        s.add_statement(app.marac_id, "Confidential.", None, marac_store::Ts::new(app.state.clock.now()), {
            marac_app::audit::system_event(&app.state, "test.seed", "")
        })
        .await
        .unwrap();
        let cha = app.signed_in("cha@x.org").await;
        cha.get(&format!("/meetings/{meeting}")).await;
        cha.post(&format!("/meetings/{meeting}/confirm"), &[("agree", "yes")]).await;
        let case_page = format!("/meetings/{meeting}/cases/{case_id}");
        let actions = format!("{case_page}/actions");
        let page = cha.get(&case_page).await;
        let once = support::once_token(&page.body, &actions);
        let agency = app.agency_id.to_string();
        let due = "14/12/2026";
        let action = [
            ("_once", once.as_str()),
            ("agency", agency.as_str()),
            ("owner", "PC Shah"),
            ("subject", "victim"),
            ("description", "Fit a doorbell camera"),
            ("due", due),
        ];
        // The first sending has a mistake: nothing is saved, and the token is not spent.
        let wrong = cha.post(&actions, &action[..5]).await;
        assert_eq!(wrong.status, StatusCode::OK, "{}", wrong.body);
        let (a, b) = tokio::join!(cha.post(&actions, &action), cha.post(&actions, &action));
        assert_eq!((a.status, b.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER), "{} {}", a.body, b.body);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM actions").await, 1);

        // A representative's research note, sent twice.
        let rep = app.signed_in("rep@x.org").await;
        support::confirm_statement(&app, &rep, app.marac_id).await;
        let case = format!("/cases/{case_id}");
        let notes = format!("{case}/notes");
        let once = support::once_token(&rep.get(&case).await.body, &notes);
        let note = [("_once", once.as_str()), ("kind", "fact"), ("body", "Two call-outs in October.")];
        assert_eq!(rep.post(&notes, &note).await.status, StatusCode::SEE_OTHER);
        assert_eq!(rep.post(&notes, &note).await.status, StatusCode::SEE_OTHER);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM research_notes").await, 1);
        // A token is its user's: sent by someone else (here the referrer, whose agency may add
        // notes too), it is theirs to use and replays nothing of the first user's.
        support::confirm_statement(&app, &kim, app.marac_id).await;
        kim.get(&case).await;
        let r = kim.post(&notes, &note).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM research_notes").await, 2);
    });
}

#[tokio::test]
async fn a_request_that_failed_after_saving_is_never_answered_with_its_failure_again() {
    use axum::routing::post;
    each_backend!(|app| {
        let kim = app.user("kim@x.org", Role::Referrer, false).await;
        support::token_for(&app, kim, "marac_pat_kim").await;
        // Saves a change under the request's key, then fails as a lost connection would.
        let state = app.state.clone();
        let handler = move |axum::Extension(mark): axum::Extension<marac_domain::idempotency::IdempotencyMark>| {
            let state = state.clone();
            async move {
                let mut event = marac_app::audit::system_event(&state, "user.disable", &format!("user:{kim}"));
                event.idempotency = Some(mark);
                state.store.set_user_disabled(kim, false, event).await.unwrap();
                marac_web::api::problem::Problem::unavailable(marac_web::faults::DatabaseFault::ConnectionLost)
            }
        };
        let router = axum::Router::new()
            .route("/x", post(handler))
            .layer(axum::middleware::from_fn_with_state(app.state.clone(), marac_web::idempotency::api))
            .with_state(app.state.clone());
        let send = || {
            let req = axum::http::Request::builder()
                .method("POST")
                .uri("/x")
                .header("authorization", "Bearer marac_pat_kim")
                .header("idempotency-key", "k")
                .body(axum::body::Body::from("{}"))
                .unwrap();
            tower::ServiceExt::oneshot(router.clone(), req)
        };
        assert_eq!(send().await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
        // Sent again at once: not the 503 again, and not the change again, but "saved".
        let r = send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert!(r.headers().get("idempotent-replayed").is_none());
        let body = http_body_util::BodyExt::collect(r.into_body()).await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("idempotency-key-saved"));
        let changes = count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'user.disable'").await;
        assert_eq!(changes, 1);
    });
}
