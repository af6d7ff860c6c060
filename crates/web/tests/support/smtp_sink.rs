//! A real SMTP server for tests: Python's `aiosmtpd` (from PyPI) with the handler in
//! `tests/smtp/smtp_sink.py`, which writes every accepted message as a JSON line.
//! Outside CI a machine without it skips e-mail tests loudly; under `CI=true` it fails.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One message the server accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Decoded body.
    pub body: String,
}

/// A running SMTP server on loopback; stopped when dropped.
pub struct SmtpSink {
    child: Child,
    out: PathBuf,
    _dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

impl SmtpSink {
    /// Starts a server, or returns `None` (outside CI) when `aiosmtpd` is not installed.
    pub fn start() -> Option<SmtpSink> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            assert!(!in_ci(), "aiosmtpd is required under CI (python3 -m pip install aiosmtpd)");
            eprintln!(
                "\n*** aiosmtpd is not installed: e-mail tests are SKIPPED (python3 -m pip install aiosmtpd) ***\n"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mail.jsonl");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let handler_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/smtp");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "smtp_sink.JsonLines"])
            .arg(&out)
            .env("PYTHONPATH", handler_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let sink = SmtpSink { child, out, _dir: dir, port };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start listening on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(sink)
    }

    /// The URL the product sends to.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message accepted so far.
    pub fn messages(&self) -> Vec<Mail> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
