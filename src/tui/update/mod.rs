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
mod flags;
mod keys;
mod panes;

use ratatui::crossterm::event::{Event as TermEvent, KeyEventKind};
use ratatui::layout::Rect;

use super::app::Pane;
use super::app::{App, Focus, Overlay};
use super::keymap::{Action, Disabled, Layer};
use super::view;
use super::worker::Request;

/// Load the next page when the selection comes this close to the end of
/// the window (or the previous one, this close to its start).
pub(super) const PREFETCH: usize = 40;

impl App {
    /// The first requests: the threads, the counts.
    pub fn start(&mut self) -> Vec<Request> {
        let mut out = Vec::new();
        out.extend(self.reset_pane(Pane::Threads, None));
        out.extend(self.counts_changed());
        out
    }

    pub fn on_terminal(&mut self, event: TermEvent) -> Vec<Request> {
        match event {
            TermEvent::Key(key) if key.kind == KeyEventKind::Press => self.on_key(key),
            TermEvent::Mouse(mouse) if self.mouse => self.on_mouse(mouse),
            TermEvent::Resize(w, h) => {
                self.area = Rect::new(0, 0, w, h);
                self.clamp_scrolls();
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Why a binding does nothing now, for reasons that hold in every
    /// layer: the database is read-only, or no row is selected for a row
    /// action of the panes. ([`App::works`] knows the rest, per layer.)
    pub fn disabled(&self, layer: Layer, action: Action) -> Option<Disabled> {
        if action.mutates() && self.read_only {
            return Some(Disabled::ReadOnly);
        }
        let row_action = matches!(action, Action::Delete | Action::Restore);
        if layer == Layer::List && row_action && self.subject_row().is_none() {
            return Some(Disabled::NothingSelected);
        }
        None
    }

    /// Whether an action does something now, in the layer that has the
    /// keyboard. The key hints list only these, so every hint is a key
    /// that works.
    pub fn works(&self, action: Action) -> bool {
        let layer = self.layer();
        if self.disabled(layer, action).is_some() {
            return false;
        }
        match layer {
            Layer::List => self.works_in_panes(action),
            Layer::Confirm => match (&self.overlay, action) {
                (Some(Overlay::Confirm(c)), Action::Confirm) => c.can_confirm(),
                _ => true,
            },
            Layer::Info => match action {
                Action::Down | Action::Up => view::info_max_scroll(self) > 0,
                _ => true,
            },
            Layer::Help => match action {
                Action::Cancel | Action::Redraw | Action::Interrupt => true,
                _ => view::help_max_scroll(self) > 0,
            },
            Layer::Results => match (&self.overlay, action) {
                (Some(Overlay::Results(r)), Action::Open) => {
                    r.selected().is_some_and(|e| e.target().is_some())
                }
                (Some(Overlay::Results(r)), Action::Down) => r.entries.len() > 1,
                _ => true,
            },
            Layer::Check => match (&self.overlay, action) {
                (Some(Overlay::Check(c)), Action::Open) => {
                    c.selected().is_some_and(|p| p.target.is_some())
                }
                (Some(Overlay::Check(c)), Action::Delete | Action::Restore) => {
                    !self.read_only && c.selected().is_some_and(|p| p.target.is_some())
                }
                (Some(Overlay::Check(c)), Action::Fix) => {
                    !self.read_only && !c.report.violations.is_empty()
                }
                (Some(Overlay::Check(c)), Action::Down) => c.shown().len() > 1,
                (_, Action::Messages) => !self.messages.is_empty(),
                _ => true,
            },
            Layer::PurgeSetup => match (&self.overlay, action) {
                (Some(Overlay::Purge(d)), Action::ConfirmPurge) => {
                    !d.plan_only && matches!(&d.plan, Some(Ok(p)) if p.removed.rows() > 0)
                }
                _ => true,
            },
            Layer::PurgeRunning => match (&self.overlay, action) {
                (Some(Overlay::Purge(d)), Action::Cancel) => {
                    d.running.as_ref().is_some_and(|r| !r.cancelling)
                }
                _ => true,
            },
            Layer::Flags => self.works_in_flags(action),
            Layer::Input | Layer::QuitConfirm | Layer::TextField => true,
        }
    }

    fn works_in_panes(&self, action: Action) -> bool {
        let subject = self.subject_row();
        match action {
            Action::PaneLeft => self.focus != Focus::ORDER[0],
            Action::PaneRight => self.focus != Focus::ORDER[Focus::ORDER.len() - 1],
            Action::Enter => {
                matches!(self.focus, Focus::Threads | Focus::Posts)
                    && self
                        .focus
                        .pane()
                        .is_some_and(|p| self.pane(p).selected().is_some())
            }
            Action::NextHit | Action::PrevHit => {
                self.search.as_ref().is_some_and(|s| !s.hits.is_empty())
            }
            Action::Filter => self
                .focus
                .pane()
                .is_some_and(|p| p == Pane::Threads || self.pane(p).parent.is_some()),
            Action::Delete => !self.read_only && subject.is_some_and(|r| r.is_active),
            Action::Restore => !self.read_only && subject.is_some_and(|r| !r.is_active),
            Action::Undo => !self.read_only,
            Action::Messages => !self.messages.is_empty(),
            _ => true,
        }
    }

    /// After a resize: scrolls stay within what there is to see.
    pub(super) fn clamp_scrolls(&mut self) {
        let details = view::details_max_scroll(self);
        self.details.scroll = self.details.scroll.min(details);
        // Each overlay's text is laid out only when it is open.
        match &self.overlay {
            Some(Overlay::Help { .. }) => {
                let help = view::help_max_scroll(self);
                if let Some(Overlay::Help { scroll }) = &mut self.overlay {
                    *scroll = (*scroll).min(help);
                }
            }
            Some(Overlay::Info(_)) => {
                let info = view::info_max_scroll(self);
                if let Some(Overlay::Info(i)) = &mut self.overlay {
                    i.scroll = i.scroll.min(info);
                }
            }
            _ => {}
        }
    }
}
