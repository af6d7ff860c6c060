//! `marac audit verify|export`.

use crate::settings::Settings;
use anyhow::Context;
use clap::Subcommand;
use marac_domain::keys::KeyPurpose;
use marac_store::VerifyError;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Audit subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every event's hash and link; report the first altered, removed or inserted event.
    Verify,
    /// Write every event as JSON lines.
    Export {
        /// File to write (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// Runs an audit subcommand.
pub async fn run(settings: &Settings, command: AuditCommand) -> anyhow::Result<ExitCode> {
    // Checking the trail creates nothing, not even migrations or keys, and needs only the
    // audit key: an auditor need not hold the others.
    let (store, keys) = super::open_read(settings, &[KeyPurpose::Audit]).await?;
    let audit_key = keys.get(KeyPurpose::Audit).context("the audit key")?;
    match command {
        AuditCommand::Verify => match marac_store::verify_audit_chain(store.as_ref(), audit_key).await {
            Ok(n) => {
                println!("Audit trail intact: {n} events verified.");
                Ok(ExitCode::SUCCESS)
            }
            Err(VerifyError::Tampered(problem)) => {
                println!("Audit trail has been tampered with: {problem}.");
                Ok(ExitCode::FAILURE)
            }
            Err(VerifyError::Store(e)) => Err(e.into()),
        },
        AuditCommand::Export { output } => {
            let mut out: Box<dyn Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("--output: cannot create {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let mut after = 0;
            let mut count = 0u64;
            loop {
                let page = store.audit_events_after(after, 2_000).await?;
                if page.is_empty() {
                    break;
                }
                for event in page {
                    after = event.seq;
                    serde_json::to_writer(&mut out, &event)?;
                    out.write_all(b"\n")?;
                    count += 1;
                }
            }
            out.flush()?;
            drop(out);
            let event = super::cli_event(
                "audit.export",
                "audit",
                serde_json::json!({ "events": count, "to": output.as_ref().map(|p| p.display().to_string()) }),
            );
            store.append_audit(event).await?;
            eprintln!("Exported {count} events. The export is OFFICIAL-SENSITIVE: store and share it accordingly.");
            Ok(ExitCode::SUCCESS)
        }
    }
}
