//! Keys and the mouse: each key an action of the keymap, in its layer.

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Position;

use crate::tui::app::{App, Focus, Level, Overlay};
use crate::tui::executor::Op;
use crate::tui::keymap::{Action, Layer};
use crate::tui::view;
use crate::tui::worker::Request;

impl App {
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Request> {
        let layer = self.layer();
        let action = self.keymap.action(layer, &key);
        if self.too_small() {
            // Nothing is drawn but the warning: only quitting works.
            return match action {
                Some(Action::Quit | Action::Interrupt) => self.ask_quit(),
                _ => Vec::new(),
            };
        }
        // Text entry owns printable keys in the search input and the purge
        // dialog's number fields.
        if action.is_none() && self.type_into(layer, &key) {
            return self.after_typing(layer);
        }
        let Some(action) = action else {
            return Vec::new();
        };
        // The same in every layer that binds them.
        match action {
            Action::Redraw => {
                self.clear = true;
                return Vec::new();
            }
            Action::Interrupt => return self.ask_quit(),
            _ => {}
        }
        match layer {
            Layer::List => self.list_action(action),
            Layer::Confirm => self.confirm_action(action),
            Layer::PurgeSetup => self.purge_setup_action(action),
            Layer::PurgeRunning => self.purge_running_action(action),
            Layer::Overlay => self.overlay_action(action),
            Layer::Input => self.input_action(action),
            Layer::QuitConfirm => self.quit_confirm_action(action),
        }
    }

    pub(super) fn type_into(&mut self, layer: Layer, key: &KeyEvent) -> bool {
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match (layer, &mut self.overlay, key.code) {
            (Layer::Input, Some(Overlay::Search { input }), KeyCode::Char(c)) if plain => {
                input.push(c);
                true
            }
            (Layer::Input, Some(Overlay::Search { input }), KeyCode::Backspace) => {
                input.pop();
                true
            }
            (Layer::PurgeSetup, Some(Overlay::Purge(d)), KeyCode::Char(c))
                if plain && c.is_ascii_digit() =>
            {
                if std::mem::take(&mut d.fresh) {
                    d.field_mut().clear();
                }
                let field = d.field_mut();
                if field.len() < 6 {
                    field.push(c);
                }
                true
            }
            (Layer::PurgeSetup, Some(Overlay::Purge(d)), KeyCode::Backspace) => {
                d.fresh = false;
                d.field_mut().pop();
                true
            }
            _ => false,
        }
    }

    pub(super) fn after_typing(&mut self, layer: Layer) -> Vec<Request> {
        if layer == Layer::PurgeSetup {
            return self.ask_purge_plan();
        }
        Vec::new()
    }

    pub(super) fn list_action(&mut self, action: Action) -> Vec<Request> {
        if self.read_only && action.mutates() {
            self.say(
                Level::Warning,
                format!(
                    "read-only: {} does nothing — the database was opened with --read-only",
                    self.keymap.keys_for(Layer::List, action)
                ),
            );
            return Vec::new();
        }
        match action {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(self.page_rows() as isize)),
            Action::PageDown => self.move_by(self.page_rows() as isize),
            Action::Top => self.go_top(),
            Action::Bottom => self.go_end(),
            Action::NextPane => self.cycle_focus(1),
            Action::PrevPane => self.cycle_focus(-1),
            Action::PaneRight => self.cycle_focus(1),
            Action::PaneLeft => self.cycle_focus(-1),
            Action::Enter => {
                self.focus = match self.focus {
                    Focus::Threads => Focus::Posts,
                    Focus::Posts => Focus::Attachments,
                    other => other,
                };
                Vec::new()
            }
            Action::Search => {
                self.overlay = Some(Overlay::Search {
                    input: String::new(),
                });
                Vec::new()
            }
            Action::Filter => self.cycle_filter(),
            Action::Delete => self.open_confirm(true),
            Action::Restore => self.open_confirm(false),
            Action::Undo => {
                self.say(Level::Info, "undoing your latest action…");
                vec![Request::Execute {
                    op: Op::Undo,
                    expected: None,
                }]
            }
            Action::Purge => self.open_purge(),
            Action::Check => {
                self.say(Level::Info, "checking…");
                vec![Request::Check]
            }
            Action::Log => vec![Request::Log],
            Action::Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                Vec::new()
            }
            Action::Quit => self.ask_quit(),
            _ => Vec::new(),
        }
    }

    pub(super) fn ask_quit(&mut self) -> Vec<Request> {
        match self.overlay.take() {
            Some(Overlay::Purge(d)) if d.running.is_some() => {
                self.overlay = Some(Overlay::Quit(d));
            }
            Some(Overlay::Quit(d)) => self.overlay = Some(Overlay::Quit(d)),
            _ => self.quit = true,
        }
        Vec::new()
    }

    pub(super) fn page_rows(&self) -> usize {
        (self.area.height as usize / 2).saturating_sub(3).max(1)
    }

    pub(super) fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Request> {
        if self.overlay.is_some() || self.too_small() {
            return Vec::new();
        }
        let layout = view::layout(self.area);
        let at = Position::new(mouse.column, mouse.row);
        let hit = [
            (Focus::Threads, layout.threads),
            (Focus::Posts, layout.posts),
            (Focus::Attachments, layout.attachments),
            (Focus::Text, layout.text),
        ]
        .into_iter()
        .find(|(_, r)| r.contains(at));
        let Some((focus, rect)) = hit else {
            return Vec::new();
        };
        match mouse.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let before = self.focus;
                self.focus = focus;
                let out = self.move_by(if mouse.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                });
                self.focus = before;
                out
            }
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = focus;
                let Some(pane) = focus.pane() else {
                    return Vec::new();
                };
                let offset = self.pane(pane).state.offset();
                let row = mouse.row.saturating_sub(rect.y + 1) as usize + offset;
                if row < self.pane(pane).rows.len() && mouse.row > rect.y {
                    self.select(pane, row)
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        }
    }
}
