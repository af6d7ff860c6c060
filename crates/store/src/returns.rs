//! The records returns are built from: per meeting, the cases heard there counted as the
//! SafeLives return asks ([`marac_domain::safelives_return::MeetingCounts`]).

use crate::StoreResult;
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;
use marac_domain::safelives_return::MeetingCounts;
use time::Date;

/// Which meetings a return covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnScope {
    /// The Maracs.
    pub marac_ids: Vec<i64>,
    /// First day, included.
    pub from: Date,
    /// Last day, included.
    pub to: Date,
}

/// One meeting's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingReturn {
    /// The meeting.
    pub meeting_id: i64,
    /// Its Marac.
    pub marac_id: i64,
    /// Its day.
    pub held_on: Date,
    /// The cases heard there, counted.
    pub counts: MeetingCounts,
}

/// What the action plans agreed at the scope's meetings hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionCounts {
    /// Cases heard whose plan has an action about the person causing harm.
    pub cases_with_perpetrator_action: u32,
    /// Cases heard whose plan has an action about a child.
    pub cases_with_child_action: u32,
    /// Actions agreed, by kind and status: `(kind code, status code, count)`.
    pub by_kind_and_status: Vec<(String, String, u32)>,
}

impl ActionCounts {
    /// Actions of a kind (any status when `status` is `None`).
    #[must_use]
    pub fn count(&self, kind: Option<&str>, status: Option<&str>) -> u32 {
        self.by_kind_and_status
            .iter()
            .filter(|(k, s, _)| kind.is_none_or(|x| x == k) && status.is_none_or(|x| x == s))
            .map(|(_, _, n)| n)
            .sum()
    }
}

/// How often an agency attended the held meetings it was invited to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyAttendance {
    /// The agency.
    pub agency_id: i64,
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: marac_domain::AgencyCategory,
    /// Held meetings it was invited to.
    pub invited: u32,
    /// Of those, meetings someone from it attended.
    pub present: u32,
}

/// Referrals decided in the period that met the visible high-risk threshold, and how many of
/// those were screened out (declined).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Screening {
    /// Visible high risk, decided in the period.
    pub high_risk: u32,
    /// Of those, declined.
    pub screened_out: u32,
}

/// A figure from outside the records, entered for a partnership's quarter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnershipFigure {
    /// The measure's key.
    pub measure: String,
    /// The figure.
    pub value: i64,
    /// Who entered it.
    pub entered_by: i64,
    /// When.
    pub entered_at: crate::Ts,
}

/// Figures for the SafeLives return and the dashboards.
#[async_trait]
pub trait ReturnStore {
    /// Per meeting in the scope, the cases heard there counted as the SafeLives return asks;
    /// meetings with no case heard are left out. Ordered by day.
    async fn meeting_returns(&self, scope: &ReturnScope) -> StoreResult<Vec<MeetingReturn>>;
    /// What the action plans agreed at the scope's meetings hold.
    async fn action_counts(&self, scope: &ReturnScope) -> StoreResult<ActionCounts>;
    /// Per agency, the held meetings of the scope it was invited to and attended.
    async fn agency_attendance(&self, scope: &ReturnScope) -> StoreResult<Vec<AgencyAttendance>>;
    /// Visible high-risk referrals decided in the scope's period, and those screened out.
    async fn screening(&self, scope: &ReturnScope) -> StoreResult<Screening>;
    /// Referrals made in the scope's period (not drafts) by the victim's postcode sector; an
    /// empty sector counts those with no postcode.
    async fn postcode_counts(&self, scope: &ReturnScope) -> StoreResult<Vec<(String, u32)>>;
    /// Figures entered from outside the records for a partnership's quarter (`2026-q3`).
    async fn partnership_figures(&self, partnership_id: i64, quarter: &str) -> StoreResult<Vec<PartnershipFigure>>;
    /// Enters (or corrects) one such figure, with its audit event.
    async fn set_partnership_figure(
        &self,
        partnership_id: i64,
        quarter: &str,
        figure: &PartnershipFigure,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
}
