//! About 18 months of synthetic referrals for the demo, from a seeded generator: varied
//! scores and criteria, repeats inside and outside 12 months, children, 16-17 year-old
//! victims, joint referrals, and every agency category. Each goes through the same
//! matching, rules and storage as a real one, dated by a clock set to its day.
//!
//! Three named cases are fixed for training and the browser tests, in the Marac of the printed
//! demo referrer (Northshire North) unless said: Jordan Ashby (with Lee Ashby), last referred 11
//! months ago, and Casey Morrow (with Ray Morrow), 13 months ago; and, held by Eastport, Robin
//! Hale (with Dale Hale), 4 months ago, whom a referral to Northshire North meets as a case
//! another Marac holds.

use anyhow::Context as _;
use marac_app::Keys;
use marac_app::casework::{self, Purpose};
use marac_app::clock::{Clock, ManualClock};
use marac_domain::Role;
use marac_domain::checklist::Checklist;
use marac_domain::policy::Grant;
use marac_domain::referral_form::FormMap;
use marac_domain::referral_form::field;
use marac_store::{Decision, DirectoryEntry, DirectoryKind, Marac, NewUser, ReferralFilter, Store, Ts, User};
use std::sync::Arc;
use time::{Date, Duration, OffsetDateTime};

/// A small deterministic generator (xorshift64*): the same demo every time, no dependency.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }
}

pub(super) const WOMEN: &[&str] = &[
    "Amy", "Bethany", "Chloe", "Danielle", "Emma", "Fatima", "Gemma", "Hannah", "Imogen", "Jade", "Kirsty", "Laura",
    "Megan", "Nadia", "Olivia", "Paige", "Rachel", "Sadia", "Tanya", "Vicky", "Zoe", "Aisha", "Kelly", "Leanne",
];
pub(super) const MEN: &[&str] = &[
    "Aaron", "Ben", "Craig", "Darren", "Euan", "Gary", "Imran", "Jamie", "Kyle", "Liam", "Mark", "Nathan", "Ryan",
    "Scott", "Tom", "Wayne",
];
pub(super) const FAMILIES: &[&str] = &[
    "Ahmed", "Baker", "Clarke", "Davies", "Evans", "Fletcher", "Green", "Hughes", "Iqbal", "Jones", "Khan", "Lewis",
    "Morris", "Nowak", "Owen", "Parker", "Quinn", "Roberts", "Singh", "Taylor", "Walsh", "Wright", "Young", "Kowalski",
];
const POSTCODES: &[&str] =
    &["NS1 4AB", "NS2 7QT", "NS3 1LP", "NS4 9DW", "NS7 2RF", "SS1 3HG", "SS2 8JN", "SS5 6KD", "EP1 2XY", "EP3 5TB"];

/// A case the generator may refer again.
struct Known {
    marac: usize,
    victim: (String, String, String),
    perpetrator: (String, String, String),
    postcode: String,
    last: Date,
}

fn dmy(d: Date) -> String {
    format!("{}/{}/{}", d.day(), u8::from(d.month()), d.year())
}

struct Generator<'a> {
    store: &'a dyn Store,
    clock: Arc<ManualClock>,
    state: marac_app::App,
    dash: Checklist,
    rng: Rng,
}

impl Generator<'_> {
    fn form(&mut self, marac: &Marac, known: &Known, on: Date, joint: Option<i64>) -> FormMap {
        let r = &mut self.rng;
        let mut f = FormMap::new();
        let mut put = |k: &str, v: String| {
            f.insert(k.to_owned(), v);
        };
        put(field::REFERRAL_MARAC, marac.id.to_string());
        put(field::REFERRAL_INCIDENT_DATE, dmy(on - Duration::days(i64::try_from(r.below(6)).unwrap_or(0))));
        if let Some(j) = joint {
            put(field::REFERRAL_JOINT_AGENCY, j.to_string());
        }
        let (g, fam, dob) = &known.victim;
        put(field::VICTIM_GIVEN_NAME, g.clone());
        put(field::VICTIM_FAMILY_NAME, fam.clone());
        put(field::VICTIM_DATE_OF_BIRTH, dob.clone());
        put(field::VICTIM_GENDER, if r.chance(92) { "female" } else { "male" }.into());
        put(
            field::VICTIM_ETHNICITY,
            r.pick(&[
                "white_british",
                "white_british",
                "white_british",
                "asian_pakistani",
                "black_african",
                "white_other",
                "mixed_other",
                "not_known",
            ])
            .to_string(),
        );
        put(field::VICTIM_DISABILITY, r.pick(&["no", "no", "no", "yes", "not_known"]).to_string());
        put(field::VICTIM_LGBT, r.pick(&["no", "no", "no", "no", "yes", "not_known"]).to_string());
        put(field::VICTIM_PREGNANT, r.pick(&["no", "no", "no", "no", "yes"]).to_string());
        put(field::VICTIM_INTERPRETER, if r.chance(8) { "yes" } else { "no" }.into());
        put(field::VICTIM_POSTCODE, known.postcode.clone());
        let (pg, pf, pdob) = &known.perpetrator;
        put("perpetrators.0.given_name", pg.clone());
        put("perpetrators.0.family_name", pf.clone());
        put("perpetrators.0.date_of_birth", pdob.clone());
        put("perpetrators.0.gender", "male".into());
        put("perpetrators.0.relationship", r.pick(&["partner", "ex_partner", "ex_partner", "family"]).to_string());
        let children = r.pick(&[0u64, 0, 1, 1, 2, 2, 3]);
        put(field::CHILDREN_ANY, if *children > 0 { "yes" } else { "no" }.into());
        for i in 0..*children {
            let born = on - Duration::days(i64::try_from(365 + r.below(365 * 15)).unwrap_or(400));
            put(&format!("children.{i}.name"), r.pick(WOMEN).to_string());
            put(&format!("children.{i}.date_of_birth"), dmy(born));
            put(&format!("children.{i}.relationship"), "child_of_victim".into());
            put(&format!("children.{i}.known_to_social_care"), r.pick(&["yes", "no", "not_known"]).to_string());
            put(&format!("children.{i}.child_protection_plan"), r.pick(&["no", "no", "yes"]).to_string());
        }
        // Mostly visible high risk; some on judgement, some on escalation.
        let kind = r.below(10);
        let yes = match kind {
            0..=5 => 14 + r.below(8),
            6 | 7 => 7 + r.below(6),
            _ => 4 + r.below(8),
        };
        put(field::CHECKLIST_VERSION, format!("{}@{}", self.dash.id, self.dash.version));
        for (i, q) in self.dash.questions().enumerate() {
            let a = if (i as u64) < yes {
                "yes"
            } else if r.chance(15) {
                "dont_know"
            } else {
                "no"
            };
            put(&format!("checklist.answer.{}", q.id), a.into());
        }
        if (6..=7).contains(&kind) {
            put(field::REASON_PROFESSIONAL_JUDGEMENT, "yes".into());
            put(field::REASON_PROFESSIONAL_JUDGEMENT_REASON, "Recent separation and threats to take the children; the victim is more frightened than her answers show.".into());
        } else {
            put(field::REASON_PROFESSIONAL_JUDGEMENT, "no".into());
        }
        if kind >= 8 {
            let incidents: Vec<String> = (0..3 + r.below(2))
                .map(|k| dmy(on - Duration::days(i64::try_from(20 + k * 70).unwrap_or(20))))
                .collect();
            put(field::REFERRAL_POLICE_INCIDENTS, incidents.join("\n"));
        }
        let consent = r.chance(85);
        put(field::CONSENT_GIVEN, if consent { "yes" } else { "no" }.into());
        put(field::CONSENT_VICTIM_KNOWS, if consent || r.chance(50) { "yes" } else { "no" }.into());
        if !consent {
            put(field::CONSENT_JUSTIFICATION, "Risk of serious harm to the victim and children outweighs the lack of consent; discussed with the safeguarding lead.".into());
        }
        put(field::CONSENT_PREVIOUS_MARACS, r.pick(&["no", "no", "yes", "not_known"]).to_string());
        put(
            field::SUMMARY_TEXT,
            "Synthetic demo referral: incident after separation, victim frightened, children present at times.".into(),
        );
        f
    }
}

fn person(rng: &mut Rng, women: bool, min_age: u64, max_age: u64, on: Date) -> (String, String, String) {
    let given = rng.pick(if women { WOMEN } else { MEN }).to_string();
    let family = rng.pick(FAMILIES).to_string();
    // 366 days a year keeps a 16-year-old 16 across leap years.
    let age_days = (min_age * 366 + rng.below((max_age - min_age) * 365 - 20)) as i64;
    (given, family, dmy(on - Duration::days(age_days)))
}

/// Demo practitioners who make the synthetic referrals: one referrer per agency.
async fn referrers(store: &dyn Store, marac_ids: &[i64]) -> anyhow::Result<Vec<User>> {
    let mut users = Vec::new();
    let hash = marac_app::password::hash_blocking(super::demo::DEMO_PASSWORD)?;
    for agency in store.list_agencies().await? {
        let email = format!("referrer-{}@demo.marac.example", agency.code.to_lowercase());
        let id = match store.find_user_by_email(&email).await? {
            Some(u) => u.id,
            None => {
                let user = NewUser {
                    email,
                    name: format!("Referrer at {}", agency.name),
                    agency_id: Some(agency.id),
                    password_hash: hash.clone(),
                    is_demo: true,
                    grants: marac_ids.iter().map(|m| Grant { role: Role::Referrer, marac_id: Some(*m) }).collect(),
                };
                store
                    .create_user(&user, super::cli_event("user.create", "", serde_json::json!({ "demo": true })))
                    .await?
            }
        };
        users.push(store.get_user(id).await?);
    }
    Ok(users)
}

async fn directory(store: &dyn Store, rng: &mut Rng, maracs: &[Marac]) -> anyhow::Result<()> {
    if !store.list_directory().await?.is_empty() {
        return Ok(());
    }
    let at = Ts::new(OffsetDateTime::now_utc());
    for m in maracs {
        let entry = DirectoryEntry {
            id: 0,
            marac_id: m.id,
            agency_id: None,
            kind: DirectoryKind::Coordinator,
            name: "Alex Morgan".into(),
            job_title: "Marac coordinator".into(),
            email: format!("marac.{}@northshire-idva.example", m.code.to_lowercase()),
            phone: "01632 960 100".into(),
        };
        store
            .add_directory_entry(&entry, at, super::cli_event("directory.add", "", serde_json::json!({ "demo": true })))
            .await?;
        for a in store.list_agencies().await?.into_iter().filter(|a| a.marac_ids.contains(&m.id)) {
            for kind in [DirectoryKind::Representative, DirectoryKind::Deputy] {
                let woman = rng.chance(70);
                let (given, family, _) = person(rng, woman, 30, 60, at.0.date());
                let entry = DirectoryEntry {
                    id: 0,
                    marac_id: m.id,
                    agency_id: Some(a.id),
                    kind,
                    name: format!("{given} {family}"),
                    job_title: format!("{} Marac {}", a.code, kind.label().to_lowercase()),
                    email: format!(
                        "{}.{}@{}.example",
                        given.to_lowercase(),
                        family.to_lowercase(),
                        a.code.to_lowercase()
                    ),
                    phone: format!("01632 960 {:03}", rng.below(1000)),
                };
                store
                    .add_directory_entry(
                        &entry,
                        at,
                        super::cli_event("directory.add", "", serde_json::json!({ "demo": true })),
                    )
                    .await?;
            }
        }
    }
    Ok(())
}

/// How far back the demo's referrals go: 18 months.
pub const DAYS_OF_REFERRALS: i64 = 548;

/// Adds the synthetic referrals once; returns how many were made.
///
/// # Errors
/// Store failures, or a demo referral the rules refuse (a generator bug).
pub async fn seed(store: Arc<dyn Store>, keys: Keys, marac_codes: &[&str]) -> anyhow::Result<usize> {
    let all = store.list_maracs().await?;
    let maracs: Vec<Marac> = all.into_iter().filter(|m| marac_codes.contains(&m.code.as_str())).collect();
    let mut rng = Rng(0x2026_1123_dead_beef);
    directory(store.as_ref(), &mut rng, &maracs).await?;
    if !store.list_referrals(&ReferralFilter { limit: 1, ..Default::default() }).await?.is_empty() {
        return Ok(0);
    }
    let marac_ids: Vec<i64> = maracs.iter().map(|m| m.id).collect();
    let referrers = referrers(store.as_ref(), &marac_ids).await?;
    let coordinator =
        store.find_user_by_email("coordinator@demo.marac.example").await?.context("demo coordinator missing")?;
    let dash_text = marac_domain::checklist::SHIPPED[0];
    let now = OffsetDateTime::now_utc();
    let clock = Arc::new(ManualClock::new(now));
    let state = marac_app::App::new(store.clone(), keys, clock.clone(), marac_app::DEFAULT_LIST_RETENTION_DAYS);
    let mut g = Generator {
        store: store.as_ref(),
        clock,
        state,
        dash: Checklist::parse(dash_text).map_err(|e| anyhow::anyhow!("{e}"))?,
        rng,
    };

    // Referrals arrive over 18 months at about 60% of SafeLives' recommended volume.
    let today = now.date();
    let start = today - Duration::days(DAYS_OF_REFERRALS);
    let mut plan: Vec<(Date, usize, Option<usize>)> = Vec::new();
    let mut known: Vec<Known> = Vec::new();
    let mut day = start;
    while day <= today {
        for (i, m) in maracs.iter().enumerate() {
            let per_day = m.adult_female_population as f64 * 40.0 / 10_000.0 / 365.0 * 0.6;
            if (g.rng.below(10_000) as f64) < per_day * 10_000.0 {
                plan.push((day, i, None));
            }
        }
        day += Duration::days(1);
    }
    let index_of = |code: &str| maracs.iter().position(|m| m.code == code).unwrap_or(0);
    let fixed = [
        ("Jordan", "Ashby", "14/2/1992", "Lee", "Ashby", "8/10/1988", 334, index_of("NSN")),
        ("Casey", "Morrow", "2/7/1987", "Ray", "Morrow", "19/1/1985", 396, index_of("NSN")),
        ("Robin", "Hale", "22/5/1990", "Dale", "Hale", "3/3/1986", 120, index_of("EPT")),
    ];
    for (i, f) in fixed.iter().enumerate() {
        plan.push((today - Duration::days(f.6), f.7, Some(i)));
    }
    plan.sort_by_key(|p| p.0);
    let mut made = 0;
    for (day, marac_index, fixed_case) in plan {
        if let Some(i) = fixed_case {
            let (vg, vf, vd, pg, pf, pd, _, marac) = fixed[i];
            let victim = (vg.into(), vf.into(), vd.into());
            known.push(Known {
                marac,
                victim,
                perpetrator: (pg.into(), pf.into(), pd.into()),
                postcode: "NS1 4AB".into(),
                last: day,
            });
            made += g.submit(&maracs, &referrers, &coordinator, known.len() - 1, &mut known, day, true).await?;
            continue;
        }
        // About one in six is the same victim and perpetrator again, some within 12 months;
        // the training cases are left as they are.
        let again = known
            .iter()
            .enumerate()
            .filter(|(_, k)| {
                k.marac == marac_index
                    && day - k.last > Duration::days(60)
                    && !["Ashby", "Morrow", "Hale"].contains(&k.victim.1.as_str())
            })
            .map(|(i, _)| i)
            .collect::<Vec<_>>();
        let index = if !again.is_empty() && g.rng.chance(16) {
            again[usize::try_from(g.rng.below(again.len() as u64)).unwrap_or(0)]
        } else {
            let victim = if g.rng.chance(5) {
                person(&mut g.rng, true, 16, 18, day)
            } else {
                person(&mut g.rng, true, 18, 70, day)
            };
            let perpetrator = if g.rng.chance(3) {
                person(&mut g.rng, false, 15, 18, day)
            } else {
                person(&mut g.rng, false, 18, 65, day)
            };
            let postcode = g.rng.pick(POSTCODES).to_string();
            known.push(Known { marac: marac_index, victim, perpetrator, postcode, last: day });
            known.len() - 1
        };
        made += g.submit(&maracs, &referrers, &coordinator, index, &mut known, day, false).await?;
    }
    Ok(made)
}

impl Generator<'_> {
    #[allow(clippy::too_many_arguments, reason = "one call site, all of the generator's state")]
    async fn submit(
        &mut self,
        maracs: &[Marac],
        referrers: &[User],
        coordinator: &User,
        index: usize,
        known: &mut [Known],
        day: Date,
        fixed: bool,
    ) -> anyhow::Result<usize> {
        let marac = &maracs[known[index].marac];
        let referrer = if fixed { &referrers[0] } else { self.rng.pick(referrers) };
        let joint = (self.rng.chance(5))
            .then(|| self.rng.pick(referrers).agency_id)
            .flatten()
            .filter(|j| Some(*j) != referrer.agency_id);
        let map = self.form(marac, &known[index], day, joint);
        self.clock.set(day.with_hms(10, 0, 0).map(|t| t.assume_utc()).unwrap_or_else(|_| OffsetDateTime::now_utc()));
        let prepared =
            match casework::prepare(&self.state, referrer, &map, None).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                Ok(p) => p,
                Err(errors) => anyhow::bail!("demo referral refused: {:?}", errors.first()),
            };
        let at = Ts::new(self.clock.now());
        let event = super::cli_event("referral.submit", "", serde_json::json!({ "demo": true }));
        let done = self.store.submit_referral(&prepared.submission, at, event, &marac_store::tell_no_one).await?;
        known[index].last = day;
        // The last two days' referrals wait for triage; older ones were decided.
        let age = OffsetDateTime::now_utc().date() - day;
        // A referral that met a case another Marac holds waits for that Marac, as a real one would.
        let held_elsewhere = done.case_id.is_none();
        if (age > Duration::days(2) || fixed) && !held_elsewhere {
            let roll = self.rng.below(100);
            let decision = if fixed || roll < 88 {
                Decision::Accept
            } else if roll < 97 {
                Decision::Decline(casework::seal(
                    &self.state,
                    Purpose::Decision,
                    &"Does not meet the criteria; referred to the Idva service.",
                )?)
            } else {
                Decision::SendBack(casework::seal(
                    &self.state,
                    Purpose::Decision,
                    &"Please complete the risk checklist with the victim.",
                )?)
            };
            let event = super::cli_event(
                "referral.decide",
                &format!("referral:{}", done.referral_id),
                serde_json::json!({ "demo": true }),
            );
            self.store.decide_referral(done.referral_id, &decision, coordinator.id, at, event).await?;
        }
        Ok(1)
    }
}
