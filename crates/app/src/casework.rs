//! Casework shared by the pages and the API: sealing what is typed, finding known people,
//! applying the referral rules and submitting.
//!
//! Names and case detail are encrypted here before they reach the store, each purpose
//! under its own context so a sealed value cannot be moved to another column. People are
//! filed under keyed hashes of their matching keys, so the index says nothing by itself.

use crate::App;
use crate::Error;
use crate::crypto;
pub use crate::payloads::StoredPerson;
use marac_domain::checklist::Checklist;
use marac_domain::matching::{self, MatchResult, PersonDetails};
use marac_domain::policy::{Action, Actor, authorise};
use marac_domain::referral_form::field;
use marac_domain::referral_form::{self as form, FieldError, FormContext, FormMap};
use marac_domain::referral_rules::{Assessment, Criterion};
use marac_store::{CandidateMatch, Marac, PersonRef, Submission, User};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::Date;

/// What a sealed value is for; part of its authentication.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// A referral's form.
    Form,
    /// A known person's details.
    Person,
    /// Why a candidate matched.
    MatchReasons,
    /// A research note.
    Note,
    /// The coordinator's question or reason for declining.
    Decision,
    /// A case's discussion at a meeting.
    Discussion,
    /// An action's description, or a note on its progress.
    Action,
    /// What a flag says, or why it was ended early.
    Flag,
    /// A row of another agency's list kept for cross-referencing.
    AgencyListRow,
    /// A response kept for a request that may be sent again.
    IdempotentResponse,
    /// What a search asked for, kept for its results' address.
    Search,
}

impl Purpose {
    const fn context(self) -> &'static str {
        match self {
            Purpose::Form => "referral-form",
            Purpose::Person => "person",
            Purpose::MatchReasons => "match-reasons",
            Purpose::Note => "research-note",
            Purpose::Decision => "referral-decision",
            Purpose::Discussion => "meeting-discussion",
            Purpose::Action => "action",
            Purpose::Flag => "case-flag",
            Purpose::AgencyListRow => "agency-list-row",
            Purpose::IdempotentResponse => "idempotent-response",
            Purpose::Search => "search",
        }
    }
}

/// Encrypts a value for storage.
///
/// # Errors
/// When there is no randomness or the value cannot be serialised.
pub fn seal<T: Serialize>(state: &App, purpose: Purpose, value: &T) -> Result<String, Error> {
    let json = serde_json::to_vec(value).map_err(|e| Error::Internal(e.into()))?;
    crypto::seal(&state.keys.encryption, purpose.context(), &json).map_err(|e| Error::Internal(e.into()))
}

/// Decrypts a stored value.
///
/// # Errors
/// [`Error::KeyNotHeld`] when it was sealed under a key this server lacks; otherwise when
/// it was sealed for another purpose, or is damaged.
pub fn open<T: for<'de> Deserialize<'de>>(state: &App, purpose: Purpose, sealed: &str) -> Result<T, Error> {
    let plain = crypto::open(&state.keys.encryption, purpose.context(), sealed).map_err(|e| match e {
        crypto::SealError::UnknownKey(id) => Error::KeyNotHeld(id),
        other => Error::Internal(anyhow::anyhow!("{other} ({})", purpose.context())),
    })?;
    serde_json::from_slice(&plain).map_err(|e| Error::Internal(e.into()))
}

/// Whether `key` opens a value sealed in the database: how a database set up before key check
/// values existed tells its own encryption key from another.
#[must_use]
pub fn sample_opens(key: &crypto::SealingKey, sample: &marac_store::SealedSample) -> bool {
    match sample {
        marac_store::SealedSample::Person { sealed } => crypto::open(key, Purpose::Person.context(), sealed).is_ok(),
        marac_store::SealedSample::TotpSecret { user_id, sealed } => {
            crypto::open(key, &crypto::totp_context(*user_id), sealed).is_ok()
        }
    }
}

/// The keyed hashes `p` is filed under in `partnership_id`: the keys matching looks up and
/// those only a search asks. Keyed per partnership too: the index does not link one
/// partnership's people with another's, and the store counts and ranks a key's people within
/// the partnership alone.
#[must_use]
pub fn index_keys(state: &App, partnership_id: i64, p: &PersonDetails) -> Vec<String> {
    hashed_keys(state, partnership_id, &matching::filing_keys(p))
}

/// The keyed hashes matching looks `p`'s candidates up by.
#[must_use]
pub fn match_keys(state: &App, partnership_id: i64, p: &PersonDetails) -> Vec<String> {
    hashed_keys(state, partnership_id, &matching::blocking_keys(p))
}

/// Index keys as the store holds them: hashed under the installation's key, per partnership.
#[must_use]
pub fn hashed_keys(state: &App, partnership_id: i64, keys: &[String]) -> Vec<String> {
    let partnership = partnership_id.to_be_bytes();
    keys.iter()
        .map(|k| crypto::hmac(&state.keys.encryption.key, &[b"person-index", &partnership, k.as_bytes()]))
        .collect()
}

/// The keyed hashes version 1 filed `p` under (one key for all partnerships, without the name
/// with day and month): searched as well until everyone is filed again.
fn version_1_keys(state: &App, p: &PersonDetails) -> Vec<String> {
    matching::blocking_keys(p)
        .iter()
        .filter(|k| !k.starts_with("nd:"))
        .map(|k| crypto::hmac(&state.keys.encryption.key, &[b"person-index", k.as_bytes()]))
        .collect()
}

/// A person's details sealed for the store.
///
/// # Errors
/// When sealing fails.
pub fn seal_person(state: &App, p: &PersonDetails) -> Result<String, Error> {
    seal(state, Purpose::Person, &StoredPerson::from(p))
}

/// A person as a new record of `partnership_id`: sealed details and hashed keys.
///
/// # Errors
/// When sealing fails.
pub fn new_person(state: &App, partnership_id: i64, p: &PersonDetails) -> Result<(String, Vec<String>), Error> {
    Ok((seal_person(state, p)?, index_keys(state, partnership_id, p)))
}

/// How many people are filed again in one write, after the blocking keys changed: about 0.3 ms
/// each on SQLite, so a transaction of under a tenth of a second between users' own writes.
pub const FILE_AGAIN_BATCH: usize = 250;

/// Files a batch of people filed under an older set of blocking keys again under the current
/// one ([`matching::BLOCKING_KEYS_VERSION`]); returns how many. Until everyone is filed again,
/// matching searches their older keys too; once a batch finds no one left, it stops.
///
/// # Errors
/// Store failures, or a stored person that cannot be opened (damaged, or sealed under another
/// key), which stops the filing where it is until mended.
pub async fn file_people_again(state: &App) -> marac_store::StoreResult<usize> {
    let version = matching::BLOCKING_KEYS_VERSION;
    let batch = state.store.people_to_file_again(version, i64::try_from(FILE_AGAIN_BATCH).unwrap_or(1)).await?;
    if batch.is_empty() {
        state.set_people_all_filed();
        return Ok(0);
    }
    let mut filed = Vec::with_capacity(batch.len());
    for (partnership_id, person) in &batch {
        let details: StoredPerson = open(state, Purpose::Person, &person.details_sealed)
            .map_err(|e| marac_store::StoreError::Corrupt(format!("person {} cannot be opened: {e}", person.id)))?;
        filed.push((person.id, index_keys(state, *partnership_id, &details.into())));
    }
    let mut event = crate::audit::system_event(state, "people.file_again", "people");
    event.detail = serde_json::json!({ "people": filed.len(), "keys_version": version }).to_string();
    state.store.file_people_again(version, &filed, event).await?;
    Ok(filed.len())
}

/// Today's date for the rules.
#[must_use]
pub fn today(state: &App) -> Date {
    state.clock.today()
}

/// The Maracs `actor` may refer to.
///
/// # Errors
/// Store failures.
pub async fn referable_maracs(state: &App, actor: &Actor) -> Result<Vec<Marac>, Error> {
    Ok(state
        .store
        .list_maracs()
        .await?
        .into_iter()
        .filter(|m| authorise(actor, Action::CreateReferral { marac_id: m.id }).is_ok())
        .collect())
}

/// The checklist a form names (`id@version`), if loaded.
///
/// # Errors
/// Store failures, or a stored checklist that no longer parses.
pub async fn named_checklist(state: &App, map: &FormMap) -> Result<Option<Checklist>, Error> {
    let named = map.get(field::CHECKLIST_VERSION).map_or("", |v| v.trim());
    let Some((id, version)) = named.split_once('@') else { return Ok(None) };
    match state.store.get_checklist(id, version).await? {
        Some(record) => {
            Ok(Some(Checklist::parse(&record.definition).map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?))
        }
        None => Ok(None),
    }
}

/// Everything validation needs, for one referrer.
#[derive(Debug, Clone)]
pub struct Context {
    /// Today.
    pub today: Date,
    /// Maracs they may refer to.
    pub maracs: Vec<Marac>,
    /// Other agencies that may refer jointly.
    pub agencies: Vec<marac_store::Agency>,
    /// The checklist the form names.
    pub checklist: Option<Checklist>,
    marac_ids: Vec<i64>,
    agency_ids: Vec<i64>,
}

impl Context {
    /// Loads the context for `user` and their form.
    ///
    /// # Errors
    /// Store failures.
    pub async fn load(state: &App, user: &User, map: &FormMap) -> Result<Context, Error> {
        let actor = crate::actor_of(user);
        let maracs = referable_maracs(state, &actor).await?;
        let partnerships: Vec<i64> = maracs.iter().map(|m| m.partnership_id).collect();
        let agencies: Vec<marac_store::Agency> = state
            .store
            .list_agencies()
            .await?
            .into_iter()
            .filter(|a| partnerships.contains(&a.partnership_id) && Some(a.id) != user.agency_id)
            .collect();
        Ok(Context::of(today(state), maracs, agencies, named_checklist(state, map).await?))
    }

    /// The context for showing a submitted referral to anyone allowed to read it: every Marac
    /// and agency by name, whoever the reader is.
    ///
    /// # Errors
    /// Store failures.
    pub async fn for_reading(state: &App, map: &FormMap) -> Result<Context, Error> {
        let maracs = state.store.list_maracs().await?;
        let agencies = state.store.list_agencies().await?;
        Ok(Context::of(today(state), maracs, agencies, named_checklist(state, map).await?))
    }

    fn of(today: Date, maracs: Vec<Marac>, agencies: Vec<marac_store::Agency>, checklist: Option<Checklist>) -> Self {
        Context {
            today,
            marac_ids: maracs.iter().map(|m| m.id).collect(),
            agency_ids: agencies.iter().map(|a| a.id).collect(),
            maracs,
            agencies,
            checklist,
        }
    }

    /// The view validation takes.
    #[must_use]
    pub fn form(&self) -> FormContext<'_> {
        FormContext {
            today: self.today,
            marac_ids: &self.marac_ids,
            agency_ids: &self.agency_ids,
            checklist: self.checklist.as_ref(),
        }
    }

    /// The Marac the form names, if the referrer may refer to it.
    #[must_use]
    pub fn marac(&self, map: &FormMap) -> Option<&Marac> {
        let id: i64 = map.get(field::REFERRAL_MARAC)?.trim().parse().ok()?;
        self.maracs.iter().find(|m| m.id == id)
    }
}

/// How many known people one person of a referral is compared with at most. The store ranks
/// them by the keys they share, so those a cap leaves out share one key only, the commonest of
/// the person's (a frequent name, with the date of birth, its year and the postcode all
/// different), which the model does not score as likely. Checked by reading every candidate
/// too: 2,254 searches against 500,000 generated people left out no likely match.
const MOST_CANDIDATES: i64 = 200;

/// The known people likely to be `person`, best first.
///
/// # Errors
/// Store failures, or a stored person that cannot be opened.
pub async fn find_matches(
    state: &App,
    partnership_id: i64,
    person: &PersonDetails,
) -> Result<Vec<(i64, MatchResult)>, Error> {
    let mut keys = match_keys(state, partnership_id, person);
    if !state.people_all_filed() {
        keys.extend(version_1_keys(state, person));
    }
    // Records confirmed to be one person are offered as that person, with the best evidence
    // any of their records gives.
    let mut best: HashMap<i64, MatchResult> = HashMap::new();
    let matcher = matching::Matcher::new(person);
    for known in state.store.find_people(partnership_id, &keys, MOST_CANDIDATES).await? {
        let details: StoredPerson = open(state, Purpose::Person, &known.details_sealed)?;
        if let Some(m) = matcher.compare(&details.into()) {
            let id = known.counted_as();
            if best.get(&id).is_none_or(|b| m.score > b.score || (m.certain && !b.certain)) {
                best.insert(id, m);
            }
        }
    }
    let mut found: Vec<(i64, MatchResult)> = best.into_iter().collect();
    found.sort_by(|a, b| b.1.score.cmp(&a.1.score).then(a.0.cmp(&b.0)));
    Ok(found)
}

/// A submission ready for the store, and what the rules concluded.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// For the store.
    pub submission: Submission,
    /// The rules' conclusion.
    pub assessment: Assessment,
    /// How long finding the people took, for the server's metrics.
    pub matching: std::time::Duration,
}

/// Validates a whole referral, finds the people, applies the rules and builds the
/// submission. `Ok(Err(..))` carries the problems for the form or the API.
///
/// # Errors
/// Store failures.
pub async fn prepare(
    state: &App,
    user: &User,
    map: &FormMap,
    referral_id: Option<i64>,
) -> Result<Result<Prepared, Vec<FieldError>>, Error> {
    let ctx = Context::load(state, user, map).await?;
    let errors = form::validate_all(map, &ctx.form());
    let (Some(marac), Some(checklist), Some(agency_id), true) =
        (ctx.marac(map), ctx.checklist.as_ref(), user.agency_id, errors.is_empty())
    else {
        return Ok(Err(errors));
    };
    let today = ctx.today;
    let mut matches = Vec::new();
    let mut matching = std::time::Duration::ZERO;

    let mut resolve = async |subject: String, person: &PersonDetails| -> Result<PersonRef, Error> {
        let started = std::time::Instant::now();
        let found = find_matches(state, marac.partnership_id, person).await?;
        matching += started.elapsed();
        let certain = found.iter().find(|(_, m)| m.certain).map(|(id, _)| *id);
        for (id, m) in found.iter().take(5) {
            matches.push(CandidateMatch {
                subject: subject.clone(),
                person_id: *id,
                score: i64::from(m.score),
                certain: m.certain,
                reasons_sealed: seal(state, Purpose::MatchReasons, &m.reasons)?,
            });
        }
        match certain {
            Some(id) => Ok(PersonRef::Existing(id)),
            None => {
                let (details_sealed, keys) = new_person(state, marac.partnership_id, person)?;
                Ok(PersonRef::New { details_sealed, keys })
            }
        }
    };
    let victim = resolve("victim".to_owned(), &form::victim_details(map, today)).await?;
    let mut perpetrators = Vec::new();
    for (i, p) in form::perpetrator_details(map, today).iter().enumerate() {
        perpetrators.push(resolve(format!("perpetrator:{}", i + 1), p).await?);
    }

    // A repeat needs the same victim and the same people causing harm, all already known.
    let known = |p: &PersonRef| match p {
        PersonRef::Existing(id) => Some(*id),
        PersonRef::New { .. } => None,
    };
    let last = match (known(&victim), perpetrators.iter().map(known).collect::<Option<Vec<i64>>>()) {
        (Some(v), Some(ps)) => state.store.last_referral_date(v, &ps).await?,
        _ => None,
    };
    let assessment = match form::assess(map, &marac.rules, today, last) {
        Ok(a) => a,
        Err(refusal) => {
            return Ok(Err(vec![FieldError { key: field::VICTIM_DATE_OF_BIRTH.into(), message: refusal.to_string() }]));
        }
    };
    let age = form::victim_age(map, today);
    let submission = Submission {
        referral_id,
        referrer_user_id: user.id,
        referring_agency_id: agency_id,
        marac_id: marac.id,
        marac_code: marac.code.clone(),
        partnership_id: marac.partnership_id,
        joint_agency_id: map.get(field::REFERRAL_JOINT_AGENCY).and_then(|v| v.trim().parse().ok()),
        form_sealed: seal(state, Purpose::Form, map)?,
        victim,
        perpetrators,
        matches,
        checklist_id: checklist.id.clone(),
        checklist_version: checklist.version.clone(),
        score: i64::from(form::score(map)),
        criteria: assessment.criteria.clone(),
        is_repeat: assessment.criteria.contains(&Criterion::Repeat),
        age_flags: assessment.age_flags.clone(),
        victim_age_group: form::age_group(age).to_owned(),
        children_count: i64::try_from(form::children_count(map, today)).unwrap_or(0),
        referral_date: today,
        incident_date: map.get(field::REFERRAL_INCIDENT_DATE).and_then(|d| form::parse_date(d)).unwrap_or(today),
        profile: form::profile(map, today),
    };
    Ok(Ok(Prepared { submission, assessment, matching }))
}

/// The names of a case's victim and of the people causing harm, opened from the people's records.
///
/// # Errors
/// Store failures, or a record that cannot be opened.
pub async fn case_names(state: &App, case: &marac_store::Case) -> Result<(String, Vec<String>), Error> {
    let name = |sealed: &str| -> Result<String, Error> {
        let p: StoredPerson = open(state, Purpose::Person, sealed)?;
        Ok(p.full_name())
    };
    let mut ids = case.perpetrator_ids.clone();
    ids.push(case.victim_person_id);
    let people = state.store.get_people(&ids).await?;
    let of = |id: i64| -> Result<String, Error> {
        let person = people.iter().find(|p| p.id == id).ok_or(Error::NotFound)?;
        name(&person.details_sealed)
    };
    let victim = of(case.victim_person_id)?;
    let perpetrators = case.perpetrator_ids.iter().map(|p| of(*p)).collect::<Result<Vec<_>, _>>()?;
    Ok((victim, perpetrators))
}

/// The victim's name from a form, for lists.
#[must_use]
pub fn victim_name(map: &FormMap) -> String {
    let name = format!(
        "{} {}",
        map.get(field::VICTIM_GIVEN_NAME).map_or("", |s| s.trim()),
        map.get(field::VICTIM_FAMILY_NAME).map_or("", |s| s.trim())
    );
    let name = name.trim();
    if name.is_empty() { "Victim not named yet".to_owned() } else { name.to_owned() }
}

/// Where `actor` stands with the statement of the Marac whose case content `action` (allowed on
/// `basis`) would show: `None` when it may be shown, else the Marac and why not.
///
/// # Errors
/// The store's.
pub async fn statement_needed(
    state: &App,
    actor: &Actor,
    action: &Action<'_>,
    basis: marac_domain::policy::Basis,
) -> Result<Option<(i64, marac_domain::confidentiality::Standing)>, marac_store::StoreError> {
    let Some(marac_id) = marac_domain::confidentiality::governing_marac(actor, action, basis) else { return Ok(None) };
    let standing = statement_standing(state, actor.user_id, marac_id).await?;
    let coordinator = marac_domain::policy::coordinates(actor, marac_id);
    Ok((!standing.lets_see(coordinator)).then_some((marac_id, standing)))
}

/// Of `marac_ids`, those whose case content `actor` may be shown now, and those whose
/// statement they must confirm first (with where they stand): lists that show several Maracs'
/// cases show only the first, and link to the others' statements.
///
/// # Errors
/// The store's.
pub async fn confirmed_maracs(
    state: &App,
    actor: &Actor,
    marac_ids: &[i64],
) -> Result<(Vec<i64>, Vec<(i64, marac_domain::confidentiality::Standing)>), marac_store::StoreError> {
    let standings = statement_standings(state, actor.user_id, marac_ids).await?;
    let mut seen = Vec::new();
    let mut to_confirm = Vec::new();
    for (&marac_id, standing) in marac_ids.iter().zip(standings) {
        if standing.lets_see(marac_domain::policy::coordinates(actor, marac_id)) {
            seen.push(marac_id);
        } else {
            to_confirm.push((marac_id, standing));
        }
    }
    Ok((seen, to_confirm))
}

/// Where a person stands with one Marac's statement.
///
/// # Errors
/// The store's.
pub async fn statement_standing(
    state: &App,
    user_id: i64,
    marac_id: i64,
) -> Result<marac_domain::confidentiality::Standing, marac_store::StoreError> {
    let standings = statement_standings(state, user_id, &[marac_id]).await?;
    Ok(standings.into_iter().next().unwrap_or(marac_domain::confidentiality::Standing::Never))
}

/// Where a person stands with each of these Maracs' statements, in their order (the person's
/// confirmations read once).
///
/// # Errors
/// The store's.
pub async fn statement_standings(
    state: &App,
    user_id: i64,
    marac_ids: &[i64],
) -> Result<Vec<marac_domain::confidentiality::Standing>, marac_store::StoreError> {
    let confirmations = state.store.statement_confirmations(user_id).await?;
    let today = state.clock.today();
    let mut standings = Vec::with_capacity(marac_ids.len());
    for &marac_id in marac_ids {
        let current = state.store.current_statement(marac_id).await?.map(|s| s.version);
        let confirmed = confirmations
            .iter()
            .find(|c| c.marac_id == marac_id)
            .map(|c| (c.version, marac_domain::uk_time::uk_date(c.confirmed_at.0)));
        standings.push(marac_domain::confidentiality::Standing::of(current, confirmed, today));
    }
    Ok(standings)
}
