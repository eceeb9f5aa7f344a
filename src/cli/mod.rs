//! The command line: parse, work out the settings, open the database the
//! way the command needs, call the core, print. One module per command.

mod check;
mod demo;
mod list;
mod log;
mod migrate;
mod moderate;
pub mod output;
mod purge;
mod settings;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::core::db::{Access, Db};
use crate::core::model::Kind;
pub use settings::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "modcon",
    version,
    about = "A terminal moderation console for Django-style forum databases in SQLite",
    long_about = "A terminal moderation console for Django-style forum databases in SQLite.\n\
                  With no command it opens the console; without --db it uses a demo database."
)]
pub struct Cli {
    /// The forum database (default: MODCON_DB, the config file, then the demo database)
    #[arg(long, env = "MODCON_DB", global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// The folder attachment paths are relative to (default: `media` beside the database)
    #[arg(long, env = "MODCON_MEDIA_ROOT", global = true, value_name = "DIR")]
    pub media_root: Option<PathBuf>,
    /// Open the database read-only at the SQLite level; changing anything is refused
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Who is acting, for the audit log (default: MODCON_ACTOR, SUDO_USER, USER)
    #[arg(long, env = "MODCON_ACTOR", global = true, value_name = "NAME")]
    pub actor: Option<String>,
    /// Fix the clock, e.g. "2026-11-26 11:00:08" (UTC), for reproducible runs
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,
    /// In the console, turn on wheel scrolling and click-to-select
    #[arg(long, global = true)]
    pub mouse: bool,
    /// In the console, draw with ASCII only (the default when the locale is not UTF-8)
    #[arg(long, global = true)]
    pub ascii: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Thread,
    Post,
    Attachment,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Kind {
        match k {
            KindArg::Thread => Kind::Thread,
            KindArg::Post => Kind::Post,
            KindArg::Attachment => Kind::Attachment,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindsArg {
    Threads,
    Posts,
    Attachments,
}

impl From<KindsArg> for Kind {
    fn from(k: KindsArg) -> Kind {
        match k {
            KindsArg::Threads => Kind::Thread,
            KindsArg::Posts => Kind::Post,
            KindsArg::Attachments => Kind::Attachment,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StateArg {
    Active,
    Deleted,
    All,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a deterministic demo database and its media folder
    Demo {
        /// Where to write the database (its media folder goes beside it)
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// How many ordinary threads (about 50 attachments each)
        #[arg(long, default_value_t = crate::core::demo::DEFAULT_THREADS)]
        threads: usize,
        #[arg(long, default_value_t = crate::core::demo::DEFAULT_SEED)]
        seed: u64,
        /// Replace an existing demo database
        #[arg(long)]
        force: bool,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Counts per kind and state, purgeable rows, violations
    Stats {
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// List threads, posts or attachments
    List {
        kind: KindsArg,
        /// Posts of this thread; attachments of this thread's posts
        #[arg(long, value_name = "ID")]
        thread: Option<String>,
        /// Attachments of this post
        #[arg(long, value_name = "ID")]
        post: Option<String>,
        #[arg(long, value_enum, default_value = "all")]
        state: StateArg,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Soft-delete a row and its active descendants
    Delete {
        kind: KindArg,
        id: String,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Restore a row and exactly what its latest delete changed
    Restore {
        kind: KindArg,
        id: String,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Revert your latest action
    Undo {
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Hard-delete rows deleted longer ago than the retention, and their files
    Purge {
        /// Retention in days (default: the config file's retention_days, else 30)
        #[arg(long, value_name = "DAYS")]
        older_than: Option<i64>,
        /// Root rows per transaction (default: the config file's batch_size, else 100)
        #[arg(long, value_name = "N")]
        batch_size: Option<usize>,
        /// Show the plan; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Remove rows but leave their files on disk
        #[arg(long)]
        keep_files: bool,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Report what breaks the rules; --fix soft-deletes active rows under deleted parents
    Check {
        #[arg(long)]
        fix: bool,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// The audit log, newest first
    Log {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Bring the database to the console's schema (own tables, purge indexes)
    Migrate {
        #[arg(long)]
        dry_run: bool,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
}

/// The entry point: exit status 0 on success (no-ops included), 1 on an
/// error (one `error:` line on stderr), 2 on a usage error.
pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    // A panic never comes back here: the hook restores the terminal,
    // prints its `error:` line and exits 1.
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", output::one_line(&err));
            ExitCode::from(1)
        }
    }
}

/// A panic is a bug; it still ends as one `error:` line, with the terminal
/// restored first when the console was open.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        crate::tui::terminal::restore();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        // `modcon list ... | head`: the reader has what it wanted and went
        // away. Not an error; stop quietly, as other command-line tools do.
        if what.starts_with("failed printing to stdout") && what.contains("Broken pipe") {
            std::process::exit(0);
        }
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error{place}: {}",
            crate::display::sanitize_line(&what)
        );
        // A panic is a bug wherever it happens, the console's worker threads
        // included: with the terminal back and the line printed, stop.
        std::process::exit(1);
    }));
}

fn run(cli: Cli) -> Result<()> {
    let settings = Settings::resolve(&cli)?;
    let Some(command) = cli.command else {
        let access = if settings.read_only {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        let db = settings.open(access, false)?;
        return crate::tui::run(settings, db);
    };
    match command {
        Command::Demo {
            out,
            threads,
            seed,
            force,
            json,
        } => demo::run(&settings, out, threads, seed, force, json),
        Command::Stats { json } => stats::run(&settings, json),
        Command::List {
            kind,
            thread,
            post,
            state,
            limit,
            json,
        } => list::run(&settings, kind.into(), thread, post, state, limit, json),
        Command::Delete { kind, id, json } => moderate::delete(&settings, kind.into(), &id, json),
        Command::Restore { kind, id, json } => moderate::restore(&settings, kind.into(), &id, json),
        Command::Undo { json } => moderate::undo(&settings, json),
        Command::Purge {
            older_than,
            batch_size,
            dry_run,
            keep_files,
            json,
        } => purge::run(&settings, older_than, batch_size, dry_run, keep_files, json),
        Command::Check { fix, json } => check::run(&settings, fix, json),
        Command::Log { limit, json } => log::run(&settings, limit, json),
        Command::Migrate { dry_run, json } => migrate::run(&settings, dry_run, json),
    }
}

/// Refuses a command that writes when `--read-only` was given, before the
/// database is even opened.
fn refuse_read_only(settings: &Settings, what: &str) -> Result<()> {
    if settings.read_only {
        bail!("--read-only: `{what}` would change the database, so it is refused");
    }
    Ok(())
}

/// Opens for a command that only reads: always read-only at the SQLite
/// level, so looking never changes a byte.
fn open_for_reading(settings: &Settings) -> Result<Db> {
    settings.open(Access::ReadOnly, false)
}

fn open_for_writing(settings: &Settings, what: &str) -> Result<Db> {
    refuse_read_only(settings, what)?;
    settings.open(Access::ReadWrite, false)
}
