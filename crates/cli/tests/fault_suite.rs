//! The fault suite: the built `marac serve` run the way a failing machine runs it, on SQLite and
//! PostgreSQL, with eight clients submitting referrals through the API as a well-behaved
//! integration does (an `Idempotency-Key` per referral, sent again after a lost connection,
//! a 503 or a 409 until acknowledged). Every acknowledged referral must be read back, none
//! saved twice, and no response may be a 500.
//!
//! - `kill -9` of the server in the middle of the load, then a restart: seconds to recover, and
//!   after each run the database's integrity check and `marac audit verify`;
//! - PostgreSQL ending the server's connections (`pg_terminate_backend`, error 57P01) under load;
//! - the disk full under load (SQLite: `ENOSPC` injected into the server's writes with strace),
//!   and writes working again once it is not;
//! - connections that send their headers slowly, more of them than the server's file limit;
//! - SIGTERM with a half-sent request open.
//!
//! The tests are ignored by `cargo test`; `scripts/faults` (run by `scripts/test`) runs them one
//! at a time and prints the table, which `docs/reliability.md` records. Every wait is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use marac_domain::Role;
use marac_domain::policy::Grant;
use marac_store::NewUser;
use marac_store::testing::{TEST_AUDIT_KEY, TestDb};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "marac_pat_fault_suite";
const CLIENTS: usize = 8;
/// Responses that are part of the contract under faults; anything else is a finding.
const EXPECTED: [u16; 6] = [200, 201, 303, 409, 503, 0];

// ---------------------------------------------------------------- the installation under test

struct Installation {
    db: TestDb,
    dir: tempfile::TempDir,
    marac_id: i64,
    keys: Vec<(&'static str, String)>,
    url: String,
}

fn random_hex() -> String {
    let mut k = [0u8; 32];
    getrandom::fill(&mut k).unwrap();
    hex::encode(k)
}

async fn installation(db: TestDb) -> Installation {
    let s = db.store.as_ref();
    let event = || marac_store::testing::event("test.seed");
    let marac_store::testing::Organisation { marac_id, agency_id: agency, .. } =
        marac_store::testing::seed_organisation(s, "FS").await;
    let user = s
        .create_user(
            &NewUser {
                email: "integration@faults.example".into(),
                name: "Integration".into(),
                agency_id: Some(agency),
                password_hash: "not used".into(),
                is_demo: false,
                grants: vec![Grant { role: Role::Referrer, marac_id: Some(marac_id) }],
            },
            event(),
        )
        .await
        .unwrap();
    s.create_api_token(user, "fault suite", &marac_app::crypto::token_hash(TOKEN), event()).await.unwrap();
    let keys = vec![
        ("MARAC_AUDIT_KEY", hex::encode(TEST_AUDIT_KEY)),
        ("MARAC_ENCRYPTION_KEY", random_hex()),
        ("MARAC_SESSION_KEY", random_hex()),
    ];
    let url = db.url.clone();
    Installation { db, dir: tempfile::tempdir().unwrap(), marac_id, keys, url }
}

impl Installation {
    fn command(&self, args: &[&str]) -> Command {
        self.wrapped(&[], args)
    }

    /// `marac ARGS` with this installation's settings, run by `wrap` (e.g. `prlimit ...`) if given.
    fn wrapped(&self, wrap: &[&str], args: &[&str]) -> Command {
        let marac = env!("CARGO_BIN_EXE_marac");
        let mut c = match wrap.split_first() {
            None => Command::new(marac),
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(marac);
                c
            }
        };
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("MARAC_DATABASE_URL", &self.url)
            .env("MARAC_DATA_DIR", self.dir.path())
            .env("MARAC_WORKER_SECONDS", "3600")
            .env("MARAC_LOG", "warn")
            .current_dir(self.dir.path());
        for (k, v) in &self.keys {
            c.env(k, v);
        }
        c
    }

    fn log(&self, port: u16) -> PathBuf {
        self.dir.path().join(format!("serve-{port}.log"))
    }

    /// `marac serve` on `port`, optionally run by `wrap`.
    fn serve(&self, port: u16, wrap: &[&str]) -> Child {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(self.log(port)).unwrap();
        self.wrapped(wrap, &["serve"])
            .env("MARAC_BIND", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap()
    }

    /// The database's own check, and the audit trail's.
    async fn check_integrity(&self) -> (bool, bool) {
        let integrity = match &self.db.sqlite {
            Some(s) => {
                let (r,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(s.pool()).await.unwrap();
                r == "ok"
            }
            None => true,
        };
        let o = self.command(&["audit", "verify"]).output().unwrap();
        let verified = o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Audit trail intact");
        (integrity, verified)
    }
}

async fn scalar(db: &TestDb, sql: &'static str) -> i64 {
    if let Some(s) = &db.sqlite {
        return sqlx::query_as::<_, (i64,)>(sql).fetch_one(s.pool()).await.unwrap().0;
    }
    sqlx::query_as::<_, (i64,)>(sql).fetch_one(db.postgres.as_ref().unwrap().pool()).await.unwrap().0
}

fn admin_url() -> String {
    std::env::var("MARAC_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// ---------------------------------------------------------------- a small HTTP client

/// One request on its own connection; `Err` when the connection failed (refused, reset).
async fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut s = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(("127.0.0.1", port))).await??;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out)).await??;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no status line"))?;
    Ok((status, text))
}

async fn ready(port: u16) -> bool {
    matches!(http(port, "GET", "/readyz", &[], b"").await, Ok((200, _)))
}

/// Waits for the server on `port` to say it is ready; how long that took.
async fn wait_ready(port: u16, limit: Duration) -> Duration {
    let started = Instant::now();
    while !ready(port).await {
        assert!(started.elapsed() < limit, "the server on {port} was not ready within {limit:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    started.elapsed()
}

// ---------------------------------------------------------------- clients and what they saw

#[derive(Default)]
struct Tally {
    /// Idempotency key → the reference acknowledged for it.
    acknowledged: BTreeMap<String, String>,
    /// Keys given up on before they were acknowledged, with the last status seen.
    unfinished: BTreeMap<String, u16>,
    /// Responses by status; 0 is a connection that failed.
    statuses: BTreeMap<u16, u32>,
    /// Longest time from a referral's first sending to its acknowledgement.
    longest_wait: Duration,
}

fn referral_body(marac_id: i64, n: usize) -> Vec<u8> {
    let names = ["Alex", "Billie", "Casey", "Dana", "Eden", "Frankie", "Gale", "Harper", "Indy", "Jo"];
    let dash = marac_domain::checklist::Checklist::parse(marac_domain::checklist::SHIPPED[0]).unwrap();
    let answers: serde_json::Map<String, serde_json::Value> =
        dash.questions().enumerate().map(|(i, q)| (q.id.clone(), (if i < 15 { "yes" } else { "no" }).into())).collect();
    let incident = time::OffsetDateTime::now_utc().date() - time::Duration::days(2);
    serde_json::json!({
        "referral": { "marac": marac_id, "incident_date": incident.to_string() },
        "victim": { "given_name": names[n % names.len()], "family_name": format!("Fault{n}"),
                    "date_of_birth": format!("1990-{:02}-{:02}", n % 12 + 1, n % 28 + 1), "gender": "female",
                    "ethnicity": "white_british", "disability": "no", "lgbt": "no", "pregnant": "no", "interpreter": "no" },
        "perpetrators": [{ "given_name": "Sam", "family_name": format!("Fault{n}"), "gender": "male", "relationship": "ex_partner" }],
        "children": { "any": "no" },
        "checklist": { "version": "safelives-dash@2026.1", "answer": answers },
        "reason": { "professional_judgement": "no" },
        "consent": { "given": "yes", "victim_knows": "yes", "previous_maracs": "no" },
        "summary": { "text": format!("Fault suite referral {n}.") }
    })
    .to_string()
    .into_bytes()
}

/// A client: new referrals until `new_until`, each sent again (same key) after a failure until
/// acknowledged or `give_up_at` passes.
async fn client(
    id: usize,
    port: Arc<std::sync::atomic::AtomicU16>,
    marac_id: i64,
    run: &'static str,
    new_until: Instant,
    give_up_at: Instant,
    tally: Arc<Mutex<Tally>>,
) {
    let auth = format!("Bearer {TOKEN}");
    let mut n = 0;
    while Instant::now() < new_until {
        n += 1;
        let key = format!("{run}-{id}-{n}");
        let body = referral_body(marac_id, id * 10_000 + n);
        let first_sent = Instant::now();
        loop {
            let p = port.load(std::sync::atomic::Ordering::Relaxed);
            let headers = [
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
                ("Idempotency-Key", key.as_str()),
            ];
            let answer = http(p, "POST", "/api/v1/referrals", &headers, &body).await;
            let status = answer.as_ref().map_or(0, |(s, _)| *s);
            *tally.lock().unwrap().statuses.entry(status).or_default() += 1;
            let reference = match (&answer, status) {
                (Ok((_, text)), 201) => {
                    text.split("\"reference\":\"").nth(1).and_then(|r| r.split('"').next()).map(str::to_owned)
                }
                (Ok((_, text)), 303) => text
                    .lines()
                    .find_map(|l| l.strip_prefix("location: /api/v1/referrals/"))
                    .map(|r| r.trim().to_owned()),
                _ => None,
            };
            if let Some(reference) = reference {
                let mut t = tally.lock().unwrap();
                t.acknowledged.insert(key, reference);
                t.longest_wait = t.longest_wait.max(first_sent.elapsed());
                break;
            }
            if Instant::now() > give_up_at || !(status == 0 || status == 409 || status == 503) {
                tally.lock().unwrap().unfinished.insert(key, status);
                break;
            }
            // Retry-After says 1 to 30 seconds; the suite's client tries sooner, to keep it short.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn start_clients(
    port: &Arc<std::sync::atomic::AtomicU16>,
    marac_id: i64,
    run: &'static str,
    load_for: Duration,
    tally: &Arc<Mutex<Tally>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let new_until = Instant::now() + load_for;
    let give_up_at = new_until + Duration::from_secs(30);
    (0..CLIENTS)
        .map(|id| tokio::spawn(client(id, port.clone(), marac_id, run, new_until, give_up_at, tally.clone())))
        .collect()
}

/// One line of the table.
struct Row {
    scenario: &'static str,
    database: &'static str,
    runs: u32,
    acknowledged: usize,
    lost: usize,
    duplicated: i64,
    statuses: BTreeMap<u16, u32>,
    recover: Vec<Duration>,
    checks: String,
    /// The server's first error lines, shown when the row fails.
    errors: Vec<String>,
}

impl Row {
    fn print(&self) {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| if *s == 0 { format!("conn {n}") } else { format!("{s}: {n}") })
            .collect();
        let recover = if self.recover.is_empty() {
            "-".to_owned()
        } else {
            let max = self.recover.iter().max().unwrap();
            let mean = self.recover.iter().sum::<Duration>() / u32::try_from(self.recover.len()).unwrap();
            format!("{:.2} / {:.2}", mean.as_secs_f64(), max.as_secs_f64())
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            self.scenario,
            self.database,
            self.runs,
            self.acknowledged,
            self.lost,
            self.duplicated,
            statuses.join(", "),
            recover,
            self.checks
        );
    }

    fn assert_clean(&self) {
        let clean = self.lost == 0
            && self.duplicated == 0
            && self.statuses.keys().all(|s| EXPECTED.contains(s))
            && !self.checks.contains("FAILED");
        if !clean {
            for line in &self.errors {
                eprintln!("{} on {}: {line}", self.scenario, self.database);
            }
        }
        assert_eq!(self.lost, 0, "{}: acknowledged referrals lost", self.scenario);
        assert_eq!(self.duplicated, 0, "{}: referrals saved twice", self.scenario);
        assert!(
            self.statuses.keys().all(|s| EXPECTED.contains(s)),
            "{}: unexpected responses {:?}",
            self.scenario,
            self.statuses
        );
        assert!(!self.checks.contains("FAILED"), "{}: {}", self.scenario, self.checks);
    }
}

fn header() {
    println!(
        "\n| scenario | database | runs | acknowledged | lost | saved twice | responses | seconds to recover (mean / max) | checks |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
}

/// Every acknowledged referral read back, and referrals saved twice: each referral the clients
/// made is the recorded outcome of one key, so a referral no key names was made by a second
/// sending.
async fn settle(inst: &Installation, tally: &Tally) -> (usize, i64) {
    let mut lost = 0;
    for reference in tally.acknowledged.values().filter(|r| !r.is_empty()) {
        if inst.db.store.find_referral_by_reference(reference).await.unwrap().is_none() {
            lost += 1;
        }
    }
    let twice = scalar(
        &inst.db,
        "SELECT COUNT(*) FROM referrals r WHERE NOT EXISTS \
         (SELECT 1 FROM idempotency_keys k WHERE k.outcome = 'referral:' || r.id)",
    )
    .await;
    (lost, twice)
}

/// What a load ended with: the clients' tally, checked against the database.
struct Outcome {
    tally: Tally,
    lost: usize,
    duplicated: i64,
    integrity: bool,
    audit: bool,
}

/// Waits for the clients, stops the server, and checks what the clients were told against the
/// database and the audit trail.
async fn finish(
    inst: &Installation,
    mut server: Child,
    clients: Vec<tokio::task::JoinHandle<()>>,
    tally: &Mutex<Tally>,
) -> Outcome {
    for c in clients {
        c.await.unwrap();
    }
    let _ = server.kill();
    let _ = server.wait();
    let (integrity, audit) = inst.check_integrity().await;
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let (lost, duplicated) = settle(inst, &tally).await;
    Outcome { tally, lost, duplicated, integrity, audit }
}

fn ok(passed: bool) -> &'static str {
    if passed { "ok" } else { "FAILED" }
}

/// The log's error lines, for a row that failed.
fn errors_logged(inst: &Installation, port: u16) -> Vec<String> {
    std::fs::read_to_string(inst.log(port))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("ERROR"))
        .take(5)
        .map(str::to_owned)
        .collect()
}

fn backend_name(db: &TestDb) -> &'static str {
    match db.backend {
        marac_store::Backend::Sqlite => "SQLite",
        marac_store::Backend::Postgres => "PostgreSQL",
    }
}

// ---------------------------------------------------------------- the scenarios

const RUNS: [&str; 5] = ["k1", "k2", "k3", "k4", "k5"];

async fn kill_nine(db: TestDb) -> Row {
    let database = backend_name(&db);
    let inst = installation(db).await;
    let port = free_port();
    let shared_port = Arc::new(std::sync::atomic::AtomicU16::new(port));
    let mut server = inst.serve(port, &[]);
    wait_ready(port, Duration::from_secs(60)).await;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut recover = Vec::new();
    let mut checks = Vec::new();
    for (i, run) in RUNS.iter().enumerate() {
        let clients = start_clients(&shared_port, inst.marac_id, run, Duration::from_millis(2_500), &tally);
        // Killed at a different moment of the load each time.
        tokio::time::sleep(Duration::from_millis(700 + 230 * u64::try_from(i).unwrap())).await;
        server.kill().unwrap();
        server.wait().unwrap();
        let killed = Instant::now();
        let (integrity, audit) = inst.check_integrity().await;
        checks.push(integrity && audit);
        server = inst.serve(port, &[]);
        wait_ready(port, Duration::from_secs(60)).await;
        recover.push(killed.elapsed());
        for c in clients {
            c.await.unwrap();
        }
    }
    let o = finish(&inst, server, Vec::new(), &tally).await;
    let row = Row {
        scenario: "kill -9 under 8 clients, restart",
        database,
        runs: u32::try_from(RUNS.len()).unwrap(),
        acknowledged: o.tally.acknowledged.len(),
        lost: o.lost,
        duplicated: o.duplicated,
        statuses: o.tally.statuses.clone(),
        recover,
        checks: format!(
            "integrity and audit verify after each kill: {}; longest wait for an acknowledgement: {:.1} s; unfinished keys: {:?}",
            ok(checks.iter().all(|c| *c) && o.integrity && o.audit),
            o.tally.longest_wait.as_secs_f64(),
            o.tally.unfinished
        ),
        errors: errors_logged(&inst, port),
    };
    inst.db.cleanup().await;
    row
}

async fn terminated_connections(db: TestDb) -> Row {
    let mut inst = installation(db).await;
    let name = format!("marac_fault_suite_{}", std::process::id());
    inst.url = format!("{}&application_name={name}", inst.url);
    let port = free_port();
    let shared_port = Arc::new(std::sync::atomic::AtomicU16::new(port));
    let server = inst.serve(port, &[]);
    wait_ready(port, Duration::from_secs(60)).await;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let clients = start_clients(&shared_port, inst.marac_id, "pg", Duration::from_secs(4), &tally);
    let mut admin = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
    let until = Instant::now() + Duration::from_secs(4);
    let mut ended = 0;
    while Instant::now() < until {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t",
        )
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        ended += n;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let recovered = wait_ready(port, Duration::from_secs(30)).await;
    let o = finish(&inst, server, clients, &tally).await;
    let row = Row {
        scenario: "pg_terminate_backend every 250 ms for 4 s",
        database: "PostgreSQL",
        runs: 1,
        acknowledged: o.tally.acknowledged.len(),
        lost: o.lost,
        duplicated: o.duplicated,
        statuses: o.tally.statuses.clone(),
        recover: vec![recovered],
        checks: format!(
            "{ended} connections ended; audit verify: {}; longest wait for an acknowledgement: {:.1} s; unfinished keys: {:?}",
            ok(o.audit),
            o.tally.longest_wait.as_secs_f64(),
            o.tally.unfinished
        ),
        errors: errors_logged(&inst, port),
    };
    inst.db.cleanup().await;
    row
}

/// The disk "full" for the server: its file writes fail with ENOSPC while strace is attached.
async fn full_disk(db: TestDb) -> Row {
    let database = backend_name(&db);
    let inst = installation(db).await;
    let port = free_port();
    let shared_port = Arc::new(std::sync::atomic::AtomicU16::new(port));
    let server = inst.serve(port, &[]);
    wait_ready(port, Duration::from_secs(60)).await;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let clients = start_clients(&shared_port, inst.marac_id, "full", Duration::from_secs(5), &tally);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let pid = server.id().to_string();
    let mut strace = Command::new("strace")
        .args(["-f", "-p", &pid, "-qq", "-o", "/dev/null", "-e", "trace=pwrite64,fsync,fdatasync"])
        .args(["-e", "inject=pwrite64,fsync,fdatasync:error=ENOSPC"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("strace runs");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = tally.lock().unwrap().statuses.get(&503).copied().unwrap_or(0);
    let full_ready = http(port, "GET", "/readyz", &[], b"").await.map(|(s, _)| s).unwrap_or(0);
    Command::new("kill").args(["-INT", &strace.id().to_string()]).status().unwrap();
    strace.wait().unwrap();
    let freed = Instant::now();
    // Seconds until a referral is saved again.
    let recovered = loop {
        let body = referral_body(inst.marac_id, 999_999);
        let headers = [
            ("Authorization", &*format!("Bearer {TOKEN}")),
            ("Content-Type", "application/json"),
            ("Idempotency-Key", "full-after"),
        ];
        if let Ok((201 | 303, _)) = http(port, "POST", "/api/v1/referrals", &headers, &body).await {
            break freed.elapsed();
        }
        assert!(freed.elapsed() < Duration::from_secs(30), "writes did not work again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let ready_after = wait_ready(port, Duration::from_secs(10)).await;
    let o = finish(&inst, server, clients, &tally).await;
    let row = Row {
        scenario: "disk full (ENOSPC) for 2 s under 8 clients",
        database,
        runs: 1,
        acknowledged: o.tally.acknowledged.len(),
        lost: o.lost,
        duplicated: o.duplicated,
        statuses: o.tally.statuses.clone(),
        recover: vec![recovered],
        checks: format!(
            "503 while full: {during}; /readyz while full: {full_ready}, ready {:.2} s after; longest wait for an acknowledgement: {:.1} s; integrity: {}; audit verify: {}",
            ready_after.as_secs_f64(),
            o.tally.longest_wait.as_secs_f64(),
            ok(o.integrity),
            ok(o.audit)
        ),
        errors: errors_logged(&inst, port),
    };
    inst.db.cleanup().await;
    assert!(during > 0, "the full disk was felt: {:?}", row.statuses);
    assert_eq!(full_ready, 503, "not ready while writes fail");
    row
}

async fn slow_headers(db: TestDb) -> Row {
    let database = backend_name(&db);
    let inst = installation(db).await;
    let port = free_port();
    // 256 files: a cap of 128 connections.
    let mut server = inst.serve(port, &["prlimit", "--nofile=256:256", "--"]);
    wait_ready(port, Duration::from_secs(60)).await;
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await else { continue };
        if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n").await.is_ok() {
            held.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Those over the cap were answered 503 and closed; those under it are held.
    let mut statuses = BTreeMap::<u16, u32>::new();
    for s in &mut held {
        let mut buf = [0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(5), s.read(&mut buf)).await
            && buf[..n].starts_with(b"HTTP/1.1 503")
        {
            refused += 1;
        }
    }
    *statuses.entry(503).or_default() += refused;
    let started = Instant::now();
    // Once the slow ones have had their 10 seconds, a new client is served again.
    let recovered = loop {
        match http(port, "GET", "/healthz", &[], b"").await {
            Ok((200, _)) => break started.elapsed(),
            Ok((s, _)) => *statuses.entry(s).or_default() += 1,
            Err(_) => *statuses.entry(0).or_default() += 1,
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the server stayed unreachable");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    *statuses.entry(200).or_default() += 1;
    let mut closed = 0;
    for s in &mut held {
        let mut buf = Vec::new();
        if tokio::time::timeout(Duration::from_secs(15), s.read_to_end(&mut buf)).await.is_ok() {
            closed += 1;
        }
    }
    let log = std::fs::read_to_string(inst.log(port)).unwrap_or_default();
    let _ = server.kill();
    let _ = server.wait();
    let row = Row {
        scenario: "300 connections sending headers slowly, 256-file limit",
        database,
        runs: 1,
        acknowledged: 0,
        lost: 0,
        duplicated: 0,
        statuses,
        recover: vec![recovered],
        checks: format!(
            "{refused} refused politely over the cap; {closed} of {} closed by the server; \"Too many open files\": {}",
            held.len(),
            if log.contains("Too many open files") { "FAILED" } else { "never" }
        ),
        errors: errors_logged(&inst, port),
    };
    inst.db.cleanup().await;
    assert!(refused > 0, "connections over the cap are refused");
    assert_eq!(closed, held.len(), "every slow connection is closed");
    row
}

async fn sigterm(db: TestDb) -> Row {
    let database = backend_name(&db);
    let inst = installation(db).await;
    let port = free_port();
    let mut server = inst.serve(port, &[]);
    wait_ready(port, Duration::from_secs(60)).await;
    let mut half = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
    let mut idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 256];
    let _ = idle.read(&mut buf).await.unwrap();
    let started = Instant::now();
    Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    let status = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let stopped = started.elapsed();
    let log = std::fs::read_to_string(inst.log(port)).unwrap_or_default();
    let row = Row {
        scenario: "SIGTERM with a half-sent request and an idle connection open",
        database,
        runs: 1,
        acknowledged: 0,
        lost: 0,
        duplicated: 0,
        statuses: BTreeMap::new(),
        recover: vec![stopped],
        checks: format!(
            "exit status {}; stopped cleanly: {}",
            status.code().unwrap_or(-1),
            ok(status.success() && log.contains("Stopped."))
        ),
        errors: errors_logged(&inst, port),
    };
    inst.db.cleanup().await;
    assert!(stopped < Duration::from_secs(5), "stopped in {stopped:?}");
    row
}

// ---------------------------------------------------------------- the suite

async fn databases() -> Vec<TestDb> {
    TestDb::each_backend().await
}

/// Whether a tool a scenario needs is installed; outside CI a missing one skips the scenario
/// loudly, under CI it fails the suite.
fn available(tool: &str) -> bool {
    if Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(!in_ci, "{tool} is required under CI (scripts/faults installs it)");
    eprintln!("\n*** SKIPPING the fault scenario that needs {tool}: it is not installed ***\n");
    false
}

/// Runs one scenario, saying how long it took.
async fn timed(rows: &mut Vec<Row>, scenario: impl std::future::Future<Output = Row>) {
    let started = Instant::now();
    let row = scenario.await;
    eprintln!("fault suite: {} on {} took {:.1} s", row.scenario, row.database, started.elapsed().as_secs_f64());
    rows.push(row);
}

/// `scripts/faults`: every scenario on every database, then the table.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the fault suite: run by scripts/faults (part of scripts/test)"]
async fn fault_suite() {
    let started = Instant::now();
    // MARAC_FAULTS=kill,terminate,full,slow,sigterm runs some of them (all by default).
    let only = std::env::var("MARAC_FAULTS").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|o| o.trim() == name);
    let mut rows = Vec::new();
    if wanted("kill") {
        for db in databases().await {
            timed(&mut rows, kill_nine(db)).await;
        }
    }
    if wanted("terminate")
        && let Some(db) = TestDb::postgres().await
    {
        timed(&mut rows, terminated_connections(db)).await;
    }
    if wanted("full") && available("strace") {
        timed(&mut rows, full_disk(TestDb::sqlite().await)).await;
    }
    if wanted("slow") && available("prlimit") {
        timed(&mut rows, slow_headers(TestDb::sqlite().await)).await;
    }
    if wanted("sigterm") {
        for db in databases().await {
            timed(&mut rows, sigterm(db)).await;
        }
    }
    header();
    for row in &rows {
        row.print();
    }
    println!("\nFault suite finished in {:.0} s.", started.elapsed().as_secs_f64());
    for row in &rows {
        row.assert_clean();
    }
}
