//! The worker's answers, folded into the state.

use std::time::Instant;

use crate::core::check::CheckReport;
use crate::core::model::Kind;
use crate::core::query::StateFilter;
use crate::core::rules::Target;
use crate::display::{sanitize_line, short_id};
use crate::tui::app::{App, Entry, Focus, Level, ListOverlay, Overlay};
use crate::tui::executor::{Executed, Op};
use crate::tui::worker::{Location, Pane, Request, Response};

impl App {
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

    pub(super) fn on_page(
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

    pub(super) fn on_executed(&mut self, op: Op, result: Result<Executed, String>) -> Vec<Request> {
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
    pub(super) fn jump(&mut self, location: Location) -> Vec<Request> {
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
