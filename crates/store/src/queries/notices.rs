//! The queries of [`crate::NoticeStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

impl This {
    /// Adds notices within a transaction, each once per reader and event (`dedupe_key`), with
    /// an e-mail in the outbox for those that carry an address; returns how many were new.
    pub(super) async fn add_notices_in(
        conn: &mut <Db as sqlx::Database>::Connection,
        notices: &[crate::NewNotice],
        at: crate::Ts,
    ) -> crate::StoreResult<u64> {
        let mut added = 0;
        for n in notices {
            let id: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO notices (user_id, kind, link, dedupe_key, created_at, about) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id",
            )
            .bind(n.user_id)
            .bind(n.kind.code())
            .bind(&n.link)
            .bind(&n.dedupe_key)
            .bind(at)
            .bind(&n.about)
            .fetch_optional(&mut *conn)
            .await?;
            let Some((id,)) = id else { continue };
            added += 1;
            if let Some(to) = &n.email_to {
                sqlx::query(
                    "INSERT INTO outbox (notice_id, kind, to_address, created_at, next_attempt_at, about) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
                )
                .bind(id)
                .bind(n.kind.code())
                .bind(to)
                .bind(at)
                .bind(&n.about)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(added)
    }
}

#[async_trait::async_trait]
impl crate::NoticeStore for This {
    async fn add_notices(&self, notices: &[crate::NewNotice], at: crate::Ts) -> crate::StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let added = Self::add_notices_in(&mut tx, notices, at).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn list_notices(&self, user_id: i64, limit: i64) -> crate::StoreResult<Vec<crate::Notice>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(
            "SELECT id, user_id, kind, link, about, created_at, read_at FROM notices WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(notice_row).collect()
    }

    async fn open_notice(&self, id: i64, user_id: i64, at: crate::Ts) -> crate::StoreResult<crate::Notice> {
        sqlx::query("UPDATE notices SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL")
            .bind(at)
            .bind(id)
            .bind(user_id)
            .execute(self.writer())
            .await?;
        let row: NoticeRow = sqlx::query_as(
            "SELECT id, user_id, kind, link, about, created_at, read_at FROM notices WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user_id)
        .fetch_one(self.writer())
        .await?;
        notice_row(row)
    }

    async fn count_unread(&self, user_id: i64) -> crate::StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notices WHERE user_id = $1 AND read_at IS NULL")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    async fn claim_outbox(
        &self,
        worker: &str,
        now: crate::Ts,
        lease_until: crate::Ts,
        limit: i64,
    ) -> crate::StoreResult<Vec<crate::OutboxMessage>> {
        let mut tx = self.begin_write().await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(Self::CLAIM_OUTBOX)
            .bind(worker)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut messages = rows.into_iter().map(OutboxRow::into_message).collect::<crate::StoreResult<Vec<_>>>()?;
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    async fn finish_outbox(
        &self,
        id: i64,
        worker: &str,
        delivery: &crate::Delivery,
        at: crate::Ts,
    ) -> crate::StoreResult<()> {
        let (sql, when, error) = match delivery {
            crate::Delivery::Sent => (
                "UPDATE outbox SET sent_at = $1, claimed_until = NULL, last_error = $4 \
             WHERE id = $2 AND claimed_by = $3 AND sent_at IS NULL",
                at,
                None,
            ),
            crate::Delivery::Retry { at: retry_at, error } => (
                "UPDATE outbox SET next_attempt_at = $1, claimed_until = NULL, last_error = $4 \
             WHERE id = $2 AND claimed_by = $3 AND sent_at IS NULL",
                *retry_at,
                Some(error.as_str()),
            ),
            crate::Delivery::GiveUp { error } => (
                "UPDATE outbox SET failed_at = $1, claimed_until = NULL, last_error = $4 \
             WHERE id = $2 AND claimed_by = $3 AND sent_at IS NULL",
                at,
                Some(error.as_str()),
            ),
        };
        sqlx::query(sql).bind(when).bind(id).bind(worker).bind(error).execute(self.writer()).await?;
        Ok(())
    }

    async fn list_outbox(&self, limit: i64) -> crate::StoreResult<Vec<crate::OutboxMessage>> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT id, notice_id, kind, about, to_address, attempts, sent_at, failed_at, last_error FROM outbox \
         ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(OutboxRow::into_message).collect()
    }
}

/// An outbox row as both backends return it.
#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: i64,
    notice_id: i64,
    kind: String,
    about: String,
    to_address: String,
    attempts: i64,
    sent_at: Option<crate::Ts>,
    failed_at: Option<crate::Ts>,
    last_error: Option<String>,
}

impl OutboxRow {
    pub(crate) fn into_message(self) -> crate::StoreResult<crate::OutboxMessage> {
        Ok(crate::OutboxMessage {
            id: self.id,
            notice_id: self.notice_id,
            kind: notice_kind(&self.kind)?,
            about: self.about,
            to_address: self.to_address,
            attempts: self.attempts,
            sent_at: self.sent_at,
            failed_at: self.failed_at,
            last_error: self.last_error,
        })
    }
}

/// The kind stored as `code`.
pub(crate) fn notice_kind(code: &str) -> crate::StoreResult<marac_domain::notices::NoticeKind> {
    marac_domain::notices::NoticeKind::from_code(code)
        .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown notice kind '{code}'")))
}

/// A notice row: id, reader, kind, link, about, created, read.
pub(crate) type NoticeRow = (i64, i64, String, String, String, crate::Ts, Option<crate::Ts>);

pub(crate) fn notice_row(
    (id, user_id, kind, link, about, created_at, read_at): NoticeRow,
) -> crate::StoreResult<crate::Notice> {
    Ok(crate::Notice { id, user_id, kind: notice_kind(&kind)?, link, about, created_at, read_at })
}
