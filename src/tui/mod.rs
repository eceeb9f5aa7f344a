//! The console: a ratatui front end over the same core as the command
//! line. Data flows one way: key → action (keymap) → update (state) →
//! worker or executor (core) → response → state → view.
//!
//! - `app`: the state; `keymap`: keys as data; `update`: events to state
//!   changes and requests; `view`: drawing;
//! - `worker`: a thread with its own connection answering requests;
//!   `executor`: the one place mutations run;
//! - `terminal`: raw mode and its restoration; `theme`: colours, markers.

pub mod ansi;
pub mod app;
pub mod executor;
pub mod keymap;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod view;
pub mod worker;

use std::io::Write;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};
use ratatui::crossterm::event::{self, Event as TermEvent};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::layout::Rect;

use crate::config::Settings;
use app::{App, CountsState, DetailsPane, Focus, ListPane, Pane};
use keymap::Keymap;
use modcon_core::db::Db;
use modcon_core::model::utc_now;
use theme::{TermEnv, Theme};
use worker::{Lanes, Request, Response, Worker, WorkerConfig};

/// Everything the main loop waits for, on one channel.
#[derive(Debug)]
pub enum Event {
    Terminal(TermEvent),
    /// Boxed: answers can be large, keys are small.
    Worker(Box<Response>),
}

/// A fresh console state.
pub fn new_app(
    settings: &Settings,
    read_only: bool,
    keymap: Keymap,
    area: Rect,
    env: TermEnv,
) -> App {
    let location = settings.db.display().to_string();
    App {
        db_label: modcon_core::sql::short_location(&location),
        // A server is named as on the status line (host/dbname): a URL
        // would show the user name.
        db_path: if modcon_core::sql::is_postgres_url(&location) {
            modcon_core::sql::short_location(&location)
        } else {
            location.clone()
        },
        read_only,
        snapshot: false,
        actor: settings.actor.clone(),
        threads: ListPane::default(),
        posts: ListPane::default(),
        attachments: ListPane::default(),
        details: DetailsPane::default(),
        focus: Focus::Threads,
        subject: Pane::Threads,
        overlay: None,
        message: Some(app::Message {
            text: format!(
                "acting as {} — {} shows every key",
                settings.actor,
                keymap.key(keymap::Layer::List, keymap::Action::Help)
            ),
            level: app::Level::Info,
            at: settings.now,
        }),
        messages: Vec::new(),
        counts: CountsState::default(),
        search: None,
        waiting_since: None,
        keymap,
        theme: Theme::new(env, settings.config.theme.as_deref(), settings.ascii),
        now: settings.now,
        now_fixed: settings.now_fixed,
        retention_days: settings.retention_days,
        batch_size: settings.batch_size,
        mouse: settings.mouse,
        area,
        quit: false,
        clear: false,
        quit_after_purge: false,
        window: app::WINDOW,
    }
}

pub fn worker_config(settings: &Settings, db: &Db) -> Result<WorkerConfig> {
    Ok(WorkerConfig {
        db_path: settings.db.clone(),
        read_only: db.is_read_only(),
        media_root: settings.media()?,
        actor: settings.actor.clone(),
        os_account: settings.os_account.clone(),
        client_addr: settings.client_addr.clone(),
        fixed_now: settings.now_fixed.then_some(settings.now),
        retention_days: settings.retention_days,
    })
}

/// Opens the console on `db` and runs it until the user quits.
pub fn run(settings: Settings, keymap: Keymap, db: Db) -> Result<()> {
    let config = worker_config(&settings, &db)?;
    let read_only = db.is_read_only();
    let snapshot = db.is_snapshot();
    let (events_tx, events_rx) = mpsc::channel();
    let requests = worker::spawn(Worker::new(db, config), events_tx.clone())?;
    spawn_input(events_tx);

    let mut terminal = terminal::enter(settings.mouse).context("cannot set up the terminal")?;
    let _guard = terminal::Guard;
    let size = terminal.size()?;
    let mut app = new_app(
        &settings,
        read_only,
        keymap,
        Rect::new(0, 0, size.width, size.height),
        TermEnv::from_process(),
    );
    app.snapshot = snapshot;
    send(&requests, app.start());
    event_loop(&mut terminal, &mut app, &events_rx, &requests)
}

fn send(lanes: &Lanes, batch: Vec<Request>) {
    for request in batch {
        lanes.send(request);
    }
}

/// Reads the terminal on its own thread, so the main loop waits on one
/// channel for keys and answers alike.
fn spawn_input(events: Sender<Event>) {
    thread::spawn(move || {
        while let Ok(event) = event::read() {
            if events.send(Event::Terminal(event)).is_err() {
                break;
            }
        }
    });
}

fn event_loop(
    terminal: &mut terminal::Term,
    app: &mut App,
    events: &Receiver<Event>,
    requests: &Lanes,
) -> Result<()> {
    let mut dirty = true;
    loop {
        if dirty {
            if !app.now_fixed {
                app.now = utc_now();
            }
            if std::mem::take(&mut app.clear) {
                terminal.clear()?;
            }
            // One frame per batch of events, as one synchronized update.
            let mut out = std::io::stdout();
            let _ = execute!(out, BeginSynchronizedUpdate);
            terminal.draw(|frame| view::draw(frame, app))?;
            let _ = execute!(out, EndSynchronizedUpdate);
            let _ = out.flush();
        }
        if app.quit {
            return Ok(());
        }
        // A tick now and then redraws "waiting…" and the ages.
        let first = match events.recv_timeout(Duration::from_millis(500)) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => {
                dirty = app.waiting_since.is_some() || !app.now_fixed;
                if dirty && !app.now_fixed {
                    app.now = utc_now();
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let mut batch = vec![first];
        while let Ok(more) = events.try_recv() {
            batch.push(more);
        }
        for event in batch {
            let out = match event {
                Event::Terminal(e) => app.on_terminal(e),
                Event::Worker(r) => app.on_response(*r),
            };
            send(requests, out);
        }
        dirty = true;
    }
}

/// The console without threads or a terminal, for tests: requests are
/// answered at once by a worker on the caller's thread, and frames drawn
/// into ratatui's `TestBackend`. Built with the `test-hooks` feature only.
#[cfg(feature = "test-hooks")]
pub mod harness {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};

    use super::*;
    use worker::Lane;

    pub struct Harness {
        pub app: App,
        /// The navigation lane's worker (every lane's, unless the harness
        /// was made `with_lanes`).
        pub worker: Worker,
        /// The other lanes' workers, each with its own connection, when
        /// made `with_lanes`.
        pub lanes: Vec<(Lane, Worker)>,
        pub terminal: Terminal<TestBackend>,
        /// The whole last frame, as drawn (not the backend's diffed copy).
        pub frame: ratatui::buffer::Buffer,
    }

    impl Harness {
        /// A console on a UTF-8 terminal with colour, whatever the test
        /// process's own locale is.
        pub fn new(settings: &Settings, db: Db, width: u16, height: u16) -> Result<Harness> {
            Harness::with_env(settings, db, width, height, TermEnv::standard())
        }

        pub fn with_env(
            settings: &Settings,
            db: Db,
            width: u16,
            height: u16,
            env: TermEnv,
        ) -> Result<Harness> {
            Harness::build(settings, db, width, height, env, false)
        }

        fn build(
            settings: &Settings,
            db: Db,
            width: u16,
            height: u16,
            env: TermEnv,
            per_lane: bool,
        ) -> Result<Harness> {
            let keymap = Keymap::with_overrides(&settings.config.keys)?;
            let config = worker_config(settings, &db)?;
            let read_only = db.is_read_only();
            let snapshot = db.is_snapshot();
            let mut worker = Worker::new(db, config);
            let mut lanes = Vec::new();
            if per_lane {
                lanes = worker::lane_workers(worker)?;
                let (nav, first) = lanes.remove(0);
                assert_eq!(nav, Lane::Nav, "the navigation lane comes first");
                worker = first;
            }
            let _ = worker.poll();
            let app = new_app(
                settings,
                read_only,
                keymap,
                Rect::new(0, 0, width, height),
                env,
            );
            let terminal = Terminal::new(TestBackend::new(width, height))?;
            let frame = ratatui::buffer::Buffer::empty(Rect::new(0, 0, width, height));
            let mut h = Harness {
                app,
                worker,
                lanes,
                terminal,
                frame,
            };
            h.app.snapshot = snapshot;
            let first = h.app.start();
            h.answer(first);
            h.draw();
            Ok(h)
        }

        /// The console as it runs: a worker with a connection of its own
        /// per lane (opened as the console opens them), each answering the
        /// requests of its lane.
        pub fn with_lanes(settings: &Settings, db: Db, width: u16, height: u16) -> Result<Harness> {
            Harness::build(settings, db, width, height, TermEnv::standard(), true)
        }

        /// The live refresh's tick: the navigation lane looks for another
        /// process's commits (or files changed under it) and, when there
        /// were, the console reloads what it shows.
        pub fn tick(&mut self) {
            if let Some(response) = self.worker.poll() {
                let out = self.app.on_response(response);
                self.answer(out);
            }
            self.draw();
        }

        /// Answers requests until none are left.
        pub fn answer(&mut self, mut pending: Vec<Request>) {
            while !pending.is_empty() {
                let request = pending.remove(0);
                let mut responses = Vec::new();
                let lane = request.lane();
                let worker = match self.lanes.iter_mut().find(|(l, _)| *l == lane) {
                    Some((_, worker)) => worker,
                    None => &mut self.worker,
                };
                worker.handle(request, &mut |r| responses.push(r));
                for r in responses {
                    pending.extend(self.app.on_response(r));
                }
            }
        }

        pub fn draw(&mut self) {
            let app = &mut self.app;
            let done = self
                .terminal
                .draw(|f| view::draw(f, app))
                .expect("draw into the test backend");
            self.frame = done.buffer.clone();
        }

        /// Presses keys: "j", "d", "y", "P", "Enter", "Esc", "Tab", "Ctrl-l"...
        pub fn keys(&mut self, keys: &[&str]) {
            for key in keys {
                let event = key_event(key);
                let out = self.app.on_key(event);
                self.answer(out);
                self.draw();
            }
        }

        /// Types text into the open input.
        pub fn type_text(&mut self, text: &str) {
            for c in text.chars() {
                let out = self.app.on_key(press(KeyCode::Char(c), KeyModifiers::NONE));
                self.answer(out);
            }
            self.draw();
        }

        /// A mouse event at a cell (needs `--mouse`).
        pub fn mouse(
            &mut self,
            kind: ratatui::crossterm::event::MouseEventKind,
            column: u16,
            row: u16,
        ) {
            let event = ratatui::crossterm::event::MouseEvent {
                kind,
                column,
                row,
                modifiers: KeyModifiers::NONE,
            };
            let out = self.app.on_terminal(TermEvent::Mouse(event));
            self.answer(out);
            self.draw();
        }

        /// As if another process had committed.
        pub fn data_changed(&mut self) {
            let out = self.app.on_response(Response::DataChanged);
            self.answer(out);
            self.draw();
        }

        pub fn resize(&mut self, width: u16, height: u16) {
            self.terminal.backend_mut().resize(width, height);
            let out = self.app.on_terminal(TermEvent::Resize(width, height));
            self.answer(out);
            self.draw();
        }

        /// The screen as lines of text.
        pub fn screen(&self) -> String {
            let buffer = &self.frame;
            let mut lines = Vec::new();
            for y in 0..buffer.area.height {
                let mut line = String::new();
                let mut skip = 0;
                for x in 0..buffer.area.width {
                    // A wide character covers the next cell too.
                    if skip > 0 {
                        skip -= 1;
                        continue;
                    }
                    let symbol = buffer[(x, y)].symbol();
                    skip = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
                    line.push_str(symbol);
                }
                lines.push(line.trim_end().to_string());
            }
            lines.join("\n")
        }
    }

    pub fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    pub fn key_event(key: &str) -> KeyEvent {
        let (code, mods) = match key {
            "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
            "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
            "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
            "BackTab" => (KeyCode::BackTab, KeyModifiers::SHIFT),
            "Up" => (KeyCode::Up, KeyModifiers::NONE),
            "Down" => (KeyCode::Down, KeyModifiers::NONE),
            "Left" => (KeyCode::Left, KeyModifiers::NONE),
            "Right" => (KeyCode::Right, KeyModifiers::NONE),
            "PgDn" => (KeyCode::PageDown, KeyModifiers::NONE),
            "PgUp" => (KeyCode::PageUp, KeyModifiers::NONE),
            "Backspace" => (KeyCode::Backspace, KeyModifiers::NONE),
            k if k.starts_with("Ctrl-") => (
                KeyCode::Char(k[5..].chars().next().unwrap_or(' ')),
                KeyModifiers::CONTROL,
            ),
            k => (
                KeyCode::Char(k.chars().next().unwrap_or(' ')),
                KeyModifiers::NONE,
            ),
        };
        press(code, mods)
    }
}
