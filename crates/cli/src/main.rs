//! `marac`: the one binary. Serves the web application, migrates, seeds the demo, manages
//! users and checks the audit trail.

mod commands;
mod secrets;
mod settings;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// Case management for Maracs.
#[derive(Debug, Parser)]
#[command(name = "marac", version, about = "Case management for Marac meetings", propagate_version = true)]
struct Cli {
    #[command(flatten)]
    settings: SettingArgs,
    #[command(subcommand)]
    command: Command,
}

/// Settings shared by every command. Each may also be set in the environment or marac.toml.
#[derive(Debug, Args)]
struct SettingArgs {
    /// Settings file (default: ./marac.toml if it exists).
    #[arg(long, env = "MARAC_CONFIG", global = true, id = "config")]
    config: Option<String>,
    /// Directory for keys and the SQLite database.
    #[arg(long, env = "MARAC_DATA_DIR", global = true, id = "data_dir")]
    data_dir: Option<String>,
    /// sqlite:PATH or postgres://... (default: SQLite in the data directory).
    #[arg(long, env = "MARAC_DATABASE_URL", global = true, id = "database_url", hide_env_values = true)]
    database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "MARAC_BIND", global = true, id = "bind")]
    bind: Option<String>,
    /// The address people use; https:// unless listening on loopback.
    #[arg(long, env = "MARAC_PUBLIC_URL", global = true, id = "public_url")]
    public_url: Option<String>,
    /// Most database connections (PostgreSQL).
    #[arg(long, env = "MARAC_DB_POOL_SIZE", global = true, id = "db_pool_size")]
    db_pool_size: Option<String>,
    /// Seconds a request waits for a database connection before it is answered 503.
    #[arg(long, env = "MARAC_DB_ACQUIRE_SECONDS", global = true, id = "db_acquire_seconds")]
    db_acquire_seconds: Option<String>,
    /// Seconds a stopping server gives requests in flight before closing every connection.
    #[arg(long, env = "MARAC_SHUTDOWN_SECONDS", global = true, id = "shutdown_seconds")]
    shutdown_seconds: Option<String>,
    /// Comma-separated roles that must use a second factor (admin and coordinator always do).
    #[arg(long, env = "MARAC_SECOND_FACTOR_ROLES", global = true, id = "second_factor_roles")]
    second_factor_roles: Option<String>,
    /// Trust X-Forwarded-For from a reverse proxy.
    #[arg(long, env = "MARAC_TRUST_PROXY", global = true, id = "trust_proxy")]
    trust_proxy: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "MARAC_LOG_FORMAT", global = true, id = "log_format")]
    log_format: Option<String>,
    /// Where to send e-mail: smtp://HOST:PORT (plain, for a relay on this network),
    /// smtps://USER:PASS@HOST or smtp://USER:PASS@HOST?tls=required. Unset: inbox only.
    #[arg(long, env = "MARAC_SMTP_URL", global = true, id = "smtp_url", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The From address of e-mail.
    #[arg(long, env = "MARAC_MAIL_FROM", global = true, id = "mail_from")]
    mail_from: Option<String>,
    /// Seconds between the background worker's rounds (reminders, escalations, e-mail).
    #[arg(long, env = "MARAC_WORKER_SECONDS", global = true, id = "worker_seconds")]
    worker_seconds: Option<String>,
    /// In figures for analysts and board members, counts from 1 up to one less than this show
    /// as "fewer than" it (and a second figure is hidden where a total would reveal one).
    #[arg(long, env = "MARAC_SUPPRESS_BELOW", global = true, id = "suppress_below")]
    suppress_below: Option<String>,
    /// Days an agency's list uploaded for cross-referencing is kept before its rows are
    /// deleted (what it linked stays with the cases).
    #[arg(long, env = "MARAC_LIST_RETENTION_DAYS", global = true, id = "list_retention_days")]
    list_retention_days: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web application (applies migrations first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Fill a synthetic demo partnership, print the sign-ins, and serve.
    Demo(commands::demo::DemoArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(commands::user::UserCommand),
    /// Load or list risk checklists (questionnaires).
    #[command(subcommand)]
    Questionnaire(commands::questionnaire::QuestionnaireCommand),
    /// Create, list and revoke personal API tokens.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Check or export the audit trail.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Import a Marac's history (referrals) from the CSV template.
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
    /// Run the person matcher on CSV files (benchmarks).
    #[command(subcommand)]
    Linkage(commands::linkage::LinkageCommand),
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let _ = &cli.settings;
    let settings = match settings::resolve(&matches) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve => commands::serve::run(&settings).await,
            Command::Migrate => commands::migrate(&settings).await,
            Command::Demo(args) => commands::demo::run(&settings, args).await,
            Command::User(c) => commands::user::run(&settings, c).await,
            Command::Audit(c) => commands::audit::run(&settings, c).await,
            Command::Token(c) => commands::token::run(&settings, c).await,
            Command::Questionnaire(c) => commands::questionnaire::run(&settings, c).await,
            Command::Import(c) => commands::import::run(&settings, c).await,
            Command::Linkage(c) => commands::linkage::run(c),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Settings and keys that do not fit are the operator's to put right, as at start-up.
            if e.downcast_ref::<settings::SettingError>().is_some()
                || e.downcast_ref::<commands::KeyRefusal>().is_some()
            {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
