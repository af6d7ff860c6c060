//! The return methods of [`crate::Store`], shared by both backends like [`crate::sql`].
//!
//! The database does the counting (one pass over the heard cases of the period, grouped by
//! meeting and referral source) so a national roll-up never moves case rows into the
//! application; the grouping by source is folded into one [`crate::MeetingReturn`] per meeting.

/// One group: a meeting and a referral source pair, with its counts.
pub(crate) type CountRow = (
    i64,            // meeting
    i64,            // marac
    String,         // held_on
    String,         // referring category
    Option<String>, // joint category
    [i64; COUNTS],
);

/// How many counts each group has.
pub(crate) const COUNTS: usize = 15;

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
     CAST(SUM(CASE WHEN r.age_flags LIKE '%victim_16_17%' THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(CASE WHEN r.victim_age_group NOT IN ('', 'Not known') THEN 1 ELSE 0 END) AS BIGINT), \
     CAST(SUM(COALESCE(r.young_perpetrators, 0)) AS BIGINT), \
     CAST(SUM(CASE WHEN r.young_perpetrators IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT)";

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
                held_on: crate::meeting_rows::parse_day(&held_on)?,
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
        c.add_source(category(&source)?, joint.as_deref().map(category).transpose()?, count(n[0]));
    }
    Ok(out)
}

/// Expands to the return methods as inherent methods of `$ty` (named `returns_*`).
macro_rules! return_methods {
    ($ty:ty, $db:ty) => {
        impl $ty {
            pub(crate) async fn returns_meeting_returns(
                &self,
                scope: &$crate::ReturnScope,
            ) -> $crate::StoreResult<Vec<$crate::MeetingReturn>> {
                if scope.marac_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT mc.meeting_id, m.marac_id, m.held_on, ra.category, ja.category, {} \
                     FROM meeting_cases mc JOIN meetings m ON m.id = mc.meeting_id \
                     JOIN referrals r ON r.id = mc.referral_id \
                     JOIN agencies ra ON ra.id = r.referring_agency_id \
                     LEFT JOIN agencies ja ON ja.id = r.joint_agency_id \
                     WHERE mc.outcome = 'heard' AND m.held_on >= ",
                    $crate::return_sql::COUNT_COLUMNS
                ));
                q.push_bind($crate::meeting_rows::day(scope.from));
                q.push(" AND m.held_on <= ").push_bind($crate::meeting_rows::day(scope.to));
                q.push(" AND m.marac_id IN (");
                let mut list = q.separated(", ");
                for id in &scope.marac_ids {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                q.push(
                    " GROUP BY mc.meeting_id, m.marac_id, m.held_on, ra.category, ja.category \
                     ORDER BY m.held_on, mc.meeting_id",
                );
                let rows: Vec<$crate::return_sql::CountRow> = q
                    .build()
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|row| {
                        use sqlx::Row;
                        let mut n = [0_i64; $crate::return_sql::COUNTS];
                        for (i, slot) in n.iter_mut().enumerate() {
                            *slot = row.try_get::<Option<i64>, _>(5 + i)?.unwrap_or(0);
                        }
                        Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?, n))
                    })
                    .collect::<Result<_, sqlx::Error>>()?;
                $crate::return_sql::fold(rows)
            }
        }
    };
}

pub(crate) use return_methods;
