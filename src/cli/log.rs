//! `modcon log`: the audit log; with `--entry N` one entry and every row
//! it changed or purged; with `--id ID` what happened to one row.

use anyhow::{Result, bail};
use serde::Serialize;

use super::{Settings, open_for_reading, output};
use crate::display::{log_line, row_record_line};
use modcon_core::audit::{self, EntryWithRows, LogEntry};
use modcon_core::model::IdQuery;
use modcon_core::model::Tally;

#[derive(Serialize)]
struct LogJson<'a, E: Serialize> {
    action: &'static str,
    kind: Option<&'static str>,
    /// The row asked about with `--id`.
    id: Option<&'a str>,
    /// The counts of the entries listed, added up.
    #[serde(flatten)]
    totals: Tally,
    count: usize,
    entries: &'a [E],
}

pub fn run(
    settings: &Settings,
    limit: usize,
    id: Option<&str>,
    entry: Option<i64>,
    json: bool,
) -> Result<()> {
    let db = open_for_reading(settings)?;
    if let Some(entry) = entry {
        let Some(found) = audit::entry_with_rows(db.conn(), entry)? else {
            bail!("the audit log has no entry #{entry}");
        };
        return print_with_rows(&[found], None, json, "");
    }
    if let Some(text) = id {
        let row_id = match IdQuery::parse(text)? {
            IdQuery::Full(id) => id,
            IdQuery::Prefix(prefix) => {
                let ids = audit::recorded_ids(db.conn(), &prefix)?;
                match ids.len() {
                    0 => prefix,
                    1 => ids.into_iter().next().unwrap_or_default(),
                    n => bail!(
                        "ambiguous id prefix {prefix}: the log has records of {} rows starting so: {}{}",
                        if n > 10 {
                            "more than 10".to_string()
                        } else {
                            n.to_string()
                        },
                        ids.iter().take(10).cloned().collect::<Vec<_>>().join(", "),
                        if n > 10 { ", …" } else { "" }
                    ),
                }
            }
        };
        let mut entries = audit::history(db.conn(), &row_id)?;
        entries.truncate(limit);
        let empty = format!("no entry of the audit log changed or purged a row with id {row_id}");
        return print_with_rows(&entries, Some(&row_id), json, &empty);
    }
    let entries = audit::list(db.conn(), limit)?;
    if json {
        return output::json(&LogJson {
            action: "log",
            kind: None,
            id: None,
            totals: totals(entries.iter()),
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

fn totals<'a>(entries: impl Iterator<Item = &'a LogEntry>) -> Tally {
    let mut totals = Tally::default();
    for e in entries {
        totals.merge(&e.tally());
    }
    totals
}

fn print_with_rows(
    entries: &[EntryWithRows],
    id: Option<&str>,
    json: bool,
    empty: &str,
) -> Result<()> {
    if json {
        return output::json(&LogJson {
            action: "log",
            kind: None,
            id,
            totals: totals(entries.iter().map(|e| &e.entry)),
            count: entries.len(),
            entries,
        });
    }
    if entries.is_empty() {
        println!("{empty}");
    }
    for e in entries {
        println!("{}", log_line(&e.entry));
        for row in &e.rows {
            println!("  {}", row_record_line(row));
        }
    }
    Ok(())
}
