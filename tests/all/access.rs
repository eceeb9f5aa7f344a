//! Odd access to the database file: a folder the user may not write, WAL
//! databases with and without their -wal and -shm files, a reader or a
//! writer holding a lock. Every SQLite error names the file and says what
//! to do (never to pass a flag already passed), and a command that only
//! reads never leaves a new file beside the database. The tests run as
//! root in CI, where permission bits stop nothing: the ordinary user is
//! `nobody` then, and root is tested as well.

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use support::webapp::DjangoForum;
use tempfile::TempDir;

const NOW: &str = "2026-03-10 00:00:00";

fn root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Who runs the binary.
#[derive(Debug, Clone, Copy, PartialEq)]
enum User {
    /// The user the tests run as (root in CI).
    Me,
    /// An ordinary user who may read the database but not write its
    /// folder: `nobody` when the tests run as root, else the user itself.
    Ordinary,
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn modcon(db: &Path, user: User, args: &[&str]) -> Run {
    let home = db.parent().unwrap().parent().unwrap();
    let mut cmd = support::clean_command(home);
    cmd.arg("--db").arg(db).args(["--now", NOW]).args(args);
    if user == User::Ordinary && root() {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok_json(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// The one `error:` line of a failed run.
fn error_line(r: &Run) -> String {
    assert_eq!(
        r.code,
        Some(1),
        "stdout: {}\nstderr: {}",
        r.stdout,
        r.stderr
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(lines[0].starts_with("error: "), "{}", r.stderr);
    lines[0].to_string()
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// A forum database in `site/` of a folder everyone may enter; the web
/// app's connection to it, when `live`, stays open.
struct Site {
    _dir: TempDir,
    folder: PathBuf,
    db: PathBuf,
    web: Option<Connection>,
}

impl Site {
    /// Closed by `close`: `site/` then holds what the web app left.
    fn new(wal: bool) -> Site {
        let f = DjangoForum::new();
        f.thread(&support::hex_id(1), "2026-03-01 10:00:00");
        f.post(
            &support::hex_id(2),
            &support::hex_id(1),
            "2026-03-01 10:00:00",
        );
        // The console's tables, as on a database it has worked on.
        support::json_on(&f.db, NOW, &["check"]);
        if wal {
            let mode: String = f
                .web
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
            f.web
                .execute_batch("PRAGMA wal_autocheckpoint = 0")
                .unwrap();
        }
        // A row written after: in WAL mode it lives in the -wal file.
        f.thread(&support::hex_id(3), "2026-03-02 10:00:00");
        let DjangoForum { dir, db, web, .. } = f;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let folder = dir.path().join("site");
        fs::create_dir(&folder).unwrap();
        let moved = folder.join("forum.sqlite3");
        // The web app's connection moves with its files: reopen there.
        drop(web);
        fs::rename(&db, &moved).unwrap();
        let web = Connection::open(&moved).unwrap();
        if wal {
            web.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
            // Writes that stay in the -wal file while the web app runs.
            web.execute(
                "UPDATE forum_thread SET title = 'in the wal' WHERE id = ?1",
                [support::hex_id(3)],
            )
            .unwrap();
        }
        Site {
            _dir: dir,
            folder,
            db: moved,
            web: Some(web),
        }
    }

    /// The web app stops cleanly: every change is in the main file, the
    /// -wal and -shm are gone.
    fn close(&mut self) {
        drop(self.web.take());
    }

    /// The web app was killed: its -wal stays, with changes the main file
    /// does not have, and no -shm.
    fn crash(&mut self) {
        let wal = side(&self.db, "-wal");
        let kept = fs::read(&wal).unwrap();
        assert!(kept.len() > 32, "the -wal holds changes");
        let main = fs::read(&self.db).unwrap();
        self.close();
        fs::write(&self.db, main).unwrap();
        fs::write(&wal, kept).unwrap();
        assert!(!side(&self.db, "-shm").exists());
    }

    /// The folder as `user` may not write it: root-owned 0755 for nobody;
    /// 0555 for root, whom SQLite would let write anyway.
    fn lock_folder(&self, user: User) {
        let mode = if user == User::Me { 0o555 } else { 0o755 };
        fs::set_permissions(&self.folder, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn unlock_folder(&self) {
        fs::set_permissions(&self.folder, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.unlock_folder();
    }
}

fn side(db: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", db.display()))
}

const READING: &[&[&str]] = &[
    &["stats", "--json"],
    &["--read-only", "stats", "--json"],
    &["list", "threads", "--json"],
    &["--read-only", "check", "--json"],
    &["purge", "--dry-run", "--json"],
    &["log", "--json"],
];

fn threads_of(r: &Run) -> i64 {
    ok_json(r)["threads"]["total"].as_i64().unwrap()
}

// ------------------------------------------------------------------- WAL

#[test]
fn a_wal_database_the_web_app_closed_is_read_in_a_folder_no_one_may_write_leaving_no_file() {
    for user in [User::Me, User::Ordinary] {
        for locked in [true, false] {
            let mut site = Site::new(true);
            site.close();
            assert!(!side(&site.db, "-wal").exists());
            if locked {
                site.lock_folder(user);
            }
            let before = (names(&site.folder), fs::read(&site.db).unwrap());
            for args in READING {
                let r = modcon(&site.db, user, args);
                assert_eq!(r.code, Some(0), "{user:?} {args:?}: {}", r.stderr);
                assert_eq!(
                    names(&site.folder),
                    before.0,
                    "{user:?} {args:?} left something beside the database"
                );
                assert!(fs::read(&site.db).unwrap() == before.1, "{user:?} {args:?}");
            }
            assert_eq!(
                threads_of(&modcon(&site.db, user, &["--read-only", "stats", "--json"])),
                2
            );
            let list = ok_json(&modcon(&site.db, user, &["list", "threads", "--json"]));
            assert!(list.to_string().contains("in the wal"), "{list}");
        }
    }
}

#[test]
fn a_live_wal_database_is_read_through_the_web_apps_own_files() {
    for user in [User::Me, User::Ordinary] {
        let site = Site::new(true);
        assert!(side(&site.db, "-wal").exists() && side(&site.db, "-shm").exists());
        site.lock_folder(user);
        let before = (names(&site.folder), fs::read(&site.db).unwrap());
        for args in READING {
            let r = modcon(&site.db, user, args);
            assert_eq!(r.code, Some(0), "{user:?} {args:?}: {}", r.stderr);
            assert_eq!(names(&site.folder), before.0, "{user:?} {args:?}");
            assert!(fs::read(&site.db).unwrap() == before.1, "{user:?} {args:?}");
        }
        // The rows only the -wal file holds are seen.
        let list = ok_json(&modcon(
            &site.db,
            user,
            &["--read-only", "list", "threads", "--json"],
        ));
        assert!(list.to_string().contains("in the wal"), "{user:?}: {list}");
    }
}

#[test]
fn a_wal_left_without_its_index_is_never_read_by_making_files_and_the_error_says_what_to_do() {
    for user in [User::Me, User::Ordinary] {
        let mut site = Site::new(true);
        site.crash();
        site.lock_folder(user);
        let before = (names(&site.folder), fs::read(&site.db).unwrap());
        let shown = site.db.display().to_string();
        // --read-only: no recovery, no new file; the advice is not to
        // pass the flag again.
        let line = error_line(&modcon(&site.db, user, &["--read-only", "stats"]));
        assert!(line.contains(&shown), "{line}");
        assert!(line.contains("-wal"), "{line}");
        assert!(line.contains("without --read-only"), "{line}");
        assert!(!line.contains("pass --read-only"), "{line}");
        // Without it, but with a folder this user may not write: the same
        // refusal, and advice that does not mention --read-only at all.
        let line = error_line(&modcon(&site.db, user, &["stats"]));
        assert!(line.contains(&shown), "{line}");
        assert!(line.contains("may not write"), "{line}");
        assert!(!line.contains("--read-only"), "{line}");
        assert_eq!(names(&site.folder), before.0);
        assert!(fs::read(&site.db).unwrap() == before.1);
        // Where the folder may be written, a reading command folds the
        // -wal into the database first, as the web app would, and leaves
        // no file behind.
        site.unlock_folder();
        if user == User::Me {
            assert_eq!(threads_of(&modcon(&site.db, user, &["stats", "--json"])), 2);
            assert_eq!(
                names(&site.folder),
                BTreeSet::from(["forum.sqlite3".to_string()])
            );
            let conn = Connection::open(&site.db).unwrap();
            let title: String = conn
                .query_row(
                    "SELECT title FROM forum_thread WHERE id = ?1",
                    [support::hex_id(3)],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(title, "in the wal");
        }
    }
}

// ------------------------------------------------------- writing refused

#[test]
fn writing_where_the_folder_may_not_be_written_names_the_file_and_what_to_do() {
    for user in [User::Me, User::Ordinary] {
        let mut site = Site::new(false);
        site.close();
        // The file itself may be written by anyone: only the folder stops
        // SQLite's journal.
        fs::set_permissions(&site.db, fs::Permissions::from_mode(0o666)).unwrap();
        site.lock_folder(user);
        let before = (names(&site.folder), fs::read(&site.db).unwrap());
        let line = error_line(&modcon(
            &site.db,
            user,
            &["delete", "thread", &support::hex_id(1)],
        ));
        assert!(
            line.contains(&site.db.display().to_string()),
            "{user:?}: {line}"
        );
        assert!(line.contains("directory"), "{user:?}: {line}");
        assert!(line.contains("--read-only"), "{user:?}: {line}");
        assert_eq!(names(&site.folder), before.0);
        assert!(fs::read(&site.db).unwrap() == before.1);
        // Reading still works, and leaves nothing behind.
        assert_eq!(threads_of(&modcon(&site.db, user, &["stats", "--json"])), 2);
        assert_eq!(names(&site.folder), before.0);
        assert!(fs::read(&site.db).unwrap() == before.1);
    }
}

// ------------------------------------------------------------------ locks

#[test]
fn a_reader_holding_a_rollback_journal_lock_is_named_as_the_reason_a_write_waits() {
    let mut site = Site::new(false);
    site.close();
    let reader = Connection::open(&site.db).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM forum_thread;")
        .unwrap();
    let r = modcon(
        &site.db,
        User::Me,
        &["delete", "thread", &support::hex_id(1)],
    );
    let line = error_line(&r);
    assert!(line.contains(&site.db.display().to_string()), "{line}");
    assert!(line.contains("database is locked"), "{line}");
    assert!(line.contains("reading"), "{line}");
    assert!(line.contains("try again"), "{line}");
    reader.execute_batch("COMMIT").unwrap();
    // Nothing of the refused write stayed.
    let active: i64 = reader
        .query_row(
            "SELECT is_active FROM forum_thread WHERE id = ?1",
            [support::hex_id(1)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(active, 1);
    assert_eq!(
        names(&site.folder),
        BTreeSet::from(["forum.sqlite3".to_string()])
    );
}

#[test]
fn a_busy_writer_is_named_as_the_reason() {
    let mut site = Site::new(false);
    site.close();
    let writer = Connection::open(&site.db).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    for args in [
        &["delete", "thread", "00000000000000000000000000000001"][..],
        &["check"],
    ] {
        let line = error_line(&modcon(&site.db, User::Me, args));
        assert!(line.contains(&site.db.display().to_string()), "{line}");
        assert!(line.contains("database is locked"), "{line}");
        assert!(line.contains("writing"), "{line}");
    }
    writer.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn the_consoles_own_actions_name_the_file_and_the_lock_too() {
    use modcon::tui::executor::{self, Op};
    use modcon_core::db::{Access, Db, OpenOptions};
    use modcon_core::rules::Target;

    let mut site = Site::new(false);
    site.close();
    let mut options = OpenOptions::new(Access::ReadWrite);
    options.busy_timeout = std::time::Duration::from_millis(200);
    let mut db = Db::open(&site.db, &options).unwrap();
    let reader = Connection::open(&site.db).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM forum_thread;")
        .unwrap();
    let ctx = support::ctx_as("mo", NOW);
    let op = Op::Delete(Target::new(
        modcon_core::model::Kind::Thread,
        support::hex_id(1),
    ));
    let err = executor::execute(&mut db, &ctx, &op, None, &executor::Why::default()).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains(&site.db.display().to_string()), "{text}");
    assert!(text.contains("database is locked"), "{text}");
    assert!(text.contains("reading"), "{text}");
    reader.execute_batch("COMMIT").unwrap();
}

#[test]
fn a_snapshot_of_a_closed_wal_database_is_opened_again_once_the_web_app_writes() {
    use modcon_core::db::{Access, Db, OpenOptions};

    let mut site = Site::new(true);
    site.close();
    // As --read-only opens it: no -wal, so a snapshot, and no file made.
    let mut db = Db::open(&site.db, &OpenOptions::new(Access::ReadOnly)).unwrap();
    assert!(db.is_snapshot());
    assert!(
        !db.reopen_if_files_changed().unwrap(),
        "nothing changed yet"
    );
    let titles = |db: &Db| -> i64 {
        db.sqlite("test")
            .unwrap()
            .query_row(
                "SELECT count(*) FROM forum_thread WHERE title = 'renamed'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(titles(&db), 0);
    // The web app comes back and writes: its -wal and -shm appear.
    let web = Connection::open(&site.db).unwrap();
    web.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
    web.execute(
        "UPDATE forum_thread SET title = 'renamed' WHERE id = ?1",
        [support::hex_id(1)],
    )
    .unwrap();
    assert!(db.reopen_if_files_changed().unwrap());
    assert!(
        !db.is_snapshot(),
        "now read live through the web app's files"
    );
    assert_eq!(titles(&db), 1);
    drop(db);
    drop(web);
    assert_eq!(
        names(&site.folder),
        BTreeSet::from(["forum.sqlite3".to_string()])
    );
}

/// The console's lanes, each with a connection of its own, opened as
/// `--read-only` opens them.
fn read_only_lanes(db: &Path) -> Vec<modcon_core::db::Db> {
    use modcon_core::db::{Access, Db, OpenOptions};
    let options = OpenOptions::new(Access::ReadOnly);
    (0..4).map(|_| Db::open(db, &options).unwrap()).collect()
}

/// Every lane, after looking at its files as it does before each piece of
/// work, sees the thread `id`.
fn every_lane_sees(lanes: &mut [modcon_core::db::Db], id: &str, when: &str) {
    for (lane, db) in lanes.iter_mut().enumerate() {
        db.reopen_if_files_changed().unwrap();
        let found: i64 = db
            .sqlite("test")
            .unwrap()
            .query_row(
                "SELECT count(*) FROM forum_thread WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 1, "lane {lane} does not see {when}");
    }
}

/// The web app, a process of its own, restarts `rounds` times while the
/// console's lanes read: started, it writes and keeps running; stopped
/// (its last connection closing removes the -wal and -shm unless a lock
/// says someone still reads); started again for one request. `meanwhile`
/// runs while it is up, before it stops.
fn web_app_restarts(site: &Site, lanes: &mut [modcon_core::db::Db], meanwhile: &dyn Fn()) {
    use support::webapp::{WebAppProcess, insert_thread_sql};
    let mut web = WebAppProcess::start(&site.db);
    for round in 0..3 {
        let running = support::hex_id(100 + round);
        let restarted = support::hex_id(200 + round);
        web.open();
        web.exec(&insert_thread_sql(&running, "written while running", NOW));
        every_lane_sees(
            lanes,
            &running,
            &format!("round {round}: a row the running web app wrote"),
        );
        meanwhile();
        web.close();
        every_lane_sees(
            lanes,
            &running,
            &format!("round {round}: that row once the web app stopped"),
        );
        web.open_write_close(&insert_thread_sql(
            &restarted,
            "written after a restart",
            NOW,
        ));
        every_lane_sees(
            lanes,
            &restarted,
            &format!("round {round}: a row written after a restart"),
        );
    }
}

/// The web app restarts while a `--read-only` console reads the database
/// live: the console, with a connection per lane as it runs, still sees
/// every row the web app commits. The web app is a process of its own:
/// SQLite shares locks and the -shm mapping within a process.
#[test]
fn a_read_only_console_sees_what_the_web_app_writes_after_it_restarts() {
    let mut site = Site::new(true);
    site.close();
    let mut lanes = read_only_lanes(&site.db);
    web_app_restarts(&site, &mut lanes, &|| {});
}

/// Something in the console's process opens and closes the database file
/// itself (which drops every lock the process holds on it: SQLite's own
/// documentation warns of it), so the web app's last connection removes
/// the -wal and -shm the console reads through: the console notices and
/// opens its connections again, and still sees every row.
#[test]
fn a_read_only_console_whose_locks_were_lost_still_sees_the_web_apps_rows() {
    let mut site = Site::new(true);
    site.close();
    let mut lanes = read_only_lanes(&site.db);
    let drop_locks = || drop(fs::File::open(&site.db).unwrap());
    web_app_restarts(&site, &mut lanes, &drop_locks);
}

/// A snapshot opened beside an empty -wal with no -shm (what a writer
/// leaves for a moment as it starts) sees the web app's first commit,
/// which changes the -wal and makes the -shm but not the database file.
#[test]
fn a_snapshot_beside_an_empty_wal_sees_the_web_apps_first_commit() {
    use support::webapp::{WebAppProcess, insert_thread_sql};
    let mut site = Site::new(true);
    site.close();
    fs::write(side(&site.db, "-wal"), b"").unwrap();
    let mut lanes = read_only_lanes(&site.db);
    assert!(lanes.iter().all(|db| db.is_snapshot()));
    let mut web = WebAppProcess::start(&site.db);
    web.open();
    let id = support::hex_id(100);
    web.exec(&insert_thread_sql(&id, "the first commit", NOW));
    every_lane_sees(&mut lanes, &id, "a commit only the -wal holds");
}
