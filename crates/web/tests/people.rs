//! The duplicates queue (merging, undoing, different people) and cross-referencing children's
//! social care's list, through the real router on SQLite and PostgreSQL, with every refusal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use marac_domain::policy::Grant;
use marac_domain::{AgencyCategory, Role};
use marac_store::{AgencyInput, AuditFilter, NewUser, ReferralFilter, ReturnScope};
use support::{Browser, Page, TestApp, refer, referral_fields};
use time::Duration;

async fn audited(app: &TestApp, prefix: &str) -> Vec<(String, String, String)> {
    app.db
        .store
        .list_audit(&AuditFilter { action_prefix: Some(prefix.into()), limit: 500, ..AuditFilter::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event.action, e.event.outcome, e.event.target))
        .collect()
}

/// A user of `agency` holding `role` for `marac`.
async fn member(app: &TestApp, email: &str, role: Role, agency: i64, marac: i64) {
    let user = NewUser {
        email: email.into(),
        name: format!("Test {}", role.label()),
        agency_id: Some(agency),
        password_hash: support::password_hash(),
        is_demo: false,
        grants: vec![Grant { role, marac_id: Some(marac) }],
    };
    let event = marac_app::audit::system_event(&app.state, "test.seed", "");
    app.db.store.create_user(&user, event).await.unwrap();
}

/// The referral's fields with the victim's child named in full, for an incident on `incident`.
fn family(app: &TestApp, given: &str, family: &str, dob: &str, incident: &str) -> Vec<(String, String)> {
    let mut f = referral_fields(app.marac_id, given, family, dob, 15);
    for (k, v) in &mut f {
        match k.as_str() {
            "children.0.name" => *v = format!("Robin {family}"),
            "referral.incident_date" => *v = incident.to_owned(),
            _ => {}
        }
    }
    f
}

async fn referral_ids(app: &TestApp) -> Vec<i64> {
    let filter = ReferralFilter { marac_ids: Some(vec![app.marac_id]), limit: 100, ..ReferralFilter::default() };
    let mut ids: Vec<i64> = app.db.store.list_referrals(&filter).await.unwrap().iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids
}

/// The merge form's fields for the pair whose later record is `merge`, as the page offers it.
fn pair_on_page(page: &str, name: &str) -> (String, String) {
    let card = page.split("govuk-summary-card\"").find(|c| c.contains(name)).expect("the pair is offered");
    let field = |n: &str| {
        card.split(&format!("name=\"{n}\" value=\"")).nth(1).and_then(|r| r.split('"').next()).unwrap().to_owned()
    };
    (field("person"), field("other"))
}

#[tokio::test]
async fn coordinators_merge_likely_duplicates_undo_merges_and_say_who_is_different() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("coord@x.org", Role::Coordinator, true).await;
        let kim = app.signed_in("kim@x.org").await;
        refer(&kim, &family(&app, "Katherine", "Smith", "7/3/1991", "20/11/2026")).await;
        app.clock.advance(Duration::days(30));
        let kim = app.signed_in("kim@x.org").await;
        refer(&kim, &family(&app, "Kate", "Smyth", "3/7/1991", "20/12/2026")).await;
        let second = *referral_ids(&app).await.last().unwrap();
        assert!(!s.get_referral(second).await.unwrap().is_repeat, "not certain, so not yet a repeat");

        let coord = app.signed_in("coord@x.org").await;
        let page = coord.get("/people/duplicates").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Katherine Smith and Kate Smyth"), "{}", page.body);
        assert!(page.body.contains("day and month swapped: strong evidence"), "the evidence is explained");
        assert!(page.body.contains("Lee Smith and Lee Smyth"), "the people causing harm too");
        let (victim, victim_first) = pair_on_page(&page.body, "Kate Smyth");
        let (harm, harm_first) = pair_on_page(&page.body, "Lee Smyth");

        // Refusals, each audited: a referrer; another Marac's queue; people not on this
        // Marac's cases; an answer the page does not offer; no CSRF token. Nothing changes.
        let r = kim.get("/people/duplicates").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = coord.get(&format!("/people/duplicates?marac={}", app.other_marac_id)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        coord.get("/people/duplicates").await;
        let m = app.marac_id.to_string();
        let r = coord
            .post(
                "/people/duplicates",
                &[("marac", &m), ("person", "999999"), ("other", &victim_first), ("answer", "merge")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = coord
            .post(
                "/people/duplicates",
                &[("marac", &m), ("person", &victim), ("other", &victim_first), ("answer", "maybe")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let other = app.other_marac_id.to_string();
        let r = coord
            .post(
                "/people/duplicates",
                &[("marac", &other), ("person", &victim), ("other", &victim_first), ("answer", "merge")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let raw = format!("marac={m}&person={victim}&other={victim_first}&answer=merge");
        assert_eq!(coord.post_raw("/people/duplicates", &raw).await.status, StatusCode::FORBIDDEN);
        let r = kim
            .post(
                "/people/duplicates",
                &[("marac", &m), ("person", &victim), ("other", &victim_first), ("answer", "merge")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(s.marac_people(&[app.marac_id]).await.unwrap().iter().all(|p| p.person.merged_into.is_none()));
        let denied = audited(&app, "access.denied").await;
        assert!(denied.len() >= 4, "{denied:?}");

        // Merged: the victim's records count as one person; once the person causing harm is
        // merged too, the second referral is a repeat.
        coord.get("/people/duplicates").await;
        let r = coord
            .post(
                "/people/duplicates",
                &[("marac", &m), ("person", &victim), ("other", &victim_first), ("answer", "merge")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(!s.get_referral(second).await.unwrap().is_repeat);
        let page = coord.get(r.location()).await;
        assert!(page.body.contains("now count as one person"), "{}", page.body);
        assert!(!page.body.contains("Katherine Smith and Kate Smyth"), "a merged pair is not offered again");
        assert!(page.body.contains("Undo merge<span class=\"govuk-visually-hidden\"> of Kate Smyth"));
        coord
            .post(
                "/people/duplicates",
                &[("marac", &m), ("person", &harm), ("other", &harm_first), ("answer", "merge")],
            )
            .await;
        assert!(s.get_referral(second).await.unwrap().is_repeat, "the same victim and person causing harm again");

        // Undone: two people again, and no longer a repeat.
        coord.get("/people/duplicates").await;
        let r = coord.post("/people/duplicates", &[("marac", &m), ("person", &harm), ("answer", "unmerge")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(!s.get_referral(second).await.unwrap().is_repeat);
        let page = coord.get(r.location()).await;
        assert!(page.body.contains("Lee Smith and Lee Smyth"), "offered again once undone");
        let r = coord.post("/people/duplicates", &[("marac", &m), ("person", &harm), ("answer", "unmerge")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "nothing left to undo");

        // Different people: the pair is not offered again.
        coord.get("/people/duplicates").await;
        coord
            .post(
                "/people/duplicates",
                &[("marac", &m), ("person", &harm), ("other", &harm_first), ("answer", "distinct")],
            )
            .await;
        let page = coord.get("/people/duplicates").await;
        assert!(!page.body.contains("Lee Smith and Lee Smyth"), "{}", page.body);
        let (a, b): (i64, i64) = (harm.parse().unwrap(), harm_first.parse().unwrap());
        assert_eq!(s.distinct_people().await.unwrap(), vec![(a.min(b), a.max(b))]);

        let done: Vec<String> = audited(&app, "person.").await.into_iter().map(|e| e.0).collect();
        assert_eq!(done, ["person.distinct", "person.unmerge", "person.merge", "person.merge"]);
        assert!(audited(&app, "people.duplicates_view").await.len() >= 5);
    });
}

async fn upload(b: &Browser<'_>, marac: &str, file: &str) -> Page {
    let token = b.csrf.lock().unwrap().clone();
    let boundary = "XyZmaracBoundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"marac\"\r\n\r\n{marac}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"open-cases.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    );
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/agency-lists?_csrf={token}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    b.send(req).await
}

const LIST: &str = "given_name,family_name,date_of_birth,postcode,address,status,opened_on,closed_on
Robin,Smith,1/9/2019,NS1 4AB,1 High Street,closed,3/1/2026,2/9/2026
Alex,Unrelated,5/5/2015,,,open,1/2/2026,
";

#[tokio::test]
async fn childrens_social_care_cross_references_its_list_which_no_one_else_sees_and_which_is_deleted() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        let event = || marac_app::audit::system_event(&app.state, "test.seed", "");
        let partnership_id = s.get_marac(app.marac_id).await.unwrap().partnership_id;
        let input = |code: &str, category| AgencyInput {
            partnership_id,
            code: code.into(),
            name: format!("Test {code}"),
            category,
            marac_ids: vec![app.marac_id],
        };
        let csc = s.create_agency(&input("CSC", AgencyCategory::ChildrensSocialCare), event()).await.unwrap();
        member(&app, "sam@csc.org", Role::AgencyRep, csc, app.marac_id).await;
        member(&app, "sue@csc.org", Role::Referrer, csc, app.marac_id).await;
        member(&app, "other@csc.org", Role::AgencyRep, csc, app.other_marac_id).await;
        member(&app, "pat@police.org", Role::AgencyRep, app.agency_id, app.marac_id).await;
        app.user("coord@x.org", Role::Coordinator, true).await;
        app.user("kim@x.org", Role::Referrer, false).await;
        let kim = app.signed_in("kim@x.org").await;
        refer(&kim, &family(&app, "Katherine", "Smith", "7/3/1991", "20/11/2026")).await;
        let referral = referral_ids(&app).await[0];
        let case = s.get_referral(referral).await.unwrap().case_id.unwrap();

        // A bad file: every problem by line, nothing kept.
        let sam = app.signed_in("sam@csc.org").await;
        let page = sam.get("/agency-lists").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("opened_on") && page.body.contains("deleted after 28 days"));
        let template = sam.get("/agency-lists/template.csv").await;
        assert!(template.body.starts_with("given_name,family_name,date_of_birth"), "{}", template.body);
        let m = app.marac_id.to_string();
        let r = upload(&sam, &m, "given_name,family_name,status,opened_on\nAnn,,pending,1/1/2026\n").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Nothing was kept from open-cases.csv: 2 problems"), "{}", r.body);
        assert!(r.body.contains("&#39;pending&#39; is not open or closed"), "{}", r.body);
        // 800,000 bad lines (17.6 MB): the first 100 problems, the rest counted.
        let million = format!("given_name,family_name,status,opened_on\n{}", "Ann,,pending,1/1/2026\n".repeat(800_000));
        sam.get("/agency-lists").await;
        let r = upload(&sam, &m, &million).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body.matches("is not open or closed").count(), 50, "two problems a row, 100 shown");
        assert!(r.body.contains("and 799,950 more rows with problems"), "{}", &r.body[..2000]);
        assert!(r.body.len() < 200_000, "a page of {} bytes", r.body.len());
        sam.get("/agency-lists").await;
        let r = upload(&sam, &m, "").await;
        assert!(r.body.contains("Choose a CSV file to upload"), "the message is next to the field");
        *sam.csrf.lock().unwrap() = String::new();
        assert_eq!(upload(&sam, &m, LIST).await.status, StatusCode::FORBIDDEN, "no CSRF token, nothing kept");
        sam.get("/agency-lists").await;
        assert!(s.agency_lists(csc).await.unwrap().is_empty());

        // A good file: Robin is the victim's child, closed to children's social care in
        // September; the other row matches no one.
        let r = upload(&sam, &m, LIST).await;
        assert!(r.body.contains("2 rows checked; 1 of the Marac"), "{}", r.body);
        let list = s.agency_lists(csc).await.unwrap()[0].clone();
        assert_eq!((list.row_count, list.linked_count), (2, 1));
        let page = sam.get(&format!("/agency-lists/{}", list.id)).await;
        assert!(page.body.contains("Alex Unrelated") && page.body.contains("1 High Street, NS1 4AB"), "{}", page.body);
        assert!(!page.body.contains("Katherine"), "nothing about the Marac's cases is shown to the agency");

        // Nobody else sees the list: not the Marac's coordinator, not another agency's
        // representative, not a children's social care referrer, not a representative for
        // another Marac. Each refusal is audited.
        let coord = app.signed_in("coord@x.org").await;
        for who in [&coord, &kim] {
            assert_eq!(who.get(&format!("/agency-lists/{}", list.id)).await.status, StatusCode::FORBIDDEN);
            assert_eq!(who.get("/agency-lists").await.status, StatusCode::FORBIDDEN);
            assert_eq!(who.get("/agency-lists/template.csv").await.status, StatusCode::FORBIDDEN);
            let r = who.post(&format!("/agency-lists/{}/delete", list.id), &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
        }
        assert_eq!(s.agency_list_rows(list.id).await.unwrap().len(), 2, "nobody else can delete it");
        for email in ["pat@police.org", "sue@csc.org", "other@csc.org"] {
            let b = app.signed_in(email).await;
            assert_eq!(b.get(&format!("/agency-lists/{}", list.id)).await.status, StatusCode::FORBIDDEN, "{email}");
        }
        let other = app.signed_in("other@csc.org").await;
        other.get("/agency-lists").await;
        let r = upload(&other, &m, LIST).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "not for a Marac they work in");
        let denied: Vec<String> = audited(&app, "access.denied")
            .await
            .into_iter()
            .map(|e| e.2)
            .filter(|t| t.starts_with("agency_list"))
            .collect();
        assert!(denied.len() >= 7, "{denied:?}");

        // What the Marac keeps: the case page says Robin is known to children's social care.
        let page = coord.get(&format!("/cases/{case}")).await;
        assert!(page.body.contains("Known to children's social care</h2>"), "{}", page.body);
        assert!(
            page.body.contains("Robin Smith") && page.body.contains("Closed 2 September 2026 (opened 3 January 2026)")
        );

        // The children's measures count the family as on the list and closed to children's
        // social care before the meeting that heard the case shared its information.
        let meeting = support::list_on_published_meeting(&app, case, referral, &[app.agency_id]).await;
        let record =
            marac_store::DiscussionRecord { sealed: "sealed".into(), child_voice_recorded: true, saved_version: None };
        let (by, at) = (
            s.find_user_by_email("coord@x.org").await.unwrap().unwrap().id,
            marac_store::Ts::new(app.state.clock.now()),
        );
        s.save_discussion((meeting, case), &record, marac_domain::meeting_rules::CaseOutcome::Heard, by, at, event())
            .await
            .unwrap();
        let held = s.get_meeting(meeting).await.unwrap().details.held_on;
        let scope = ReturnScope { marac_ids: vec![app.marac_id], from: held, to: held };
        let counts = &s.meeting_returns(&scope).await.unwrap()[0].counts;
        assert_eq!((counts.cases, counts.cases_on_csc_list, counts.cases_closed_to_csc), (1, 1, 1));
        let page = coord.get("/returns/children").await;
        assert!(
            page.body.contains("Closed to children&#39;s social care before the Marac shared information"),
            "{}",
            page.body
        );

        // Deleted by hand, or by the worker once its days are up; the link stays either way.
        sam.get("/agency-lists").await;
        let second = upload(&sam, &m, LIST).await;
        assert!(second.body.contains("cross-referenced"));
        let ids: Vec<i64> = s.agency_lists(csc).await.unwrap().iter().map(|l| l.id).collect();
        sam.get(&format!("/agency-lists/{}", ids[0])).await;
        let r = sam.post(&format!("/agency-lists/{}/delete", ids[0]), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(s.agency_list_rows(ids[0]).await.unwrap().is_empty());
        let r = sam.post(&format!("/agency-lists/{}/delete", ids[0]), &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "already deleted");
        let worker = marac_app::worker::Worker::new(app.state.app.clone(), None, "http://127.0.0.1");
        assert_eq!(worker.round().await.unwrap().lists_deleted, 0, "not yet");
        app.clock.advance(Duration::days(28));
        assert_eq!(worker.round().await.unwrap().lists_deleted, 1);
        assert!(s.agency_list_rows(ids[1]).await.unwrap().is_empty());
        assert!(s.agency_lists(csc).await.unwrap().iter().all(|l| l.deleted_at.is_some()));
        let sam = app.signed_in("sam@csc.org").await;
        let page = sam.get(&format!("/agency-lists/{}", ids[1])).await;
        assert!(page.body.contains("The rows have been deleted"), "{}", page.body);
        assert_eq!(s.social_care_links(case).await.unwrap().len(), 2, "one link from each list stays");

        let used: Vec<String> = audited(&app, "agency_list.").await.into_iter().map(|e| e.0).collect();
        for action in ["agency_list.upload", "agency_list.view", "agency_list.delete", "agency_list.expire"] {
            assert!(used.iter().any(|a| a == action), "{action} in {used:?}");
        }
    });
}

/// The keyed hashes the first release filed people under: one for all partnerships, and no
/// name with day and month. Written out here, as that release wrote them.
fn version_1_keys(app: &TestApp, p: &marac_domain::matching::PersonDetails) -> Vec<String> {
    marac_domain::matching::blocking_keys(p)
        .iter()
        .filter(|k| !k.starts_with("nd:"))
        .map(|k| marac_app::crypto::hmac(&app.state.keys.encryption.key, &[b"person-index", k.as_bytes()]))
        .collect()
}

#[tokio::test]
async fn people_filed_under_older_keys_are_found_by_them_until_the_worker_files_them_again() {
    each_backend!(|app| {
        use marac_app::casework::{self, Purpose, StoredPerson};
        use marac_domain::matching::{BLOCKING_KEYS_VERSION, LIKELY, PersonDetails};
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        app.user("kim@x.org", Role::Referrer, false).await;
        let kim = app.signed_in("kim@x.org").await;
        refer(&kim, &family(&app, "Katherine", "Smith", "7/3/1991", "20/11/2026")).await;
        let partnership = s.get_marac(app.marac_id).await.unwrap().partnership_id;

        // As an installation of the first release: everyone filed under version 1's keys.
        let mut old = Vec::new();
        for (_, person) in s.people_to_file_again(BLOCKING_KEYS_VERSION + 1, 100).await.unwrap() {
            let details: StoredPerson = casework::open(&app.state, Purpose::Person, &person.details_sealed).unwrap();
            old.push((person.id, version_1_keys(&app, &details.into())));
        }
        assert_eq!(old.len(), 2, "the victim and the person causing harm");
        app.db.execute("UPDATE people SET keys_version = 1").await;
        s.file_people_again(BLOCKING_KEYS_VERSION, &old, marac_app::audit::system_event(&app.state, "test.seed", ""))
            .await
            .unwrap();
        app.db.execute("UPDATE people SET keys_version = 1").await;

        let person = |dob: time::Date| PersonDetails {
            given_name: "Katherine".into(),
            family_name: "Smith".into(),
            date_of_birth: Some(dob),
            ..Default::default()
        };
        let same = person(time::macros::date!(1991 - 03 - 07));
        // Born 1981 by a slip of the key.
        let slip = person(time::macros::date!(1981 - 03 - 07));
        let found = |p: PersonDetails| {
            let state = app.state.clone();
            async move { casework::find_matches(&state, partnership, &p).await.unwrap() }
        };
        // Until the worker has filed everyone again, the older keys are searched too.
        let before = found(same.clone()).await;
        assert!(before.len() == 1 && before[0].1.certain, "{before:?}");

        let worker = marac_app::worker::Worker::new(app.state.app.clone(), None, "http://127.0.0.1");
        assert_eq!(worker.round().await.unwrap().people_filed_again, 2);
        assert_eq!(worker.round().await.unwrap().people_filed_again, 0, "once");
        assert!(app.state.people_all_filed());
        let version_1: Vec<String> = old.iter().flat_map(|(_, keys)| keys.clone()).collect();
        assert!(s.find_people(partnership, &version_1, 10).await.unwrap().is_empty(), "the old keys are gone");
        assert!(found(same).await.first().is_some_and(|m| m.1.certain));
        let matches = found(slip).await;
        assert_eq!(matches.len(), 1, "{matches:?}");
        assert!(matches[0].1.score >= LIKELY && !matches[0].1.certain);

        // Hashed per partnership: the index does not link one partnership's people to another's.
        let here = casework::index_keys(&app.state, partnership, &person(time::macros::date!(1991 - 03 - 07)));
        let there = casework::index_keys(&app.state, partnership + 1, &person(time::macros::date!(1991 - 03 - 07)));
        assert!(!here.is_empty() && here.iter().all(|k| !there.contains(k)));
        let events = audited(&app, "people.file_again").await;
        assert_eq!(events, [("people.file_again".to_owned(), "success".to_owned(), "people".to_owned())]);
    });
}
