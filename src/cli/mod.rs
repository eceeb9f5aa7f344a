//! The command line: parse (main.rs works out the settings from the
//! global flags), open the database the way the command needs, call the
//! core, print. One module per command.

mod check;
mod config;
mod demo;
mod flags;
mod interrupt;
mod list;
mod log;
mod migrate;
mod moderate;
pub mod output;
mod progress;
mod purge;
mod stats;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;

use anyhow::Result;
use chrono::NaiveDateTime;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum, ValueHint};

use crate::config::settings::{GlobalFlags, Settings, is_usage};
use crate::display::{one_line, sanitize_line};
use modcon_core::db::{Access, Db, ReadOnly};
use modcon_core::model::Kind;

#[derive(Debug, Parser)]
#[command(
    name = "modcon",
    version,
    about = "A terminal moderation console for Django-style forum databases in SQLite or PostgreSQL",
    long_about = "A terminal moderation console for Django-style forum databases in SQLite or PostgreSQL.\n\
                  With no command it opens the console; without --db it uses a demo database."
)]
pub struct Cli {
    /// The forum database: a SQLite file or a postgres:// URL [env: MODCON_DB] (default: the config file's db, else the demo database)
    #[arg(long, global = true, value_name = "PATH|URL", value_hint = ValueHint::FilePath)]
    pub db: Option<PathBuf>,
    /// The folder attachment paths are relative to [env: MODCON_MEDIA_ROOT] (default: the config file's, for its own db; else `media` beside the database)
    #[arg(long, global = true, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub media_root: Option<PathBuf>,
    /// Open the database read-only (SQLite's read-only open, a read-only PostgreSQL session); changing anything is refused
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Who is acting, for the audit log [env: MODCON_ACTOR] (default: the config file, SUDO_USER, USER, the account of your user id)
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,
    /// Fix the clock, e.g. "2026-11-26 11:00:08" (UTC), for reproducible runs
    #[arg(long, global = true, value_name = "TIME", value_parser = now_arg)]
    pub now: Option<NaiveDateTime>,
    /// In the console, turn on wheel scrolling and click-to-select
    #[arg(long, global = true)]
    pub mouse: bool,
    /// In the console, draw with ASCII only (the default when the locale is not UTF-8)
    #[arg(long, global = true)]
    pub ascii: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The options every command takes, for settings resolution.
    pub fn globals(&self) -> GlobalFlags {
        GlobalFlags {
            db: self.db.clone(),
            media_root: self.media_root.clone(),
            read_only: self.read_only,
            actor: self.actor.clone(),
            now: self.now,
            mouse: self.mouse,
            ascii: self.ascii,
        }
    }
}

fn now_arg(text: &str) -> Result<NaiveDateTime, String> {
    modcon_core::model::parse_now(text).map_err(|e| e.to_string())
}

fn days_arg(text: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err("the retention must be a whole number of days, 0 or more".into()),
    }
}

fn batch_size_arg(text: &str) -> Result<usize, String> {
    let max = modcon_core::MAX_BATCH_SIZE;
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("the batch size must be a number from 1 to {max}")),
    }
}

fn limit_arg(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("the limit must be a number of 1 or more".into()),
    }
}

fn entry_arg(text: &str) -> Result<i64, String> {
    match text.trim_start_matches('#').parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("an entry is the number the log shows, 1 or more".into()),
    }
}

/// A reason is words: blank text is refused, not taken as "no reason".
fn reason_arg(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the reason must not be empty".into());
    }
    Ok(trimmed.to_string())
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

/// Which flags `flags` lists.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FlagStatusArg {
    Pending,
    Approved,
    Rejected,
    Removed,
    All,
}

impl From<FlagStatusArg> for modcon_core::flags::StatusFilter {
    fn from(s: FlagStatusArg) -> Self {
        use modcon_core::flags::StatusFilter as F;
        match s {
            FlagStatusArg::Pending => F::Pending,
            FlagStatusArg::Approved => F::Approved,
            FlagStatusArg::Rejected => F::Rejected,
            FlagStatusArg::Removed => F::Removed,
            FlagStatusArg::All => F::All,
        }
    }
}

/// What a review decides, named as the web app names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReviewArg {
    Approve,
    Reject,
    #[value(name = "remove_post", alias = "remove-post")]
    RemovePost,
    #[value(name = "remove_thread", alias = "remove-thread")]
    RemoveThread,
    #[value(name = "lock_thread", alias = "lock-thread")]
    LockThread,
    Warning,
}

impl From<ReviewArg> for modcon_core::flags::ReviewAction {
    fn from(a: ReviewArg) -> Self {
        use modcon_core::flags::ReviewAction as R;
        match a {
            ReviewArg::Approve => R::Approve,
            ReviewArg::Reject => R::Reject,
            ReviewArg::RemovePost => R::RemovePost,
            ReviewArg::RemoveThread => R::RemoveThread,
            ReviewArg::LockThread => R::LockThread,
            ReviewArg::Warning => R::Warning,
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
        /// Where to write the database: a file (its media folder goes beside it)
        /// or an empty PostgreSQL database's URL (media into --media-root)
        #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
        out: Option<PathBuf>,
        /// How many ordinary threads (about 50 attachments each)
        #[arg(long, default_value_t = modcon_core::demo::DEFAULT_THREADS)]
        threads: usize,
        #[arg(long, default_value_t = modcon_core::demo::DEFAULT_SEED)]
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
        /// At most this many rows (1 or more)
        #[arg(long, default_value_t = 50, value_parser = limit_arg)]
        limit: usize,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Soft-delete a row and its active descendants
    Delete {
        kind: KindArg,
        id: String,
        /// Why, for the audit log
        #[arg(long, value_name = "TEXT", value_parser = reason_arg)]
        reason: Option<String>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Restore a row and exactly what its latest delete changed
    Restore {
        kind: KindArg,
        id: String,
        /// Why, for the audit log
        #[arg(long, value_name = "TEXT", value_parser = reason_arg)]
        reason: Option<String>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Revert your latest action
    Undo {
        /// Why, for the audit log
        #[arg(long, value_name = "TEXT", value_parser = reason_arg)]
        reason: Option<String>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Hard-delete rows deleted longer ago than the retention, and their files
    Purge {
        /// Retention in days, 0 or more (default: the config file's retention_days, else 30)
        #[arg(long, value_name = "DAYS", allow_negative_numbers = true, value_parser = days_arg)]
        older_than: Option<i64>,
        /// Root rows per transaction, 1 to 10000 (default: the config file's batch_size, else 100)
        #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = batch_size_arg)]
        batch_size: Option<usize>,
        /// Show the plan; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Remove rows but leave their files on disk
        #[arg(long)]
        keep_files: bool,
        /// Why, for the audit log
        #[arg(long, value_name = "TEXT", value_parser = reason_arg)]
        reason: Option<String>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Report what breaks the rules; --fix soft-deletes active rows under deleted parents
    Check {
        #[arg(long)]
        fix: bool,
        /// Why the fix, for the audit log (with --fix)
        #[arg(long, value_name = "TEXT", value_parser = reason_arg, requires = "fix")]
        reason: Option<String>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// The audit log, newest first
    Log {
        /// At most this many entries (1 or more)
        #[arg(long, default_value_t = 20, value_parser = limit_arg)]
        limit: usize,
        /// What happened to this row: every entry that changed or purged it
        /// (32 hex digits, a dashed UUID, or a prefix of 4 or more)
        #[arg(long, value_name = "ID", conflicts_with = "entry")]
        id: Option<String>,
        /// One entry with every row it changed or purged
        #[arg(long, value_name = "N", value_parser = entry_arg)]
        entry: Option<i64>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// The web app's flag queue, newest first (pending flags unless --status says otherwise)
    Flags {
        #[arg(long, value_enum, default_value = "pending")]
        status: FlagStatusArg,
        /// At most this many flags (1 or more)
        #[arg(long, default_value_t = 50, value_parser = limit_arg)]
        limit: usize,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Review a pending flag as the web app's review endpoint does (moderators only)
    Review {
        /// The flag: 32 hex digits, a dashed UUID, or a unique prefix of 4 or more
        flag: String,
        #[arg(value_enum)]
        action: ReviewArg,
        /// Why (required): kept in the moderation action and the audit log
        #[arg(long, value_name = "TEXT", value_parser = reason_arg)]
        reason: String,
        /// Notes for the flag (its moderator_notes)
        #[arg(long, value_name = "TEXT")]
        notes: Option<String>,
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
    /// Every effective setting and where it came from, and the config files searched
    Config {
        /// Print a commented default config file instead
        #[arg(long)]
        default: bool,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (e.g. `modcon completions bash > ~/.local/share/bash-completion/completions/modcon`)
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff), e.g. `modcon man > ~/.local/share/man/man1/modcon.1`
    Man,
}

impl Command {
    /// The `action` of the command's JSON object.
    pub fn action(&self) -> &'static str {
        match self {
            Command::Demo { .. } => "demo",
            Command::Stats { .. } => "stats",
            Command::List { .. } => "list",
            Command::Delete { .. } => "delete",
            Command::Restore { .. } => "restore",
            Command::Undo { .. } => "undo",
            Command::Purge { .. } => "purge",
            Command::Check { fix: true, .. } => "fix",
            Command::Check { .. } => "check",
            Command::Log { .. } => "log",
            Command::Flags { .. } => "flags",
            Command::Review { .. } => "review",
            Command::Migrate { .. } => "migrate",
            Command::Config { .. } => "config",
            Command::Completions { .. } => "completions",
            Command::Man => "man",
        }
    }

    /// Was `--json` asked for?
    pub fn json(&self) -> bool {
        match self {
            Command::Demo { json, .. }
            | Command::Stats { json }
            | Command::List { json, .. }
            | Command::Delete { json, .. }
            | Command::Restore { json, .. }
            | Command::Undo { json, .. }
            | Command::Purge { json, .. }
            | Command::Check { json, .. }
            | Command::Log { json, .. }
            | Command::Flags { json, .. }
            | Command::Review { json, .. }
            | Command::Migrate { json, .. }
            | Command::Config { json, .. } => *json,
            Command::Completions { .. } | Command::Man => false,
        }
    }
}

/// With `--json`, the action a failure is reported under (`None` for a
/// failure before the command is known). Set once the arguments are read;
/// the panic hook reads it too.
static FAILURE_JSON: OnceLock<Option<String>> = OnceLock::new();

/// Reads the arguments of this process. `Err` is the exit of a usage
/// error (reported already), or of help and version.
pub fn parse() -> Result<Cli, ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = Cli::try_parse_from(&args).map_err(|err| parse_failure(err, &args))?;
    if let Some(command) = cli.command.as_ref().filter(|c| c.json()) {
        let _ = FAILURE_JSON.set(Some(command.action().to_string()));
    }
    Ok(cli)
}

/// The end of a run: exit status 0 on success (no-ops included), 1 on an
/// error (one `error:` line on stderr), 2 on a usage error. With `--json`
/// a failure is also one JSON object on stdout.
pub fn exit(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Its report is printed; it says what was done.
        Err(err) if let Some(status) = interrupt::stopped_status(&err) => ExitCode::from(status),
        Err(err) => fail(&one_line(&err), if is_usage(&err) { 2 } else { 1 }),
    }
}

/// Reports a failure: the `error:` line on stderr and, with `--json`, the
/// JSON object on stdout.
/// Whatever the message holds (an id as typed, a path) is made safe for
/// the terminal here, where it reaches it.
fn fail(message: &str, status: u8) -> ExitCode {
    let message = sanitize_line(message);
    if let Some(action) = FAILURE_JSON.get() {
        output::json_failure(action.as_deref(), &message);
    }
    eprintln!("error: {message}");
    ExitCode::from(status)
}

/// Was `--json` among the arguments (before a `--`)? Asked when clap
/// could not make sense of them.
fn json_among(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// Arguments clap refused: a usage error (exit 2), one `error:` line like
/// every other error (with clap's tip, when it has one); help and version
/// are printed as usual.
fn parse_failure(err: clap::Error, args: &[OsString]) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        err.exit();
    }
    if json_among(args) {
        // Which command was meant, as far as the arguments tell.
        let action = Cli::command()
            .ignore_errors(true)
            .try_get_matches_from(args)
            .ok()
            .and_then(|m| {
                let (name, sub) = m.subcommand()?;
                let fix = sub.try_get_one::<bool>("fix").ok().flatten() == Some(&true);
                Some(if name == "check" && fix { "fix" } else { name }.to_string())
            });
        let _ = FAILURE_JSON.set(action);
    }
    // clap's first paragraph is the error ("… [possible values: …]"),
    // then a tip, the usage and a pointer to --help.
    let text = err.to_string();
    let first: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .collect();
    let first = first.join(" ");
    let mut message = first.strip_prefix("error: ").unwrap_or(&first).to_string();
    if let Some(tip) = text.lines().find_map(|l| l.trim().strip_prefix("tip: ")) {
        message.push_str(&format!(" ({tip})"));
    }
    message.push_str("; see --help");
    fail(&message, 2)
}

/// The report of a panic (a bug): its `error:` line on stderr and, with
/// `--json`, the JSON object on stdout. The caller restores the terminal
/// first and exits after.
pub fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
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
    let message = format!("internal error{place}: {}", sanitize_line(&what));
    if let Some(action) = FAILURE_JSON.get() {
        output::json_failure(action.as_deref(), &message);
    }
    eprintln!("error: {message}");
}

/// Commands that need no settings: they work with a broken config file
/// too. `None` for every other command.
pub fn without_settings(command: Option<&Command>) -> Option<Result<()>> {
    match command {
        Some(Command::Completions { shell }) => Some(config::completions(*shell)),
        Some(Command::Man) => Some(config::man()),
        Some(Command::Config { default: true, .. }) => Some(config::default_file()),
        _ => None,
    }
}

/// Runs one command with its settings; every SQLite error names the
/// database file and says what to do.
pub fn run(settings: &Settings, command: Command) -> Result<()> {
    dispatch(settings, command).map_err(|err| settings.explain(err))
}

fn dispatch(settings: &Settings, command: Command) -> Result<()> {
    match command {
        Command::Demo {
            out,
            threads,
            seed,
            force,
            json,
        } => demo::run(settings, out, threads, seed, force, json),
        Command::Stats { json } => stats::run(settings, json),
        Command::List {
            kind,
            thread,
            post,
            state,
            limit,
            json,
        } => list::run(settings, kind.into(), thread, post, state, limit, json),
        Command::Delete {
            kind,
            id,
            reason,
            json,
        } => moderate::delete(settings, kind.into(), &id, reason, json),
        Command::Restore {
            kind,
            id,
            reason,
            json,
        } => moderate::restore(settings, kind.into(), &id, reason, json),
        Command::Undo { reason, json } => moderate::undo(settings, reason, json),
        Command::Purge {
            older_than,
            batch_size,
            dry_run,
            keep_files,
            reason,
            json,
        } => purge::run(
            settings, older_than, batch_size, dry_run, keep_files, reason, json,
        ),
        Command::Check { fix, reason, json } => check::run(settings, fix, reason, json),
        Command::Log {
            limit,
            id,
            entry,
            json,
        } => log::run(settings, limit, id.as_deref(), entry, json),
        Command::Flags {
            status,
            limit,
            json,
        } => flags::list(settings, status.into(), limit, json),
        Command::Review {
            flag,
            action,
            reason,
            notes,
            json,
        } => flags::review(settings, &flag, action.into(), reason, notes, json),
        Command::Migrate { dry_run, json } => migrate::run(settings, dry_run, json),
        Command::Config { json, .. } => config::show(settings, json),
        Command::Completions { .. } | Command::Man => Ok(()),
    }
}

/// Refuses a command that writes when `--read-only` was given, before the
/// database is even opened.
fn refuse_read_only(settings: &Settings, what: &str) -> Result<()> {
    if settings.read_only {
        return Err(ReadOnly::new(format!("`{what}`")).into());
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
