//! Checking what was typed: each field's shape, then each section's own rules, with a
//! message for the field it is about.

use super::*;

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
    pub(super) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { key: key.into(), message: message.into() }
    }

    /// The JSON pointer of the field in an API request (`/victim/date_of_birth`).
    #[must_use]
    pub fn pointer(&self) -> String {
        format!("/{}", self.key.replace('.', "/"))
    }
}

pub(super) fn is_choice(value: &str, options: &[Opt]) -> bool {
    options.iter().any(|(code, _)| *code == value)
}

/// The label of a choice, or the value itself.
#[must_use]
pub fn choice_label(options: &[Opt], value: &str) -> String {
    options.iter().find(|(c, _)| *c == value).map_or_else(|| value.to_owned(), |(_, l)| (*l).to_owned())
}

/// Checks the shape of every field in `fields` under `prefix`: lengths, dates, numbers and
/// choices. Whether a field is required is each section's own rule.
pub(super) fn check_shapes(
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

pub(super) fn require(map: &FormMap, key: &str, message: &str, errors: &mut Vec<FieldError>) {
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
