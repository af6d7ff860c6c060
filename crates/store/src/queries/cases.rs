//! The queries of [`crate::CaseStore`], and the moves of a case's stage that other aggregates'
//! writes make in their own transactions, written once and compiled for each backend:
//! `sqlite.rs` and `postgres.rs` include this file with `Db` and `This` naming their types.

use super::{Db, This};
use marac_domain::case_stage::{self, CaseEvent, CaseStage};
use marac_domain::marac_rules::ResearchOpens;
use marac_domain::policy::CaseScope;

/// Action statuses that keep a case open.
const OUTSTANDING: &str = "('open', 'carried_forward')";

/// Pushes `column IN (ids)`, or a condition nothing meets when there are no ids.
pub(super) fn push_in(q: &mut sqlx::QueryBuilder<Db>, column: &str, ids: &[i64]) {
    if ids.is_empty() {
        q.push("1 = 0");
        return;
    }
    q.push(column).push(" IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    list.push_unseparated(")");
}

/// Pushes the condition that the case `c` (with `c.id` and `c.marac_id`) is one `scope` sees:
/// the same rule as [`marac_domain::policy::authorise`] on `ReadCase`, held to it by
/// `CaseScope::admits` and its test.
pub(super) fn push_case_scope(q: &mut sqlx::QueryBuilder<Db>, scope: &CaseScope) {
    q.push("(");
    push_in(q, "c.marac_id", &scope.whole_maracs);
    if let Some(agency) = scope.agency_id.filter(|_| !scope.practitioner_maracs.is_empty()) {
        q.push(" OR (");
        push_in(q, "c.marac_id", &scope.practitioner_maracs);
        q.push(
            " AND (EXISTS (SELECT 1 FROM referrals sr WHERE sr.case_id = c.id AND sr.status = 'accepted' \
             AND (sr.referring_agency_id = ",
        )
        .push_bind(agency)
        .push(" OR sr.joint_agency_id = ")
        .push_bind(agency)
        .push(")) OR EXISTS (SELECT 1 FROM actions sa WHERE sa.case_id = c.id AND sa.agency_id = ")
        .push_bind(agency)
        .push(") OR (");
        push_in(q, "c.marac_id", &scope.attending_maracs);
        q.push(
            " AND (EXISTS (SELECT 1 FROM meeting_cases smc JOIN meetings sm ON sm.id = smc.meeting_id \
             JOIN meeting_agencies sma ON sma.meeting_id = sm.id \
             WHERE smc.case_id = c.id AND sm.status IN ('published', 'held') AND sma.agency_id = ",
        )
        .push_bind(agency)
        // Or the Marac's setting opens the case, at its stage, to the agencies attending it.
        .push(
            ") OR EXISTS (SELECT 1 FROM agency_maracs sam JOIN maracs srm ON srm.id = sam.marac_id \
             WHERE sam.marac_id = c.marac_id AND sam.agency_id = ",
        )
        .push_bind(agency)
        .push(" AND (1 = 0");
        for setting in ResearchOpens::ALL {
            let stages = setting.open_stages();
            if stages.is_empty() {
                continue;
            }
            q.push(" OR (srm.research_opens = ").push_bind(setting.code()).push(" AND c.stage IN (");
            let mut list = q.separated(", ");
            for stage in stages {
                list.push_bind(stage.code());
            }
            list.push_unseparated("))");
        }
        q.push("))))))");
    }
    q.push(")");
}

impl This {
    /// Moves case `case_id` on after `event`, in the caller's transaction: asks the domain where
    /// the event takes it (given whether any of its actions are still outstanding) and, if it
    /// moves, records the new stage with who and when. `meeting_id` is the meeting the event
    /// concerns, if any.
    pub(super) async fn move_case_in(
        conn: &mut <Db as sqlx::Database>::Connection,
        case_id: i64,
        event: CaseEvent,
        meeting_id: Option<i64>,
        by: Option<i64>,
        at: crate::Ts,
    ) -> crate::StoreResult<()> {
        let (stage, stage_meeting): (Option<String>, Option<i64>) =
            sqlx::query_as("SELECT stage, stage_meeting_id FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_one(&mut *conn)
                .await?;
        let current = match stage {
            Some(code) => Some(
                CaseStage::from_code(&code)
                    .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown case stage {code}")))?,
            ),
            None => None,
        };
        let open: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM actions WHERE case_id = $1 AND status IN {OUTSTANDING} LIMIT 1"
        )))
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(next) = case_stage::after(current, event, open.is_some()) else {
            return Ok(());
        };
        let meeting = if next.names_meeting() { meeting_id.or(stage_meeting) } else { None };
        sqlx::query("UPDATE cases SET stage = $1, stage_meeting_id = $2, stage_at = $3 WHERE id = $4")
            .bind(next.code())
            .bind(meeting)
            .bind(at)
            .bind(case_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO case_events (case_id, stage, meeting_id, by_user_id, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(case_id)
            .bind(next.code())
            .bind(meeting)
            .bind(by)
            .bind(at)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Works out the stage of each case with none from its records, in the order the cycle
    /// runs: on an unheld meeting's list; accepted and never listed; then from its latest
    /// meeting (deferred, or heard and open while any action is outstanding, closed once the
    /// meeting is held); else from its referrals.
    pub(super) async fn stage_unstaged_in(conn: &mut <Db as sqlx::Database>::Connection) -> crate::StoreResult<u64> {
        let latest = "(SELECT mc.meeting_id FROM meeting_cases mc JOIN meetings m ON m.id = mc.meeting_id \
                      WHERE mc.case_id = cases.id ORDER BY m.held_on DESC, m.id DESC LIMIT 1)";
        let outcome = format!("(SELECT outcome FROM meeting_cases WHERE case_id = cases.id AND meeting_id = {latest})");
        let held = format!("(SELECT status FROM meetings WHERE id = {latest})");
        let sql = format!(
            "UPDATE cases SET stage_meeting_id = {latest}, stage = CASE \
             WHEN {held} IN ('planned', 'published') AND {outcome} = 'listed' THEN 'listed' \
             WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id AND r.status = 'accepted' \
                 AND NOT EXISTS (SELECT 1 FROM meeting_cases mc WHERE mc.referral_id = r.id)) THEN 'awaiting_meeting' \
             WHEN {outcome} = 'deferred' THEN 'deferred' \
             WHEN {outcome} IS NOT NULL AND EXISTS (SELECT 1 FROM actions a WHERE a.case_id = cases.id \
                 AND a.status IN {OUTSTANDING}) THEN 'actions_open' \
             WHEN {held} = 'held' THEN 'closed' \
             WHEN {outcome} = 'heard' THEN 'heard' \
             WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id AND r.status = 'submitted') THEN 'referred' \
             WHEN EXISTS (SELECT 1 FROM referrals r WHERE r.case_id = cases.id AND r.status = 'declined') THEN 'declined' \
             ELSE 'referred' END \
             WHERE stage IS NULL"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?.rows_affected();
        // Only the stages that name a meeting keep one.
        sqlx::query(
            "UPDATE cases SET stage_meeting_id = NULL \
             WHERE stage IN ('referred', 'declined', 'awaiting_meeting') AND stage_meeting_id IS NOT NULL",
        )
        .execute(&mut *conn)
        .await?;
        Ok(done)
    }
}

#[async_trait::async_trait]
impl crate::CaseStore for This {
    async fn list_cases(
        &self,
        f: &crate::CaseFilter,
    ) -> crate::StoreResult<marac_domain::paging::Page<crate::CaseListRow>> {
        let filtered = |select: &str| {
            let mut q = sqlx::QueryBuilder::<Db>::new(select);
            q.push(" WHERE ");
            push_case_scope(&mut q, &f.scope);
            if let Some(ids) = &f.marac_ids {
                q.push(" AND ");
                push_in(&mut q, "c.marac_id", ids);
            }
            if let Some(people) = &f.victim_person_ids {
                q.push(" AND (");
                push_in(&mut q, "c.victim_person_id", people);
                q.push(" OR c.victim_person_id IN (SELECT p.id FROM people p WHERE ");
                push_in(&mut q, "p.merged_into", people);
                q.push("))");
            }
            if let Some(ids) = &f.case_ids {
                q.push(" AND ");
                push_in(&mut q, "c.id", ids);
            }
            if f.open_to_research {
                q.push(" AND (c.stage IN (");
                let mut list = q.separated(", ");
                for s in CaseStage::ON_THE_WAY {
                    list.push_bind(s.code());
                }
                q.push(") OR (c.stage = ")
                    .push_bind(CaseStage::Referred.code())
                    .push(" AND EXISTS (SELECT 1 FROM maracs om WHERE om.id = c.marac_id AND om.research_opens = ")
                    .push_bind(ResearchOpens::OnSubmission.code())
                    .push(")))");
            }
            if !f.stages.is_empty() {
                q.push(" AND c.stage IN (");
                let mut list = q.separated(", ");
                for s in &f.stages {
                    list.push_bind(s.code());
                }
                list.push_unseparated(")");
            }
            q
        };
        let (total,): (i64,) = filtered("SELECT COUNT(*) FROM cases c").build_query_as().fetch_one(&self.pool).await?;
        let mut q = filtered(
            "SELECT c.id, c.marac_id, c.stage, sm.id, sm.held_on FROM cases c \
             LEFT JOIN meetings sm ON sm.id = c.stage_meeting_id",
        );
        q.push(match f.order {
            // Cases listed for a meeting come first, the soonest meeting first.
            crate::CaseOrder::SoonestMeeting => {
                " ORDER BY CASE WHEN c.stage = 'listed' THEN 0 ELSE 1 END, \
                 CASE WHEN c.stage = 'listed' THEN sm.held_on END, c.id"
            }
            crate::CaseOrder::Newest => {
                " ORDER BY (SELECT MAX(r.id) FROM referrals r WHERE r.case_id = c.id \
                 AND r.status IN ('submitted', 'accepted', 'declined')) DESC, c.id DESC"
            }
        });
        q.push(" LIMIT ").push_bind(f.page.limit()).push(" OFFSET ").push_bind(f.page.offset());
        let cases: Vec<(i64, i64, Option<String>, Option<i64>, Option<crate::Day>)> =
            q.build_query_as().fetch_all(&self.pool).await?;
        // The page's own referrals, in one query: each case's latest accepted, else its latest sent.
        let ids: Vec<i64> = cases.iter().map(|c| c.0).collect();
        let mut latest: std::collections::HashMap<i64, (i64, Option<String>, String, Option<crate::Day>)> =
            std::collections::HashMap::new();
        if !ids.is_empty() {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT case_id, id, reference, form_sealed, referral_date FROM (SELECT r.case_id, r.id, \
                 r.reference, r.form_sealed, r.referral_date, ROW_NUMBER() OVER (PARTITION BY r.case_id \
                 ORDER BY CASE WHEN r.status = 'accepted' THEN 0 ELSE 1 END, r.id DESC) AS n \
                 FROM referrals r WHERE r.status IN ('accepted', 'submitted', 'declined') AND ",
            );
            push_in(&mut q, "r.case_id", &ids);
            q.push(") t WHERE n = 1");
            let found: Vec<(i64, i64, Option<String>, String, Option<crate::Day>)> =
                q.build_query_as().fetch_all(&self.pool).await?;
            latest = found.into_iter().map(|(case, id, r, f, d)| (case, (id, r, f, d))).collect();
        }
        let mut rows = Vec::with_capacity(cases.len());
        for (case_id, marac_id, stage, meeting_id, held_on) in cases {
            let Some((referral_id, reference, form_sealed, referral_date)) = latest.remove(&case_id) else { continue };
            rows.push(crate::CaseListRow {
                case_id,
                marac_id,
                stage: stage.as_deref().and_then(CaseStage::from_code),
                stage_meeting: meeting_id.zip(held_on.map(time::Date::from)),
                referral_id,
                reference: reference.unwrap_or_default(),
                form_sealed,
                referral_date: referral_date.map(time::Date::from),
            });
        }
        Ok(marac_domain::paging::Page { rows, total: u64::try_from(total).unwrap_or(0), request: f.page })
    }

    async fn case_history(&self, case_id: i64) -> crate::StoreResult<Vec<crate::CaseStageChange>> {
        let rows: Vec<(String, Option<i64>, Option<crate::Day>, Option<i64>, Option<i64>, crate::Ts)> = sqlx::query_as(
            "SELECT e.stage, e.meeting_id, m.held_on, m.marac_id, e.by_user_id, e.at FROM case_events e \
             LEFT JOIN meetings m ON m.id = e.meeting_id WHERE e.case_id = $1 ORDER BY e.id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(stage, meeting_id, meeting_on, meeting_marac_id, by_user_id, at)| {
                Ok(crate::CaseStageChange {
                    stage: CaseStage::from_code(&stage)
                        .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown case stage {stage}")))?,
                    meeting_id,
                    meeting_on: meeting_on.map(time::Date::from),
                    meeting_marac_id,
                    by_user_id,
                    at,
                })
            })
            .collect()
    }

    async fn case_stage(&self, case_id: i64) -> crate::StoreResult<(Option<CaseStage>, Option<(i64, time::Date)>)> {
        let (stage, meeting_id, held_on): (Option<String>, Option<i64>, Option<crate::Day>) = sqlx::query_as(
            "SELECT c.stage, m.id, m.held_on FROM cases c LEFT JOIN meetings m ON m.id = c.stage_meeting_id \
             WHERE c.id = $1",
        )
        .bind(case_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((stage.as_deref().and_then(CaseStage::from_code), meeting_id.zip(held_on.map(time::Date::from))))
    }

    async fn stage_unstaged_cases(&self) -> crate::StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let done = Self::stage_unstaged_in(&mut tx).await?;
        tx.commit().await?;
        Ok(done)
    }
}
