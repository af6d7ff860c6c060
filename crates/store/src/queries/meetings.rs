//! The queries of [`crate::MeetingStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};
use marac_domain::case_stage::CaseEvent;

impl This {
    pub(super) async fn invite_in(
        conn: &mut <Db as sqlx::Database>::Connection,
        meeting_id: i64,
        agency_ids: &[i64],
    ) -> crate::StoreResult<()> {
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

    pub(super) async fn invited(&self, meeting_id: i64) -> crate::StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT agency_id FROM meeting_agencies WHERE meeting_id = $1 ORDER BY agency_id")
                .bind(meeting_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }

    /// `Conflict` unless the meeting is in one of `allowed`; `NotFound` if there is none.
    pub(super) async fn meeting_status_in(
        conn: &mut <Db as sqlx::Database>::Connection,
        meeting_id: i64,
        allowed: &[&str],
    ) -> crate::StoreResult<()> {
        let (status,): (String,) =
            sqlx::query_as("SELECT status FROM meetings WHERE id = $1").bind(meeting_id).fetch_one(&mut *conn).await?;
        if allowed.contains(&status.as_str()) {
            Ok(())
        } else {
            Err(crate::StoreError::Conflict { constraint: "meetings.status".into() })
        }
    }
}

#[async_trait::async_trait]
impl crate::MeetingStore for This {
    async fn current_statement(&self, marac_id: i64) -> crate::StoreResult<Option<crate::ConfidentialityStatement>> {
        let row: Option<(i64, i64, i64, String, crate::Ts)> = sqlx::query_as(
            "SELECT id, marac_id, version, body, created_at FROM confidentiality_statements \
             WHERE marac_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(marac_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, marac_id, version, body, created_at)| crate::ConfidentialityStatement {
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
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
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
        meetings: &[crate::NewMeeting],
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<Vec<i64>> {
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
            .bind(crate::Day(m.held_on))
            .bind(&m.starts_at)
            .bind(m.closing_on.map(crate::Day))
            .bind(&m.location)
            .bind(m.chair_user_id)
            .bind(i64::from(m.capacity))
            .bind(m.list_cutoff_on.map(crate::Day))
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
        m: &crate::NewMeeting,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE meetings SET kind = $1, format = $2, held_on = $3, starts_at = $4, closing_on = $5, \
             location = $6, chair_user_id = $7, capacity = $8, list_cutoff_on = $9, updated_at = $10 \
             WHERE id = $11 AND status <> 'held'",
        )
        .bind(m.kind.code())
        .bind(m.format.code())
        .bind(crate::Day(m.held_on))
        .bind(&m.starts_at)
        .bind(m.closing_on.map(crate::Day))
        .bind(&m.location)
        .bind(m.chair_user_id)
        .bind(i64::from(m.capacity))
        .bind(m.list_cutoff_on.map(crate::Day))
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

    async fn get_meeting(&self, id: i64) -> crate::StoreResult<crate::Meeting> {
        let sql = format!("SELECT {} FROM meetings m WHERE m.id = $1", crate::meeting_rows::MEETING_COLUMNS);
        let row: crate::meeting_rows::MeetingRow =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?;
        let invited = self.invited(id).await?;
        row.into_meeting(invited)
    }

    async fn list_meetings(
        &self,
        marac_ids: &[i64],
        from: Option<time::Date>,
        limit: i64,
    ) -> crate::StoreResult<Vec<crate::Meeting>> {
        if marac_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM meetings m WHERE m.marac_id IN ({}) AND ($1 IS NULL OR m.held_on >= $1) \
             ORDER BY m.held_on, m.starts_at, m.id LIMIT ${}",
            crate::meeting_rows::MEETING_COLUMNS,
            crate::rows::placeholders(2, marac_ids.len()),
            marac_ids.len() + 2
        );
        let mut q =
            sqlx::query_as::<_, crate::meeting_rows::MeetingRow>(sqlx::AssertSqlSafe(sql)).bind(from.map(crate::Day));
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

    async fn waiting_cases(&self, marac_id: i64) -> crate::StoreResult<Vec<crate::WaitingCase>> {
        let rows: Vec<(i64, i64, String, crate::Ts, i64)> = sqlx::query_as(
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
            .map(|(case_id, referral_id, reference, accepted_at, children_count)| crate::WaitingCase {
                case_id,
                referral_id,
                reference,
                accepted_at,
                children_count,
            })
            .collect())
    }

    async fn meeting_cases(&self, meeting_id: i64) -> crate::StoreResult<Vec<crate::ListedCase>> {
        let sql = format!(
            "SELECT {} FROM meeting_cases mc LEFT JOIN referrals r ON r.id = mc.referral_id \
             WHERE mc.meeting_id = $1 ORDER BY mc.position, mc.case_id",
            crate::meeting_rows::LISTED_COLUMNS
        );
        let rows: Vec<crate::meeting_rows::ListedRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(meeting_id).fetch_all(&self.pool).await?;
        rows.into_iter().map(crate::meeting_rows::ListedRow::into_listed).collect()
    }

    async fn set_meeting_list(
        &self,
        meeting_id: i64,
        list: &[(i64, i64)],
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
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
                sqlx::query(
                    "DELETE FROM meeting_cases WHERE meeting_id = $1 AND case_id = $2 AND discussion_sealed IS NULL",
                )
                .bind(meeting_id)
                .bind(case_id)
                .execute(&mut *tx)
                .await?;
                Self::move_case_in(&mut tx, *case_id, CaseEvent::Unlisted, Some(meeting_id), audit.actor_user_id, at)
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
                Self::move_case_in(&mut tx, *case_id, CaseEvent::Listed, Some(meeting_id), audit.actor_user_id, at)
                    .await?;
            }
        }
        sqlx::query("UPDATE meetings SET updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(meeting_id)
            .execute(&mut *tx)
            .await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn publish_meeting(
        &self,
        meeting_id: i64,
        publication: &crate::Publication,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Self::meeting_status_in(&mut tx, meeting_id, &["planned"]).await?;
        sqlx::query("DELETE FROM meeting_agencies WHERE meeting_id = $1").bind(meeting_id).execute(&mut *tx).await?;
        Self::invite_in(&mut tx, meeting_id, &publication.invited_agency_ids).await?;
        sqlx::query("UPDATE meetings SET status = 'published', updated_at = $1, published_at = $1 WHERE id = $2")
            .bind(at)
            .bind(meeting_id)
            .execute(&mut *tx)
            .await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn close_meeting(
        &self,
        meeting_id: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Self::meeting_status_in(&mut tx, meeting_id, &["published"]).await?;
        sqlx::query("UPDATE meetings SET status = 'held', updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(meeting_id)
            .execute(&mut *tx)
            .await?;
        let heard: Vec<(i64,)> =
            sqlx::query_as("SELECT case_id FROM meeting_cases WHERE meeting_id = $1 AND outcome = 'heard'")
                .bind(meeting_id)
                .fetch_all(&mut *tx)
                .await?;
        for (case_id,) in heard {
            Self::move_case_in(&mut tx, case_id, CaseEvent::MeetingClosed, Some(meeting_id), audit.actor_user_id, at)
                .await?;
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn confirm_confidentiality(
        &self,
        meeting_id: i64,
        user_id: Option<i64>,
        observer_name: Option<&str>,
        statement_id: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let exists: Option<(i64, i64)> =
            match user_id {
                Some(u) => sqlx::query_as(
                    "SELECT id, statement_id FROM confidentiality_confirmations WHERE meeting_id = $1 AND user_id = $2",
                )
                .bind(meeting_id)
                .bind(u)
                .fetch_optional(&mut *tx)
                .await?,
                None => None,
            };
        let changed = match exists {
            Some((_, confirmed)) if confirmed == statement_id => false,
            // Confirmed before under an earlier version: this one replaces it.
            Some((id, _)) => {
                sqlx::query(
                    "UPDATE confidentiality_confirmations SET statement_id = $1, confirmed_at = $2 WHERE id = $3",
                )
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

    async fn confirmations(&self, meeting_id: i64) -> crate::StoreResult<Vec<crate::Confirmation>> {
        let rows: Vec<(Option<i64>, Option<String>, i64, crate::Ts)> = sqlx::query_as(
            "SELECT c.user_id, c.observer_name, s.version, c.confirmed_at FROM confidentiality_confirmations c \
             JOIN confidentiality_statements s ON s.id = c.statement_id WHERE c.meeting_id = $1 \
             ORDER BY c.confirmed_at, c.id",
        )
        .bind(meeting_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(user_id, observer_name, statement_version, confirmed_at)| crate::Confirmation {
                user_id,
                observer_name,
                statement_version,
                confirmed_at,
            })
            .collect())
    }

    async fn confirm_statement(
        &self,
        user_id: i64,
        statement_id: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
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

    async fn statement_confirmations(&self, user_id: i64) -> crate::StoreResult<Vec<crate::StatementConfirmation>> {
        let rows: Vec<(i64, i64, crate::Ts)> = sqlx::query_as(
            "SELECT s.marac_id, s.version, c.confirmed_at FROM statement_confirmations c \
             JOIN confidentiality_statements s ON s.id = c.statement_id WHERE c.user_id = $1 \
             ORDER BY s.marac_id, s.version DESC, c.confirmed_at DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut newest: Vec<crate::StatementConfirmation> = Vec::new();
        for (marac_id, version, confirmed_at) in rows {
            if newest.last().is_none_or(|n| n.marac_id != marac_id) {
                newest.push(crate::StatementConfirmation { marac_id, version, confirmed_at });
            }
        }
        Ok(newest)
    }

    async fn set_attendance(
        &self,
        meeting_id: i64,
        entries: &[crate::AttendanceEntry],
        by: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
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

    async fn attendance(&self, meeting_id: i64) -> crate::StoreResult<Vec<crate::AttendanceEntry>> {
        let rows: Vec<(Option<i64>, String, String, bool)> = sqlx::query_as(
            "SELECT agency_id, person_name, kind, information_sent FROM attendance WHERE meeting_id = $1 ORDER BY id",
        )
        .bind(meeting_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(agency_id, person_name, kind, information_sent)| {
                Ok(crate::AttendanceEntry {
                    agency_id,
                    person_name,
                    kind: marac_domain::meeting_rules::AttendanceKind::from_code(&kind)
                        .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown attendance {kind}")))?,
                    information_sent,
                })
            })
            .collect()
    }

    async fn save_discussion(
        &self,
        (meeting_id, case_id): (i64, i64),
        discussion: &crate::DiscussionRecord,
        outcome: marac_domain::meeting_rules::CaseOutcome,
        by: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
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
                None => crate::StoreError::NotFound,
                // Another save came first.
                Some(_) => crate::StoreError::Conflict { constraint: "meeting_cases.discussion_version".into() },
            });
        };
        let event = match outcome {
            marac_domain::meeting_rules::CaseOutcome::Listed => CaseEvent::Listed,
            marac_domain::meeting_rules::CaseOutcome::Heard => CaseEvent::Heard,
            marac_domain::meeting_rules::CaseOutcome::Deferred => CaseEvent::Deferred,
        };
        Self::move_case_in(&mut tx, case_id, event, Some(meeting_id), Some(by), at).await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(version)
    }
}
