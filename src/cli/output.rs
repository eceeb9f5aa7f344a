//! Printing: JSON objects exactly as the core returns them, and short,
//! plain, sanitised human output.

use anyhow::Result;
use serde::Serialize;

use crate::display::fit;

/// One JSON object on stdout.
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    use std::io::Write;
    // Written as it is serialised: a check of a million rows lists a
    // million problems, never held twice in memory.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(()),
        // The reader went away (`modcon … --json | head`): as with text,
        // stop quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.into()),
    }
}

/// The one JSON object of a failed `--json` run: `{"action", "error"}`.
/// Printing it cannot fail the run a second time: a closed stdout is
/// ignored, the `error:` line on stderr still goes out.
pub fn json_failure(action: Option<&str>, message: &str) {
    use std::io::Write;
    let object = serde_json::json!({ "action": action, "error": message });
    let text = serde_json::to_string_pretty(&object).unwrap_or_default();
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// A plain table: columns padded to their widest cell (by terminal
/// columns), the last column cut to keep lines under `max_width`.
pub fn table(header: &[&str], rows: &[Vec<String>], max_width: usize) {
    use unicode_width::UnicodeWidthStr;
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            widths[i] = widths[i].max(cell.width());
        }
    }
    let fixed: usize = widths.iter().take(cols - 1).map(|w| w + 2).sum();
    let last = max_width.saturating_sub(fixed).max(10);
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cols {
                out.push_str(&fit(cell, last));
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(widths[i] - cell.width() + 2));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// The terminal's width, or 100 when output is not a terminal.
pub fn width() -> usize {
    crossterm::terminal::size()
        .map(|(w, _)| w as usize)
        .unwrap_or(100)
        .max(40)
}
