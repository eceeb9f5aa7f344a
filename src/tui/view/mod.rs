//! Drawing: the state in, a frame out. Nothing here changes what the
//! console knows; the only state touched is the lists' scroll offsets,
//! which ratatui keeps in `ListState`, and `app.area`, the size of the
//! frame drawn, which `update` pages and scrolls by. The sizes of what scrolls (help,
//! details, information dialogs) are worked out here too, so `update`
//! clamps every scroll to what is drawn.

pub mod ascii;
mod dialogs;

pub use dialogs::problem_line;
mod flags;
mod panes;
mod status;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout as RLayout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::app::{App, MIN_HEIGHT, MIN_WIDTH, Overlay};
use super::keymap::{Action, Layer};

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub threads: Rect,
    pub posts: Rect,
    pub attachments: Rect,
    pub details: Rect,
    pub status: Rect,
    pub message: Rect,
    pub hints: Rect,
}

/// Threads and posts on top, attachments and the details below, then the
/// status line, the message line and the key hints (one or two lines: as
/// many as the hints need at this width).
pub fn layout(area: Rect, hint_rows: u16) -> Layout {
    let [body, status, message, hints] = RLayout::vertical([
        Constraint::Min(4),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(hint_rows),
    ])
    .areas(area);
    let [top, bottom] =
        RLayout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
    let [threads, posts] =
        RLayout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(top);
    let [attachments, details] =
        RLayout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(bottom);
    Layout {
        threads,
        posts,
        attachments,
        details,
        status,
        message,
        hints,
    }
}

/// The layout of the app's current screen.
pub fn layout_for(app: &App) -> Layout {
    let rows = status::hint_lines(app, app.area.width).len().max(1) as u16;
    layout(app.area, rows)
}

pub fn draw(frame: &mut Frame, app: &mut App) {
    let area = frame.area();
    app.area = area;
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = vec![
            Line::from("Terminal too small"),
            Line::from(format!(
                "modcon needs at least {MIN_WIDTH}x{MIN_HEIGHT}; this one is {}x{}.",
                area.width, area.height
            )),
            Line::from(format!(
                "Make it larger, or press {} to quit.",
                app.keymap.key(Layer::List, Action::Quit)
            )),
        ];
        frame.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        if app.theme.ascii {
            ascii::downgrade(frame.buffer_mut());
        }
        return;
    }
    let l = layout_for(app);
    panes::draw(frame, app, &l);
    status::draw(frame, app, &l);
    let theme = app.theme;
    match &app.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => dialogs::help(frame, app, *scroll),
        Some(Overlay::Confirm(c)) => dialogs::confirm(frame, app, c),
        Some(Overlay::Info(info)) => dialogs::info(frame, app, info),
        Some(Overlay::Purge(d)) => dialogs::purge(frame, app, d),
        Some(Overlay::Quit(d)) => {
            dialogs::purge(frame, app, d);
            dialogs::quit(frame, app);
        }
        Some(Overlay::Search { input }) => {
            dialogs::search(frame, &theme, &app.keymap, input, l.hints)
        }
        Some(Overlay::Results(_) | Overlay::Check(_) | Overlay::Flags(_)) => {}
    }
    // The list overlays cover the panes, leaving the status, message and
    // key-hint lines in view; they keep their scroll offsets in their state.
    let body = Rect {
        height: l.status.y.saturating_sub(area.y),
        ..area
    };
    match &mut app.overlay {
        Some(Overlay::Results(results)) => dialogs::results(frame, body, &theme, app.now, results),
        Some(Overlay::Check(check)) => dialogs::check(frame, body, &theme, &app.keymap, check),
        Some(Overlay::Flags(view)) => flags::draw(frame, body, &theme, app.now, view),
        _ => {}
    }
    if app.theme.ascii {
        ascii::downgrade(frame.buffer_mut());
    }
}

/// A rectangle of `width` x `height` (clamped) in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// How far the details pane can scroll: its lines past the visible ones.
pub fn details_max_scroll(app: &App) -> u16 {
    let area = layout_for(app).details;
    let inner_height = area.height.saturating_sub(2) as usize;
    let lines = panes::details_lines(app, area.width.saturating_sub(2) as usize).len();
    lines.saturating_sub(inner_height) as u16
}

/// How far the help overlay can scroll.
pub fn help_max_scroll(app: &App) -> u16 {
    dialogs::help_max_scroll(app)
}

/// How far the open information dialog can scroll.
pub fn info_max_scroll(app: &App) -> u16 {
    match &app.overlay {
        Some(Overlay::Info(info)) => dialogs::info_max_scroll(app, info),
        _ => 0,
    }
}
