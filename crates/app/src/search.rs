//! Searching for cases by what a caller can say about the victim: the terms read by the domain
//! (`marac_domain::search`), looked up in the people index under the searcher's partnerships,
//! each candidate tested by the person matcher, and the cases of those found listed by the
//! database under the searcher's scope, newest first, a page at a time.

use crate::casework::{self, Purpose};
use crate::payloads::StoredPerson;
use crate::{App, Error};
use marac_domain::case_stage::CaseStage;
use marac_domain::paging::{Page, PageRequest};
use marac_domain::policy::{Action, Actor, CaseScope, authorise};
use marac_domain::referral_form::{FormMap, field, parse_date};
use marac_domain::search::SearchTerms;
use marac_store::{CaseFilter, CaseOrder};
use time::Date;

/// The most candidates read from the index per partnership: a family name alone can be shared
/// by thousands, and the ones sharing most keys with the terms come first.
const MOST_CANDIDATES: i64 = 1_000;

/// A case found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The case.
    pub case_id: i64,
    /// Its Marac.
    pub marac_id: i64,
    /// Its latest referral's reference.
    pub reference: String,
    /// The victim's name on that referral.
    pub victim: String,
    /// The victim's date of birth, if given.
    pub born: Option<Date>,
    /// The victim's postcode, if given.
    pub postcode: String,
    /// Where the case stands.
    pub stage: Option<CaseStage>,
    /// The meeting its stage concerns.
    pub stage_meeting_on: Option<Date>,
    /// The day of that referral.
    pub referral_date: Option<Date>,
    /// The searcher has not confirmed the case's Marac's confidentiality statement: the case is
    /// found, but its victim's name, date of birth and postcode are not shown until they do.
    pub statement_needed: bool,
}

/// A keyed hash of what was searched for, for the audit trail: the same words give the same
/// hash, so an auditor can tell repeated searches apart, but the trail (which outlives any
/// erasure) never holds a name.
#[must_use]
pub fn terms_hash(state: &App, typed: &str) -> String {
    let normal: String = typed.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    crate::crypto::hmac(&state.keys.encryption.key, &[b"search-terms", normal.as_bytes()])
}

/// The cases `actor` may see that answer `terms`, as the database filters them; `None` when
/// nothing can answer (no scope, an unknown reference, no one found).
async fn filter_for(
    state: &App,
    actor: &Actor,
    terms: &SearchTerms,
    page: PageRequest,
) -> Result<Option<CaseFilter>, Error> {
    let maracs = state.store.list_maracs().await?;
    let all: Vec<i64> = maracs.iter().map(|m| m.id).collect();
    let scope = CaseScope::of(actor, &all);
    if scope.is_empty() {
        return Ok(None);
    }
    let mut filter = CaseFilter { scope: scope.clone(), order: CaseOrder::Newest, page, ..CaseFilter::default() };
    if let Some(reference) = &terms.reference {
        match state.store.find_referral_by_reference(reference).await? {
            Some(r) => filter.case_ids = Some(r.case_id.into_iter().collect()),
            None => return Ok(None),
        }
    }
    if !terms.is_reference_only() {
        let mut partnerships: Vec<i64> = maracs
            .iter()
            .filter(|m| scope.whole_maracs.contains(&m.id) || scope.practitioner_maracs.contains(&m.id))
            .map(|m| m.partnership_id)
            .collect();
        partnerships.sort_unstable();
        partnerships.dedup();
        let keys = terms.keys();
        let mut people = Vec::new();
        for partnership in partnerships {
            let hashed = casework::hashed_keys(state, partnership, &keys);
            for known in state.store.find_people(partnership, &hashed, MOST_CANDIDATES).await? {
                let details: StoredPerson = casework::open(state, Purpose::Person, &known.details_sealed)?;
                if terms.admits(&details.into()) {
                    people.push(known.counted_as());
                }
            }
        }
        people.sort_unstable();
        people.dedup();
        if people.is_empty() {
            return Ok(None);
        }
        filter.victim_person_ids = Some(people);
    }
    Ok(Some(filter))
}

/// How many cases `actor` may see answer `terms`, counted by the database without opening any.
///
/// # Errors
/// Store failures, or a stored person that cannot be opened.
pub async fn count(state: &App, actor: &Actor, terms: &SearchTerms) -> Result<u64, Error> {
    let counting = PageRequest { number: 1, size: 0 };
    Ok(match filter_for(state, actor, terms, counting).await? {
        Some(filter) => state.store.list_cases(&filter).await?.total,
        None => 0,
    })
}

/// Cases `actor` may see that answer `terms`, newest first.
///
/// # Errors
/// Store failures, or a stored person or form that cannot be opened.
pub async fn find(state: &App, actor: &Actor, terms: &SearchTerms, page: PageRequest) -> Result<Page<Hit>, Error> {
    let Some(filter) = filter_for(state, actor, terms, page).await? else {
        return Ok(Page { rows: Vec::new(), total: 0, request: page });
    };
    let found = state.store.list_cases(&filter).await?;
    let mut maracs: Vec<i64> = found.rows.iter().map(|r| r.marac_id).collect();
    maracs.sort_unstable();
    maracs.dedup();
    let (seen, _) = casework::confirmed_maracs(state, actor, &maracs).await?;
    let mut rows = Vec::with_capacity(found.rows.len());
    for r in &found.rows {
        // The database filtered by the same rule; each case shown is still asked of the policy
        // (restricted cases, Maracs a case has left).
        let access = state.store.case_access(r.case_id).await?;
        if authorise(actor, Action::ReadCase(&access)).is_err() {
            continue;
        }
        let statement_needed = !seen.contains(&r.marac_id);
        let map: FormMap =
            if statement_needed { FormMap::new() } else { casework::open(state, Purpose::Form, &r.form_sealed)? };
        let text = |key: &str| map.get(key).map_or("", |v| v.trim()).to_owned();
        rows.push(Hit {
            statement_needed,
            case_id: r.case_id,
            marac_id: r.marac_id,
            reference: r.reference.clone(),
            victim: if statement_needed { String::new() } else { casework::victim_name(&map) },
            born: parse_date(&text(field::VICTIM_DATE_OF_BIRTH)),
            postcode: text(field::VICTIM_POSTCODE),
            stage: r.stage,
            stage_meeting_on: r.stage_meeting.map(|(_, d)| d),
            referral_date: r.referral_date,
        });
    }
    Ok(Page { rows, total: found.total, request: found.request })
}
