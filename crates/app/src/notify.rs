//! Who is told what: turns events (a list published, a referral returned, a case heard, an
//! action nearly due or overdue) into notices for the right people. The notices say what
//! happened and link to the page; the words are in [`marac_domain::notices`], and nothing
//! here puts case detail into them.

use crate::App;
use marac_domain::Role;
use marac_domain::notices::{ActionNotice, NoticeKind, about_action, about_meeting, action_notice, dedupe_key};
use marac_store::{ActionFilter, ActionRecord, Meeting, NewNotice, StoreResult, Ts, User};

/// Most actions a sweep looks at in one round; more wait for the next round.
const SWEEP_LIMIT: i64 = 10_000;

/// Whether `user` is active and holds `role` for the Marac.
fn holds(user: &User, role: Role, marac_id: i64) -> bool {
    !user.disabled && user.grants.iter().any(|g| g.role == role && g.marac_id.is_none_or(|m| m == marac_id))
}

fn notice(user: &User, kind: NoticeKind, link: String, key: String, about: &str) -> NewNotice {
    NewNotice {
        user_id: user.id,
        kind,
        link,
        dedupe_key: key,
        about: about.to_owned(),
        email_to: Some(user.email.clone()),
    }
}

/// Representatives and Idvas of the invited agencies hear that the list of a meeting of the
/// Marac called `marac` is out.
#[must_use]
pub fn list_published(users: &[User], meeting: &Meeting, marac: &str) -> Vec<NewNotice> {
    let marac_id = meeting.details.marac_id;
    let about = about_meeting(marac, meeting.details.held_on);
    users
        .iter()
        .filter(|u| u.agency_id.is_some_and(|a| meeting.details.invited_agency_ids.contains(&a)))
        .filter(|u| holds(u, Role::AgencyRep, marac_id) || holds(u, Role::Idva, marac_id))
        .map(|u| {
            let key = dedupe_key(NoticeKind::ListPublished, meeting.id, "published");
            notice(u, NoticeKind::ListPublished, format!("/meetings/{}", meeting.id), key, &about)
        })
        .collect()
}

/// Representatives and Idvas of the invited agencies hear that a case joined a list already
/// published (once per case and meeting).
#[must_use]
pub fn case_added_to_list(users: &[User], meeting: &Meeting, marac: &str, case_id: i64) -> Vec<NewNotice> {
    let marac_id = meeting.details.marac_id;
    let about = about_meeting(marac, meeting.details.held_on);
    let occasion = format!("case:{case_id}");
    users
        .iter()
        .filter(|u| u.agency_id.is_some_and(|a| meeting.details.invited_agency_ids.contains(&a)))
        .filter(|u| holds(u, Role::AgencyRep, marac_id) || holds(u, Role::Idva, marac_id))
        .map(|u| {
            let key = dedupe_key(NoticeKind::CaseAddedToList, meeting.id, &occasion);
            notice(u, NoticeKind::CaseAddedToList, format!("/meetings/{}", meeting.id), key, &about)
        })
        .collect()
}

/// The referrer hears that triage at the Marac called `marac` returned their referral with a
/// question.
#[must_use]
pub fn referral_returned(
    users: &[User],
    (referral_id, referrer_user_id): (i64, i64),
    marac: &str,
    decided_at: Ts,
) -> Vec<NewNotice> {
    let occasion = decided_at.0.unix_timestamp().to_string();
    let about = marac_domain::notices::about_maracs(&[marac]);
    users
        .iter()
        .filter(|u| u.id == referrer_user_id && !u.disabled)
        .map(|u| {
            let key = dedupe_key(NoticeKind::ReferralReturned, referral_id, &occasion);
            notice(u, NoticeKind::ReferralReturned, format!("/referrals/{referral_id}"), key, &about)
        })
        .collect()
}

/// The Idvas of an agency hear that they should tell a victim the outcome of a meeting: once
/// for each case and meeting at which it was heard. `about` names the meeting
/// ([`about_meeting`]).
#[must_use]
pub fn tell_victim_outcome(
    users: &[User],
    (marac_id, idva_agency_id): (i64, i64),
    (case_id, meeting_id): (i64, i64),
    about: &str,
) -> Vec<NewNotice> {
    let occasion = format!("heard:{meeting_id}");
    users
        .iter()
        .filter(|u| u.agency_id == Some(idva_agency_id) && holds(u, Role::Idva, marac_id))
        .map(|u| {
            let key = dedupe_key(NoticeKind::TellVictimOutcome, case_id, &occasion);
            notice(u, NoticeKind::TellVictimOutcome, "/actions".into(), key, about)
        })
        .collect()
}

/// The coordinators of the Maracs named hear of a case transfer question: opened, asked for or
/// answered. `occasion` makes each step its own notice; `about` names the two Maracs
/// ([`marac_domain::notices::about_maracs`]).
#[must_use]
pub fn case_transfer(
    users: &[User],
    kind: NoticeKind,
    marac_ids: &[i64],
    (transfer_id, occasion): (i64, &str),
    about: &str,
) -> Vec<NewNotice> {
    users
        .iter()
        .filter(|u| marac_ids.iter().any(|m| holds(u, Role::Coordinator, *m)))
        .map(|u| {
            let key = dedupe_key(kind, transfer_id, occasion);
            notice(u, kind, format!("/transfers/{transfer_id}"), key, about)
        })
        .collect()
}

/// A person whose roles an administrator changed hears of it, and so do the coordinators of
/// every Marac in which a role was given or taken away.
#[must_use]
pub fn roles_changed(
    users: &[User],
    user_id: i64,
    before: &[marac_domain::policy::Grant],
    after: &[marac_domain::policy::Grant],
    at: time::OffsetDateTime,
) -> Vec<NewNotice> {
    let occasion = at.unix_timestamp_nanos().to_string();
    let maracs = maracs_changed(before, after);
    let own = users.iter().filter(|u| u.id == user_id && !u.disabled).map(|u| {
        notice(
            u,
            NoticeKind::RolesChanged,
            "/account".into(),
            dedupe_key(NoticeKind::RolesChanged, user_id, &occasion),
            "",
        )
    });
    let coordinators =
        users.iter().filter(|u| u.id != user_id && maracs.iter().any(|m| holds(u, Role::Coordinator, *m))).map(|u| {
            let key = dedupe_key(NoticeKind::MaracRolesChanged, user_id, &occasion);
            notice(u, NoticeKind::MaracRolesChanged, "/".into(), key, "")
        });
    own.chain(coordinators).collect()
}

/// The Maracs in which a role was given or taken away, between `before` and `after`.
#[must_use]
pub fn maracs_changed(before: &[marac_domain::policy::Grant], after: &[marac_domain::policy::Grant]) -> Vec<i64> {
    let mut maracs: Vec<i64> = before
        .iter()
        .filter(|g| !after.contains(g))
        .chain(after.iter().filter(|g| !before.contains(g)))
        .filter_map(|g| g.marac_id)
        .collect();
    maracs.sort_unstable();
    maracs.dedup();
    maracs
}

/// For one outstanding action on `today`: a reminder to its owner (the named person when an
/// account of that agency has that name, otherwise the agency's representatives and Idvas),
/// or an escalation to the Marac's coordinators once it is overdue. `marac` is the name of the
/// action's Marac.
#[must_use]
pub fn for_action(users: &[User], action: &ActionRecord, marac: &str, today: time::Date) -> Vec<NewNotice> {
    let a = &action.action;
    let occasion = a.due_on.to_string();
    let about = about_action(marac, a.due_on);
    match action_notice(action.status, a.due_on, today) {
        ActionNotice::None => Vec::new(),
        ActionNotice::Reminder => {
            let owners: Vec<&User> = users
                .iter()
                .filter(|u| u.agency_id == Some(a.agency_id))
                .filter(|u| holds(u, Role::AgencyRep, action.marac_id) || holds(u, Role::Idva, action.marac_id))
                .collect();
            let named: Vec<&User> =
                owners.iter().copied().filter(|u| u.name.trim().eq_ignore_ascii_case(a.owner_name.trim())).collect();
            let to = if named.is_empty() { owners } else { named };
            to.into_iter()
                .map(|u| {
                    let key = dedupe_key(NoticeKind::ActionDue, action.id, &occasion);
                    notice(u, NoticeKind::ActionDue, "/actions".into(), key, &about)
                })
                .collect()
        }
        ActionNotice::Escalation => users
            .iter()
            .filter(|u| holds(u, Role::Coordinator, action.marac_id))
            .map(|u| {
                let key = dedupe_key(NoticeKind::ActionOverdue, action.id, &occasion);
                notice(u, NoticeKind::ActionOverdue, "/actions".into(), key, &about)
            })
            .collect(),
    }
}

/// Adds every reminder and escalation due today that has not been made yet. Run by the
/// worker on every server; the store's unique keys make repeats do nothing.
///
/// # Errors
/// When the store fails.
pub async fn sweep_actions(state: &App) -> StoreResult<u64> {
    let now = state.clock.now();
    let today = marac_domain::uk_time::uk_date(now);
    let actions = state
        .store
        .list_actions(&ActionFilter { outstanding_only: true, limit: SWEEP_LIMIT, ..ActionFilter::default() })
        .await?;
    if actions.is_empty() {
        return Ok(0);
    }
    let mut maracs: Vec<i64> = actions.iter().map(|a| a.marac_id).collect();
    maracs.sort_unstable();
    maracs.dedup();
    let users = state.store.users_holding(&[Role::AgencyRep, Role::Idva, Role::Coordinator], &maracs).await?;
    let names: std::collections::HashMap<i64, String> =
        state.store.list_maracs().await?.into_iter().map(|m| (m.id, m.name)).collect();
    let notices: Vec<NewNotice> = actions
        .iter()
        .flat_map(|a| for_action(&users, a, names.get(&a.marac_id).map_or("", String::as_str), today))
        .collect();
    if notices.is_empty() {
        return Ok(0);
    }
    state.store.add_notices(&notices, Ts::new(now)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use marac_domain::meeting_rules::{ActionStatus, ActionSubject};
    use marac_domain::policy::Grant;
    use marac_store::NewAction;
    use time::macros::{date, datetime};

    fn user(id: i64, name: &str, agency: Option<i64>, role: Role, marac: i64) -> User {
        User {
            id,
            email: format!("u{id}@example.org"),
            name: name.into(),
            agency_id: agency,
            password_hash: String::new(),
            disabled: false,
            totp_secret: None,
            is_demo: false,
            grants: vec![Grant { role, marac_id: Some(marac) }],
        }
    }

    fn action(due: time::Date, status: ActionStatus, owner: &str) -> ActionRecord {
        ActionRecord {
            id: 9,
            action: NewAction {
                case_id: 1,
                meeting_id: 2,
                agency_id: 10,
                owner_name: owner.into(),
                subject: ActionSubject::Victim,
                approach: None,
                description_sealed: "sealed".into(),
                due_on: due,
                kind: marac_domain::meeting_rules::ActionKind::General,
            },
            status,
            status_reason: None,
            status_reported_at: None,
            created_at: Ts::new(datetime!(2026-11-01 10:00 UTC)),
            marac_id: 1,
            meeting_held_on: date!(2026 - 11 - 01),
        }
    }

    #[test]
    fn reminders_go_to_the_named_person_or_else_the_agency_and_escalations_to_coordinators() {
        let users = vec![
            user(1, "Pat Rep", Some(10), Role::AgencyRep, 1),
            user(2, "Sam Idva", Some(10), Role::Idva, 1),
            user(3, "Other Rep", Some(11), Role::AgencyRep, 1),
            user(4, "Coord", None, Role::Coordinator, 1),
            user(5, "Coord elsewhere", None, Role::Coordinator, 2),
            user(6, "Pat Rep", Some(10), Role::AgencyRep, 2),
        ];
        let due = date!(2026 - 11 - 20);
        let to = |a: &ActionRecord, today| {
            for_action(&users, a, "Eastport Marac", today).iter().map(|n| n.user_id).collect::<Vec<_>>()
        };
        assert_eq!(to(&action(due, ActionStatus::Open, " pat rep "), date!(2026 - 11 - 18)), vec![1]);
        assert_eq!(to(&action(due, ActionStatus::Open, "Someone new"), date!(2026 - 11 - 18)), vec![1, 2]);
        assert_eq!(to(&action(due, ActionStatus::Open, "Pat Rep"), date!(2026 - 11 - 10)), Vec::<i64>::new());
        assert_eq!(to(&action(due, ActionStatus::Open, "Pat Rep"), date!(2026 - 11 - 21)), vec![4]);
        assert_eq!(to(&action(due, ActionStatus::Done, "Pat Rep"), date!(2026 - 11 - 21)), Vec::<i64>::new());
        let n =
            for_action(&users, &action(due, ActionStatus::Open, "Pat Rep"), "Eastport Marac", date!(2026 - 11 - 21));
        assert_eq!(n[0].dedupe_key, "action_overdue:9:2026-11-20");
        assert_eq!(n[0].about, "Eastport Marac, action due on 20 November 2026");
        assert_eq!(n[0].link, "/actions");
    }
}
