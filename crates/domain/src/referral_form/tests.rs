//! The form's rules as examples.

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
        let mut got = keys(&validate(section, &map(pairs), &ctx())).into_iter().map(str::to_owned).collect::<Vec<_>>();
        got.sort();
        let mut expected = expected.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        expected.sort();
        assert_eq!(got, expected, "{section:?} {pairs:?}");
    }
}

#[test]
fn groups_count_people_entered_or_added() {
    let m =
        map(&[("perpetrators.0.given_name", "A"), ("perpetrators.2.family_name", "C"), ("_count.perpetrators", "1")]);
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

#[test]
fn what_must_always_be_answered_is_declared_with_the_field_and_reported_in_page_order() {
    let errors = validate(Section::Victim, &map(&[("victim.phone", "01234 567890")]), &ctx());
    assert_eq!(
        keys(&errors),
        [
            "victim.given_name",
            "victim.family_name",
            "victim.age",
            "victim.gender",
            "victim.ethnicity",
            "victim.disability",
            "victim.lgbt",
            "victim.pregnant",
            "victim.interpreter",
            "victim.safe_to_call",
        ],
        "the definition's required fields and the rules between fields, in the page's order"
    );
    let required = |fields: &[FieldSpec]| fields.iter().filter(|f| f.required.is_some()).count();
    assert_eq!(required(Section::Victim.fields()), 8);
    let family = map(&[
        ("_count.perpetrators", "2"),
        ("perpetrators.1.given_name", "Sam"),
        ("perpetrators.1.gender", "male"),
        ("perpetrators.1.relationship", "ex_partner"),
    ]);
    assert_eq!(
        keys(&validate(Section::Perpetrators, &family, &ctx())),
        ["perpetrators.0.given_name", "perpetrators.0.gender", "perpetrators.0.relationship"],
        "each person of a group is checked against the group's definition"
    );
}

#[test]
fn every_field_key_constant_names_a_field() {
    for key in field::ALL {
        assert!(is_known_key(key), "{key} is not a field of the form");
    }
    let own: usize = Section::ALL.into_iter().map(|s| s.fields().len()).sum();
    assert_eq!(field::ALL.len(), own, "one constant for each field of the sections' own fields");
}

#[test]
fn a_case_page_lists_everyone_the_form_names_with_what_identifies_them() {
    let m = map(&[
        ("victim.given_name", "Jo"),
        ("victim.family_name", "Bloggs"),
        ("victim.date_of_birth", "27/3/1990"),
        ("victim.address", "1 High Street\nTown"),
        ("victim.postcode", "NE1 4ST"),
        ("perpetrators.0.given_name", "Sam"),
        ("perpetrators.0.family_name", "Smith"),
        ("perpetrators.0.age", "40"),
        ("perpetrators.0.relationship", "ex_partner"),
        ("perpetrators.1.given_name", ""),
        ("children.any", "yes"),
        ("children.0.name", "Alex Bloggs"),
        ("children.0.date_of_birth", "2/9/2019"),
        ("children.0.relationship", "child_of_both"),
    ]);
    let people = people_named(&m);
    let roles: Vec<&str> = people.iter().map(|p| p.role.as_str()).collect();
    assert_eq!(roles, ["Victim", "Person causing harm (ex-partner)", "Child of both"]);
    assert_eq!(people[0].born, Date::from_calendar_date(1990, Month::March, 27).ok());
    assert_eq!(people[0].address, "1 High Street\nTown");
    assert_eq!(people[1].age, Some(40));
    assert_eq!(people[2].name, "Alex Bloggs");
    // Household members count only when the form says there are some.
    let mut none = m.clone();
    none.insert("children.any".into(), "no".into());
    assert_eq!(people_named(&none).len(), 2);
}

#[test]
fn the_children_an_action_may_name_are_the_referrals_children() {
    let mut m = FormMap::new();
    for (k, v) in [
        ("children.any", "yes"),
        ("children.0.name", "Robin Lowe"),
        ("children.0.date_of_birth", "1/9/2019"),
        ("children.0.relationship", "child_of_both"),
        ("children.1.name", "Gran Lowe"),
        ("children.1.relationship", "other_household"),
        ("children.2.name", "Unborn"),
        ("children.2.relationship", "child_of_victim"),
    ] {
        m.insert(k.into(), v.into());
    }
    assert_eq!(children_named(&m), vec!["Robin Lowe (born 1 September 2019)".to_owned(), "Unborn".to_owned()]);
    m.insert("children.any".into(), "no".into());
    assert!(children_named(&m).is_empty(), "children said to be none are not offered");
}

#[test]
fn follow_up_questions_are_called_for_only_by_their_answer() {
    let why = Section::Reason.fields().iter().find(|f| f.name == "professional_judgement_reason").unwrap();
    let without_consent = Section::Consent.fields().iter().find(|f| f.name == "justification").unwrap();
    let mut m = FormMap::new();
    assert!(!why.called_for(Section::Reason, &m), "not before the question is answered");
    m.insert(field::REASON_PROFESSIONAL_JUDGEMENT.into(), "no".into());
    assert!(!why.called_for(Section::Reason, &m));
    m.insert(field::REASON_PROFESSIONAL_JUDGEMENT.into(), "yes".into());
    assert!(why.called_for(Section::Reason, &m));
    m.insert(field::CONSENT_GIVEN.into(), "no".into());
    assert!(without_consent.called_for(Section::Consent, &m));
    let summary = Section::Summary.fields().first().unwrap();
    assert!(summary.called_for(Section::Summary, &FormMap::new()), "a question that follows none is always asked");
    // Every follow-up names a radio question of its own section with that answer among its choices.
    for s in Section::ALL {
        for f in s.fields().iter().chain(s.group_fields()) {
            if let Some((name, answer)) = f.follows {
                let q = s.fields().iter().find(|q| q.name == name).expect("follows a field of its section");
                let Kind::Radios(options) = q.kind else { panic!("{} follows a radio question", f.name) };
                assert!(options.iter().any(|(v, _)| *v == answer), "{} follows an answer {name} offers", f.name);
            }
        }
    }
}
