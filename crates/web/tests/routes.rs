//! Route tests through the real router, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use marac_domain::Role;
use marac_store::AuditFilter;
use marac_web::routes::sign_in::{GENERIC_FAILURE, LOCKED};
use support::{
    MeetingStory, PASSWORD, STATEMENT, TestApp, api_get, api_post, dmy, list_on_published_meeting, meeting_story,
    published_meeting, refer, referral_fields, referral_json, scheduled_meeting, token_for,
};
use time::Duration;

fn escaped(s: &str) -> String {
    s.replace('\'', "&#39;").replace('"', "&#34;")
}

async fn audit_actions(app: &TestApp, prefix: &str) -> Vec<(String, String)> {
    app.db
        .store
        .list_audit(&AuditFilter { action_prefix: Some(prefix.into()), limit: 500, ..AuditFilter::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event.action, e.event.outcome))
        .collect()
}

#[tokio::test]
async fn sign_in_failure_says_the_same_whatever_was_wrong() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("off@x.org", Role::Referrer, false).await;
        let id = app.db.store.find_user_by_email("off@x.org").await.unwrap().unwrap().id;
        app.db.store.set_user_disabled(id, true, marac_app::audit::system_event(&app.state, "t", "")).await.unwrap();
        let mut bodies = Vec::new();
        for (email, password) in
            [("nobody@x.org", PASSWORD), ("kim@x.org", "wrong password entirely"), ("off@x.org", PASSWORD)]
        {
            let b = app.browser();
            b.get("/sign-in").await;
            let r = b.post("/sign-in", &[("email", email), ("password", password)]).await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(r.body.contains(&escaped(GENERIC_FAILURE)), "{email}: {}", r.body);
            assert!(r.set_cookies().iter().all(|c| !c.contains("marac_session=") || c.contains("Max-Age=0")));
            bodies.push(r.body.replace(email, "EMAIL"));
        }
        // Apart from the CSRF token, the three pages are identical.
        let strip = |s: &str| {
            s.split("name=\"_csrf\"").map(|p| p.split_once('>').map_or(p, |x| x.1).to_owned()).collect::<String>()
        };
        assert_eq!(strip(&bodies[0]), strip(&bodies[1]));
        assert_eq!(strip(&bodies[1]), strip(&bodies[2]));
        assert_eq!(audit_actions(&app, "sign_in.failure").await.len(), 3);
    });
}

#[tokio::test]
async fn the_eleventh_attempt_in_five_minutes_is_refused_even_with_the_right_password() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        let b = app.browser();
        b.get("/sign-in").await;
        for _ in 0..10 {
            let r = b.post("/sign-in", &[("email", "kim@x.org"), ("password", "not the password")]).await;
            assert_eq!(r.status, StatusCode::OK);
        }
        let r = b.post("/sign-in", &[("email", "kim@x.org"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.header("retry-after"), "300");
        assert!(r.body.contains(LOCKED), "{}", r.body);
        // Another address is refused too: the account is locked, not just the address.
        let elsewhere = app.browser_from("10.9.9.9");
        elsewhere.get("/sign-in").await;
        let r = elsewhere.post("/sign-in", &[("email", "kim@x.org"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        // The lock is timed: five minutes later the right password works.
        app.clock.advance(Duration::minutes(5) + Duration::seconds(1));
        let r = b.post("/sign-in", &[("email", "kim@x.org"), ("password", PASSWORD)]).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/"));
        assert!(!audit_actions(&app, "sign_in.locked").await.is_empty());
    });
}

#[tokio::test]
async fn one_address_cannot_guess_many_accounts_but_one_persons_typos_do_not_lock_out_an_office() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        let b = app.browser_from("10.2.2.2");
        b.get("/sign-in").await;
        // A shared office: one person's ten typos lock their own account, not the address.
        for _ in 0..10 {
            b.post("/sign-in", &[("email", "typo@x.org"), ("password", "nope nope nope")]).await;
        }
        let r = b.post("/sign-in", &[("email", "kim@x.org"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "a colleague at the same address signs in");
        let b = app.browser_from("10.2.2.2");
        b.get("/sign-in").await;
        for i in 0..90 {
            b.post("/sign-in", &[("email", &format!("guess{i}@x.org")), ("password", "nope nope nope")]).await;
        }
        // A hundred failures from one address, across accounts, and the address waits.
        let r = b.post("/sign-in", &[("email", "kim@x.org"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.header("retry-after"), "300");
    });
}

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_is_refused() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        let b = app.browser();
        b.get("/sign-in").await;
        let body = "email=kim%40x.org&password=a+long+test+pass+phrase";
        let r = b.post_raw("/sign-in", body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "no token");
        let r = b.post_raw("/sign-in", &format!("_csrf=forged&{body}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "wrong token");
        assert!(r.body.contains("This form could not be sent"));

        // Signed in: a token from before signing in no longer works, nor does another user's.
        let signed = app.signed_in("kim@x.org").await;
        let r = signed.post_raw("/sign-out", "_csrf=forged").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = signed.post_raw("/sign-out", "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A request the browser marks cross-site is refused even with the right token.
        signed.get("/account").await;
        let token = signed.csrf.lock().unwrap().clone();
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/sign-out")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .body(axum::body::Body::from(format!("_csrf={token}")))
            .unwrap();
        assert_eq!(signed.send(req).await.status, StatusCode::FORBIDDEN);
        // Still signed in after all of that.
        assert_eq!(signed.get("/account").await.status, StatusCode::OK);
        let r = signed.post("/sign-out", &[]).await;
        assert_eq!(r.location(), "/sign-in?signed_out=1");
    });
}

#[tokio::test]
async fn an_idle_session_expires_and_so_does_a_long_one() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        let b = app.signed_in("kim@x.org").await;
        app.clock.advance(Duration::minutes(14));
        assert_eq!(b.get("/").await.status, StatusCode::OK, "14 minutes idle is fine");
        app.clock.advance(Duration::minutes(15));
        let r = b.get("/").await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/sign-in?ended=1"));
        assert_eq!(b.get("/account").await.location(), "/sign-in", "the session is gone on the server");
        assert!(audit_actions(&app, "session.expired").await.len() == 1);

        // Busy all day: the 12-hour limit still ends it.
        let b = app.signed_in("kim@x.org").await;
        for _ in 0..(12 * 6 - 1) {
            app.clock.advance(Duration::minutes(10));
            assert_eq!(b.get("/").await.status, StatusCode::OK);
        }
        app.clock.advance(Duration::minutes(10));
        assert_eq!(b.get("/").await.location(), "/sign-in?ended=1");
    });
}

#[tokio::test]
async fn sessions_rotate_at_sign_in_and_end_at_sign_out() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        let b = app.signed_in("kim@x.org").await;
        let first = b.cookies.lock().unwrap().get("marac_session").cloned().unwrap();
        assert!(first.len() >= 22, "at least 128 bits");
        // Signing in again from the same browser replaces the token.
        b.get("/sign-in").await;
        let b2 = app.signed_in("kim@x.org").await;
        let second = b2.cookies.lock().unwrap().get("marac_session").cloned().unwrap();
        assert_ne!(first, second);
        // Signing out ends the session on the server: the old cookie is worthless.
        b.get("/account").await;
        let r = b.post("/sign-out", &[]).await;
        assert!(r.header("clear-site-data").contains("cache"));
        let replay = app.browser();
        replay.cookies.lock().unwrap().insert("marac_session".into(), first);
        assert_eq!(replay.get("/").await.location(), "/sign-in");
    });
}

#[tokio::test]
async fn users_see_and_end_their_own_sessions_only() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("lee@x.org", Role::Referrer, false).await;
        let laptop = app.signed_in("kim@x.org").await;
        let phone = app.signed_in("kim@x.org").await;
        let lee = app.signed_in("lee@x.org").await;
        let page = laptop.get("/account").await;
        assert_eq!(page.body.matches("name=\"session\"").count(), 2);
        let phone_id = {
            let token = phone.cookies.lock().unwrap().get("marac_session").cloned().unwrap();
            marac_app::crypto::token_hash(&token)
        };
        // Lee cannot end Kim's session.
        lee.get("/account").await;
        assert_eq!(lee.post("/account/sessions/end", &[("session", &phone_id)]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(phone.get("/").await.status, StatusCode::OK);
        // Kim can, from the laptop.
        let r = laptop.post("/account/sessions/end", &[("session", &phone_id)]).await;
        assert_eq!(r.location(), "/account");
        assert_eq!(phone.get("/").await.location(), "/sign-in");
        assert_eq!(laptop.get("/").await.status, StatusCode::OK);
    });
}

#[tokio::test]
async fn cookie_flags_and_security_headers_on_every_page() {
    for secure in [false, true] {
        let db = marac_store::testing::TestDb::sqlite().await;
        let app = TestApp::with_config(db, secure).await;
        app.user("admin@x.org", Role::Admin, true).await;
        app.user("audit@x.org", Role::Auditor, false).await;
        let anonymous = app.browser();
        let admin = app.signed_in("admin@x.org").await;
        let auditor = app.signed_in("audit@x.org").await;
        let marac_page = format!("/admin/maracs/{}", app.marac_id);
        let agency_page = format!("/admin/agencies/{}", app.agency_id);
        let pages: Vec<(&support::Browser<'_>, &str)> = vec![
            (&anonymous, "/sign-in"),
            (&anonymous, "/"),
            (&anonymous, "/no-such-page"),
            (&anonymous, "/healthz"),
            (&anonymous, "/assets/app.css"),
            (&admin, "/"),
            (&admin, "/account"),
            (&admin, "/account/two-factor"),
            (&admin, "/admin"),
            (&admin, "/admin/partnerships"),
            (&admin, "/admin/partnerships/new"),
            (&admin, "/admin/maracs"),
            (&admin, "/admin/maracs/new"),
            (&admin, &marac_page),
            (&admin, "/admin/agencies"),
            (&admin, "/admin/agencies/new"),
            (&admin, &agency_page),
            (&admin, "/admin/users"),
            (&admin, "/admin/users/new"),
            (&admin, "/admin/users/1"),
            (&admin, "/audit"),
            (&auditor, "/audit"),
            (&admin, "/admin/users/999"),
        ];
        for (who, path) in pages {
            let r = who.get(path).await;
            let csp = r.header("content-security-policy");
            assert!(
                csp.contains("default-src 'none'")
                    && csp.contains("frame-ancestors 'none'")
                    && !csp.contains("unsafe-inline"),
                "{path}: {csp}"
            );
            assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(r.header("referrer-policy"), "no-referrer", "{path}");
            assert_eq!(r.header("x-frame-options"), "DENY", "{path}");
            assert_eq!(r.header("strict-transport-security").is_empty(), !secure, "{path}");
            if !path.starts_with("/assets/") {
                assert_eq!(r.header("cache-control"), "no-store", "{path}");
            }
            for c in r.set_cookies() {
                assert!(c.contains("HttpOnly") && c.contains("SameSite=") && c.contains("Path=/"), "{path}: {c}");
                assert_eq!(c.contains("Secure"), secure, "{path}: {c}");
                assert_eq!(c.starts_with("__Host-"), secure, "{path}: {c}");
            }
        }
        // The session cookie itself, as set at sign-in.
        let b = app.browser();
        b.get("/sign-in").await;
        app.user("ref@x.org", Role::Referrer, false).await;
        let r = b.post("/sign-in", &[("email", "ref@x.org"), ("password", PASSWORD)]).await;
        let session_cookie = r.set_cookies().into_iter().find(|c| c.contains("marac_session=")).unwrap();
        assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
        assert_eq!(session_cookie.contains("Secure"), secure);
        drop((anonymous, admin, auditor, b));
        app.cleanup().await;
    }
}

#[tokio::test]
async fn a_reused_totp_code_is_refused() {
    each_backend!(|app| {
        app.user("coord@x.org", Role::Coordinator, true).await;
        let b = app.browser();
        b.get("/sign-in").await;
        let r = b.post("/sign-in", &[("email", "coord@x.org"), ("password", PASSWORD)]).await;
        assert_eq!(r.location(), "/sign-in/two-factor");
        // Half signed in: no page but the code page.
        assert_eq!(b.get("/").await.location(), "/sign-in/two-factor");
        b.get("/sign-in/two-factor").await;
        let code = app.now_code();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let r = b.post("/sign-in/two-factor", &[("code", wrong)]).await;
        assert!(r.body.contains("The code is not right"));
        let r = b.post("/sign-in/two-factor", &[("code", &code)]).await;
        assert_eq!(r.location(), "/");
        // Same code again, from another browser, within its 30 seconds: refused.
        let other = app.browser();
        other.get("/sign-in").await;
        other.post("/sign-in", &[("email", "coord@x.org"), ("password", PASSWORD)]).await;
        other.get("/sign-in/two-factor").await;
        let r = other.post("/sign-in/two-factor", &[("code", &code)]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("already been used"), "{}", r.body);
        assert!(!audit_actions(&app, "sign_in.totp_reused").await.is_empty());
        // The next code works.
        app.clock.advance(Duration::seconds(30));
        let r = other.post("/sign-in/two-factor", &[("code", &app.now_code())]).await;
        assert_eq!(r.location(), "/");
    });
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    each_backend!(|app| {
        app.user("coord@x.org", Role::Coordinator, true).await;
        for expected in ["/", ""] {
            let b = app.browser();
            b.get("/sign-in").await;
            b.post("/sign-in", &[("email", "coord@x.org"), ("password", PASSWORD)]).await;
            b.get("/sign-in/two-factor").await;
            let r = b.post("/sign-in/two-factor", &[("code", "AAAA BBBB CCCC DDDD")]).await;
            assert_eq!(r.location(), expected);
        }
    });
}

#[tokio::test]
async fn coordinators_must_set_up_a_second_factor_and_get_recovery_codes() {
    each_backend!(|app| {
        app.user("coord@x.org", Role::Coordinator, false).await;
        let b = app.browser();
        b.get("/sign-in").await;
        let r = b.post("/sign-in", &[("email", "coord@x.org"), ("password", PASSWORD)]).await;
        assert_eq!(r.location(), "/sign-in/set-up-two-factor");
        assert_eq!(b.get("/admin").await.location(), "/sign-in/set-up-two-factor");
        let page = b.get("/sign-in/set-up-two-factor").await;
        assert!(page.body.contains("<svg role=\"img\""), "QR code shown");
        let key: String =
            page.body.split("id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().replace(' ', "");
        let secret = totp_rs::Secret::try_from_base32(&key).unwrap().as_bytes().to_vec();
        let sealed = page.body.split("name=\"secret\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let r = b.post("/sign-in/set-up-two-factor", &[("secret", &sealed), ("code", "123")]).await;
        assert!(r.body.contains("The code is not right"));
        let code = marac_app::totp::code_at(&secret, app.state.clock.now().unix_timestamp());
        let r = b.post("/sign-in/set-up-two-factor", &[("secret", &sealed), ("code", &code)]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body.matches("<li><code>").count(), 10, "ten recovery codes");
        assert!(r.set_cookies().iter().any(|c| c.starts_with("marac_session=")), "rotated to a full session");
        assert_eq!(b.get("/").await.status, StatusCode::OK);
        assert!(!audit_actions(&app, "second_factor.enrolled").await.is_empty());
        // From now on a code is asked for at sign-in.
        let again = app.browser();
        again.get("/sign-in").await;
        let r = again.post("/sign-in", &[("email", "coord@x.org"), ("password", PASSWORD)]).await;
        assert_eq!(r.location(), "/sign-in/two-factor");
    });
}

#[tokio::test]
async fn configured_roles_must_use_a_second_factor_too() {
    for db in marac_store::testing::TestDb::each_backend().await {
        let config = marac_web::WebConfig {
            secure_cookies: false,
            hsts: false,
            second_factor_roles: vec![Role::Idva],
            demo: false,
            trust_proxy: false,
            suppress_below: marac_domain::suppression::DEFAULT_THRESHOLD,
            list_retention_days: marac_web::DEFAULT_LIST_RETENTION_DAYS,
        };
        let app = TestApp::with(db, config).await;
        app.user("idva@x.org", Role::Idva, false).await;
        app.user("ref@x.org", Role::Referrer, false).await;
        let b = app.browser();
        b.get("/sign-in").await;
        let r = b.post("/sign-in", &[("email", "idva@x.org"), ("password", PASSWORD)]).await;
        assert_eq!(r.location(), "/sign-in/set-up-two-factor");
        let other = app.browser();
        other.get("/sign-in").await;
        let r = other.post("/sign-in", &[("email", "ref@x.org"), ("password", PASSWORD)]).await;
        assert_eq!(r.location(), "/", "roles not listed sign in with a password alone");
        drop((b, other));
        app.cleanup().await;
    }
}

/// Every protected page, with the one role allowed to use it.
fn protected_pages(app: &TestApp, u: i64) -> Vec<(&'static str, String, Option<Role>)> {
    let m = app.marac_id;
    let a = app.agency_id;
    vec![
        ("GET", "/admin".into(), Some(Role::Admin)),
        ("GET", "/admin/partnerships".into(), Some(Role::Admin)),
        ("GET", "/admin/partnerships/new".into(), Some(Role::Admin)),
        ("POST", "/admin/partnerships/new".into(), Some(Role::Admin)),
        ("GET", "/admin/partnerships/1".into(), Some(Role::Admin)),
        ("POST", "/admin/partnerships/1".into(), Some(Role::Admin)),
        ("GET", "/admin/maracs".into(), Some(Role::Admin)),
        ("GET", "/admin/maracs/new".into(), Some(Role::Admin)),
        ("POST", "/admin/maracs/new".into(), Some(Role::Admin)),
        ("GET", format!("/admin/maracs/{m}"), Some(Role::Admin)),
        ("POST", format!("/admin/maracs/{m}"), Some(Role::Admin)),
        ("GET", "/admin/agencies".into(), Some(Role::Admin)),
        ("GET", "/admin/agencies/new".into(), Some(Role::Admin)),
        ("POST", "/admin/agencies/new".into(), Some(Role::Admin)),
        ("GET", format!("/admin/agencies/{a}"), Some(Role::Admin)),
        ("POST", format!("/admin/agencies/{a}"), Some(Role::Admin)),
        ("GET", "/admin/users".into(), Some(Role::Admin)),
        ("GET", "/admin/users/new".into(), Some(Role::Admin)),
        ("POST", "/admin/users/new".into(), Some(Role::Admin)),
        ("GET", format!("/admin/users/{u}"), Some(Role::Admin)),
        ("POST", format!("/admin/users/{u}"), Some(Role::Admin)),
        ("POST", format!("/admin/users/{u}/disable"), Some(Role::Admin)),
        ("POST", format!("/admin/users/{u}/enable"), Some(Role::Admin)),
        ("GET", "/audit".into(), Some(Role::Auditor)),
        ("GET", "/people/duplicates".into(), Some(Role::Coordinator)),
        ("POST", "/people/duplicates".into(), Some(Role::Coordinator)),
        ("GET", "/".into(), None),
        ("GET", "/account".into(), None),
        ("GET", "/account/two-factor".into(), None),
    ]
}

#[tokio::test]
async fn each_role_is_refused_every_page_it_must_not_reach() {
    each_backend!(|app| {
        for role in Role::ALL.iter().copied() {
            app.user(&format!("{}@x.org", role.code()), role, true).await;
        }
        let victim = app.user("victim@x.org", Role::Referrer, false).await;
        let pages = protected_pages(&app, victim);
        for role in Role::ALL.iter().copied() {
            let b = app.signed_in(&format!("{}@x.org", role.code())).await;
            b.get("/account").await;
            for (method, path, allowed) in &pages {
                let r = if *method == "GET" { b.get(path).await } else { b.post(path, &[]).await };
                let permitted = allowed.is_none_or(|a| a == role);
                if permitted {
                    assert_ne!(r.status, StatusCode::FORBIDDEN, "{role} refused {method} {path}");
                } else {
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{role} reached {method} {path}");
                    assert!(r.body.contains("You do not have access to this page"), "{role} {method} {path}");
                }
            }
        }
        // Refusals are recorded, and nobody was disabled by the refused posts.
        assert!(audit_actions(&app, "access.denied").await.len() > 100);
        // The administrator's own posts went through: the last one re-enabled the account.
        assert!(!app.db.store.get_user(victim).await.unwrap().disabled);
        // Visitors who are not signed in are sent to sign in, for every page.
        let anonymous = app.browser();
        anonymous.get("/sign-in").await;
        for (method, path, _) in &pages {
            let r = if *method == "GET" { anonymous.get(path).await } else { anonymous.post(path, &[]).await };
            assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/sign-in"), "{method} {path}");
        }
    });
}

#[tokio::test]
async fn someone_holding_no_role_sees_nothing_but_their_own_account() {
    each_backend!(|app| {
        let user = marac_store::NewUser {
            email: "norole@x.org".into(),
            name: "No Role".into(),
            agency_id: None,
            password_hash: marac_app::password::hash_blocking(PASSWORD).unwrap(),
            is_demo: false,
            grants: vec![],
        };
        app.db.store.create_user(&user, marac_app::audit::system_event(&app.state, "t", "")).await.unwrap();
        let b = app.signed_in("norole@x.org").await;
        assert_eq!(b.get("/").await.status, StatusCode::FORBIDDEN);
        assert_eq!(b.get("/account").await.status, StatusCode::OK);
    });
}

#[tokio::test]
async fn a_malformed_form_is_a_clear_bad_request() {
    each_backend!(|app| {
        app.user("admin@x.org", Role::Admin, true).await;
        let b = app.signed_in("admin@x.org").await;
        b.get("/admin/partnerships/new").await;
        let token = b.csrf.lock().unwrap().clone();
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/admin/partnerships/new")
            .header("content-type", "application/json")
            .header("x-csrf-token", token)
            .body(axum::body::Body::from("{\"code\": \"X\"}"))
            .unwrap();
        let r = b.send(req).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("What you sent could not be read"));
    });
}

#[tokio::test]
async fn public_routes_answer_a_visitor_and_the_sign_in_steps_do_not() {
    let db = marac_store::testing::TestDb::sqlite().await;
    let app = TestApp::new(db).await;
    let anonymous = app.browser();
    let table = marac_web::routes::table(&app.state);
    let public: Vec<&str> =
        table.iter().filter(|r| r.access == marac_web::routes::Access::Public).map(|r| r.path).collect();
    for path in
        ["/sign-in", "/healthz", "/readyz", "/metrics", "/assets/{name}", "/favicon.ico", "/api/v1/openapi.json"]
    {
        assert!(public.contains(&path), "{path} is public");
        let path = path.replace("{name}", "app.css");
        assert_eq!(anonymous.get(&path).await.status, StatusCode::OK, "{path}");
    }
    assert_eq!(public.len(), 8, "only these are public (and POST /sign-in): {public:?}");
    for path in [
        "/",
        "/account",
        "/admin",
        "/audit",
        "/sign-in/two-factor",
        "/sign-in/set-up-two-factor",
        "/account/two-factor",
    ] {
        let r = anonymous.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path} is not public");
    }
    drop(anonymous);
    app.cleanup().await;
}

#[tokio::test]
async fn an_administrator_creates_an_agency_and_a_user_and_bad_input_keeps_what_was_typed() {
    each_backend!(|app| {
        app.user("admin@x.org", Role::Admin, true).await;
        let b = app.signed_in("admin@x.org").await;
        b.get("/admin/agencies/new").await;
        let marac = app.marac_id.to_string();
        let r = b
            .post(
                "/admin/agencies/new",
                &[("partnership", "1"), ("code", "x"), ("name", "Northshire <Housing>"), ("category", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("There is a problem"));
        assert!(r.body.contains("Code must be between 2 and 16 characters"));
        assert!(r.body.contains("Select the kind of agency"));
        assert!(r.body.contains("value=\"Northshire &#60;Housing&#62;\""), "kept and escaped: {}", r.body);
        let r = b
            .post(
                "/admin/agencies/new",
                &[
                    ("partnership", "1"),
                    ("code", "hous"),
                    ("name", "Northshire Housing"),
                    ("category", "housing"),
                    ("marac", &marac),
                ],
            )
            .await;
        assert_eq!(r.location(), "/admin/agencies");
        let agency = app.db.store.find_agency_by_code("HOUS").await.unwrap().unwrap();
        assert_eq!(agency.marac_ids, vec![app.marac_id]);
        b.get("/admin/agencies/new").await;
        let r = b
            .post(
                "/admin/agencies/new",
                &[("partnership", "1"), ("code", "HOUS"), ("name", "Again"), ("category", "housing")],
            )
            .await;
        assert!(r.body.contains("An agency already has that code"));

        b.get("/admin/users/new").await;
        let grant = format!("agency_rep:{}", app.marac_id);
        let r = b
            .post(
                "/admin/users/new",
                &[
                    ("email", "sam@housing.example"),
                    ("name", "Sam Lee"),
                    ("agency", ""),
                    ("password", "short"),
                    ("grant", &grant),
                ],
            )
            .await;
        assert!(r.body.contains("Password must be 12 characters or more"));
        assert!(r.body.contains("Select the person&#39;s agency"), "{}", r.body);
        assert!(r.body.contains("value=\"sam@housing.example\""));
        assert!(!r.body.contains("value=\"short\""), "the password is not sent back");
        let agency_id = agency.id.to_string();
        let r = b
            .post(
                "/admin/users/new",
                &[
                    ("email", "Sam@Housing.example"),
                    ("name", "Sam Lee"),
                    ("agency", &agency_id),
                    ("password", "a brand new pass phrase"),
                    ("grant", &grant),
                ],
            )
            .await;
        assert_eq!(r.location(), "/admin/users");
        let sam = app.db.store.find_user_by_email("sam@housing.example").await.unwrap().unwrap();
        assert_eq!(sam.agency_id, Some(agency.id));
        assert!(sam.has_role(Role::AgencyRep));
        let list = b.get(&format!("/admin/agencies/{}", agency.id)).await;
        assert!(list.body.contains("Sam Lee"), "representatives are listed on the agency");
        let actions = audit_actions(&app, "").await;
        assert!(actions.iter().any(|(a, _)| a == "agency.create"));
        assert!(actions.iter().any(|(a, _)| a == "user.create"));

        // The new user signs in.
        let sam_browser = app.browser_from("10.3.3.3");
        sam_browser.get("/sign-in").await;
        let r = sam_browser
            .post("/sign-in", &[("email", "sam@housing.example"), ("password", "a brand new pass phrase")])
            .await;
        assert_eq!(r.location(), "/");
        // Disabling ends their session at once.
        b.get(&format!("/admin/users/{}", sam.id)).await;
        let r = b.post(&format!("/admin/users/{}/disable", sam.id), &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(sam_browser.get("/").await.location(), "/sign-in");
    });
}

#[tokio::test]
async fn marac_settings_are_validated_and_saved() {
    each_backend!(|app| {
        app.user("admin@x.org", Role::Admin, true).await;
        let b = app.signed_in("admin@x.org").await;
        let path = format!("/admin/maracs/{}", app.marac_id);
        b.get(&path).await;
        let mut fields = vec![
            ("partnership", "1"),
            ("code", "TM"),
            ("name", "Test Marac"),
            ("area", "Testshire"),
            ("adult_female_population", "61,250"),
            ("cadence", "weekly"),
            ("high_risk_threshold", "0"),
            ("escalation_incidents", "5"),
            ("escalation_months", "12"),
            ("repeat_months", "12"),
            ("meeting_capacity", "16"),
            ("recommended_cases_per_10k", "40"),
            ("list_cutoff_days", "5"),
            ("flag_months", "40"),
        ];
        let r = b.post(&path, &fields).await;
        assert!(r.body.contains("Select when the attending agencies may start researching a case"), "{}", r.body);
        fields.push(("research_opens", "submission"));
        let r = b.post(&path, &fields).await;
        assert!(r.body.contains("The high-risk threshold must be between 1 and 40"), "{}", r.body);
        assert!(r.body.contains(r#"value="submission" checked"#), "what was chosen is kept");
        assert!(r.body.contains("How long a flag runs must be between 1 and 36"), "{}", r.body);
        fields[13] = ("flag_months", "24");
        assert!(r.body.contains("value=\"61,250\""));
        fields[6] = ("high_risk_threshold", "15");
        let r = b.post(&path, &fields).await;
        assert_eq!(r.location(), "/admin/maracs");
        let m = app.db.store.get_marac(app.marac_id).await.unwrap();
        assert_eq!(
            (m.rules.high_risk_threshold, m.rules.escalation_incidents, m.adult_female_population),
            (15, 5, 61_250)
        );
        assert_eq!((m.rules.list_cutoff_days, m.rules.flag_months), (5, 24));
        assert_eq!(m.rules.research_opens, marac_domain::marac_rules::ResearchOpens::OnSubmission);
    });
}

#[tokio::test]
async fn the_auditor_reads_and_filters_the_trail() {
    each_backend!(|app| {
        app.user("audit@x.org", Role::Auditor, false).await;
        let bad = app.browser();
        bad.get("/sign-in").await;
        bad.post("/sign-in", &[("email", "audit@x.org"), ("password", "wrong wrong wrong")]).await;
        let b = app.signed_in("audit@x.org").await;
        let r = b.get("/audit?action=sign_in&outcome=failure").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("sign_in.failure"));
        assert!(!r.body.contains("sign_in.success"));
        let r = b.get("/audit?from=not-a-date").await;
        assert!(r.body.contains("Enter dates as year-month-day"));
        assert!(audit_actions(&app, "audit.read").await.len() >= 2, "reading the trail is recorded");
    });
}

#[tokio::test]
async fn operations_endpoints() {
    each_backend!(|app| {
        let b = app.browser();
        let r = b.get("/healthz").await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "{\"status\":\"ok\"}"));
        let r = b.get("/readyz").await;
        assert!(r.status == StatusCode::OK && r.body.contains("\"ready\""));
        b.get("/sign-in").await;
        let r = b.get("/metrics").await;
        assert!(
            r.body.contains("marac_http_requests_total{method=\"GET\",route=\"/sign-in\",status=\"200\"}"),
            "{}",
            r.body
        );
        assert!(r.body.contains("marac_http_request_duration_seconds_bucket"));
        assert!(!r.header("x-request-id").is_empty());
    });
}

#[tokio::test]
async fn the_api_needs_a_live_token_and_answers_with_problem_json() {
    each_backend!(|app| {
        marac_store::install_shipped_checklists(app.db.store.as_ref(), app.state.clock.now()).await.unwrap();
        let kim = app.user("kim@x.org", Role::Referrer, false).await;
        token_for(&app, kim, "marac_pat_kim").await;
        for token in [None, Some("marac_pat_wrong")] {
            let r = api_get(&app, "/api/v1/checklists", token).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            let problem: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            insta::assert_json_snapshot!("api_without_a_live_token", problem);
            assert_eq!(r.header("content-type"), "application/problem+json");
            assert_eq!(r.header("www-authenticate"), "Bearer");
            assert_eq!(r.header("x-content-type-options"), "nosniff", "security headers on the API too");
        }
        let r = api_get(&app, "/api/v1/checklists", Some("marac_pat_kim")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let list: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(list.as_array().map(Vec::len), Some(3));
        let r = api_get(&app, "/api/v1/checklists/safelives-dash/2026.1", Some("marac_pat_kim")).await;
        let dash: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(dash["questions"].as_array().map(Vec::len), Some(24));
        assert_eq!(dash["high_risk_threshold"], 14);
        let r = api_get(&app, "/api/v1/checklists/no-such/1", Some("marac_pat_kim")).await;
        assert_eq!((r.status, r.header("content-type")), (StatusCode::NOT_FOUND, "application/problem+json"));
        let r = api_get(&app, "/api/v1/nothing-here", Some("marac_pat_kim")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // Someone holding no role is refused; a disabled user's and a revoked token stop working.
        let user = marac_store::NewUser {
            email: "norole@x.org".into(),
            name: "No Role".into(),
            agency_id: None,
            password_hash: "x".into(),
            is_demo: false,
            grants: vec![],
        };
        let norole =
            app.db.store.create_user(&user, marac_app::audit::system_event(&app.state, "t", "")).await.unwrap();
        token_for(&app, norole, "marac_pat_norole").await;
        assert_eq!(api_get(&app, "/api/v1/checklists", Some("marac_pat_norole")).await.status, StatusCode::FORBIDDEN);
        let lee = app.user("lee@x.org", Role::Idva, false).await;
        let lee_token = token_for(&app, lee, "marac_pat_lee").await;
        assert_eq!(api_get(&app, "/api/v1/checklists", Some("marac_pat_lee")).await.status, StatusCode::OK);
        let now = marac_store::Ts::new(app.state.clock.now());
        app.db
            .store
            .revoke_api_token(lee_token, lee, now, marac_app::audit::system_event(&app.state, "t", ""))
            .await
            .unwrap();
        assert_eq!(api_get(&app, "/api/v1/checklists", Some("marac_pat_lee")).await.status, StatusCode::UNAUTHORIZED);
        app.db.store.set_user_disabled(kim, true, marac_app::audit::system_event(&app.state, "t", "")).await.unwrap();
        assert_eq!(api_get(&app, "/api/v1/checklists", Some("marac_pat_kim")).await.status, StatusCode::UNAUTHORIZED);
    });
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_api_routes() {
    let db = marac_store::testing::TestDb::sqlite().await;
    let app = TestApp::new(db).await;
    marac_store::install_shipped_checklists(app.db.store.as_ref(), app.state.clock.now()).await.unwrap();
    let kim = app.user("kim@x.org", Role::Referrer, false).await;
    token_for(&app, kim, "marac_pat_kim").await;
    let r = api_get(&app, "/api/v1/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    // The whole contract, so any change to it shows in review as a change to this file.
    insta::assert_json_snapshot!("openapi_document", doc, { ".info.version" => "[version]" });
    let paths: Vec<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        paths,
        [
            "/actions",
            "/actions/{id}/reports",
            "/cases/{id}",
            "/cases/{id}/chronology",
            "/checklists",
            "/checklists/{id}/{version}",
            "/maracs",
            "/meetings",
            "/meetings/{id}/cases/{case}",
            "/referrals",
            "/referrals/{reference}",
            "/search"
        ]
    );
    // Every documented read answers as documented.
    for path in paths.iter().filter(|p| doc["paths"][p.as_str()]["get"].is_object()) {
        let concrete = path
            .replace("/meetings/{id}/cases/{case}", "/meetings/999/cases/999")
            .replace("/cases/{id}", "/cases/999")
            .replace("{id}", "safelives-dash")
            .replace("{version}", "2026.1")
            .replace("{reference}", "TM-2026-99999");
        let r = api_get(&app, &format!("/api/v1{concrete}"), Some("marac_pat_kim")).await;
        let missing = path.contains("{reference}") || path.contains("{case}") || path.starts_with("/cases/");
        let expected = if missing { StatusCode::NOT_FOUND } else { StatusCode::OK };
        assert_eq!(r.status, expected, "{path}");
        let documented: Vec<&String> =
            doc["paths"][path.as_str()]["get"]["responses"].as_object().unwrap().keys().collect();
        assert!(documented.contains(&&r.status.as_u16().to_string()), "{path} answered {} undocumented", r.status);
    }
    let post: Vec<&String> = doc["paths"]["/referrals"]["post"]["responses"].as_object().unwrap().keys().collect();
    assert_eq!(post, ["201", "303", "400", "401", "403", "409", "422", "503"]);
    let params = doc["paths"]["/referrals"]["post"]["parameters"].as_array().unwrap();
    assert!(params.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"), "{params:?}");
    assert!(doc["components"]["securitySchemes"]["token"].is_object());
    app.cleanup().await;
}

#[tokio::test]
async fn staying_signed_in_from_the_timeout_warning_keeps_the_session() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        let b = app.signed_in("kim@x.org").await;
        let page = b.get("/").await;
        let token = page.body.split("data-csrf=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        assert!(page.body.contains("data-idle-seconds=\"900\""));
        let keep = |with_token: bool| {
            let mut req = axum::http::Request::builder().method("POST").uri("/account/keep-alive");
            if with_token {
                req = req.header("x-csrf-token", token.clone());
            }
            req.body(axum::body::Body::empty()).unwrap()
        };
        assert_eq!(b.send(keep(false)).await.status, StatusCode::FORBIDDEN, "no token, no keep-alive");
        app.clock.advance(Duration::minutes(14));
        assert_eq!(b.send(keep(true)).await.status, StatusCode::NO_CONTENT);
        app.clock.advance(Duration::minutes(14));
        assert_eq!(b.get("/").await.status, StatusCode::OK, "28 minutes after the page, still signed in");
        app.clock.advance(Duration::minutes(16));
        // Too late: the session has ended, so its token no longer matches; the page then goes to
        // the sign-in page saying why.
        assert_eq!(b.send(keep(true)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(b.get("/").await.location(), "/sign-in");
    });
}

#[tokio::test]
async fn asking_how_long_is_left_does_not_extend_the_session() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        let b = app.signed_in("kim@x.org").await;
        app.clock.advance(Duration::minutes(10));
        let r = b.get("/account/session-status").await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "{\"remaining_seconds\":300}"));
        app.clock.advance(Duration::minutes(4));
        let r = b.get("/account/session-status").await;
        assert_eq!(r.body, "{\"remaining_seconds\":60}", "the first question did not reset the clock");
        app.clock.advance(Duration::minutes(2));
        assert_eq!(b.get("/account/session-status").await.location(), "/sign-in?ended=1");
    });
}

#[tokio::test]
async fn a_referral_is_written_page_by_page_triaged_and_researched() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("lee@x.org", Role::Referrer, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        app.user("rep@x.org", Role::AgencyRep, false).await;
        app.user("ana@x.org", Role::Analyst, false).await;
        app.user("adm@x.org", Role::Admin, true).await;
        // A health rep attending the same Marac, and a housing rep of an agency that does not.
        let event = || marac_app::audit::system_event(&app.state, "test.seed", "");
        let agency = |code: &str, maracs: Vec<i64>| marac_store::AgencyInput {
            partnership_id: 1,
            code: code.into(),
            name: format!("{code} agency"),
            category: marac_domain::AgencyCategory::SecondaryCare,
            marac_ids: maracs,
        };
        let p = s.list_partnerships().await.unwrap()[0].id;
        let health = s
            .create_agency(
                &marac_store::AgencyInput { partnership_id: p, ..agency("HEA", vec![app.marac_id]) },
                event(),
            )
            .await
            .unwrap();
        let housing = s
            .create_agency(
                &marac_store::AgencyInput { partnership_id: p, ..agency("HOU", vec![app.other_marac_id]) },
                event(),
            )
            .await
            .unwrap();
        for (email, agency_id) in [("hea@x.org", health), ("hou@x.org", housing)] {
            let id = app.user(email, Role::AgencyRep, false).await;
            let u = s.get_user(id).await.unwrap();
            let grant = marac_domain::policy::Grant {
                role: Role::AgencyRep,
                marac_id: Some(if agency_id == health { app.marac_id } else { app.other_marac_id }),
            };
            s.update_user(
                id,
                &marac_store::UserChanges { name: u.name, agency_id: Some(agency_id), grants: vec![grant] },
                event(),
            )
            .await
            .unwrap();
        }

        // A page with a mistake keeps what was typed and says what is wrong at the field.
        let kim = app.signed_in("kim@x.org").await;
        kim.get("/referrals").await;
        let id: i64 =
            kim.post("/referrals/new", &[]).await.location().trim_start_matches("/referrals/").parse().unwrap();
        kim.get(&format!("/referrals/{id}/victim")).await;
        let r = kim
            .post(
                &format!("/referrals/{id}/victim"),
                &[("victim.given_name", "Tess <b>"), ("victim.date_of_birth", "31/2/1990")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Enter a real date, like 27/3/2026"));
        assert!(r.body.contains("href=\"#victim-date_of_birth\""));
        assert!(
            r.body.contains("value=\"Tess &#60;b&#62;\"") || r.body.contains("value=\"Tess &lt;b&gt;\""),
            "typed value kept, escaped"
        );
        let r = kim.get(&format!("/referrals/{id}")).await;
        assert!(r.body.contains("In progress"), "the draft was saved");
        // Under 16: refused with the guidance.
        let r = kim
            .post(
                &format!("/referrals/{id}/victim"),
                &[("victim.given_name", "Tess"), ("victim.family_name", "Hale"), ("victim.age", "15")],
            )
            .await;
        assert!(
            r.body.contains("children&#39;s safeguarding") || r.body.contains("children's safeguarding"),
            "{}",
            r.body
        );

        // A complete 14-yes Dash is visible high risk.
        let referral = refer(&kim, &referral_fields(app.marac_id, "Jess", "Hale", "3/4/1990", 14)).await;
        let r = kim.get(&format!("/referrals/{referral}/submitted")).await;
        assert!(r.body.contains("TM-2026-00001"), "{}", r.body);
        assert!(r.body.contains("Visible high risk"));
        let r = kim.get("/referrals").await;
        assert!(r.body.contains("Jess Hale") && r.body.contains("Waiting for triage"));

        // Nobody else but the Marac's coordinator sees it.
        let ana = app.signed_in("ana@x.org").await;
        let adm = app.signed_in("adm@x.org").await;
        for (email, b) in [
            ("lee", &app.signed_in("lee@x.org").await),
            ("rep", &app.signed_in("rep@x.org").await),
            ("ana", &ana),
            ("adm", &adm),
            ("hou", &app.signed_in("hou@x.org").await),
        ] {
            assert_eq!(b.get(&format!("/referrals/{referral}")).await.status, StatusCode::FORBIDDEN, "{email}");
            assert!(!b.get("/referrals").await.body.contains("Jess Hale"), "{email}");
        }
        assert_eq!(
            app.signed_in("lee@x.org").await.get(&format!("/referrals/{referral}/victim")).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(app.signed_in("rep@x.org").await.get("/triage").await.status, StatusCode::FORBIDDEN);

        // The coordinator triages: the queue, the referral, then acceptance.
        let cora = app.signed_in("cora@x.org").await;
        let q = cora.get("/triage").await;
        assert!(q.body.contains("TM-2026-00001") && q.body.contains("Jess Hale"), "{}", q.body);
        assert!(cora.get(&format!("/referrals/{referral}")).await.body.contains("Save decision"));
        let r = cora.post(&format!("/referrals/{referral}/decision"), &[("decision", "decline")]).await;
        assert!(r.body.contains("Give the reason for declining"), "a decline needs a reason");
        let r = cora.post(&format!("/referrals/{referral}/decision"), &[("decision", "accept")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(kim.get("/referrals").await.body.contains("Accepted"));

        // Research: the Marac opens an accepted case to its agencies (its default), under its
        // confidentiality statement; a private note stays with its agency until shared.
        let case_id = s.get_referral(referral).await.unwrap().case_id.unwrap();
        let case = format!("/cases/{case_id}");
        let rep = app.signed_in("rep@x.org").await;
        let hea = app.signed_in("hea@x.org").await;
        let before = hea.get(&case).await;
        assert!(before.location().starts_with("/confidentiality/"), "accepted: open once the statement is confirmed");
        list_on_published_meeting(&app, case_id, referral, &[app.agency_id, health]).await;
        // Nothing of the Marac's cases until its statement is confirmed.
        let unconfirmed = rep.get("/research").await.body;
        assert!(!unconfirmed.contains("Jess Hale") && unconfirmed.contains("confidentiality statement"));
        support::confirm_statement(&app, &rep, app.marac_id).await;
        support::confirm_statement(&app, &hea, app.marac_id).await;
        assert!(rep.get("/research").await.body.contains("Jess Hale"));
        assert!(rep.get(&case).await.body.contains("Strangled last week"));
        let r = rep
            .post(
                &format!("{case}/notes"),
                &[("kind", "fact"), ("body", "Two call-outs in October; bail conditions end 1 December.")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(hea.get(&case).await.status, StatusCode::OK);
        assert!(!hea.get(&case).await.body.contains("bail conditions"), "another agency's private note is hidden");
        let hou = app.signed_in("hou@x.org").await;
        assert_eq!(hou.get(&case).await.status, StatusCode::FORBIDDEN, "an agency not attending sees nothing");
        assert!(!hou.get("/research").await.body.contains("Jess Hale"));
        for b in [&ana, &adm] {
            assert_eq!(b.get(&case).await.status, StatusCode::FORBIDDEN);
        }
        let note = s.list_research_notes(case_id, Some(app.agency_id)).await.unwrap()[0].id;
        assert_eq!(
            hea.post(&format!("{case}/notes/{note}/share"), &[]).await.status,
            StatusCode::NOT_FOUND,
            "only its agency shares a note"
        );
        rep.get(&case).await;
        rep.post(&format!("{case}/notes/{note}/share"), &[]).await;
        assert!(hea.get(&case).await.body.contains("bail conditions"));

        // Nothing in the database is readable without the key.
        let stored = s.get_referral(referral).await.unwrap();
        assert!(!stored.form_sealed.contains("Hale") && !stored.form_sealed.contains("Strangled"));

        // Every read left its audit event, and every refusal too.
        let views = audit_actions(&app, "referral.view").await;
        assert!(views.len() >= 10, "{views:?}");
        assert!(!audit_actions(&app, "case.view").await.is_empty());
        assert!(audit_actions(&app, "access.denied").await.len() >= 8);
    });
}

#[tokio::test]
async fn the_api_submits_referrals_with_the_form_rules_and_marks_repeats() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        let kim = app.user("kim@x.org", Role::Referrer, false).await;
        token_for(&app, kim, "marac_pat_kim").await;
        let ana = app.user("ana@x.org", Role::Analyst, false).await;
        token_for(&app, ana, "marac_pat_ana").await;
        let m = app.marac_id;

        // The Maracs a caller may refer to: the referrer's own, none for an analyst.
        let r = api_get(&app, "/api/v1/maracs", Some("marac_pat_kim")).await;
        let maracs: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(maracs.as_array().map(Vec::len), Some(1), "{maracs}");
        assert_eq!(maracs[0]["id"], m);
        assert_eq!(maracs[0]["high_risk_threshold"], 14);
        let r = api_get(&app, "/api/v1/maracs", Some("marac_pat_ana")).await;
        assert_eq!(r.body, "[]");

        // Bad input: every problem with a pointer to its field.
        let mut bad = referral_json(m, "Ann", "Bell", "3/4/1990", 9, "2026-11-20");
        bad["victim"]["age"] = serde_json::json!({ "years": 30 });
        bad["victim"]["date_of_birth"] = "".into();
        bad["victim"]["given_name"] = serde_json::Value::Null;
        bad["checklist"]["version"] = "no-such-checklist@1".into();
        bad["referral"]["incident_date"] = "2027-01-01".into();
        bad["perpetrators"][0]["age"] = 430.into();
        let (status, p) = api_post(&app, "marac_pat_kim", &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["pointer"], "/victim/age/years", "wrong types first: {p}");
        bad["victim"]["age"] = "thirty".into();
        let (_, p) = api_post(&app, "marac_pat_kim", &bad).await;
        let pointers: Vec<&str> =
            p["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        for expected in [
            "/victim/given_name",
            "/victim/age",
            "/checklist/version",
            "/referral/incident_date",
            "/perpetrators/0/age",
        ] {
            assert!(pointers.contains(&expected), "{expected} missing from {pointers:?}");
        }
        // The whole body, as a client reads it: every problem in page order, with its words.
        insta::assert_json_snapshot!("api_referral_with_bad_fields", p);
        let (status, _) =
            api_post(&app, "marac_pat_ana", &referral_json(m, "Ann", "Bell", "3/4/1990", 9, "2026-11-20")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "analysts do not refer");

        // 9 yes with judgement but no reason is refused at the field; with a reason it is accepted.
        let mut pj = referral_json(m, "Ann", "Bell", "3/4/1990", 9, "2026-11-20");
        pj["reason"]["professional_judgement"] = "yes".into();
        let (status, p) = api_post(&app, "marac_pat_kim", &pj).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(p["errors"][0]["pointer"], "/reason/professional_judgement_reason");
        pj["reason"]["professional_judgement_reason"] =
            "Threats to kill since she left; he has found her new address.".into();
        let (status, first) = api_post(&app, "marac_pat_kim", &pj).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        insta::assert_json_snapshot!("api_referral_created", first, { ".reference" => "[reference]", ".id" => "[id]" });
        assert_eq!(first["criteria"], serde_json::json!(["professional_judgement"]));
        assert_eq!((first["score"].as_i64(), first["repeat"].as_bool()), (Some(9), Some(false)));
        let (_, other) =
            api_post(&app, "marac_pat_kim", &referral_json(m, "Cara", "Dunn", "5/6/1988", 15, "2026-11-20")).await;
        assert_eq!(other["criteria"], serde_json::json!(["visible_high_risk"]));

        // 11 months later the same people again: a repeat. 13 months after Cara's: not.
        app.clock.advance(Duration::days(334));
        let (_, again) =
            api_post(&app, "marac_pat_kim", &referral_json(m, "Ann", "Bell", "3/4/1990", 2, "2027-10-20")).await;
        assert_eq!(again["repeat"], true, "{again}");
        assert!(again["criteria"].as_array().unwrap().contains(&"repeat".into()));
        app.clock.advance(Duration::days(62));
        let (_, later) =
            api_post(&app, "marac_pat_kim", &referral_json(m, "Cara", "Dunn", "5/6/1988", 15, "2027-12-20")).await;
        assert_eq!(later["repeat"], false, "{later}");

        // Reading back: the referrer may, others are told it does not exist.
        let reference = first["reference"].as_str().unwrap();
        let r = api_get(&app, &format!("/api/v1/referrals/{reference}"), Some("marac_pat_kim")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("professional_judgement"));
        let r = api_get(&app, &format!("/api/v1/referrals/{reference}"), Some("marac_pat_ana")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(audit_actions(&app, "referral.view").await.len() == 1);
    });
}

#[tokio::test]
async fn a_coordinator_confirms_a_possible_match_and_the_referral_becomes_a_repeat_and_can_undo_it() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
        let kim = app.user("kim@x.org", Role::Referrer, false).await;
        token_for(&app, kim, "marac_pat_kim").await;
        app.user("coord@x.org", Role::Coordinator, true).await;
        let m = app.marac_id;
        let (status, first) =
            api_post(&app, "marac_pat_kim", &referral_json(m, "Katherine", "Smith", "7/3/1991", 15, "2026-11-20"))
                .await;
        assert_eq!(status, StatusCode::CREATED, "{first}");

        // Eleven months later: a nickname, a misspelling and the date of birth day-first. Not
        // certain, so not a repeat until the coordinator says it is the same person.
        app.clock.advance(Duration::days(334));
        let (_, again) =
            api_post(&app, "marac_pat_kim", &referral_json(m, "Kate", "Smyth", "3/7/1991", 15, "2027-10-20")).await;
        assert_eq!(again["repeat"], false, "{again}");
        let id = s.find_referral_by_reference(again["reference"].as_str().unwrap()).await.unwrap().unwrap().id;
        let candidates = s.referral_matches(id).await.unwrap();
        let victim = candidates.iter().find(|c| c.subject == "victim").expect("the earlier victim is a candidate");
        assert!(!victim.certain && victim.decidable && victim.confirmed.is_none(), "{victim:?}");
        let person = victim.person_id.to_string();

        let coord = app.signed_in("coord@x.org").await;
        let home = coord.get("/").await;
        assert!(home.body.contains("1</strong> referral with a possible match to answer"), "{}", home.body);
        let page = coord.get(&format!("/referrals/{id}")).await;
        assert!(page.body.contains("Possible match") && page.body.contains("Same person<span"), "{}", page.body);
        assert!(page.body.contains("day and month swapped: strong evidence"), "the evidence is explained");

        // Refusals: a referrer may not answer; a candidate the referral does not have is not
        // found; an answer that is neither is a bad request. Nothing changes.
        app.user("rita@x.org", Role::Referrer, false).await;
        let rita = app.signed_in("rita@x.org").await;
        rita.get("/").await;
        let r = rita
            .post(
                &format!("/referrals/{id}/matches"),
                &[("subject", "victim"), ("person", &person), ("answer", "same")],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = coord
            .post(
                &format!("/referrals/{id}/matches"),
                &[("subject", "victim"), ("person", "999999"), ("answer", "same")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = coord
            .post(
                &format!("/referrals/{id}/matches"),
                &[("subject", "victim"), ("person", &person), ("answer", "maybe")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = coord
            .post_raw(&format!("/referrals/{id}/matches"), &format!("subject=victim&person={person}&answer=same"))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token, no change");
        assert!(!s.get_referral(id).await.unwrap().is_repeat);

        // Confirmed: the two records count as one person. The person causing harm (the same
        // misspelt family name) is a candidate too; once both are confirmed it is a repeat.
        coord.get(&format!("/referrals/{id}")).await;
        let r = coord
            .post(
                &format!("/referrals/{id}/matches"),
                &[("subject", "victim"), ("person", &person), ("answer", "same")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(!s.get_referral(id).await.unwrap().is_repeat, "not yet: the person causing harm is not confirmed");
        let harm = candidates.iter().find(|c| c.subject == "perpetrator:1").expect("the earlier person causing harm");
        let r = coord
            .post(
                &format!("/referrals/{id}/matches"),
                &[("subject", "perpetrator:1"), ("person", &harm.person_id.to_string()), ("answer", "same")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(!coord.get("/").await.body.contains("possible match to answer"), "every candidate answered");
        let after = s.get_referral(id).await.unwrap();
        assert!(after.is_repeat && after.criteria.contains(&marac_domain::referral_rules::Criterion::Repeat));
        let page = coord.get(&format!("/referrals/{id}")).await;
        assert!(page.body.contains("Confirmed"));
        // A third referral of either spelling now finds one person, not two.
        let third = casework_candidates(&app, "Kate", "Smyth", "1991-07-03").await;
        assert_eq!(third.len(), 1, "{third:?}");

        // Undone: counted apart again, and no longer a repeat.
        let r = coord
            .post(
                &format!("/referrals/{id}/matches"),
                &[("subject", "victim"), ("person", &person), ("answer", "different")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let undone = s.get_referral(id).await.unwrap();
        assert!(!undone.is_repeat && !undone.criteria.contains(&marac_domain::referral_rules::Criterion::Repeat));
        assert_eq!(casework_candidates(&app, "Kate", "Smyth", "1991-07-03").await.len(), 2);
        assert_eq!(audit_actions(&app, "referral.match_confirm").await.len(), 2);
        assert_eq!(audit_actions(&app, "referral.match_reject").await.len(), 1);
    });
}

/// The known people a new referral of this person would be offered, as distinct people.
async fn casework_candidates(app: &TestApp, given: &str, family: &str, dob: &str) -> Vec<i64> {
    let person = marac_domain::matching::PersonDetails {
        given_name: given.into(),
        family_name: family.into(),
        date_of_birth: time::Date::parse(dob, &time::format_description::well_known::Iso8601::DATE).ok(),
        ..Default::default()
    };
    let partnership = app.db.store.get_marac(app.marac_id).await.unwrap().partnership_id;
    marac_app::casework::find_matches(&app.state, partnership, &person)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

#[tokio::test]
async fn the_directory_and_triage_decisions_refuse_those_who_may_not_change_them() {
    each_backend!(|app| {
        app.user("kim@x.org", Role::Referrer, false).await;
        app.user("cora@x.org", Role::Coordinator, true).await;
        let m = app.marac_id.to_string();
        let entry: &[(&str, &str)] =
            &[("marac", &m), ("kind", "coordinator"), ("name", "Ann Lee"), ("email", "ann@x.org")];
        let kim = app.signed_in("kim@x.org").await;
        assert_eq!(kim.get("/directory").await.status, StatusCode::OK, "anyone with a role reads the directory");
        assert_eq!(kim.post("/directory", entry).await.status, StatusCode::FORBIDDEN);
        let cora = app.signed_in("cora@x.org").await;
        cora.get("/directory").await;
        assert_eq!(cora.post("/directory", entry).await.status, StatusCode::SEE_OTHER);
        let id = app.db.store.list_directory().await.unwrap()[0].id;
        kim.get("/directory").await;
        assert_eq!(kim.post(&format!("/directory/{id}/remove"), &[]).await.status, StatusCode::FORBIDDEN);
        // A referral waiting for triage cannot be decided by its own referrer.
        let s = app.db.store.as_ref();
        let kim_id = s.find_user_by_email("kim@x.org").await.unwrap().unwrap().id;
        let draft = marac_store::NewDraft {
            marac_id: app.marac_id,
            referrer_user_id: kim_id,
            referring_agency_id: app.agency_id,
            form_sealed: marac_app::casework::seal(
                &app.state,
                marac_app::casework::Purpose::Form,
                &marac_domain::referral_form::FormMap::new(),
            )
            .unwrap(),
        };
        let rid = s.create_draft(&draft, marac_app::audit::system_event(&app.state, "test.seed", "")).await.unwrap();
        assert_eq!(
            kim.post(&format!("/referrals/{rid}/decision"), &[("decision", "accept")]).await.status,
            StatusCode::FORBIDDEN
        );
        let denials = audit_actions(&app, "access.denied").await;
        assert!(denials.len() >= 3, "{denials:?}");
    });
}

#[tokio::test]
async fn a_meeting_is_scheduled_keeping_what_was_typed_and_published_once_with_a_statement() {
    each_backend!(|app| {
        let MeetingStory { cora, .. } = meeting_story(&app).await;
        let statement = STATEMENT;
        // The coordinator schedules, proposes the list, and cannot publish without a statement.
        cora.get("/meetings").await;
        let marac = app.marac_id.to_string();
        let bad = cora
            .post(
                "/meetings",
                &[
                    ("marac", &marac),
                    ("kind", "one_off"),
                    ("format", "in_person"),
                    ("first", "1/1/2020"),
                    ("starts_at", "25:00"),
                ],
            )
            .await;
        assert!(
            bad.body.contains("The meeting must be today or later") && bad.body.contains("Enter the start time"),
            "{}",
            bad.body
        );
        assert!(bad.body.contains("value=\"1/1/2020\""), "what was typed is kept");
        let meeting = scheduled_meeting(&app, &cora).await;
        cora.get(&meeting).await;
        assert_eq!(cora.post(&format!("{meeting}/list"), &[("op", "propose")]).await.status, StatusCode::SEE_OTHER);
        let page = cora.get(&meeting).await;
        assert!(
            page.body.contains("TM-2026-00001") && !page.body.contains("Nina Vale"),
            "the builder shows references, not names"
        );
        let r = cora.post(&format!("{meeting}/publish"), &[("confirm", "yes")]).await;
        assert!(
            r.body.contains("Set the Marac&#x27;s confidentiality statement")
                || r.body.contains("confidentiality statement before publishing"),
            "{}",
            r.body
        );
        assert_eq!(
            cora.post(&format!("{meeting}/statement"), &[("statement", statement)]).await.status,
            StatusCode::SEE_OTHER
        );
        // Before publication an invited representative, even having confirmed, sees no list.
        app.user("rep2@x.org", Role::AgencyRep, false).await;
        let rep2 = app.signed_in("rep2@x.org").await;
        rep2.get(&meeting).await;
        assert_eq!(rep2.post(&format!("{meeting}/confirm"), &[("agree", "yes")]).await.status, StatusCode::SEE_OTHER);
        let early = rep2.get(&meeting).await;
        assert!(early.body.contains("not been published") && !early.body.contains("TM-2026-00001"), "{}", early.body);
        assert_eq!(rep2.get(&format!("{meeting}/minutes")).await.status, StatusCode::FORBIDDEN);
        // Publishing asks first, saying what it will do and whom it tells; asking changes nothing.
        let ask = cora.post(&format!("{meeting}/publish"), &[]).await;
        assert_eq!(ask.status, StatusCode::OK);
        assert!(ask.body.contains("Publish the list?") && ask.body.contains("The list holds 1 case"), "{}", ask.body);
        assert!(ask.body.contains(r#"name="confirm" value="yes""#), "{}", ask.body);
        assert!(ask.body.contains("<li>Test Police</li>"), "the agencies to be told: {}", ask.body);
        assert!(!rep2.get(&meeting).await.body.contains("TM-2026-00001"), "not published by asking");
        assert_eq!(cora.post(&format!("{meeting}/publish"), &[("confirm", "yes")]).await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            cora.post(&format!("{meeting}/publish"), &[("confirm", "yes")]).await.status,
            StatusCode::CONFLICT,
            "published once"
        );
        assert_eq!(cora.post(&format!("{meeting}/publish"), &[]).await.status, StatusCode::CONFLICT, "nothing to ask");

        assert!(audit_actions(&app, "meeting.publish").await.len() == 1, "published once, audited once");
    });
}

#[tokio::test]
async fn an_invited_representative_sees_no_case_until_confirming_and_the_api_applies_the_same_gates() {
    each_backend!(|app| {
        let MeetingStory { case_id, cora, .. } = meeting_story(&app).await;
        let meeting = published_meeting(&app, &cora).await;
        let hea = app.signed_in("hea@x.org").await;
        // An invited representative sees the meeting but no case until confirming.
        let page = hea.get(&meeting).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Confirm and see the cases") && !page.body.contains("Nina Vale"));
        let case_page = format!("{meeting}/cases/{case_id}");
        assert_eq!(hea.get(&case_page).await.status, StatusCode::FORBIDDEN);
        assert_eq!(hea.get(&format!("{meeting}/minutes")).await.status, StatusCode::FORBIDDEN);
        let hou = app.signed_in("hou@x.org").await;
        assert_eq!(hou.get(&meeting).await.status, StatusCode::NOT_FOUND, "not invited: not there");
        assert_eq!(hou.get(&case_page).await.status, StatusCode::NOT_FOUND);
        assert_eq!(hou.get(&format!("/cases/{case_id}")).await.status, StatusCode::FORBIDDEN);
        // The API applies the same gates.
        let api_case = format!("/api/v1{meeting}/cases/{case_id}");
        let r = api_get(&app, &api_case, Some("hea@x.org-token")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "not confirmed: {}", r.body);
        assert!(!r.body.contains("Strangled"));
        assert_eq!(
            api_get(&app, &api_case, Some("hou@x.org-token")).await.status,
            StatusCode::NOT_FOUND,
            "not invited"
        );
        assert_eq!(api_get(&app, &api_case, None).await.status, StatusCode::UNAUTHORIZED);
        let r = hea.post(&format!("{meeting}/confirm"), &[]).await;
        assert!(r.body.contains("Confirm that you will keep the information shared confidential"));
        assert_eq!(hea.post(&format!("{meeting}/confirm"), &[("agree", "yes")]).await.status, StatusCode::SEE_OTHER);
        assert!(hea.get(&meeting).await.body.contains("Nina Vale"));
        assert!(hea.get(&case_page).await.body.contains("Strangled last week"));
        assert_eq!(
            hea.post(&case_page, &[("information", "x"), ("outcome", "heard")]).await.status,
            StatusCode::FORBIDDEN,
            "representatives do not run the meeting"
        );

        assert!(audit_actions(&app, "access.denied").await.len() >= 8, "every refusal audited");
        assert!(!audit_actions(&app, "confidentiality.confirm").await.is_empty());
    });
}

#[tokio::test]
async fn the_chair_runs_the_meeting_the_agency_reports_its_action_and_the_minutes_show_it_all() {
    each_backend!(|app| {
        let s = app.db.store.as_ref();
        let MeetingStory { health, case_id, cora } = meeting_story(&app).await;
        let meeting = published_meeting(&app, &cora).await;
        let today = app.state.clock.today();
        let case_page = format!("{meeting}/cases/{case_id}");
        let api_case = format!("/api/v1{meeting}/cases/{case_id}");
        let hea = app.signed_in("hea@x.org").await;
        hea.get(&meeting).await;
        assert_eq!(hea.post(&format!("{meeting}/confirm"), &[("agree", "yes")]).await.status, StatusCode::SEE_OTHER);
        let hou = app.signed_in("hou@x.org").await;

        // The chair confirms, records attendance, the discussion and an action.
        let cha = app.signed_in("cha@x.org").await;
        assert_eq!(cha.get(&case_page).await.status, StatusCode::FORBIDDEN, "the chair confirms too");
        cha.get(&meeting).await;
        cha.post(&format!("{meeting}/confirm"), &[("agree", "yes")]).await;
        cha.get(&format!("{meeting}/attendance")).await;
        let r = cha
            .post(
                &format!("{meeting}/attendance"),
                &[
                    (format!("kind-{}", app.agency_id).as_str(), "present"),
                    (format!("name-{}", app.agency_id).as_str(), "PC Reed"),
                    (format!("kind-{health}").as_str(), "apologies"),
                    (format!("name-{health}").as_str(), "Dr Shah"),
                    (format!("sent-{health}").as_str(), "yes"),
                    ("observers", "Student social worker"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        cha.get(&case_page).await;
        let r = cha
            .post(&case_page, &[("information", "Police: two call-outs since October."), ("outcome", "deferred")])
            .await;
        assert!(
            r.body.contains("Give the reason the case is deferred") && r.body.contains("two call-outs"),
            "kept what was typed"
        );
        let r = cha
            .post(
                &case_page,
                &[
                    ("information", "Police: two call-outs since October."),
                    ("victim_voice", "She wants to stay."),
                    ("outcome", "heard"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let due = dmy(today + time::Duration::days(14));
        let health_id = health.to_string();
        let r = cha
            .post(
                &format!("{case_page}/actions"),
                &[
                    ("agency", health_id.as_str()),
                    ("owner", "Dr Shah"),
                    ("subject", "perpetrator"),
                    ("description", "Flag the address"),
                    ("due", due.as_str()),
                ],
            )
            .await;
        assert!(r.body.contains("Select the approach"), "{}", r.body);
        let r = cha
            .post(
                &format!("{case_page}/actions"),
                &[
                    ("agency", health_id.as_str()),
                    ("owner", "Dr Shah"),
                    ("subject", "perpetrator"),
                    ("approach", "disruption"),
                    ("description", "Share the bail conditions with the GP practice"),
                    ("due", due.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        // The representative reports the action done; another agency cannot.
        let tracker = hea.get("/actions").await;
        assert!(
            tracker.body.contains("Share the bail conditions") && tracker.body.contains("Nina Vale"),
            "{}",
            tracker.body
        );
        let action = s
            .list_actions(&marac_store::ActionFilter { case_id: Some(case_id), limit: 5, ..Default::default() })
            .await
            .unwrap()[0]
            .id;
        assert_eq!(hou.post(&format!("/actions/{action}"), &[("status", "done")]).await.status, StatusCode::FORBIDDEN);
        // The action's own page: its agency reads it (and the read is audited); another
        // agency is refused, and the refusal audited too.
        let page = hea.get(&format!("/actions/{action}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Share the bail conditions") && page.body.contains("Report progress"));
        assert_eq!(hou.get(&format!("/actions/{action}")).await.status, StatusCode::FORBIDDEN);
        let recent = s.list_audit(&AuditFilter { limit: 2, ..AuditFilter::default() }).await.unwrap();
        let recent: Vec<(&str, &str)> =
            recent.iter().map(|e| (e.event.action.as_str(), e.event.target.as_str())).collect();
        let target = format!("action:{action}");
        assert_eq!(recent, [("access.denied", target.as_str()), ("action.view", target.as_str())]);
        let r =
            hea.post(&format!("/actions/{action}"), &[("status", "not_done_agency"), ("note", "Rang twice.")]).await;
        assert!(r.body.contains("Select why it was not done"));
        assert!(r.body.contains(r#"aria-describedby="reason-error" aria-invalid="true""#), "{}", r.body);
        assert!(r.body.contains(r#"<option value="not_done_agency" selected>"#), "what was chosen is kept");
        assert!(r.body.contains(">Rang twice.</textarea>"), "what was typed is kept");
        assert_eq!(hea.post(&format!("/actions/{action}"), &[("status", "done")]).await.status, StatusCode::SEE_OTHER);

        // The minutes show it all.
        let minutes = cha.get(&format!("{meeting}/minutes")).await;
        for expected in [
            "OFFICIAL-SENSITIVE",
            "PC Reed",
            "Dr Shah",
            "(information sent)",
            "Student social worker: confirmed version 1",
            "two call-outs",
            "She wants to stay.",
            "Share the bail conditions",
            "Done",
            STATEMENT,
        ] {
            assert!(minutes.body.contains(expected), "{expected} missing from the minutes");
        }
        assert_eq!(hou.get(&format!("{meeting}/minutes")).await.status, StatusCode::NOT_FOUND);
        let r = api_get(&app, &api_case, Some("hea@x.org-token")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(json["outcome"], "heard");
        assert!(json["information"].as_str().unwrap().contains("two call-outs"));
        assert_eq!(json["actions"][0]["status"], "done");
        assert_eq!(api_get(&app, &api_case, Some("hou@x.org-token")).await.status, StatusCode::NOT_FOUND);
        for (action, at_least) in [
            ("meeting.case.view", 2),
            ("meeting.minutes.view", 1),
            ("confidentiality.confirm", 2),
            ("action.report", 1),
            ("meeting.publish", 1),
        ] {
            assert!(audit_actions(&app, action).await.len() >= at_least, "{action} not audited");
        }
        assert!(audit_actions(&app, "access.denied").await.len() >= 4, "every refusal audited");
    });
}
