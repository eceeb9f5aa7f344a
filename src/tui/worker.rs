//! The workers: threads each owning a database connection of their own.
//! The UI thread sends requests and never waits; answers come back as
//! messages. Requests go to one of four lanes, so what a key needs is
//! never queued behind slow work:
//! - `Nav`: pages of the lists, the details pane, jumps — small indexed
//!   reads, and the lane that watches for other processes' commits;
//! - `Counts`: the status counts, the slowest query on a large database;
//! - `Slow`: search, check, the log, the flag queue, the purge plan (a purge itself runs
//!   on a thread and a connection of its own);
//! - `Write`: confirmations' previews and the actions themselves.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDateTime;

use super::app::{Location, Pane};
use super::executor::{self, Executed, Op, Preview, Why};
use crate::display::one_line;
use crate::display::unsanitize;
use modcon_core::audit::{self, LogEntry};
use modcon_core::check::CheckReport;
use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::flags::{self, FlagRow, StatusFilter};
use modcon_core::media::MediaRoot;
use modcon_core::model::{Kind, utc_now};
use modcon_core::purge::{Progress, PurgeReport};
use modcon_core::query::{self, Counts, Facts, FileFacts, Hit, ListQuery, Row};
use modcon_core::rules::Target;
use modcon_core::{Ctx, cutoff};

/// How often the navigation lane asks SQLite whether another process
/// committed.
pub const POLL_EVERY: Duration = Duration::from_millis(400);
/// Rows per keyset page.
pub const PAGE: usize = 200;
/// A search stops after this many hits (and says so: "500+").
pub const SEARCH_LIMIT: usize = 500;
/// The flag view shows at most this many pending flags, newest first.
pub const FLAGS_SHOWN: usize = 500;

/// How a page joins the rows a pane has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageMode {
    /// A new window (a new parent, filter, jump or reload).
    Replace,
    /// The page below the window.
    Append,
    /// The page above the window.
    Prepend,
}

#[derive(Debug, Clone)]
pub enum Request {
    /// A page of a pane. `generation` ties the answer to the pane's
    /// contents when asked.
    Page {
        pane: Pane,
        generation: u64,
        query: ListQuery,
        mode: PageMode,
    },
    /// The facts of a row, for the details pane.
    Details {
        generation: u64,
        target: Target,
    },
    /// The status counts, for the data as of `generation`.
    Counts {
        generation: u64,
    },
    Preview {
        op: Op,
    },
    Execute {
        op: Op,
        expected: Option<Preview>,
        /// The reason (and a review's note) the moderator typed.
        why: Why,
    },
    PurgePlan {
        retention_days: i64,
        batch_size: usize,
    },
    StartPurge {
        retention_days: i64,
        batch_size: usize,
        cancel: Arc<AtomicBool>,
        reason: Option<String>,
    },
    Check,
    Log,
    /// The web app's pending flags, newest first.
    Flags,
    Search {
        needle: String,
    },
    /// Where a row lives: its thread (and post), to jump to it.
    Locate {
        target: Target,
    },
}

/// The lanes requests travel on; each has its own thread and connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    Nav,
    Counts,
    Slow,
    Write,
}

impl Lane {
    pub const ALL: [Lane; 4] = [Lane::Nav, Lane::Counts, Lane::Slow, Lane::Write];

    /// The page cache of the lane's connection, in KiB. Together they bound
    /// the console's memory on any size of database. Navigation reads the
    /// same index pages again and again, so it keeps the most; counts,
    /// searches, checks and plans read far more than any cache holds and
    /// gain nothing from a large one (the operating system caches the file
    /// anyway); writes touch few pages.
    pub fn cache_kib(self) -> i64 {
        match self {
            Lane::Nav => 8192,
            Lane::Counts | Lane::Slow | Lane::Write => 2048,
        }
    }
}

impl Request {
    /// An action the moderator chose on what the console showed: run on
    /// the file that was shown, or refused (see `Worker::handle`).
    fn acts(&self) -> bool {
        self.lane() == Lane::Write || matches!(self, Request::StartPurge { .. })
    }

    pub fn lane(&self) -> Lane {
        match self {
            Request::Page { .. } | Request::Details { .. } | Request::Locate { .. } => Lane::Nav,
            Request::Counts { .. } => Lane::Counts,
            Request::Search { .. }
            | Request::Check
            | Request::Log
            | Request::Flags
            | Request::PurgePlan { .. }
            | Request::StartPurge { .. } => Lane::Slow,
            Request::Preview { .. } | Request::Execute { .. } => Lane::Write,
        }
    }
}

/// The details pane's answer: the row's facts and, for an attachment,
/// what is on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    pub facts: Facts,
    pub files: Option<FileFacts>,
}

#[derive(Debug, Clone)]
pub enum Response {
    Page {
        pane: Pane,
        generation: u64,
        rows: Vec<Row>,
        mode: PageMode,
        /// More rows lie beyond this page (below for Replace and Append,
        /// above for Prepend).
        more: bool,
        /// For a new window: rows of the whole list before its first row.
        above: Option<usize>,
        /// For a new window: rows in the whole list.
        total: Option<usize>,
    },
    Details {
        generation: u64,
        target: Target,
        result: Result<Option<Box<Details>>, String>,
    },
    Counts {
        generation: u64,
        result: Result<Counts, String>,
        /// Whether the counting connection reads a snapshot (it may have
        /// been opened again since, live or as a new snapshot).
        snapshot: bool,
    },
    Preview {
        op: Op,
        result: Result<Preview, String>,
    },
    Executed {
        op: Op,
        result: Result<Executed, String>,
    },
    PurgePlan(Result<Box<PurgeReport>, String>),
    PurgeProgress(Progress),
    PurgeDone(Result<Box<PurgeReport>, String>),
    Check(Result<Box<CheckReport>, String>),
    Log(Result<Vec<LogEntry>, String>),
    Flags(Result<Vec<FlagRow>, String>),
    Search {
        needle: String,
        /// The hits, and whether the search stopped at its limit.
        result: Result<(Vec<Hit>, bool), String>,
    },
    Located(Result<Box<Location>, String>),
    /// Another process committed: reload what is on screen.
    DataChanged,
    /// The navigation lane started (true) or finished (false) a batch of
    /// requests.
    Busy(bool),
    /// A request failed in a way no other answer carries.
    Error(String),
}

/// What the workers need to know besides their connections.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub db_path: PathBuf,
    pub read_only: bool,
    pub media_root: Option<MediaRoot>,
    pub actor: String,
    pub os_account: Option<String>,
    pub client_addr: Option<String>,
    /// `--now`, when the clock is fixed.
    pub fixed_now: Option<NaiveDateTime>,
    pub retention_days: i64,
}

impl WorkerConfig {
    pub fn now(&self) -> NaiveDateTime {
        self.fixed_now.unwrap_or_else(utc_now)
    }

    pub fn ctx(&self, retention_days: i64) -> Ctx {
        Ctx {
            now: self.now(),
            actor: self.actor.clone(),
            os_account: self.os_account.clone(),
            client_addr: self.client_addr.clone(),
            reason: None,
            retention_days,
        }
    }
}

pub struct Worker {
    db: Db,
    /// The page cache of the lane's connection, in KiB; kept when the
    /// connection is opened again.
    cache_kib: Option<i64>,
    config: WorkerConfig,
    last_version: Option<String>,
    /// Where a purge thread sends its messages; `None` runs purges inline
    /// (the tests' synchronous mode).
    events: Option<Sender<super::Event>>,
    /// Why the connection could not be opened again when its file changed
    /// under it, until it can; and what `poll` last said of it.
    cannot_reopen: Option<String>,
    said_cannot_reopen: Option<String>,
}

fn err<T>(result: Result<T>) -> Result<T, String> {
    result.map_err(|e| one_line(&e))
}

impl Worker {
    pub fn new(db: Db, config: WorkerConfig) -> Worker {
        Worker {
            db,
            cache_kib: None,
            config,
            last_version: None,
            events: None,
            cannot_reopen: None,
            said_cannot_reopen: None,
        }
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Gives the connection a page cache of `kib` KiB, now and whenever it
    /// is opened again.
    pub fn set_cache_kib(&mut self, kib: i64) {
        self.cache_kib = Some(kib);
        self.apply_cache();
    }

    fn apply_cache(&self) {
        if let Some(kib) = self.cache_kib {
            // Negative: in KiB rather than pages.
            if let Ok(conn) = self.db.sqlite("a page cache") {
                let _ = conn.pragma_update(None, "cache_size", -kib);
            }
        }
    }

    /// Opens the connection again, with the lane's page cache, when the
    /// files it works on are no longer the ones at its path (a database
    /// file replaced or restored from a backup, a snapshot whose file
    /// changed, a live read-only connection whose -wal or -shm was
    /// replaced: see `Db::reopen_if_files_changed`); whether it did. Why
    /// it could not (the file removed, say) is kept for `poll` to say.
    fn reopen_if_files_changed(&mut self) -> bool {
        match self.db.reopen_if_files_changed() {
            Ok(reopened) => {
                self.cannot_reopen = None;
                if reopened {
                    self.apply_cache();
                }
                reopened
            }
            Err(e) => {
                self.cannot_reopen = Some(one_line(&e));
                false
            }
        }
    }

    /// The connection's `PRAGMA cache_size` (negative: in KiB).
    pub fn cache_size(&self) -> Option<i64> {
        self.db
            .sqlite("a page cache")
            .ok()?
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .ok()
    }

    fn cutoff(&self) -> String {
        cutoff(self.config.now(), self.config.retention_days)
    }

    /// Answers one request. `out` receives every response, in order.
    pub fn handle(&mut self, request: Request, out: &mut dyn FnMut(Response)) {
        // A read follows the file at the path. An action does not: one
        // asked for on what the moderator saw of a file since replaced is
        // refused (by the write itself; a purge, which runs on a connection
        // of its own, by comparing files), and the lane then opens the new
        // file.
        let acts = request.acts();
        if !acts {
            self.reopen_if_files_changed();
        }
        self.answer(request, out);
        if acts {
            self.reopen_if_files_changed();
        }
    }

    fn answer(&mut self, request: Request, out: &mut dyn FnMut(Response)) {
        match request {
            Request::Page {
                pane,
                generation,
                query,
                mode,
            } => match self.page(&query, mode) {
                Ok((rows, more, above, total)) => out(Response::Page {
                    pane,
                    generation,
                    rows,
                    mode,
                    more,
                    above,
                    total,
                }),
                Err(e) => out(Response::Error(one_line(&e))),
            },
            Request::Details { generation, target } => {
                let result = err(self.details(&target)).map(|d| d.map(Box::new));
                out(Response::Details {
                    generation,
                    target,
                    result,
                });
            }
            Request::Counts { generation } => {
                let cutoff = self.cutoff();
                let schema = self.db.schema().clone();
                // One snapshot, so the kinds agree with one another.
                let result = self
                    .db
                    .read_tx()
                    .and_then(|tx| query::counts(tx.conn(), &schema, &cutoff));
                out(Response::Counts {
                    generation,
                    result: err(result),
                    snapshot: self.db.is_snapshot(),
                });
            }
            Request::Preview { op } => {
                let ctx = self.config.ctx(self.config.retention_days);
                let result = err(executor::preview(&mut self.db, &ctx, &op));
                out(Response::Preview { op, result });
            }
            Request::Execute { op, expected, why } => {
                let ctx = self.config.ctx(self.config.retention_days);
                let result = err(executor::execute(&mut self.db, &ctx, &op, expected, &why));
                out(Response::Executed { op, result });
            }
            Request::PurgePlan {
                retention_days,
                batch_size,
            } => {
                let ctx = self.config.ctx(retention_days);
                let media = self.config.media_root.clone();
                let plan = executor::purge_plan(&mut self.db, &ctx, media.as_ref(), batch_size);
                out(Response::PurgePlan(err(plan).map(Box::new)));
            }
            Request::StartPurge {
                retention_days,
                batch_size,
                cancel,
                reason,
            } => {
                let config = self.config.clone();
                // The file whose plan the moderator confirmed.
                let planned_on = self.db.file_id();
                let run = move |send: &mut dyn FnMut(Response)| {
                    let ctx = config.ctx(retention_days).with_reason(reason);
                    let result = executor::purge(
                        &config.db_path,
                        config.read_only,
                        planned_on,
                        &ctx,
                        config.media_root.as_ref(),
                        batch_size,
                        &mut |p| send(Response::PurgeProgress(p.clone())),
                        &cancel,
                    );
                    send(Response::PurgeDone(err(result).map(Box::new)));
                };
                match &self.events {
                    Some(events) => {
                        let events = events.clone();
                        thread::spawn(move || {
                            run(&mut |r| {
                                let _ = events.send(super::Event::Worker(Box::new(r)));
                            })
                        });
                    }
                    None => run(out),
                }
            }
            Request::Check => {
                let ctx = self.config.ctx(self.config.retention_days);
                let media = self.config.media_root.clone();
                // A check may write (first-seen stamps): the executor runs it.
                let report = executor::check(&mut self.db, &ctx, media.as_ref());
                out(Response::Check(err(report).map(Box::new)));
            }
            Request::Log => out(Response::Log(err(audit::list(self.db.conn(), 500)))),
            Request::Flags => {
                let flags = flags::list(self.db.conn(), StatusFilter::Pending, FLAGS_SHOWN);
                out(Response::Flags(err(flags)));
            }
            Request::Search { needle } => {
                let result = err(self.search(&needle));
                out(Response::Search { needle, result });
            }
            Request::Locate { target } => {
                out(Response::Located(err(self.locate(&target)).map(Box::new)))
            }
        }
    }

    /// A page, whether more lie beyond it, and for a new window the rows
    /// above it and in the whole list.
    #[allow(clippy::type_complexity)]
    fn page(
        &self,
        q: &ListQuery,
        mode: PageMode,
    ) -> Result<(Vec<Row>, bool, Option<usize>, Option<usize>)> {
        let conn = self.db.conn();
        let schema = self.db.schema().clone();
        let rows = query::list(conn, &schema, q, &self.cutoff())?;
        let full = rows.len() >= q.limit;
        if mode != PageMode::Replace {
            return Ok((rows, full, None, None));
        }
        let whole = ListQuery {
            after: None,
            start_at: None,
            before: None,
            from_end: false,
            ..q.clone()
        };
        let total = query::count_list(conn, &whole)?;
        let above = match rows.first() {
            Some(first) if q.start_at.is_some() || q.from_end => query::count_list(
                conn,
                &ListQuery {
                    before: Some(first.cursor()),
                    ..whole
                },
            )?,
            _ => 0,
        };
        // Read from the end, the window is the list's last page.
        let more = if q.from_end { false } else { full };
        Ok((rows, more, Some(above), Some(total)))
    }

    fn details(&self, target: &Target) -> Result<Option<Details>> {
        let schema = self.db.schema().clone();
        let Some(facts) = query::details(
            self.db.conn(),
            &schema,
            target.kind,
            &target.id,
            &self.cutoff(),
        )?
        else {
            return Ok(None);
        };
        let files = match &facts.row.detail {
            query::Detail::Attachment { image, .. } => {
                Some(query::file_facts(self.config.media_root.as_ref(), image))
            }
            _ => None,
        };
        Ok(Some(Details { facts, files }))
    }

    /// Finds the needle as typed and, when it holds escapes as the console
    /// shows them (`\x1b`, `<U+202E>`), as the text they stand for: what
    /// is seen on screen can be searched for.
    fn search(&self, needle: &str) -> Result<(Vec<Hit>, bool)> {
        let schema = self.db.schema().clone();
        let conn = self.db.conn();
        let mut hits = query::search(conn, &schema, needle, SEARCH_LIMIT + 1)?;
        let raw = unsanitize(needle);
        if raw != needle {
            for hit in query::search(conn, &schema, &raw, SEARCH_LIMIT + 1)? {
                if !hits.iter().any(|h| h.kind == hit.kind && h.id == hit.id) {
                    hits.push(hit);
                }
            }
        }
        let capped = hits.len() > SEARCH_LIMIT;
        hits.truncate(SEARCH_LIMIT);
        Ok((hits, capped))
    }

    fn locate(&self, target: &Target) -> Result<Location> {
        let conn = self.db.conn();
        let schema = self.db.schema().clone();
        let cutoff = self.cutoff();
        let get = |kind: Kind, id: &str| -> Result<Row> {
            query::get(conn, &schema, kind, id, &cutoff)?
                .ok_or_else(|| anyhow::anyhow!("{kind} {id} no longer exists"))
        };
        let (post, attachment) = match target.kind {
            Kind::Thread => (None, None),
            Kind::Post => (Some(get(Kind::Post, &target.id)?), None),
            Kind::Attachment => {
                let att = get(Kind::Attachment, &target.id)?;
                let post_id = att.parent_id.clone().unwrap_or_default();
                (Some(get(Kind::Post, &post_id)?), Some(att))
            }
        };
        let thread_id = match &post {
            Some(p) => p.parent_id.clone().unwrap_or_default(),
            None => target.id.clone(),
        };
        Ok(Location {
            target: target.clone(),
            thread: get(Kind::Thread, &thread_id)?,
            post,
            attachment,
        })
    }

    /// Has another connection committed since the last look?
    pub fn poll(&mut self) -> Option<Response> {
        // A snapshot (a WAL database read without its files), a live
        // connection whose -wal and -shm were replaced, or one whose
        // database file was replaced, sees nothing new by itself: opened
        // again when its files changed.
        if self.reopen_if_files_changed() {
            self.last_version = None;
            return Some(Response::DataChanged);
        }
        // Said once, not on every tick.
        if self.cannot_reopen != self.said_cannot_reopen {
            self.said_cannot_reopen = self.cannot_reopen.clone();
            if let Some(why) = &self.cannot_reopen {
                return Some(Response::Error(why.clone()));
            }
        }
        let version = self.db.change_marker().ok()?;
        let changed = self.last_version.as_ref().is_some_and(|v| *v != version);
        self.last_version = Some(version);
        changed.then_some(Response::DataChanged)
    }
}

/// Keeps, of the requests waiting on a lane, only the newest of each kind
/// where only the last matters: a new window per pane, the details, the
/// counts, the purge plan.
fn coalesce(batch: Vec<Request>) -> Vec<Request> {
    let mut kept: Vec<Request> = Vec::new();
    for request in batch.into_iter().rev() {
        let superseded = kept.iter().any(|k| match (k, &request) {
            (
                Request::Page {
                    pane: a,
                    mode: PageMode::Replace,
                    ..
                },
                Request::Page { pane: b, .. },
            ) => a == b,
            (Request::Details { .. }, Request::Details { .. }) => true,
            (Request::PurgePlan { .. }, Request::PurgePlan { .. }) => true,
            (Request::Counts { .. }, Request::Counts { .. }) => true,
            (Request::Flags, Request::Flags) => true,
            _ => false,
        });
        if !superseded {
            kept.push(request);
        }
    }
    kept.reverse();
    kept
}

/// Where the UI thread sends requests: one channel per lane.
#[derive(Clone)]
pub struct Lanes {
    senders: Vec<(Lane, Sender<Request>)>,
}

impl Lanes {
    pub fn send(&self, request: Request) {
        let lane = request.lane();
        if let Some((_, tx)) = self.senders.iter().find(|(l, _)| *l == lane) {
            let _ = tx.send(request);
        }
    }
}

/// The access every lane opens with: the navigation connection's.
fn lane_access(config: &WorkerConfig) -> Access {
    if config.read_only {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    }
}

/// The navigation lane's worker: the connection the console opened first,
/// with that lane's page cache.
fn navigation(nav: &mut Option<Worker>) -> Worker {
    let mut worker = nav.take().expect("the navigation worker is used once");
    worker.set_cache_kib(Lane::Nav.cache_kib());
    worker
}

/// A worker for `lane` (not navigation's) on a connection of its own,
/// with the lane's page cache.
fn open_lane(lane: Lane, config: &WorkerConfig) -> Result<Worker> {
    let db = Db::open(&config.db_path, &OpenOptions::new(lane_access(config)))?;
    let mut worker = Worker::new(db, config.clone());
    worker.set_cache_kib(lane.cache_kib());
    Ok(worker)
}

/// A worker per lane, each with its own connection and page cache (the
/// given one serves navigation), in the order of [`Lane::ALL`].
pub fn lane_workers(nav: Worker) -> Result<Vec<(Lane, Worker)>> {
    let config = nav.config.clone();
    let mut nav = Some(nav);
    let mut workers = Vec::new();
    for lane in Lane::ALL {
        let worker = match lane {
            Lane::Nav => navigation(&mut nav),
            _ => open_lane(lane, &config)?,
        };
        workers.push((lane, worker));
    }
    Ok(workers)
}

/// Starts one thread per lane, each with its own connection (the given
/// one serves navigation); returns where to send requests. The other
/// lanes open their connections on their own threads, so the first page
/// is not kept waiting for them (on PostgreSQL each is a new session);
/// the lanes a key starts (slow reads, writes) open once the counts' lane
/// has, so the status line is not kept waiting either. A lane that cannot
/// open answers each of its requests with the error.
pub fn spawn(nav: Worker, events: Sender<super::Event>) -> Result<Lanes> {
    let config = nav.config.clone();
    let mut senders = Vec::new();
    let mut nav = Some(nav);
    // Dropped once the counts' lane has opened (or failed to).
    let mut counts_opened: Vec<Sender<()>> = Vec::new();
    let mut after_counts: Vec<Receiver<()>> = Vec::new();
    for _ in [Lane::Slow, Lane::Write] {
        let (tx, rx) = std::sync::mpsc::channel();
        counts_opened.push(tx);
        after_counts.push(rx);
    }
    let mut counts_opened = Some(counts_opened);
    for lane in Lane::ALL {
        let (tx, rx): (Sender<Request>, Receiver<Request>) = std::sync::mpsc::channel();
        senders.push((lane, tx));
        let events = events.clone();
        if lane == Lane::Nav {
            let mut worker = navigation(&mut nav);
            worker.events = Some(events.clone());
            let _ = worker.poll();
            thread::spawn(move || run_lane(worker, rx, events, true));
            continue;
        }
        let config = config.clone();
        let (signal, wait) = match lane {
            Lane::Counts => (counts_opened.take(), None),
            _ => (None, after_counts.pop()),
        };
        thread::spawn(move || {
            if let Some(wait) = wait {
                let _ = wait.recv();
            }
            let opened = open_lane(lane, &config);
            drop(signal);
            match opened {
                Ok(mut worker) => {
                    worker.events = Some(events.clone());
                    run_lane(worker, rx, events, false);
                }
                Err(e) => {
                    let said = one_line(&e);
                    while rx.recv().is_ok() {
                        let answer = Response::Error(said.clone());
                        if events.send(super::Event::Worker(Box::new(answer))).is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
    Ok(Lanes { senders })
}

fn run_lane(
    mut worker: Worker,
    rx: Receiver<Request>,
    events: Sender<super::Event>,
    watches: bool,
) {
    let send = |r: Response| {
        let _ = events.send(super::Event::Worker(Box::new(r)));
    };
    loop {
        match rx.recv_timeout(POLL_EVERY) {
            Ok(first) => {
                let mut batch = vec![first];
                while let Ok(more) = rx.try_recv() {
                    batch.push(more);
                }
                if watches {
                    send(Response::Busy(true));
                }
                for request in coalesce(batch) {
                    worker.handle(request, &mut |r| send(r));
                }
                if watches {
                    send(Response::Busy(false));
                    if let Some(changed) = worker.poll() {
                        send(changed);
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if watches && let Some(changed) = worker.poll() {
                    send(changed);
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
}
