//! Importing a Marac's history from the CSV template, for the upload page and for
//! `marac import referrals`: read the file, check every row (nothing is written if any row is
//! wrong), find the people already known, and file the referrals in one transaction.

use crate::App;
use crate::Error;
use crate::casework::{self, Purpose};
use marac_domain::import::{self, ImportRow, Lookup, Problems, RowChecker, RowError};
use marac_domain::policy::{Action, Actor, authorise};
use marac_domain::referral_form as form;
use marac_store::{ImportCount, ImportedReferral, PersonRef, Submission, Ts, User};
use std::collections::BTreeMap;
use time::{OffsetDateTime, Time};

/// Largest file accepted: about 60,000 rows.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// Reads a CSV file and checks it a row at a time with the checker `start` makes from its
/// header: every good row, or the report of what is wrong. Once a row has a problem, good rows
/// are no longer kept (nothing will be filed) and only the first problems are, so what a file
/// costs to check does not grow with how wrong it is.
///
/// # Errors
/// The problems: a header or line that cannot be read, a line of more than
/// [`import::MAX_CELLS`] cells, any row's problems, or no rows at all.
pub fn check_csv<C: RowChecker>(
    bytes: &[u8],
    start: impl FnOnce(&[String]) -> Result<C, Vec<RowError>>,
) -> Result<Vec<C::Row>, Problems> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(text);
    let line_of = |p: Option<&csv::Position>| p.map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
    let mut record = csv::StringRecord::new();
    let unreadable = |e: &csv::Error, what: &str| {
        Problems::one(line_of(e.position()), "", format!("{what} cannot be read: {}", import::quoted(&e.to_string())))
    };
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(Problems::one(1, "", "The file is empty: it needs the template's header")),
        Err(e) => return Err(unreadable(&e, "The header")),
    }
    if record.len() > import::MAX_CELLS {
        let why = format!("The header has {} columns; the template has far fewer", record.len());
        return Err(Problems::one(1, "", why));
    }
    let header: Vec<String> = record.iter().map(str::to_owned).collect();
    let mut checker = start(&header)?;
    let mut checked = import::Checked::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                checked.fail(unreadable(&e, "This line").shown);
                break;
            }
        }
        let line = line_of(record.position());
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() > import::MAX_CELLS {
            let why = format!("This line has {} cells; the template has {}", record.len(), header.len());
            checked.add(Err(vec![RowError { line, column: String::new(), message: why }]));
            continue;
        }
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        checked.add(checker.row(line, &cells));
    }
    checked.finish()
}

/// Checks a file and, if every row is good and the person coordinates every Marac in it,
/// files it. `Ok(Err(..))` is the report of what is wrong.
///
/// # Errors
/// Store failures.
pub async fn import(
    state: &App,
    by: &User,
    actor: &Actor,
    bytes: &[u8],
) -> Result<Result<ImportCount, Problems>, Error> {
    let all_maracs = state.store.list_maracs().await?;
    let maracs: BTreeMap<String, i64> = all_maracs.iter().map(|m| (m.code.to_ascii_uppercase(), m.id)).collect();
    let agencies: BTreeMap<String, i64> =
        state.store.list_agencies().await?.iter().map(|a| (a.code.to_ascii_uppercase(), a.id)).collect();
    let lookup = Lookup { maracs: &maracs, agencies: &agencies, today: state.clock.today() };
    let checked = match check_csv(bytes, |header| import::Checker::new(header, &lookup)) {
        Ok(rows) => rows,
        Err(problems) => return Ok(Err(problems)),
    };
    let mut refused = Problems::default();
    for error in checked
        .iter()
        .filter(|r| authorise(actor, Action::ManageMeetings { marac_id: r.marac_id }).is_err())
        .map(|r| RowError {
            line: r.line,
            column: "marac".into(),
            message: "You do not coordinate this Marac, so cannot import its history".into(),
        })
    {
        refused.add_row(vec![error]);
    }
    if !refused.is_empty() {
        return Ok(Err(refused));
    }
    let mut items = Vec::with_capacity(checked.len());
    for row in &checked {
        let Some(marac) = all_maracs.iter().find(|m| m.id == row.marac_id) else { return Err(Error::NotFound) };
        items.push(referral(state, by, marac, row).await?);
    }
    // The page and the command line both record the importing person.
    let mut event = crate::audit::system_event(state, "referral.import", &format!("user:{}", by.id));
    event.actor_user_id = Some(by.id);
    event.actor_label = by.email.clone();
    Ok(Ok(state.store.import_referrals(&items, by.id, event).await?))
}

/// One good row as a referral: its form sealed, its people found or filed new.
async fn referral(
    state: &App,
    by: &User,
    marac: &marac_store::Marac,
    row: &ImportRow,
) -> Result<ImportedReferral, Error> {
    let on = row.referral_date;
    let resolve = async |person: &marac_domain::matching::PersonDetails| -> Result<PersonRef, Error> {
        let found = casework::find_matches(state, marac.partnership_id, person).await?;
        match found.iter().find(|(_, m)| m.certain) {
            Some((id, _)) => Ok(PersonRef::Existing(*id)),
            None => {
                let (details_sealed, keys) = casework::new_person(state, marac.partnership_id, person)?;
                Ok(PersonRef::New { details_sealed, keys })
            }
        }
    };
    let victim = resolve(&form::victim_details(&row.form, on)).await?;
    let mut perpetrators = Vec::new();
    for p in form::perpetrator_details(&row.form, on) {
        perpetrators.push(resolve(&p).await?);
    }
    let submission = Submission {
        referral_id: None,
        referrer_user_id: by.id,
        referring_agency_id: row.agency_id,
        marac_id: marac.id,
        marac_code: marac.code.clone(),
        partnership_id: marac.partnership_id,
        joint_agency_id: row.joint_agency_id,
        form_sealed: casework::seal(state, Purpose::Form, &row.form)?,
        victim,
        perpetrators,
        matches: Vec::new(),
        checklist_id: "imported".into(),
        checklist_version: String::new(),
        score: i64::from(row.score.unwrap_or(0)),
        criteria: row.criteria.clone(),
        is_repeat: row.repeat,
        age_flags: row.age_flags.clone(),
        victim_age_group: row.victim_age_group.clone(),
        children_count: i64::from(row.children),
        referral_date: row.referral_date,
        incident_date: row.incident_date,
        profile: row.profile.clone(),
    };
    Ok(ImportedReferral {
        submission,
        import_reference: row.source_reference.clone(),
        made_at: Ts::new(OffsetDateTime::new_utc(row.referral_date, Time::from_hms(9, 0, 0).unwrap_or(Time::MIDNIGHT))),
        heard_on: row.heard_at,
    })
}
