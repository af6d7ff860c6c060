//! The queries of [`crate::AccountStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

impl This {
    pub(super) async fn role_rows(&self) -> crate::StoreResult<Vec<(i64, String, Option<i64>)>> {
        Ok(sqlx::query_as("SELECT user_id, role, marac_id FROM user_roles ORDER BY id").fetch_all(&self.pool).await?)
    }

    pub(super) async fn write_roles(
        conn: &mut <Db as sqlx::Database>::Connection,
        user_id: i64,
        grants: &[marac_domain::policy::Grant],
    ) -> crate::StoreResult<()> {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
        let mut seen = Vec::new();
        for g in grants {
            if seen.contains(g) {
                continue;
            }
            seen.push(*g);
            sqlx::query("INSERT INTO user_roles (user_id, role, marac_id) VALUES ($1, $2, $3)")
                .bind(user_id)
                .bind(g.role.code())
                .bind(g.marac_id)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    pub(super) async fn insert_session(
        conn: &mut <Db as sqlx::Database>::Connection,
        s: &crate::Session,
    ) -> crate::StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, stage, created_at, last_seen_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.id)
        .bind(s.user_id)
        .bind(s.stage.code())
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::AccountStore for This {
    async fn list_users(&self) -> crate::StoreResult<Vec<crate::User>> {
        let rows: Vec<crate::rows::UserRow> = sqlx::query_as(
            "SELECT id, email, name, agency_id, password_hash, disabled, totp_secret, is_demo FROM users ORDER BY name, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let roles = self.role_rows().await?;
        rows.into_iter().map(|r| r.into_user(&roles)).collect()
    }

    async fn users_holding(
        &self,
        roles: &[marac_domain::Role],
        marac_ids: &[i64],
    ) -> crate::StoreResult<Vec<crate::User>> {
        if roles.is_empty() || marac_ids.is_empty() {
            return Ok(Vec::new());
        }
        // A grant with no Marac holds the role for every Marac.
        let sql = format!(
            "SELECT id, email, name, agency_id, password_hash, disabled, totp_secret, is_demo FROM users \
             WHERE id IN (SELECT user_id FROM user_roles WHERE role IN ({}) AND (marac_id IS NULL OR marac_id IN ({}))) \
             ORDER BY name, id",
            crate::rows::placeholders(1, roles.len()),
            crate::rows::placeholders(1 + roles.len(), marac_ids.len()),
        );
        // Built from placeholders only; values are bound.
        let mut q = sqlx::query_as::<_, crate::rows::UserRow>(sqlx::AssertSqlSafe(sql));
        for r in roles {
            q = q.bind(r.code());
        }
        for m in marac_ids {
            q = q.bind(m);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut conn = self.pool.acquire().await?;
        let roles: Vec<(i64, String, Option<i64>)> = Self::rows_for_ids(
            &mut conn,
            "SELECT user_id, role, marac_id FROM user_roles WHERE user_id IN ({}) ORDER BY id",
            &ids,
        )
        .await?;
        rows.into_iter().map(|r| r.into_user(&roles)).collect()
    }

    async fn get_user(&self, id: i64) -> crate::StoreResult<crate::User> {
        let row: crate::rows::UserRow = sqlx::query_as(
            "SELECT id, email, name, agency_id, password_hash, disabled, totp_secret, is_demo FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let roles: Vec<(i64, String, Option<i64>)> =
            sqlx::query_as("SELECT user_id, role, marac_id FROM user_roles WHERE user_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        row.into_user(&roles)
    }

    async fn find_user_by_email(&self, email: &str) -> crate::StoreResult<Option<crate::User>> {
        let id: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM users WHERE email = $1").bind(email).fetch_optional(&self.pool).await?;
        match id {
            Some((id,)) => Ok(Some(self.get_user(id).await?)),
            None => Ok(None),
        }
    }

    async fn create_user(
        &self,
        user: &crate::NewUser,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO users (email, name, agency_id, password_hash, disabled, is_demo, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.agency_id)
        .bind(&user.password_hash)
        .bind(false)
        .bind(user.is_demo)
        .bind(crate::Ts::new(audit.at))
        .fetch_one(&mut *tx)
        .await?;
        Self::write_roles(&mut tx, id, &user.grants).await?;
        let mut audit = audit;
        audit.target = format!("user:{id}");
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_user(
        &self,
        id: i64,
        changes: &crate::UserChanges,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query("UPDATE users SET name = $1, agency_id = $2 WHERE id = $3")
            .bind(&changes.name)
            .bind(changes.agency_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Self::found(r)?;
        Self::write_roles(&mut tx, id, &changes.grants).await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_user_disabled(
        &self,
        id: i64,
        disabled: bool,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(disabled)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Self::found(r)?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_password_hash(&self, id: i64, password_hash: &str) -> crate::StoreResult<()> {
        let r = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(self.writer())
            .await?;
        Self::found(r)
    }

    async fn set_second_factor(
        &self,
        user_id: i64,
        totp_secret: &str,
        first_step: i64,
        recovery_code_hashes: &[String],
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = $2 WHERE id = $3")
            .bind(totp_secret)
            .bind(first_step)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        Self::found(r)?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for h in recovery_code_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(h)
                .execute(&mut *tx)
                .await?;
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_totp_step(&self, user_id: i64, step: i64) -> crate::StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(self.writer())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn use_recovery_code(&self, user_id: i64, code_hash: &str, at: crate::Ts) -> crate::StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(at)
        .bind(user_id)
        .bind(code_hash)
        .execute(self.writer())
        .await?;
        Ok(r.rows_affected() >= 1)
    }

    async fn unused_recovery_codes(&self, user_id: i64) -> crate::StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    async fn create_session(&self, s: &crate::Session) -> crate::StoreResult<()> {
        Self::insert_session(&mut *self.writer().acquire().await?, s).await
    }

    async fn replace_session(
        &self,
        old_id: &str,
        s: &crate::Session,
        audit: Option<marac_domain::audit::NewAuditEvent>,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(old_id).execute(&mut *tx).await?;
        Self::insert_session(&mut tx, s).await?;
        if let Some(audit) = audit {
            Self::append_in(&mut tx, &self.audit_key, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_session(&self, id: &str) -> crate::StoreResult<Option<crate::Session>> {
        let row: Option<crate::rows::SessionRow> = sqlx::query_as(
            "SELECT id, user_id, stage, created_at, last_seen_at, ip, user_agent FROM sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(crate::rows::SessionRow::into_session).transpose()
    }

    async fn touch_session(&self, id: &str, at: crate::Ts) -> crate::StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    async fn delete_session(
        &self,
        id: &str,
        audit: Option<marac_domain::audit::NewAuditEvent>,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if let Some(audit) = audit {
            Self::append_in(&mut tx, &self.audit_key, audit).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_user_sessions(&self, user_id: i64) -> crate::StoreResult<Vec<crate::Session>> {
        let rows: Vec<crate::rows::SessionRow> = sqlx::query_as(
            "SELECT id, user_id, stage, created_at, last_seen_at, ip, user_agent FROM sessions \
             WHERE user_id = $1 ORDER BY last_seen_at DESC, id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(crate::rows::SessionRow::into_session).collect()
    }

    async fn record_sign_in_failure(
        &self,
        account: &str,
        address: &str,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Old failures no longer count; dropping them keeps the table small.
        let stale = crate::Ts::new(at.0 - time::Duration::days(1));
        sqlx::query("DELETE FROM sign_in_failures WHERE at < $1").bind(stale).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO sign_in_failures (account, address, at) VALUES ($1, $2, $3)")
            .bind(account)
            .bind(address)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn count_sign_in_failures(
        &self,
        account: &str,
        address: &str,
        since: crate::Ts,
    ) -> crate::StoreResult<(u32, u32)> {
        let (by_account, by_address): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE account = $1 AND at >= $3), \
                    (SELECT COUNT(*) FROM sign_in_failures WHERE address = $2 AND at >= $3)",
        )
        .bind(account)
        .bind(address)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((u32::try_from(by_account).unwrap_or(u32::MAX), u32::try_from(by_address).unwrap_or(u32::MAX)))
    }

    async fn clear_sign_in_failures(&self, account: &str) -> crate::StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE account = $1").bind(account).execute(self.writer()).await?;
        Ok(())
    }

    async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(crate::Ts::new(audit.at))
        .fetch_one(&mut *tx)
        .await?;
        let mut audit = audit;
        audit.target = format!("api_token:{id}");
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn find_api_token(&self, token_hash: &str) -> crate::StoreResult<Option<crate::ApiToken>> {
        let row: Option<crate::rows::ApiTokenRow> =
            sqlx::query_as("SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Into::into))
    }

    async fn list_api_tokens(&self, user_id: i64) -> crate::StoreResult<Vec<crate::ApiToken>> {
        let rows: Vec<crate::rows::ApiTokenRow> = sqlx::query_as(
            "SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke_api_token(
        &self,
        id: i64,
        user_id: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r =
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(at)
                .bind(id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        Self::found(r)?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
