//! The console's figures, end to end: the real lanes (threads, each with
//! its own connection) answering the real console state, every frame drawn
//! into a `TestBackend` of 120x40, keys fed as the terminal would. A key's
//! time runs from the key to the first frame that shows everything it
//! asked for. Peak memory is read from `/proc/self/status` (VmHWM) in a
//! child process running a whole session, so nothing else the bench did
//! counts.

use std::path::Path;
use std::process::Command;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use clap::Parser;
use modcon::cli::Cli;
use modcon::config::Config;
use modcon::config::Settings;
use modcon::tui::app::Pane;
use modcon::tui::app::{App, Focus, Overlay};
use modcon::tui::harness::key_event;
use modcon::tui::keymap::Keymap;
use modcon::tui::theme::TermEnv;
use modcon::tui::worker::{self, Lanes, Request, Response, Worker};
use modcon::tui::{Event, new_app, view, worker_config};
use modcon_core::db::Access;
use modcon_core::demo::{self, DemoOptions};
use modcon_core::model::parse_now;
use modcon_core::rules::Target;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

/// One line of the bench's table.
pub struct Figure {
    pub name: String,
    pub value: String,
    pub target: String,
    /// `None`: a figure without a target.
    pub met: Option<bool>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn timed(name: &str, took: Option<Duration>, target_ms: f64) -> Figure {
    match took {
        Some(d) => Figure {
            name: name.into(),
            value: format!("{:.1} ms", ms(d)),
            target: format!("≤ {target_ms:.0} ms"),
            met: Some(ms(d) <= target_ms),
        },
        None => Figure {
            name: name.into(),
            value: "never (timed out)".into(),
            target: format!("≤ {target_ms:.0} ms"),
            met: Some(false),
        },
    }
}

/// Set in the child process that runs the session whose memory is measured.
const SESSION_ENV: &str = "MODCON_BENCH_CONSOLE_SESSION";
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// How long any one wait may take before the figure is "never".
const PATIENCE: Duration = Duration::from_secs(120);

/// A console with its worker lanes on threads and a test terminal.
struct Live {
    app: App,
    lanes: Lanes,
    events: Receiver<Event>,
    terminal: Terminal<TestBackend>,
    /// Answers of the bench's own background requests are not the
    /// console's to see (a search or check would open its view).
    background: Background,
}

#[derive(Default)]
struct Background {
    /// Searches and checks sent and not yet answered.
    searches: usize,
    checks: usize,
    /// Searches and checks sent in all.
    sent: usize,
    /// Pages of posts the worker answered.
    post_pages: usize,
    /// Reloads the navigation lane asked for: another session committed
    /// (on PostgreSQL, in any database of the server).
    reloads: usize,
}

impl Background {
    fn out(&self) -> usize {
        self.searches + self.checks
    }
}

impl Live {
    /// Opens the console on `db` (a file or a URL), with `media` as its
    /// media root when given (a PostgreSQL database has no default one).
    fn open(db: &Path, now: &str, media: Option<&Path>) -> Live {
        let mut args = vec![
            "modcon",
            "--db",
            db.to_str().unwrap_or_default(),
            "--now",
            now,
            "--actor",
            "bench",
        ];
        if let Some(media) = media {
            args.extend(["--media-root", media.to_str().unwrap_or_default()]);
        }
        let cli = Cli::try_parse_from(args).expect("arguments");
        let settings = Settings::resolve_with(&cli.globals(), Config::default()).expect("settings");
        let db = settings.open(Access::ReadWrite, false).expect("open");
        let keymap = Keymap::with_overrides(&settings.config.keys).expect("keys");
        let config = worker_config(&settings, &db).expect("worker config");
        let (tx, events) = mpsc::channel();
        let lanes = worker::spawn(Worker::new(db, config), tx).expect("lanes");
        let mut app = new_app(
            &settings,
            false,
            keymap,
            Rect::new(0, 0, WIDTH, HEIGHT),
            TermEnv::standard(),
        );
        let terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
        let first = app.start();
        let mut live = Live {
            app,
            lanes,
            events,
            terminal,
            background: Background::default(),
        };
        live.send(first);
        live.draw();
        live
    }

    fn send(&self, requests: Vec<Request>) {
        for r in requests {
            self.lanes.send(r);
        }
    }

    fn draw(&mut self) {
        let app = &mut self.app;
        self.terminal
            .draw(|f| view::draw(f, app))
            .expect("draw into the test backend");
    }

    fn key(&mut self, key: &str) {
        let out = self.app.on_key(key_event(key));
        self.send(out);
        self.draw();
    }

    fn apply(&mut self, event: Event) {
        let out = match event {
            Event::Worker(r) => match *r {
                r @ Response::Page {
                    pane: Pane::Posts, ..
                } => {
                    self.background.post_pages += 1;
                    self.app.on_response(r)
                }
                r @ Response::DataChanged => {
                    self.background.reloads += 1;
                    self.app.on_response(r)
                }
                Response::Search { .. } if self.background.searches > 0 => {
                    self.background.searches -= 1;
                    Vec::new()
                }
                Response::Check(_) if self.background.checks > 0 => {
                    self.background.checks -= 1;
                    Vec::new()
                }
                r => self.app.on_response(r),
            },
            Event::Terminal(e) => self.app.on_terminal(e),
        };
        self.send(out);
    }

    /// Handles answers as the console's loop does (all that are waiting,
    /// then one frame) until a frame shows what `done` wants; the time
    /// from `since` to that frame.
    fn until(&mut self, since: Instant, done: impl Fn(&App) -> bool) -> Option<Duration> {
        self.until_with(since, done, &mut |_| {})
    }

    /// [`Live::until`], calling `between` after each frame (to keep
    /// background work going).
    fn until_with(
        &mut self,
        since: Instant,
        done: impl Fn(&App) -> bool,
        between: &mut dyn FnMut(&mut Live),
    ) -> Option<Duration> {
        if done(&self.app) {
            return Some(since.elapsed());
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let first = match self.events.recv_timeout(left) {
                Ok(e) => e,
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => return None,
            };
            self.apply(first);
            while let Ok(more) = self.events.try_recv() {
                self.apply(more);
            }
            self.draw();
            if done(&self.app) {
                return Some(since.elapsed());
            }
            between(self);
        }
    }

    /// Lets whatever is in flight finish.
    fn settle(&mut self) {
        let _ = self.until(Instant::now(), settled);
    }
}

fn rows_shown(app: &App) -> bool {
    !app.threads.rows.is_empty()
}

fn counted(app: &App) -> bool {
    app.counts.counts.is_some() && app.counts.have == Some(app.counts.wanted)
}

/// A pane shows the rows of its parent (and is not waiting for them).
fn pane_ready(app: &App, pane: Pane, parent: Option<String>) -> bool {
    let p = app.pane(pane);
    match parent {
        None => p.parent.is_none() || !p.loading,
        Some(parent) => p.parent.as_deref() == Some(parent.as_str()) && !p.loading,
    }
}

/// The frame a move on the threads pane asks for: the selected thread's
/// posts, the first post's attachments, the thread's details.
fn move_shown(app: &App) -> bool {
    let Some(thread) = app.threads.selected() else {
        return false;
    };
    let target = Target::new(thread.kind, thread.id.clone());
    pane_ready(app, Pane::Posts, Some(thread.id.clone()))
        && pane_ready(app, Pane::Attachments, app.posts.selected_id())
        && app.details.target.as_ref() == Some(&target)
        && app.details.facts.is_some()
}

/// The last thread selected, its children and details shown.
fn at_end(app: &App) -> bool {
    let t = &app.threads;
    !t.loading
        && t.total
            .is_some_and(|n| n > 0 && t.above + t.state.selected().unwrap_or(0) + 1 == n)
        && move_shown(app)
}

fn settled(app: &App) -> bool {
    counted(app)
        && !app.threads.loading
        && !app.posts.loading
        && !app.attachments.loading
        && (app.details.target.is_none() || app.details.facts.is_some())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Keys `j` on the threads pane, each waited for; meanwhile the counts
/// lane counts and the slow lane searches and checks, one after another.
fn moves_under_load(live: &mut Live, keys: usize) -> Vec<Duration> {
    live.app.focus = Focus::Threads;
    let mut times = Vec::with_capacity(keys);
    for _ in 0..keys {
        keep_busy(live);
        let started = Instant::now();
        live.key("j");
        let took = live
            .until_with(started, move_shown, &mut keep_busy)
            .unwrap_or(PATIENCE);
        times.push(took);
    }
    times
}

/// A held `j`: a key every 33 ms (a terminal's key repeat) for 3 s, the
/// console answering as it can meanwhile. The time from the last key to
/// its full frame, and the pages of posts the worker read per key (below
/// one when requests made stale by later keys are dropped unread).
fn held_key(live: &mut Live) -> (Option<Duration>, f64) {
    live.app.focus = Focus::Threads;
    let keys = 90;
    let pages_before = live.background.post_pages;
    let mut next = Instant::now();
    let mut last = next;
    for pressed in 1..=keys {
        last = Instant::now();
        live.key("j");
        if pressed == keys {
            break;
        }
        next += Duration::from_millis(33);
        while let Some(left) = next.checked_duration_since(Instant::now()) {
            match live.events.recv_timeout(left) {
                Ok(e) => {
                    live.apply(e);
                    while let Ok(more) = live.events.try_recv() {
                        live.apply(more);
                    }
                    live.draw();
                }
                Err(_) => break,
            }
        }
    }
    let took = live.until(last, move_shown);
    let pages = live.background.post_pages - pages_before;
    (took, pages as f64 / keys as f64)
}

/// Keeps the counts lane counting and the slow lane searching or checking.
fn keep_busy(live: &mut Live) {
    if live.app.counts.asked.is_none() {
        // As if the data had changed: count again.
        let generation = live.app.counts.wanted;
        live.app.counts.asked = Some(generation);
        live.lanes.send(Request::Counts { generation });
    }
    if live.background.out() == 0 {
        let n = live.background.sent;
        if n.is_multiple_of(2) {
            live.background.searches += 1;
            live.lanes.send(Request::Search {
                needle: ["leaf", "root", "water", "zz"][n / 2 % 4].into(),
            });
        } else {
            live.background.checks += 1;
            live.lanes.send(Request::Check);
        }
        live.background.sent += 1;
    }
}

/// The console's figures on the database at `db` (a large demo): its
/// keys' figures, then the memory of the same session on it and on a small
/// demo made here, for the ratio.
pub fn figures(db: &Path, now: &str) -> Vec<Figure> {
    let mut out = key_figures(db, None, now, "console");
    out.extend(memory_figures(db, now));
    out
}

/// The figures of the console's keys on the database at `db` (a SQLite
/// file or a PostgreSQL URL, with its media root), each named after `label`: the first frame,
/// the status line, moves under load, a held key, `G`.
pub fn key_figures(db: &Path, media: Option<&Path>, now: &str, label: &str) -> Vec<Figure> {
    let mut out = Vec::new();
    let started = Instant::now();
    let mut live = Live::open(db, now, media);
    let first = live.until(started, rows_shown);
    out.push(timed(
        &format!("{label}: first frame with rows"),
        first,
        100.0,
    ));
    // The counts of the data as it was at start. Another session's commit
    // meanwhile asks for them again (on PostgreSQL a commit in any database
    // of the server does, and on a shared server that is often): said
    // beside the figure, not waited for.
    let at_start = live.app.counts.wanted;
    let counts = live.until(started, |app| {
        app.counts.counts.is_some() && app.counts.have.is_some_and(|have| have >= at_start)
    });
    let mut status = timed(
        &format!("{label}: status line with every count, after start"),
        counts,
        200.0,
    );
    if live.background.reloads > 0 {
        status.value += &format!(
            " ({} reloads for other sessions' commits meanwhile)",
            live.background.reloads
        );
    }
    out.push(status);
    live.settle();

    let keys = 1000;
    let mut times = moves_under_load(&mut live, keys);
    let jobs = live.background.sent;
    times.sort();
    let p99 = percentile(&times, 0.99);
    out.push(Figure {
        name: format!(
            "{label}: move to the next thread's full frame, p99 of {keys} \
             (counts, {jobs} searches and checks running)"
        ),
        value: format!(
            "{:.1} ms (median {:.1}, worst {:.1})",
            ms(p99),
            ms(percentile(&times, 0.5)),
            ms(*times.last().unwrap_or(&Duration::ZERO)),
        ),
        target: "≤ 50 ms".into(),
        met: Some(ms(p99) <= 50.0),
    });
    // Let the background work end before the next figures.
    while live.background.out() > 0 {
        match live.events.recv_timeout(PATIENCE) {
            Ok(e) => live.apply(e),
            Err(_) => break,
        }
    }
    live.settle();

    let (held, per_key) = held_key(&mut live);
    out.push(Figure {
        name: format!("{label}: j held (30 keys/s for 3 s), last key to its full frame"),
        value: match held {
            Some(d) => format!("{:.1} ms ({per_key:.2} pages read per key)", ms(d)),
            None => "never (timed out)".into(),
        },
        target: "≤ 50 ms".into(),
        met: Some(held.is_some_and(|d| ms(d) <= 50.0)),
    });
    live.settle();

    live.app.focus = Focus::Threads;
    let started = Instant::now();
    live.key("G");
    let g = live.until(started, at_end);
    out.push(timed(
        &format!("{label}: G to the last thread's full frame"),
        g,
        50.0,
    ));
    let kept = live.app.threads.rows.len();
    let total = live.app.threads.total.unwrap_or(0);
    out.push(Figure {
        name: format!("{label}: rows held after G"),
        value: format!("{kept} of {total}"),
        target: format!("≤ {} (one page)", worker::PAGE),
        met: Some(kept <= worker::PAGE),
    });
    out.push(Figure {
        name: format!(
            "{label}: reloads for other sessions' commits during these figures \
             (counts and pages read again)"
        ),
        value: live.background.reloads.to_string(),
        target: String::new(),
        met: None,
    });
    drop(live);
    out
}

/// The peak memory of a session on the database at `db`, and against a
/// session on a small demo made here.
fn memory_figures(db: &Path, now: &str) -> Vec<Figure> {
    let mut out = Vec::new();
    let big = session_peak(db, now);
    let small_dir = tempfile::tempdir().expect("temp dir");
    let small_db = small_dir.path().join("small.sqlite3");
    demo::generate(&DemoOptions {
        out: small_db.clone(),
        threads: demo::DEFAULT_THREADS,
        seed: 42,
        force: false,
        now: parse_now(now).expect("time"),
        media: None,
    })
    .expect("small demo");
    let small = session_peak(&small_db, now);
    let mib = |kb: u64| kb as f64 / 1024.0;
    out.push(match big {
        Some(kb) => Figure {
            name: "console: peak memory of a session (open, counts, G, search, purge plan)".into(),
            value: format!("{:.1} MiB", mib(kb)),
            target: "≤ 64 MiB".into(),
            met: Some(mib(kb) <= 64.0),
        },
        None => Figure {
            name: "console: peak memory of a session".into(),
            value: "not measured (the session failed)".into(),
            target: "≤ 64 MiB".into(),
            met: Some(false),
        },
    });
    if let (Some(big), Some(small)) = (big, small) {
        let ratio = big as f64 / small as f64;
        out.push(Figure {
            name: format!(
                "console: that, against the small demo's {:.1} MiB",
                mib(small)
            ),
            value: format!("{ratio:.2}×"),
            target: "≤ 3×".into(),
            met: Some(ratio <= 3.0),
        });
    }
    out
}

/// Runs [`session`] in a child process (this bench binary again) and
/// returns its peak resident memory in KiB.
fn session_peak(db: &Path, now: &str) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let output = Command::new(exe)
        .env(SESSION_ENV, db)
        .env("MODCON_BENCH_NOW", now)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let peak = text
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM_kB "))
        .and_then(|v| v.trim().parse().ok());
    if peak.is_none() {
        eprintln!(
            "console session failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    peak
}

/// In the child process: runs the session and prints its peak memory,
/// then exits. Does nothing in any other process. Call it first in main.
pub fn session_if_asked() {
    let Some(db) = std::env::var_os(SESSION_ENV) else {
        return;
    };
    let now = std::env::var("MODCON_BENCH_NOW").unwrap_or_default();
    session(Path::new(&db), &now);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    println!("VmHWM_kB {peak}");
    std::process::exit(0);
}

/// A moderator's session: open, the counts, `G`, a search, the purge
/// plan, each waited for.
fn session(db: &Path, now: &str) {
    let mut live = Live::open(db, now, None);
    live.settle();
    live.key("G");
    let _ = live.until(Instant::now(), at_end);
    live.key("/");
    for c in "leaf".chars() {
        live.key(&c.to_string());
    }
    live.key("Enter");
    let _ = live.until(Instant::now(), |app| {
        matches!(app.overlay, Some(Overlay::Results(_)))
    });
    live.key("Esc");
    live.key("P");
    let _ = live.until(
        Instant::now(),
        |app| matches!(&app.overlay, Some(Overlay::Purge(d)) if d.plan.is_some()),
    );
    live.key("Esc");
    live.settle();
}
