//! The web app as a process of its own, for the tests: SQLite shares its
//! locks and its -shm mapping between the connections of one process, so
//! only a writer in another process shows what the web app's restarts
//! (its last connection closing removes the -wal and -shm; the next one
//! makes new ones) do to the console. Built only with the `test-hooks`
//! feature, which only the tests turn on.
//!
//! Usage: `modcon-test-web-app DB`, then one command a line on stdin, each
//! answered by one line on stdout, `ok` or `error: ...`:
//! - `open`: a connection as Django opens one on SQLite (a busy timeout of
//!   5 s, Django's default, and foreign keys on);
//! - `exec SQL`: the statements as Django issues them (autocommit, or
//!   `BEGIN ... COMMIT` written out);
//! - `close`: the connection closes as SQLite 3.40 (Debian 12's, which
//!   Django and Python use there) closes the last connection of a process:
//!   when no other process holds a lock on the database file, it folds the
//!   -wal into the database and removes the -wal and -shm, whoever still
//!   maps them. (Newer SQLite, the bundled one included, also looks for
//!   other processes on the -shm and then keeps both; the web app may run
//!   on either.)
//!
//! End of input ends the process.

use std::fs;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{FcntlArg, fcntl};
use nix::libc;

use rusqlite::Connection;

fn main() {
    let db = std::env::args_os()
        .nth(1)
        .expect("usage: modcon-test-web-app DB");
    let mut conn: Option<Connection> = None;
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line.expect("a command on stdin");
        let (command, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let answer: Result<(), String> = match command {
            "open" => Connection::open(&db)
                .and_then(|c| {
                    c.busy_timeout(Duration::from_secs(5))?;
                    c.execute_batch("PRAGMA foreign_keys = ON")?;
                    Ok(c)
                })
                .map(|c| conn = Some(c))
                .map_err(|e| e.to_string()),
            "exec" => match &conn {
                Some(c) => c.execute_batch(rest).map_err(|e| e.to_string()),
                None => Err("no connection: `open` first".into()),
            },
            "close" => match conn.take() {
                Some(c) => close_as_sqlite_3_40(c, Path::new(&db)),
                None => Err("no connection to close".into()),
            },
            other => Err(format!("unknown command {other:?}")),
        };
        let reply = match answer {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("error: {}", e.replace('\n', " ")),
        };
        writeln!(stdout, "{reply}")
            .and_then(|()| stdout.flush())
            .expect("stdout");
    }
}

/// Where SQLite's unix locks on a database file lie: readers hold a read
/// lock on the shared range, the last connection to close takes a write
/// lock on it.
const SHARED_FIRST: i64 = 0x4000_0000 + 2;
const SHARED_SIZE: i64 = 510;

/// The close of SQLite 3.40's last connection: if it can take the
/// database file's exclusive lock (no other process holds a lock on the
/// file), it checkpoints everything and removes the -wal and -shm.
fn close_as_sqlite_3_40(conn: Connection, db: &Path) -> Result<(), String> {
    // Closing any descriptor of the file drops every lock this process
    // holds on it: this one is closed after the connection.
    let probe = fs::File::open(db).map_err(|e| format!("{db:?}: {e}"))?;
    let alone = !locked_by_another_process(&probe).map_err(|e| format!("{db:?}: {e}"))?;
    if alone {
        let (busy, _, _): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| e.to_string())?;
        if busy != 0 {
            return Err("the checkpoint before closing could not finish".into());
        }
    }
    conn.close().map_err(|(_, e)| e.to_string())?;
    drop(probe);
    if alone {
        for suffix in ["-wal", "-shm"] {
            match fs::remove_file(side_file(db, suffix)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.to_string()),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Whether another process holds a lock on the database file's shared
/// range (this process's own locks never conflict with its own request).
/// Asked with F_GETLK, which takes nothing.
fn locked_by_another_process(file: &fs::File) -> std::io::Result<bool> {
    // SAFETY: a plain C struct; every field it needs is set below.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock.l_start = SHARED_FIRST;
    lock.l_len = SHARED_SIZE;
    fcntl(file, FcntlArg::F_GETLK(&mut lock)).map_err(std::io::Error::from)?;
    Ok(lock.l_type != libc::F_UNLCK as libc::c_short)
}

fn side_file(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
