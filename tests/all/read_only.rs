//! `--read-only` means read-only: no command changes a byte of the
//! database or of the media root, whatever it would have done otherwise.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use support::{DEMO_NOW, demo, fixture};
use support::{assert_error, bin, run, snapshot};

/// Commands that only look, and what each must print.
const LOOKING: &[&[&str]] = &[
    &["stats"],
    &["stats", "--json"],
    &["list", "threads"],
    &["list", "posts", "--state", "deleted"],
    &["list", "attachments", "--json"],
    &["log"],
    &["log", "--json"],
    &["flags"],
    &["flags", "--status", "all", "--json"],
    &["check"],
    &["check", "--json"],
    &["purge", "--dry-run"],
    &["purge", "--dry-run", "--json"],
    &["migrate", "--dry-run"],
];

/// Commands that would change something, and are refused.
fn changing(thread: &str, deleted_thread: &str) -> Vec<Vec<String>> {
    [
        vec!["delete", "thread", thread],
        vec!["restore", "thread", deleted_thread],
        vec!["undo"],
        vec!["purge"],
        vec!["purge", "--keep-files"],
        vec!["purge", "--older-than", "0", "--batch-size", "1"],
        vec!["check", "--fix"],
        vec!["migrate"],
        vec!["review", "0000", "approve", "--reason", "read-only"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect()
}

fn first_id(db: &Path, sql: &str) -> String {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Runs every command with `--read-only` on `db` (media beside it) and
/// checks that no byte of anything in `dir` changed.
fn nothing_changes(dir: &Path, db: &Path, now: &str) {
    let before = snapshot(dir);
    let thread = first_id(
        db,
        "SELECT id FROM forum_thread WHERE is_active = 1 ORDER BY id",
    );
    let deleted = first_id(
        db,
        "SELECT id FROM forum_thread WHERE is_active = 0 ORDER BY id",
    );
    let cmd = |args: &[String]| {
        let mut c = bin(dir);
        c.arg("--db")
            .arg(db)
            .args(["--now", now, "--read-only"])
            .args(args);
        c
    };
    for args in LOOKING {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let r = run(cmd(&args));
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        assert!(!r.stdout.is_empty(), "{args:?} printed nothing");
        if args.last().is_some_and(|a| a == "--json") {
            r.json();
        }
        same(&before, &snapshot(dir), &format!("{args:?}"));
    }
    for args in changing(&thread, &deleted) {
        let r = run(cmd(&args));
        assert_error(&r, "read-only");
        same(&before, &snapshot(dir), &format!("{args:?}"));
    }
}

fn same(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>, what: &str) {
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(changed.is_empty(), "--read-only {what} changed {changed:?}");
}

#[test]
fn read_only_changes_no_byte_of_a_demo_database_or_its_media() {
    let d = demo(12, 7);
    // Leave a purge's file journal behind, so a purge would have files to
    // remove, an action to undo, and rows to stamp and to fix.
    let mut purge = bin(d.dir.path());
    purge
        .arg("--db")
        .arg(&d.db)
        .args(["--now", DEMO_NOW, "purge", "--batch-size", "1"])
        .env("MODCON_FAILPOINT", "purge-after-commit:exit");
    assert_eq!(run(purge).code, Some(3));
    let journal = support::count(
        &support::open(&d.db),
        "SELECT count(*) FROM modcon_file_journal",
    );
    assert!(journal > 0, "a journal is pending");
    nothing_changes(d.dir.path(), &d.db, DEMO_NOW);

    // The same commands without --read-only do change things: the test
    // above would have seen it.
    let before = snapshot(d.dir.path());
    let mut purge = bin(d.dir.path());
    purge
        .arg("--db")
        .arg(&d.db)
        .args(["--now", DEMO_NOW, "purge"]);
    assert_eq!(run(purge).code, Some(0));
    let after = snapshot(d.dir.path());
    assert_ne!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "purge removed files"
    );
    assert_ne!(before.get("demo.sqlite3"), after.get("demo.sqlite3"));
}

#[test]
fn read_only_never_adds_the_consoles_tables_to_a_django_database() {
    let f = fixture();
    nothing_changes(f.dir.path(), &f.db, support::FIXTURE_NOW);
    let conn = Connection::open_with_flags(&f.db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let own: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'modcon%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(own, 0);
    // Control: an ordinary `check` adds them (and stamps first-seen times).
    let before = std::fs::read(&f.db).unwrap();
    let mut check = bin(f.dir.path());
    check
        .arg("--db")
        .arg(&f.db)
        .args(["--now", support::FIXTURE_NOW, "check"]);
    assert_eq!(run(check).code, Some(0));
    assert!(std::fs::read(&f.db).unwrap() != before);
}

#[test]
fn an_older_consoles_log_is_read_read_only_without_reasons_or_accounts() {
    let f = fixture();
    let post = "c8469e19d7ca45eb8ff542e0d0d135de";
    let now = support::FIXTURE_NOW;
    support::run_on(&f.db, now, &["restore", "post", post]).success();
    // As a console from before reasons and accounts left it.
    let conn = Connection::open(&f.db).unwrap();
    conn.execute_batch(
        "ALTER TABLE modcon_action DROP COLUMN reason;
         ALTER TABLE modcon_action DROP COLUMN os_account;
         DROP TABLE modcon_column_change;
         DELETE FROM modcon_migrations WHERE name = '0007_reasons_and_reviews';",
    )
    .unwrap();
    drop(conn);
    let before = std::fs::read(&f.db).unwrap();
    let log = support::json_on(&f.db, now, &["--read-only", "log"]);
    let e = &log["entries"][0];
    assert_eq!(e["action"], "restore", "{log}");
    assert_eq!(e["reason"], serde_json::Value::Null);
    assert_eq!(e["os_account"], serde_json::Value::Null);
    let text = support::run_on(&f.db, now, &["--read-only", "log"])
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains(" tester restore post "), "{text}");
    assert_eq!(std::fs::read(&f.db).unwrap(), before);
}
