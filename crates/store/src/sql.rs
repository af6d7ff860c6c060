//! The SQL both backends share, as one `Store` implementation instantiated per backend.
//!
//! SQLite (3.35+) and PostgreSQL agree on `$N` parameters, `RETURNING` and the statements
//! below, so the text is written once. Each backend type supplies `begin_write` (how a write
//! transaction takes its lock), `run_migrations` and `list_schema_columns`; nothing else
//! differs. Every mutation appends its audit event inside the same transaction.

use crate::{Session, SessionStage, StoreError, StoreResult, Ts};
use marac_domain::audit::{AuditEvent, NewAuditEvent};
use marac_domain::policy::Grant;
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
            }

            fn found(result: <$db as sqlx::Database>::QueryResult) -> $crate::StoreResult<()> {
                if result.rows_affected() == 0 { Err($crate::StoreError::NotFound) } else { Ok(()) }
            }
        }

        #[async_trait::async_trait]
        impl $crate::Store for $ty {
            fn backend(&self) -> $crate::Backend {
                Self::BACKEND
            }

            async fn migrate(&self) -> $crate::StoreResult<()> {
                self.run_migrations().await
            }

            async fn ping(&self) -> $crate::StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn schema_columns(&self) -> $crate::StoreResult<Vec<(String, String)>> {
                self.list_schema_columns().await
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
                const Q: &str = "SELECT id, partnership_id, code, name, area, adult_female_population, cadence, high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, recommended_cases_per_10k FROM maracs ORDER BY name, id";
                let rows: Vec<$crate::sql::MaracRow> = sqlx::query_as(Q).fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::sql::MaracRow::into_marac).collect()
            }

            async fn get_marac(&self, id: i64) -> $crate::StoreResult<$crate::Marac> {
                const Q: &str = "SELECT id, partnership_id, code, name, area, adult_female_population, cadence, high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, recommended_cases_per_10k FROM maracs WHERE id = $1";
                let row: $crate::sql::MaracRow = sqlx::query_as(Q).bind(id).fetch_one(&self.pool).await?;
                row.into_marac()
            }

            async fn find_marac_by_code(&self, code: &str) -> $crate::StoreResult<Option<$crate::Marac>> {
                const Q: &str = "SELECT id, partnership_id, code, name, area, adult_female_population, cadence, high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, recommended_cases_per_10k FROM maracs WHERE code = $1";
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
                     recommended_cases_per_10k, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
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
                     repeat_months = $10, meeting_capacity = $11, recommended_cases_per_10k = $12 WHERE id = $13 RETURNING id",
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
                    .execute(&self.pool)
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
                .execute(&self.pool)
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
                .execute(&self.pool)
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
                Self::insert_session(&mut *self.pool.acquire().await?, s).await
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
                    .execute(&self.pool)
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
                sqlx::query("DELETE FROM sign_in_failures WHERE account = $1").bind(account).execute(&self.pool).await?;
                Ok(())
            }

            async fn append_audit(&self, audit: marac_domain::audit::NewAuditEvent) -> $crate::StoreResult<()> {
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
