//! The `marac` command as an operator uses it, against SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use marac_domain::audit::NewAuditEvent;
use marac_store::testing::{TEST_AUDIT_KEY, TestDb};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn marac(db: &TestDb, data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_marac"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MARAC_DATABASE_URL", &db.url)
        .env("MARAC_DATA_DIR", data_dir)
        .env("MARAC_AUDIT_KEY", hex::encode(TEST_AUDIT_KEY))
        .current_dir(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn event(n: i64) -> NewAuditEvent {
    marac_store::testing::event(&format!("test.event{n}"))
}

/// Runs SQL as a database administrator would, past the application and its triggers.
async fn tamper(db: &TestDb, sqlite_sql: &[&'static str], postgres_sql: &[&'static str]) {
    if let Some(s) = &db.sqlite {
        for q in sqlite_sql {
            sqlx::query(*q).execute(s.pool()).await.unwrap();
        }
    }
    if let Some(p) = &db.postgres {
        let mut tx = p.pool().begin().await.unwrap();
        sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
        for q in postgres_sql {
            sqlx::query(*q).execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
}

const DROP_SQLITE_TRIGGERS: &str = "DROP TRIGGER IF EXISTS audit_events_no_update";
const DROP_SQLITE_TRIGGERS2: &str = "DROP TRIGGER IF EXISTS audit_events_no_delete";

async fn fresh_with_events() -> Vec<TestDb> {
    let mut out = Vec::new();
    for db in TestDb::each_backend().await {
        for n in 1..=5 {
            db.store.append_audit(event(n)).await.unwrap();
        }
        out.push(db);
    }
    out
}

#[tokio::test]
async fn audit_verify_passes_an_intact_trail_and_export_writes_json_lines() {
    for db in fresh_with_events().await {
        let dir = tempfile::tempdir().unwrap();
        let o = marac(&db, dir.path(), &["audit", "verify"], None);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("Audit trail intact: 5 events verified."), "{}", text(&o));
        let o = marac(&db, dir.path(), &["audit", "export"], None);
        assert!(o.status.success(), "{}", text(&o));
        let lines: Vec<serde_json::Value> =
            String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0]["seq"], 1);
        assert_eq!(lines[4]["action"], "test.event5");
        // The export itself is recorded, and the trail still verifies.
        let o = marac(&db, dir.path(), &["audit", "verify"], None);
        assert!(text(&o).contains("6 events verified"), "{}", text(&o));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn audit_verify_finds_an_edited_event() {
    for db in fresh_with_events().await {
        tamper(
            &db,
            &[DROP_SQLITE_TRIGGERS, "UPDATE audit_events SET actor_label = 'someone else' WHERE seq = 2"],
            &["UPDATE audit_events SET actor_label = 'someone else' WHERE seq = 2"],
        )
        .await;
        let dir = tempfile::tempdir().unwrap();
        let o = marac(&db, dir.path(), &["audit", "verify"], None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("event 2 was altered"), "{}", text(&o));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn audit_verify_finds_a_deleted_event_in_the_middle_or_at_the_end() {
    for (seq, expected) in [(3, "event 3 was removed"), (5, "event 5 was removed")] {
        for db in fresh_with_events().await {
            tamper(
                &db,
                &[
                    DROP_SQLITE_TRIGGERS2,
                    if seq == 3 {
                        "DELETE FROM audit_events WHERE seq = 3"
                    } else {
                        "DELETE FROM audit_events WHERE seq = 5"
                    },
                ],
                &[if seq == 3 {
                    "DELETE FROM audit_events WHERE seq = 3"
                } else {
                    "DELETE FROM audit_events WHERE seq = 5"
                }],
            )
            .await;
            let dir = tempfile::tempdir().unwrap();
            let o = marac(&db, dir.path(), &["audit", "verify"], None);
            assert_eq!(o.status.code(), Some(1), "{}", text(&o));
            assert!(text(&o).contains(expected), "{}", text(&o));
            db.cleanup().await;
        }
    }
}

#[tokio::test]
async fn audit_verify_finds_an_inserted_event() {
    const AT_END: &str = "INSERT INTO audit_events (seq, at, actor_user_id, actor_label, action, target, outcome, ip, detail, prev_hash, hash) \
         SELECT 6, at, NULL, 'forger', 'sign_in.success', '', 'success', '', '{}', hash, hash FROM audit_events WHERE seq = 5";
    for db in fresh_with_events().await {
        tamper(&db, &[AT_END], &[AT_END]).await;
        let dir = tempfile::tempdir().unwrap();
        let o = marac(&db, dir.path(), &["audit", "verify"], None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("event 6 was inserted"), "{}", text(&o));
        db.cleanup().await;
    }
    // In the middle, renumbering everything after it to make room.
    const SHIFT_SQLITE: &str = "UPDATE audit_events SET seq = -seq WHERE seq >= 3";
    const SHIFT_BACK_SQLITE: &str = "UPDATE audit_events SET seq = -seq + 1 WHERE seq < 0";
    const FORGE: &str = "INSERT INTO audit_events (seq, at, actor_user_id, actor_label, action, target, outcome, ip, detail, prev_hash, hash) \
         SELECT 3, at, NULL, 'forger', 'user.create', '', 'success', '', '{}', hash, hash FROM audit_events WHERE seq = 2";
    for db in fresh_with_events().await {
        tamper(
            &db,
            &[DROP_SQLITE_TRIGGERS, SHIFT_SQLITE, SHIFT_BACK_SQLITE, FORGE],
            &[SHIFT_SQLITE, SHIFT_BACK_SQLITE, FORGE],
        )
        .await;
        let dir = tempfile::tempdir().unwrap();
        let o = marac(&db, dir.path(), &["audit", "verify"], None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("event 3 was inserted"), "{}", text(&o));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn user_add_list_and_disable() {
    for db in TestDb::each_backend().await {
        let dir = tempfile::tempdir().unwrap();
        let o = marac(
            &db,
            dir.path(),
            &[
                "user",
                "add",
                "--email",
                "Root@Example.org",
                "--name",
                "Root Admin",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some("a long admin pass phrase\n"),
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = marac(
            &db,
            dir.path(),
            &["user", "add", "--email", "x@example.org", "--name", "X", "--role", "coordinator", "--password-stdin"],
            Some("a long admin pass phrase\n"),
        );
        assert!(!o.status.success());
        assert!(text(&o).contains("--agency: the coordinator role needs"), "{}", text(&o));
        let o = marac(
            &db,
            dir.path(),
            &["user", "add", "--email", "y@example.org", "--name", "Y", "--role", "auditor", "--password-stdin"],
            Some("short\n"),
        );
        assert!(text(&o).contains("password: Password must be 12 characters or more"), "{}", text(&o));
        let o = marac(&db, dir.path(), &["user", "list"], None);
        assert!(text(&o).contains("root@example.org") && text(&o).contains("active"), "{}", text(&o));
        let o = marac(&db, dir.path(), &["user", "disable", "root@example.org"], None);
        assert!(o.status.success(), "{}", text(&o));
        let o = marac(&db, dir.path(), &["user", "list"], None);
        assert!(text(&o).contains("disabled"), "{}", text(&o));
        let o = marac(&db, dir.path(), &["audit", "verify"], None);
        assert!(o.status.success(), "{}", text(&o));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_bad_setting_is_one_clear_line() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (vec!["--bind", "nonsense", "migrate"], "error: --bind: 'nonsense' is not an address to listen on"),
        (vec!["--database-url", "mysql://x", "migrate"], "error: --database-url: 'mysql://x' is not a database URL"),
        (vec!["--db-pool-size", "0", "migrate"], "error: --db-pool-size: '0' is not a pool size"),
        (vec!["--db-acquire-seconds", "0", "migrate"], "error: --db-acquire-seconds: '0' is not a number of seconds"),
        (vec!["--shutdown-seconds", "soon", "migrate"], "error: --shutdown-seconds: 'soon' is not a number of seconds"),
        (vec!["--second-factor-roles", "idva,boss", "migrate"], "error: --second-factor-roles: unknown role 'boss'"),
        (
            vec!["--bind", "0.0.0.0:8080", "migrate"],
            "error: MARAC_PUBLIC_URL (not set, so http:// is assumed): plain http is only allowed",
        ),
    ] {
        let o = marac(&db, dir.path(), &args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let t = text(&o);
        assert_eq!(t.lines().count(), 1, "{t}");
        assert!(t.starts_with(expected), "{args:?}: {t}");
    }
    std::fs::write(dir.path().join("marac.toml"), "bind = \"127.0.0.1:9000\"\ncolour = \"blue\"\n").unwrap();
    let o = marac(&db, dir.path(), &["migrate"], None);
    assert!(text(&o).starts_with("error: marac.toml, line 2: unknown field `colour`"), "{}", text(&o));
    db.cleanup().await;
}

#[tokio::test]
async fn keys_are_generated_once_with_owner_only_permissions() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let o = marac(&db, dir.path(), &["migrate"], None);
    assert!(o.status.success(), "{}", text(&o));
    let key = dir.path().join("keys/session.key");
    let first = std::fs::read_to_string(&key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    marac(&db, dir.path(), &["migrate"], None);
    assert_eq!(std::fs::read_to_string(&key).unwrap(), first);
    db.cleanup().await;
}

#[tokio::test]
async fn questionnaires_are_imported_by_version_and_bad_files_name_the_line() {
    for db in TestDb::each_backend().await {
        let dir = tempfile::tempdir().unwrap();
        // Listing only reads; the shipped checklists are loaded by migrating, as serving does.
        let o = marac(&db, dir.path(), &["questionnaire", "list"], None);
        assert!(o.status.success() && !text(&o).contains("safelives-dash"), "{}", text(&o));
        assert!(marac(&db, dir.path(), &["migrate"], None).status.success());
        let o = marac(&db, dir.path(), &["questionnaire", "list"], None);
        let listed = text(&o);
        assert!(
            listed.contains("safelives-dash")
                && listed.contains("police-dash-2009")
                && listed.contains("stalking-screening"),
            "{listed}"
        );

        let shipped = include_str!("../../../checklists/stalking-screening-11.toml");
        let local = shipped.replace("version = \"2026.1\"", "version = \"2026.2-local\"");
        let good = dir.path().join("local.toml");
        std::fs::write(&good, &local).unwrap();
        let o = marac(&db, dir.path(), &["questionnaire", "import", good.to_str().unwrap()], None);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("Loaded stalking-screening version 2026.2-local (11 questions)"), "{}", text(&o));
        let o = marac(&db, dir.path(), &["questionnaire", "import", good.to_str().unwrap()], None);
        assert!(text(&o).contains("already loaded; nothing changed"), "{}", text(&o));

        // Same id and version, different questions: refused.
        std::fs::write(&good, local.replace("Is the victim very scared?", "Is the victim frightened?")).unwrap();
        let o = marac(&db, dir.path(), &["questionnaire", "import", good.to_str().unwrap()], None);
        assert!(!o.status.success());
        assert!(
            text(&o).contains("already loaded with different questions; give the changed checklist a new version"),
            "{}",
            text(&o)
        );

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, shipped.replacen("id = \"previous_harassment\"", "id = \"fear\"", 1)).unwrap();
        let o = marac(&db, dir.path(), &["questionnaire", "import", bad.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("bad.toml, line 20: question id 'fear' is not a unique lower-case id"),
            "{}",
            text(&o)
        );
        let o = marac(&db, dir.path(), &["questionnaire", "list"], None);
        assert_eq!(text(&o).matches("stalking-screening").count(), 2, "{}", text(&o));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_demo_loads_a_local_checklist_and_runs_twice_without_change() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    for run in 0..2 {
        let o = marac(&db, dir.path(), &["demo", "--no-serve"], None);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("admin@demo.marac.example"));
        assert_eq!(text(&o).contains("synthetic referrals"), run == 0, "referrals are added once: {}", text(&o));
    }
    // A larger register of people on request, topped up to the number asked for, once.
    let added = |o: &std::process::Output| -> u64 {
        let t = text(o);
        let line = t.lines().find(|l| l.starts_with("Added ") && l.contains("synthetic people")).unwrap_or_default();
        line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(u64::MAX)
    };
    let o = marac(&db, dir.path(), &["demo", "--no-serve", "--people", "3000"], None);
    let first = added(&o);
    assert!((1_000..3_000).contains(&first), "the demo's own people count towards the total: {}", text(&o));
    let o = marac(&db, dir.path(), &["demo", "--no-serve", "--people", "3000"], None);
    assert_eq!(added(&o), 0, "{}", text(&o));
    let o = marac(&db, dir.path(), &["questionnaire", "list"], None);
    assert!(text(&o).contains("northshire-dash") && text(&o).contains("25  imported"), "{}", text(&o));
    let o = marac(&db, dir.path(), &["user", "list"], None);
    // The 9 printed accounts, and one referrer per agency who made the synthetic referrals.
    assert_eq!(text(&o).matches("@demo.marac.example").count(), 9 + 14, "{}", text(&o));

    // A Marac's history from the CSV template: refused whole with each line named, then
    // imported once.
    let header = "source_reference,marac,referral_date,referring_agency,victim_given_name,victim_family_name,\
                  perpetrator_given_name,perpetrator_family_name,heard_at";
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("{header}\nH1,NSN,3/7/2024,POL,Ada,Vine,Ray,Vine,\nH2,NSN,3/7/2024,NOPE,Bo,Reed,Cy,Reed,\n"),
    )
    .unwrap();
    let o = marac(
        &db,
        dir.path(),
        &["import", "referrals", bad.to_str().unwrap(), "--by", "coordinator@demo.marac.example"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("bad.csv:3: referring_agency: No agency has the code 'NOPE'"), "{}", text(&o));
    assert!(text(&o).contains("Nothing was imported. Correct the problems"), "{}", text(&o));
    // 20 MB of bad lines: the first 100 problems, then the rest counted.
    let huge = dir.path().join("huge.csv");
    std::fs::write(&huge, format!("{header}\n{}", "x\n".repeat(10_000_000))).unwrap();
    let o = marac(
        &db,
        dir.path(),
        &["import", "referrals", huge.to_str().unwrap(), "--by", "coordinator@demo.marac.example"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(text(&o).lines().filter(|l| l.starts_with(huge.to_str().unwrap())).count(), 101, "{}", text(&o));
    assert!(text(&o).contains("more rows with problems"), "{}", text(&o));
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        format!("{header}\nH1,NSN,3/7/2024,POL,Ada,Vine,Ray,Vine,24/7/2024\nH2,NSN,3/7/2024,CSC,Bo,Reed,Cy,Reed,\n"),
    )
    .unwrap();
    let args = ["import", "referrals", good.to_str().unwrap(), "--by", "coordinator@demo.marac.example"];
    let o = marac(&db, dir.path(), &args, None);
    assert!(o.status.success() && text(&o).contains("2 referrals added, 0 already imported"), "{}", text(&o));
    let o = marac(&db, dir.path(), &args, None);
    assert!(text(&o).contains("0 referrals added, 2 already imported"), "{}", text(&o));
    let o = marac(
        &db,
        dir.path(),
        &["import", "referrals", good.to_str().unwrap(), "--by", "referrer@demo.marac.example"],
        None,
    );
    assert!(text(&o).contains("You do not coordinate this Marac"), "{}", text(&o));
    db.cleanup().await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_and_revocable() {
    for db in TestDb::each_backend().await {
        let dir = tempfile::tempdir().unwrap();
        let o = marac(
            &db,
            dir.path(),
            &[
                "user",
                "add",
                "--email",
                "api@example.org",
                "--name",
                "Api User",
                "--role",
                "auditor",
                "--password-stdin",
            ],
            Some("a long admin pass phrase\n"),
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = marac(
            &db,
            dir.path(),
            &["token", "create", "--user", "api@example.org", "--name", "police case system"],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
        let token = String::from_utf8_lossy(&o.stdout).trim().to_owned();
        assert!(token.starts_with("marac_pat_") && token.len() > 50, "{token}");
        let user = db.store.find_user_by_email("api@example.org").await.unwrap().unwrap();
        let stored = db.store.list_api_tokens(user.id).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert!(db.store.find_api_token(&token).await.unwrap().is_none(), "the token itself is not stored");
        let o = marac(&db, dir.path(), &["token", "list", "--user", "api@example.org"], None);
        assert!(text(&o).contains("police case system") && text(&o).contains("active"), "{}", text(&o));
        let id = stored[0].id.to_string();
        let o = marac(&db, dir.path(), &["token", "revoke", "--user", "api@example.org", &id], None);
        assert!(o.status.success(), "{}", text(&o));
        let o = marac(&db, dir.path(), &["token", "revoke", "--user", "api@example.org", &id], None);
        assert!(!o.status.success() && text(&o).contains("has no active token"), "{}", text(&o));
        let o = marac(&db, dir.path(), &["token", "create", "--user", "nobody@example.org", "--name", "x"], None);
        assert!(text(&o).contains("--user: no user has the address nobody@example.org"), "{}", text(&o));
        db.cleanup().await;
    }
}

#[path = "../../web/tests/support/smtp_sink.rs"]
#[allow(dead_code)]
mod smtp_sink;

/// `marac serve` in the background on a free loopback port, sending e-mail to `smtp_url` and
/// running its worker every second; its output goes to `log`.
fn serve(db: &TestDb, data_dir: &std::path::Path, smtp_url: &str, log: &std::path::Path) -> std::process::Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_marac"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MARAC_DATABASE_URL", &db.url)
        .env("MARAC_DATA_DIR", data_dir)
        .env("MARAC_AUDIT_KEY", hex::encode(TEST_AUDIT_KEY))
        .env("MARAC_BIND", format!("127.0.0.1:{port}"))
        .env("MARAC_SMTP_URL", smtp_url)
        .env("MARAC_WORKER_SECONDS", "1")
        .current_dir(data_dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn two_servers_on_one_postgresql_send_each_reminder_exactly_once() {
    use marac_domain::notices::NoticeKind;
    let Some(db) = TestDb::postgres().await else { return };
    let Some(smtp) = smtp_sink::SmtpSink::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let o = marac(&db, dir.path(), &["demo", "--no-serve"], None);
    assert!(o.status.success(), "{}", text(&o));
    let logs = [dir.path().join("one.log"), dir.path().join("two.log")];
    let mut servers: Vec<_> = logs.iter().map(|log| serve(&db, dir.path(), &smtp.url(), log)).collect();

    // Both workers look for due reminders every second; wait until the outbox has been
    // emptied and has stayed so across several rounds of both.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let mut settled_since = None;
    let outbox = loop {
        assert!(std::time::Instant::now() < deadline, "the outbox did not empty: {:?}", db.store.list_outbox(5).await);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let outbox = db.store.list_outbox(100_000).await.unwrap();
        if outbox.is_empty() || outbox.iter().any(|m| m.sent_at.is_none()) {
            settled_since = None;
            continue;
        }
        let since = *settled_since.get_or_insert_with(std::time::Instant::now);
        if since.elapsed() > std::time::Duration::from_secs(4) {
            break outbox;
        }
    };
    for s in &mut servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    let both_ran = logs.iter().all(|l| std::fs::read_to_string(l).unwrap_or_default().contains("ready"));
    assert!(both_ran, "{:?}", logs.iter().map(std::fs::read_to_string).collect::<Vec<_>>());

    let mails = smtp.messages();
    let reminders = mails.iter().filter(|m| m.subject == NoticeKind::ActionDue.subject()).count();
    assert!(reminders > 0, "the demo has actions due in two days");
    assert!(mails.iter().any(|m| m.subject == NoticeKind::ActionOverdue.subject()), "and overdue ones");
    // Each message names its notice in its link: every notice in the outbox was sent once.
    let mut sent: Vec<i64> = mails
        .iter()
        .map(|m| {
            let tail = m.body.split("/inbox/").nth(1).unwrap_or_else(|| panic!("no link in {}", m.body));
            tail.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
        })
        .collect();
    sent.sort_unstable();
    let mut expected: Vec<i64> = outbox.iter().map(|m| m.notice_id).collect();
    expected.sort_unstable();
    assert_eq!(sent, expected, "every message sent exactly once, none lost");
    let claimers: (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT claimed_by) FROM outbox")
        .fetch_one(db.postgres.as_ref().unwrap().pool())
        .await
        .unwrap();
    eprintln!("{} messages ({reminders} reminders) sent by {} workers", mails.len(), claimers.0);
    db.cleanup().await;
}

#[tokio::test]
async fn an_account_mixing_administration_and_case_roles_is_named_at_start_up() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    assert!(marac(&db, dir.path(), &["migrate"], None).status.success());
    let mixed = marac_store::NewUser {
        email: "both@x.org".into(),
        name: "Both".into(),
        agency_id: None,
        password_hash: "x".into(),
        is_demo: false,
        grants: vec![
            marac_domain::policy::Grant { role: marac_domain::Role::Admin, marac_id: None },
            marac_domain::policy::Grant { role: marac_domain::Role::Analyst, marac_id: None },
        ],
    };
    db.store.create_user(&mixed, event(1)).await.unwrap();
    let coordinator = marac_store::NewUser {
        email: "mixed@x.org".into(),
        grants: vec![
            marac_domain::policy::Grant { role: marac_domain::Role::Admin, marac_id: None },
            marac_domain::policy::Grant { role: marac_domain::Role::Auditor, marac_id: None },
            marac_domain::policy::Grant { role: marac_domain::Role::Referrer, marac_id: None },
        ],
        ..mixed
    };
    db.store.create_user(&coordinator, event(2)).await.unwrap();
    let log = dir.path().join("serve.log");
    let mut server = serve(&db, dir.path(), "", &log);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("ready") {
        assert!(std::time::Instant::now() < deadline, "{}", std::fs::read_to_string(&log).unwrap_or_default());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let named: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("holds the administrator role together with roles that read cases"))
        .collect();
    assert_eq!(named.len(), 1, "{text}");
    assert!(named[0].contains("mixed@x.org"), "{text}");
    db.cleanup().await;
}
