//! Cross-referencing another agency's list with a Marac's people, for the upload page: read and
//! check the file, open the Marac's referrals, link the near-certain matches to their cases'
//! victims and children, seal the rows, and keep them for the installation's set number of
//! days. Only what was linked outlives the list.

use crate::App;
use crate::Error;
use crate::casework::{self, Purpose};
use marac_domain::agency_list::{self, ListRow};
use marac_domain::import::Problems;
use marac_domain::matching::PersonDetails;
use marac_domain::referral_form::{self as form, FormMap};
use marac_store::{NewAgencyList, NewSocialCareLink, ReferralFilter, ReferralStatus, Ts, User};
use std::collections::HashSet;

/// Most referrals opened for one list: far beyond any one Marac's history.
const MAX_REFERRALS: i64 = 200_000;

/// A Marac's person a list may name: the case, the referral whose form names them, and who
/// they are on it.
struct Subject {
    case_id: i64,
    referral_id: i64,
    subject: String,
    details: PersonDetails,
}

/// The victims and household members of a Marac's sent referrals, from each case's newest.
async fn subjects(state: &App, marac_id: i64) -> Result<Vec<Subject>, Error> {
    let filter = ReferralFilter {
        marac_ids: Some(vec![marac_id]),
        statuses: vec![ReferralStatus::Submitted, ReferralStatus::Accepted],
        limit: MAX_REFERRALS,
        ..ReferralFilter::default()
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    // Newest first, so each case's people are taken from its latest referral.
    for r in state.store.list_referrals(&filter).await? {
        let Some(case_id) = r.case_id.filter(|c| seen.insert(*c)) else { continue };
        let map: FormMap = casework::open(state, Purpose::Form, &r.form_sealed)?;
        let on = r.referral_date.unwrap_or_else(|| casework::today(state));
        out.push(Subject {
            case_id,
            referral_id: r.id,
            subject: "victim".into(),
            details: form::victim_details(&map, on),
        });
        for (i, details) in form::household_details(&map) {
            out.push(Subject { case_id, referral_id: r.id, subject: format!("household:{i}"), details });
        }
    }
    Ok(out)
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uploaded {
    /// The list's id.
    pub id: i64,
    /// Its rows.
    pub rows: usize,
    /// The Marac's people it linked.
    pub linked: usize,
}

/// Checks a list and, if every row is good, links it to the Marac's people and keeps it.
/// `Ok(Err(..))` is the report of what is wrong. The caller has authorised `by`.
///
/// # Errors
/// Store failures, or a stored referral that cannot be opened.
pub async fn upload(
    state: &App,
    by: &User,
    agency_id: i64,
    marac_id: i64,
    bytes: &[u8],
    audit: impl FnOnce(serde_json::Value) -> marac_domain::audit::NewAuditEvent,
) -> Result<Result<Uploaded, Problems>, Error> {
    let today = casework::today(state);
    let rows: Vec<ListRow> = match crate::import::check_csv(bytes, |header| agency_list::Checker::new(header, today)) {
        Ok(rows) => rows,
        Err(problems) => return Ok(Err(problems)),
    };
    let people = subjects(state, marac_id).await?;
    let details: Vec<PersonDetails> = people.iter().map(|p| p.details.clone()).collect();
    let links: Vec<NewSocialCareLink> = agency_list::links(&rows, &details)
        .into_iter()
        .filter_map(|l| {
            let (row, person) = (rows.get(l.row)?, people.get(l.person)?);
            Some(NewSocialCareLink {
                case_id: person.case_id,
                referral_id: person.referral_id,
                subject: person.subject.clone(),
                open: row.open,
                opened_on: row.opened_on,
                closed_on: row.closed_on,
                score: i64::from(l.score),
            })
        })
        .collect();
    let sealed = rows
        .iter()
        .map(|r| Ok((i64::try_from(r.line).unwrap_or(i64::MAX), casework::seal(state, Purpose::AgencyListRow, r)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    let now = state.clock.now();
    let keep = time::Duration::days(i64::from(state.list_retention_days));
    let list = NewAgencyList {
        marac_id,
        agency_id,
        uploaded_by: by.id,
        uploaded_at: Ts::new(now),
        delete_after: Ts::new(now + keep),
        rows: sealed,
        links,
    };
    let (row_count, linked) = (list.rows.len(), list.links.len());
    let event = audit(serde_json::json!({ "marac": marac_id, "rows": row_count, "linked": linked }));
    let id = state.store.add_agency_list(&list, event).await?;
    Ok(Ok(Uploaded { id, rows: row_count, linked }))
}

/// Deletes the rows of every list whose time is up, each deletion audited as the system's.
/// Returns how many lists were deleted.
///
/// # Errors
/// Store failures.
pub async fn delete_expired(state: &App) -> marac_store::StoreResult<usize> {
    let now = state.clock.now();
    let expired = state.store.expired_agency_lists(Ts::new(now)).await?;
    for id in &expired {
        let event = crate::audit::system_event(state, "agency_list.expire", &format!("agency_list:{id}"));
        match state.store.delete_agency_list(*id, Ts::new(now), event).await {
            // Another server's worker got there first.
            Ok(()) | Err(marac_store::StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(expired.len())
}
