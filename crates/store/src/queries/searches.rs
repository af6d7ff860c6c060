//! The queries of [`crate::SearchStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::This;

#[async_trait::async_trait]
impl crate::SearchStore for This {
    async fn save_search(&self, s: &crate::SavedSearch) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO searches (id, session_id, user_id, terms_sealed, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.id)
        .bind(&s.session_id)
        .bind(s.user_id)
        .bind(&s.terms_sealed)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_search(&self, id: &str) -> crate::StoreResult<crate::SavedSearch> {
        let (id, session_id, user_id, terms_sealed, created_at): (String, String, i64, String, crate::Ts) =
            sqlx::query_as("SELECT id, session_id, user_id, terms_sealed, created_at FROM searches WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(crate::SavedSearch { id, session_id, user_id, terms_sealed, created_at })
    }

    async fn remove_searches_before(&self, before: crate::Ts) -> crate::StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM searches WHERE created_at < $1").bind(before).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
