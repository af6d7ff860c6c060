//! The flag methods of [`crate::Store`], shared by both backends like [`crate::sql`].

#[derive(sqlx::FromRow)]
pub(crate) struct FlagRow {
    id: i64,
    case_id: i64,
    marac_id: i64,
    meeting_id: Option<i64>,
    agency_id: i64,
    kind: String,
    note_sealed: String,
    set_on: String,
    expires_on: String,
    set_by: Option<i64>,
    set_at: crate::Ts,
    ended_at: Option<crate::Ts>,
    ended_reason_sealed: Option<String>,
}

impl FlagRow {
    pub(crate) fn into_flag(self) -> crate::StoreResult<crate::CaseFlag> {
        let kind = marac_domain::flags::FlagKind::from_code(&self.kind)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown flag kind {}", self.kind)))?;
        Ok(crate::CaseFlag {
            id: self.id,
            marac_id: self.marac_id,
            flag: crate::NewFlag {
                case_id: self.case_id,
                meeting_id: self.meeting_id,
                agency_id: self.agency_id,
                kind,
                note_sealed: self.note_sealed,
                set_on: crate::meeting_rows::parse_day(&self.set_on)?,
                expires_on: crate::meeting_rows::parse_day(&self.expires_on)?,
                set_by: self.set_by.unwrap_or_default(),
                set_at: self.set_at,
            },
            ended_at: self.ended_at,
            ended_reason_sealed: self.ended_reason_sealed,
        })
    }
}

/// Expands to the flag methods as inherent methods of `$ty` (named `flags_*`); the `Store`
/// impl delegates to them, since `async_trait` cannot see inside a macro call.
macro_rules! flag_methods {
    ($ty:ty, $db:ty) => {
        impl $ty {
            pub(crate) async fn flags_add_flag(
                &self,
                f: &$crate::NewFlag,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO case_flags (case_id, meeting_id, agency_id, kind, note_sealed, set_on, expires_on, \
                     set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(f.case_id)
                .bind(f.meeting_id)
                .bind(f.agency_id)
                .bind(f.kind.code())
                .bind(&f.note_sealed)
                .bind($crate::meeting_rows::day(f.set_on))
                .bind($crate::meeting_rows::day(f.expires_on))
                .bind(f.set_by)
                .bind(f.set_at)
                .fetch_one(&mut *tx)
                .await?;
                let mut audit = audit;
                // The id exists only now; the event names it so the trail leads to the flag.
                if let Ok(serde_json::Value::Object(mut detail)) = serde_json::from_str(&audit.detail) {
                    detail.insert("flag".to_owned(), id.into());
                    audit.detail = serde_json::Value::Object(detail).to_string();
                }
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(id)
            }

            pub(crate) async fn flags_list_flags(
                &self,
                f: &$crate::FlagFilter,
            ) -> $crate::StoreResult<Vec<$crate::CaseFlag>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT f.id, f.case_id, c.marac_id, f.meeting_id, f.agency_id, f.kind, f.note_sealed, f.set_on, \
                     f.expires_on, f.set_by, f.set_at, f.ended_at, f.ended_reason_sealed \
                     FROM case_flags f JOIN cases c ON c.id = f.case_id WHERE 1 = 1",
                );
                if let Some(c) = f.case_id {
                    q.push(" AND f.case_id = ").push_bind(c);
                }
                if let Some(m) = f.marac_id {
                    q.push(" AND c.marac_id = ").push_bind(m);
                }
                if let Some(m) = f.meeting_id {
                    q.push(" AND f.meeting_id = ").push_bind(m);
                }
                if f.running_only {
                    q.push(" AND f.ended_at IS NULL");
                }
                q.push(" ORDER BY f.expires_on, f.id");
                let rows: Vec<$crate::flag_sql::FlagRow> = q.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::flag_sql::FlagRow::into_flag).collect()
            }

            pub(crate) async fn flags_end_flag(
                &self,
                id: i64,
                by: i64,
                reason_sealed: &str,
                at: $crate::Ts,
                audit: marac_domain::audit::NewAuditEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE case_flags SET ended_at = $1, ended_by = $2, ended_reason_sealed = $3 \
                     WHERE id = $4 AND ended_at IS NULL",
                )
                .bind(at)
                .bind(by)
                .bind(reason_sealed)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound);
                }
                Self::append_in(&mut tx, &self.audit_key, audit).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use flag_methods;
