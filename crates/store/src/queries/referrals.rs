//! The queries of [`crate::ReferralStore`], written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};
use marac_domain::case_stage::CaseEvent;

impl This {
    /// The id of a person on a submission, filing someone new (with their keys) first.
    /// Files a submission inside a transaction: its people, its case, its reference and
    /// the referral itself; returns what was made and the people's ids (victim first).
    /// Submits a referral inside a write transaction. A case of the same victim and people
    /// causing harm is never moved: in the same Marac the referral becomes an episode of
    /// it (its agency sees the case only once the referral is accepted); held by another
    /// Marac, the referral only knows the case and a transfer question is opened, unless
    /// `join_elsewhere` (a Marac's imported history, which joins without moving).
    /// `select` over the referrals the filter admits (its `limit` aside).
    fn filtered_referrals(select: &str, f: &crate::ReferralFilter) -> sqlx::QueryBuilder<Db> {
        let mut q = sqlx::QueryBuilder::<Db>::new(select);
        q.push(" FROM referrals WHERE 1 = 1");
        if let Some(u) = f.referrer_user_id {
            q.push(" AND referrer_user_id = ").push_bind(u);
        }
        if let Some(ids) = &f.marac_ids {
            q.push(" AND ");
            super::cases::push_in(&mut q, "marac_id", ids);
        }
        if !f.statuses.is_empty() {
            q.push(" AND status IN (");
            let mut list = q.separated(", ");
            for s in &f.statuses {
                list.push_bind(s.code());
            }
            list.push_unseparated(")");
        }
        if let Some(c) = f.case_id {
            q.push(" AND case_id = ").push_bind(c);
        }
        if f.with_open_matches {
            // Those the coordinator answers: not certain, with the referral's own record, unanswered.
            q.push(
                " AND EXISTS (SELECT 1 FROM referral_matches rm WHERE rm.referral_id = referrals.id \
                 AND NOT rm.certain AND rm.own_person_id IS NOT NULL AND rm.decision IS NULL)",
            );
        }
        q
    }

    /// Puts a case on a meeting's list (at its end) as its referral is accepted: the meeting must
    /// be the referral's Marac's, not yet held, and have room (`Conflict` otherwise).
    pub(super) async fn list_on_in(
        conn: &mut <Db as sqlx::Database>::Connection,
        (meeting_id, marac_id): (i64, i64),
        (case_id, referral_id): (i64, i64),
        by: i64,
        at: crate::Ts,
    ) -> crate::StoreResult<()> {
        Self::meeting_status_in(&mut *conn, meeting_id, &["planned", "published"]).await?;
        let (meeting_marac, capacity, listed): (i64, i64, i64) = sqlx::query_as(
            "SELECT marac_id, capacity, (SELECT COUNT(*) FROM meeting_cases WHERE meeting_id = $1) \
             FROM meetings WHERE id = $1",
        )
        .bind(meeting_id)
        .fetch_one(&mut *conn)
        .await?;
        if meeting_marac != marac_id || listed >= capacity {
            return Err(crate::StoreError::Conflict { constraint: "meetings.capacity".into() });
        }
        sqlx::query(
            "INSERT INTO meeting_cases (meeting_id, case_id, referral_id, position, updated_by, updated_at) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM meeting_cases WHERE meeting_id = $1), $4, $5)",
        )
        .bind(meeting_id)
        .bind(case_id)
        .bind(referral_id)
        .bind(by)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        Self::move_case_in(conn, case_id, CaseEvent::Listed, Some(meeting_id), Some(by), at).await
    }

    pub(super) async fn submit_in(
        tx: &mut <Db as sqlx::Database>::Connection,
        s: &crate::Submission,
        at: crate::Ts,
        join_elsewhere: bool,
    ) -> crate::StoreResult<(crate::Submitted, Vec<i64>)> {
        let victim = Self::resolve_person(tx, s.partnership_id, &s.victim, at).await?;
        let mut perpetrators = Vec::with_capacity(s.perpetrators.len());
        for p in &s.perpetrators {
            perpetrators.push(Self::resolve_person(tx, s.partnership_id, p, at).await?);
        }
        let key = crate::rows::perpetrator_key(&perpetrators);
        let existing: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, marac_id FROM cases WHERE victim_person_id = $1 AND perpetrator_ids = $2")
                .bind(victim)
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await?;
        let (case_id, held_elsewhere) = match existing {
            Some((id, holder)) if holder != s.marac_id && !join_elsewhere => (None, Some((id, holder))),
            Some((id, _)) => (Some(id), None),
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO cases (marac_id, victim_person_id, perpetrator_ids, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(s.marac_id)
                .bind(victim)
                .bind(&key)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                (Some(id), None)
            }
        };
        let referral_id = match s.referral_id {
            Some(id) => id,
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO referrals (marac_id, referrer_user_id, referring_agency_id, status, form_sealed, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'draft', $4, $5, $5) RETURNING id",
                )
                .bind(s.marac_id)
                .bind(s.referrer_user_id)
                .bind(s.referring_agency_id)
                .bind(&s.form_sealed)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                id
            }
        };
        let (reference, status): (Option<String>, String) =
            sqlx::query_as("SELECT reference, status FROM referrals WHERE id = $1")
                .bind(referral_id)
                .fetch_one(&mut *tx)
                .await?;
        if !crate::ReferralStatus::from_code(&status).is_some_and(crate::ReferralStatus::is_editable) {
            return Err(crate::StoreError::NotFound);
        }
        let reference = match reference {
            Some(r) => r,
            None => {
                let year = i64::from(s.referral_date.year());
                let (n,): (i64,) = sqlx::query_as(
                    "INSERT INTO reference_counters (marac_id, year, last_number) VALUES ($1, $2, 1) \
                     ON CONFLICT (marac_id, year) DO UPDATE SET last_number = reference_counters.last_number + 1 \
                     RETURNING last_number",
                )
                .bind(s.marac_id)
                .bind(year)
                .fetch_one(&mut *tx)
                .await?;
                format!("{}-{year}-{n:05}", s.marac_code)
            }
        };
        let criteria =
            marac_domain::referral_rules::join_codes(&s.criteria, marac_domain::referral_rules::Criterion::code);
        let age_flags =
            marac_domain::referral_rules::join_codes(&s.age_flags, marac_domain::referral_rules::AgeFlag::code);
        sqlx::query(
            "UPDATE referrals SET reference = $1, status = 'submitted', marac_id = $2, joint_agency_id = $3, \
             form_sealed = $4, case_id = $5, checklist_id = $6, checklist_version = $7, score = $8, criteria = $9, \
             is_repeat = $10, age_flags = $11, victim_age_group = $12, children_count = $13, referral_date = $14, \
             incident_date = $15, updated_at = $16, submitted_at = $16, known_case_id = $18, visible_high_risk = $19, \
             victim_aged_16_17 = $20 WHERE id = $17",
        )
        .bind(&reference)
        .bind(s.marac_id)
        .bind(s.joint_agency_id)
        .bind(&s.form_sealed)
        .bind(case_id)
        .bind(&s.checklist_id)
        .bind(&s.checklist_version)
        .bind(s.score)
        .bind(criteria)
        .bind(s.is_repeat)
        .bind(age_flags)
        .bind(&s.victim_age_group)
        .bind(s.children_count)
        .bind(crate::Day(s.referral_date))
        .bind(crate::Day(s.incident_date))
        .bind(at)
        .bind(referral_id)
        .bind(held_elsewhere.map(|(case, _)| case))
        .bind(s.criteria.contains(&marac_domain::referral_rules::Criterion::VisibleHighRisk))
        .bind(s.age_flags.contains(&marac_domain::referral_rules::AgeFlag::VictimAged16To17))
        .execute(&mut *tx)
        .await?;
        // The question between the two Maracs, opened once for this referral.
        let transfer_id = match held_elsewhere {
            Some((case, holder)) => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO case_transfers (case_id, referral_id, from_marac_id, to_marac_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (referral_id) DO UPDATE SET case_id = excluded.case_id RETURNING id",
                )
                .bind(case)
                .bind(referral_id)
                .bind(holder)
                .bind(s.marac_id)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                Some(id)
            }
            None => None,
        };
        let p = &s.profile;
        let yes_no = |v: Option<bool>| match v {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        sqlx::query(
            "UPDATE referrals SET victim_gender = $1, victim_minoritised = $2, victim_disabled = $3, victim_lgbt = $4, \
             young_perpetrators = $5, young_perpetrators_partner = $6, children_known_csc = $7, children_cp_plan = $8, \
             victim_postcode_sector = $10 WHERE id = $9",
        )
        .bind(&p.victim_gender)
        .bind(yes_no(p.victim_minoritised))
        .bind(yes_no(p.victim_disabled))
        .bind(yes_no(p.victim_lgbt))
        .bind(p.young_perpetrators.map(i64::from))
        .bind(i64::from(p.young_perpetrators_partner))
        .bind(i64::from(p.children_known_to_social_care))
        .bind(i64::from(p.children_on_protection_plan))
        .bind(referral_id)
        .bind(&p.victim_postcode_sector)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM referral_matches WHERE referral_id = $1").bind(referral_id).execute(&mut *tx).await?;
        for m in &s.matches {
            // The referral's own record of the person the candidate is for.
            let own = match m.subject.strip_prefix("perpetrator:") {
                Some(n) => n.parse::<usize>().ok().and_then(|n| perpetrators.get(n.checked_sub(1)?)).copied(),
                None => Some(victim),
            };
            sqlx::query(
                "INSERT INTO referral_matches (referral_id, subject, person_id, score, certain, reasons_sealed, own_person_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(referral_id)
            .bind(&m.subject)
            .bind(m.person_id)
            .bind(m.score)
            .bind(m.certain)
            .bind(&m.reasons_sealed)
            .bind(own)
            .execute(&mut *tx)
            .await?;
        }
        let mut people = vec![victim];
        people.extend(perpetrators);
        Ok((crate::Submitted { referral_id, reference, case_id, held_elsewhere, transfer_id }, people))
    }

    pub(super) async fn resolve_person(
        conn: &mut <Db as sqlx::Database>::Connection,
        partnership_id: i64,
        person: &crate::PersonRef,
        at: crate::Ts,
    ) -> crate::StoreResult<i64> {
        match person {
            crate::PersonRef::Existing(id) => Ok(*id),
            crate::PersonRef::New { details_sealed, keys } => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO people (partnership_id, details_sealed, created_at, keys_version) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(partnership_id)
                .bind(details_sealed)
                .bind(at)
                .bind(marac_domain::matching::BLOCKING_KEYS_VERSION)
                .fetch_one(&mut *conn)
                .await?;
                Self::file_person_in(&mut *conn, id, keys).await?;
                Ok(id)
            }
        }
    }

    /// Files person `id` under `keys` (each once).
    pub(super) async fn file_person_in(
        conn: &mut <Db as sqlx::Database>::Connection,
        id: i64,
        keys: &[String],
    ) -> crate::StoreResult<()> {
        let mut keys: Vec<&String> = keys.iter().collect();
        keys.sort_unstable();
        keys.dedup();
        for chunk in keys.chunks(100) {
            let sql = format!(
                "INSERT INTO person_keys (key, person_id) VALUES {}",
                (0..chunk.len()).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect::<Vec<_>>().join(", ")
            );
            // Built from placeholders only; values are bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(*k).bind(id);
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::ReferralStore for This {
    async fn create_draft(
        &self,
        d: &crate::NewDraft,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let at = crate::Ts::new(audit.at);
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO referrals (marac_id, referrer_user_id, referring_agency_id, status, form_sealed, created_at, updated_at) \
             VALUES ($1, $2, $3, 'draft', $4, $5, $5) RETURNING id",
        )
        .bind(d.marac_id)
        .bind(d.referrer_user_id)
        .bind(d.referring_agency_id)
        .bind(&d.form_sealed)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let mut audit = audit;
        audit.target = format!("referral:{id}");
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn save_draft(
        &self,
        id: i64,
        marac_id: i64,
        form_sealed: &str,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE referrals SET form_sealed = $1, marac_id = $2, updated_at = $3 \
             WHERE id = $4 AND status IN ($5, $6)",
        )
        .bind(form_sealed)
        .bind(marac_id)
        .bind(at)
        .bind(id)
        .bind(crate::ReferralStatus::EDITABLE[0].code())
        .bind(crate::ReferralStatus::EDITABLE[1].code())
        .execute(&mut *tx)
        .await?;
        Self::found(r)?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_referral(&self, id: i64) -> crate::StoreResult<crate::Referral> {
        let sql = format!("SELECT {} FROM referrals WHERE id = $1", crate::rows::REFERRAL_COLUMNS);
        let row: crate::rows::ReferralRow =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?;
        row.into_referral()
    }

    async fn find_referral_by_reference(&self, reference: &str) -> crate::StoreResult<Option<crate::Referral>> {
        let sql = format!("SELECT {} FROM referrals WHERE reference = $1", crate::rows::REFERRAL_COLUMNS);
        let row: Option<crate::rows::ReferralRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(reference).fetch_optional(&self.pool).await?;
        row.map(crate::rows::ReferralRow::into_referral).transpose()
    }

    async fn list_referrals(&self, f: &crate::ReferralFilter) -> crate::StoreResult<Vec<crate::Referral>> {
        let mut q = Self::filtered_referrals(&format!("SELECT {}", crate::rows::REFERRAL_COLUMNS), f);
        q.push(" ORDER BY updated_at DESC, id DESC LIMIT ").push_bind(f.limit);
        let rows: Vec<crate::rows::ReferralRow> = q.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(crate::rows::ReferralRow::into_referral).collect()
    }

    async fn page_referrals(
        &self,
        f: &crate::ReferralFilter,
        page: marac_domain::paging::PageRequest,
        oldest_first: bool,
    ) -> crate::StoreResult<marac_domain::paging::Page<crate::Referral>> {
        let (total,): (i64,) =
            Self::filtered_referrals("SELECT COUNT(*)", f).build_query_as().fetch_one(&self.pool).await?;
        let mut q = Self::filtered_referrals(&format!("SELECT {}", crate::rows::REFERRAL_COLUMNS), f);
        q.push(if oldest_first { " ORDER BY id" } else { " ORDER BY updated_at DESC, id DESC" })
            .push(" LIMIT ")
            .push_bind(page.limit())
            .push(" OFFSET ")
            .push_bind(page.offset());
        let rows: Vec<crate::rows::ReferralRow> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(marac_domain::paging::Page {
            rows: rows.into_iter().map(crate::rows::ReferralRow::into_referral).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
            request: page,
        })
    }

    async fn last_referral_date(
        &self,
        victim_person_id: i64,
        perpetrator_ids: &[i64],
    ) -> crate::StoreResult<Option<time::Date>> {
        let mut conn = self.pool.acquire().await?;
        Self::last_date_of_people(&mut conn, victim_person_id, perpetrator_ids, None).await
    }

    async fn submit_referral(
        &self,
        s: &crate::Submission,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
        tell: &crate::TellHeldElsewhere,
    ) -> crate::StoreResult<crate::Submitted> {
        let mut tx = self.begin_write().await?;
        let (done, _) = Self::submit_in(&mut tx, s, at, false).await?;
        if let Some(case_id) = done.case_id {
            Self::move_case_in(&mut tx, case_id, CaseEvent::Referred, None, audit.actor_user_id, at).await?;
        }
        let mut audit = audit;
        audit.target = format!("referral:{}", done.referral_id);
        if let (Some(transfer_id), Some((_, holder))) = (done.transfer_id, done.held_elsewhere) {
            audit.notices.extend(tell(transfer_id, holder));
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(done)
    }

    async fn decide_referral(
        &self,
        id: i64,
        decision: &crate::Decision,
        by: i64,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<()> {
        let (status, note) = match decision {
            crate::Decision::Accept | crate::Decision::AcceptOnto(_) => (crate::ReferralStatus::Accepted.code(), None),
            crate::Decision::SendBack(n) => (crate::ReferralStatus::Returned.code(), Some(n.as_str())),
            crate::Decision::Decline(n) => (crate::ReferralStatus::Declined.code(), Some(n.as_str())),
        };
        let mut tx = self.begin_write().await?;
        // A referral is accepted onto a case of its own Marac: one naming a case another
        // Marac holds waits until that case is transferred.
        let r = sqlx::query(
            "UPDATE referrals SET status = $1, decision_note_sealed = COALESCE($2, decision_note_sealed), \
             decided_by = $3, decided_at = $4, updated_at = $4 \
             WHERE id = $5 AND status = 'submitted' AND ($1 <> 'accepted' OR case_id IS NOT NULL)",
        )
        .bind(status)
        .bind(note)
        .bind(by)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        Self::found(r)?;
        let (case_id, marac_id): (Option<i64>, i64) =
            sqlx::query_as("SELECT case_id, marac_id FROM referrals WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let event = match decision {
            crate::Decision::Accept | crate::Decision::AcceptOnto(_) => Some(CaseEvent::Accepted),
            crate::Decision::Decline(_) => Some(CaseEvent::Declined),
            crate::Decision::SendBack(_) => None,
        };
        if let (Some(case_id), Some(event)) = (case_id, event) {
            Self::move_case_in(&mut tx, case_id, event, None, Some(by), at).await?;
        }
        if let (Some(case_id), crate::Decision::AcceptOnto(meeting_id)) = (case_id, decision) {
            Self::list_on_in(&mut tx, (*meeting_id, marac_id), (case_id, id), by, at).await?;
        }
        if status == "declined" {
            sqlx::query(
                "UPDATE case_transfers SET outcome = 'withdrawn', decided_by = $1, decided_at = $2 \
                 WHERE referral_id = $3 AND outcome IS NULL",
            )
            .bind(by)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn referral_matches(&self, referral_id: i64) -> crate::StoreResult<Vec<crate::StoredMatch>> {
        let rows: Vec<(String, i64, i64, bool, String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT subject, person_id, score, certain, reasons_sealed, decision, own_person_id FROM referral_matches \
             WHERE referral_id = $1 ORDER BY subject, score DESC, person_id",
        )
        .bind(referral_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(subject, person_id, score, certain, reasons_sealed, decision, own)| crate::StoredMatch {
                subject,
                person_id,
                score,
                certain,
                reasons_sealed,
                confirmed: decision.map(|d| d == "confirmed"),
                decidable: own.is_some(),
            })
            .collect())
    }

    async fn decide_match(
        &self,
        d: &crate::MatchDecision,
        at: crate::Ts,
        audit: marac_domain::audit::NewAuditEvent,
    ) -> crate::StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let row: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT own_person_id, decision FROM referral_matches WHERE referral_id = $1 AND subject = $2 AND person_id = $3",
        )
        .bind(d.referral_id)
        .bind(&d.subject)
        .bind(d.person_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (own, before) = row.ok_or(crate::StoreError::NotFound)?;
        let own =
            own.ok_or_else(|| crate::StoreError::Conflict { constraint: "referral_matches.own_person_id".into() })?;
        let target = Self::counted_as(&mut tx, &[d.person_id]).await?.get(&d.person_id).copied().unwrap_or(d.person_id);
        if d.confirm {
            if own != target {
                Self::merge_into(&mut tx, own, target).await?;
            }
            // One person per subject: another candidate confirmed earlier is now rejected.
            sqlx::query(
                "UPDATE referral_matches SET decision = 'rejected', decided_by = $1, decided_at = $2 \
                 WHERE referral_id = $3 AND subject = $4 AND person_id <> $5 AND decision = 'confirmed'",
            )
            .bind(d.by)
            .bind(at)
            .bind(d.referral_id)
            .bind(&d.subject)
            .bind(d.person_id)
            .execute(&mut *tx)
            .await?;
        } else if before.as_deref() == Some("confirmed") {
            // Undo this confirmation's merge.
            sqlx::query("UPDATE people SET merged_into = NULL WHERE id = $1 AND merged_into = $2")
                .bind(own)
                .bind(target)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE referral_matches SET decision = $1, decided_by = $2, decided_at = $3 \
             WHERE referral_id = $4 AND subject = $5 AND person_id = $6",
        )
        .bind(if d.confirm { "confirmed" } else { "rejected" })
        .bind(d.by)
        .bind(at)
        .bind(d.referral_id)
        .bind(&d.subject)
        .bind(d.person_id)
        .execute(&mut *tx)
        .await?;

        let repeat = Self::recompute_repeat(&mut tx, d.referral_id, d.repeat_months).await?;
        Self::append_in(&mut tx, &self.audit_key, audit).await?;
        tx.commit().await?;
        Ok(repeat)
    }

    async fn get_case(&self, id: i64) -> crate::StoreResult<crate::Case> {
        let (id, marac_id, victim_person_id, perpetrator_ids, created_at): (i64, i64, i64, String, crate::Ts) =
            sqlx::query_as(
                "SELECT id, marac_id, victim_person_id, perpetrator_ids, created_at FROM cases WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        let perpetrator_ids = crate::rows::perpetrator_ids(id, &perpetrator_ids)?;
        Ok(crate::Case { id, marac_id, victim_person_id, perpetrator_ids, created_at })
    }

    async fn case_access(&self, case_id: i64) -> crate::StoreResult<marac_domain::policy::CaseAccess> {
        let case = self.get_case(case_id).await?;
        // A referral opens its case to its agencies once a coordinator accepts it onto
        // the case, not when it is submitted.
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT referring_agency_id, joint_agency_id FROM referrals WHERE case_id = $1 AND status = 'accepted'",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        let mut referring: Vec<i64> = rows.iter().flat_map(|(a, j)| std::iter::once(*a).chain(*j)).collect();
        referring.sort_unstable();
        referring.dedup();
        // Agencies invited to a meeting whose published list holds the case.
        let attending: Vec<i64> = sqlx::query_as::<_, (i64,)>(
            "SELECT DISTINCT ma.agency_id FROM meeting_cases mc JOIN meetings m ON m.id = mc.meeting_id \
             JOIN meeting_agencies ma ON ma.meeting_id = m.id \
             WHERE mc.case_id = $1 AND m.status IN ('published', 'held') ORDER BY ma.agency_id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|(a,)| a)
        .collect();
        // The Marac's setting may open the case to every agency attending the Marac while it is
        // on its way; once heard, research is closed.
        let (stage, opens): (Option<String>, String) = sqlx::query_as(
            "SELECT c.stage, m.research_opens FROM cases c JOIN maracs m ON m.id = c.marac_id WHERE c.id = $1",
        )
        .bind(case_id)
        .fetch_one(&self.pool)
        .await?;
        let stage = stage.as_deref().and_then(marac_domain::case_stage::CaseStage::from_code);
        let opens = marac_domain::marac_rules::ResearchOpens::from_code(&opens)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown research setting {opens}")))?;
        let researching: Vec<i64> = if opens.opens(stage) {
            sqlx::query_as::<_, (i64,)>("SELECT agency_id FROM agency_maracs WHERE marac_id = $1 ORDER BY agency_id")
                .bind(case.marac_id)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|(a,)| a)
                .collect()
        } else {
            Vec::new()
        };
        let heard = stage.is_some_and(marac_domain::case_stage::CaseStage::is_heard);
        let owners: Vec<(i64,)> =
            sqlx::query_as("SELECT DISTINCT agency_id FROM actions WHERE case_id = $1 ORDER BY agency_id")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?;
        let held_before: Vec<(i64, crate::Ts)> = sqlx::query_as(
            "SELECT from_marac_id, decided_at FROM case_transfers \
             WHERE case_id = $1 AND outcome = 'moved' AND decided_at IS NOT NULL ORDER BY decided_at",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(marac_domain::policy::CaseAccess {
            marac_id: case.marac_id,
            referring_agency_ids: referring,
            attending_agency_ids: attending,
            researching_agency_ids: researching,
            heard,
            action_owner_agency_ids: owners.into_iter().map(|(a,)| a).collect(),
            held_before: held_before
                .into_iter()
                .map(|(marac_id, until)| marac_domain::policy::HeldBefore { marac_id, until: until.0 })
                .collect(),
            ..Default::default()
        })
    }

    async fn case_summaries(&self, marac_id: i64) -> crate::StoreResult<Vec<crate::CaseSummary>> {
        let rows: Vec<(i64, Option<String>, Option<crate::Day>)> = sqlx::query_as(
            "SELECT case_id, MIN(reference), MAX(referral_date) FROM referrals \
             WHERE marac_id = $1 AND case_id IS NOT NULL AND status = 'accepted' GROUP BY case_id ORDER BY case_id",
        )
        .bind(marac_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(case_id, reference, last)| crate::CaseSummary {
                case_id,
                reference: reference.unwrap_or_default(),
                last_referral_on: last.map(time::Date::from),
            })
            .collect())
    }
}
