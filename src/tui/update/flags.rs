//! The flag view: the web app's pending flags, a review of the selected
//! one (through the confirmation, with its reason and note), and the jump
//! to the flagged row.

use crate::display::{ago, sanitize_line};
use crate::tui::app::{App, FlagView, Level, Overlay};
use crate::tui::executor::Op;
use crate::tui::keymap::{Action, Layer};
use crate::tui::worker::Request;
use modcon_core::flags::{FlagRow, ReviewAction};
use modcon_core::model::Kind;

/// The review a key asks for, for a flag on this kind of content.
fn review_of(action: Action, kind: Kind) -> Option<ReviewAction> {
    Some(match action {
        Action::Approve => ReviewAction::Approve,
        Action::Reject => ReviewAction::Reject,
        Action::Warn => ReviewAction::Warning,
        Action::Lock => ReviewAction::LockThread,
        Action::Remove if kind == Kind::Post => ReviewAction::RemovePost,
        Action::Remove => ReviewAction::RemoveThread,
        _ => return None,
    })
}

/// "spam flag by alice, 3d ago: Same link posted in three threads today."
pub fn flag_label(flag: &FlagRow, now: chrono::NaiveDateTime) -> String {
    let mut label = format!(
        "{} flag by {}, {}",
        flag.flag_reason,
        flag.reporter.as_deref().unwrap_or("an unknown user"),
        ago(now, &flag.created_at)
    );
    if !flag.explanation.trim().is_empty() {
        label.push_str(&format!(": {}", flag.explanation.trim()));
    }
    sanitize_line(&label)
}

impl App {
    /// `F`: opens the flag view and asks for the queue.
    pub(super) fn open_flags(&mut self) -> Vec<Request> {
        self.note(Level::Info, "reading the flag queue…");
        self.overlay = Some(Overlay::Flags(FlagView::default()));
        vec![Request::Flags]
    }

    /// The queue came: into the flag view, wherever it is (open, or waiting
    /// under a review's confirmation).
    pub(super) fn on_flags(&mut self, result: Result<Vec<FlagRow>, String>) {
        let view = match &mut self.overlay {
            Some(Overlay::Flags(view)) => view,
            Some(Overlay::Confirm(c)) => match c.back.as_deref_mut() {
                Some(Overlay::Flags(view)) => view,
                _ => return,
            },
            _ => return,
        };
        let first = !view.loaded;
        match result {
            Ok(flags) => view.replace(flags),
            Err(e) => {
                // None is shown, so none stays selected: a key must not
                // review a flag the view no longer shows.
                view.loaded = true;
                view.flags.clear();
                view.state.select(None);
                view.error = Some(e.clone());
                self.say(Level::Error, format!("flag queue: {e}"));
                return;
            }
        }
        if first && matches!(self.overlay, Some(Overlay::Flags(_))) {
            let n = match &self.overlay {
                Some(Overlay::Flags(v)) => v.flags.len(),
                _ => 0,
            };
            self.note(
                Level::Info,
                format!(
                    "flag queue: {n} pending flag{}",
                    if n == 1 { "" } else { "s" }
                ),
            );
        }
    }

    /// Whether the flag view is open (itself, or under a review's
    /// confirmation), so a change of the data reloads it.
    pub(super) fn flags_shown(&self) -> bool {
        match &self.overlay {
            Some(Overlay::Flags(_)) => true,
            Some(Overlay::Confirm(c)) => matches!(c.back.as_deref(), Some(Overlay::Flags(_))),
            _ => false,
        }
    }

    pub(super) fn works_in_flags(&self, action: Action) -> bool {
        let Some(Overlay::Flags(view)) = &self.overlay else {
            return false;
        };
        let selected = view.selected();
        match action {
            Action::Open => selected.is_some_and(|f| f.target().is_some()),
            // Content already deleted cannot be removed again (the key
            // still says why).
            Action::Remove => {
                !self.read_only
                    && selected
                        .is_some_and(|f| f.target().is_some() && f.target_is_active == Some(true))
            }
            Action::Approve | Action::Reject | Action::Lock | Action::Warn => {
                !self.read_only && selected.is_some_and(|f| f.target().is_some())
            }
            Action::Down => view.flags.len() > 1,
            Action::Messages => !self.messages.is_empty(),
            _ => true,
        }
    }

    pub(super) fn flags_action(&mut self, action: Action) -> Vec<Request> {
        if action == Action::Messages {
            self.open_messages();
            return Vec::new();
        }
        // Each key replaces the message line, as in the panes.
        self.message = None;
        if self.read_only && action.mutates() {
            self.note(
                Level::Warning,
                format!(
                    "read-only: {} does nothing — the database was opened with --read-only",
                    self.keymap.keys_for(Layer::Flags, action)
                ),
            );
            return Vec::new();
        }
        let page = self.page_rows() as isize;
        let now = self.now;
        let Some(Overlay::Flags(view)) = &mut self.overlay else {
            return Vec::new();
        };
        match action {
            Action::Open => match view.selected().and_then(FlagRow::target) {
                Some(target) => vec![Request::Locate { target }],
                None => Vec::new(),
            },
            Action::Approve | Action::Reject | Action::Remove | Action::Lock | Action::Warn => {
                let Some(flag) = view.selected().cloned() else {
                    self.note(Level::Warning, "no flag selected");
                    return Vec::new();
                };
                let Some(target) = flag.target() else {
                    return Vec::new();
                };
                let Some(review) = review_of(action, target.kind) else {
                    return Vec::new();
                };
                let label = flag_label(&flag, now);
                let back = self.overlay.take().map(Box::new);
                self.open_confirm(
                    Op::Review {
                        flag: flag.id.clone(),
                        action: review,
                        target,
                    },
                    label,
                    back,
                )
            }
            Action::Cancel => {
                self.overlay = None;
                Vec::new()
            }
            other => {
                let n = view.flags.len();
                Self::move_in(&mut view.state, n, other, page);
                Vec::new()
            }
        }
    }
}
