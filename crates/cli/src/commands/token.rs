//! `marac token create|list|revoke`: personal API tokens for integrations.
//!
//! A token acts with exactly its user's permissions; only its SHA-256 is stored, so it is
//! shown once, when made.

use crate::settings::Settings;
use anyhow::Context;
use clap::Subcommand;
use marac_domain::fields::{Email, required_text};
use marac_store::{Store, Ts};
use std::process::ExitCode;

/// Prefix that makes a leaked token easy to recognise (e.g. by secret scanners).
pub const TOKEN_PREFIX: &str = "marac_pat_";

/// Token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token for a user and print it once.
    Create {
        /// The user's email address.
        #[arg(long)]
        user: String,
        /// What the token is for, e.g. "police case system".
        #[arg(long)]
        name: String,
    },
    /// List a user's tokens.
    List {
        /// The user's email address.
        #[arg(long)]
        user: String,
    },
    /// Revoke a token at once.
    Revoke {
        /// The user's email address.
        #[arg(long)]
        user: String,
        /// The token's id, from `marac token list`.
        id: i64,
    },
}

async fn find_user(store: &dyn Store, email: &str) -> anyhow::Result<marac_store::User> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("--user: {m}"))?;
    store.find_user_by_email(email.as_str()).await?.with_context(|| format!("--user: no user has the address {email}"))
}

/// Runs a token subcommand.
pub async fn run(settings: &Settings, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let (store, _) = match command {
        TokenCommand::List { .. } => super::open(settings).await?,
        _ => super::open_migrated(settings).await?,
    };
    match command {
        TokenCommand::Create { user, name } => {
            let user = find_user(store.as_ref(), &user).await?;
            let name = required_text(&name, "a name for the token", 100).map_err(|m| anyhow::anyhow!("--name: {m}"))?;
            let token = format!("{TOKEN_PREFIX}{}", marac_app::crypto::random_token()?);
            let hash = marac_app::crypto::token_hash(&token);
            let event = super::cli_event("api_token.create", "", serde_json::json!({ "user": user.id, "name": name }));
            let id = store.create_api_token(user.id, &name, &hash, event).await?;
            eprintln!("Token {id} for {} ({name}). It is shown only now; keep it in a secret store:", user.email);
            println!("{token}");
        }
        TokenCommand::List { user } => {
            let user = find_user(store.as_ref(), &user).await?;
            println!("{:>5}  {:<32} {:<22} status", "id", "name", "created");
            for t in store.list_api_tokens(user.id).await? {
                let status = if t.revoked_at.is_some() { "revoked" } else { "active" };
                let created = t.created_at.0.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
                println!("{:>5}  {:<32} {:<22} {status}", t.id, t.name, created);
            }
        }
        TokenCommand::Revoke { user, id } => {
            let user = find_user(store.as_ref(), &user).await?;
            let now = time::OffsetDateTime::now_utc();
            let event = super::cli_event(
                "api_token.revoke",
                &format!("api_token:{id}"),
                serde_json::json!({ "user": user.id }),
            );
            match store.revoke_api_token(id, user.id, Ts::new(now), event).await {
                Ok(()) => println!("Revoked token {id}; it no longer works."),
                Err(marac_store::StoreError::NotFound) => anyhow::bail!("{} has no active token {id}", user.email),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
