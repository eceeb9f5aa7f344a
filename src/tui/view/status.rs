//! The status line (database, counts, filter, read-only), the message
//! line, and the key hints, generated from the keymap for what works now.

use std::time::Duration;

use ratatui::Frame;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::Layout;
use crate::display::{abbreviated, fit, fit_tail, sanitize_line};
use crate::tui::app::{App, Level, Overlay, ResultsKind};
use crate::tui::keymap::{Action, Layer};
use modcon_core::query::Counts;

/// A request slower than this shows "waiting for the database".
const SLOW: Duration = Duration::from_millis(400);

/// The counts at three lengths: in words, short, abbreviated numbers.
fn counts_text(c: &Counts, form: usize) -> String {
    let purgeable = c.threads.purgeable + c.posts.purgeable + c.attachments.purgeable;
    let violations = c.posts.violations + c.attachments.violations;
    let n = |v: i64| {
        if form >= 2 {
            abbreviated(v)
        } else {
            v.to_string()
        }
    };
    let kinds = [
        ("threads", "thr", &c.threads),
        ("posts", "pst", &c.posts),
        ("att.", "att", &c.attachments),
    ];
    let per_kind: Vec<String> = kinds
        .iter()
        .map(|(long, short, k)| {
            let name = if form == 0 { long } else { short };
            format!("{name} {}+{}x", n(k.active), n(k.deleted))
        })
        .collect();
    // Pending flags, when the database has a flag queue.
    let flags = match (c.flags, form) {
        (None, _) => String::new(),
        (Some(f), 0) => format!("  flags {} pending", n(f.pending)),
        (Some(f), _) => format!(" F{}", n(f.pending)),
    };
    if form == 0 {
        format!(
            "{}  purgeable {}  violations {}{flags}",
            per_kind.join("  "),
            n(purgeable),
            n(violations)
        )
    } else {
        format!(
            "{} P{} !{}{flags}",
            per_kind.join(" "),
            n(purgeable),
            n(violations)
        )
    }
}

/// The status line's parts, longest form that fits `width` first: the
/// database's file name, READ-ONLY, every count and the filter always;
/// words, then short names, then abbreviated numbers, then a cut name.
fn status_spans(app: &App, width: usize) -> Vec<Span<'static>> {
    let theme = &app.theme;
    let filter = app
        .focus
        .pane()
        .map(|p| app.pane(p).filter)
        .unwrap_or(app.pane(app.subject).filter);
    let name = sanitize_line(&app.db_label);
    let build = |form: usize, name: &str| -> Vec<Span<'static>> {
        let sep = if form == 0 { " │ " } else { "│" };
        let mut spans = Vec::new();
        if app.read_only {
            spans.push(Span::styled(
                match (app.snapshot, form) {
                    (false, _) => "READ-ONLY",
                    (true, 0 | 1) => "READ-ONLY snapshot",
                    (true, _) => "READ-ONLY snap",
                },
                theme.warning(),
            ));
            spans.push(Span::raw(sep));
        }
        spans.push(Span::raw(name.to_string()));
        spans.push(Span::raw(sep));
        match &app.counts.counts {
            Some(c) => spans.push(Span::raw(counts_text(c, form))),
            None => spans.push(Span::styled("counting…", theme.dim())),
        }
        spans.push(Span::raw(sep));
        spans.push(Span::raw(if form == 0 {
            format!("filter: {}", filter.name())
        } else {
            format!("f:{}", filter.name())
        }));
        spans
    };
    let len = |spans: &[Span]| spans.iter().map(|s| s.content.width()).sum::<usize>();
    for form in 0..3 {
        let spans = build(form, &name);
        if len(&spans) <= width {
            return spans;
        }
    }
    // Last: the name gives way (its end, where the file name is, stays).
    let rest = len(&build(2, ""));
    build(2, &fit_tail(&name, width.saturating_sub(rest).max(4)))
}

/// The key hints that work now, as lines that fit `width` (at most two;
/// hints that fit on neither are left out from the least needed on).
pub fn hint_lines(app: &App, width: u16) -> Vec<Vec<(String, &'static str)>> {
    let layer = app.layer();
    let hints = app.keymap.hints(layer, &|a| app.works(a));
    let width = width as usize;
    let mut lines: Vec<Vec<(String, &'static str)>> = vec![Vec::new()];
    let mut used = 0;
    for (key, label) in hints {
        let w = key.width() + 1 + label.width() + 2;
        if used + w > width + 2 {
            if lines.len() == 2 {
                break;
            }
            lines.push(Vec::new());
            used = 0;
        }
        used += w;
        if let Some(line) = lines.last_mut() {
            line.push((key, label));
        }
    }
    lines
}

pub fn draw(frame: &mut Frame, app: &App, l: &Layout) {
    let theme = &app.theme;
    let width = l.status.width as usize;
    frame.render_widget(
        Paragraph::new(Line::from(status_spans(app, width))),
        l.status,
    );

    let waiting = app.waiting_since.is_some_and(|t| t.elapsed() >= SLOW);
    let message = if waiting {
        Some(Line::from(Span::styled(
            "waiting for the database…",
            theme.warning(),
        )))
    } else {
        app.message.as_ref().map(|m| {
            let style = match m.level {
                Level::Info => theme.ok(),
                Level::Warning => theme.warning(),
                Level::Error => theme.error(),
            };
            message_line(&m.text, width, style, theme.key(), &whole_message_at(app))
        })
    };
    if let Some(message) = message {
        frame.render_widget(Paragraph::new(message), l.message);
    }

    let rows = hint_lines(app, l.hints.width);
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|row| {
            let mut spans = Vec::new();
            for (key, label) in row {
                spans.push(Span::styled(key, theme.key()));
                spans.push(Span::raw(format!(" {label}  ")));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), l.hints);
}

/// Where the message on the line can be read whole, by the key that
/// opens the messages view: here when it works here, else in the panes
/// (Esc first). Empty for a passing note, which the view does not keep.
fn whole_message_at(app: &App) -> String {
    let kept = match (&app.message, app.messages.last()) {
        (Some(shown), Some(last)) => shown.text == last.text && shown.at == last.at,
        _ => false,
    };
    // Not kept, or the messages view is what is open.
    let reading =
        matches!(&app.overlay, Some(Overlay::Results(r)) if r.kind == ResultsKind::Messages);
    if !kept || reading {
        return String::new();
    }
    let here = app.keymap.keys_for(app.layer(), Action::Messages);
    if !here.is_empty() && app.works(Action::Messages) {
        return format!(" ({here}: all of it)");
    }
    let panes = app.keymap.keys_for(Layer::List, Action::Messages);
    if panes.is_empty() {
        return String::new();
    }
    format!(" (all of it: {panes} in the panes)")
}

/// A message on one line; one that does not fit (or has more lines) is
/// cut and says where the whole of it is (`more`).
fn message_line(text: &str, width: usize, style: Style, key: Style, more: &str) -> Line<'static> {
    let first = text.lines().next().unwrap_or_default();
    let whole = !text.contains('\n') && first.width() <= width;
    if whole {
        return Line::from(Span::styled(first.to_string(), style));
    }
    Line::from(vec![
        Span::styled(fit(first, width.saturating_sub(more.width())), style),
        Span::styled(more.to_string(), key),
    ])
}
