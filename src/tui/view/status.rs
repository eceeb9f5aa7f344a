//! The status line (database, counts, filter, read-only, the last
//! message) and the key-hint line, generated from the keymap.

use std::time::Duration;

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Layout;
use crate::display::{fit_tail, sanitize_line};
use crate::tui::app::{App, Level};

/// A request slower than this shows "waiting for the database".
const SLOW: Duration = Duration::from_millis(400);

pub fn draw(frame: &mut Frame, app: &App, l: &Layout) {
    let theme = &app.theme;
    let mut spans = vec![
        Span::raw(fit_tail(&sanitize_line(&app.db_label), 30)),
        Span::raw(" │ "),
    ];
    if app.read_only {
        // First, so no width can cut it off.
        spans.push(Span::styled("READ-ONLY", theme.warning()));
        spans.push(Span::raw(" │ "));
    }
    match &app.counts {
        // Active+deleted per kind, then the rows a purge would remove.
        Some(c) => spans.push(Span::raw(format!(
            "threads {}+{}x  posts {}+{}x  att. {}+{}x  P {}",
            c.threads.active,
            c.threads.deleted,
            c.posts.active,
            c.posts.deleted,
            c.attachments.active,
            c.attachments.deleted,
            c.threads.purgeable + c.posts.purgeable + c.attachments.purgeable,
        ))),
        None => spans.push(Span::styled("counting…", theme.dim())),
    }
    if let Some(c) = &app.counts {
        let violations = c.posts.violations + c.attachments.violations;
        if violations > 0 {
            spans.push(Span::styled(format!("  ! {violations}"), theme.warning()));
        }
    }
    if let Some(pane) = app.focus.pane() {
        spans.push(Span::raw(format!(
            " │ filter: {}",
            app.pane(pane).filter.name()
        )));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), l.status);

    let waiting = app.waiting_since.is_some_and(|t| t.elapsed() >= SLOW);
    let message = if waiting {
        Some(Span::styled("waiting for the database…", theme.warning()))
    } else {
        app.message.as_ref().map(|m| {
            let style = match m.level {
                Level::Info => theme.ok(),
                Level::Warning => theme.warning(),
                Level::Error => theme.error(),
            };
            Span::styled(sanitize_line(&m.text), style)
        })
    };
    if let Some(message) = message {
        frame.render_widget(Paragraph::new(Line::from(message)), l.message);
    }

    let mut hints = Vec::new();
    for (key, label) in app.keymap.hints(app.layer()) {
        hints.push(Span::styled(key, theme.key()));
        hints.push(Span::raw(format!(" {label}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(hints)), l.hints);
}
