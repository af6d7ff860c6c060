//! Access at the edges an outside probe found, through the real router on SQLite and PostgreSQL:
//! a referral naming the people of an earlier case, in another Marac or the same one; the case
//! transfer between Maracs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use marac_app::store::TransferOutcome;
use marac_domain::notices::NoticeKind;
use marac_domain::{AgencyCategory, Role};
use marac_store::AuditFilter;
use support::{Browser, TestApp, list_on_published_meeting, refer, referral_fields};

async fn audited(app: &TestApp, action: &str) -> usize {
    let filter = AuditFilter { action_prefix: Some(action.into()), limit: 500, ..AuditFilter::default() };
    app.db.store.list_audit(&filter).await.unwrap().iter().filter(|e| e.event.action == action).count()
}

async fn notices_of(app: &TestApp, user: i64, kind: NoticeKind) -> Vec<String> {
    app.db.store.list_notices(user, 50).await.unwrap().into_iter().filter(|n| n.kind == kind).map(|n| n.link).collect()
}

/// Jordan and Lee Ashby, referred to `marac_id` by `b`.
async fn refer_ashbys(b: &Browser<'_>, marac_id: i64) -> i64 {
    refer(b, &referral_fields(marac_id, "Jordan", "Ashby", "14/2/1992", 15)).await
}

/// Nothing of the earlier case reaches `b`: not its page, not its research list, not its
/// references or notes on the pages of `b`'s own referral.
async fn sees_nothing_of(b: &Browser<'_>, case_id: i64, referral_id: i64, secrets: &[&str]) {
    let r = b.get(&format!("/cases/{case_id}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    for page in
        ["/research".to_owned(), format!("/referrals/{referral_id}"), format!("/referrals/{referral_id}/submitted")]
    {
        let body = b.get(&page).await.body;
        for secret in secrets {
            assert!(!body.contains(secret), "{page} shows {secret}");
        }
    }
}

#[tokio::test]
async fn a_referral_never_moves_an_earlier_case_or_opens_it_to_a_stranger() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        let (tm, om) = (app.marac_id, app.other_marac_id);
        // The case's Marac: a police referrer and representative, its coordinator.
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("rep@x.org", Role::AgencyRep, false).await;
        let cora = app.user("cora@x.org", Role::Coordinator, true).await;
        // Another Marac with a housing referrer and its own coordinator.
        let housing = app.agency("HOU", AgencyCategory::Housing, &[om]).await;
        app.user_in("hou@x.org", Role::Referrer, om, housing, false).await;
        let olly = app.user_in("olly@x.org", Role::Coordinator, om, housing, true).await;

        let kim = app.signed_in("kim@x.org").await;
        let first = refer_ashbys(&kim, tm).await;
        let cora_b = app.signed_in("cora@x.org").await;
        support::confirm_statement(&app, &cora_b, app.marac_id).await;
        cora_b.get(&format!("/referrals/{first}")).await;
        assert_eq!(
            cora_b.post(&format!("/referrals/{first}/decision"), &[("decision", "accept")]).await.status,
            StatusCode::SEE_OTHER
        );
        let case_id = s.get_referral(first).await.unwrap().case_id.unwrap();
        let reference = s.get_referral(first).await.unwrap().reference.unwrap();
        list_on_published_meeting(&app, case_id, first, &[app.agency_id]).await;
        let rep = app.signed_in("rep@x.org").await;
        support::confirm_statement(&app, &rep, app.marac_id).await;
        rep.get(&format!("/cases/{case_id}")).await;
        let note = [("kind", "fact"), ("body", "Lives at 4 Elm Road with her mother."), ("share", "yes")];
        assert_eq!(rep.post(&format!("/cases/{case_id}/notes"), &note).await.status, StatusCode::SEE_OTHER);

        // The same victim and person causing harm, referred to the other Marac.
        let hou = app.signed_in("hou@x.org").await;
        let second = refer_ashbys(&hou, om).await;
        let waiting = s.get_referral(second).await.unwrap();
        assert_eq!((waiting.case_id, waiting.known_case_id), (None, Some(case_id)), "known, not joined");
        assert_eq!(s.get_case(case_id).await.unwrap().marac_id, tm, "the case stays where it is");
        sees_nothing_of(&hou, case_id, second, &["Elm Road", &reference]).await;
        // Both Maracs' coordinators are asked; the other Marac's triage says whom to ask.
        let question = notices_of(&app, olly, NoticeKind::CaseHeldElsewhere).await;
        assert_eq!(question, notices_of(&app, cora, NoticeKind::CaseHeldElsewhere).await);
        assert_eq!(question.len(), 1);
        let olly_b = app.signed_in("olly@x.org").await;
        let triage = olly_b.get("/triage").await;
        assert!(triage.body.contains("Known to TM Marac"), "{}", triage.body);
        let view = olly_b.get(&format!("/referrals/{second}")).await;
        assert!(view.body.contains("Known to TM Marac") && !view.body.contains("Elm Road"), "{}", view.body);
        // It cannot be accepted while the case is held elsewhere; declining moves nothing.
        let r = olly_b.post(&format!("/referrals/{second}/decision"), &[("decision", "accept")]).await;
        assert!(r.body.contains("Another Marac holds this case"), "{}", r.body);
        let r = olly_b
            .post(
                &format!("/referrals/{second}/decision"),
                &[("decision", "decline"), ("decline_note", "Held by TM Marac")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(s.get_case(case_id).await.unwrap().marac_id, tm);
        sees_nothing_of(&hou, case_id, second, &["Elm Road", &reference]).await;
        assert!(!s.case_access(case_id).await.unwrap().referring_agency_ids.contains(&housing));
        assert_eq!(audited(&app, "case.transfer").await, 0, "nothing moved");

        // Within one Marac: a housing referrer's repeat referral joins the case, but the case is
        // theirs to read only once the coordinator accepts it onto the case.
        let tm_housing = app.agency("HOU2", AgencyCategory::Housing, &[tm]).await;
        app.user_in("hana@x.org", Role::Referrer, tm, tm_housing, false).await;
        let hana = app.signed_in("hana@x.org").await;
        let third = refer_ashbys(&hana, tm).await;
        assert_eq!(s.get_referral(third).await.unwrap().case_id, Some(case_id));
        sees_nothing_of(&hana, case_id, third, &["Elm Road"]).await;
        cora_b.get(&format!("/referrals/{third}")).await;
        assert_eq!(
            cora_b.post(&format!("/referrals/{third}/decision"), &[("decision", "accept")]).await.status,
            StatusCode::SEE_OTHER
        );
        // Accepted onto the case, its agency takes part: once the statement is confirmed.
        let r = hana.get(&format!("/cases/{case_id}")).await;
        assert!(r.location().starts_with(&format!("/confidentiality/{tm}?next=")), "{}", r.location());
        support::confirm_statement(&app, &hana, tm).await;
        let r = hana.get(&format!("/cases/{case_id}")).await;
        assert_eq!(r.status, StatusCode::OK, "accepted onto the case, its agency takes part");
        assert!(r.body.contains("Elm Road"), "a shared note is shared with the case's agencies");
    });
}

#[tokio::test]
async fn a_case_moves_between_maracs_only_when_both_coordinators_agree() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        let (tm, om) = (app.marac_id, app.other_marac_id);
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("rep@x.org", Role::AgencyRep, false).await;
        let cora = app.user("cora@x.org", Role::Coordinator, true).await;
        let housing = app.agency("HOU", AgencyCategory::Housing, &[om]).await;
        app.user_in("hou@x.org", Role::Referrer, om, housing, false).await;
        app.user_in("olly@x.org", Role::Coordinator, om, housing, true).await;
        app.user_in("oscar@x.org", Role::Referrer, om, housing, false).await;

        let kim = app.signed_in("kim@x.org").await;
        let first = refer_ashbys(&kim, tm).await;
        let cora_b = app.signed_in("cora@x.org").await;
        support::confirm_statement(&app, &cora_b, app.marac_id).await;
        cora_b.get(&format!("/referrals/{first}")).await;
        cora_b.post(&format!("/referrals/{first}/decision"), &[("decision", "accept")]).await;
        let case_id = s.get_referral(first).await.unwrap().case_id.unwrap();
        list_on_published_meeting(&app, case_id, first, &[app.agency_id]).await;
        let rep = app.signed_in("rep@x.org").await;
        support::confirm_statement(&app, &rep, app.marac_id).await;
        rep.get(&format!("/cases/{case_id}")).await;
        rep.post(
            &format!("/cases/{case_id}/notes"),
            &[("kind", "fact"), ("body", "Police: two call-outs."), ("share", "yes")],
        )
        .await;

        let hou = app.signed_in("hou@x.org").await;
        let second = refer_ashbys(&hou, om).await;
        let transfer = s.case_transfer_for_referral(second).await.unwrap().unwrap();
        let page = format!("/transfers/{}", transfer.id);
        // Only the two Maracs' coordinators see the question; anyone else is told it is not there.
        let denied_before = audited(&app, "access.denied").await;
        for stranger in [&kim, &hou, &rep] {
            assert_eq!(stranger.get(&page).await.status, StatusCode::NOT_FOUND);
        }
        assert_eq!(kim.get("/transfers/99999").await.status, StatusCode::NOT_FOUND);
        assert_eq!(audited(&app, "access.denied").await, denied_before + 4);

        // The receiving Marac asks; the holding Marac first refuses a stranger's answer, then agrees.
        let olly_b = app.signed_in("olly@x.org").await;
        let shown = olly_b.get(&page).await;
        assert!(shown.body.contains("Ask TM Marac to move the case here"), "{}", shown.body);
        assert!(!shown.body.contains("two call-outs"));
        assert_eq!(olly_b.post(&format!("{page}/ask"), &[]).await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            olly_b.post(&format!("{page}/answer"), &[("answer", "agree")]).await.status,
            StatusCode::FORBIDDEN,
            "not theirs to answer"
        );
        assert_eq!(s.get_case(case_id).await.unwrap().marac_id, tm);
        let asked = app.db.store.list_notices(cora, 50).await.unwrap();
        assert!(asked.iter().any(|n| n.kind == NoticeKind::CaseTransferAsked && n.link == page));
        let r = cora_b.get(&page).await;
        assert!(r.body.contains("Should the case move from TM Marac to OM Marac?"), "{}", r.body);
        let r = cora_b.post(&format!("{page}/answer"), &[]).await;
        assert!(r.body.contains("Select whether the case moves"), "{}", r.body);
        assert_eq!(cora_b.post(&format!("{page}/answer"), &[("answer", "agree")]).await.status, StatusCode::SEE_OTHER);

        app.clock.advance(time::Duration::minutes(5));
        // The case moved, the referral joined it, and both sides' trails say so.
        assert_eq!(s.get_case(case_id).await.unwrap().marac_id, om);
        assert_eq!(s.get_referral(second).await.unwrap().case_id, Some(case_id));
        assert_eq!(audited(&app, "case.transfer").await, 2);
        olly_b.get(&format!("/referrals/{second}")).await;
        assert_eq!(
            olly_b.post(&format!("/referrals/{second}/decision"), &[("decision", "accept")]).await.status,
            StatusCode::SEE_OTHER
        );
        support::confirm_statement(&app, &hou, om).await;
        let r = hou.get(&format!("/cases/{case_id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("two call-outs"), "its notes moved with it");
        // Its chronology tells the move, from the store's record of the question.
        let moves = s.case_transfers(case_id).await.unwrap();
        assert_eq!(moves.iter().map(|t| t.outcome).collect::<Vec<_>>(), [Some(TransferOutcome::Moved)]);
        assert!(r.body.contains("Transfer asked from TM Marac to OM Marac") && r.body.contains("Moved to OM Marac"));
        assert!(!r.body.contains("href=\"/transfers/"), "a referrer does not open the transfer question");
        hou.post(
            &format!("/cases/{case_id}/notes"),
            &[("kind", "fact"), ("body", "Now lives in Westfield."), ("share", "yes")],
        )
        .await;

        // The Marac that sent it reads what it held, and nothing added since, and changes nothing.
        for b in [&cora_b, &rep] {
            let r = b.get(&format!("/cases/{case_id}")).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(r.body.contains("two call-outs") && !r.body.contains("Westfield"), "{}", r.body);
            let refs = s.get_referral(second).await.unwrap().reference.unwrap();
            assert!(!r.body.contains(&refs), "the receiving Marac's referral is not what it held");
        }
        let r = rep.post(&format!("/cases/{case_id}/notes"), &[("kind", "fact"), ("body", "More.")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // A question the holding Marac refuses leaves the case where it is.
        let other = refer(&kim, &referral_fields(tm, "Sam", "Reed", "1/1/1991", 15)).await;
        cora_b.get(&format!("/referrals/{other}")).await;
        cora_b.post(&format!("/referrals/{other}/decision"), &[("decision", "accept")]).await;
        let other_case = s.get_referral(other).await.unwrap().case_id.unwrap();
        let oscar = app.signed_in("oscar@x.org").await;
        let again = refer(&oscar, &referral_fields(om, "Sam", "Reed", "1/1/1991", 15)).await;
        let t = s.case_transfer_for_referral(again).await.unwrap().unwrap();
        olly_b.post(&format!("/transfers/{}/ask", t.id), &[]).await;
        cora_b.get(&format!("/transfers/{}", t.id)).await;
        cora_b.post(&format!("/transfers/{}/answer", t.id), &[("answer", "refuse")]).await;
        assert_eq!(s.get_case(other_case).await.unwrap().marac_id, tm);
        assert!(olly_b.get(&format!("/transfers/{}", t.id)).await.body.contains("The move was refused"));
    });
}

#[tokio::test]
async fn administrators_change_no_roles_of_their_own_and_hold_none_that_read_cases() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        let tm = app.marac_id;
        let adm = app.user("adm@x.org", Role::Admin, true).await;
        app.user("adm2@x.org", Role::Admin, true).await;
        app.user("kim@x.org", Role::Referrer, false).await;
        let cora = app.user("cora@x.org", Role::Coordinator, true).await;
        let cole = app.user("cole@x.org", Role::Coordinator, true).await;
        let kim = app.signed_in("kim@x.org").await;
        let referral = refer_ashbys(&kim, tm).await;
        let cora_b = app.signed_in("cora@x.org").await;
        cora_b.get(&format!("/referrals/{referral}")).await;
        cora_b.post(&format!("/referrals/{referral}/decision"), &[("decision", "accept")]).await;
        let case_id = s.get_referral(referral).await.unwrap().case_id.unwrap();

        // The probe: an administrator adding a case role to their own account.
        let coordinator = format!("coordinator:{tm}");
        let b = app.signed_in("adm@x.org").await;
        b.get(&format!("/admin/users/{adm}")).await;
        let r = b
            .post(
                &format!("/admin/users/{adm}"),
                &[("name", "Test Administrator"), ("agency", ""), ("grant", "admin:"), ("grant", &coordinator)],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("You cannot change your own roles"), "{}", r.body);
        assert_eq!(s.get_user(adm).await.unwrap().grants.len(), 1);
        assert_eq!(b.get(&format!("/cases/{case_id}")).await.status, StatusCode::FORBIDDEN);

        // Another administrator cannot give an administrator a case role, nor a coordinator
        // the administrator role.
        let b2 = app.signed_in("adm2@x.org").await;
        for (id, name) in [(adm, "Test Administrator"), (cora, "Test Coordinator")] {
            b2.get(&format!("/admin/users/{id}")).await;
            let agency = if id == cora { app.agency_id.to_string() } else { String::new() };
            let r = b2
                .post(
                    &format!("/admin/users/{id}"),
                    &[("name", name), ("agency", &agency), ("grant", "admin:"), ("grant", &coordinator)],
                )
                .await;
            assert!(r.body.contains("An administrator cannot also hold a role that reads cases"), "{}", r.body);
        }
        assert_eq!(s.get_user(cora).await.unwrap().grants.len(), 1);

        // A change that is allowed tells the person and the Marac's coordinators.
        let chair = format!("chair:{tm}");
        b2.get(&format!("/admin/users/{cora}")).await;
        let agency = app.agency_id.to_string();
        let r = b2
            .post(
                &format!("/admin/users/{cora}"),
                &[("name", "Test Coordinator"), ("agency", &agency), ("grant", &coordinator), ("grant", &chair)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(notices_of(&app, cora, NoticeKind::RolesChanged).await, ["/account"]);
        assert_eq!(notices_of(&app, cole, NoticeKind::MaracRolesChanged).await.len(), 1);
        assert!(notices_of(&app, cora, NoticeKind::MaracRolesChanged).await.is_empty());

        // An account that already mixes them (from before this rule) is named, not changed.
        let mixed = marac_store::NewUser {
            email: "old@x.org".into(),
            name: "Old Account".into(),
            agency_id: Some(app.agency_id),
            password_hash: support::password_hash(),
            is_demo: false,
            grants: vec![
                marac_domain::policy::Grant { role: Role::Admin, marac_id: None },
                marac_domain::policy::Grant { role: Role::Coordinator, marac_id: Some(tm) },
            ],
        };
        let old = s.create_user(&mixed, marac_app::audit::system_event(&app.state, "test.seed", "")).await.unwrap();
        let page = b2.get("/admin/users").await;
        assert!(
            page.body.contains("One account holds the administrator role together with roles that read cases"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Administrator with case roles"));
        assert_eq!(s.get_user(old).await.unwrap().grants.len(), 2);
    });
}

/// Every route whose path names a record inside another (a note of a case, a case of a
/// meeting, a flag of a case), from the route table itself.
fn nested_routes(app: &TestApp) -> Vec<String> {
    let mut nested: Vec<String> = marac_web::routes::table(&app.state)
        .iter()
        // The API's nested route is walked on its own below.
        .filter(|r| !r.access.is_api())
        .filter(|r| r.path.matches('{').count() >= 2)
        .map(|r| r.path.to_owned())
        .collect();
    nested.dedup();
    nested
}

#[tokio::test]
async fn a_record_asked_for_under_a_parent_it_does_not_belong_to_is_not_found() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        let tm = app.marac_id;
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("rep@x.org", Role::AgencyRep, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        app.user("cha@x.org", Role::Chair, false).await;
        let kim = app.signed_in("kim@x.org").await;
        let cora = app.signed_in("cora@x.org").await;
        support::confirm_statement(&app, &cora, app.marac_id).await;
        let mut cases = Vec::new();
        for (given, family) in [("Jordan", "Ashby"), ("Sam", "Reed")] {
            let referral = refer(&kim, &referral_fields(tm, given, family, "14/2/1992", 15)).await;
            cora.get(&format!("/referrals/{referral}")).await;
            cora.post(&format!("/referrals/{referral}/decision"), &[("decision", "accept")]).await;
            let case_id = s.get_referral(referral).await.unwrap().case_id.unwrap();
            let meeting = list_on_published_meeting(&app, case_id, referral, &[app.agency_id]).await;
            cases.push((referral, case_id, meeting));
        }
        let [(ref_a, a, m1), (ref_b, b, m2)] = [cases[0], cases[1]];
        s.add_statement(
            tm,
            "Confidential.",
            None,
            marac_store::Ts::new(app.state.clock.now()),
            marac_app::audit::system_event(&app.state, "t", ""),
        )
        .await
        .unwrap();
        // A new version: confirmed again before any case is seen.
        support::confirm_statement(&app, &cora, tm).await;
        let cha = app.signed_in("cha@x.org").await;
        for m in [m1, m2] {
            cha.get(&format!("/meetings/{m}")).await;
            cha.post(&format!("/meetings/{m}/confirm"), &[("agree", "yes")]).await;
        }
        let rep = app.signed_in("rep@x.org").await;
        support::confirm_statement(&app, &rep, app.marac_id).await;
        rep.get(&format!("/cases/{b}")).await;
        rep.post(&format!("/cases/{b}/notes"), &[("kind", "fact"), ("body", "A note on the other case.")]).await;
        let note_b = s.list_research_notes(b, Some(app.agency_id)).await.unwrap()[0].id;
        let agency = app.agency_id.to_string();
        let flag =
            [("flag_agency", agency.as_str()), ("flag_kind", "address_safety_marker"), ("flag_until", "1/1/2028")];
        cha.get(&format!("/meetings/{m2}/cases/{b}")).await;
        assert_eq!(cha.post(&format!("/meetings/{m2}/cases/{b}/flags"), &flag).await.status, StatusCode::SEE_OTHER);
        let flag_b =
            s.list_flags(&marac_store::FlagFilter { case_id: Some(b), ..Default::default() }).await.unwrap()[0].id;

        let action = [
            ("agency", agency.as_str()),
            ("owner", "PC Shah"),
            ("subject", "victim"),
            ("description", "Fit a doorbell camera"),
            ("due", "14/12/2026"),
        ];
        // Each nested route, with a child that belongs to another parent.
        // (route template, address with a mismatched parent, who asks, form fields: none means a GET)
        type Probe<'a, 'b> = (&'static str, String, &'a Browser<'b>, Vec<(&'static str, &'a str)>);
        let mismatched: Vec<Probe<'_, '_>> = vec![
            ("/cases/{id}/notes/{note}/share", format!("/cases/{a}/notes/{note_b}/share"), &rep, vec![]),
            ("/meetings/{id}/cases/{case}", format!("/meetings/{m1}/cases/{b}"), &cha, vec![]),
            ("/meetings/{id}/cases/{case}", format!("/meetings/{m1}/cases/{b}"), &cha, vec![("information", "x")]),
            ("/meetings/{id}/cases/{case}/referral", format!("/meetings/{m1}/cases/{b}/referral"), &cha, vec![]),
            ("/meetings/{id}/cases/{case}/actions", format!("/meetings/{m1}/cases/{b}/actions"), &cha, action.to_vec()),
            ("/meetings/{id}/cases/{case}/flags", format!("/meetings/{m1}/cases/{b}/flags"), &cha, flag.to_vec()),
            (
                "/meetings/{id}/cases/{case}/flags/{flag}/end",
                format!("/meetings/{m1}/cases/{a}/flags/{flag_b}/end"),
                &cha,
                vec![],
            ),
        ];
        for (template, path, b, fields) in &mismatched {
            let r = if fields.is_empty()
                && !template.ends_with("/share")
                && !template.ends_with("/actions")
                && !template.ends_with("/end")
            {
                b.get(path).await
            } else {
                b.get(&format!("/meetings/{m1}")).await;
                b.post(path, fields).await
            };
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{template} as {path}: {}", r.body);
        }
        assert!(!s.list_research_notes(b, Some(app.agency_id)).await.unwrap()[0].shared, "nothing shared");
        assert!(
            s.list_flags(&marac_store::FlagFilter { case_id: Some(b), running_only: true, ..Default::default() })
                .await
                .unwrap()
                .len()
                == 1
        );
        // The API's nested route, likewise.
        let chair_id = s.find_user_by_email("cha@x.org").await.unwrap().unwrap().id;
        support::token_for(&app, chair_id, "marac_pat_cha").await;
        let r = support::api_get(&app, &format!("/api/v1/meetings/{m1}/cases/{b}"), Some("marac_pat_cha")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = support::api_get(&app, &format!("/api/v1/meetings/{m1}/cases/{a}"), Some("marac_pat_cha")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // A match of one referral is not answered through another.
        let r = cora
            .post(
                &format!("/referrals/{ref_a}/matches"),
                &[("answer", "same"), ("subject", "victim"), ("person", &ref_b.to_string())],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // The table's nested routes are all walked here; a new one needs a line above.
        let walked: Vec<&str> = mismatched.iter().map(|m| m.0).collect();
        for route in nested_routes(&app) {
            // The section of a referral, and a person's place in it, are parts of its form, not
            // records of their own.
            if route == "/referrals/{id}/{section}" || route == "/referrals/{id}/{section}/remove/{index}" {
                continue;
            }
            assert!(walked.contains(&route.as_str()), "{route} has no mismatched-parent check");
        }
    });
}

#[tokio::test]
async fn a_meeting_someone_may_not_see_answers_as_one_that_does_not_exist_and_is_audited() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        // A coordinator and a representative of another Marac, not invited.
        let housing = app.agency("HOU", AgencyCategory::Housing, &[app.other_marac_id]).await;
        let olly = app.user_in("olly@x.org", Role::Coordinator, app.other_marac_id, housing, true).await;
        app.user_in("hrep@x.org", Role::AgencyRep, app.other_marac_id, housing, false).await;
        let kim = app.signed_in("kim@x.org").await;
        let referral = refer_ashbys(&kim, app.marac_id).await;
        let cora = app.signed_in("cora@x.org").await;
        cora.get(&format!("/referrals/{referral}")).await;
        cora.post(&format!("/referrals/{referral}/decision"), &[("decision", "accept")]).await;
        let case_id = s.get_referral(referral).await.unwrap().case_id.unwrap();
        let meeting = list_on_published_meeting(&app, case_id, referral, &[app.agency_id]).await;
        let missing = meeting + 1000;

        let pages = |id: i64| {
            vec![
                format!("/meetings/{id}"),
                format!("/meetings/{id}/edit"),
                format!("/meetings/{id}/attendance"),
                format!("/meetings/{id}/minutes"),
                format!("/meetings/{id}/cases/{case_id}"),
            ]
        };
        let posts = |id: i64| {
            vec![
                format!("/meetings/{id}/publish"),
                format!("/meetings/{id}/close"),
                format!("/meetings/{id}/confirm"),
                format!("/meetings/{id}/statement"),
                format!("/meetings/{id}/list"),
            ]
        };
        for email in ["olly@x.org", "hrep@x.org"] {
            let b = app.signed_in(email).await;
            let denied = audited(&app, "access.denied").await;
            for (there, gone) in pages(meeting).iter().zip(pages(missing)) {
                let (a, z) = (b.get(there).await, b.get(&gone).await);
                assert_eq!(a.status, StatusCode::NOT_FOUND, "{email} {there}");
                assert_eq!(z.status, StatusCode::NOT_FOUND, "{email} {gone}");
                assert_eq!(title(&a.body), title(&z.body), "the same page either way");
            }
            b.get("/meetings").await;
            for (there, gone) in posts(meeting).iter().zip(posts(missing)) {
                assert_eq!(b.post(there, &[]).await.status, StatusCode::NOT_FOUND, "{email} {there}");
                assert_eq!(b.post(&gone, &[]).await.status, StatusCode::NOT_FOUND, "{email} {gone}");
            }
            // Every refusal of the meeting that is there is recorded, and so is every refusal of
            // the missing one by a route's gate, which refuses whether the meeting exists or not.
            let user = s.find_user_by_email(email).await.unwrap().unwrap();
            let actor = marac_web::session::actor_of(&user);
            let routes = marac_web::routes::table(&app.state);
            let gated = |method: &str, path: &str| {
                routes.iter().any(|r| {
                    let (t, p): (Vec<&str>, Vec<&str>) = (r.path.split('/').collect(), path.split('/').collect());
                    let same = r.method == method
                        && t.len() == p.len()
                        && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b);
                    let refused = r.access.gate().is_some_and(|gate| gate.admits(&actor).is_err());
                    same && refused
                })
            };
            let gone_refused = pages(missing).iter().filter(|p| gated("GET", p)).count()
                + posts(missing).iter().filter(|p| gated("POST", p)).count();
            assert_eq!(
                audited(&app, "access.denied").await,
                denied + pages(meeting).len() + posts(meeting).len() + gone_refused
            );
        }
        // The API, likewise.
        support::token_for(&app, olly, "marac_pat_olly").await;
        let there =
            support::api_get(&app, &format!("/api/v1/meetings/{meeting}/cases/{case_id}"), Some("marac_pat_olly"))
                .await;
        let gone =
            support::api_get(&app, &format!("/api/v1/meetings/{missing}/cases/{case_id}"), Some("marac_pat_olly"))
                .await;
        assert_eq!((there.status, gone.status), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
        assert_eq!(there.header("content-type"), "application/problem+json");
        let strip = |b: &str| b.replace(&meeting.to_string(), "").replace(&missing.to_string(), "");
        assert_eq!(strip(&there.body), strip(&gone.body), "the same problem either way");
        let last = s.list_audit(&AuditFilter { limit: 1, ..AuditFilter::default() }).await.unwrap();
        assert_eq!(last[0].event.action, "access.denied");
        assert_eq!(last[0].event.target, format!("meeting:{meeting}"));
    });
}

fn title(body: &str) -> &str {
    body.split("<title>").nth(1).and_then(|t| t.split("</title>").next()).unwrap_or("")
}

#[tokio::test]
async fn a_maracs_cases_are_seen_only_under_its_current_statement_confirmed_within_twelve_months() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("rep@x.org", Role::AgencyRep, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        let kim = app.signed_in("kim@x.org").await;
        let referral = refer_ashbys(&kim, app.marac_id).await;
        let cora = app.signed_in("cora@x.org").await;
        cora.get(&format!("/referrals/{referral}")).await;
        cora.post(&format!("/referrals/{referral}/decision"), &[("decision", "accept")]).await;
        let case_id = s.get_referral(referral).await.unwrap().case_id.unwrap();
        let meeting = list_on_published_meeting(&app, case_id, referral, &[app.agency_id]).await;
        // The coordinator sets the statement (version 1) on the meeting's page.
        cora.get(&format!("/meetings/{meeting}")).await;
        let v1 = "Version one: what is shared about a case stays with those who need it.";
        assert_eq!(
            cora.post(&format!("/meetings/{meeting}/statement"), &[("statement", v1)]).await.status,
            StatusCode::SEE_OTHER
        );
        let case = format!("/cases/{case_id}");
        assert_eq!(cora.get(&case).await.status, StatusCode::OK, "the coordinator who wrote it has read it");

        // An invited representative who confirmed nothing sees no case content anywhere.
        let rep = app.signed_in("rep@x.org").await;
        let r = rep.get(&case).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let confirm_page = format!("/confidentiality/{}?next=%2Fcases%2F{case_id}", app.marac_id);
        assert_eq!(r.location(), confirm_page);
        let research = rep.get("/research").await.body;
        assert!(!research.contains("Jordan") && research.contains("confirm"), "{research}");
        assert_eq!(rep.get(&format!("/meetings/{meeting}/cases/{case_id}")).await.status, StatusCode::FORBIDDEN);
        // The referrer reads their own referral without confirming anything: they wrote it.
        assert_eq!(kim.get(&format!("/referrals/{referral}")).await.status, StatusCode::OK);

        // Confirming on the page goes on to the case; leaving the box empty says so beside it.
        let page = rep.get(&confirm_page).await;
        assert!(page.body.contains(v1) && page.body.contains("Before you see any case of this Marac"));
        let wrong = rep.post(&format!("/confidentiality/{}", app.marac_id), &[("next", &case)]).await;
        assert!(wrong.body.contains("agree-error"), "{}", wrong.body);
        let r = rep.post(&format!("/confidentiality/{}", app.marac_id), &[("agree", "yes"), ("next", &case)]).await;
        assert_eq!(r.location(), case);
        assert!(rep.get(&case).await.body.contains("Jordan"));
        // Somewhere else is never gone on to.
        let r = rep
            .post(&format!("/confidentiality/{}", app.marac_id), &[("agree", "yes"), ("next", "//evil.example/")])
            .await;
        assert_eq!(r.location(), "/");

        // Version 2: asked again, for the Marac and for the meeting.
        rep.get(&format!("/meetings/{meeting}")).await;
        rep.post(&format!("/meetings/{meeting}/confirm"), &[("agree", "yes")]).await;
        assert_eq!(rep.get(&format!("/meetings/{meeting}/cases/{case_id}")).await.status, StatusCode::OK);
        cora.get(&format!("/meetings/{meeting}")).await;
        let v2 = "Version two: what is shared about a case stays with those who need it, and no further.";
        cora.post(&format!("/meetings/{meeting}/statement"), &[("statement", v2)]).await;
        assert_eq!(rep.get(&case).await.status, StatusCode::SEE_OTHER, "a new version is confirmed again");
        assert!(rep.get(&confirm_page).await.body.contains("The statement has changed since you confirmed it"));
        assert_eq!(rep.get(&format!("/meetings/{meeting}/cases/{case_id}")).await.status, StatusCode::FORBIDDEN);
        assert!(rep.get(&format!("/meetings/{meeting}")).await.body.contains(v2), "the meeting asks again");
        rep.post(&format!("/meetings/{meeting}/confirm"), &[("agree", "yes")]).await;
        assert_eq!(rep.get(&case).await.status, StatusCode::OK, "a meeting's confirmation is one of the statement");
        assert_eq!(rep.get(&format!("/meetings/{meeting}/cases/{case_id}")).await.status, StatusCode::OK);

        // The statement page is for those with a role in the Marac that reads cases.
        let housing = app.agency("HOU", AgencyCategory::Housing, &[app.other_marac_id]).await;
        app.user_in("hou@x.org", Role::AgencyRep, app.other_marac_id, housing, false).await;
        let outsider = app.signed_in("hou@x.org").await;
        let page = format!("/confidentiality/{}", app.marac_id);
        assert_eq!(outsider.get(&page).await.status, StatusCode::FORBIDDEN);
        outsider.get("/").await;
        assert_eq!(outsider.post(&page, &[("agree", "yes")]).await.status, StatusCode::FORBIDDEN);

        // A year on, asked again.
        app.clock.advance(time::Duration::days(366));
        let rep = app.signed_in("rep@x.org").await;
        assert_eq!(rep.get(&case).await.status, StatusCode::SEE_OTHER);
        assert!(rep.get(&confirm_page).await.body.contains("more than 12 months ago"));
        rep.post(&format!("/confidentiality/{}", app.marac_id), &[("agree", "yes"), ("next", &case)]).await;
        assert_eq!(rep.get(&case).await.status, StatusCode::OK);
        assert!(audited(&app, "confidentiality.confirm").await >= 5);
    });
}

#[tokio::test]
async fn what_an_unsigned_in_visitor_sends_cannot_grow_the_audit_trail_or_the_metrics() {
    use axum::body::Body;
    use axum::http::{Method, Request};
    each_backend!(|app| {
        let b = app.browser();
        b.get("/sign-in").await;
        let events =
            app.db.store.list_audit(&AuditFilter { limit: 1000, ..AuditFilter::default() }).await.unwrap().len();
        // A 200,000-character address is refused beside the field before anything is looked up
        // or recorded.
        let long = format!("{}@x.org", "a".repeat(200_000));
        let r = b.post("/sign-in", &[("email", long.as_str()), ("password", "whatever")]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Enter an email address of 254 characters or fewer"), "{}", &r.body[..2000]);
        assert!(r.body.len() < 50_000, "what was typed is not echoed whole: {} bytes", r.body.len());
        let after = app.db.store.list_audit(&AuditFilter { limit: 1000, ..AuditFilter::default() }).await.unwrap();
        assert_eq!(after.len(), events, "nothing recorded");
        // An address of 254 characters is an ordinary failure, recorded.
        let longest = format!("{}@x.org", "a".repeat(248));
        b.post("/sign-in", &[("email", longest.as_str()), ("password", "whatever")]).await;
        assert_eq!(audited(&app, "sign_in.failure").await, 1);

        // Made-up methods share one label.
        for i in 0..50 {
            let req = Request::builder().method(Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap());
            b.send(req.uri("/sign-in").body(Body::empty()).unwrap()).await;
        }
        let metrics = b.get("/metrics").await.body;
        assert!(!metrics.contains("PROBE"), "no label per method");
        assert!(metrics.contains("method=\"other\""), "{metrics}");
    });
}

/// Every route of the table (the admin routes under `/admin`), with whether it answers GET.
/// Every address the pages answer, and whether it answers `GET`.
fn route_table(app: &TestApp) -> Vec<(String, bool)> {
    let mut all: Vec<(String, bool)> = Vec::new();
    for route in marac_web::routes::table(&app.state) {
        if route.access.is_api() {
            continue;
        }
        match all.iter_mut().find(|(p, _)| p == route.path) {
            Some(entry) => entry.1 |= route.method == "GET",
            None => all.push((route.path.to_owned(), route.method == "GET")),
        }
    }
    all
}

#[tokio::test]
async fn a_form_address_opened_again_leads_back_to_its_page_and_nothing_is_plain_text() {
    each_backend!(|app| {
        app.user("cora@x.org", Role::Coordinator, true).await;
        app.user("ada@x.org", Role::Admin, true).await;
        let table = route_table(&app);
        let pages: Vec<&String> = table.iter().filter(|(_, get)| *get).map(|(p, _)| p).collect();
        let matches = |template: &str, path: &str| {
            let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
            t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
        };
        let post_only: Vec<&String> = table.iter().filter(|(_, get)| !*get).map(|(p, _)| p).collect();
        assert!(post_only.len() > 20, "{post_only:?}");
        let (cora_b, ada_b) = (app.signed_in("cora@x.org").await, app.signed_in("ada@x.org").await);
        for b in [&cora_b, &ada_b] {
            for template in &post_only {
                let mut n = 0;
                let path: String = template
                    .split('/')
                    .map(|s| {
                        n += 1;
                        if s.starts_with('{') { (n * 7).to_string() } else { s.to_owned() }
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                let r = b.get(&path).await;
                assert_eq!(r.status, StatusCode::SEE_OTHER, "GET {path}: {}", r.body);
                let page = r.location().to_owned();
                assert_eq!(page, marac_web::routes::page_of(&path));
                assert!(pages.iter().any(|t| matches(t, &page)), "{path} leads to {page}, which is no page");
            }
        }

        // A path that cannot be read is the styled 404 page; on the API, a problem.
        let b = cora_b;
        for path in ["/cases/abc", "/meetings/1/cases/x", "/referrals/99999999999999999999", "/inbox/-"] {
            let r = b.get(path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
            assert!(r.header("content-type").starts_with("text/html"), "{path}: {}", r.header("content-type"));
            assert!(r.body.contains("Page not found") && !r.body.contains("Cannot parse"), "{path}: {}", r.body);
        }
        let token = b.csrf.lock().unwrap().clone();
        let r = b
            .send(
                axum::http::Request::builder()
                    .method(axum::http::Method::PUT)
                    .uri("/cases/1")
                    .header("x-csrf-token", token)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(r.header("content-type").starts_with("text/html") && r.body.contains("cannot be used like that"));
        let cora = app.db.store.find_user_by_email("cora@x.org").await.unwrap().unwrap().id;
        support::token_for(&app, cora, "marac_pat_cora").await;
        let r = support::api_get(&app, "/api/v1/meetings/abc/cases/1", Some("marac_pat_cora")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.header("content-type"), "application/problem+json", "{}", r.body);
    });
}

#[tokio::test]
async fn control_characters_invisible_formatting_and_overlong_text_are_refused_everywhere() {
    use axum::body::Body;
    use axum::http::{Method, Request, header};
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        let kim_id = app.user("kim@x.org", Role::Referrer, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        app.user("ada@x.org", Role::Admin, true).await;

        // The referral form: the message beside the field, what was typed kept.
        let kim = app.signed_in("kim@x.org").await;
        kim.get("/referrals").await;
        let id: i64 =
            kim.post("/referrals/new", &[]).await.location().trim_start_matches("/referrals/").parse().unwrap();
        kim.get(&format!("/referrals/{id}/victim")).await;
        for (given, message) in [
            ("Ann\u{202E}gpj.exe", "invisible formatting characters"),
            ("Ann\u{1b}[31m", "control characters"),
            ("Ann\u{200B}", "invisible formatting characters"),
        ] {
            let r = kim.post(&format!("/referrals/{id}/victim"), &[("victim.given_name", given)]).await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(r.body.contains(message) && r.body.contains("href=\"#victim-given_name\""), "{given:?}");
        }
        let long = "a".repeat(201);
        let r = kim.post(&format!("/referrals/{id}/victim"), &[("victim.given_name", long.as_str())]).await;
        assert!(r.body.contains("Must be 200 characters or fewer") && r.body.contains(&long));

        // The API: a pointer to the field.
        support::token_for(&app, kim_id, "marac_pat_kim").await;
        let mut bad = support::referral_json(app.marac_id, "Ann\u{0}", "Bell", "3/4/1990", 15, "2026-11-20");
        bad["summary"]["text"] = "x".repeat(20_001).into();
        let (status, p) = support::api_post(&app, "marac_pat_kim", &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        let pointers: Vec<&str> =
            p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        assert!(pointers.contains(&"/victim/given_name") && pointers.contains(&"/summary/text"), "{pointers:?}");

        // Names typed by administrators.
        let ada = app.signed_in("ada@x.org").await;
        ada.get("/admin/partnerships/new").await;
        let r = ada.post("/admin/partnerships/new", &[("code", "BIDI"), ("name", "North\u{202E}shire")]).await;
        assert!(r.body.contains("invisible formatting characters"), "{}", r.body);

        // An uploaded history: a cell of 5,000,000 characters is one problem, nothing imported.
        let filter =
            marac_store::ReferralFilter { marac_ids: Some(vec![app.marac_id]), limit: 10, ..Default::default() };
        let before = s.list_referrals(&filter).await.unwrap().len();
        let cora = app.signed_in("cora@x.org").await;
        cora.get("/returns/import").await;
        let header_line = "source_reference,marac,referral_date,referring_agency,victim_given_name,victim_family_name,\
                           perpetrator_given_name,perpetrator_family_name,heard_at";
        let file = format!("{header_line}\nH1,TM,3/7/2024,POL,{},Vine,Ray,Vine,\n", "A".repeat(5_000_000));
        let token = cora.csrf.lock().unwrap().clone();
        let boundary = "XyZmaracBoundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"history.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
        );
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/returns/import?_csrf={token}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        let r = cora.send(req).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Must be 200 characters or fewer"), "{}", &r.body[..3000.min(r.body.len())]);
        assert!(r.body.len() < 100_000, "the cell is not echoed: {} bytes", r.body.len());
        assert_eq!(s.list_referrals(&filter).await.unwrap().len(), before, "nothing imported");
    });
}

#[tokio::test]
async fn removing_a_person_from_a_referral_is_the_referrers_alone_and_asks_first() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("lee@x.org", Role::Referrer, false).await;
        let kim = app.signed_in("kim@x.org").await;
        kim.get("/referrals").await;
        let id: i64 =
            kim.post("/referrals/new", &[]).await.location().trim_start_matches("/referrals/").parse().unwrap();
        let page = format!("/referrals/{id}/people-causing-harm");
        kim.get(&page).await;
        let three = [
            ("perpetrators.0.given_name", "Ann"),
            ("perpetrators.1.given_name", "Bea"),
            ("perpetrators.2.given_name", "Cal"),
        ];
        // "Remove" on someone with details leads to the question, and removes nothing yet.
        let r = kim.post(&page, &[three.as_slice(), &[("_action", "remove-1")]].concat()).await;
        assert_eq!(r.location(), format!("{page}/remove/1"));
        let ask = kim.get(&format!("{page}/remove/1")).await;
        assert!(ask.body.contains("Remove person causing harm 2?") && ask.body.contains("Bea"), "{}", ask.body);
        assert!(!ask.body.contains("<title>Remove person causing harm 2: Bea"), "the title names no one");

        // Another referrer can neither see the question nor answer it; the draft is untouched.
        let lee = app.signed_in("lee@x.org").await;
        lee.get("/referrals").await;
        assert_eq!(lee.get(&format!("{page}/remove/1")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(lee.post(&format!("{page}/remove/1"), &[]).await.status, StatusCode::FORBIDDEN);
        assert_eq!(audited(&app, "access.denied").await, 2);
        assert!(kim.get(&page).await.body.contains("value=\"Bea\""));

        // A person who is not on the form is not found.
        assert_eq!(kim.get(&format!("{page}/remove/3")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(kim.post(&format!("/referrals/{id}/victim/remove/0"), &[]).await.status, StatusCode::NOT_FOUND);

        // Yes: the later people move up and there are two.
        let r = kim.post(&format!("{page}/remove/1"), &[]).await;
        assert_eq!(r.location(), format!("{page}?removed=1"));
        let after = kim.get(r.location()).await;
        assert!(after.body.contains("Person causing harm 2 removed"));
        assert!(
            after.body.contains("value=\"Ann\"") && after.body.contains("value=\"Cal\"") && !after.body.contains("Bea")
        );
        assert!(
            after.body.contains("Person causing harm 2</legend>")
                && !after.body.contains("Person causing harm 3</legend>")
        );
    });
}
