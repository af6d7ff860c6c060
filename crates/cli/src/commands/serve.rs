//! `marac serve`.

use crate::secrets::Secrets;
use crate::settings::{LogFormat, Settings};
use anyhow::Context;
use marac_app::clock::SystemClock;
use marac_app::mailer::Mailer;
use marac_app::worker::Worker;
use marac_store::Store;
use marac_web::server::Limits;
use marac_web::{AppState, WebConfig};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing_subscriber::EnvFilter;

/// Starts structured logging: requests and errors, never personal data.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("MARAC_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// `marac serve`.
pub async fn run(settings: &Settings) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    init_logging(settings.log_format);
    let (store, secrets) = super::open_ready(settings).await?;
    serve(settings, store, &secrets, started, |_| {}).await
}

/// Serves until SIGTERM or Ctrl-C, calling `on_ready` with the sign-in address once listening.
pub async fn serve(
    settings: &Settings,
    store: Arc<dyn Store>,
    secrets: &Secrets,
    started: Instant,
    on_ready: impl FnOnce(&str),
) -> anyhow::Result<ExitCode> {
    let demo = store.list_partnerships().await?.iter().any(|p| p.is_demo);
    // Accounts that no longer fit the separation of duties are named, never changed silently.
    for u in marac_web::routes::admin::users::mixed_duties(&store.list_users().await?) {
        tracing::warn!(
            user = u.id,
            email = %u.email,
            "an account holds the administrator role together with roles that read cases: an administrator should change it"
        );
    }
    let config = WebConfig {
        secure_cookies: settings.is_https(),
        hsts: settings.is_https(),
        second_factor_roles: settings.second_factor_roles.clone(),
        demo,
        trust_proxy: settings.trust_proxy,
        suppress_below: settings.suppress_below,
        list_retention_days: settings.list_retention_days,
    };
    let keys = secrets.web_keys();
    let state = AppState::new(store, config, keys, Arc::new(SystemClock));
    let mailer = match &settings.smtp_url {
        Some(url) => Some(Mailer::new(url, &settings.mail_from).context("MARAC_SMTP_URL")?),
        None => None,
    };
    // Every server runs the worker; claims keep two of them from sending the same message.
    let worker = tokio::spawn(
        Worker::new(state.app.clone(), mailer, &settings.public_url).run(Duration::from_secs(settings.worker_seconds)),
    );
    let app = marac_web::router(state);
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on {} (MARAC_BIND)", settings.bind))?;
    let limits = Limits::for_open_files(marac_web::server::open_file_limit(), settings.shutdown_timeout);
    let address = format!("{}/sign-in", settings.public_url.trim_end_matches('/'));
    tracing::info!(
        bind = %settings.bind,
        max_connections = limits.max_connections,
        ready_ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    println!("Marac case management is ready at {address} (started in {} ms)", started.elapsed().as_millis());
    on_ready(&address);
    marac_web::server::serve(listener, app, limits, shutdown_signal()).await.context("server stopped with an error")?;
    // A message being sent now is left claimed; its lease lapses and a server sends it later.
    worker.abort();
    println!("Stopped.");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
