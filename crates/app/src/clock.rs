//! The time, behind a trait so tests can move it instead of sleeping.

use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Where the application reads the time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;

    /// Today, as a day in the UK: what "overdue", "upcoming" and "today" mean to the people
    /// using the service, whatever the hour in UTC.
    fn today(&self) -> time::Date {
        marac_domain::uk_time::uk_date(self.now())
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until moved; for tests and synthetic data.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// Starts at `t`.
    #[must_use]
    pub fn new(t: OffsetDateTime) -> Self {
        ManualClock(Mutex::new(t))
    }

    /// Sets the time (synthetic data dated day by day).
    pub fn set(&self, to: OffsetDateTime) {
        if let Ok(mut t) = self.0.lock() {
            *t = to;
        }
    }

    /// Moves the clock on.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.0.lock().map_or_else(|p| *p.into_inner(), |t| *t)
    }
}
