//! The queries of [`crate::DatabaseStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

impl This {
    pub(super) fn found(result: <Db as sqlx::Database>::QueryResult) -> crate::StoreResult<()> {
        if result.rows_affected() == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }
}

#[async_trait::async_trait]
impl crate::DatabaseStore for This {
    fn backend(&self) -> crate::Backend {
        Self::BACKEND
    }

    async fn migrate(&self) -> crate::StoreResult<()> {
        self.run_migrations().await?;
        // Cases from before stages were recorded get theirs from their records, once.
        crate::CaseStore::stage_unstaged_cases(self).await?;
        Ok(())
    }

    async fn ping(&self) -> crate::StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn probe_write(&self) -> crate::StoreResult<()> {
        // The new row is written before the old one is deleted, so the write needs room
        // of its own size beyond what the probe already holds, and leaves that much free.
        let mut tx = self.begin_write().await?;
        let old: Option<(i64,)> = sqlx::query_as("SELECT id FROM write_probe").fetch_optional(&mut *tx).await?;
        let id = if old.is_some_and(|(id,)| id == 1) { 2 } else { 1 };
        sqlx::query("INSERT INTO write_probe (id, at, filler) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(crate::Ts::new(time::OffsetDateTime::now_utc()))
            .bind(vec![0x5a_u8; 64 * 1024])
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM write_probe WHERE id <> $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn schema_columns(&self) -> crate::StoreResult<Vec<(String, String)>> {
        self.list_schema_columns().await
    }
}
