//! The console's state: panes, selection, filters, the open dialog or
//! overlay, messages. Changed only by `update`; drawn by `view`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::NaiveDateTime;
use ratatui::widgets::ListState;

use super::executor::{Op, Preview};
use super::keymap::{Keymap, Layer};
use super::theme::Theme;
use super::update::PREFETCH;
use modcon_core::audit::LogEntry;
use modcon_core::check::CheckReport;
use modcon_core::flags::FlagRow;
use modcon_core::model::Kind;
use modcon_core::purge::{Progress, PurgeReport};
use modcon_core::query::{Counts, Cursor, Hit, Row, StateFilter};
use modcon_core::rules::Target;

/// The three panes of rows, one per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Threads,
    Posts,
    Attachments,
}

impl Pane {
    pub fn kind(self) -> Kind {
        match self {
            Pane::Threads => Kind::Thread,
            Pane::Posts => Kind::Post,
            Pane::Attachments => Kind::Attachment,
        }
    }

    pub fn of(kind: Kind) -> Pane {
        match kind {
            Kind::Thread => Pane::Threads,
            Kind::Post => Pane::Posts,
            Kind::Attachment => Pane::Attachments,
        }
    }
}

/// Where a row lives in the panes.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub target: Target,
    pub thread: Row,
    pub post: Option<Row>,
    pub attachment: Option<Row>,
}

/// Below this the console says so instead of drawing.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Which pane has the focus. The details pane shows the selected row of
/// the list focused last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Threads,
    Posts,
    Attachments,
    Details,
}

impl Focus {
    pub const ORDER: [Focus; 4] = [
        Focus::Threads,
        Focus::Posts,
        Focus::Attachments,
        Focus::Details,
    ];

    pub fn pane(self) -> Option<Pane> {
        match self {
            Focus::Threads => Some(Pane::Threads),
            Focus::Posts => Some(Pane::Posts),
            Focus::Attachments => Some(Pane::Attachments),
            Focus::Details => None,
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

/// A pane keeps at most this many rows in memory (`App::window`): a window
/// of the list that slides with the selection, whatever the list's length.
pub const WINDOW: usize = 1000;

/// One list pane: a window of rows loaded by keyset pages, the selection,
/// the filter. The window may start below the list's top (after a jump,
/// `G`, or rows dropped as it slid down): `above` rows come before it.
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
    /// Nothing more below the window.
    pub exhausted: bool,
    /// Rows of the whole list before the window's first row.
    pub above: usize,
    /// Rows in the whole list (under the filter), when known.
    pub total: Option<usize>,
    /// The window starts at this row (a jump, a reload of a long list).
    pub start_at: Option<Cursor>,
    /// The window is the list's last page (`G`).
    pub from_end: bool,
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

    /// Adds the page below the window; `more`: rows lie beyond it. Beyond
    /// `cap` rows, the window drops rows from its top, never the selection
    /// or the rows just above it.
    pub fn append(&mut self, rows: Vec<Row>, more: bool, cap: usize) {
        self.exhausted = !more;
        self.rows.extend(rows);
        let keep_above = self
            .state
            .selected()
            .map_or(0, |i| i.saturating_sub(PREFETCH));
        let drop = self.rows.len().saturating_sub(cap).min(keep_above);
        if drop > 0 {
            self.rows.drain(..drop);
            self.above += drop;
            self.state.select(self.state.selected().map(|i| i - drop));
            *self.state.offset_mut() = self.state.offset().saturating_sub(drop);
        }
    }

    /// Adds the page above the window; `more`: rows lie above it. The
    /// selection stays on its row; beyond `cap` rows, the window drops rows
    /// from its bottom, never the selection or the rows just below it.
    pub fn prepend(&mut self, rows: Vec<Row>, more: bool, cap: usize) {
        let n = rows.len();
        self.above = if more {
            self.above.saturating_sub(n)
        } else {
            0
        };
        self.rows.splice(0..0, rows);
        // The view stays where it was while the user scrolls up; a fresh
        // window (a jump) shows the rows above its row.
        let scrolled = self.state.selected().is_some_and(|i| i > 0) || self.state.offset() > 0;
        if let Some(i) = self.state.selected() {
            self.state.select(Some(i + n));
        }
        if scrolled {
            *self.state.offset_mut() += n;
        }
        let keep = self.state.selected().map_or(0, |i| i + PREFETCH + 1);
        let len = self.rows.len().min(cap.max(keep));
        if len < self.rows.len() {
            self.rows.truncate(len);
            // The window no longer reaches the list's end.
            self.exhausted = false;
            self.from_end = false;
        }
    }

    /// "12/213", or "12/200+" while the length is not known.
    pub fn position(&self) -> String {
        let at = self.state.selected().map(|i| self.above + i + 1);
        let known = self.above + self.rows.len();
        let total = match self.total {
            Some(t) => t.to_string(),
            None if self.exhausted => known.to_string(),
            None => format!("{known}+"),
        };
        match at {
            Some(at) => format!("{at}/{total}"),
            None => format!("0/{total}"),
        }
    }
}

/// The details of the selected row of the subject list.
#[derive(Debug, Clone, Default)]
pub struct DetailsPane {
    pub target: Option<Target>,
    pub generation: u64,
    /// `None` while loading.
    pub facts: Option<Result<Box<super::worker::Details>, String>>,
    pub scroll: u16,
}

/// A text field of a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Why: optional for delete, restore and fix; a review needs one.
    Reason,
    /// A review's note for the flag.
    Notes,
}

/// The delete/restore/fix/review confirmation.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub op: Op,
    /// What the row is called, sanitised.
    pub label: String,
    /// The reason typed so far (kept in the audit log).
    pub reason: String,
    /// A review's note, typed so far; `None`: the dialog has no note field.
    pub notes: Option<String>,
    /// The field that has the keyboard; `None`: the dialog's keys do.
    pub field: Option<Field>,
    /// What the action will do; `None` while it is being worked out.
    pub preview: Option<Result<Preview, String>>,
    /// The rows changed while the dialog was open: the counts are new.
    pub changed: bool,
    /// A "yes" was sent and the answer is awaited.
    pub sent: bool,
    /// The overlay to go back to when the dialog closes (the check view).
    pub back: Option<Box<Overlay>>,
}

/// A dialog that only informs: a refusal, a whole result.
#[derive(Debug, Clone)]
pub struct Info {
    pub title: String,
    /// Sanitised, possibly many lines.
    pub text: String,
    pub level: Level,
    pub scroll: u16,
    pub back: Option<Box<Overlay>>,
}

/// The purge dialog, then the purge's gauge.
#[derive(Debug, Clone)]
pub struct PurgeDialog {
    pub retention: String,
    pub batch: String,
    /// Why (optional), for the audit log.
    pub reason: String,
    /// 0: retention, 1: batch size, 2: reason.
    pub field: usize,
    /// The focused field was just entered: the first digit replaces it.
    pub fresh: bool,
    /// Opened read-only: the plan alone, nothing can start.
    pub plan_only: bool,
    pub plan: Option<Result<PurgeReport, String>>,
    pub running: Option<PurgeRun>,
    /// The purge ended: its report (or error), shown until closed.
    pub finished: Option<Result<PurgeReport, String>>,
}

impl Confirm {
    pub fn new(op: Op, label: String, back: Option<Box<Overlay>>) -> Confirm {
        let review = op.is_review();
        Confirm {
            op,
            label,
            reason: String::new(),
            notes: review.then(String::new),
            // A review cannot go without a reason: the dialog starts in it.
            field: review.then_some(Field::Reason),
            preview: None,
            changed: false,
            sent: false,
            back,
        }
    }

    /// The field after the focused one; after the last, the dialog's keys.
    pub fn next_field(&self) -> Option<Field> {
        match self.field {
            None => Some(Field::Reason),
            Some(Field::Reason) if self.notes.is_some() => Some(Field::Notes),
            _ => None,
        }
    }

    pub fn field_text_mut(&mut self, field: Field) -> Option<&mut String> {
        match field {
            Field::Reason => Some(&mut self.reason),
            Field::Notes => self.notes.as_mut(),
        }
    }

    /// Whether "yes" may go ahead: the preview is in, nothing was sent yet,
    /// there is something to do (a review always does: its flag), and a
    /// review has its reason.
    pub fn can_confirm(&self) -> bool {
        let previewed = match &self.preview {
            Some(Ok(p)) => self.op.is_review() || p.changes.rows() > 0,
            _ => false,
        };
        previewed && !self.sent && (!self.op.is_review() || !self.reason.trim().is_empty())
    }
}

/// The purge dialog's fields: retention, batch size, reason.
pub const PURGE_REASON_FIELD: usize = 2;

impl PurgeDialog {
    /// The focused field's text.
    pub fn field_mut(&mut self) -> &mut String {
        match self.field {
            0 => &mut self.retention,
            1 => &mut self.batch,
            _ => &mut self.reason,
        }
    }

    /// Retention (0 or more days) and batch size (1 to the largest a
    /// command-line purge takes), when both fields hold one.
    pub fn values(&self) -> Option<(i64, usize)> {
        let days = self.retention.parse::<i64>().ok().filter(|d| *d >= 0)?;
        let batch = self
            .batch
            .parse::<usize>()
            .ok()
            .filter(|b| (1..=modcon_core::MAX_BATCH_SIZE).contains(b))?;
        Some((days, batch))
    }
}

#[derive(Debug, Clone)]
pub struct PurgeRun {
    pub progress: Progress,
    pub cancel: Arc<AtomicBool>,
    pub cancelling: bool,
}

/// An entry of a list overlay, kept as it came (a search hit, a log
/// entry, a message of this session); the view formats it.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Hit(Hit),
    Log(LogEntry),
    /// Sanitised; may hold several lines (a whole message).
    Message {
        at: NaiveDateTime,
        text: String,
    },
}

impl Entry {
    /// The row the entry leads to, if any.
    pub fn target(&self) -> Option<Target> {
        match self {
            Entry::Hit(h) => Some(Target::new(h.kind, h.id.clone())),
            Entry::Log(e) => e
                .kind
                .zip(e.target_id.clone())
                .map(|(k, id)| Target::new(k, id)),
            Entry::Message { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultsKind {
    Search,
    Log,
    Messages,
}

#[derive(Debug, Clone)]
pub struct Results {
    pub kind: ResultsKind,
    pub title: String,
    /// A line above the entries (column names, a note); may be empty.
    pub header: String,
    pub entries: Vec<Entry>,
    pub state: ListState,
    /// The view it was opened over (the flag or check view), back on close.
    pub back: Option<Box<Overlay>>,
}

impl Results {
    pub fn new(kind: ResultsKind, title: String, header: String, entries: Vec<Entry>) -> Results {
        let mut state = ListState::default();
        if !entries.is_empty() {
            state.select(Some(0));
        }
        Results {
            kind,
            title,
            header,
            entries,
            state,
            back: None,
        }
    }

    pub fn selected(&self) -> Option<&Entry> {
        self.state.selected().and_then(|i| self.entries.get(i))
    }
}

/// The kinds of problem `check` reports, in the order the view shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    Violation,
    UnknownTime,
    MissingFile,
    UnsafePath,
    UnreferencedFile,
    UnreferencedThumbnail,
    ForeignReference,
}

impl ProblemKind {
    pub const ALL: [ProblemKind; 7] = [
        ProblemKind::Violation,
        ProblemKind::UnknownTime,
        ProblemKind::MissingFile,
        ProblemKind::UnsafePath,
        ProblemKind::UnreferencedFile,
        ProblemKind::UnreferencedThumbnail,
        ProblemKind::ForeignReference,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::Violation => "violations: active under a deleted parent",
            ProblemKind::UnknownTime => "deletion time unknown (or only first seen)",
            ProblemKind::MissingFile => "missing files",
            ProblemKind::UnsafePath => "unsafe paths: outside the media root",
            ProblemKind::UnreferencedFile => "unreferenced files",
            ProblemKind::UnreferencedThumbnail => "unreferenced thumbnails",
            ProblemKind::ForeignReference => {
                "foreign references: other tables pointing at forum rows"
            }
        }
    }
}

/// One problem of the check view: the `at`th of its kind in the report
/// (the view formats it from there), and the row it leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub at: usize,
    pub target: Option<Target>,
}

/// The check view: problems grouped by kind, one kind or all shown.
#[derive(Debug, Clone)]
pub struct CheckView {
    pub report: Box<CheckReport>,
    pub problems: Vec<Problem>,
    /// Show this kind only; `None`: all.
    pub only: Option<ProblemKind>,
    pub state: ListState,
}

impl CheckView {
    /// The lines shown: a heading per kind with its count, then its
    /// problems. `None` entries are headings (of the kind beside them).
    pub fn shown(&self) -> Vec<(Option<&Problem>, ProblemKind)> {
        let mut out = Vec::new();
        for kind in ProblemKind::ALL {
            if self.only.is_some_and(|o| o != kind) {
                continue;
            }
            let of_kind: Vec<&Problem> = self.problems.iter().filter(|p| p.kind == kind).collect();
            if of_kind.is_empty() && self.only.is_none() {
                continue;
            }
            out.push((None, kind));
            for p in of_kind {
                out.push((Some(p), kind));
            }
        }
        out
    }

    pub fn selected(&self) -> Option<&Problem> {
        let shown = self.shown();
        self.state
            .selected()
            .and_then(|i| shown.get(i).and_then(|(p, _)| *p))
    }

    pub fn count(&self, kind: ProblemKind) -> usize {
        self.problems.iter().filter(|p| p.kind == kind).count()
    }
}

/// The flag view: the web app's pending flags, newest first, and the
/// selected one's facts.
#[derive(Debug, Clone, Default)]
pub struct FlagView {
    pub flags: Vec<FlagRow>,
    pub state: ListState,
    /// The first answer came.
    pub loaded: bool,
    /// Reading the queue failed (no flag table, ...).
    pub error: Option<String>,
}

impl FlagView {
    pub fn selected(&self) -> Option<&FlagRow> {
        self.state.selected().and_then(|i| self.flags.get(i))
    }

    /// A fresh list of flags, keeping the selection on the same flag (or
    /// at the same place, when that flag was reviewed meanwhile).
    pub fn replace(&mut self, flags: Vec<FlagRow>) {
        let kept = self.selected().map(|f| f.id.clone());
        let at = self.state.selected().unwrap_or(0);
        self.flags = flags;
        self.loaded = true;
        self.error = None;
        let index = kept
            .and_then(|id| self.flags.iter().position(|f| f.id == id))
            .or_else(|| (!self.flags.is_empty()).then(|| at.min(self.flags.len() - 1)));
        self.state.select(index);
    }
}

/// The latest search, for `n`/`N`.
#[derive(Debug, Clone)]
pub struct SearchState {
    pub needle: String,
    pub hits: Vec<Hit>,
    /// The search stopped at its limit: there are more hits.
    pub capped: bool,
    /// The hit shown last.
    pub at: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    Confirm(Confirm),
    Info(Info),
    Purge(PurgeDialog),
    Results(Results),
    Check(CheckView),
    /// The web app's flag queue.
    Flags(FlagView),
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
    /// Whole, sanitised; may hold several lines.
    pub text: String,
    pub level: Level,
    pub at: NaiveDateTime,
}

/// The status counts and the requests for them: every change of the data
/// bumps `wanted`; one request is out at a time, and when its answer is
/// older than `wanted` another is asked, so the last change is always
/// counted (none is dropped, and none piles up behind a slow count).
#[derive(Debug, Clone, Default)]
pub struct CountsState {
    pub counts: Option<Counts>,
    /// The generation of the data the counts must reflect.
    pub wanted: u64,
    /// The generation the request out was asked at.
    pub asked: Option<u64>,
    /// The generation the shown counts were asked at.
    pub have: Option<u64>,
}

pub struct App {
    /// The database's file name, for the status line.
    pub db_label: String,
    /// Its whole path (host/dbname on a server), for the help.
    pub db_path: String,
    pub read_only: bool,
    /// The database is read as a snapshot: a WAL database opened without
    /// its -wal and -shm (read-only), as the file was when opened, opened
    /// again whenever the file changes.
    pub snapshot: bool,
    pub actor: String,
    pub threads: ListPane,
    pub posts: ListPane,
    pub attachments: ListPane,
    pub details: DetailsPane,
    pub focus: Focus,
    /// The list whose selection the details pane shows.
    pub subject: Pane,
    pub overlay: Option<Overlay>,
    /// The message line: the latest message, until the next action.
    pub message: Option<Message>,
    /// This session's messages, oldest first, in full.
    pub messages: Vec<Message>,
    pub counts: CountsState,
    pub search: Option<SearchState>,
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
    /// A pane keeps at most this many rows ([`WINDOW`]; lowered by tests).
    pub window: usize,
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
            Some(Overlay::Help { .. }) => Layer::Help,
            Some(Overlay::Results(_)) => Layer::Results,
            Some(Overlay::Check(_)) => Layer::Check,
            Some(Overlay::Flags(_)) => Layer::Flags,
            Some(Overlay::Info(_)) => Layer::Info,
            Some(Overlay::Purge(d)) if d.finished.is_some() => Layer::Info,
            Some(Overlay::Confirm(c)) if c.field.is_some() => Layer::TextField,
            Some(Overlay::Confirm(_)) => Layer::Confirm,
            Some(Overlay::Purge(d)) if d.running.is_some() => Layer::PurgeRunning,
            Some(Overlay::Purge(d)) if d.field == PURGE_REASON_FIELD => Layer::TextField,
            Some(Overlay::Purge(_)) => Layer::PurgeSetup,
            Some(Overlay::Search { .. }) => Layer::Input,
            Some(Overlay::Quit(_)) => Layer::QuitConfirm,
        }
    }

    pub fn too_small(&self) -> bool {
        self.area.width < MIN_WIDTH || self.area.height < MIN_HEIGHT
    }

    /// Puts a message on the message line and in this session's history.
    /// The text is sanitised here, once.
    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        let text: String = text.into();
        let text = text
            .lines()
            .map(crate::display::sanitize_line)
            .collect::<Vec<_>>()
            .join("\n");
        let message = Message {
            text,
            level,
            at: self.now,
        };
        self.messages.push(message.clone());
        self.message = Some(message);
    }

    /// A passing note (progress, "nothing selected"): on the message line,
    /// not kept in the history.
    pub fn note(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some(Message {
            text: crate::display::sanitize_line(&text.into()),
            level,
            at: self.now,
        });
    }

    /// The row the details pane and the moderation keys are about.
    pub fn subject_row(&self) -> Option<&Row> {
        self.pane(self.subject).selected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_dialog_takes_the_values_a_command_line_purge_takes() {
        let dialog = |retention: &str, batch: &str| PurgeDialog {
            retention: retention.into(),
            batch: batch.into(),
            reason: String::new(),
            field: 0,
            fresh: false,
            plan_only: false,
            plan: None,
            running: None,
            finished: None,
        };
        assert_eq!(dialog("30", "100").values(), Some((30, 100)));
        assert_eq!(dialog("0", "10000").values(), Some((0, 10000)));
        // A retention beyond the calendar is fine: the cutoff clamps.
        assert_eq!(dialog("99999999", "1").values(), Some((99_999_999, 1)));
        for (retention, batch) in [
            ("-1", "100"),
            ("30", "0"),
            ("30", "10001"),
            ("30", "18446744073709551615"),
            ("x", "1"),
        ] {
            assert_eq!(
                dialog(retention, batch).values(),
                None,
                "{retention} {batch}"
            );
        }
    }
}
