//! `marac demo`: a synthetic partnership with three Maracs, an agency of every SafeLives
//! category and a user for every role, so a newcomer can click through every role at once.
//!
//! Everything it makes is marked as demo data; it refuses to run against a database holding
//! real partnerships, so demo and real data are never mixed.

use crate::secrets::Secrets;
use crate::settings::Settings;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use marac_app::clock::SystemClock;
use marac_app::{crypto, password, totp};
use marac_domain::policy::Grant;
use marac_domain::{AgencyCategory, MaracRules, MeetingCadence, Role};
use marac_store::{AgencyInput, MaracInput, NewUser, PartnershipInput, Store};
use sha2::{Digest, Sha256};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Options of `marac demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Only seed the demo data; do not serve.
    #[arg(long)]
    no_serve: bool,
    /// Also make sure the demo partnership knows at least this many people (synthetic, filed
    /// as referrals file them), to rehearse and measure matching at scale.
    #[arg(long, value_name = "N", default_value_t = 0)]
    people: u64,
    /// `national` also makes about 290 Maracs with six years of history (about 720,000
    /// referrals) for benchmarks; it takes minutes.
    #[arg(long, value_enum, default_value_t = Scale::Local)]
    scale: Scale,
    #[command(subcommand)]
    action: Option<DemoAction>,
}

/// How much demo data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scale {
    /// The Northshire partnership only.
    Local,
    /// Northshire and a national-scale dataset for benchmarks.
    National,
}

#[derive(Debug, Subcommand)]
enum DemoAction {
    /// Print the current authenticator code of a demo user (demo accounts only).
    Code {
        /// The demo user's email address.
        email: String,
    },
}

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "northshire-demo-2026";
const PARTNERSHIP: &str = "NSDAP";

const MARACS: &[(&str, &str, &str, i64, MeetingCadence, u32)] = &[
    ("NSN", "Northshire North Marac", "Northshire North", 86_400, MeetingCadence::Fortnightly, 12),
    ("NSS", "Northshire South Marac", "Northshire South", 112_900, MeetingCadence::Weekly, 12),
    ("EPT", "Eastport Marac", "Eastport", 64_300, MeetingCadence::Monthly, 6),
];

const AGENCIES: &[(&str, &str, AgencyCategory)] = &[
    ("POL", "Northshire Police", AgencyCategory::Police),
    ("IDVA", "Northshire Idva Service", AgencyCategory::Idva),
    ("CSC", "Northshire Children's Services", AgencyCategory::ChildrensSocialCare),
    ("ASC", "Northshire Adult Social Care", AgencyCategory::AdultSocialCare),
    ("PCN", "Northshire Primary Care Network", AgencyCategory::PrimaryCare),
    ("ACUTE", "Northshire Hospitals Trust", AgencyCategory::SecondaryCare),
    ("MH", "Northshire Mental Health Trust", AgencyCategory::MentalHealth),
    ("RECOV", "Northshire Recovery Service", AgencyCategory::SubstanceMisuse),
    ("PROB", "Probation Service Northshire", AgencyCategory::Probation),
    ("WA", "Women's Aid Northshire", AgencyCategory::VoluntarySector),
    ("MASH", "Northshire MASH", AgencyCategory::Mash),
    ("EDU", "Northshire Schools", AgencyCategory::Education),
    ("HOUS", "Northshire Housing Options", AgencyCategory::Housing),
    ("FIRE", "Northshire Fire and Rescue", AgencyCategory::Other),
];

/// A demo account: email, name, role, agency code, the Maracs the role is held for.
type DemoUser = (&'static str, &'static str, Role, Option<&'static str>, &'static [&'static str]);

const USERS: &[DemoUser] = &[
    ("admin@demo.marac.example", "Sam Patel", Role::Admin, None, &[]),
    ("coordinator@demo.marac.example", "Alex Morgan", Role::Coordinator, Some("IDVA"), &["NSN", "NSS", "EPT"]),
    ("chair@demo.marac.example", "Jo Carter", Role::Chair, Some("POL"), &["NSN"]),
    ("rep@demo.marac.example", "Priya Shah", Role::AgencyRep, Some("ACUTE"), &["NSN"]),
    ("idva@demo.marac.example", "Chris Evans", Role::Idva, Some("IDVA"), &["NSN"]),
    ("referrer@demo.marac.example", "Lee Walker", Role::Referrer, Some("PCN"), &["NSN"]),
    ("csc@demo.marac.example", "Jamie Okafor", Role::AgencyRep, Some("CSC"), &["NSN"]),
    ("analyst@demo.marac.example", "Morgan Reid", Role::Analyst, Some("ASC"), &["NSN", "NSS", "EPT"]),
    ("auditor@demo.marac.example", "Dana Price", Role::Auditor, None, &[]),
];

/// The demo accounts' authenticator secret: fixed per account so it can be printed and
/// typed into an app. Only ever used for accounts marked as demo.
fn demo_totp_secret(email: &str) -> Vec<u8> {
    Sha256::digest(format!("marac demo authenticator {email}").as_bytes())[..totp::SECRET_BYTES].to_vec()
}

/// `marac demo`.
pub async fn run(settings: &Settings, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    if let Some(DemoAction::Code { email }) = args.action {
        return print_code(settings, &email).await;
    }
    if !args.no_serve {
        super::serve::init_logging(settings.log_format);
    }
    let (store, secrets) = super::open_ready(settings).await?;
    seed(store.as_ref(), &secrets).await?;
    let keys = secrets.web_keys();
    let codes: Vec<&str> = MARACS.iter().map(|m| m.0).collect();
    let made = super::demo_referrals::seed(store.clone(), keys.clone(), &codes).await?;
    if made > 0 {
        println!("Added {made} synthetic referrals over the last 18 months.");
    }
    let state =
        marac_app::App::new(store.clone(), keys.clone(), Arc::new(SystemClock), marac_app::DEFAULT_LIST_RETENTION_DAYS);
    let since = time::OffsetDateTime::now_utc().date() - time::Duration::days(super::demo_referrals::DAYS_OF_REFERRALS);
    let meetings = super::demo_meetings::seed(state.clone(), &codes, since).await?;
    if meetings > 0 {
        println!(
            "Scheduled {meetings} meetings: past ones minuted with their actions, the next with its list published."
        );
    }
    if args.scale == Scale::National {
        let started = Instant::now();
        let hash = password::hash_blocking(DEMO_PASSWORD)?;
        let written = super::demo_national::seed(&state, &hash).await?;
        if written > 0 {
            println!(
                "Added the national-scale data: {} Maracs, {written} referrals over {} years, in {:.0} s. \
                 Sign in as {} to see every Marac's figures.",
                super::demo_national::MARACS,
                super::demo_national::YEARS,
                started.elapsed().as_secs_f64(),
                super::demo_national::ANALYST
            );
        }
    }
    if args.people > 0 {
        let added = super::demo_people::seed(store.clone(), keys, PARTNERSHIP, args.people).await?;
        println!("Added {added} synthetic people; the demo partnership knows at least {}.", args.people);
    }
    let address = format!("{}/sign-in", settings.public_url.trim_end_matches('/'));
    if args.no_serve {
        print_sign_ins(&address);
        return Ok(ExitCode::SUCCESS);
    }
    super::serve::serve(settings, store, &secrets, started, print_sign_ins).await
}

fn print_sign_ins(address: &str) {
    println!();
    println!("Demo sign-ins at {address}  (password for every account: {DEMO_PASSWORD})");
    for (email, name, role, _, _) in USERS {
        let extra = if role.always_needs_second_factor() {
            format!(
                "  authenticator key {}  (or run: marac demo code {email})",
                totp::secret_for_display(&demo_totp_secret(email))
            )
        } else {
            String::new()
        };
        println!("  {:<24} {:<34} {name}{extra}", role.label(), email);
    }
    println!();
}

/// Northshire's local Dash: the shipped 24 questions under a local id and version, plus the
/// local question from `demo-local-dash.toml`. Loading it shows an area adding its own form.
fn local_dash() -> String {
    let local = include_str!("demo-local-dash.toml");
    let shipped = marac_domain::checklist::SHIPPED[0];
    let (head, extra) = local.split_once("[[sections]]").unwrap_or((local, ""));
    let questions = shipped.find("[[sections]]").map_or("", |i| &shipped[i..]);
    format!("{head}{questions}\n[[sections]]{extra}")
}

async fn load_local_checklist(store: &dyn Store) -> anyhow::Result<()> {
    let text = local_dash();
    let c = marac_domain::checklist::Checklist::parse(&text).map_err(|e| anyhow::anyhow!("demo checklist: {e}"))?;
    let record = marac_store::ChecklistRecord::new(&c, text, "imported");
    let event = super::cli_event(
        "checklist.import",
        &format!("checklist:{}:{}", c.id, c.version),
        serde_json::json!({ "demo": true }),
    );
    store.install_checklist(&record, event).await?;
    Ok(())
}

/// Creates whatever of the demo is missing; running it again changes nothing.
pub async fn seed(store: &dyn Store, secrets: &Secrets) -> anyhow::Result<()> {
    if store.has_real_partnerships().await? {
        bail!(
            "this database holds real partnerships, so the demo will not add to it; \
             use an empty MARAC_DATA_DIR or MARAC_DATABASE_URL for the demo"
        );
    }
    load_local_checklist(store).await?;
    let partnership_id = match store.find_partnership_by_code(PARTNERSHIP).await? {
        Some(p) => p.id,
        None => {
            let input = PartnershipInput {
                code: PARTNERSHIP.into(),
                name: "Northshire Domestic Abuse Partnership".into(),
                is_demo: true,
            };
            store
                .create_partnership(
                    &input,
                    super::cli_event("partnership.create", "", serde_json::json!({ "demo": true })),
                )
                .await?
        }
    };
    let mut marac_ids = Vec::new();
    for (code, name, area, population, cadence, escalation_months) in MARACS {
        let id = match store.find_marac_by_code(code).await? {
            Some(m) => m.id,
            None => {
                let input = MaracInput {
                    partnership_id,
                    code: (*code).into(),
                    name: (*name).into(),
                    area: (*area).into(),
                    adult_female_population: *population,
                    cadence: *cadence,
                    rules: MaracRules { escalation_months: *escalation_months, ..MaracRules::default() },
                };
                store
                    .create_marac(&input, super::cli_event("marac.create", "", serde_json::json!({ "demo": true })))
                    .await?
            }
        };
        marac_ids.push(((*code).to_owned(), id));
    }
    let all_maracs: Vec<i64> = marac_ids.iter().map(|(_, id)| *id).collect();
    for (code, name, category) in AGENCIES {
        if store.find_agency_by_code(code).await?.is_none() {
            let input = AgencyInput {
                partnership_id,
                code: (*code).into(),
                name: (*name).into(),
                category: *category,
                marac_ids: all_maracs.clone(),
            };
            store
                .create_agency(&input, super::cli_event("agency.create", "", serde_json::json!({ "demo": true })))
                .await?;
        }
    }
    for (email, name, role, agency, maracs) in USERS {
        if store.find_user_by_email(email).await?.is_some() {
            continue;
        }
        let agency_id = match agency {
            Some(code) => Some(store.find_agency_by_code(code).await?.context("demo agency missing")?.id),
            None => None,
        };
        let grants = if maracs.is_empty() {
            vec![Grant { role: *role, marac_id: None }]
        } else {
            maracs
                .iter()
                .filter_map(|c| marac_ids.iter().find(|(code, _)| code == c))
                .map(|(_, id)| Grant { role: *role, marac_id: Some(*id) })
                .collect()
        };
        let password_hash = password::hash_blocking(DEMO_PASSWORD)?;
        let user =
            NewUser { email: (*email).into(), name: (*name).into(), agency_id, password_hash, is_demo: true, grants };
        let id =
            store.create_user(&user, super::cli_event("user.create", "", serde_json::json!({ "demo": true }))).await?;
        if role.always_needs_second_factor() {
            let secret = demo_totp_secret(email);
            let sealed = crypto::seal(&secrets.web_keys().encryption, &crypto::totp_context(id), &secret)?;
            let codes = totp::new_recovery_codes()?;
            let hashes: Vec<String> =
                codes.iter().map(|c| totp::recovery_code_hash(&secrets.encryption_key, id, c)).collect();
            let event =
                super::cli_event("second_factor.enrolled", &format!("user:{id}"), serde_json::json!({ "demo": true }));
            store.set_second_factor(id, &sealed, 0, &hashes, event).await?;
        }
    }
    Ok(())
}

async fn print_code(settings: &Settings, email: &str) -> anyhow::Result<ExitCode> {
    let (store, _) = super::open(settings).await?;
    let email = email.trim().to_lowercase();
    match store.find_user_by_email(&email).await? {
        Some(u) if u.is_demo && u.totp_secret.is_some() => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            println!("{}", totp::code_at(&demo_totp_secret(&email), now));
            Ok(ExitCode::SUCCESS)
        }
        Some(u) if u.is_demo => bail!("{email} does not use an authenticator"),
        _ => bail!("{email} is not a demo account; codes are only printed for demo accounts"),
    }
}
