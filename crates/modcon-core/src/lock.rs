//! One purge (or `check --fix`) at a time per database, whoever starts it:
//! a cron job, another moderator's command, the console.
//!
//! The lock is an OS file lock (`flock`) on a file beside the database,
//! `<database>-modcon-lock`, which also names its holder (what, who, host,
//! pid, since when) for the refusal message. The kernel releases the lock
//! when its process ends, however it ends, so a lock left by a killed
//! process is never mistaken for a live one: no pid checks that a reused
//! pid would fool, no clocks, no timeouts. The file a killed holder leaves
//! behind is taken over and reported.
//!
//! On PostgreSQL there is no file: the lock is a session-level advisory
//! lock (`pg_try_advisory_lock` on a fixed key derived from "modcon
//! purge") taken on the purge's own session, and the holder is a row of
//! `modcon_purge_lock`. A session-level lock outlives the transactions
//! (and the rollbacks) of the batches; [`hold`] releases it when its work
//! returns, and the server releases it when the session ends, however it
//! ends (the process killed, the connection lost), so here too a lock is
//! never left behind: a purge that gets the lock and finds a holder's row
//! knows that holder's session is gone, takes over and reports it.
//! Advisory locks belong to one database of the server, as the file lock
//! belongs to one file.
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
use super::sql::{Conn, Row, params};
use super::{model, system};

/// The advisory-lock key of the purge lock on PostgreSQL: FNV-1a of
/// "modcon purge", fixed, so every modcon agrees on it.
pub const ADVISORY_KEY: i64 = fnv1a(b"modcon purge");

const fn fnv1a(bytes: &[u8]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash as i64
}

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
    held: Held,
    /// The holder named by a lock file a process left behind when it was
    /// killed (on PostgreSQL: a holder's row whose session is gone), taken
    /// over now ("an unknown process" when it named none).
    pub taken_over: Option<String>,
}

#[derive(Debug)]
enum Held {
    File {
        file: File,
        path: PathBuf,
    },
    /// The advisory lock, held by the database's own session: released by
    /// [`hold`], which has the session, or by the session's end.
    Server,
}

/// The lock file of a database.
pub fn lock_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push("-modcon-lock");
    PathBuf::from(name)
}

/// Runs `work` holding the database's purge lock for `what` (`purge`,
/// `check --fix`), or refuses naming the process that holds it. `work` gets
/// the holder a killed process left, taken over. The lock is released when
/// `work` returns, whatever it returns.
pub fn hold<T>(
    db: &mut Db,
    what: &str,
    actor: &str,
    work: impl FnOnce(&mut Db, Option<String>) -> Result<T>,
) -> Result<T> {
    let mut lock = acquire(db, what, actor)?;
    let taken_over = lock.taken_over.take();
    let result = work(db, taken_over);
    if let Held::Server = lock.held {
        release_on_server(db.conn());
    }
    result
}

/// Takes the database's purge lock for `what`, or refuses naming the
/// process that holds it.
fn acquire(db: &Db, what: &str, actor: &str) -> Result<PurgeLock> {
    db.refuse_read_only(&format!("`{what}`"))?;
    let holder = Holder {
        what: what.to_string(),
        actor: actor.to_string(),
        host: system::host_name(),
        pid: std::process::id(),
        started_at: model::format_datetime(model::utc_now()),
    };
    if db.is_postgres() {
        return acquire_on_server(db, &holder);
    }
    let path = lock_path(db.path());
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
            held: Held::File { file, path },
            taken_over,
        });
    }
    bail!(
        "cannot take the purge lock {}: other purges keep starting and finishing",
        path.display()
    )
}

/// The lock on PostgreSQL: the advisory lock on the database's own
/// session, then the holder's row (a row found there is a holder whose
/// session ended without removing it: taken over), read and replaced in
/// one statement.
fn acquire_on_server(db: &Db, holder: &Holder) -> Result<PurgeLock> {
    let conn = db.conn();
    let got: bool = conn.query_row(
        "SELECT pg_try_advisory_lock(?1)",
        params![ADVISORY_KEY],
        |r| r.get(0),
    )?;
    if !got {
        let named = server_holder(conn)?
            .map(|h| h.to_string())
            .unwrap_or_else(|| "another modcon that is just starting or finishing".into());
        bail!(
            "{} is busy: {named} is purging or fixing it (PostgreSQL advisory lock {ADVISORY_KEY}); \
             try again when it has finished",
            db.location()
        );
    }
    // The row as it was before this statement (one snapshot), and this
    // holder's in its place, in one round trip.
    let replaced = conn.query_opt(
        "WITH left_behind AS (SELECT what, actor, host, pid, started_at \
           FROM modcon_purge_lock WHERE name = 'purge'), \
         named AS (INSERT INTO modcon_purge_lock (name, what, actor, host, pid, started_at) \
           VALUES ('purge', ?1, ?2, ?3, ?4, ?5) \
           ON CONFLICT (name) DO UPDATE SET what = excluded.what, actor = excluded.actor, \
           host = excluded.host, pid = excluded.pid, started_at = excluded.started_at) \
         SELECT what, actor, host, pid, started_at FROM left_behind",
        params![
            holder.what,
            holder.actor,
            holder.host,
            holder.pid,
            holder.started_at
        ],
        read_holder_row,
    );
    let taken_over = match replaced {
        Ok(row) => row.map(|h| h.to_string()),
        Err(err) => {
            // Not held without a holder named.
            release_on_server(conn);
            return Err(err.context("cannot record the purge lock's holder in modcon_purge_lock"));
        }
    };
    Ok(PurgeLock {
        held: Held::Server,
        taken_over,
    })
}

/// The holder's row first, then the lock (ending the session would release
/// the lock anyway, and the next holder replaces a row left behind).
fn release_on_server(conn: Conn) {
    let _ = conn.execute(
        "DELETE FROM modcon_purge_lock WHERE name = 'purge'",
        params![],
    );
    let _ = conn.query_row(
        "SELECT pg_advisory_unlock(?1)",
        params![ADVISORY_KEY],
        |r| r.get::<bool>(0),
    );
}

fn read_holder_row(r: &Row<'_>) -> Result<Holder> {
    Ok(Holder {
        what: r.text(0)?,
        actor: r.text(1)?,
        host: r.text(2)?,
        pid: r.int(3)? as u32,
        started_at: r.text(4)?,
    })
}

fn server_holder(conn: Conn) -> Result<Option<Holder>> {
    conn.query_opt(
        "SELECT what, actor, host, pid, started_at FROM modcon_purge_lock WHERE name = 'purge'",
        params![],
        read_holder_row,
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
        match &self.held {
            // Removed while still locked, so nobody takes a file on its way
            // out; the lock itself goes when the file is closed.
            Held::File { file, path } => {
                if is_same_file(file, path) {
                    let _ = std::fs::remove_file(path);
                }
            }
            // Released by `hold`, which has the session.
            Held::Server => {}
        }
    }
}
