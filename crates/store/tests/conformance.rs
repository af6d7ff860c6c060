//! The storage conformance suite: every test runs against SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests stop at the first failure")]

use marac_domain::audit::{ChainProblem, NewAuditEvent};
use marac_domain::policy::Grant;
use marac_domain::{AgencyCategory, MaracRules, MeetingCadence, Role};
use marac_store::testing::{TEST_AUDIT_KEY, TestDb};
use marac_store::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-23 09:00:00.123456 UTC);

fn audit(action: &str) -> NewAuditEvent {
    marac_store::testing::event_at(T0, action)
}

/// Runs `$body` once per available backend with `$db` bound to a fresh [`TestDb`].
macro_rules! each_backend {
    (|$db:ident| $body:block) => {
        for $db in TestDb::each_backend().await {
            let backend = $db.backend;
            eprintln!("-- on {backend:?}");
            $body
            $db.cleanup().await;
        }
    };
}

async fn seed(store: &dyn Store) -> (i64, i64, i64) {
    let p = store
        .create_partnership(
            &PartnershipInput { code: "NDAP".into(), name: "North DA Partnership".into(), is_demo: false },
            audit("partnership.create"),
        )
        .await
        .unwrap();
    let m = store
        .create_marac(
            &MaracInput {
                partnership_id: p,
                code: "NTH".into(),
                name: "North Marac".into(),
                area: "North".into(),
                adult_female_population: 120_000,
                cadence: MeetingCadence::Fortnightly,
                rules: MaracRules::default(),
            },
            audit("marac.create"),
        )
        .await
        .unwrap();
    let a = store
        .create_agency(
            &AgencyInput {
                partnership_id: p,
                code: "POL".into(),
                name: "Police".into(),
                category: AgencyCategory::Police,
                marac_ids: vec![m, m],
            },
            audit("agency.create"),
        )
        .await
        .unwrap();
    (p, m, a)
}

#[tokio::test]
async fn schemas_have_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite().await;
    let Some(pg) = TestDb::postgres().await else { return };
    let a = sqlite.store.schema_columns().await.unwrap();
    let b = pg.store.schema_columns().await.unwrap();
    assert!(a.len() > 40, "expected the whole schema, got {a:?}");
    assert_eq!(a, b, "SQLite and PostgreSQL schemas differ");
    sqlite.cleanup().await;
    pg.cleanup().await;
}

#[tokio::test]
async fn organisations_round_trip() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (p, m, a) = seed(s).await;
        assert_eq!(s.get_partnership(p).await.unwrap().name, "North DA Partnership");
        let marac = s.get_marac(m).await.unwrap();
        assert_eq!(
            (marac.code.as_str(), marac.cadence, marac.rules),
            ("NTH", MeetingCadence::Fortnightly, MaracRules::default())
        );
        assert_eq!(s.find_marac_by_code("NTH").await.unwrap().map(|x| x.id), Some(m));
        let agency = s.get_agency(a).await.unwrap();
        assert_eq!((agency.category, agency.marac_ids.clone()), (AgencyCategory::Police, vec![m]));

        let mut changed = MaracInput {
            partnership_id: p,
            code: "NTH".into(),
            name: "North and Coast Marac".into(),
            area: "North".into(),
            adult_female_population: 130_000,
            cadence: MeetingCadence::Weekly,
            rules: MaracRules {
                high_risk_threshold: 15,
                list_cutoff_days: 3,
                flag_months: 18,
                ..MaracRules::default()
            },
        };
        s.update_marac(m, &changed, audit("marac.update")).await.unwrap();
        let marac = s.get_marac(m).await.unwrap();
        assert_eq!((marac.name.as_str(), marac.rules.high_risk_threshold), ("North and Coast Marac", 15));
        assert_eq!((marac.rules.list_cutoff_days, marac.rules.flag_months), (3, 18));
        changed.code = "OTHER".into();
        assert!(matches!(s.update_marac(999, &changed, audit("marac.update")).await, Err(StoreError::NotFound)));

        let dup = s
            .create_agency(
                &AgencyInput {
                    partnership_id: p,
                    code: "POL".into(),
                    name: "Again".into(),
                    category: AgencyCategory::Other,
                    marac_ids: vec![],
                },
                audit("agency.create"),
            )
            .await;
        match dup {
            Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, "agencies.code"),
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(s.list_agencies().await.unwrap().len(), 1);
        assert!(matches!(s.get_agency(999).await, Err(StoreError::NotFound)));
        assert!(!s.list_maracs().await.unwrap().is_empty());
        assert!(s.has_real_partnerships().await.unwrap());
    });
}

#[tokio::test]
async fn users_roles_and_disabling() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (_, m, a) = seed(s).await;
        let id = s
            .create_user(
                &NewUser {
                    email: "kim@police.example".into(),
                    name: "Kim Lee".into(),
                    agency_id: Some(a),
                    password_hash: "$argon2id$x".into(),
                    is_demo: false,
                    grants: vec![
                        Grant { role: Role::AgencyRep, marac_id: Some(m) },
                        Grant { role: Role::AgencyRep, marac_id: Some(m) },
                        Grant { role: Role::Auditor, marac_id: None },
                    ],
                },
                audit("user.create"),
            )
            .await
            .unwrap();
        let u = s.find_user_by_email("kim@police.example").await.unwrap().unwrap();
        assert_eq!(u.id, id);
        assert_eq!(u.grants.len(), 2, "duplicate grants are stored once");
        assert!(u.has_role(Role::Auditor));
        assert!(s.find_user_by_email("nobody@x.org").await.unwrap().is_none());

        s.update_user(
            id,
            &UserChanges {
                name: "Kim Lee-Park".into(),
                agency_id: Some(a),
                grants: vec![Grant { role: Role::Chair, marac_id: Some(m) }],
            },
            audit("user.update"),
        )
        .await
        .unwrap();
        let u = s.get_user(id).await.unwrap();
        assert_eq!(
            (u.name.as_str(), u.grants.clone()),
            ("Kim Lee-Park", vec![Grant { role: Role::Chair, marac_id: Some(m) }])
        );

        let session = Session {
            id: "a".repeat(64),
            user_id: id,
            stage: SessionStage::Full,
            created_at: Ts::new(T0),
            last_seen_at: Ts::new(T0),
            ip: "127.0.0.1".into(),
            user_agent: "test".into(),
        };
        s.create_session(&session).await.unwrap();
        s.set_user_disabled(id, true, audit("user.disable")).await.unwrap();
        assert!(s.get_user(id).await.unwrap().disabled);
        assert!(s.get_session(&session.id).await.unwrap().is_none(), "disabling ends sessions");
        let dup = s
            .create_user(
                &NewUser {
                    email: "kim@police.example".into(),
                    name: "x".into(),
                    agency_id: None,
                    password_hash: "h".into(),
                    is_demo: false,
                    grants: vec![],
                },
                audit("user.create"),
            )
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict { ref constraint }) if constraint == "users.email"), "{dup:?}");
    });
}

#[tokio::test]
async fn users_holding_a_role_are_found_by_marac_without_reading_everyone() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (p, m, a) = seed(s).await;
        let other = s
            .create_marac(
                &MaracInput {
                    partnership_id: p,
                    code: "OTH".into(),
                    name: "Other Marac".into(),
                    area: "Other".into(),
                    adult_female_population: 1,
                    cadence: MeetingCadence::Monthly,
                    rules: MaracRules::default(),
                },
                audit("marac.create"),
            )
            .await
            .unwrap();
        let with = |email: &str, grants: Vec<Grant>| NewUser {
            email: email.into(),
            name: email.into(),
            agency_id: Some(a),
            password_hash: "h".into(),
            is_demo: false,
            grants,
        };
        let rep = s
            .create_user(&with("rep@x.org", vec![Grant { role: Role::AgencyRep, marac_id: Some(m) }]), audit("u"))
            .await
            .unwrap();
        let everywhere = s
            .create_user(&with("all@x.org", vec![Grant { role: Role::Idva, marac_id: None }]), audit("u"))
            .await
            .unwrap();
        let elsewhere = s
            .create_user(&with("oth@x.org", vec![Grant { role: Role::AgencyRep, marac_id: Some(other) }]), audit("u"))
            .await
            .unwrap();
        s.create_user(&with("chair@x.org", vec![Grant { role: Role::Chair, marac_id: Some(m) }]), audit("u"))
            .await
            .unwrap();
        let ids = |users: Vec<User>| {
            let mut ids: Vec<i64> = users.iter().map(|u| u.id).collect();
            ids.sort_unstable();
            ids
        };
        let readers = s.users_holding(&[Role::AgencyRep, Role::Idva], &[m]).await.unwrap();
        assert_eq!(ids(readers.clone()), [rep, everywhere], "the Marac's and the installation-wide, not another's");
        assert!(readers.iter().all(|u| !u.grants.is_empty()), "users come with their grants");
        assert_eq!(ids(s.users_holding(&[Role::AgencyRep], &[m, other]).await.unwrap()), [rep, elsewhere]);
        assert!(s.users_holding(&[], &[m]).await.unwrap().is_empty());
        assert!(s.users_holding(&[Role::Idva], &[]).await.unwrap().is_empty());
    });
}

async fn user(s: &dyn Store, email: &str) -> i64 {
    s.create_user(
        &NewUser {
            email: email.into(),
            name: "Test".into(),
            agency_id: None,
            password_hash: "h".into(),
            is_demo: false,
            grants: vec![],
        },
        audit("user.create"),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn sessions_rotate_touch_and_end() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let uid = user(s, "a@x.org").await;
        let first = Session {
            id: "1".repeat(64),
            user_id: uid,
            stage: SessionStage::SecondFactor,
            created_at: Ts::new(T0),
            last_seen_at: Ts::new(T0),
            ip: "10.0.0.1".into(),
            user_agent: "Firefox".into(),
        };
        s.create_session(&first).await.unwrap();
        assert_eq!(s.get_session(&first.id).await.unwrap(), Some(first.clone()));
        let second = Session { id: "2".repeat(64), stage: SessionStage::Full, ..first.clone() };
        s.replace_session(&first.id, &second, Some(audit("sign_in.success"))).await.unwrap();
        assert!(s.get_session(&first.id).await.unwrap().is_none());
        let later = Ts::new(T0 + Duration::minutes(3));
        s.touch_session(&second.id, later).await.unwrap();
        assert_eq!(s.get_session(&second.id).await.unwrap().map(|x| x.last_seen_at), Some(later));
        assert_eq!(s.list_user_sessions(uid).await.unwrap().len(), 1);
        s.delete_session(&second.id, Some(audit("sign_out"))).await.unwrap();
        assert!(s.list_user_sessions(uid).await.unwrap().is_empty());
    });
}

#[tokio::test]
async fn totp_steps_and_recovery_codes_work_once() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let uid = user(s, "b@x.org").await;
        s.set_second_factor(uid, "sealed-secret", 100, &["h1".into(), "h2".into()], audit("second_factor.enrol"))
            .await
            .unwrap();
        assert_eq!(s.get_user(uid).await.unwrap().totp_secret.as_deref(), Some("sealed-secret"));
        assert!(!s.use_totp_step(uid, 100).await.unwrap(), "the enrolment step is spent");
        assert!(s.use_totp_step(uid, 101).await.unwrap());
        assert!(!s.use_totp_step(uid, 101).await.unwrap(), "a step works once");
        assert!(!s.use_totp_step(uid, 99).await.unwrap(), "earlier steps are refused");
        assert_eq!(s.unused_recovery_codes(uid).await.unwrap(), 2);
        assert!(s.use_recovery_code(uid, "h1", Ts::new(T0)).await.unwrap());
        assert!(!s.use_recovery_code(uid, "h1", Ts::new(T0)).await.unwrap());
        assert!(!s.use_recovery_code(uid, "nope", Ts::new(T0)).await.unwrap());
        assert_eq!(s.unused_recovery_codes(uid).await.unwrap(), 1);
    });
}

#[tokio::test]
async fn sign_in_failures_are_counted_in_a_window() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        for i in 0..3 {
            let at = Ts::new(T0 + Duration::seconds(i));
            s.record_sign_in_failure("kim@x.org", "10.0.0.1", at, audit("sign_in.failure")).await.unwrap();
        }
        s.record_sign_in_failure("other@x.org", "10.0.0.1", Ts::new(T0), audit("sign_in.failure")).await.unwrap();
        let since = Ts::new(T0 - Duration::minutes(5));
        assert_eq!(s.count_sign_in_failures("kim@x.org", "10.0.0.1", since).await.unwrap(), (3, 4));
        let after = Ts::new(T0 + Duration::seconds(1));
        assert_eq!(s.count_sign_in_failures("kim@x.org", "10.0.0.9", after).await.unwrap(), (2, 0));
        s.clear_sign_in_failures("kim@x.org").await.unwrap();
        assert_eq!(s.count_sign_in_failures("kim@x.org", "10.0.0.1", since).await.unwrap(), (0, 1));
    });
}

#[tokio::test]
async fn audit_events_chain_filter_and_verify() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        seed(s).await;
        let mut failure = audit("sign_in.failure");
        failure.outcome = "failure".into();
        failure.actor_label = "Kim@X.org".into();
        s.append_audit(failure).await.unwrap();
        let (head, _) = s.audit_head().await.unwrap();
        assert_eq!(head, 4);
        assert_eq!(verify_audit_chain(s, TEST_AUDIT_KEY).await.unwrap(), 4);
        assert!(matches!(
            verify_audit_chain(s, b"wrong key").await,
            Err(VerifyError::Tampered(ChainProblem::Altered { seq: 1 }))
        ));

        let all = s.list_audit(&AuditFilter { limit: 50, ..AuditFilter::default() }).await.unwrap();
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 3, 2, 1]);
        assert_eq!(all[0].event.at, T0, "times keep their microseconds on both backends");
        let only = |f: AuditFilter| async move { s.list_audit(&AuditFilter { limit: 50, ..f }).await.unwrap().len() };
        assert_eq!(only(AuditFilter { action_prefix: Some("sign_in".into()), ..AuditFilter::default() }).await, 1);
        assert_eq!(
            only(AuditFilter { action_prefix: Some("%".into()), ..AuditFilter::default() }).await,
            0,
            "wildcards are literal"
        );
        assert_eq!(only(AuditFilter { actor_contains: Some("kim@".into()), ..AuditFilter::default() }).await, 1);
        assert_eq!(only(AuditFilter { outcome: Some("success".into()), ..AuditFilter::default() }).await, 3);
        assert_eq!(only(AuditFilter { before_seq: Some(3), ..AuditFilter::default() }).await, 2);
        assert_eq!(
            only(AuditFilter { from: Some(Ts::new(T0 + Duration::seconds(1))), ..AuditFilter::default() }).await,
            0
        );
        assert_eq!(
            only(AuditFilter { to: Some(Ts::new(T0 + Duration::seconds(1))), ..AuditFilter::default() }).await,
            4
        );
        assert_eq!(s.audit_events_after(2, 10).await.unwrap().len(), 2);
    });
}

#[tokio::test]
async fn concurrent_appends_keep_one_chain() {
    each_backend!(|db| {
        let mut tasks = Vec::new();
        for w in 0..4 {
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    store.append_audit(audit(&format!("test.writer{w}.{i}"))).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(verify_audit_chain(db.store.as_ref(), TEST_AUDIT_KEY).await.unwrap(), 100);
    });
}

#[tokio::test]
async fn checklist_versions_are_loaded_once_and_never_change() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        assert_eq!(install_shipped_checklists(s, T0).await.unwrap(), 3);
        assert_eq!(install_shipped_checklists(s, T0).await.unwrap(), 0, "loading again adds nothing");
        let all = s.list_checklists().await.unwrap();
        let summary: Vec<(&str, i64, &str)> =
            all.iter().map(|c| (c.checklist_id.as_str(), c.question_count, c.source.as_str())).collect();
        assert_eq!(
            summary,
            vec![
                ("police-dash-2009", 27, "shipped"),
                ("safelives-dash", 24, "shipped"),
                ("stalking-screening", 11, "shipped")
            ]
        );
        let dash = s.get_checklist("safelives-dash", "2026.1").await.unwrap().unwrap();
        assert!(dash.definition.contains("id = \"strangulation\""));
        assert!(s.get_checklist("safelives-dash", "1999.1").await.unwrap().is_none());
        // The same id and version with other content is refused: old assessments keep their meaning.
        let mut changed = dash.clone();
        changed.definition.push_str("\n# changed\n");
        assert!(matches!(
            s.install_checklist(&changed, audit("checklist.import")).await,
            Err(StoreError::Conflict { .. })
        ));
        // A new version sits beside the old one.
        changed.version = "2027.1".into();
        changed.source = "imported".into();
        assert!(s.install_checklist(&changed, audit("checklist.import")).await.unwrap());
        assert_eq!(s.list_checklists().await.unwrap().len(), 4);
        assert_eq!(s.get_checklist("safelives-dash", "2026.1").await.unwrap(), Some(dash));
    });
}

#[tokio::test]
async fn api_tokens_are_found_by_hash_and_revoked_by_their_owner() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let kim = user(s, "kim@x.org").await;
        let lee = user(s, "lee@x.org").await;
        let id = s.create_api_token(kim, "case system", &"a".repeat(64), audit("api_token.create")).await.unwrap();
        let t = s.find_api_token(&"a".repeat(64)).await.unwrap().unwrap();
        assert_eq!((t.id, t.user_id, t.name.as_str(), t.revoked_at), (id, kim, "case system", None));
        assert!(s.find_api_token(&"b".repeat(64)).await.unwrap().is_none());
        assert!(matches!(
            s.revoke_api_token(id, lee, Ts::new(T0), audit("api_token.revoke")).await,
            Err(StoreError::NotFound)
        ));
        s.revoke_api_token(id, kim, Ts::new(T0), audit("api_token.revoke")).await.unwrap();
        assert_eq!(s.find_api_token(&"a".repeat(64)).await.unwrap().unwrap().revoked_at, Some(Ts::new(T0)));
        assert!(matches!(
            s.revoke_api_token(id, kim, Ts::new(T0), audit("api_token.revoke")).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(s.list_api_tokens(kim).await.unwrap().len(), 1);
        let dup = s.create_api_token(lee, "x", &"a".repeat(64), audit("api_token.create")).await;
        assert!(matches!(dup, Err(StoreError::Conflict { .. })));
    });
}

/// A day written as people read it in a test, `YYYY-MM-DD`.
fn day(text: &str) -> time::Date {
    time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
}

fn submission(p: i64, m: i64, a: i64, u: i64, victim: PersonRef, perps: Vec<PersonRef>, date: &str) -> Submission {
    Submission {
        referral_id: None,
        referrer_user_id: u,
        referring_agency_id: a,
        marac_id: m,
        marac_code: "NTH".into(),
        partnership_id: p,
        joint_agency_id: None,
        form_sealed: "sealed-form".into(),
        victim,
        perpetrators: perps,
        matches: Vec::new(),
        checklist_id: "safelives-dash".into(),
        checklist_version: "2026.1".into(),
        score: 15,
        criteria: vec![marac_domain::referral_rules::Criterion::VisibleHighRisk],
        is_repeat: false,
        age_flags: Vec::new(),
        victim_age_group: "25-34".into(),
        children_count: 2,
        referral_date: day(date),
        incident_date: day(date),
        profile: marac_domain::referral_form::Profile::default(),
    }
}

fn new_person(name: &str, keys: &[&str]) -> PersonRef {
    PersonRef::New { details_sealed: format!("sealed:{name}"), keys: keys.iter().map(|k| (*k).to_owned()).collect() }
}

#[tokio::test]
async fn days_are_stored_as_days_and_read_back_strictly() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (p, m, a) = seed(s).await;
        let u = user(s, "days@example.org").await;
        let mut sub = submission(p, m, a, u, new_person("Ada", &["k1"]), vec![], "2025-12-31");
        sub.incident_date = day("2025-12-30");
        let done = s.submit_referral(&sub, Ts::new(T0), audit("referral.submit"), &tell_no_one).await.unwrap();
        let r = s.get_referral(done.referral_id).await.unwrap();
        assert_eq!((r.referral_date, r.incident_date), (Some(day("2025-12-31")), Some(day("2025-12-30"))));
        assert!(r.reference.as_deref().is_some_and(|x| x.contains("-2025-")), "the reference's year is the day's");
        match (&db.sqlite, &db.postgres) {
            // SQLite keeps the day as text: anything else found there is damage, not a day.
            (Some(sqlite), _) => {
                sqlx::query("UPDATE referrals SET referral_date = '31/12/2025' WHERE id = $1")
                    .bind(done.referral_id)
                    .execute(sqlite.pool())
                    .await
                    .unwrap();
                assert!(s.get_referral(done.referral_id).await.is_err(), "a stored value that is not a day");
            }
            // PostgreSQL's columns are days: it refuses anything else itself.
            (None, Some(pg)) => {
                let types: Vec<(String, String)> = sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND column_name IN ('referral_date', 'incident_date', \
                     'held_on', 'closing_on', 'list_cutoff_on', 'due_on', 'set_on', 'expires_on', 'opened_on', \
                     'closed_on') ORDER BY 1",
                )
                .fetch_all(pg.pool())
                .await
                .unwrap();
                assert_eq!(types.len(), 10, "{types:?}");
                assert!(types.iter().all(|(_, t)| t == "date"), "{types:?}");
                let bad = sqlx::query("UPDATE referrals SET referral_date = '31/12/2025x' WHERE id = $1")
                    .bind(done.referral_id)
                    .execute(pg.pool())
                    .await;
                assert!(bad.is_err());
            }
            (None, None) => unreachable!("a test database is one or the other"),
        }
    });
}

#[tokio::test]
async fn referrals_become_cases_with_references_triage_and_research() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (p, m, a) = seed(s).await;
        let u = s
            .create_user(
                &NewUser {
                    email: "ref@example.org".into(),
                    name: "Referrer".into(),
                    agency_id: Some(a),
                    password_hash: "x".into(),
                    is_demo: false,
                    grants: vec![Grant { role: Role::Referrer, marac_id: Some(m) }],
                },
                audit("user.create"),
            )
            .await
            .unwrap();

        // A draft is saved and listed for its referrer only.
        let draft = s
            .create_draft(
                &NewDraft { marac_id: m, referrer_user_id: u, referring_agency_id: a, form_sealed: "v1".into() },
                audit("referral.draft.create"),
            )
            .await
            .unwrap();
        s.save_draft(draft, m, "v2", Ts::new(T0), audit("referral.draft.save")).await.unwrap();
        let mine = s
            .list_referrals(&ReferralFilter { referrer_user_id: Some(u), limit: 10, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].status, mine[0].form_sealed.as_str()), (ReferralStatus::Draft, "v2"));
        let others = s
            .list_referrals(&ReferralFilter { referrer_user_id: Some(u + 1), limit: 10, ..Default::default() })
            .await
            .unwrap();
        assert!(others.is_empty());

        // Submitting files the people, opens a case and numbers the referral.
        let mut first = submission(
            p,
            m,
            a,
            u,
            new_person("victim", &["k:v1", "k:v2"]),
            vec![new_person("perp", &["k:p1"])],
            "2026-01-10",
        );
        first.referral_id = Some(draft);
        let done = s.submit_referral(&first, Ts::new(T0), audit("referral.submit"), &tell_no_one).await.unwrap();
        assert_eq!(done.reference, "NTH-2026-00001");
        let case_id = done.case_id.unwrap();
        assert!(
            s.save_draft(draft, m, "v3", Ts::new(T0), audit("referral.draft.save")).await.is_err(),
            "submitted referrals are not drafts"
        );
        let case = s.get_case(case_id).await.unwrap();
        assert_eq!(case.perpetrator_ids.len(), 1);

        // People are found by their keys, only within their partnership.
        let found = s.find_people(p, &["k:v2".into(), "k:none".into()], 10).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].details_sealed, "sealed:victim");
        assert!(s.find_people(p + 100, &["k:v2".into()], 10).await.unwrap().is_empty());
        // A case's people are read together, by id; an id with no person is left out.
        let mut ids = case.perpetrator_ids.clone();
        ids.extend([case.victim_person_id, 999_999]);
        let mut people: Vec<(i64, String)> =
            s.get_people(&ids).await.unwrap().into_iter().map(|r| (r.id, r.details_sealed)).collect();
        people.sort_unstable();
        assert_eq!(people.len(), 2);
        assert!(people.iter().any(|(id, sealed)| *id == case.victim_person_id && sealed == "sealed:victim"));
        assert!(s.get_people(&[]).await.unwrap().is_empty());

        // The same victim and perpetrator make a second episode of the same case.
        let victim_id = case.victim_person_id;
        assert_eq!(s.last_referral_date(victim_id, &case.perpetrator_ids).await.unwrap(), Some(day("2026-01-10")));
        let mut second = submission(
            p,
            m,
            a,
            u,
            PersonRef::Existing(victim_id),
            vec![PersonRef::Existing(case.perpetrator_ids[0])],
            "2026-06-01",
        );
        second.is_repeat = true;
        second.matches = vec![CandidateMatch {
            subject: "victim".into(),
            person_id: victim_id,
            score: 90,
            certain: true,
            reasons_sealed: "why".into(),
        }];
        let again = s.submit_referral(&second, Ts::new(T0), audit("referral.submit"), &tell_no_one).await.unwrap();
        assert_eq!(again.case_id, Some(case_id));
        assert_eq!(again.reference, "NTH-2026-00002");
        assert_eq!(s.referral_matches(again.referral_id).await.unwrap().len(), 1);
        assert_eq!(s.last_referral_date(victim_id, &case.perpetrator_ids).await.unwrap(), Some(day("2026-06-01")));
        // A different set of perpetrators is a different case.
        let other = submission(p, m, a, u, PersonRef::Existing(victim_id), vec![], "2026-06-02");
        assert_ne!(
            s.submit_referral(&other, Ts::new(T0), audit("referral.submit"), &tell_no_one).await.unwrap().case_id,
            Some(case_id)
        );

        // Triage: only waiting referrals can be decided.
        assert!(s.case_access(case_id).await.unwrap().attending_agency_ids.is_empty());
        s.decide_referral(again.referral_id, &Decision::Accept, u, Ts::new(T0), audit("referral.accept"))
            .await
            .unwrap();
        assert!(matches!(
            s.decide_referral(
                again.referral_id,
                &Decision::Decline("no".into()),
                u,
                Ts::new(T0),
                audit("referral.decline")
            )
            .await,
            Err(StoreError::NotFound)
        ));
        s.decide_referral(
            done.referral_id,
            &Decision::SendBack("q".into()),
            u,
            Ts::new(T0),
            audit("referral.send_back"),
        )
        .await
        .unwrap();
        let back = s.get_referral(done.referral_id).await.unwrap();
        assert_eq!((back.status, back.decision_note_sealed.as_deref()), (ReferralStatus::Returned, Some("q")));
        let access = s.case_access(case_id).await.unwrap();
        assert_eq!(
            (access.marac_id, access.referring_agency_ids.clone(), access.attending_agency_ids.clone()),
            (m, vec![a], vec![]),
            "only a published meeting list opens a case to the agencies invited"
        );

        // Research notes are private to their agency until shared.
        let note = s
            .add_research_note(
                &NewResearchNote {
                    case_id,
                    agency_id: a,
                    author_user_id: u,
                    kind: NoteKind::Fact,
                    body_sealed: "n".into(),
                    shared: false,
                },
                Ts::new(T0),
                audit("research_note.create"),
            )
            .await
            .unwrap();
        assert_eq!(s.list_research_notes(case_id, Some(a)).await.unwrap().len(), 1);
        assert!(s.list_research_notes(case_id, Some(a + 1)).await.unwrap().is_empty());
        assert!(s.list_research_notes(case_id, None).await.unwrap().is_empty());
        assert!(
            s.share_research_note(case_id, note, a + 1, Ts::new(T0), audit("research_note.share")).await.is_err(),
            "only the agency shares"
        );
        assert!(
            s.share_research_note(case_id + 1, note, a, Ts::new(T0), audit("research_note.share")).await.is_err(),
            "only through its own case"
        );
        s.share_research_note(case_id, note, a, Ts::new(T0), audit("research_note.share")).await.unwrap();
        assert_eq!(s.list_research_notes(case_id, Some(a + 1)).await.unwrap().len(), 1);

        // The directory.
        let entry = DirectoryEntry {
            id: 0,
            marac_id: m,
            agency_id: Some(a),
            kind: DirectoryKind::Representative,
            name: "Sam Rep".into(),
            job_title: "DA lead".into(),
            email: "sam@police.example".into(),
            phone: "01234 567890".into(),
        };
        let e = s.add_directory_entry(&entry, Ts::new(T0), audit("directory.add")).await.unwrap();
        assert_eq!(s.list_directory().await.unwrap()[0].name, "Sam Rep");
        s.remove_directory_entry(e, audit("directory.remove")).await.unwrap();
        assert!(s.list_directory().await.unwrap().is_empty());

        // Bulk import, and every change above left its audit event in a sound chain.
        let people: Vec<(String, Vec<String>)> =
            (0..250).map(|i| (format!("p{i}"), vec![format!("bulk:{}", i % 7)])).collect();
        let before = s.count_people(p).await.unwrap();
        assert_eq!(s.import_people(p, &people, Ts::new(T0), audit("people.import")).await.unwrap(), 250);
        assert_eq!(s.count_people(p).await.unwrap(), before + 250);
        assert_eq!(s.find_people(p, &["bulk:3".into()], 1000).await.unwrap().len(), 36);
        // Under a cap, people sharing more keys come first, then those sharing a rarer key.
        let mut ranked: Vec<(String, Vec<String>)> =
            (0..20).map(|i| (format!("common{i}"), vec!["rank:common".to_owned()])).collect();
        ranked.push(("both".into(), vec!["rank:common".into(), "rank:rare".into()]));
        ranked.push(("rare".into(), vec!["rank:rare".into()]));
        s.import_people(p, &ranked, Ts::new(T0), audit("people.import")).await.unwrap();
        let keys = ["rank:common".to_owned(), "rank:rare".to_owned()];
        let sealed = |found: Vec<marac_store::PersonRecord>| -> Vec<String> {
            found.into_iter().map(|r| r.details_sealed).collect()
        };
        assert_eq!(sealed(s.find_people(p, &keys, 2).await.unwrap()), ["both", "rare"]);
        assert_eq!(sealed(s.find_people(p, &keys, 3).await.unwrap()), ["both", "rare", "common0"]);
        assert_eq!(s.find_people(p, &keys, 100).await.unwrap().len(), 22);
        // Filing people again under a newer set of keys replaces their keys, once.
        let newer = marac_domain::matching::BLOCKING_KEYS_VERSION + 1;
        let due: Vec<PersonRecord> = s
            .people_to_file_again(newer, 2)
            .await
            .unwrap()
            .into_iter()
            .map(|(partnership, record)| {
                assert_eq!(partnership, p);
                record
            })
            .collect();
        assert_eq!(due.len(), 2);
        assert!(due[0].id < due[1].id);
        let refiled: Vec<(i64, Vec<String>)> = due.iter().map(|r| (r.id, vec![format!("new:{}", r.id)])).collect();
        s.file_people_again(newer, &refiled, audit("people.file_again")).await.unwrap();
        let found = s.find_people(p, &[format!("new:{}", due[0].id)], 10).await.unwrap();
        assert_eq!(found.iter().map(|r| r.id).collect::<Vec<_>>(), [due[0].id]);
        let next = s.people_to_file_again(newer, 2).await.unwrap();
        assert!(next.iter().all(|(_, r)| r.id > due[1].id), "those filed again are not due");
        let stale = vec![(due[0].id, vec!["stale".to_owned()])];
        s.file_people_again(newer, &stale, audit("people.file_again")).await.unwrap();
        assert!(s.find_people(p, &["stale".into()], 10).await.unwrap().is_empty(), "filed once only");
        assert!(s.people_to_file_again(marac_domain::matching::BLOCKING_KEYS_VERSION, 10).await.unwrap().is_empty());
        let actions: Vec<String> = s
            .list_audit(&AuditFilter { limit: 100, ..Default::default() })
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.action)
            .collect();
        for expected in
            ["referral.draft.save", "referral.submit", "referral.accept", "research_note.share", "people.import"]
        {
            assert!(actions.iter().any(|a| a == expected), "{expected} not audited");
        }
        verify_audit_chain(s, TEST_AUDIT_KEY).await.unwrap();
    });
}

#[tokio::test]
async fn meetings_list_cases_open_them_to_invited_agencies_and_track_actions() {
    use marac_domain::meeting_rules::*;
    use time::macros::date;
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (p, m, a) = seed(s).await;
        let health = s
            .create_agency(
                &AgencyInput {
                    partnership_id: p,
                    code: "NHS".into(),
                    name: "Health".into(),
                    category: AgencyCategory::SecondaryCare,
                    marac_ids: vec![m],
                },
                audit("agency.create"),
            )
            .await
            .unwrap();
        let u = s
            .create_user(
                &NewUser {
                    email: "co@example.org".into(),
                    name: "Coordinator".into(),
                    agency_id: Some(a),
                    password_hash: "x".into(),
                    is_demo: false,
                    grants: vec![Grant { role: Role::Coordinator, marac_id: Some(m) }],
                },
                audit("user.create"),
            )
            .await
            .unwrap();
        let mut cases = Vec::new();
        for (i, children) in [0, 2, 1].into_iter().enumerate() {
            let mut sub = submission(
                p,
                m,
                a,
                u,
                new_person(&format!("v{i}"), &[&format!("k:v{i}")]),
                vec![new_person(&format!("p{i}"), &[&format!("k:p{i}")])],
                "2026-11-01",
            );
            sub.children_count = children;
            let done = s.submit_referral(&sub, Ts::new(T0), audit("referral.submit"), &tell_no_one).await.unwrap();
            let at = Ts::new(T0 + Duration::minutes(i64::try_from(i).unwrap()));
            s.decide_referral(done.referral_id, &Decision::Accept, u, at, audit("referral.accept")).await.unwrap();
            cases.push(done);
        }

        // Versioned confidentiality statements.
        assert!(s.current_statement(m).await.unwrap().is_none());
        assert_eq!(s.add_statement(m, "v1 text", Some(u), Ts::new(T0), audit("statement.add")).await.unwrap(), 1);
        assert_eq!(s.add_statement(m, "v2 text", Some(u), Ts::new(T0), audit("statement.add")).await.unwrap(), 2);
        let statement = s.current_statement(m).await.unwrap().unwrap();
        assert_eq!((statement.version, statement.body.as_str()), (2, "v2 text"));

        // Scheduling, with invited agencies.
        let new = |held_on| NewMeeting {
            marac_id: m,
            kind: MeetingKind::Regular,
            format: MeetingFormat::Virtual,
            held_on,
            starts_at: "10:00".into(),
            closing_on: None,
            location: "Video call".into(),
            chair_user_id: None,
            capacity: 2,
            list_cutoff_on: None,
            invited_agency_ids: vec![health, a, health],
        };
        let ids = s
            .create_meetings(
                &[new(date!(2026 - 12 - 01)), new(date!(2026 - 12 - 15))],
                Ts::new(T0),
                audit("meeting.create"),
            )
            .await
            .unwrap();
        let meeting = s.get_meeting(ids[0]).await.unwrap();
        assert_eq!(
            (meeting.status, meeting.details.invited_agency_ids.clone()),
            (MeetingStatus::Planned, vec![a, health])
        );
        let upcoming = s.list_meetings(&[m], Some(date!(2026 - 12 - 02)), 10).await.unwrap();
        assert_eq!(upcoming.iter().map(|x| x.id).collect::<Vec<_>>(), [ids[1]]);
        let mut changed = new(date!(2026 - 12 - 02));
        changed.invited_agency_ids = vec![a, health];
        changed.chair_user_id = Some(u);
        s.update_meeting(ids[0], &changed, Ts::new(T0), audit("meeting.update")).await.unwrap();
        assert_eq!(s.get_meeting(ids[0]).await.unwrap().details.held_on, date!(2026 - 12 - 02));

        // The list: waiting cases, longest waiting first; listed ones stop waiting.
        let waiting = s.waiting_cases(m).await.unwrap();
        assert_eq!(
            waiting.iter().map(|w| w.case_id).collect::<Vec<_>>(),
            cases.iter().map(|c| c.case_id.unwrap()).collect::<Vec<_>>()
        );
        let list: Vec<(i64, i64)> =
            [&cases[1], &cases[0]].iter().map(|c| (c.case_id.unwrap(), c.referral_id)).collect();
        s.set_meeting_list(ids[0], &list, Ts::new(T0), audit("meeting.list")).await.unwrap();
        let listed = s.meeting_cases(ids[0]).await.unwrap();
        assert_eq!(
            listed.iter().map(|l| (l.case_id, l.position)).collect::<Vec<_>>(),
            [(cases[1].case_id.unwrap(), 1), (cases[0].case_id.unwrap(), 2)]
        );
        assert_eq!((listed[0].children_count, listed[0].reference.as_deref()), (2, Some(cases[1].reference.as_str())));
        assert_eq!(
            s.waiting_cases(m).await.unwrap().iter().map(|w| w.case_id).collect::<Vec<_>>(),
            [cases[2].case_id.unwrap()]
        );
        assert_eq!(s.get_meeting(ids[0]).await.unwrap().listed, 2);

        // Publishing opens the listed cases to the invited agencies, and only then.
        assert!(s.case_access(cases[1].case_id.unwrap()).await.unwrap().attending_agency_ids.is_empty());
        assert!(matches!(
            s.close_meeting(ids[0], Ts::new(T0), audit("meeting.close")).await,
            Err(StoreError::Conflict { .. })
        ));
        // Publishing writes who is invited and the notices in the same transaction: a
        // publication refused leaves neither.
        let telling = |key: &str| NewAuditEvent { notices: vec![notice(u, key, true)], ..audit("meeting.publish") };
        let invited = |agencies: Vec<i64>| Publication { invited_agency_ids: agencies };
        s.publish_meeting(ids[0], &invited(vec![a, health]), Ts::new(T0), telling("published")).await.unwrap();
        assert!(matches!(
            s.publish_meeting(ids[0], &invited(vec![a]), Ts::new(T0), telling("again")).await,
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(s.list_notices(u, 10).await.unwrap().len(), 1, "one notice, from the publication that happened");
        assert_eq!(s.get_meeting(ids[0]).await.unwrap().details.invited_agency_ids, [a, health]);
        assert_eq!(s.case_access(cases[1].case_id.unwrap()).await.unwrap().attending_agency_ids, [a, health]);
        assert!(s.case_access(cases[2].case_id.unwrap()).await.unwrap().attending_agency_ids.is_empty(), "not listed");

        // Confidentiality, once per person per meeting; observers by name.
        s.confirm_confidentiality(ids[0], Some(u), None, statement.id, Ts::new(T0), audit("confidentiality.confirm"))
            .await
            .unwrap();
        s.confirm_confidentiality(ids[0], Some(u), None, statement.id, Ts::new(T0), audit("confidentiality.confirm"))
            .await
            .unwrap();
        s.confirm_confidentiality(
            ids[0],
            None,
            Some("Student social worker"),
            statement.id,
            Ts::new(T0),
            audit("confidentiality.confirm"),
        )
        .await
        .unwrap();
        let confirmed = s.confirmations(ids[0]).await.unwrap();
        assert_eq!(confirmed.len(), 2);
        assert_eq!((confirmed[0].user_id, confirmed[0].statement_version), (Some(u), 2));
        assert!(s.confirmations(ids[1]).await.unwrap().is_empty());

        // Attendance, discussion, outcome.
        let entries = vec![
            AttendanceEntry {
                agency_id: Some(a),
                person_name: "PC Reed".into(),
                kind: AttendanceKind::Present,
                information_sent: false,
            },
            AttendanceEntry {
                agency_id: Some(health),
                person_name: "Dr Shah".into(),
                kind: AttendanceKind::Apologies,
                information_sent: true,
            },
        ];
        s.set_attendance(ids[0], &entries, u, Ts::new(T0), audit("meeting.attendance")).await.unwrap();
        assert_eq!(s.attendance(ids[0]).await.unwrap(), entries);
        s.save_discussion(
            (ids[0], cases[1].case_id.unwrap()),
            &DiscussionRecord { sealed: "sealed-discussion".into(), child_voice_recorded: true, saved_version: None },
            CaseOutcome::Heard,
            u,
            Ts::new(T0),
            audit("meeting.case.save"),
        )
        .await
        .unwrap();
        assert!(
            s.save_discussion(
                (ids[0], cases[2].case_id.unwrap()),
                &DiscussionRecord { sealed: "x".into(), child_voice_recorded: false, saved_version: None },
                CaseOutcome::Heard,
                u,
                Ts::new(T0),
                audit("meeting.case.save")
            )
            .await
            .is_err()
        );
        let heard = &s.meeting_cases(ids[0]).await.unwrap()[0];
        assert_eq!(
            (heard.outcome, heard.discussion_sealed.as_deref()),
            (CaseOutcome::Heard, Some("sealed-discussion"))
        );

        // Actions, their history, and the case opened to their owner.
        let action = NewAction {
            case_id: cases[1].case_id.unwrap(),
            meeting_id: ids[0],
            agency_id: health,
            owner_name: "Dr Shah".into(),
            subject: ActionSubject::Perpetrator,
            approach: Some(PerpetratorApproach::Disruption),
            description_sealed: "sealed-action".into(),
            due_on: date!(2026 - 12 - 09),
            kind: ActionKind::Mappa,
        };
        let id = s.add_action(&action, u, Ts::new(T0), audit("action.create")).await.unwrap();
        assert_eq!(s.get_action(id).await.unwrap().action, action);
        assert_eq!(s.case_access(cases[1].case_id.unwrap()).await.unwrap().action_owner_agency_ids, [health]);
        let mine = ActionFilter { agency_id: Some(health), outstanding_only: true, limit: 10, ..Default::default() };
        assert_eq!(s.list_actions(&mine).await.unwrap().len(), 1);
        let held_on = s.get_meeting(ids[0]).await.unwrap().details.held_on;
        for (before, found) in [(held_on, 0), (held_on + time::Duration::days(1), 1)] {
            let f = ActionFilter { agreed_before: Some(before), ..mine.clone() };
            assert_eq!(s.list_actions(&f).await.unwrap().len(), found, "agreed at meetings held before {before}");
        }
        assert!(
            s.list_actions(&ActionFilter { agency_id: Some(a), limit: 10, ..Default::default() })
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.list_actions(&ActionFilter { marac_ids: Some(vec![]), limit: 10, ..Default::default() })
                .await
                .unwrap()
                .is_empty()
        );
        let done = ActionEvent {
            status: ActionStatus::Done,
            reason: None,
            note_sealed: Some("n".into()),
            by_user_id: Some(u),
            at: Ts::new(T0 + Duration::days(3)),
        };
        s.report_action(id, &done, audit("action.report")).await.unwrap();
        assert!(s.list_actions(&mine).await.unwrap().is_empty(), "done is no longer outstanding");
        let history = s.action_events(id).await.unwrap();
        assert_eq!(history.iter().map(|e| e.status).collect::<Vec<_>>(), [ActionStatus::Open, ActionStatus::Done]);
        // The case's chronology reads every action's history in one query, each with its action.
        let case_events = s.case_action_events(action.case_id).await.unwrap();
        assert_eq!(
            case_events.iter().filter(|(a, _)| *a == id).map(|(_, e)| e.status).collect::<Vec<_>>(),
            [ActionStatus::Open, ActionStatus::Done]
        );
        assert!(s.case_action_events(-1).await.unwrap().is_empty());
        assert_eq!(s.get_action(id).await.unwrap().status_reported_at, Some(Ts::new(T0 + Duration::days(3))));

        // Held: the list can no longer change.
        s.close_meeting(ids[0], Ts::new(T0), audit("meeting.close")).await.unwrap();
        assert!(matches!(
            s.set_meeting_list(ids[0], &[], Ts::new(T0), audit("meeting.list")).await,
            Err(StoreError::Conflict { .. })
        ));
        verify_audit_chain(s, TEST_AUDIT_KEY).await.unwrap();
    });
}

fn notice(user_id: i64, key: &str, email: bool) -> NewNotice {
    NewNotice {
        user_id,
        kind: marac_domain::notices::NoticeKind::ActionDue,
        link: "/actions".into(),
        dedupe_key: key.into(),
        about: format!("Test Marac, action due on {key}"),
        email_to: email.then(|| format!("user{user_id}@example.org")),
    }
}

#[tokio::test]
async fn notices_are_made_once_per_reader_and_event_and_read_only_by_their_reader() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (u1, u2) = (user(s, "one@example.org").await, user(s, "two@example.org").await);
        let batch = [notice(u1, "action_due:1:2026-11-26", true), notice(u2, "action_due:1:2026-11-26", false)];
        assert_eq!(s.add_notices(&batch, Ts::new(T0)).await.unwrap(), 2);
        assert_eq!(
            s.add_notices(&batch, Ts::new(T0 + Duration::minutes(1))).await.unwrap(),
            0,
            "a repeat adds nothing"
        );
        assert_eq!(s.list_outbox(10).await.unwrap().len(), 1, "only the notice with an address is e-mailed");
        let inbox = s.list_notices(u1, 10).await.unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].about, "Test Marac, action due on action_due:1:2026-11-26", "what it concerns is kept");
        assert_eq!(s.list_outbox(10).await.unwrap()[0].about, inbox[0].about, "and copied to its e-mail");
        assert_eq!(s.count_unread(u1).await.unwrap(), 1);
        assert!(matches!(s.open_notice(inbox[0].id, u2, Ts::new(T0)).await, Err(StoreError::NotFound)));
        let opened = s.open_notice(inbox[0].id, u1, Ts::new(T0 + Duration::minutes(2))).await.unwrap();
        assert_eq!(opened.read_at, Some(Ts::new(T0 + Duration::minutes(2))));
        assert_eq!(s.count_unread(u1).await.unwrap(), 0);
        s.open_notice(inbox[0].id, u1, Ts::new(T0 + Duration::minutes(5))).await.unwrap();
        assert_eq!(s.list_notices(u1, 10).await.unwrap()[0].read_at, opened.read_at, "first reading is kept");
    });
}

#[tokio::test]
async fn the_outbox_is_claimed_retried_given_up_and_reclaimed_after_a_lease() {
    each_backend!(|db| {
        let s = db.store.as_ref();
        let u = user(s, "one@example.org").await;
        let batch: Vec<NewNotice> = (0..3).map(|i| notice(u, &format!("k{i}"), true)).collect();
        s.add_notices(&batch, Ts::new(T0)).await.unwrap();
        let lease = Ts::new(T0 + Duration::minutes(5));
        let mine = s.claim_outbox("w1", Ts::new(T0), lease, 10).await.unwrap();
        assert_eq!(mine.len(), 3);
        assert!(mine.iter().all(|m| m.attempts == 1));
        assert!(s.claim_outbox("w2", Ts::new(T0), lease, 10).await.unwrap().is_empty(), "held by w1");
        s.finish_outbox(mine[0].id, "w1", &Delivery::Sent, Ts::new(T0)).await.unwrap();
        let retry = Ts::new(T0 + Duration::seconds(30));
        s.finish_outbox(mine[1].id, "w1", &Delivery::Retry { at: retry, error: "421 busy".into() }, Ts::new(T0))
            .await
            .unwrap();
        s.finish_outbox(mine[2].id, "w2", &Delivery::Sent, Ts::new(T0)).await.unwrap();
        assert!(s.claim_outbox("w2", Ts::new(T0), lease, 10).await.unwrap().is_empty(), "not yet due");
        let again = s.claim_outbox("w2", Ts::new(T0 + Duration::minutes(1)), lease, 10).await.unwrap();
        assert_eq!(again.iter().map(|m| (m.id, m.attempts)).collect::<Vec<_>>(), vec![(mine[1].id, 2)]);
        s.finish_outbox(mine[1].id, "w2", &Delivery::GiveUp { error: "550 no such user".into() }, Ts::new(T0))
            .await
            .unwrap();
        let later = Ts::new(T0 + Duration::minutes(6));
        let lapsed = s.claim_outbox("w3", later, Ts::new(T0 + Duration::minutes(11)), 10).await.unwrap();
        assert_eq!(
            lapsed.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![mine[2].id],
            "w1's lapsed claim is taken; w2 did not hold it"
        );
        let all = s.list_outbox(10).await.unwrap();
        let by_id = |id| all.iter().find(|m| m.id == id).unwrap();
        assert!(by_id(mine[0].id).sent_at.is_some());
        assert!(by_id(mine[1].id).failed_at.is_some());
        assert_eq!(by_id(mine[1].id).last_error.as_deref(), Some("550 no such user"));
    });
}

#[tokio::test]
async fn concurrent_claims_never_share_a_message() {
    each_backend!(|db| {
        let u = user(db.store.as_ref(), "one@example.org").await;
        let batch: Vec<NewNotice> = (0..60).map(|i| notice(u, &format!("k{i}"), true)).collect();
        db.store.add_notices(&batch, Ts::new(T0)).await.unwrap();
        let mut tasks = Vec::new();
        for w in 0..4 {
            let store = db.store.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let claimed = store
                        .claim_outbox(&format!("w{w}"), Ts::new(T0), Ts::new(T0 + Duration::minutes(5)), 4)
                        .await
                        .unwrap();
                    if claimed.is_empty() {
                        return got;
                    }
                    got.extend(claimed.into_iter().map(|m| m.id));
                }
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all.sort_unstable();
        let total = all.len();
        all.dedup();
        assert_eq!((total, all.len()), (60, 60), "every message claimed exactly once");
    });
}

#[tokio::test]
async fn flags_are_listed_by_case_marac_and_meeting_and_end_once() {
    use marac_domain::flags::FlagKind;
    use marac_domain::meeting_rules::{MeetingFormat, MeetingKind};
    use time::macros::date;
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (p, m, a) = seed(s).await;
        let u = user(s, "chair@example.org").await;
        let mut case_ids = Vec::new();
        for i in 0..2 {
            let sub = submission(
                p,
                m,
                a,
                u,
                new_person(&format!("v{i}"), &[&format!("k:v{i}")]),
                vec![new_person(&format!("p{i}"), &[&format!("k:p{i}")])],
                "2026-11-01",
            );
            let done = s.submit_referral(&sub, Ts::new(T0), audit("referral.submit"), &tell_no_one).await.unwrap();
            s.decide_referral(done.referral_id, &Decision::Accept, u, Ts::new(T0), audit("referral.accept"))
                .await
                .unwrap();
            case_ids.push(done.case_id.unwrap());
        }
        let meeting = NewMeeting {
            marac_id: m,
            kind: MeetingKind::Regular,
            format: MeetingFormat::InPerson,
            held_on: date!(2026 - 12 - 01),
            starts_at: "10:00".into(),
            closing_on: None,
            location: String::new(),
            chair_user_id: Some(u),
            capacity: 16,
            list_cutoff_on: Some(date!(2026 - 11 - 24)),
            invited_agency_ids: vec![a],
        };
        let meeting_id = s.create_meetings(&[meeting], Ts::new(T0), audit("meeting.create")).await.unwrap()[0];
        let flag = |case_id: i64, kind: FlagKind, expires_on: time::Date, meeting_id: Option<i64>| NewFlag {
            case_id,
            meeting_id,
            agency_id: a,
            kind,
            note_sealed: "sealed".into(),
            set_on: date!(2026 - 12 - 01),
            expires_on,
            set_by: u,
            set_at: Ts::new(T0),
        };
        let mut event = audit("flag.create");
        event.detail = r#"{"case":1}"#.into();
        let marker = s
            .add_flag(&flag(case_ids[0], FlagKind::AddressSafetyMarker, date!(2027 - 12 - 01), Some(meeting_id)), event)
            .await
            .unwrap();
        let health = s
            .add_flag(&flag(case_ids[1], FlagKind::HealthRecord, date!(2027 - 06 - 01), None), audit("flag.create"))
            .await
            .unwrap();
        let created = s
            .list_audit(&AuditFilter { action_prefix: Some("flag.create".into()), limit: 10, ..AuditFilter::default() })
            .await
            .unwrap();
        assert!(created.iter().any(|e| e.event.detail == format!(r#"{{"case":1,"flag":{marker}}}"#)), "{created:?}");

        let list =
            |f: FlagFilter| async move { s.list_flags(&f).await.unwrap().iter().map(|x| x.id).collect::<Vec<_>>() };
        assert_eq!(
            list(FlagFilter { marac_id: Some(m), ..FlagFilter::default() }).await,
            [health, marker],
            "soonest first"
        );
        assert_eq!(list(FlagFilter { case_id: Some(case_ids[0]), ..FlagFilter::default() }).await, [marker]);
        assert_eq!(list(FlagFilter { meeting_id: Some(meeting_id), ..FlagFilter::default() }).await, [marker]);
        assert!(list(FlagFilter { marac_id: Some(m + 1000), ..FlagFilter::default() }).await.is_empty());
        let got = &s.list_flags(&FlagFilter { case_id: Some(case_ids[0]), ..FlagFilter::default() }).await.unwrap()[0];
        assert_eq!(
            (got.marac_id, got.flag.kind, got.flag.expires_on, got.flag.set_by, got.ended_at),
            (m, FlagKind::AddressSafetyMarker, date!(2027 - 12 - 01), u, None)
        );

        let at = Ts::new(T0 + Duration::days(30));
        s.end_flag(marker, u, "reason", at, audit("flag.end")).await.unwrap();
        assert!(matches!(s.end_flag(marker, u, "again", at, audit("flag.end")).await, Err(StoreError::NotFound)));
        assert!(matches!(s.end_flag(999_999, u, "none", at, audit("flag.end")).await, Err(StoreError::NotFound)));
        assert_eq!(list(FlagFilter { marac_id: Some(m), running_only: true, ..FlagFilter::default() }).await, [health]);
        let ended =
            &s.list_flags(&FlagFilter { case_id: Some(case_ids[0]), ..FlagFilter::default() }).await.unwrap()[0];
        assert_eq!((ended.ended_at, ended.ended_reason_sealed.as_deref()), (Some(at), Some("reason")));
    });
}

#[tokio::test]
async fn returns_count_the_cases_heard_per_meeting() {
    use marac_domain::meeting_rules::{CaseOutcome, MeetingFormat, MeetingKind};
    use marac_domain::referral_form::Profile;
    use marac_domain::safelives_return::Tally;
    use time::macros::date;
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (p, m, police) = seed(s).await;
        let health = s
            .create_agency(
                &AgencyInput {
                    partnership_id: p,
                    code: "NHS".into(),
                    name: "Health".into(),
                    category: AgencyCategory::SecondaryCare,
                    marac_ids: vec![m],
                },
                audit("agency.create"),
            )
            .await
            .unwrap();
        let u = user(s, "co@example.org").await;
        // (referring agency, joint agency, repeat, children, age group, age flags, profile, outcome)
        let known = |gender: &str, minoritised, young| Profile {
            victim_gender: gender.into(),
            victim_minoritised: minoritised,
            victim_disabled: None,
            victim_lgbt: Some(false),
            young_perpetrators: young,
            ..Profile::default()
        };
        let cases = [
            (police, None, true, 2, "16-17", "victim_16_17", known("female", Some(true), Some(0)), CaseOutcome::Heard),
            (police, Some(health), false, 1, "25-34", "", known("male", Some(false), Some(1)), CaseOutcome::Heard),
            (health, None, true, 0, "Not known", "", known("", None, None), CaseOutcome::Heard),
            (health, Some(police), false, 3, "35-44", "", known("female", None, None), CaseOutcome::Deferred),
        ];
        let meeting = NewMeeting {
            marac_id: m,
            kind: MeetingKind::Regular,
            format: MeetingFormat::InPerson,
            held_on: date!(2026 - 12 - 01),
            starts_at: "10:00".into(),
            closing_on: None,
            location: String::new(),
            chair_user_id: None,
            capacity: 16,
            list_cutoff_on: None,
            invited_agency_ids: vec![police, health],
        };
        let meeting_id = s.create_meetings(&[meeting], Ts::new(T0), audit("meeting.create")).await.unwrap()[0];
        let mut list = Vec::new();
        for (i, (agency, joint, repeat, children, group, flags, profile, _)) in cases.iter().enumerate() {
            let mut sub = submission(
                p,
                m,
                *agency,
                u,
                new_person(&format!("v{i}"), &[&format!("k:v{i}")]),
                vec![new_person(&format!("p{i}"), &[&format!("k:p{i}")])],
                "2026-11-01",
            );
            sub.joint_agency_id = *joint;
            sub.is_repeat = *repeat;
            sub.children_count = *children;
            sub.victim_age_group = (*group).into();
            sub.age_flags =
                marac_domain::referral_rules::split_codes(flags, marac_domain::referral_rules::AgeFlag::from_code)
                    .unwrap();
            sub.profile = profile.clone();
            let done = s.submit_referral(&sub, Ts::new(T0), audit("referral.submit"), &tell_no_one).await.unwrap();
            s.decide_referral(done.referral_id, &Decision::Accept, u, Ts::new(T0), audit("referral.accept"))
                .await
                .unwrap();
            list.push((done.case_id.unwrap(), done.referral_id));
        }
        s.set_meeting_list(meeting_id, &list, Ts::new(T0), audit("meeting.list")).await.unwrap();
        for ((case_id, _), case) in list.iter().zip(&cases) {
            let record = DiscussionRecord { sealed: "sealed".into(), child_voice_recorded: false, saved_version: None };
            s.save_discussion((meeting_id, *case_id), &record, case.7, u, Ts::new(T0), audit("meeting.case.save"))
                .await
                .unwrap();
        }

        let scope = |from, to| ReturnScope { marac_ids: vec![m], from, to };
        let got = s.meeting_returns(&scope(date!(2026 - 10 - 01), date!(2026 - 12 - 31))).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].meeting_id, got[0].marac_id, got[0].held_on), (meeting_id, m, date!(2026 - 12 - 01)));
        let c = &got[0].counts;
        // The deferred case is not counted.
        assert_eq!((c.meetings, c.cases, c.repeats, c.children), (1, 3, 2, 3));
        // Police: 2 + 1 (joint) halves; secondary care: 1 (joint) + 2 halves.
        assert_eq!((c.source_halves[0], c.source_halves[5]), (3, 3));
        assert_eq!(c.source_halves.iter().sum::<u32>(), 6);
        assert_eq!(c.minoritised, Tally { yes: 1, recorded: 2 });
        assert_eq!(c.disabled, Tally { yes: 0, recorded: 0 });
        assert_eq!(c.lgbt, Tally { yes: 0, recorded: 3 });
        assert_eq!(c.male, Tally { yes: 1, recorded: 2 });
        assert_eq!(c.aged_16_17, Tally { yes: 1, recorded: 2 });
        assert_eq!(c.young_perpetrators, Tally { yes: 1, recorded: 2 });
        assert!(s.meeting_returns(&scope(date!(2027 - 01 - 01), date!(2027 - 03 - 31))).await.unwrap().is_empty());

        // What the plans hold, who attended, what was screened out, and figures from outside.
        let action = |case_id: i64, subject, kind| NewAction {
            case_id,
            meeting_id,
            agency_id: police,
            owner_name: "PC Lowe".into(),
            subject,
            approach: None,
            description_sealed: "sealed".into(),
            due_on: date!(2026 - 12 - 10),
            kind,
        };
        use marac_domain::meeting_rules::{ActionKind, ActionStatus, ActionSubject, AttendanceKind};
        s.add_action(
            &action(list[0].0, ActionSubject::Perpetrator, ActionKind::RightToKnow),
            u,
            Ts::new(T0),
            audit("a"),
        )
        .await
        .unwrap();
        s.add_action(&action(list[0].0, ActionSubject::Perpetrator, ActionKind::General), u, Ts::new(T0), audit("a"))
            .await
            .unwrap();
        let early = s
            .add_action(&action(list[1].0, ActionSubject::Child, ActionKind::EarlyHelp), u, Ts::new(T0), audit("a"))
            .await
            .unwrap();
        let done = ActionEvent {
            status: ActionStatus::Done,
            reason: None,
            note_sealed: None,
            by_user_id: Some(u),
            at: Ts::new(T0),
        };
        s.report_action(early, &done, audit("action.report")).await.unwrap();
        let all = scope(date!(2026 - 10 - 01), date!(2026 - 12 - 31));
        let actions = s.action_counts(&all).await.unwrap();
        assert_eq!((actions.cases_with_perpetrator_action, actions.cases_with_child_action), (1, 1));
        assert_eq!(actions.count(Some("early_help"), Some("done")), 1);
        assert_eq!(actions.count(Some("right_to_know"), None), 1);
        assert_eq!(actions.count(None, None), 3);
        let entries = [AttendanceEntry {
            agency_id: Some(police),
            person_name: "PC Lowe".into(),
            kind: AttendanceKind::Present,
            information_sent: false,
        }];
        s.set_attendance(meeting_id, &entries, u, Ts::new(T0), audit("meeting.attendance")).await.unwrap();
        assert!(s.agency_attendance(&all).await.unwrap().is_empty(), "only held meetings count");
        let invited = s.get_meeting(meeting_id).await.unwrap().details.invited_agency_ids;
        let publication = Publication { invited_agency_ids: invited };
        s.publish_meeting(meeting_id, &publication, Ts::new(T0), audit("meeting.publish")).await.unwrap();
        s.close_meeting(meeting_id, Ts::new(T0), audit("meeting.close")).await.unwrap();
        let attendance = s.agency_attendance(&all).await.unwrap();
        let got: Vec<(i64, u32, u32)> = attendance.iter().map(|a| (a.agency_id, a.invited, a.present)).collect();
        assert_eq!(got, [(health, 1, 0), (police, 1, 1)]);
        let mut sub = submission(
            p,
            m,
            police,
            u,
            new_person("declined", &["k:d"]),
            vec![new_person("dp", &["k:dp"])],
            "2026-11-01",
        );
        sub.criteria = vec![marac_domain::referral_rules::Criterion::VisibleHighRisk];
        let refused = s.submit_referral(&sub, Ts::new(T0), audit("referral.submit"), &tell_no_one).await.unwrap();
        s.decide_referral(refused.referral_id, &Decision::Decline("sealed".into()), u, Ts::new(T0), audit("d"))
            .await
            .unwrap();
        assert_eq!(s.screening(&all).await.unwrap(), Screening { high_risk: 5, screened_out: 1 });
        assert_eq!(
            s.screening(&scope(date!(2026 - 12 - 01), date!(2026 - 12 - 31))).await.unwrap(),
            Screening::default()
        );
        let figure = |value| PartnershipFigure {
            measure: "police_notifications".into(),
            value,
            entered_by: u,
            entered_at: Ts::new(T0),
        };
        s.set_partnership_figure(p, "2026-q4", &figure(12), audit("figure.set")).await.unwrap();
        s.set_partnership_figure(p, "2026-q4", &figure(14), audit("figure.set")).await.unwrap();
        assert_eq!(s.partnership_figures(p, "2026-q4").await.unwrap(), [figure(14)], "a correction replaces");
        assert!(s.partnership_figures(p, "2026-q3").await.unwrap().is_empty());
        assert!(
            s.meeting_returns(&ReturnScope {
                marac_ids: vec![],
                ..scope(date!(2026 - 01 - 01), date!(2027 - 01 - 01))
            })
            .await
            .unwrap()
            .is_empty()
        );
    });
}

/// A case moves through its stages in the transactions of the changes that move it, each move
/// recorded with who and when, and the lists of cases follow the stage and the reader's scope.
#[tokio::test]
async fn cases_move_through_their_stages_and_lists_follow_them() {
    use marac_domain::case_stage::CaseStage as S;
    use marac_domain::meeting_rules::*;
    use marac_domain::paging::PageRequest;
    use marac_domain::policy::CaseScope;
    use time::macros::date;
    each_backend!(|db| {
        let s = db.store.as_ref();
        let (p, m, police) = seed(s).await;
        let u = user(s, "co@example.org").await;
        let audit = |action: &str| NewAuditEvent { actor_user_id: Some(u), ..audit(action) };
        let mut cases = Vec::new();
        for i in 0..3 {
            let sub = submission(p, m, police, u, new_person(&format!("v{i}"), &[]), vec![], "2026-11-01");
            let done = s.submit_referral(&sub, Ts::new(T0), audit("referral.submit"), &tell_no_one).await.unwrap();
            cases.push((done.case_id.unwrap(), done.referral_id));
        }
        let stage = |c: i64| async move { s.case_stage(c).await.unwrap().0 };
        assert_eq!(stage(cases[0].0).await, Some(S::Referred));
        let at = |minutes: i64| Ts::new(T0 + Duration::minutes(minutes));
        for (c, r) in &cases[..2] {
            s.decide_referral(*r, &Decision::Accept, u, at(1), audit("referral.accept")).await.unwrap();
            assert_eq!(stage(*c).await, Some(S::AwaitingMeeting));
        }
        s.decide_referral(cases[2].1, &Decision::Decline("n".into()), u, at(1), audit("referral.decline"))
            .await
            .unwrap();
        assert_eq!(stage(cases[2].0).await, Some(S::Declined));

        let meeting = |held_on| NewMeeting {
            marac_id: m,
            kind: MeetingKind::Regular,
            format: MeetingFormat::Virtual,
            held_on,
            starts_at: "10:00".into(),
            closing_on: None,
            location: String::new(),
            chair_user_id: None,
            capacity: 4,
            list_cutoff_on: None,
            invited_agency_ids: vec![police],
        };
        let ids = s
            .create_meetings(&[meeting(date!(2026 - 12 - 15)), meeting(date!(2026 - 12 - 01))], at(2), audit("m"))
            .await
            .unwrap();
        // Listed on a meeting, taken off again, listed on the other.
        s.set_meeting_list(ids[0], &[cases[0], cases[1]], at(3), audit("meeting.list")).await.unwrap();
        assert_eq!(s.case_stage(cases[0].0).await.unwrap(), (Some(S::Listed), Some((ids[0], date!(2026 - 12 - 15)))));
        s.set_meeting_list(ids[0], &[cases[0]], at(4), audit("meeting.list")).await.unwrap();
        assert_eq!(stage(cases[1].0).await, Some(S::AwaitingMeeting));
        s.set_meeting_list(ids[1], &[cases[1]], at(4), audit("meeting.list")).await.unwrap();

        // The coordinator's list of cases on their way: soonest meeting first.
        let coordinator = CaseScope { user_id: u, whole_maracs: vec![m], ..CaseScope::default() };
        let on_the_way = CaseFilter {
            scope: coordinator.clone(),
            stages: S::ON_THE_WAY.to_vec(),
            page: PageRequest { number: 1, size: 1 },
            ..CaseFilter::default()
        };
        let first = s.list_cases(&on_the_way).await.unwrap();
        assert_eq!((first.total, first.rows.len()), (2, 1), "paged by the database, counted in full");
        assert_eq!(first.rows[0].case_id, cases[1].0, "the 1 December meeting comes first");
        assert_eq!(first.rows[0].stage_meeting, Some((ids[1], date!(2026 - 12 - 01))));
        let second =
            s.list_cases(&CaseFilter { page: PageRequest { number: 2, size: 1 }, ..on_the_way.clone() }).await.unwrap();
        assert_eq!(second.rows.iter().map(|r| r.case_id).collect::<Vec<_>>(), [cases[0].0]);
        // Another agency's practitioner sees none of them; the referring agency's sees both.
        let other = CaseScope {
            user_id: 99,
            agency_id: Some(police + 1000),
            practitioner_maracs: vec![m],
            ..CaseScope::default()
        };
        assert_eq!(s.list_cases(&CaseFilter { scope: other, ..on_the_way.clone() }).await.unwrap().total, 0);
        let referrer =
            CaseScope { user_id: 98, agency_id: Some(police), practitioner_maracs: vec![m], ..CaseScope::default() };
        assert_eq!(s.list_cases(&CaseFilter { scope: referrer, ..on_the_way.clone() }).await.unwrap().total, 2);

        // Heard, an action agreed, the meeting closed, the action done: closed.
        s.publish_meeting(ids[1], &Publication { invited_agency_ids: vec![police] }, at(5), audit("publish"))
            .await
            .unwrap();
        let discussion = DiscussionRecord { sealed: "d".into(), child_voice_recorded: false, saved_version: None };
        s.save_discussion((ids[1], cases[1].0), &discussion, CaseOutcome::Heard, u, at(6), audit("save"))
            .await
            .unwrap();
        assert_eq!(stage(cases[1].0).await, Some(S::Heard));
        let action = NewAction {
            case_id: cases[1].0,
            meeting_id: ids[1],
            agency_id: police,
            owner_name: "PC Reed".into(),
            subject: ActionSubject::Victim,
            approach: None,
            description_sealed: "a".into(),
            due_on: date!(2026 - 12 - 09),
            kind: ActionKind::General,
        };
        let action_id = s.add_action(&action, u, at(7), audit("action.create")).await.unwrap();
        assert_eq!(stage(cases[1].0).await, Some(S::ActionsOpen));
        s.close_meeting(ids[1], at(8), audit("meeting.close")).await.unwrap();
        assert_eq!(stage(cases[1].0).await, Some(S::ActionsOpen), "open while its action is");
        let done =
            ActionEvent { status: ActionStatus::Done, reason: None, note_sealed: None, by_user_id: Some(u), at: at(9) };
        s.report_action(action_id, &done, audit("action.report")).await.unwrap();
        assert_eq!(stage(cases[1].0).await, Some(S::Closed));

        let history = s.case_history(cases[1].0).await.unwrap();
        assert_eq!(
            history.iter().map(|h| h.stage).collect::<Vec<_>>(),
            [
                S::Referred,
                S::AwaitingMeeting,
                S::Listed,
                S::AwaitingMeeting,
                S::Listed,
                S::Heard,
                S::ActionsOpen,
                S::Closed
            ]
        );
        assert!(history.iter().all(|h| h.by_user_id == Some(u)));
        assert_eq!(history[5].meeting_on, Some(date!(2026 - 12 - 01)), "heard at the 1 December meeting");
        assert_eq!(history.last().unwrap().at, at(9));
        let closed = s
            .list_cases(&CaseFilter { scope: coordinator, stages: vec![S::Closed], ..CaseFilter::default() })
            .await
            .unwrap();
        assert_eq!(closed.rows.iter().map(|r| r.case_id).collect::<Vec<_>>(), [cases[1].0]);
        // Nothing is left unstaged to work out again.
        assert_eq!(s.stage_unstaged_cases().await.unwrap(), 0);
        verify_audit_chain(s, TEST_AUDIT_KEY).await.unwrap();
    });
}
