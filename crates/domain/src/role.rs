//! The roles a user can hold, globally or for one Marac.

use crate::coded_enum;
use std::fmt;
use std::str::FromStr;

coded_enum! {
    /// A role held by a user. Roles are granted for one Marac or, for the roles that are not
    /// about one Marac (administration, audit), for the whole installation.
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        /// Manages users, agencies, Maracs and configuration; sees no case content.
        Admin = ("admin", "System administrator"),
        /// Checks referrals, builds meeting lists, minutes meetings, chases actions.
        Coordinator = ("coordinator", "Coordinator"),
        /// Runs the meeting.
        Chair = ("chair", "Chair"),
        /// Represents an agency at the meeting and researches listed cases.
        AgencyRep = ("agency_rep", "Agency representative"),
        /// Independent domestic violence adviser: represents the victim's views.
        Idva = ("idva", "Idva"),
        /// Any practitioner who refers cases.
        Referrer = ("referrer", "Referrer"),
        /// Partnership analyst or board member: aggregate figures only.
        Analyst = ("analyst", "Analyst or board member"),
        /// Information governance: reads the audit trail.
        Auditor = ("auditor", "Auditor"),
    }
}

impl Role {
    /// Whether the role is held for one Marac (as opposed to the whole installation).
    #[must_use]
    pub const fn is_per_marac(self) -> bool {
        !matches!(self, Role::Admin | Role::Auditor)
    }

    /// Whether holders must belong to an agency. Administrators and auditors may be
    /// installation staff outside any partner agency.
    #[must_use]
    pub const fn needs_agency(self) -> bool {
        !matches!(self, Role::Admin | Role::Auditor)
    }

    /// Whether the role opens case content (referrals, case pages, meetings): never held with
    /// the administrator role, whose holders see no case content.
    #[must_use]
    pub const fn reads_cases(self) -> bool {
        matches!(self, Role::Coordinator | Role::Chair | Role::AgencyRep | Role::Idva | Role::Referrer)
    }

    /// Roles whose holders always need a second factor, whatever the configuration says.
    #[must_use]
    pub const fn always_needs_second_factor(self) -> bool {
        matches!(self, Role::Admin | Role::Coordinator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The text was not one of the role codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role '{0}' (expected one of: admin, coordinator, chair, agency_rep, idva, referrer, analyst, auditor)"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.iter().copied().find(|r| r.code() == s.trim()).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for role in Role::ALL.iter().copied() {
            assert_eq!(role.code().parse::<Role>(), Ok(role));
        }
        assert!("superuser".parse::<Role>().is_err());
    }

    #[test]
    fn admin_and_coordinator_always_need_a_second_factor() {
        let always: Vec<Role> = Role::ALL.iter().copied().filter(|r| r.always_needs_second_factor()).collect();
        assert_eq!(always, vec![Role::Admin, Role::Coordinator]);
    }
}
