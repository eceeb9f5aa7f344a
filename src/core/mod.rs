//! The storage and rules core: everything modcon knows about forum
//! databases, with no terminal code and no printing. The command line and
//! the TUI are two front ends over these functions.

pub mod audit;
pub mod check;
pub mod conditions;
pub mod db;
pub mod demo;
pub mod failpoint;
pub mod media;
pub mod migrate;
pub mod model;
pub mod purge;
pub mod query;
pub mod rules;
pub mod schema;

use chrono::{Duration, NaiveDateTime};

/// Who acts, and when: passed to every operation that changes data.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub now: NaiveDateTime,
    pub actor: String,
    /// The SSH client's address, when the console runs over SSH.
    pub client_addr: Option<String>,
    /// Days a deleted row is kept before a purge may remove it.
    pub retention_days: i64,
}

impl Ctx {
    pub fn now_text(&self) -> String {
        model::format_datetime(self.now)
    }

    /// Deletion times at or before this are past retention.
    pub fn cutoff(&self) -> String {
        cutoff(self.now, self.retention_days)
    }
}

pub fn cutoff(now: NaiveDateTime, retention_days: i64) -> String {
    model::format_datetime(now - Duration::days(retention_days))
}

pub const DEFAULT_RETENTION_DAYS: i64 = 30;
pub const DEFAULT_BATCH_SIZE: usize = 100;
