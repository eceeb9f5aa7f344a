//! Events in, state changes and worker requests out. Nothing here touches
//! the database or the terminal: a key becomes an action (from the keymap),
//! the action changes the state, and what needs the database goes to the
//! worker as a request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::app::{App, Confirm, Entry, Focus, Level, ListOverlay, Overlay, PurgeDialog, PurgeRun};
use super::executor::{Executed, Op};
use super::keymap::{Action, Layer};
use super::view;
use super::worker::{Location, PAGE, Pane, Request, Response};
use crate::core::check::CheckReport;
use crate::core::model::Kind;
use crate::core::query::{ListQuery, StateFilter};
use crate::core::rules::Target;
use crate::display::{fit, sanitize_line, short_id};

/// Load the next page when the selection comes this close to the end.
const PREFETCH: usize = 40;
/// A reload keeps at most this many rows of a pane (`App::reload_cap`).
pub const RELOAD_CAP: usize = 2000;
/// Counts are the slowest query; a live refresh asks at most this often.
const COUNTS_EVERY: Duration = Duration::from_secs(3);

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

    // ------------------------------------------------------------ keys

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

    fn type_into(&mut self, layer: Layer, key: &KeyEvent) -> bool {
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
                let field = if d.field == 0 {
                    &mut d.retention
                } else {
                    &mut d.batch
                };
                if field.len() < 6 {
                    field.push(c);
                }
                true
            }
            (Layer::PurgeSetup, Some(Overlay::Purge(d)), KeyCode::Backspace) => {
                let field = if d.field == 0 {
                    &mut d.retention
                } else {
                    &mut d.batch
                };
                field.pop();
                true
            }
            _ => false,
        }
    }

    fn after_typing(&mut self, layer: Layer) -> Vec<Request> {
        if layer == Layer::PurgeSetup {
            return self.ask_purge_plan();
        }
        Vec::new()
    }

    fn list_action(&mut self, action: Action) -> Vec<Request> {
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

    fn ask_quit(&mut self) -> Vec<Request> {
        match self.overlay.take() {
            Some(Overlay::Purge(d)) if d.running.is_some() => {
                self.overlay = Some(Overlay::Quit(d));
            }
            Some(Overlay::Quit(d)) => self.overlay = Some(Overlay::Quit(d)),
            _ => self.quit = true,
        }
        Vec::new()
    }

    fn page_rows(&self) -> usize {
        (self.area.height as usize / 2).saturating_sub(3).max(1)
    }

    // ------------------------------------------------------ selection

    fn move_by(&mut self, delta: isize) -> Vec<Request> {
        let Some(pane) = self.focus.pane() else {
            let step = delta.unsigned_abs().min(u16::MAX as usize) as u16;
            self.text.scroll = if delta < 0 {
                self.text.scroll.saturating_sub(step)
            } else {
                self.text.scroll.saturating_add(step)
            };
            return Vec::new();
        };
        let p = self.pane(pane);
        if p.rows.is_empty() {
            return Vec::new();
        }
        let current = p.state.selected().unwrap_or(0) as isize;
        let last = p.rows.len() as isize - 1;
        let next = (current + delta).clamp(0, last) as usize;
        self.select(pane, next)
    }

    /// Selects a row of a pane; loads more rows near the end and brings
    /// the children of the new selection.
    fn select(&mut self, pane: Pane, index: usize) -> Vec<Request> {
        let p = self.pane_mut(pane);
        p.state.select(Some(index));
        p.want = None;
        let mut out = Vec::new();
        if index + PREFETCH >= p.rows.len() && !p.exhausted && !p.loading {
            out.extend(self.page(pane, true));
        }
        out.extend(self.sync_children(pane));
        out
    }

    fn go_top(&mut self) -> Vec<Request> {
        let Some(pane) = self.focus.pane() else {
            self.text.scroll = 0;
            return Vec::new();
        };
        if self.pane(pane).start_at.is_some() {
            // The list started at a jumped-to row: go back to its real top.
            let parent = self.pane(pane).parent.clone();
            return self.reset_pane(pane, parent);
        }
        if self.pane(pane).rows.is_empty() {
            return Vec::new();
        }
        self.select(pane, 0)
    }

    fn go_end(&mut self) -> Vec<Request> {
        let Some(pane) = self.focus.pane() else {
            self.text.scroll = u16::MAX / 2;
            return Vec::new();
        };
        let p = self.pane(pane);
        if p.rows.is_empty() {
            return Vec::new();
        }
        if !p.exhausted {
            self.to_bottom = true;
            self.say(Level::Info, "loading the rest of the list…");
        }
        let last = self.pane(pane).rows.len() - 1;
        self.select(pane, last)
    }

    fn cycle_focus(&mut self, step: isize) -> Vec<Request> {
        let i = Focus::ORDER
            .iter()
            .position(|f| *f == self.focus)
            .unwrap_or(0) as isize;
        let n = Focus::ORDER.len() as isize;
        self.focus = Focus::ORDER[((i + step).rem_euclid(n)) as usize];
        Vec::new()
    }

    fn cycle_filter(&mut self) -> Vec<Request> {
        let Some(pane) = self.focus.pane() else {
            return Vec::new();
        };
        let filter = self.pane(pane).filter.next();
        self.pane_mut(pane).filter = filter;
        self.say(
            Level::Info,
            format!("{}: showing {}", pane.kind().plural(), filter.name()),
        );
        let parent = self.pane(pane).parent.clone();
        self.reset_pane(pane, parent)
    }

    /// Empties a pane for a new parent (or filter) and asks for its rows.
    pub fn reset_pane(&mut self, pane: Pane, parent: Option<String>) -> Vec<Request> {
        self.prepare(pane, parent, None, None);
        let mut out: Vec<Request> = self.page(pane, false).into_iter().collect();
        out.extend(self.sync_children(pane));
        out
    }

    /// Empties a pane, to show `parent`'s rows from `start_at` (or the
    /// top), selecting `want` when it arrives.
    fn prepare(
        &mut self,
        pane: Pane,
        parent: Option<String>,
        start_at: Option<crate::core::query::Cursor>,
        want: Option<String>,
    ) {
        let p = self.pane_mut(pane);
        p.parent = parent;
        p.rows.clear();
        p.state.select(None);
        p.generation += 1;
        p.exhausted = false;
        p.loading = false;
        p.start_at = start_at;
        p.want = want;
    }

    /// A page request for a pane: the next page, or (re)loading it.
    fn page(&mut self, pane: Pane, append: bool) -> Option<Request> {
        let cap = self.reload_cap;
        let p = self.pane_mut(pane);
        if pane != Pane::Threads && p.parent.is_none() {
            return None;
        }
        p.loading = true;
        let limit = if append {
            PAGE
        } else {
            p.rows.len().clamp(PAGE, cap)
        };
        let query = ListQuery {
            kind: Some(pane.kind()),
            thread: (pane == Pane::Posts).then(|| p.parent.clone()).flatten(),
            post: (pane == Pane::Attachments)
                .then(|| p.parent.clone())
                .flatten(),
            state: p.filter,
            limit,
            after: if append {
                p.rows.last().map(|r| r.cursor())
            } else {
                None
            },
            start_at: if append { None } else { p.start_at.clone() },
        };
        Some(Request::Page {
            pane,
            generation: p.generation,
            query,
            append,
        })
    }

    /// Keeps the pane below in step with this pane's selection.
    fn sync_children(&mut self, pane: Pane) -> Vec<Request> {
        let selected = self.pane(pane).selected_id();
        match pane {
            Pane::Threads if self.posts.parent != selected => {
                self.reset_pane(Pane::Posts, selected)
            }
            Pane::Posts => {
                let mut out = Vec::new();
                if self.attachments.parent != selected {
                    out.extend(self.reset_pane(Pane::Attachments, selected.clone()));
                }
                if self.text.post_id != selected {
                    out.extend(self.load_text(selected));
                }
                out
            }
            _ => Vec::new(),
        }
    }

    fn load_text(&mut self, post_id: Option<String>) -> Option<Request> {
        self.text.generation += 1;
        self.text.post_id = post_id.clone();
        self.text.text = None;
        self.text.scroll = 0;
        post_id.map(|post_id| Request::PostText {
            generation: self.text.generation,
            post_id,
        })
    }

    /// Reloads everything on screen, keeping each selection on its row.
    pub fn refresh(&mut self) -> Vec<Request> {
        let mut out = Vec::new();
        let cap = self.reload_cap;
        for pane in [Pane::Threads, Pane::Posts, Pane::Attachments] {
            let p = self.pane_mut(pane);
            p.want = p.selected_id();
            p.generation += 1;
            // A list longer than a reload keeps: reload a window around the
            // selection instead, so the selection stays on its row.
            if p.rows.len() > cap {
                let first = p.state.selected().unwrap_or(0).saturating_sub(cap / 2);
                p.start_at = p.rows.get(first).map(|r| r.cursor());
            }
            out.extend(self.page(pane, false));
        }
        let post = self.text.post_id.clone();
        let scroll = self.text.scroll;
        out.extend(self.load_text(post));
        self.text.scroll = scroll;
        if self
            .counts_asked
            .is_none_or(|t| t.elapsed() >= COUNTS_EVERY)
        {
            out.push(self.ask_counts());
        }
        out
    }

    fn ask_counts(&mut self) -> Request {
        self.counts_asked = Some(Instant::now());
        Request::Counts
    }

    /// The row the moderation keys act on: the focused pane's selection
    /// (the text pane acts on its post).
    fn target(&self) -> Option<(Target, String, bool)> {
        let pane = self.focus.pane().unwrap_or(Pane::Posts);
        let row = self.pane(pane).selected()?;
        let label = fit(&sanitize_line(&row.label), 60);
        Some((Target::new(row.kind, row.id.clone()), label, row.is_active))
    }

    // ------------------------------------------------------ dialogs

    fn open_confirm(&mut self, delete: bool) -> Vec<Request> {
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

    fn confirm_action(&mut self, action: Action) -> Vec<Request> {
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

    fn open_purge(&mut self) -> Vec<Request> {
        self.overlay = Some(Overlay::Purge(PurgeDialog {
            retention: self.retention_days.to_string(),
            batch: self.batch_size.to_string(),
            field: 0,
            plan: None,
            running: None,
            finished: None,
        }));
        self.ask_purge_plan()
    }

    fn ask_purge_plan(&mut self) -> Vec<Request> {
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

    fn purge_setup_action(&mut self, action: Action) -> Vec<Request> {
        let Some(Overlay::Purge(d)) = &mut self.overlay else {
            return Vec::new();
        };
        match action {
            Action::NextField => {
                d.field = 1 - d.field;
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

    fn purge_running_action(&mut self, action: Action) -> Vec<Request> {
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

    fn quit_confirm_action(&mut self, action: Action) -> Vec<Request> {
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

    fn overlay_action(&mut self, action: Action) -> Vec<Request> {
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

    fn input_action(&mut self, action: Action) -> Vec<Request> {
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

    // ------------------------------------------------------ mouse

    fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Request> {
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

    // ------------------------------------------------------ answers

    pub fn on_response(&mut self, response: Response) -> Vec<Request> {
        match response {
            Response::Page {
                pane,
                generation,
                rows,
                exhausted,
                append,
            } => self.on_page(pane, generation, rows, exhausted, append),
            Response::PostText {
                generation,
                post_id,
                text,
            } => {
                if generation == self.text.generation
                    && self.text.post_id.as_deref() == Some(&post_id)
                {
                    self.text.text =
                        Some(text.unwrap_or_else(|| "(this post no longer exists)".into()));
                }
                Vec::new()
            }
            Response::Counts(counts) => {
                self.counts = Some(counts);
                Vec::new()
            }
            Response::Preview { op, result } => {
                if let Some(Overlay::Confirm(c)) = &mut self.overlay
                    && c.op == op
                {
                    if let (Some(Ok(old)), Ok(new)) = (&c.preview, &result) {
                        c.changed |= old != new;
                    }
                    c.preview = Some(result);
                }
                Vec::new()
            }
            Response::Executed { op, result } => self.on_executed(op, result),
            Response::PurgePlan(result) => {
                if let Some(Overlay::Purge(d)) = &mut self.overlay
                    && d.running.is_none()
                {
                    d.plan = Some(result.map(|r| *r));
                }
                Vec::new()
            }
            Response::PurgeProgress(progress) => {
                if let Some(Overlay::Purge(d) | Overlay::Quit(d)) = &mut self.overlay
                    && let Some(run) = &mut d.running
                {
                    run.progress = progress;
                }
                Vec::new()
            }
            Response::PurgeDone(result) => {
                if self.quit_after_purge {
                    self.quit = true;
                    return Vec::new();
                }
                let summary = match &result {
                    Ok(report) => {
                        let mut text = format!(
                            "purged {} in {} batches; {} files removed",
                            crate::core::audit::Tally {
                                files: 0,
                                ..report.removed
                            }
                            .describe(),
                            report.batches,
                            report.removed.files,
                        );
                        if report.cancelled {
                            text.push_str("; stopped early, purge again to continue");
                        }
                        (Level::Info, text)
                    }
                    Err(e) => (Level::Error, format!("purge failed: {e}")),
                };
                self.say(summary.0, summary.1);
                // The dialog stays, with the whole report, until closed.
                match self.overlay.take() {
                    Some(Overlay::Purge(mut d) | Overlay::Quit(mut d)) => {
                        d.running = None;
                        d.finished = Some(result.map(|r| *r));
                        self.overlay = Some(Overlay::Purge(d));
                    }
                    other => self.overlay = other,
                }
                self.counts_asked = None;
                self.refresh()
            }
            Response::Check(result) => {
                match result {
                    Ok(report) => {
                        let entries = check_entries(&report);
                        self.say(
                            Level::Info,
                            format!("check: {} problems", report.problems()),
                        );
                        self.overlay = Some(Overlay::List(ListOverlay::new(
                            format!(
                                "Check: {} problems (Enter goes to the row)",
                                report.problems()
                            ),
                            entries,
                        )));
                    }
                    Err(e) => self.say(Level::Error, format!("check failed: {e}")),
                }
                Vec::new()
            }
            Response::Log(result) => {
                match result {
                    Ok(entries) => {
                        let entries = entries
                            .iter()
                            .map(|e| Entry {
                                text: crate::display::log_line(e),
                                target: e
                                    .kind
                                    .as_deref()
                                    .and_then(|k| Kind::parse(k).ok())
                                    .zip(e.target_id.clone())
                                    .map(|(k, id)| Target::new(k, id)),
                            })
                            .collect();
                        self.overlay = Some(Overlay::List(ListOverlay::new(
                            "Audit log, newest first".into(),
                            entries,
                        )));
                    }
                    Err(e) => self.say(Level::Error, format!("log: {e}")),
                }
                Vec::new()
            }
            Response::Search { needle, result } => {
                match result {
                    Ok(hits) => {
                        let entries: Vec<Entry> = hits
                            .iter()
                            .map(|h| Entry {
                                text: format!(
                                    "{:<10} {} {} {}",
                                    h.kind.name(),
                                    if h.is_active { "+" } else { "x" },
                                    short_id(&h.id),
                                    sanitize_line(&h.text)
                                ),
                                target: Some(Target::new(h.kind, h.id.clone())),
                            })
                            .collect();
                        self.say(
                            Level::Info,
                            format!("{} hits for {:?}", entries.len(), sanitize_line(&needle)),
                        );
                        self.overlay = Some(Overlay::List(ListOverlay::new(
                            format!(
                                "Search: {} ({} hits)",
                                sanitize_line(&needle),
                                entries.len()
                            ),
                            entries,
                        )));
                    }
                    Err(e) => self.say(Level::Error, format!("search failed: {e}")),
                }
                Vec::new()
            }
            Response::Located(result) => match result {
                Ok(location) => self.jump(*location),
                Err(e) => {
                    self.say(Level::Warning, e);
                    Vec::new()
                }
            },
            Response::DataChanged => {
                let mut out = self.refresh();
                if let Some(Overlay::Confirm(c)) = &self.overlay
                    && !c.sent
                {
                    out.push(Request::Preview { op: c.op.clone() });
                }
                out
            }
            Response::Busy(busy) => {
                self.waiting_since = if busy { Some(Instant::now()) } else { None };
                Vec::new()
            }
            Response::Error(e) => {
                self.say(Level::Error, e);
                Vec::new()
            }
        }
    }

    fn on_page(
        &mut self,
        pane: Pane,
        generation: u64,
        rows: Vec<crate::core::query::Row>,
        exhausted: bool,
        append: bool,
    ) -> Vec<Request> {
        let p = self.pane_mut(pane);
        if generation != p.generation {
            return Vec::new();
        }
        let previous = p.selected_id();
        let previous_index = p.state.selected();
        p.loading = false;
        p.exhausted = exhausted;
        if append {
            p.rows.extend(rows);
        } else {
            p.rows = rows;
        }
        let wanted = p.want.take().or(previous.clone());
        let index = wanted
            .as_ref()
            .and_then(|id| p.rows.iter().position(|r| &r.id == id))
            .or_else(|| {
                (!p.rows.is_empty()).then(|| previous_index.unwrap_or(0).min(p.rows.len() - 1))
            });
        p.state.select(index);
        let mut out = Vec::new();
        if self.to_bottom && self.focus.pane() == Some(pane) {
            let p = self.pane_mut(pane);
            if p.rows.is_empty() {
                self.to_bottom = false;
            } else {
                let last = p.rows.len() - 1;
                p.state.select(Some(last));
                if p.exhausted {
                    self.to_bottom = false;
                    self.message = None;
                } else {
                    out.extend(self.page(pane, true));
                }
            }
        }
        out.extend(self.sync_children(pane));
        out
    }

    fn on_executed(&mut self, op: Op, result: Result<Executed, String>) -> Vec<Request> {
        let confirm_open = matches!(&self.overlay, Some(Overlay::Confirm(c)) if c.op == op);
        match result {
            Ok(Executed::Done(outcome)) => {
                if confirm_open {
                    self.overlay = None;
                }
                let level = if outcome.changed {
                    Level::Info
                } else {
                    Level::Warning
                };
                self.say(level, sanitize_line(&outcome.message));
                self.counts_asked = None;
                self.refresh()
            }
            Ok(Executed::Stale(tally)) => {
                if let Some(Overlay::Confirm(c)) = &mut self.overlay {
                    c.preview = Some(Ok(tally));
                    c.changed = true;
                    c.sent = false;
                }
                self.say(
                    Level::Warning,
                    "the rows changed since this dialog opened: check the new counts and confirm again",
                );
                Vec::new()
            }
            Err(e) => {
                if confirm_open {
                    self.overlay = None;
                }
                self.say(Level::Error, e);
                Vec::new()
            }
        }
    }

    /// Shows a row found by check, search or the log: its thread, post and
    /// attachment selected, each list starting at it, filters off. The
    /// panes are set up together, so the threads' answer finds its children
    /// already in step and does not reset them.
    fn jump(&mut self, location: Location) -> Vec<Request> {
        self.overlay = None;
        for pane in [Pane::Threads, Pane::Posts, Pane::Attachments] {
            self.pane_mut(pane).filter = StateFilter::All;
        }
        let thread = location.thread;
        self.prepare(
            Pane::Threads,
            None,
            Some(thread.cursor()),
            Some(thread.id.clone()),
        );
        let mut out: Vec<Request> = self.page(Pane::Threads, false).into_iter().collect();
        self.focus = Focus::Threads;
        let (post_start, post_want) = match &location.post {
            Some(post) => (Some(post.cursor()), Some(post.id.clone())),
            None => (None, None),
        };
        self.prepare(Pane::Posts, Some(thread.id.clone()), post_start, post_want);
        out.extend(self.page(Pane::Posts, false));
        let post_id = location.post.map(|p| p.id);
        self.prepare(
            Pane::Attachments,
            post_id.clone(),
            None,
            location.attachment.clone(),
        );
        out.extend(self.page(Pane::Attachments, false));
        out.extend(self.load_text(post_id.clone()));
        if post_id.is_some() {
            self.focus = if location.attachment.is_some() {
                Focus::Attachments
            } else {
                Focus::Posts
            };
        }
        out
    }
}

/// Check results as entries that lead to their rows.
fn check_entries(report: &CheckReport) -> Vec<Entry> {
    let mut entries = Vec::new();
    for v in &report.violations {
        entries.push(Entry {
            text: format!(
                "violation   {} {} active under deleted {} {}",
                v.kind,
                short_id(&v.id),
                v.parent_kind,
                short_id(&v.parent_id)
            ),
            target: Some(Target::new(v.kind, v.id.clone())),
        });
    }
    for u in &report.unknown_deletion_time {
        entries.push(Entry {
            text: format!(
                "unknown age {} {}{}",
                u.kind,
                short_id(&u.id),
                u.first_seen
                    .as_ref()
                    .map(|s| format!(" (first seen deleted {s})"))
                    .unwrap_or_default()
            ),
            target: Some(Target::new(u.kind, u.id.clone())),
        });
    }
    for f in &report.missing_files {
        entries.push(Entry {
            text: format!(
                "missing     attachment {} {}",
                short_id(&f.attachment_id),
                sanitize_line(&f.image)
            ),
            target: Some(Target::new(Kind::Attachment, f.attachment_id.clone())),
        });
    }
    for f in &report.unsafe_paths {
        entries.push(Entry {
            text: format!(
                "unsafe path attachment {} {:?}: {}",
                short_id(&f.attachment_id),
                sanitize_line(&f.image),
                f.reason
            ),
            target: Some(Target::new(Kind::Attachment, f.attachment_id.clone())),
        });
    }
    for f in report
        .unreferenced_files
        .iter()
        .chain(&report.unreferenced_thumbnails)
    {
        entries.push(Entry {
            text: format!("no row      {}", sanitize_line(f)),
            target: None,
        });
    }
    if !report.files_checked {
        entries.push(Entry {
            text: "files not checked: no media root (--media-root)".into(),
            target: None,
        });
    }
    entries
}
