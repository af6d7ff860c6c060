//! The queries of [`crate::ResearchStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::This;

#[async_trait::async_trait]
impl crate::ResearchStore for This {
    async fn add_research_note(
        &self,
        n: &crate::NewResearchNote,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
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
    ) -> crate::StoreResult<Vec<crate::ResearchNote>> {
        let rows: Vec<crate::rows::NoteRow> = sqlx::query_as(
            "SELECT id, case_id, agency_id, author_user_id, kind, body_sealed, shared, created_at, shared_at \
             FROM research_notes WHERE case_id = $1 AND (shared = $2 OR agency_id = $3) ORDER BY created_at, id",
        )
        .bind(case_id)
        .bind(true)
        .bind(agency_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(crate::rows::NoteRow::into_note).collect()
    }

    async fn share_research_note(
        &self,
        case_id: i64,
        id: i64,
        agency_id: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
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
}
