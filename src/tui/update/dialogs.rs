//! Dialogs: the confirmation, the purge dialog, overlays, the search input.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::display::{sanitize_line, short_id};
use crate::tui::app::{App, Confirm, Level, Overlay, PurgeDialog, PurgeRun};
use crate::tui::executor::Op;
use crate::tui::keymap::Action;
use crate::tui::worker::Request;

impl App {
    pub(super) fn open_confirm(&mut self, delete: bool) -> Vec<Request> {
        let Some((target, label, active)) = self.target() else {
            self.say(Level::Warning, "nothing selected");
            return Vec::new();
        };
        // Nothing to confirm when there is nothing to do.
        if delete != active {
            let state = if active { "active" } else { "deleted" };
            self.say(
                Level::Info,
                format!(
                    "{} {} is already {state}; nothing to do",
                    target.kind,
                    short_id(&target.id)
                ),
            );
            return Vec::new();
        }
        let op = if delete {
            Op::Delete(target)
        } else {
            Op::Restore(target)
        };
        self.overlay = Some(Overlay::Confirm(Confirm {
            op: op.clone(),
            label,
            preview: None,
            changed: false,
            sent: false,
        }));
        vec![Request::Preview { op }]
    }

    pub(super) fn confirm_action(&mut self, action: Action) -> Vec<Request> {
        let Some(Overlay::Confirm(confirm)) = &mut self.overlay else {
            return Vec::new();
        };
        match action {
            Action::Confirm => match &confirm.preview {
                Some(Ok(tally)) if !confirm.sent => {
                    confirm.sent = true;
                    vec![Request::Execute {
                        op: confirm.op.clone(),
                        expected: Some(*tally),
                    }]
                }
                Some(Ok(_)) => Vec::new(),
                Some(Err(_)) => {
                    self.overlay = None;
                    Vec::new()
                }
                None => {
                    self.say(Level::Info, "still counting what it would touch…");
                    Vec::new()
                }
            },
            Action::Cancel => {
                self.overlay = None;
                self.say(Level::Info, "cancelled; nothing changed");
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn open_purge(&mut self) -> Vec<Request> {
        self.overlay = Some(Overlay::Purge(PurgeDialog {
            retention: self.retention_days.to_string(),
            batch: self.batch_size.to_string(),
            field: 0,
            fresh: true,
            plan: None,
            running: None,
            finished: None,
        }));
        self.ask_purge_plan()
    }

    pub(super) fn ask_purge_plan(&mut self) -> Vec<Request> {
        let Some(Overlay::Purge(d)) = &mut self.overlay else {
            return Vec::new();
        };
        d.plan = None;
        match d.values() {
            Some((retention_days, batch_size)) => vec![Request::PurgePlan {
                retention_days,
                batch_size,
            }],
            None => {
                d.plan = Some(Err(
                    "retention must be a number of days, batch size at least 1".into(),
                ));
                Vec::new()
            }
        }
    }

    pub(super) fn purge_setup_action(&mut self, action: Action) -> Vec<Request> {
        let Some(Overlay::Purge(d)) = &mut self.overlay else {
            return Vec::new();
        };
        match action {
            Action::NextField => {
                d.field = 1 - d.field;
                d.fresh = true;
                Vec::new()
            }
            Action::ConfirmPurge => {
                let ready = matches!(&d.plan, Some(Ok(plan)) if plan.removed.rows() > 0);
                match (ready, d.values()) {
                    (true, Some((retention_days, batch_size))) => {
                        let cancel = Arc::new(AtomicBool::new(false));
                        d.running = Some(PurgeRun {
                            progress: Default::default(),
                            cancel: cancel.clone(),
                            cancelling: false,
                        });
                        vec![Request::StartPurge {
                            retention_days,
                            batch_size,
                            cancel,
                        }]
                    }
                    _ => {
                        self.say(Level::Warning, "nothing to purge with these settings");
                        Vec::new()
                    }
                }
            }
            Action::Cancel => {
                self.overlay = None;
                self.say(Level::Info, "purge cancelled; nothing changed");
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn purge_running_action(&mut self, action: Action) -> Vec<Request> {
        match action {
            Action::Cancel => {
                if let Some(Overlay::Purge(PurgeDialog {
                    running: Some(run), ..
                })) = &mut self.overlay
                {
                    run.cancel.store(true, Ordering::SeqCst);
                    run.cancelling = true;
                }
                self.say(Level::Warning, "stopping after the batch in flight…");
                Vec::new()
            }
            Action::Quit => self.ask_quit(),
            _ => Vec::new(),
        }
    }

    pub(super) fn quit_confirm_action(&mut self, action: Action) -> Vec<Request> {
        let Some(Overlay::Quit(dialog)) = self.overlay.take() else {
            return Vec::new();
        };
        match action {
            Action::Confirm => {
                if let Some(run) = &dialog.running {
                    run.cancel.store(true, Ordering::SeqCst);
                }
                let mut dialog = dialog;
                if let Some(run) = &mut dialog.running {
                    run.cancelling = true;
                }
                self.overlay = Some(Overlay::Purge(dialog));
                self.quit_after_purge = true;
                self.say(
                    Level::Warning,
                    "stopping the purge after the batch in flight, then quitting…",
                );
            }
            _ => self.overlay = Some(Overlay::Purge(dialog)),
        }
        Vec::new()
    }

    pub(super) fn overlay_action(&mut self, action: Action) -> Vec<Request> {
        let page = self.page_rows() as isize;
        match (&mut self.overlay, action) {
            (Some(Overlay::Help { scroll }), a) => {
                match a {
                    Action::Down => *scroll = scroll.saturating_add(1),
                    Action::Up => *scroll = scroll.saturating_sub(1),
                    Action::PageDown => *scroll = scroll.saturating_add(page as u16),
                    Action::PageUp => *scroll = scroll.saturating_sub(page as u16),
                    Action::Top => *scroll = 0,
                    Action::Cancel => self.overlay = None,
                    _ => {}
                }
                Vec::new()
            }
            (Some(Overlay::Purge(_)), a) => {
                if matches!(a, Action::Cancel | Action::Open) {
                    self.overlay = None;
                }
                Vec::new()
            }
            (Some(Overlay::List(list)), a) => {
                let n = list.entries.len() as isize;
                let at = list.state.selected().unwrap_or(0) as isize;
                let to = |i: isize| Some(i.clamp(0, (n - 1).max(0)) as usize);
                match a {
                    Action::Down => list.state.select(to(at + 1)),
                    Action::Up => list.state.select(to(at - 1)),
                    Action::PageDown => list.state.select(to(at + page)),
                    Action::PageUp => list.state.select(to(at - page)),
                    Action::Top => list.state.select(to(0)),
                    Action::Bottom => list.state.select(to(n - 1)),
                    Action::Open => {
                        let target = list
                            .state
                            .selected()
                            .and_then(|i| list.entries.get(i))
                            .and_then(|e| e.target.clone());
                        return match target {
                            Some(target) => vec![Request::Locate { target }],
                            None => {
                                self.say(Level::Info, "this entry has no row to go to");
                                Vec::new()
                            }
                        };
                    }
                    Action::Cancel => self.overlay = None,
                    _ => {}
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn input_action(&mut self, action: Action) -> Vec<Request> {
        let Some(Overlay::Search { input }) = &self.overlay else {
            return Vec::new();
        };
        let needle = input.clone();
        match action {
            Action::Submit if needle.trim().is_empty() => {
                self.overlay = None;
                Vec::new()
            }
            Action::Submit => {
                self.overlay = None;
                self.say(
                    Level::Info,
                    format!("searching for {:?}…", sanitize_line(&needle)),
                );
                vec![Request::Search { needle }]
            }
            Action::Cancel => {
                self.overlay = None;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
