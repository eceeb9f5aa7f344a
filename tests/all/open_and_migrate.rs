//! Opening a database and migrating it (issue 2, items 2 and 3): the
//! migrations on a fresh file, an existing Django-made schema recognised
//! and left alone, the database from before the attachment soft-delete
//! migration, every bad input, a locked database and a read-only file.

use crate::support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rusqlite::Connection;
use support::{DEMO_NOW, Forum, count, hex_id, modcon, open, run_on};
use support::{bytes, error_line, stdout_of};

const NOW: &str = "2026-11-26 12:00:00";

/// Every command, as a moderator would type it, with `id` for the row.
fn every_command(id: &str) -> Vec<Vec<String>> {
    let v = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["stats"]),
        v(&["stats", "--json"]),
        v(&["list", "threads"]),
        v(&["list", "posts", "--json"]),
        v(&["list", "attachments", "--state", "deleted"]),
        v(&["delete", "thread", id]),
        v(&["restore", "post", id]),
        v(&["undo"]),
        v(&["check"]),
        v(&["check", "--fix"]),
        v(&["purge"]),
        v(&["purge", "--dry-run"]),
        v(&["log"]),
        v(&["migrate"]),
        v(&["migrate", "--dry-run"]),
    ]
}

/// Runs every command on `db` and asserts each fails with one `error:`
/// line containing `expect`, leaving the path exactly as it was.
fn every_command_fails(db: &Path, expect: &str) {
    let home = tempfile::tempdir().unwrap();
    let before = fs::read(db).ok();
    let was_dir = db.is_dir();
    for args in every_command(&hex_id(1)) {
        let assert = modcon(home.path())
            .arg("--db")
            .arg(db)
            .args(["--now", NOW])
            .args(&args)
            .assert();
        let line = error_line(assert);
        assert!(
            line.contains(expect),
            "{args:?}: {line:?} should say {expect:?}"
        );
        assert!(
            line.contains(&db.display().to_string()),
            "{args:?}: {line:?} should name the file"
        );
        assert_eq!(
            fs::read(db).ok(),
            before,
            "{args:?} changed {}",
            db.display()
        );
        assert_eq!(db.is_dir(), was_dir);
        assert!(!Path::new(&format!("{}-journal", db.display())).exists());
    }
}

fn table_sql(conn: &Connection, filter: &str) -> Vec<(String, String, Option<String>)> {
    conn.prepare(&format!(
        "SELECT type, name, sql FROM sqlite_master WHERE {filter} ORDER BY type, name"
    ))
    .unwrap()
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn migrations(conn: &Connection) -> Vec<(String, String)> {
    conn.prepare("SELECT name, outcome FROM modcon_migrations ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

// ------------------------------------------------------------ fresh file

#[test]
fn a_fresh_database_gets_every_migration_once_and_the_web_apps_exact_schema() {
    let demo = support::demo(2, 7);
    let conn = open(&demo.db);
    assert_eq!(
        migrations(&conn),
        pairs(&[
            ("0001_forum_schema", "applied"),
            ("0002_modcon_tables", "applied"),
            // The forum schema of 0001 already has the soft-delete columns.
            ("0003_attachment_soft_delete", "satisfied"),
            ("0004_purge_indexes", "applied"),
            ("0005_change_sources", "applied"),
            ("0006_purge_records", "applied"),
            ("0007_reasons_and_reviews", "applied"),
            ("0008_deleted_attachment_index", "applied"),
            ("0009_deleted_post_index", "applied"),
            ("0010_purge_lock", "applied"),
            // An index on PostgreSQL only: nothing to do on SQLite.
            ("0011_deleted_attachment_post_index", "satisfied"),
            // Foreign keys dropped on PostgreSQL only: nothing on SQLite.
            ("0012_purge_records_without_action_keys", "satisfied"),
        ])
    );
    let applied: Vec<String> = support::column(&conn, "SELECT applied_at FROM modcon_migrations");
    assert!(applied.iter().all(|a| a == DEMO_NOW), "{applied:?}");
    for table in [
        "modcon_action",
        "modcon_change",
        "modcon_deletion",
        "modcon_file_journal",
    ] {
        assert!(
            support::count(
                &conn,
                &format!("SELECT count(*) FROM sqlite_master WHERE name = '{table}'")
            ) == 1
        );
    }
    for index in [
        "modcon_purge_thread",
        "modcon_purge_post",
        "modcon_purge_attachment",
        "modcon_purge_attachment_image",
    ] {
        assert_eq!(
            count(
                &conn,
                &format!(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '{index}'"
                )
            ),
            1,
            "{index}"
        );
    }
    // The forum tables and their indexes are exactly what Django made for
    // the fixture (its extra auth tables aside).
    let fixture = Connection::open(support::fixture_dir().join("db.sqlite3")).unwrap();
    let forum = "(name LIKE 'forum\\_%' ESCAPE '\\' OR name = 'users_user')";
    assert_eq!(table_sql(&conn, forum), table_sql(&fixture, forum));
    assert_eq!(
        conn.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
            .unwrap(),
        "delete"
    );
    drop(conn);

    // Opening it again, and `migrate`, record nothing twice.
    let before = bytes(&demo.db);
    let out = support::json_on(&demo.db, NOW, &["migrate"]);
    assert_eq!(out["action"], "migrate");
    let outcomes: Vec<&str> = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap())
        .collect();
    assert!(outcomes.iter().all(|o| *o == "done"), "{outcomes:?}");
    assert_eq!(outcomes.len(), modcon_core::migrate::MIGRATIONS.len());
    assert_eq!(bytes(&demo.db), before);
    let text = stdout_of(run_on(&demo.db, NOW, &["migrate"]));
    assert!(text.contains("the database is up to date"), "{text}");
    assert_eq!(
        migrations(&open(&demo.db)).len(),
        modcon_core::migrate::MIGRATIONS.len()
    );
}

// ------------------------------------------------ an existing Django schema

#[test]
fn an_existing_django_schema_is_recognised_not_recreated_and_left_alone() {
    let forum = Forum::new();
    forum.one_of_each("forum/attachments/a.png", None, true);
    let not_own = "tbl_name NOT LIKE 'modcon\\_%' ESCAPE '\\' AND name <> 'sqlite_sequence'";
    let schema_before = table_sql(&forum.conn, not_own);

    // Commands that only read never write a byte, not even the console's
    // own tables.
    let before = bytes(&forum.db);
    for args in [
        &["stats", "--json"][..],
        &["list", "threads"],
        &["list", "attachments", "--json"],
        &["log"],
        &["purge", "--dry-run"],
        &["migrate", "--dry-run"],
        &["--read-only", "check"],
    ] {
        run_on(&forum.db, NOW, args).success();
        assert_eq!(bytes(&forum.db), before, "{args:?} wrote to the database");
    }

    // The first read-write open adds the console's own tables and records
    // the forum schema as satisfied, never run; the forum tables keep every
    // byte of their definitions.
    run_on(&forum.db, NOW, &["check"]).success();
    assert_eq!(
        migrations(&forum.conn),
        pairs(&[
            ("0001_forum_schema", "satisfied"),
            ("0002_modcon_tables", "applied"),
            ("0003_attachment_soft_delete", "satisfied"),
            ("0005_change_sources", "applied"),
            ("0006_purge_records", "applied"),
            ("0007_reasons_and_reviews", "applied"),
            ("0010_purge_lock", "applied"),
            // An index on PostgreSQL only: nothing to do on SQLite.
            ("0011_deleted_attachment_post_index", "satisfied"),
            // Foreign keys dropped on PostgreSQL only: nothing on SQLite.
            ("0012_purge_records_without_action_keys", "satisfied"),
        ])
    );
    assert_eq!(table_sql(&forum.conn, not_own), schema_before);
    assert_eq!(count(&forum.conn, "SELECT count(*) FROM forum_thread"), 1);
    assert_eq!(
        count(&forum.conn, "SELECT count(*) FROM forum_attachment"),
        1
    );

    // `migrate --dry-run` says what `migrate` would add, and adds nothing.
    let before = bytes(&forum.db);
    let plan = support::json_on(&forum.db, NOW, &["migrate", "--dry-run"]);
    assert_eq!(plan["dry_run"], true);
    let steps: Vec<(String, String)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        pairs(&[
            ("0001_forum_schema", "done"),
            ("0002_modcon_tables", "done"),
            ("0003_attachment_soft_delete", "done"),
            ("0004_purge_indexes", "applied"),
            ("0005_change_sources", "done"),
            ("0006_purge_records", "done"),
            ("0007_reasons_and_reviews", "done"),
            ("0008_deleted_attachment_index", "applied"),
            ("0009_deleted_post_index", "applied"),
            ("0010_purge_lock", "done"),
            ("0011_deleted_attachment_post_index", "done"),
            ("0012_purge_records_without_action_keys", "done"),
        ])
    );
    assert_eq!(bytes(&forum.db), before);
    let text = stdout_of(run_on(&forum.db, NOW, &["migrate", "--dry-run"]));
    assert!(
        text.contains("3 migration(s) to apply; nothing was changed"),
        "{text}"
    );

    // `migrate` adds the purge indexes, the deleted attachments' and
    // posts' indexes and nothing else.
    let text = stdout_of(run_on(&forum.db, NOW, &["migrate"]));
    assert!(text.contains("3 migration(s) applied"), "{text}");
    let after = table_sql(&forum.conn, not_own);
    let added: Vec<_> = after
        .iter()
        .filter(|e| !schema_before.contains(e))
        .map(|e| e.1.clone())
        .collect();
    assert_eq!(
        added,
        [
            "modcon_deleted_attachment_time",
            "modcon_deleted_post_time",
            "modcon_purge_attachment",
            "modcon_purge_attachment_image",
            "modcon_purge_post",
            "modcon_purge_thread"
        ]
    );
    assert!(schema_before.iter().all(|e| after.contains(e)));
    assert!(
        migrations(&forum.conn)
            .contains(&("0004_purge_indexes".to_string(), "applied".to_string()))
    );
}

#[test]
fn the_journal_mode_of_a_database_the_console_did_not_create_is_kept() {
    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    forum
        .conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
        .unwrap();
    run_on(&forum.db, NOW, &["delete", "thread", &hex_id(1)]).success();
    run_on(&forum.db, NOW, &["migrate"]).success();
    let mode: String = forum
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");

    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    run_on(&forum.db, NOW, &["delete", "thread", &hex_id(1)]).success();
    let mode: String = forum
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
}

// ------------------------------------- before the attachment soft-delete

/// A hand-built forum from before the web app's attachment soft-delete
/// migration: `forum_attachment` without `is_active`, `deleted_at` and
/// their index.
fn pre_soft_delete_forum() -> Forum {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.sqlite3");
    let media = dir.path().join("media");
    fs::create_dir_all(&media).unwrap();
    let conn = open(&db);
    let schema = support::DJANGO_SCHEMA
        .replace(
            ", \"deleted_at\" datetime NULL, \"is_active\" bool NOT NULL);",
            ");",
        )
        .replace(
            "CREATE INDEX \"forum_attachment_is_active_4bfc911a\" ON \"forum_attachment\" (\"is_active\");",
            "",
        );
    assert!(!schema.contains("deleted_at"));
    conn.execute_batch(&schema).unwrap();
    conn.execute_batch(
        "INSERT INTO users_user VALUES ('!', NULL, 0, 'mo', '', '', 'mo@example.org', 1, 1, '2025-01-01 00:00:00', 1);
         INSERT INTO forum_category VALUES ('c0000000000000000000000000000000', 'General', 'general', 1);
         INSERT INTO forum_thread VALUES ('00000000000000000000000000000001', 'Old', 'old', 0, 0, 1, 1, NULL,
             '2025-01-01 10:00:00', '2025-01-01 10:00:00', 1, 'c0000000000000000000000000000000');
         INSERT INTO forum_post VALUES ('00000000000000000000000000000002', 'Text', 'markdown', 1, 1, NULL,
             '2025-01-01 10:00:00', '2025-01-01 10:00:00', 1, '00000000000000000000000000000001');
         INSERT INTO forum_attachment VALUES ('00000000000000000000000000000003', 'forum/attachments/a.png', 'a.png',
             3, 'image/png', 0, '', '2025-01-01 10:00:00', '00000000000000000000000000000002');
         INSERT INTO forum_attachment VALUES ('00000000000000000000000000000004', 'forum/attachments/b.png', 'b.png',
             3, 'image/png', 1, '', '2025-01-01 10:00:00', '00000000000000000000000000000002');",
    )
    .unwrap();
    Forum {
        dir,
        db,
        media,
        conn,
    }
}

#[test]
fn a_database_from_before_the_attachment_soft_delete_needs_migrate() {
    let old = pre_soft_delete_forum();
    let before = bytes(&old.db);
    for args in every_command(&hex_id(2)) {
        if args[0] == "migrate" {
            continue;
        }
        let line = error_line(run_on(
            &old.db,
            NOW,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
        assert!(
            line.contains(
                "table forum_attachment lacks columns is_active, deleted_at (the database predates \
                 the web app's attachment soft-delete migration): run `modcon migrate` to add them"
            ),
            "{args:?}: {line}"
        );
        assert_eq!(bytes(&old.db), before, "{args:?}");
    }

    // The dry run says so and changes nothing.
    let text = stdout_of(run_on(&old.db, NOW, &["migrate", "--dry-run"]));
    assert!(text.contains("0003_attachment_soft_delete"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert_eq!(bytes(&old.db), before);

    // `migrate` adds the columns as the web app's migration did.
    let out = support::json_on(&old.db, NOW, &["migrate"]);
    let applied: Vec<&str> = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] == "applied")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    // The console's own tables come in the same transaction, and say so.
    assert_eq!(
        applied,
        [
            "0002_modcon_tables",
            "0003_attachment_soft_delete",
            "0004_purge_indexes",
            "0005_change_sources",
            "0006_purge_records",
            "0007_reasons_and_reviews",
            "0008_deleted_attachment_index",
            "0009_deleted_post_index",
            "0010_purge_lock"
        ]
    );
    assert_eq!(
        migrations(&old.conn),
        pairs(&[
            ("0001_forum_schema", "satisfied"),
            ("0002_modcon_tables", "applied"),
            ("0003_attachment_soft_delete", "applied"),
            ("0004_purge_indexes", "applied"),
            ("0005_change_sources", "applied"),
            ("0006_purge_records", "applied"),
            ("0007_reasons_and_reviews", "applied"),
            ("0008_deleted_attachment_index", "applied"),
            ("0009_deleted_post_index", "applied"),
            ("0010_purge_lock", "applied"),
            // An index on PostgreSQL only: nothing to do on SQLite.
            ("0011_deleted_attachment_post_index", "satisfied"),
            // Foreign keys dropped on PostgreSQL only: nothing on SQLite.
            ("0012_purge_records_without_action_keys", "satisfied"),
        ])
    );
    let conn = &old.conn;
    let columns: Vec<(String, String, i64)> = conn
        .prepare("SELECT name, type, \"notnull\" FROM pragma_table_info('forum_attachment') WHERE name IN ('is_active', 'deleted_at') ORDER BY cid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        columns,
        [
            ("deleted_at".to_string(), "datetime".to_string(), 0),
            ("is_active".to_string(), "bool".to_string(), 1)
        ]
    );
    let rows: Vec<(String, i64, Option<String>, String)> = conn
        .prepare(
            "SELECT id, is_active, deleted_at, typeof(is_active) FROM forum_attachment ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            (hex_id(3), 1, None, "integer".to_string()),
            (hex_id(4), 1, None, "integer".to_string())
        ]
    );
    let index: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'forum_attachment_is_active_4bfc911a'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        index,
        "CREATE INDEX \"forum_attachment_is_active_4bfc911a\" ON \"forum_attachment\" (\"is_active\")"
    );

    // Every command works now.
    let stats = support::json_on(&old.db, NOW, &["stats"]);
    assert_eq!(stats["attachments"]["active"], 2);
    run_on(&old.db, NOW, &["delete", "attachment", &hex_id(3)]).success();
    assert_eq!(
        conn.query_row(
            "SELECT is_active, deleted_at FROM forum_attachment WHERE id = ?1",
            [hex_id(3)],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        )
        .unwrap(),
        (0, NOW.to_string())
    );
}

#[test]
fn migrate_refuses_read_only_and_a_dry_run_writes_nothing() {
    let old = pre_soft_delete_forum();
    let before = bytes(&old.db);
    let line = error_line(run_on(&old.db, NOW, &["--read-only", "migrate"]));
    assert_eq!(
        line,
        "error: --read-only: `migrate` would change the database, so it is refused"
    );
    run_on(&old.db, NOW, &["--read-only", "migrate", "--dry-run"]).success();
    assert_eq!(bytes(&old.db), before);
}

// ------------------------------------------------------------ bad inputs

#[test]
fn a_path_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nowhere.sqlite3");
    every_command_fails(&db, "database not found");
    assert!(!db.exists(), "no file may be created");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.sqlite3");
    fs::create_dir(&db).unwrap();
    every_command_fails(&db, "is a directory, not a database file");
    assert_eq!(fs::read_dir(&db).unwrap().count(), 0);
}

#[test]
fn an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.sqlite3");
    fs::write(&db, b"").unwrap();
    every_command_fails(&db, "empty file (0 bytes), not a SQLite database");
}

#[test]
fn a_file_that_is_not_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.sqlite3");
    fs::write(&db, "These are my notes, not a database.\n".repeat(100)).unwrap();
    every_command_fails(&db, "not a SQLite database (no SQLite header)");
}

#[test]
fn a_truncated_or_corrupt_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fs::read(support::fixture_dir().join("db.sqlite3")).unwrap();
    let db = dir.path().join("short.sqlite3");
    fs::write(&db, &fixture[..100]).unwrap();
    every_command_fails(&db, "truncated SQLite database (100 bytes)");
    let db = dir.path().join("cut.sqlite3");
    fs::write(&db, &fixture[..4096]).unwrap();
    every_command_fails(&db, "database disk image is malformed");
}

#[test]
fn a_sqlite_file_without_the_forum_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other.sqlite3");
    Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);")
        .unwrap();
    every_command_fails(
        &db,
        "not a forum database: missing tables forum_thread, forum_post, forum_attachment",
    );

    // One table missing: named alone.
    let forum = Forum::new();
    forum
        .conn
        .execute_batch("DROP TABLE forum_attachment")
        .unwrap();
    every_command_fails(
        &forum.db,
        "not a forum database: missing table forum_attachment",
    );
}

#[test]
fn a_forum_table_missing_a_column_the_console_needs() {
    for (change, error) in [
        (
            "ALTER TABLE forum_post DROP COLUMN content_format",
            "table forum_post lacks column content_format",
        ),
        (
            "ALTER TABLE forum_thread DROP COLUMN post_count",
            "table forum_thread lacks column post_count",
        ),
        // An optional table that is there must have what the console reads.
        (
            "ALTER TABLE users_user RENAME COLUMN username TO login",
            "table users_user lacks column username",
        ),
    ] {
        let forum = Forum::new();
        forum.conn.execute_batch(change).unwrap();
        every_command_fails(&forum.db, error);
    }
}

#[test]
fn extra_tables_and_columns_are_ignored() {
    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    forum
        .conn
        .execute_batch(
            "ALTER TABLE forum_thread ADD COLUMN mood text NULL;
             CREATE TABLE forum_poll (id char(32) NOT NULL PRIMARY KEY, question text NOT NULL);",
        )
        .unwrap();
    let stats = support::json_on(&forum.db, NOW, &["stats"]);
    assert_eq!(stats["threads"]["active"], 1);
    run_on(&forum.db, NOW, &["delete", "thread", &hex_id(1)]).success();
    assert_eq!(forum.active("forum_thread", &hex_id(1)), Some(false));
}

#[test]
fn a_database_locked_by_another_writer() {
    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    // Own tables first, so the byte comparison below is about the lock.
    run_on(&forum.db, NOW, &["check"]).success();
    let before = bytes(&forum.db);
    let holder = Connection::open(&forum.db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // Read by another process: closing a descriptor of the file in this
    // one would drop the holder's POSIX locks.
    let read_elsewhere = |path: &Path| {
        std::process::Command::new("cat")
            .arg(path)
            .output()
            .unwrap()
            .stdout
    };
    for args in every_command(&hex_id(1)) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let line = error_line(run_on(&forum.db, NOW, &args));
        assert!(
            line.contains(
                "database is locked by another process (still busy after 0.3s): another process \
                 is writing to it; try again"
            ),
            "{args:?}: {line}"
        );
        assert_eq!(read_elsewhere(&forum.db), before, "{args:?}");
    }
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(bytes(&forum.db), before);
    assert_eq!(forum.active("forum_thread", &hex_id(1)), Some(true));
    // Once the lock is gone the same command works.
    run_on(&forum.db, NOW, &["delete", "thread", &hex_id(1)]).success();
    assert_eq!(forum.active("forum_thread", &hex_id(1)), Some(false));
}

#[test]
fn a_read_only_file() {
    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    forum.post(&hex_id(2), &hex_id(1), true);
    let db = &forum.db;
    fs::set_permissions(db, fs::Permissions::from_mode(0o444)).unwrap();
    let before = bytes(db);

    // Commands that write, without --read-only: refused, untouched.
    for args in [
        vec!["delete", "thread", "00000000000000000000000000000001"],
        vec!["restore", "thread", "00000000000000000000000000000001"],
        vec!["undo"],
        vec!["check"],
        vec!["check", "--fix"],
        vec!["purge"],
        vec!["migrate"],
    ] {
        let line = error_line(run_on(db, NOW, &args));
        assert!(
            line.contains(
                "the database file is read-only; pass --read-only to open it for viewing"
            ),
            "{args:?}: {line}"
        );
        assert_eq!(bytes(db), before, "{args:?}");
    }
    // Looking works, with or without --read-only.
    let stats = support::json_on(db, NOW, &["stats"]);
    assert_eq!(stats["posts"]["active"], 1);
    let stats = support::json_on(db, NOW, &["--read-only", "stats"]);
    assert_eq!(stats["threads"]["active"], 1);
    let list = support::json_on(db, NOW, &["--read-only", "list", "posts"]);
    assert_eq!(list["count"], 1);
    let check = support::json_on(db, NOW, &["--read-only", "check"]);
    assert_eq!(check["problems"], 0);
    run_on(db, NOW, &["--read-only", "purge", "--dry-run"]).success();
    assert_eq!(bytes(db), before);
    fs::set_permissions(db, fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn read_only_opens_at_the_sqlite_level() {
    use modcon_core::db::{Access, Db, OpenOptions};
    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    let before = bytes(&forum.db);
    let db = Db::open(&forum.db, &OpenOptions::new(Access::ReadOnly)).unwrap();
    assert!(db.is_read_only());
    assert!(db.sqlite("test").unwrap().is_readonly("main").unwrap());
    let err = db
        .conn()
        .execute("UPDATE forum_thread SET is_active = 0", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("readonly"), "{err}");
    assert_eq!(
        db.sqlite("test")
            .unwrap()
            .query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        1
    );
    drop(db);
    assert_eq!(bytes(&forum.db), before);

    let db = Db::open(&forum.db, &OpenOptions::new(Access::ReadWrite)).unwrap();
    assert!(!db.sqlite("test").unwrap().is_readonly("main").unwrap());
    assert_eq!(
        db.sqlite("test")
            .unwrap()
            .query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        1
    );
}

// ------------------------------------------- a half-migrated database

/// `is_active` added by hand (with its index), `deleted_at` not: the web
/// app's soft-delete migration half done.
fn half_migrated_forum(with_index: bool) -> Forum {
    let forum = pre_soft_delete_forum();
    forum
        .conn
        .execute_batch(
            "ALTER TABLE \"forum_attachment\" ADD COLUMN \"is_active\" bool NOT NULL DEFAULT 1;",
        )
        .unwrap();
    if with_index {
        forum
            .conn
            .execute_batch(
                "CREATE INDEX \"forum_attachment_is_active_4bfc911a\" ON \"forum_attachment\" (\"is_active\");",
            )
            .unwrap();
    }
    forum
}

fn steps_of(out: &serde_json::Value) -> Vec<serde_json::Value> {
    out["steps"].as_array().unwrap().clone()
}

#[test]
fn migrate_on_a_half_migrated_database_adds_only_what_is_missing() {
    let forum = half_migrated_forum(true);
    let before = bytes(&forum.db);
    let dry = support::json_on(&forum.db, NOW, &["migrate", "--dry-run"]);
    assert_eq!(bytes(&forum.db), before);
    let step = steps_of(&dry)
        .into_iter()
        .find(|s| s["name"] == "0003_attachment_soft_delete")
        .unwrap();
    assert_eq!(step["outcome"], "applied", "{dry}");
    assert_eq!(
        step["adds"],
        serde_json::json!(["column forum_attachment.deleted_at"]),
        "{dry}"
    );
    let text = stdout_of(run_on(&forum.db, NOW, &["migrate", "--dry-run"]));
    assert!(
        text.contains("adds column forum_attachment.deleted_at"),
        "{text}"
    );

    // The real run does what the dry run said, and succeeds.
    let real = support::json_on(&forum.db, NOW, &["migrate"]);
    assert_eq!(steps_of(&real), steps_of(&dry));
    let columns: Vec<String> = support::column(
        &forum.conn,
        "SELECT name FROM pragma_table_info('forum_attachment') ORDER BY cid",
    );
    assert_eq!(
        columns.iter().filter(|c| *c == "is_active").count(),
        1,
        "{columns:?}"
    );
    assert_eq!(columns.last().map(String::as_str), Some("deleted_at"));
    assert_eq!(
        count(
            &forum.conn,
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'forum_attachment' \
             AND sql LIKE '%is_active%' AND name NOT LIKE 'modcon%'"
        ),
        1
    );
    assert!(migrations(&forum.conn).contains(&(
        "0003_attachment_soft_delete".to_string(),
        "applied".to_string()
    )));
    // Every command works now.
    run_on(&forum.db, NOW, &["stats"]).success();
    let again = support::json_on(&forum.db, NOW, &["migrate"]);
    assert!(
        steps_of(&again).iter().all(|s| s["outcome"] == "done"),
        "{again}"
    );
}

#[test]
fn a_migrate_that_fails_changes_nothing_not_even_the_consoles_tables() {
    let forum = half_migrated_forum(false);
    // Something else already holds the index's name: creating it fails.
    forum
        .conn
        .execute_batch("CREATE TABLE \"forum_attachment_is_active_4bfc911a\" (x);")
        .unwrap();
    let before = bytes(&forum.db);
    let dry = support::json_on(&forum.db, NOW, &["migrate", "--dry-run"]);
    let step = steps_of(&dry)
        .into_iter()
        .find(|s| s["name"] == "0003_attachment_soft_delete")
        .unwrap();
    assert_eq!(
        step["adds"],
        serde_json::json!([
            "column forum_attachment.deleted_at",
            "index forum_attachment_is_active_4bfc911a"
        ]),
        "{dry}"
    );
    let line = error_line(run_on(&forum.db, NOW, &["migrate"]));
    assert!(
        line.contains("migration 0003_attachment_soft_delete failed"),
        "{line}"
    );
    assert!(line.contains("nothing was changed"), "{line}");
    assert_eq!(bytes(&forum.db), before);
    assert_eq!(
        count(
            &forum.conn,
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'modcon%'"
        ),
        0
    );
}
