//! Which cases a person may see, in the terms a database query can ask of every case at once.
//!
//! [`super::authorise`] decides about one case from its [`CaseAccess`]; a list of cases is
//! filtered by the database with the same rule, built here from the person's roles. A test
//! holds the two to the same answer on every kind of case.

use super::{Actor, CaseAccess, Role};

/// What a person may see of cases: the Maracs whose every case they see, and the cases their
/// agency has a part in within the Maracs they practise in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseScope {
    /// The person: a case whose action names them (the store records owners by name, so this
    /// reason is checked on each case page rather than in lists).
    pub user_id: i64,
    /// Maracs whose every case the person sees: they coordinate or chair them.
    pub whole_maracs: Vec<i64>,
    /// The person's agency, when they practise for one.
    pub agency_id: Option<i64>,
    /// Maracs in which the agency's cases are theirs to see: those it referred (accepted) or
    /// owns an action on.
    pub practitioner_maracs: Vec<i64>,
    /// Maracs in which they also see the cases listed at meetings their agency attends, and
    /// the cases the Marac's setting opens to its agencies before a list is out (a
    /// representative or Idva, not a referrer).
    pub attending_maracs: Vec<i64>,
}

impl CaseScope {
    /// The scope of `actor` among the Maracs `marac_ids` (every Marac of the installation).
    #[must_use]
    pub fn of(actor: &Actor, marac_ids: &[i64]) -> Self {
        let whole = |m: i64| actor.has_role_for(Role::Coordinator, m) || actor.has_role_for(Role::Chair, m);
        let practitioner = [Role::AgencyRep, Role::Idva, Role::Referrer];
        let agency_id = actor.agency_id;
        let in_agency = |m: i64, roles: &[Role]| agency_id.is_some() && !whole(m) && actor.has_any_role_for(roles, m);
        Self {
            user_id: actor.user_id,
            whole_maracs: marac_ids.iter().copied().filter(|m| whole(*m)).collect(),
            agency_id,
            practitioner_maracs: marac_ids.iter().copied().filter(|m| in_agency(*m, &practitioner)).collect(),
            attending_maracs: marac_ids
                .iter()
                .copied()
                .filter(|m| in_agency(*m, &[Role::AgencyRep, Role::Idva]))
                .collect(),
        }
    }

    /// Whether the scope sees nothing at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.whole_maracs.is_empty() && self.practitioner_maracs.is_empty()
    }

    /// Whether a case with these facts is in the scope: what the database's filter asks of each
    /// case, written out for the test that holds it to the policy. Restricted cases, break-glass
    /// grants and Maracs a case has left are decided on the case's own page.
    #[must_use]
    pub fn admits(&self, case: &CaseAccess) -> bool {
        let m = case.marac_id;
        if self.whole_maracs.contains(&m) || case.action_owner_user_ids.contains(&self.user_id) {
            return true;
        }
        let Some(agency) = self.agency_id.filter(|_| self.practitioner_maracs.contains(&m)) else {
            return false;
        };
        case.referring_agency_ids.contains(&agency)
            || case.action_owner_agency_ids.contains(&agency)
            || (self.attending_maracs.contains(&m)
                && (case.attending_agency_ids.contains(&agency) || case.researching_agency_ids.contains(&agency)))
    }
}
