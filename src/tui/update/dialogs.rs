//! Dialogs: the confirmation, information dialogs, the purge dialog,
//! help, list overlays (search results, log, messages), the check view,
//! the search input.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::display::{sanitize_line, short_id};
use crate::tui::app::{
    App, CheckView, Confirm, Entry, Field, Info, Level, Overlay, PURGE_REASON_FIELD, ProblemKind,
    PurgeDialog, PurgeRun, Results, ResultsKind,
};
use crate::tui::executor::{Op, Why};
use crate::tui::keymap::{Action, Layer};
use crate::tui::view;
use crate::tui::worker::Request;

impl App {
    pub(super) fn open_confirm_for_subject(&mut self, delete: bool) -> Vec<Request> {
        let Some((target, label, active)) = self.target() else {
            self.note(Level::Warning, "nothing selected");
            return Vec::new();
        };
        // Nothing to confirm when there is nothing to do.
        if delete != active {
            let state = if active { "active" } else { "deleted" };
            self.note(
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
        self.open_confirm(op, label, None)
    }

    pub(super) fn open_confirm(
        &mut self,
        op: Op,
        label: String,
        back: Option<Box<Overlay>>,
    ) -> Vec<Request> {
        self.overlay = Some(Overlay::Confirm(Confirm::new(op.clone(), label, back)));
        vec![Request::Preview { op }]
    }

    /// Opens a dialog that only informs; closing it goes back to `back`.
    pub(super) fn open_info(
        &mut self,
        title: String,
        text: &str,
        level: Level,
        back: Option<Box<Overlay>>,
    ) {
        let text = text
            .lines()
            .map(sanitize_line)
            .collect::<Vec<_>>()
            .join("\n");
        self.overlay = Some(Overlay::Info(Info {
            title,
            text,
            level,
            scroll: 0,
            back,
        }));
    }

    pub(super) fn confirm_action(&mut self, action: Action) -> Vec<Request> {
        let Some(Overlay::Confirm(confirm)) = &mut self.overlay else {
            return Vec::new();
        };
        match action {
            Action::Confirm => match &confirm.preview {
                Some(Ok(preview)) if confirm.can_confirm() => {
                    confirm.sent = true;
                    vec![Request::Execute {
                        op: confirm.op.clone(),
                        expected: Some(*preview),
                        why: Why::of(&confirm.reason, confirm.notes.as_deref()),
                    }]
                }
                Some(Ok(_)) if confirm.sent => Vec::new(),
                Some(Ok(_)) if confirm.op.is_review() && confirm.reason.trim().is_empty() => {
                    confirm.field = Some(Field::Reason);
                    let text = format!(
                        "a review needs a reason: type it, then {} and {}",
                        self.keymap.key(Layer::TextField, Action::Submit),
                        self.keymap.key(Layer::Confirm, Action::Confirm)
                    );
                    self.note(Level::Warning, text);
                    Vec::new()
                }
                Some(_) => {
                    let close = self
                        .keymap
                        .key_preferring(Layer::Confirm, Action::Cancel, "esc");
                    self.note(Level::Info, format!("nothing to do; {close} closes"));
                    Vec::new()
                }
                None => {
                    self.note(Level::Info, "still working out what it would do…");
                    Vec::new()
                }
            },
            Action::NextField => {
                confirm.field = confirm.next_field();
                Vec::new()
            }
            Action::Cancel => {
                let back = confirm.back.take();
                self.overlay = back.map(|b| *b);
                self.note(Level::Info, "cancelled; nothing changed");
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// A dialog's text field has the keyboard: Tab goes on to the next
    /// field, Enter back to the dialog's keys (it never confirms), Esc
    /// closes the dialog.
    pub(super) fn text_field_action(&mut self, action: Action) -> Vec<Request> {
        match (&mut self.overlay, action) {
            (Some(Overlay::Confirm(c)), Action::NextField) => c.field = c.next_field(),
            (Some(Overlay::Confirm(c)), Action::Submit) => c.field = None,
            (Some(Overlay::Confirm(_)), Action::Cancel) => {
                return self.confirm_action(Action::Cancel);
            }
            (Some(Overlay::Purge(d)), Action::NextField | Action::Submit) => {
                d.field = 0;
                d.fresh = true;
            }
            (Some(Overlay::Purge(_)), Action::Cancel) => {
                return self.purge_setup_action(Action::Cancel);
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn info_action(&mut self, action: Action) -> Vec<Request> {
        let max = view::info_max_scroll(self);
        match &mut self.overlay {
            Some(Overlay::Info(info)) => match action {
                Action::Down => info.scroll = (info.scroll + 1).min(max),
                Action::Up => info.scroll = info.scroll.saturating_sub(1),
                Action::Cancel => {
                    let back = info.back.take();
                    self.overlay = back.map(|b| *b);
                }
                _ => {}
            },
            // A finished purge's report: close it.
            Some(Overlay::Purge(d)) if d.finished.is_some() && action == Action::Cancel => {
                self.overlay = None;
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn open_purge(&mut self) -> Vec<Request> {
        let plan_only = self.read_only;
        if plan_only {
            self.note(
                Level::Info,
                "read-only: the purge plan alone; nothing can be removed",
            );
        }
        self.overlay = Some(Overlay::Purge(PurgeDialog {
            retention: self.retention_days.to_string(),
            batch: self.batch_size.to_string(),
            reason: String::new(),
            field: 0,
            fresh: true,
            plan_only,
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
                d.plan = Some(Err(format!(
                    "retention must be a number of days, batch size from 1 to {}",
                    modcon_core::MAX_BATCH_SIZE
                )));
                Vec::new()
            }
        }
    }

    pub(super) fn purge_setup_action(&mut self, action: Action) -> Vec<Request> {
        let works = self.works(action);
        let Some(Overlay::Purge(d)) = &mut self.overlay else {
            return Vec::new();
        };
        match action {
            Action::NextField => {
                // A plan alone (read-only) has no reason to give.
                let fields = if d.plan_only {
                    PURGE_REASON_FIELD
                } else {
                    PURGE_REASON_FIELD + 1
                };
                d.field = (d.field + 1) % fields;
                d.fresh = true;
                Vec::new()
            }
            Action::ConfirmPurge if works => match d.values() {
                Some((retention_days, batch_size)) => {
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
                        reason: Why::of(&d.reason, None).reason,
                    }]
                }
                None => Vec::new(),
            },
            Action::ConfirmPurge => {
                let why = if d.plan_only {
                    "read-only: a purge cannot run; this is the plan alone"
                } else {
                    "nothing to purge with these settings"
                };
                self.note(Level::Warning, why);
                Vec::new()
            }
            Action::Cancel => {
                self.overlay = None;
                self.note(Level::Info, "purge closed; nothing changed");
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
                self.note(Level::Warning, "stopping after the batch in flight…");
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
                self.note(
                    Level::Warning,
                    "stopping the purge after the batch in flight, then quitting…",
                );
            }
            _ => self.overlay = Some(Overlay::Purge(dialog)),
        }
        Vec::new()
    }

    pub(super) fn help_action(&mut self, action: Action) -> Vec<Request> {
        let max = view::help_max_scroll(self);
        let page = self.page_rows() as u16;
        if let Some(Overlay::Help { scroll }) = &mut self.overlay {
            *scroll = match action {
                Action::Down => (*scroll + 1).min(max),
                Action::Up => scroll.saturating_sub(1),
                Action::PageDown => scroll.saturating_add(page).min(max),
                Action::PageUp => scroll.saturating_sub(page),
                Action::Top => 0,
                Action::Bottom => max,
                _ => *scroll,
            };
            if action == Action::Cancel {
                self.overlay = None;
            }
        }
        Vec::new()
    }

    /// Moves a list overlay's selection, clamped to its entries.
    pub(super) fn move_in(
        state: &mut ratatui::widgets::ListState,
        n: usize,
        action: Action,
        page: isize,
    ) {
        let at = state.selected().unwrap_or(0) as isize;
        let last = n.saturating_sub(1) as isize;
        let to = match action {
            Action::Down => at + 1,
            Action::Up => at - 1,
            Action::PageDown => at + page,
            Action::PageUp => at - page,
            Action::Top => 0,
            Action::Bottom => last,
            _ => at,
        };
        if n > 0 {
            state.select(Some(to.clamp(0, last) as usize));
        }
    }

    pub(super) fn results_action(&mut self, action: Action) -> Vec<Request> {
        let page = self.page_rows() as isize;
        let Some(Overlay::Results(results)) = &mut self.overlay else {
            return Vec::new();
        };
        match action {
            Action::Open => {
                let target = results.selected().and_then(Entry::target);
                match target {
                    Some(target) => {
                        if results.kind == ResultsKind::Search
                            && let (Some(search), Some(i)) =
                                (&mut self.search, results.state.selected())
                        {
                            search.at = Some(i);
                        }
                        vec![Request::Locate { target }]
                    }
                    None => Vec::new(),
                }
            }
            Action::Cancel => {
                self.overlay = results.back.take().map(|back| *back);
                // The flag queue may have changed while it was hidden.
                if self.flags_shown() {
                    vec![Request::Flags]
                } else {
                    Vec::new()
                }
            }
            other => {
                let n = results.entries.len();
                Self::move_in(&mut results.state, n, other, page);
                Vec::new()
            }
        }
    }

    pub(super) fn check_action(&mut self, action: Action) -> Vec<Request> {
        if action == Action::Messages {
            self.open_messages();
            return Vec::new();
        }
        let works = self.works(action);
        let page = self.page_rows() as isize;
        let Some(Overlay::Check(view)) = &mut self.overlay else {
            return Vec::new();
        };
        match action {
            Action::Open => match view.selected().and_then(|p| p.target.clone()) {
                Some(target) => vec![Request::Locate { target }],
                None => Vec::new(),
            },
            Action::Filter => {
                // All, then each kind found, then all again.
                let found: Vec<ProblemKind> = ProblemKind::ALL
                    .into_iter()
                    .filter(|k| view.count(*k) > 0)
                    .collect();
                view.only = match view.only {
                    None => found.first().copied(),
                    Some(k) => found
                        .iter()
                        .position(|f| *f == k)
                        .and_then(|i| found.get(i + 1).copied()),
                };
                view.state.select(Some(0));
                Self::skip_heading(view);
                Vec::new()
            }
            Action::Delete | Action::Restore if works => {
                let Some(problem) = view.selected().cloned() else {
                    return Vec::new();
                };
                let Some(target) = problem.target.clone() else {
                    return Vec::new();
                };
                let what = view::problem_line(&view.report, &problem);
                let op = if action == Action::Delete {
                    Op::Delete(target)
                } else {
                    Op::Restore(target)
                };
                let back = self.overlay.take().map(Box::new);
                self.open_confirm(op, what, back)
            }
            Action::Fix if works => {
                let back = self.overlay.take().map(Box::new);
                self.open_confirm(
                    Op::Fix,
                    "every active row under a deleted parent".into(),
                    back,
                )
            }
            Action::Delete | Action::Restore | Action::Fix => {
                if self.read_only {
                    self.note(
                        Level::Warning,
                        "read-only: nothing can be changed (opened with --read-only)",
                    );
                }
                Vec::new()
            }
            Action::Cancel => {
                self.overlay = None;
                Vec::new()
            }
            other => {
                let n = view.shown().len();
                Self::move_in(&mut view.state, n, other, page);
                // Headings are not rows: step over them in the direction
                // of travel.
                if view.selected().is_none() {
                    let at = view.state.selected().unwrap_or(0);
                    let up = matches!(other, Action::Up | Action::PageUp);
                    let next = if up && at > 0 { at - 1 } else { at + 1 };
                    if next < n {
                        view.state.select(Some(next));
                    }
                }
                Vec::new()
            }
        }
    }

    /// Puts the check view's selection on a problem, not a heading.
    pub(super) fn skip_heading(view: &mut CheckView) {
        if view.selected().is_none() {
            let shown = view.shown();
            let at = view.state.selected().unwrap_or(0);
            if let Some(i) = (at..shown.len()).find(|i| shown[*i].0.is_some()) {
                view.state.select(Some(i));
            }
        }
    }

    /// The messages view, over the view open now (none, the flag or the
    /// check view), which comes back when it closes.
    pub(super) fn open_messages(&mut self) {
        let back = self.overlay.take().map(Box::new);
        let entries: Vec<Entry> = self
            .messages
            .iter()
            .rev()
            .map(|m| Entry::Message {
                at: m.at,
                text: m.text.clone(),
            })
            .collect();
        let title = format!("Messages of this session, newest first ({})", entries.len());
        let mut results = Results::new(ResultsKind::Messages, title, String::new(), entries);
        results.back = back;
        self.overlay = Some(Overlay::Results(results));
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
                self.note(
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
