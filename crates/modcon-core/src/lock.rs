//! One purge (or `check --fix`) at a time per database, whoever starts it:
//! a cron job, another moderator's command, the console.
//!
//! The lock is an OS file lock (`flock`) on a file beside the database,
//! `<database>-modcon-lock`, which also names its holder (what, who, host,
//! pid, since when) for the refusal message. The kernel releases the lock
//! when its process ends, however it ends, so a lock left by a killed
//! process is never mistaken for a live one: no pid checks that a reused
//! pid would fool, no clocks, no timeouts. The file a killed holder leaves
//! behind is taken over and reported. (A server database has no file to
//! lock: there the same holds with a session-level advisory lock, which the
//! server releases when the session ends, and the holder in a table.)
//!
//! A second purge does not wait: it refuses at once, naming the holder, so
//! a cron run that overlaps a moderator's purge fails visibly (exit 1)
//! instead of interleaving with it or piling up behind it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::db::Db;
use super::{model, system};

/// Who holds the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// `purge` or `check --fix`.
    pub what: String,
    pub actor: String,
    pub host: String,
    pub pid: u32,
    /// When it started, UTC (the real clock, whatever `--now` says).
    pub started_at: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` by {} on {} (pid {}), started {} UTC",
            self.what, self.actor, self.host, self.pid, self.started_at
        )
    }
}

/// The lock, held until dropped.
#[derive(Debug)]
pub struct PurgeLock {
    file: File,
    path: PathBuf,
    /// The holder named by a lock file a process left behind when it was
    /// killed, taken over now ("an unknown process" when it named none).
    pub taken_over: Option<String>,
}

/// The lock file of a database.
pub fn lock_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push("-modcon-lock");
    PathBuf::from(name)
}

/// Takes the database's purge lock for `what` (`purge`, `check --fix`), or
/// refuses naming the process that holds it.
pub fn acquire(db: &Db, what: &str, actor: &str) -> Result<PurgeLock> {
    db.refuse_read_only(&format!("`{what}`"))?;
    let path = lock_path(db.path());
    let holder = Holder {
        what: what.to_string(),
        actor: actor.to_string(),
        host: system::host_name(),
        pid: std::process::id(),
        started_at: model::format_datetime(model::utc_now()),
    };
    // A holder that finishes removes the file: a file opened just before
    // that is no longer the lock file, so open again (a few times at most:
    // each round means another purge finished meanwhile).
    for _ in 0..10 {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| {
                format!(
                    "cannot create the purge lock {} (the database's folder must be writable)",
                    path.display()
                )
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let named = read_holder(&mut file)
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "another modcon that is just starting".into());
                bail!(
                    "{} is busy: {named} is purging or fixing it (lock {}); try again when it has finished",
                    db.path().display(),
                    path.display()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e)
                    .with_context(|| format!("cannot lock the purge lock {}", path.display()));
            }
        }
        if !is_same_file(&file, &path) {
            continue;
        }
        let taken_over = if file.metadata().map(|m| m.len()).unwrap_or(0) > 0 {
            Some(
                read_holder(&mut file)
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "an unknown process".into()),
            )
        } else {
            None
        };
        let text = serde_json::to_string(&holder)?;
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
            .and_then(|()| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_data())
            .with_context(|| format!("cannot write the purge lock {}", path.display()))?;
        return Ok(PurgeLock {
            file,
            path,
            taken_over,
        });
    }
    bail!(
        "cannot take the purge lock {}: other purges keep starting and finishing",
        path.display()
    )
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Is the open file still the one at `path` (not removed or replaced)?
#[cfg(unix)]
fn is_same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for PurgeLock {
    fn drop(&mut self) {
        // Removed while still locked, so nobody takes a file on its way
        // out; the lock itself goes when the file is closed.
        if is_same_file(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
