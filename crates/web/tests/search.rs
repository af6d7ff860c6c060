//! Search: the words posted, never in an address; results at an opaque address for the session
//! that searched; only cases the searcher may see; every search audited without its words.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use marac_domain::Role;
use marac_store::AuditFilter;
use support::{MeetingStory, meeting_story};

/// Searches for `typed`; the address of the results.
async fn search(b: &support::Browser<'_>, typed: &str) -> String {
    b.get("/search").await;
    let r = b.post("/search", &[("q", typed)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{typed}: {}", r.body);
    let at = r.location().to_owned();
    assert!(at.starts_with("/search/") && at.len() > 30, "an opaque address: {at}");
    at
}

#[tokio::test]
async fn a_victim_is_found_by_what_a_caller_can_say_and_never_by_an_address() {
    each_backend!(|app| {
        let MeetingStory { case_id, cora, .. } = meeting_story(&app).await;
        let case_link = format!("href=\"/cases/{case_id}\"");
        for typed in [
            "Nina Vale",
            "nina vail",
            "Vale Nina",
            "Vale",
            "4/4/1990",
            "NS1 4AB",
            "Nina Vale 4/4/1990",
            "Nina Vale NS14AB",
        ] {
            let at = search(&cora, typed).await;
            assert!(!at.to_lowercase().contains("vale") && !at.contains("1990"), "{at}");
            let page = cora.get(&at).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains(&case_link), "{typed} finds Nina: {}", page.body);
            assert!(page.body.contains("4 April 1990") && page.body.contains("Awaiting a meeting"));
        }
        let reference = app
            .db
            .store
            .list_referrals(&marac_store::ReferralFilter { limit: 10, ..Default::default() })
            .await
            .unwrap();
        let reference = reference.iter().find_map(|r| r.reference.clone()).unwrap();
        assert!(cora.get(&search(&cora, &reference.to_lowercase()).await).await.body.contains(&case_link));
        for typed in ["Nina Vale 5/6/1971", "Mary Vale", "Nina Smith", "NS2 9ZZ", "XYZ-2020-00001"] {
            let page = cora.get(&search(&cora, typed).await).await;
            assert!(!page.body.contains(&case_link), "{typed} does not find Nina");
            assert!(page.body.contains("No cases you may see match"));
        }

        // Every search is audited with its count and a keyed hash of its words, never the words.
        let events = app
            .db
            .store
            .list_audit(&AuditFilter { action_prefix: Some("search".into()), limit: 500, ..AuditFilter::default() })
            .await
            .unwrap();
        let searches: Vec<_> = events.iter().filter(|e| e.event.action == "search").collect();
        assert_eq!(searches.len(), 14);
        for e in &events {
            let text = format!("{} {}", e.event.detail, e.event.target);
            assert!(!text.to_lowercase().contains("vale") && !text.contains("1990") && !text.contains("NS1"), "{text}");
        }
        let detail: serde_json::Value = serde_json::from_str(&searches[0].event.detail).unwrap();
        assert!(detail["results"].as_u64().is_some() && detail["terms"].as_str().unwrap().len() >= 32, "{detail}");
        assert!(
            events.iter().any(|e| e.event.action == "search.view" && e.event.detail.contains(&case_id.to_string()))
        );
    });
}

#[tokio::test]
async fn a_search_is_seen_only_by_its_session_and_only_finds_what_the_searcher_may_see() {
    each_backend!(|app| {
        let MeetingStory { case_id, cora, .. } = meeting_story(&app).await;
        let at = search(&cora, "Nina Vale").await;
        // The same person in another session, and someone else, find nothing there.
        app.clock.advance(time::Duration::seconds(31));
        let again = app.signed_in("cora@x.org").await;
        assert_eq!(again.get(&at).await.status, StatusCode::NOT_FOUND);
        let hea = app.signed_in("hea@x.org").await;
        assert_eq!(hea.get(&at).await.status, StatusCode::NOT_FOUND);
        assert_eq!(hea.get("/search/not-a-search").await.status, StatusCode::NOT_FOUND);

        // An agency with no part in the case finds nothing, though the name is right.
        let hou = app.signed_in("hou@x.org").await;
        let found = hou.get(&search(&hou, "Nina Vale").await).await;
        assert!(
            !found.body.contains(&format!("/cases/{case_id}")) && found.body.contains("No cases you may see match")
        );

        // Roles that read no cases have no search.
        app.user("analyst@x.org", Role::Analyst, false).await;
        let admin = app.signed_in("analyst@x.org").await;
        assert!(!admin.get("/account").await.body.contains("header-search"));
        assert_eq!(admin.get("/search").await.status, StatusCode::FORBIDDEN);
        assert_eq!(admin.post("/search", &[("q", "Nina Vale")]).await.status, StatusCode::FORBIDDEN);
        assert!(cora.get("/actions").await.body.contains("id=\"header-search\""), "every page's header has the box");

        // Words that cannot be searched for are said so beside the box, kept as typed.
        cora.get("/search").await;
        let bad = cora.post("/search", &[("q", "Vale #12")]).await;
        assert_eq!(bad.status, StatusCode::OK);
        assert!(bad.body.contains("Enter a name, a date of birth") && bad.body.contains("value=\"Vale #12\""));
        assert!(bad.body.contains("<title>Error: "));
        let empty = cora.post("/search", &[("q", "  ")]).await;
        assert!(empty.body.contains("Enter a name, date of birth, postcode or case reference"));
    });
}

#[tokio::test]
async fn the_api_searches_with_the_words_in_the_body_under_the_same_scope() {
    each_backend!(|app| {
        let MeetingStory { case_id, cora: cora_browser, .. } = meeting_story(&app).await;
        // The housing representative's agency does not attend this Marac, so they find nothing;
        // the health representative's does, and the Marac opens an accepted case to its agencies
        // (its default), so they find it; so does a coordinator's token.
        let (status, body) =
            support::api_search(&app, "hou@x.org-token", &serde_json::json!({ "q": "Nina Vale" })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["total"], 0);
        let (_, body) = support::api_search(&app, "hea@x.org-token", &serde_json::json!({ "q": "Nina Vale" })).await;
        assert_eq!(body["total"], 1, "{body}");
        // Found, but nothing of its people until the Marac's statement is confirmed.
        assert_eq!(
            (body["cases"][0]["statement_needed"].as_bool(), body["cases"][0]["victim"].as_str()),
            (Some(true), Some(""))
        );
        assert_eq!(body["cases"][0]["date_of_birth"], serde_json::Value::Null);
        let hea = app.signed_in("hea@x.org").await;
        hea.get("/search").await;
        let page = hea.post("/search", &[("q", "Nina Vale")]).await;
        let results = hea.get(page.location()).await.body;
        assert!(
            results.contains("Confirm the Marac&#39;s confidentiality statement to see this case")
                || results.contains("Confirm the Marac's confidentiality statement to see this case"),
            "{results}"
        );
        assert!(!results.contains(">Nina Vale<"), "{results}");
        support::confirm_statement(&app, &hea, app.marac_id).await;
        let (_, body) = support::api_search(&app, "hea@x.org-token", &serde_json::json!({ "q": "Nina Vale" })).await;
        assert_eq!(
            (body["cases"][0]["statement_needed"].as_bool(), body["cases"][0]["victim"].as_str()),
            (Some(false), Some("Nina Vale"))
        );
        let cora = app.db.store.find_user_by_email("cora@x.org").await.unwrap().unwrap().id;
        support::token_for(&app, cora, "cora-token").await;
        // A coordinator, too, once the Marac has a statement.
        support::confirm_statement(&app, &cora_browser, app.marac_id).await;
        let (status, body) = support::api_search(&app, "cora-token", &serde_json::json!({ "q": "vale nina" })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!((body["total"].as_u64(), body["cases"][0]["case_id"].as_i64()), (Some(1), Some(case_id)));
        assert_eq!(body["cases"][0]["stage"], "awaiting_meeting");
        assert_eq!(body["cases"][0]["date_of_birth"], "1990-04-04");
        let (status, body) = support::api_search(&app, "cora-token", &serde_json::json!({ "q": "#" })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["pointer"], "/q");
        let (status, _) = support::api_search(&app, "no-such-token", &serde_json::json!({ "q": "Vale" })).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        app.user("analyst@x.org", Role::Analyst, false).await;
        let analyst = app.db.store.find_user_by_email("analyst@x.org").await.unwrap().unwrap().id;
        support::token_for(&app, analyst, "analyst-token").await;
        let (status, _) = support::api_search(&app, "analyst-token", &serde_json::json!({ "q": "Vale" })).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "an analyst reads no cases");
    });
}
