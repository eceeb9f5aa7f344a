//! Keys and the mouse: each key an action of the keymap, in its layer.

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Position;

use crate::tui::app::{App, Focus, Level, Overlay};
use crate::tui::executor::{Op, Why};
use crate::tui::keymap::{Action, Layer};
use crate::tui::view;
use crate::tui::worker::Request;

/// The longest reason or note a dialog takes, in characters.
const MAX_TEXT: usize = 500;

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
            Layer::List => {
                // Each action replaces the message line, so an old message
                // never reads as the answer to this key.
                if !matches!(action, Action::Help | Action::Messages) {
                    self.message = None;
                }
                self.list_action(action)
            }
            Layer::Confirm => self.confirm_action(action),
            Layer::Info => self.info_action(action),
            Layer::PurgeSetup => self.purge_setup_action(action),
            Layer::PurgeRunning => self.purge_running_action(action),
            Layer::Help => self.help_action(action),
            Layer::Results => self.results_action(action),
            Layer::Check => self.check_action(action),
            Layer::Flags => self.flags_action(action),
            Layer::Input => self.input_action(action),
            Layer::QuitConfirm => self.quit_confirm_action(action),
            Layer::TextField => self.text_field_action(action),
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
            // A reason or a note: every printable key is text.
            (Layer::TextField, Some(Overlay::Confirm(c)), code) => match (c.field, code) {
                (Some(field), KeyCode::Char(ch)) if plain => {
                    if let Some(text) = c.field_text_mut(field)
                        && text.chars().count() < MAX_TEXT
                    {
                        text.push(ch);
                    }
                    true
                }
                (Some(field), KeyCode::Backspace) => {
                    if let Some(text) = c.field_text_mut(field) {
                        text.pop();
                    }
                    true
                }
                _ => false,
            },
            (Layer::TextField, Some(Overlay::Purge(d)), KeyCode::Char(ch)) if plain => {
                if d.reason.chars().count() < MAX_TEXT {
                    d.reason.push(ch);
                }
                true
            }
            (Layer::TextField, Some(Overlay::Purge(d)), KeyCode::Backspace) => {
                d.reason.pop();
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
            self.note(
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
            Action::NextPane => self.focus_step(1, true),
            Action::PrevPane => self.focus_step(-1, true),
            Action::PaneRight => self.focus_step(1, false),
            Action::PaneLeft => self.focus_step(-1, false),
            Action::Enter => {
                if self.works(Action::Enter) {
                    self.focus_step(1, false)
                } else {
                    Vec::new()
                }
            }
            Action::Search => {
                self.overlay = Some(Overlay::Search {
                    input: String::new(),
                });
                Vec::new()
            }
            Action::NextHit => self.step_hit(1),
            Action::PrevHit => self.step_hit(-1),
            Action::Filter => self.cycle_filter(),
            Action::Delete => self.open_confirm_for_subject(true),
            Action::Restore => self.open_confirm_for_subject(false),
            Action::Undo => {
                self.note(Level::Info, "undoing your latest action…");
                vec![Request::Execute {
                    op: Op::Undo,
                    expected: None,
                    why: Why::default(),
                }]
            }
            Action::Purge => self.open_purge(),
            Action::Check => {
                self.note(Level::Info, "checking…");
                vec![Request::Check]
            }
            Action::Log => {
                self.note(Level::Info, "reading the audit log…");
                vec![Request::Log]
            }
            Action::Flags => self.open_flags(),
            Action::Messages => {
                self.open_messages();
                Vec::new()
            }
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
        let layout = view::layout_for(self);
        (layout.threads.height as usize).saturating_sub(3).max(1)
    }

    pub(super) fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Request> {
        if self.overlay.is_some() || self.too_small() {
            return Vec::new();
        }
        let layout = view::layout_for(self);
        let at = Position::new(mouse.column, mouse.row);
        let hit = [
            (Focus::Threads, layout.threads),
            (Focus::Posts, layout.posts),
            (Focus::Attachments, layout.attachments),
            (Focus::Details, layout.details),
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
                let mut out = self.set_focus(focus);
                let Some(pane) = focus.pane() else {
                    return out;
                };
                let offset = self.pane(pane).state.offset();
                let row = mouse.row.saturating_sub(rect.y + 1) as usize + offset;
                if row < self.pane(pane).rows.len() && mouse.row > rect.y {
                    out.extend(self.select(pane, row));
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// Focus on a pane; a list pane becomes the details pane's subject.
    pub(super) fn set_focus(&mut self, focus: Focus) -> Vec<Request> {
        self.focus = focus;
        match focus.pane() {
            Some(pane) if pane != self.subject => {
                self.subject = pane;
                self.load_details()
            }
            _ => Vec::new(),
        }
    }

    /// Moves the focus a pane along: Tab and Shift-Tab go round, `h` and
    /// `l` stop at the ends.
    pub(super) fn focus_step(&mut self, step: isize, wrap: bool) -> Vec<Request> {
        let n = Focus::ORDER.len() as isize;
        let i = Focus::ORDER
            .iter()
            .position(|f| *f == self.focus)
            .unwrap_or(0) as isize;
        let next = if wrap {
            (i + step).rem_euclid(n)
        } else {
            (i + step).clamp(0, n - 1)
        };
        self.set_focus(Focus::ORDER[next as usize])
    }

    /// `n`/`N`: the next or previous hit of the latest search.
    pub(super) fn step_hit(&mut self, step: isize) -> Vec<Request> {
        let Some(search) = &mut self.search else {
            return Vec::new();
        };
        if search.hits.is_empty() {
            return Vec::new();
        }
        let n = search.hits.len() as isize;
        let next = match search.at {
            Some(at) => (at as isize + step).rem_euclid(n) as usize,
            None if step > 0 => 0,
            None => (n - 1) as usize,
        };
        search.at = Some(next);
        let hit = search.hits[next].clone();
        let total = crate::display::counted(search.hits.len(), search.capped);
        let needle = search.needle.clone();
        self.note(
            Level::Info,
            format!("hit {}/{total} for {needle:?}", next + 1),
        );
        vec![Request::Locate {
            target: modcon_core::rules::Target::new(hit.kind, hit.id),
        }]
    }
}
