//! Calendar days as each database keeps them: `DATE` in PostgreSQL, `YYYY-MM-DD` text in
//! SQLite (so that comparing the text compares the days). Reading a stored day is strict: a
//! value that is not a day is damage, reported as such, never guessed at.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};
use time::Date;
use time::macros::format_description;

/// A calendar day (a meeting's date, an action's due date, a referral's date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub Date);

impl From<Date> for Day {
    fn from(d: Date) -> Self {
        Day(d)
    }
}

impl From<Day> for Date {
    fn from(d: Day) -> Self {
        d.0
    }
}

impl Type<Sqlite> for Day {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for Day {
    fn encode_by_ref(&self, buf: &mut <Sqlite as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.0.to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Day {
    fn decode(value: <Sqlite as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<Sqlite>>::decode(value)?;
        Ok(Day(Date::parse(text, format_description!("[year]-[month]-[day]"))?))
    }
}

impl Type<Postgres> for Day {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <Date as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Day {
    fn encode_by_ref(&self, buf: &mut <Postgres as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Day {
    fn decode(value: <Postgres as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Day(<Date as Decode<Postgres>>::decode(value)?))
    }
}
