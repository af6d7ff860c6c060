//! A Marac's queue of likely duplicate people: pairs of records that the matcher thinks are one
//! person, at least one of them on the Marac's cases and the other on the cases of any Marac of
//! the partnership the coordinator also coordinates (people move between areas), for a
//! coordinator to merge or to mark as different people, and the merges made so far, each of
//! which can be undone. Coordinators only; every view and every answer is audited.

use crate::AppState;
use crate::error::AppError;
use crate::forms::{FormData, Params};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Purpose, StoredPerson};
use marac_app::store::{Marac, MaracPerson, PersonMerge, Ts};
use marac_domain::matching::{self, PersonDetails};
use marac_domain::policy::{Action, authorise};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// Pairs shown at once; the rest wait until these are answered.
const SHOWN: usize = 50;

/// One record as the page shows it.
pub struct PersonView {
    /// The person record's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// Full name.
    pub name: String,
    /// Date of birth, or what is known of the age.
    pub born: String,
    /// Postcode.
    pub postcode: String,
    /// The referrals naming them.
    pub references: String,
}

/// A likely pair.
pub struct PairView {
    /// The earlier record, which the later is merged into, then the later.
    pub records: [PersonView; 2],
    /// 0 to 100.
    pub score: u32,
    /// The evidence.
    pub reasons: Vec<String>,
}

/// A merged record and who it now counts as.
pub struct MergedView {
    /// The merged record.
    pub person: PersonView,
    /// The person it counts as.
    pub into: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "people/duplicates.html")]
struct DuplicatesPage {
    ctx: PageContext,
    maracs: Vec<(i64, String, bool)>,
    marac_id: i64,
    pairs: Vec<PairView>,
    more: usize,
    merged: Vec<MergedView>,
    done: String,
}

/// The query: which Marac, and what was just done.
#[derive(Debug, Default, Deserialize)]
pub struct Query {
    marac: Option<i64>,
    done: Option<String>,
}

fn view(p: &MaracPerson, details: &StoredPerson) -> PersonView {
    let born = match (details.date_of_birth, details.estimated_birth_year) {
        (Some(d), _) => crate::routes::display_date(d),
        (None, Some(y)) => format!("about {y}"),
        (None, None) => "Not known".into(),
    };
    PersonView {
        id: p.person.id,
        name: details.full_name(),
        born,
        postcode: details.postcode.clone().unwrap_or_default(),
        references: p.references.join(", "),
    }
}

/// The Maracs `me` coordinates, and the one asked for (or the first).
async fn chosen_marac(state: &AppState, me: &Signed, asked: Option<i64>) -> Result<(Vec<Marac>, Marac), AppError> {
    let actor = me.actor();
    let mine: Vec<Marac> = state
        .store
        .list_maracs()
        .await?
        .into_iter()
        .filter(|m| authorise(&actor, Action::MergePeople { marac_id: m.id }).is_ok())
        .collect();
    let wanted = asked.or(mine.first().map(|m| m.id)).unwrap_or(0);
    me.authorise(state, Action::MergePeople { marac_id: wanted }, &format!("people:marac:{wanted}")).await?;
    let marac = mine.iter().find(|m| m.id == wanted).cloned().ok_or(AppError::NotFound)?;
    Ok((mine, marac))
}

/// The Maracs whose people a queue compares: the chosen one, and the others of its
/// partnership that the coordinator coordinates too.
fn scope(mine: &[Marac], marac: &Marac) -> Vec<i64> {
    mine.iter().filter(|m| m.partnership_id == marac.partnership_id).map(|m| m.id).collect()
}

/// `GET /people/duplicates`: the Marac's likely duplicates and its merges.
///
/// # Errors
/// Refused to anyone but the Marac's coordinators.
pub async fn queue(State(state): State<AppState>, me: Signed, Params(q): Params<Query>) -> Result<Response, AppError> {
    let (mine, marac) = chosen_marac(&state, &me, q.marac).await?;
    let people = state.store.marac_people(&scope(&mine, &marac)).await?;
    let details = people
        .iter()
        .map(|p| casework::open::<StoredPerson>(&state, Purpose::Person, &p.person.details_sealed))
        .collect::<Result<Vec<_>, _>>()?;
    let distinct: HashSet<(i64, i64)> = state.store.distinct_people().await?.into_iter().collect();
    let said_distinct = |a: i64, b: i64| distinct.contains(&(a.min(b), a.max(b)));
    let compared: Vec<PersonDetails> = details.iter().cloned().map(PersonDetails::from).collect();
    // One pair per two people as now counted, the best evidence first.
    let mut seen = HashSet::new();
    let mut pairs = Vec::new();
    for (i, j, m) in matching::likely_pairs(&compared) {
        let (a, b) = (&people[i], &people[j]);
        let (ca, cb) = (a.person.counted_as(), b.person.counted_as());
        let here = |p: &MaracPerson| p.marac_ids.contains(&marac.id);
        if ca == cb
            || !(here(a) || here(b))
            || said_distinct(a.person.id, b.person.id)
            || said_distinct(ca, cb)
            || !seen.insert((ca.min(cb), ca.max(cb)))
        {
            continue;
        }
        let (keep, merge) = if ca < cb { (i, j) } else { (j, i) };
        pairs.push(PairView {
            records: [view(&people[keep], &details[keep]), view(&people[merge], &details[merge])],
            score: m.score,
            reasons: m.reasons,
        });
    }
    let more = pairs.len().saturating_sub(SHOWN);
    pairs.truncate(SHOWN);
    let index: HashMap<i64, usize> = people.iter().enumerate().map(|(i, p)| (p.person.id, i)).collect();
    let merged: Vec<MergedView> = people
        .iter()
        .zip(&details)
        .filter(|(p, _)| p.marac_ids.contains(&marac.id))
        .filter_map(|(p, d)| {
            let into = p.person.merged_into?;
            let name = index.get(&into).map_or_else(
                || format!("a person on the cases of a Marac you do not coordinate (record {into})"),
                |k| details[*k].full_name(),
            );
            Some(MergedView { person: view(p, d), into: name })
        })
        .collect();
    let shown: Vec<i64> = pairs
        .iter()
        .flat_map(|p| [p.records[0].id, p.records[1].id])
        .chain(merged.iter().map(|m| m.person.id))
        .collect();
    let event = me.audit(
        &state,
        "people.duplicates_view",
        &format!("people:marac:{}", marac.id),
        serde_json::json!({ "people": shown }),
    );
    state.store.append_audit(event).await?;
    let done = match q.done.as_deref() {
        Some("merged") => "The records were merged: they now count as one person.",
        Some("unmerged") => "The merge was undone: the records count as two people again.",
        Some("distinct") => "Recorded as different people: the pair will not be offered again.",
        _ => "",
    };
    Ok(DuplicatesPage {
        ctx: PageContext::new(&state, &me.visitor, "Likely duplicate people", "/people/duplicates"),
        maracs: mine.iter().map(|m| (m.id, m.name.clone(), m.id == marac.id)).collect(),
        marac_id: marac.id,
        pairs,
        more,
        merged,
        done: done.to_owned(),
    }
    .into_response())
}

/// `POST /people/duplicates`: merge a pair, say they are different people, or undo a merge.
///
/// # Errors
/// Refused to anyone but the Marac's coordinators; 404 for people not on its cases; 400 for
/// an answer the page does not offer.
pub async fn answer(State(state): State<AppState>, me: Signed, posted: FormData) -> Result<Response, AppError> {
    let number = |name: &str| posted.get(name).trim().parse::<i64>().map_err(|_| AppError::BadRequest);
    // Authorised before anything else is read from the form.
    let (mine, marac) = chosen_marac(&state, &me, number("marac").ok()).await?;
    let maracs = scope(&mine, &marac);
    let person = number("person")?;
    let answer = posted.get("answer");
    let other = if answer == "unmerge" { person } else { number("other")? };
    // Only people the queue could offer: the form's ids are not trusted to stay there.
    let people = state.store.marac_people(&maracs).await?;
    let known = |id: i64| people.iter().find(|p| p.person.id == id);
    let on_this = |id: i64| known(id).is_some_and(|p| p.marac_ids.contains(&marac.id));
    if known(person).is_none() || known(other).is_none() || !(on_this(person) || on_this(other)) {
        return Err(AppError::NotFound);
    }
    let target = format!("person:{person}");
    let detail = serde_json::json!({ "marac": marac.id, "other": other });
    let merge = PersonMerge {
        person_id: person,
        into_id: other,
        maracs: mine.iter().filter(|m| maracs.contains(&m.id)).map(|m| (m.id, m.rules.repeat_months)).collect(),
        by: me.user.id,
    };
    let now = Ts::new(state.clock.now());
    let done = match answer {
        "merge" => {
            state.store.merge_people(&merge, me.audit(&state, "person.merge", &target, detail)).await?;
            "merged"
        }
        "distinct" => {
            let event = me.audit(&state, "person.distinct", &target, detail);
            state.store.mark_distinct(person, other, me.user.id, now, event).await?;
            "distinct"
        }
        "unmerge" => {
            state.store.unmerge_person(&merge, now, me.audit(&state, "person.unmerge", &target, detail)).await?;
            "unmerged"
        }
        _ => return Err(AppError::BadRequest),
    };
    Ok(Redirect::to(&format!("/people/duplicates?marac={}&done={done}", marac.id)).into_response())
}
