//! Importing a Marac's history in one transaction: every referral or none, and a second run
//! of the same file adds nothing (rows are known by the Marac and the spreadsheet's reference).

/// Expands to the import method as an inherent method of `$ty`.
macro_rules! import_methods {
    ($ty:ty, $db:ty) => {
        impl $ty {
            pub(crate) async fn imports_import_referrals(
                &self,
                items: &[$crate::ImportedReferral],
                by: i64,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<$crate::ImportCount> {
                let mut tx = self.begin_write().await?;
                let mut count = $crate::ImportCount::default();
                // People new to the system who appear on several rows are filed once: later
                // rows with the same matching keys name the person the first row filed.
                let mut filed: std::collections::HashMap<Vec<String>, i64> = std::collections::HashMap::new();
                let keys_of = |p: &$crate::PersonRef| match p {
                    $crate::PersonRef::New { keys, .. } => {
                        let mut k = keys.clone();
                        k.sort_unstable();
                        k.dedup();
                        Some(k)
                    }
                    $crate::PersonRef::Existing(_) => None,
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
                    let relink = |p: &mut $crate::PersonRef| {
                        if let Some(id) = keys_of(p).and_then(|k| filed.get(&k).copied()) {
                            *p = $crate::PersonRef::Existing(id);
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
                        let held_on = $crate::meeting_rows::day(day);
                        let found: Option<(i64,)> =
                            sqlx::query_as("SELECT id FROM meetings WHERE marac_id = $1 AND held_on = $2 ORDER BY id LIMIT 1")
                                .bind(s.marac_id)
                                .bind(&held_on)
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
                                .bind(&held_on)
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
                        .bind(done.case_id.ok_or_else(|| $crate::StoreError::Corrupt("imported referral without a case".into()))?)
                        .bind(done.referral_id)
                        .bind(by)
                        .bind(item.made_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    count.added += 1;
                }
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
        }
    };
}

pub(crate) use import_methods;
