//! The SQL both backends share, as one `Store` implementation instantiated per backend.
//!
//! SQLite (3.35+) and PostgreSQL agree on `$N` parameters, `RETURNING` and the statements
//! below, so the text is written once. Each backend type supplies `begin_write` (how a write
//! transaction takes its lock), `run_migrations` and `list_schema_columns`; nothing else
//! differs. Every mutation appends its audit event inside the same transaction.

use crate::{Session, SessionStage, StoreError, StoreResult, Ts};
use marac_domain::audit::{AuditEvent, NewAuditEvent};
use marac_domain::policy::Grant;
use marac_domain::referral_rules::Criterion;
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
    pub referral_date: Option<String>,
    pub incident_date: Option<String>,
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
        let criteria = self
            .criteria
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| Criterion::from_code(c).ok_or_else(|| StoreError::Corrupt(format!("unknown criterion {c}"))))
            .collect::<StoreResult<Vec<_>>>()?;
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
            age_flags: self.age_flags,
            victim_age_group: self.victim_age_group,
            children_count: self.children_count,
            referral_date: self.referral_date,
            incident_date: self.incident_date,
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

/// Implements [`crate::Store`] for a backend type with `pool`, `audit_key`, `BACKEND`,
/// `begin_write`, `run_migrations` and `list_schema_columns`.
macro_rules! impl_store {
    ($ty:ty, $db:ty) => {
        impl $ty {
            /// Appends an audit event inside an open transaction, after taking the chain head's
            /// lock with the `UPDATE`, so concurrent appends queue rather than fork the chain.
            async fn append_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                key: &[u8],
                event: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                if let Some(mark) = &event.idempotency {
                    Self::idempotency_mark_in(&mut *conn, mark, &event.target).await?;
                }
                let (head_seq, head_hash): (i64, String) =
                    sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq - 1, hash")
                        .fetch_one(&mut *conn)
                        .await?;
                let mut event = event;
                event.at = marac_domain::audit::to_micros(event.at);
                let sealed = marac_domain::audit::seal(key, head_seq, &head_hash, event);
                sqlx::query(
                    "INSERT INTO audit_events (seq, at, actor_user_id, actor_label, action, target, outcome, ip, detail, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(sealed.seq)
                .bind($crate::Ts::new(sealed.event.at))
                .bind(sealed.event.actor_user_id)
                .bind(&sealed.event.actor_label)
                .bind(&sealed.event.action)
                .bind(&sealed.event.target)
                .bind(&sealed.event.outcome)
                .bind(&sealed.event.ip)
                .bind(&sealed.event.detail)
                .bind(&sealed.prev_hash)
                .bind(&sealed.hash)
                .execute(&mut *conn)
                .await?;
                sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                    .bind(&sealed.hash)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn role_rows(&self) -> $crate::StoreResult<Vec<(i64, String, Option<i64>)>> {
                Ok(sqlx::query_as("SELECT user_id, role, marac_id FROM user_roles ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn write_roles(
                conn: &mut <$db as sqlx::Database>::Connection,
                user_id: i64,
                grants: &[marac_domain::policy::Grant],
            ) -> $crate::StoreResult<()> {
                sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
                let mut seen = Vec::new();
                for g in grants {
                    if seen.contains(g) {
                        continue;
                    }
                    seen.push(*g);
                    sqlx::query("INSERT INTO user_roles (user_id, role, marac_id) VALUES ($1, $2, $3)")
                        .bind(user_id)
                        .bind(g.role.code())
                        .bind(g.marac_id)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            async fn write_agency_maracs(
                conn: &mut <$db as sqlx::Database>::Connection,
                agency_id: i64,
                marac_ids: &[i64],
            ) -> $crate::StoreResult<()> {
                sqlx::query("DELETE FROM agency_maracs WHERE agency_id = $1").bind(agency_id).execute(&mut *conn).await?;
                let mut ids = marac_ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                for m in ids {
                    sqlx::query("INSERT INTO agency_maracs (agency_id, marac_id) VALUES ($1, $2)")
                        .bind(agency_id)
                        .bind(m)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            async fn insert_session(
                conn: &mut <$db as sqlx::Database>::Connection,
                s: &$crate::Session,
            ) -> $crate::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (id, user_id, stage, created_at, last_seen_at, ip, user_agent) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&s.id)
                .bind(s.user_id)
                .bind(s.stage.code())
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(&s.ip)
                .bind(&s.user_agent)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            /// Binds a Marac's twelve columns, in table order, to `$1`..`$12`.
            fn bind_marac<'q, O>(
                q: sqlx::query::QueryAs<'q, $db, O, <$db as sqlx::Database>::Arguments>,
                input: &'q $crate::MaracInput,
            ) -> sqlx::query::QueryAs<'q, $db, O, <$db as sqlx::Database>::Arguments> {
                let r = &input.rules;
                q                    .bind(input.partnership_id)
                    .bind(&input.code)
                    .bind(&input.name)
                    .bind(&input.area)
                    .bind(input.adult_female_population)
                    .bind(input.cadence.code())
                    .bind(i64::from(r.high_risk_threshold))
                    .bind(i64::from(r.escalation_incidents))
                    .bind(i64::from(r.escalation_months))
                    .bind(i64::from(r.repeat_months))
                    .bind(i64::from(r.meeting_capacity))
                    .bind(i64::from(r.recommended_cases_per_10k))
                    .bind(i64::from(r.list_cutoff_days))
                    .bind(i64::from(r.flag_months))
            }

            /// The id of a person on a submission, filing someone new (with their keys) first.
            /// Files a submission inside a transaction: its people, its case, its reference and
            /// the referral itself; returns what was made and the people's ids (victim first).
            /// Submits a referral inside a write transaction. A case of the same victim and people
            /// causing harm is never moved: in the same Marac the referral becomes an episode of
            /// it (its agency sees the case only once the referral is accepted); held by another
            /// Marac, the referral only knows the case and a transfer question is opened, unless
            /// `join_elsewhere` (a Marac's imported history, which joins without moving).
            async fn submit_in(
                tx: &mut <$db as sqlx::Database>::Connection,
                s: &$crate::Submission,
                at: $crate::Ts,
                join_elsewhere: bool,
            ) -> $crate::StoreResult<($crate::Submitted, Vec<i64>)> {
                let victim = Self::resolve_person(tx, s.partnership_id, &s.victim, at).await?;
                let mut perpetrators = Vec::with_capacity(s.perpetrators.len());
                for p in &s.perpetrators {
                    perpetrators.push(Self::resolve_person(tx, s.partnership_id, p, at).await?);
                }
                let key = $crate::sql::perpetrator_key(&perpetrators);
                let existing: Option<(i64, i64)> =
                    sqlx::query_as("SELECT id, marac_id FROM cases WHERE victim_person_id = $1 AND perpetrator_ids = $2")
                        .bind(victim)
                        .bind(&key)
                        .fetch_optional(&mut *tx)
                        .await?;
                let (case_id, held_elsewhere) = match existing {
                    Some((id, holder)) if holder != s.marac_id && !join_elsewhere => (None, Some((id, holder))),
                    Some((id, _)) => (Some(id), None),
                    None => {
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO cases (marac_id, victim_person_id, perpetrator_ids, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                        )
                        .bind(s.marac_id)
                        .bind(victim)
                        .bind(&key)
                        .bind(at)
                        .fetch_one(&mut *tx)
                        .await?;
                        (Some(id), None)
                    }
                };
                let referral_id = match s.referral_id {
                    Some(id) => id,
                    None => {
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO referrals (marac_id, referrer_user_id, referring_agency_id, status, form_sealed, created_at, updated_at) \
                             VALUES ($1, $2, $3, 'draft', $4, $5, $5) RETURNING id",
                        )
                        .bind(s.marac_id)
                        .bind(s.referrer_user_id)
                        .bind(s.referring_agency_id)
                        .bind(&s.form_sealed)
                        .bind(at)
                        .fetch_one(&mut *tx)
                        .await?;
                        id
                    }
                };
                let (reference, status): (Option<String>, String) =
                    sqlx::query_as("SELECT reference, status FROM referrals WHERE id = $1")
                        .bind(referral_id)
                        .fetch_one(&mut *tx)
                        .await?;
                if status != "draft" && status != "returned" {
                    return Err($crate::StoreError::NotFound);
                }
                let reference = match reference {
                    Some(r) => r,
                    None => {
                        let year: i64 = s.referral_date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
                        let (n,): (i64,) = sqlx::query_as(
                            "INSERT INTO reference_counters (marac_id, year, last_number) VALUES ($1, $2, 1) \
                             ON CONFLICT (marac_id, year) DO UPDATE SET last_number = reference_counters.last_number + 1 \
                             RETURNING last_number",
                        )
                        .bind(s.marac_id)
                        .bind(year)
                        .fetch_one(&mut *tx)
                        .await?;
                        format!("{}-{year}-{n:05}", s.marac_code)
                    }
                };
                let criteria: Vec<&str> = s.criteria.iter().map(|c| c.code()).collect();
                sqlx::query(
                    "UPDATE referrals SET reference = $1, status = 'submitted', marac_id = $2, joint_agency_id = $3, \
                     form_sealed = $4, case_id = $5, checklist_id = $6, checklist_version = $7, score = $8, criteria = $9, \
                     is_repeat = $10, age_flags = $11, victim_age_group = $12, children_count = $13, referral_date = $14, \
                     incident_date = $15, updated_at = $16, submitted_at = $16, known_case_id = $18 WHERE id = $17",
                )
                .bind(&reference)
                .bind(s.marac_id)
                .bind(s.joint_agency_id)
                .bind(&s.form_sealed)
                .bind(case_id)
                .bind(&s.checklist_id)
                .bind(&s.checklist_version)
                .bind(s.score)
                .bind(criteria.join(","))
                .bind(s.is_repeat)
                .bind(&s.age_flags)
                .bind(&s.victim_age_group)
                .bind(s.children_count)
                .bind(&s.referral_date)
                .bind(&s.incident_date)
                .bind(at)
                .bind(referral_id)
                .bind(held_elsewhere.map(|(case, _)| case))
                .execute(&mut *tx)
                .await?;
                // The question between the two Maracs, opened once for this referral.
                let transfer_id = match held_elsewhere {
                    Some((case, holder)) => {
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO case_transfers (case_id, referral_id, from_marac_id, to_marac_id, created_at) \
                             VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (referral_id) DO UPDATE SET case_id = excluded.case_id RETURNING id",
                        )
                        .bind(case)
                        .bind(referral_id)
                        .bind(holder)
                        .bind(s.marac_id)
                        .bind(at)
                        .fetch_one(&mut *tx)
                        .await?;
                        Some(id)
                    }
                    None => None,
                };
                let p = &s.profile;
                let yes_no = |v: Option<bool>| match v {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "",
                };
                sqlx::query(
                    "UPDATE referrals SET victim_gender = $1, victim_minoritised = $2, victim_disabled = $3, victim_lgbt = $4, \
                     young_perpetrators = $5, young_perpetrators_partner = $6, children_known_csc = $7, children_cp_plan = $8, \
                     victim_postcode_sector = $10 WHERE id = $9",
                )
                .bind(&p.victim_gender)
                .bind(yes_no(p.victim_minoritised))
                .bind(yes_no(p.victim_disabled))
                .bind(yes_no(p.victim_lgbt))
                .bind(p.young_perpetrators.map(i64::from))
                .bind(i64::from(p.young_perpetrators_partner))
                .bind(i64::from(p.children_known_to_social_care))
                .bind(i64::from(p.children_on_protection_plan))
                .bind(referral_id)
                .bind(&p.victim_postcode_sector)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM referral_matches WHERE referral_id = $1").bind(referral_id).execute(&mut *tx).await?;
                for m in &s.matches {
                    // The referral's own record of the person the candidate is for.
                    let own = match m.subject.strip_prefix("perpetrator:") {
                        Some(n) => n.parse::<usize>().ok().and_then(|n| perpetrators.get(n.checked_sub(1)?)).copied(),
                        None => Some(victim),
                    };
                    sqlx::query(
                        "INSERT INTO referral_matches (referral_id, subject, person_id, score, certain, reasons_sealed, own_person_id) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                    )
                    .bind(referral_id)
                    .bind(&m.subject)
                    .bind(m.person_id)
                    .bind(m.score)
                    .bind(m.certain)
                    .bind(&m.reasons_sealed)
                    .bind(own)
                    .execute(&mut *tx)
                    .await?;
                }
                let mut people = vec![victim];
                people.extend(perpetrators);
                Ok(($crate::Submitted { referral_id, reference, case_id, held_elsewhere, transfer_id }, people))
            }

            async fn resolve_person(
                conn: &mut <$db as sqlx::Database>::Connection,
                partnership_id: i64,
                person: &$crate::PersonRef,
                at: $crate::Ts,
            ) -> $crate::StoreResult<i64> {
                match person {
                    $crate::PersonRef::Existing(id) => Ok(*id),
                    $crate::PersonRef::New { details_sealed, keys } => {
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO people (partnership_id, details_sealed, created_at) VALUES ($1, $2, $3) RETURNING id",
                        )
                        .bind(partnership_id)
                        .bind(details_sealed)
                        .bind(at)
                        .fetch_one(&mut *conn)
                        .await?;
                        Self::file_person_in(&mut *conn, id, keys).await?;
                        Ok(id)
                    }
                }
            }

            /// Files person `id` under `keys` (each once).
            async fn file_person_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                keys: &[String],
            ) -> $crate::StoreResult<()> {
                let mut keys: Vec<&String> = keys.iter().collect();
                keys.sort_unstable();
                keys.dedup();
                for chunk in keys.chunks(100) {
                    let sql = format!(
                        "INSERT INTO person_keys (key, person_id) VALUES {}",
                        (0..chunk.len()).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect::<Vec<_>>().join(", ")
                    );
                    // Built from placeholders only; values are bound.
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for k in chunk {
                        q = q.bind(*k).bind(id);
                    }
                    q.execute(&mut *conn).await?;
                }
                Ok(())
            }

            async fn invite_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                meeting_id: i64,
                agency_ids: &[i64],
            ) -> $crate::StoreResult<()> {
                let mut ids = agency_ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                for a in ids {
                    sqlx::query("INSERT INTO meeting_agencies (meeting_id, agency_id) VALUES ($1, $2)")
                        .bind(meeting_id)
                        .bind(a)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            async fn invited(&self, meeting_id: i64) -> $crate::StoreResult<Vec<i64>> {
                let rows: Vec<(i64,)> =
                    sqlx::query_as("SELECT agency_id FROM meeting_agencies WHERE meeting_id = $1 ORDER BY agency_id")
                        .bind(meeting_id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(a,)| a).collect())
            }

            /// `Conflict` unless the meeting is in one of `allowed`; `NotFound` if there is none.
            async fn meeting_status_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                meeting_id: i64,
                allowed: &[&str],
            ) -> $crate::StoreResult<()> {
                let (status,): (String,) = sqlx::query_as("SELECT status FROM meetings WHERE id = $1")
                    .bind(meeting_id)
                    .fetch_one(&mut *conn)
                    .await?;
                if allowed.contains(&status.as_str()) {
                    Ok(())
                } else {
                    Err($crate::StoreError::Conflict { constraint: "meetings.status".into() })
                }
            }

            async fn move_meeting(
                &self,
                meeting_id: i64,
                from: &str,
                to: &str,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::meeting_status_in(&mut tx, meeting_id, &[from]).await?;
                sqlx::query(
                    "UPDATE meetings SET status = $1, updated_at = $2, \
                     published_at = CASE WHEN $1 = 'published' THEN $2 ELSE published_at END WHERE id = $3",
                )
                .bind(to)
                .bind(at)
                .bind(meeting_id)
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            fn found(result: <$db as sqlx::Database>::QueryResult) -> $crate::StoreResult<()> {
                if result.rows_affected() == 0 { Err($crate::StoreError::NotFound) } else { Ok(()) }
            }
        }

        $crate::notice_sql::notice_methods!($ty, $db);
        $crate::flag_sql::flag_methods!($ty, $db);
        $crate::return_sql::return_methods!($ty, $db);
        $crate::import_sql::import_methods!($ty, $db);
        $crate::bulk_sql::bulk_methods!($ty, $db);
        $crate::person_link_sql::person_link_methods!($ty, $db);
        $crate::agency_list_sql::agency_list_methods!($ty, $db);
        $crate::key_sql::key_methods!($ty, $db);
        $crate::idempotency_sql::idempotency_methods!($ty, $db);
        $crate::transfer_sql::transfer_methods!($ty, $db);

        #[async_trait::async_trait]
        impl $crate::Store for $ty {
            fn backend(&self) -> $crate::Backend {
                Self::BACKEND
            }

            async fn add_notices(&self, notices: &[$crate::NewNotice], at: $crate::Ts) -> $crate::StoreResult<u64> {
                self.notices_add_notices(notices, at).await
            }

            async fn list_notices(&self, user_id: i64, limit: i64) -> $crate::StoreResult<Vec<$crate::Notice>> {
                self.notices_list_notices(user_id, limit).await
            }

            async fn open_notice(&self, id: i64, user_id: i64, at: $crate::Ts) -> $crate::StoreResult<$crate::Notice> {
                self.notices_open_notice(id, user_id, at).await
            }

            async fn count_unread(&self, user_id: i64) -> $crate::StoreResult<i64> {
                self.notices_count_unread(user_id).await
            }

            async fn claim_outbox(
                &self,
                worker: &str,
                now: $crate::Ts,
                lease_until: $crate::Ts,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::OutboxMessage>> {
                self.notices_claim_outbox(worker, now, lease_until, limit).await
            }

            async fn finish_outbox(
                &self,
                id: i64,
                worker: &str,
                delivery: &$crate::Delivery,
                at: $crate::Ts,
            ) -> $crate::StoreResult<()> {
                self.notices_finish_outbox(id, worker, delivery, at).await
            }

            async fn list_outbox(&self, limit: i64) -> $crate::StoreResult<Vec<$crate::OutboxMessage>> {
                self.notices_list_outbox(limit).await
            }

            async fn add_flag(
                &self,
                flag: &$crate::NewFlag,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                self.flags_add_flag(flag, audit).await
            }

            async fn meeting_returns(
                &self,
                scope: &$crate::ReturnScope,
            ) -> $crate::StoreResult<Vec<$crate::MeetingReturn>> {
                self.returns_meeting_returns(scope).await
            }

            async fn write_history(&self, history: &$crate::BulkHistory) -> $crate::StoreResult<()> {
                self.bulk_write_history(history).await
            }

            async fn add_agency_list(
                &self,
                list: &$crate::NewAgencyList,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                self.lists_add(list, audit).await
            }

            async fn get_agency_list(&self, id: i64) -> $crate::StoreResult<$crate::AgencyList> {
                self.lists_get(id).await
            }

            async fn agency_lists(&self, agency_id: i64) -> $crate::StoreResult<Vec<$crate::AgencyList>> {
                self.lists_of_agency(agency_id).await
            }

            async fn agency_list_rows(&self, id: i64) -> $crate::StoreResult<Vec<(i64, String)>> {
                self.lists_rows(id).await
            }

            async fn delete_agency_list(
                &self,
                id: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                self.lists_delete(id, at, audit).await
            }

            async fn expired_agency_lists(&self, now: $crate::Ts) -> $crate::StoreResult<Vec<i64>> {
                self.lists_expired(now).await
            }

            async fn social_care_links(&self, case_id: i64) -> $crate::StoreResult<Vec<$crate::SocialCareLink>> {
                self.lists_links_of_case(case_id).await
            }

            async fn import_referrals(
                &self,
                items: &[$crate::ImportedReferral],
                by: i64,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<$crate::ImportCount> {
                self.imports_import_referrals(items, by, audit).await
            }

            async fn action_counts(&self, scope: &$crate::ReturnScope) -> $crate::StoreResult<$crate::ActionCounts> {
                self.returns_action_counts(scope).await
            }

            async fn agency_attendance(
                &self,
                scope: &$crate::ReturnScope,
            ) -> $crate::StoreResult<Vec<$crate::AgencyAttendance>> {
                self.returns_agency_attendance(scope).await
            }

            async fn postcode_counts(&self, scope: &$crate::ReturnScope) -> $crate::StoreResult<Vec<(String, u32)>> {
                self.returns_postcode_counts(scope).await
            }

            async fn screening(&self, scope: &$crate::ReturnScope) -> $crate::StoreResult<$crate::Screening> {
                self.returns_screening(scope).await
            }

            async fn partnership_figures(
                &self,
                partnership_id: i64,
                quarter: &str,
            ) -> $crate::StoreResult<Vec<$crate::PartnershipFigure>> {
                self.returns_partnership_figures(partnership_id, quarter).await
            }

            async fn set_partnership_figure(
                &self,
                partnership_id: i64,
                quarter: &str,
                figure: &$crate::PartnershipFigure,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                self.returns_set_partnership_figure(partnership_id, quarter, figure, audit).await
            }

            async fn list_flags(&self, filter: &$crate::FlagFilter) -> $crate::StoreResult<Vec<$crate::CaseFlag>> {
                self.flags_list_flags(filter).await
            }

            async fn end_flag(
                &self,
                id: i64,
                by: i64,
                reason_sealed: &str,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                self.flags_end_flag(id, by, reason_sealed, at, audit).await
            }

            async fn case_summaries(&self, marac_id: i64) -> $crate::StoreResult<Vec<$crate::CaseSummary>> {
                let rows: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
                    "SELECT case_id, MIN(reference), MAX(referral_date) FROM referrals \
                     WHERE marac_id = $1 AND case_id IS NOT NULL AND status = 'accepted' GROUP BY case_id ORDER BY case_id",
                )
                .bind(marac_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(case_id, reference, last)| $crate::CaseSummary {
                        case_id,
                        reference: reference.unwrap_or_default(),
                        last_referral_on: last.as_deref().and_then(marac_domain::referral_form::parse_date),
                    })
                    .collect())
            }

            async fn migrate(&self) -> $crate::StoreResult<()> {
                self.run_migrations().await
            }

            async fn ping(&self) -> $crate::StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn probe_write(&self) -> $crate::StoreResult<()> {
                // The new row is written before the old one is deleted, so the write needs room
                // of its own size beyond what the probe already holds, and leaves that much free.
                let mut tx = self.begin_write().await?;
                let old: Option<(i64,)> = sqlx::query_as("SELECT id FROM write_probe").fetch_optional(&mut *tx).await?;
                let id = if old.is_some_and(|(id,)| id == 1) { 2 } else { 1 };
                sqlx::query("INSERT INTO write_probe (id, at, filler) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind($crate::Ts::new(time::OffsetDateTime::now_utc()))
                    .bind(vec![0x5a_u8; 64 * 1024])
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM write_probe WHERE id <> $1").bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn schema_columns(&self) -> $crate::StoreResult<Vec<(String, String)>> {
                self.list_schema_columns().await
            }

            async fn get_case_transfer(&self, id: i64) -> $crate::StoreResult<$crate::CaseTransfer> {
                self.transfers_get(id).await
            }

            async fn case_transfer_for_referral(
                &self,
                referral_id: i64,
            ) -> $crate::StoreResult<Option<$crate::CaseTransfer>> {
                self.transfers_for_referral(referral_id).await
            }

            async fn list_case_transfers(
                &self,
                marac_ids: &[i64],
                open_only: bool,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::CaseTransfer>> {
                self.transfers_list(marac_ids, open_only, limit).await
            }

            async fn ask_case_transfer(
                &self,
                id: i64,
                marac_id: i64,
                by: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                self.transfers_ask(id, marac_id, by, at, audit).await
            }

            async fn decide_case_transfer(
                &self,
                id: i64,
                agree: bool,
                by: i64,
                at: $crate::Ts,
                audit: Vec<marac_domain::audit::NewAuditEvent>,
            ) -> $crate::StoreResult<()> {
                self.transfers_decide(id, agree, by, at, audit).await
            }

            async fn claim_idempotency(
                &self,
                claim: &$crate::IdempotencyClaim,
            ) -> $crate::StoreResult<$crate::ClaimOutcome> {
                self.idempotency_claim(claim).await
            }

            async fn renew_idempotency(
                &self,
                scope: &str,
                request_id: &str,
                lease_until: $crate::Ts,
            ) -> $crate::StoreResult<()> {
                self.idempotency_renew(scope, request_id, lease_until).await
            }

            async fn answer_idempotency(
                &self,
                scope: &str,
                request_id: &str,
                status: u16,
                response_sealed: &str,
            ) -> $crate::StoreResult<()> {
                self.idempotency_answer(scope, request_id, status, response_sealed).await
            }

            async fn release_idempotency(&self, scope: &str, request_id: &str) -> $crate::StoreResult<bool> {
                self.idempotency_release(scope, request_id).await
            }

            async fn forget_idempotency(&self, before: $crate::Ts) -> $crate::StoreResult<u64> {
                self.idempotency_forget(before).await
            }

            async fn key_checks(&self) -> $crate::StoreResult<Vec<$crate::KeyCheck>> {
                self.keys_key_checks().await
            }

            async fn record_key_checks(
                &self,
                checks: &[$crate::KeyCheck],
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<u64> {
                self.keys_record_key_checks(checks, audit).await
            }

            async fn holds_data(&self) -> $crate::StoreResult<bool> {
                self.keys_holds_data().await
            }

            async fn sealed_samples(&self, limit: i64) -> $crate::StoreResult<Vec<$crate::SealedSample>> {
                self.keys_sealed_samples(limit).await
            }

            async fn list_partnerships(&self) -> $crate::StoreResult<Vec<$crate::Partnership>> {
                let rows: Vec<(i64, String, String, bool)> =
                    sqlx::query_as("SELECT id, code, name, is_demo FROM partnerships ORDER BY name, id")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(id, code, name, is_demo)| $crate::Partnership { id, code, name, is_demo }).collect())
            }

            async fn get_partnership(&self, id: i64) -> $crate::StoreResult<$crate::Partnership> {
                let (id, code, name, is_demo): (i64, String, String, bool) =
                    sqlx::query_as("SELECT id, code, name, is_demo FROM partnerships WHERE id = $1")
                        .bind(id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok($crate::Partnership { id, code, name, is_demo })
            }

            async fn find_partnership_by_code(&self, code: &str) -> $crate::StoreResult<Option<$crate::Partnership>> {
                let row: Option<(i64, String, String, bool)> =
                    sqlx::query_as("SELECT id, code, name, is_demo FROM partnerships WHERE code = $1")
                        .bind(code)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(id, code, name, is_demo)| $crate::Partnership { id, code, name, is_demo }))
            }

            async fn create_partnership(
                &self,
                input: &$crate::PartnershipInput,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO partnerships (code, name, is_demo, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(&input.code)
                .bind(&input.name)
                .bind(input.is_demo)
                .bind($crate::Ts::new(audit.at))
                .fetch_one(&mut *tx)
                .await?;
                let mut audit = audit;
                audit.target = format!("partnership:{id}");
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn update_partnership(
                &self,
                id: i64,
                input: &$crate::PartnershipInput,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query("UPDATE partnerships SET code = $1, name = $2 WHERE id = $3")
                    .bind(&input.code)
                    .bind(&input.name)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Self::found(r)?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_maracs(&self) -> $crate::StoreResult<Vec<$crate::Marac>> {
                const Q: &str = "SELECT id, partnership_id, code, name, area, adult_female_population, cadence, high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, recommended_cases_per_10k, list_cutoff_days, flag_months FROM maracs ORDER BY name, id";
                let rows: Vec<$crate::sql::MaracRow> = sqlx::query_as(Q).fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::sql::MaracRow::into_marac).collect()
            }

            async fn get_marac(&self, id: i64) -> $crate::StoreResult<$crate::Marac> {
                const Q: &str = "SELECT id, partnership_id, code, name, area, adult_female_population, cadence, high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, recommended_cases_per_10k, list_cutoff_days, flag_months FROM maracs WHERE id = $1";
                let row: $crate::sql::MaracRow = sqlx::query_as(Q).bind(id).fetch_one(&self.pool).await?;
                row.into_marac()
            }

            async fn find_marac_by_code(&self, code: &str) -> $crate::StoreResult<Option<$crate::Marac>> {
                const Q: &str = "SELECT id, partnership_id, code, name, area, adult_female_population, cadence, high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, recommended_cases_per_10k, list_cutoff_days, flag_months FROM maracs WHERE code = $1";
                let row: Option<$crate::sql::MaracRow> = sqlx::query_as(Q).bind(code).fetch_optional(&self.pool).await?;
                row.map($crate::sql::MaracRow::into_marac).transpose()
            }

            async fn create_marac(
                &self,
                input: &$crate::MaracInput,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = Self::bind_marac(sqlx::query_as(
                    "INSERT INTO maracs (partnership_id, code, name, area, adult_female_population, cadence, \
                     high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, \
                     recommended_cases_per_10k, list_cutoff_days, flag_months, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
                ), input)
                .bind($crate::Ts::new(audit.at))
                .fetch_one(&mut *tx)
                .await?;
                let mut audit = audit;
                audit.target = format!("marac:{id}");
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn update_marac(
                &self,
                id: i64,
                input: &$crate::MaracInput,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let updated: Option<(i64,)> = Self::bind_marac(sqlx::query_as(
                    "UPDATE maracs SET partnership_id = $1, code = $2, name = $3, area = $4, adult_female_population = $5, \
                     cadence = $6, high_risk_threshold = $7, escalation_incidents = $8, escalation_months = $9, \
                     repeat_months = $10, meeting_capacity = $11, recommended_cases_per_10k = $12, list_cutoff_days = $13, \
                     flag_months = $14 WHERE id = $15 RETURNING id",
                ), input)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                updated.ok_or($crate::StoreError::NotFound)?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_agencies(&self) -> $crate::StoreResult<Vec<$crate::Agency>> {
                let rows: Vec<$crate::sql::AgencyRow> =
                    sqlx::query_as("SELECT id, partnership_id, code, name, category FROM agencies ORDER BY name, id")
                        .fetch_all(&self.pool)
                        .await?;
                let links: Vec<(i64, i64)> =
                    sqlx::query_as("SELECT agency_id, marac_id FROM agency_maracs ORDER BY marac_id")
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(|r| r.into_agency(&links)).collect()
            }

            async fn get_agency(&self, id: i64) -> $crate::StoreResult<$crate::Agency> {
                let row: $crate::sql::AgencyRow =
                    sqlx::query_as("SELECT id, partnership_id, code, name, category FROM agencies WHERE id = $1")
                        .bind(id)
                        .fetch_one(&self.pool)
                        .await?;
                let links: Vec<(i64, i64)> =
                    sqlx::query_as("SELECT agency_id, marac_id FROM agency_maracs WHERE agency_id = $1 ORDER BY marac_id")
                        .bind(id)
                        .fetch_all(&self.pool)
                        .await?;
                row.into_agency(&links)
            }

            async fn find_agency_by_code(&self, code: &str) -> $crate::StoreResult<Option<$crate::Agency>> {
                let id: Option<(i64,)> = sqlx::query_as("SELECT id FROM agencies WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await?;
                match id {
                    Some((id,)) => Ok(Some(self.get_agency(id).await?)),
                    None => Ok(None),
                }
            }

            async fn create_agency(
                &self,
                input: &$crate::AgencyInput,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO agencies (partnership_id, code, name, category, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(input.partnership_id)
                .bind(&input.code)
                .bind(&input.name)
                .bind(input.category.code())
                .bind($crate::Ts::new(audit.at))
                .fetch_one(&mut *tx)
                .await?;
                Self::write_agency_maracs(&mut tx, id, &input.marac_ids).await?;
                let mut audit = audit;
                audit.target = format!("agency:{id}");
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn update_agency(
                &self,
                id: i64,
                input: &$crate::AgencyInput,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query("UPDATE agencies SET partnership_id = $1, code = $2, name = $3, category = $4 WHERE id = $5")
                    .bind(input.partnership_id)
                    .bind(&input.code)
                    .bind(&input.name)
                    .bind(input.category.code())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Self::found(r)?;
                Self::write_agency_maracs(&mut tx, id, &input.marac_ids).await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_users(&self) -> $crate::StoreResult<Vec<$crate::User>> {
                let rows: Vec<$crate::sql::UserRow> = sqlx::query_as(
                    "SELECT id, email, name, agency_id, password_hash, disabled, totp_secret, is_demo FROM users ORDER BY name, id",
                )
                .fetch_all(&self.pool)
                .await?;
                let roles = self.role_rows().await?;
                rows.into_iter().map(|r| r.into_user(&roles)).collect()
            }

            async fn get_user(&self, id: i64) -> $crate::StoreResult<$crate::User> {
                let row: $crate::sql::UserRow = sqlx::query_as(
                    "SELECT id, email, name, agency_id, password_hash, disabled, totp_secret, is_demo FROM users WHERE id = $1",
                )
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
                let roles: Vec<(i64, String, Option<i64>)> =
                    sqlx::query_as("SELECT user_id, role, marac_id FROM user_roles WHERE user_id = $1 ORDER BY id")
                        .bind(id)
                        .fetch_all(&self.pool)
                        .await?;
                row.into_user(&roles)
            }

            async fn find_user_by_email(&self, email: &str) -> $crate::StoreResult<Option<$crate::User>> {
                let id: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?;
                match id {
                    Some((id,)) => Ok(Some(self.get_user(id).await?)),
                    None => Ok(None),
                }
            }

            async fn create_user(
                &self,
                user: &$crate::NewUser,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO users (email, name, agency_id, password_hash, disabled, is_demo, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&user.email)
                .bind(&user.name)
                .bind(user.agency_id)
                .bind(&user.password_hash)
                .bind(false)
                .bind(user.is_demo)
                .bind($crate::Ts::new(audit.at))
                .fetch_one(&mut *tx)
                .await?;
                Self::write_roles(&mut tx, id, &user.grants).await?;
                let mut audit = audit;
                audit.target = format!("user:{id}");
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn update_user(
                &self,
                id: i64,
                changes: &$crate::UserChanges,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query("UPDATE users SET name = $1, agency_id = $2 WHERE id = $3")
                    .bind(&changes.name)
                    .bind(changes.agency_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Self::found(r)?;
                Self::write_roles(&mut tx, id, &changes.grants).await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_user_disabled(
                &self,
                id: i64,
                disabled: bool,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                    .bind(disabled)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Self::found(r)?;
                if disabled {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                }
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_password_hash(&self, id: i64, password_hash: &str) -> $crate::StoreResult<()> {
                let r = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(password_hash)
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                Self::found(r)
            }

            async fn set_second_factor(
                &self,
                user_id: i64,
                totp_secret: &str,
                first_step: i64,
                recovery_code_hashes: &[String],
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = $2 WHERE id = $3")
                    .bind(totp_secret)
                    .bind(first_step)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                Self::found(r)?;
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                for h in recovery_code_hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                        .bind(user_id)
                        .bind(h)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn use_totp_step(&self, user_id: i64, step: i64) -> $crate::StoreResult<bool> {
                let r = sqlx::query(
                    "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
                )
                .bind(step)
                .bind(user_id)
                .execute(self.writer())
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn use_recovery_code(&self, user_id: i64, code_hash: &str, at: $crate::Ts) -> $crate::StoreResult<bool> {
                let r = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(at)
                .bind(user_id)
                .bind(code_hash)
                .execute(self.writer())
                .await?;
                Ok(r.rows_affected() >= 1)
            }

            async fn unused_recovery_codes(&self, user_id: i64) -> $crate::StoreResult<i64> {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                        .bind(user_id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(n)
            }

            async fn create_session(&self, s: &$crate::Session) -> $crate::StoreResult<()> {
                Self::insert_session(&mut *self.writer().acquire().await?, s).await
            }

            async fn replace_session(
                &self,
                old_id: &str,
                s: &$crate::Session,
                audit: Option<marac_domain::audit::NewAuditEvent>,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM sessions WHERE id = $1").bind(old_id).execute(&mut *tx).await?;
                Self::insert_session(&mut tx, s).await?;
                if let Some(audit) = audit {
                    Self::append_in(&mut tx, &self.audit_key, audit).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_session(&self, id: &str) -> $crate::StoreResult<Option<$crate::Session>> {
                let row: Option<$crate::sql::SessionRow> = sqlx::query_as(
                    "SELECT id, user_id, stage, created_at, last_seen_at, ip, user_agent FROM sessions WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::sql::SessionRow::into_session).transpose()
            }

            async fn touch_session(&self, id: &str, at: $crate::Ts) -> $crate::StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn delete_session(
                &self,
                id: &str,
                audit: Option<marac_domain::audit::NewAuditEvent>,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&mut *tx).await?;
                if let Some(audit) = audit {
                    Self::append_in(&mut tx, &self.audit_key, audit).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn list_user_sessions(&self, user_id: i64) -> $crate::StoreResult<Vec<$crate::Session>> {
                let rows: Vec<$crate::sql::SessionRow> = sqlx::query_as(
                    "SELECT id, user_id, stage, created_at, last_seen_at, ip, user_agent FROM sessions \
                     WHERE user_id = $1 ORDER BY last_seen_at DESC, id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::sql::SessionRow::into_session).collect()
            }

            async fn record_sign_in_failure(
                &self,
                account: &str,
                address: &str,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                // Old failures no longer count; dropping them keeps the table small.
                let stale = $crate::Ts::new(at.0 - time::Duration::days(1));
                sqlx::query("DELETE FROM sign_in_failures WHERE at < $1").bind(stale).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO sign_in_failures (account, address, at) VALUES ($1, $2, $3)")
                    .bind(account)
                    .bind(address)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn count_sign_in_failures(
                &self,
                account: &str,
                address: &str,
                since: $crate::Ts,
            ) -> $crate::StoreResult<(u32, u32)> {
                let (by_account, by_address): (i64, i64) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE account = $1 AND at >= $3), \
                            (SELECT COUNT(*) FROM sign_in_failures WHERE address = $2 AND at >= $3)",
                )
                .bind(account)
                .bind(address)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
                Ok((u32::try_from(by_account).unwrap_or(u32::MAX), u32::try_from(by_address).unwrap_or(u32::MAX)))
            }

            async fn clear_sign_in_failures(&self, account: &str) -> $crate::StoreResult<()> {
                sqlx::query("DELETE FROM sign_in_failures WHERE account = $1").bind(account).execute(self.writer()).await?;
                Ok(())
            }

            async fn append_audit(&self, audit: marac_domain::audit::NewAuditEvent) -> $crate::StoreResult<()> {
                // An event on its own records a read, a refusal or a sign-in, not a change: it is
                // never the outcome of an idempotent request.
                let mut audit = audit;
                audit.idempotency = None;
                let mut tx = self.begin_write().await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_audit(
                &self,
                f: &$crate::AuditFilter,
            ) -> $crate::StoreResult<Vec<marac_domain::audit::AuditEvent>> {
                const Q: &str = "SELECT seq, at, actor_user_id, actor_label, action, target, outcome, ip, detail, prev_hash, hash FROM audit_events \
                     WHERE ($1 IS NULL OR action LIKE $1 ESCAPE '\\') \
                       AND ($2 IS NULL OR LOWER(actor_label) LIKE $2 ESCAPE '\\') \
                       AND ($3 IS NULL OR outcome = $3) \
                       AND ($4 IS NULL OR at >= $4) \
                       AND ($5 IS NULL OR at < $5) \
                       AND ($6 IS NULL OR seq < $6) \
                     ORDER BY seq DESC LIMIT $7";
                let rows: Vec<$crate::sql::AuditRow> = sqlx::query_as(Q)
                    .bind(f.action_prefix.as_deref().map(|p| format!("{}%", $crate::sql::like_escape(p))))
                    .bind(f.actor_contains.as_deref().map(|p| format!("%{}%", $crate::sql::like_escape(&p.to_lowercase()))))
                    .bind(f.outcome.as_deref())
                    .bind(f.from)
                    .bind(f.to)
                    .bind(f.before_seq)
                    .bind(f.limit)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn audit_events_after(
                &self,
                after_seq: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<marac_domain::audit::AuditEvent>> {
                const Q: &str = "SELECT seq, at, actor_user_id, actor_label, action, target, outcome, ip, detail, prev_hash, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2";
                let rows: Vec<$crate::sql::AuditRow> =
                    sqlx::query_as(Q).bind(after_seq).bind(limit).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn audit_head(&self) -> $crate::StoreResult<(i64, String)> {
                Ok(sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?)
            }

            async fn install_checklist(
                &self,
                c: &$crate::ChecklistRecord,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let existing: Option<(String,)> =
                    sqlx::query_as("SELECT definition FROM checklists WHERE checklist_id = $1 AND version = $2")
                        .bind(&c.checklist_id)
                        .bind(&c.version)
                        .fetch_optional(&mut *tx)
                        .await?;
                match existing {
                    Some((definition,)) if definition == c.definition => return Ok(false),
                    Some(_) => return Err($crate::StoreError::Conflict { constraint: "checklists.version".into() }),
                    None => {}
                }
                sqlx::query(
                    "INSERT INTO checklists (checklist_id, version, title, source, question_count, definition, loaded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&c.checklist_id)
                .bind(&c.version)
                .bind(&c.title)
                .bind(&c.source)
                .bind(c.question_count)
                .bind(&c.definition)
                .bind($crate::Ts::new(audit.at))
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn list_checklists(&self) -> $crate::StoreResult<Vec<$crate::ChecklistRecord>> {
                let rows: Vec<$crate::sql::ChecklistRow> = sqlx::query_as(
                    "SELECT checklist_id, version, title, source, question_count, definition FROM checklists \
                     ORDER BY checklist_id, loaded_at, version",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn get_checklist(
                &self,
                checklist_id: &str,
                version: &str,
            ) -> $crate::StoreResult<Option<$crate::ChecklistRecord>> {
                let row: Option<$crate::sql::ChecklistRow> = sqlx::query_as(
                    "SELECT checklist_id, version, title, source, question_count, definition FROM checklists \
                     WHERE checklist_id = $1 AND version = $2",
                )
                .bind(checklist_id)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn create_api_token(
                &self,
                user_id: i64,
                name: &str,
                token_hash: &str,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(user_id)
                .bind(name)
                .bind(token_hash)
                .bind($crate::Ts::new(audit.at))
                .fetch_one(&mut *tx)
                .await?;
                let mut audit = audit;
                audit.target = format!("api_token:{id}");
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn find_api_token(&self, token_hash: &str) -> $crate::StoreResult<Option<$crate::ApiToken>> {
                let row: Option<$crate::sql::ApiTokenRow> = sqlx::query_as(
                    "SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn list_api_tokens(&self, user_id: i64) -> $crate::StoreResult<Vec<$crate::ApiToken>> {
                let rows: Vec<$crate::sql::ApiTokenRow> = sqlx::query_as(
                    "SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn revoke_api_token(
                &self,
                id: i64,
                user_id: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                )
                .bind(at)
                .bind(id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                Self::found(r)?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_draft(
                &self,
                d: &$crate::NewDraft,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let at = $crate::Ts::new(audit.at);
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO referrals (marac_id, referrer_user_id, referring_agency_id, status, form_sealed, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'draft', $4, $5, $5) RETURNING id",
                )
                .bind(d.marac_id)
                .bind(d.referrer_user_id)
                .bind(d.referring_agency_id)
                .bind(&d.form_sealed)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                let mut audit = audit;
                audit.target = format!("referral:{id}");
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn save_draft(
                &self,
                id: i64,
                marac_id: i64,
                form_sealed: &str,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE referrals SET form_sealed = $1, marac_id = $2, updated_at = $3 \
                     WHERE id = $4 AND status IN ('draft', 'returned')",
                )
                .bind(form_sealed)
                .bind(marac_id)
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Self::found(r)?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn get_referral(&self, id: i64) -> $crate::StoreResult<$crate::Referral> {
                let sql = format!("SELECT {} FROM referrals WHERE id = $1", $crate::sql::REFERRAL_COLUMNS);
                let row: $crate::sql::ReferralRow = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?;
                row.into_referral()
            }

            async fn find_referral_by_reference(&self, reference: &str) -> $crate::StoreResult<Option<$crate::Referral>> {
                let sql = format!("SELECT {} FROM referrals WHERE reference = $1", $crate::sql::REFERRAL_COLUMNS);
                let row: Option<$crate::sql::ReferralRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(reference).fetch_optional(&self.pool).await?;
                row.map($crate::sql::ReferralRow::into_referral).transpose()
            }

            async fn list_referrals(&self, f: &$crate::ReferralFilter) -> $crate::StoreResult<Vec<$crate::Referral>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM referrals WHERE 1 = 1",
                    $crate::sql::REFERRAL_COLUMNS
                ));
                if let Some(u) = f.referrer_user_id {
                    q.push(" AND referrer_user_id = ").push_bind(u);
                }
                if let Some(ids) = &f.marac_ids {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    q.push(" AND marac_id IN (");
                    let mut list = q.separated(", ");
                    for m in ids {
                        list.push_bind(*m);
                    }
                    list.push_unseparated(")");
                }
                if !f.statuses.is_empty() {
                    q.push(" AND status IN (");
                    let mut list = q.separated(", ");
                    for s in &f.statuses {
                        list.push_bind(s.code());
                    }
                    list.push_unseparated(")");
                }
                if let Some(c) = f.case_id {
                    q.push(" AND case_id = ").push_bind(c);
                }
                q.push(" ORDER BY updated_at DESC, id DESC LIMIT ").push_bind(f.limit);
                let rows: Vec<$crate::sql::ReferralRow> = q.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::sql::ReferralRow::into_referral).collect()
            }

            async fn find_people(
                &self,
                partnership_id: i64,
                keys: &[String],
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::PersonRecord>> {
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                // The candidates are ranked and cut from the index alone (how many keys each
                // shares, and the fewest people any of those keys holds), then only the best are
                // read: reading every record a common name finds is most of the cost. Written as
                // `id IN (..) ORDER BY .. LIMIT n`, PostgreSQL's generic plan for the prepared
                // statement walks every person in id order instead (half a second at 100,000).
                // The partnership check after the cut only guards: the keys are its own.
                let sql = format!(
                    "WITH hits AS (SELECT person_id, COUNT(*) OVER (PARTITION BY key) AS held \
                     FROM person_keys WHERE key IN ({})), \
                     found AS MATERIALIZED (SELECT person_id, COUNT(*) AS shared, MIN(held) AS rarest \
                     FROM hits GROUP BY person_id ORDER BY shared DESC, rarest, person_id LIMIT ${}) \
                     SELECT p.id, p.details_sealed, p.merged_into FROM found JOIN people p ON p.id = found.person_id \
                     WHERE p.partnership_id = $1 ORDER BY found.shared DESC, found.rarest, p.id",
                    $crate::sql::placeholders(2, keys.len()),
                    keys.len() + 2
                );
                let mut q = sqlx::query_as::<_, (i64, String, Option<i64>)>(sqlx::AssertSqlSafe(sql)).bind(partnership_id);
                for k in keys {
                    q = q.bind(k);
                }
                let rows = q.bind(limit).fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, details_sealed, merged_into)| $crate::PersonRecord { id, details_sealed, merged_into })
                    .collect())
            }

            async fn count_people(&self, partnership_id: i64) -> $crate::StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM people WHERE partnership_id = $1")
                    .bind(partnership_id)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn get_person(&self, id: i64) -> $crate::StoreResult<$crate::PersonRecord> {
                let (id, details_sealed, merged_into): (i64, String, Option<i64>) =
                    sqlx::query_as("SELECT id, details_sealed, merged_into FROM people WHERE id = $1")
                        .bind(id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok($crate::PersonRecord { id, details_sealed, merged_into })
            }

            async fn last_referral_date(
                &self,
                victim_person_id: i64,
                perpetrator_ids: &[i64],
            ) -> $crate::StoreResult<Option<String>> {
                let mut conn = self.pool.acquire().await?;
                Self::last_date_of_people(&mut conn, victim_person_id, perpetrator_ids, None).await
            }

            async fn submit_referral(
                &self,
                s: &$crate::Submission,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<$crate::Submitted> {
                let mut tx = self.begin_write().await?;
                let (done, _) = Self::submit_in(&mut tx, s, at, false).await?;
                let mut audit = audit;
                audit.target = format!("referral:{}", done.referral_id);
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(done)
            }

            async fn decide_referral(
                &self,
                id: i64,
                decision: &$crate::Decision,
                by: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let (status, note) = match decision {
                    $crate::Decision::Accept => ("accepted", None),
                    $crate::Decision::SendBack(n) => ("returned", Some(n.as_str())),
                    $crate::Decision::Decline(n) => ("declined", Some(n.as_str())),
                };
                let mut tx = self.begin_write().await?;
                // A referral is accepted onto a case of its own Marac: one naming a case another
                // Marac holds waits until that case is transferred.
                let r = sqlx::query(
                    "UPDATE referrals SET status = $1, decision_note_sealed = COALESCE($2, decision_note_sealed), \
                     decided_by = $3, decided_at = $4, updated_at = $4 \
                     WHERE id = $5 AND status = 'submitted' AND ($1 <> 'accepted' OR case_id IS NOT NULL)",
                )
                .bind(status)
                .bind(note)
                .bind(by)
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Self::found(r)?;
                if status == "declined" {
                    sqlx::query(
                        "UPDATE case_transfers SET outcome = 'withdrawn', decided_by = $1, decided_at = $2 \
                         WHERE referral_id = $3 AND outcome IS NULL",
                    )
                    .bind(by)
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn referral_matches(&self, referral_id: i64) -> $crate::StoreResult<Vec<$crate::StoredMatch>> {
                let rows: Vec<(String, i64, i64, bool, String, Option<String>, Option<i64>)> = sqlx::query_as(
                    "SELECT subject, person_id, score, certain, reasons_sealed, decision, own_person_id FROM referral_matches \
                     WHERE referral_id = $1 ORDER BY subject, score DESC, person_id",
                )
                .bind(referral_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(subject, person_id, score, certain, reasons_sealed, decision, own)| $crate::StoredMatch {
                        subject,
                        person_id,
                        score,
                        certain,
                        reasons_sealed,
                        confirmed: decision.map(|d| d == "confirmed"),
                        decidable: own.is_some(),
                    })
                    .collect())
            }

            async fn decide_match(
                &self,
                decision: &$crate::MatchDecision,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<bool> {
                self.links_decide_match(decision, at, audit).await
            }

            async fn marac_people(&self, marac_ids: &[i64]) -> $crate::StoreResult<Vec<$crate::MaracPerson>> {
                self.links_marac_people(marac_ids).await
            }

            async fn distinct_people(&self) -> $crate::StoreResult<Vec<(i64, i64)>> {
                self.links_distinct_people().await
            }

            async fn mark_distinct(
                &self,
                a: i64,
                b: i64,
                by: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                self.links_mark_distinct(a, b, by, at, audit).await
            }

            async fn merge_people(
                &self,
                merge: &$crate::PersonMerge,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                self.links_merge_people(merge, audit).await
            }

            async fn unmerge_person(
                &self,
                merge: &$crate::PersonMerge,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                self.links_unmerge_person(merge, at, audit).await
            }

            async fn get_case(&self, id: i64) -> $crate::StoreResult<$crate::Case> {
                let (id, marac_id, victim_person_id, perpetrator_ids, created_at): (i64, i64, i64, String, $crate::Ts) =
                    sqlx::query_as(
                        "SELECT id, marac_id, victim_person_id, perpetrator_ids, created_at FROM cases WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?;
                let perpetrator_ids = $crate::sql::perpetrator_ids(id, &perpetrator_ids)?;
                Ok($crate::Case { id, marac_id, victim_person_id, perpetrator_ids, created_at })
            }

            async fn case_access(&self, case_id: i64) -> $crate::StoreResult<marac_domain::policy::CaseAccess> {
                let case = self.get_case(case_id).await?;
                // A referral opens its case to its agencies once a coordinator accepts it onto
                // the case, not when it is submitted.
                let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
                    "SELECT referring_agency_id, joint_agency_id FROM referrals WHERE case_id = $1 AND status = 'accepted'",
                )
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
                let mut referring: Vec<i64> = rows.iter().flat_map(|(a, j)| std::iter::once(*a).chain(*j)).collect();
                referring.sort_unstable();
                referring.dedup();
                // Agencies invited to a meeting whose published list holds the case.
                let attending: Vec<i64> = sqlx::query_as::<_, (i64,)>(
                    "SELECT DISTINCT ma.agency_id FROM meeting_cases mc JOIN meetings m ON m.id = mc.meeting_id \
                     JOIN meeting_agencies ma ON ma.meeting_id = m.id \
                     WHERE mc.case_id = $1 AND m.status IN ('published', 'held') ORDER BY ma.agency_id",
                )
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|(a,)| a)
                .collect();
                let owners: Vec<(i64,)> =
                    sqlx::query_as("SELECT DISTINCT agency_id FROM actions WHERE case_id = $1 ORDER BY agency_id")
                        .bind(case_id)
                        .fetch_all(&self.pool)
                        .await?;
                let held_before: Vec<(i64, $crate::Ts)> = sqlx::query_as(
                    "SELECT from_marac_id, decided_at FROM case_transfers \
                     WHERE case_id = $1 AND outcome = 'moved' AND decided_at IS NOT NULL ORDER BY decided_at",
                )
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(marac_domain::policy::CaseAccess {
                    marac_id: case.marac_id,
                    referring_agency_ids: referring,
                    attending_agency_ids: attending,
                    action_owner_agency_ids: owners.into_iter().map(|(a,)| a).collect(),
                    held_before: held_before
                        .into_iter()
                        .map(|(marac_id, until)| marac_domain::policy::HeldBefore { marac_id, until: until.0 })
                        .collect(),
                    ..Default::default()
                })
            }

            async fn import_people(
                &self,
                partnership_id: i64,
                people: &[(String, Vec<String>)],
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                for (sealed, keys) in people {
                    let person = $crate::PersonRef::New { details_sealed: sealed.clone(), keys: keys.clone() };
                    Self::resolve_person(&mut tx, partnership_id, &person, at).await?;
                }
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                // Fresh statistics, so the planner knows the index keys are selective even where
                // automatic analysis is off or has not run yet.
                sqlx::query("ANALYZE person_keys").execute(self.writer()).await?;
                Ok(u64::try_from(people.len()).unwrap_or(u64::MAX))
            }

            async fn people_to_file_again(
                &self,
                version: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<(i64, $crate::PersonRecord)>> {
                let rows: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
                    "SELECT partnership_id, id, details_sealed, merged_into FROM people WHERE keys_version < $1 \
                     ORDER BY id LIMIT $2",
                )
                .bind(version)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(partnership, id, details_sealed, merged_into)| {
                        (partnership, $crate::PersonRecord { id, details_sealed, merged_into })
                    })
                    .collect())
            }

            async fn file_people_again(
                &self,
                version: i64,
                people: &[(i64, Vec<String>)],
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                for (id, keys) in people {
                    // Only someone still filed under older keys: another server's worker may have
                    // filed them already.
                    let changed = sqlx::query("UPDATE people SET keys_version = $1 WHERE id = $2 AND keys_version < $1")
                        .bind(version)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if changed == 1 {
                        sqlx::query("DELETE FROM person_keys WHERE person_id = $1").bind(id).execute(&mut *tx).await?;
                        Self::file_person_in(&mut tx, *id, keys).await?;
                    }
                }
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_research_note(
                &self,
                n: &$crate::NewResearchNote,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO research_notes (case_id, agency_id, author_user_id, kind, body_sealed, shared, created_at, shared_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(n.case_id)
                .bind(n.agency_id)
                .bind(n.author_user_id)
                .bind(n.kind.code())
                .bind(&n.body_sealed)
                .bind(n.shared)
                .bind(at)
                .bind(n.shared.then_some(at))
                .fetch_one(&mut *tx)
                .await?;
                let mut audit = audit;
                audit.target = format!("research_note:{id}");
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn list_research_notes(
                &self,
                case_id: i64,
                agency_id: Option<i64>,
            ) -> $crate::StoreResult<Vec<$crate::ResearchNote>> {
                let rows: Vec<$crate::sql::NoteRow> = sqlx::query_as(
                    "SELECT id, case_id, agency_id, author_user_id, kind, body_sealed, shared, created_at, shared_at \
                     FROM research_notes WHERE case_id = $1 AND (shared = $2 OR agency_id = $3) ORDER BY created_at, id",
                )
                .bind(case_id)
                .bind(true)
                .bind(agency_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::sql::NoteRow::into_note).collect()
            }

            async fn share_research_note(
                &self,
                case_id: i64,
                id: i64,
                agency_id: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE research_notes SET shared = $1, shared_at = $2 \
                     WHERE id = $3 AND agency_id = $4 AND shared = $5 AND case_id = $6",
                )
                .bind(true)
                .bind(at)
                .bind(id)
                .bind(agency_id)
                .bind(false)
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
                Self::found(r)?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_directory(&self) -> $crate::StoreResult<Vec<$crate::DirectoryEntry>> {
                let rows: Vec<$crate::sql::DirectoryRow> = sqlx::query_as(
                    "SELECT id, marac_id, agency_id, kind, name, job_title, email, phone FROM directory_entries \
                     ORDER BY marac_id, agency_id, kind, name, id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::sql::DirectoryRow::into_entry).collect()
            }

            async fn add_directory_entry(
                &self,
                e: &$crate::DirectoryEntry,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO directory_entries (marac_id, agency_id, kind, name, job_title, email, phone, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(e.marac_id)
                .bind(e.agency_id)
                .bind(e.kind.code())
                .bind(&e.name)
                .bind(&e.job_title)
                .bind(&e.email)
                .bind(&e.phone)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                let mut audit = audit;
                audit.target = format!("directory_entry:{id}");
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn remove_directory_entry(&self, id: i64, audit: marac_domain::audit::NewAuditEvent) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query("DELETE FROM directory_entries WHERE id = $1").bind(id).execute(&mut *tx).await?;
                Self::found(r)?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn current_statement(
                &self,
                marac_id: i64,
            ) -> $crate::StoreResult<Option<$crate::ConfidentialityStatement>> {
                let row: Option<(i64, i64, i64, String, $crate::Ts)> = sqlx::query_as(
                    "SELECT id, marac_id, version, body, created_at FROM confidentiality_statements \
                     WHERE marac_id = $1 ORDER BY version DESC LIMIT 1",
                )
                .bind(marac_id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(id, marac_id, version, body, created_at)| $crate::ConfidentialityStatement {
                    id,
                    marac_id,
                    version,
                    body,
                    created_at,
                }))
            }

            async fn add_statement(
                &self,
                marac_id: i64,
                body: &str,
                by: Option<i64>,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (version,): (i64,) = sqlx::query_as(
                    "INSERT INTO confidentiality_statements (marac_id, version, body, created_by, created_at) \
                     SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM confidentiality_statements \
                     WHERE marac_id = $1 RETURNING version",
                )
                .bind(marac_id)
                .bind(body)
                .bind(by)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(version)
            }

            async fn create_meetings(
                &self,
                meetings: &[$crate::NewMeeting],
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<Vec<i64>> {
                let mut tx = self.begin_write().await?;
                let mut ids = Vec::with_capacity(meetings.len());
                for m in meetings {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO meetings (marac_id, kind, format, status, held_on, starts_at, closing_on, location, \
                         chair_user_id, capacity, list_cutoff_on, created_at, updated_at) \
                         VALUES ($1, $2, $3, 'planned', $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                    )
                    .bind(m.marac_id)
                    .bind(m.kind.code())
                    .bind(m.format.code())
                    .bind($crate::meeting_rows::day(m.held_on))
                    .bind(&m.starts_at)
                    .bind(m.closing_on.map($crate::meeting_rows::day))
                    .bind(&m.location)
                    .bind(m.chair_user_id)
                    .bind(i64::from(m.capacity))
                    .bind(m.list_cutoff_on.map($crate::meeting_rows::day))
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?;
                    Self::invite_in(&mut tx, id, &m.invited_agency_ids).await?;
                    ids.push(id);
                }
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(ids)
            }

            async fn update_meeting(
                &self,
                id: i64,
                m: &$crate::NewMeeting,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE meetings SET kind = $1, format = $2, held_on = $3, starts_at = $4, closing_on = $5, \
                     location = $6, chair_user_id = $7, capacity = $8, list_cutoff_on = $9, updated_at = $10 \
                     WHERE id = $11 AND status <> 'held'",
                )
                .bind(m.kind.code())
                .bind(m.format.code())
                .bind($crate::meeting_rows::day(m.held_on))
                .bind(&m.starts_at)
                .bind(m.closing_on.map($crate::meeting_rows::day))
                .bind(&m.location)
                .bind(m.chair_user_id)
                .bind(i64::from(m.capacity))
                .bind(m.list_cutoff_on.map($crate::meeting_rows::day))
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Self::found(r)?;
                sqlx::query("DELETE FROM meeting_agencies WHERE meeting_id = $1").bind(id).execute(&mut *tx).await?;
                Self::invite_in(&mut tx, id, &m.invited_agency_ids).await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn get_meeting(&self, id: i64) -> $crate::StoreResult<$crate::Meeting> {
                let sql = format!("SELECT {} FROM meetings m WHERE m.id = $1", $crate::meeting_rows::MEETING_COLUMNS);
                let row: $crate::meeting_rows::MeetingRow =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?;
                let invited = self.invited(id).await?;
                row.into_meeting(invited)
            }

            async fn list_meetings(
                &self,
                marac_ids: &[i64],
                from: Option<time::Date>,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::Meeting>> {
                if marac_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT {} FROM meetings m WHERE m.marac_id IN ({}) AND ($1 IS NULL OR m.held_on >= $1) \
                     ORDER BY m.held_on, m.starts_at, m.id LIMIT ${}",
                    $crate::meeting_rows::MEETING_COLUMNS,
                    $crate::sql::placeholders(2, marac_ids.len()),
                    marac_ids.len() + 2
                );
                let mut q = sqlx::query_as::<_, $crate::meeting_rows::MeetingRow>(sqlx::AssertSqlSafe(sql))
                    .bind(from.map($crate::meeting_rows::day));
                for m in marac_ids {
                    q = q.bind(m);
                }
                let rows = q.bind(limit).fetch_all(&self.pool).await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let invited = self.invited(row.id).await?;
                    out.push(row.into_meeting(invited)?);
                }
                Ok(out)
            }

            async fn waiting_cases(&self, marac_id: i64) -> $crate::StoreResult<Vec<$crate::WaitingCase>> {
                let rows: Vec<(i64, i64, String, $crate::Ts, i64)> = sqlx::query_as(
                    "SELECT r.case_id, r.id, r.reference, r.decided_at, r.children_count FROM referrals r \
                     WHERE r.marac_id = $1 AND r.status = 'accepted' AND r.case_id IS NOT NULL \
                     AND NOT EXISTS (SELECT 1 FROM meeting_cases mc WHERE mc.referral_id = r.id AND mc.outcome <> 'deferred') \
                     ORDER BY r.decided_at, r.id",
                )
                .bind(marac_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(case_id, referral_id, reference, accepted_at, children_count)| $crate::WaitingCase {
                        case_id,
                        referral_id,
                        reference,
                        accepted_at,
                        children_count,
                    })
                    .collect())
            }

            async fn meeting_cases(&self, meeting_id: i64) -> $crate::StoreResult<Vec<$crate::ListedCase>> {
                let sql = format!(
                    "SELECT {} FROM meeting_cases mc LEFT JOIN referrals r ON r.id = mc.referral_id \
                     WHERE mc.meeting_id = $1 ORDER BY mc.position, mc.case_id",
                    $crate::meeting_rows::LISTED_COLUMNS
                );
                let rows: Vec<$crate::meeting_rows::ListedRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(meeting_id).fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::meeting_rows::ListedRow::into_listed).collect()
            }

            async fn set_meeting_list(
                &self,
                meeting_id: i64,
                list: &[(i64, i64)],
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                Self::meeting_status_in(&mut tx, meeting_id, &["planned", "published"]).await?;
                // Cases left off the list go unless the meeting already recorded something on them.
                let keep: Vec<i64> = list.iter().map(|(c, _)| *c).collect();
                let listed: Vec<(i64, String)> =
                    sqlx::query_as("SELECT case_id, outcome FROM meeting_cases WHERE meeting_id = $1")
                        .bind(meeting_id)
                        .fetch_all(&mut *tx)
                        .await?;
                for (case_id, outcome) in &listed {
                    if !keep.contains(case_id) && outcome == "listed" {
                        sqlx::query("DELETE FROM meeting_cases WHERE meeting_id = $1 AND case_id = $2 AND discussion_sealed IS NULL")
                            .bind(meeting_id)
                            .bind(case_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                for (i, (case_id, referral_id)) in list.iter().enumerate() {
                    let position = i64::try_from(i).unwrap_or(i64::MAX - 1) + 1;
                    if listed.iter().any(|(c, _)| c == case_id) {
                        sqlx::query("UPDATE meeting_cases SET position = $1 WHERE meeting_id = $2 AND case_id = $3")
                            .bind(position)
                            .bind(meeting_id)
                            .bind(case_id)
                            .execute(&mut *tx)
                            .await?;
                    } else {
                        sqlx::query(
                            "INSERT INTO meeting_cases (meeting_id, case_id, referral_id, position, updated_at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(meeting_id)
                        .bind(case_id)
                        .bind(referral_id)
                        .bind(position)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                sqlx::query("UPDATE meetings SET updated_at = $1 WHERE id = $2").bind(at).bind(meeting_id).execute(&mut *tx).await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn publish_meeting(
                &self,
                meeting_id: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                self.move_meeting(meeting_id, "planned", "published", at, audit).await
            }

            async fn close_meeting(
                &self,
                meeting_id: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                self.move_meeting(meeting_id, "published", "held", at, audit).await
            }

            async fn confirm_confidentiality(
                &self,
                meeting_id: i64,
                user_id: Option<i64>,
                observer_name: Option<&str>,
                statement_id: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let exists: Option<(i64, i64)> = match user_id {
                    Some(u) => {
                        sqlx::query_as(
                            "SELECT id, statement_id FROM confidentiality_confirmations WHERE meeting_id = $1 AND user_id = $2",
                        )
                        .bind(meeting_id)
                        .bind(u)
                        .fetch_optional(&mut *tx)
                        .await?
                    }
                    None => None,
                };
                let changed = match exists {
                    Some((_, confirmed)) if confirmed == statement_id => false,
                    // Confirmed before under an earlier version: this one replaces it.
                    Some((id, _)) => {
                        sqlx::query("UPDATE confidentiality_confirmations SET statement_id = $1, confirmed_at = $2 WHERE id = $3")
                            .bind(statement_id)
                            .bind(at)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        true
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO confidentiality_confirmations (meeting_id, user_id, observer_name, statement_id, confirmed_at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(meeting_id)
                        .bind(user_id)
                        .bind(observer_name)
                        .bind(statement_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                        true
                    }
                };
                if changed {
                    // A confirmation at a meeting is one of the statement too.
                    if let Some(u) = user_id {
                        sqlx::query(
                            "INSERT INTO statement_confirmations (user_id, statement_id, confirmed_at) VALUES ($1, $2, $3)",
                        )
                        .bind(u)
                        .bind(statement_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Self::append_in(&mut tx, &self.audit_key, audit).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn confirm_statement(
                &self,
                user_id: i64,
                statement_id: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO statement_confirmations (user_id, statement_id, confirmed_at) VALUES ($1, $2, $3)")
                    .bind(user_id)
                    .bind(statement_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn statement_confirmations(
                &self,
                user_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::StatementConfirmation>> {
                let rows: Vec<(i64, i64, $crate::Ts)> = sqlx::query_as(
                    "SELECT s.marac_id, s.version, c.confirmed_at FROM statement_confirmations c \
                     JOIN confidentiality_statements s ON s.id = c.statement_id WHERE c.user_id = $1 \
                     ORDER BY s.marac_id, s.version DESC, c.confirmed_at DESC",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                let mut newest: Vec<$crate::StatementConfirmation> = Vec::new();
                for (marac_id, version, confirmed_at) in rows {
                    if newest.last().is_none_or(|n| n.marac_id != marac_id) {
                        newest.push($crate::StatementConfirmation { marac_id, version, confirmed_at });
                    }
                }
                Ok(newest)
            }

            async fn confirmations(&self, meeting_id: i64) -> $crate::StoreResult<Vec<$crate::Confirmation>> {
                let rows: Vec<(Option<i64>, Option<String>, i64, $crate::Ts)> = sqlx::query_as(
                    "SELECT c.user_id, c.observer_name, s.version, c.confirmed_at FROM confidentiality_confirmations c \
                     JOIN confidentiality_statements s ON s.id = c.statement_id WHERE c.meeting_id = $1 \
                     ORDER BY c.confirmed_at, c.id",
                )
                .bind(meeting_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(user_id, observer_name, statement_version, confirmed_at)| $crate::Confirmation {
                        user_id,
                        observer_name,
                        statement_version,
                        confirmed_at,
                    })
                    .collect())
            }

            async fn set_attendance(
                &self,
                meeting_id: i64,
                entries: &[$crate::AttendanceEntry],
                by: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM attendance WHERE meeting_id = $1").bind(meeting_id).execute(&mut *tx).await?;
                for e in entries {
                    sqlx::query(
                        "INSERT INTO attendance (meeting_id, agency_id, person_name, kind, information_sent, recorded_by, recorded_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(meeting_id)
                    .bind(e.agency_id)
                    .bind(&e.person_name)
                    .bind(e.kind.code())
                    .bind(e.information_sent)
                    .bind(by)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn attendance(&self, meeting_id: i64) -> $crate::StoreResult<Vec<$crate::AttendanceEntry>> {
                let rows: Vec<(Option<i64>, String, String, bool)> = sqlx::query_as(
                    "SELECT agency_id, person_name, kind, information_sent FROM attendance WHERE meeting_id = $1 ORDER BY id",
                )
                .bind(meeting_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(agency_id, person_name, kind, information_sent)| {
                        Ok($crate::AttendanceEntry {
                            agency_id,
                            person_name,
                            kind: marac_domain::meeting_rules::AttendanceKind::from_code(&kind)
                                .ok_or_else(|| $crate::StoreError::Corrupt(format!("unknown attendance {kind}")))?,
                            information_sent,
                        })
                    })
                    .collect()
            }

            async fn save_discussion(
                &self,
                (meeting_id, case_id): (i64, i64),
                discussion: &$crate::DiscussionRecord,
                outcome: marac_domain::meeting_rules::CaseOutcome,
                by: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let version: Option<(i64,)> = sqlx::query_as(
                    "UPDATE meeting_cases SET discussion_sealed = $1, outcome = $2, updated_by = $3, updated_at = $4, \
                     child_voice_recorded = $7, discussion_version = discussion_version + 1 \
                     WHERE meeting_id = $5 AND case_id = $6 AND (CAST($8 AS BIGINT) IS NULL OR discussion_version = $8) \
                     RETURNING discussion_version",
                )
                .bind(&discussion.sealed)
                .bind(outcome.code())
                .bind(by)
                .bind(at)
                .bind(meeting_id)
                .bind(case_id)
                .bind(discussion.child_voice_recorded)
                .bind(discussion.saved_version)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((version,)) = version else {
                    let listed: Option<(i64,)> =
                        sqlx::query_as("SELECT discussion_version FROM meeting_cases WHERE meeting_id = $1 AND case_id = $2")
                            .bind(meeting_id)
                            .bind(case_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    return Err(match listed {
                        None => $crate::StoreError::NotFound,
                        // Another save came first.
                        Some(_) => $crate::StoreError::Conflict { constraint: "meeting_cases.discussion_version".into() },
                    });
                };
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(version)
            }

            async fn add_action(
                &self,
                a: &$crate::NewAction,
                by: i64,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO actions (case_id, meeting_id, agency_id, owner_name, subject, approach, description_sealed, \
                     due_on, status, created_by, created_at, kind) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11) RETURNING id",
                )
                .bind(a.case_id)
                .bind(a.meeting_id)
                .bind(a.agency_id)
                .bind(&a.owner_name)
                .bind(a.subject.code())
                .bind(a.approach.map(|p| p.code()))
                .bind(&a.description_sealed)
                .bind($crate::meeting_rows::day(a.due_on))
                .bind(by)
                .bind(at)
                .bind(a.kind.code())
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO action_events (action_id, status, by_user_id, at) VALUES ($1, 'open', $2, $3)")
                    .bind(id)
                    .bind(by)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                let mut audit = audit;
                audit.target = format!("action:{id}");
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn get_action(&self, id: i64) -> $crate::StoreResult<$crate::ActionRecord> {
                let sql = format!(
                    "SELECT {} FROM actions a JOIN meetings m ON m.id = a.meeting_id WHERE a.id = $1",
                    $crate::meeting_rows::ACTION_COLUMNS
                );
                let row: $crate::meeting_rows::ActionRow =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?;
                row.into_action()
            }

            async fn list_actions(&self, f: &$crate::ActionFilter) -> $crate::StoreResult<Vec<$crate::ActionRecord>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM actions a JOIN meetings m ON m.id = a.meeting_id WHERE 1 = 1",
                    $crate::meeting_rows::ACTION_COLUMNS
                ));
                if let Some(a) = f.agency_id {
                    q.push(" AND a.agency_id = ").push_bind(a);
                }
                if let Some(c) = f.case_id {
                    q.push(" AND a.case_id = ").push_bind(c);
                }
                if let Some(m) = f.meeting_id {
                    q.push(" AND a.meeting_id = ").push_bind(m);
                }
                if let Some(ids) = &f.marac_ids {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    q.push(" AND m.marac_id IN (");
                    let mut list = q.separated(", ");
                    for id in ids {
                        list.push_bind(*id);
                    }
                    list.push_unseparated(")");
                }
                if f.outstanding_only {
                    q.push(" AND a.status IN ('open', 'carried_forward')");
                }
                q.push(" ORDER BY a.due_on, a.id LIMIT ").push_bind(f.limit);
                let rows: Vec<$crate::meeting_rows::ActionRow> = q.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::meeting_rows::ActionRow::into_action).collect()
            }

            async fn report_action(
                &self,
                id: i64,
                e: &$crate::ActionEvent,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE actions SET status = $1, status_reason = $2, status_reported_at = $3 WHERE id = $4",
                )
                .bind(e.status.code())
                .bind(e.reason.map(|r| r.code()))
                .bind(e.at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Self::found(r)?;
                sqlx::query(
                    "INSERT INTO action_events (action_id, status, reason, note_sealed, by_user_id, at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(e.status.code())
                .bind(e.reason.map(|r| r.code()))
                .bind(e.note_sealed.as_deref())
                .bind(e.by_user_id)
                .bind(e.at)
                .execute(&mut *tx)
                .await?;
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn action_events(&self, id: i64) -> $crate::StoreResult<Vec<$crate::ActionEvent>> {
                let rows: Vec<$crate::meeting_rows::ActionEventRow> = sqlx::query_as(
                    "SELECT status, reason, note_sealed, by_user_id, at FROM action_events WHERE action_id = $1 ORDER BY at, id",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::meeting_rows::ActionEventRow::into_event).collect()
            }

            async fn has_real_partnerships(&self) -> $crate::StoreResult<bool> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM partnerships WHERE is_demo = $1")
                    .bind(false)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n > 0)
            }
        }
    };
}

pub(crate) use impl_store;
