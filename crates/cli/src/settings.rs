//! Settings: flags, then `MARAC_*` environment variables, then `marac.toml`, then defaults.
//!
//! Every problem is reported as one line naming the setting as the user gave it
//! (`--bind`, `MARAC_BIND` or `bind in marac.toml`) and what is wrong with it.

use clap::ArgMatches;
use clap::parser::ValueSource;
use marac_domain::Role;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A setting that cannot be used; the message is shown as it is.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingError(pub String);

/// The optional settings file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    bind: Option<String>,
    public_url: Option<String>,
    db_pool_size: Option<u32>,
    db_acquire_seconds: Option<u64>,
    shutdown_seconds: Option<u64>,
    second_factor_roles: Option<Vec<String>>,
    trust_proxy: Option<bool>,
    log_format: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    worker_seconds: Option<u64>,
    suppress_below: Option<u32>,
    list_retention_days: Option<u32>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where keys and the SQLite database live.
    pub data_dir: PathBuf,
    /// The database.
    pub database_url: String,
    /// Address to listen on.
    pub bind: SocketAddr,
    /// The address people use, which decides cookie security and HSTS.
    pub public_url: String,
    /// Most database connections.
    pub db_pool_size: u32,
    /// How long a request waits for a database connection before it is answered 503.
    pub db_acquire_timeout: std::time::Duration,
    /// How long a stopping server lets requests in flight finish before it closes the rest.
    pub shutdown_timeout: std::time::Duration,
    /// Roles that must use a second factor besides admin and coordinator.
    pub second_factor_roles: Vec<Role>,
    /// Trust `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// The SMTP server e-mail goes to; none for inbox only.
    pub smtp_url: Option<String>,
    /// The From address.
    pub mail_from: String,
    /// Seconds between the worker's rounds.
    pub worker_seconds: u64,
    /// Small-number suppression threshold for aggregate figures.
    pub suppress_below: u32,
    /// Days an agency's uploaded list is kept before its rows are deleted.
    pub list_retention_days: u32,
}

impl Settings {
    /// Whether the public address is HTTPS.
    #[must_use]
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Names a setting the way the user supplied it.
fn origin(matches: &ArgMatches, id: &str, flag: &str, env: &str, file_key: &str) -> String {
    match matches.value_source(id) {
        Some(ValueSource::CommandLine) => format!("--{flag}"),
        Some(ValueSource::EnvVariable) => env.to_owned(),
        _ => format!("{file_key} in marac.toml"),
    }
}

fn arg(matches: &ArgMatches, id: &str) -> Option<String> {
    matches.try_get_one::<String>(id).ok().flatten().cloned()
}

/// Reads the settings file and combines it with flags and environment (already in `matches`).
///
/// # Errors
/// One line naming the first bad setting.
pub fn resolve(matches: &ArgMatches) -> Result<Settings, SettingError> {
    let explicit_file = arg(matches, "config").map(PathBuf::from);
    let file_path = explicit_file.clone().unwrap_or_else(|| PathBuf::from("marac.toml"));
    let file: FileSettings = if file_path.exists() {
        let text = std::fs::read_to_string(&file_path)
            .map_err(|e| SettingError(format!("{}: cannot read: {e}", file_path.display())))?;
        toml::from_str(&text).map_err(|e| {
            let msg = e.message().to_owned();
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            SettingError(match line {
                Some(l) => format!("{}, line {l}: {msg}", file_path.display()),
                None => format!("{}: {msg}", file_path.display()),
            })
        })?
    } else if explicit_file.is_some() {
        return Err(SettingError(format!("--config: {} does not exist", file_path.display())));
    } else {
        FileSettings::default()
    };

    let data_dir =
        arg(matches, "data_dir").map(PathBuf::from).or(file.data_dir).unwrap_or_else(|| PathBuf::from("./marac-data"));
    if data_dir.as_os_str().is_empty() {
        return Err(SettingError("MARAC_DATA_DIR: must not be empty".into()));
    }

    let database_url = match arg(matches, "database_url").or(file.database_url) {
        Some(url) => {
            if let Err(m) = marac_store::Backend::from_url(&url) {
                let who = origin(matches, "database_url", "database-url", "MARAC_DATABASE_URL", "database_url");
                return Err(SettingError(format!("{who}: {m}")));
            }
            url
        }
        None => format!("sqlite:{}", data_dir.join("marac.db").display()),
    };

    let bind_text = arg(matches, "bind").or(file.bind).unwrap_or_else(|| "127.0.0.1:8080".into());
    let bind: SocketAddr = bind_text.parse().map_err(|_| {
        let who = origin(matches, "bind", "bind", "MARAC_BIND", "bind");
        SettingError(format!(
            "{who}: '{bind_text}' is not an address to listen on (expected IP:PORT, like 127.0.0.1:8080)"
        ))
    })?;

    let public_given = arg(matches, "public_url").is_some() || file.public_url.is_some();
    let public_url = arg(matches, "public_url").or(file.public_url).unwrap_or_else(|| format!("http://{bind}"));
    let who_public = if public_given {
        origin(matches, "public_url", "public-url", "MARAC_PUBLIC_URL", "public_url")
    } else {
        "MARAC_PUBLIC_URL (not set, so http:// is assumed)".to_owned()
    };
    if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
        return Err(SettingError(format!(
            "{who_public}: '{public_url}' must start with https:// (or http:// on this computer only)"
        )));
    }
    if public_url.starts_with("http://") && !bind.ip().is_loopback() {
        return Err(SettingError(format!(
            "{who_public}: plain http is only allowed when listening on a loopback address, but the bind address is {bind}; serve behind a TLS proxy and set it to https://..."
        )));
    }

    let db_pool_size = bounded(
        matches,
        Bounded { id: "db_pool_size", flag: "db-pool-size", env: "MARAC_DB_POOL_SIZE", what: "a pool size" },
        file.db_pool_size,
        1..=500,
        10,
    )?;

    let db_acquire_seconds = bounded(
        matches,
        Bounded {
            id: "db_acquire_seconds",
            flag: "db-acquire-seconds",
            env: "MARAC_DB_ACQUIRE_SECONDS",
            what: "a number of seconds",
        },
        file.db_acquire_seconds,
        1..=60,
        marac_store::ConnectOptions::DEFAULT_ACQUIRE_TIMEOUT.as_secs(),
    )?;

    let shutdown_seconds = bounded(
        matches,
        Bounded {
            id: "shutdown_seconds",
            flag: "shutdown-seconds",
            env: "MARAC_SHUTDOWN_SECONDS",
            what: "a number of seconds",
        },
        file.shutdown_seconds,
        1..=600,
        20,
    )?;

    let roles_text: Option<Vec<String>> = arg(matches, "second_factor_roles")
        .map(|s| s.split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).collect())
        .or(file.second_factor_roles);
    let second_factor_roles = roles_text
        .unwrap_or_default()
        .iter()
        .map(|r| {
            r.parse::<Role>().map_err(|e| {
                let who = origin(
                    matches,
                    "second_factor_roles",
                    "second-factor-roles",
                    "MARAC_SECOND_FACTOR_ROLES",
                    "second_factor_roles",
                );
                SettingError(format!("{who}: {e}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let trust_proxy = match arg(matches, "trust_proxy") {
        Some(t) => parse_bool(&t).ok_or_else(|| {
            let who = origin(matches, "trust_proxy", "trust-proxy", "MARAC_TRUST_PROXY", "trust_proxy");
            SettingError(format!("{who}: '{t}' is not true or false"))
        })?,
        None => file.trust_proxy.unwrap_or(false),
    };

    let log_text = arg(matches, "log_format").or(file.log_format).unwrap_or_else(|| "text".into());
    let log_format = match log_text.as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            let who = origin(matches, "log_format", "log-format", "MARAC_LOG_FORMAT", "log_format");
            return Err(SettingError(format!("{who}: '{other}' is not a log format (expected text or json)")));
        }
    };

    let smtp_url = arg(matches, "smtp_url").or(file.smtp_url).filter(|u| !u.trim().is_empty());
    if let Some(url) = &smtp_url
        && let Err(e) = marac_app::mailer::Mailer::new(url, "check@localhost")
    {
        let who = origin(matches, "smtp_url", "smtp-url", "MARAC_SMTP_URL", "smtp_url");
        return Err(SettingError(format!("{who}: {e}")));
    }
    let mail_from = arg(matches, "mail_from")
        .or(file.mail_from)
        .unwrap_or_else(|| "Marac case management <marac@localhost>".into());
    if let Err(e) = marac_app::mailer::Mailer::parse_from(&mail_from) {
        let who = origin(matches, "mail_from", "mail-from", "MARAC_MAIL_FROM", "mail_from");
        return Err(SettingError(format!("{who}: {e}")));
    }

    let worker_seconds = bounded(
        matches,
        Bounded {
            id: "worker_seconds",
            flag: "worker-seconds",
            env: "MARAC_WORKER_SECONDS",
            what: "a number of seconds",
        },
        file.worker_seconds,
        1..=3600,
        30,
    )?;

    let suppress_below = bounded(
        matches,
        Bounded {
            id: "suppress_below",
            flag: "suppress-below",
            env: "MARAC_SUPPRESS_BELOW",
            what: "a suppression threshold",
        },
        file.suppress_below,
        2..=20,
        marac_domain::suppression::DEFAULT_THRESHOLD,
    )?;

    let list_retention_days = bounded(
        matches,
        Bounded {
            id: "list_retention_days",
            flag: "list-retention-days",
            env: "MARAC_LIST_RETENTION_DAYS",
            what: "a number of days",
        },
        file.list_retention_days,
        1..=90,
        marac_app::DEFAULT_LIST_RETENTION_DAYS,
    )?;

    Ok(Settings {
        data_dir,
        database_url,
        bind,
        public_url,
        db_pool_size,
        db_acquire_timeout: std::time::Duration::from_secs(db_acquire_seconds),
        shutdown_timeout: std::time::Duration::from_secs(shutdown_seconds),
        second_factor_roles,
        trust_proxy,
        log_format,
        smtp_url,
        mail_from,
        worker_seconds,
        suppress_below,
        list_retention_days,
    })
}

/// A whole-number setting's names, for its messages.
struct Bounded {
    id: &'static str,
    flag: &'static str,
    env: &'static str,
    what: &'static str,
}

/// A whole number from a flag or the environment, else the file, else `default`; outside
/// `range` it is refused with a message naming the setting as the user gave it.
fn bounded<T>(
    matches: &ArgMatches,
    names: Bounded,
    from_file: Option<T>,
    range: std::ops::RangeInclusive<T>,
    default: T,
) -> Result<T, SettingError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let expected = format!("expected a whole number from {} to {}", range.start(), range.end());
    match arg(matches, names.id) {
        Some(text) => text.parse::<T>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            let who = origin(matches, names.id, names.flag, names.env, names.id);
            SettingError(format!("{who}: '{text}' is not {} ({expected})", names.what))
        }),
        None => match from_file {
            Some(n) if range.contains(&n) => Ok(n),
            Some(n) => Err(SettingError(format!("{} in marac.toml: {n} is not {} ({expected})", names.id, names.what))),
            None => Ok(default),
        },
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Makes the data directory if needed, readable by its owner only.
///
/// # Errors
/// When it cannot be created.
pub fn ensure_data_dir(dir: &Path) -> Result<(), SettingError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| SettingError(format!("MARAC_DATA_DIR: cannot create {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| SettingError(format!("MARAC_DATA_DIR: cannot restrict {}: {e}", dir.display())))?;
    }
    Ok(())
}
