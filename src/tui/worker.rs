//! The worker: a thread owning its own database connection. The UI thread
//! sends requests and never waits; answers come back as messages. A purge
//! gets a thread and a connection of its own, so lists keep loading while
//! it runs.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDateTime;

use super::executor::{self, Executed, Op};
use crate::cli::output::one_line;
use crate::core::audit::{self, LogEntry, Tally};
use crate::core::check::{self, CheckReport};
use crate::core::db::Db;
use crate::core::media::MediaRoot;
use crate::core::model::{Kind, utc_now};
use crate::core::purge::{Progress, PurgeReport};
use crate::core::query::{self, Counts, Hit, ListQuery, Row};
use crate::core::rules::Target;
use crate::core::{Ctx, cutoff};
use crate::display::sanitize_text;

/// How often the worker asks SQLite whether another process committed.
pub const POLL_EVERY: Duration = Duration::from_millis(400);
/// Rows per keyset page.
pub const PAGE: usize = 200;

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
}

#[derive(Debug, Clone)]
pub enum Request {
    /// A page of a pane. `generation` ties the answer to the pane's
    /// contents when asked; `append` adds to the rows already there.
    Page {
        pane: Pane,
        generation: u64,
        query: ListQuery,
        append: bool,
    },
    PostText {
        generation: u64,
        post_id: String,
    },
    Counts,
    Preview {
        op: Op,
    },
    Execute {
        op: Op,
        expected: Option<Tally>,
    },
    PurgePlan {
        retention_days: i64,
        batch_size: usize,
    },
    StartPurge {
        retention_days: i64,
        batch_size: usize,
        cancel: Arc<AtomicBool>,
    },
    Check,
    Log,
    Search {
        needle: String,
    },
    /// Where a row lives: its thread (and post), to jump to it.
    Locate {
        target: Target,
    },
}

/// Where a row lives in the panes.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub thread: Row,
    pub post: Option<Row>,
    pub attachment: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Response {
    Page {
        pane: Pane,
        generation: u64,
        rows: Vec<Row>,
        exhausted: bool,
        append: bool,
    },
    PostText {
        generation: u64,
        post_id: String,
        text: Option<String>,
    },
    Counts(Counts),
    Preview {
        op: Op,
        result: Result<Tally, String>,
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
    Search {
        needle: String,
        result: Result<Vec<Hit>, String>,
    },
    Located(Result<Box<Location>, String>),
    /// Another process committed: reload what is on screen.
    DataChanged,
    /// The worker started (true) or finished (false) a batch of requests.
    Busy(bool),
    /// A request failed in a way no other answer carries.
    Error(String),
}

/// What the worker needs to know besides its connection.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub db_path: PathBuf,
    pub read_only: bool,
    pub media_root: Option<MediaRoot>,
    pub actor: String,
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
            client_addr: self.client_addr.clone(),
            retention_days,
        }
    }
}

pub struct Worker {
    db: Db,
    config: WorkerConfig,
    last_version: Option<i64>,
    /// Where a purge thread sends its messages; `None` runs purges inline
    /// (the tests' synchronous mode).
    events: Option<Sender<super::Event>>,
}

fn err<T>(result: Result<T>) -> Result<T, String> {
    result.map_err(|e| one_line(&e))
}

impl Worker {
    pub fn new(db: Db, config: WorkerConfig) -> Worker {
        Worker {
            db,
            config,
            last_version: None,
            events: None,
        }
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    fn cutoff(&self) -> String {
        cutoff(self.config.now(), self.config.retention_days)
    }

    /// Answers one request. `out` receives every response, in order.
    pub fn handle(&mut self, request: Request, out: &mut dyn FnMut(Response)) {
        match request {
            Request::Page {
                pane,
                generation,
                query,
                append,
            } => {
                let limit = query.limit;
                let schema = self.db.schema().clone();
                match query::list(self.db.conn(), &schema, &query, &self.cutoff()) {
                    Ok(rows) => {
                        let exhausted = rows.len() < limit;
                        out(Response::Page {
                            pane,
                            generation,
                            rows,
                            exhausted,
                            append,
                        })
                    }
                    Err(e) => out(Response::Error(one_line(&e))),
                }
            }
            Request::PostText {
                generation,
                post_id,
            } => match query::post_text(self.db.conn(), &post_id) {
                Ok(text) => out(Response::PostText {
                    generation,
                    post_id,
                    text: text.map(|t| sanitize_text(&t)),
                }),
                Err(e) => out(Response::Error(one_line(&e))),
            },
            Request::Counts => match query::counts(self.db.conn(), &self.cutoff()) {
                Ok(counts) => out(Response::Counts(counts)),
                Err(e) => out(Response::Error(one_line(&e))),
            },
            Request::Preview { op } => {
                let result = err(executor::preview(&self.db, &op));
                out(Response::Preview { op, result });
            }
            Request::Execute { op, expected } => {
                let ctx = self.config.ctx(self.config.retention_days);
                let result = err(executor::execute(&mut self.db, &ctx, &op, expected));
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
            } => {
                let config = self.config.clone();
                let run = move |send: &mut dyn FnMut(Response)| {
                    let ctx = config.ctx(retention_days);
                    let result = executor::purge(
                        &config.db_path,
                        config.read_only,
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
                let report = check::run(&mut self.db, &ctx, media.as_ref());
                out(Response::Check(err(report).map(Box::new)));
            }
            Request::Log => out(Response::Log(err(audit::list(self.db.conn(), 500)))),
            Request::Search { needle } => {
                let schema = self.db.schema().clone();
                let result = err(query::search(self.db.conn(), &schema, &needle, 500));
                out(Response::Search { needle, result });
            }
            Request::Locate { target } => {
                out(Response::Located(err(self.locate(&target)).map(Box::new)))
            }
        }
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
                (Some(get(Kind::Post, &post_id)?), Some(att.id))
            }
        };
        let thread_id = match &post {
            Some(p) => p.parent_id.clone().unwrap_or_default(),
            None => target.id.clone(),
        };
        Ok(Location {
            thread: get(Kind::Thread, &thread_id)?,
            post,
            attachment,
        })
    }

    /// Has another connection committed since the last look?
    pub fn poll(&mut self) -> Option<Response> {
        let version = self.db.data_version().ok()?;
        let changed = self.last_version.is_some_and(|v| v != version);
        self.last_version = Some(version);
        changed.then_some(Response::DataChanged)
    }
}

/// Keeps, of the requests waiting, only the newest page per pane and the
/// newest post text: scrolling fast asks for many, only the last matters.
fn coalesce(batch: Vec<Request>) -> Vec<Request> {
    let mut kept: Vec<Request> = Vec::new();
    for request in batch.into_iter().rev() {
        let superseded = kept.iter().any(|k| match (k, &request) {
            (
                Request::Page {
                    pane: a,
                    append: false,
                    ..
                },
                Request::Page { pane: b, .. },
            ) => a == b,
            (Request::PostText { .. }, Request::PostText { .. }) => true,
            (Request::PurgePlan { .. }, Request::PurgePlan { .. }) => true,
            (Request::Counts, Request::Counts) => true,
            _ => false,
        });
        if !superseded {
            kept.push(request);
        }
    }
    kept.reverse();
    kept
}

/// Starts the worker thread; returns where to send requests.
pub fn spawn(mut worker: Worker, events: Sender<super::Event>) -> Sender<Request> {
    let (tx, rx): (Sender<Request>, Receiver<Request>) = std::sync::mpsc::channel();
    worker.events = Some(events.clone());
    let _ = worker.poll();
    thread::spawn(move || {
        loop {
            match rx.recv_timeout(POLL_EVERY) {
                Ok(first) => {
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    let _ = events.send(super::Event::Worker(Box::new(Response::Busy(true))));
                    for request in coalesce(batch) {
                        worker.handle(request, &mut |r| {
                            let _ = events.send(super::Event::Worker(Box::new(r)));
                        });
                    }
                    let _ = events.send(super::Event::Worker(Box::new(Response::Busy(false))));
                    if let Some(changed) = worker.poll() {
                        let _ = events.send(super::Event::Worker(Box::new(changed)));
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(changed) = worker.poll() {
                        let _ = events.send(super::Event::Worker(Box::new(changed)));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    });
    tx
}
