//! Bad databases beyond the open-time checks: truncated files, a corrupt
//! page, unknown tables referencing forum rows, WAL files, a read-only
//! folder and the hot journal a crashed writer leaves. Each gives one
//! `error:` line and exit 1 with the file unchanged, or works correctly.

use crate::support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::model::Kind;
use modcon_core::rules::{self, Target};
use support::{Forum, fixture, hex_id};
use support::{Run, assert_error, assert_sound, bin, run, web_conn};

const NOW: &str = "2026-11-26 12:00:00";
const OLD: &str = "2026-10-12 12:00:00";

fn modcon(db: &Path, args: &[&str]) -> Run {
    let mut cmd = bin(db.parent().unwrap());
    cmd.arg("--db").arg(db).args(["--now", NOW]).args(args);
    run(cmd)
}

/// A thread of the fixture that has posts with active attachments.
const FIXTURE_THREAD: &str = "9b15560670ca42f2b5aeb50422ae9bbd";

/// Every command that changes the database, and every one that reads it.
const WRITERS: &[&[&str]] = &[
    &["check"],
    &["check", "--fix"],
    &["purge", "--keep-files"],
    &["delete", "thread", FIXTURE_THREAD],
    &["migrate"],
];
const READERS: &[&[&str]] = &[
    &["stats"],
    &["list", "threads"],
    &["list", "posts"],
    &["list", "attachments"],
    &["log"],
    &["purge", "--dry-run"],
    &["migrate", "--dry-run"],
    &["--read-only", "check"],
];

/// Runs `args`; when it fails, it must fail cleanly with `needle` and
/// leave the file as it was. Returns whether it failed.
fn fails_cleanly(db: &Path, args: &[&str], needle: &str) -> bool {
    let before = fs::read(db).unwrap();
    let r = modcon(db, args);
    if r.code == Some(0) {
        return false;
    }
    assert_error(&r, needle);
    assert_eq!(
        r.stderr.matches(needle).count(),
        1,
        "said once: {}",
        r.stderr
    );
    assert!(
        fs::read(db).unwrap() == before,
        "{args:?} failed and changed the file"
    );
    true
}

#[test]
fn truncated_files_are_refused_unchanged() {
    let f = fixture();
    let whole = fs::read(&f.db).unwrap();
    for (len, needle) in [
        (100, "truncated SQLite database (100 bytes)"),
        (whole.len() / 2, "database disk image is malformed"),
        (4096 * 3, "database disk image is malformed"),
        (whole.len() - 4096, "database disk image is malformed"),
    ] {
        fs::write(&f.db, &whole[..len]).unwrap();
        for args in WRITERS.iter().chain(READERS) {
            assert!(
                fails_cleanly(&f.db, args, needle),
                "{args:?} on {len} bytes"
            );
            assert!(!f.db.with_extension("sqlite3-journal").exists());
        }
    }
    // One clear line: SQLite's message once, not twice.
    fs::write(&f.db, &whole[..whole.len() / 2]).unwrap();
    let r = modcon(&f.db, &["stats"]);
    assert_eq!(r.stderr.matches("malformed").count(), 1, "{}", r.stderr);
}

/// The root page of `table`'s b-tree, overwritten with garbage.
fn corrupt_root_of(db: &Path, table: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let page: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = ?1",
            [table],
            |r| r.get(0),
        )
        .unwrap();
    let size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let mut bytes = fs::read(db).unwrap();
    let start = ((page - 1) * size) as usize;
    for (i, b) in bytes[start..start + 64].iter_mut().enumerate() {
        *b = if i == 0 { 0x0d } else { 0xff };
    }
    fs::write(db, bytes).unwrap();
}

#[test]
fn a_corrupt_page_fails_cleanly_and_changes_nothing() {
    for table in ["forum_post", "forum_attachment"] {
        for opened_before in [false, true] {
            let f = fixture();
            if opened_before {
                // The console has worked on it before: its tables exist,
                // deleted rows of unknown age are stamped, the log has an entry.
                let r = modcon(&f.db, &["delete", "thread", FIXTURE_THREAD]);
                assert_eq!(r.code, Some(0), "{}", r.stderr);
                let r = modcon(&f.db, &["undo"]);
                assert_eq!(r.code, Some(0), "{}", r.stderr);
                // Something for a later check to stamp.
                web_conn(&f.db)
                    .execute_batch(&format!(
                        "UPDATE forum_thread SET is_active = 0, updated_at = '2026-11-25 00:00:00' \
                         WHERE id IN (SELECT id FROM forum_thread WHERE is_active = 1 \
                                      AND id <> '{FIXTURE_THREAD}' LIMIT 2)"
                    ))
                    .unwrap();
            }
            corrupt_root_of(&f.db, table);
            let label = format!("{table}, opened before: {opened_before}");
            for args in WRITERS {
                assert!(
                    fails_cleanly(&f.db, args, "database disk image is malformed"),
                    "{label}: {args:?} succeeded on a corrupt table"
                );
            }
            let mut failed = 0;
            for args in READERS {
                failed += fails_cleanly(&f.db, args, "database disk image is malformed") as u32;
            }
            assert!(
                failed >= 3,
                "{label}: only {failed} reads noticed the corrupt page"
            );
        }
    }
}

// ------------------------------------------------------------ other tables

use support::ctx;

#[test]
fn unknown_tables_referencing_forum_rows_keep_those_rows() {
    let f = Forum::new();
    let id = hex_id;
    let c = &f.conn;
    c.execute_batch(
        "CREATE TABLE shop_order (id integer PRIMARY KEY, post_id char(32) NULL REFERENCES forum_post (id) DEFERRABLE INITIALLY DEFERRED);
         CREATE TABLE wiki_link (id integer PRIMARY KEY, thread_id char(32) NOT NULL REFERENCES forum_thread (id));
         CREATE TABLE gallery_pick (id integer PRIMARY KEY, attachment_id char(32) REFERENCES forum_attachment (id));
         CREATE TABLE forum_note (id integer PRIMARY KEY, flag_id char(32) REFERENCES forum_flaggedcontent (id),
                                  reaction_id char(32) REFERENCES forum_reaction (id));",
    )
    .unwrap();
    // Threads 1..=4, each with a post and an attachment, all deleted 45
    // days ago; posts 5..=7 deleted in the active thread 9; lone
    // attachments 8 (referenced) and 10 (not).
    let host = id(9);
    f.thread(&host, true);
    f.post(&id(90), &host, true);
    let mut targets = Vec::new();
    for t in 1..=4 {
        f.thread(&id(t), true);
        f.post(&id(10 * t + 100), &id(t), true);
        f.attachment(
            &id(10 * t + 200),
            &id(10 * t + 100),
            &format!("forum/attachments/{t}.png"),
            None,
            true,
        );
        targets.push(Target::new(Kind::Thread, id(t)));
    }
    for p in 5..=7 {
        f.post(&id(p), &host, true);
        f.attachment(
            &id(p + 300),
            &id(p),
            &format!("forum/attachments/p{p}.png"),
            None,
            true,
        );
        targets.push(Target::new(Kind::Post, id(p)));
    }
    f.attachment(&id(8), &id(90), "forum/attachments/8.png", Some(OLD), true);
    f.attachment(
        &id(10),
        &id(90),
        "forum/attachments/10.png",
        Some(OLD),
        true,
    );
    c.execute_batch(&format!(
        "INSERT INTO forum_flaggedcontent VALUES ('{fl}', 'post', 'spam', 'open', '2026-01-01 00:00:00', 1, '{p5}', NULL);
         INSERT INTO forum_reaction VALUES ('{re}', 'like', 1, '{p6}', 1);
         INSERT INTO wiki_link VALUES (1, '{t1}');
         INSERT INTO shop_order VALUES (1, '{t2p}');
         INSERT INTO gallery_pick VALUES (1, '{t3a}'), (2, '{a8}');
         INSERT INTO forum_note VALUES (1, '{fl}', NULL), (2, NULL, '{re}');",
        fl = id(500),
        re = id(501),
        p5 = id(5),
        p6 = id(6),
        t1 = id(1),
        t2p = id(120),
        t3a = id(230),
        a8 = id(8),
    ))
    .unwrap();
    {
        let mut db = Db::open(&f.db, &OpenOptions::new(Access::ReadWrite)).unwrap();
        let tx = db.write_tx().unwrap();
        for t in &targets {
            rules::delete_in(tx.conn(), &ctx(OLD), t).unwrap();
        }
        tx.commit().unwrap();
    }
    let media = support::arg(&f.media);
    let purge_args = ["--media-root", media.as_str(), "purge", "--json"];
    let blocked = [
        ("thread", id(1), "wiki_link.thread_id"),
        ("thread", id(2), "shop_order.post_id"),
        ("thread", id(3), "gallery_pick.attachment_id"),
        ("post", id(5), "forum_note.flag_id"),
        ("post", id(6), "forum_note.reaction_id"),
        ("attachment", id(8), "gallery_pick.attachment_id"),
    ];
    let skipped = |report: &serde_json::Value| -> Vec<(String, String, String)> {
        let mut rows: Vec<_> = report["skipped_rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["kind"].as_str().unwrap().to_string(),
                    s["id"].as_str().unwrap().to_string(),
                    s["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let mut want: Vec<(String, String, String)> = blocked
        .iter()
        .map(|(k, i, by)| {
            (
                k.to_string(),
                i.clone(),
                format!("referenced from {by} (not a table the web app cascades to)"),
            )
        })
        .collect();
    want.sort();
    // Reading works; check names the references.
    assert_eq!(modcon(&f.db, &["stats"]).code, Some(0));
    let check = modcon(&f.db, &["check", "--json"]).json();
    let mut refs: Vec<&str> = check["report"]["foreign_references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    refs.sort();
    assert_eq!(
        refs,
        [
            "forum_note.flag_id → forum_flaggedcontent",
            "forum_note.reaction_id → forum_reaction",
            "gallery_pick.attachment_id → forum_attachment",
            "shop_order.post_id → forum_post",
            "wiki_link.thread_id → forum_thread",
        ]
    );
    let dry = modcon(&f.db, &["purge", "--dry-run", "--json"]).json();
    assert_eq!(skipped(&dry), want, "the plan reports them");
    for round in 0..2 {
        let r = modcon(&f.db, &purge_args);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let report = r.json();
        assert_eq!(skipped(&report), want, "round {round}");
        let removed = if round == 0 { (1, 2, 3) } else { (0, 0, 0) };
        assert_eq!(
            (
                report["threads"].as_i64(),
                report["posts"].as_i64(),
                report["attachments"].as_i64()
            ),
            (Some(removed.0), Some(removed.1), Some(removed.2)),
            "round {round}: thread 4 with its post and attachment, post 7 with its attachment, attachment 10"
        );
    }
    assert_sound(c);
    for (kind, i, _) in &blocked {
        let table = Kind::parse(kind).unwrap().table();
        assert_eq!(f.active(table, i), Some(false), "{kind} {i} kept");
    }
    assert_eq!(f.active("forum_post", &id(120)), Some(false));
    assert_eq!(f.active("forum_attachment", &id(230)), Some(false));
    for gone in [
        ("forum_thread", id(4)),
        ("forum_post", id(7)),
        ("forum_attachment", id(10)),
    ] {
        assert_eq!(f.active(gone.0, &gone.1), None, "{gone:?} purged");
    }
    assert_eq!(support::count(c, "SELECT count(*) FROM forum_note"), 2);
    assert_eq!(support::count(c, "SELECT count(*) FROM gallery_pick"), 2);
    assert!(f.exists("forum/attachments/8.png") && f.exists("forum/attachments/3.png"));
    assert!(!f.exists("forum/attachments/10.png") && !f.exists("forum/attachments/4.png"));
    let human = modcon(&f.db, &["--media-root", media.as_str(), "purge"]).stdout;
    assert!(
        human.contains(&format!(
            "skipped thread {}: referenced from wiki_link.thread_id (not a table the web app cascades to)",
            id(1)
        )),
        "{human}"
    );
}

// -------------------------------------------------------------------- WAL

fn wal_forum() -> Forum {
    let f = Forum::new();
    f.thread(&hex_id(1), true);
    f.post(&hex_id(2), &hex_id(1), true);
    let mode: String = f
        .conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    f.conn
        .execute_batch("PRAGMA wal_autocheckpoint = 0")
        .unwrap();
    // Rows that live only in the -wal file.
    f.thread(&hex_id(3), true);
    f.post(&hex_id(4), &hex_id(3), true);
    f.attachment(
        &hex_id(5),
        &hex_id(4),
        "forum/attachments/5.png",
        None,
        false,
    );
    assert!(wal_of(&f.db).exists());
    f
}

fn wal_of(db: &Path) -> PathBuf {
    db.with_extension("sqlite3-wal")
}

fn threads_total(db: &Path, read_only: bool) -> serde_json::Value {
    let mut args = vec!["stats", "--json"];
    if read_only {
        args.insert(0, "--read-only");
    }
    let r = modcon(db, &args);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.json()["threads"]["total"].clone()
}

#[test]
fn a_live_wal_database_is_read_and_written_in_place() {
    let f = wal_forum();
    let main_before = fs::read(&f.db).unwrap();
    assert_eq!(
        threads_total(&f.db, true),
        2,
        "a read-only open sees the -wal file's rows"
    );
    assert_eq!(threads_total(&f.db, false), 2);
    assert!(
        fs::read(&f.db).unwrap() == main_before,
        "reading changed the main file"
    );
    let r = modcon(&f.db, &["delete", "thread", &hex_id(3), "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.json()["attachments"], 1);
    // The web app's connection sees the change; the mode is still WAL.
    assert_eq!(f.active("forum_thread", &hex_id(3)), Some(false));
    assert_eq!(f.active("forum_attachment", &hex_id(5)), Some(false));
    let mode: String = f
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_sound(&f.conn);
}

#[test]
fn a_wal_file_left_by_a_crashed_writer_is_not_lost() {
    let f = wal_forum();
    // What a crash leaves: the main file and its -wal, no -shm.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.sqlite3");
    fs::copy(&f.db, &db).unwrap();
    fs::copy(wal_of(&f.db), wal_of(&db)).unwrap();
    let main_before = fs::read(&db).unwrap();
    // --read-only cannot read the -wal without making its -shm index
    // beside the database: refused, with what to do, nothing made.
    let r = modcon(&db, &["--read-only", "stats"]);
    assert_error(&r, "open it once without --read-only");
    assert!(
        fs::read(&db).unwrap() == main_before,
        "a read-only open changed the main file"
    );
    assert!(!db.with_extension("sqlite3-shm").exists());
    // Any other reading command folds the -wal in first, as the web app's
    // next connection would, and leaves no file behind.
    assert_eq!(threads_total(&db, false), 2);
    assert!(!wal_of(&db).exists());
    assert!(!db.with_extension("sqlite3-shm").exists());
    let r = modcon(&db, &["delete", "thread", &hex_id(3)]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let conn = web_conn(&db);
    assert_sound(&conn);
    assert_eq!(
        support::count(&conn, "SELECT count(*) FROM forum_thread"),
        2
    );
    assert_eq!(
        support::count(
            &conn,
            "SELECT count(*) FROM forum_attachment WHERE is_active = 0"
        ),
        1
    );
}

// --------------------------------------------------------- file system

#[test]
fn a_database_in_a_read_only_folder_is_read_but_never_written() {
    let f = Forum::new();
    f.thread(&hex_id(1), true);
    f.post(&hex_id(2), &hex_id(1), true);
    let dir = f.dir.path().to_path_buf();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    let before = fs::read(&f.db).unwrap();
    for args in [
        &["delete", "thread", "0000000000000000000000000000000"][..],
        &["check"],
        &["purge", "--keep-files"],
        &["migrate"],
    ] {
        let r = modcon(&f.db, args);
        assert_error(&r, "the database's directory is read-only");
        assert!(fs::read(&f.db).unwrap() == before, "{args:?}");
    }
    for args in [
        &["stats"][..],
        &["list", "threads"],
        &["--read-only", "check"],
        &["purge", "--dry-run"],
        &["log"],
    ] {
        let r = modcon(&f.db, args);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
    }
    assert!(fs::read(&f.db).unwrap() == before);
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A copy of `db` as a crashed writer leaves it: a change half written to
/// the main file, the rollback journal beside it, nobody holding a lock.
fn crashed_copy(f: &Forum) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.sqlite3");
    f.conn
        .execute_batch("PRAGMA cache_size = 1; BEGIN")
        .unwrap();
    f.conn
        .execute_batch("UPDATE forum_post SET content_raw = hex(randomblob(2000)), is_active = 0")
        .unwrap();
    let journal = f.db.with_extension("sqlite3-journal");
    assert!(
        journal.exists(),
        "a rollback journal while the write is open"
    );
    fs::copy(&f.db, &db).unwrap();
    fs::copy(&journal, db.with_extension("sqlite3-journal")).unwrap();
    f.conn
        .execute_batch("ROLLBACK; PRAGMA cache_size = -2000")
        .unwrap();
    (dir, db)
}

#[test]
fn a_hot_journal_left_by_a_crash_is_rolled_back_unless_read_only() {
    let f = Forum::new();
    f.thread(&hex_id(1), true);
    for n in 0..200 {
        f.post(&hex_id(100 + n), &hex_id(1), true);
    }
    // The console's tables, so a read-write open has nothing of its own to add.
    Db::open(&f.db, &OpenOptions::new(Access::ReadWrite)).unwrap();
    let committed = support::dump(&f.conn);

    // --read-only cannot roll it back: one clear line, nothing touched.
    let (_d1, db) = crashed_copy(&f);
    let main_before = fs::read(&db).unwrap();
    assert!(
        main_before != fs::read(&f.db).unwrap(),
        "the copy is half written"
    );
    let r = modcon(&db, &["--read-only", "stats"]);
    assert_error(&r, "interrupted write");
    assert!(r.stderr.contains("without --read-only"), "{}", r.stderr);
    assert!(fs::read(&db).unwrap() == main_before);
    assert!(db.with_extension("sqlite3-journal").exists());

    // Any other command rolls it back first and reads the committed state.
    for args in [
        &["stats", "--json"][..],
        &["list", "posts", "--json"],
        &["check", "--json"],
    ] {
        let (_d, db) = crashed_copy(&f);
        let r = modcon(&db, args);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        if args[0] == "stats" {
            assert_eq!(r.json()["posts"]["active"], 200);
        }
        let conn = web_conn(&db);
        assert_sound(&conn);
        assert_eq!(
            support::count(&conn, "SELECT count(*) FROM forum_post WHERE is_active = 1"),
            200
        );
        let mut now = support::dump(&conn);
        let mut then = committed.clone();
        if args[0] == "check" {
            // check adds what it does itself: nothing to stamp here.
            now.remove("modcon_deletion");
            then.remove("modcon_deletion");
        }
        assert_eq!(now, then, "{args:?}");
    }
}

/// A kind or an action the console never writes, found in its own log
/// tables (a hand edit, a newer modcon): an error naming it, never read
/// as an attachment or undone as something else.
#[test]
fn an_unknown_stored_kind_or_action_is_an_error_naming_it() {
    let f = fixture();
    let r = modcon(&f.db, &["delete", "thread", FIXTURE_THREAD]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    web_conn(&f.db)
        .execute("UPDATE modcon_change SET kind = 'gizmo'", [])
        .unwrap();
    assert_error(&modcon(&f.db, &["log", "--entry", "1"]), "\"gizmo\"");
    assert_error(&modcon(&f.db, &["undo"]), "\"gizmo\"");
    web_conn(&f.db)
        .execute("UPDATE modcon_action SET action = 'teleport'", [])
        .unwrap();
    assert_error(&modcon(&f.db, &["log"]), "\"teleport\"");
}
