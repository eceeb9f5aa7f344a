//! `modcon log`

use anyhow::Result;
use serde::Serialize;

use super::{Settings, open_for_reading, output};
use crate::core::audit::{self, LogEntry};
use crate::display::sanitize_line;

#[derive(Serialize)]
struct LogJson<'a> {
    action: &'static str,
    count: usize,
    entries: &'a [LogEntry],
}

/// "#12 2026-11-26 11:00:08 alice (10.0.0.5) delete thread 5d4f… 1 thread, 3 posts"
pub fn describe(e: &LogEntry) -> String {
    let who = match &e.client_addr {
        Some(addr) => format!("{} ({addr})", e.actor),
        None => e.actor.clone(),
    };
    let target = match (&e.kind, &e.target_id) {
        (Some(k), Some(id)) => format!(" {k} {id}"),
        _ => String::new(),
    };
    let mut line = format!(
        "#{} {} {} {}{}: {}",
        e.id,
        e.at.split('.').next().unwrap_or(&e.at),
        who,
        e.action,
        target,
        e.tally().describe()
    );
    if let Some(of) = e.undoes {
        line.push_str(&format!(" [undoes #{of}]"));
    }
    if let Some(by) = e.undone_by {
        line.push_str(&format!(" [undone by #{by}]"));
    }
    sanitize_line(&line)
}

pub fn run(settings: &Settings, limit: usize, json: bool) -> Result<()> {
    let db = open_for_reading(settings)?;
    let entries = audit::list(db.conn(), limit)?;
    if json {
        return output::json(&LogJson {
            action: "log",
            count: entries.len(),
            entries: &entries,
        });
    }
    if entries.is_empty() {
        println!("the audit log is empty");
    }
    for e in &entries {
        println!("{}", describe(e));
    }
    Ok(())
}
