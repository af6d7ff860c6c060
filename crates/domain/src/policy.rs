//! The one place that decides who may do what.
//!
//! Every handler builds an [`Action`] and asks [`authorise`]; nothing else in the code base
//! compares roles. A decision that allows says on what [`Basis`], so reads of case data can
//! record *why* they were allowed in the audit trail (DPA 2018 s.62).
//!
//! Case access is decided from [`CaseAccess`], the facts about one case that give people a
//! reason to see it. Per-case access lists, restricted cases and break-glass access are part
//! of those facts, so later features add facts rather than new rules in handlers.

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

/// What a route asks of a person before its handler looks at any record: the kind of
/// [`Action`] it serves, decided from the person's roles alone. Every route declares one (see
/// the web crate's route table); the record-level decision stays with [`authorise`].
///
/// A gate admits exactly the people for whom its action could be allowed on *some* record, so
/// it never refuses what [`authorise`] would allow; it refuses early, and in one place, those
/// it never would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// Anyone fully signed in: their own account, sessions and second factor.
    OwnAccount,
    /// Anyone holding a role: the home page, inbox, directory, lists filtered to what they
    /// may see, their own referrals.
    AnyRole,
    /// Administrators: partnerships, Maracs, agencies.
    ManageConfiguration,
    /// Administrators: user accounts.
    ManageUsers,
    /// Auditors: the audit trail.
    ReadAuditTrail,
    /// The roles that open case content.
    ReadCases,
    /// Practitioners of a partner agency who may refer to some Marac.
    Refer,
    /// A Marac's coordinators: the referral queue, matches and transfers.
    TriageReferrals,
    /// A Marac's coordinators: scheduling meetings, building and publishing lists, imports.
    ManageMeetings,
    /// A Marac's chairs and coordinators: running a meeting.
    RunMeeting,
    /// Anyone who may take part in some meeting: chairs, coordinators, and practitioners of
    /// an agency that could be invited.
    AttendMeetings,
    /// Anyone who may report on some action: coordinators and practitioners of an agency.
    ReportActions,
    /// Analysts, coordinators and chairs: figures with small numbers suppressed.
    ViewFigures,
    /// A Marac's coordinators: figures from outside the records.
    EnterFigures,
    /// A Marac's coordinators: the duplicates queue.
    MergePeople,
    /// Coordinators, and practitioners of an agency whose list could be cross-referenced.
    CrossReference,
    /// A Marac's coordinators and administrators: the agency directory.
    ManageDirectory,
    /// Anyone holding a role that reads a Marac's cases: its confidentiality statement.
    ConfirmStatement,
}

/// An id no per-Marac grant names (ids start at 1): only installation-wide grants cover it,
/// so asking about it asks what those grants allow.
const ANY_MARAC: i64 = 0;

impl Gate {
    /// Every gate, for tests that walk them all.
    pub const ALL: [Gate; 18] = [
        Gate::OwnAccount,
        Gate::AnyRole,
        Gate::ManageConfiguration,
        Gate::ManageUsers,
        Gate::ReadAuditTrail,
        Gate::ReadCases,
        Gate::Refer,
        Gate::TriageReferrals,
        Gate::ManageMeetings,
        Gate::RunMeeting,
        Gate::AttendMeetings,
        Gate::ReportActions,
        Gate::ViewFigures,
        Gate::EnterFigures,
        Gate::MergePeople,
        Gate::CrossReference,
        Gate::ManageDirectory,
        Gate::ConfirmStatement,
    ];

    /// Whether `actor` could be allowed this gate's action on some record.
    ///
    /// # Errors
    /// [`Denied`] with the reason when no record could ever be theirs to see or change.
    pub fn admits(self, actor: &Actor) -> Result<(), Denied> {
        // The Maracs the actor's roles name, and one only installation-wide roles cover.
        let maracs = || actor.grants.iter().map(|g| g.marac_id.unwrap_or(ANY_MARAC));
        let on_some_marac = |action: &dyn Fn(i64) -> Action<'static>, why: &'static str| {
            if maracs().any(|m| authorise(actor, action(m)).is_ok()) { Ok(()) } else { Err(Denied(why)) }
        };
        // An agency of the actor's own: the one a record would name for them to be allowed.
        let own_agency = actor.agency_id.unwrap_or(ANY_MARAC);
        match self {
            Gate::OwnAccount => authorise(actor, Action::ManageOwnAccount).map(|_| ()),
            Gate::AnyRole => authorise(actor, Action::ViewHome).map(|_| ()),
            Gate::ManageConfiguration => authorise(actor, Action::ManageConfiguration).map(|_| ()),
            Gate::ManageUsers => authorise(actor, Action::ManageUsers).map(|_| ()),
            Gate::ReadAuditTrail => authorise(actor, Action::ReadAuditTrail).map(|_| ()),
            Gate::ReadCases => {
                if actor.grants.iter().any(|g| g.role.reads_cases()) {
                    Ok(())
                } else {
                    Err(Denied("no role held that reads cases"))
                }
            }
            Gate::Refer => on_some_marac(&|marac_id| Action::CreateReferral { marac_id }, "refers to no Marac"),
            Gate::TriageReferrals => {
                on_some_marac(&|marac_id| Action::TriageReferrals { marac_id }, "coordinates no Marac")
            }
            Gate::ManageMeetings => {
                on_some_marac(&|marac_id| Action::ManageMeetings { marac_id }, "coordinates no Marac")
            }
            Gate::RunMeeting => on_some_marac(&|marac_id| Action::RunMeeting { marac_id }, "runs no Marac's meetings"),
            Gate::AttendMeetings => {
                let invited = [own_agency];
                if maracs().any(|marac_id| {
                    authorise(actor, Action::ViewMeeting { marac_id, invited_agency_ids: &invited }).is_ok()
                }) {
                    Ok(())
                } else {
                    Err(Denied("takes part in no Marac's meetings"))
                }
            }
            Gate::ReportActions => {
                if maracs().any(|marac_id| {
                    authorise(actor, Action::UpdateAction { marac_id, owner_agency_id: own_agency }).is_ok()
                }) {
                    Ok(())
                } else {
                    Err(Denied("reports on no Marac's actions"))
                }
            }
            Gate::ViewFigures => {
                on_some_marac(&|marac_id| Action::ViewAggregateFigures { marac_id }, "sees no Marac's figures")
            }
            Gate::EnterFigures => {
                if maracs().any(|m| {
                    authorise(actor, Action::EnterPartnershipFigures { marac_ids: std::slice::from_ref(&m) }).is_ok()
                }) {
                    Ok(())
                } else {
                    Err(Denied("coordinates no Marac"))
                }
            }
            Gate::MergePeople => on_some_marac(&|marac_id| Action::MergePeople { marac_id }, "coordinates no Marac"),
            Gate::CrossReference => {
                if maracs().any(|marac_id| {
                    let action = Action::CrossReferenceList { marac_id, list_agency_id: own_agency, social_care: true };
                    authorise(actor, action).is_ok()
                }) {
                    Ok(())
                } else {
                    Err(Denied("keeps no list for cross-referencing"))
                }
            }
            Gate::ManageDirectory => {
                on_some_marac(&|marac_id| Action::ManageDirectory { marac_id }, "keeps no Marac's directory")
            }
            Gate::ConfirmStatement => {
                on_some_marac(&|marac_id| Action::ConfirmStatement { marac_id }, "reads no Marac's cases")
            }
        }
    }
}

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
    let own = [actor.agency_id.unwrap_or(ANY_MARAC)];
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
            match Role::ALL.into_iter().find(|r| r.reads_cases() && actor.has_role_for(*r, marac_id)) {
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
    let attends =
        case.attending_agency_ids.contains(&agency) && actor.has_any_role_for(&[Role::AgencyRep, Role::Idva], m);
    if attends {
        return Ok(Basis::AttendingAgency);
    }
    // An agency owning an action may read the case to do it, but changes the case only
    // through its actions.
    if case.action_owner_agency_ids.contains(&agency) && !write {
        return Ok(Basis::ActionOwner);
    }
    Err(Denied("no reason to see this case"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M1: i64 = 1;
    const M2: i64 = 2;
    const POLICE: i64 = 10;
    const HEALTH: i64 = 11;
    const HOUSING: i64 = 12;

    /// Every record-level action a route's gate stands in front of, on records of two Maracs,
    /// three agencies and two referrers, with the case facts that open a case.
    fn actions_behind(gate: Gate, user_id: i64) -> Vec<Action<'static>> {
        let agencies: &'static [i64] = &[POLICE, HEALTH, HOUSING];
        let cases: &'static [CaseAccess] = Box::leak(
            [M1, M2]
                .into_iter()
                .flat_map(|m| {
                    agencies.iter().map(move |a| CaseAccess {
                        marac_id: m,
                        referring_agency_ids: vec![*a],
                        attending_agency_ids: vec![*a],
                        action_owner_agency_ids: vec![*a],
                        ..CaseAccess::default()
                    })
                })
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        let mut out = Vec::new();
        for m in [M1, M2] {
            for a in agencies {
                let invited: &'static [i64] = std::slice::from_ref(a);
                out.extend(match gate {
                    Gate::AttendMeetings => vec![
                        Action::ViewMeeting { marac_id: m, invited_agency_ids: invited },
                        Action::ReadMeetingCases {
                            marac_id: m,
                            invited_agency_ids: invited,
                            confirmed: true,
                            published: true,
                        },
                    ],
                    Gate::ReportActions => vec![Action::UpdateAction { marac_id: m, owner_agency_id: *a }],
                    Gate::CrossReference => {
                        vec![Action::CrossReferenceList { marac_id: m, list_agency_id: *a, social_care: true }]
                    }
                    _ => vec![],
                });
            }
            out.extend(match gate {
                Gate::Refer => vec![Action::CreateReferral { marac_id: m }],
                Gate::TriageReferrals => vec![Action::TriageReferrals { marac_id: m }],
                Gate::ManageMeetings => vec![Action::ManageMeetings { marac_id: m }],
                Gate::RunMeeting => vec![Action::RunMeeting { marac_id: m }],
                Gate::ViewFigures => vec![Action::ViewAggregateFigures { marac_id: m }],
                Gate::EnterFigures => vec![Action::EnterPartnershipFigures { marac_ids: &[M1, M2] }],
                Gate::MergePeople => vec![Action::MergePeople { marac_id: m }],
                Gate::ManageDirectory => vec![Action::ManageDirectory { marac_id: m }],
                Gate::ConfirmStatement => vec![Action::ConfirmStatement { marac_id: m }],
                Gate::AnyRole => vec![
                    Action::ViewHome,
                    Action::ReadDirectory,
                    Action::ReadReferral { marac_id: m, referrer_user_id: user_id },
                    Action::EditReferral { referrer_user_id: user_id },
                ],
                _ => vec![],
            });
        }
        match gate {
            Gate::OwnAccount => out.push(Action::ManageOwnAccount),
            Gate::ManageConfiguration => out.push(Action::ManageConfiguration),
            Gate::ManageUsers => out.push(Action::ManageUsers),
            Gate::ReadAuditTrail => out.push(Action::ReadAuditTrail),
            Gate::ReadCases => {
                out.extend(cases.iter().flat_map(|c| [Action::ReadCase(c), Action::WriteCase(c)]));
            }
            _ => {}
        }
        out
    }

    #[test]
    fn a_gate_never_refuses_what_the_policy_would_allow_on_some_record() {
        for role in Role::ALL {
            for marac in [Some(M1), None] {
                for agency in [Some(POLICE), None] {
                    let who = actor(7, agency, &[(role, marac)]);
                    for gate in Gate::ALL {
                        let allowed =
                            actions_behind(gate, who.user_id).into_iter().find(|a| authorise(&who, *a).is_ok());
                        if let Some(action) = allowed {
                            assert!(
                                gate.admits(&who).is_ok(),
                                "{gate:?} refuses {role:?} ({marac:?}, {agency:?}), who may {action:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_gate_refuses_those_no_record_could_ever_be_for() {
        let analyst = actor(1, Some(POLICE), &[(Role::Analyst, Some(M1))]);
        let admin = actor(2, None, &[(Role::Admin, None)]);
        let rep = actor(3, Some(POLICE), &[(Role::AgencyRep, Some(M1))]);
        let nobody = actor(4, Some(POLICE), &[]);
        assert!(Gate::ReadCases.admits(&analyst).is_err());
        assert!(Gate::ReadCases.admits(&admin).is_err());
        assert!(Gate::TriageReferrals.admits(&rep).is_err());
        assert!(Gate::ViewFigures.admits(&rep).is_err());
        assert!(Gate::AttendMeetings.admits(&rep).is_ok());
        assert!(Gate::AttendMeetings.admits(&actor(5, None, &[(Role::AgencyRep, Some(M1))])).is_err());
        assert!(Gate::ManageDirectory.admits(&admin).is_ok());
        assert!(Gate::ManageUsers.admits(&rep).is_err());
        assert!(Gate::AnyRole.admits(&nobody).is_err());
        assert!(Gate::OwnAccount.admits(&nobody).is_ok());
    }

    fn actor(user_id: i64, agency: Option<i64>, grants: &[(Role, Option<i64>)]) -> Actor {
        Actor {
            user_id,
            agency_id: agency,
            grants: grants.iter().map(|&(role, marac_id)| Grant { role, marac_id }).collect(),
        }
    }

    fn case() -> CaseAccess {
        CaseAccess {
            marac_id: M1,
            referring_agency_ids: vec![POLICE],
            attending_agency_ids: vec![POLICE, HEALTH],
            action_owner_user_ids: vec![77],
            action_owner_agency_ids: vec![HOUSING],
            ..CaseAccess::default()
        }
    }

    #[test]
    fn administration_is_for_admins_only() {
        let admin = actor(1, None, &[(Role::Admin, None)]);
        assert!(authorise(&admin, Action::ManageUsers).is_ok());
        assert!(authorise(&admin, Action::ManageConfiguration).is_ok());
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
            let other = actor(2, Some(POLICE), &[(role, Some(M1))]);
            assert!(authorise(&other, Action::ManageUsers).is_err(), "{role} managed users");
            assert!(authorise(&other, Action::ManageConfiguration).is_err(), "{role} managed config");
        }
    }

    #[test]
    fn audit_trail_is_for_auditors_only() {
        for role in Role::ALL {
            let a = actor(1, None, &[(role, None)]);
            assert_eq!(authorise(&a, Action::ReadAuditTrail).is_ok(), role == Role::Auditor, "{role}");
        }
    }

    /// The expected access table, written apart from the rules above: role, agency, user id,
    /// whether they may read the case from `case()`.
    #[test]
    fn case_read_matrix() {
        type Row = (Role, Option<i64>, Option<i64>, i64, bool);
        let table: &[Row] = &[
            (Role::Admin, None, None, 1, false),
            (Role::Auditor, None, None, 1, false),
            (Role::Analyst, Some(POLICE), Some(M1), 1, false),
            (Role::Coordinator, Some(HEALTH), Some(M1), 1, true),
            (Role::Coordinator, Some(HEALTH), Some(M2), 1, false),
            (Role::Chair, Some(POLICE), Some(M1), 1, true),
            (Role::Referrer, Some(POLICE), Some(M1), 1, true),
            (Role::Referrer, Some(HEALTH), Some(M1), 1, false),
            (Role::AgencyRep, Some(HEALTH), Some(M1), 1, true),
            (Role::AgencyRep, Some(HEALTH), Some(M2), 1, false),
            (Role::AgencyRep, Some(HOUSING), Some(M1), 1, true),
            (Role::AgencyRep, Some(99), Some(M1), 1, false),
            (Role::Idva, Some(HEALTH), Some(M1), 1, true),
            (Role::Referrer, Some(99), Some(M1), 77, true),
        ];
        let c = case();
        for &(role, agency, marac, user, expected) in table {
            let a = actor(user, agency, &[(role, marac)]);
            assert_eq!(
                authorise(&a, Action::ReadCase(&c)).is_ok(),
                expected,
                "{role} agency {agency:?} marac {marac:?} user {user}"
            );
        }
    }

    #[test]
    fn restricted_cases_need_a_name_or_break_glass() {
        let mut c = case();
        c.restricted_to_user_ids = Some(vec![5]);
        let coordinator = actor(4, Some(HEALTH), &[(Role::Coordinator, Some(M1))]);
        assert!(authorise(&coordinator, Action::ReadCase(&c)).is_err());
        let named = actor(5, Some(HEALTH), &[(Role::AgencyRep, Some(M1))]);
        assert_eq!(authorise(&named, Action::ReadCase(&c)), Ok(Basis::NamedOnRestrictedCase));
        c.break_glass_user_ids.push(4);
        assert_eq!(authorise(&coordinator, Action::ReadCase(&c)), Ok(Basis::BreakGlass));
    }

    #[test]
    fn a_marac_that_held_a_case_reads_what_it_held_and_changes_nothing() {
        let until = time::macros::datetime!(2026-11-01 12:00 UTC);
        let mut c = case();
        c.marac_id = M2;
        c.held_before = vec![HeldBefore { marac_id: M1, until }];
        let old_coordinator = actor(4, Some(HEALTH), &[(Role::Coordinator, Some(M1))]);
        assert_eq!(authorise(&old_coordinator, Action::ReadCase(&c)), Ok(Basis::HeldBefore));
        assert!(authorise(&old_coordinator, Action::WriteCase(&c)).is_err());
        let old_rep = actor(3, Some(POLICE), &[(Role::AgencyRep, Some(M1))]);
        assert_eq!(authorise(&old_rep, Action::ReadCase(&c)), Ok(Basis::HeldBefore));
        let limit = c.history_limit(&old_rep).unwrap_or_else(|| panic!("limited"));
        assert_eq!(limit, HistoryLimit { maracs: vec![M1], until });
        assert!(limit.shows(Some(M1), until) && !limit.shows(Some(M2), until));
        assert!(!limit.shows(None, until + time::Duration::seconds(1)));
        let new_coordinator = actor(5, Some(HEALTH), &[(Role::Coordinator, Some(M2))]);
        assert_eq!(c.history_limit(&new_coordinator), None, "the holder sees everything");
        assert!(authorise(&actor(6, Some(POLICE), &[(Role::AgencyRep, Some(9))]), Action::ReadCase(&c)).is_err());
    }

    #[test]
    fn administrators_hold_no_role_that_reads_cases() {
        let admin = Grant { role: Role::Admin, marac_id: None };
        let auditor = Grant { role: Role::Auditor, marac_id: None };
        let analyst = Grant { role: Role::Analyst, marac_id: Some(M1) };
        assert_eq!(separate_duties(&[admin, auditor, analyst]), Ok(()));
        for role in [Role::Coordinator, Role::Chair, Role::AgencyRep, Role::Idva, Role::Referrer] {
            assert!(separate_duties(&[admin, Grant { role, marac_id: Some(M1) }]).is_err(), "{role}");
            assert_eq!(separate_duties(&[Grant { role, marac_id: Some(M1) }]), Ok(()));
        }
    }

    #[test]
    fn basis_says_why() {
        let c = case();
        let rep = actor(3, Some(POLICE), &[(Role::AgencyRep, Some(M1))]);
        assert_eq!(authorise(&rep, Action::ReadCase(&c)), Ok(Basis::ReferringAgency));
        let health = actor(3, Some(HEALTH), &[(Role::AgencyRep, Some(M1))]);
        assert_eq!(authorise(&health, Action::ReadCase(&c)), Ok(Basis::AttendingAgency));
    }

    #[test]
    fn everyone_manages_their_own_account_but_only_role_holders_have_a_home() {
        let nobody = actor(1, None, &[]);
        assert_eq!(authorise(&nobody, Action::ManageOwnAccount), Ok(Basis::OwnAccount));
        assert!(authorise(&nobody, Action::ViewHome).is_err());
        let idva = actor(2, Some(HEALTH), &[(Role::Idva, Some(M1))]);
        assert_eq!(authorise(&idva, Action::ViewHome), Ok(Basis::Role(Role::Idva)));
    }

    #[test]
    fn figures_and_triage() {
        let analyst = actor(1, None, &[(Role::Analyst, Some(M1))]);
        assert!(authorise(&analyst, Action::ViewAggregateFigures { marac_id: M1 }).is_ok());
        assert!(authorise(&analyst, Action::ViewAggregateFigures { marac_id: M2 }).is_err());
        assert!(authorise(&analyst, Action::ViewExactFigures { marac_id: M1 }).is_err());
        let coordinator = actor(2, Some(POLICE), &[(Role::Coordinator, Some(M1))]);
        assert!(authorise(&coordinator, Action::ViewExactFigures { marac_id: M1 }).is_ok());
        assert!(authorise(&coordinator, Action::TriageReferrals { marac_id: M1 }).is_ok());
        assert!(authorise(&coordinator, Action::TriageReferrals { marac_id: M2 }).is_err());
        assert!(authorise(&analyst, Action::CreateReferral { marac_id: M1 }).is_err());
        let referrer = actor(3, Some(HEALTH), &[(Role::Referrer, Some(M1))]);
        assert!(authorise(&referrer, Action::CreateReferral { marac_id: M1 }).is_ok());
        assert!(authorise(&coordinator, Action::EnterPartnershipFigures { marac_ids: &[M2, M1] }).is_ok());
        assert!(authorise(&coordinator, Action::EnterPartnershipFigures { marac_ids: &[M2] }).is_err());
        assert!(authorise(&analyst, Action::EnterPartnershipFigures { marac_ids: &[M1] }).is_err());
    }

    #[test]
    fn referrals_are_seen_by_their_referrer_and_the_marac_coordinators() {
        let table: &[(Role, Option<i64>, i64, bool, bool)] = &[
            // role, Marac of the grant, user id, may read, may edit
            (Role::Referrer, Some(M1), 5, true, true),
            (Role::Referrer, Some(M1), 6, false, false),
            (Role::AgencyRep, Some(M1), 6, false, false),
            (Role::Coordinator, Some(M1), 6, true, false),
            (Role::Coordinator, Some(M2), 6, false, false),
            (Role::Chair, Some(M1), 6, true, false),
            (Role::Analyst, Some(M1), 6, false, false),
            (Role::Admin, None, 6, false, false),
        ];
        for &(role, marac, user, read, edit) in table {
            let a = actor(user, Some(POLICE), &[(role, marac)]);
            let r = authorise(&a, Action::ReadReferral { marac_id: M1, referrer_user_id: 5 });
            assert_eq!(r.is_ok(), read, "{role} user {user} reading");
            assert_eq!(authorise(&a, Action::EditReferral { referrer_user_id: 5 }).is_ok(), edit, "{role} editing");
        }
        // A referrer whose roles were all removed no longer sees their referrals.
        assert!(
            authorise(&actor(5, Some(POLICE), &[]), Action::ReadReferral { marac_id: M1, referrer_user_id: 5 })
                .is_err()
        );
    }

    #[test]
    fn the_directory_is_kept_by_coordinators_and_admins() {
        assert!(authorise(&actor(1, None, &[(Role::Admin, None)]), Action::ManageDirectory { marac_id: M1 }).is_ok());
        assert!(
            authorise(
                &actor(1, Some(POLICE), &[(Role::Coordinator, Some(M1))]),
                Action::ManageDirectory { marac_id: M1 }
            )
            .is_ok()
        );
        assert!(
            authorise(
                &actor(1, Some(POLICE), &[(Role::Coordinator, Some(M2))]),
                Action::ManageDirectory { marac_id: M1 }
            )
            .is_err()
        );
        assert!(
            authorise(&actor(1, Some(POLICE), &[(Role::Referrer, Some(M1))]), Action::ManageDirectory { marac_id: M1 })
                .is_err()
        );
        assert!(authorise(&actor(1, Some(POLICE), &[(Role::Referrer, Some(M1))]), Action::ReadDirectory).is_ok());
    }

    #[test]
    fn meetings_are_run_by_chairs_and_coordinators_and_seen_by_invited_agencies_after_confirming() {
        let coordinator = actor(1, Some(POLICE), &[(Role::Coordinator, Some(M1))]);
        let chair = actor(2, Some(POLICE), &[(Role::Chair, Some(M1))]);
        let health_rep = actor(3, Some(HEALTH), &[(Role::AgencyRep, Some(M1))]);
        let housing_rep = actor(4, Some(HOUSING), &[(Role::AgencyRep, Some(M1))]);
        let health_referrer = actor(5, Some(HEALTH), &[(Role::Referrer, Some(M1))]);
        let other_coordinator = actor(6, Some(POLICE), &[(Role::Coordinator, Some(M2))]);
        let analyst = actor(7, Some(HEALTH), &[(Role::Analyst, Some(M1))]);
        let invited = [POLICE, HEALTH];

        assert!(authorise(&coordinator, Action::ManageMeetings { marac_id: M1 }).is_ok());
        for a in [&chair, &health_rep, &other_coordinator, &analyst] {
            assert!(authorise(a, Action::ManageMeetings { marac_id: M1 }).is_err());
        }
        assert_eq!(authorise(&chair, Action::RunMeeting { marac_id: M1 }), Ok(Basis::Chair));
        assert!(authorise(&coordinator, Action::RunMeeting { marac_id: M1 }).is_ok());
        assert!(authorise(&health_rep, Action::RunMeeting { marac_id: M1 }).is_err());

        let view = Action::ViewMeeting { marac_id: M1, invited_agency_ids: &invited };
        for (a, ok) in [
            (&coordinator, true),
            (&chair, true),
            (&health_rep, true),
            (&housing_rep, false),
            (&health_referrer, false),
            (&other_coordinator, false),
            (&analyst, false),
        ] {
            assert_eq!(authorise(a, view).is_ok(), ok, "{a:?}");
        }
        for confirmed in [false, true] {
            let read =
                Action::ReadMeetingCases { marac_id: M1, invited_agency_ids: &invited, confirmed, published: true };
            // Everyone, chair and coordinator included, confirms before seeing a case.
            for a in [&coordinator, &chair, &health_rep] {
                assert_eq!(authorise(a, read).is_ok(), confirmed);
            }
            assert!(authorise(&housing_rep, read).is_err(), "not invited");
        }
        // Before publication the list is the chair's and coordinators' only.
        let unpublished =
            Action::ReadMeetingCases { marac_id: M1, invited_agency_ids: &invited, confirmed: true, published: false };
        assert!(authorise(&health_rep, unpublished).is_err());
        assert!(authorise(&chair, unpublished).is_ok() && authorise(&coordinator, unpublished).is_ok());
    }

    #[test]
    fn actions_are_reported_on_by_their_agency_or_the_coordinator() {
        let update = Action::UpdateAction { marac_id: M1, owner_agency_id: HOUSING };
        assert!(authorise(&actor(1, Some(POLICE), &[(Role::Coordinator, Some(M1))]), update).is_ok());
        assert!(authorise(&actor(2, Some(HOUSING), &[(Role::AgencyRep, Some(M1))]), update).is_ok());
        assert!(authorise(&actor(3, Some(HEALTH), &[(Role::AgencyRep, Some(M1))]), update).is_err());
        assert!(authorise(&actor(4, Some(HOUSING), &[(Role::AgencyRep, Some(M2))]), update).is_err());
        assert!(authorise(&actor(5, Some(HOUSING), &[(Role::Analyst, Some(M1))]), update).is_err());
    }
    #[test]
    fn duplicates_are_merged_by_the_marac_coordinators_only() {
        let coordinator = actor(1, Some(POLICE), &[(Role::Coordinator, Some(M1))]);
        assert_eq!(authorise(&coordinator, Action::MergePeople { marac_id: M1 }), Ok(Basis::Coordinator));
        assert!(authorise(&coordinator, Action::MergePeople { marac_id: M2 }).is_err());
        for role in
            [Role::Admin, Role::Chair, Role::AgencyRep, Role::Idva, Role::Referrer, Role::Analyst, Role::Auditor]
        {
            let other = actor(2, Some(POLICE), &[(role, Some(M1))]);
            assert!(authorise(&other, Action::MergePeople { marac_id: M1 }).is_err(), "{role:?}");
        }
    }

    #[test]
    fn an_agency_list_is_seen_by_its_own_agency_only() {
        const CSC: i64 = 13;
        let list = |marac_id, social_care| Action::CrossReferenceList { marac_id, list_agency_id: CSC, social_care };
        let rep = actor(1, Some(CSC), &[(Role::AgencyRep, Some(M1))]);
        assert_eq!(authorise(&rep, list(M1, true)), Ok(Basis::Role(Role::AgencyRep)));
        assert!(authorise(&rep, list(M2, true)).is_err(), "another Marac");
        assert!(authorise(&rep, list(M1, false)).is_err(), "not children's social care");
        let own_coordinator = actor(2, Some(CSC), &[(Role::Coordinator, Some(M1))]);
        assert_eq!(authorise(&own_coordinator, list(M1, true)), Ok(Basis::Coordinator));
        // The Marac's own coordinator from another agency sees what was linked, never the list.
        let coordinator = actor(3, Some(POLICE), &[(Role::Coordinator, Some(M1))]);
        assert!(authorise(&coordinator, list(M1, true)).is_err());
        for role in [Role::Chair, Role::Idva, Role::Referrer, Role::Analyst] {
            let other = actor(4, Some(CSC), &[(role, Some(M1))]);
            assert!(authorise(&other, list(M1, true)).is_err(), "{role:?}");
        }
        let admin = actor(5, Some(CSC), &[(Role::Admin, None)]);
        assert!(authorise(&admin, list(M1, true)).is_err());
    }
}
