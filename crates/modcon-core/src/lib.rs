//! The storage and rules core: everything modcon knows about forum
//! databases, with no terminal code and no printing. The command line and
//! the TUI are two front ends over these functions.

pub mod audit;
pub mod check;
pub mod conditions;
pub mod db;
pub mod demo;
pub mod failpoint;
pub mod flags;
pub mod lock;
pub mod media;
pub mod migrate;
pub mod model;
pub mod purge;
pub mod query;
pub mod rules;
pub mod schema;
pub mod sql;
pub mod system;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

/// Who acts, when and why: passed to every operation that changes data,
/// and written with it to the audit log.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub now: NaiveDateTime,
    /// The name the moderator acts under (`--actor`: a claim anyone can make).
    pub actor: String,
    /// The operating-system account that runs the process, from its user
    /// id: who really acted, whatever the actor's name says.
    pub os_account: Option<String>,
    /// The SSH client's address, when the console runs over SSH.
    pub client_addr: Option<String>,
    /// Why: the reason the moderator gave for this action, if any.
    pub reason: Option<String>,
    /// Days a deleted row is kept before a purge may remove it.
    pub retention_days: i64,
}

impl Ctx {
    /// The same context with the reason for one action.
    pub fn with_reason(&self, reason: Option<String>) -> Ctx {
        Ctx {
            reason: reason
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty()),
            ..self.clone()
        }
    }

    pub fn now_text(&self) -> String {
        model::format_datetime(self.now)
    }

    /// Deletion times at or before this are past retention.
    pub fn cutoff(&self) -> String {
        cutoff(self.now, self.retention_days)
    }
}

/// Deletion times at or before the cutoff are past retention. A retention
/// reaching back before the year 1 (no Django datetime is earlier, and
/// chrono's range ends not far beyond) clamps the cutoff to
/// `0001-01-01 00:00:00`: nothing is past it. A negative retention is
/// refused where it is given; here it counts as 0, so the cutoff is never
/// in the future.
pub fn cutoff(now: NaiveDateTime, retention_days: i64) -> String {
    let earliest = NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(NaiveDateTime::MIN);
    let at = TimeDelta::try_days(retention_days.max(0))
        .and_then(|days| now.checked_sub_signed(days))
        .filter(|at| *at >= earliest)
        .unwrap_or(earliest);
    model::format_datetime(at)
}

pub const DEFAULT_RETENTION_DAYS: i64 = 30;
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// Each batch is one write transaction that the web app waits behind: a
/// larger batch would hold it up for seconds.
pub const MAX_BATCH_SIZE: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_beyond_the_calendar_clamps_to_the_year_one() {
        let now = model::parse_now("2026-11-26 11:00:08").unwrap();
        assert_eq!(cutoff(now, 30), "2026-10-27 11:00:08");
        assert_eq!(cutoff(now, 0), "2026-11-26 11:00:08");
        assert_eq!(cutoff(now, 739_945), "0001-01-01 11:00:08");
        for days in [739_946, 99_999_999, 99_999_999_999_999, i64::MAX] {
            assert_eq!(cutoff(now, days), "0001-01-01 00:00:00", "{days}");
        }
        assert_eq!(cutoff(now, -5), "2026-11-26 11:00:08");
        assert_eq!(cutoff(now, i64::MIN), "2026-11-26 11:00:08");
    }
}
