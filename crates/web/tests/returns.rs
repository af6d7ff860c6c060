//! The SafeLives return through the real router on SQLite and PostgreSQL: a fixture with
//! hand-worked figures reproduced exactly by the page, the CSV, the XLSX (read back) and the
//! JSON; small numbers suppressed for analysts, with a second figure hidden where a total would
//! give one away; and every refusal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use marac_domain::meeting_rules::{CaseOutcome, MeetingFormat, MeetingKind};
use marac_domain::referral_form::Profile;
use marac_domain::{AgencyCategory, Role};
use marac_store::{AgencyInput, AuditFilter, Decision, NewMeeting, PersonRef, Submission, Ts};
use std::collections::BTreeMap;
use support::TestApp;
use time::Date;
use time::macros::date;

/// One case heard (or not) at a meeting.
struct Case {
    agency: i64,
    joint: Option<i64>,
    repeat: bool,
    children: i64,
    age_group: &'static str,
    profile: Profile,
    outcome: CaseOutcome,
}

fn profile(
    gender: &str,
    minoritised: Option<bool>,
    disabled: Option<bool>,
    lgbt: Option<bool>,
    young: Option<u32>,
) -> Profile {
    Profile {
        victim_gender: gender.into(),
        victim_minoritised: minoritised,
        victim_disabled: disabled,
        victim_lgbt: lgbt,
        young_perpetrators: young,
        // Women in one sector, men in another, no gender no postcode: enough for the mapping.
        victim_postcode_sector: match gender {
            "female" => "NS1 4".into(),
            "male" => "NS2 1".into(),
            _ => String::new(),
        },
        ..Profile::default()
    }
}

async fn agency(app: &TestApp, code: &str, category: AgencyCategory) -> i64 {
    let s = app.db.store.as_ref();
    let p = s.list_partnerships().await.unwrap()[0].id;
    let input = AgencyInput {
        partnership_id: p,
        code: code.into(),
        name: format!("{code} agency"),
        category,
        marac_ids: vec![app.marac_id],
    };
    s.create_agency(&input, marac_app::audit::system_event(&app.state, "test.seed", "")).await.unwrap()
}

/// Files the cases as accepted referrals of the test Marac and hears them at a meeting on `day`.
async fn meeting(app: &TestApp, day: Date, cases: &[Case], by: i64, tag: &str) -> i64 {
    let s = app.db.store.as_ref();
    let event = || marac_app::audit::system_event(&app.state, "test.seed", "");
    let at = Ts::new(app.state.clock.now());
    let p = s.list_partnerships().await.unwrap()[0].id;
    let mut list = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let person = |who: &str| PersonRef::New {
            details_sealed: format!("sealed:{tag}{who}{i}"),
            keys: vec![format!("k:{tag}{who}{i}")],
        };
        let sub = Submission {
            referral_id: None,
            referrer_user_id: by,
            referring_agency_id: c.agency,
            marac_id: app.marac_id,
            marac_code: "TM".into(),
            partnership_id: p,
            joint_agency_id: c.joint,
            form_sealed: "not opened by returns".into(),
            victim: person("v"),
            perpetrators: vec![person("p")],
            matches: Vec::new(),
            checklist_id: "safelives-dash".into(),
            checklist_version: "2026.1".into(),
            score: 15,
            criteria: vec![marac_domain::referral_rules::Criterion::VisibleHighRisk],
            is_repeat: c.repeat,
            age_flags: if c.age_group == "16-17" {
                vec![marac_domain::referral_rules::AgeFlag::VictimAged16To17]
            } else {
                Vec::new()
            },
            victim_age_group: c.age_group.into(),
            children_count: c.children,
            referral_date: day - time::Duration::days(20),
            incident_date: day - time::Duration::days(21),
            profile: c.profile.clone(),
        };
        let done = s.submit_referral(&sub, at, event(), &marac_store::tell_no_one).await.unwrap();
        s.decide_referral(done.referral_id, &Decision::Accept, by, at, event()).await.unwrap();
        list.push((done.case_id.unwrap(), done.referral_id));
    }
    let m = NewMeeting {
        marac_id: app.marac_id,
        kind: MeetingKind::Regular,
        format: MeetingFormat::InPerson,
        held_on: day,
        starts_at: "10:00".into(),
        closing_on: None,
        location: String::new(),
        chair_user_id: None,
        capacity: 16,
        list_cutoff_on: None,
        invited_agency_ids: vec![app.agency_id],
    };
    let id = s.create_meetings(&[m], at, event()).await.unwrap()[0];
    s.set_meeting_list(id, &list, at, event()).await.unwrap();
    for ((case_id, _), c) in list.iter().zip(cases) {
        let record = marac_store::DiscussionRecord {
            sealed: "sealed".into(),
            child_voice_recorded: c.children > 0,
            saved_version: None,
        };
        s.save_discussion((id, *case_id), &record, c.outcome, by, at, event()).await.unwrap();
    }
    id
}

/// The value shown for each figure on the page, by key.
fn page_figures(body: &str) -> BTreeMap<String, String> {
    body.split("data-key=\"")
        .skip(1)
        .filter_map(|rest| {
            let (key, rest) = rest.split_once('"')?;
            let value = rest.split_once('>')?.1.split_once('<')?.0;
            Some((key.to_owned(), value.to_owned()))
        })
        .collect()
}

fn expected(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

async fn audited(app: &TestApp, action: &str, outcome: &str) -> usize {
    let filter = AuditFilter { action_prefix: Some(action.into()), limit: 500, ..AuditFilter::default() };
    app.db.store.list_audit(&filter).await.unwrap().iter().filter(|e| e.event.outcome == outcome).count()
}

#[tokio::test]
async fn the_return_is_exact_for_coordinators_in_every_format_and_suppressed_for_analysts() {
    each_backend!(|app| {
        let police = app.agency_id;
        let health = agency(&app, "NHS", AgencyCategory::SecondaryCare).await;
        let csc = agency(&app, "CSC", AgencyCategory::ChildrensSocialCare).await;
        let housing = agency(&app, "HOU", AgencyCategory::Housing).await;
        let cora = app.user("cora@x.org", Role::Coordinator, true).await;
        app.user("ana@x.org", Role::Analyst, false).await;
        app.user("kim@x.org", Role::Referrer, false).await;
        let case = |agency, joint, repeat, children, age_group, profile, outcome| Case {
            agency,
            joint,
            repeat,
            children,
            age_group,
            profile,
            outcome,
        };
        let heard = CaseOutcome::Heard;
        // July to September 2026, worked by hand below.
        let september = meeting(
            &app,
            date!(2026 - 09 - 15),
            &[
                case(police, None, true, 2, "16-17", profile("female", Some(true), None, Some(false), Some(0)), heard),
                case(
                    police,
                    Some(health),
                    false,
                    1,
                    "25-34",
                    profile("male", Some(false), Some(true), Some(false), Some(1)),
                    heard,
                ),
                case(health, None, true, 0, "Not known", profile("", None, None, Some(true), None), heard),
                case(csc, None, false, 3, "35-44", profile("female", Some(true), None, Some(false), Some(2)), heard),
                case(police, None, false, 4, "35-44", profile("female", None, None, None, None), CaseOutcome::Deferred),
            ],
            cora,
            "s",
        )
        .await;
        meeting(
            &app,
            date!(2026 - 08 - 10),
            &[case(police, None, false, 0, "45-54", profile("female", Some(false), None, Some(false), Some(0)), heard)],
            cora,
            "a",
        )
        .await;
        // April to June: six police referrals and one from housing.
        let mut june = Vec::new();
        for _ in 0..6 {
            june.push(case(
                police,
                None,
                false,
                1,
                "25-34",
                profile("female", Some(false), Some(false), Some(false), Some(0)),
                heard,
            ));
        }
        june.push(case(
            housing,
            None,
            false,
            0,
            "25-34",
            profile("female", Some(false), Some(false), Some(false), Some(0)),
            heard,
        ));
        meeting(&app, date!(2026 - 06 - 10), &june, cora, "j").await;

        // Five cases heard at two meetings (the deferred one is not counted). Police 1 + 0.5 + 1;
        // health 0.5 + 1; children's social care 1. 5 cases in 92 days is 19.8 a year, 4.0 per
        // 10,000 of 50,000 women; 40 per 10,000 is 200 a year, 50.4 for 92 days.
        let q3 = expected(&[
            ("meetings", "2"),
            ("cases", "5"),
            ("repeats", "2"),
            ("children", "6"),
            ("source_police", "2.5"),
            ("source_secondary_care", "1.5"),
            ("source_childrens_social_care", "1"),
            ("source_housing", "0"),
            ("victims_minoritised", "2"),
            ("victims_lgbt", "1"),
            ("victims_disabled", "1"),
            ("victims_male", "1"),
            ("victims_16_17", "1"),
            ("perpetrators_17_or_under", "3"),
            ("cases_per_10k_a_year", "4.0"),
            ("recommended_cases", "50.4"),
            ("repeat_rate", "40.0%"),
            ("partner_agency_share", "50.0%"),
        ]);
        let scope = format!("scope=marac:{}&quarter=2026-q3", app.marac_id);

        // The coordinator: the page.
        let b = app.signed_in("cora@x.org").await;
        let page = b.get(&format!("/returns?{scope}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("OFFICIAL-SENSITIVE") && page.body.contains("July to September 2026"));
        let shown = page_figures(&page.body);
        for (k, v) in &q3 {
            assert_eq!(shown.get(k), Some(v), "page {k}");
        }
        assert!(!page.body.contains("Does not hold"), "the checks hold");
        assert!(page.body.contains(&format!("meeting={september}")), "meetings listed for the coordinator");

        // The CSV.
        let csv = b.get(&format!("/returns/download?{scope}&format=csv")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.header("content-disposition").contains("safelives-return-2026-07-01-2026-09-30.csv"));
        assert!(csv.body.starts_with("classification,OFFICIAL-SENSITIVE"));
        let from_csv: BTreeMap<String, String> = csv
            .body
            .lines()
            .filter_map(|l| l.split_once(','))
            .filter(|(k, _)| q3.contains_key(*k))
            .map(|(k, rest)| (k.to_owned(), rest.split(',').next().unwrap().to_owned()))
            .collect();
        assert_eq!(from_csv, q3, "CSV");
        // A name a spreadsheet would run as a formula is written as text, in every CSV.
        let m = app.db.store.get_marac(app.marac_id).await.unwrap();
        let evil = "=HYPERLINK(\"http://evil.example/?x\",\"Eastport\")";
        let input = marac_store::MaracInput {
            partnership_id: m.partnership_id,
            code: m.code.clone(),
            name: evil.into(),
            area: m.area.clone(),
            adult_female_population: m.adult_female_population,
            cadence: m.cadence,
            rules: m.rules,
        };
        let seed = || marac_app::audit::system_event(&app.state, "test.seed", "");
        app.db.store.update_marac(app.marac_id, &input, seed()).await.unwrap();
        let csv = b.get(&format!("/returns/download?{scope}&format=csv")).await.body;
        assert!(csv.contains("scope,\"'=HYPERLINK("), "{csv}");
        let postcodes = b.get(&format!("/returns/postcodes?{scope}&format=csv")).await;
        assert!(
            !postcodes.body.contains(",=HYPERLINK") && !postcodes.body.contains("\n=HYPERLINK"),
            "{}",
            postcodes.body
        );
        for line in csv.lines().chain(postcodes.body.lines()) {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(!cell.starts_with(['=', '+', '@']), "{cell} in {line}");
            }
        }
        let input = marac_store::MaracInput { name: m.name.clone(), ..input };
        app.db.store.update_marac(app.marac_id, &input, seed()).await.unwrap();

        // The XLSX, read back.
        let xlsx = b.get(&format!("/returns/download?{scope}&format=xlsx")).await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert!(xlsx.header("content-type").contains("spreadsheetml"));
        let bytes = xlsx.bytes;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = calamine::Reader::worksheet_range(&mut book, "Return").unwrap();
        assert_eq!(sheet.get_value((0, 0)).map(ToString::to_string).as_deref(), Some("OFFICIAL-SENSITIVE"));
        let from_xlsx: BTreeMap<String, String> = sheet
            .rows()
            .filter_map(|r| Some((r.first()?.to_string(), r.get(1)?.to_string())))
            .filter(|(k, _)| q3.contains_key(k))
            .collect();
        assert_eq!(from_xlsx, q3, "XLSX");
        let police_value = sheet.rows().find(|r| r[0] == "source_police").map(|r| r[2].to_string());
        assert_eq!(police_value.as_deref(), Some("2.5"), "numbers are numbers");

        // The JSON.
        let json = b.get(&format!("/returns/download?{scope}&format=json")).await;
        let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        assert_eq!(v["classification"], "OFFICIAL-SENSITIVE");
        let lines = v["lines"].as_array().unwrap();
        let text = |f: &serde_json::Value| -> String {
            let figure: marac_domain::safelives_return::Figure = serde_json::from_value(f.clone()).unwrap();
            figure.text()
        };
        let from_json: BTreeMap<String, String> = lines
            .iter()
            .map(|l| (l["key"].as_str().unwrap().to_owned(), text(&l["figure"])))
            .filter(|(k, _)| q3.contains_key(k))
            .collect();
        assert_eq!(from_json, q3, "JSON");
        let disabled = lines.iter().find(|l| l["key"] == "victims_disabled").unwrap();
        assert_eq!(disabled["recorded_for"], 1, "recorded for one case of five");
        assert_eq!(audited(&app, "returns.download", "success").await, 4, "CSV twice, XLSX and JSON");

        // One meeting's own return.
        let one = page_figures(&b.get(&format!("/returns?{scope}&meeting={september}")).await.body);
        assert_eq!((one["cases"].as_str(), one["source_police"].as_str()), ("4", "1.5"));

        // What the checks say to the coordinator, in exact counts: none of it reaches an analyst.
        let coordinator_csv = b.get(&format!("/returns/download?{scope}&format=csv")).await.body;
        let exact_checks: Vec<String> = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(coordinator_csv.as_bytes())
            .records()
            .map(Result::unwrap)
            .skip_while(|r| r.get(0) != Some("check"))
            .skip(1)
            .filter_map(|r| r.get(2).map(str::to_owned))
            .collect();
        assert!(exact_checks.iter().any(|d| d == "2 repeats, 5 cases"), "{exact_checks:?}");

        // The analyst: small numbers hidden, and a second figure where the total would give one away.
        let a = app.signed_in("ana@x.org").await;
        let page = a.get(&format!("/returns?{scope}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let shown = page_figures(&page.body);
        assert_eq!(shown["cases"], "5");
        assert_eq!(shown["repeats"], "fewer than 5");
        assert_eq!(shown["repeat_rate"], "suppressed", "a rate would give the repeats away");
        assert_eq!(shown["source_police"], "fewer than 5");
        assert!(!page.body.contains(&format!("meeting={september}")), "no meeting rows for analysts");
        let june = a.get(&format!("/returns?scope=marac:{}&quarter=2026-q2", app.marac_id)).await;
        let shown = page_figures(&june.body);
        assert_eq!(
            (shown["cases"].as_str(), shown["source_housing"].as_str(), shown["source_police"].as_str()),
            ("7", "fewer than 5", "suppressed")
        );
        assert_eq!(shown["partner_agency_share"], "suppressed");
        let csv = a.get(&format!("/returns/download?scope=marac:{}&quarter=2026-q2&format=csv", app.marac_id)).await;
        assert!(
            csv.body.contains("source_housing,fewer than 5,,") && csv.body.contains("small_numbers_suppressed,yes")
        );

        // Every page and download an analyst has, scanned for the exact counts the checks hold.
        for path in [
            format!("/returns?{scope}"),
            format!("/returns/download?{scope}&format=csv"),
            format!("/returns/download?{scope}&format=json"),
            format!("/returns?scope=marac:{}&quarter=2026-q2", app.marac_id),
            format!("/returns/download?scope=marac:{}&quarter=2026-q2&format=csv", app.marac_id),
            format!("/returns/health?scope=marac:{}", app.marac_id),
            format!("/returns/children?scope=marac:{}", app.marac_id),
            format!("/returns/postcodes?{scope}"),
            format!("/returns/postcodes?{scope}&format=csv"),
        ] {
            let r = a.get(&path).await;
            for detail in &exact_checks {
                assert!(!r.body.contains(detail.as_str()), "{path} shows {detail}");
            }
            assert!(!r.body.contains(" repeats, ") && !r.body.contains(" counted, recorded for "), "{path}");
        }
        let xlsx = a.get(&format!("/returns/download?{scope}&format=xlsx")).await;
        assert!(!String::from_utf8_lossy(&xlsx.bytes).contains("repeats, 5 cases"));

        // Refusals: analysts reach no meeting's return and no case; others see no returns.
        assert_eq!(a.get(&format!("/returns?{scope}&meeting={september}")).await.status, StatusCode::FORBIDDEN);
        let one_meeting = format!("/returns/download?{scope}&meeting={september}&format=csv");
        assert_eq!(a.get(&one_meeting).await.status, StatusCode::FORBIDDEN);
        let case_id = app.db.store.meeting_cases(september).await.unwrap()[0].case_id;
        assert_eq!(a.get(&format!("/cases/{case_id}")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(a.get(&format!("/meetings/{september}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(a.get(&format!("/returns?scope=marac:{}", app.other_marac_id)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(a.get("/returns?scope=partnership:1").await.status, StatusCode::FORBIDDEN, "not all its Maracs");
        let denied = app
            .db
            .store
            .list_audit(&AuditFilter {
                action_prefix: Some("access.denied".into()),
                limit: 500,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert!(
            denied.iter().any(|e| e.event.target == format!("marac:{}", app.other_marac_id)),
            "the refusal is audited"
        );
        let one_meeting = format!("return:marac:{}:meeting:{september}", app.marac_id);
        assert_eq!(
            denied.iter().filter(|e| e.event.target == one_meeting).count(),
            2,
            "one meeting's return refused on the page and as a download, each audited"
        );
        let k = app.signed_in("kim@x.org").await;
        assert_eq!(k.get("/returns").await.status, StatusCode::FORBIDDEN);
        assert_eq!(k.get(&format!("/returns/download?{scope}&format=csv")).await.status, StatusCode::FORBIDDEN);
        assert!(!k.get("/").await.body.contains("href=\"/returns\""));
        assert_eq!(b.get(&format!("/returns/download?{scope}&format=pdf")).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(b.get("/returns?quarter=2026-q9").await.status, StatusCode::BAD_REQUEST);
        assert_eq!(app.browser().get("/returns").await.status, StatusCode::SEE_OTHER);

        // The dashboards: the Marac's health and the children's measures from the same records.
        let first_case = app.db.store.meeting_cases(september).await.unwrap()[0].case_id;
        let action = marac_store::NewAction {
            case_id: first_case,
            meeting_id: september,
            agency_id: police,
            owner_name: "PC Lowe".into(),
            subject: marac_domain::meeting_rules::ActionSubject::Perpetrator,
            approach: Some(marac_domain::meeting_rules::PerpetratorApproach::Disruption),
            description_sealed: "sealed".into(),
            due_on: date!(2026 - 09 - 30),
            kind: marac_domain::meeting_rules::ActionKind::RightToKnow,
        };
        let at = Ts::new(app.state.clock.now());
        app.db.store.add_action(&action, cora, at, marac_app::audit::system_event(&app.state, "t", "")).await.unwrap();
        let health = page_figures(&b.get(&format!("/returns/health?{scope}")).await.body);
        assert_eq!(health["repeat_rate"], "40.0%");
        assert_eq!(health["volume"], "4.0");
        assert_eq!(health["high_risk_screened_out"], "0");
        assert_eq!(health["plans_with_perpetrator_action"], "20.0%", "one plan of five");
        let children = b.get(&format!("/returns/children?{scope}")).await;
        assert!(children.body.contains("<svg") && children.body.contains("role=\"img\""), "charts");
        let shown = page_figures(&children.body);
        assert_eq!(
            (shown["cases_with_children"].as_str(), shown["children"].as_str(), shown["child_voice"].as_str()),
            ("3", "6", "100.0%")
        );
        assert_eq!((shown["referrals_from_csc"].as_str(), shown["right_to_know"].as_str()), ("1", "1"));
        assert_eq!(shown["young_people_harming_family"], "3");
        assert_eq!(shown["police_notifications_to_csc"], "not held");
        let shown = page_figures(&a.get(&format!("/returns/children?{scope}")).await.body);
        assert_eq!(
            (shown["cases_with_children"].as_str(), shown["child_voice"].as_str()),
            ("fewer than 5", "suppressed")
        );

        // Figures from outside the records: entered by a coordinator, checked, kept as typed.
        let figures = [("scope", format!("marac:{}", app.marac_id)), ("quarter", "2026-q3".to_owned())];
        let mut bad: Vec<(&str, &str)> = figures.iter().map(|(k, v)| (*k, v.as_str())).collect();
        bad.push(("police_notifications_to_csc", "12a"));
        let r = b.post("/returns/children/figures", &bad).await;
        assert!(r.body.contains("as a whole number") && r.body.contains("value=\"12a\""), "{}", r.body);
        bad.pop();
        bad.push(("police_notifications_to_csc", "140"));
        let r = b.post("/returns/children/figures", &bad).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = b.get(&format!("/returns/children?{scope}")).await;
        assert_eq!(page_figures(&page.body)["police_notifications_to_csc"], "140");
        assert!(page.body.contains("Entered by Test Coordinator"));
        a.get(&format!("/returns/children?{scope}")).await;
        assert_eq!(a.post("/returns/children/figures", &bad).await.status, StatusCode::FORBIDDEN, "analysts only read");
        assert_eq!(k.get("/returns/health").await.status, StatusCode::FORBIDDEN);

        // Referrals by postcode: made in the quarter (the deferred case's too), by district.
        let areas = page_figures(&b.get(&format!("/returns/postcodes?{scope}")).await.body);
        assert_eq!(
            (areas["area:NS1"].as_str(), areas["area:NS2"].as_str(), areas["area:"].as_str(), areas["total"].as_str()),
            ("4", "1", "1", "6")
        );
        let csv = b.get(&format!("/returns/postcodes?{scope}&level=sector&format=csv")).await;
        assert!(
            csv.body.starts_with("classification,OFFICIAL-SENSITIVE") && csv.body.contains("NS1 4,4,4"),
            "{}",
            csv.body
        );
        let hidden = page_figures(&a.get(&format!("/returns/postcodes?{scope}")).await.body);
        assert_eq!((hidden["area:NS1"].as_str(), hidden["total"].as_str()), ("fewer than 5", "6"));
        assert_eq!(b.get(&format!("/returns/postcodes?{scope}&level=street")).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(k.get("/returns/postcodes").await.status, StatusCode::FORBIDDEN);
    });
}
