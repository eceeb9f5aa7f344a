//! The settings a run works with, each with where it came from: a flag,
//! an environment variable, the config file, or a default (flags beat
//! environment variables, which beat the file). `modcon config` prints
//! them; both front ends use them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::config::{self, Config, Env, Loaded, Searched};
use crate::display;
use modcon_core::db::{Access, DEFAULT_BUSY_TIMEOUT, Db, OpenOptions};
use modcon_core::demo::{self, DemoOptions};
use modcon_core::media::MediaRoot;
use modcon_core::{Ctx, model, system};

/// The longest `MODCON_BUSY_TIMEOUT_MS` accepted: a day. (SQLite counts
/// the wait in milliseconds in a 32-bit integer.)
const MAX_BUSY_TIMEOUT_MS: u64 = 86_400_000;

/// The options every command takes, as the front end read them (the
/// command line's global flags); `None`/`false` when not given.
#[derive(Debug, Clone, Default)]
pub struct GlobalFlags {
    pub db: Option<PathBuf>,
    pub media_root: Option<PathBuf>,
    pub read_only: bool,
    pub actor: Option<String>,
    pub now: Option<NaiveDateTime>,
    pub mouse: bool,
    pub ascii: bool,
}

/// A usage error: an option or environment value that cannot be used.
/// It ends the run with exit status 2 instead of 1.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Usage(message.into()))
}

/// Is this a usage error (exit 2), wherever it sits in the chain?
pub fn is_usage(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.is::<Usage>())
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, e.g. `--db`.
    Flag(&'static str),
    /// An environment variable, by name.
    Env(&'static str),
    /// The config file, by path.
    File(PathBuf),
    /// The built-in default.
    Default,
    /// Worked out from other settings or the system, as described.
    Derived(String),
}

impl Source {
    /// `flag`, `environment`, `config file`, `default` or `derived`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Flag(_) => "flag",
            Source::Env(_) => "environment",
            Source::File(_) => "config file",
            Source::Default => "default",
            Source::Derived(_) => "derived",
        }
    }

    /// The flag, variable, file or reasoning behind the value.
    pub fn detail(&self) -> Option<String> {
        match self {
            Source::Flag(name) | Source::Env(name) => Some(name.to_string()),
            Source::File(path) => Some(path.display().to_string()),
            Source::Default => None,
            Source::Derived(why) => Some(why.clone()),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Derived(why) => write!(f, "{why}"),
            other => match other.detail() {
                Some(detail) => write!(f, "{} {detail}", other.kind()),
                None => write!(f, "{}", other.kind()),
            },
        }
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Source", 2)?;
        out.serialize_field("source", self.kind())?;
        out.serialize_field("from", &self.detail())?;
        out.end()
    }
}

/// One effective setting, as `modcon config` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Effective {
    pub name: String,
    /// `None` when the setting is unset (no media root).
    pub value: Option<String>,
    #[serde(flatten)]
    pub source: Source,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub db: PathBuf,
    pub db_source: Source,
    /// No database was named: the demo database in the data directory.
    pub db_is_default_demo: bool,
    pub media_root: Option<PathBuf>,
    pub media_root_source: Source,
    /// The media root was named (flag, environment or the config file with
    /// its database), so it must exist.
    pub media_root_explicit: bool,
    pub read_only: bool,
    pub actor: String,
    /// The operating-system account of the process's user id: recorded
    /// beside the actor in the audit log.
    pub os_account: Option<String>,
    pub client_addr: Option<String>,
    pub now: NaiveDateTime,
    pub now_fixed: bool,
    pub retention_days: i64,
    pub batch_size: usize,
    pub mouse: bool,
    /// `--ascii` or the config's `ascii`: draw with ASCII only. (Without
    /// it the console still does when the locale is not UTF-8.)
    pub ascii: bool,
    /// "default" or "mono" (`NO_COLOR` makes it mono).
    pub theme: String,
    pub busy_timeout: Duration,
    pub config: Config,
    /// The config file read, if any, and where it was looked for.
    pub config_path: Option<PathBuf>,
    pub searched: Vec<Searched>,
    /// Every setting with its value and source, for `modcon config`.
    pub effective: Vec<Effective>,
}

/// The demo database used when no database is named.
pub fn default_demo_path() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "modcon")
        .context("cannot find a data directory for the demo database (is HOME set?)")?;
    Ok(dirs.data_dir().join("demo.sqlite3"))
}

/// A variable of ours: unset is `None`; set but empty is a usage error,
/// since an empty `MODCON_DB=$FORUM_DB` in a cron line must not quietly
/// fall back to another database.
fn ours(env: Env, name: &'static str, what: &str) -> Result<Option<OsString>> {
    match env(name) {
        Some(value) if value.to_string_lossy().trim().is_empty() => Err(usage(format!(
            "{name} is set but empty: unset it, or name {what}"
        ))),
        other => Ok(other),
    }
}

fn ours_text(env: Env, name: &'static str, what: &str) -> Result<Option<String>> {
    ours(env, name, what)?
        .map(|v| {
            v.into_string()
                .map_err(|_| usage(format!("{name} is not valid UTF-8")))
        })
        .transpose()
}

/// Someone else's variable (`USER`, `SUDO_USER`): empty counts as unset.
fn theirs(env: Env, name: &str) -> Option<String> {
    env(name)
        .and_then(|v| v.into_string().ok())
        .filter(|v| !v.trim().is_empty())
}

/// A path from an environment variable: `~/…` is expanded as in the
/// config file (a shell does not expand it inside quotes).
fn env_path(env: Env, name: &'static str, what: &str) -> Result<Option<PathBuf>> {
    let Some(value) = ours(env, name, what)? else {
        return Ok(None);
    };
    let path = PathBuf::from(value);
    if path.to_string_lossy().starts_with('~') {
        return config::expand_path(&path, env)
            .map(Some)
            .map_err(|why| usage(format!("{name}: {why}")));
    }
    Ok(Some(path))
}

/// Two names for one database file? Compared on resolved paths when both
/// exist, else as absolute paths.
fn same_database(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
    }
}

impl Settings {
    /// The settings of this process: its flags, its environment and the
    /// config file found from it.
    pub fn resolve(cli: &GlobalFlags) -> Result<Settings> {
        let env = config::process_env;
        Settings::resolve_in(cli, &env, config::load(&env)?)
    }

    /// The settings from parsed flags and a given config (tests pass one),
    /// with the process's environment.
    pub fn resolve_with(cli: &GlobalFlags, config: Config) -> Result<Settings> {
        let loaded = Loaded {
            config,
            ..Loaded::default()
        };
        Settings::resolve_in(cli, &config::process_env, loaded)
    }

    /// The settings from flags, an environment and a loaded config.
    pub fn resolve_in(cli: &GlobalFlags, env: Env, loaded: Loaded) -> Result<Settings> {
        let Loaded {
            config,
            path: config_path,
            searched,
        } = loaded;
        let file = Source::File(
            config_path
                .clone()
                .unwrap_or_else(|| PathBuf::from("config.toml")),
        );
        // The database.
        let (db, db_source, db_is_default_demo) = if let Some(path) = &cli.db {
            (path.clone(), Source::Flag("--db"), false)
        } else if let Some(path) = env_path(env, "MODCON_DB", "a database")? {
            (path, Source::Env("MODCON_DB"), false)
        } else if let Some(path) = &config.db {
            (path.clone(), file.clone(), false)
        } else {
            (
                default_demo_path()?,
                Source::Derived("default: the demo database in the data directory".into()),
                true,
            )
        };

        // The media root. The config file's belongs to the config file's
        // database: a copy of production opened with --db must never reach
        // production's files.
        let config_media_applies = config.media_root.is_some()
            && match &db_source {
                Source::File(_) => true,
                _ => config.db.as_deref().is_some_and(|c| same_database(&db, c)),
            };
        let (media_root, media_root_source, media_root_explicit) = if let Some(path) =
            &cli.media_root
        {
            (Some(path.clone()), Source::Flag("--media-root"), true)
        } else if let Some(path) = env_path(env, "MODCON_MEDIA_ROOT", "a media folder")? {
            (Some(path), Source::Env("MODCON_MEDIA_ROOT"), true)
        } else if config_media_applies {
            (config.media_root.clone(), file.clone(), true)
        } else if db.to_str().is_some_and(modcon_core::sql::is_postgres_url) {
            // A server database has no folder beside it: its media root is
            // only ever named, so a purge never guesses where files are.
            let why = "none: no --media-root or MODCON_MEDIA_ROOT (a PostgreSQL database has no \
                       `media` folder beside it)";
            (None, Source::Derived(why.into()), false)
        } else {
            let beside = demo::media_dir_for(&db);
            let not_ours = if config.media_root.is_some() {
                "; the config file's media_root belongs to its own db"
            } else {
                ""
            };
            if beside.is_dir() || db_is_default_demo {
                let why = format!("derived: the `media` folder beside the database{not_ours}");
                (Some(beside), Source::Derived(why), false)
            } else {
                let why = format!(
                    "none: no --media-root or MODCON_MEDIA_ROOT, and no `media` folder beside the database{not_ours}"
                );
                (None, Source::Derived(why), false)
            }
        };

        // Who acts.
        let (actor, actor_source) = if let Some(name) = &cli.actor {
            if name.trim().is_empty() {
                return Err(usage("--actor must not be empty"));
            }
            (name.clone(), Source::Flag("--actor"))
        } else if let Some(name) = ours_text(env, "MODCON_ACTOR", "who acts")? {
            (name, Source::Env("MODCON_ACTOR"))
        } else if let Some(name) = &config.actor {
            (name.clone(), file.clone())
        } else if let Some(name) = theirs(env, "SUDO_USER") {
            (name, Source::Env("SUDO_USER"))
        } else if let Some(name) = theirs(env, "USER") {
            (name, Source::Env("USER"))
        } else {
            os_actor()
        };
        // SSH_CLIENT is "address port port": the address is what matters.
        let client_addr =
            theirs(env, "SSH_CLIENT").and_then(|v| v.split_whitespace().next().map(str::to_string));

        let (now, now_fixed, now_source) = match cli.now {
            Some(at) => (at, true, Source::Flag("--now")),
            None => (
                model::utc_now(),
                false,
                Source::Derived("default: the clock".into()),
            ),
        };
        let (retention_days, retention_source) = match config.retention_days {
            Some(days) => (days, file.clone()),
            None => (modcon_core::DEFAULT_RETENTION_DAYS, Source::Default),
        };
        let (batch_size, batch_source) = match config.batch_size {
            Some(size) => (size, file.clone()),
            None => (modcon_core::DEFAULT_BATCH_SIZE, Source::Default),
        };
        let (mouse, mouse_source) = match (cli.mouse, config.mouse) {
            (true, _) => (true, Source::Flag("--mouse")),
            (false, Some(on)) => (on, file.clone()),
            (false, None) => (false, Source::Default),
        };
        // ASCII only: asked for, or because the locale cannot show more.
        let locale_is_utf8 = display::locale_is_utf8(&|name| theirs(env, name));
        let (ascii, ascii_source) = match (cli.ascii, config.ascii) {
            (true, _) => (true, Source::Flag("--ascii")),
            (false, Some(true)) => (true, file.clone()),
            (false, _) if !locale_is_utf8 => (
                true,
                Source::Derived("derived: the locale (LC_ALL, LC_CTYPE, LANG) is not UTF-8".into()),
            ),
            (false, Some(false)) => (false, file.clone()),
            (false, None) => (false, Source::Default),
        };
        let (theme, theme_source) = if theirs(env, "NO_COLOR").is_some() {
            ("mono".to_string(), Source::Env("NO_COLOR"))
        } else if let Some(theme) = &config.theme {
            (theme.clone(), file.clone())
        } else {
            ("default".to_string(), Source::Default)
        };
        let (busy_timeout, busy_source) =
            match ours_text(env, "MODCON_BUSY_TIMEOUT_MS", "a number of milliseconds")? {
                Some(text) => (
                    busy_timeout_ms(&text)?,
                    Source::Env("MODCON_BUSY_TIMEOUT_MS"),
                ),
                None => (DEFAULT_BUSY_TIMEOUT, Source::Default),
            };

        let shown_path = |p: &Path| p.display().to_string();
        let effective = vec![
            Effective {
                name: "db".into(),
                // A server's URL never with its password.
                value: Some(modcon_core::sql::shown_location(&shown_path(&db))),
                source: db_source.clone(),
            },
            Effective {
                name: "media_root".into(),
                value: media_root.as_deref().map(shown_path),
                source: media_root_source.clone(),
            },
            Effective {
                name: "read_only".into(),
                value: Some(cli.read_only.to_string()),
                source: if cli.read_only {
                    Source::Flag("--read-only")
                } else {
                    Source::Default
                },
            },
            Effective {
                name: "actor".into(),
                value: Some(actor.clone()),
                source: actor_source,
            },
            Effective {
                name: "now".into(),
                value: Some(model::format_datetime(now)),
                source: now_source,
            },
            Effective {
                name: "retention_days".into(),
                value: Some(retention_days.to_string()),
                source: retention_source,
            },
            Effective {
                name: "batch_size".into(),
                value: Some(batch_size.to_string()),
                source: batch_source,
            },
            Effective {
                name: "mouse".into(),
                value: Some(mouse.to_string()),
                source: mouse_source,
            },
            Effective {
                name: "ascii".into(),
                value: Some(ascii.to_string()),
                source: ascii_source,
            },
            Effective {
                name: "theme".into(),
                value: Some(theme.clone()),
                source: theme_source,
            },
            Effective {
                name: "busy_timeout_ms".into(),
                value: Some(busy_timeout.as_millis().to_string()),
                source: busy_source,
            },
        ];
        Ok(Settings {
            db,
            db_source,
            db_is_default_demo,
            media_root,
            media_root_source,
            media_root_explicit,
            read_only: cli.read_only,
            actor,
            os_account: system::os_account_or_uid(),
            client_addr,
            now,
            now_fixed,
            retention_days,
            batch_size,
            mouse,
            ascii: cli.ascii || config.ascii.unwrap_or(false),
            theme,
            busy_timeout,
            config,
            config_path,
            searched,
            effective,
        })
    }

    /// How the database is opened when the command does not say:
    /// read-only when asked for.
    pub fn access(&self) -> Access {
        if self.read_only {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        }
    }

    /// An error with the database file named and what to do said.
    pub fn explain(&self, err: anyhow::Error) -> anyhow::Error {
        modcon_core::db::explain_for_file(err, &self.db, self.access(), self.busy_timeout)
    }

    pub fn ctx(&self) -> Ctx {
        Ctx {
            now: self.now,
            actor: self.actor.clone(),
            os_account: self.os_account.clone(),
            client_addr: self.client_addr.clone(),
            reason: None,
            retention_days: self.retention_days,
        }
    }

    /// Opens the database; the default demo database is made first when
    /// it does not exist yet, so a new user sees something at once.
    pub fn open(&self, access: Access, allow_outdated: bool) -> Result<Db> {
        let mut options = OpenOptions::new(access);
        options.allow_outdated = allow_outdated;
        self.open_with(options)
    }

    /// [`Settings::open`] with options of the caller's own.
    pub fn open_with(&self, mut options: OpenOptions) -> Result<Db> {
        if self.db_is_default_demo && !self.db.exists() {
            self.create_default_demo()?;
        }
        options.busy_timeout = self.busy_timeout;
        options.recover_interrupted = !self.read_only;
        Db::open(&self.db, &options)
    }

    fn create_default_demo(&self) -> Result<()> {
        eprintln!(
            "modcon: creating the demo database at {} (use --db to open your own)",
            self.db.display()
        );
        demo::generate(&DemoOptions {
            out: self.db.clone(),
            threads: demo::DEFAULT_THREADS,
            seed: demo::DEFAULT_SEED,
            force: false,
            now: self.now,
            media: None,
        })
        .context("cannot create the demo database")?;
        Ok(())
    }

    /// The media root, checked: a named one must exist; an implied one
    /// (`media` beside the database) is used only when it does.
    pub fn media(&self) -> Result<Option<MediaRoot>> {
        match &self.media_root {
            Some(path) if self.media_root_explicit => {
                Ok(Some(MediaRoot::open(path).with_context(|| {
                    format!("the media root from {}", self.media_root_source)
                })?))
            }
            Some(path) if path.is_dir() => Ok(Some(MediaRoot::open(path)?)),
            _ => Ok(None),
        }
    }

    /// Which media root a command used (`resolved`, as its report gives
    /// it) and why: "/srv/media (config file /etc/…)", or "none: …" saying
    /// why there is none.
    pub fn media_root_used(&self, resolved: Option<&str>) -> String {
        match resolved {
            Some(path) => format!("{path} ({})", self.media_root_source),
            None if self.media_root.is_some() => {
                "none (the media folder beside the database does not exist)".into()
            }
            None => self.media_root_source.to_string(),
        }
    }
}

/// The last resort for who acts: the account of the process's user id.
fn os_actor() -> (String, Source) {
    let uid = system::os_uid();
    let uid_text = uid.map(|u| u.to_string()).unwrap_or_else(|| "?".into());
    match system::os_account() {
        Some(name) => (
            name,
            Source::Derived(format!("derived: the account of user id {uid_text}")),
        ),
        None => (
            format!("uid-{uid_text}"),
            Source::Derived(format!("derived: user id {uid_text} has no account name")),
        ),
    }
}

fn busy_timeout_ms(text: &str) -> Result<Duration> {
    match text.trim().parse::<u64>() {
        Ok(ms) if ms <= MAX_BUSY_TIMEOUT_MS => Ok(Duration::from_millis(ms)),
        _ => Err(usage(format!(
            "MODCON_BUSY_TIMEOUT_MS must be a whole number of milliseconds from 0 to {MAX_BUSY_TIMEOUT_MS}, not {text:?}"
        ))),
    }
}
