//! `marac demo --scale national`: about 290 Maracs in 42 partnerships with six years of
//! referrals (about 720,000), fortnightly meetings, attendance and actions, for benchmarks of
//! the returns at national scale. Figures follow the national dataset's shape (police about
//! two thirds of referrals, about 30% repeats, 16% racially minoritised victims, some
//! characteristics not recorded); every row is written as the pages would have made it, but
//! many at a time, and every person and form holds the same sealed synthetic record.

use super::demo_referrals::Rng;
use marac_app::{App, casework};
use marac_domain::meeting_rules::{ActionKind, ActionStatus, ActionSubject};
use marac_domain::policy::Grant;
use marac_domain::referral_form::field;
use marac_domain::referral_form::{FormMap, Profile, age_group};
use marac_domain::referral_rules::{AgeFlag, Criterion};
use marac_domain::{AgencyCategory, MaracRules, MeetingCadence, Role};
use marac_store::{
    AgencyInput, BulkAction, BulkHistory, BulkMeeting, BulkReferral, MaracInput, NewUser, PartnershipInput,
};
use time::{Date, Duration};

/// Partnerships made.
pub const PARTNERSHIPS: usize = 42;
/// Maracs made across them.
pub const MARACS: usize = 290;
/// Years of history.
pub const YEARS: i64 = 6;
/// The analyst who sees every national Marac's figures (no second factor needed).
pub const ANALYST: &str = "national.analyst@demo.marac.example";

/// The SafeLives shape of referral sources: police about two thirds.
fn source(rng: &mut Rng) -> AgencyCategory {
    if rng.chance(64) { AgencyCategory::Police } else { *rng.pick(&AgencyCategory::ALL[1..]) }
}

fn tri(rng: &mut Rng, yes: u64, unknown: u64) -> Option<bool> {
    if rng.chance(unknown) { None } else { Some(rng.chance(yes)) }
}

/// Makes the national data unless it is there already; returns the referrals written.
///
/// # Errors
/// Store failures.
pub async fn seed(state: &App, password_hash: &str) -> anyhow::Result<usize> {
    let store = state.store.as_ref();
    if store.find_partnership_by_code("NAT01").await?.is_some() {
        return Ok(0);
    }
    let today = state.clock.today();
    let start = today - Duration::days(YEARS * 365);
    let synthetic = marac_domain::matching::PersonDetails {
        given_name: "Synthetic".into(),
        family_name: "Person".into(),
        aliases: Vec::new(),
        date_of_birth: None,
        estimated_birth_year: None,
        postcode: None,
    };
    // Filed without matching keys: national rows are for figures, not for finding people.
    let person_sealed = casework::seal_person(state, &synthetic).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut form = FormMap::new();
    form.insert(field::SUMMARY_TEXT.into(), "Synthetic national-scale referral for benchmarks.".into());
    form.insert(field::VICTIM_GIVEN_NAME.into(), "Synthetic".into());
    form.insert(field::VICTIM_FAMILY_NAME.into(), "Person".into());
    let form_sealed = casework::seal(state, casework::Purpose::Form, &form).map_err(|e| anyhow::anyhow!("{e}"))?;
    let event = |what: &str| super::cli_event(what, "", serde_json::json!({ "demo": "national" }));
    let mut rng = Rng(0x0a71_0a41_5ca1_e000);
    let mut maracs = Vec::new();
    for p in 0..PARTNERSHIPS {
        let partnership_id = store
            .create_partnership(
                &PartnershipInput {
                    code: format!("NAT{:02}", p + 1),
                    name: format!("National area {}", p + 1),
                    is_demo: true,
                },
                event("partnership.create"),
            )
            .await?;
        let count = MARACS / PARTNERSHIPS + usize::from(p < MARACS % PARTNERSHIPS);
        let mut ids = Vec::new();
        for m in 0..count {
            let population = 30_000 + i64::try_from(rng.below(170_000)).unwrap_or(0);
            let code = format!("N{:02}{:02}", p + 1, m + 1);
            let id = store
                .create_marac(
                    &MaracInput {
                        partnership_id,
                        code: code.clone(),
                        name: format!("Area {} Marac {}", p + 1, m + 1),
                        area: format!("Area {} district {}", p + 1, m + 1),
                        adult_female_population: population,
                        cadence: MeetingCadence::Fortnightly,
                        rules: MaracRules::default(),
                    },
                    event("marac.create"),
                )
                .await?;
            ids.push((id, code, population));
        }
        let mut agencies = Vec::new();
        for category in AgencyCategory::ALL.iter().copied() {
            let id = store
                .create_agency(
                    &AgencyInput {
                        partnership_id,
                        code: format!("NAT{:02}-{}", p + 1, category.code()),
                        name: format!("Area {} {}", p + 1, category.label()),
                        category,
                        marac_ids: ids.iter().map(|(id, _, _)| *id).collect(),
                    },
                    event("agency.create"),
                )
                .await?;
            agencies.push((category, id));
        }
        for (id, code, population) in ids {
            maracs.push((partnership_id, id, code, population, agencies.clone()));
        }
    }
    let grants: Vec<Grant> = maracs.iter().map(|m| Grant { role: Role::Analyst, marac_id: Some(m.1) }).collect();
    let user_id = store
        .create_user(
            &NewUser {
                email: ANALYST.into(),
                name: "National Analyst".into(),
                agency_id: None,
                password_hash: password_hash.to_owned(),
                is_demo: true,
                grants,
            },
            event("user.create"),
        )
        .await?;
    let mut written = 0;
    for (partnership_id, marac_id, code, population, agencies) in maracs {
        let history = history(
            &mut rng,
            Shape { partnership_id, marac_id, code, population, agencies: &agencies, user_id, start, today },
            &person_sealed,
            &form_sealed,
        );
        written += history.referrals.len();
        store.write_history(&history).await?;
    }
    Ok(written)
}

struct Shape<'a> {
    partnership_id: i64,
    marac_id: i64,
    code: String,
    population: i64,
    agencies: &'a [(AgencyCategory, i64)],
    user_id: i64,
    start: Date,
    today: Date,
}

/// One Marac's six years: referrals at about 37 a year per 10,000 women, a third of them
/// repeats of a recent case, each accepted one heard at the next fortnightly meeting.
fn history(rng: &mut Rng, s: Shape<'_>, person_sealed: &str, form_sealed: &str) -> BulkHistory {
    let agency = |c: AgencyCategory| s.agencies.iter().find(|(x, _)| *x == c).map_or(0, |(_, id)| *id);
    let per_year = u64::try_from(s.population).unwrap_or(0) * 37 / 10_000;
    let days = u64::try_from((s.today - s.start).whole_days()).unwrap_or(1).max(1);
    let total = per_year * days / 365;
    let mut dates: Vec<Date> =
        (0..total).map(|_| s.start + Duration::days(i64::try_from(rng.below(days)).unwrap_or(0))).collect();
    dates.sort_unstable();
    let mut h = BulkHistory {
        marac_id: s.marac_id,
        marac_code: s.code,
        partnership_id: s.partnership_id,
        user_id: s.user_id,
        people: 0,
        person_sealed: person_sealed.to_owned(),
        form_sealed: form_sealed.to_owned(),
        cases: Vec::new(),
        referrals: Vec::new(),
        meetings: Vec::new(),
    };
    // (case, last referral) of the recent cases a repeat can come back from.
    let mut recent: Vec<(usize, Date)> = Vec::new();
    for day in dates {
        recent.retain(|(_, last)| day - *last <= Duration::days(365));
        let repeat = !recent.is_empty() && rng.chance(31);
        let case = if repeat {
            let i = usize::try_from(rng.below(recent.len() as u64)).unwrap_or(0);
            recent[i].1 = day;
            recent[i].0
        } else {
            h.cases.push((h.people, h.people + 1));
            h.people += 2;
            recent.push((h.cases.len() - 1, day));
            h.cases.len() - 1
        };
        let category = source(rng);
        let joint = rng.chance(5).then(|| agency(source(rng))).filter(|j| *j != agency(category));
        let age = 16 + rng.below(60);
        let age = if rng.chance(2) { 16 + rng.below(2) } else { age };
        let young = rng.chance(1);
        let children = if rng.chance(58) { 1 + rng.below(3) } else { 0 };
        let known = (0..children).filter(|_| rng.chance(30)).count();
        let profile = Profile {
            victim_gender: if rng.chance(6) { "male".into() } else { "female".into() },
            victim_minoritised: tri(rng, 16, 8),
            victim_disabled: tri(rng, 11, 20),
            victim_lgbt: tri(rng, 2, 25),
            young_perpetrators: Some(u32::from(young)),
            young_perpetrators_partner: u32::from(young && rng.chance(60)),
            children_known_to_social_care: u32::try_from(known).unwrap_or(0),
            children_on_protection_plan: u32::from(known > 0 && rng.chance(25)),
            victim_postcode_sector: format!("NA{} {}", 1 + rng.below(30), rng.below(10)),
        };
        let mut flags = Vec::new();
        if (16..=17).contains(&age) {
            flags.push(AgeFlag::VictimAged16To17);
        }
        if young {
            flags.push(AgeFlag::PerpetratorAged17OrUnder);
        }
        h.referrals.push(BulkReferral {
            case,
            agency_id: agency(category),
            joint_agency_id: joint,
            referral_date: day,
            accepted: !rng.chance(4),
            score: i64::try_from(10 + rng.below(12)).unwrap_or(14),
            criteria: vec![if repeat { Criterion::Repeat } else { Criterion::VisibleHighRisk }],
            is_repeat: repeat,
            children: i64::try_from(children).unwrap_or(0),
            victim_age_group: age_group(u32::try_from(age).ok()).to_owned(),
            age_flags: flags,
            profile,
        });
    }
    // Fortnightly meetings; each hears the accepted referrals made at least three days before
    // and not yet heard.
    let all: Vec<i64> = s.agencies.iter().map(|(_, id)| *id).collect();
    let mut next = 0;
    let mut day = s.start + Duration::days(14);
    while day < s.today {
        let mut heard: Vec<(usize, bool)> = Vec::new();
        while next < h.referrals.len() && h.referrals[next].referral_date + Duration::days(3) <= day {
            // A case referred twice in a fortnight is heard once, on its latest referral.
            let case = h.referrals[next].case;
            heard.retain(|(r, _)| h.referrals[*r].case != case);
            if h.referrals[next].accepted {
                heard.push((next, h.referrals[next].children > 0 && rng.chance(40)));
            }
            next += 1;
        }
        if !heard.is_empty() {
            let mut actions = Vec::new();
            for (r, _) in &heard {
                let has_children = h.referrals[*r].children > 0;
                let due_on = day + Duration::days(14);
                let status = |rng: &mut Rng| match (s.today - due_on).whole_days() {
                    d if d < 0 => ActionStatus::Open,
                    _ if rng.chance(82) => ActionStatus::Done,
                    _ if rng.chance(50) => ActionStatus::NotDoneCircumstances,
                    _ => ActionStatus::NotDoneByAgency,
                };
                actions.push(BulkAction {
                    referral: *r,
                    agency_id: agency(AgencyCategory::Idva),
                    subject: ActionSubject::Victim,
                    kind: ActionKind::General,
                    status: status(rng),
                    due_on,
                });
                let (subject, owner, kind) = if has_children && rng.chance(50) {
                    let kind = if rng.chance(30) { ActionKind::EarlyHelp } else { ActionKind::General };
                    (ActionSubject::Child, AgencyCategory::ChildrensSocialCare, kind)
                } else {
                    let kind = if rng.chance(25) { ActionKind::RightToKnow } else { ActionKind::General };
                    (ActionSubject::Perpetrator, AgencyCategory::Police, kind)
                };
                actions.push(BulkAction {
                    referral: *r,
                    agency_id: agency(owner),
                    subject,
                    kind,
                    status: status(rng),
                    due_on,
                });
            }
            let present = all.iter().copied().filter(|_| rng.chance(86)).collect();
            h.meetings.push(BulkMeeting { held_on: day, invited: all.clone(), present, heard, actions });
        }
        day += Duration::days(14);
    }
    h
}
