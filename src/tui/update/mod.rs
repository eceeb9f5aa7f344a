//! Events in, state changes and worker requests out. Nothing here touches
//! the database or the terminal: a key becomes an action (from the keymap),
//! the action changes the state, and what needs the database goes to the
//! worker as a request.
//!
//! `keys` turns input into actions, `panes` keeps the lists loaded and in
//! step, `dialogs` runs the confirmation, the purge dialog and overlays, and
//! `answers` folds the worker's responses into the state.

mod answers;
mod dialogs;
mod keys;
mod panes;

use std::time::Duration;

use ratatui::crossterm::event::{Event as TermEvent, KeyEventKind};
use ratatui::layout::Rect;

use super::app::App;
use super::worker::{Pane, Request};

/// Load the next page when the selection comes this close to the end.
pub(super) const PREFETCH: usize = 40;
/// A reload keeps at most this many rows of a pane (`App::reload_cap`).
pub const RELOAD_CAP: usize = 2000;
/// Counts are the slowest query; a live refresh asks at most this often.
pub(super) const COUNTS_EVERY: Duration = Duration::from_secs(3);

impl App {
    /// The first requests: the threads, the counts.
    pub fn start(&mut self) -> Vec<Request> {
        let mut out = Vec::new();
        out.extend(self.reset_pane(Pane::Threads, None));
        out.push(self.ask_counts());
        out
    }

    pub fn on_terminal(&mut self, event: TermEvent) -> Vec<Request> {
        match event {
            TermEvent::Key(key) if key.kind == KeyEventKind::Press => self.on_key(key),
            TermEvent::Mouse(mouse) if self.mouse => self.on_mouse(mouse),
            TermEvent::Resize(w, h) => {
                self.area = Rect::new(0, 0, w, h);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
