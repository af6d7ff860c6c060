//! The queries of [`crate::AuditStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

impl This {
    /// Appends an audit event inside an open transaction, after taking the chain head's
    /// lock with the `UPDATE`, so concurrent appends queue rather than fork the chain.
    pub(super) async fn append_in(
        conn: &mut <Db as sqlx::Database>::Connection,
        key: &[u8],
        event: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        if let Some(mark) = &event.idempotency {
            Self::idempotency_mark_in(&mut *conn, mark, &event.target).await?;
        }
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq - 1, hash")
                .fetch_one(&mut *conn)
                .await?;
        let mut event = event;
        event.at = marac_domain::audit::to_micros(event.at);
        let notices = std::mem::take(&mut event.notices);
        let sealed = marac_domain::audit::seal(key, head_seq, &head_hash, event);
        sqlx::query(
            "INSERT INTO audit_events (seq, at, actor_user_id, actor_label, action, target, outcome, ip, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(sealed.seq)
        .bind(crate::Ts::new(sealed.event.at))
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
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&sealed.hash).execute(&mut *conn).await?;
        if !notices.is_empty() {
            Self::add_notices_in(&mut *conn, &notices, crate::Ts::new(sealed.event.at)).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::AuditStore for This {
    async fn append_audit(&self, audit: marac_domain::audit::NewAuditEvent) -> crate::StoreResult<()> {
        // An event on its own records a read, a refusal or a sign-in, not a change: it is
        // never the outcome of an idempotent request.
        let mut audit = audit;
        audit.idempotency = None;
        let mut tx = self.begin_write().await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_audit(&self, f: &crate::AuditFilter) -> crate::StoreResult<Vec<marac_domain::audit::AuditEvent>> {
        const Q: &str = "SELECT seq, at, actor_user_id, actor_label, action, target, outcome, ip, detail, prev_hash, hash FROM audit_events \
             WHERE ($1 IS NULL OR action LIKE $1 ESCAPE '\\') \
               AND ($2 IS NULL OR LOWER(actor_label) LIKE $2 ESCAPE '\\') \
               AND ($3 IS NULL OR outcome = $3) \
               AND ($4 IS NULL OR at >= $4) \
               AND ($5 IS NULL OR at < $5) \
               AND ($6 IS NULL OR seq < $6) \
             ORDER BY seq DESC LIMIT $7";
        let rows: Vec<crate::rows::AuditRow> = sqlx::query_as(Q)
            .bind(f.action_prefix.as_deref().map(|p| format!("{}%", crate::rows::like_escape(p))))
            .bind(f.actor_contains.as_deref().map(|p| format!("%{}%", crate::rows::like_escape(&p.to_lowercase()))))
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
    ) -> crate::StoreResult<Vec<marac_domain::audit::AuditEvent>> {
        const Q: &str = "SELECT seq, at, actor_user_id, actor_label, action, target, outcome, ip, detail, prev_hash, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2";
        let rows: Vec<crate::rows::AuditRow> =
            sqlx::query_as(Q).bind(after_seq).bind(limit).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn audit_head(&self) -> crate::StoreResult<(i64, String)> {
        Ok(sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?)
    }
}
