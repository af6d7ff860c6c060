//! The queries of [`crate::KeyStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::This;

/// Whether the error says a table does not exist (SQLite's message, PostgreSQL's 42P01).
pub(crate) fn missing_table(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().as_deref() == Some("42P01") || db.message().starts_with("no such table"),
        _ => false,
    }
}

/// An empty answer when the table is not there yet.
pub(crate) fn or_empty<T: Default>(r: Result<T, sqlx::Error>) -> crate::StoreResult<T> {
    match r {
        Err(e) if missing_table(&e) => Ok(T::default()),
        other => Ok(other?),
    }
}

#[async_trait::async_trait]
impl crate::KeyStore for This {
    async fn key_checks(&self) -> crate::StoreResult<Vec<crate::KeyCheck>> {
        let rows: Vec<(String, i64, String)> = or_empty(
            sqlx::query_as("SELECT purpose, key_id, check_value FROM key_checks ORDER BY purpose, key_id")
                .fetch_all(&self.pool)
                .await,
        )?;
        rows.into_iter()
            .map(|(purpose, key_id, check_value)| {
                let corrupt = || crate::StoreError::Corrupt(format!("key check {purpose}/{key_id}"));
                Ok(crate::KeyCheck {
                    purpose: crate::KeyPurpose::from_code(&purpose).ok_or_else(corrupt)?,
                    key_id: u32::try_from(key_id).map_err(|_| corrupt())?,
                    check_value,
                })
            })
            .collect()
    }

    async fn record_key_checks(
        &self,
        checks: &[crate::KeyCheck],
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let at = crate::Ts::new(audit.at);
        let mut added = 0;
        for c in checks {
            added += sqlx::query(
                "INSERT INTO key_checks (purpose, key_id, check_value, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (purpose, key_id) DO NOTHING",
            )
            .bind(c.purpose.code())
            .bind(i64::from(c.key_id))
            .bind(&c.check_value)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        // Another server recording the same keys at the same moment adds nothing, and
        // nothing is recorded in the trail for it.
        if added > 0 {
            Self::append_in(&mut tx, &self.audit_key, audit).await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    async fn holds_data(&self) -> crate::StoreResult<bool> {
        let (events,): (i64,) = or_empty(
            sqlx::query_as("SELECT COUNT(*) FROM (SELECT 1 FROM audit_events LIMIT 1) e").fetch_one(&self.pool).await,
        )?;
        let (users,): (i64,) = or_empty(
            sqlx::query_as("SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) u").fetch_one(&self.pool).await,
        )?;
        Ok(events + users > 0)
    }

    async fn sealed_samples(&self, limit: i64) -> crate::StoreResult<Vec<crate::SealedSample>> {
        let people: Vec<(String,)> = or_empty(
            sqlx::query_as("SELECT details_sealed FROM people ORDER BY id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(&self.pool)
                .await,
        )?;
        let secrets: Vec<(i64, String)> = or_empty(
            sqlx::query_as("SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(&self.pool)
                .await,
        )?;
        Ok(people
            .into_iter()
            .map(|(sealed,)| crate::SealedSample::Person { sealed })
            .chain(secrets.into_iter().map(|(user_id, sealed)| crate::SealedSample::TotpSecret { user_id, sealed }))
            .collect())
    }
}
