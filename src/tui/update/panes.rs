//! Panes: selection, keyset pages, children kept in step, refresh.

use std::time::Instant;

use super::{COUNTS_EVERY, PREFETCH};
use crate::core::query::ListQuery;
use crate::core::rules::Target;
use crate::display::{fit, sanitize_line};
use crate::tui::app::{App, Focus, Level};
use crate::tui::worker::{PAGE, Pane, Request};

impl App {
    pub(super) fn move_by(&mut self, delta: isize) -> Vec<Request> {
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
    pub(super) fn select(&mut self, pane: Pane, index: usize) -> Vec<Request> {
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

    pub(super) fn go_top(&mut self) -> Vec<Request> {
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

    pub(super) fn go_end(&mut self) -> Vec<Request> {
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

    pub(super) fn cycle_focus(&mut self, step: isize) -> Vec<Request> {
        let i = Focus::ORDER
            .iter()
            .position(|f| *f == self.focus)
            .unwrap_or(0) as isize;
        let n = Focus::ORDER.len() as isize;
        self.focus = Focus::ORDER[((i + step).rem_euclid(n)) as usize];
        Vec::new()
    }

    pub(super) fn cycle_filter(&mut self) -> Vec<Request> {
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
    pub(super) fn prepare(
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
    pub(super) fn page(&mut self, pane: Pane, append: bool) -> Option<Request> {
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
    pub(super) fn sync_children(&mut self, pane: Pane) -> Vec<Request> {
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

    pub(super) fn load_text(&mut self, post_id: Option<String>) -> Option<Request> {
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

    pub(super) fn ask_counts(&mut self) -> Request {
        self.counts_asked = Some(Instant::now());
        Request::Counts
    }

    /// The row the moderation keys act on: the focused pane's selection
    /// (the text pane acts on its post).
    pub(super) fn target(&self) -> Option<(Target, String, bool)> {
        let pane = self.focus.pane().unwrap_or(Pane::Posts);
        let row = self.pane(pane).selected()?;
        let label = fit(&sanitize_line(&row.label), 60);
        Some((Target::new(row.kind, row.id.clone()), label, row.is_active))
    }
}
