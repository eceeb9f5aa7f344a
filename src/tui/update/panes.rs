//! Panes: selection, keyset pages in both directions, children kept in
//! step, the details pane, refresh, the counts.

use super::PREFETCH;
use crate::display::{fit, sanitize_line};
use crate::tui::app::Pane;
use crate::tui::app::{App, Level};
use crate::tui::view;
use crate::tui::worker::{PAGE, PageMode, Request};
use modcon_core::query::{Cursor, ListQuery};
use modcon_core::rules::Target;

impl App {
    pub(super) fn move_by(&mut self, delta: isize) -> Vec<Request> {
        let Some(pane) = self.focus.pane() else {
            // The details pane scrolls, never past its last line.
            let max = view::details_max_scroll(self) as isize;
            self.details.scroll = (self.details.scroll as isize + delta).clamp(0, max) as u16;
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

    /// Selects a row of a pane; loads more rows near either end of the
    /// window and brings the children of the new selection.
    pub(super) fn select(&mut self, pane: Pane, index: usize) -> Vec<Request> {
        let p = self.pane_mut(pane);
        p.state.select(Some(index));
        p.want = None;
        let mut out = Vec::new();
        if !p.loading {
            if index + PREFETCH >= p.rows.len() && !p.exhausted {
                out.extend(self.page(pane, PageMode::Append));
            } else if index < PREFETCH && p.above > 0 {
                out.extend(self.page(pane, PageMode::Prepend));
            }
        }
        out.extend(self.sync_children(pane));
        out
    }

    pub(super) fn go_top(&mut self) -> Vec<Request> {
        let Some(pane) = self.focus.pane() else {
            self.details.scroll = 0;
            return Vec::new();
        };
        if self.pane(pane).above > 0 {
            // The window starts below the top: load the top.
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
            self.details.scroll = view::details_max_scroll(self);
            return Vec::new();
        };
        let p = self.pane(pane);
        if p.rows.is_empty() {
            return Vec::new();
        }
        if p.exhausted {
            let last = p.rows.len() - 1;
            return self.select(pane, last);
        }
        // The list's last page, read backwards: no need to load the rest.
        let parent = p.parent.clone();
        self.prepare(pane, parent, None, None);
        self.pane_mut(pane).from_end = true;
        let mut out: Vec<Request> = self.page(pane, PageMode::Replace).into_iter().collect();
        out.extend(self.sync_children(pane));
        out
    }

    pub(super) fn cycle_filter(&mut self) -> Vec<Request> {
        let Some(pane) = self.focus.pane() else {
            return Vec::new();
        };
        let filter = self.pane(pane).filter.next();
        self.pane_mut(pane).filter = filter;
        self.note(
            Level::Info,
            format!("{}: showing {}", pane.kind().plural(), filter.name()),
        );
        let parent = self.pane(pane).parent.clone();
        self.reset_pane(pane, parent)
    }

    /// Empties a pane for a new parent (or filter) and asks for its rows.
    pub fn reset_pane(&mut self, pane: Pane, parent: Option<String>) -> Vec<Request> {
        self.prepare(pane, parent, None, None);
        let mut out: Vec<Request> = self.page(pane, PageMode::Replace).into_iter().collect();
        out.extend(self.sync_children(pane));
        out
    }

    /// Empties a pane, to show `parent`'s rows from `start_at` (or the
    /// top), selecting `want` when it arrives.
    pub(super) fn prepare(
        &mut self,
        pane: Pane,
        parent: Option<String>,
        start_at: Option<Cursor>,
        want: Option<String>,
    ) {
        let p = self.pane_mut(pane);
        p.parent = parent;
        p.rows.clear();
        p.state = Default::default();
        p.generation += 1;
        p.exhausted = false;
        p.loading = false;
        p.above = 0;
        p.total = None;
        p.start_at = start_at;
        p.from_end = false;
        p.want = want;
    }

    /// A page request for a pane: a new window, or the page below or above.
    pub(super) fn page(&mut self, pane: Pane, mode: PageMode) -> Option<Request> {
        let cap = self.window;
        let p = self.pane_mut(pane);
        if pane != Pane::Threads && p.parent.is_none() {
            return None;
        }
        p.loading = true;
        let (limit, after, before, start_at, from_end) = match mode {
            PageMode::Append => (PAGE, p.rows.last().map(|r| r.cursor()), None, None, false),
            PageMode::Prepend => (PAGE, None, p.rows.first().map(|r| r.cursor()), None, false),
            PageMode::Replace => (
                p.rows.len().clamp(PAGE, cap.max(PAGE)),
                None,
                None,
                p.start_at.clone(),
                p.from_end,
            ),
        };
        let query = ListQuery {
            kind: Some(pane.kind()),
            thread: (pane == Pane::Posts).then(|| p.parent.clone()).flatten(),
            post: (pane == Pane::Attachments)
                .then(|| p.parent.clone())
                .flatten(),
            state: p.filter,
            limit,
            after,
            start_at,
            before,
            from_end,
        };
        Some(Request::Page {
            pane,
            generation: p.generation,
            query,
            mode,
        })
    }

    /// Keeps the panes below and the details in step with this pane's
    /// selection.
    pub(super) fn sync_children(&mut self, pane: Pane) -> Vec<Request> {
        let selected = self.pane(pane).selected_id();
        let mut out = Vec::new();
        match pane {
            Pane::Threads if self.posts.parent != selected => {
                out.extend(self.reset_pane(Pane::Posts, selected));
            }
            Pane::Posts if self.attachments.parent != selected => {
                out.extend(self.reset_pane(Pane::Attachments, selected));
            }
            _ => {}
        }
        if pane == self.subject {
            let target = self
                .pane(pane)
                .selected()
                .map(|r| Target::new(r.kind, r.id.clone()));
            if target != self.details.target {
                out.extend(self.load_details());
            }
        }
        out
    }

    /// Asks for the facts of the subject's selected row.
    pub(super) fn load_details(&mut self) -> Vec<Request> {
        let target = self
            .subject_row()
            .map(|r| Target::new(r.kind, r.id.clone()));
        self.details.generation += 1;
        self.details.facts = None;
        self.details.scroll = 0;
        self.details.target = target.clone();
        target
            .map(|target| Request::Details {
                generation: self.details.generation,
                target,
            })
            .into_iter()
            .collect()
    }

    /// Reloads everything on screen, keeping each selection on its row.
    pub fn refresh(&mut self) -> Vec<Request> {
        let mut out = Vec::new();
        let cap = self.window;
        for pane in [Pane::Threads, Pane::Posts, Pane::Attachments] {
            let p = self.pane_mut(pane);
            p.want = p.selected_id();
            p.generation += 1;
            if p.rows.len() > cap {
                // Longer than a reload keeps: a window around the selection.
                let first = p.state.selected().unwrap_or(0).saturating_sub(cap / 2);
                p.start_at = p.rows.get(first).map(|r| r.cursor());
                p.from_end = false;
            } else if p.above > 0 && !p.from_end {
                // A window below the top stays where it is.
                p.start_at = p.rows.first().map(|r| r.cursor());
            }
            out.extend(self.page(pane, PageMode::Replace));
        }
        let scroll = self.details.scroll;
        out.extend(self.load_details());
        self.details.scroll = scroll;
        out.extend(self.counts_changed());
        out
    }

    /// The data changed (or may have): the counts must be asked again.
    pub(super) fn counts_changed(&mut self) -> Option<Request> {
        self.counts.wanted += 1;
        self.ask_counts()
    }

    /// One counts request out at a time; the answer asks again when the
    /// data changed meanwhile.
    pub(super) fn ask_counts(&mut self) -> Option<Request> {
        if self.counts.asked.is_some() {
            return None;
        }
        self.counts.asked = Some(self.counts.wanted);
        Some(Request::Counts {
            generation: self.counts.wanted,
        })
    }

    /// The row the moderation keys act on: the subject's selection (the
    /// details pane shows it), with its label and state.
    pub(super) fn target(&self) -> Option<(Target, String, bool)> {
        let row = self.subject_row()?;
        let label = fit(&sanitize_line(&row.label), 200);
        Some((Target::new(row.kind, row.id.clone()), label, row.is_active))
    }
}
