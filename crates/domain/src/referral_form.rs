//! The referral form: its sections, fields and validation, in one definition that the pages,
//! the check-answers summary and the JSON API all use.
//!
//! A referral is held as a flat map of field keys to what was typed (`victim.given_name`,
//! `perpetrators.0.family_name`, `checklist.answer.q3`), so a draft keeps everything exactly
//! as entered, errors and all, and the API's JSON maps onto the same keys (`/victim/given_name`).

use crate::MaracRules;
use crate::checklist::{Answer, Checklist};
use crate::fields::Email;
use crate::fields::{TextKind, check_text};
use crate::matching::PersonDetails;
use crate::referral_rules::{self, Assessment, ReferralFacts, Refusal};
use serde::Serialize;
use std::collections::BTreeMap;
use time::{Date, Month};

/// Everything typed into a referral, by field key.
pub type FormMap = BTreeMap<String, String>;

/// One choice: stored code and the words shown.
pub type Opt = (&'static str, &'static str);

/// How a field is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line of text.
    Text,
    /// Several lines.
    Textarea,
    /// A date, typed as day/month/year.
    Date,
    /// A whole number.
    Number,
    /// An e-mail address.
    Email,
    /// A telephone number.
    Tel,
    /// A UK postcode.
    Postcode,
    /// One of a few choices, as radios.
    Radios(&'static [Opt]),
    /// One of many choices, as a select.
    Select(&'static [Opt]),
    /// One of the Maracs the referrer may refer to (choices from the context).
    Marac,
    /// Another partner agency (choices from the context).
    Agency,
    /// A loaded risk checklist version (choices from the context).
    Checklist,
}

/// One question on a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Key within its section (or within one person of a repeated group).
    pub name: &'static str,
    /// The question.
    pub label: &'static str,
    /// Guidance under it.
    pub hint: &'static str,
    /// How it is answered.
    pub kind: Kind,
}

const fn f(name: &'static str, label: &'static str, hint: &'static str, kind: Kind) -> FieldSpec {
    FieldSpec { name, label, hint, kind }
}

/// Yes or no.
pub const YES_NO: &[Opt] = &[("yes", "Yes"), ("no", "No")];
/// Yes, no or not known.
pub const YES_NO_UNKNOWN: &[Opt] = &[("yes", "Yes"), ("no", "No"), ("not_known", "Not known")];
/// Gender as the person describes it.
pub const GENDERS: &[Opt] = &[
    ("female", "Female"),
    ("male", "Male"),
    ("non_binary", "Non-binary"),
    ("other", "Another gender"),
    ("not_known", "Not known"),
];
/// The ONS 2021 census ethnic groups (England and Wales).
pub const ETHNICITIES: &[Opt] = &[
    ("white_british", "White: English, Welsh, Scottish, Northern Irish or British"),
    ("white_irish", "White: Irish"),
    ("white_gypsy_traveller", "White: Gypsy or Irish Traveller"),
    ("white_roma", "White: Roma"),
    ("white_other", "White: any other White background"),
    ("mixed_white_black_caribbean", "Mixed or multiple: White and Black Caribbean"),
    ("mixed_white_black_african", "Mixed or multiple: White and Black African"),
    ("mixed_white_asian", "Mixed or multiple: White and Asian"),
    ("mixed_other", "Mixed or multiple: any other background"),
    ("asian_indian", "Asian or Asian British: Indian"),
    ("asian_pakistani", "Asian or Asian British: Pakistani"),
    ("asian_bangladeshi", "Asian or Asian British: Bangladeshi"),
    ("asian_chinese", "Asian or Asian British: Chinese"),
    ("asian_other", "Asian or Asian British: any other Asian background"),
    ("black_african", "Black, Black British, Caribbean or African: African"),
    ("black_caribbean", "Black, Black British, Caribbean or African: Caribbean"),
    ("black_other", "Black, Black British, Caribbean or African: any other background"),
    ("other_arab", "Other ethnic group: Arab"),
    ("other_any", "Other ethnic group: any other ethnic group"),
    ("not_known", "Not known or not given"),
];
/// How a person causing harm is related to the victim.
pub const RELATIONSHIPS: &[Opt] = &[
    ("partner", "Current partner"),
    ("ex_partner", "Ex-partner"),
    ("family", "Family member"),
    ("other", "Someone else"),
];
/// How a child or household member is related.
pub const HOUSEHOLD_RELATIONSHIPS: &[Opt] = &[
    ("child_of_victim", "Child of the victim"),
    ("child_of_perpetrator", "Child of the person causing harm"),
    ("child_of_both", "Child of both"),
    ("other_household", "Other household member"),
];

const REFERRAL: &[FieldSpec] = &[
    f("marac", "Which Marac are you referring to?", "", Kind::Marac),
    f("incident_date", "Date of the incident or concern", "For example, 27/3/2026", Kind::Date),
    f(
        "police_incidents",
        "Dates of incidents reported to the police in the last 12 months (optional)",
        "One date per line, for example 4/1/2026. Used for the potential escalation criterion.",
        Kind::Textarea,
    ),
    f("joint_agency", "Is this a joint referral with another agency? (optional)", "", Kind::Agency),
    f(
        "transferred_from",
        "If the victim has moved here, which Marac is the case transferring from? (optional)",
        "For example, Leeds Marac. The agenda shows where the case came from, so representatives can ask their counterparts there.",
        Kind::Text,
    ),
];

const VICTIM: &[FieldSpec] = &[
    f("given_name", "Given name", "", Kind::Text),
    f("family_name", "Family name", "", Kind::Text),
    f("aliases", "Other names they are known by (optional)", "Separate names with commas", Kind::Text),
    f(
        "date_of_birth",
        "Date of birth",
        "For example, 27/3/1990. If you do not know it, give their age below.",
        Kind::Date,
    ),
    f("age", "Age, or an estimate, if you do not know their date of birth", "", Kind::Number),
    f("gender", "Gender", "", Kind::Radios(GENDERS)),
    f("ethnicity", "Ethnic group", "", Kind::Select(ETHNICITIES)),
    f("disability", "Do they have a disability?", "", Kind::Radios(YES_NO_UNKNOWN)),
    f("lgbt", "Do they identify as lesbian, gay, bisexual or trans (LGBT+)?", "", Kind::Radios(YES_NO_UNKNOWN)),
    f("pregnant", "Are they pregnant or have they had a baby in the last 6 months?", "", Kind::Radios(YES_NO_UNKNOWN)),
    f("first_language", "First language (optional)", "", Kind::Text),
    f("interpreter", "Do they need an interpreter?", "", Kind::Radios(YES_NO)),
    f(
        "address",
        "Address (optional)",
        "Leave blank if it must not be shared, and say why in the summary",
        Kind::Textarea,
    ),
    f("postcode", "Postcode (optional)", "", Kind::Postcode),
    f("phone", "Telephone (optional)", "", Kind::Tel),
    f("safe_to_call", "Is it safe to call this number?", "", Kind::Radios(YES_NO)),
    f("safe_times", "Safe times to contact them (optional)", "For example, weekdays 10am to 2pm", Kind::Text),
    f("email", "Email address (optional)", "", Kind::Email),
];

const PERSON_CAUSING_HARM: &[FieldSpec] = &[
    f("given_name", "Given name", "", Kind::Text),
    f("family_name", "Family name", "", Kind::Text),
    f("aliases", "Other names they are known by (optional)", "Separate names with commas", Kind::Text),
    f("date_of_birth", "Date of birth (optional)", "For example, 27/3/1988", Kind::Date),
    f("age", "Age, or an estimate (optional)", "", Kind::Number),
    f("gender", "Gender", "", Kind::Radios(GENDERS)),
    f("relationship", "Relationship to the victim", "", Kind::Radios(RELATIONSHIPS)),
    f("address", "Address (optional)", "", Kind::Textarea),
    f("postcode", "Postcode (optional)", "", Kind::Postcode),
];

const CHILDREN: &[FieldSpec] = &[f(
    "any",
    "Are there children or other people in the household?",
    "Include unborn children",
    Kind::Radios(YES_NO),
)];

const HOUSEHOLD_MEMBER: &[FieldSpec] = &[
    f("name", "Name", "", Kind::Text),
    f(
        "date_of_birth",
        "Date of birth (optional)",
        "For example, 2/9/2019. Leave blank for an unborn child.",
        Kind::Date,
    ),
    f("relationship", "Relationship", "", Kind::Radios(HOUSEHOLD_RELATIONSHIPS)),
    f("school", "School, nursery or college (optional)", "", Kind::Text),
    f("known_to_social_care", "Known to children's social care?", "", Kind::Radios(YES_NO_UNKNOWN)),
    f("child_protection_plan", "Subject to a child protection plan?", "", Kind::Radios(YES_NO_UNKNOWN)),
];

const CHECKLIST: &[FieldSpec] = &[f("version", "Which risk checklist did you use?", "", Kind::Checklist)];

const REASON: &[FieldSpec] = &[
    f(
        "professional_judgement",
        "Are you also referring on professional judgement?",
        "Use it when you believe the risk is high whatever the score. It can only add a reason to refer.",
        Kind::Radios(YES_NO),
    ),
    f(
        "professional_judgement_reason",
        "Why do you judge the risk to be high?",
        "What worries you about their safety: what has happened, what is changing, what the victim has said",
        Kind::Textarea,
    ),
];

const CONSENT: &[FieldSpec] = &[
    f("given", "Has the victim consented to this referral?", "", Kind::Radios(YES_NO)),
    f("victim_knows", "Does the victim know about this referral?", "", Kind::Radios(YES_NO)),
    f(
        "justification",
        "Why are you referring without consent?",
        "Say why the risk justifies sharing without consent, and who you discussed it with",
        Kind::Textarea,
    ),
    f("afraid_of", "Who is the victim afraid of? (optional)", "", Kind::Textarea),
    f("safe_to_talk", "Who is it safe to talk to about this? (optional)", "", Kind::Textarea),
    f("not_safe_to_talk", "Who is it not safe to talk to? (optional)", "", Kind::Textarea),
    f("previous_maracs", "Has the victim been discussed at a Marac before?", "", Kind::Radios(YES_NO_UNKNOWN)),
    f("previous_details", "Where and when, if known (optional)", "", Kind::Text),
];

const SUMMARY: &[FieldSpec] = &[f(
    "text",
    "Summary of the current situation",
    "What happened, what the victim wants, what you have done so far and what you are asking the Marac to do",
    Kind::Textarea,
)];

/// The pages of the form, in the order of the task list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Marac, dates and police incidents.
    Referral,
    /// About the victim.
    Victim,
    /// The people causing harm.
    Perpetrators,
    /// Children and other household members.
    Children,
    /// The risk checklist.
    Checklist,
    /// Reason for referral.
    Reason,
    /// Consent and safety.
    Consent,
    /// Summary.
    Summary,
}

impl Section {
    /// Every section, in order.
    pub const ALL: [Section; 8] = [
        Section::Referral,
        Section::Victim,
        Section::Perpetrators,
        Section::Children,
        Section::Checklist,
        Section::Reason,
        Section::Consent,
        Section::Summary,
    ];

    /// The URL segment of its page.
    #[must_use]
    pub const fn slug(self) -> &'static str {
        match self {
            Section::Referral => "referral",
            Section::Victim => "victim",
            Section::Perpetrators => "people-causing-harm",
            Section::Children => "children",
            Section::Checklist => "risk-checklist",
            Section::Reason => "reason",
            Section::Consent => "consent-and-safety",
            Section::Summary => "summary",
        }
    }

    /// The first part of its keys.
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            Section::Referral => "referral",
            Section::Victim => "victim",
            Section::Perpetrators => "perpetrators",
            Section::Children => "children",
            Section::Checklist => "checklist",
            Section::Reason => "reason",
            Section::Consent => "consent",
            Section::Summary => "summary",
        }
    }

    /// The heading of its page and task.
    #[must_use]
    pub const fn title(self) -> &'static str {
        match self {
            Section::Referral => "Referral details",
            Section::Victim => "About the victim",
            Section::Perpetrators => "People causing harm",
            Section::Children => "Children and household",
            Section::Checklist => "Risk checklist",
            Section::Reason => "Reason for referral",
            Section::Consent => "Consent and safety",
            Section::Summary => "Summary",
        }
    }

    /// The section whose page is at `slug`.
    #[must_use]
    pub fn from_slug(slug: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.slug() == slug)
    }

    /// Its single fields (for repeated groups, the fields outside the group).
    #[must_use]
    pub const fn fields(self) -> &'static [FieldSpec] {
        match self {
            Section::Referral => REFERRAL,
            Section::Victim => VICTIM,
            Section::Perpetrators => &[],
            Section::Children => CHILDREN,
            Section::Checklist => CHECKLIST,
            Section::Reason => REASON,
            Section::Consent => CONSENT,
            Section::Summary => SUMMARY,
        }
    }

    /// What one person of a section that lists people is called ("person causing harm");
    /// `None` for the sections that do not.
    #[must_use]
    pub const fn group_noun(self) -> Option<&'static str> {
        match self {
            Section::Perpetrators => Some("person causing harm"),
            Section::Children => Some("child or household member"),
            _ => None,
        }
    }

    /// The fields asked once per person, for sections that list people.
    #[must_use]
    pub const fn group_fields(self) -> &'static [FieldSpec] {
        match self {
            Section::Perpetrators => PERSON_CAUSING_HARM,
            Section::Children => HOUSEHOLD_MEMBER,
            _ => &[],
        }
    }
}

/// Most people of a repeated group one referral may list.
pub const MAX_GROUP: usize = 12;

/// How far along a section is, for the task list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nothing entered yet.
    NotStarted,
    /// Saved, but something is missing or wrong.
    InProgress,
    /// Saved and complete.
    Completed,
}

/// What validation needs besides the form.
#[derive(Debug, Clone)]
pub struct FormContext<'a> {
    /// Today, in the partnership's time zone.
    pub today: Date,
    /// Maracs the referrer may refer to.
    pub marac_ids: &'a [i64],
    /// Agencies that may refer jointly.
    pub agency_ids: &'a [i64],
    /// The checklist the form names, if it is loaded.
    pub checklist: Option<&'a Checklist>,
}

/// A problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's key, e.g. `victim.date_of_birth`.
    pub key: String,
    /// What to do, for the person who typed it.
    pub message: String,
}

impl FieldError {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { key: key.into(), message: message.into() }
    }

    /// The JSON pointer of the field in an API request (`/victim/date_of_birth`).
    #[must_use]
    pub fn pointer(&self) -> String {
        format!("/{}", self.key.replace('.', "/"))
    }
}

/// The key of a field of one person in a group: `perpetrators.0.family_name`.
#[must_use]
pub fn group_key(section: Section, index: usize, name: &str) -> String {
    format!("{}.{index}.{name}", section.prefix())
}

/// The key of a single field: `victim.family_name`.
#[must_use]
pub fn key(section: Section, name: &str) -> String {
    format!("{}.{name}", section.prefix())
}

/// The key that records a section was saved at least once.
#[must_use]
pub fn saved_key(section: Section) -> String {
    format!("_saved.{}", section.prefix())
}

fn get<'m>(map: &'m FormMap, key: &str) -> &'m str {
    map.get(key).map_or("", |v| v.trim())
}

/// How many people a group lists: one more than the highest index with anything in it, or
/// the count kept when someone pressed "add another".
#[must_use]
pub fn group_count(map: &FormMap, section: Section) -> usize {
    let prefix = format!("{}.", section.prefix());
    let highest = map
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .filter_map(|(k, _)| k.strip_prefix(&prefix)?.split('.').next()?.parse::<usize>().ok())
        .max()
        .map_or(0, |i| i + 1);
    let kept = map.get(&format!("_count.{}", section.prefix())).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    highest.max(kept).min(MAX_GROUP)
}

fn count_key(section: Section) -> String {
    format!("_count.{}", section.prefix())
}

/// Adds an empty person to a group ("Add another") and returns their index, or `None` when
/// the group is full.
pub fn add_to_group(map: &mut FormMap, section: Section) -> Option<usize> {
    let count = group_count(map, section).max(1);
    if count >= MAX_GROUP {
        return None;
    }
    map.insert(count_key(section), (count + 1).to_string());
    Some(count)
}

/// Whether person `index` of a group has nothing typed in, so removing them loses nothing.
#[must_use]
pub fn group_member_is_empty(map: &FormMap, section: Section, index: usize) -> bool {
    section.group_fields().iter().all(|f| get(map, &group_key(section, index, f.name)).is_empty())
}

/// Removes person `index` from a group: the later ones move up and the group is one shorter
/// (never fewer than one, empty, person).
pub fn remove_from_group(map: &mut FormMap, section: Section, index: usize) {
    let before = group_count(map, section).max(1);
    let prefix = format!("{}.", section.prefix());
    let moved: Vec<(String, String)> = std::mem::take(map)
        .into_iter()
        .filter_map(|(k, v)| {
            let Some((i, name)) = k.strip_prefix(&prefix).and_then(|rest| rest.split_once('.')) else {
                return Some((k, v));
            };
            match i.parse::<usize>() {
                Ok(i) if i == index => None,
                Ok(i) if i > index => Some((group_key(section, i - 1, name), v)),
                _ => Some((k, v)),
            }
        })
        .collect();
    map.extend(moved);
    let after = if index < before { before - 1 } else { before };
    map.insert(count_key(section), after.max(1).to_string());
}

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

/// Whole years from `born` to `on`.
#[must_use]
pub fn age_on(born: Date, on: Date) -> u32 {
    let mut years = on.year() - born.year();
    if (u8::from(on.month()), on.day()) < (u8::from(born.month()), born.day()) {
        years -= 1;
    }
    u32::try_from(years.max(0)).unwrap_or(0)
}

fn age_of(map: &FormMap, dob_key: &str, age_key: &str, on: Date) -> Option<u32> {
    match parse_date(get(map, dob_key)) {
        Some(d) => Some(age_on(d, on)),
        None => get(map, age_key).parse().ok(),
    }
}

/// The victim's age on `on`, from the date of birth or the estimate.
#[must_use]
pub fn victim_age(map: &FormMap, on: Date) -> Option<u32> {
    age_of(map, "victim.date_of_birth", "victim.age", on)
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

fn person(map: &FormMap, prefix: &str, given: &str, family: &str, on: Date) -> PersonDetails {
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
    if get(map, "children.any") != "yes" {
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

/// Children listed, by date of birth (those under 18 or unborn count as children).
#[must_use]
pub fn children_count(map: &FormMap, on: Date) -> usize {
    if get(map, "children.any") != "yes" {
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

fn yes_no(value: &str) -> Option<bool> {
    match value {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// The referral's [`Profile`] on `on`.
#[must_use]
pub fn profile(map: &FormMap, on: Date) -> Profile {
    let gender = get(map, "victim.gender");
    let ethnicity = get(map, "victim.ethnicity");
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
        if get(map, "children.any") != "yes" {
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
        victim_disabled: yes_no(get(map, "victim.disability")),
        victim_lgbt: yes_no(get(map, "victim.lgbt")),
        young_perpetrators: young,
        young_perpetrators_partner: young_partner,
        children_known_to_social_care: children("known_to_social_care"),
        children_on_protection_plan: children("child_protection_plan"),
        victim_postcode_sector: postcode_sector(get(map, "victim.postcode")),
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
        professional_judgement: (get(map, "reason.professional_judgement") == "yes")
            .then(|| get(map, "reason.professional_judgement_reason").to_owned()),
        police_incidents: get(map, "referral.police_incidents").lines().filter_map(parse_date).collect(),
        incident_date: parse_date(get(map, "referral.incident_date")),
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

fn is_choice(value: &str, options: &[Opt]) -> bool {
    options.iter().any(|(code, _)| *code == value)
}

/// The label of a choice, or the value itself.
#[must_use]
pub fn choice_label(options: &[Opt], value: &str) -> String {
    options.iter().find(|(c, _)| *c == value).map_or_else(|| value.to_owned(), |(_, l)| (*l).to_owned())
}

/// Checks the shape of every field in `fields` under `prefix`: lengths, dates, numbers and
/// choices. Whether a field is required is each section's own rule.
fn check_shapes(
    map: &FormMap,
    prefix: &str,
    fields: &[FieldSpec],
    ctx: &FormContext<'_>,
    errors: &mut Vec<FieldError>,
) {
    for spec in fields {
        let key = format!("{prefix}.{}", spec.name);
        let value = get(map, &key);
        if value.is_empty() {
            continue;
        }
        let problem = match spec.kind {
            Kind::Text | Kind::Tel => {
                let kind = if spec.name.contains("address") { TextKind::Address } else { TextKind::Line };
                check_text(value, kind).err()
            }
            Kind::Textarea => check_text(value, TextKind::Multiline).err(),
            Kind::Date => match parse_date(value) {
                None => Some("Enter a real date, like 27/3/2026".to_owned()),
                Some(d) if d > ctx.today => Some("The date must be today or in the past".to_owned()),
                Some(d) if d.year() < 1900 => Some("Enter a date after 1900".to_owned()),
                Some(_) => None,
            },
            Kind::Number => match value.parse::<i64>() {
                Ok(n) if (0..=120).contains(&n) => None,
                Ok(_) => Some("Enter an age between 0 and 120".to_owned()),
                Err(_) => Some("Enter the age as a number, like 34".to_owned()),
            },
            Kind::Email => Email::parse(value).err(),
            Kind::Postcode => {
                let p = crate::matching::normalise_postcode(value);
                let ok = (5..=7).contains(&p.len())
                    && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && p.chars().rev().take(2).all(|c| c.is_ascii_alphabetic());
                (!ok).then(|| "Enter a real postcode, like NS1 4AB".to_owned())
            }
            Kind::Radios(options) | Kind::Select(options) => {
                (!is_choice(value, options)).then(|| format!("'{value}' is not one of the choices"))
            }
            Kind::Marac => {
                let ok = value.parse::<i64>().is_ok_and(|m| ctx.marac_ids.contains(&m));
                (!ok).then(|| "Select a Marac you may refer to".to_owned())
            }
            Kind::Agency => {
                let ok = value.parse::<i64>().is_ok_and(|a| ctx.agency_ids.contains(&a));
                (!ok).then(|| "Select a partner agency".to_owned())
            }
            Kind::Checklist => None,
        };
        if let Some(message) = problem {
            errors.push(FieldError::new(key, message));
        }
    }
}

fn require(map: &FormMap, key: &str, message: &str, errors: &mut Vec<FieldError>) {
    if get(map, key).is_empty() && !errors.iter().any(|e| e.key == key) {
        errors.push(FieldError::new(key, message));
    }
}

/// Checks one section; the problems come in page order.
#[must_use]
pub fn validate(section: Section, map: &FormMap, ctx: &FormContext<'_>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let p = section.prefix();
    check_shapes(map, p, section.fields(), ctx, &mut errors);
    let e = &mut errors;
    match section {
        Section::Referral => {
            require(map, "referral.marac", "Select the Marac you are referring to", e);
            require(map, "referral.incident_date", "Enter the date of the incident or concern", e);
            for (n, line) in get(map, "referral.police_incidents").lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let message = match parse_date(line) {
                    None => Some(format!("Line {}: enter a real date, like 4/1/2026", n + 1)),
                    Some(d) if d > ctx.today => Some(format!("Line {}: the date must be today or in the past", n + 1)),
                    Some(_) => None,
                };
                if let Some(m) = message {
                    e.push(FieldError::new("referral.police_incidents", m));
                    break;
                }
            }
        }
        Section::Victim => {
            require(map, "victim.given_name", "Enter the victim's given name", e);
            require(map, "victim.family_name", "Enter the victim's family name", e);
            let has_dob = !get(map, "victim.date_of_birth").is_empty();
            if !has_dob {
                require(map, "victim.age", "Enter the victim's date of birth, or their age (an estimate will do)", e);
            }
            if !e.iter().any(|x| x.key == "victim.date_of_birth" || x.key == "victim.age")
                && victim_age(map, ctx.today).is_some_and(|a| a < 16)
            {
                let field = if has_dob { "victim.date_of_birth" } else { "victim.age" };
                e.push(FieldError::new(field, Refusal::VictimUnder16.to_string()));
            }
            require(map, "victim.gender", "Select the victim's gender, or 'Not known'", e);
            require(map, "victim.ethnicity", "Select the victim's ethnic group, or 'Not known or not given'", e);
            require(map, "victim.disability", "Select whether the victim has a disability", e);
            require(map, "victim.lgbt", "Select whether the victim identifies as LGBT+", e);
            require(map, "victim.pregnant", "Select whether the victim is pregnant or has a new baby", e);
            require(map, "victim.interpreter", "Select whether the victim needs an interpreter", e);
            if !get(map, "victim.phone").is_empty() {
                require(map, "victim.safe_to_call", "Select whether it is safe to call this number", e);
            }
        }
        Section::Perpetrators => {
            let n = group_count(map, section);
            if n == 0 {
                e.push(FieldError::new(
                    group_key(section, 0, "given_name"),
                    "Enter the name of the person causing harm",
                ));
            }
            for i in 0..n {
                let gp = format!("{p}.{i}");
                check_shapes(map, &gp, section.group_fields(), ctx, e);
                if get(map, &format!("{gp}.given_name")).is_empty() && get(map, &format!("{gp}.family_name")).is_empty()
                {
                    e.push(FieldError::new(
                        format!("{gp}.given_name"),
                        "Enter the person's name, or what they are known as",
                    ));
                }
                require(map, &format!("{gp}.gender"), "Select the person's gender, or 'Not known'", e);
                require(map, &format!("{gp}.relationship"), "Select how the person is related to the victim", e);
            }
        }
        Section::Children => {
            require(map, "children.any", "Select whether there are children or other people in the household", e);
            if get(map, "children.any") == "yes" {
                let n = group_count(map, section);
                if n == 0 {
                    e.push(FieldError::new(
                        group_key(section, 0, "name"),
                        "Enter the child's or household member's name",
                    ));
                }
                for i in 0..n {
                    let gp = format!("{p}.{i}");
                    check_shapes(map, &gp, section.group_fields(), ctx, e);
                    require(map, &format!("{gp}.name"), "Enter the name (for an unborn child, 'Unborn')", e);
                    require(map, &format!("{gp}.relationship"), "Select the relationship", e);
                    require(
                        map,
                        &format!("{gp}.known_to_social_care"),
                        "Select whether they are known to children's social care",
                        e,
                    );
                    require(
                        map,
                        &format!("{gp}.child_protection_plan"),
                        "Select whether they have a child protection plan",
                        e,
                    );
                }
            }
        }
        Section::Checklist => match (get(map, "checklist.version"), ctx.checklist) {
            ("", _) => e.push(FieldError::new("checklist.version", "Select the risk checklist you used")),
            (v, None) => {
                e.push(FieldError::new("checklist.version", format!("'{v}' is not a risk checklist loaded here")))
            }
            (_, Some(c)) => {
                let questions: Vec<_> = c.questions().collect();
                for (k, v) in map.range("checklist.".to_owned()..) {
                    if !k.starts_with("checklist.") {
                        break;
                    }
                    let Some((part, id)) = k["checklist.".len()..].split_once('.') else { continue };
                    let Some(q) = questions.iter().find(|q| q.id == id) else {
                        e.push(FieldError::new(
                            k.clone(),
                            format!("'{id}' is not a question of {} {}", c.id, c.version),
                        ));
                        continue;
                    };
                    let bad = match part {
                        "answer" => !v.is_empty() && !["yes", "no", "dont_know"].contains(&v.as_str()),
                        "who" => v.split(',').map(str::trim).any(|w| !w.is_empty() && !q.who.iter().any(|x| x == w)),
                        _ => v.chars().count() > 1_000 || check_text(v, TextKind::Multiline).is_err(),
                    };
                    if bad {
                        e.push(FieldError::new(k.clone(), format!("Not a valid {part} for question {}", q.id)));
                    }
                }
                for (n, q) in questions.iter().enumerate() {
                    let k = format!("checklist.answer.{}", q.id);
                    if get(map, &k).is_empty() {
                        e.push(FieldError::new(k, format!("Answer question {}: yes, no or don't know", n + 1)));
                    }
                }
            }
        },
        Section::Reason => {
            require(
                map,
                "reason.professional_judgement",
                "Select whether you are also referring on professional judgement",
                e,
            );
            let f = facts(map, ctx.today, None);
            if let Err(problems) = referral_rules::assess_input(&f) {
                for problem in problems.iter().filter(|x| x.field.starts_with("reason.")) {
                    e.push(FieldError::new(problem.field, problem.message));
                }
            }
        }
        Section::Consent => {
            require(map, "consent.given", "Select whether the victim has consented", e);
            require(map, "consent.victim_knows", "Select whether the victim knows about the referral", e);
            if get(map, "consent.given") == "no" && get(map, "consent.justification").chars().count() < 20 {
                e.push(FieldError::new(
                    "consent.justification",
                    "Explain why the risk justifies referring without consent, in at least a sentence",
                ));
            }
            require(
                map,
                "consent.previous_maracs",
                "Select whether the victim has been discussed at a Marac before",
                e,
            );
        }
        Section::Summary => {
            require(map, "summary.text", "Enter a summary of the current situation", e);
        }
    }
    errors
}

/// Checks every section.
#[must_use]
pub fn validate_all(map: &FormMap, ctx: &FormContext<'_>) -> Vec<FieldError> {
    Section::ALL.into_iter().flat_map(|s| validate(s, map, ctx)).collect()
}

/// Where a section stands, for the task list.
#[must_use]
pub fn status(section: Section, map: &FormMap, ctx: &FormContext<'_>) -> Status {
    if !map.contains_key(&saved_key(section)) {
        return Status::NotStarted;
    }
    if validate(section, map, ctx).is_empty() { Status::Completed } else { Status::InProgress }
}

/// Whether `key` names a field of the form (the API refuses anything else).
#[must_use]
pub fn is_known_key(key: &str) -> bool {
    let Some((prefix, rest)) = key.split_once('.') else { return false };
    let Some(section) = Section::ALL.into_iter().find(|s| s.prefix() == prefix) else { return false };
    if section == Section::Checklist {
        return rest == "version"
            || rest
                .split_once('.')
                .is_some_and(|(part, id)| ["answer", "who", "source", "comment"].contains(&part) && !id.is_empty());
    }
    if section.fields().iter().any(|f| f.name == rest) {
        return true;
    }
    match rest.split_once('.') {
        Some((i, name)) => {
            i.parse::<usize>().is_ok_and(|i| i < MAX_GROUP) && section.group_fields().iter().any(|f| f.name == name)
        }
        None => false,
    }
}

/// Turns an API request body into form keys. Strings, numbers and booleans become values;
/// lists of people become numbered groups; lists of strings are joined with commas.
///
/// # Errors
/// Every key the form does not have, and every value of the wrong type, with its pointer.
pub fn from_json(body: &serde_json::Value) -> Result<FormMap, Vec<FieldError>> {
    use serde_json::Value;
    fn walk(key: &str, v: &Value, map: &mut FormMap, errors: &mut Vec<FieldError>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    let child = if key.is_empty() { k.clone() } else { format!("{key}.{k}") };
                    walk(&child, v, map, errors);
                }
            }
            Value::Array(items) if items.iter().all(Value::is_object) => {
                for (i, item) in items.iter().enumerate() {
                    walk(&format!("{key}.{i}"), item, map, errors);
                }
            }
            Value::Array(items) => {
                let strings: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                match strings {
                    Some(s) => {
                        map.insert(key.to_owned(), s.join(","));
                    }
                    None => errors.push(FieldError::new(key, "Must be a list of strings or a list of objects")),
                }
            }
            Value::String(s) => {
                map.insert(key.to_owned(), s.clone());
            }
            Value::Number(n) => {
                map.insert(key.to_owned(), n.to_string());
            }
            Value::Bool(b) => {
                map.insert(key.to_owned(), if *b { "yes" } else { "no" }.to_owned());
            }
            Value::Null => {}
        }
    }
    let mut map = FormMap::new();
    let mut errors = Vec::new();
    if !body.is_object() {
        return Err(vec![FieldError::new("", "The body must be a JSON object")]);
    }
    walk("", body, &mut map, &mut errors);
    for k in map.keys() {
        if !is_known_key(k) {
            errors.push(FieldError::new(k.clone(), "Not a field of a referral"));
        }
    }
    if errors.is_empty() { Ok(map) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn ctx() -> FormContext<'static> {
        FormContext { today: TODAY, marac_ids: &[1], agency_ids: &[5], checklist: None }
    }

    fn map(pairs: &[(&str, &str)]) -> FormMap {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn keys(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn dates_are_read_as_people_type_them() {
        for (typed, expected) in [
            ("27/3/2026", Some(date!(2026 - 03 - 27))),
            ("27-03-2026", Some(date!(2026 - 03 - 27))),
            ("27 3 2026", Some(date!(2026 - 03 - 27))),
            ("2026-03-27", Some(date!(2026 - 03 - 27))),
            ("31/2/2026", None),
            ("27/3/26", None),
            ("yesterday", None),
        ] {
            assert_eq!(parse_date(typed), expected, "{typed}");
        }
    }

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(age_on(date!(2010 - 11 - 24), TODAY), 15);
        assert_eq!(age_on(date!(2010 - 11 - 23), TODAY), 16);
    }

    #[test]
    fn victims_under_16_are_refused_with_guidance() {
        let base = [
            ("victim.given_name", "A"),
            ("victim.family_name", "B"),
            ("victim.gender", "female"),
            ("victim.ethnicity", "not_known"),
            ("victim.disability", "no"),
            ("victim.lgbt", "no"),
            ("victim.pregnant", "no"),
            ("victim.interpreter", "no"),
        ];
        let mut m = map(&base);
        m.insert("victim.date_of_birth".into(), "24/11/2010".into());
        let errors = validate(Section::Victim, &m, &ctx());
        assert_eq!(keys(&errors), ["victim.date_of_birth"]);
        assert!(errors[0].message.contains("children's safeguarding"));
        m.insert("victim.date_of_birth".into(), "23/11/2010".into());
        assert!(validate(Section::Victim, &m, &ctx()).is_empty());
        m.remove("victim.date_of_birth");
        m.insert("victim.age".into(), "15".into());
        assert_eq!(keys(&validate(Section::Victim, &m, &ctx())), ["victim.age"]);
        m.insert("victim.age".into(), "121".into());
        assert_eq!(validate(Section::Victim, &m, &ctx())[0].message, "Enter an age between 0 and 120");
    }

    #[test]
    fn each_section_names_what_is_missing_at_its_field() {
        type Row<'a> = (Section, &'a [(&'a str, &'a str)], &'a [&'a str]);
        let table: [Row<'_>; 7] = [
            (Section::Referral, &[], &["referral.marac", "referral.incident_date"]),
            (
                Section::Referral,
                &[("referral.marac", "2"), ("referral.incident_date", "24/11/2026")],
                &["referral.incident_date", "referral.marac"],
            ),
            (
                Section::Referral,
                &[
                    ("referral.marac", "1"),
                    ("referral.incident_date", "1/11/2026"),
                    ("referral.police_incidents", "1/1/2026\nsoon"),
                ],
                &["referral.police_incidents"],
            ),
            (Section::Perpetrators, &[], &["perpetrators.0.given_name"]),
            (Section::Children, &[("children.any", "no")], &[]),
            (
                Section::Reason,
                &[("reason.professional_judgement", "yes"), ("reason.professional_judgement_reason", "worried")],
                &["reason.professional_judgement_reason"],
            ),
            (
                Section::Consent,
                &[("consent.given", "no"), ("consent.victim_knows", "no"), ("consent.previous_maracs", "no")],
                &["consent.justification"],
            ),
        ];
        for (section, pairs, expected) in table {
            let mut got =
                keys(&validate(section, &map(pairs), &ctx())).into_iter().map(str::to_owned).collect::<Vec<_>>();
            got.sort();
            let mut expected = expected.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
            expected.sort();
            assert_eq!(got, expected, "{section:?} {pairs:?}");
        }
    }

    #[test]
    fn groups_count_people_entered_or_added() {
        let m = map(&[
            ("perpetrators.0.given_name", "A"),
            ("perpetrators.2.family_name", "C"),
            ("_count.perpetrators", "1"),
        ]);
        assert_eq!(group_count(&m, Section::Perpetrators), 3);
        assert_eq!(perpetrator_details(&m, TODAY).len(), 2);
        let m = map(&[("_count.children", "2")]);
        assert_eq!(group_count(&m, Section::Children), 2);
    }

    #[test]
    fn api_bodies_map_onto_form_keys_with_pointers_for_problems() {
        let body = serde_json::json!({
            "victim": { "given_name": "Ann", "age": 34, "interpreter": false },
            "perpetrators": [{ "family_name": "Bell" }],
            "checklist": { "version": "safelives-dash@2026.1", "answer": { "q1": "yes" }, "who": { "q1": ["children"] } }
        });
        let m = from_json(&body).unwrap();
        assert_eq!(m["victim.age"], "34");
        assert_eq!(m["victim.interpreter"], "no");
        assert_eq!(m["perpetrators.0.family_name"], "Bell");
        assert_eq!(m["checklist.who.q1"], "children");
        let bad = serde_json::json!({ "victim": { "shoe_size": 5, "given_name": ["a", 1] }, "colour": "red" });
        let errors = from_json(&bad).unwrap_err();
        let mut pointers: Vec<String> = errors.iter().map(FieldError::pointer).collect();
        pointers.sort();
        assert_eq!(pointers, ["/colour", "/victim/given_name", "/victim/shoe_size"]);
    }

    #[test]
    fn professional_judgement_only_raises() {
        let m = map(&[
            ("reason.professional_judgement", "yes"),
            ("reason.professional_judgement_reason", "Threats to kill after separation, escalating this month"),
            ("victim.age", "30"),
        ]);
        let a = assess(&m, &MaracRules::default(), TODAY, None).unwrap();
        assert_eq!(a.criteria, vec![referral_rules::Criterion::ProfessionalJudgement]);
    }

    #[test]
    fn the_profile_counts_what_was_recorded_and_leaves_the_rest_unknown() {
        let m = map(&[
            ("victim.gender", "male"),
            ("victim.ethnicity", "white_roma"),
            ("victim.disability", "not_known"),
            ("victim.lgbt", "yes"),
            ("perpetrators.0.given_name", "A"),
            ("perpetrators.0.age", "16"),
            ("perpetrators.0.relationship", "ex_partner"),
            ("perpetrators.1.given_name", "B"),
            ("perpetrators.1.date_of_birth", "1/1/2010"),
            ("perpetrators.1.relationship", "family"),
            ("perpetrators.2.given_name", "C"),
            ("perpetrators.2.age", "40"),
            ("children.any", "yes"),
            ("children.0.name", "D"),
            ("children.0.known_to_social_care", "yes"),
            ("children.0.child_protection_plan", "yes"),
            ("children.1.name", "E"),
            ("children.1.known_to_social_care", "yes"),
            ("children.1.child_protection_plan", "not_known"),
        ]);
        let p = profile(&m, TODAY);
        assert_eq!(
            p,
            Profile {
                victim_gender: "male".into(),
                victim_minoritised: Some(true),
                victim_disabled: None,
                victim_lgbt: Some(true),
                young_perpetrators: Some(2),
                young_perpetrators_partner: 1,
                children_known_to_social_care: 2,
                children_on_protection_plan: 1,
                victim_postcode_sector: String::new(),
            }
        );
        assert_eq!(postcode_sector("ns1 4ab"), "NS1 4");
        assert_eq!(postcode_sector("SW1A1AA"), "SW1A 1");
        assert_eq!(postcode_district("SW1A 1"), "SW1A");
        assert_eq!(postcode_sector("N1"), "");
        let empty = profile(&map(&[("victim.gender", "not_known"), ("victim.ethnicity", "white_irish")]), TODAY);
        assert_eq!((empty.victim_gender.as_str(), empty.victim_minoritised), ("", Some(false)));
        assert_eq!(empty.young_perpetrators, None, "no one's age known");
    }

    #[test]
    fn removing_a_person_moves_the_later_ones_up_and_shortens_the_group() {
        let s = Section::Perpetrators;
        let mut m = map(&[
            ("perpetrators.0.given_name", "Ann"),
            ("perpetrators.1.given_name", "Bea"),
            ("perpetrators.2.given_name", "Cal"),
            ("_count.perpetrators", "3"),
        ]);
        remove_from_group(&mut m, s, 1);
        assert_eq!(group_count(&m, s), 2, "three less one is two, not three with an empty third");
        assert_eq!(get(&m, "perpetrators.0.given_name"), "Ann");
        assert_eq!(get(&m, "perpetrators.1.given_name"), "Cal");
        assert_eq!(get(&m, "perpetrators.2.given_name"), "");
        remove_from_group(&mut m, s, 0);
        remove_from_group(&mut m, s, 0);
        assert_eq!(group_count(&m, s), 1, "the form always shows one person to fill in");
        assert!(group_member_is_empty(&m, s, 0));
    }

    #[test]
    fn adding_a_person_gives_the_new_index_until_the_group_is_full() {
        let s = Section::Children;
        let mut m = map(&[("children.0.name", "Dee")]);
        assert_eq!(add_to_group(&mut m, s), Some(1));
        assert_eq!(group_count(&m, s), 2);
        assert!(group_member_is_empty(&m, s, 1) && !group_member_is_empty(&m, s, 0));
        while add_to_group(&mut m, s).is_some() {}
        assert_eq!(group_count(&m, s), MAX_GROUP);
    }
}
