//! The queries of [`crate::AgencyListStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

/// A list's row as read.
pub(crate) type ListRow = (i64, i64, i64, i64, crate::Ts, crate::Ts, Option<crate::Ts>, i64, i64);

/// The columns of [`ListRow`].
pub(crate) const LIST_COLUMNS: &str =
    "id, marac_id, agency_id, uploaded_by, uploaded_at, delete_after, deleted_at, row_count, linked_count";

pub(crate) fn into_list(r: ListRow) -> crate::AgencyList {
    let (id, marac_id, agency_id, uploaded_by, uploaded_at, delete_after, deleted_at, row_count, linked_count) = r;
    crate::AgencyList {
        id,
        marac_id,
        agency_id,
        uploaded_by,
        uploaded_at,
        delete_after,
        deleted_at,
        row_count,
        linked_count,
    }
}

#[async_trait::async_trait]
impl crate::AgencyListStore for This {
    async fn add_agency_list(
        &self,
        l: &crate::NewAgencyList,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO agency_lists (marac_id, agency_id, uploaded_by, uploaded_at, delete_after, row_count, \
             linked_count) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(l.marac_id)
        .bind(l.agency_id)
        .bind(l.uploaded_by)
        .bind(l.uploaded_at)
        .bind(l.delete_after)
        .bind(count(l.rows.len()))
        .bind(count(l.links.len()))
        .fetch_one(&mut *tx)
        .await?;
        for chunk in l.rows.chunks(1000) {
            let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO agency_list_rows (list_id, line, details_sealed) ");
            q.push_values(chunk, |mut b, (line, sealed)| {
                b.push_bind(id).push_bind(*line).push_bind(sealed.as_str());
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in l.links.chunks(500) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO social_care_links (list_id, case_id, referral_id, subject, status, opened_on, \
                 closed_on, score, recorded_at) ",
            );
            q.push_values(chunk, |mut b, k| {
                b.push_bind(id)
                    .push_bind(k.case_id)
                    .push_bind(k.referral_id)
                    .push_bind(k.subject.as_str())
                    .push_bind(if k.open { "open" } else { "closed" })
                    .push_bind(crate::Day(k.opened_on))
                    .push_bind(k.closed_on.map(crate::Day))
                    .push_bind(k.score)
                    .push_bind(l.uploaded_at);
            });
            q.build().execute(&mut *tx).await?;
        }
        let mut audit = audit;
        // The id exists only now; the event names it so the trail leads to the list.
        audit.target = format!("agency_list:{id}");
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn get_agency_list(&self, id: i64) -> crate::StoreResult<crate::AgencyList> {
        let sql = format!("SELECT {} FROM agency_lists WHERE id = $1", LIST_COLUMNS);
        // A constant column list; the id is bound.
        let row: ListRow = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?;
        Ok(into_list(row))
    }

    async fn agency_lists(&self, agency_id: i64) -> crate::StoreResult<Vec<crate::AgencyList>> {
        let sql = format!(
            "SELECT {} FROM agency_lists WHERE agency_id = $1 ORDER BY uploaded_at DESC, id DESC",
            LIST_COLUMNS
        );
        // A constant column list; the id is bound.
        let rows: Vec<ListRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(agency_id).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(into_list).collect())
    }

    async fn agency_list_rows(&self, id: i64) -> crate::StoreResult<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT line, details_sealed FROM agency_list_rows WHERE list_id = $1 ORDER BY line, id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn delete_agency_list(
        &self,
        id: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query("UPDATE agency_lists SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            return Err(crate::StoreError::NotFound);
        }
        sqlx::query("DELETE FROM agency_list_rows WHERE list_id = $1").bind(id).execute(&mut *tx).await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn expired_agency_lists(&self, now: crate::Ts) -> crate::StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM agency_lists WHERE deleted_at IS NULL AND delete_after <= $1 ORDER BY id")
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    async fn social_care_links(&self, case_id: i64) -> crate::StoreResult<Vec<crate::SocialCareLink>> {
        type Row = (i64, i64, i64, String, String, crate::Day, Option<crate::Day>, i64, crate::Ts);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.list_id, l.agency_id, s.referral_id, s.subject, s.status, s.opened_on, s.closed_on, \
             s.score, s.recorded_at FROM social_care_links s JOIN agency_lists l ON l.id = s.list_id \
             WHERE s.case_id = $1 ORDER BY s.recorded_at DESC, s.id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(list_id, agency_id, referral_id, subject, status, opened, closed, score, recorded_at)| {
                Ok(crate::SocialCareLink {
                    list_id,
                    agency_id,
                    link: crate::NewSocialCareLink {
                        case_id,
                        referral_id,
                        subject,
                        open: status == "open",
                        opened_on: opened.0,
                        closed_on: closed.map(time::Date::from),
                        score,
                    },
                    recorded_at,
                })
            })
            .collect()
    }
}
