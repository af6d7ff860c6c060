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

use crate::secrets::{self, HeldKeys, Secrets};
use crate::settings::{Settings, ensure_data_dir};
use anyhow::Context;
use marac_domain::audit::NewAuditEvent;
use marac_domain::keys::{KeyProblem, KeyPurpose};
use marac_store::{ConnectOptions, Store};
use std::process::ExitCode;
use std::sync::Arc;

/// A command refused because its keys do not fit the database; exits with status 2, like a
/// bad setting, after one line saying which key and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyRefusal(pub KeyProblem);

/// How a command uses the database.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// Migrates, and may make the data directory, the database and (for an empty database)
    /// the keys.
    Write,
    /// Creates nothing: no directory, no database file, no key, no migration. Needs only these
    /// keys.
    Read(&'static [KeyPurpose]),
}

/// How many of the newest sealed values and audit events prove a key on a database set up
/// before check values existed: one that opens or verifies is proof; reading the whole trail
/// at every start of a large installation would not be.
const PROOF_SAMPLE: i64 = 1_000;

/// Opens the database and checks the keys held against it (see [`marac_domain::keys`]).
async fn open_checked(settings: &Settings, access: Access) -> anyhow::Result<(Arc<dyn Store>, HeldKeys)> {
    let write = matches!(access, Access::Write);
    let needed: &[KeyPurpose] = match access {
        Access::Write => KeyPurpose::ALL,
        Access::Read(needed) => needed,
    };
    if write {
        ensure_data_dir(&settings.data_dir)?;
    }
    let mut held = secrets::read(&settings.data_dir)?;
    // A key given is checked even where this command does not need it: a wrong one is a fault
    // to report now, not when a later command needs it.
    let checked: Vec<KeyPurpose> =
        KeyPurpose::ALL.iter().copied().filter(|p| needed.contains(p) || held.get(*p).is_some()).collect();
    let store = connect(settings, &held, write).await?;
    let recorded = store.key_checks().await.context("cannot read the database's key checks")?;
    let holds_data = store.holds_data().await?;
    if !recorded.is_empty() {
        marac_domain::keys::compare(&held.held(), &recorded, &checked).map_err(KeyRefusal)?;
    } else if holds_data {
        prove_keys(store.as_ref(), &held, &checked).await?;
    } else if write {
        let made = secrets::create_missing(&settings.data_dir, &mut held)?;
        if !made.is_empty() {
            tracing::info!(keys = ?made, "made new keys for an empty database");
        }
    } else if let Some(&purpose) = needed.iter().find(|p| held.get(**p).is_none()) {
        return Err(KeyRefusal(KeyProblem::Missing { purpose }).into());
    }
    // The store chains audit events with the audit key, which may have been made just now.
    let store =
        if write && recorded.is_empty() && !holds_data { connect(settings, &held, write).await? } else { store };
    if write {
        store.migrate().await.context("cannot apply database migrations")?;
        if recorded.is_empty() {
            record_keys(store.as_ref(), &held).await?;
        }
    }
    Ok((store, held))
}

async fn connect(settings: &Settings, held: &HeldKeys, create: bool) -> anyhow::Result<Arc<dyn Store>> {
    // Until the audit key is made (an empty database) nothing is chained, so none is needed.
    let audit_key = held.get(KeyPurpose::Audit).map(|k| k.to_vec()).unwrap_or_default();
    let mut options = ConnectOptions::new(&settings.database_url, audit_key);
    options.max_connections = settings.db_pool_size;
    options.create = create;
    options.acquire_timeout = settings.db_acquire_timeout;
    marac_store::connect(&options)
        .await
        .with_context(|| format!("cannot open the database at {}", marac_store::redact_url(&settings.database_url)))
}

/// A database that holds data but no check values (set up before they existed): the keys must
/// open what it sealed and verify what it chained.
async fn prove_keys(store: &dyn Store, held: &HeldKeys, needed: &[KeyPurpose]) -> anyhow::Result<()> {
    for &purpose in needed {
        let Some(key) = held.get(purpose) else {
            return Err(KeyRefusal(KeyProblem::Missing { purpose }).into());
        };
        let proven = match purpose {
            KeyPurpose::Encryption => {
                let samples = store.sealed_samples(PROOF_SAMPLE).await?;
                let key = marac_app::crypto::SealingKey { id: marac_domain::keys::FIRST_KEY_ID, key: *key };
                samples.is_empty() || samples.iter().any(|s| marac_app::casework::sample_opens(&key, s))
            }
            KeyPurpose::Audit => {
                let (head, _) = store.audit_head().await?;
                let events = store.audit_events_after((head - PROOF_SAMPLE).max(0), PROOF_SAMPLE).await?;
                marac_domain::audit::chained_under(key, &events) != Some(false)
            }
            // Nothing stored is signed with the session key: it signs what browsers send back.
            KeyPurpose::Session => true,
        };
        if !proven {
            return Err(KeyRefusal(KeyProblem::Mismatch { purpose }).into());
        }
    }
    Ok(())
}

/// Records the check values of the keys held, then reads them back: a second server that set
/// up the same empty database at the same moment with other keys is refused here.
async fn record_keys(store: &dyn Store, held: &HeldKeys) -> anyhow::Result<()> {
    let checks: Vec<_> = held.held().iter().map(marac_domain::keys::HeldKey::check).collect();
    let purposes: Vec<&str> = checks.iter().map(|c| c.purpose.code()).collect();
    let event = cli_event("keys.record", "keys", serde_json::json!({ "keys": purposes, "key_id": 1 }));
    let added = store.record_key_checks(&checks, event).await.context("cannot record the keys' check values")?;
    if added > 0 {
        tracing::info!(keys = ?purposes, "recorded the keys' check values");
    }
    let recorded = store.key_checks().await?;
    marac_domain::keys::compare(&held.held(), &recorded, KeyPurpose::ALL).map_err(KeyRefusal)?;
    Ok(())
}

/// Opens the database for a command that only reads, with just the keys it needs.
pub async fn open_read(
    settings: &Settings,
    needed: &'static [KeyPurpose],
) -> anyhow::Result<(Arc<dyn Store>, HeldKeys)> {
    open_checked(settings, Access::Read(needed)).await
}

/// Opens the database with all three keys, for a command that only reads.
pub async fn open(settings: &Settings) -> anyhow::Result<(Arc<dyn Store>, Secrets)> {
    let (store, held) = open_checked(settings, Access::Read(KeyPurpose::ALL)).await?;
    Ok((store, held.secrets().map_err(KeyRefusal)?))
}

/// Opens, checks the keys (making them for an empty database) and applies the schema
/// migrations.
pub async fn open_migrated(settings: &Settings) -> anyhow::Result<(Arc<dyn Store>, Secrets)> {
    let (store, held) = open_checked(settings, Access::Write).await?;
    Ok((store, held.secrets().map_err(KeyRefusal)?))
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
        idempotency: None,
        notices: Vec::new(),
    }
}
