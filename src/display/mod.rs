//! Presentation shared by both front ends: text from the database made
//! safe for a terminal, and ages said the way people say them.

use chrono::NaiveDateTime;
use unicode_width::UnicodeWidthChar;
#[cfg(test)]
use unicode_width::UnicodeWidthStr;

use modcon_core::audit::{LogEntry, RowRecord};
use modcon_core::model::{RowState, parse_datetime};

/// Characters that reorder or hide text (bidi overrides and isolates,
/// directional marks): shown as `<U+XXXX>` so a title cannot disguise
/// itself.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

fn escape_into(out: &mut String, c: char) {
    match c {
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
        _ => out.push_str(&format!("<U+{:04X}>", c as u32)),
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// One line of text, safe for a terminal: every control character (C0,
/// DEL, C1 — so no ESC ever gets through) becomes a visible `\xNN`
/// (a line break too: `\x0a`), and bidi controls become `<U+202E>`.
pub fn sanitize_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if needs_escape(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Multi-line text (a post): line breaks kept, tabs as spaces, everything
/// else as in [`sanitize_line`].
pub fn sanitize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push('\n'),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\t' => out.push_str("    "),
            c if needs_escape(c) => escape_into(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// The text a sanitised string stands for: `\xNN` and `<U+XXXX>` as the
/// sanitiser writes them become the characters again, so what a moderator
/// sees on screen can be searched for. Anything else is kept as typed.
pub fn unsanitize(shown: &str) -> String {
    let mut out = String::with_capacity(shown.len());
    let mut rest = shown;
    while let Some(c) = rest.chars().next() {
        if let Some(hex) = rest.strip_prefix("\\x").and_then(|r| r.get(..2))
            && let Ok(n) = u32::from_str_radix(hex, 16)
            && let Some(decoded) = char::from_u32(n)
            && hex.chars().all(|h| h.is_ascii_hexdigit())
        {
            out.push(decoded);
            rest = &rest[4..];
            continue;
        }
        if let Some(tail) = rest.strip_prefix("<U+")
            && let Some(end) = tail.find('>')
            && (4..=6).contains(&end)
            && let Ok(n) = u32::from_str_radix(&tail[..end], 16)
            && let Some(decoded) = char::from_u32(n)
        {
            out.push(decoded);
            rest = &tail[end + 1..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// An error chain as one line: "what failed: why". Control characters from
/// paths or data are made visible, so the line stays one line.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string().replace(['\n', '\r'], " ");
        // rusqlite's cause repeats SQLite's message behind "Error code N: ".
        let text = match text
            .strip_prefix("Error code ")
            .and_then(|t| t.split_once(": "))
        {
            Some((code, rest)) if code.bytes().all(|b| b.is_ascii_digit()) => rest.to_string(),
            _ => text,
        };
        // anyhow repeats nothing, but rusqlite messages sometimes do.
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
    }
    sanitize_line(&parts.join(": "))
}

/// Does the locale understand UTF-8? The locale is the first non-empty of
/// `LC_ALL`, `LC_CTYPE`, `LANG` (POSIX order); none at all is the C
/// locale, which is not UTF-8.
pub fn locale_is_utf8(env: &dyn Fn(&str) -> Option<String>) -> bool {
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|name| env(name).filter(|v| !v.is_empty()))
        .unwrap_or_default()
        .to_ascii_lowercase();
    locale.contains("utf-8") || locale.contains("utf8")
}

/// Wraps sanitised text to `width` columns: words kept whole where they
/// fit, long words broken, every line of the text kept.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for line in text.split('\n') {
        if line.is_empty() {
            out.push(String::new());
            continue;
        }
        let options = textwrap::Options::new(width)
            .break_words(true)
            .word_separator(textwrap::WordSeparator::AsciiSpace);
        out.extend(
            textwrap::wrap(line, options)
                .into_iter()
                .map(|l| l.into_owned()),
        );
    }
    out
}

/// Cuts sanitised text to `width` terminal columns, with an ellipsis when
/// it had to cut. Wide characters count two columns.
pub fn fit(text: &str, width: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    let total: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return text.to_string();
    }
    let room = width.saturating_sub(1);
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// Like [`fit`], but keeps the end: "…/share/modcon/demo.sqlite3". For
/// paths, whose last part matters most.
pub fn fit_tail(text: &str, width: usize) -> String {
    let total: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return text.to_string();
    }
    let mut kept: Vec<char> = Vec::new();
    let mut used = 1;
    for c in text.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        kept.push(c);
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

/// "3d ago", "5h ago", "just now"; for a datetime the console cannot
/// read, "unknown".
/// "1 batch", "4 batches".
pub fn batches(n: impl Into<u64>) -> String {
    match n.into() {
        1 => "1 batch".into(),
        n => format!("{n} batches"),
    }
}

pub fn ago(now: NaiveDateTime, then: &str) -> String {
    match parse_datetime(then) {
        Some(t) => ago_dt(now, t),
        None => "unknown".into(),
    }
}

pub fn ago_dt(now: NaiveDateTime, then: NaiveDateTime) -> String {
    let secs = (now - then).num_seconds();
    if secs < 0 {
        return "in the future".into();
    }
    let (n, unit) = match secs {
        0..=59 => return "just now".into(),
        60..=3599 => (secs / 60, "m"),
        3600..=86_399 => (secs / 3600, "h"),
        _ => (secs / 86_400, "d"),
    };
    format!("{n}{unit} ago")
}

/// Bytes as people read them: "652 B", "4.1 KB", "2.3 MB".
pub fn size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KB", b / 1024.0)
    } else {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    }
}

/// The first 8 hex digits: enough to tell rows apart on a screen, and a
/// valid prefix for every command.
pub fn short_id(id: &str) -> String {
    sanitize_line(&id.chars().take(8).collect::<String>())
}

/// A count that may have been capped: "500+" when it stopped at its limit.
pub fn counted(n: usize, capped: bool) -> String {
    if capped {
        format!("{n}+")
    } else {
        n.to_string()
    }
}

/// A count in at most five columns: "950", "9632", "12k", "1.0M".
pub fn abbreviated(n: i64) -> String {
    match n {
        n if n < 10_000 => n.to_string(),
        n if n < 1_000_000 => format!("{}k", n / 1000),
        n => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

/// A log entry in a line that fits 80 columns: short ids, minutes, the
/// year only when it is not this one.
/// "#12 11-26 11:00 alice delete thread 5d4f1a2b: 1 thread 3 posts — spam"
pub fn log_line_short(e: &LogEntry, now: NaiveDateTime) -> String {
    use chrono::Datelike;
    let target = match (&e.kind, &e.target_id) {
        (Some(k), Some(id)) => format!(" {k} {}", short_id(id)),
        _ => String::new(),
    };
    let when = match parse_datetime(&e.at) {
        Some(t) if t.year() == now.year() => t.format("%m-%d %H:%M").to_string(),
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => e.at.clone(),
    };
    let mut line = format!(
        "#{} {when} {} {}{target}{}: {}",
        e.id,
        e.actor,
        e.action,
        review_kind(e),
        e.tally().describe().replace(", ", " ")
    );
    if let Some(of) = e.undoes {
        line.push_str(&format!(" [undoes #{of}]"));
    }
    if let Some(by) = e.undone_by {
        line.push_str(&format!(" [undone by #{by}]"));
    }
    if let Some(reason) = &e.reason {
        line.push_str(&format!(" — {reason}"));
    }
    sanitize_line(&line)
}

/// A review's action type, " (remove_post)", from its entry's detail.
fn review_kind(e: &LogEntry) -> String {
    e.detail
        .as_ref()
        .and_then(|d| d.get("action_type"))
        .and_then(|t| t.as_str())
        .map(|t| format!(" ({t})"))
        .unwrap_or_default()
}

/// "#12 2026-11-26 11:00:08 alice (account mo, from 10.0.0.5) delete thread 5d4f…: 1 thread,
/// 3 posts; reason: spam"
pub fn log_line(e: &LogEntry) -> String {
    let mut whence = Vec::new();
    if let Some(account) = &e.os_account {
        whence.push(format!("account {account}"));
    }
    if let Some(addr) = &e.client_addr {
        whence.push(format!("from {addr}"));
    }
    let who = if whence.is_empty() {
        e.actor.clone()
    } else {
        format!("{} ({})", e.actor, whence.join(", "))
    };
    let target = match (&e.kind, &e.target_id) {
        (Some(k), Some(id)) => format!(" {k} {id}"),
        _ => String::new(),
    };
    let mut line = format!(
        "#{} {} {} {}{}{}: {}",
        e.id,
        e.at.split('.').next().unwrap_or(&e.at),
        who,
        e.action,
        target,
        review_kind(e),
        e.tally().describe()
    );
    if let Some(of) = e.undoes {
        line.push_str(&format!(" [undoes #{of}]"));
    }
    if let Some(by) = e.undone_by {
        line.push_str(&format!(" [undone by #{by}]"));
    }
    if let Some(reason) = &e.reason {
        line.push_str(&format!("; reason: {reason}"));
    }
    sanitize_line(&line)
}

/// One row of a log entry: "post 5d4f… deleted 2026-11-20 10:00:00
/// (console) → active", or "purged attachment 5d4f… of post 9a0b…,
/// forum/attachments/x.png, deleted 2026-10-01 10:00:00".
pub fn row_record_line(r: &RowRecord) -> String {
    let state = |s: &RowState| -> String {
        if s.active {
            return "active".into();
        }
        let source = s
            .source
            .map(|src| format!(" ({})", src.stored()))
            .unwrap_or_default();
        match &s.deleted_at {
            Some(at) => format!("deleted {at}{source}"),
            None => "deleted (time unknown)".into(),
        }
    };
    let value = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    let line = match (r.event, &r.before, &r.after) {
        ("changed", Some(before), Some(after)) => {
            format!("{} {}: {} → {}", r.kind, r.id, state(before), state(after))
        }
        ("changed", None, None) => {
            let (Some(before), Some(after)) = (&r.values_before, &r.values_after) else {
                return sanitize_line(&format!("{} {} changed", r.kind, r.id));
            };
            let columns: Vec<String> = after
                .iter()
                .map(|(column, now)| {
                    let was = before.get(column).unwrap_or(&serde_json::Value::Null);
                    format!("{column} {} → {}", value(was), value(now))
                })
                .collect();
            format!("{} {}: {}", r.kind, r.id, columns.join(", "))
        }
        ("inserted" | "removed", None, None) => {
            let values = if r.event == "inserted" {
                &r.values_after
            } else {
                &r.values_before
            };
            let columns: Vec<String> = values
                .iter()
                .flatten()
                .filter(|(column, _)| column.as_str() != "id")
                .map(|(column, v)| format!("{column} {}", value(v)))
                .collect();
            format!("{} {} {}: {}", r.event, r.kind, r.id, columns.join(", "))
        }
        _ => {
            let mut line = format!("purged {} {}", r.kind, r.id);
            if let Some(parent) = &r.parent_id {
                let of = match r.kind.as_str() {
                    "post" => "thread",
                    "attachment" | "reaction" => "post",
                    "moderation_action" => "flag",
                    _ => "post or thread",
                };
                line.push_str(&format!(" (of {of} {parent})"));
            }
            if let Some(image) = &r.image {
                line.push_str(&format!(", {image}"));
            }
            match &r.deleted_at {
                Some(at) => line.push_str(&format!(", deleted {at}")),
                None if matches!(r.kind.as_str(), "thread" | "post" | "attachment") => {
                    line.push_str(", deletion time unknown")
                }
                None => {}
            }
            line
        }
    };
    sanitize_line(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_batch_is_singular() {
        assert_eq!(batches(1u64), "1 batch");
        assert_eq!(batches(0u64), "0 batches");
        assert_eq!(batches(4u64), "4 batches");
    }

    #[test]
    fn no_control_character_survives() {
        let hostile = "\u{1b}[2J\u{1b}]0;x\u{7}a\u{0}b\u{9b}31m\u{7f}\r\n\u{202e}gnp.exe";
        let line = sanitize_line(hostile);
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(line.contains("\\x1b[2J"));
        assert!(line.contains("<U+202E>"));
        let text = sanitize_text(hostile);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
    }

    #[test]
    fn fits_wide_text_by_columns() {
        assert_eq!(fit("冬の管理", 5), "冬の…");
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(
            fit_tail("/home/mo/.local/share/modcon/demo.sqlite3", 20),
            "…modcon/demo.sqlite3"
        );
        assert_eq!(fit_tail("demo.sqlite3", 20), "demo.sqlite3");
    }

    #[test]
    fn what_is_shown_can_be_searched_for() {
        let raw = "\u{1b}[2J\u{1b}[31mRED \u{202e}gnp.exe";
        assert_eq!(unsanitize(&sanitize_line(raw)), raw);
        assert_eq!(unsanitize("\\x1b"), "\u{1b}");
        assert_eq!(unsanitize("plain \\xzz <U+> text"), "plain \\xzz <U+> text");
    }

    #[test]
    fn wrapping_keeps_every_word_and_line() {
        let text = "cannot restore post 0123456789abcdef: its thread 89abcdef is deleted; restore the thread first";
        let lines = wrap(text, 30);
        assert!(lines.iter().all(|l| l.width() <= 30), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
        assert_eq!(wrap("0123456789abc", 5), vec!["01234", "56789", "abc"]);
    }

    #[test]
    fn ages_read_naturally() {
        let now = parse_datetime("2026-11-26 11:00:00").unwrap();
        assert_eq!(ago(now, "2026-11-23 10:00:00"), "3d ago");
        assert_eq!(ago(now, "2026-11-26 06:00:00"), "5h ago");
        assert_eq!(ago(now, "2026-11-26 10:59:30"), "just now");
        assert_eq!(ago(now, "yesterday"), "unknown");
    }
}
