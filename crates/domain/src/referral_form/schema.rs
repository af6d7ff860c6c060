//! The form's definition: its sections, their fields and the choices they offer.

use super::*;

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
    /// What to say when it is left empty, if it must always be answered; fields whose need
    /// depends on other answers are checked by their section's rules instead.
    pub required: Option<&'static str>,
    /// A follow-up question: asked only when the field of this name in the same section has
    /// this answer ("Why do you judge the risk to be high?" after "yes").
    pub follows: Option<(&'static str, &'static str)>,
}

pub(super) const fn f(name: &'static str, label: &'static str, hint: &'static str, kind: Kind) -> FieldSpec {
    FieldSpec { name, label, hint, kind, required: None, follows: None }
}

impl FieldSpec {
    /// This field, answered always: `message` when left empty.
    #[must_use]
    pub const fn required(self, message: &'static str) -> FieldSpec {
        FieldSpec { required: Some(message), ..self }
    }

    /// This field, asked only when `field` (of the same section) is answered `answer`.
    #[must_use]
    pub const fn follows(self, field: &'static str, answer: &'static str) -> FieldSpec {
        FieldSpec { follows: Some((field, answer)), ..self }
    }

    /// Whether the answers in `map` call for this field in `section`: always, unless it is a
    /// follow-up whose question was answered otherwise.
    #[must_use]
    pub fn called_for(&self, section: Section, map: &FormMap) -> bool {
        self.follows.is_none_or(|(name, answer)| map.get(&super::key(section, name)).is_some_and(|v| v == answer))
    }
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

pub(super) const REFERRAL: &[FieldSpec] = &[
    f("marac", "Which Marac are you referring to?", "", Kind::Marac).required("Select the Marac you are referring to"),
    f("incident_date", "Date of the incident or concern", "For example, 27/3/2026", Kind::Date)
        .required("Enter the date of the incident or concern"),
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

pub(super) const VICTIM: &[FieldSpec] = &[
    f("given_name", "Given name", "", Kind::Text).required("Enter the victim's given name"),
    f("family_name", "Family name", "", Kind::Text).required("Enter the victim's family name"),
    f("aliases", "Other names they are known by (optional)", "Separate names with commas", Kind::Text),
    f(
        "date_of_birth",
        "Date of birth",
        "For example, 27/3/1990. If you do not know it, give their age below.",
        Kind::Date,
    ),
    f("age", "Age, or an estimate, if you do not know their date of birth", "", Kind::Number),
    f("gender", "Gender", "", Kind::Radios(GENDERS)).required("Select the victim's gender, or 'Not known'"),
    f("ethnicity", "Ethnic group", "", Kind::Select(ETHNICITIES))
        .required("Select the victim's ethnic group, or 'Not known or not given'"),
    f("disability", "Do they have a disability?", "", Kind::Radios(YES_NO_UNKNOWN))
        .required("Select whether the victim has a disability"),
    f("lgbt", "Do they identify as lesbian, gay, bisexual or trans (LGBT+)?", "", Kind::Radios(YES_NO_UNKNOWN))
        .required("Select whether the victim identifies as LGBT+"),
    f("pregnant", "Are they pregnant or have they had a baby in the last 6 months?", "", Kind::Radios(YES_NO_UNKNOWN))
        .required("Select whether the victim is pregnant or has a new baby"),
    f("first_language", "First language (optional)", "", Kind::Text),
    f("interpreter", "Do they need an interpreter?", "", Kind::Radios(YES_NO))
        .required("Select whether the victim needs an interpreter"),
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

pub(super) const PERSON_CAUSING_HARM: &[FieldSpec] = &[
    f("given_name", "Given name", "", Kind::Text),
    f("family_name", "Family name", "", Kind::Text),
    f("aliases", "Other names they are known by (optional)", "Separate names with commas", Kind::Text),
    f("date_of_birth", "Date of birth (optional)", "For example, 27/3/1988", Kind::Date),
    f("age", "Age, or an estimate (optional)", "", Kind::Number),
    f("gender", "Gender", "", Kind::Radios(GENDERS)).required("Select the person's gender, or 'Not known'"),
    f("relationship", "Relationship to the victim", "", Kind::Radios(RELATIONSHIPS))
        .required("Select how the person is related to the victim"),
    f("address", "Address (optional)", "", Kind::Textarea),
    f("postcode", "Postcode (optional)", "", Kind::Postcode),
];

pub(super) const CHILDREN: &[FieldSpec] = &[f(
    "any",
    "Are there children or other people in the household?",
    "Include unborn children",
    Kind::Radios(YES_NO),
)
.required("Select whether there are children or other people in the household")];

pub(super) const HOUSEHOLD_MEMBER: &[FieldSpec] = &[
    f("name", "Name", "", Kind::Text).required("Enter the name (for an unborn child, 'Unborn')"),
    f(
        "date_of_birth",
        "Date of birth (optional)",
        "For example, 2/9/2019. Leave blank for an unborn child.",
        Kind::Date,
    ),
    f("relationship", "Relationship", "", Kind::Radios(HOUSEHOLD_RELATIONSHIPS)).required("Select the relationship"),
    f("school", "School, nursery or college (optional)", "", Kind::Text),
    f("known_to_social_care", "Known to children's social care?", "", Kind::Radios(YES_NO_UNKNOWN))
        .required("Select whether they are known to children's social care"),
    f("child_protection_plan", "Subject to a child protection plan?", "", Kind::Radios(YES_NO_UNKNOWN))
        .required("Select whether they have a child protection plan"),
];

pub(super) const CHECKLIST: &[FieldSpec] = &[f("version", "Which risk checklist did you use?", "", Kind::Checklist)];

pub(super) const REASON: &[FieldSpec] = &[
    f(
        "professional_judgement",
        "Are you also referring on professional judgement?",
        "Use it when you believe the risk is high whatever the score. It can only add a reason to refer.",
        Kind::Radios(YES_NO),
    )
    .required("Select whether you are also referring on professional judgement"),
    f(
        "professional_judgement_reason",
        "Why do you judge the risk to be high?",
        "What worries you about their safety: what has happened, what is changing, what the victim has said",
        Kind::Textarea,
    )
    .follows("professional_judgement", "yes"),
];

pub(super) const CONSENT: &[FieldSpec] = &[
    f("given", "Has the victim consented to this referral?", "", Kind::Radios(YES_NO))
        .required("Select whether the victim has consented"),
    f("victim_knows", "Does the victim know about this referral?", "", Kind::Radios(YES_NO))
        .required("Select whether the victim knows about the referral"),
    f(
        "justification",
        "Why are you referring without consent?",
        "Say why the risk justifies sharing without consent, and who you discussed it with",
        Kind::Textarea,
    )
    .follows("given", "no"),
    f("afraid_of", "Who is the victim afraid of? (optional)", "", Kind::Textarea),
    f("safe_to_talk", "Who is it safe to talk to about this? (optional)", "", Kind::Textarea),
    f("not_safe_to_talk", "Who is it not safe to talk to? (optional)", "", Kind::Textarea),
    f("previous_maracs", "Has the victim been discussed at a Marac before?", "", Kind::Radios(YES_NO_UNKNOWN))
        .required("Select whether the victim has been discussed at a Marac before"),
    f("previous_details", "Where and when, if known (optional)", "", Kind::Text).follows("previous_maracs", "yes"),
];

pub(super) const SUMMARY: &[FieldSpec] = &[f(
    "text",
    "Summary of the current situation",
    "What happened, what the victim wants, what you have done so far and what you are asking the Marac to do",
    Kind::Textarea,
)
.required("Enter a summary of the current situation")];

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
