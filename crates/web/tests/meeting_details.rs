//! Changing a scheduled meeting, flags with an expiry, transferred-in cases and meeting notes
//! that save as they are typed: through the real router, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use marac_domain::Role;
use marac_domain::flags::FlagKind;
use marac_domain::meeting_rules::CaseOutcome;
use marac_store::AuditFilter;
use support::{Browser, Page, TestApp, list_on_published_meeting, refer, referral_fields};
use time::{Date, Duration};

fn dmy(d: Date) -> String {
    format!("{}/{}/{}", d.day(), u8::from(d.month()), d.year())
}

fn shown(d: Date) -> String {
    format!("{} {} {}", d.day(), d.month(), d.year())
}

async fn audited(app: &TestApp, action: &str) -> usize {
    let filter = AuditFilter { action_prefix: Some(action.into()), limit: 500, ..AuditFilter::default() };
    app.db.store.list_audit(&filter).await.unwrap().len()
}

/// A referral from the test agency, transferring in from another Marac, accepted by `cora`.
async fn accepted(app: &TestApp, kim: &Browser<'_>, cora: &Browser<'_>, given: &str) -> (i64, i64) {
    let mut fields = referral_fields(app.marac_id, given, "Vale", "4/4/1990", 15);
    fields.push(("referral.transferred_from".into(), "Leeds Marac".into()));
    let referral = refer(kim, &fields).await;
    cora.get(&format!("/referrals/{referral}")).await;
    let r = cora.post(&format!("/referrals/{referral}/decision"), &[("decision", "accept")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    (referral, app.db.store.get_referral(referral).await.unwrap().case_id.unwrap())
}

/// Posts the meeting notes as the page's script does when it saves them as they are typed.
async fn autosave(b: &Browser<'_>, path: &str, fields: &[(&str, &str)]) -> Page {
    let token = b.csrf.lock().unwrap().clone();
    let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
    all.extend_from_slice(fields);
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-autosave", "1")
        .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
        .unwrap();
    b.send(req).await
}

#[tokio::test]
async fn the_coordinator_changes_a_meeting_and_nobody_else_can() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        let chair = app.user("cha@x.org", Role::Chair, false).await;
        app.user("rep@x.org", Role::AgencyRep, false).await;
        let kim = app.signed_in("kim@x.org").await;
        let cora = app.signed_in("cora@x.org").await;
        accepted(&app, &kim, &cora, "Nina").await;
        let today = app.state.clock.today();

        // Regular meetings close their list the Marac's set days before.
        cora.get("/meetings").await;
        let held = today + Duration::days(14);
        let r = cora
            .post(
                "/meetings",
                &[
                    ("marac", &app.marac_id.to_string()),
                    ("kind", "regular"),
                    ("format", "in_person"),
                    ("first", &dmy(held)),
                    ("until", &dmy(held)),
                    ("starts_at", "10:00"),
                ],
            )
            .await;
        let meeting = r.location().to_owned();
        let id: i64 = meeting.trim_start_matches("/meetings/").parse().unwrap();
        let page = cora.get(&meeting).await;
        assert!(page.body.contains(&shown(held - Duration::days(7))), "cut-off shown: {}", page.body);
        assert!(page.body.contains("Not decided yet") && page.body.contains(&format!("{meeting}/edit")));

        // Only the Marac's coordinators may change it.
        let edit = format!("{meeting}/edit");
        // Those who see the meeting are refused; a referrer, who does not, is told it is not there.
        for (who, status) in [
            ("cha@x.org", StatusCode::FORBIDDEN),
            ("rep@x.org", StatusCode::FORBIDDEN),
            ("kim@x.org", StatusCode::NOT_FOUND),
        ] {
            let b = app.signed_in(who).await;
            assert_eq!(b.get(&edit).await.status, status, "{who}");
            b.get("/meetings").await;
            assert_eq!(b.post(&edit, &[("held_on", &dmy(held))]).await.status, status, "{who}");
        }
        let form = cora.get(&edit).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains(&format!("value=\"{}\"", dmy(held))) && form.body.contains("Test Chair"));

        // Every problem beside its field, with what was typed kept.
        let agency = app.agency_id.to_string();
        let bad = cora
            .post(
                &edit,
                &[
                    ("held_on", "31/2/2026"),
                    ("starts_at", "10:00"),
                    ("format", "no_meeting"),
                    ("capacity", "0"),
                    ("list_cutoff_on", "next week"),
                    ("chair", "999999"),
                ],
            )
            .await;
        for message in [
            "Enter the date of the meeting",
            "Enter the date contributions close",
            "Must be between 1 and 60",
            "Enter the day the list closes",
            "Select a chair of this Marac",
            "Invite at least one agency",
        ] {
            assert!(bad.body.contains(message), "{message}: {}", bad.body);
        }
        assert!(bad.body.contains("value=\"31/2/2026\"") && bad.body.contains("value=\"next week\""));
        let bad = cora
            .post(
                &edit,
                &[
                    ("held_on", &dmy(held)),
                    ("starts_at", "10:00"),
                    ("format", "in_person"),
                    ("capacity", "16"),
                    ("list_cutoff_on", &dmy(held + Duration::days(1))),
                    ("agency", &agency),
                ],
            )
            .await;
        assert!(bad.body.contains("The list must close on or before the day of the meeting"), "{}", bad.body);

        // A cut-off before the case was accepted keeps it off the proposal, though it can be
        // added by hand.
        let later = held + Duration::days(7);
        let r = cora
            .post(
                &edit,
                &[
                    ("held_on", &dmy(later)),
                    ("starts_at", "09:30"),
                    ("format", "virtual"),
                    ("location", "Video call"),
                    ("chair", &chair.to_string()),
                    ("capacity", "12"),
                    ("list_cutoff_on", &dmy(today - Duration::days(1))),
                    ("agency", &agency),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let m = s.get_meeting(id).await.unwrap();
        assert_eq!(
            (m.details.held_on, m.details.starts_at.as_str(), m.details.chair_user_id, m.details.capacity),
            (later, "09:30", Some(chair), 12)
        );
        assert_eq!(m.details.invited_agency_ids, vec![app.agency_id]);
        assert_eq!(audited(&app, "meeting.change").await, 1);
        let page = cora.get(&meeting).await;
        assert!(page.body.contains("Test Chair") && page.body.contains("12 cases"), "{}", page.body);
        cora.post(&format!("{meeting}/list"), &[("op", "propose")]).await;
        let page = cora.get(&meeting).await;
        assert!(page.body.contains("No cases listed yet") && page.body.contains("After the cut-off"), "{}", page.body);
        let case_id = s.waiting_cases(app.marac_id).await.unwrap()[0].case_id;
        cora.post(&format!("{meeting}/list"), &[("op", "add"), ("case", &case_id.to_string())]).await;
        let page = cora.get(&meeting).await;
        assert!(page.body.contains("Transferred from Leeds Marac"), "where it came from: {}", page.body);

        // The capacity cannot drop below the cases listed; a held meeting cannot change.
        cora.get(&edit).await;
        let bad = cora
            .post(
                &edit,
                &[
                    ("held_on", &dmy(later)),
                    ("starts_at", "09:30"),
                    ("format", "virtual"),
                    ("capacity", "0"),
                    ("agency", &agency),
                ],
            )
            .await;
        assert!(bad.body.contains("Must be between 1 and 60"));
        let statement = "Information shared at this meeting is confidential and used only to keep people safe.";
        cora.post(&format!("{meeting}/statement"), &[("statement", statement)]).await;
        cora.post(&format!("{meeting}/publish"), &[("confirm", "yes")]).await;
        cora.post(&format!("{meeting}/close"), &[]).await;
        assert_eq!(cora.get(&edit).await.status, StatusCode::CONFLICT);
    });
}

#[tokio::test]
async fn flags_run_their_time_and_meeting_notes_save_as_they_are_typed() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        app.user("cha@x.org", Role::Chair, false).await;
        app.user("rep@x.org", Role::AgencyRep, false).await;
        let kim = app.signed_in("kim@x.org").await;
        let cora = app.signed_in("cora@x.org").await;
        let (referral, case_id) = accepted(&app, &kim, &cora, "Nina").await;
        let id = list_on_published_meeting(&app, case_id, referral, &[app.agency_id]).await;
        let today = app.state.clock.today();
        let held = s.get_meeting(id).await.unwrap().details.held_on;
        let statement = "Information shared at this meeting is confidential and used only to keep people safe.";
        s.add_statement(app.marac_id, statement, None, marac_store::Ts::new(app.state.clock.now()), {
            marac_app::audit::system_event(&app.state, "test.seed", "")
        })
        .await
        .unwrap();
        let meeting = format!("/meetings/{id}");
        let case_page = format!("{meeting}/cases/{case_id}");
        let cha = app.signed_in("cha@x.org").await;
        let rep = app.signed_in("rep@x.org").await;
        for b in [&cha, &rep] {
            b.get(&meeting).await;
            assert_eq!(b.post(&format!("{meeting}/confirm"), &[("agree", "yes")]).await.status, StatusCode::SEE_OTHER);
        }

        // The chair agrees a flag; the form offers the Marac's usual 12 months from the meeting.
        let page = cha.get(&case_page).await;
        let usual = marac_domain::flags::expiry(held, 12);
        assert!(page.body.contains("Agree a flag") && page.body.contains(&format!("value=\"{}\"", dmy(usual))));
        assert!(page.body.contains("Transferred from") && page.body.contains("Leeds Marac"));
        let flags = format!("{case_page}/flags");
        let bad = cha.post(&flags, &[("flag_kind", "address_safety_marker"), ("flag_until", "1/1/2020")]).await;
        assert!(bad.body.contains("Select the agency that places the flag"), "{}", bad.body);
        assert!(
            bad.body.contains("The flag must run until a date after today") && bad.body.contains("value=\"1/1/2020\"")
        );
        let agency = app.agency_id.to_string();
        let r = cha
            .post(
                &flags,
                &[
                    ("flag_agency", &agency),
                    ("flag_kind", "address_safety_marker"),
                    ("flag_note", "Marker on 4 Elm Road"),
                    ("flag_until", &dmy(today + Duration::days(365))),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        cha.get(&case_page).await;
        let soon = today + Duration::days(20);
        cha.post(&flags, &[("flag_agency", &agency), ("flag_kind", "health_record"), ("flag_until", &dmy(soon))]).await;
        assert_eq!(audited(&app, "flag.create").await, 2);

        // A representative sees the flags but cannot set or end one.
        let page = rep.get(&case_page).await;
        assert!(page.body.contains("Safety marker on the address") && page.body.contains("Marker on 4 Elm Road"));
        assert!(!page.body.contains("Agree a flag"));
        let r = rep.post(&flags, &[("flag_agency", &agency), ("flag_kind", "other"), ("flag_until", &dmy(soon))]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let running =
            s.list_flags(&marac_store::FlagFilter { case_id: Some(case_id), ..Default::default() }).await.unwrap();
        assert_eq!(running.len(), 2);
        let marker = running.iter().find(|f| f.flag.kind == FlagKind::AddressSafetyMarker).unwrap().id;
        assert!(running.iter().all(|f| f.flag.note_sealed != "Marker on 4 Elm Road"), "notes are sealed");
        let end = format!("{case_page}/flags/{marker}/end");
        assert_eq!(rep.post(&end, &[(&format!("end_reason_{marker}"), "moved")]).await.status, StatusCode::FORBIDDEN);
        assert!(rep.get(&format!("/cases/{case_id}")).await.body.contains("Safety marker on the address"));

        // The meeting's standing item lists the flag running out within a month of it.
        let page = cha.get(&meeting).await;
        assert!(
            page.body.contains("Standing item: flags running out") && page.body.contains("Flag on the health record")
        );

        // Ending early needs the reason; another case's flag is not found through this one.
        cha.get(&case_page).await;
        let field = format!("end_reason_{marker}");
        let r = cha.post(&end, &[(&field, "")]).await;
        assert!(r.body.contains("Give the reason the Marac agreed to end the flag"), "{}", r.body);
        let r = cha.post(&end, &[(&field, "The victim has moved out of the area")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(cha.post(&end, &[(&field, "again")]).await.status, StatusCode::NOT_FOUND, "already ended");
        let page = cha.get(&case_page).await;
        assert!(page.body.contains("Ended early") && page.body.contains("The victim has moved out of the area"));
        assert_eq!(audited(&app, "flag.end").await, 1);

        // Notes save as they are typed, keep the recorded outcome, and say what is wrong.
        let r =
            autosave(&cha, &case_page, &[("information", "Police: two call-outs since"), ("outcome", "heard")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body, r#"{"saved":true,"version":1}"#);
        let listed = s.meeting_cases(id).await.unwrap();
        assert_eq!(listed[0].outcome, CaseOutcome::Listed, "the outcome waits for the Save button");
        assert!(cha.get(&case_page).await.body.contains("Police: two call-outs since"));
        let long = "x".repeat(20_001);
        let r = autosave(&cha, &case_page, &[("information", &long)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(r#""field":"information""#), "{}", r.body);
        let r = autosave(&rep, &case_page, &[("information", "Not the chair")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(!cha.get(&case_page).await.body.contains("Not the chair"));

        // A mistake in the action form never blanks the discussion (the sequence a chair hit):
        // notes saved, "Add action" with a field missing, then typing in another box.
        let r = autosave(&cha, &case_page, &[("victim_voice", "She wants to stay."), ("version", "1")]).await;
        assert_eq!(r.body, r#"{"saved":true,"version":2}"#);
        cha.get(&case_page).await;
        let missing = [("owner", "PC Shah"), ("subject", "victim"), ("description", "Fit a doorbell camera")];
        let r = cha.post(&format!("{case_page}/actions"), &missing).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("govuk-error-summary"), "the action's problem is shown");
        for kept in ["Police: two call-outs since", "She wants to stay.", "Fit a doorbell camera", "PC Shah"] {
            assert!(r.body.contains(kept), "{kept} is lost: {}", r.body);
        }
        assert!(r.body.contains(r#"name="version" value="2""#));
        let r = autosave(&cha, &case_page, &[("risks", "Stalking since the separation"), ("version", "2")]).await;
        assert_eq!(r.body, r#"{"saved":true,"version":3}"#, "only the box typed in is sent and saved");
        let page = cha.get(&case_page).await.body;
        for kept in ["Police: two call-outs since", "She wants to stay.", "Stalking since the separation"] {
            assert!(page.contains(kept), "{kept} is lost");
        }
        // A save typed over an older version overwrites nothing; both texts come back to merge.
        let r = autosave(&cha, &case_page, &[("information", "Typed in a second tab"), ("version", "2")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains(r#""version":3"#) && r.body.contains("Police: two call-outs since"), "{}", r.body);
        let page = cha.get(&case_page).await.body;
        assert!(!page.contains("Typed in a second tab") && page.contains("Police: two call-outs since"));
        let stale = [
            ("information", "Typed in a second tab"),
            ("victim_voice", "She wants to stay."),
            ("risks", "Stalking since the separation"),
            ("version", "2"),
        ];
        let r = cha.post(&case_page, &stale).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Someone saved this box after you opened the page"), "{}", r.body);
        assert!(r.body.contains("Typed in a second tab") && r.body.contains("Police: two call-outs since"));
        assert!(r.body.contains(r#"name="version" value="3""#), "the merge saves over the newer version");

        // The minutes carry the flags agreed and both standing items.
        cha.get(&case_page).await;
        cha.post(&case_page, &[("information", "Police: two call-outs since"), ("outcome", "heard")]).await;
        let minutes = cha.get(&format!("{meeting}/minutes")).await;
        for text in [
            "Flags agreed",
            "Marker on 4 Elm Road",
            "Standing items",
            "Flags running out",
            "Transferred from Leeds Marac",
        ] {
            assert!(minutes.body.contains(text), "{text}: {}", minutes.body);
        }
    });
}
