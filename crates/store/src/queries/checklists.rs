//! The queries of [`crate::ChecklistStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::This;

#[async_trait::async_trait]
impl crate::ChecklistStore for This {
    async fn install_checklist(
        &self,
        c: &crate::ChecklistRecord,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT definition FROM checklists WHERE checklist_id = $1 AND version = $2")
                .bind(&c.checklist_id)
                .bind(&c.version)
                .fetch_optional(&mut *tx)
                .await?;
        match existing {
            Some((definition,)) if definition == c.definition => return Ok(false),
            Some(_) => return Err(crate::StoreError::Conflict { constraint: "checklists.version".into() }),
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
        .bind(crate::Ts::new(audit.at))
        .execute(&mut *tx)
        .await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_checklists(&self) -> crate::StoreResult<Vec<crate::ChecklistRecord>> {
        let rows: Vec<crate::rows::ChecklistRow> = sqlx::query_as(
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
    ) -> crate::StoreResult<Option<crate::ChecklistRecord>> {
        let row: Option<crate::rows::ChecklistRow> = sqlx::query_as(
            "SELECT checklist_id, version, title, source, question_count, definition FROM checklists \
             WHERE checklist_id = $1 AND version = $2",
        )
        .bind(checklist_id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Into::into))
    }
}
