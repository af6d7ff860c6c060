//! `marac questionnaire import|list`: risk checklists are data, loaded by version.

use crate::settings::Settings;
use anyhow::bail;
use clap::Subcommand;
use marac_domain::checklist::Checklist;
use marac_store::{ChecklistRecord, Store, StoreError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Questionnaire subcommands.
#[derive(Debug, Subcommand)]
pub enum QuestionnaireCommand {
    /// Check a checklist file and load it as a new version (a local or licensed form).
    Import {
        /// The TOML file.
        file: PathBuf,
    },
    /// List the loaded checklists and their versions.
    List,
}

/// Runs a questionnaire subcommand.
pub async fn run(settings: &Settings, command: QuestionnaireCommand) -> anyhow::Result<ExitCode> {
    match command {
        QuestionnaireCommand::Import { file } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => bail!("{}: cannot read: {e}", file.display()),
            };
            // Check the file before touching the database, so a bad file changes nothing.
            let checklist = match Checklist::parse(&text) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {}, {e}", file.display());
                    return Ok(ExitCode::from(2));
                }
            };
            let (store, _) = super::open_ready(settings).await?;
            import(store.as_ref(), &file, &checklist, text).await
        }
        QuestionnaireCommand::List => {
            let (store, _) = super::open_read(settings, &[]).await?;
            println!("{:<24} {:<10} {:>9}  {:<9} title", "checklist", "version", "questions", "source");
            for c in store.list_checklists().await? {
                println!(
                    "{:<24} {:<10} {:>9}  {:<9} {}",
                    c.checklist_id, c.version, c.question_count, c.source, c.title
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Loads a checked checklist; shared with the demo, which loads a local variant.
pub async fn import(store: &dyn Store, file: &Path, checklist: &Checklist, text: String) -> anyhow::Result<ExitCode> {
    let record = ChecklistRecord::new(checklist, text, "imported");
    let event = super::cli_event(
        "checklist.import",
        &format!("checklist:{}:{}", checklist.id, checklist.version),
        serde_json::json!({ "file": file.display().to_string(), "questions": record.question_count }),
    );
    match store.install_checklist(&record, event).await {
        Ok(true) => println!(
            "Loaded {} version {} ({} questions). Earlier versions stay as they were for the assessments made with them.",
            checklist.id, checklist.version, record.question_count
        ),
        Ok(false) => println!("{} version {} is already loaded; nothing changed.", checklist.id, checklist.version),
        Err(StoreError::Conflict { .. }) => bail!(
            "{}: {} version {} is already loaded with different questions; give the changed checklist a new version",
            file.display(),
            checklist.id,
            checklist.version
        ),
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}
