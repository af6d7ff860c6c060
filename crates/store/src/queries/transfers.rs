//! The queries of [`crate::TransferStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

#[derive(sqlx::FromRow)]
pub(crate) struct TransferRow {
    id: i64,
    case_id: i64,
    referral_id: i64,
    from_marac_id: i64,
    to_marac_id: i64,
    asked_by_marac: Option<i64>,
    asked_by: Option<i64>,
    asked_at: Option<crate::Ts>,
    decided_by: Option<i64>,
    decided_at: Option<crate::Ts>,
    outcome: Option<String>,
    created_at: crate::Ts,
}

pub(crate) const TRANSFER_COLUMNS: &str = "id, case_id, referral_id, from_marac_id, to_marac_id, asked_by_marac, \
     asked_by, asked_at, decided_by, decided_at, outcome, created_at";

impl TransferRow {
    pub(crate) fn into_transfer(self) -> crate::StoreResult<crate::CaseTransfer> {
        let outcome = match self.outcome {
            Some(code) => Some(
                crate::TransferOutcome::from_code(&code)
                    .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown transfer outcome {code}")))?,
            ),
            None => None,
        };
        Ok(crate::CaseTransfer {
            id: self.id,
            case_id: self.case_id,
            referral_id: self.referral_id,
            from_marac_id: self.from_marac_id,
            to_marac_id: self.to_marac_id,
            asked_by_marac: self.asked_by_marac,
            asked_by: self.asked_by,
            asked_at: self.asked_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            outcome,
            created_at: self.created_at,
        })
    }
}

#[async_trait::async_trait]
impl crate::TransferStore for This {
    async fn get_case_transfer(&self, id: i64) -> crate::StoreResult<crate::CaseTransfer> {
        let sql = format!("SELECT {} FROM case_transfers WHERE id = $1", TRANSFER_COLUMNS);
        let row: TransferRow = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?;
        row.into_transfer()
    }

    async fn case_transfer_for_referral(&self, referral_id: i64) -> crate::StoreResult<Option<crate::CaseTransfer>> {
        let sql = format!("SELECT {} FROM case_transfers WHERE referral_id = $1", TRANSFER_COLUMNS);
        let row: Option<TransferRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(referral_id).fetch_optional(&self.pool).await?;
        row.map(TransferRow::into_transfer).transpose()
    }

    async fn case_transfers(&self, case_id: i64) -> crate::StoreResult<Vec<crate::CaseTransfer>> {
        let sql = format!("SELECT {} FROM case_transfers WHERE case_id = $1 ORDER BY created_at, id", TRANSFER_COLUMNS);
        let rows: Vec<TransferRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_all(&self.pool).await?;
        rows.into_iter().map(TransferRow::into_transfer).collect()
    }

    async fn list_case_transfers(
        &self,
        marac_ids: &[i64],
        open_only: bool,
        limit: i64,
    ) -> crate::StoreResult<Vec<crate::CaseTransfer>> {
        if marac_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT {} FROM case_transfers WHERE (from_marac_id IN (",
            TRANSFER_COLUMNS
        ));
        let mut list = q.separated(", ");
        for id in marac_ids {
            list.push_bind(*id);
        }
        q.push(") OR to_marac_id IN (");
        let mut list = q.separated(", ");
        for id in marac_ids {
            list.push_bind(*id);
        }
        q.push("))");
        if open_only {
            q.push(" AND outcome IS NULL");
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(limit);
        let rows: Vec<TransferRow> = q.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(TransferRow::into_transfer).collect()
    }

    async fn ask_case_transfer(
        &self,
        id: i64,
        marac_id: i64,
        by: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE case_transfers SET asked_by_marac = $1, asked_by = $2, asked_at = $3 \
             WHERE id = $4 AND outcome IS NULL AND asked_by_marac IS NULL AND $1 IN (from_marac_id, to_marac_id)",
        )
        .bind(marac_id)
        .bind(by)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(crate::StoreError::Conflict { constraint: "case_transfers.asked_by_marac".into() });
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn decide_case_transfer(
        &self,
        id: i64,
        agree: bool,
        by: i64,
        at: crate::Ts,
        audit: Vec<marac_domain::audit::NewAuditEvent>,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let sql = format!("SELECT {} FROM case_transfers WHERE id = $1{}", TRANSFER_COLUMNS, Self::LOCK_ROW);
        let row: TransferRow = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut *tx).await?;
        let t = row.into_transfer()?;
        if !t.open() || t.asked_by_marac.is_none() {
            return Err(crate::StoreError::Conflict { constraint: "case_transfers.outcome".into() });
        }
        if agree {
            // The case moves only from the Marac that holds it now.
            let moved = sqlx::query("UPDATE cases SET marac_id = $1 WHERE id = $2 AND marac_id = $3")
                .bind(t.to_marac_id)
                .bind(t.case_id)
                .bind(t.from_marac_id)
                .execute(&mut *tx)
                .await?;
            if moved.rows_affected() == 0 {
                return Err(crate::StoreError::Conflict { constraint: "cases.marac_id".into() });
            }
            // Every referral of the receiving Marac waiting for this case joins it.
            sqlx::query(
                "UPDATE case_transfers SET outcome = 'moved', decided_by = $1, decided_at = $2 \
                 WHERE case_id = $3 AND to_marac_id = $4 AND from_marac_id = $5 AND outcome IS NULL",
            )
            .bind(by)
            .bind(at)
            .bind(t.case_id)
            .bind(t.to_marac_id)
            .bind(t.from_marac_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE referrals SET case_id = known_case_id, known_case_id = NULL, updated_at = $1 \
                 WHERE known_case_id = $2 AND marac_id = $3",
            )
            .bind(at)
            .bind(t.case_id)
            .bind(t.to_marac_id)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "UPDATE case_transfers SET outcome = 'refused', decided_by = $1, decided_at = $2 WHERE id = $3",
            )
            .bind(by)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        for event in audit {
            Self::append_in(&mut tx, &self.audit_key, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
