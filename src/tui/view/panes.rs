//! The three lists and the details pane.

use std::ops::Range;

use chrono::NaiveDateTime;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::Layout;
use crate::display::{ago, fit, sanitize_line, sanitize_text, size, wrap};
use crate::tui::app::Pane;
use crate::tui::app::{App, Focus, ListPane};
use crate::tui::theme::{Theme, markers};
use modcon_core::model::{Kind, parse_datetime};
use modcon_core::query::{DeletionTime, Detail, Row};

/// Marks the focused pane's title, so focus shows without colour too.
pub const FOCUS_MARK: &str = "▶";

pub fn draw(frame: &mut Frame, app: &mut App, l: &Layout) {
    let now = app.now;
    let theme = app.theme;
    let focus = app.focus;
    let subject = app.subject;
    for (pane, area, name) in [
        (Pane::Threads, l.threads, "Threads"),
        (Pane::Posts, l.posts, "Posts"),
        (Pane::Attachments, l.attachments, "Attachments"),
    ] {
        let focused = focus == Focus::of(pane);
        // The details pane's subject keeps a visible selection when the
        // details pane has the focus.
        let lit = focused || (focus == Focus::Details && subject == pane);
        list(
            frame,
            area,
            name,
            app.pane_mut(pane),
            (focused, lit),
            &theme,
            now,
        );
    }
    details(frame, l.details, app);
}

/// A pane's border with its title; the focused one is marked.
fn block(title: String, focused: bool, theme: &Theme, width: u16) -> Block<'static> {
    let title = if focused {
        format!("{FOCUS_MARK}{title}")
    } else {
        title
    };
    let title = fit(&title, width.saturating_sub(2) as usize);
    let title = if focused {
        Span::styled(title, theme.border(true).add_modifier(Modifier::BOLD))
    } else {
        Span::raw(title)
    };
    Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme.border(focused))
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
    (focused, lit): (bool, bool),
    theme: &Theme,
    now: NaiveDateTime,
) {
    let mut title = format!(" {name} ({}) {} ", pane.filter.name(), pane.position());
    if pane.loading && pane.rows.is_empty() {
        title.push_str("loading… ");
    }
    let block = block(title, focused, theme, area.width);
    let width = area.width.saturating_sub(2) as usize;
    // Only the rows the list can show become lines: a window holds up to
    // a thousand rows, a frame shows a few dozen.
    let height = area.height.saturating_sub(2) as usize;
    let (shown, mut state) = visible(&pane.state, pane.rows.len(), height);
    let items: Vec<ListItem> = pane.rows[shown.clone()]
        .iter()
        .map(|row| ListItem::new(line_for(row, width, now)).style(theme.row(row)))
        .collect();
    let empty = items.is_empty();
    let widget = List::new(items)
        .block(block)
        .highlight_style(theme.selected(lit));
    frame.render_stateful_widget(widget, area, &mut state);
    *pane.state.offset_mut() = shown.start + state.offset();
    pane.state.select(state.selected().map(|i| shown.start + i));
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

/// The rows of a list of `len` rows that a list `height` lines high may
/// show, given its state (ratatui's `List` shows the rows from its offset,
/// moved as little as it takes to show the selection), and the state for a
/// list of those rows alone.
fn visible(state: &ListState, len: usize, height: usize) -> (Range<usize>, ListState) {
    if len == 0 {
        return (0..0, ListState::default());
    }
    let offset = state.offset().min(len - 1);
    let selected = state.selected().map(|i| i.min(len - 1));
    let from = selected.map_or(offset, |i| i.min(offset));
    let to = selected
        .map_or(offset + height, |i| (i + 1).max(offset + height))
        .min(len);
    let local = ListState::default()
        .with_offset(offset - from)
        .with_selected(selected.map(|i| i - from));
    (from..to, local)
}

/// "2026-11-23 10:00:00 UTC (3d ago)", or the text as stored when it
/// cannot be read.
fn when(now: NaiveDateTime, at: &str) -> String {
    match parse_datetime(at) {
        Some(t) => format!(
            "{} UTC ({})",
            t.format("%Y-%m-%d %H:%M:%S"),
            crate::display::ago_dt(now, t)
        ),
        None => format!("{} (not a date the console can read)", sanitize_line(at)),
    }
}

/// Where a deletion time comes from, said plainly.
fn deletion_source(source: Option<&str>, kind: Kind) -> String {
    match source {
        Some("console") => "exact: the console deleted it".into(),
        Some("moderation_action") => {
            "exact: the web app's moderation queue removed it (its moderation action)".into()
        }
        Some("first_seen") => {
            "first seen deleted by the console (check or purge); the real time is earlier".into()
        }
        Some("deleted_at") => format!("exact: the {kind}'s deleted_at column"),
        Some(other) => format!("exact: {}", sanitize_line(other)),
        None => "unknown: never purged until check stamps a first-seen time".into(),
    }
}

/// The details pane's lines at a width: the facts of the subject row, a
/// post's text after them. Pre-wrapped, so their number is the height.
pub fn details_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let dim = theme.dim();
    let Some(target) = &app.details.target else {
        return vec![Line::from(Span::styled("select a row", dim))];
    };
    let details = match &app.details.facts {
        None => return vec![Line::from(Span::styled("loading…", dim))],
        Some(Err(e)) => {
            return wrap(&sanitize_line(e), width)
                .into_iter()
                .map(|l| Line::from(Span::styled(l, theme.error())))
                .collect();
        }
        Some(Ok(d)) => d,
    };
    let facts = &details.facts;
    let row = &facts.row;
    let now = app.now;
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut fact = |label: &str, value: String| {
        let text = format!("{label}: {value}");
        for (i, l) in wrap(&text, width).into_iter().enumerate() {
            if i == 0 && l.len() > label.len() {
                let (head, rest) = l.split_at(label.len() + 1);
                out.push(Line::from(vec![
                    Span::styled(head.to_string(), dim),
                    Span::raw(rest.to_string()),
                ]));
            } else {
                out.push(Line::from(l));
            }
        }
    };
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    fact(&target.kind.to_string(), target.id.clone());
    let state = if row.is_active { "active" } else { "deleted" };
    let mut marks = vec![state.to_string()];
    if row.purgeable {
        marks.push(format!("purgeable (past {} days)", app.retention_days));
    }
    if row.held_back {
        marks.push("past retention, held back by an active row below".into());
    }
    if row.violation {
        marks.push("active under a deleted parent (check --fix)".into());
    }
    fact("state", marks.join(", "));
    match row.detail.clone() {
        Detail::Thread {
            slug,
            category,
            is_pinned,
            is_locked,
            ..
        } => {
            fact("title", sanitize_line(&row.label));
            fact(
                "category",
                category.as_deref().map(sanitize_line).unwrap_or("-".into()),
            );
            fact(
                "author",
                sanitize_line(row.author.as_deref().unwrap_or("?")),
            );
            fact(
                "pinned",
                format!("{}   locked: {}", yes(is_pinned), yes(is_locked)),
            );
            fact("slug", sanitize_line(&slug));
        }
        Detail::Post {
            content_format,
            is_first_post,
            ..
        } => {
            fact(
                "author",
                sanitize_line(row.author.as_deref().unwrap_or("?")),
            );
            fact("thread", sanitize_line(&facts.thread_title));
            fact(
                "format",
                format!(
                    "{}   first post: {}",
                    sanitize_line(&content_format),
                    yes(is_first_post)
                ),
            );
        }
        Detail::Attachment {
            image,
            file_size,
            mime_type,
            display_order,
        } => {
            fact(
                "original name",
                sanitize_line(facts.original_filename.as_deref().unwrap_or("")),
            );
            fact("stored as", sanitize_line(&image));
            fact(
                "type",
                format!(
                    "{}   size: {} ({file_size} bytes)   order: {display_order}",
                    sanitize_line(&mime_type),
                    size(file_size)
                ),
            );
            if let Some(files) = &details.files {
                match &files.file {
                    None => fact("file", "not looked at: no media root".into()),
                    Some(f) => fact("file", sanitize_line(f)),
                }
                let thumbs = match (&files.file, files.thumbnails, &files.thumbnail_dir) {
                    (None, _, _) => "not looked at: no media root".to_string(),
                    (_, _, None) => "none: the image has no thumbnail folder of its own".into(),
                    (_, Some(n), Some(dir)) => format!("{n} in {}", sanitize_line(dir)),
                    (_, None, Some(dir)) => format!("none ({} absent)", sanitize_line(dir)),
                };
                fact("thumbnails", thumbs);
            }
            if let Some(alt) = facts.alt_text.as_deref().filter(|a| !a.is_empty()) {
                fact("alt text", sanitize_line(alt));
            }
            fact("thread", sanitize_line(&facts.thread_title));
        }
    }
    if let (Some((active, deleted)), Some(child)) = (facts.children, target.kind.child()) {
        fact(
            child.plural(),
            format!("{active} active, {deleted} deleted"),
        );
    }
    fact("created", when(now, &row.created_at));
    if let Some(updated) = &facts.updated_at {
        fact("updated", when(now, updated));
    }
    if let Some(edited) = &facts.edited_at {
        fact("edited", when(now, edited));
    }
    if !row.is_active {
        match &row.deleted_at {
            Some(at) => fact("deleted", when(now, at)),
            None => fact("deleted", "time unknown".into()),
        }
        fact(
            "deletion time",
            deletion_source(facts.deletion_source.as_deref(), target.kind),
        );
    }
    if let Some(text) = &facts.text {
        out.push(Line::from(Span::styled("text:", dim)));
        for l in wrap(&sanitize_text(text), width) {
            out.push(Line::from(l));
        }
    }
    out
}

fn details(frame: &mut Frame, area: Rect, app: &App) {
    let focused = app.focus == Focus::Details;
    let title = match &app.details.target {
        Some(t) => format!(" Details: {} ", t.kind),
        None => " Details ".to_string(),
    };
    let lines = details_lines(app, area.width.saturating_sub(2) as usize);
    let visible = area.height.saturating_sub(2) as usize;
    let max = lines.len().saturating_sub(visible);
    // Which lines are in view, when not all are: "lines 1-7/16".
    let title = if max > 0 {
        let first = (app.details.scroll as usize).min(max) + 1;
        format!(
            "{title}lines {first}-{}/{} ",
            first + visible - 1,
            lines.len()
        )
    } else {
        title
    };
    let paragraph = Paragraph::new(lines)
        .block(block(title, focused, &app.theme, area.width))
        .scroll((app.details.scroll.min(max as u16), 0));
    frame.render_widget(paragraph, area);
}
