//! The queries of [`crate::OrganisationStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

impl This {
    pub(super) async fn write_agency_maracs(
        conn: &mut <Db as sqlx::Database>::Connection,
        agency_id: i64,
        marac_ids: &[i64],
    ) -> crate::StoreResult<()> {
        sqlx::query("DELETE FROM agency_maracs WHERE agency_id = $1").bind(agency_id).execute(&mut *conn).await?;
        let mut ids = marac_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for m in ids {
            sqlx::query("INSERT INTO agency_maracs (agency_id, marac_id) VALUES ($1, $2)")
                .bind(agency_id)
                .bind(m)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Binds a Marac's twelve columns, in table order, to `$1`..`$12`.
    pub(super) fn bind_marac<'q, O>(
        q: sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments>,
        input: &'q crate::MaracInput,
    ) -> sqlx::query::QueryAs<'q, Db, O, <Db as sqlx::Database>::Arguments> {
        let r = &input.rules;
        q.bind(input.partnership_id)
            .bind(&input.code)
            .bind(&input.name)
            .bind(&input.area)
            .bind(input.adult_female_population)
            .bind(input.cadence.code())
            .bind(i64::from(r.high_risk_threshold))
            .bind(i64::from(r.escalation_incidents))
            .bind(i64::from(r.escalation_months))
            .bind(i64::from(r.repeat_months))
            .bind(i64::from(r.meeting_capacity))
            .bind(i64::from(r.recommended_cases_per_10k))
            .bind(i64::from(r.list_cutoff_days))
            .bind(i64::from(r.flag_months))
            .bind(r.research_opens.code())
    }
}

#[async_trait::async_trait]
impl crate::OrganisationStore for This {
    async fn list_partnerships(&self) -> crate::StoreResult<Vec<crate::Partnership>> {
        let rows: Vec<(i64, String, String, bool)> =
            sqlx::query_as("SELECT id, code, name, is_demo FROM partnerships ORDER BY name, id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id, code, name, is_demo)| crate::Partnership { id, code, name, is_demo }).collect())
    }

    async fn get_partnership(&self, id: i64) -> crate::StoreResult<crate::Partnership> {
        let (id, code, name, is_demo): (i64, String, String, bool) =
            sqlx::query_as("SELECT id, code, name, is_demo FROM partnerships WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(crate::Partnership { id, code, name, is_demo })
    }

    async fn find_partnership_by_code(&self, code: &str) -> crate::StoreResult<Option<crate::Partnership>> {
        let row: Option<(i64, String, String, bool)> =
            sqlx::query_as("SELECT id, code, name, is_demo FROM partnerships WHERE code = $1")
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, code, name, is_demo)| crate::Partnership { id, code, name, is_demo }))
    }

    async fn create_partnership(
        &self,
        input: &crate::PartnershipInput,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO partnerships (code, name, is_demo, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&input.code)
        .bind(&input.name)
        .bind(input.is_demo)
        .bind(crate::Ts::new(audit.at))
        .fetch_one(&mut *tx)
        .await?;
        let mut audit = audit;
        audit.target = format!("partnership:{id}");
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_partnership(
        &self,
        id: i64,
        input: &crate::PartnershipInput,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query("UPDATE partnerships SET code = $1, name = $2 WHERE id = $3")
            .bind(&input.code)
            .bind(&input.name)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Self::found(r)?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_maracs(&self) -> crate::StoreResult<Vec<crate::Marac>> {
        const Q: &str = "SELECT id, partnership_id, code, name, area, adult_female_population, cadence, high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, recommended_cases_per_10k, list_cutoff_days, flag_months, research_opens FROM maracs ORDER BY name, id";
        let rows: Vec<crate::rows::MaracRow> = sqlx::query_as(Q).fetch_all(&self.pool).await?;
        rows.into_iter().map(crate::rows::MaracRow::into_marac).collect()
    }

    async fn get_marac(&self, id: i64) -> crate::StoreResult<crate::Marac> {
        const Q: &str = "SELECT id, partnership_id, code, name, area, adult_female_population, cadence, high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, recommended_cases_per_10k, list_cutoff_days, flag_months, research_opens FROM maracs WHERE id = $1";
        let row: crate::rows::MaracRow = sqlx::query_as(Q).bind(id).fetch_one(&self.pool).await?;
        row.into_marac()
    }

    async fn find_marac_by_code(&self, code: &str) -> crate::StoreResult<Option<crate::Marac>> {
        const Q: &str = "SELECT id, partnership_id, code, name, area, adult_female_population, cadence, high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, recommended_cases_per_10k, list_cutoff_days, flag_months, research_opens FROM maracs WHERE code = $1";
        let row: Option<crate::rows::MaracRow> = sqlx::query_as(Q).bind(code).fetch_optional(&self.pool).await?;
        row.map(crate::rows::MaracRow::into_marac).transpose()
    }

    async fn create_marac(
        &self,
        input: &crate::MaracInput,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = Self::bind_marac(
            sqlx::query_as(
                "INSERT INTO maracs (partnership_id, code, name, area, adult_female_population, cadence, \
             high_risk_threshold, escalation_incidents, escalation_months, repeat_months, meeting_capacity, \
             recommended_cases_per_10k, list_cutoff_days, flag_months, research_opens, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
            ),
            input,
        )
        .bind(crate::Ts::new(audit.at))
        .fetch_one(&mut *tx)
        .await?;
        let mut audit = audit;
        audit.target = format!("marac:{id}");
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_marac(
        &self,
        id: i64,
        input: &crate::MaracInput,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let updated: Option<(i64,)> = Self::bind_marac(
            sqlx::query_as(
                "UPDATE maracs SET partnership_id = $1, code = $2, name = $3, area = $4, adult_female_population = $5, \
             cadence = $6, high_risk_threshold = $7, escalation_incidents = $8, escalation_months = $9, \
             repeat_months = $10, meeting_capacity = $11, recommended_cases_per_10k = $12, list_cutoff_days = $13, \
             flag_months = $14, research_opens = $15 WHERE id = $16 RETURNING id",
            ),
            input,
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        updated.ok_or(crate::StoreError::NotFound)?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_agencies(&self) -> crate::StoreResult<Vec<crate::Agency>> {
        let rows: Vec<crate::rows::AgencyRow> =
            sqlx::query_as("SELECT id, partnership_id, code, name, category FROM agencies ORDER BY name, id")
                .fetch_all(&self.pool)
                .await?;
        let links: Vec<(i64, i64)> = sqlx::query_as("SELECT agency_id, marac_id FROM agency_maracs ORDER BY marac_id")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(|r| r.into_agency(&links)).collect()
    }

    async fn get_agency(&self, id: i64) -> crate::StoreResult<crate::Agency> {
        let row: crate::rows::AgencyRow =
            sqlx::query_as("SELECT id, partnership_id, code, name, category FROM agencies WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        let links: Vec<(i64, i64)> =
            sqlx::query_as("SELECT agency_id, marac_id FROM agency_maracs WHERE agency_id = $1 ORDER BY marac_id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        row.into_agency(&links)
    }

    async fn find_agency_by_code(&self, code: &str) -> crate::StoreResult<Option<crate::Agency>> {
        let id: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM agencies WHERE code = $1").bind(code).fetch_optional(&self.pool).await?;
        match id {
            Some((id,)) => Ok(Some(self.get_agency(id).await?)),
            None => Ok(None),
        }
    }

    async fn create_agency(
        &self,
        input: &crate::AgencyInput,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO agencies (partnership_id, code, name, category, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(input.partnership_id)
        .bind(&input.code)
        .bind(&input.name)
        .bind(input.category.code())
        .bind(crate::Ts::new(audit.at))
        .fetch_one(&mut *tx)
        .await?;
        Self::write_agency_maracs(&mut tx, id, &input.marac_ids).await?;
        let mut audit = audit;
        audit.target = format!("agency:{id}");
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_agency(
        &self,
        id: i64,
        input: &crate::AgencyInput,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r =
            sqlx::query("UPDATE agencies SET partnership_id = $1, code = $2, name = $3, category = $4 WHERE id = $5")
                .bind(input.partnership_id)
                .bind(&input.code)
                .bind(&input.name)
                .bind(input.category.code())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        Self::found(r)?;
        Self::write_agency_maracs(&mut tx, id, &input.marac_ids).await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_directory(&self) -> crate::StoreResult<Vec<crate::DirectoryEntry>> {
        let rows: Vec<crate::rows::DirectoryRow> = sqlx::query_as(
            "SELECT id, marac_id, agency_id, kind, name, job_title, email, phone FROM directory_entries \
             ORDER BY marac_id, agency_id, kind, name, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(crate::rows::DirectoryRow::into_entry).collect()
    }

    async fn add_directory_entry(
        &self,
        e: &crate::DirectoryEntry,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO directory_entries (marac_id, agency_id, kind, name, job_title, email, phone, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(e.marac_id)
        .bind(e.agency_id)
        .bind(e.kind.code())
        .bind(&e.name)
        .bind(&e.job_title)
        .bind(&e.email)
        .bind(&e.phone)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let mut audit = audit;
        audit.target = format!("directory_entry:{id}");
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn remove_directory_entry(
        &self,
        id: i64,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query("DELETE FROM directory_entries WHERE id = $1").bind(id).execute(&mut *tx).await?;
        Self::found(r)?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
