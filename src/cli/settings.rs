//! The settings a run works with, from flags, environment and the config
//! file (in that order of precedence), and opening the database with them.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;

use super::Cli;
use crate::config::{self, Config};
use crate::core::db::{Access, Db, OpenOptions};
use crate::core::demo::{self, DemoOptions};
use crate::core::media::MediaRoot;
use crate::core::{self, Ctx, model};

#[derive(Debug, Clone)]
pub struct Settings {
    pub db: PathBuf,
    /// No database was named: the demo database in the data directory.
    pub db_is_default_demo: bool,
    pub media_root: Option<PathBuf>,
    /// The media root was named explicitly (so it must exist).
    pub media_root_explicit: bool,
    pub read_only: bool,
    pub actor: String,
    pub client_addr: Option<String>,
    pub now: NaiveDateTime,
    pub now_fixed: bool,
    pub retention_days: i64,
    pub batch_size: usize,
    pub mouse: bool,
    /// `--ascii` or the config's `ascii`: draw with ASCII only. (Without
    /// it the console still does when the locale is not UTF-8.)
    pub ascii: bool,
    pub config: Config,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The demo database used when no database is named.
pub fn default_demo_path() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "modcon")
        .context("cannot find a data directory for the demo database (is HOME set?)")?;
    Ok(dirs.data_dir().join("demo.sqlite3"))
}

impl Settings {
    pub fn resolve(cli: &Cli) -> Result<Settings> {
        Settings::resolve_with(cli, config::load()?)
    }

    /// The settings from parsed flags and a given config (tests pass one).
    pub fn resolve_with(cli: &Cli, config: Config) -> Result<Settings> {
        let (db, db_is_default_demo) = match cli.db.clone().or_else(|| config.db.clone()) {
            Some(path) => (path, false),
            None => (default_demo_path()?, true),
        };
        let explicit_media = cli.media_root.clone().or_else(|| config.media_root.clone());
        let media_root_explicit = explicit_media.is_some();
        let media_root = explicit_media.or_else(|| {
            let beside = demo::media_dir_for(&db);
            (beside.is_dir() || db_is_default_demo).then_some(beside)
        });
        let actor = cli
            .actor
            .clone()
            .filter(|a| !a.trim().is_empty())
            .or_else(|| config.actor.clone())
            .or_else(|| env("SUDO_USER"))
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "unknown".into());
        // SSH_CLIENT is "address port port": the address is what matters.
        let client_addr =
            env("SSH_CLIENT").and_then(|v| v.split_whitespace().next().map(str::to_string));
        let (now, now_fixed) = match &cli.now {
            Some(text) => (model::parse_now(text)?, true),
            None => (model::utc_now(), false),
        };
        Ok(Settings {
            db,
            db_is_default_demo,
            media_root,
            media_root_explicit,
            read_only: cli.read_only,
            actor,
            client_addr,
            now,
            now_fixed,
            retention_days: config
                .retention_days
                .unwrap_or(core::DEFAULT_RETENTION_DAYS),
            batch_size: config.batch_size.unwrap_or(core::DEFAULT_BATCH_SIZE),
            mouse: cli.mouse || config.mouse.unwrap_or(false),
            ascii: cli.ascii || config.ascii.unwrap_or(false),
            config,
        })
    }

    pub fn ctx(&self) -> Ctx {
        Ctx {
            now: self.now,
            actor: self.actor.clone(),
            client_addr: self.client_addr.clone(),
            retention_days: self.retention_days,
        }
    }

    /// Opens the database; the default demo database is made first when
    /// it does not exist yet, so a new user sees something at once.
    pub fn open(&self, access: Access, allow_outdated: bool) -> Result<Db> {
        if self.db_is_default_demo && !self.db.exists() {
            self.create_default_demo()?;
        }
        let mut options = OpenOptions::new(access);
        options.allow_outdated = allow_outdated;
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
        })
        .context("cannot create the demo database")?;
        Ok(())
    }

    /// The media root, checked: a named one must exist; an implied one
    /// (`media` beside the database) is used only when it does.
    pub fn media(&self) -> Result<Option<MediaRoot>> {
        match &self.media_root {
            Some(path) if self.media_root_explicit => Ok(Some(MediaRoot::open(path)?)),
            Some(path) if path.is_dir() => Ok(Some(MediaRoot::open(path)?)),
            _ => Ok(None),
        }
    }
}
