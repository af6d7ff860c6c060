//! The queries of [`crate::ImportStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};
use marac_domain::referral_rules::{AgeFlag, Criterion};

/// Rows per insert statement: at 35 columns, well under SQLite's 32,766 bound values.
pub(crate) const CHUNK: usize = 500;

impl This {
    pub(super) async fn bulk_next_id(
        tx: &mut <Db as sqlx::Database>::Connection,
        table: &str,
    ) -> crate::StoreResult<i64> {
        // The table name is one of ours, never input.
        let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}");
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *tx).await?;
        Ok(n)
    }
}

#[async_trait::async_trait]
impl crate::ImportStore for This {
    async fn import_referrals(
        &self,
        items: &[crate::ImportedReferral],
        by: i64,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<crate::ImportCount> {
        let mut tx = self.begin_write().await?;
        let mut count = crate::ImportCount::default();
        // People new to the system who appear on several rows are filed once: later
        // rows with the same matching keys name the person the first row filed.
        let mut filed: std::collections::HashMap<Vec<String>, i64> = std::collections::HashMap::new();
        let keys_of = |p: &crate::PersonRef| match p {
            crate::PersonRef::New { keys, .. } => {
                let mut k = keys.clone();
                k.sort_unstable();
                k.dedup();
                Some(k)
            }
            crate::PersonRef::Existing(_) => None,
        };
        for item in items {
            let s = &item.submission;
            let known: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM referrals WHERE marac_id = $1 AND import_reference = $2")
                    .bind(s.marac_id)
                    .bind(&item.import_reference)
                    .fetch_optional(&mut *tx)
                    .await?;
            if known.is_some() {
                count.already += 1;
                continue;
            }
            let mut s = s.clone();
            let relink = |p: &mut crate::PersonRef| {
                if let Some(id) = keys_of(p).and_then(|k| filed.get(&k).copied()) {
                    *p = crate::PersonRef::Existing(id);
                }
            };
            relink(&mut s.victim);
            s.perpetrators.iter_mut().for_each(relink);
            // A Marac's own history joins a case another Marac holds without moving it.
            let (done, people) = Self::submit_in(&mut tx, &s, item.made_at, true).await?;
            let refs = std::iter::once(&s.victim).chain(s.perpetrators.iter());
            for (p, id) in refs.zip(&people) {
                if let Some(k) = keys_of(p) {
                    filed.insert(k, *id);
                }
            }
            sqlx::query(
                "UPDATE referrals SET status = 'accepted', decided_by = $1, decided_at = $2, import_reference = $3 \
                 WHERE id = $4",
            )
            .bind(by)
            .bind(item.made_at)
            .bind(&item.import_reference)
            .bind(done.referral_id)
            .execute(&mut *tx)
            .await?;
            if let Some(day) = item.heard_on {
                let held_on = crate::Day(day);
                let found: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM meetings WHERE marac_id = $1 AND held_on = $2 ORDER BY id LIMIT 1")
                        .bind(s.marac_id)
                        .bind(held_on)
                        .fetch_optional(&mut *tx)
                        .await?;
                let meeting_id = match found {
                    Some((id,)) => id,
                    None => {
                        count.meetings_made += 1;
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO meetings (marac_id, kind, format, status, held_on, starts_at, location, \
                             capacity, created_at, updated_at) \
                             VALUES ($1, 'regular', 'in_person', 'held', $2, '10:00', '', 16, $3, $3) RETURNING id",
                        )
                        .bind(s.marac_id)
                        .bind(held_on)
                        .bind(item.made_at)
                        .fetch_one(&mut *tx)
                        .await?;
                        id
                    }
                };
                sqlx::query(
                    "INSERT INTO meeting_cases (meeting_id, case_id, referral_id, position, outcome, updated_by, updated_at) \
                     VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM meeting_cases WHERE meeting_id = $1), \
                     'heard', $4, $5) ON CONFLICT (meeting_id, case_id) DO NOTHING",
                )
                .bind(meeting_id)
                .bind(done.case_id.ok_or_else(|| crate::StoreError::Corrupt("imported referral without a case".into()))?)
                .bind(done.referral_id)
                .bind(by)
                .bind(item.made_at)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(case_id) = done.case_id {
                // Worked out again from its records once the whole history is in.
                sqlx::query("UPDATE cases SET stage = NULL WHERE id = $1").bind(case_id).execute(&mut *tx).await?;
            }
            count.added += 1;
        }
        Self::stage_unstaged_in(&mut tx).await?;
        let mut audit = audit;
        audit.detail = serde_json::json!({
            "added": count.added,
            "already": count.already,
            "meetings_made": count.meetings_made,
        })
        .to_string();
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(count)
    }

    async fn write_history(&self, h: &crate::BulkHistory) -> crate::StoreResult<()> {
        use CHUNK;
        let at = |d: time::Date| crate::Ts::new(time::OffsetDateTime::new_utc(d, time::Time::MIDNIGHT));
        let mut tx = self.begin_write().await?;
        let person0 = Self::bulk_next_id(&mut tx, "people").await?;
        let case0 = Self::bulk_next_id(&mut tx, "cases").await?;
        let referral0 = Self::bulk_next_id(&mut tx, "referrals").await?;
        let meeting0 = Self::bulk_next_id(&mut tx, "meetings").await?;
        let action0 = Self::bulk_next_id(&mut tx, "actions").await?;
        let attendance0 = Self::bulk_next_id(&mut tx, "attendance").await?;
        let first_day = h.referrals.first().map_or(time::Date::MIN, |r| r.referral_date);
        let ids: Vec<i64> = (0..i64::try_from(h.people).unwrap_or(0)).map(|i| person0 + i).collect();
        for chunk in ids.chunks(CHUNK) {
            let mut q =
                sqlx::QueryBuilder::<Db>::new("INSERT INTO people (id, partnership_id, details_sealed, created_at) ");
            q.push_values(chunk, |mut b, id| {
                b.push_bind(*id).push_bind(h.partnership_id).push_bind(&h.person_sealed).push_bind(at(first_day));
            });
            q.build().execute(&mut *tx).await?;
        }
        let idx = |i: usize| i64::try_from(i).unwrap_or(0);
        for (n, chunk) in h.cases.chunks(CHUNK).enumerate() {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO cases (id, marac_id, victim_person_id, perpetrator_ids, created_at) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut b, (i, (victim, perpetrator))| {
                b.push_bind(case0 + idx(n * CHUNK + i))
                    .push_bind(h.marac_id)
                    .push_bind(person0 + idx(*victim))
                    .push_bind((person0 + idx(*perpetrator)).to_string())
                    .push_bind(at(first_day));
            });
            q.build().execute(&mut *tx).await?;
        }
        // References run per year, continuing any the Marac already has.
        let mut counters: std::collections::BTreeMap<i32, i64> = std::collections::BTreeMap::new();
        let mut references = Vec::with_capacity(h.referrals.len());
        for r in &h.referrals {
            let year = r.referral_date.year();
            let n = match counters.entry(year) {
                std::collections::btree_map::Entry::Occupied(n) => n.into_mut(),
                std::collections::btree_map::Entry::Vacant(slot) => {
                    let last: Option<(i64,)> =
                        sqlx::query_as("SELECT last_number FROM reference_counters WHERE marac_id = $1 AND year = $2")
                            .bind(h.marac_id)
                            .bind(i64::from(year))
                            .fetch_optional(&mut *tx)
                            .await?;
                    slot.insert(last.map_or(0, |(n,)| n))
                }
            };
            *n += 1;
            references.push(format!("{}-{year}-{n:05}", h.marac_code));
        }
        for (year, last) in &counters {
            sqlx::query(
                "INSERT INTO reference_counters (marac_id, year, last_number) VALUES ($1, $2, $3) \
                 ON CONFLICT (marac_id, year) DO UPDATE SET last_number = excluded.last_number",
            )
            .bind(h.marac_id)
            .bind(i64::from(*year))
            .bind(*last)
            .execute(&mut *tx)
            .await?;
        }
        let yes_no = |v: Option<bool>| match v {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        for (n, chunk) in h.referrals.chunks(CHUNK).enumerate() {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO referrals (id, reference, marac_id, referrer_user_id, referring_agency_id, joint_agency_id, \
                 status, form_sealed, case_id, checklist_id, checklist_version, score, criteria, is_repeat, age_flags, \
                 victim_age_group, children_count, referral_date, incident_date, decided_by, decided_at, created_at, \
                 updated_at, submitted_at, victim_gender, victim_minoritised, victim_disabled, victim_lgbt, \
                 young_perpetrators, young_perpetrators_partner, children_known_csc, children_cp_plan, \
                 victim_postcode_sector, visible_high_risk, victim_aged_16_17) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut b, (i, r)| {
                let k = n * CHUNK + i;
                let day = crate::Day(r.referral_date);
                let p = &r.profile;
                b.push_bind(referral0 + idx(k))
                    .push_bind(references[k].clone())
                    .push_bind(h.marac_id)
                    .push_bind(h.user_id)
                    .push_bind(r.agency_id)
                    .push_bind(r.joint_agency_id)
                    .push_bind(if r.accepted { "accepted" } else { "declined" })
                    .push_bind(&h.form_sealed)
                    .push_bind(case0 + idx(r.case))
                    .push_bind("safelives-dash")
                    .push_bind("2026.1")
                    .push_bind(r.score)
                    .push_bind(marac_domain::referral_rules::join_codes(&r.criteria, Criterion::code))
                    .push_bind(r.is_repeat)
                    .push_bind(marac_domain::referral_rules::join_codes(&r.age_flags, AgeFlag::code))
                    .push_bind(&r.victim_age_group)
                    .push_bind(r.children)
                    .push_bind(day)
                    .push_bind(day)
                    .push_bind(h.user_id)
                    .push_bind(at(r.referral_date))
                    .push_bind(at(r.referral_date))
                    .push_bind(at(r.referral_date))
                    .push_bind(at(r.referral_date))
                    .push_bind(&p.victim_gender)
                    .push_bind(yes_no(p.victim_minoritised))
                    .push_bind(yes_no(p.victim_disabled))
                    .push_bind(yes_no(p.victim_lgbt))
                    .push_bind(p.young_perpetrators.map(i64::from))
                    .push_bind(i64::from(p.young_perpetrators_partner))
                    .push_bind(i64::from(p.children_known_to_social_care))
                    .push_bind(i64::from(p.children_on_protection_plan))
                    .push_bind(&p.victim_postcode_sector)
                    .push_bind(r.criteria.contains(&Criterion::VisibleHighRisk))
                    .push_bind(r.age_flags.contains(&AgeFlag::VictimAged16To17));
            });
            q.build().execute(&mut *tx).await?;
        }
        for (n, chunk) in h.meetings.chunks(CHUNK).enumerate() {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO meetings (id, marac_id, kind, format, status, held_on, starts_at, location, capacity, \
                 published_at, created_at, updated_at) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut b, (i, m)| {
                b.push_bind(meeting0 + idx(n * CHUNK + i))
                    .push_bind(h.marac_id)
                    .push_bind("regular")
                    .push_bind("in_person")
                    .push_bind("held")
                    .push_bind(crate::Day(m.held_on))
                    .push_bind("10:00")
                    .push_bind("")
                    .push_bind(16_i64)
                    .push_bind(at(m.held_on))
                    .push_bind(at(m.held_on))
                    .push_bind(at(m.held_on));
            });
            q.build().execute(&mut *tx).await?;
        }
        let invited: Vec<(i64, i64)> = h
            .meetings
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.invited.iter().map(move |a| (meeting0 + idx(i), *a)))
            .collect();
        for chunk in invited.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO meeting_agencies (meeting_id, agency_id) ");
            q.push_values(chunk, |mut b, (m, a)| {
                b.push_bind(*m).push_bind(*a);
            });
            q.build().execute(&mut *tx).await?;
        }
        let present: Vec<(i64, i64, time::Date)> = h
            .meetings
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.present.iter().map(move |a| (meeting0 + idx(i), *a, m.held_on)))
            .collect();
        for (n, chunk) in present.chunks(CHUNK).enumerate() {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO attendance (id, meeting_id, agency_id, person_name, kind, information_sent, recorded_by, \
                 recorded_at) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut b, (i, (m, a, day))| {
                b.push_bind(attendance0 + idx(n * CHUNK + i))
                    .push_bind(*m)
                    .push_bind(*a)
                    .push_bind("Representative")
                    .push_bind("present")
                    .push_bind(false)
                    .push_bind(h.user_id)
                    .push_bind(at(*day));
            });
            q.build().execute(&mut *tx).await?;
        }
        let heard: Vec<(i64, usize, usize, bool, time::Date)> = h
            .meetings
            .iter()
            .enumerate()
            .flat_map(|(i, m)| {
                m.heard.iter().enumerate().map(move |(pos, (r, voice))| (meeting0 + idx(i), pos, *r, *voice, m.held_on))
            })
            .collect();
        for chunk in heard.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO meeting_cases (meeting_id, case_id, referral_id, position, outcome, updated_by, updated_at, \
                 child_voice_recorded) ",
            );
            q.push_values(chunk, |mut b, (m, pos, r, voice, day)| {
                b.push_bind(*m)
                    .push_bind(case0 + idx(h.referrals[*r].case))
                    .push_bind(referral0 + idx(*r))
                    .push_bind(idx(*pos + 1))
                    .push_bind("heard")
                    .push_bind(h.user_id)
                    .push_bind(at(*day))
                    .push_bind(*voice);
            });
            q.build().execute(&mut *tx).await?;
        }
        let actions: Vec<(i64, &crate::BulkAction, time::Date)> = h
            .meetings
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.actions.iter().map(move |a| (meeting0 + idx(i), a, m.held_on)))
            .collect();
        for (n, chunk) in actions.chunks(CHUNK).enumerate() {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO actions (id, case_id, meeting_id, agency_id, owner_name, subject, description_sealed, \
                 due_on, status, created_by, created_at, kind) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut b, (i, (m, a, day))| {
                b.push_bind(action0 + idx(n * CHUNK + i))
                    .push_bind(case0 + idx(h.referrals[a.referral].case))
                    .push_bind(*m)
                    .push_bind(a.agency_id)
                    .push_bind("Named person")
                    .push_bind(a.subject.code())
                    .push_bind(&h.form_sealed)
                    .push_bind(crate::Day(a.due_on))
                    .push_bind(a.status.code())
                    .push_bind(h.user_id)
                    .push_bind(at(*day))
                    .push_bind(a.kind.code());
            });
            q.build().execute(&mut *tx).await?;
        }
        if let Some(follow) = Self::FOLLOW_IDS {
            for table in ["people", "cases", "referrals", "meetings", "actions", "attendance"] {
                let sql = follow.replace("{table}", table);
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
            }
        }
        Self::stage_unstaged_in(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn has_real_partnerships(&self) -> crate::StoreResult<bool> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM partnerships WHERE is_demo = $1")
            .bind(false)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }
}
