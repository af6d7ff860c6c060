//! Times as each database keeps them: `TIMESTAMPTZ` in PostgreSQL, fixed-width UTC text in
//! SQLite (so that comparing the text compares the times).

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// A point in time, stored to the microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub OffsetDateTime);

impl Ts {
    /// Wraps a time, converting it to UTC and dropping nanoseconds.
    #[must_use]
    pub fn new(t: OffsetDateTime) -> Self {
        Ts(marac_domain::audit::to_micros(t.to_offset(UtcOffset::UTC)))
    }

    fn sqlite_text(self) -> Result<String, BoxDynError> {
        let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
        Ok(self.0.to_offset(UtcOffset::UTC).format(&f)?)
    }
}

impl From<OffsetDateTime> for Ts {
    fn from(t: OffsetDateTime) -> Self {
        Ts::new(t)
    }
}

impl Type<Sqlite> for Ts {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for Ts {
    fn encode_by_ref(&self, buf: &mut <Sqlite as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.sqlite_text()?, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Ts {
    fn decode(value: <Sqlite as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Ts(OffsetDateTime::parse(text, &Rfc3339)?))
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut <Postgres as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Ts {
    fn decode(value: <Postgres as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Ts(<OffsetDateTime as Decode<Postgres>>::decode(value)?))
    }
}
