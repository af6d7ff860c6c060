//! The queries of [`crate::PeopleStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};

impl This {
    /// The rows of `sql` (whose one `{}` is where the id list goes) for all of `ids`,
    /// asked 500 at a time so no list outgrows a database's limit on bound values.
    pub(super) async fn rows_for_ids<T>(
        conn: &mut <Db as sqlx::Database>::Connection,
        sql: &str,
        ids: &[i64],
    ) -> crate::StoreResult<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let text = sql.replacen("{}", &crate::rows::placeholders(1, chunk.len()), 1);
            // Built from placeholders only; values are bound.
            let mut q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(text));
            for id in chunk {
                q = q.bind(id);
            }
            out.extend(q.fetch_all(&mut *conn).await?);
        }
        Ok(out)
    }

    /// The person each of `ids` counts as (itself, or the one it was merged into).
    pub(super) async fn counted_as(
        conn: &mut <Db as sqlx::Database>::Connection,
        ids: &[i64],
    ) -> crate::StoreResult<std::collections::HashMap<i64, i64>> {
        let sql = "SELECT id, COALESCE(merged_into, id) FROM people WHERE id IN ({})";
        let rows: Vec<(i64, i64)> = Self::rows_for_ids(conn, sql, ids).await?;
        Ok(rows.into_iter().collect())
    }

    /// Counts everyone counted as `own` as `target` from now on.
    pub(super) async fn merge_into(
        conn: &mut <Db as sqlx::Database>::Connection,
        own: i64,
        target: i64,
    ) -> crate::StoreResult<()> {
        sqlx::query("UPDATE people SET merged_into = $1 WHERE id = $2 OR merged_into = $2")
            .bind(target)
            .bind(own)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// The last referral date (submitted or accepted) of any case whose victim and people
    /// causing harm count as these people, leaving out `excluding` (a referral id and
    /// the date it must not be later than).
    pub(super) async fn last_date_of_people(
        conn: &mut <Db as sqlx::Database>::Connection,
        victim: i64,
        perpetrators: &[i64],
        excluding: Option<(i64, time::Date)>,
    ) -> crate::StoreResult<Option<time::Date>> {
        // One look-up for everyone named, and another only for people the cases add.
        let mut named = perpetrators.to_vec();
        named.push(victim);
        let mut counted = Self::counted_as(conn, &named).await?;
        let as_counted = |map: &std::collections::HashMap<i64, i64>, ids: &[i64]| {
            crate::rows::perpetrator_key(&ids.iter().map(|p| map.get(p).copied().unwrap_or(*p)).collect::<Vec<_>>())
        };
        let victim = counted.get(&victim).copied().unwrap_or(victim);
        let wanted = as_counted(&counted, perpetrators);
        // Merged people point straight at the person they count as, so one step finds
        // every record of the victim.
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT c.id, c.perpetrator_ids FROM cases c JOIN people v ON v.id = c.victim_person_id \
             WHERE v.id = $1 OR v.merged_into = $1",
        )
        .bind(victim)
        .fetch_all(&mut *conn)
        .await?;
        let cases = rows
            .into_iter()
            .map(|(id, key)| Ok((id, crate::rows::perpetrator_ids(id, &key)?)))
            .collect::<crate::StoreResult<Vec<(i64, Vec<i64>)>>>()?;
        let unknown: Vec<i64> =
            cases.iter().flat_map(|(_, ids)| ids.iter().copied()).filter(|p| !counted.contains_key(p)).collect();
        counted.extend(Self::counted_as(conn, &unknown).await?);
        let same: Vec<i64> =
            cases.iter().filter(|(_, ids)| as_counted(&counted, ids) == wanted).map(|(id, _)| *id).collect();
        if same.is_empty() {
            return Ok(None);
        }
        let (skip, until) = excluding.unwrap_or((0, time::Date::MAX));
        let sql = format!(
            "SELECT MAX(referral_date) FROM referrals WHERE case_id IN ({}) \
             AND status IN ('submitted', 'accepted') AND id <> $1 AND referral_date <= $2",
            crate::rows::placeholders(3, same.len())
        );
        // Built from placeholders only; values are bound.
        let mut q =
            sqlx::query_as::<_, (Option<crate::Day>,)>(sqlx::AssertSqlSafe(sql)).bind(skip).bind(crate::Day(until));
        for id in &same {
            q = q.bind(id);
        }
        Ok(q.fetch_one(&mut *conn).await?.0.map(time::Date::from))
    }

    /// Works out again whether a referral is a repeat of the same people, as they are
    /// now counted, and stores the answer with its criteria.
    pub(super) async fn recompute_repeat(
        conn: &mut <Db as sqlx::Database>::Connection,
        referral_id: i64,
        repeat_months: u32,
    ) -> crate::StoreResult<bool> {
        let (victim, key, referral_date, incident_date, criteria): (
            i64,
            String,
            Option<crate::Day>,
            Option<crate::Day>,
            String,
        ) = sqlx::query_as(
            "SELECT c.victim_person_id, c.perpetrator_ids, r.referral_date, r.incident_date, r.criteria \
                 FROM referrals r JOIN cases c ON c.id = r.case_id WHERE r.id = $1",
        )
        .bind(referral_id)
        .fetch_one(&mut *conn)
        .await?;
        let perpetrators = crate::rows::perpetrator_ids(referral_id, &key)?;
        let on = referral_date.map_or(time::Date::MIN, time::Date::from);
        let last = Self::last_date_of_people(&mut *conn, victim, &perpetrators, Some((referral_id, on))).await?;
        let repeat = match (last, incident_date.or(referral_date).map(time::Date::from)) {
            (Some(last), Some(incident)) => marac_domain::referral_rules::is_repeat(last, incident, repeat_months),
            _ => false,
        };
        let mut codes: Vec<&str> = criteria.split(',').filter(|c| !c.is_empty() && *c != "repeat").collect();
        if repeat {
            codes.push(marac_domain::referral_rules::Criterion::Repeat.code());
        }
        sqlx::query("UPDATE referrals SET is_repeat = $1, criteria = $2 WHERE id = $3")
            .bind(repeat)
            .bind(codes.join(","))
            .bind(referral_id)
            .execute(&mut *conn)
            .await?;
        Ok(repeat)
    }

    /// The cases of some Maracs: id, Marac, victim and people causing harm.
    pub(super) async fn marac_cases(
        conn: &mut <Db as sqlx::Database>::Connection,
        marac_ids: &[i64],
    ) -> crate::StoreResult<Vec<(i64, i64, i64, Vec<i64>)>> {
        let sql =
            "SELECT id, marac_id, victim_person_id, perpetrator_ids FROM cases WHERE marac_id IN ({}) ORDER BY id";
        let rows: Vec<(i64, i64, i64, String)> = Self::rows_for_ids(conn, sql, marac_ids).await?;
        rows.into_iter().map(|(id, m, v, key)| Ok((id, m, v, crate::rows::perpetrator_ids(id, &key)?))).collect()
    }

    /// Works out again the repeat flag of the sent referrals, in these Maracs (each with
    /// its repeat window), that name anyone now counted as one of `people`.
    pub(super) async fn recompute_repeats_of(
        conn: &mut <Db as sqlx::Database>::Connection,
        maracs: &[(i64, u32)],
        people: &[i64],
    ) -> crate::StoreResult<()> {
        let merged: Vec<(i64,)> =
            Self::rows_for_ids(conn, "SELECT id FROM people WHERE merged_into IN ({})", people).await?;
        let ids: std::collections::HashSet<i64> =
            people.iter().copied().chain(merged.into_iter().map(|r| r.0)).collect();
        let marac_ids: Vec<i64> = maracs.iter().map(|m| m.0).collect();
        let cases: std::collections::HashMap<i64, i64> = Self::marac_cases(&mut *conn, &marac_ids)
            .await?
            .into_iter()
            .filter(|(_, _, v, ps)| ids.contains(v) || ps.iter().any(|p| ids.contains(p)))
            .map(|(id, marac, _, _)| (id, marac))
            .collect();
        let case_ids: Vec<i64> = cases.keys().copied().collect();
        let sql = "SELECT id, case_id FROM referrals WHERE case_id IN ({}) AND status IN ('submitted', 'accepted')";
        let referrals: Vec<(i64, i64)> = Self::rows_for_ids(conn, sql, &case_ids).await?;
        for (referral, case) in referrals {
            let marac = cases.get(&case).copied().unwrap_or_default();
            let months = maracs.iter().find(|m| m.0 == marac).map_or(0, |m| m.1);
            Self::recompute_repeat(&mut *conn, referral, months).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::PeopleStore for This {
    async fn find_people(
        &self,
        partnership_id: i64,
        keys: &[String],
        limit: i64,
    ) -> crate::StoreResult<Vec<crate::PersonRecord>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // The candidates are ranked and cut from the index alone (how many keys each
        // shares, and the fewest people any of those keys holds), then only the best are
        // read: reading every record a common name finds is most of the cost. Written as
        // `id IN (..) ORDER BY .. LIMIT n`, PostgreSQL's generic plan for the prepared
        // statement walks every person in id order instead (half a second at 100,000).
        // The partnership check after the cut only guards: the keys are its own.
        let sql = format!(
            "WITH hits AS (SELECT person_id, COUNT(*) OVER (PARTITION BY key) AS held \
             FROM person_keys WHERE key IN ({})), \
             found AS MATERIALIZED (SELECT person_id, COUNT(*) AS shared, MIN(held) AS rarest \
             FROM hits GROUP BY person_id ORDER BY shared DESC, rarest, person_id LIMIT ${}) \
             SELECT p.id, p.details_sealed, p.merged_into FROM found JOIN people p ON p.id = found.person_id \
             WHERE p.partnership_id = $1 ORDER BY found.shared DESC, found.rarest, p.id",
            crate::rows::placeholders(2, keys.len()),
            keys.len() + 2
        );
        let mut q = sqlx::query_as::<_, (i64, String, Option<i64>)>(sqlx::AssertSqlSafe(sql)).bind(partnership_id);
        for k in keys {
            q = q.bind(k);
        }
        let rows = q.bind(limit).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(id, details_sealed, merged_into)| crate::PersonRecord { id, details_sealed, merged_into })
            .collect())
    }

    async fn count_people(&self, partnership_id: i64) -> crate::StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM people WHERE partnership_id = $1")
            .bind(partnership_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    async fn people_to_file_again(
        &self,
        version: i64,
        limit: i64,
    ) -> crate::StoreResult<Vec<(i64, crate::PersonRecord)>> {
        let rows: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT partnership_id, id, details_sealed, merged_into FROM people WHERE keys_version < $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(version)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(partnership, id, details_sealed, merged_into)| {
                (partnership, crate::PersonRecord { id, details_sealed, merged_into })
            })
            .collect())
    }

    async fn file_people_again(
        &self,
        version: i64,
        people: &[(i64, Vec<String>)],
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for (id, keys) in people {
            // Only someone still filed under older keys: another server's worker may have
            // filed them already.
            let changed = sqlx::query("UPDATE people SET keys_version = $1 WHERE id = $2 AND keys_version < $1")
                .bind(version)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 1 {
                sqlx::query("DELETE FROM person_keys WHERE person_id = $1").bind(id).execute(&mut *tx).await?;
                Self::file_person_in(&mut tx, *id, keys).await?;
            }
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_person(&self, id: i64) -> crate::StoreResult<crate::PersonRecord> {
        let (id, details_sealed, merged_into): (i64, String, Option<i64>) =
            sqlx::query_as("SELECT id, details_sealed, merged_into FROM people WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(crate::PersonRecord { id, details_sealed, merged_into })
    }

    async fn get_people(&self, ids: &[i64]) -> crate::StoreResult<Vec<crate::PersonRecord>> {
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<(i64, String, Option<i64>)> =
            Self::rows_for_ids(&mut conn, "SELECT id, details_sealed, merged_into FROM people WHERE id IN ({})", ids)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, details_sealed, merged_into)| crate::PersonRecord { id, details_sealed, merged_into })
            .collect())
    }

    async fn marac_people(&self, marac_ids: &[i64]) -> crate::StoreResult<Vec<crate::MaracPerson>> {
        let mut conn = self.pool.acquire().await?;
        let cases = Self::marac_cases(&mut conn, marac_ids).await?;
        let case_ids: Vec<i64> = cases.iter().map(|c| c.0).collect();
        let sql =
            "SELECT case_id, reference FROM referrals WHERE case_id IN ({}) AND reference IS NOT NULL ORDER BY id";
        let refs: Vec<(i64, String)> = Self::rows_for_ids(&mut conn, sql, &case_ids).await?;
        let mut by_case: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
        for (case, reference) in refs {
            by_case.entry(case).or_default().push(reference);
        }
        // Each person: the Maracs whose cases name them, and those cases' referrals.
        let mut named: std::collections::BTreeMap<i64, (Vec<i64>, Vec<String>)> = std::collections::BTreeMap::new();
        for (case, marac, victim, perpetrators) in &cases {
            for p in std::iter::once(victim).chain(perpetrators) {
                let (maracs, references) = named.entry(*p).or_default();
                if !maracs.contains(marac) {
                    maracs.push(*marac);
                }
                for r in by_case.get(case).into_iter().flatten() {
                    if !references.contains(r) {
                        references.push(r.clone());
                    }
                }
            }
        }
        let ids: Vec<i64> = named.keys().copied().collect();
        let sql = "SELECT id, details_sealed, merged_into FROM people WHERE id IN ({}) ORDER BY id";
        let rows: Vec<(i64, String, Option<i64>)> = Self::rows_for_ids(&mut conn, sql, &ids).await?;
        let out = rows
            .into_iter()
            .map(|(id, details_sealed, merged_into)| {
                let (marac_ids, references) = named.remove(&id).unwrap_or_default();
                let person = crate::PersonRecord { id, details_sealed, merged_into };
                crate::MaracPerson { person, marac_ids, references }
            })
            .collect();
        Ok(out)
    }

    async fn distinct_people(&self) -> crate::StoreResult<Vec<(i64, i64)>> {
        Ok(sqlx::query_as("SELECT person_a, person_b FROM people_distinct ORDER BY person_a, person_b")
            .fetch_all(&self.pool)
            .await?)
    }

    async fn mark_distinct(
        &self,
        a: i64,
        b: i64,
        by: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        if a == b {
            return Err(crate::StoreError::Conflict { constraint: "people_distinct.person_a".into() });
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO people_distinct (person_a, person_b, decided_by, decided_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (person_a, person_b) DO NOTHING",
        )
        .bind(a.min(b))
        .bind(a.max(b))
        .bind(by)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn merge_people(
        &self,
        m: &crate::PersonMerge,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let counted = Self::counted_as(&mut tx, &[m.person_id, m.into_id]).await?;
        let (Some(&own), Some(&target)) = (counted.get(&m.person_id), counted.get(&m.into_id)) else {
            return Err(crate::StoreError::NotFound);
        };
        if own == target {
            return Err(crate::StoreError::Conflict { constraint: "people.merged_into".into() });
        }
        Self::merge_into(&mut tx, own, target).await?;
        Self::recompute_repeats_of(&mut tx, &m.maracs, &[target]).await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unmerge_person(
        &self,
        m: &crate::PersonMerge,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let was: Option<(Option<i64>,)> = sqlx::query_as("SELECT merged_into FROM people WHERE id = $1")
            .bind(m.person_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((Some(target),)) = was else { return Err(crate::StoreError::NotFound) };
        sqlx::query("UPDATE people SET merged_into = NULL WHERE id = $1").bind(m.person_id).execute(&mut *tx).await?;
        // A coordinator's "same person" that made this merge no longer stands.
        sqlx::query(
            "UPDATE referral_matches SET decision = 'rejected', decided_by = $1, decided_at = $2 \
             WHERE own_person_id = $3 AND decision = 'confirmed'",
        )
        .bind(m.by)
        .bind(at)
        .bind(m.person_id)
        .execute(&mut *tx)
        .await?;
        Self::recompute_repeats_of(&mut tx, &m.maracs, &[target, m.person_id]).await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn import_people(
        &self,
        partnership_id: i64,
        people: &[(String, Vec<String>)],
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        for (sealed, keys) in people {
            let person = crate::PersonRef::New { details_sealed: sealed.clone(), keys: keys.clone() };
            Self::resolve_person(&mut tx, partnership_id, &person, at).await?;
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        // Fresh statistics, so the planner knows the index keys are selective even where
        // automatic analysis is off or has not run yet.
        sqlx::query("ANALYZE person_keys").execute(self.writer()).await?;
        Ok(u64::try_from(people.len()).unwrap_or(u64::MAX))
    }
}
