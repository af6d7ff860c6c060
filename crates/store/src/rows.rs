//! The rows both backends return, their conversion to records, and small helpers for the
//! shared queries in `queries/`.
//!
//! SQLite (3.35+) and PostgreSQL agree on `$N` parameters, `RETURNING` and the statements
//! below, so the text is written once. Each backend type supplies `begin_write` (how a write
//! transaction takes its lock), `run_migrations` and `list_schema_columns`; nothing else
//! differs. Every mutation appends its audit event inside the same transaction.

use crate::{Session, SessionStage, StoreError, StoreResult, Ts};
use marac_domain::audit::{AuditEvent, NewAuditEvent};
use marac_domain::policy::Grant;
use marac_domain::referral_rules::{AgeFlag, Criterion, split_codes};
use marac_domain::{AgencyCategory, MaracRules, MeetingCadence, Role};

#[derive(sqlx::FromRow)]
pub(crate) struct MaracRow {
    pub id: i64,
    pub partnership_id: i64,
    pub code: String,
    pub name: String,
    pub area: String,
    pub adult_female_population: i64,
    pub cadence: String,
    pub high_risk_threshold: i64,
    pub escalation_incidents: i64,
    pub escalation_months: i64,
    pub repeat_months: i64,
    pub meeting_capacity: i64,
    pub recommended_cases_per_10k: i64,
    pub list_cutoff_days: i64,
    pub flag_months: i64,
    pub research_opens: String,
}

fn small(v: i64, what: &str) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} out of range: {v}")))
}

impl MaracRow {
    pub(crate) fn into_marac(self) -> StoreResult<crate::Marac> {
        let cadence: MeetingCadence = self.cadence.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?;
        Ok(crate::Marac {
            id: self.id,
            partnership_id: self.partnership_id,
            code: self.code,
            name: self.name,
            area: self.area,
            adult_female_population: self.adult_female_population,
            cadence,
            rules: MaracRules {
                high_risk_threshold: small(self.high_risk_threshold, "high_risk_threshold")?,
                escalation_incidents: small(self.escalation_incidents, "escalation_incidents")?,
                escalation_months: small(self.escalation_months, "escalation_months")?,
                repeat_months: small(self.repeat_months, "repeat_months")?,
                meeting_capacity: small(self.meeting_capacity, "meeting_capacity")?,
                recommended_cases_per_10k: small(self.recommended_cases_per_10k, "recommended_cases_per_10k")?,
                list_cutoff_days: small(self.list_cutoff_days, "list_cutoff_days")?,
                flag_months: small(self.flag_months, "flag_months")?,
                research_opens: marac_domain::marac_rules::ResearchOpens::from_code(&self.research_opens)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown research setting {}", self.research_opens)))?,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AgencyRow {
    pub id: i64,
    pub partnership_id: i64,
    pub code: String,
    pub name: String,
    pub category: String,
}

impl AgencyRow {
    pub(crate) fn into_agency(self, links: &[(i64, i64)]) -> StoreResult<crate::Agency> {
        let category: AgencyCategory = self.category.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?;
        Ok(crate::Agency {
            marac_ids: links.iter().filter(|(a, _)| *a == self.id).map(|(_, m)| *m).collect(),
            id: self.id,
            partnership_id: self.partnership_id,
            code: self.code,
            name: self.name,
            category,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub agency_id: Option<i64>,
    pub password_hash: String,
    pub disabled: bool,
    pub totp_secret: Option<String>,
    pub is_demo: bool,
}

impl UserRow {
    pub(crate) fn into_user(self, roles: &[(i64, String, Option<i64>)]) -> StoreResult<crate::User> {
        let grants = roles
            .iter()
            .filter(|(u, _, _)| *u == self.id)
            .map(|(_, role, marac_id)| {
                let role: Role = role.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?;
                Ok(Grant { role, marac_id: *marac_id })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(crate::User {
            id: self.id,
            email: self.email,
            name: self.name,
            agency_id: self.agency_id,
            password_hash: self.password_hash,
            disabled: self.disabled,
            totp_secret: self.totp_secret,
            is_demo: self.is_demo,
            grants,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub stage: String,
    pub created_at: Ts,
    pub last_seen_at: Ts,
    pub ip: String,
    pub user_agent: String,
}

impl SessionRow {
    pub(crate) fn into_session(self) -> StoreResult<Session> {
        let stage = SessionStage::from_code(&self.stage)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown session stage {}", self.stage)))?;
        Ok(Session {
            id: self.id,
            user_id: self.user_id,
            stage,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            ip: self.ip,
            user_agent: self.user_agent,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub seq: i64,
    pub at: Ts,
    pub actor_user_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub ip: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            seq: r.seq,
            event: NewAuditEvent {
                at: r.at.0,
                actor_user_id: r.actor_user_id,
                actor_label: r.actor_label,
                action: r.action,
                target: r.target,
                outcome: r.outcome,
                ip: r.ip,
                detail: r.detail,
                idempotency: None,
                notices: Vec::new(),
            },
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ChecklistRow {
    pub checklist_id: String,
    pub version: String,
    pub title: String,
    pub source: String,
    pub question_count: i64,
    pub definition: String,
}

impl From<ChecklistRow> for crate::ChecklistRecord {
    fn from(r: ChecklistRow) -> Self {
        crate::ChecklistRecord {
            checklist_id: r.checklist_id,
            version: r.version,
            title: r.title,
            source: r.source,
            question_count: r.question_count,
            definition: r.definition,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiTokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: Ts,
    pub revoked_at: Option<Ts>,
}

impl From<ApiTokenRow> for crate::ApiToken {
    fn from(r: ApiTokenRow) -> Self {
        crate::ApiToken {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// The columns of `referrals`, in the order [`ReferralRow`] reads them.
pub(crate) const REFERRAL_COLUMNS: &str = "id, reference, marac_id, referrer_user_id, referring_agency_id, joint_agency_id, \
     status, form_sealed, case_id, checklist_id, checklist_version, score, criteria, is_repeat, age_flags, \
     victim_age_group, children_count, referral_date, incident_date, decision_note_sealed, decided_by, decided_at, \
     created_at, updated_at, submitted_at, known_case_id";

#[derive(sqlx::FromRow)]
pub(crate) struct ReferralRow {
    pub id: i64,
    pub reference: Option<String>,
    pub marac_id: i64,
    pub referrer_user_id: i64,
    pub referring_agency_id: i64,
    pub joint_agency_id: Option<i64>,
    pub status: String,
    pub form_sealed: String,
    pub case_id: Option<i64>,
    pub checklist_id: Option<String>,
    pub checklist_version: Option<String>,
    pub score: Option<i64>,
    pub criteria: String,
    pub is_repeat: bool,
    pub age_flags: String,
    pub victim_age_group: String,
    pub children_count: i64,
    pub referral_date: Option<crate::Day>,
    pub incident_date: Option<crate::Day>,
    pub decision_note_sealed: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<Ts>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub submitted_at: Option<Ts>,
    pub known_case_id: Option<i64>,
}

impl ReferralRow {
    pub(crate) fn into_referral(self) -> StoreResult<crate::Referral> {
        let status = crate::ReferralStatus::from_code(&self.status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown referral status {}", self.status)))?;
        let criteria = split_codes(&self.criteria, Criterion::from_code)
            .map_err(|c| StoreError::Corrupt(format!("referral {}: unknown criterion {c}", self.id)))?;
        let age_flags = split_codes(&self.age_flags, AgeFlag::from_code)
            .map_err(|f| StoreError::Corrupt(format!("referral {}: unknown age flag {f}", self.id)))?;
        Ok(crate::Referral {
            id: self.id,
            reference: self.reference,
            marac_id: self.marac_id,
            referrer_user_id: self.referrer_user_id,
            referring_agency_id: self.referring_agency_id,
            joint_agency_id: self.joint_agency_id,
            status,
            form_sealed: self.form_sealed,
            case_id: self.case_id,
            checklist_id: self.checklist_id,
            checklist_version: self.checklist_version,
            score: self.score,
            criteria,
            is_repeat: self.is_repeat,
            age_flags,
            victim_age_group: self.victim_age_group,
            children_count: self.children_count,
            referral_date: self.referral_date.map(time::Date::from),
            incident_date: self.incident_date.map(time::Date::from),
            decision_note_sealed: self.decision_note_sealed,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            submitted_at: self.submitted_at,
            known_case_id: self.known_case_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct NoteRow {
    pub id: i64,
    pub case_id: i64,
    pub agency_id: i64,
    pub author_user_id: i64,
    pub kind: String,
    pub body_sealed: String,
    pub shared: bool,
    pub created_at: Ts,
    pub shared_at: Option<Ts>,
}

impl NoteRow {
    pub(crate) fn into_note(self) -> StoreResult<crate::ResearchNote> {
        let kind = crate::NoteKind::from_code(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown note kind {}", self.kind)))?;
        Ok(crate::ResearchNote {
            id: self.id,
            case_id: self.case_id,
            agency_id: self.agency_id,
            author_user_id: self.author_user_id,
            kind,
            body_sealed: self.body_sealed,
            shared: self.shared,
            created_at: self.created_at,
            shared_at: self.shared_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DirectoryRow {
    pub id: i64,
    pub marac_id: i64,
    pub agency_id: Option<i64>,
    pub kind: String,
    pub name: String,
    pub job_title: String,
    pub email: String,
    pub phone: String,
}

impl DirectoryRow {
    pub(crate) fn into_entry(self) -> StoreResult<crate::DirectoryEntry> {
        let kind = crate::DirectoryKind::from_code(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown directory kind {}", self.kind)))?;
        Ok(crate::DirectoryEntry {
            id: self.id,
            marac_id: self.marac_id,
            agency_id: self.agency_id,
            kind,
            name: self.name,
            job_title: self.job_title,
            email: self.email,
            phone: self.phone,
        })
    }
}

/// The perpetrator ids of a case as stored: sorted, without repeats, comma-separated. With
/// the victim this is a case's identity.
/// The ids in a case's perpetrator key, the inverse of [`perpetrator_key`].
pub(crate) fn perpetrator_ids(case_id: i64, key: &str) -> StoreResult<Vec<i64>> {
    key.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| StoreError::Corrupt(format!("case {case_id}: bad person id {s}"))))
        .collect()
}

pub(crate) fn perpetrator_key(ids: &[i64]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `$first, $first+1, ...` for `n` parameters.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Escapes `LIKE` wildcards in user input (used with `ESCAPE '\'`).
pub(crate) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The claim, with the backend's row-locking clause (`$lock`) in the inner select.
macro_rules! claim_outbox_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 ",
            "WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL ",
            "AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3) ",
            "ORDER BY id LIMIT $4",
            $lock,
            ") RETURNING id, notice_id, kind, about, to_address, attempts, sent_at, failed_at, last_error"
        )
    };
}
pub(crate) use claim_outbox_sql;
