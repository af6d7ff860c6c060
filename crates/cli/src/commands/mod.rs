//! The subcommands.

pub mod audit;
pub mod demo;
pub mod demo_meetings;
pub mod demo_national;
pub mod demo_people;
pub mod demo_referrals;
pub mod import;
pub mod linkage;
pub mod questionnaire;
pub mod serve;
pub mod token;
pub mod user;

use crate::secrets::{self, Secrets};
use crate::settings::{Settings, ensure_data_dir};
use anyhow::Context;
use marac_domain::audit::NewAuditEvent;
use marac_store::{ConnectOptions, Store};
use std::process::ExitCode;
use std::sync::Arc;

/// Opens the data directory, the keys and the database.
pub async fn open(settings: &Settings) -> anyhow::Result<(Arc<dyn Store>, Secrets)> {
    ensure_data_dir(&settings.data_dir)?;
    let secrets = secrets::load(&settings.data_dir)?;
    let options = ConnectOptions {
        url: settings.database_url.clone(),
        max_connections: settings.db_pool_size,
        audit_key: secrets.audit_key.to_vec(),
    };
    let store = marac_store::connect(&options)
        .await
        .with_context(|| format!("cannot open the database at {}", marac_store::redact_url(&settings.database_url)))?;
    Ok((store, secrets))
}

/// Opens and applies the schema migrations.
pub async fn open_migrated(settings: &Settings) -> anyhow::Result<(Arc<dyn Store>, Secrets)> {
    let (store, secrets) = open(settings).await?;
    store.migrate().await.context("cannot apply database migrations")?;
    Ok((store, secrets))
}

/// Opens, migrates, and loads the risk checklists shipped with this version: what serving
/// needs.
pub async fn open_ready(settings: &Settings) -> anyhow::Result<(Arc<dyn Store>, Secrets)> {
    let (store, secrets) = open_migrated(settings).await?;
    marac_store::install_shipped_checklists(store.as_ref(), time::OffsetDateTime::now_utc())
        .await
        .context("cannot load the shipped risk checklists")?;
    Ok((store, secrets))
}

/// `marac migrate`.
pub async fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    open_ready(settings).await?;
    println!("Database is up to date: {}", marac_store::redact_url(&settings.database_url));
    Ok(ExitCode::SUCCESS)
}

/// An audit event for something done on the command line.
pub fn cli_event(action: &str, target: &str, detail: serde_json::Value) -> NewAuditEvent {
    NewAuditEvent {
        at: time::OffsetDateTime::now_utc(),
        actor_user_id: None,
        actor_label: "command line".to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: "success".to_owned(),
        ip: "local".to_owned(),
        detail: detail.to_string(),
    }
}
