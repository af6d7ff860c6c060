//! The queries of [`crate::ActionStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};
use marac_domain::case_stage::CaseEvent;

#[derive(sqlx::FromRow)]
pub(crate) struct FlagRow {
    id: i64,
    case_id: i64,
    marac_id: i64,
    meeting_id: Option<i64>,
    agency_id: i64,
    kind: String,
    note_sealed: String,
    set_on: crate::Day,
    expires_on: crate::Day,
    set_by: Option<i64>,
    set_at: crate::Ts,
    ended_at: Option<crate::Ts>,
    ended_reason_sealed: Option<String>,
}

impl FlagRow {
    pub(crate) fn into_flag(self) -> crate::StoreResult<crate::CaseFlag> {
        let kind = marac_domain::flags::FlagKind::from_code(&self.kind)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown flag kind {}", self.kind)))?;
        Ok(crate::CaseFlag {
            id: self.id,
            marac_id: self.marac_id,
            flag: crate::NewFlag {
                case_id: self.case_id,
                meeting_id: self.meeting_id,
                agency_id: self.agency_id,
                kind,
                note_sealed: self.note_sealed,
                set_on: self.set_on.0,
                expires_on: self.expires_on.0,
                set_by: self.set_by.unwrap_or_default(),
                set_at: self.set_at,
            },
            ended_at: self.ended_at,
            ended_reason_sealed: self.ended_reason_sealed,
        })
    }
}

impl This {
    /// `select` over the actions the filter admits (with `a` the action and `m` its meeting).
    fn filtered_actions(select: &str, f: &crate::ActionFilter) -> sqlx::QueryBuilder<Db> {
        let mut q = sqlx::QueryBuilder::<Db>::new(select);
        q.push(" FROM actions a JOIN meetings m ON m.id = a.meeting_id WHERE 1 = 1");
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
            q.push(" AND ");
            super::cases::push_in(&mut q, "m.marac_id", ids);
        }
        if let Some(scope) = &f.tracked_by {
            q.push(" AND (");
            super::cases::push_in(&mut q, "m.marac_id", &scope.whole_maracs);
            if let Some(agency) = scope.agency_id {
                q.push(" OR (a.agency_id = ").push_bind(agency).push(" AND ");
                super::cases::push_in(&mut q, "m.marac_id", &scope.practitioner_maracs);
                q.push(")");
            }
            q.push(")");
        }
        if f.outstanding_only {
            q.push(" AND a.status IN ('open', 'carried_forward')");
        }
        match f.state {
            None => {}
            Some(crate::ActionState::Outstanding) => {
                q.push(" AND a.status IN ('open', 'carried_forward')");
            }
            Some(crate::ActionState::OverdueOn(day)) => {
                q.push(" AND a.status IN ('open', 'carried_forward') AND a.due_on < ").push_bind(crate::Day(day));
            }
            Some(crate::ActionState::Ended) => {
                q.push(" AND a.status NOT IN ('open', 'carried_forward')");
            }
        }
        if let Some(day) = f.due_by {
            q.push(" AND a.due_on <= ").push_bind(crate::Day(day));
        }
        if let Some(day) = f.agreed_before {
            q.push(" AND m.held_on < ").push_bind(crate::Day(day));
        }
        q
    }
}

#[async_trait::async_trait]
impl crate::ActionStore for This {
    async fn add_action(
        &self,
        a: &crate::NewAction,
        by: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
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
        .bind(crate::Day(a.due_on))
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
        Self::move_case_in(&mut tx, a.case_id, CaseEvent::ActionsChanged, None, Some(by), at).await?;
        let mut audit = audit;
        audit.target = format!("action:{id}");
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn get_action(&self, id: i64) -> crate::StoreResult<crate::ActionRecord> {
        let sql = format!(
            "SELECT {} FROM actions a JOIN meetings m ON m.id = a.meeting_id WHERE a.id = $1",
            crate::meeting_rows::ACTION_COLUMNS
        );
        let row: crate::meeting_rows::ActionRow =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?;
        row.into_action()
    }

    async fn list_actions(&self, f: &crate::ActionFilter) -> crate::StoreResult<Vec<crate::ActionRecord>> {
        let mut q = Self::filtered_actions(&format!("SELECT {}", crate::meeting_rows::ACTION_COLUMNS), f);
        q.push(" ORDER BY a.due_on, a.id LIMIT ").push_bind(f.limit);
        let rows: Vec<crate::meeting_rows::ActionRow> = q.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(crate::meeting_rows::ActionRow::into_action).collect()
    }

    async fn page_actions(
        &self,
        f: &crate::ActionFilter,
        page: marac_domain::paging::PageRequest,
    ) -> crate::StoreResult<marac_domain::paging::Page<crate::ActionRecord>> {
        let (total,): (i64,) =
            Self::filtered_actions("SELECT COUNT(*)", f).build_query_as().fetch_one(&self.pool).await?;
        let mut q = Self::filtered_actions(&format!("SELECT {}", crate::meeting_rows::ACTION_COLUMNS), f);
        // Outstanding actions first, the soonest due first; then the ended ones, latest due first.
        q.push(
            " ORDER BY CASE WHEN a.status IN ('open', 'carried_forward') THEN 0 ELSE 1 END, \
             CASE WHEN a.status IN ('open', 'carried_forward') THEN a.due_on END, a.due_on DESC, a.id LIMIT ",
        )
        .push_bind(page.limit())
        .push(" OFFSET ")
        .push_bind(page.offset());
        let rows: Vec<crate::meeting_rows::ActionRow> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(marac_domain::paging::Page {
            rows: rows.into_iter().map(crate::meeting_rows::ActionRow::into_action).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
            request: page,
        })
    }

    async fn report_action(
        &self,
        id: i64,
        e: &crate::ActionEvent,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r =
            sqlx::query("UPDATE actions SET status = $1, status_reason = $2, status_reported_at = $3 WHERE id = $4")
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
        let (case_id,): (i64,) =
            sqlx::query_as("SELECT case_id FROM actions WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
        Self::move_case_in(&mut tx, case_id, CaseEvent::ActionsChanged, None, e.by_user_id, e.at).await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn action_events(&self, id: i64) -> crate::StoreResult<Vec<crate::ActionEvent>> {
        let rows: Vec<crate::meeting_rows::ActionEventRow> = sqlx::query_as(
            "SELECT status, reason, note_sealed, by_user_id, at FROM action_events WHERE action_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(crate::meeting_rows::ActionEventRow::into_event).collect()
    }

    async fn case_action_events(&self, case_id: i64) -> crate::StoreResult<Vec<(i64, crate::ActionEvent)>> {
        let rows: Vec<(i64, String, Option<String>, Option<String>, Option<i64>, crate::Ts)> = sqlx::query_as(
            "SELECT e.action_id, e.status, e.reason, e.note_sealed, e.by_user_id, e.at FROM action_events e \
             JOIN actions a ON a.id = e.action_id WHERE a.case_id = $1 ORDER BY e.at, e.id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(action_id, status, reason, note_sealed, by_user_id, at)| {
                let row = crate::meeting_rows::ActionEventRow { status, reason, note_sealed, by_user_id, at };
                Ok((action_id, row.into_event()?))
            })
            .collect()
    }

    async fn add_flag(&self, f: &crate::NewFlag, audit: marac_domain::audit::NewAuditEvent) -> crate::StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO case_flags (case_id, meeting_id, agency_id, kind, note_sealed, set_on, expires_on, \
             set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(f.case_id)
        .bind(f.meeting_id)
        .bind(f.agency_id)
        .bind(f.kind.code())
        .bind(&f.note_sealed)
        .bind(crate::Day(f.set_on))
        .bind(crate::Day(f.expires_on))
        .bind(f.set_by)
        .bind(f.set_at)
        .fetch_one(&mut *tx)
        .await?;
        let mut audit = audit;
        // The id exists only now; the event names it so the trail leads to the flag.
        if let Ok(serde_json::Value::Object(mut detail)) = serde_json::from_str(&audit.detail) {
            detail.insert("flag".to_owned(), id.into());
            audit.detail = serde_json::Value::Object(detail).to_string();
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn list_flags(&self, f: &crate::FlagFilter) -> crate::StoreResult<Vec<crate::CaseFlag>> {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT f.id, f.case_id, c.marac_id, f.meeting_id, f.agency_id, f.kind, f.note_sealed, f.set_on, \
             f.expires_on, f.set_by, f.set_at, f.ended_at, f.ended_reason_sealed \
             FROM case_flags f JOIN cases c ON c.id = f.case_id WHERE 1 = 1",
        );
        if let Some(c) = f.case_id {
            q.push(" AND f.case_id = ").push_bind(c);
        }
        if let Some(m) = f.marac_id {
            q.push(" AND c.marac_id = ").push_bind(m);
        }
        if let Some(m) = f.meeting_id {
            q.push(" AND f.meeting_id = ").push_bind(m);
        }
        if f.running_only {
            q.push(" AND f.ended_at IS NULL");
        }
        q.push(" ORDER BY f.expires_on, f.id");
        let rows: Vec<FlagRow> = q.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(FlagRow::into_flag).collect()
    }

    async fn end_flag(
        &self,
        id: i64,
        by: i64,
        reason_sealed: &str,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE case_flags SET ended_at = $1, ended_by = $2, ended_reason_sealed = $3 \
             WHERE id = $4 AND ended_at IS NULL",
        )
        .bind(at)
        .bind(by)
        .bind(reason_sealed)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(crate::StoreError::NotFound);
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
