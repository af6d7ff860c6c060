//! The installation's keys against the database they belong to, as an operator meets them: a
//! database restored without its keys, a second server started with other keys, an auditor
//! holding only the audit key, and an installation set up before keys had check values.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use marac_store::testing::{TEST_AUDIT_KEY, TestDb};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `marac` on `db` with `dir` as its data directory and exactly the key variables given.
fn marac(db: &TestDb, dir: &Path, keys: &[(&str, String)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_marac"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MARAC_DATABASE_URL", &db.url)
        .env("MARAC_DATA_DIR", dir)
        .current_dir(dir.parent().unwrap_or(dir))
        .stdin(Stdio::null());
    for (name, value) in keys {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn random_key() -> String {
    let mut k = [0u8; 32];
    getrandom::fill(&mut k).unwrap();
    hex::encode(k)
}

/// The keys a data directory holds, as the environment would give them.
fn keys_of(dir: &Path) -> Vec<(&'static str, String)> {
    [("MARAC_SESSION_KEY", "session.key"), ("MARAC_ENCRYPTION_KEY", "encryption.key"), ("MARAC_AUDIT_KEY", "audit.key")]
        .into_iter()
        .map(|(var, file)| (var, std::fs::read_to_string(dir.join("keys").join(file)).unwrap().trim().to_owned()))
        .collect()
}

fn with(keys: &[(&'static str, String)], var: &str, value: String) -> Vec<(&'static str, String)> {
    keys.iter().map(|(k, v)| (*k, if *k == var { value.clone() } else { v.clone() })).collect()
}

async fn scalar(db: &TestDb, sql: &'static str) -> i64 {
    if let Some(s) = &db.sqlite {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(s.pool()).await.unwrap();
        return n;
    }
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(db.postgres.as_ref().unwrap().pool()).await.unwrap();
    n
}

async fn execute(db: &TestDb, sql: &'static str) {
    if let Some(s) = &db.sqlite {
        sqlx::query(sql).execute(s.pool()).await.unwrap();
    } else {
        sqlx::query(sql).execute(db.postgres.as_ref().unwrap().pool()).await.unwrap();
    }
}

/// Sets up `db` from data directory `dir` as a first `marac migrate` does, and seals a value
/// under its encryption key (an administrator's authenticator secret).
async fn set_up(db: &TestDb, dir: &Path) {
    // The test's own store chains events under the test audit key, so the installation uses it.
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::write(dir.join("keys/audit.key"), hex::encode(TEST_AUDIT_KEY)).unwrap();
    let o = marac(db, dir, &[], &["migrate"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_marac"))
        .args(["user", "add", "--email", "admin@example.org", "--name", "Admin", "--role", "admin", "--password-stdin"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MARAC_DATABASE_URL", &db.url)
        .env("MARAC_DATA_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"a long enough pass phrase\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let user = db.store.find_user_by_email("admin@example.org").await.unwrap().unwrap();
    let key = hex::decode(std::fs::read_to_string(dir.join("keys/encryption.key")).unwrap().trim()).unwrap();
    let key = marac_app::crypto::SealingKey { id: 1, key: key.try_into().unwrap() };
    let sealed =
        marac_app::crypto::seal(&key, &marac_app::crypto::totp_context(user.id), b"12345678901234567890").unwrap();
    let event = marac_domain::audit::NewAuditEvent {
        at: time::OffsetDateTime::now_utc(),
        actor_user_id: Some(user.id),
        actor_label: user.email.clone(),
        action: "second_factor.enrolled".into(),
        target: format!("user:{}", user.id),
        outcome: "success".into(),
        ip: "test".into(),
        detail: "{}".into(),
        idempotency: None,
        notices: Vec::new(),
    };
    db.store.set_second_factor(user.id, &sealed, 0, &[], event).await.unwrap();
}

fn one_line_refusal(o: &Output, expected: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", text(o));
    let t = text(o);
    assert_eq!(t.lines().count(), 1, "one line: {t}");
    assert!(t.starts_with(&format!("error: {expected}")), "expected '{expected}', got: {t}");
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn keys_are_made_only_for_an_empty_database_and_every_command_checks_them() {
    for db in TestDb::each_backend().await {
        eprintln!("-- on {:?}", db.backend);
        let root = tempfile::tempdir().unwrap();
        let first = root.path().join("first");
        set_up(&db, &first).await;
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM key_checks").await, 3, "a check value per key");
        let keys = keys_of(&first);
        if let Some(s) = &db.sqlite {
            let checks: Vec<(String,)> =
                sqlx::query_as("SELECT check_value FROM key_checks").fetch_all(s.pool()).await.unwrap();
            for (_, key) in &keys {
                assert!(checks.iter().all(|(c,)| !c.contains(key.as_str())), "never the key itself");
            }
        }

        // A database restored without its keys: every command refuses, and creates nothing.
        let bare = root.path().join("bare");
        std::fs::create_dir(&bare).unwrap();
        let refusal = "the encryption key was not given: restore keys/encryption.key or set MARAC_ENCRYPTION_KEY";
        for args in [&["serve"][..], &["migrate"], &["user", "list"], &["demo", "--no-serve"]] {
            one_line_refusal(&marac(&db, &bare, &[], args), refusal);
        }
        one_line_refusal(
            &marac(&db, &bare, &[], &["audit", "verify"]),
            "the audit key was not given: restore keys/audit.key or set MARAC_AUDIT_KEY",
        );
        assert!(entries(&bare).is_empty(), "no key files: {:?}", entries(&bare));

        // A second server started with other keys refuses before changing anything.
        let events = scalar(&db, "SELECT COUNT(*) FROM audit_events").await;
        let other: Vec<(&str, String)> = keys.iter().map(|(k, _)| (*k, random_key())).collect();
        one_line_refusal(
            &marac(&db, &bare, &other, &["serve"]),
            "the encryption key does not match this database: restore keys/encryption.key or set MARAC_ENCRYPTION_KEY",
        );
        one_line_refusal(
            &marac(&db, &bare, &with(&keys, "MARAC_AUDIT_KEY", random_key()), &["migrate"]),
            "the audit key does not match this database",
        );
        one_line_refusal(
            &marac(&db, &bare, &with(&keys, "MARAC_SESSION_KEY", random_key()), &["migrate"]),
            "the session key does not match this database",
        );
        one_line_refusal(
            &marac(&db, &bare, &[("MARAC_AUDIT_KEY", random_key())], &["audit", "verify"]),
            "the audit key does not match this database",
        );
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM audit_events").await, events, "nothing written");
        assert!(entries(&bare).is_empty());

        // The shared keys in the environment work from anywhere; an auditor needs only the
        // audit key.
        let o = marac(&db, &bare, &keys, &["migrate"]);
        assert!(o.status.success(), "{}", text(&o));
        let audit_only: Vec<(&str, String)> = keys.iter().filter(|(k, _)| *k == "MARAC_AUDIT_KEY").cloned().collect();
        let o = marac(&db, &bare, &audit_only, &["audit", "verify"]);
        assert!(o.status.success() && text(&o).contains("Audit trail intact"), "{}", text(&o));
        assert!(entries(&bare).is_empty(), "still no key files: {:?}", entries(&bare));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_read_only_command_never_creates_a_database_or_a_directory() {
    let root = tempfile::tempdir().unwrap();
    let missing = root.path().join("never-made");
    let o = Command::new(env!("CARGO_BIN_EXE_marac"))
        .args(["audit", "verify"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MARAC_DATA_DIR", &missing)
        .env("MARAC_AUDIT_KEY", random_key())
        .current_dir(root.path())
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("cannot open the database"), "{}", text(&o));
    assert!(!missing.exists(), "the data directory was created");
}

#[tokio::test]
async fn an_installation_from_before_check_values_records_them_once_its_keys_prove_right() {
    for db in TestDb::each_backend().await {
        eprintln!("-- on {:?}", db.backend);
        let root = tempfile::tempdir().unwrap();
        let first = root.path().join("first");
        set_up(&db, &first).await;
        // As every installation was before this release: data, keys, no check values.
        execute(&db, "DELETE FROM key_checks").await;
        let keys = keys_of(&first);
        let bare = root.path().join("bare");
        std::fs::create_dir(&bare).unwrap();

        // No keys: refused, nothing made (the database already holds data).
        one_line_refusal(&marac(&db, &bare, &[], &["serve"]), "the encryption key was not given");
        // Keys that do not open what was sealed, or do not verify the trail: refused, nothing
        // recorded.
        one_line_refusal(
            &marac(&db, &bare, &with(&keys, "MARAC_ENCRYPTION_KEY", random_key()), &["serve"]),
            "the encryption key does not match this database",
        );
        one_line_refusal(
            &marac(&db, &bare, &with(&keys, "MARAC_AUDIT_KEY", random_key()), &["migrate"]),
            "the audit key does not match this database",
        );
        assert!(entries(&bare).is_empty());
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM key_checks").await, 0, "nothing recorded");

        // The right keys: recorded, once, with an event in the trail.
        let recorded = "SELECT COUNT(*) FROM audit_events WHERE action = 'keys.record'";
        let before = scalar(&db, recorded).await;
        let o = marac(&db, &first, &[], &["migrate"]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM key_checks").await, 3);
        let o = marac(&db, &first, &[], &["migrate"]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(scalar(&db, recorded).await, before + 1);
        let o = marac(&db, &first, &[], &["audit", "verify"]);
        assert!(o.status.success(), "{}", text(&o));
        // And from now on a wrong key is refused by its check value.
        one_line_refusal(
            &marac(&db, &bare, &with(&keys, "MARAC_SESSION_KEY", random_key()), &["migrate"]),
            "the session key does not match this database",
        );
        db.cleanup().await;
    }
}
