//! What a checked form says: dates and ages, the people it names, the profile the returns
//! count, the checklist's answers and score, and the facts the referral rules assess.

use super::*;

/// Reads a date typed as `27/3/2026`, `27-3-2026`, `27 3 2026` or `2026-03-27`.
#[must_use]
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let parts: Vec<&str> =
        s.split(|c: char| c == '/' || c == '-' || c == '.' || c.is_whitespace()).filter(|p| !p.is_empty()).collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let (day, month, year) = if a.len() == 4 { (*c, *b, *a) } else { (*a, *b, *c) };
    let year: i32 = year.parse().ok().filter(|_| year.len() == 4)?;
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, day.parse().ok()?).ok()
}

/// The children the referral names (household members who are a child of the victim, of the
/// person causing harm or of both), as an action names one: "Robin (born 1 September 2019)",
/// or the name alone when no date of birth was given. In the form's order, each once.
#[must_use]
pub fn children_named(map: &FormMap) -> Vec<String> {
    if get(map, field::CHILDREN_ANY) != "yes" {
        return Vec::new();
    }
    let mut named: Vec<String> = Vec::new();
    for i in 0..group_count(map, Section::Children) {
        let name = get(map, &group_key(Section::Children, i, "name")).trim();
        if name.is_empty() || !get(map, &group_key(Section::Children, i, "relationship")).starts_with("child_") {
            continue;
        }
        let shown = match parse_date(get(map, &group_key(Section::Children, i, "date_of_birth"))) {
            Some(born) => format!("{name} (born {})", crate::uk_time::date(born)),
            None => name.to_owned(),
        };
        if !named.contains(&shown) {
            named.push(shown);
        }
    }
    named
}

/// Whole years from `born` to `on`.
#[must_use]
pub fn age_on(born: Date, on: Date) -> u32 {
    let mut years = on.year() - born.year();
    if (u8::from(on.month()), on.day()) < (u8::from(born.month()), born.day()) {
        years -= 1;
    }
    u32::try_from(years.max(0)).unwrap_or(0)
}

pub(super) fn age_of(map: &FormMap, dob_key: &str, age_key: &str, on: Date) -> Option<u32> {
    match parse_date(get(map, dob_key)) {
        Some(d) => Some(age_on(d, on)),
        None => get(map, age_key).parse().ok(),
    }
}

/// The victim's age on `on`, from the date of birth or the estimate.
#[must_use]
pub fn victim_age(map: &FormMap, on: Date) -> Option<u32> {
    age_of(map, field::VICTIM_DATE_OF_BIRTH, field::VICTIM_AGE, on)
}

/// The age band shown on the triage queue and counted in returns.
#[must_use]
pub fn age_group(age: Option<u32>) -> &'static str {
    match age {
        None => "Not known",
        Some(0..=15) => "Under 16",
        Some(16..=17) => "16-17",
        Some(18..=24) => "18-24",
        Some(25..=34) => "25-34",
        Some(35..=44) => "35-44",
        Some(45..=54) => "45-54",
        Some(55..=64) => "55-64",
        Some(_) => "65 and over",
    }
}

pub(super) fn person(map: &FormMap, prefix: &str, given: &str, family: &str, on: Date) -> PersonDetails {
    let k = |name: &str| format!("{prefix}.{name}");
    let dob = parse_date(get(map, &k("date_of_birth")));
    PersonDetails {
        given_name: get(map, &k(given)).to_owned(),
        family_name: get(map, &k(family)).to_owned(),
        aliases: get(map, &k("aliases"))
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect(),
        date_of_birth: dob,
        estimated_birth_year: match dob {
            Some(_) => None,
            None => get(map, &k("age")).parse::<i32>().ok().map(|a| on.year() - a),
        },
        postcode: Some(get(map, &k("postcode")).to_owned()).filter(|p| !p.is_empty()),
    }
}

/// The victim, for matching.
#[must_use]
pub fn victim_details(map: &FormMap, on: Date) -> PersonDetails {
    person(map, "victim", "given_name", "family_name", on)
}

/// The people causing harm, for matching; people with no name given are left out.
#[must_use]
pub fn perpetrator_details(map: &FormMap, on: Date) -> Vec<PersonDetails> {
    (0..group_count(map, Section::Perpetrators))
        .map(|i| person(map, &format!("perpetrators.{i}"), "given_name", "family_name", on))
        .filter(|p| !p.given_name.is_empty() || !p.family_name.is_empty())
        .collect()
}

/// The children and other household members named, for cross-referencing other agencies'
/// lists: each with its place in the form. A name of several words is split at the last.
#[must_use]
pub fn household_details(map: &FormMap) -> Vec<(usize, PersonDetails)> {
    if get(map, field::CHILDREN_ANY) != "yes" {
        return Vec::new();
    }
    (0..group_count(map, Section::Children))
        .filter_map(|i| {
            let name = get(map, &group_key(Section::Children, i, "name")).trim();
            let (given, family) = name.rsplit_once(char::is_whitespace).unwrap_or((name, ""));
            (!name.is_empty()).then(|| {
                let details = PersonDetails {
                    given_name: given.trim().to_owned(),
                    family_name: family.trim().to_owned(),
                    date_of_birth: parse_date(get(map, &group_key(Section::Children, i, "date_of_birth"))),
                    ..PersonDetails::default()
                };
                (i, details)
            })
        })
        .collect()
}

/// Someone a referral names, as a case page lists them: enough for an agency to look them up
/// in its own records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPerson {
    /// Who they are in the case: "Victim", "Person causing harm (ex-partner)", "Child of both".
    pub role: String,
    /// Their name as given.
    pub name: String,
    /// Date of birth, if given.
    pub born: Option<Date>,
    /// The age given instead of a date of birth.
    pub age: Option<u32>,
    /// Address as given, one line per line typed.
    pub address: String,
    /// Postcode as given.
    pub postcode: String,
}

fn label_in(options: &[Opt], code: &str) -> Option<&'static str> {
    options.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// The victim, the people causing harm and the household members a form names, in that order;
/// those with no name are left out.
#[must_use]
pub fn people_named(map: &FormMap) -> Vec<NamedPerson> {
    let named = |prefix: &str, role: String, name: String| NamedPerson {
        role,
        name,
        born: parse_date(get(map, &format!("{prefix}.date_of_birth"))),
        age: get(map, &format!("{prefix}.age")).parse().ok(),
        address: get(map, &format!("{prefix}.address")).to_owned(),
        postcode: get(map, &format!("{prefix}.postcode")).to_owned(),
    };
    let full = |prefix: &str| {
        format!("{} {}", get(map, &format!("{prefix}.given_name")), get(map, &format!("{prefix}.family_name")))
            .trim()
            .to_owned()
    };
    let mut out = Vec::new();
    let victim = full("victim");
    if !victim.is_empty() {
        out.push(named("victim", "Victim".to_owned(), victim));
    }
    for i in 0..group_count(map, Section::Perpetrators) {
        let prefix = format!("perpetrators.{i}");
        let name = full(&prefix);
        if name.is_empty() {
            continue;
        }
        let role = match label_in(RELATIONSHIPS, get(map, &format!("{prefix}.relationship"))) {
            Some(r) => format!("Person causing harm ({})", r.to_lowercase()),
            None => "Person causing harm".to_owned(),
        };
        out.push(named(&prefix, role, name));
    }
    if get(map, field::CHILDREN_ANY) == "yes" {
        for i in 0..group_count(map, Section::Children) {
            let prefix = format!("children.{i}");
            let name = get(map, &format!("{prefix}.name")).to_owned();
            if name.is_empty() {
                continue;
            }
            let role = label_in(HOUSEHOLD_RELATIONSHIPS, get(map, &format!("{prefix}.relationship")))
                .unwrap_or("Household member")
                .to_owned();
            out.push(named(&prefix, role, name));
        }
    }
    out
}

/// Children listed, by date of birth (those under 18 or unborn count as children).
#[must_use]
pub fn children_count(map: &FormMap, on: Date) -> usize {
    if get(map, field::CHILDREN_ANY) != "yes" {
        return 0;
    }
    (0..group_count(map, Section::Children))
        .filter(|i| !get(map, &group_key(Section::Children, *i, "name")).is_empty())
        .filter(|i| {
            parse_date(get(map, &group_key(Section::Children, *i, "date_of_birth"))).is_none_or(|d| age_on(d, on) < 18)
        })
        .count()
}

/// What a referral says about the people in it that returns count: plain facts with no name,
/// kept beside the encrypted form so figures come from the records without opening them.
/// `None` (or an empty gender) means not recorded, which a return shows as "not held".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// The victim's gender code; empty if not known.
    pub victim_gender: String,
    /// The victim is Black, Asian or racially minoritised: see [`is_minoritised`].
    pub victim_minoritised: Option<bool>,
    /// The victim has a disability.
    pub victim_disabled: Option<bool>,
    /// The victim identifies as LGBT+.
    pub victim_lgbt: Option<bool>,
    /// People causing harm aged 17 or under; `None` if no one's age is known.
    pub young_perpetrators: Option<u32>,
    /// Of those, how many harm a partner or ex-partner (the rest a parent or other family).
    pub young_perpetrators_partner: u32,
    /// Children known to children's social care.
    pub children_known_to_social_care: u32,
    /// Children subject to a child protection plan.
    pub children_on_protection_plan: u32,
    /// The postcode sector of the victim's address ("NS1 4"), for mapping; empty if none.
    pub victim_postcode_sector: String,
}

/// The sector of a postcode ("NS1 4AB" gives "NS1 4"): the outward code and the inward
/// code's first digit. Empty for anything too short to be a postcode.
#[must_use]
pub fn postcode_sector(postcode: &str) -> String {
    let p = crate::matching::normalise_postcode(postcode);
    if !(5..=7).contains(&p.len()) || !p.is_ascii() {
        return String::new();
    }
    let (outward, inward) = p.split_at(p.len() - 3);
    format!("{outward} {}", &inward[..1])
}

/// The district of a sector ("NS1 4" gives "NS1").
#[must_use]
pub fn postcode_district(sector: &str) -> &str {
    sector.split_whitespace().next().unwrap_or("")
}

/// Whether an ethnic group counts as Black, Asian or racially minoritised in returns: every
/// Mixed, Asian, Black and Other group, and Gypsy, Irish Traveller and Roma; not White British,
/// White Irish or any other White background.
#[must_use]
pub fn is_minoritised(ethnicity: &str) -> bool {
    !matches!(ethnicity, "white_british" | "white_irish" | "white_other" | "" | "not_known")
}

pub(super) fn yes_no(value: &str) -> Option<bool> {
    match value {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// The referral's [`Profile`] on `on`.
#[must_use]
pub fn profile(map: &FormMap, on: Date) -> Profile {
    let gender = get(map, field::VICTIM_GENDER);
    let ethnicity = get(map, field::VICTIM_ETHNICITY);
    let mut young = None;
    let mut young_partner = 0;
    for i in 0..group_count(map, Section::Perpetrators) {
        let prefix = format!("perpetrators.{i}");
        let Some(age) = age_of(map, &format!("{prefix}.date_of_birth"), &format!("{prefix}.age"), on) else {
            continue;
        };
        let count = young.get_or_insert(0);
        if age <= 17 {
            *count += 1;
            if matches!(get(map, &format!("{prefix}.relationship")), "partner" | "ex_partner") {
                young_partner += 1;
            }
        }
    }
    let children = |field: &str| {
        if get(map, field::CHILDREN_ANY) != "yes" {
            return 0;
        }
        let n = (0..group_count(map, Section::Children))
            .filter(|i| get(map, &group_key(Section::Children, *i, field)) == "yes")
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    Profile {
        victim_gender: if gender == "not_known" { String::new() } else { gender.to_owned() },
        victim_minoritised: match ethnicity {
            "" | "not_known" => None,
            code => Some(is_minoritised(code)),
        },
        victim_disabled: yes_no(get(map, field::VICTIM_DISABILITY)),
        victim_lgbt: yes_no(get(map, field::VICTIM_LGBT)),
        young_perpetrators: young,
        young_perpetrators_partner: young_partner,
        children_known_to_social_care: children("known_to_social_care"),
        children_on_protection_plan: children("child_protection_plan"),
        victim_postcode_sector: postcode_sector(get(map, field::VICTIM_POSTCODE)),
    }
}

/// The checklist answers given.
#[must_use]
pub fn answers(map: &FormMap) -> BTreeMap<String, Answer> {
    map.iter()
        .filter_map(|(k, v)| {
            let id = k.strip_prefix("checklist.answer.")?;
            let a = match v.as_str() {
                "yes" => Answer::Yes,
                "no" => Answer::No,
                "dont_know" => Answer::DontKnow,
                _ => return None,
            };
            Some((id.to_owned(), a))
        })
        .collect()
}

/// The number of "yes" answers.
#[must_use]
pub fn score(map: &FormMap) -> u32 {
    u32::try_from(answers(map).values().filter(|a| **a == Answer::Yes).count()).unwrap_or(u32::MAX)
}

/// The facts the referral rules need, on the referral date `today`.
#[must_use]
pub fn facts(map: &FormMap, today: Date, last_referral_date: Option<Date>) -> ReferralFacts {
    let on = today;
    ReferralFacts {
        yes_answers: score(map),
        professional_judgement: (get(map, field::REASON_PROFESSIONAL_JUDGEMENT) == "yes")
            .then(|| get(map, field::REASON_PROFESSIONAL_JUDGEMENT_REASON).to_owned()),
        police_incidents: get(map, field::REFERRAL_POLICE_INCIDENTS).lines().filter_map(parse_date).collect(),
        incident_date: parse_date(get(map, field::REFERRAL_INCIDENT_DATE)),
        referral_date: Some(today),
        last_referral_date,
        victim_age: victim_age(map, on),
        perpetrator_ages: (0..group_count(map, Section::Perpetrators))
            .map(|i| {
                age_of(
                    map,
                    &group_key(Section::Perpetrators, i, "date_of_birth"),
                    &group_key(Section::Perpetrators, i, "age"),
                    on,
                )
            })
            .collect(),
    }
}

/// Applies the rules to the form as it stands.
///
/// # Errors
/// The refusal for a victim under 16.
pub fn assess(
    map: &FormMap,
    rules: &MaracRules,
    today: Date,
    last_referral_date: Option<Date>,
) -> Result<Assessment, Refusal> {
    referral_rules::assess(rules, &facts(map, today, last_referral_date))
}
