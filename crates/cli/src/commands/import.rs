//! `marac import referrals FILE.csv --by EMAIL`: a Marac's history from the CSV template, the
//! same checks and the same single transaction as the upload page. Every problem is printed
//! as `FILE:LINE: column: message` and nothing is written unless every row is good.

use crate::settings::Settings;
use anyhow::Context;
use clap::Subcommand;
use marac_app::clock::SystemClock;
use marac_domain::fields::Email;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Import subcommands.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Referrals from the CSV template (its columns are listed on the upload page and in the
    /// README); the importing person must coordinate every Marac in the file.
    Referrals {
        /// The CSV file.
        file: PathBuf,
        /// The coordinator importing it, by e-mail address.
        #[arg(long)]
        by: String,
    },
}

/// Runs an import subcommand.
pub async fn run(settings: &Settings, command: ImportCommand) -> anyhow::Result<ExitCode> {
    let ImportCommand::Referrals { file, by } = command;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.len() > marac_app::import::MAX_FILE_BYTES {
        anyhow::bail!("{} is larger than the 20 MB an import takes; split it by year", file.display());
    }
    let (store, secrets) = super::open_ready(settings).await?;
    let email = Email::parse(&by).map_err(|m| anyhow::anyhow!("--by: {m}"))?;
    let user = store
        .find_user_by_email(email.as_str())
        .await?
        .with_context(|| format!("--by: no user has the address {email}"))?;
    let keys = secrets.web_keys();
    let state = marac_app::App::new(store.clone(), keys, Arc::new(SystemClock), settings.list_retention_days);
    let actor = marac_app::actor_of(&user);
    match marac_app::import::import(&state, &user, &actor, &bytes).await.map_err(|e| anyhow::anyhow!("{e}"))? {
        Ok(count) => {
            println!(
                "Imported {}: {} referrals added, {} already imported, {} meetings made for the days cases were heard.",
                file.display(),
                count.added,
                count.already,
                count.meetings_made
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for e in &problems.shown {
                let column = if e.column.is_empty() { String::new() } else { format!("{}: ", e.column) };
                eprintln!("{}:{}: {column}{}", file.display(), e.line, e.message);
            }
            if let Some(more) = problems.more() {
                eprintln!("{}: {more}", file.display());
            }
            eprintln!("Nothing was imported. Correct the problems and run the import again.");
            Ok(ExitCode::from(1))
        }
    }
}
