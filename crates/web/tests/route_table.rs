//! The route table: every route the service answers is declared once with who may reach it,
//! and every one of them, walked for a visitor who is not signed in and for each role on both
//! databases, refuses exactly those its gate refuses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use marac_domain::Role;
use marac_store::AuditFilter;
use marac_web::routes::{API_ROUTES, Access, Route};
use support::TestApp;

/// An address for the route's pattern, naming records that do not exist so that a handler
/// the gate lets through changes nothing.
fn address(route: &Route) -> String {
    let mut out = String::new();
    for part in route.path.split('/').skip(1) {
        out.push('/');
        out.push_str(match part {
            "{name}" => "app.css",
            "{section}" => "victim",
            "{reference}" => "NSN-2000-99999",
            "{version}" => "9",
            p if p.starts_with('{') => "999999",
            p => p,
        });
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

async fn ask(b: &support::Browser<'_>, route: &Route, path: &str) -> support::Page {
    if route.method == "GET" { b.get(path).await } else { b.post(path, &[]).await }
}

async fn call_api(app: &TestApp, route: &Route, path: &str, token: Option<&str>) -> support::Page {
    let mut req = axum::http::Request::builder().method(route.method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if route.method == "POST" {
        req = req.header("content-type", "application/json");
    }
    app.browser().send(req.body(axum::body::Body::from(if route.method == "POST" { "{}" } else { "" })).unwrap()).await
}

#[tokio::test]
async fn every_route_refuses_a_visitor_who_is_not_signed_in_unless_it_is_public() {
    each_backend!(|app| {
        let table = marac_web::routes::table(&app.state);
        let visitor = app.browser();
        visitor.get("/sign-in").await;
        for route in &table {
            let path = address(route);
            let r = if route.access.is_api() {
                call_api(&app, route, &path, None).await
            } else {
                ask(&visitor, route, &path).await
            };
            match route.access {
                _ if route.access.is_api() => {
                    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{} {path}", route.method);
                }
                Access::Public => {
                    if route.method == "GET" && !path.contains("999999") {
                        assert_eq!(r.status, StatusCode::OK, "{} {path} is public", route.method);
                    }
                }
                _ => {
                    assert_eq!(r.status, StatusCode::SEE_OTHER, "{} {path} is not public: {}", route.method, r.body);
                    assert!(r.location().starts_with("/sign-in"), "{} {path} leads to {}", route.method, r.location());
                }
            }
        }
    });
}

#[tokio::test]
async fn every_route_refuses_the_roles_its_gate_refuses_and_lets_the_others_reach_the_handler() {
    each_backend!(|app| {
        let table = marac_web::routes::table(&app.state);
        let mut refusals = 0;
        for role in Role::ALL.iter().copied() {
            let email = format!("{}@x.org", role.code());
            let user_id = app.user(&email, role, true).await;
            let user = app.db.store.get_user(user_id).await.unwrap();
            let actor = marac_web::session::actor_of(&user);
            let token = format!("marac_pat_{}", role.code());
            support::token_for(&app, user_id, &token).await;
            let b = app.signed_in(&email).await;
            b.get("/account").await;
            for route in &table {
                // Signing in and out is the session's own business; public routes were walked
                // above.
                let Some(gate) = route.access.gate() else { continue };
                let path = address(route);
                let r = if route.access.is_api() {
                    call_api(&app, route, &path, Some(&token)).await
                } else {
                    ask(&b, route, &path).await
                };
                let what = format!("{} {path} as {role:?}", route.method);
                if gate.admits(&actor).is_err() {
                    refusals += 1;
                    let refused = if route.access.hides() { StatusCode::NOT_FOUND } else { StatusCode::FORBIDDEN };
                    assert_eq!(r.status, refused, "{what} is refused by {gate:?}: {}", r.body);
                } else {
                    assert!(!r.status.is_server_error(), "{what} failed: {} {}", r.status, r.body);
                    assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{what}");
                    assert!(!r.location().starts_with("/sign-in"), "{what} lost the session");
                }
            }
        }
        let filter =
            AuditFilter { action_prefix: Some("access.denied".into()), limit: 10_000, ..AuditFilter::default() };
        let recorded = app.db.store.list_audit(&filter).await.unwrap().len();
        assert!(recorded >= refusals, "every refusal is in the audit trail: {recorded} of {refusals}");
        assert!(refusals > 100, "the walk refused something for every role but the broadest: {refusals}");
    });
}

#[tokio::test]
async fn the_api_routes_in_the_table_are_the_operations_of_its_openapi_document() {
    let (_, doc) = marac_web::api::routes();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in &doc.paths.paths {
        let ops = [("GET", item.get.is_some()), ("POST", item.post.is_some()), ("PUT", item.put.is_some())];
        for (method, present) in ops {
            if present {
                documented.push((method.to_owned(), format!("/api/v1{path}")));
            }
        }
    }
    documented.push(("GET".to_owned(), "/api/v1/openapi.json".to_owned()));
    documented.sort();
    let mut tabled: Vec<(String, String)> =
        API_ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    tabled.sort();
    assert_eq!(documented, tabled, "every API operation has one entry in routes::API_ROUTES");
}

/// Routers are made in one place: the table's builder. A `.route(...)` written anywhere else
/// would serve an address nobody declared who may reach, so this fails on it.
#[test]
fn no_route_is_added_outside_the_table() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src.clone()];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for call in [".route(", ".nest(", ".nest_service(", ".route_service("] {
                    if !code.contains(call) {
                        continue;
                    }
                    // The builder's own call, and the API document's address (tabled in
                    // API_ROUTES, whose agreement with the document is tested above).
                    let allowed = (name == "routes/table.rs" && code.contains("self.router.route(path, handler)"))
                        || (name == "api/mod.rs"
                            && (code.contains(".route(\"/openapi.json\"") || code.contains(".nest(")));
                    if !allowed {
                        found.push(format!("{name}:{}: {}", n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "routes added outside the route table (add them with Table::get/post):\n{}",
        found.join("\n")
    );
}
