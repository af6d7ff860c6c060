//! Importing a Marac's history through the upload page, on SQLite and PostgreSQL: a file with
//! bad rows is refused whole with every problem listed; a good file imports (repeats of one
//! victim and perpetrator join one case, heard cases get their meeting) and a second run adds
//! nothing; only coordinators may, for their own Maracs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use marac_domain::Role;
use marac_store::{ReferralFilter, ReturnScope};
use support::{Browser, Page, TestApp};
use time::macros::date;

const HEADER: &str = "source_reference,marac,referral_date,referring_agency,joint_agency,victim_given_name,victim_family_name,\
victim_date_of_birth,victim_gender,victim_ethnicity,perpetrator_given_name,perpetrator_family_name,perpetrator_age,\
perpetrator_relationship,criteria,repeat,children,children_known_to_social_care,heard_at";

async fn upload(b: &Browser<'_>, csrf: bool, file: &str) -> Page {
    let token = b.csrf.lock().unwrap().clone();
    let boundary = "XyZmaracBoundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"history.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    );
    let uri = if csrf { format!("/returns/import?_csrf={token}") } else { "/returns/import".to_owned() };
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    b.send(req).await
}

async fn referrals(app: &TestApp) -> usize {
    let filter = ReferralFilter { marac_ids: Some(vec![app.marac_id]), limit: 1000, ..Default::default() };
    app.db.store.list_referrals(&filter).await.unwrap().len()
}

#[tokio::test]
async fn a_history_imports_whole_or_not_at_all_and_only_once() {
    each_backend!(|app| {
        app.user("cora@x.org", Role::Coordinator, true).await;
        app.user("kim@x.org", Role::Referrer, false).await;
        let b = app.signed_in("cora@x.org").await;
        let page = b.get("/returns/import").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("source_reference") && page.body.contains("asian_pakistani"));
        let template = b.get("/returns/import/template.csv").await;
        assert!(template.body.starts_with("source_reference,marac,referral_date"));
        b.get("/returns/import").await;

        // A million bad lines: a report of the first 100 problems and a count of the rest.
        let million = format!("{HEADER}\n{}", "x\n".repeat(1_000_000));
        let r = upload(&b, true, &million).await;
        assert_eq!(r.status, StatusCode::OK);
        let table = r.body.split("id=\"problems\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert_eq!(table.matches("govuk-table__row").count() - 1, 100, "100 problems listed");
        assert!(r.body.contains("and 999,"), "{}", &r.body[..3000]);
        assert!(r.body.contains("more rows with problems"));
        assert!(r.body.len() < 200_000, "a page of {} bytes", r.body.len());
        // A header of a million columns is one problem, not a million.
        b.get("/returns/import").await;
        let r = upload(&b, true, &format!("{}\nx\n", "c,".repeat(1_000_000))).await;
        assert!(r.body.contains("The header has 1000001 columns"), "{}", &r.body[..3000]);
        b.get("/returns/import").await;

        // Bad rows: every problem with its line, and nothing written.
        let bad = format!(
            "{HEADER}\n\
             R1,TM,3/7/2024,POL,,Kate,Smyth,3/7/1991,female,black_african,Lee,Ward,34,ex_partner,visible_high_risk,no,2,1,24/7/2024\n\
             R2,XX,31/2/2024,POL,,Ann,Bell,,,,Tom,Bell,,,,,,,\n\
             R3,TM,3/7/2024,POL,,Jo,Lane,,female,purple,Sam,Lane,,,,,1,3,1/7/2024\n"
        );
        let r = upload(&b, true, &bad).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("Nothing was imported from history.csv"), "{}", r.body);
        for (line, what) in [
            ("3", "No Marac has the code"),
            ("3", "is not a date"),
            ("4", "is not one of the codes"),
            ("4", "The meeting must be on or after the referral"),
            ("4", "Fewer children"),
        ] {
            assert!(r.body.contains(what), "line {line}: {what}");
        }
        assert_eq!(referrals(&app).await, 0, "nothing written");

        // A good file: a victim referred twice with the same perpetrator (one case, the second
        // a repeat), both heard; a third referral not heard.
        let good = format!(
            "{HEADER}\n\
             R1,TM,3/7/2024,POL,,Kate,Smyth,3/7/1991,female,black_african,Lee,Ward,34,ex_partner,visible_high_risk,no,2,1,24/7/2024\n\
             R2,tm,1/3/2025,POL,,Kate,Smyth,3/7/1991,female,black_african,Lee,Ward,35,ex_partner,repeat,yes,2,1,20/3/2025\n\
             R3,TM,5/5/2025,POL,,Jo,Lane,,female,,Sam,Lane,16,family,,no,0,0,\n"
        );
        let r = upload(&b, true, &good).await;
        assert!(r.body.contains("3 referrals added; 0 already imported; 2 meetings made"), "{}", r.body);
        assert_eq!(referrals(&app).await, 3);
        let s = app.db.store.as_ref();
        let all = s
            .list_referrals(&ReferralFilter { marac_ids: Some(vec![app.marac_id]), limit: 10, ..Default::default() })
            .await
            .unwrap();
        let kate: Vec<_> =
            all.iter().filter(|r| r.referral_date != Some(time::macros::date!(2025 - 05 - 05))).collect();
        assert_eq!(kate.len(), 2);
        assert_eq!(kate[0].case_id, kate[1].case_id, "the same victim and perpetrator are one case");
        let scope =
            ReturnScope { marac_ids: vec![app.marac_id], from: date!(2024 - 01 - 01), to: date!(2025 - 12 - 31) };
        let heard = s.meeting_returns(&scope).await.unwrap();
        assert_eq!(heard.len(), 2);
        let total = marac_domain::safelives_return::MeetingCounts::total(heard.iter().map(|m| &m.counts));
        assert_eq!((total.cases, total.repeats, total.children, total.minoritised.yes), (2, 1, 4, 2));

        // Again: nothing twice.
        b.get("/returns/import").await;
        let r = upload(&b, true, &good).await;
        assert!(r.body.contains("0 referrals added; 3 already imported; 0 meetings made"), "{}", r.body);
        assert_eq!(referrals(&app).await, 3);

        // Refusals: no token, not a coordinator, a Marac the coordinator does not run.
        assert_eq!(upload(&b, false, &good).await.status, StatusCode::FORBIDDEN);
        let k = app.signed_in("kim@x.org").await;
        assert_eq!(k.get("/returns/import").await.status, StatusCode::FORBIDDEN);
        assert_eq!(k.get("/returns/import/template.csv").await.status, StatusCode::FORBIDDEN);
        k.get("/").await;
        assert_eq!(upload(&k, true, &good).await.status, StatusCode::FORBIDDEN);
        let other = format!("{HEADER}\nX1,OM,3/7/2024,POL,,A,B,,,,C,D,,,,,,,\n");
        let r = upload(&b, true, &other).await;
        assert!(r.body.contains("You do not coordinate this Marac"), "{}", r.body);
    });
}
