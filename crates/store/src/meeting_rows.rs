//! Rows of the meeting tables as both backends return them, and their conversion to records.

use crate::{StoreError, StoreResult, Ts};
use marac_domain::meeting_rules::{
    ActionKind, ActionStatus, ActionSubject, CaseOutcome, DelayReason, MeetingFormat, MeetingKind, MeetingStatus,
    PerpetratorApproach,
};
use time::Date;

fn code<T>(what: &str, value: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt(format!("unknown {what} {value}")))
}

pub(crate) const MEETING_COLUMNS: &str = "m.id, m.marac_id, m.kind, m.format, m.status, m.held_on, m.starts_at, \
     m.closing_on, m.location, m.chair_user_id, m.capacity, m.list_cutoff_on, m.published_at, \
     (SELECT COUNT(*) FROM meeting_cases mc WHERE mc.meeting_id = m.id) AS listed";

#[derive(sqlx::FromRow)]
pub(crate) struct MeetingRow {
    pub id: i64,
    pub marac_id: i64,
    pub kind: String,
    pub format: String,
    pub status: String,
    pub held_on: crate::Day,
    pub starts_at: String,
    pub closing_on: Option<crate::Day>,
    pub location: String,
    pub chair_user_id: Option<i64>,
    pub capacity: i64,
    pub list_cutoff_on: Option<crate::Day>,
    pub published_at: Option<Ts>,
    pub listed: i64,
}

impl MeetingRow {
    pub(crate) fn into_meeting(self, invited_agency_ids: Vec<i64>) -> StoreResult<crate::Meeting> {
        Ok(crate::Meeting {
            id: self.id,
            details: crate::NewMeeting {
                marac_id: self.marac_id,
                kind: code("meeting kind", &self.kind, MeetingKind::from_code)?,
                format: code("meeting format", &self.format, MeetingFormat::from_code)?,
                held_on: self.held_on.0,
                starts_at: self.starts_at,
                closing_on: self.closing_on.map(Date::from),
                location: self.location,
                chair_user_id: self.chair_user_id,
                capacity: u32::try_from(self.capacity).unwrap_or(0),
                list_cutoff_on: self.list_cutoff_on.map(Date::from),
                invited_agency_ids,
            },
            status: code("meeting status", &self.status, MeetingStatus::from_code)?,
            published_at: self.published_at,
            listed: self.listed,
        })
    }
}

pub(crate) const LISTED_COLUMNS: &str = "mc.meeting_id, mc.case_id, mc.referral_id, mc.position, mc.outcome, \
     mc.discussion_sealed, mc.discussion_version, r.reference, r.score, r.is_repeat, r.children_count, r.referring_agency_id, r.form_sealed";

#[derive(sqlx::FromRow)]
pub(crate) struct ListedRow {
    pub meeting_id: i64,
    pub case_id: i64,
    pub referral_id: Option<i64>,
    pub position: i64,
    pub outcome: String,
    pub discussion_sealed: Option<String>,
    pub discussion_version: i64,
    pub reference: Option<String>,
    pub score: Option<i64>,
    pub is_repeat: Option<bool>,
    pub children_count: Option<i64>,
    pub referring_agency_id: Option<i64>,
    pub form_sealed: Option<String>,
}

impl ListedRow {
    pub(crate) fn into_listed(self) -> StoreResult<crate::ListedCase> {
        Ok(crate::ListedCase {
            meeting_id: self.meeting_id,
            case_id: self.case_id,
            referral_id: self.referral_id,
            position: self.position,
            outcome: code("case outcome", &self.outcome, CaseOutcome::from_code)?,
            discussion_sealed: self.discussion_sealed,
            discussion_version: self.discussion_version,
            reference: self.reference,
            score: self.score,
            is_repeat: self.is_repeat.unwrap_or(false),
            children_count: self.children_count.unwrap_or(0),
            referring_agency_id: self.referring_agency_id,
            form_sealed: self.form_sealed,
        })
    }
}

pub(crate) const ACTION_COLUMNS: &str = "a.id, a.case_id, a.meeting_id, a.agency_id, a.owner_name, a.subject, \
     a.approach, a.description_sealed, a.due_on, a.status, a.status_reason, a.status_reported_at, a.created_at, \
     m.marac_id, m.held_on, a.kind";

#[derive(sqlx::FromRow)]
pub(crate) struct ActionRow {
    pub id: i64,
    pub case_id: i64,
    pub meeting_id: i64,
    pub agency_id: i64,
    pub owner_name: String,
    pub subject: String,
    pub approach: Option<String>,
    pub description_sealed: String,
    pub due_on: crate::Day,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_reported_at: Option<Ts>,
    pub created_at: Ts,
    pub marac_id: i64,
    pub held_on: crate::Day,
    pub kind: String,
}

impl ActionRow {
    pub(crate) fn into_action(self) -> StoreResult<crate::ActionRecord> {
        Ok(crate::ActionRecord {
            id: self.id,
            action: crate::NewAction {
                case_id: self.case_id,
                meeting_id: self.meeting_id,
                agency_id: self.agency_id,
                owner_name: self.owner_name,
                subject: code("action subject", &self.subject, ActionSubject::from_code)?,
                approach: self
                    .approach
                    .as_deref()
                    .map(|a| code("approach", a, PerpetratorApproach::from_code))
                    .transpose()?,
                description_sealed: self.description_sealed,
                due_on: self.due_on.0,
                kind: code("action kind", &self.kind, ActionKind::from_code)?,
            },
            status: code("action status", &self.status, ActionStatus::from_code)?,
            status_reason: self
                .status_reason
                .as_deref()
                .map(|r| code("reason", r, DelayReason::from_code))
                .transpose()?,
            status_reported_at: self.status_reported_at,
            created_at: self.created_at,
            marac_id: self.marac_id,
            meeting_held_on: self.held_on.0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ActionEventRow {
    pub status: String,
    pub reason: Option<String>,
    pub note_sealed: Option<String>,
    pub by_user_id: Option<i64>,
    pub at: Ts,
}

impl ActionEventRow {
    pub(crate) fn into_event(self) -> StoreResult<crate::ActionEvent> {
        Ok(crate::ActionEvent {
            status: code("action status", &self.status, ActionStatus::from_code)?,
            reason: self.reason.as_deref().map(|r| code("reason", r, DelayReason::from_code)).transpose()?,
            note_sealed: self.note_sealed,
            by_user_id: self.by_user_id,
            at: self.at,
        })
    }
}
