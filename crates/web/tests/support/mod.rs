//! The test harness: the real router over a fresh database per test, a clock tests move,
//! and a small browser (cookie jar, CSRF tokens picked from the last page) to drive it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod smtp_sink;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use marac_app::clock::ManualClock;
use marac_app::crypto::SealingKey;
use marac_app::{crypto, password, totp};
use marac_domain::policy::Grant;
use marac_domain::{AgencyCategory, MaracRules, MeetingCadence, Role};
use marac_store::testing::TestDb;
use marac_store::{AgencyInput, MaracInput, NewUser, PartnershipInput};
use marac_web::{AppState, Keys, WebConfig};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use time::macros::datetime;
use tower::ServiceExt;

pub const PASSWORD: &str = "a long test pass phrase";
pub const KEYS: Keys = Keys { session_key: [3u8; 32], encryption: SealingKey { id: 1, key: [4u8; 32] } };
/// A fixed TOTP secret for users made with one.
pub const TOTP_SECRET: &[u8] = b"12345678901234567890";

pub fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| password::hash_blocking(PASSWORD).unwrap()).clone()
}

/// One application over one database.
pub struct TestApp {
    pub db: TestDb,
    pub state: AppState,
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub marac_id: i64,
    pub other_marac_id: i64,
    pub agency_id: i64,
}

impl TestApp {
    pub async fn new(db: TestDb) -> TestApp {
        Self::with_config(db, false).await
    }

    pub async fn with_config(db: TestDb, secure: bool) -> TestApp {
        let config = WebConfig {
            secure_cookies: secure,
            hsts: secure,
            second_factor_roles: vec![],
            demo: false,
            trust_proxy: false,
            suppress_below: marac_domain::suppression::DEFAULT_THRESHOLD,
            list_retention_days: marac_web::DEFAULT_LIST_RETENTION_DAYS,
        };
        Self::with(db, config).await
    }

    pub async fn with(db: TestDb, config: WebConfig) -> TestApp {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
        let state = AppState::new(db.store.clone(), config, KEYS, clock.clone());
        let router = marac_web::router(state.clone());
        let s = db.store.as_ref();
        let event = || marac_app::audit::system_event(&state, "test.seed", "");
        let p = s
            .create_partnership(
                &PartnershipInput { code: "TP".into(), name: "Test Partnership".into(), is_demo: false },
                event(),
            )
            .await
            .unwrap();
        let marac = |code: &str| MaracInput {
            partnership_id: p,
            code: code.into(),
            name: format!("{code} Marac"),
            area: "Testshire".into(),
            adult_female_population: 50_000,
            cadence: MeetingCadence::Monthly,
            rules: MaracRules::default(),
        };
        let marac_id = s.create_marac(&marac("TM"), event()).await.unwrap();
        let other_marac_id = s.create_marac(&marac("OM"), event()).await.unwrap();
        let agency_id = s
            .create_agency(
                &AgencyInput {
                    partnership_id: p,
                    code: "POL".into(),
                    name: "Test Police".into(),
                    category: AgencyCategory::Police,
                    marac_ids: vec![marac_id],
                },
                event(),
            )
            .await
            .unwrap();
        TestApp { db, state, router, clock, marac_id, other_marac_id, agency_id }
    }

    /// A user holding `role` (for the test Marac where the role is per Marac).
    pub async fn user(&self, email: &str, role: Role, with_totp: bool) -> i64 {
        self.user_in(email, role, self.marac_id, self.agency_id, with_totp).await
    }

    /// A user holding `role` for `marac_id` (where the role is per Marac), of `agency_id`
    /// (where the role needs one).
    pub async fn user_in(&self, email: &str, role: Role, marac_id: i64, agency_id: i64, with_totp: bool) -> i64 {
        let grant = Grant { role, marac_id: role.is_per_marac().then_some(marac_id) };
        let agency_id = role.needs_agency().then_some(agency_id);
        let user = NewUser {
            email: email.into(),
            name: format!("Test {}", role.label()),
            agency_id,
            password_hash: password_hash(),
            is_demo: false,
            grants: vec![grant],
        };
        let id = self
            .db
            .store
            .create_user(&user, marac_app::audit::system_event(&self.state, "test.seed", ""))
            .await
            .unwrap();
        if with_totp {
            let sealed = crypto::seal(&KEYS.encryption, &format!("user:{id}:totp"), TOTP_SECRET).unwrap();
            let codes: Vec<String> = vec![totp::recovery_code_hash(&KEYS.encryption.key, id, "aaaa-bbbb-cccc-dddd")];
            self.db
                .store
                .set_second_factor(id, &sealed, 0, &codes, marac_app::audit::system_event(&self.state, "test.seed", ""))
                .await
                .unwrap();
        }
        id
    }

    /// Another agency of the test partnership, attending `maracs`.
    pub async fn agency(&self, code: &str, category: AgencyCategory, maracs: &[i64]) -> i64 {
        let p = self.db.store.list_partnerships().await.unwrap()[0].id;
        let input = AgencyInput {
            partnership_id: p,
            code: code.into(),
            name: format!("Test {code}"),
            category,
            marac_ids: maracs.to_vec(),
        };
        self.db.store.create_agency(&input, marac_app::audit::system_event(&self.state, "test.seed", "")).await.unwrap()
    }

    pub fn now_code(&self) -> String {
        totp::code_at(TOTP_SECRET, self.state.clock.now().unix_timestamp())
    }

    pub fn browser(&self) -> Browser<'_> {
        self.browser_from("10.1.1.1")
    }

    pub fn browser_from(&self, ip: &str) -> Browser<'_> {
        Browser {
            app: self,
            cookies: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(String::new()),
            ip: ip.parse().unwrap(),
        }
    }

    /// Signs `email` in fully (with a TOTP code when the account has one).
    pub async fn signed_in(&self, email: &str) -> Browser<'_> {
        let b = self.browser();
        b.get("/sign-in").await;
        let r = b.post("/sign-in", &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "sign-in of {email} failed: {}", r.body);
        if r.location() == "/sign-in/two-factor" {
            b.get("/sign-in/two-factor").await;
            let code = self.now_code();
            let r = b.post("/sign-in/two-factor", &[("code", &code)]).await;
            assert_eq!(r.location(), "/", "second factor of {email} failed: {}", r.body);
        }
        b
    }

    pub async fn cleanup(self) {
        self.db.cleanup().await;
    }
}

/// What came back.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The body as sent, for files that are not text.
    pub bytes: Vec<u8>,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// A browser: keeps cookies, sends the CSRF token of the last page with each form.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: Mutex<BTreeMap<String, String>>,
    pub csrf: Mutex<String>,
    pub ip: std::net::IpAddr,
}

impl Browser<'_> {
    pub async fn send(&self, mut req: Request<Body>) -> Page {
        let cookie: String =
            self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        if !cookie.is_empty() {
            req.headers_mut().insert(header::COOKIE, cookie.parse().unwrap());
        }
        req.extensions_mut().insert(ConnectInfo(SocketAddr::new(self.ip, 40_000)));
        let response = self.app.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        for set in headers.get_all(header::SET_COOKIE) {
            let c = cookie::Cookie::parse(set.to_str().unwrap().to_owned()).unwrap();
            let mut jar = self.cookies.lock().unwrap();
            if c.max_age().is_some_and(|a| a.is_zero()) || c.value().is_empty() {
                jar.remove(c.name());
            } else {
                jar.insert(c.name().to_owned(), c.value().to_owned());
            }
        }
        if let Some(token) = body.split("name=\"_csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()) {
            *self.csrf.lock().unwrap() = token.to_owned();
        }
        Page { status, headers, body, bytes: bytes.to_vec() }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(Request::builder().uri(path).body(Body::empty()).unwrap()).await
    }

    /// Posts a form with the CSRF token of the last page seen.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.lock().unwrap().clone();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &serde_urlencoded::to_string(&all).unwrap()).await
    }

    /// Posts a body exactly as given.
    pub async fn post_raw(&self, path: &str, body: &str) -> Page {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(req).await
    }
}

/// Runs `$body` once per available backend with `$app` bound to a fresh [`TestApp`].
#[macro_export]
macro_rules! each_backend {
    (|$app:ident| $body:block) => {
        for db in marac_store::testing::TestDb::each_backend().await {
            eprintln!("-- on {:?}", db.backend);
            let $app = $crate::support::TestApp::new(db).await;
            $body
            $app.cleanup().await;
        }
    };
}

/// Every field of a complete referral: victim `given family`, born `dob`, with `yes` of the
/// Dash's 24 answered yes.
pub fn referral_fields(marac_id: i64, given: &str, family: &str, dob: &str, yes: usize) -> Vec<(String, String)> {
    let dash = marac_domain::checklist::Checklist::parse(marac_domain::checklist::SHIPPED[0]).unwrap();
    let mut f: Vec<(String, String)> = [
        ("referral.marac", marac_id.to_string().as_str()),
        ("referral.incident_date", "20/11/2026"),
        ("victim.given_name", given),
        ("victim.family_name", family),
        ("victim.date_of_birth", dob),
        ("victim.gender", "female"),
        ("victim.ethnicity", "white_british"),
        ("victim.disability", "no"),
        ("victim.lgbt", "no"),
        ("victim.pregnant", "no"),
        ("victim.interpreter", "no"),
        ("victim.postcode", "NS1 4AB"),
        ("perpetrators.0.given_name", "Lee"),
        ("perpetrators.0.family_name", family),
        ("perpetrators.0.date_of_birth", "2/2/1985"),
        ("perpetrators.0.gender", "male"),
        ("perpetrators.0.relationship", "ex_partner"),
        ("children.any", "yes"),
        ("children.0.name", "Robin"),
        ("children.0.date_of_birth", "1/9/2019"),
        ("children.0.relationship", "child_of_both"),
        ("children.0.known_to_social_care", "yes"),
        ("children.0.child_protection_plan", "no"),
        ("checklist.version", "safelives-dash@2026.1"),
        ("reason.professional_judgement", "no"),
        ("consent.given", "yes"),
        ("consent.victim_knows", "yes"),
        ("consent.previous_maracs", "no"),
        ("summary.text", "Strangled last week after separation; she wants to stay in the home."),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (i, q) in dash.questions().enumerate() {
        f.push((format!("checklist.answer.{}", q.id), if i < yes { "yes" } else { "no" }.to_owned()));
    }
    f
}

/// Puts a case on a newly scheduled meeting of the test Marac, inviting `agencies`, and
/// publishes the list.
pub async fn list_on_published_meeting(app: &TestApp, case_id: i64, referral_id: i64, agencies: &[i64]) -> i64 {
    let s = app.db.store.as_ref();
    let at = marac_store::Ts::new(app.state.clock.now());
    let event = || marac_app::audit::system_event(&app.state, "meeting.test", "");
    let meeting = marac_store::NewMeeting {
        marac_id: app.marac_id,
        kind: marac_domain::meeting_rules::MeetingKind::Regular,
        format: marac_domain::meeting_rules::MeetingFormat::InPerson,
        held_on: app.state.clock.today() + time::Duration::days(7),
        starts_at: "10:00".into(),
        closing_on: None,
        location: String::new(),
        chair_user_id: None,
        capacity: 16,
        list_cutoff_on: None,
        invited_agency_ids: agencies.to_vec(),
    };
    let id = s.create_meetings(&[meeting], at, event()).await.unwrap()[0];
    s.set_meeting_list(id, &[(case_id, referral_id)], at, event()).await.unwrap();
    let publication = marac_store::Publication { invited_agency_ids: agencies.to_vec() };
    s.publish_meeting(id, &publication, at, event()).await.unwrap();
    id
}

/// Fills in every page of a referral in the browser and sends it; returns its id.
pub async fn refer(b: &Browser<'_>, fields: &[(String, String)]) -> i64 {
    let id = draft_referral(b, fields).await;
    b.get(&format!("/referrals/{id}/check")).await;
    let r = b.post(&format!("/referrals/{id}/check"), &[]).await;
    assert_eq!(r.location(), format!("/referrals/{id}/submitted"), "{}", r.body);
    id
}

/// Every page of a referral filled in from `fields` in the browser, stopping before it is
/// sent; its id.
pub async fn draft_referral(b: &Browser<'_>, fields: &[(String, String)]) -> i64 {
    b.get("/referrals").await;
    let r = b.post("/referrals/new", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id: i64 = r.location().trim_start_matches("/referrals/").parse().unwrap();
    for section in marac_domain::referral_form::Section::ALL {
        let page = format!("/referrals/{id}/{}", section.slug());
        b.get(&page).await;
        let prefix = format!("{}.", section.prefix());
        let mine: Vec<(&str, &str)> =
            fields.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = b.post(&page, &mine).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}: {}", r.body);
    }
    id
}

pub async fn api_get(app: &TestApp, path: &str, token: Option<&str>) -> Page {
    let mut req = axum::http::Request::builder().uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    app.browser().send(req.body(axum::body::Body::empty()).unwrap()).await
}

pub async fn token_for(app: &TestApp, user_id: i64, token: &str) -> i64 {
    let event = marac_app::audit::system_event(&app.state, "api_token.create", "");
    app.db.store.create_api_token(user_id, "test", &marac_app::crypto::token_hash(token), event).await.unwrap()
}

pub async fn api_post(app: &TestApp, token: &str, body: &serde_json::Value) -> (StatusCode, serde_json::Value) {
    api_post_to(app, "/api/v1/referrals", token, body).await
}

/// `POST /api/v1/search` with `body`.
pub async fn api_search(app: &TestApp, token: &str, body: &serde_json::Value) -> (StatusCode, serde_json::Value) {
    api_post_to(app, "/api/v1/search", token, body).await
}

/// A JSON `POST` to `path` with `token`.
pub async fn api_post_to(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let r = app.browser().send(req).await;
    (r.status, serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null))
}

/// The API's nested form of [`referral_fields`].
pub fn referral_json(
    marac_id: i64,
    given: &str,
    family: &str,
    dob: &str,
    yes: usize,
    incident: &str,
) -> serde_json::Value {
    let mut v = serde_json::json!({});
    for (k, val) in referral_fields(marac_id, given, family, dob, yes) {
        let parts: Vec<&str> = k.split('.').collect();
        let mut at = &mut v;
        for p in &parts[..parts.len() - 1] {
            at = at.as_object_mut().unwrap().entry(p.to_string()).or_insert_with(|| serde_json::json!({}));
        }
        at[parts[parts.len() - 1]] = serde_json::Value::String(val);
    }
    v["referral"]["incident_date"] = incident.into();
    // Household members go in a list, as do people causing harm.
    let child = v["children"]["0"].take();
    v["children"].as_object_mut().unwrap().remove("0");
    v["children"]["members"] = serde_json::json!([child]);
    let perp = v["perpetrators"]["0"].take();
    v["perpetrators"] = serde_json::json!([perp]);
    v
}

/// The one-use `_once` token of the form on `body` that posts to `action`.
pub fn once_token(body: &str, action: &str) -> String {
    let form = body.split(&format!("action=\"{action}\"")).nth(1).unwrap_or_else(|| panic!("no form for {action}"));
    let form = form.split("</form>").next().unwrap();
    form.split("name=\"_once\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("a _once token").to_owned()
}

/// Sets the Marac's confidentiality statement if it has none, and has `b` read and confirm it
/// on its page, as anyone does before seeing the Marac's cases.
pub async fn confirm_statement(app: &TestApp, b: &Browser<'_>, marac_id: i64) {
    let s = app.db.store.as_ref();
    if s.current_statement(marac_id).await.unwrap().is_none() {
        let at = marac_store::Ts::new(app.state.clock.now());
        let event = marac_app::audit::system_event(&app.state, "confidentiality.statement", "");
        s.add_statement(marac_id, "What is shared about a case stays with those who need it.", None, at, event)
            .await
            .unwrap();
    }
    let page = b.get(&format!("/confidentiality/{marac_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let r = b.post(&format!("/confidentiality/{marac_id}"), &[("agree", "yes"), ("next", "/")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

/// The statement the meeting stories set before publishing.
pub const STATEMENT: &str =
    "Information shared at this meeting is confidential and used only to keep the victim and children safe.";

/// What every meeting story starts from: a referrer, a coordinator and a chair of the Marac,
/// representatives of a health agency working for it and of a housing agency working for the
/// other Marac (each with an API token named after their address), and Nina Vale's referral,
/// accepted as a case.
pub struct MeetingStory<'a> {
    /// The health agency.
    pub health: i64,
    /// Nina Vale's case.
    pub case_id: i64,
    /// The coordinator, signed in (a second factor's code is good once).
    pub cora: Browser<'a>,
}

pub async fn meeting_story(app: &TestApp) -> MeetingStory<'_> {
    let s = app.db.store.as_ref();
    marac_store::install_shipped_checklists(s, app.state.clock.now()).await.unwrap();
    app.user("kim@x.org", Role::Referrer, false).await;
    app.user("cora@x.org", Role::Coordinator, true).await;
    app.user("cha@x.org", Role::Chair, false).await;
    let event = || marac_app::audit::system_event(&app.state, "test.seed", "");
    let p = s.list_partnerships().await.unwrap()[0].id;
    let agency = |code: &str, marac: i64| marac_store::AgencyInput {
        partnership_id: p,
        code: code.into(),
        name: format!("{code} agency"),
        category: marac_domain::AgencyCategory::SecondaryCare,
        marac_ids: vec![marac],
    };
    let health = s.create_agency(&agency("HEA", app.marac_id), event()).await.unwrap();
    let housing = s.create_agency(&agency("HOU", app.other_marac_id), event()).await.unwrap();
    for (email, agency_id) in [("hea@x.org", health), ("hou@x.org", housing)] {
        let user = marac_store::NewUser {
            email: email.into(),
            name: "Rep".into(),
            agency_id: Some(agency_id),
            password_hash: password_hash(),
            is_demo: false,
            grants: vec![marac_domain::policy::Grant { role: Role::AgencyRep, marac_id: Some(app.marac_id) }],
        };
        let id = s.create_user(&user, event()).await.unwrap();
        token_for(app, id, &format!("{email}-token")).await;
    }
    let kim = app.signed_in("kim@x.org").await;
    let referral = refer(&kim, &referral_fields(app.marac_id, "Nina", "Vale", "4/4/1990", 15)).await;
    let cora = app.signed_in("cora@x.org").await;
    cora.get(&format!("/referrals/{referral}")).await;
    cora.post(&format!("/referrals/{referral}/decision"), &[("decision", "accept")]).await;
    let case_id = s.get_referral(referral).await.unwrap().case_id.unwrap();
    MeetingStory { health, case_id, cora }
}

/// A day as people type it.
pub fn dmy(d: time::Date) -> String {
    format!("{}/{}/{}", d.day(), u8::from(d.month()), d.year())
}

/// A one-off meeting in a week, with the waiting case proposed onto its list, the Marac's
/// statement set and the list published by the coordinator; its address.
pub async fn published_meeting(app: &TestApp, cora: &Browser<'_>) -> String {
    let meeting = scheduled_meeting(app, cora).await;
    cora.get(&meeting).await;
    assert_eq!(cora.post(&format!("{meeting}/list"), &[("op", "propose")]).await.status, StatusCode::SEE_OTHER);
    let set = cora.post(&format!("{meeting}/statement"), &[("statement", STATEMENT)]).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    assert_eq!(cora.post(&format!("{meeting}/publish"), &[("confirm", "yes")]).await.status, StatusCode::SEE_OTHER);
    meeting
}

/// A one-off meeting in a week, in Room 4, scheduled by the coordinator; its address.
pub async fn scheduled_meeting(app: &TestApp, cora: &Browser<'_>) -> String {
    let today = app.state.clock.today();
    let marac = app.marac_id.to_string();
    let r = cora
        .post(
            "/meetings",
            &[
                ("marac", &marac),
                ("kind", "one_off"),
                ("format", "in_person"),
                ("first", &dmy(today + time::Duration::days(7))),
                ("starts_at", "10:00"),
                ("location", "Room 4"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    r.location().to_owned()
}

/// The chair confirms the published `meeting`'s statement and records `case_id` as heard; the
/// chair, signed in.
pub async fn hear_case<'a>(app: &'a TestApp, meeting: &str, case_id: i64) -> Browser<'a> {
    let cha = app.signed_in("cha@x.org").await;
    cha.get(meeting).await;
    assert_eq!(cha.post(&format!("{meeting}/confirm"), &[("agree", "yes")]).await.status, StatusCode::SEE_OTHER);
    let case_page = format!("{meeting}/cases/{case_id}");
    cha.get(&case_page).await;
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
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    cha
}

/// A system audit event for set-up done straight on the store.
pub fn event(app: &TestApp) -> marac_domain::audit::NewAuditEvent {
    marac_app::audit::system_event(&app.state, "test.seed", "")
}

/// A day as pages write it: "6 December 2026".
pub fn display(d: time::Date) -> String {
    marac_domain::uk_time::date(d)
}
