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

/// Checks every field in `fields` under `prefix`: that it is answered if it must always be
/// ([`FieldSpec::required`]), and its shape: lengths, dates, numbers and choices. A field needed
/// only because of another answer is its section's own rule.
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
            if let Some(message) = spec.required {
                errors.push(FieldError::new(key, message));
            }
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
            for (n, line) in get(map, field::REFERRAL_POLICE_INCIDENTS).lines().enumerate() {
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
                    e.push(FieldError::new(field::REFERRAL_POLICE_INCIDENTS, m));
                    break;
                }
            }
        }
        Section::Victim => {
            let has_dob = !get(map, field::VICTIM_DATE_OF_BIRTH).is_empty();
            if !has_dob {
                require(
                    map,
                    field::VICTIM_AGE,
                    "Enter the victim's date of birth, or their age (an estimate will do)",
                    e,
                );
            }
            if !e.iter().any(|x| x.key == field::VICTIM_DATE_OF_BIRTH || x.key == field::VICTIM_AGE)
                && victim_age(map, ctx.today).is_some_and(|a| a < 16)
            {
                let field = if has_dob { field::VICTIM_DATE_OF_BIRTH } else { field::VICTIM_AGE };
                e.push(FieldError::new(field, Refusal::VictimUnder16.to_string()));
            }
            if !get(map, field::VICTIM_PHONE).is_empty() {
                require(map, field::VICTIM_SAFE_TO_CALL, "Select whether it is safe to call this number", e);
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
            }
        }
        Section::Children => {
            if get(map, field::CHILDREN_ANY) == "yes" {
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
                }
            }
        }
        Section::Checklist => match (get(map, field::CHECKLIST_VERSION), ctx.checklist) {
            ("", _) => e.push(FieldError::new(field::CHECKLIST_VERSION, "Select the risk checklist you used")),
            (v, None) => {
                e.push(FieldError::new(field::CHECKLIST_VERSION, format!("'{v}' is not a risk checklist loaded here")))
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
            let f = facts(map, ctx.today, None);
            if let Err(problems) = referral_rules::assess_input(&f) {
                for problem in problems.iter().filter(|x| x.field.starts_with("reason.")) {
                    e.push(FieldError::new(problem.field, problem.message));
                }
            }
        }
        Section::Consent => {
            if get(map, field::CONSENT_GIVEN) == "no" && get(map, field::CONSENT_JUSTIFICATION).chars().count() < 20 {
                e.push(FieldError::new(
                    field::CONSENT_JUSTIFICATION,
                    "Explain why the risk justifies referring without consent, in at least a sentence",
                ));
            }
        }
        // Its one field is required whatever else was answered.
        Section::Summary => {}
    }
    // Required fields are found field by field, the rules between fields afterwards: shown in
    // the order of the page, whichever found them.
    errors.sort_by_key(|e| page_position(section, &e.key));
    errors
}

/// Where a field's key comes on its section's page: the section's own fields first, then each
/// person of a group in turn; keys the definition does not list (checklist answers) keep their
/// order after them.
fn page_position(section: Section, key: &str) -> (usize, usize) {
    let rest = key.strip_prefix(section.prefix()).and_then(|r| r.strip_prefix('.')).unwrap_or(key);
    let position = |fields: &[FieldSpec], name: &str| fields.iter().position(|f| f.name == name);
    match rest.split_once('.').and_then(|(i, name)| Some((i.parse::<usize>().ok()?, name))) {
        Some((index, name)) => (index + 1, position(section.group_fields(), name).unwrap_or(usize::MAX)),
        None => (0, position(section.fields(), rest).unwrap_or(usize::MAX)),
    }
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
