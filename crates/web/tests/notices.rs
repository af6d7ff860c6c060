//! Notifications end to end, on SQLite and PostgreSQL: pages cause notices, the worker adds
//! reminders and escalations and sends e-mail to a real SMTP server (aiosmtpd) on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use marac_app::mailer::Mailer;
use marac_app::worker::{Round, Worker};
use marac_domain::Role;
use marac_domain::policy::Grant;
use std::collections::BTreeSet;
use support::smtp_sink::{Mail, SmtpSink};
use support::{TestApp, refer, referral_fields};
use time::Duration;

async fn add_agency(app: &TestApp, code: &str, category: marac_domain::AgencyCategory, marac: i64) -> i64 {
    let p = app.db.store.list_partnerships().await.unwrap()[0].id;
    let input = marac_store::AgencyInput {
        partnership_id: p,
        code: code.into(),
        name: format!("{code} agency"),
        category,
        marac_ids: vec![marac],
    };
    app.db.store.create_agency(&input, marac_app::audit::system_event(&app.state, "test.seed", "")).await.unwrap()
}

async fn add_user(app: &TestApp, email: &str, name: &str, agency: i64, role: Role) -> i64 {
    let user = marac_store::NewUser {
        email: email.into(),
        name: name.into(),
        agency_id: Some(agency),
        password_hash: support::password_hash(),
        is_demo: false,
        grants: vec![Grant { role, marac_id: Some(app.marac_id) }],
    };
    app.db.store.create_user(&user, marac_app::audit::system_event(&app.state, "test.seed", "")).await.unwrap()
}

/// Recipients of the messages with this subject.
fn to(mails: &[Mail], kind: marac_domain::notices::NoticeKind) -> BTreeSet<String> {
    mails.iter().filter(|m| m.subject == kind.subject()).flat_map(|m| m.to.clone()).collect()
}

fn set(addresses: &[&str]) -> BTreeSet<String> {
    addresses.iter().map(|a| (*a).to_owned()).collect()
}

#[tokio::test]
async fn the_right_people_are_told_in_the_inbox_and_by_email_and_no_message_holds_case_detail() {
    use marac_domain::notices::NoticeKind as K;
    each_backend!(|app| {
        let Some(smtp) = SmtpSink::start() else { return };
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        app.user("cha@x.org", Role::Chair, false).await;
        let health = add_agency(&app, "HEA", marac_domain::AgencyCategory::SecondaryCare, app.marac_id).await;
        let idva = add_agency(&app, "IDV", marac_domain::AgencyCategory::Idva, app.marac_id).await;
        let housing = add_agency(&app, "HOU", marac_domain::AgencyCategory::Housing, app.other_marac_id).await;
        add_user(&app, "shah@x.org", "Dr Shah", health, Role::AgencyRep).await;
        add_user(&app, "hea2@x.org", "Dr Jones", health, Role::AgencyRep).await;
        add_user(&app, "ida@x.org", "Ida Idva", idva, Role::Idva).await;
        add_user(&app, "hou@x.org", "Hugh Housing", housing, Role::AgencyRep).await;
        let mailer = Mailer::new(&smtp.url(), "Marac <marac@test.example>").unwrap();
        let worker = Worker::new(app.state.app.clone(), Some(mailer), "https://marac.test/");
        let today = app.state.clock.today();
        let dmy = |d: time::Date| format!("{}/{}/{}", d.day(), u8::from(d.month()), d.year());

        // Triage returns one referral with a question and accepts another.
        let kim = app.signed_in("kim@x.org").await;
        let returned = refer(&kim, &referral_fields(app.marac_id, "Ola", "Stone", "3/3/1988", 15)).await;
        let accepted = refer(&kim, &referral_fields(app.marac_id, "Nina", "Vale", "4/4/1990", 15)).await;
        let cora = app.signed_in("cora@x.org").await;
        cora.get(&format!("/referrals/{returned}")).await;
        let r = cora
            .post(
                &format!("/referrals/{returned}/decision"),
                &[("decision", "send_back"), ("send_back_note", "Is Ola Stone still living at the address?")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        cora.post(&format!("/referrals/{accepted}/decision"), &[("decision", "accept")]).await;
        let case_id = s.get_referral(accepted).await.unwrap().case_id.unwrap();

        // The coordinator schedules a meeting, lists the case and publishes.
        cora.get("/meetings").await;
        let marac = app.marac_id.to_string();
        let r = cora
            .post(
                "/meetings",
                &[
                    ("marac", marac.as_str()),
                    ("kind", "one_off"),
                    ("format", "in_person"),
                    ("first", &dmy(today + Duration::days(1))),
                    ("starts_at", "10:00"),
                ],
            )
            .await;
        let meeting = r.location().to_owned();
        cora.get(&meeting).await;
        cora.post(&format!("{meeting}/list"), &[("op", "propose")]).await;
        cora.post(&format!("{meeting}/statement"), &[("statement", "What is said here stays here.")]).await;
        assert_eq!(cora.post(&format!("{meeting}/publish"), &[("confirm", "yes")]).await.status, StatusCode::SEE_OTHER);

        let round = worker.round().await.unwrap();
        assert_eq!(round.failed, 0);
        let mails = smtp.messages();
        assert_eq!(to(&mails, K::ReferralReturned), set(&["kim@x.org"]));
        assert_eq!(
            to(&mails, K::ListPublished),
            set(&["shah@x.org", "hea2@x.org", "ida@x.org"]),
            "invited agencies' representatives and Idvas; not housing, whose agency is not invited"
        );
        // Each names the Marac and the meeting's day, which identify no one.
        let marac_name = s.get_marac(app.marac_id).await.unwrap().name;
        let on = marac_domain::uk_time::date(today + Duration::days(1));
        let published_mail = mails.iter().find(|m| m.subject == K::ListPublished.subject()).unwrap();
        assert!(
            published_mail.body.contains(&format!("This concerns: {marac_name}, meeting on {on}.")),
            "{}",
            published_mail.body
        );
        assert!(!published_mail.body.contains("Marac Marac"), "the name is the Marac's own: {}", published_mail.body);
        let returned_mail = mails.iter().find(|m| m.subject == K::ReferralReturned.subject()).unwrap();
        assert!(returned_mail.body.contains(&format!("This concerns: {marac_name}.")), "{}", returned_mail.body);

        // The chair hears the case and agrees an action for Dr Shah due in two days.
        let cha = app.signed_in("cha@x.org").await;
        cha.get(&meeting).await;
        cha.post(&format!("{meeting}/confirm"), &[("agree", "yes")]).await;
        let case_page = format!("{meeting}/cases/{case_id}");
        cha.get(&case_page).await;
        let r = cha.post(&case_page, &[("information", "Two call-outs."), ("outcome", "heard")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let health_id = health.to_string();
        let due = dmy(today + Duration::days(2));
        let r = cha
            .post(
                &format!("{case_page}/actions"),
                &[
                    ("agency", health_id.as_str()),
                    ("owner", "Dr Shah"),
                    ("subject", "victim"),
                    ("description", "Flag Nina Vale's records at the GP practice"),
                    ("due", due.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let actions = s
            .list_actions(&marac_store::ActionFilter { case_id: Some(case_id), limit: 10, ..Default::default() })
            .await
            .unwrap();
        assert!(
            actions.iter().any(|a| a.action.agency_id == idva && a.action.owner_name == "Ida Idva"),
            "hearing the case gave its Idva the task of telling the victim"
        );

        let round = worker.round().await.unwrap();
        assert!(round.notices >= 2, "{round:?}");
        let mails = smtp.messages();
        assert_eq!(to(&mails, K::TellVictimOutcome), set(&["ida@x.org"]));
        assert_eq!(
            to(&mails, K::ActionDue),
            set(&["shah@x.org", "ida@x.org"]),
            "the named owner, not the whole agency; and the Idva for the task"
        );
        assert!(to(&mails, K::ActionOverdue).is_empty());
        let due_mail = mails.iter().find(|m| m.subject == K::ActionDue.subject()).unwrap();
        let due_on = marac_domain::uk_time::date(today + Duration::days(2));
        assert!(due_mail.body.contains(&format!("{marac_name}, action due on {due_on}")), "{}", due_mail.body);

        // Nothing is sent twice, however often the worker looks.
        let before = smtp.messages().len();
        assert_eq!(worker.round().await.unwrap(), Round::default());
        assert_eq!(smtp.messages().len(), before);

        // Three days on, the coordinator hears of both actions being overdue.
        app.clock.advance(Duration::days(3));
        worker.round().await.unwrap();
        let mails = smtp.messages();
        assert_eq!(to(&mails, K::ActionOverdue), set(&["cora@x.org"]));
        assert_eq!(mails.iter().filter(|m| m.subject == K::ActionOverdue.subject()).count(), 2, "one per action");

        // No message names anyone or anything about the case; each links to the inbox.
        let reference = s.get_referral(accepted).await.unwrap().reference.unwrap();
        for m in &mails {
            assert_eq!(m.from, "marac@test.example");
            for secret in ["Nina", "Vale", "Ola", "Stone", "Robin", "NS1", &reference, "Strangled", "GP practice"] {
                assert!(!m.body.contains(secret) && !m.subject.contains(secret), "{secret} in {m:?}");
            }
            assert!(m.body.contains("https://marac.test/inbox/"), "{}", m.body);
        }

        // The inbox lists the notices; the link opens the page and marks it read; nobody
        // else can open it.
        let shah = app.signed_in("shah@x.org").await;
        let inbox = shah.get("/inbox").await;
        assert!(
            inbox.body.contains("Meeting list published") && inbox.body.contains("Action due soon"),
            "{}",
            inbox.body
        );
        assert!(inbox.body.contains(&format!("{marac_name}, meeting on {on}")), "{}", inbox.body);
        let mine = s.list_notices(s.find_user_by_email("shah@x.org").await.unwrap().unwrap().id, 10).await.unwrap();
        let published = mine.iter().find(|n| n.kind == K::ListPublished).unwrap();
        let hugh = app.signed_in("hou@x.org").await;
        assert_eq!(hugh.get(&format!("/inbox/{}", published.id)).await.status, StatusCode::NOT_FOUND);
        assert!(hugh.get("/inbox").await.body.contains("You have no notices"));
        let r = shah.get(&format!("/inbox/{}", published.id)).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, meeting.as_str()));
        assert!(
            !s.list_notices(published.user_id, 10)
                .await
                .unwrap()
                .iter()
                .any(|n| n.id == published.id && n.read_at.is_none())
        );
    });
}

#[tokio::test]
async fn a_refused_email_is_retried_with_back_off_and_then_given_up() {
    each_backend!(|app| {
        let Some(smtp) = SmtpSink::start() else { return };
        let s = app.db.store.as_ref();
        let u = app.user("bounce@x.org", Role::Referrer, false).await;
        let notice = marac_store::NewNotice {
            user_id: u,
            kind: marac_domain::notices::NoticeKind::ReferralReturned,
            link: "/referrals/1".into(),
            dedupe_key: "referral_returned:1:0".into(),
            about: String::new(),
            email_to: Some("bounce@x.org".into()),
        };
        s.add_notices(&[notice], marac_store::Ts::new(app.state.clock.now())).await.unwrap();
        let worker = Worker::new(
            app.state.app.clone(),
            Some(Mailer::new(&smtp.url(), "marac@test.example").unwrap()),
            "https://m.test",
        );
        let mut attempts = 0;
        for _ in 0..marac_domain::notices::MAX_EMAIL_ATTEMPTS {
            let round = worker.round().await.unwrap();
            attempts += round.failed;
            assert_eq!(worker.round().await.unwrap().failed, 0, "not retried before its time");
            app.clock.advance(Duration::hours(1));
        }
        assert_eq!(attempts, usize::try_from(marac_domain::notices::MAX_EMAIL_ATTEMPTS).unwrap());
        let outbox = s.list_outbox(5).await.unwrap();
        assert!(outbox[0].failed_at.is_some() && outbox[0].sent_at.is_none(), "{outbox:?}");
        assert!(outbox[0].last_error.as_deref().unwrap_or("").contains("550"), "{outbox:?}");
        assert_eq!(worker.round().await.unwrap(), Round::default(), "given up");
        assert!(smtp.messages().is_empty());
    });
}
