//! What a route asks of a person before its handler looks at any record.

use super::{ANY_MARAC, Action, Actor, Denied, NO_AGENCY, authorise};

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
        let own_agency = actor.agency_id.unwrap_or(NO_AGENCY);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use crate::policy::{CaseAccess, Grant};

    const M1: i64 = 1;
    const M2: i64 = 2;
    const POLICE: i64 = 10;
    const HEALTH: i64 = 11;
    const HOUSING: i64 = 12;

    fn actor(user_id: i64, agency: Option<i64>, grants: &[(Role, Option<i64>)]) -> Actor {
        Actor {
            user_id,
            agency_id: agency,
            grants: grants.iter().map(|&(role, marac_id)| Grant { role, marac_id }).collect(),
        }
    }

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
                        researching_agency_ids: vec![*a],
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
        for role in Role::ALL.iter().copied() {
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
}
