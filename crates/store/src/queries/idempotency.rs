//! The queries of [`crate::IdempotencyStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

impl This {
    /// Records, inside a change's own transaction, that the idempotent request `mark`
    /// made it; refuses the change if another request has taken the key over.
    pub(super) async fn idempotency_mark_in(
        conn: &mut <Db as sqlx::Database>::Connection,
        mark: &marac_domain::idempotency::IdempotencyMark,
        target: &str,
    ) -> crate::StoreResult<()> {
        // The first change a request makes is its outcome; later ones keep it.
        let r = sqlx::query(
            "UPDATE idempotency_keys SET outcome = COALESCE(outcome, $1) WHERE scope = $2 AND request_id = $3",
        )
        .bind(target)
        .bind(&mark.scope)
        .bind(&mark.request_id)
        .execute(&mut *conn)
        .await?;
        if r.rows_affected() == 1 {
            Ok(())
        } else {
            Err(crate::StoreError::Conflict { constraint: "idempotency_keys.request_id".into() })
        }
    }
}

#[async_trait::async_trait]
impl crate::IdempotencyStore for This {
    async fn claim_idempotency(&self, c: &crate::IdempotencyClaim) -> crate::StoreResult<crate::ClaimOutcome> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, user_id, fingerprint, request_id, lease_until, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope) DO NOTHING",
        )
        .bind(&c.scope)
        .bind(c.user_id)
        .bind(&c.fingerprint)
        .bind(&c.request_id)
        .bind(c.lease_until)
        .bind(c.now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            tx.commit().await?;
            return Ok(crate::ClaimOutcome::Claimed);
        }
        let sql = format!(
            "SELECT fingerprint, lease_until, outcome, status, response_sealed, created_at \
             FROM idempotency_keys WHERE scope = $1{}",
            Self::LOCK_ROW
        );
        let (fingerprint, lease_until, outcome, status, response, created_at): (
            String,
            crate::Ts,
            Option<String>,
            Option<i64>,
            Option<String>,
            crate::Ts,
        ) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&c.scope).fetch_one(&mut *tx).await?;
        let found = if created_at < c.forget_before {
            // A key older than its lifetime is forgotten: this is a new request.
            sqlx::query(
                "UPDATE idempotency_keys SET fingerprint = $2, request_id = $3, lease_until = $4, \
                 outcome = NULL, status = NULL, response_sealed = NULL, created_at = $5 WHERE scope = $1",
            )
            .bind(&c.scope)
            .bind(&c.fingerprint)
            .bind(&c.request_id)
            .bind(c.lease_until)
            .bind(c.now)
            .execute(&mut *tx)
            .await?;
            crate::ClaimOutcome::Claimed
        } else if fingerprint != c.fingerprint {
            crate::ClaimOutcome::Mismatch
        } else if let (Some(status), Some(response_sealed)) = (status, response) {
            let status = u16::try_from(status)
                .map_err(|_| crate::StoreError::Corrupt(format!("idempotent response status {status}")))?;
            crate::ClaimOutcome::Answered { status, response_sealed, outcome }
        } else if lease_until > c.now {
            crate::ClaimOutcome::InFlight
        } else if let Some(outcome) = outcome {
            crate::ClaimOutcome::SavedUnanswered { outcome }
        } else {
            // Its server stopped before the work was saved: the work is this request's.
            sqlx::query("UPDATE idempotency_keys SET request_id = $2, lease_until = $3 WHERE scope = $1")
                .bind(&c.scope)
                .bind(&c.request_id)
                .bind(c.lease_until)
                .execute(&mut *tx)
                .await?;
            crate::ClaimOutcome::Claimed
        };
        tx.commit().await?;
        Ok(found)
    }

    async fn renew_idempotency(&self, scope: &str, request_id: &str, lease_until: crate::Ts) -> crate::StoreResult<()> {
        sqlx::query("UPDATE idempotency_keys SET lease_until = $1 WHERE scope = $2 AND request_id = $3")
            .bind(lease_until)
            .bind(scope)
            .bind(request_id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn answer_idempotency(
        &self,
        scope: &str,
        request_id: &str,
        status: u16,
        response_sealed: &str,
    ) -> crate::StoreResult<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, response_sealed = $2 WHERE scope = $3 AND request_id = $4",
        )
        .bind(i64::from(status))
        .bind(response_sealed)
        .bind(scope)
        .bind(request_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    async fn release_idempotency(&self, scope: &str, request_id: &str) -> crate::StoreResult<bool> {
        let r = sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND request_id = $2 AND outcome IS NULL")
            .bind(scope)
            .bind(request_id)
            .execute(self.writer())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn forget_idempotency(&self, before: crate::Ts) -> crate::StoreResult<u64> {
        let r = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(self.writer())
            .await?;
        Ok(r.rows_affected())
    }
}
