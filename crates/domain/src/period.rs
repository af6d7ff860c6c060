//! Calendar quarters, the periods returns are made for.

use time::{Date, Month};

/// A calendar quarter: January to March is the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    /// The year.
    pub year: i32,
    /// 1 to 4.
    pub number: u8,
}

impl Quarter {
    /// The quarter a day falls in.
    #[must_use]
    pub fn containing(day: Date) -> Quarter {
        Quarter { year: day.year(), number: (u8::from(day.month()) - 1) / 3 + 1 }
    }

    /// Its first day.
    #[must_use]
    pub fn first_day(self) -> Date {
        let month = Month::try_from(3 * (self.number - 1) + 1).unwrap_or(Month::January);
        Date::from_calendar_date(self.year, month, 1).unwrap_or(Date::MIN)
    }

    /// Its last day.
    #[must_use]
    pub fn last_day(self) -> Date {
        self.next().first_day().previous_day().unwrap_or(Date::MAX)
    }

    /// Days in it.
    #[must_use]
    pub fn days(self) -> u32 {
        u32::try_from((self.last_day() - self.first_day()).whole_days() + 1).unwrap_or(0)
    }

    /// The quarter after.
    #[must_use]
    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter { year: self.year + 1, number: 1 }
        } else {
            Quarter { number: self.number + 1, ..self }
        }
    }

    /// The quarter before.
    #[must_use]
    pub fn previous(self) -> Quarter {
        if self.number == 1 {
            Quarter { year: self.year - 1, number: 4 }
        } else {
            Quarter { number: self.number - 1, ..self }
        }
    }

    /// The code used in addresses and files: `2026-q3`.
    #[must_use]
    pub fn code(self) -> String {
        format!("{}-q{}", self.year, self.number)
    }

    /// Parses [`Quarter::code`].
    #[must_use]
    pub fn parse(code: &str) -> Option<Quarter> {
        let (year, number) =
            code.trim().to_ascii_lowercase().split_once("-q").map(|(y, n)| (y.to_owned(), n.to_owned()))?;
        let q =
            Quarter { year: year.parse().ok().filter(|y| (2000..=2100).contains(y))?, number: number.parse().ok()? };
        (1..=4).contains(&q.number).then_some(q)
    }

    /// What people read: "July to September 2026".
    #[must_use]
    pub fn label(self) -> String {
        format!("{} to {} {}", self.first_day().month(), self.last_day().month(), self.year)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn quarters_cover_the_year() {
        let q = Quarter::containing(date!(2026 - 11 - 23));
        assert_eq!(
            (q.code(), q.first_day(), q.last_day(), q.days()),
            ("2026-q4".into(), date!(2026 - 10 - 01), date!(2026 - 12 - 31), 92)
        );
        assert_eq!(q.next().code(), "2027-q1");
        assert_eq!(q.next().previous(), q);
        assert_eq!(Quarter::parse("2026-Q1").map(|q| q.days()), Some(90));
        assert_eq!(Quarter::parse("2026-q5"), None);
        assert_eq!(Quarter::parse("nonsense"), None);
        assert_eq!(q.label(), "October to December 2026");
    }
}
