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

/// Fills the SQLite database to its last page: big writes, then smaller ones, until none fits.
async fn fill_up(app: &TestApp) {
    let sqlite = app.db.sqlite.as_ref().unwrap();
    sqlite.limit_pages(Some(sqlite.page_count().await.unwrap())).await.unwrap();
    for size in [3_000, 300, 30] {
        for n in 0..2_000 {
            let mut e = marac_web::audit::system_event(&app.state, "test.fill", "");
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
        Arc::new(marac_web::clock::SystemClock),
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
