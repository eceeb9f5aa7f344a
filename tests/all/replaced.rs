//! A database file replaced while a read-write connection has it open
//! (an operator restoring a backup: `mv backup.sqlite3 forum.sqlite3`):
//! no write goes to the old file, none to the new one either, the action
//! is refused in words, and the console shows the new file's data.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use clap::Parser;
use modcon::cli::Cli;
use modcon::config::{Config, Settings};
use modcon::tui::executor::{self, Op, Why};
use modcon::tui::harness::Harness;
use modcon_core::Ctx;
use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::flags::ReviewAction;
use modcon_core::media::MediaRoot;
use modcon_core::model::{Kind, parse_datetime};
use modcon_core::purge::{self, PurgeOptions};
use modcon_core::rules::Target;

/// What a backup restored over the database says about itself.
const RESTORED_TITLE: &str = "Restored from the backup";

/// A demo database and, beside it, a copy taken now (the backup) that
/// differs in one thread's title, so what is read can be told apart.
struct Restore {
    demo: support::Demo,
    backup: PathBuf,
    /// A second name of the file that is at the path until the restore,
    /// so it can still be looked at afterwards.
    old: PathBuf,
}

impl Restore {
    fn new() -> Restore {
        Restore::with_journal("delete")
    }

    /// With the database (and so its backup) in `mode`: "delete", "wal".
    fn with_journal(mode: &str) -> Restore {
        let demo = support::demo(5, 1);
        let set: String = support::open(&demo.db)
            .query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(set, mode);
        let backup = demo.dir.path().join("backup.sqlite3");
        fs::copy(&demo.db, &backup).unwrap();
        let conn = support::open(&backup);
        conn.execute(
            "UPDATE forum_thread SET title = ?1 \
             WHERE id = (SELECT id FROM forum_thread ORDER BY id LIMIT 1)",
            [RESTORED_TITLE],
        )
        .unwrap();
        // One thread fewer active, so the counts differ too.
        conn.execute(
            "UPDATE forum_thread SET is_active = 0 \
             WHERE id = (SELECT id FROM forum_thread WHERE is_active = 1 ORDER BY id DESC LIMIT 1)",
            [],
        )
        .unwrap();
        drop(conn);
        let old = demo.dir.path().join("old.sqlite3");
        fs::hard_link(&demo.db, &old).unwrap();
        Restore { demo, backup, old }
    }

    fn db(&self) -> &Path {
        &self.demo.db
    }

    /// `mv backup.sqlite3 demo.sqlite3`.
    fn restore(&self) {
        fs::rename(&self.backup, &self.demo.db).unwrap();
    }

    /// The old file's and the new file's bytes.
    fn bytes(&self) -> (Vec<u8>, Vec<u8>) {
        let new = if self.backup.exists() {
            &self.backup
        } else {
            &self.demo.db
        };
        (fs::read(&self.old).unwrap(), fs::read(new).unwrap())
    }

    fn open(&self) -> Db {
        Db::open(self.db(), &OpenOptions::new(Access::ReadWrite)).unwrap()
    }

    /// An active thread, a deleted one, and a pending flag with its
    /// target, as the file at the path holds them now.
    fn targets(&self) -> (String, String, String, Target) {
        let conn = support::open(self.db());
        let one = |sql: &str| -> String { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        let active = one("SELECT id FROM forum_thread WHERE is_active = 1 ORDER BY id LIMIT 1");
        let deleted = one("SELECT id FROM forum_thread WHERE is_active = 0 ORDER BY id LIMIT 1");
        let (flag, post, thread): (String, Option<String>, Option<String>) = conn
            .query_row(
                "SELECT id, post_id, thread_id FROM forum_flaggedcontent \
                 WHERE status = 'pending' ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let target = match (post, thread) {
            (Some(post), _) => Target::new(Kind::Post, post),
            (None, Some(thread)) => Target::new(Kind::Thread, thread),
            _ => panic!("a flag without content"),
        };
        (active, deleted, flag, target)
    }
}

fn ctx(actor: &str) -> Ctx {
    support::ctx_as(actor, support::DEMO_NOW)
}

/// Deletes a thread as `mo`, the way the console's executor does.
fn delete_thread(db: &mut Db, id: &str) -> anyhow::Result<executor::Executed> {
    let op = Op::Delete(Target::new(Kind::Thread, id.to_string()));
    executor::execute(db, &ctx("mo"), &op, None, &Why::default())
}

fn assert_replaced(text: &str) {
    assert!(text.contains("was replaced by another file"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
}

#[test]
fn every_write_action_on_a_replaced_file_is_refused_and_changes_neither_file() {
    let r = Restore::new();
    let (active, deleted, flag, flagged) = r.targets();
    let mut db = r.open();
    // Something to undo, in the file that is at the path now.
    delete_thread(&mut db, &active).unwrap();
    r.restore();
    let before = r.bytes();
    let ops = [
        Op::Delete(Target::new(Kind::Thread, active.clone())),
        Op::Restore(Target::new(Kind::Thread, deleted)),
        Op::Undo,
        Op::Fix,
        Op::Review {
            flag,
            action: ReviewAction::Approve,
            target: flagged,
        },
    ];
    for op in &ops {
        let ctx = ctx(modcon_core::demo::DEMO_STAFF);
        let why = Why::of("restored meanwhile", None);
        let err = executor::execute(&mut db, &ctx, op, None, &why).unwrap_err();
        assert_replaced(&format!("{err:#}"));
        let err = executor::preview(&mut db, &ctx, op).unwrap_err();
        assert_replaced(&format!("{err:#}"));
        assert!(before == r.bytes(), "{op:?} changed a file");
    }
    // check --fix and check's first-seen stamps, through the core.
    let err = modcon_core::check::run(&mut db, &ctx("mo"), None).unwrap_err();
    assert_replaced(&format!("{err:#}"));
    // migrate: its one transaction is refused as it begins.
    let err = db.write_tx().map(drop).unwrap_err();
    assert_replaced(&format!("{err:#}"));
    assert!(before == r.bytes(), "a file changed");

    // Opened again, the connection reads and writes the new file.
    assert!(db.reopen_if_files_changed().unwrap());
    delete_thread(&mut db, &active).unwrap();
    let (old, new) = r.bytes();
    assert!(old == before.0, "the old file stayed as it was");
    assert!(new != before.1, "the delete went to the new file");
    let conn = support::open(r.db());
    let still: i64 = conn
        .query_row(
            "SELECT is_active FROM forum_thread WHERE id = ?1",
            [&active],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(still, 0);
}

/// A WAL database restored by moving the backup over it alone: the old
/// file's -wal and -shm stay beside the new file, and SQLite would read
/// the new file through them. The connection is not opened on it until
/// they are moved away; then it works on the new file, which stays sound.
#[test]
fn a_wal_database_restored_beside_the_old_files_wal_is_not_read_through_it() {
    let r = Restore::with_journal("wal");
    let (active, ..) = r.targets();
    let mut db = r.open();
    let wal = modcon_core::db::side_file(r.db(), "-wal");
    let shm = modcon_core::db::side_file(r.db(), "-shm");
    // A write of the old file sits in its -wal.
    delete_thread(&mut db, &active).unwrap();
    assert!(wal.exists() && shm.exists());
    r.restore();
    let before = r.bytes();
    let err = delete_thread(&mut db, &active).unwrap_err();
    assert_replaced(&format!("{err:#}"));
    let err = db.reopen_if_files_changed().unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("demo.sqlite3-wal and demo.sqlite3-shm"),
        "{text}"
    );
    assert!(text.contains("move them away"), "{text}");
    assert!(before == r.bytes(), "a file changed");
    // Still refused, still not opened, until they are gone.
    assert!(db.write_tx().is_err());
    fs::remove_file(&wal).unwrap();
    fs::remove_file(&shm).unwrap();
    assert!(db.reopen_if_files_changed().unwrap());
    let title: String = db
        .conn()
        .query_row(
            "SELECT title FROM forum_thread ORDER BY id LIMIT 1",
            &[],
            |r| r.text(0),
        )
        .unwrap();
    assert_eq!(title, RESTORED_TITLE);
    delete_thread(&mut db, &active).unwrap();
    drop(db);
    let conn = support::open(r.db());
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let still = support::count(
        &conn,
        &format!("SELECT is_active FROM forum_thread WHERE id = '{active}'"),
    );
    assert_eq!(still, 0, "the delete went to the restored file");
    let title: String = conn
        .query_row(
            "SELECT title FROM forum_thread ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(title, RESTORED_TITLE);
}

#[test]
fn a_file_replaced_inside_a_transaction_is_not_committed_to() {
    let r = Restore::new();
    let mut db = r.open();
    let tx = db.write_tx().unwrap();
    let changed = tx
        .conn()
        .execute(
            "UPDATE forum_thread SET title = 'written to the old file'",
            &[],
        )
        .unwrap();
    assert!(changed > 0);
    r.restore();
    let before = r.bytes();
    let err = tx.commit().unwrap_err();
    assert_replaced(&format!("{err:#}"));
    assert!(before == r.bytes(), "a file changed");
    let titles = support::count(
        &support::open(&r.old),
        "SELECT count(*) FROM forum_thread WHERE title = 'written to the old file'",
    );
    assert_eq!(titles, 0, "the old file's transaction was rolled back");
}

#[test]
fn a_removed_file_is_an_error_saying_so_and_nothing_is_written_anywhere() {
    let r = Restore::new();
    let (active, ..) = r.targets();
    let mut db = r.open();
    fs::remove_file(r.db()).unwrap();
    let old = fs::read(&r.old).unwrap();
    let err = delete_thread(&mut db, &active).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("was removed"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(!r.db().exists(), "no file was made at the path");
    assert!(
        fs::read(&r.old).unwrap() == old,
        "the old file is unchanged"
    );
    let err = db.reopen_if_files_changed().unwrap_err();
    assert!(format!("{err:#}").contains("was removed"), "{err:#}");
    assert!(!r.db().exists());
}

/// The console says once, in its message line, that its database file is
/// gone, and keeps refusing to act.
#[test]
fn the_console_says_when_its_database_file_was_removed() {
    let r = Restore::new();
    let mut h = Harness::with_lanes(&settings(r.db()), r.open(), 120, 40).unwrap();
    fs::remove_file(r.db()).unwrap();
    let old = fs::read(&r.old).unwrap();
    h.tick();
    let screen = h.screen();
    assert!(
        screen.contains("was removed while modcon had it open"),
        "{screen}"
    );
    // The delete's confirmation is refused as it opens.
    h.keys(&["d"]);
    let screen = h.screen();
    assert!(screen.contains("Cannot delete this thread"), "{screen}");
    assert!(screen.contains("was removed while modcon"), "{screen}");
    h.keys(&["y"]);
    assert!(
        !matches!(h.app.overlay, Some(modcon::tui::app::Overlay::Confirm(_))),
        "no confirmation opened"
    );
    assert!(!r.db().exists(), "no file was made at the path");
    assert!(
        fs::read(&r.old).unwrap() == old,
        "the old file is unchanged"
    );
}

/// The purge's media, and the files of every attachment row of `db`.
fn files_of(db: &Path, media: &Path) -> Vec<PathBuf> {
    let images: Vec<String> =
        support::column(&support::open(db), "SELECT image FROM forum_attachment");
    images.iter().map(|i| media.join(i)).collect()
}

/// A purge whose database is restored after batch `at`: it stops there,
/// the batches done stay done in the old file, the new file is untouched
/// and no file is removed (the new file may still name every one).
fn purge_restored_after_batch(at: u64, last: bool) {
    let r = Restore::new();
    let media = MediaRoot::open(&r.demo.media).unwrap();
    let mut db = r.open();
    let options = PurgeOptions {
        retention_days: 30,
        batch_size: 1,
        dry_run: false,
        keep_files: false,
    };
    let plan = purge::run(
        &mut r.open(),
        &ctx("mo"),
        Some(&media),
        &PurgeOptions {
            dry_run: true,
            ..options.clone()
        },
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(plan.batches > 2, "{plan:?}");
    let at = if last { plan.batches } else { at };
    let rows_before = support::count(
        &support::open(r.db()),
        "SELECT count(*) FROM forum_attachment",
    ) + support::count(&support::open(r.db()), "SELECT count(*) FROM forum_post")
        + support::count(&support::open(r.db()), "SELECT count(*) FROM forum_thread");
    let files: Vec<PathBuf> = files_of(&r.backup, &r.demo.media)
        .into_iter()
        .filter(|f| f.exists())
        .collect();
    assert!(!files.is_empty());
    let new_before = fs::read(&r.backup).unwrap();
    let mut restored = false;
    let err = purge::run(
        &mut db,
        &ctx("mo"),
        Some(&media),
        &options,
        &mut |p| {
            if p.batch == at && !restored {
                r.restore();
                restored = true;
            }
        },
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(restored);
    let text = format!("{err:#}");
    assert!(text.contains("was replaced by another file"), "{text}");
    assert!(text.contains("purge stopped"), "{text}");
    assert!(text.contains(&format!("after batch {at}")), "{text}");
    assert!(text.contains("stay done in the file"), "{text}");
    assert!(text.contains("were kept"), "{text}");
    assert!(
        fs::read(r.db()).unwrap() == new_before,
        "the new file is untouched"
    );
    let old = support::open(&r.old);
    let rows_after = support::count(&old, "SELECT count(*) FROM forum_attachment")
        + support::count(&old, "SELECT count(*) FROM forum_post")
        + support::count(&old, "SELECT count(*) FROM forum_thread");
    assert!(
        rows_after < rows_before
            && rows_after
                >= rows_before
                    - plan.removed.attachments as i64
                    - plan.removed.posts as i64
                    - plan.removed.threads as i64,
        "the batches done stay done in the old file: {rows_before} -> {rows_after}"
    );
    let gone: Vec<&PathBuf> = files.iter().filter(|f| !f.exists()).collect();
    assert!(gone.is_empty(), "files removed: {gone:?}");
}

#[test]
fn a_purge_stops_before_its_next_batch_when_its_file_is_replaced() {
    purge_restored_after_batch(1, false);
}

#[test]
fn a_purge_whose_file_is_replaced_after_its_last_batch_removes_no_file() {
    purge_restored_after_batch(0, true);
}

fn settings(db: &Path) -> Settings {
    let cli = Cli::try_parse_from([
        "modcon",
        "--db",
        db.to_str().unwrap(),
        "--now",
        support::DEMO_NOW,
        "--actor",
        "mo",
    ])
    .unwrap();
    Settings::resolve_with(&cli.globals(), Config::default()).unwrap()
}

/// The console as it runs, with a connection per lane: a delete confirmed
/// after the restore is refused in words and changes neither file; the
/// next live-refresh tick shows the restored file, where the next delete
/// goes.
#[test]
fn the_console_refuses_a_delete_confirmed_after_a_restore_and_shows_the_new_file() {
    let r = Restore::new();
    let mut h = Harness::with_lanes(&settings(r.db()), r.open(), 120, 40).unwrap();
    assert!(!h.screen().contains(RESTORED_TITLE));
    h.keys(&["d"]);
    assert!(h.screen().contains("Delete this thread?"), "{}", h.screen());
    r.restore();
    let before = r.bytes();
    h.keys(&["y"]);
    let screen = h.screen();
    assert!(screen.contains("Could not delete this thread"), "{screen}");
    assert!(screen.contains("was replaced by another file"), "{screen}");
    assert!(before == r.bytes(), "a file changed");
    h.keys(&["Esc"]);
    // Within a tick the lists and counts are the new file's.
    h.tick();
    let screen = h.screen();
    assert!(screen.contains(RESTORED_TITLE), "{screen}");
    let active_in = |db: &Path| {
        let db = Db::open(db, &OpenOptions::new(Access::ReadOnly)).unwrap();
        let cutoff = modcon_core::cutoff(parse_datetime(support::DEMO_NOW).unwrap(), 30);
        modcon_core::query::counts(db.conn(), db.schema(), &cutoff)
            .unwrap()
            .threads
            .active
    };
    let shown = h.app.counts.counts.as_ref().map(|c| c.threads.active);
    assert_eq!(shown, Some(active_in(r.db())));
    assert_ne!(shown, Some(active_in(&r.old)));
    // A delete now goes to the new file.
    let selected = h.app.threads.selected().unwrap().clone();
    assert!(selected.is_active);
    h.keys(&["d", "y"]);
    assert!(
        h.screen()
            .contains(&format!("deleted thread {}", selected.id)),
        "{}",
        h.screen()
    );
    let (old, _) = r.bytes();
    assert!(old == before.0, "the old file stayed as it was");
    let active = support::count(
        &support::open(r.db()),
        &format!(
            "SELECT is_active FROM forum_thread WHERE id = '{}'",
            selected.id
        ),
    );
    assert_eq!(active, 0);
}

/// A purge confirmed on the plan of a file since replaced is refused
/// before its first batch; planned again on the new file, it runs there.
#[test]
fn the_console_refuses_a_purge_planned_on_a_file_since_replaced() {
    let r = Restore::new();
    let files: Vec<PathBuf> = files_of(&r.backup, &r.demo.media)
        .into_iter()
        .filter(|f| f.exists())
        .collect();
    let mut h = Harness::with_lanes(&settings(r.db()), r.open(), 120, 40).unwrap();
    h.keys(&["P"]);
    assert!(h.screen().contains("Y purge (capital)"), "{}", h.screen());
    r.restore();
    let before = r.bytes();
    h.keys(&["Y"]);
    let screen = h.screen();
    assert!(
        screen.contains("purge stopped before its first batch"),
        "{screen}"
    );
    assert!(screen.contains("was replaced by another file"), "{screen}");
    assert!(before == r.bytes(), "a file changed");
    let gone: Vec<&PathBuf> = files.iter().filter(|f| !f.exists()).collect();
    assert!(gone.is_empty(), "files removed: {gone:?}");
    h.keys(&["Esc"]);
    h.tick();
    h.keys(&["P", "Y"]);
    assert!(h.screen().contains("Done in"), "{}", h.screen());
    let (old, new) = r.bytes();
    assert!(old == before.0, "the old file stayed as it was");
    assert!(new != before.1, "the purge ran on the new file");
}
