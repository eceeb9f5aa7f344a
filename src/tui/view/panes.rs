//! The three lists and the post's text.

use chrono::NaiveDateTime;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::Layout;
use crate::core::query::{DeletionTime, Detail, Row};
use crate::display::{ago, fit, sanitize_line, size};
use crate::tui::app::{App, Focus, ListPane};
use crate::tui::theme::{Theme, markers};

pub fn draw(frame: &mut Frame, app: &mut App, l: &Layout) {
    let now = app.now;
    let theme = app.theme;
    let focus = app.focus;
    list(
        frame,
        l.threads,
        "Threads",
        &mut app.threads,
        focus == Focus::Threads,
        &theme,
        now,
    );
    list(
        frame,
        l.posts,
        "Posts",
        &mut app.posts,
        focus == Focus::Posts,
        &theme,
        now,
    );
    list(
        frame,
        l.attachments,
        "Attachments",
        &mut app.attachments,
        focus == Focus::Attachments,
        &theme,
        now,
    );
    text(frame, l.text, app);
}

/// "45d" (created), "del 3d" (deleted), "del ?" (deleted, age unknown),
/// "seen 2d" (found deleted 2 days ago).
fn age(row: &Row, now: NaiveDateTime) -> String {
    let short = |at: &str| ago(now, at).replace(" ago", "");
    if row.is_active {
        return short(&row.created_at);
    }
    match (&row.deleted_at, row.deletion_time) {
        (Some(at), Some(DeletionTime::FirstSeen)) => format!("seen {}", short(at)),
        (Some(at), _) => format!("del {}", short(at)),
        _ => "del ?".into(),
    }
}

fn line_for(row: &Row, width: usize, now: NaiveDateTime) -> String {
    let right = match &row.detail {
        Detail::Thread { post_count, .. } => format!("{post_count}p {}", age(row, now)),
        Detail::Post {
            attachment_count, ..
        } => format!("{attachment_count}a {}", age(row, now)),
        Detail::Attachment { file_size, .. } => format!("{} {}", size(*file_size), age(row, now)),
    };
    let label = match &row.detail {
        Detail::Post { .. } => format!(
            "{}: {}",
            sanitize_line(row.author.as_deref().unwrap_or("?")),
            sanitize_line(&row.label)
        ),
        _ => sanitize_line(&row.label),
    };
    let left = format!("{} ", markers(row));
    let room = width.saturating_sub(left.width() + right.width() + 1);
    let label = fit(&label, room);
    let pad = width.saturating_sub(left.width() + label.width() + right.width());
    format!("{left}{label}{}{right}", " ".repeat(pad))
}

fn list(
    frame: &mut Frame,
    area: Rect,
    name: &str,
    pane: &mut ListPane,
    focused: bool,
    theme: &Theme,
    now: NaiveDateTime,
) {
    let more = if pane.exhausted || pane.rows.is_empty() {
        ""
    } else {
        "+"
    };
    let mut title = format!(
        " {name} ({}) {}{more} ",
        pane.filter.name(),
        pane.rows.len()
    );
    if pane.start_at.is_some() {
        title.push_str("from a jump, g: top ");
    }
    if pane.loading && pane.rows.is_empty() {
        title.push_str("loading… ");
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme.border(focused));
    let width = area.width.saturating_sub(2) as usize;
    let items: Vec<ListItem> = pane
        .rows
        .iter()
        .map(|row| ListItem::new(line_for(row, width, now)).style(theme.row(row)))
        .collect();
    let empty = items.is_empty();
    let widget = List::new(items)
        .block(block)
        .highlight_style(theme.selected(focused));
    frame.render_stateful_widget(widget, area, &mut pane.state);
    if empty && !pane.loading {
        let inner = Rect::new(area.x + 2, area.y + 1, area.width.saturating_sub(4), 1);
        let what = if pane.parent.is_none() && name != "Threads" {
            "select a row above"
        } else {
            "nothing here"
        };
        frame.render_widget(Paragraph::new(what).style(theme.dim()), inner);
    }
}

fn text(frame: &mut Frame, area: Rect, app: &App) {
    let post = app
        .posts
        .selected()
        .filter(|p| Some(&p.id) == app.text.post_id.as_ref());
    let title = match post {
        Some(p) => {
            let state = if p.is_active {
                String::new()
            } else {
                format!(", {}", age(p, app.now))
            };
            format!(
                " Post by {}, {}{state} ",
                sanitize_line(p.author.as_deref().unwrap_or("?")),
                ago(app.now, &p.created_at)
            )
        }
        None => " Text ".into(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(fit(&title, area.width.saturating_sub(2) as usize))
        .border_style(app.theme.border(app.focus == Focus::Text));
    let body = match (&app.text.post_id, &app.text.text) {
        (None, _) => vec![Line::from(Span::styled("select a post", app.theme.dim()))],
        (Some(_), None) => vec![Line::from(Span::styled("loading…", app.theme.dim()))],
        // Already sanitised by the worker.
        (Some(_), Some(text)) => text.lines().map(|l| Line::from(l.to_string())).collect(),
    };
    let paragraph = Paragraph::new(body)
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((app.text.scroll, 0));
    frame.render_widget(paragraph, area);
}
