//! The policy matrix: who may do what, on which records.

use super::*;

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
    for role in Role::ALL.iter().copied().filter(|r| *r != Role::Admin) {
        let other = actor(2, Some(POLICE), &[(role, Some(M1))]);
        assert!(authorise(&other, Action::ManageUsers).is_err(), "{role} managed users");
        assert!(authorise(&other, Action::ManageConfiguration).is_err(), "{role} managed config");
    }
}

#[test]
fn audit_trail_is_for_auditors_only() {
    for role in Role::ALL.iter().copied() {
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
        authorise(&actor(5, Some(POLICE), &[]), Action::ReadReferral { marac_id: M1, referrer_user_id: 5 }).is_err()
    );
}

#[test]
fn the_directory_is_kept_by_coordinators_and_admins() {
    assert!(authorise(&actor(1, None, &[(Role::Admin, None)]), Action::ManageDirectory { marac_id: M1 }).is_ok());
    assert!(
        authorise(&actor(1, Some(POLICE), &[(Role::Coordinator, Some(M1))]), Action::ManageDirectory { marac_id: M1 })
            .is_ok()
    );
    assert!(
        authorise(&actor(1, Some(POLICE), &[(Role::Coordinator, Some(M2))]), Action::ManageDirectory { marac_id: M1 })
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
        let read = Action::ReadMeetingCases { marac_id: M1, invited_agency_ids: &invited, confirmed, published: true };
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
    for role in [Role::Admin, Role::Chair, Role::AgencyRep, Role::Idva, Role::Referrer, Role::Analyst, Role::Auditor] {
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

/// The scope a list of cases is filtered by gives the same answer as the policy on every
/// combination of roles and case facts (restricted cases and earlier Maracs aside, which are
/// decided on the case's own page).
#[test]
fn the_scope_of_a_list_agrees_with_the_policy() {
    let agencies = [None, Some(POLICE), Some(HEALTH), Some(HOUSING)];
    let marac_choices = [None, Some(M1), Some(M2)];
    let cases = [
        case(),
        CaseAccess { marac_id: M2, ..case() },
        CaseAccess { marac_id: M1, ..CaseAccess::default() },
        CaseAccess { marac_id: M1, attending_agency_ids: vec![HOUSING], ..CaseAccess::default() },
        CaseAccess { marac_id: M1, referring_agency_ids: vec![HEALTH, HOUSING], ..CaseAccess::default() },
        CaseAccess { marac_id: M1, researching_agency_ids: vec![HEALTH], ..CaseAccess::default() },
        CaseAccess {
            marac_id: M2,
            researching_agency_ids: vec![POLICE, HOUSING],
            heard: true,
            ..CaseAccess::default()
        },
        CaseAccess { marac_id: M1, attending_agency_ids: vec![HEALTH], heard: true, ..CaseAccess::default() },
    ];
    let mut checked = 0;
    for role in Role::ALL.iter().copied() {
        for second in Role::ALL.iter().copied() {
            for agency in agencies {
                for m in marac_choices {
                    for user in [1, 77] {
                        let a = actor(user, agency, &[(role, m), (second, Some(M2))]);
                        let scope = CaseScope::of(&a, &[M1, M2]);
                        for c in &cases {
                            let policy = authorise(&a, Action::ReadCase(c)).is_ok();
                            assert_eq!(scope.admits(c), policy, "{role}+{second} agency {agency:?} marac {m:?}: {c:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 1000);
}

/// A Marac's setting opens a case on its way to every agency attending the Marac; research
/// closes when the case is heard, and those who took part keep reading it.
#[test]
fn research_opens_by_the_marac_setting_and_closes_when_the_case_is_heard() {
    let rep = actor(1, Some(HEALTH), &[(Role::AgencyRep, Some(M1))]);
    let referrer = actor(2, Some(HEALTH), &[(Role::Referrer, Some(M1))]);
    let elsewhere = actor(3, Some(HEALTH), &[(Role::AgencyRep, Some(M2))]);
    let early = CaseAccess { marac_id: M1, researching_agency_ids: vec![HEALTH], ..CaseAccess::default() };
    assert_eq!(authorise(&rep, Action::ReadCase(&early)), Ok(Basis::AttendingAgency));
    assert_eq!(authorise(&rep, Action::WriteCase(&early)), Ok(Basis::AttendingAgency));
    assert!(authorise(&referrer, Action::ReadCase(&early)).is_err(), "a referrer does not research");
    assert!(authorise(&elsewhere, Action::ReadCase(&early)).is_err(), "only the case's own Marac's agencies");
    let not_yet = CaseAccess { marac_id: M1, ..CaseAccess::default() };
    assert!(authorise(&rep, Action::ReadCase(&not_yet)).is_err());

    let heard = CaseAccess { marac_id: M1, attending_agency_ids: vec![HEALTH], heard: true, ..CaseAccess::default() };
    assert_eq!(
        authorise(&rep, Action::ReadCase(&heard)),
        Ok(Basis::AttendingAgency),
        "read-only for those who took part"
    );
    assert!(authorise(&rep, Action::WriteCase(&heard)).is_err(), "research closed at the hearing");
    let coordinator = actor(4, Some(POLICE), &[(Role::Coordinator, Some(M1))]);
    assert!(authorise(&coordinator, Action::WriteCase(&heard)).is_ok());
}
