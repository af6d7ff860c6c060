//! `marac user add|list|disable`.

use crate::settings::Settings;
use anyhow::{Context, bail};
use clap::Subcommand;
use marac_domain::Role;
use marac_domain::fields::{Email, required_text};
use marac_domain::password_policy;
use marac_domain::policy::Grant;
use marac_store::NewUser;
use std::io::BufRead;
use std::process::ExitCode;

/// User subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from standard input, never from the command line.
    Add {
        /// Email address they sign in with.
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Role: admin, coordinator, chair, agency_rep, idva, referrer, analyst or auditor.
        #[arg(long)]
        role: String,
        /// Code of their agency (not needed for admin or auditor).
        #[arg(long)]
        agency: Option<String>,
        /// Code of the Marac the role is for (needed for every role but admin and auditor).
        #[arg(long)]
        marac: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Disable a user: they cannot sign in and their sessions end.
    Disable {
        /// Their email address.
        email: String,
    },
}

/// Runs a user subcommand.
pub async fn run(settings: &Settings, command: UserCommand) -> anyhow::Result<ExitCode> {
    let (store, _) = match command {
        UserCommand::List => super::open(settings).await?,
        _ => super::open_migrated(settings).await?,
    };
    match command {
        UserCommand::Add { email, name, role, agency, marac, password_stdin: _ } => {
            let email = Email::parse(&email).map_err(|m| anyhow::anyhow!("--email: {m}"))?;
            let name = required_text(&name, "a name", 200).map_err(|m| anyhow::anyhow!("--name: {m}"))?;
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let agency_id = match agency {
                Some(code) => Some(
                    store
                        .find_agency_by_code(&code.trim().to_uppercase())
                        .await?
                        .with_context(|| format!("--agency: no agency has the code '{code}'"))?
                        .id,
                ),
                None if role.needs_agency() => bail!("--agency: the {role} role needs the code of the person's agency"),
                None => None,
            };
            let marac_id = match marac {
                Some(code) => Some(
                    store
                        .find_marac_by_code(&code.trim().to_uppercase())
                        .await?
                        .with_context(|| format!("--marac: no Marac has the code '{code}'"))?
                        .id,
                ),
                None if role.is_per_marac() => bail!("--marac: the {role} role is held for one Marac; give its code"),
                None => None,
            };
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
            let password = line.trim_end_matches(['\n', '\r']);
            password_policy::check(password, email.as_str()).map_err(|m| anyhow::anyhow!("password: {m}"))?;
            let password_hash = marac_app::password::hash_blocking(password)?;
            let grant = Grant { role, marac_id: if role.is_per_marac() { marac_id } else { None } };
            let user = NewUser {
                email: email.to_string(),
                name,
                agency_id,
                password_hash,
                is_demo: false,
                grants: vec![grant],
            };
            let event = super::cli_event(
                "user.create",
                "",
                serde_json::json!({ "email": email.as_str(), "role": role.code() }),
            );
            match store.create_user(&user, event).await {
                Ok(id) => println!("Created user {id}: {email} ({})", role.label()),
                Err(marac_store::StoreError::Conflict { .. }) => {
                    bail!("--email: a user already has the address {email}")
                }
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::List => {
            let agencies = store.list_agencies().await?;
            let maracs = store.list_maracs().await?;
            println!("{:<36} {:<24} {:<8} {:<9} roles", "email", "name", "agency", "status");
            for u in store.list_users().await? {
                let agency =
                    u.agency_id.and_then(|a| agencies.iter().find(|x| x.id == a)).map_or("-", |a| a.code.as_str());
                let roles: Vec<String> = u
                    .grants
                    .iter()
                    .map(|g| match g.marac_id.and_then(|m| maracs.iter().find(|x| x.id == m)) {
                        Some(m) => format!("{}@{}", g.role.code(), m.code),
                        None => g.role.code().to_owned(),
                    })
                    .collect();
                let status = if u.disabled { "disabled" } else { "active" };
                println!("{:<36} {:<24} {:<8} {:<9} {}", u.email, u.name, agency, status, roles.join(","));
            }
        }
        UserCommand::Disable { email } => {
            let email = Email::parse(&email).map_err(|m| anyhow::anyhow!("email: {m}"))?;
            let user = store
                .find_user_by_email(email.as_str())
                .await?
                .with_context(|| format!("no user has the address {email}"))?;
            let event = super::cli_event("user.disable", &format!("user:{}", user.id), serde_json::json!({}));
            store.set_user_disabled(user.id, true, event).await?;
            println!("Disabled {email}; their sessions have ended.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
