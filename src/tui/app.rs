//! The console's state: panes, selection, filters, the open dialog or
//! overlay, messages. Changed only by `update`; drawn by `view`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::NaiveDateTime;
use ratatui::widgets::ListState;

use super::executor::Op;
use super::keymap::{Keymap, Layer};
use super::theme::Theme;
use super::worker::Pane;
use crate::core::audit::Tally;
use crate::core::purge::{Progress, PurgeReport};
use crate::core::query::{Counts, Cursor, Row, StateFilter};
use crate::core::rules::Target;

/// Below this the console says so instead of drawing.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Which pane has the focus. The text pane shows the selected post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Threads,
    Posts,
    Attachments,
    Text,
}

impl Focus {
    pub const ORDER: [Focus; 4] = [
        Focus::Threads,
        Focus::Posts,
        Focus::Attachments,
        Focus::Text,
    ];

    pub fn pane(self) -> Option<Pane> {
        match self {
            Focus::Threads => Some(Pane::Threads),
            Focus::Posts => Some(Pane::Posts),
            Focus::Attachments => Some(Pane::Attachments),
            Focus::Text => None,
        }
    }

    pub fn of(pane: Pane) -> Focus {
        match pane {
            Pane::Threads => Focus::Threads,
            Pane::Posts => Focus::Posts,
            Pane::Attachments => Focus::Attachments,
        }
    }
}

/// One list pane: rows loaded so far (keyset pages), selection, filter.
#[derive(Debug, Clone, Default)]
pub struct ListPane {
    pub rows: Vec<Row>,
    pub state: ListState,
    pub filter: StateFilter,
    /// The parent whose children this pane shows (thread for posts, post
    /// for attachments); `None` for threads.
    pub parent: Option<String>,
    /// Bumped whenever what the pane shows changes; answers for an older
    /// generation are dropped.
    pub generation: u64,
    /// A page request is out.
    pub loading: bool,
    /// The last page came back short: nothing more to load.
    pub exhausted: bool,
    /// The list starts at this row (after a jump), not at the top.
    pub start_at: Option<Cursor>,
    /// Select this row when it arrives (keeps the selection over reloads).
    pub want: Option<String>,
}

impl ListPane {
    pub fn selected(&self) -> Option<&Row> {
        self.state.selected().and_then(|i| self.rows.get(i))
    }

    pub fn selected_id(&self) -> Option<String> {
        self.selected().map(|r| r.id.clone())
    }
}

/// The selected post's text.
#[derive(Debug, Clone, Default)]
pub struct TextPane {
    pub post_id: Option<String>,
    pub generation: u64,
    /// Sanitised text; `None` while loading.
    pub text: Option<String>,
    pub scroll: u16,
}

/// The delete/restore confirmation.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub op: Op,
    /// What the row is called, sanitised.
    pub label: String,
    /// What the cascade will touch; `None` while it is being worked out.
    pub preview: Option<Result<Tally, String>>,
    /// The rows changed while the dialog was open: the counts are new.
    pub changed: bool,
    /// A "yes" was sent and the answer is awaited.
    pub sent: bool,
}

/// The purge dialog, then the purge's gauge.
#[derive(Debug, Clone)]
pub struct PurgeDialog {
    pub retention: String,
    pub batch: String,
    /// 0: retention, 1: batch size.
    pub field: usize,
    /// The focused field was just entered: the first digit replaces it.
    pub fresh: bool,
    pub plan: Option<Result<PurgeReport, String>>,
    pub running: Option<PurgeRun>,
    /// The purge ended: its report (or error), shown until closed.
    pub finished: Option<Result<PurgeReport, String>>,
}

impl PurgeDialog {
    /// The focused field's text.
    pub fn field_mut(&mut self) -> &mut String {
        if self.field == 0 {
            &mut self.retention
        } else {
            &mut self.batch
        }
    }

    pub fn values(&self) -> Option<(i64, usize)> {
        let days = self.retention.parse::<i64>().ok()?;
        let batch = self.batch.parse::<usize>().ok().filter(|b| *b > 0)?;
        Some((days, batch))
    }
}

#[derive(Debug, Clone)]
pub struct PurgeRun {
    pub progress: Progress,
    pub cancel: Arc<AtomicBool>,
    pub cancelling: bool,
}

/// An entry of a list overlay (check results, search hits, the log),
/// with the row it leads to, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub text: String,
    pub target: Option<Target>,
}

#[derive(Debug, Clone)]
pub struct ListOverlay {
    pub title: String,
    pub entries: Vec<Entry>,
    pub state: ListState,
}

impl ListOverlay {
    pub fn new(title: String, entries: Vec<Entry>) -> ListOverlay {
        let mut state = ListState::default();
        if !entries.is_empty() {
            state.select(Some(0));
        }
        ListOverlay {
            title,
            entries,
            state,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    Confirm(Confirm),
    Purge(PurgeDialog),
    List(ListOverlay),
    Search {
        input: String,
    },
    /// Asked before quitting while a purge runs; the purge dialog stays
    /// underneath.
    Quit(PurgeDialog),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub text: String,
    pub level: Level,
}

pub struct App {
    pub db_label: String,
    pub read_only: bool,
    pub threads: ListPane,
    pub posts: ListPane,
    pub attachments: ListPane,
    pub text: TextPane,
    pub focus: Focus,
    pub overlay: Option<Overlay>,
    pub message: Option<Message>,
    pub counts: Option<Counts>,
    pub counts_asked: Option<Instant>,
    /// Since when the worker has been busy: a slow answer shows "waiting".
    pub waiting_since: Option<Instant>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub now: NaiveDateTime,
    pub now_fixed: bool,
    pub retention_days: i64,
    pub batch_size: usize,
    pub mouse: bool,
    /// The terminal area of the last frame (for mouse hits and paging).
    pub area: ratatui::layout::Rect,
    pub quit: bool,
    /// Ctrl-L asked for a full redraw.
    pub clear: bool,
    /// Quit once the running purge has stopped after its batch.
    pub quit_after_purge: bool,
    /// `G` was pressed: keep loading pages until the list is complete.
    pub to_bottom: bool,
    /// A reload keeps at most this many rows of a pane, as a window around
    /// the selection.
    pub reload_cap: usize,
}

impl App {
    pub fn pane(&self, pane: Pane) -> &ListPane {
        match pane {
            Pane::Threads => &self.threads,
            Pane::Posts => &self.posts,
            Pane::Attachments => &self.attachments,
        }
    }

    pub fn pane_mut(&mut self, pane: Pane) -> &mut ListPane {
        match pane {
            Pane::Threads => &mut self.threads,
            Pane::Posts => &mut self.posts,
            Pane::Attachments => &mut self.attachments,
        }
    }

    /// Which layer of the keymap has the keyboard now.
    pub fn layer(&self) -> Layer {
        match &self.overlay {
            None => Layer::List,
            Some(Overlay::Help { .. }) | Some(Overlay::List(_)) => Layer::Overlay,
            Some(Overlay::Purge(d)) if d.finished.is_some() => Layer::Overlay,
            Some(Overlay::Confirm(_)) => Layer::Confirm,
            Some(Overlay::Purge(d)) if d.running.is_some() => Layer::PurgeRunning,
            Some(Overlay::Purge(_)) => Layer::PurgeSetup,
            Some(Overlay::Search { .. }) => Layer::Input,
            Some(Overlay::Quit(_)) => Layer::QuitConfirm,
        }
    }

    pub fn too_small(&self) -> bool {
        self.area.width < MIN_WIDTH || self.area.height < MIN_HEIGHT
    }

    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            level,
        });
    }
}
