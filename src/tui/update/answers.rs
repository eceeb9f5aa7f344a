//! The worker's answers, folded into the state.

use std::time::Instant;

use crate::display::{counted, sanitize_line, short_id};
use crate::tui::app::{
    App, CheckView, Entry, Focus, Level, Overlay, Problem, ProblemKind, Results, ResultsKind,
    SearchState,
};
use crate::tui::app::{Location, Pane};
use crate::tui::executor::{Executed, Op, Preview};
use crate::tui::keymap::{Action, Layer};
use crate::tui::worker::{Details, PageMode, Request, Response};
use modcon_core::audit::LogEntry;
use modcon_core::check::CheckReport;
use modcon_core::model::{Kind, parse_datetime};
use modcon_core::purge::{Progress, PurgeReport};
use modcon_core::query::{Counts, Hit, Row, StateFilter};
use modcon_core::rules::{Outcome, Target};

impl App {
    /// Folds one answer of the worker into the state; each kind of answer
    /// has its own method.
    pub fn on_response(&mut self, response: Response) -> Vec<Request> {
        match response {
            Response::Page {
                pane,
                generation,
                rows,
                mode,
                more,
                above,
                total,
            } => self.on_page(pane, generation, rows, mode, more, above, total),
            Response::Details {
                generation,
                target,
                result,
            } => self.on_details(generation, target, result),
            Response::Counts {
                generation,
                result,
                snapshot,
            } => self.on_counts(generation, result, snapshot),
            Response::Preview { op, result } => self.on_preview(op, result),
            Response::Executed { op, result } => self.on_executed(op, result),
            Response::PurgePlan(result) => self.on_purge_plan(result),
            Response::PurgeProgress(progress) => self.on_purge_progress(progress),
            Response::PurgeDone(result) => self.on_purge_done(result),
            Response::Check(result) => self.on_check(result),
            Response::Log(result) => self.on_log(result),
            Response::Flags(result) => {
                self.on_flags(result);
                Vec::new()
            }
            Response::Search { needle, result } => self.on_search(needle, result),
            Response::Located(result) => match result {
                Ok(location) => self.jump(*location),
                Err(e) => {
                    self.say(Level::Warning, e);
                    Vec::new()
                }
            },
            Response::DataChanged => self.on_data_changed(),
            Response::Busy(busy) => {
                self.waiting_since = if busy { Some(Instant::now()) } else { None };
                Vec::new()
            }
            Response::Error(e) => self.on_error(e),
        }
    }

    fn on_details(
        &mut self,
        generation: u64,
        target: Target,
        result: Result<Option<Box<Details>>, String>,
    ) -> Vec<Request> {
        if generation == self.details.generation && self.details.target.as_ref() == Some(&target) {
            self.details.facts = Some(match result {
                Ok(Some(d)) => Ok(d),
                Ok(None) => Err(format!("{} {} no longer exists", target.kind, target.id)),
                Err(e) => Err(e),
            });
            self.clamp_scrolls();
        }
        Vec::new()
    }

    fn on_counts(
        &mut self,
        generation: u64,
        result: Result<Counts, String>,
        snapshot: bool,
    ) -> Vec<Request> {
        self.counts.asked = None;
        self.snapshot = snapshot;
        match result {
            Ok(counts) => {
                self.counts.counts = Some(counts);
                self.counts.have = Some(generation);
            }
            Err(e) => self.say(Level::Error, format!("counting failed: {e}")),
        }
        // The data changed while this count ran: count again.
        if self.counts.wanted > generation {
            self.ask_counts().into_iter().collect()
        } else {
            Vec::new()
        }
    }

    fn on_preview(&mut self, op: Op, result: Result<Preview, String>) -> Vec<Request> {
        let mut refused = None;
        if let Some(Overlay::Confirm(c)) = &mut self.overlay
            && c.op == op
        {
            match result {
                Ok(new) => {
                    if let Some(Ok(old)) = &c.preview {
                        c.changed |= *old != new;
                    }
                    c.preview = Some(Ok(new));
                }
                Err(e) => refused = Some((e, c.back.take())),
            }
        }
        // A refusal is not a question: it becomes a dialog that
        // says why, whole, and only closes.
        if let Some((e, back)) = refused {
            let title = match op.target() {
                Some(t) => format!("Cannot {} this {}", op.verb(), t.kind),
                None => format!("Cannot {}", op.verb()),
            };
            self.say(Level::Error, e.clone());
            self.open_info(title, &e, Level::Error, back);
        }
        Vec::new()
    }

    fn on_purge_plan(&mut self, result: Result<Box<PurgeReport>, String>) -> Vec<Request> {
        if let Some(Overlay::Purge(d)) = &mut self.overlay
            && d.running.is_none()
        {
            d.plan = Some(result.map(|r| *r));
        }
        Vec::new()
    }

    fn on_purge_progress(&mut self, progress: Progress) -> Vec<Request> {
        if let Some(Overlay::Purge(d) | Overlay::Quit(d)) = &mut self.overlay
            && let Some(run) = &mut d.running
        {
            run.progress = progress;
        }
        Vec::new()
    }

    fn on_purge_done(&mut self, result: Result<Box<PurgeReport>, String>) -> Vec<Request> {
        if self.quit_after_purge {
            self.quit = true;
            return Vec::new();
        }
        let summary = match &result {
            Ok(report) => {
                let mut text = format!(
                    "purged {} in {}; {} files and {} thumbnails removed",
                    modcon_core::model::Tally {
                        files: 0,
                        ..report.removed
                    }
                    .describe(),
                    crate::display::batches(report.batches),
                    report.removed.files,
                    report.thumbnails,
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
        self.refresh()
    }

    fn on_check(&mut self, result: Result<Box<CheckReport>, String>) -> Vec<Request> {
        match result {
            Ok(report) => self.open_check(report),
            Err(e) => {
                self.say(Level::Error, format!("check failed: {e}"));
                if let Some(Overlay::Check(_)) = &self.overlay {
                    self.overlay = None;
                }
            }
        }
        Vec::new()
    }

    fn on_log(&mut self, result: Result<Vec<LogEntry>, String>) -> Vec<Request> {
        match result {
            Ok(entries) => self.open_log(entries),
            Err(e) => self.say(Level::Error, format!("log: {e}")),
        }
        Vec::new()
    }

    fn on_search(
        &mut self,
        needle: String,
        result: Result<(Vec<Hit>, bool), String>,
    ) -> Vec<Request> {
        match result {
            Ok((hits, capped)) => self.open_search(needle, hits, capped),
            Err(e) => self.say(Level::Error, format!("search failed: {e}")),
        }
        Vec::new()
    }

    fn on_data_changed(&mut self) -> Vec<Request> {
        let mut out = self.refresh();
        // A flag filed or reviewed elsewhere shows in the flag view.
        if self.flags_shown() {
            out.push(Request::Flags);
        }
        if let Some(Overlay::Confirm(c)) = &self.overlay
            && !c.sent
        {
            out.push(Request::Preview { op: c.op.clone() });
        }
        out
    }

    fn on_error(&mut self, e: String) -> Vec<Request> {
        for pane in [Pane::Threads, Pane::Posts, Pane::Attachments] {
            self.pane_mut(pane).loading = false;
        }
        self.say(Level::Error, e);
        Vec::new()
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_page(
        &mut self,
        pane: Pane,
        generation: u64,
        rows: Vec<Row>,
        mode: PageMode,
        more: bool,
        above: Option<usize>,
        total: Option<usize>,
    ) -> Vec<Request> {
        let window = self.window;
        let p = self.pane_mut(pane);
        if generation != p.generation {
            return Vec::new();
        }
        p.loading = false;
        match mode {
            PageMode::Append => {
                p.append(rows, more, window);
                return self.sync_children(pane);
            }
            PageMode::Prepend => {
                p.prepend(rows, more, window);
                return self.sync_children(pane);
            }
            PageMode::Replace => {}
        }
        let previous = p.selected_id();
        let previous_index = p.state.selected();
        p.exhausted = !more;
        p.above = above.unwrap_or(0);
        p.total = total;
        p.rows = rows;
        let wanted = p.want.take().or(previous.clone());
        let index = wanted
            .as_ref()
            .and_then(|id| p.rows.iter().position(|r| &r.id == id))
            .or_else(|| {
                if p.rows.is_empty() {
                    None
                } else if p.from_end && previous_index.is_none() {
                    Some(p.rows.len() - 1)
                } else {
                    Some(previous_index.unwrap_or(0).min(p.rows.len() - 1))
                }
            });
        p.state.select(index);
        let mut out = Vec::new();
        // Rows above a window that starts near its selection are brought
        // in, so the selected row is seen inside its list and `k` works.
        if let Some(i) = index
            && i < super::PREFETCH
            && p.above > 0
        {
            out.extend(self.page(pane, PageMode::Prepend));
        }
        out.extend(self.sync_children(pane));
        out
    }

    pub(super) fn on_executed(&mut self, op: Op, result: Result<Executed, String>) -> Vec<Request> {
        let back = match &mut self.overlay {
            Some(Overlay::Confirm(c)) if c.op == op => Some(c.back.take()),
            _ => None,
        };
        let confirm_open = back.is_some();
        match result {
            Ok(Executed::Done(outcome)) => {
                let back = back.flatten();
                if confirm_open {
                    self.overlay = None;
                }
                let level = if outcome.changed {
                    Level::Info
                } else {
                    Level::Warning
                };
                self.say(level, whole_message(&outcome));
                let mut out = self.refresh();
                // After an action from the check view, check again: the
                // view shows what is left.
                if let Some(back) = back {
                    match *back {
                        Overlay::Check(_) => {
                            self.overlay = Some(*back);
                            self.note(Level::Info, "checking again…");
                            out.push(Request::Check);
                        }
                        // After a review, the queue without that flag.
                        Overlay::Flags(_) => {
                            self.overlay = Some(*back);
                            out.push(Request::Flags);
                        }
                        _ => self.overlay = Some(*back),
                    }
                }
                // Undo shows the row it changed.
                if op == Op::Undo
                    && outcome.changed
                    && let (Some(kind), Some(id)) = (outcome.kind, outcome.id.clone())
                {
                    out.push(Request::Locate {
                        target: Target::new(kind, id),
                    });
                }
                out
            }
            Ok(Executed::Stale(preview)) => {
                if let Some(Overlay::Confirm(c)) = &mut self.overlay {
                    c.preview = Some(Ok(preview));
                    c.changed = true;
                    c.sent = false;
                    if let Some(back) = back {
                        c.back = back;
                    }
                }
                self.note(
                    Level::Warning,
                    "the rows changed since this dialog opened: check the new counts and confirm again",
                );
                Vec::new()
            }
            Err(e) => {
                let title = match op.target() {
                    Some(t) => format!("Could not {} this {}", op.verb(), t.kind),
                    None => format!("Could not {}", op.verb()),
                };
                self.say(Level::Error, e.clone());
                self.open_info(title, &e, Level::Error, back.flatten());
                Vec::new()
            }
        }
    }

    /// Shows a row found by check, search, the log or an undo: its thread,
    /// post and attachment selected, each inside its whole list (rows above
    /// it are loaded too). A filter that would hide the row is set to all,
    /// and the message says so.
    pub(super) fn jump(&mut self, location: Location) -> Vec<Request> {
        if matches!(
            self.overlay,
            Some(Overlay::Results(_) | Overlay::Check(_) | Overlay::Info(_) | Overlay::Flags(_))
        ) {
            self.overlay = None;
        }
        let mut reset = Vec::new();
        let rows = [
            (Pane::Threads, Some(&location.thread)),
            (Pane::Posts, location.post.as_ref()),
            (Pane::Attachments, location.attachment.as_ref()),
        ];
        for (pane, row) in rows {
            let Some(row) = row else { continue };
            let filter = self.pane(pane).filter;
            let hidden = match filter {
                StateFilter::All => false,
                StateFilter::Active => !row.is_active,
                StateFilter::Deleted => row.is_active,
            };
            if hidden {
                reset.push(format!("{} from {}", pane.kind().plural(), filter.name()));
                self.pane_mut(pane).filter = StateFilter::All;
            }
        }
        let thread = &location.thread;
        self.prepare(
            Pane::Threads,
            None,
            Some(thread.cursor()),
            Some(thread.id.clone()),
        );
        let mut out: Vec<Request> = self
            .page(Pane::Threads, PageMode::Replace)
            .into_iter()
            .collect();
        let (post_start, post_want) = match &location.post {
            Some(post) => (Some(post.cursor()), Some(post.id.clone())),
            None => (None, None),
        };
        self.prepare(Pane::Posts, Some(thread.id.clone()), post_start, post_want);
        out.extend(self.page(Pane::Posts, PageMode::Replace));
        let post_id = location.post.as_ref().map(|p| p.id.clone());
        let (att_start, att_want) = match &location.attachment {
            Some(a) => (Some(a.cursor()), Some(a.id.clone())),
            None => (None, None),
        };
        self.prepare(Pane::Attachments, post_id, att_start, att_want);
        out.extend(self.page(Pane::Attachments, PageMode::Replace));
        let pane = Pane::of(location.target.kind);
        self.focus = Focus::of(pane);
        self.subject = pane;
        self.details.generation += 1;
        self.details.facts = None;
        self.details.scroll = 0;
        self.details.target = Some(location.target.clone());
        out.push(Request::Details {
            generation: self.details.generation,
            target: location.target.clone(),
        });
        let mut text = format!(
            "showing {} {}",
            location.target.kind,
            short_id(&location.target.id)
        );
        if !reset.is_empty() {
            text.push_str(&format!(
                "; filter set to all ({}), which hid it",
                reset.join(", ")
            ));
        }
        // An action's result (an undo that moved here) or "hit 3/57" stays
        // on the message line, unless a filter had to change.
        let keep = match (&self.message, self.messages.last()) {
            (Some(m), _) if m.text.starts_with("hit ") => true,
            (Some(m), Some(last)) => m.text == last.text,
            _ => false,
        };
        if !keep || !reset.is_empty() {
            self.note(Level::Info, text);
        }
        out
    }

    fn open_check(&mut self, report: Box<CheckReport>) {
        let problems = problems_of(&report);
        let mut text = format!("check: {} problems", report.problems());
        if report.stamped > 0 {
            text.push_str(&format!(
                "; stamped {} deleted row{} of unknown time as first seen now (the retention clock starts today)",
                report.stamped,
                if report.stamped == 1 { "" } else { "s" }
            ));
        }
        if !report.files_checked {
            text.push_str("; files not checked: no media root");
        }
        self.say(Level::Info, text);
        let only = match &self.overlay {
            Some(Overlay::Check(old)) => old.only,
            _ => None,
        };
        let mut view = CheckView {
            report,
            problems,
            only,
            state: Default::default(),
        };
        view.state.select(Some(0));
        Self::skip_heading(&mut view);
        self.overlay = Some(Overlay::Check(view));
    }

    fn open_log(&mut self, mut entries: Vec<LogEntry>) {
        // Newest by time: the demo and back-dated entries are not in id order.
        entries.sort_by(|a, b| {
            let at = |e: &LogEntry| parse_datetime(&e.at);
            at(b).cmp(&at(a)).then(b.id.cmp(&a.id))
        });
        let entries: Vec<Entry> = entries.into_iter().map(Entry::Log).collect();
        let title = format!("Audit log, newest first ({})", entries.len());
        self.note(Level::Info, format!("audit log: {} entries", entries.len()));
        self.overlay = Some(Overlay::Results(Results::new(
            ResultsKind::Log,
            title,
            format!(
                "#id when (UTC) who what target: rows; {} goes to the row",
                self.keymap.key(Layer::Results, Action::Open)
            ),
            entries,
        )));
    }

    fn open_search(&mut self, needle: String, hits: Vec<Hit>, capped: bool) {
        let entries: Vec<Entry> = hits.iter().cloned().map(Entry::Hit).collect();
        let shown = sanitize_line(&needle);
        let hits_text = format!(
            "{} hit{}",
            counted(hits.len(), capped),
            if hits.len() == 1 && !capped { "" } else { "s" }
        );
        self.note(Level::Info, format!("{hits_text} for {shown:?}"));
        let mut header = format!(
            "kind, state, thread, author: what matched; {} goes to it, then {}/{} step through the hits",
            self.keymap.key(Layer::Results, Action::Open),
            self.keymap.key(Layer::List, Action::NextHit),
            self.keymap.key(Layer::List, Action::PrevHit)
        );
        if capped {
            header = format!(
                "the search stopped at {}: make it narrower to see every hit; {header}",
                hits.len()
            );
        }
        self.overlay = Some(Overlay::Results(Results::new(
            ResultsKind::Search,
            format!("Search: {shown} ({hits_text})"),
            header,
            entries,
        )));
        self.search = Some(SearchState {
            needle: shown,
            hits,
            capped,
            at: None,
        });
    }
}

/// What an action did, whole: its sentence, then each row an undo left
/// alone with the reason, one per line.
fn whole_message(outcome: &Outcome) -> String {
    let listed = format!("; {} left alone (", outcome.left_alone.len());
    let mut text = match outcome.message.find(&listed) {
        Some(i) if !outcome.left_alone.is_empty() => outcome.message[..i].to_string(),
        _ => outcome.message.clone(),
    };
    if !outcome.left_alone.is_empty() {
        text.push_str(&format!(
            "; {} row{} left alone:",
            outcome.left_alone.len(),
            if outcome.left_alone.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
        for l in &outcome.left_alone {
            text.push_str(&format!("\n  {} {}: {}", l.kind, l.id, l.reason));
        }
    }
    text
}

/// Check results as problems that lead to their rows.
fn problems_of(report: &CheckReport) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut add = |kind, at, target| problems.push(Problem { kind, at, target });
    for (at, v) in report.violations.iter().enumerate() {
        add(
            ProblemKind::Violation,
            at,
            Some(Target::new(v.kind, v.id.clone())),
        );
    }
    for (at, u) in report.unknown_deletion_time.iter().enumerate() {
        add(
            ProblemKind::UnknownTime,
            at,
            Some(Target::new(u.kind, u.id.clone())),
        );
    }
    for (at, f) in report.missing_files.iter().enumerate() {
        let target = Target::new(Kind::Attachment, f.attachment_id.clone());
        add(ProblemKind::MissingFile, at, Some(target));
    }
    for (at, f) in report.unsafe_paths.iter().enumerate() {
        let target = Target::new(Kind::Attachment, f.attachment_id.clone());
        add(ProblemKind::UnsafePath, at, Some(target));
    }
    for at in 0..report.unreferenced_files.len() {
        add(ProblemKind::UnreferencedFile, at, None);
    }
    for at in 0..report.unreferenced_thumbnails.len() {
        add(ProblemKind::UnreferencedThumbnail, at, None);
    }
    for at in 0..report.foreign_references.len() {
        add(ProblemKind::ForeignReference, at, None);
    }
    problems
}
