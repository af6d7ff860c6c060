//! Dates and times as people in the UK read them: GOV.UK style ("6 December 2026", "9:48pm"),
//! in UK time (GMT in winter, BST in summer), never UTC and never `2026-12-06`.
//!
//! British Summer Time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
//! Sunday of October (the Summer Time Order 2002). The rule is fixed in law and this is the only
//! zone the service shows, so it is written here rather than carried in a time-zone database.

use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// The last Sunday of `month` in `year`, at 01:00 UTC: when the clocks change.
fn change_in(year: i32, month: Month) -> OffsetDateTime {
    let last = Date::from_calendar_date(year, month, month.length(year)).unwrap_or(Date::MIN);
    let back = i64::from(last.weekday().number_days_from_sunday());
    let sunday = last - time::Duration::days(back);
    sunday.with_time(Time::from_hms(1, 0, 0).unwrap_or(Time::MIDNIGHT)).assume_utc()
}

/// The instant in UK time.
#[must_use]
pub fn to_uk(at: OffsetDateTime) -> OffsetDateTime {
    let year = at.year();
    let summer = at >= change_in(year, Month::March) && at < change_in(year, Month::October);
    let offset = if summer { UtcOffset::from_hms(1, 0, 0).unwrap_or(UtcOffset::UTC) } else { UtcOffset::UTC };
    at.to_offset(offset)
}

/// "6 December 2026".
#[must_use]
pub fn date(d: Date) -> String {
    format!("{} {} {}", d.day(), d.month(), d.year())
}

/// "6 Dec 2026", for narrow table columns.
#[must_use]
pub fn short_date(d: Date) -> String {
    let month = d.month().to_string();
    format!("{} {} {}", d.day(), month.get(..3).unwrap_or(&month), d.year())
}

/// "9:48pm", "12pm" (midday), "12am" (midnight), in UK time.
#[must_use]
pub fn time(at: OffsetDateTime) -> String {
    clock(to_uk(at).time())
}

/// A time of day as GOV.UK writes it: "9:48pm", "10am", "12pm".
#[must_use]
pub fn clock(t: Time) -> String {
    let (h, m) = (t.hour(), t.minute());
    let suffix = if h < 12 { "am" } else { "pm" };
    let h12 = match h % 12 {
        0 => 12,
        h => h,
    };
    if m == 0 { format!("{h12}{suffix}") } else { format!("{h12}:{m:02}{suffix}") }
}

/// "6 December 2026 at 9:48pm", in UK time (the day is the UK day too).
#[must_use]
pub fn date_time(at: OffsetDateTime) -> String {
    let uk = to_uk(at);
    format!("{} at {}", date(uk.date()), clock(uk.time()))
}

/// The UK day an instant falls on.
#[must_use]
pub fn uk_date(at: OffsetDateTime) -> Date {
    to_uk(at).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    #[test]
    fn dates_are_written_in_full() {
        assert_eq!(date(date!(2026 - 12 - 06)), "6 December 2026");
        assert_eq!(short_date(date!(2026 - 09 - 16)), "16 Sep 2026");
    }

    #[test]
    fn times_are_written_the_gov_uk_way() {
        assert_eq!(clock(time!(21:48)), "9:48pm");
        assert_eq!(clock(time!(10:00)), "10am");
        assert_eq!(clock(time!(12:00)), "12pm");
        assert_eq!(clock(time!(00:05)), "12:05am");
    }

    #[test]
    fn summer_time_starts_and_ends_on_the_last_sundays_at_one_utc() {
        // 2026: BST from 29 March to 25 October.
        assert_eq!(date_time(datetime!(2026-03-29 00:59 UTC)), "29 March 2026 at 12:59am");
        assert_eq!(date_time(datetime!(2026-03-29 01:00 UTC)), "29 March 2026 at 2am");
        assert_eq!(date_time(datetime!(2026-10-25 00:59 UTC)), "25 October 2026 at 1:59am");
        assert_eq!(date_time(datetime!(2026-10-25 01:00 UTC)), "25 October 2026 at 1am");
        assert_eq!(time(datetime!(2026-07-01 21:48 UTC)), "10:48pm");
        assert_eq!(time(datetime!(2026-12-01 21:48 UTC)), "9:48pm");
    }

    #[test]
    fn a_late_summer_evening_in_utc_is_the_next_day_in_the_uk() {
        assert_eq!(uk_date(datetime!(2026-06-30 23:30 UTC)), date!(2026 - 07 - 01));
        assert_eq!(uk_date(datetime!(2026-12-31 23:30 UTC)), date!(2026 - 12 - 31));
    }
}
