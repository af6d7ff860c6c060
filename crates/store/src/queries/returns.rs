//! The queries of [`crate::ReturnStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

/// One group: a meeting and a referral source pair, with its counts.
pub(crate) type CountRow = (
    i64,            // meeting
    i64,            // marac
    crate::Day,     // held_on
    String,         // referring category
    Option<String>, // joint category
    [i64; COUNTS],
);

/// How many counts each group has.
pub(crate) const COUNTS: usize = 22;

/// The counts of a group.
pub(crate) const COUNT_COLUMNS: &str = "COUNT(*), \
     CAST(SUM(CASE WHEN r.is_repeat THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(r.children_count) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_minoritised = 'yes' THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_minoritised <> '' THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_lgbt = 'yes' THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_lgbt <> '' THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_disabled = 'yes' THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_disabled <> '' THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_gender = 'male' THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_gender <> '' THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_aged_16_17 THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_age_group NOT IN ('', 'Not known') THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(COALESCE(r.young_perpetrators, 0)) AS BIGINT), \
     CAST(SUM(CASE WHEN r.young_perpetrators IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(r.young_perpetrators_partner) AS BIGINT), \
     CAST(SUM(CASE WHEN r.children_count > 0 THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.children_count > 0 AND mc.child_voice_recorded THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(r.children_known_csc) AS BIGINT), \
     CAST(SUM(r.children_cp_plan) AS BIGINT), \
     CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM social_care_links s WHERE s.case_id = r.case_id \
         AND s.opened_on <= m.held_on) THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM social_care_links s WHERE s.case_id = r.case_id \
         AND s.opened_on <= m.held_on) AND NOT EXISTS (SELECT 1 FROM social_care_links s \
         WHERE s.case_id = r.case_id AND s.opened_on <= m.held_on \
         AND (s.closed_on IS NULL OR s.closed_on >= m.held_on)) THEN 1 ELSE 0 END) AS BIGINT)";

fn count(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn category(code: &str) -> crate::StoreResult<marac_domain::AgencyCategory> {
    code.parse().map_err(|e| crate::StoreError::Corrupt(format!("{e}")))
}

/// Folds the groups (ordered by meeting) into one return per meeting.
pub(crate) fn fold(rows: Vec<CountRow>) -> crate::StoreResult<Vec<crate::MeetingReturn>> {
    let mut out: Vec<crate::MeetingReturn> = Vec::new();
    for (meeting_id, marac_id, held_on, source, joint, n) in rows {
        if out.last().is_none_or(|m| m.meeting_id != meeting_id) {
            out.push(crate::MeetingReturn {
                meeting_id,
                marac_id,
                held_on: held_on.0,
                counts: marac_domain::safelives_return::MeetingCounts { meetings: 1, ..Default::default() },
            });
        }
        let Some(m) = out.last_mut() else { continue };
        let c = &mut m.counts;
        c.cases += count(n[0]);
        c.repeats += count(n[1]);
        c.children += count(n[2]);
        for (i, t) in [
            &mut c.minoritised,
            &mut c.lgbt,
            &mut c.disabled,
            &mut c.male,
            &mut c.aged_16_17,
            &mut c.young_perpetrators,
        ]
        .into_iter()
        .enumerate()
        {
            t.yes += count(n[3 + 2 * i]);
            t.recorded += count(n[4 + 2 * i]);
        }
        c.young_perpetrators_partner += count(n[15]);
        c.cases_with_children += count(n[16]);
        c.child_voice_recorded += count(n[17]);
        c.children_known_csc += count(n[18]);
        c.children_cp_plan += count(n[19]);
        c.cases_on_csc_list += count(n[20]);
        c.cases_closed_to_csc += count(n[21]);
        c.add_source(category(&source)?, joint.as_deref().map(category).transpose()?, count(n[0]));
    }
    Ok(out)
}

impl This {
    /// `WHERE` conditions on meetings `m` for a scope, with its values bound.
    pub(super) fn returns_scope_on_meetings(q: &mut sqlx::QueryBuilder<Db>, scope: &crate::ReturnScope) {
        q.push(" m.held_on >= ").push_bind(crate::Day(scope.from));
        q.push(" AND m.held_on <= ").push_bind(crate::Day(scope.to));
        q.push(" AND m.marac_id");
        Self::returns_in_maracs(q, scope);
    }

    /// ` IN (…)` the scope's Maracs, bound.
    pub(super) fn returns_in_maracs(q: &mut sqlx::QueryBuilder<Db>, scope: &crate::ReturnScope) {
        q.push(" IN (");
        let mut list = q.separated(", ");
        for id in &scope.marac_ids {
            list.push_bind(*id);
        }
        list.push_unseparated(")");
    }
}

#[async_trait::async_trait]
impl crate::ReturnStore for This {
    async fn meeting_returns(&self, scope: &crate::ReturnScope) -> crate::StoreResult<Vec<crate::MeetingReturn>> {
        if scope.marac_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT mc.meeting_id, m.marac_id, m.held_on, ra.category, ja.category, {} \
             FROM meeting_cases mc JOIN meetings m ON m.id = mc.meeting_id \
             JOIN referrals r ON r.id = mc.referral_id \
             JOIN agencies ra ON ra.id = r.referring_agency_id \
             LEFT JOIN agencies ja ON ja.id = r.joint_agency_id \
             WHERE mc.outcome = 'heard' AND",
            COUNT_COLUMNS
        ));
        Self::returns_scope_on_meetings(&mut q, scope);
        q.push(
            " GROUP BY mc.meeting_id, m.marac_id, m.held_on, ra.category, ja.category \
             ORDER BY m.held_on, mc.meeting_id",
        );
        let rows: Vec<CountRow> = q
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                use sqlx::Row;
                let mut n = [0_i64; COUNTS];
                for (i, slot) in n.iter_mut().enumerate() {
                    *slot = row.try_get::<Option<i64>, _>(5 + i)?.unwrap_or(0);
                }
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?, n))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        fold(rows)
    }

    async fn action_counts(&self, scope: &crate::ReturnScope) -> crate::StoreResult<crate::ActionCounts> {
        if scope.marac_ids.is_empty() {
            return Ok(crate::ActionCounts::default());
        }
        let with = |subject: &str| {
            format!(
                "CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM actions a WHERE a.meeting_id = mc.meeting_id \
                 AND a.case_id = mc.case_id AND a.subject = '{subject}') THEN 1 ELSE 0 END) AS BIGINT)"
            )
        };
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT {}, {} FROM meeting_cases mc JOIN meetings m ON m.id = mc.meeting_id \
             WHERE mc.outcome = 'heard' AND",
            with("perpetrator"),
            with("child")
        ));
        Self::returns_scope_on_meetings(&mut q, scope);
        let (perpetrator, child): (Option<i64>, Option<i64>) = q.build_query_as().fetch_one(&self.pool).await?;
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT a.kind, a.status, COUNT(*) FROM actions a JOIN meetings m ON m.id = a.meeting_id WHERE",
        );
        Self::returns_scope_on_meetings(&mut q, scope);
        q.push(" GROUP BY a.kind, a.status ORDER BY a.kind, a.status");
        let rows: Vec<(String, String, i64)> = q.build_query_as().fetch_all(&self.pool).await?;
        let n = |v: Option<i64>| u32::try_from(v.unwrap_or(0)).unwrap_or(u32::MAX);
        Ok(crate::ActionCounts {
            cases_with_perpetrator_action: n(perpetrator),
            cases_with_child_action: n(child),
            by_kind_and_status: rows.into_iter().map(|(k, s, c)| (k, s, n(Some(c)))).collect(),
        })
    }

    async fn agency_attendance(&self, scope: &crate::ReturnScope) -> crate::StoreResult<Vec<crate::AgencyAttendance>> {
        if scope.marac_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT ag.id, ag.name, ag.category, COUNT(*), CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM attendance t \
             WHERE t.meeting_id = ma.meeting_id AND t.agency_id = ma.agency_id AND t.kind = 'present') \
             THEN 1 ELSE 0 END) AS BIGINT) FROM meeting_agencies ma JOIN meetings m ON m.id = ma.meeting_id \
             JOIN agencies ag ON ag.id = ma.agency_id WHERE m.status = 'held' AND",
        );
        Self::returns_scope_on_meetings(&mut q, scope);
        q.push(" GROUP BY ag.id, ag.name, ag.category ORDER BY ag.name, ag.id");
        let rows: Vec<(i64, String, String, i64, Option<i64>)> = q.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|(agency_id, name, category, invited, present)| {
                Ok(crate::AgencyAttendance {
                    agency_id,
                    name,
                    category: category.parse().map_err(|e| crate::StoreError::Corrupt(format!("{e}")))?,
                    invited: u32::try_from(invited).unwrap_or(u32::MAX),
                    present: u32::try_from(present.unwrap_or(0)).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    async fn screening(&self, scope: &crate::ReturnScope) -> crate::StoreResult<crate::Screening> {
        if scope.marac_ids.is_empty() {
            return Ok(crate::Screening::default());
        }
        let start = |d: time::Date| crate::Ts::new(time::OffsetDateTime::new_utc(d, time::Time::MIDNIGHT));
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT COUNT(*), CAST(SUM(CASE WHEN r.status = 'declined' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM referrals r WHERE r.visible_high_risk AND r.decided_at >= ",
        );
        q.push_bind(start(scope.from));
        q.push(" AND r.decided_at < ").push_bind(start(scope.to.next_day().unwrap_or(scope.to)));
        q.push(" AND r.marac_id");
        Self::returns_in_maracs(&mut q, scope);
        let (all, declined): (i64, Option<i64>) = q.build_query_as().fetch_one(&self.pool).await?;
        Ok(crate::Screening {
            high_risk: u32::try_from(all).unwrap_or(u32::MAX),
            screened_out: u32::try_from(declined.unwrap_or(0)).unwrap_or(u32::MAX),
        })
    }

    async fn postcode_counts(&self, scope: &crate::ReturnScope) -> crate::StoreResult<Vec<(String, u32)>> {
        if scope.marac_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT r.victim_postcode_sector, COUNT(*) FROM referrals r \
             WHERE r.status IN ('submitted', 'returned', 'accepted', 'declined') AND r.referral_date >= ",
        );
        q.push_bind(crate::Day(scope.from));
        q.push(" AND r.referral_date <= ").push_bind(crate::Day(scope.to));
        q.push(" AND r.marac_id");
        Self::returns_in_maracs(&mut q, scope);
        q.push(" GROUP BY r.victim_postcode_sector ORDER BY r.victim_postcode_sector");
        let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(s, n)| (s, u32::try_from(n).unwrap_or(u32::MAX))).collect())
    }

    async fn partnership_figures(
        &self,
        partnership_id: i64,
        quarter: &str,
    ) -> crate::StoreResult<Vec<crate::PartnershipFigure>> {
        let rows: Vec<(String, i64, i64, crate::Ts)> = sqlx::query_as(
            "SELECT measure, value, entered_by, entered_at FROM partnership_figures \
             WHERE partnership_id = $1 AND quarter = $2 ORDER BY measure",
        )
        .bind(partnership_id)
        .bind(quarter)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(measure, value, entered_by, entered_at)| crate::PartnershipFigure {
                measure,
                value,
                entered_by,
                entered_at,
            })
            .collect())
    }

    async fn set_partnership_figure(
        &self,
        partnership_id: i64,
        quarter: &str,
        figure: &crate::PartnershipFigure,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO partnership_figures (partnership_id, quarter, measure, value, entered_by, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (partnership_id, quarter, measure) \
             DO UPDATE SET value = excluded.value, entered_by = excluded.entered_by, entered_at = excluded.entered_at",
        )
        .bind(partnership_id)
        .bind(quarter)
        .bind(&figure.measure)
        .bind(figure.value)
        .bind(figure.entered_by)
        .bind(figure.entered_at)
        .execute(&mut *tx)
        .await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
