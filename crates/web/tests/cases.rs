//! Cases as the unit of work: where a case stands, the lists it drives, and the action tracker
//! filtered and paged by the database, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use marac_app::store::NewAction;
use marac_domain::meeting_rules::{ActionKind, ActionSubject};
use support::{MeetingStory, dmy, hear_case, meeting_story, published_meeting};

/// How many rows a stacked table shows.
fn rows(body: &str) -> usize {
    body.matches("data-label=\"Case\"").count()
}

#[tokio::test]
async fn a_case_shows_where_it_stands_and_research_lists_only_cases_on_their_way() {
    each_backend!(|app| {
        let MeetingStory { case_id, cora, .. } = meeting_story(&app).await;
        let case_page = format!("/cases/{case_id}");
        let page = cora.get(&case_page).await;
        assert!(page.body.contains(r#"id="case-status">Awaiting a meeting<"#), "{}", page.body);
        assert!(cora.get("/research").await.body.contains(&format!("href=\"{case_page}\"")));

        let meeting = published_meeting(&app, &cora).await;
        let day = support::display(app.state.clock.today() + time::Duration::days(7));
        let page = cora.get(&case_page).await;
        assert!(page.body.contains(&format!(">Listed for the meeting on {day}<")), "{}", page.body);
        let research = cora.get("/research").await;
        assert!(research.body.contains(&format!("Listed for the meeting on {day}")), "{}", research.body);

        // Heard: the case says so (it used to stay "awaiting a meeting" for ever) and leaves the
        // list of cases to research.
        hear_case(&app, &meeting, case_id).await;
        let page = cora.get(&case_page).await;
        assert!(page.body.contains(&format!(">Heard on {day}<")), "{}", page.body);
        for earlier in [format!("Heard at the meeting on {day}"), format!("Listed for the meeting on {day}")] {
            assert!(page.body.contains(&earlier), "the chronology shows {earlier}");
        }
        assert!(page.body.contains("Runs until"), "the repeat window is running");
        let research = cora.get("/research").await;
        assert!(!research.body.contains(&format!("href=\"{case_page}\"")), "a heard case is not researched");
        assert!(research.body.contains("There are no cases for you to research."));
    });
}

#[tokio::test]
async fn the_action_tracker_is_filtered_and_paged_by_the_database() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        let MeetingStory { health, case_id, cora } = meeting_story(&app).await;
        let meeting = published_meeting(&app, &cora).await;
        hear_case(&app, &meeting, case_id).await;
        let meeting_id: i64 = meeting.rsplit('/').next().unwrap().parse().unwrap();
        let today = app.state.clock.today();
        let by = s.find_user_by_email("cora@x.org").await.unwrap().unwrap().id;
        // 30 actions: the health agency's first 12 (the first 4 past due), the police's 18.
        for i in 0..30_i64 {
            let action = NewAction {
                case_id,
                meeting_id,
                agency_id: if i < 12 { health } else { app.agency_id },
                owner_name: format!("Owner {i}"),
                subject: ActionSubject::Victim,
                approach: None,
                description_sealed: marac_app::casework::seal(
                    &app.state,
                    marac_app::casework::Purpose::Action,
                    &marac_app::payloads::ActionText {
                        description: format!("Action number {i}"),
                        child: String::new(),
                    },
                )
                .unwrap(),
                due_on: today + time::Duration::days(i - 4),
                kind: ActionKind::General,
            };
            s.add_action(&action, by, marac_app::store::Ts::new(app.state.clock.now()), support::event(&app))
                .await
                .unwrap();
        }
        let first = cora.get("/actions").await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(rows(&first.body), 25, "a page holds 25");
        assert!(first.body.contains("Showing 1 to 25 of 30"), "{}", first.body);
        assert!(first.body.contains(r#"href="/actions?page=2""#));
        assert_eq!(rows(&cora.get("/actions?page=2").await.body), 5);

        let overdue = cora.get("/actions?status=overdue").await;
        assert_eq!(rows(&overdue.body), 4, "{}", overdue.body);
        assert!(overdue.body.contains("Action number 0") && !overdue.body.contains("Action number 4<"));
        let theirs = cora.get(&format!("/actions?agency={health}")).await;
        assert_eq!(rows(&theirs.body), 12);
        let by_meeting = cora.get(&format!("/actions?meeting={meeting_id}&due_by={}", dmy(today))).await;
        assert_eq!(rows(&by_meeting.body), 5, "due by today: four overdue and one due today");
        assert!(by_meeting.body.contains("Agreed at the meeting on"));

        // A date that cannot be read is said so beside its field, keeping what was typed.
        let bad = cora.get("/actions?due_by=next+tuesday").await;
        assert_eq!(bad.status, StatusCode::OK);
        assert!(
            bad.body.contains("Enter the date as day, month and year") && bad.body.contains("value=\"next tuesday\"")
        );
        assert!(bad.body.contains("<title>Error: "));

        // A representative tracks only their own agency's actions, whatever they ask for, once
        // they have confirmed the Marac's statement.
        let hea = app.signed_in("hea@x.org").await;
        assert_eq!(rows(&hea.get("/actions").await.body), 0, "not before the statement is confirmed");
        support::confirm_statement(&app, &hea, app.marac_id).await;
        assert_eq!(rows(&hea.get("/actions").await.body), 12);
        assert_eq!(rows(&hea.get(&format!("/actions?agency={}", app.agency_id)).await.body), 0);
        let hou = app.signed_in("hou@x.org").await;
        assert_eq!(rows(&hou.get("/actions?status=all").await.body), 0, "another Marac's agency sees none");
    });
}

#[tokio::test]
async fn triage_accepts_a_referral_onto_a_meeting_with_room_in_one_step() {
    each_backend!(|app| {
        let MeetingStory { cora, .. } = meeting_story(&app).await;
        let meeting = published_meeting(&app, &cora).await;
        let meeting_id: i64 = meeting.rsplit('/').next().unwrap().parse().unwrap();
        let kim = app.signed_in("kim@x.org").await;
        let referral =
            support::refer(&kim, &support::referral_fields(app.marac_id, "Ada", "Lowe", "1/1/1985", 15)).await;
        let page = cora.get(&format!("/referrals/{referral}")).await;
        let day = support::display(app.state.clock.today() + time::Duration::days(7));
        assert!(page.body.contains(&format!("value=\"{meeting_id}\"")), "{}", page.body);
        assert!(page.body.contains("places taken"));
        assert!(page.body.contains("published: the invited agencies are told"));

        // A meeting not offered (another Marac's, or none) is refused beside the choice.
        let r = cora
            .post(&format!("/referrals/{referral}/decision"), &[("decision", "accept"), ("meeting", "999999")])
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Choose a meeting that still has room"), "{}", r.body);
        let case_id = app.db.store.get_referral(referral).await.unwrap().case_id.unwrap();
        assert!(
            app.db.store.case_stage(case_id).await.unwrap().0 == Some(marac_domain::case_stage::CaseStage::Referred)
        );

        let meeting_value = meeting_id.to_string();
        let r = cora
            .post(&format!("/referrals/{referral}/decision"), &[("decision", "accept"), ("meeting", &meeting_value)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let banner = cora.get(r.location()).await;
        assert!(banner.body.contains(&format!("accepted and listed for the meeting on {day}")), "{}", banner.body);
        assert_eq!(
            app.db.store.case_stage(case_id).await.unwrap(),
            (
                Some(marac_domain::case_stage::CaseStage::Listed),
                Some((meeting_id, app.state.clock.today() + time::Duration::days(7)))
            )
        );
        let reference = app.db.store.get_referral(referral).await.unwrap().reference.unwrap();
        let listed = cora.get(&meeting).await;
        assert!(listed.body.contains(&reference), "on the list: {}", listed.body);
        // The invited agencies hear that the published list grew.
        let hea = app.signed_in("hea@x.org").await;
        assert!(hea.get("/inbox").await.body.contains("Case added to a published list"));
    });
}

#[tokio::test]
async fn each_roles_home_page_is_its_to_do_list_counted_by_the_database() {
    each_backend!(|app| {
        let MeetingStory { cora, .. } = meeting_story(&app).await;
        let kim = app.signed_in("kim@x.org").await;
        support::refer(&kim, &support::referral_fields(app.marac_id, "Ada", "Lowe", "1/1/1985", 15)).await;
        kim.get("/referrals").await;
        kim.post("/referrals/new", &[]).await;

        let home = cora.get("/").await;
        assert!(home.body.contains("<strong class=\"app-todo__count\">1</strong> referral to triage"), "{}", home.body);
        assert!(home.body.contains("1</strong> accepted case waiting for a meeting&#39;s list"), "{}", home.body);

        let home = kim.get("/").await;
        assert!(home.body.contains("Start a referral"));
        assert!(home.body.contains("1</strong> referral you have not sent yet"), "{}", home.body);
        assert!(!home.body.contains("referral to triage"), "a referrer triages nothing");

        // Once the list is out, the invited representative has a case to research and a meeting.
        support::published_meeting(&app, &cora).await;
        let hea = app.signed_in("hea@x.org").await;
        let home = hea.get("/").await;
        assert!(home.body.contains("1</strong> case to research before its meeting"), "{}", home.body);
        assert!(home.body.contains("1</strong> Marac confidentiality statement to confirm"), "{}", home.body);
        assert!(
            home.body.contains("List published: 1 case; confirm the confidentiality statement to see them"),
            "{}",
            home.body
        );
        support::confirm_statement(&app, &hea, app.marac_id).await;
        let home = hea.get("/").await;
        assert!(!home.body.contains("statement to confirm"), "{}", home.body);
        let hou = app.signed_in("hou@x.org").await;
        assert!(!hou.get("/").await.body.contains("case to research"), "another agency has nothing to research");
    });
}

/// Where `needle` first appears in `body`, for checking the order of a chronology.
fn at(body: &str, needle: &str) -> usize {
    body.find(needle).unwrap_or_else(|| panic!("{needle} is not on the page: {body}"))
}

#[tokio::test]
async fn a_case_and_its_victim_have_one_chronology_within_what_each_reader_may_see() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        let MeetingStory { case_id, cora, health } = meeting_story(&app).await;
        let meeting = published_meeting(&app, &cora).await;
        // A note the health agency keeps to itself, written while the case is on its way.
        let hea = app.signed_in("hea@x.org").await;
        support::confirm_statement(&app, &hea, app.marac_id).await;
        hea.get(&format!("/cases/{case_id}")).await;
        let r =
            hea.post(&format!("/cases/{case_id}/notes"), &[("kind", "fact"), ("body", "Seen at A&E in May.")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let cha = hear_case(&app, &meeting, case_id).await;
        let due = dmy(app.state.clock.today() + time::Duration::days(30));
        let health_value = health.to_string();
        let r = cha
            .post(
                &format!("{meeting}/cases/{case_id}/actions"),
                &[
                    ("agency", health_value.as_str()),
                    ("owner", "Dr Patel"),
                    ("subject", "victim"),
                    ("description", "Flag the address on the GP record"),
                    ("due", due.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let filter = marac_app::store::ActionFilter { case_id: Some(case_id), limit: 10, ..Default::default() };
        let action_id = s.list_actions(&filter).await.unwrap()[0].id;
        let r = hea.post(&format!("/actions/{action_id}"), &[("status", "done"), ("note", "Flagged.")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        let page = cora.get(&format!("/cases/{case_id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        // The people, with what an agency needs to search its own records.
        for shown in [
            "Nina Vale",
            "4 April 1990",
            "NS1 4AB",
            "Lee Vale",
            "Person causing harm (ex-partner)",
            "2 February 1985",
            "Robin",
            "Child of both",
            "1 September 2019",
        ] {
            assert!(page.body.contains(shown), "the case page shows {shown}");
        }
        // The chronology, newest first: the report, the action, the hearing, the listing, the
        // decision and the referral.
        let day = support::display(app.state.clock.today() + time::Duration::days(7));
        let timeline = &page.body[at(&page.body, "id=\"chronology\"")..];
        let order = [
            at(timeline, "Action for HEA agency reported: Done"),
            at(timeline, &format!("Action agreed for HEA agency at the meeting on {day}")),
            at(timeline, &format!("Heard at the meeting on {day}")),
            at(timeline, &format!("Listed for the meeting on {day}")),
            at(timeline, " accepted<"),
            at(timeline, "Referred to"),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first: {order:?}");
        assert!(page.body.contains(&format!("href=\"/actions/{action_id}\"")), "the coordinator opens the action");
        assert!(!page.body.contains("Research note from HEA"), "another agency's private note stays out");
        let theirs = hea.get(&format!("/cases/{case_id}")).await;
        assert!(theirs.body.contains("Research note from HEA agency: fact"), "{}", theirs.body);
        assert!(theirs.body.contains("private to your agency"));
        assert!(!theirs.body.contains("href=\"/referrals/"), "a representative is not sent to the referral");

        // The person page: her cases and the same chronology, audited.
        let person = s.get_case(case_id).await.unwrap().victim_person_id;
        let page = cora.get(&format!("/people/{person}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Nina Vale") && page.body.contains("4 April 1990"));
        assert!(page.body.contains(&format!("href=\"/cases/{case_id}\"")));
        assert!(page.body.contains("Action for HEA agency reported: Done"));
        assert!(!page.body.contains("<title>Nina"), "the title names no one");
        let audit = s.list_audit(&marac_app::store::AuditFilter { limit: 500, ..Default::default() }).await.unwrap();
        assert!(audit.iter().any(|e| e.event.action == "person.view" && e.event.target == format!("person:{person}")));

        // Someone who may see none of her cases learns nothing, not even that she exists; the
        // refusal is recorded.
        let hou = app.signed_in("hou@x.org").await;
        assert_eq!(hou.get(&format!("/people/{person}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(hou.get("/people/999999").await.status, StatusCode::NOT_FOUND);
        let audit = s.list_audit(&marac_app::store::AuditFilter { limit: 500, ..Default::default() }).await.unwrap();
        assert!(
            audit.iter().any(|e| e.event.action == "access.denied" && e.event.target == format!("person:{person}"))
        );
    });
}

#[tokio::test]
async fn a_meeting_shows_earlier_meetings_actions_apart_from_its_own_plan() {
    each_backend!(|app| {
        let MeetingStory { case_id, cora, health } = meeting_story(&app).await;
        let first = published_meeting(&app, &cora).await;
        let cha = hear_case(&app, &first, case_id).await;
        let due = dmy(app.state.clock.today() + time::Duration::days(30));
        let health_value = health.to_string();
        let action = |description: &'static str| {
            [
                ("agency", health_value.clone()),
                ("owner", "Dr Patel".to_owned()),
                ("subject", "victim".to_owned()),
                ("description", description.to_owned()),
                ("due", due.clone()),
            ]
        };
        let fields = action("Flag the address on the GP record");
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = cha.post(&format!("{first}/cases/{case_id}/actions"), &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        cora.post(&format!("{first}/close"), &[]).await;

        // She is referred again and the case goes to a second meeting.
        let kim = app.signed_in("kim@x.org").await;
        let again = support::refer(&kim, &support::referral_fields(app.marac_id, "Nina", "Vale", "4/4/1990", 16)).await;
        cora.get(&format!("/referrals/{again}")).await;
        let r = cora.post(&format!("/referrals/{again}/decision"), &[("decision", "accept")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(app.db.store.get_referral(again).await.unwrap().case_id, Some(case_id), "the same case");
        let second = published_meeting(&app, &cora).await;
        cha.get(&second).await;
        cha.post(&format!("{second}/confirm"), &[("agree", "yes")]).await;
        let page = cha.get(&format!("{second}/cases/{case_id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("No actions agreed at this meeting yet."), "{}", page.body);
        let earlier = at(&page.body, "Actions from earlier meetings");
        let day = support::display(app.state.clock.today() + time::Duration::days(7));
        assert!(at(&page.body, &format!("Agreed at the meeting on {day}")) > earlier);
        assert!(at(&page.body, "Flag the address on the GP record") > earlier, "the earlier action is apart");
    });
}

/// Sets when the test Marac's attending agencies may start researching its cases.
async fn research_opens(app: &support::TestApp, setting: marac_domain::marac_rules::ResearchOpens) {
    let s = app.db.store.as_ref();
    let m = s.get_marac(app.marac_id).await.unwrap();
    let input = marac_app::store::MaracInput {
        partnership_id: m.partnership_id,
        code: m.code,
        name: m.name,
        area: m.area,
        adult_female_population: m.adult_female_population,
        cadence: m.cadence,
        rules: marac_domain::MaracRules { research_opens: setting, ..m.rules },
    };
    s.update_marac(app.marac_id, &input, support::event(app)).await.unwrap();
}

#[tokio::test]
async fn attending_agencies_research_when_the_marac_says_and_stop_when_the_case_is_heard() {
    use marac_domain::marac_rules::ResearchOpens;
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        // By default research opens on acceptance: the story's case is accepted, no list is out.
        let MeetingStory { case_id, cora, .. } = meeting_story(&app).await;
        let case_page = format!("/cases/{case_id}");
        let hea = app.signed_in("hea@x.org").await;
        let hou = app.signed_in("hou@x.org").await;
        let cora_meeting = support::scheduled_meeting(&app, &cora).await;
        cora.post(&format!("{cora_meeting}/statement"), &[("statement", support::STATEMENT)]).await;
        support::confirm_statement(&app, &hea, app.marac_id).await;
        assert_eq!(hea.get(&case_page).await.status, StatusCode::OK, "accepted: open to the Marac's agencies");
        assert!(hea.get("/research").await.body.contains(&format!("href=\"{case_page}\"")));
        assert!(hea.get("/").await.body.contains("1</strong> case to research"));
        let r = hea.post(&format!("{case_page}/notes"), &[("kind", "fact"), ("body", "Known to A&E.")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_ne!(hou.get(&case_page).await.status, StatusCode::OK, "an agency not attending the Marac sees nothing");

        // On submission: a referral waiting for triage is open to them too.
        research_opens(&app, ResearchOpens::OnSubmission).await;
        let kim = app.signed_in("kim@x.org").await;
        let waiting =
            support::refer(&kim, &support::referral_fields(app.marac_id, "Ada", "Lowe", "1/1/1985", 15)).await;
        let waiting_case = s.get_referral(waiting).await.unwrap().case_id.unwrap();
        let waiting_page = format!("/cases/{waiting_case}");
        assert_eq!(hea.get(&waiting_page).await.status, StatusCode::OK, "sent: open to add to before triage");
        assert!(hea.get("/research").await.body.contains(&format!("href=\"{waiting_page}\"")));

        // On publication: neither opens until a list that invites them is out.
        research_opens(&app, ResearchOpens::OnPublication).await;
        for page in [&case_page, &waiting_page] {
            assert_ne!(hea.get(page).await.status, StatusCode::OK, "{page} is closed until the list is out");
        }
        assert!(!hea.get("/research").await.body.contains("href=\"/cases/"));
        cora.get(&cora_meeting).await;
        cora.post(&format!("{cora_meeting}/list"), &[("op", "propose")]).await;
        assert_eq!(
            cora.post(&format!("{cora_meeting}/publish"), &[("confirm", "yes")]).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(hea.get(&case_page).await.status, StatusCode::OK, "invited to the published list");

        // Heard: research closes; what they added stays readable, and nothing more is added.
        research_opens(&app, ResearchOpens::OnAcceptance).await;
        // A referral waiting for triage is triage's business, not research, even for the coordinator.
        let coordinator_research = cora.get("/research").await.body;
        assert!(!coordinator_research.contains(&format!("href=\"{waiting_page}\"")), "{coordinator_research}");
        hear_case(&app, &cora_meeting, case_id).await;
        let page = hea.get(&case_page).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Known to A&#38;E."), "{}", page.body);
        assert!(!page.body.contains("Add a note"), "read only: {}", page.body);
        let r = hea.post(&format!("{case_page}/notes"), &[("kind", "fact"), ("body", "Too late.")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!hea.get("/research").await.body.contains(&format!("href=\"{case_page}\"")));
    });
}

#[tokio::test]
async fn what_the_checklist_holds_is_shown_wherever_the_referral_is_read() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        let MeetingStory { cora, .. } = meeting_story(&app).await;
        let kim = app.signed_in("kim@x.org").await;

        // Choosing a checklist shows its questions to answer, not a message for each of them.
        kim.get("/referrals").await;
        let draft = kim.post("/referrals/new", &[]).await.location().to_owned();
        let page = format!("{draft}/risk-checklist");
        kim.get(&page).await;
        let r = kim.post(&page, &[("checklist.version", "safelives-dash@2026.1")]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, format!("{page}#questions").as_str()));
        let shown = kim.get(&page).await.body;
        assert!(!shown.contains("There is a problem") && shown.contains("checklist.answer.fear_of"), "{shown}");
        let again = kim.post(&page, &[("checklist.version", "safelives-dash@2026.1")]).await;
        assert!(again.body.contains("There is a problem"), "saved again unanswered, it says what is missing");

        // Who is at risk, the source and the comment appear on check-your-answers and triage.
        let mut fields = support::referral_fields(app.marac_id, "Ada", "Lowe", "1/1/1985", 15);
        for (k, v) in [
            ("checklist.who.fear_of", "Children"),
            ("checklist.source.fear_of", "Police records"),
            ("checklist.comment.fear_of", "Said so twice in October"),
        ] {
            fields.push((k.to_owned(), v.to_owned()));
        }
        let id = support::draft_referral(&kim, &fields).await;
        let said = ["Who: Children", "Source: Police records", "Comment: Said so twice in October"];
        let check = kim.get(&format!("/referrals/{id}/check")).await.body;
        assert!(said.iter().all(|w| check.contains(w)), "{check}");
        let r = kim.post(&format!("/referrals/{id}/check"), &[]).await;
        assert_eq!(r.location(), format!("/referrals/{id}/submitted"));
        let triage = cora.get(&format!("/referrals/{id}")).await.body;
        assert!(said.iter().all(|w| triage.contains(w)), "{triage}");
        cora.post(&format!("/referrals/{id}/decision"), &[("decision", "accept")]).await;
        let case_id = s.get_referral(id).await.unwrap().case_id.unwrap();

        // At the meeting: the chair's case page links to the whole referral and checklist.
        let meeting = published_meeting(&app, &cora).await;
        let referral_page = format!("{meeting}/cases/{case_id}/referral");
        let cha = app.signed_in("cha@x.org").await;
        cha.get(&meeting).await;
        assert_ne!(cha.get(&referral_page).await.status, StatusCode::OK, "not before confirming the statement");
        assert_eq!(cha.post(&format!("{meeting}/confirm"), &[("agree", "yes")]).await.status, StatusCode::SEE_OTHER);
        let case_page = cha.get(&format!("{meeting}/cases/{case_id}")).await;
        assert!(case_page.body.contains(&format!("href=\"{referral_page}\"")), "{}", case_page.body);
        let whole = cha.get(&referral_page).await;
        assert_eq!(whole.status, StatusCode::OK);
        assert!(said.iter().all(|w| whole.body.contains(w)) && whole.body.contains("Ada"), "{}", whole.body);
        let hou = app.signed_in("hou@x.org").await;
        assert_eq!(hou.get(&referral_page).await.status, StatusCode::NOT_FOUND, "another Marac's agency");
        assert_eq!(cha.get(&format!("{meeting}/cases/999999/referral")).await.status, StatusCode::NOT_FOUND);

        // "Which child" is one of the referral's children.
        assert!(case_page.body.contains("<option value=\"Robin (born 1 September 2019)\""), "{}", case_page.body);
        let due = dmy(app.state.clock.today() + time::Duration::days(14));
        let agency = app.agency_id.to_string();
        let action = |child: &'static str| {
            vec![
                ("agency", agency.clone()),
                ("owner", "Pat Rep".to_owned()),
                ("subject", "child".to_owned()),
                ("child", child.to_owned()),
                ("description", "Tell the school's safeguarding lead".to_owned()),
                ("due", due.clone()),
            ]
        };
        let post = |fields: Vec<(&'static str, String)>| {
            let cha = &cha;
            let path = format!("{meeting}/cases/{case_id}/actions");
            async move {
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                cha.post(&path, &pairs).await
            }
        };
        let wrong = post(action("Sam")).await;
        assert!(wrong.body.contains("Select one of the children the referral names"), "{}", wrong.body);
        let right = post(action("Robin (born 1 September 2019)")).await;
        assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.body);
        let shown = cha.get(&format!("{meeting}/cases/{case_id}")).await.body;
        assert!(shown.contains("Child: Robin (born 1 September 2019)"), "{shown}");
    });
}

#[tokio::test]
async fn a_meetings_papers_print_marked_and_download_as_word_documents_for_those_who_took_part() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        let MeetingStory { case_id, cora, health, .. } = meeting_story(&app).await;
        let meeting = published_meeting(&app, &cora).await;
        let cha = hear_case(&app, &meeting, case_id).await;
        let meeting_id: i64 = meeting.trim_start_matches("/meetings/").parse().unwrap();
        let listed = s.meeting_cases(meeting_id).await.unwrap();
        let reference = listed.iter().find(|c| c.case_id == case_id).unwrap().reference.clone().unwrap();
        let health_id = health.to_string();
        let due = dmy(app.state.clock.today() + time::Duration::days(14));
        let r = cha
            .post(
                &format!("{meeting}/cases/{case_id}/actions"),
                &[
                    ("agency", health_id.as_str()),
                    ("owner", "Dr Shah"),
                    ("subject", "victim"),
                    ("description", "Flag the records at the GP practice"),
                    ("due", due.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        // The meeting page offers them; each prints marked, and says what it is.
        let page = cha.get(&meeting).await.body;
        for paper in ["agenda", "minutes", "minutes.docx", "tracker"] {
            assert!(page.contains(&format!("href=\"{meeting}/{paper}\"")), "{paper} is linked");
        }
        let agenda = cha.get(&format!("{meeting}/agenda")).await;
        assert_eq!(agenda.status, StatusCode::OK);
        assert_eq!(agenda.body.matches("OFFICIAL-SENSITIVE</strong>").count(), 2, "marked at the top and foot");
        assert!(
            agenda.body.contains(&reference) && agenda.body.contains("Nina Vale") && agenda.body.contains("Room 4")
        );
        let tracker = cha.get(&format!("{meeting}/tracker")).await;
        assert!(tracker.body.contains("Flag the records at the GP practice") && tracker.body.contains("Dr Shah"));
        assert!(tracker.body.contains("OFFICIAL-SENSITIVE"));

        // The Word documents read back with what the pages say, marked on every page.
        for (path, says) in [
            (
                format!("{meeting}/minutes.docx"),
                vec!["Minutes: ", "Police: two call-outs since October.", "Flag the records", "Nina Vale"],
            ),
            (
                format!("{meeting}/tracker.docx"),
                vec!["Action tracking form: ", "Flag the records", "Dr Shah", "Update"],
            ),
        ] {
            let r = cha.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert_eq!(
                r.headers["content-type"],
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            );
            assert!(r.headers["content-disposition"].to_str().unwrap().ends_with(".docx\""));
            assert_eq!(r.headers["cache-control"], "no-store");
            let back = docx_rs::read_docx(&r.bytes).unwrap().json();
            for text in says.iter().chain(&["OFFICIAL-SENSITIVE", reference.as_str()]) {
                assert!(back.contains(text), "{path} holds {text}");
            }
        }
        let audited = |action: &'static str| async move {
            let filter =
                marac_store::AuditFilter { action_prefix: Some(action.into()), limit: 50, ..Default::default() };
            s.list_audit(&filter).await.unwrap().into_iter().filter(|e| e.event.action == action).count()
        };
        assert_eq!(audited("meeting.minutes.export").await, 1, "each download is audited");
        assert_eq!(audited("meeting.tracker.export").await, 1);
        assert_eq!(audited("meeting.agenda.view").await, 1);

        // Refused to those who have not confirmed the statement, and hidden from other Maracs'.
        let hea = app.signed_in("hea@x.org").await;
        let hou = app.signed_in("hou@x.org").await;
        for paper in ["agenda", "tracker", "tracker.docx", "minutes.docx"] {
            let path = format!("{meeting}/{paper}");
            let r = hea.get(&path).await;
            assert_ne!(r.status, StatusCode::OK, "{path} before confirming");
            assert!(!r.body.contains("Nina Vale"));
            assert_eq!(hou.get(&path).await.status, StatusCode::NOT_FOUND, "{path} for another Marac's agency");
        }
        assert_eq!(audited("meeting.minutes.export").await, 1, "nothing exported to them");
    });
}

#[tokio::test]
async fn a_meetings_review_of_earlier_actions_is_paged_by_the_database() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        let MeetingStory { case_id, cora, health, .. } = meeting_story(&app).await;
        // An earlier meeting agreed 30 actions, all still open.
        let at = marac_store::Ts::new(app.state.clock.now());
        let earlier = marac_store::NewMeeting {
            marac_id: app.marac_id,
            kind: marac_domain::meeting_rules::MeetingKind::Regular,
            format: marac_domain::meeting_rules::MeetingFormat::InPerson,
            held_on: app.state.clock.today() - time::Duration::days(28),
            starts_at: "10:00".into(),
            closing_on: None,
            location: String::new(),
            chair_user_id: None,
            capacity: 16,
            list_cutoff_on: None,
            invited_agency_ids: vec![health],
        };
        let earlier = s.create_meetings(&[earlier], at, support::event(&app)).await.unwrap()[0];
        let text =
            marac_app::payloads::ActionText { description: "Check in with the school".into(), child: String::new() };
        let sealed = marac_app::casework::seal(&app.state, marac_app::casework::Purpose::Action, &text).unwrap();
        for day in 0..30 {
            let action = NewAction {
                case_id,
                meeting_id: earlier,
                agency_id: health,
                owner_name: format!("Owner {day}"),
                subject: ActionSubject::Victim,
                approach: None,
                description_sealed: sealed.clone(),
                due_on: app.state.clock.today() + time::Duration::days(day),
                kind: ActionKind::General,
            };
            s.add_action(&action, 1, at, support::event(&app)).await.unwrap();
        }
        let meeting = published_meeting(&app, &cora).await;
        let cha = app.signed_in("cha@x.org").await;
        cha.get(&meeting).await;
        assert_eq!(cha.post(&format!("{meeting}/confirm"), &[("agree", "yes")]).await.status, StatusCode::SEE_OTHER);
        let first = cha.get(&meeting).await.body;
        assert!(first.contains("Showing 1 to 25 of 30"), "{first}");
        assert!(first.contains(&format!("href=\"{meeting}?page=2\"")), "{first}");
        let second = cha.get(&format!("{meeting}?page=2")).await.body;
        assert!(second.contains("Showing 26 to 30 of 30"), "{second}");
        // The printed papers list every one of them, and the agenda counts them.
        assert!(cha.get(&format!("{meeting}/agenda")).await.body.contains("earlier meetings: 30 outstanding"));
        let tracker = cha.get(&format!("{meeting}/tracker")).await.body;
        assert_eq!(tracker.matches("Check in with the school").count(), 30);
    });
}

#[tokio::test]
async fn the_api_lists_tracked_actions_and_takes_reports_under_the_same_rules() {
    each_backend!(|app| {
        let MeetingStory { case_id, cora, health, .. } = meeting_story(&app).await;
        let meeting = published_meeting(&app, &cora).await;
        let cha = hear_case(&app, &meeting, case_id).await;
        let add = |agency: i64, what: &'static str, days: i64| {
            let cha = &cha;
            let path = format!("{meeting}/cases/{case_id}/actions");
            let due = dmy(app.state.clock.today() + time::Duration::days(days));
            async move {
                let agency = agency.to_string();
                let fields = [
                    ("agency", agency.as_str()),
                    ("owner", "Named Person"),
                    ("subject", "victim"),
                    ("description", what),
                    ("due", due.as_str()),
                ];
                assert_eq!(cha.post(&path, &fields).await.status, StatusCode::SEE_OTHER);
            }
        };
        add(health, "Flag the records at the GP practice", 14).await;
        add(app.agency_id, "Apply to extend the bail conditions", 2).await;
        let cora_id = app.db.store.find_user_by_email("cora@x.org").await.unwrap().unwrap().id;
        support::token_for(&app, cora_id, "cora-token").await;

        // The representative tracks their own agency's; the coordinator, all of the Marac's.
        let app = &app;
        let list = |token: &'static str, query: &'static str| async move {
            let r = support::api_get(app, &format!("/api/v1/actions{query}"), Some(token)).await;
            (r.status, serde_json::from_str::<serde_json::Value>(&r.body).unwrap_or_default())
        };
        // What an action says is case content: nothing of the Marac's until its statement is confirmed.
        let (status, before) = list("hea@x.org-token", "").await;
        assert_eq!((status, before["total"].as_u64()), (StatusCode::OK, Some(0)), "{before}");
        let hea = app.signed_in("hea@x.org").await;
        let page = hea.get("/actions").await.body;
        assert!(
            page.contains("confidentiality statement</a> to see its actions") && !page.contains("GP practice"),
            "{page}"
        );
        support::confirm_statement(app, &hea, app.marac_id).await;
        assert!(hea.get("/actions").await.body.contains("Flag the records at the GP practice"));
        let (status, mine) = list("hea@x.org-token", "").await;
        assert_eq!(status, StatusCode::OK, "{mine}");
        assert_eq!(mine["total"], 1, "{mine}");
        assert_eq!(mine["actions"][0]["description"], "Flag the records at the GP practice");
        let (_, all) = list("cora-token", "").await;
        assert_eq!(all["total"], 2);
        assert_eq!(all["actions"][0]["description"], "Apply to extend the bail conditions", "soonest due first");
        let (_, filtered) = list("cora-token", "?agency=999999").await;
        assert_eq!(filtered["total"], 0);
        let (_, elsewhere) = list("hou@x.org-token", "").await;
        assert_eq!(elsewhere["total"], 0, "another Marac's agency tracks none of them");
        let (status, bad) = list("cora-token", "?status=soon&due_by=6/12/2026").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let pointers: Vec<&str> =
            bad["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        assert_eq!(pointers, ["/status", "/due_by"]);
        assert_eq!(support::api_get(app, "/api/v1/actions", None).await.status, StatusCode::UNAUTHORIZED);

        // Reports: the owning agency (or the coordinator), with the page's rules.
        let health_action = mine["actions"][0]["id"].as_i64().unwrap();
        let police_action = all["actions"][0]["id"].as_i64().unwrap();
        let report = |token: &'static str, id: i64, body: serde_json::Value| async move {
            support::api_post_to(app, &format!("/api/v1/actions/{id}/reports"), token, &body).await
        };
        let done = serde_json::json!({ "status": "done", "note": "Flagged on the GP record." });
        assert_eq!(report("hea@x.org-token", police_action, done.clone()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(report("hou@x.org-token", health_action, done.clone()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(report("hea@x.org-token", 999_999, done.clone()).await.0, StatusCode::NOT_FOUND);
        let (status, problem) =
            report("hea@x.org-token", health_action, serde_json::json!({ "status": "carried_forward" })).await;
        assert_eq!(
            (status, problem["errors"][0]["pointer"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("/reason"))
        );
        let (status, body) = report("hea@x.org-token", health_action, done).await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::CREATED, Some("done")), "{body}");
        let (_, ended) = list("hea@x.org-token", "?status=ended").await;
        assert_eq!((ended["total"].as_u64(), ended["actions"][0]["status"].as_str()), (Some(1), Some("done")));
        let page = cora.get(&format!("/actions/{health_action}")).await.body;
        assert!(page.contains("Flagged on the GP record."), "the page shows the API's report");
    });
}

#[tokio::test]
async fn the_api_reads_a_case_and_its_chronology_under_the_case_pages_rule() {
    each_backend!(|app| {
        let MeetingStory { case_id, .. } = meeting_story(&app).await;
        let app = &app;
        let cora_id = app.db.store.find_user_by_email("cora@x.org").await.unwrap().unwrap().id;
        support::token_for(app, cora_id, "cora-token").await;
        let get = |token: &'static str, path: String| async move {
            let r = support::api_get(app, &path, Some(token)).await;
            (r.status, serde_json::from_str::<serde_json::Value>(&r.body).unwrap_or_default())
        };
        let case = format!("/api/v1/cases/{case_id}");
        // An attending agency's representative (research opens on acceptance), once they have
        // confirmed the statement, reads it all.
        let (status, _) = get("hea@x.org-token", case.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "not before the statement is confirmed");
        let hea = app.signed_in("hea@x.org").await;
        support::confirm_statement(app, &hea, app.marac_id).await;
        let (status, body) = get("hea@x.org-token", case.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((body["id"].as_i64(), body["stage"].as_str()), (Some(case_id), Some("awaiting_meeting")));
        let victim = &body["people"][0];
        assert_eq!(
            (victim["name"].as_str(), victim["date_of_birth"].as_str()),
            (Some("Nina Vale"), Some("1990-04-04"))
        );
        assert!(body["people"].as_array().unwrap().iter().any(|p| p["name"] == "Robin"), "the children too: {body}");
        assert!(body["summary"].as_str().unwrap().starts_with("Strangled last week"));
        let (status, chronology) = get("hea@x.org-token", format!("{case}/chronology")).await;
        assert_eq!(status, StatusCode::OK, "{chronology}");
        let titles: Vec<&str> =
            chronology["entries"].as_array().unwrap().iter().filter_map(|e| e["title"].as_str()).collect();
        assert!(
            titles.iter().any(|t| t.contains("ccepted")) && titles.iter().any(|t| t.contains("eferr")),
            "{titles:?}"
        );
        assert_eq!(chronology["total"].as_u64(), Some(titles.len() as u64));

        // Refused to an agency with no reason to see it; an unknown case is not found.
        for path in [case.clone(), format!("{case}/chronology")] {
            assert_eq!(get("hou@x.org-token", path).await.0, StatusCode::FORBIDDEN);
        }
        assert_eq!(get("cora-token", "/api/v1/cases/999999".into()).await.0, StatusCode::NOT_FOUND);
        let filter = marac_store::AuditFilter { action_prefix: Some("case.".into()), limit: 50, ..Default::default() };
        let read: Vec<String> =
            app.db.store.list_audit(&filter).await.unwrap().into_iter().map(|e| e.event.action).collect();
        assert!(
            read.contains(&"case.view".to_owned()) && read.contains(&"case.chronology.view".to_owned()),
            "{read:?}"
        );
    });
}

#[tokio::test]
async fn the_api_lists_the_meetings_the_caller_may_take_part_in() {
    each_backend!(|app| {
        let MeetingStory { cora, .. } = meeting_story(&app).await;
        let meeting = published_meeting(&app, &cora).await;
        let id: i64 = meeting.trim_start_matches("/meetings/").parse().unwrap();
        let app = &app;
        let list = |token: &'static str, query: &'static str| async move {
            let r = support::api_get(app, &format!("/api/v1/meetings{query}"), Some(token)).await;
            (r.status, serde_json::from_str::<serde_json::Value>(&r.body).unwrap_or_default())
        };
        let (status, mine) = list("hea@x.org-token", "").await;
        assert_eq!(status, StatusCode::OK, "{mine}");
        assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
        assert_eq!((mine[0]["id"].as_i64(), mine[0]["status"].as_str()), (Some(id), Some("published")));
        assert_eq!(mine[0]["listed"], 1);
        let (_, later) = list("hea@x.org-token", "?from=2099-01-01").await;
        assert_eq!(later.as_array().unwrap().len(), 0, "none held on or after that day");
        let (_, elsewhere) = list("hou@x.org-token", "").await;
        assert_eq!(elsewhere.as_array().unwrap().len(), 0, "another Marac's agency is invited to none");
        let (status, bad) = list("hea@x.org-token", "?from=tomorrow").await;
        assert_eq!((status, bad["errors"][0]["pointer"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/from")));
    });
}
