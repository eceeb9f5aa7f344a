//! Drawing: the state in, a frame out. Nothing here changes what the
//! console knows; the only state touched is the lists' scroll offsets,
//! which ratatui keeps in `ListState`.

pub mod ascii;
mod dialogs;
mod panes;
mod status;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout as RLayout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::app::{App, MIN_HEIGHT, MIN_WIDTH, Overlay};

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub threads: Rect,
    pub posts: Rect,
    pub attachments: Rect,
    pub text: Rect,
    pub status: Rect,
    pub message: Rect,
    pub hints: Rect,
}

/// Threads and posts on top, attachments and the post's text below, then
/// the status line, the message line and the key hints.
pub fn layout(area: Rect) -> Layout {
    let [body, status, message, hints] = RLayout::vertical([
        Constraint::Min(4),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [top, bottom] =
        RLayout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
    let [threads, posts] =
        RLayout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(top);
    let [attachments, text] =
        RLayout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(bottom);
    Layout {
        threads,
        posts,
        attachments,
        text,
        status,
        message,
        hints,
    }
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
            Line::from("Make it larger, or press q to quit."),
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
    let l = layout(area);
    panes::draw(frame, app, &l);
    status::draw(frame, app, &l);
    match &mut app.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => dialogs::help(frame, &app.keymap, &app.theme, *scroll),
        Some(Overlay::Confirm(c)) => dialogs::confirm(frame, &app.theme, c),
        Some(Overlay::Purge(d)) => dialogs::purge(frame, &app.theme, d, app.now),
        Some(Overlay::Quit(d)) => {
            dialogs::purge(frame, &app.theme, d, app.now);
            dialogs::quit(frame, &app.theme);
        }
        Some(Overlay::List(list)) => dialogs::list(frame, &app.theme, list),
        Some(Overlay::Search { input }) => dialogs::search(frame, &app.theme, input, l.hints),
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
