//! The one place that decides who may do what.
//!
//! Every handler builds an [`Action`] and asks [`authorise`]; nothing else in the code base
//! compares roles. A decision that allows says on what [`Basis`], so reads of case data can
//! record *why* they were allowed in the audit trail (DPA 2018 s.62).
//!
//! Case access is decided from [`CaseAccess`], the facts about one case that give people a
//! reason to see it. Per-case access lists, restricted cases and break-glass access are part
//! of those facts, so later features add facts rather than new rules in handlers.

mod gate;
mod scope;

pub use gate::Gate;
pub use scope::CaseScope;

use crate::Role;
use serde::Serialize;

/// A role held by a user, for one Marac or (with `marac_id: None`) for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The Marac it is held for; `None` for installation-wide roles.
    pub marac_id: Option<i64>,
}

impl Grant {
    fn covers(&self, role: Role, marac_id: i64) -> bool {
        self.role == role && self.marac_id.is_none_or(|m| m == marac_id)
    }
}

/// The signed-in person asking to do something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// Their user id.
    pub user_id: i64,
    /// The agency they work for, if any.
    pub agency_id: Option<i64>,
    /// Their roles.
    pub grants: Vec<Grant>,
}

impl Actor {
    /// Whether they hold `role` anywhere.
    #[must_use]
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// Whether they hold `role` for `marac_id`.
    #[must_use]
    pub fn has_role_for(&self, role: Role, marac_id: i64) -> bool {
        self.grants.iter().any(|g| g.covers(role, marac_id))
    }

    fn has_any_role_for(&self, roles: &[Role], marac_id: i64) -> bool {
        roles.iter().any(|r| self.has_role_for(*r, marac_id))
    }
}

/// What makes a case visible to someone. Built by the storage layer from the records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseAccess {
    /// The Marac the case belongs to.
    pub marac_id: i64,
    /// Agencies with a referral accepted onto it (a referral waiting for triage opens nothing).
    pub referring_agency_ids: Vec<i64>,
    /// Agencies invited to a meeting at which the case is listed.
    pub attending_agency_ids: Vec<i64>,
    /// Agencies attending the case's Marac while its setting opens research at the case's stage
    /// ([`crate::marac_rules::ResearchOpens`]): they may research it before any list is out.
    pub researching_agency_ids: Vec<i64>,
    /// Heard at its latest meeting and not referred again since: research is closed, and those
    /// who took part read it without changing it.
    pub heard: bool,
    /// People who own an action on the case.
    pub action_owner_user_ids: Vec<i64>,
    /// Agencies that own an action on the case.
    pub action_owner_agency_ids: Vec<i64>,
    /// Set when the victim or perpetrator works for an attending agency: only the people
    /// named here (and live break-glass grants) may see it.
    pub restricted_to_user_ids: Option<Vec<i64>>,
    /// People holding a live, audited break-glass grant for this case.
    pub break_glass_user_ids: Vec<i64>,
    /// Maracs that held the case before it was transferred, each with when it left them: they
    /// keep read-only access to what they held.
    pub held_before: Vec<HeldBefore>,
}

/// A Marac that held a case before it was transferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldBefore {
    /// The Marac.
    pub marac_id: i64,
    /// When the case left it.
    pub until: time::OffsetDateTime,
}

impl CaseAccess {
    /// How much of the case's history `actor` may read: `None` for all of it; for someone who
    /// sees it only because their Marac held it before a transfer, what those Maracs held, up
    /// to when the case left them.
    #[must_use]
    pub fn history_limit(&self, actor: &Actor) -> Option<HistoryLimit> {
        if case_access_in(actor, self, self.marac_id, false).is_ok() {
            return None;
        }
        let held: Vec<&HeldBefore> =
            self.held_before.iter().filter(|h| case_access_in(actor, self, h.marac_id, false).is_ok()).collect();
        let until = held.iter().map(|h| h.until).max()?;
        Some(HistoryLimit { maracs: held.iter().map(|h| h.marac_id).collect(), until })
    }
}

/// What a Marac that held a case before keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLimit {
    /// The Maracs through which the reader sees the case: their referrals only.
    pub maracs: Vec<i64>,
    /// Nothing added after this.
    pub until: time::OffsetDateTime,
}

impl HistoryLimit {
    /// Whether a record of `marac_id` (none: of the case itself) made at `at` is in what was held.
    #[must_use]
    pub fn shows(&self, marac_id: Option<i64>, at: time::OffsetDateTime) -> bool {
        at <= self.until && marac_id.is_none_or(|m| self.maracs.contains(&m))
    }
}

/// Something a person asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Create, change and disable user accounts.
    ManageUsers,
    /// Manage partnerships, Maracs, agencies and settings.
    ManageConfiguration,
    /// Read and export the audit trail.
    ReadAuditTrail,
    /// See and end one's own sessions, set up a second factor.
    ManageOwnAccount,
    /// See the home page of one's roles; someone holding no role has nothing to see.
    ViewHome,
    /// Read a case's content.
    ReadCase(&'a CaseAccess),
    /// Change a case's content.
    WriteCase(&'a CaseAccess),
    /// Refer a case to a Marac.
    CreateReferral {
        /// The Marac referred to.
        marac_id: i64,
    },
    /// Read a referral (draft or submitted) as a referral, before it is a case anyone else sees.
    ReadReferral {
        /// The Marac referred to.
        marac_id: i64,
        /// Who wrote it.
        referrer_user_id: i64,
    },
    /// Change a draft or a referral sent back: its referrer only.
    EditReferral {
        /// Who wrote it.
        referrer_user_id: i64,
    },
    /// Keep the agency directory of a Marac.
    ManageDirectory {
        /// The Marac.
        marac_id: i64,
    },
    /// Read the agency directory.
    ReadDirectory,
    /// Work the referral queue of a Marac.
    TriageReferrals {
        /// The Marac whose queue it is.
        marac_id: i64,
    },
    /// Schedule a Marac's meetings, build and publish their lists.
    ManageMeetings {
        /// The Marac.
        marac_id: i64,
    },
    /// Run a meeting of a Marac: attendance, each case's discussion, outcomes and actions.
    RunMeeting {
        /// The Marac.
        marac_id: i64,
    },
    /// See that a meeting exists, when it is and who is invited (no case in it).
    ViewMeeting {
        /// The meeting's Marac.
        marac_id: i64,
        /// Agencies invited to it.
        invited_agency_ids: &'a [i64],
    },
    /// See a meeting's cases, case pages and minutes: an invited participant who has
    /// confirmed the confidentiality statement for that meeting.
    ReadMeetingCases {
        /// The meeting's Marac.
        marac_id: i64,
        /// Agencies invited to it.
        invited_agency_ids: &'a [i64],
        /// The person has confirmed the statement for this meeting.
        confirmed: bool,
        /// The list has been published (before that only the chair and coordinators see it).
        published: bool,
    },
    /// Report on an action: its owning agency's practitioners and the Marac's coordinators.
    UpdateAction {
        /// The case's Marac.
        marac_id: i64,
        /// The agency owning the action.
        owner_agency_id: i64,
    },
    /// See a Marac's figures with small numbers suppressed.
    ViewAggregateFigures {
        /// The Marac.
        marac_id: i64,
    },
    /// See a Marac's figures exactly.
    ViewExactFigures {
        /// The Marac.
        marac_id: i64,
    },
    /// Enter a partnership's figures from outside the records (for example police
    /// notifications to children's social care): a coordinator of one of its Maracs.
    EnterPartnershipFigures {
        /// The partnership's Maracs.
        marac_ids: &'a [i64],
    },
    /// Work a Marac's queue of likely duplicate people: merge records, undo merges, and say
    /// two records are different people.
    MergePeople {
        /// The Marac whose people they are.
        marac_id: i64,
    },
    /// Upload, see and delete another agency's list for cross-referencing with a Marac's
    /// people (children's social care's open and recently closed cases). Only that agency's
    /// own representatives and coordinators: the Marac's other staff never see the list,
    /// only what it linked.
    CrossReferenceList {
        /// The Marac the list is compared with.
        marac_id: i64,
        /// The agency whose list it is.
        list_agency_id: i64,
        /// That agency is children's social care, the one kind of list taken.
        social_care: bool,
    },
    /// Read and confirm a Marac's information-sharing and confidentiality statement: anyone
    /// holding a role in it that reads cases.
    ConfirmStatement {
        /// The Marac.
        marac_id: i64,
    },
}

/// An id no per-Marac grant names (ids start at 1): only installation-wide grants cover it,
/// so asking about it asks what those grants allow.
const ANY_MARAC: i64 = 0;

/// An agency id no one works for (ids start at 1): a record naming it is no one's own.
const NO_AGENCY: i64 = 0;

/// Whether the person coordinates this Marac. Coordinators see its cases before confirming
/// its statement (they keep it), and its actions all come to them.
#[must_use]
pub fn coordinates(actor: &Actor, marac_id: i64) -> bool {
    actor.has_role_for(Role::Coordinator, marac_id)
}

/// Whether the person researches this Marac's cases before its meetings: its chairs and
/// coordinators, and representatives and Idvas of a partner agency (the people who may take
/// part in its meetings).
#[must_use]
pub fn researches(actor: &Actor, marac_id: i64) -> bool {
    let own = [actor.agency_id.unwrap_or(NO_AGENCY)];
    authorise(actor, Action::ViewMeeting { marac_id, invited_agency_ids: &own }).is_ok()
}

/// Whether the person may chair this Marac's meetings: they hold the chair's role for it.
#[must_use]
pub fn may_chair(actor: &Actor, marac_id: i64) -> bool {
    actor.has_role_for(Role::Chair, marac_id)
}

/// Whether the person is an Idva (for telling the victim an outcome).
#[must_use]
pub fn is_idva(actor: &Actor) -> bool {
    actor.has_role(Role::Idva)
}

/// Why an action was allowed; recorded with audited reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The role alone allows it.
    Role(Role),
    /// It concerns only the person's own account.
    OwnAccount,
    /// They wrote the referral.
    OwnReferral,
    /// Coordinates the case's Marac.
    Coordinator,
    /// Chairs the case's Marac.
    Chair,
    /// Their agency referred the case.
    ReferringAgency,
    /// Their agency attends a meeting where the case is listed.
    AttendingAgency,
    /// They or their agency own an action on the case.
    ActionOwner,
    /// Named on a restricted case.
    NamedOnRestrictedCase,
    /// A live break-glass grant.
    BreakGlass,
    /// Their Marac held the case before it was transferred: read-only, up to the transfer.
    HeldBefore,
}

/// Why an action was refused. Shown to nobody in detail; logged for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not allowed: {0}")]
pub struct Denied(pub &'static str);

/// Administrators see no case content, so an account holding the administrator role holds no
/// role that reads cases ([`Role::reads_cases`]).
///
/// # Errors
/// What is wrong with the set of roles, for the form.
pub fn separate_duties(grants: &[Grant]) -> Result<(), &'static str> {
    if grants.iter().any(|g| g.role == Role::Admin) && grants.iter().any(|g| g.role.reads_cases()) {
        Err("An administrator cannot also hold a role that reads cases: give those roles to another account")
    } else {
        Ok(())
    }
}

/// Decides whether `actor` may do `action`.
///
/// # Errors
/// [`Denied`] with the reason when the action is not allowed.
pub fn authorise(actor: &Actor, action: Action<'_>) -> Result<Basis, Denied> {
    match action {
        Action::ManageUsers | Action::ManageConfiguration => require(actor, Role::Admin),
        Action::ReadAuditTrail => require(actor, Role::Auditor),
        Action::ManageOwnAccount => Ok(Basis::OwnAccount),
        Action::ViewHome => match actor.grants.first() {
            Some(g) => Ok(Basis::Role(g.role)),
            None => Err(Denied("no role held")),
        },
        Action::ReadCase(case) => case_access(actor, case, false),
        Action::WriteCase(case) => case_access(actor, case, true),
        Action::CreateReferral { marac_id } => {
            let referrers = [Role::Referrer, Role::AgencyRep, Role::Idva, Role::Coordinator, Role::Chair];
            if actor.has_any_role_for(&referrers, marac_id) && actor.agency_id.is_some() {
                Ok(Basis::Role(Role::Referrer))
            } else {
                Err(Denied("only practitioners of a partner agency refer cases"))
            }
        }
        Action::ReadReferral { marac_id, referrer_user_id } => {
            if actor.user_id == referrer_user_id && !actor.grants.is_empty() {
                Ok(Basis::OwnReferral)
            } else if actor.has_role_for(Role::Coordinator, marac_id) {
                Ok(Basis::Coordinator)
            } else if actor.has_role_for(Role::Chair, marac_id) {
                Ok(Basis::Chair)
            } else {
                Err(Denied("a referral is seen by its referrer and the Marac's coordinators and chairs"))
            }
        }
        Action::EditReferral { referrer_user_id } => {
            if actor.user_id == referrer_user_id && !actor.grants.is_empty() {
                Ok(Basis::OwnReferral)
            } else {
                Err(Denied("only the referrer changes a referral"))
            }
        }
        Action::ManageDirectory { marac_id } => {
            if actor.has_role_for(Role::Coordinator, marac_id) {
                Ok(Basis::Coordinator)
            } else {
                require(actor, Role::Admin)
            }
        }
        Action::ReadDirectory => match actor.grants.first() {
            Some(g) => Ok(Basis::Role(g.role)),
            None => Err(Denied("no role held")),
        },
        Action::TriageReferrals { marac_id } => {
            if actor.has_role_for(Role::Coordinator, marac_id) {
                Ok(Basis::Coordinator)
            } else {
                Err(Denied("only the Marac's coordinators triage referrals"))
            }
        }
        Action::ManageMeetings { marac_id } => {
            if actor.has_role_for(Role::Coordinator, marac_id) {
                Ok(Basis::Coordinator)
            } else {
                Err(Denied("only the Marac's coordinators schedule meetings and build lists"))
            }
        }
        Action::RunMeeting { marac_id } => {
            if actor.has_role_for(Role::Chair, marac_id) {
                Ok(Basis::Chair)
            } else if actor.has_role_for(Role::Coordinator, marac_id) {
                Ok(Basis::Coordinator)
            } else {
                Err(Denied("only the Marac's chairs and coordinators run its meetings"))
            }
        }
        Action::ViewMeeting { marac_id, invited_agency_ids } => {
            meeting_participant(actor, marac_id, invited_agency_ids)
        }
        Action::ReadMeetingCases { marac_id, invited_agency_ids, confirmed, published } => {
            let basis = meeting_participant(actor, marac_id, invited_agency_ids)?;
            if !confirmed {
                Err(Denied("confidentiality not yet confirmed for this meeting"))
            } else if !published && basis == Basis::AttendingAgency {
                Err(Denied("the list is not yet published"))
            } else {
                Ok(basis)
            }
        }
        Action::UpdateAction { marac_id, owner_agency_id } => {
            if actor.has_role_for(Role::Coordinator, marac_id) {
                return Ok(Basis::Coordinator);
            }
            let practitioner = [Role::AgencyRep, Role::Idva, Role::Referrer];
            if actor.agency_id == Some(owner_agency_id) && actor.has_any_role_for(&practitioner, marac_id) {
                Ok(Basis::ActionOwner)
            } else {
                Err(Denied("an action is reported on by its agency or the coordinator"))
            }
        }
        Action::ViewAggregateFigures { marac_id } => {
            let viewers = [Role::Analyst, Role::Coordinator, Role::Chair];
            match viewers.into_iter().find(|r| actor.has_role_for(*r, marac_id)) {
                Some(role) => Ok(Basis::Role(role)),
                None => Err(Denied("figures are for analysts, coordinators and chairs")),
            }
        }
        Action::ViewExactFigures { marac_id } => {
            if actor.has_role_for(Role::Coordinator, marac_id) {
                Ok(Basis::Coordinator)
            } else {
                Err(Denied("exact small numbers are for the Marac's coordinators"))
            }
        }
        Action::EnterPartnershipFigures { marac_ids } => {
            if marac_ids.iter().any(|m| actor.has_role_for(Role::Coordinator, *m)) {
                Ok(Basis::Coordinator)
            } else {
                Err(Denied("a partnership's figures are entered by a coordinator of one of its Maracs"))
            }
        }
        Action::MergePeople { marac_id } => {
            if actor.has_role_for(Role::Coordinator, marac_id) {
                Ok(Basis::Coordinator)
            } else {
                Err(Denied("only the Marac's coordinators merge its people"))
            }
        }
        Action::ConfirmStatement { marac_id } => {
            match Role::ALL.iter().copied().find(|r| r.reads_cases() && actor.has_role_for(*r, marac_id)) {
                Some(role) => Ok(Basis::Role(role)),
                None => Err(Denied("the statement is confirmed by those who may see the Marac's cases")),
            }
        }
        Action::CrossReferenceList { marac_id, list_agency_id, social_care } => {
            let own = actor.agency_id == Some(list_agency_id);
            if !social_care {
                Err(Denied("only children's social care's lists are cross-referenced"))
            } else if own && actor.has_role_for(Role::AgencyRep, marac_id) {
                Ok(Basis::Role(Role::AgencyRep))
            } else if own && actor.has_role_for(Role::Coordinator, marac_id) {
                Ok(Basis::Coordinator)
            } else {
                Err(Denied("an agency's list is seen only by its own representatives for the Marac"))
            }
        }
    }
}

/// The Marac's chairs and coordinators, and representatives (or Idvas) of invited agencies.
fn meeting_participant(actor: &Actor, marac_id: i64, invited: &[i64]) -> Result<Basis, Denied> {
    if actor.has_role_for(Role::Chair, marac_id) {
        return Ok(Basis::Chair);
    }
    if actor.has_role_for(Role::Coordinator, marac_id) {
        return Ok(Basis::Coordinator);
    }
    match actor.agency_id {
        Some(a) if invited.contains(&a) && actor.has_any_role_for(&[Role::AgencyRep, Role::Idva], marac_id) => {
            Ok(Basis::AttendingAgency)
        }
        _ => Err(Denied("not invited to this meeting")),
    }
}

fn require(actor: &Actor, role: Role) -> Result<Basis, Denied> {
    if actor.has_role(role) { Ok(Basis::Role(role)) } else { Err(Denied("role not held")) }
}

fn case_access(actor: &Actor, case: &CaseAccess, write: bool) -> Result<Basis, Denied> {
    if case.break_glass_user_ids.contains(&actor.user_id) {
        return Ok(Basis::BreakGlass);
    }
    if let Some(named) = &case.restricted_to_user_ids {
        return if named.contains(&actor.user_id) {
            Ok(Basis::NamedOnRestrictedCase)
        } else {
            Err(Denied("restricted case: only named people, or break-glass access"))
        };
    }
    let denied = match case_access_in(actor, case, case.marac_id, write) {
        Ok(basis) => return Ok(basis),
        Err(denied) => denied,
    };
    // A Marac that held the case before keeps reading what it held, and changes nothing.
    if !write && case.held_before.iter().any(|h| case_access_in(actor, case, h.marac_id, false).is_ok()) {
        return Ok(Basis::HeldBefore);
    }
    Err(denied)
}

/// The reasons to see a case that come from a Marac's roles: coordinating or chairing `m`, an
/// action of one's own, or a practitioner role for `m` in an agency that referred the case
/// (with a referral accepted onto it), attends a meeting that lists it, or owns one of its
/// actions.
fn case_access_in(actor: &Actor, case: &CaseAccess, m: i64, write: bool) -> Result<Basis, Denied> {
    if actor.has_role_for(Role::Coordinator, m) {
        return Ok(Basis::Coordinator);
    }
    if actor.has_role_for(Role::Chair, m) {
        return Ok(Basis::Chair);
    }
    if case.action_owner_user_ids.contains(&actor.user_id) {
        return Ok(Basis::ActionOwner);
    }
    // Agency-based reasons need a practitioner role for this Marac: an analyst or auditor
    // who happens to work for the police does not see police-referred cases.
    let practitioner = [Role::AgencyRep, Role::Idva, Role::Referrer];
    let Some(agency) = actor.agency_id.filter(|_| actor.has_any_role_for(&practitioner, m)) else {
        return Err(Denied("no reason to see this case"));
    };
    if case.referring_agency_ids.contains(&agency) {
        return Ok(Basis::ReferringAgency);
    }
    let represents = actor.has_any_role_for(&[Role::AgencyRep, Role::Idva], m);
    // The Marac's setting opens a case on its way to every agency attending the Marac.
    if represents && m == case.marac_id && case.researching_agency_ids.contains(&agency) {
        return Ok(Basis::AttendingAgency);
    }
    if represents && case.attending_agency_ids.contains(&agency) {
        if write && case.heard {
            return Err(Denied("research on this case closed when it was heard"));
        }
        return Ok(Basis::AttendingAgency);
    }
    // An agency owning an action may read the case to do it, but changes the case only
    // through its actions.
    if case.action_owner_agency_ids.contains(&agency) && !write {
        return Ok(Basis::ActionOwner);
    }
    Err(Denied("no reason to see this case"))
}

/// Whether two sets of roles are the same, whatever their order.
#[must_use]
pub fn same_grants(a: &[Grant], b: &[Grant]) -> bool {
    a.iter().all(|g| b.contains(g)) && b.iter().all(|g| a.contains(g))
}

#[cfg(test)]
mod tests;
