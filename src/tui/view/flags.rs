//! The flag view: the web app's pending flags, newest first, one line
//! each, and the selected flag in full below — reason, reporter, age,
//! explanation, a preview of the flagged content (marked when it is
//! already deleted), the other pending flags on it.

use chrono::NaiveDateTime;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::dialogs::popup;
use crate::display::{ago, fit, sanitize_line, short_id, wrap};
use crate::tui::app::FlagView;
use crate::tui::theme::{Theme, marker};
use modcon_core::flags::FlagRow;

/// `text` cut or padded to exactly `width` columns.
fn cell(text: &str, width: usize) -> String {
    let text = fit(text, width);
    let pad = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(pad))
}

/// One line of the queue: age, kind, reason, reporter, the content's state
/// marker and id, the other pending flags on it, the start of its text.
pub fn flag_line(flag: &FlagRow, now: NaiveDateTime) -> String {
    let age = ago(now, &flag.created_at).replace(" ago", "");
    let state = match flag.target_is_active {
        Some(true) => marker::ACTIVE,
        Some(false) => marker::DELETED,
        None => "?",
    };
    let label = flag
        .target_label
        .as_deref()
        .unwrap_or("(no such row)")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let others = if flag.other_pending > 0 {
        format!("(+{}) ", flag.other_pending)
    } else {
        String::new()
    };
    let id = flag
        .post_id
        .as_deref()
        .or(flag.thread_id.as_deref())
        .map(short_id)
        .unwrap_or_default();
    format!(
        "{} {} {} {} {state} {id} {others}{}",
        cell(&age, 8),
        cell(&flag.content_type, 6),
        cell(&sanitize_line(&flag.flag_reason), 14),
        cell(&sanitize_line(flag.reporter.as_deref().unwrap_or("?")), 12),
        sanitize_line(&label)
    )
}

/// The selected flag in full, wrapped to `width`.
fn details(flag: &FlagRow, now: NaiveDateTime, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    // The reporter's words and the content are the web app's users' text.
    let mut text = |t: String, style: Style| {
        for l in wrap(&sanitize_line(&t), width) {
            lines.push(Line::from(Span::styled(l, style)));
        }
    };
    text(
        format!(
            "flag {}: {} by {}, filed {} UTC ({})",
            flag.id,
            flag.flag_reason,
            flag.reporter.as_deref().unwrap_or("an unknown user"),
            flag.created_at
                .split('.')
                .next()
                .unwrap_or(&flag.created_at),
            ago(now, &flag.created_at)
        ),
        Style::default(),
    );
    let content = flag
        .post_id
        .as_deref()
        .or(flag.thread_id.as_deref())
        .unwrap_or("?");
    let (state, style) = match flag.target_is_active {
        Some(true) => ("active".to_string(), theme.ok()),
        Some(false) => (
            format!("{} ALREADY DELETED", marker::DELETED),
            theme.warning(),
        ),
        None => ("no longer exists".to_string(), theme.error()),
    };
    text(
        format!(
            "{} {content} by {}: {state}",
            flag.content_type,
            flag.target_author.as_deref().unwrap_or("?")
        ),
        style,
    );
    if flag.other_pending > 0 {
        text(
            format!(
                "{} other pending flag{} on the same {}",
                flag.other_pending,
                if flag.other_pending == 1 { "" } else { "s" },
                flag.content_type
            ),
            theme.warning(),
        );
    }
    let explanation = if flag.explanation.trim().is_empty() {
        "(none given)".to_string()
    } else {
        flag.explanation.trim().to_string()
    };
    text(format!("explanation: {explanation}"), Style::default());
    let preview = flag
        .target_label
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let what = if flag.content_type == "thread" {
        "title"
    } else {
        "text"
    };
    text(format!("{what}: {preview}"), theme.dim());
    lines
}

pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, now: NaiveDateTime, view: &mut FlagView) {
    // A count only from a list that loaded: a failed one claims none.
    let title = if view.error.is_some() {
        " Flag queue: could not be loaded ".to_string()
    } else if view.loaded {
        format!(" Flag queue: {} pending, newest first ", view.flags.len())
    } else {
        " Flag queue ".to_string()
    };
    let inner = popup(frame, area, &title, theme);
    let width = inner.width as usize;
    if let Some(e) = &view.error {
        frame.render_widget(
            Paragraph::new(
                wrap(&sanitize_line(e), width)
                    .into_iter()
                    .map(|l| Line::from(Span::styled(l, theme.error())))
                    .collect::<Vec<_>>(),
            ),
            inner,
        );
        return;
    }
    if !view.loaded {
        frame.render_widget(Paragraph::new("reading the flag queue…"), inner);
        return;
    }
    if view.flags.is_empty() {
        frame.render_widget(
            Paragraph::new("No pending flags: the queue is empty."),
            inner,
        );
        return;
    }
    let detail_lines = view
        .selected()
        .map(|f| details(f, now, width, theme))
        .unwrap_or_default();
    // The selected flag takes what the list does not need, and at least
    // half when the list is long.
    let body = inner.height.saturating_sub(2);
    let list_needs = view.flags.len() as u16;
    let room = body.saturating_sub(list_needs.max(2)).max(body / 2);
    let detail_rows = (detail_lines.len() as u16).min(room);
    let [header, list, rule, below] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(2),
        Constraint::Length(1),
        Constraint::Length(detail_rows),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Span::styled(
            fit(
                &format!(
                    "{} {} {} {}   content (+ other pending flags), text",
                    cell("filed", 8),
                    cell("kind", 6),
                    cell("reason", 14),
                    cell("reporter", 12),
                ),
                width,
            ),
            theme.dim(),
        )),
        header,
    );
    let items: Vec<ListItem> = view
        .flags
        .iter()
        .map(|f| {
            let style = if f.target_is_active == Some(false) {
                theme.dim()
            } else {
                Style::default()
            };
            ListItem::new(Line::from(Span::styled(
                fit(&flag_line(f, now), width),
                style,
            )))
        })
        .collect();
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme.selected(true)),
        list,
        &mut view.state,
    );
    frame.render_widget(
        Paragraph::new(Span::styled("─".repeat(width), theme.border(false))),
        rule,
    );
    frame.render_widget(Paragraph::new(detail_lines), below);
}
