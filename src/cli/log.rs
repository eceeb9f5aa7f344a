//! `modcon log`

use anyhow::Result;
use serde::Serialize;

use super::{Settings, open_for_reading, output};
use crate::core::audit::{self, LogEntry, Tally};
use crate::display::log_line;

#[derive(Serialize)]
struct LogJson<'a> {
    action: &'static str,
    kind: Option<&'static str>,
    id: Option<&'static str>,
    /// The counts of the entries listed, added up.
    #[serde(flatten)]
    totals: Tally,
    count: usize,
    entries: &'a [LogEntry],
}

pub fn run(settings: &Settings, limit: usize, json: bool) -> Result<()> {
    let db = open_for_reading(settings)?;
    let entries = audit::list(db.conn(), limit)?;
    if json {
        let mut totals = Tally::default();
        for e in &entries {
            totals.merge(&e.tally());
        }
        return output::json(&LogJson {
            action: "log",
            kind: None,
            id: None,
            totals,
            count: entries.len(),
            entries: &entries,
        });
    }
    if entries.is_empty() {
        println!("the audit log is empty");
    }
    for e in &entries {
        println!("{}", log_line(e));
    }
    Ok(())
}
