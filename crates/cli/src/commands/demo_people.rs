//! `marac demo --people N`: a large synthetic population of known people, to rehearse and
//! measure matching at the scale of a big partnership's history (e.g. 100,000 people).
//!
//! The people are filed exactly as submission files them (sealed details, keyed by the
//! blocking keys' HMACs), with a spread of names like a real register: a few common family
//! names shared by many, a long tail of rarer ones, and some aliases.

use super::demo_referrals::{FAMILIES, MEN, Rng, WOMEN};
use anyhow::Context as _;
use marac_app::Keys;
use marac_app::casework;
use marac_app::clock::ManualClock;
use marac_domain::matching::PersonDetails;
use marac_store::{Store, Ts};
use std::sync::Arc;
use time::{Date, Duration, OffsetDateTime};

const STEMS: &[&str] = &[
    "Ash", "Brad", "Carl", "Dun", "Fair", "Gold", "Hart", "Kings", "Lang", "Mar", "Nor", "Pen", "Rad", "Stan", "Thorn",
    "Wel", "Whit", "Ald", "Bram", "Har", "Hol", "Bur", "Crom", "Ever", "Gar", "Lind", "Mel", "Rother", "Sand", "West",
];
const ENDINGS: &[&str] = &[
    "ley", "ton", "ford", "wood", "field", "by", "well", "more", "ham", "stone", "worth", "ridge", "brook", "croft",
    "dale",
];
const AREAS: &[&str] = &["NS", "SS", "EP"];
const BATCH: usize = 5_000;

/// A family name: often one of the common few, otherwise from a long tail of about 450.
fn family_name(rng: &mut Rng) -> String {
    if rng.chance(35) { rng.pick(FAMILIES).to_string() } else { format!("{}{}", rng.pick(STEMS), rng.pick(ENDINGS)) }
}

fn postcode(rng: &mut Rng) -> String {
    const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    let letter = |rng: &mut Rng| char::from(*rng.pick(LETTERS));
    format!("{}{} {}{}{}", rng.pick(AREAS), 1 + rng.below(20), rng.below(10), letter(rng), letter(rng))
}

fn synthetic_person(rng: &mut Rng, today: Date) -> PersonDetails {
    let names = if rng.chance(60) { WOMEN } else { MEN };
    let given = rng.pick(names).to_string();
    let family = family_name(rng);
    let aliases = if rng.chance(5) { vec![format!("{given} {}", family_name(rng))] } else { Vec::new() };
    // Ages 16 to 80; a few known only by an estimated age.
    let born = today - Duration::days(i64::try_from(16 * 366 + rng.below(64 * 365)).unwrap_or(10_000));
    let (date_of_birth, estimated_birth_year) =
        if rng.chance(8) { (None, Some(born.year())) } else { (Some(born), None) };
    PersonDetails {
        given_name: given,
        family_name: family,
        aliases,
        date_of_birth,
        estimated_birth_year,
        postcode: rng.chance(85).then(|| postcode(rng)),
    }
}

/// Adds synthetic people to the demo partnership until it knows at least `target`; returns
/// how many were added.
///
/// # Errors
/// Store failures, or no demo partnership.
pub async fn seed(store: Arc<dyn Store>, keys: Keys, partnership_code: &str, target: u64) -> anyhow::Result<u64> {
    let partnership =
        store.find_partnership_by_code(partnership_code).await?.context("the demo partnership is missing")?;
    let known = u64::try_from(store.count_people(partnership.id).await?).unwrap_or(0);
    if known >= target {
        return Ok(0);
    }
    let now = OffsetDateTime::now_utc();
    let state = marac_app::App::new(
        store.clone(),
        keys,
        Arc::new(ManualClock::new(now)),
        marac_app::DEFAULT_LIST_RETENTION_DAYS,
    );
    // Seeded by how many exist, so topping up continues the sequence rather than repeating it.
    let mut rng = Rng(0x5eed_0f9e_0b1e ^ known.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut added = 0u64;
    while known + added < target {
        let n = usize::try_from((target - known - added).min(BATCH as u64)).unwrap_or(BATCH);
        let mut batch = Vec::with_capacity(n);
        for _ in 0..n {
            batch.push(casework::new_person(&state, partnership.id, &synthetic_person(&mut rng, now.date()))?);
        }
        let event = super::cli_event("people.import", "", serde_json::json!({ "demo": true, "count": n }));
        added += store.import_people(partnership.id, &batch, Ts::new(now), event).await?;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use marac_domain::matching;
    use std::collections::HashMap;

    #[test]
    fn the_population_shares_keys_like_a_register_not_all_or_nothing() {
        let mut rng = Rng(7);
        let today = time::macros::date!(2026 - 11 - 23);
        let mut per_key: HashMap<String, usize> = HashMap::new();
        for _ in 0..20_000 {
            for k in matching::blocking_keys(&synthetic_person(&mut rng, today)) {
                *per_key.entry(k).or_default() += 1;
            }
        }
        let biggest = per_key.values().copied().max().unwrap_or(0);
        let shared = per_key.values().filter(|n| **n > 1).count();
        assert!(shared > 1_000, "people share keys, so searches find candidates ({shared})");
        assert!(biggest < 400, "no key holds a large part of the population ({biggest})");
    }
}
