//! The demo generator, the read-only commands and the settings (issue 2,
//! items 4, 5 and 6): determinism, refusing to overwrite, data that
//! exercises every rule, `stats --json` against plain SQL, `list` filters,
//! the default database, and flags > environment > config file.

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use chrono::NaiveDateTime;
use rusqlite::Connection;
use serde_json::{Value, json};
use support::{DEMO_NOW, FIXTURE_NOW, Forum, count, hex_id, json_on, modcon, run_on};
use support::{bytes, dump_of, error_line, snapshot, stdout_of};

// ------------------------------------------------------------------ demo

#[test]
fn the_same_seed_and_now_give_the_same_database_and_files() {
    let a = support::demo(8, 11);
    let b = support::demo(8, 11);
    let c = support::demo(8, 12);
    let (da, db, dc) = (dump_of(&a.db), dump_of(&b.db), dump_of(&c.db));
    assert_eq!(da.keys().collect::<Vec<_>>(), db.keys().collect::<Vec<_>>());
    for (table, rows) in &da {
        assert_eq!(
            Some(rows),
            db.get(table),
            "table {table} differs between two runs"
        );
    }
    assert_eq!(snapshot(&a.media), snapshot(&b.media));
    assert!(snapshot(&a.media).len() > 100);

    // Another seed: other ids, other text, other files.
    for table in [
        "forum_thread",
        "forum_post",
        "forum_attachment",
        "forum_reaction",
    ] {
        assert_ne!(da[table], dc[table], "{table} should change with the seed");
    }
    assert_ne!(snapshot(&a.media), snapshot(&c.media));
}

#[test]
fn demo_refuses_to_overwrite_without_force() {
    let d = support::demo(2, 1);
    let (before, media_before) = (bytes(&d.db), snapshot(&d.media));
    let line = error_line(
        modcon(d.dir.path())
            .args(["--now", DEMO_NOW, "demo", "--out"])
            .arg(&d.db)
            .args(["--threads", "3", "--seed", "2"])
            .assert(),
    );
    assert_eq!(
        line,
        format!(
            "error: {} already exists; pass --force to replace it",
            d.db.display()
        )
    );
    assert_eq!(bytes(&d.db), before);
    assert_eq!(snapshot(&d.media), media_before);

    // With --force: exactly what a fresh run with those options makes.
    modcon(d.dir.path())
        .args(["--now", DEMO_NOW, "demo", "--out"])
        .arg(&d.db)
        .args(["--threads", "3", "--seed", "2", "--force"])
        .assert()
        .success();
    let fresh = support::demo(3, 2);
    assert_eq!(dump_of(&d.db), dump_of(&fresh.db));
    assert_eq!(snapshot(&d.media), snapshot(&fresh.media));

    // A media folder the demo did not make is never replaced.
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("media")).unwrap();
    fs::write(dir.path().join("media/precious.jpg"), b"mine").unwrap();
    let out = dir.path().join("demo.sqlite3");
    let line = error_line(
        modcon(dir.path())
            .args(["--now", DEMO_NOW, "demo", "--force", "--out"])
            .arg(&out)
            .assert(),
    );
    assert_eq!(
        line,
        format!(
            "error: {} exists and was not made by `modcon demo`; choose another --out folder",
            dir.path().join("media").display()
        )
    );
    assert!(!out.exists());
    assert_eq!(
        fs::read(dir.path().join("media/precious.jpg")).unwrap(),
        b"mine"
    );
}

/// `demo --force --out PATH`, in PATH's folder.
fn demo_force(out: &Path) -> assert_cmd::assert::Assert {
    modcon(out.parent().unwrap())
        .args([
            "--now",
            DEMO_NOW,
            "demo",
            "--threads",
            "2",
            "--force",
            "--out",
        ])
        .arg(out)
        .assert()
}

#[test]
fn demo_force_never_replaces_a_database_the_demo_did_not_make() {
    // A real forum database, its media folder out of the way.
    let fx = support::fixture();
    fs::remove_dir_all(&fx.media).unwrap();
    let before = bytes(&fx.db);
    let line = error_line(demo_force(&fx.db));
    assert_eq!(
        line,
        format!(
            "error: {} was not made by `modcon demo`, so --force will not replace it; \
             choose another --out",
            fx.db.display()
        )
    );
    assert_eq!(bytes(&fx.db), before);
    assert!(!fx.media.exists());
    // Nor any other file.
    let other = fx.dir.path().join("notes.sqlite3");
    fs::write(&other, b"my notes, not a database").unwrap();
    let line = error_line(demo_force(&other));
    assert!(line.contains("was not made by `modcon demo`"), "{line}");
    assert_eq!(fs::read(&other).unwrap(), b"my notes, not a database");
    // A database modcon once opened is still not a demo.
    run_on(&fx.db, FIXTURE_NOW, &["check"]).success();
    let before = bytes(&fx.db);
    assert!(error_line(demo_force(&fx.db)).contains("was not made by `modcon demo`"));
    assert_eq!(bytes(&fx.db), before);
}

#[test]
fn demo_force_removes_the_old_databases_journal_and_wal_files() {
    let d = support::demo(2, 1);
    // A hot journal: what a writer killed mid-transaction leaves.
    let journal = {
        let conn = Connection::open(&d.db).unwrap();
        conn.execute_batch(
            "PRAGMA cache_size = 1; BEGIN; UPDATE forum_post SET content_raw = content_raw || 'x';",
        )
        .unwrap();
        let hot = fs::read(d.dir.path().join("demo.sqlite3-journal")).unwrap();
        conn.execute_batch("ROLLBACK").unwrap();
        hot
    };
    assert!(journal.len() > 512);
    let side = |ext: &str| d.dir.path().join(format!("demo.sqlite3-{ext}"));
    fs::write(side("journal"), &journal).unwrap();
    fs::write(side("wal"), b"left by an old writer").unwrap();
    fs::write(side("shm"), b"left by an old writer").unwrap();
    demo_force(&d.db).success();
    for ext in ["journal", "wal", "shm"] {
        assert!(!side(ext).exists(), "{ext} left beside the new database");
    }
    // The new database is sound and reads as what the demo makes.
    let conn = Connection::open(&d.db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let fresh = support::demo(2, 42);
    assert_eq!(dump_of(&d.db), dump_of(&fresh.db));
}

fn exists(conn: &Connection, what: &str, sql: &str) {
    let n = count(conn, &format!("SELECT count(*) FROM ({sql})"));
    assert!(n > 0, "the demo has no {what}");
}

#[test]
fn the_demo_exercises_every_rule() {
    let d = support::demo(40, 42);
    let conn = support::open(&d.db);
    let now = format!("'{DEMO_NOW}'");
    exists(
        &conn,
        "users",
        "SELECT 1 FROM (SELECT count(*) AS n FROM users_user) WHERE n > 1",
    );
    exists(
        &conn,
        "categories",
        "SELECT 1 FROM (SELECT count(*) AS n FROM forum_category) WHERE n > 1",
    );
    exists(
        &conn,
        "pinned thread",
        "SELECT 1 FROM forum_thread WHERE is_pinned = 1",
    );
    exists(
        &conn,
        "locked thread",
        "SELECT 1 FROM forum_thread WHERE is_locked = 1",
    );
    for table in ["forum_thread", "forum_post", "forum_attachment"] {
        exists(
            &conn,
            "active row",
            &format!("SELECT 1 FROM {table} WHERE is_active = 1"),
        );
        exists(
            &conn,
            "deleted row",
            &format!("SELECT 1 FROM {table} WHERE is_active = 0"),
        );
    }
    for days in [1, 29, 31, 45] {
        exists(
            &conn,
            &format!("attachment deleted {days} days ago"),
            &format!(
                "SELECT 1 FROM forum_attachment WHERE is_active = 0 AND \
                 julianday({now}) - julianday(deleted_at) BETWEEN {days} AND {days} + 0.26"
            ),
        );
    }
    exists(
        &conn,
        "post deactivated without its attachments",
        "SELECT 1 FROM forum_post p JOIN forum_attachment a ON a.post_id = p.id \
         WHERE p.is_active = 0 AND a.is_active = 1",
    );
    exists(
        &conn,
        "thread deactivated without its posts",
        "SELECT 1 FROM forum_thread t JOIN forum_post p ON p.thread_id = t.id \
         WHERE t.is_active = 0 AND p.is_active = 1",
    );
    exists(
        &conn,
        "deleted attachment with NULL deleted_at",
        "SELECT 1 FROM forum_attachment WHERE is_active = 0 AND deleted_at IS NULL",
    );
    exists(
        &conn,
        "two rows sharing one file",
        "SELECT image FROM forum_attachment GROUP BY image HAVING count(*) > 1",
    );
    exists(
        &conn,
        "path leaving the media root",
        "SELECT 1 FROM forum_attachment WHERE image LIKE '../%' OR image LIKE '/%'",
    );
    exists(&conn, "reactions", "SELECT 1 FROM forum_reaction");
    exists(
        &conn,
        "flags with moderation actions",
        "SELECT 1 FROM forum_flaggedcontent f JOIN forum_moderationaction m ON m.flag_id = f.id",
    );
    exists(
        &conn,
        "pending flags on posts",
        "SELECT 1 FROM forum_flaggedcontent WHERE status = 'pending' AND content_type = 'post'",
    );
    exists(
        &conn,
        "pending flags on threads",
        "SELECT 1 FROM forum_flaggedcontent WHERE status = 'pending' AND content_type = 'thread'",
    );
    exists(
        &conn,
        "a staff moderator",
        "SELECT 1 FROM users_user WHERE username = 'moderator_mo' AND is_staff = 1 AND is_active = 1",
    );
    exists(
        &conn,
        "a member of the Moderators group who is not staff",
        "SELECT 1 FROM users_user u JOIN users_user_groups ug ON ug.user_id = u.id \
         JOIN auth_group g ON g.id = ug.group_id \
         WHERE u.username = 'green_thumb' AND g.name = 'Moderators' AND u.is_staff = 0",
    );
    exists(
        &conn,
        "a user who is no moderator",
        "SELECT 1 FROM users_user u WHERE u.username = 'alice' AND u.is_staff = 0 AND u.is_superuser = 0 \
         AND NOT EXISTS (SELECT 1 FROM users_user_groups ug JOIN auth_group g ON g.id = ug.group_id \
                         WHERE ug.user_id = u.id AND g.name = 'Moderators')",
    );
    exists(
        &conn,
        "reviewed flags whose status fits their action and whose action names the author",
        "SELECT 1 FROM forum_flaggedcontent f JOIN forum_moderationaction m ON m.flag_id = f.id \
         WHERE m.action_type = 'warning' AND f.status = 'approved' \
           AND m.affected_user_id = (SELECT author_id FROM forum_post WHERE id = f.post_id)",
    );
    exists(
        &conn,
        "non-ASCII title",
        "SELECT 1 FROM forum_thread WHERE title <> CAST(title AS BLOB) OR length(CAST(title AS BLOB)) > length(title)",
    );
    exists(
        &conn,
        "very long post text",
        "SELECT 1 FROM forum_post WHERE length(content_raw) > 10000",
    );
    exists(
        &conn,
        "terminal escape sequence in a title",
        "SELECT 1 FROM forum_thread WHERE instr(title, char(27)) > 0",
    );
    exists(
        &conn,
        "escape sequence in post text",
        "SELECT 1 FROM forum_post WHERE instr(content_raw, char(27)) > 0",
    );
    exists(
        &conn,
        "console deletions in the audit log",
        "SELECT 1 FROM modcon_action WHERE action = 'delete'",
    );
    exists(
        &conn,
        "deletion times the console saw",
        "SELECT 1 FROM modcon_deletion WHERE source = 'seen'",
    );
    exists(
        &conn,
        "deletion times the console made",
        "SELECT 1 FROM modcon_deletion WHERE source = 'console'",
    );

    // Real tiny images, thumbnail folders, and files no row references.
    let on_disk = snapshot(&d.media);
    let png = on_disk
        .iter()
        .find(|(name, _)| name.starts_with("forum/attachments/") && name.ends_with(".png"));
    assert!(
        png.is_some_and(|(_, b)| b.starts_with(b"\x89PNG\r\n\x1a\n")),
        "no real PNG"
    );
    let jpg = on_disk
        .iter()
        .find(|(name, _)| name.starts_with("forum/attachments/") && name.ends_with(".jpg"));
    assert!(
        jpg.is_some_and(|(_, b)| b.starts_with(&[0xff, 0xd8])),
        "no real JPEG"
    );
    assert!(
        on_disk
            .keys()
            .any(|n| n.starts_with("CACHE/images/forum/attachments/"))
    );
    let check = json_on(&d.db, DEMO_NOW, &["check"]);
    assert!(
        !check["report"]["unreferenced_files"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        !check["report"]["unsafe_paths"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Nothing outside the media folder was written.
    let beside: BTreeSet<String> = fs::read_dir(d.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        beside,
        ["demo.sqlite3", "media"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}

// ----------------------------------------------------------------- stats

/// Any datetime form the console may meet (Django's text with or without
/// microseconds, ISO with `T` or an offset), read without the crate's own
/// parser.
fn parse_any(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim().replacen(' ', "T", 1);
    if let Ok(dt) = NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(dt);
    }
    chrono::DateTime::parse_from_rfc3339(&t)
        .ok()
        .map(|d| d.naive_utc())
}

fn sql_count(conn: &Connection, sql: &str, cutoff: &str) -> i64 {
    conn.query_row(sql, [cutoff], |r| r.get(0)).unwrap()
}

/// `stats --json` for one kind, computed with plain SQL (and, for the
/// attachments' free-form `deleted_at`, plain chrono).
fn counts_by_sql(conn: &Connection, now: &str, kind: &str) -> Value {
    let now = NaiveDateTime::parse_from_str(now, "%Y-%m-%d %H:%M:%S%.f").unwrap();
    let cutoff_dt = now - chrono::Duration::days(30);
    let cutoff = cutoff_dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let (table, below) = match kind {
        "threads" => (
            "forum_thread",
            "EXISTS (SELECT 1 FROM forum_post c WHERE c.thread_id = r.id AND c.is_active = 1) OR \
             EXISTS (SELECT 1 FROM forum_post c JOIN forum_attachment g ON g.post_id = c.id \
                     WHERE c.thread_id = r.id AND g.is_active = 1)",
        ),
        "posts" => (
            "forum_post",
            "EXISTS (SELECT 1 FROM forum_attachment c WHERE c.post_id = r.id AND c.is_active = 1)",
        ),
        _ => ("forum_attachment", "0"),
    };
    let total = sql_count(
        conn,
        &format!("SELECT count(*) FROM {table} WHERE ?1 = ?1"),
        &cutoff,
    );
    let deleted = sql_count(
        conn,
        &format!("SELECT count(*) FROM {table} WHERE is_active = 0 AND ?1 = ?1"),
        &cutoff,
    );
    let (purgeable, held_back, unknown) = if table == "forum_attachment" {
        let times: Vec<Option<String>> = support::column(
            conn,
            "SELECT deleted_at FROM forum_attachment WHERE is_active = 0",
        );
        let parsed: Vec<Option<NaiveDateTime>> = times
            .iter()
            .map(|t| t.as_deref().and_then(parse_any))
            .collect();
        let past = parsed
            .iter()
            .filter(|t| t.is_some_and(|t| t <= cutoff_dt))
            .count() as i64;
        let unknown = parsed.iter().filter(|t| t.is_none()).count() as i64;
        (past, 0, unknown)
    } else {
        let kind1 = &kind[..kind.len() - 1];
        let recorded = count(
            conn,
            "SELECT count(*) FROM sqlite_master WHERE name = 'modcon_deletion'",
        ) > 0;
        // The deletion time, restated: the console's record while the
        // row's updated_at is unchanged and nothing below it was deleted
        // later by the web app; else the latest moderation removal not
        // followed by a save; else a first-seen record. (The console never
        // restores here, so no restore can make a removal stale.)
        let attachment_later = "julianday(la.deleted_at) > julianday(d.deleted_at) \
             AND NOT EXISTS (SELECT 1 FROM modcon_change c WHERE c.kind = 'attachment' \
                             AND c.row_id = la.id AND c.after_active = 0 AND c.after_deleted_at IS la.deleted_at)";
        let later_below = if kind1 == "thread" {
            format!(
                "EXISTS (SELECT 1 FROM forum_post lp WHERE lp.thread_id = r.id AND lp.is_active = 0 \
                   AND (lp.updated_at > d.deleted_at OR EXISTS (SELECT 1 FROM forum_flaggedcontent f \
                        JOIN forum_moderationaction m ON m.flag_id = f.id WHERE f.post_id = lp.id \
                        AND m.action_type = 'remove_post' AND m.created_at > d.deleted_at)) \
                   AND NOT EXISTS (SELECT 1 FROM modcon_deletion ld WHERE ld.kind = 'post' \
                        AND ld.row_id = lp.id AND ld.row_updated_at IS lp.updated_at AND ld.source = 'console')) \
                 OR EXISTS (SELECT 1 FROM forum_post lp JOIN forum_attachment la ON la.post_id = lp.id \
                   WHERE lp.thread_id = r.id AND la.is_active = 0 AND {attachment_later})"
            )
        } else {
            format!(
                "EXISTS (SELECT 1 FROM forum_attachment la WHERE la.post_id = r.id AND la.is_active = 0 \
                   AND {attachment_later})"
            )
        };
        let removal = format!(
            "(SELECT max(m.created_at) FROM forum_flaggedcontent f JOIN forum_moderationaction m \
               ON m.flag_id = f.id WHERE f.{kind1}_id = r.id AND m.action_type = 'remove_{kind1}' \
               HAVING max(m.created_at) >= r.updated_at)"
        );
        let time = if !recorded {
            removal
        } else {
            format!(
                "COALESCE((SELECT d.deleted_at FROM modcon_deletion d WHERE d.kind = '{kind1}' \
                   AND d.row_id = r.id AND d.row_updated_at IS r.updated_at AND d.source = 'console' \
                   AND NOT ({later_below})), {removal}, \
                 (SELECT d.deleted_at FROM modcon_deletion d WHERE d.kind = '{kind1}' AND d.row_id = r.id \
                   AND d.row_updated_at IS r.updated_at AND d.source <> 'console'))"
            )
        };
        let past = format!("r.is_active = 0 AND {time} <= ?1");
        (
            sql_count(
                conn,
                &format!("SELECT count(*) FROM {table} r WHERE {past} AND NOT ({below})"),
                &cutoff,
            ),
            sql_count(
                conn,
                &format!("SELECT count(*) FROM {table} r WHERE {past} AND ({below})"),
                &cutoff,
            ),
            sql_count(
                conn,
                &format!(
                    "SELECT count(*) FROM {table} r WHERE r.is_active = 0 AND {time} IS NULL AND ?1 = ?1"
                ),
                &cutoff,
            ),
        )
    };
    let violations = match kind {
        "threads" => 0,
        "posts" => sql_count(
            conn,
            "SELECT count(*) FROM forum_post p JOIN forum_thread t ON t.id = p.thread_id \
             WHERE p.is_active = 1 AND t.is_active = 0 AND ?1 = ?1",
            &cutoff,
        ),
        _ => sql_count(
            conn,
            "SELECT count(*) FROM forum_attachment a JOIN forum_post p ON p.id = a.post_id \
             WHERE a.is_active = 1 AND p.is_active = 0 AND ?1 = ?1",
            &cutoff,
        ),
    };
    json!({
        "total": total,
        "active": total - deleted,
        "deleted": deleted,
        "purgeable": purgeable,
        "held_back": held_back,
        "unknown_deletion_time": unknown,
        "violations": violations,
    })
}

fn assert_stats_match_sql(db: &Path, now: &str) -> Value {
    let stats = json_on(db, now, &["stats"]);
    let conn = Connection::open(db).unwrap();
    let mut all_violations = 0;
    for kind in ["threads", "posts", "attachments"] {
        let want = counts_by_sql(&conn, now, kind);
        assert_eq!(stats[kind], want, "{kind} on {}", db.display());
        all_violations += want["violations"].as_i64().unwrap();
    }
    assert_eq!(stats["violations"], all_violations);
    assert_eq!(stats["action"], "stats");
    stats
}

#[test]
fn stats_on_the_demo_equal_counts_made_with_plain_sql() {
    let d = support::demo(60, 5);
    let stats = assert_stats_match_sql(&d.db, DEMO_NOW);
    // The demo has something in every column that can have something.
    for kind in ["posts", "attachments"] {
        for key in [
            "active",
            "deleted",
            "purgeable",
            "violations",
            "unknown_deletion_time",
        ] {
            assert!(
                stats[kind][key].as_i64().unwrap() > 0,
                "{kind}.{key}: {stats}"
            );
        }
    }
    assert!(
        stats["threads"]["purgeable"].as_i64().unwrap() > 0,
        "{stats}"
    );
    // After `check` stamps first-seen times and a purge, still equal.
    run_on(&d.db, DEMO_NOW, &["check"]).success();
    assert_stats_match_sql(&d.db, DEMO_NOW);
    assert_stats_match_sql(&d.db, "2027-01-15 00:00:00");
    run_on(&d.db, DEMO_NOW, &["purge"]).success();
    let after = assert_stats_match_sql(&d.db, DEMO_NOW);
    for kind in ["threads", "posts", "attachments"] {
        assert_eq!(after[kind]["purgeable"], 0, "{kind}");
    }
}

#[test]
fn stats_on_the_django_fixture_equal_plain_sql_and_expected_json() {
    let fx = support::fixture();
    let stats = assert_stats_match_sql(&fx.db, FIXTURE_NOW);
    let e = support::expected();
    let c = &e["counts"];
    let d = &e["counts_detail"];
    assert_eq!(stats["threads"]["active"], c["threads_active"]);
    assert_eq!(stats["threads"]["deleted"], c["threads_inactive"]);
    assert_eq!(stats["posts"]["active"], c["posts_active"]);
    assert_eq!(stats["posts"]["deleted"], c["posts_inactive"]);
    assert_eq!(stats["attachments"]["active"], c["attachments_active"]);
    assert_eq!(stats["attachments"]["deleted"], c["attachments_inactive"]);
    assert_eq!(
        stats["attachments"]["purgeable"],
        c["attachments_purge_eligible_30d"]
    );
    assert_eq!(
        stats["attachments"]["unknown_deletion_time"],
        d["forum.Attachment"]["inactive_null_deleted_at"]
    );
    assert_eq!(
        stats["posts"]["violations"],
        d["forum.Post"]["active_in_inactive_threads"]
    );
    assert_eq!(
        stats["attachments"]["violations"],
        d["forum.Attachment"]["active_on_inactive_posts"]
    );
    // Threads and posts the web app deleted: their age is not known yet,
    // except for those its moderation queue removed (dated by its actions).
    let removed =
        |category: &str, key: &str| e["categories"][category][key].as_array().unwrap().len() as i64;
    assert_eq!(
        stats["threads"]["unknown_deletion_time"],
        c["threads_inactive"].as_i64().unwrap()
            - removed("c_moderation_remove_thread", "thread_ids")
    );
    assert_eq!(
        stats["posts"]["unknown_deletion_time"],
        c["posts_inactive"].as_i64().unwrap() - removed("b_moderation_remove_post", "post_ids")
    );
    assert_eq!(stats["threads"]["purgeable"], 0);
    assert_eq!(stats["posts"]["purgeable"], 0);
    // Human output says the same.
    let text = stdout_of(run_on(&fx.db, FIXTURE_NOW, &["stats"]));
    assert!(
        text.contains("13 active rows under deleted parents: see `modcon check`"),
        "{text}"
    );
    assert!(
        text.contains("retention  30 days (deleted at or before 2026-10-27 11:00:08.157597)"),
        "{text}"
    );
}

// ------------------------------------------------------------------ list

fn ids(list: &Value, filter: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| filter(r))
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn sql_ids(conn: &Connection, sql: &str) -> BTreeSet<String> {
    support::column(conn, sql)
}

#[test]
fn list_filters_and_markers_on_the_fixture() {
    let fx = support::fixture();
    let e = support::expected();
    let cats = &e["categories"];
    let conn = Connection::open(&fx.db).unwrap();
    let now = FIXTURE_NOW;

    let deleted_threads = json_on(&fx.db, now, &["list", "threads", "--state", "deleted"]);
    assert_eq!(deleted_threads["action"], "list");
    assert_eq!(deleted_threads["kind"], "thread");
    assert_eq!(
        ids(&deleted_threads, |_| true),
        strings(&cats["c_moderation_remove_thread"]["thread_ids"])
    );
    let active_threads = json_on(
        &fx.db,
        now,
        &["list", "threads", "--state", "active", "--limit", "1000"],
    );
    assert_eq!(active_threads["count"], e["counts"]["threads_active"]);
    let all = json_on(&fx.db, now, &["list", "threads", "--limit", "1000"]);
    assert_eq!(all["count"], 29);

    let deleted_posts = json_on(
        &fx.db,
        now,
        &["list", "posts", "--state", "deleted", "--limit", "1000"],
    );
    assert_eq!(
        ids(&deleted_posts, |_| true),
        sql_ids(&conn, "SELECT id FROM forum_post WHERE is_active = 0")
    );
    let posts = json_on(
        &fx.db,
        now,
        &["list", "posts", "--state", "active", "--limit", "1000"],
    );
    assert_eq!(
        ids(&posts, |r| r["violation"] == true),
        strings(&cats["c_moderation_remove_thread"]["still_active_post_ids"])
    );
    let atts = json_on(&fx.db, now, &["list", "attachments", "--limit", "1000"]);
    assert_eq!(atts["count"], 288);
    assert_eq!(
        ids(&atts, |r| r["purgeable"] == true),
        strings(&e["derived"]["purge_eligible_30d_attachment_ids"])
    );
    assert_eq!(
        ids(&atts, |r| r["violation"] == true),
        strings(&cats["b_moderation_remove_post"]["still_active_attachment_ids"])
    );
    assert_eq!(
        ids(&atts, |r| r["deletion_time"] == "unknown"),
        strings(&cats["inactive_with_null_deleted_at"])
    );

    // --thread, --post, --limit: each lists exactly the rows SQL finds
    // (`list`'s JSON, and the ids of its rows).
    let listed = |args: &[&str], sql: &str| -> Value {
        let list = json_on(&fx.db, now, args);
        assert_eq!(ids(&list, |_| true), sql_ids(&conn, sql), "{args:?}");
        list
    };
    let thread = "5512de8f57404399805d3721202cde31";
    listed(
        &["list", "posts", "--thread", thread, "--limit", "1000"],
        &format!("SELECT id FROM forum_post WHERE thread_id = '{thread}'"),
    );
    let atts_of_thread = listed(
        &["list", "attachments", "--thread", thread, "--limit", "1000"],
        &format!(
            "SELECT a.id FROM forum_attachment a JOIN forum_post p ON p.id = a.post_id WHERE p.thread_id = '{thread}'"
        ),
    );
    assert!(!ids(&atts_of_thread, |_| true).is_empty());
    let post = "b441b6df774244e795c28d919476442a";
    let of_post = listed(
        &["list", "attachments", "--post", post, "--state", "deleted"],
        &format!("SELECT id FROM forum_attachment WHERE post_id = '{post}' AND is_active = 0"),
    );
    assert_eq!(of_post["count"], 3);
    let limited = json_on(&fx.db, now, &["list", "attachments", "--limit", "3"]);
    assert_eq!(limited["count"], 3);
    let text = stdout_of(run_on(&fx.db, now, &["list", "posts", "--limit", "3"]));
    assert!(text.contains("(first 3; --limit N for more)"), "{text}");
    assert_eq!(text.lines().count(), 5, "{text}");

    // Posts the web app deleted show their age is unknown.
    let text = stdout_of(run_on(
        &fx.db,
        now,
        &["list", "posts", "--state", "deleted"],
    ));
    assert!(text.contains("deleted, age unknown"), "{text}");

    for (args, expect) in [
        (
            vec!["list", "attachments", "--thread", thread, "--post", post],
            "error: give --thread or --post, not both",
        ),
        (
            vec!["list", "threads", "--thread", thread],
            "error: threads are not listed by --thread or --post",
        ),
        (
            vec!["list", "posts", "--post", post],
            "error: posts are listed by --thread, not --post",
        ),
    ] {
        assert_eq!(error_line(run_on(&fx.db, now, &args)), expect);
    }
    let usage = run_on(&fx.db, now, &["list", "threads", "--state", "gone"])
        .get_output()
        .clone();
    assert_eq!(usage.status.code(), Some(2));
}

// ------------------------------------------------- the default database

#[test]
fn without_a_database_the_demo_is_made_in_the_data_directory_once() {
    let home = tempfile::tempdir().unwrap();
    let out = modcon(home.path())
        .args(["stats", "--json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let db = home.path().join(".local/share/modcon/demo.sqlite3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "modcon: creating the demo database at {} (use --db to open your own)",
            db.display()
        )
    );
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["database"], db.display().to_string());
    assert!(stats["threads"]["total"].as_i64().unwrap() > 200);
    let media = home.path().join(".local/share/modcon/media");
    assert!(snapshot(&media).len() > 100);

    // Once made, it is used as it is.
    let before = bytes(&db);
    let out = modcon(home.path())
        .args(["list", "threads"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(bytes(&db), before);
    // Its media root is found beside it.
    let check = modcon(home.path())
        .args(["--read-only", "check", "--json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let check: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(check["report"]["files_checked"], true);

    // XDG_DATA_HOME moves it.
    let data = home.path().join("data");
    modcon(home.path())
        .env("XDG_DATA_HOME", &data)
        .args(["stats"])
        .assert()
        .success();
    assert!(data.join("modcon/demo.sqlite3").is_file());
}

// ------------------------------------------------------------ precedence

/// A forum with `threads` active threads, in its own folder.
fn forum_with(threads: u32) -> Forum {
    let forum = Forum::new();
    for n in 1..=threads {
        forum.thread(&hex_id(n), true);
    }
    forum
}

fn write_config(home: &Path, text: &str) -> std::path::PathBuf {
    let path = home.join(".config/modcon/config.toml");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path
}

/// The binary with the config file found the ordinary way.
fn with_config(home: &Path) -> assert_cmd::Command {
    let mut cmd = modcon(home);
    cmd.env_remove("MODCON_CONFIG");
    cmd
}

fn threads_seen(cmd: &mut assert_cmd::Command) -> i64 {
    let out = cmd
        .args(["--now", DEMO_NOW, "stats", "--json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    stats["threads"]["total"].as_i64().unwrap()
}

#[test]
fn flags_beat_the_environment_which_beats_the_config_file() {
    let (a, b, c) = (forum_with(1), forum_with(2), forum_with(3));
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    write_config(
        h,
        &format!(
            "db = {:?}\nactor = \"from-config\"\nretention_days = 10\nbatch_size = 7\n",
            a.db.display().to_string()
        ),
    );
    assert_eq!(threads_seen(&mut with_config(h)), 1);
    assert_eq!(threads_seen(with_config(h).env("MODCON_DB", &b.db)), 2);
    assert_eq!(
        threads_seen(
            with_config(h)
                .env("MODCON_DB", &b.db)
                .arg("--db")
                .arg(&c.db)
        ),
        3
    );

    // retention_days and batch_size from the file; the flags beat them.
    let plan_with = |flags: &[&str]| -> Value {
        let out = with_config(h)
            .args(["--now", DEMO_NOW, "purge", "--dry-run", "--json"])
            .args(flags)
            .assert()
            .success()
            .get_output()
            .clone();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let plan = plan_with(&[]);
    assert_eq!(
        (plan["retention_days"].as_i64(), plan["batch_size"].as_i64()),
        (Some(10), Some(7))
    );
    assert_eq!(plan["cutoff"], "2026-11-16 12:00:00");
    let plan = plan_with(&["--older-than", "3", "--batch-size", "2"]);
    assert_eq!(
        (plan["retention_days"].as_i64(), plan["batch_size"].as_i64()),
        (Some(3), Some(2))
    );

    // The actor: --actor, then MODCON_ACTOR, then the file, then SUDO_USER,
    // then USER.
    let actor_of = |cmd: &mut assert_cmd::Command, n: u32| -> String {
        cmd.args(["--now", DEMO_NOW, "delete", "thread", &hex_id(n)])
            .assert()
            .success();
        a.conn
            .query_row(
                "SELECT actor FROM modcon_action ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(actor_of(&mut with_config(h), 1), "from-config");
    run_on(&a.db, DEMO_NOW, &["restore", "thread", &hex_id(1)]).success();
    assert_eq!(
        actor_of(with_config(h).env("MODCON_ACTOR", "from-env"), 1),
        "from-env"
    );
    run_on(&a.db, DEMO_NOW, &["restore", "thread", &hex_id(1)]).success();
    assert_eq!(
        actor_of(
            with_config(h)
                .env("MODCON_ACTOR", "from-env")
                .args(["--actor", "from-flag"]),
            1
        ),
        "from-flag"
    );
    run_on(&a.db, DEMO_NOW, &["restore", "thread", &hex_id(1)]).success();
    let bare = tempfile::tempdir().unwrap();
    let plain = |n: u32, sudo: Option<&str>| -> String {
        let mut cmd = modcon(bare.path());
        cmd.arg("--db").arg(&a.db);
        if let Some(s) = sudo {
            cmd.env("SUDO_USER", s);
        }
        actor_of(&mut cmd, n)
    };
    assert_eq!(plain(1, Some("the-sudoer")), "the-sudoer");
    run_on(&a.db, DEMO_NOW, &["restore", "thread", &hex_id(1)]).success();
    assert_eq!(plain(1, None), "tester");
}

#[test]
fn the_media_root_comes_from_the_flag_the_environment_or_the_file() {
    let forum = Forum::new();
    forum.one_of_each("forum/attachments/x.png", None, true);
    let empty = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let missing = |cmd: &mut assert_cmd::Command| -> usize {
        let out = cmd
            .arg("--db")
            .arg(&forum.db)
            .args(["--read-only", "check", "--json"])
            .assert()
            .success()
            .get_output()
            .clone();
        let check: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(check["report"]["files_checked"], true);
        check["report"]["missing_files"].as_array().unwrap().len()
    };
    // `media` beside the database, by default.
    assert_eq!(missing(&mut with_config(h)), 0);
    // The config file's media root, for the config file's database.
    write_config(
        h,
        &format!(
            "db = {:?}\nmedia_root = {:?}\n",
            forum.db.display().to_string(),
            empty.path().display().to_string()
        ),
    );
    assert_eq!(missing(&mut with_config(h)), 1);
    assert_eq!(
        missing(with_config(h).env("MODCON_MEDIA_ROOT", &forum.media)),
        0
    );
    assert_eq!(
        missing(
            with_config(h)
                .env("MODCON_MEDIA_ROOT", &forum.media)
                .arg("--media-root")
                .arg(empty.path())
        ),
        1
    );
    // A named media root must exist.
    let line = error_line(
        with_config(h)
            .arg("--db")
            .arg(&forum.db)
            .arg("--media-root")
            .arg(h.join("nowhere"))
            .args(["check"])
            .assert(),
    );
    assert!(
        line.contains(&format!(
            "media root {} not found",
            h.join("nowhere").display()
        )),
        "{line}"
    );
}

#[test]
fn the_config_file_is_found_under_xdg_config_home_or_dot_config() {
    let forum = forum_with(2);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let xdg = h.join("xdg");
    fs::create_dir_all(xdg.join("modcon")).unwrap();
    fs::write(
        xdg.join("modcon/config.toml"),
        format!("db = {:?}\n", forum.db.display().to_string()),
    )
    .unwrap();
    assert_eq!(threads_seen(with_config(h).env("XDG_CONFIG_HOME", &xdg)), 2);
    let other = forum_with(4);
    write_config(h, &format!("db = {:?}\n", other.db.display().to_string()));
    assert_eq!(
        threads_seen(with_config(h).env_remove("XDG_CONFIG_HOME")),
        4
    );
}

#[test]
fn a_bad_config_file_is_an_error_naming_the_file_and_the_key() {
    let forum = forum_with(1);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for (text, key) in [
        ("retention_days = \"lots\"\n", "retention_days"),
        ("actor = \"mo\"\ncolour = \"red\"\n", "colour"),
        ("batch_size = 0\n", "batch_size"),
        ("retention_days = -1\n", "retention_days"),
        ("theme = \"neon\"\n", "theme"),
        ("mouse = \"yes\"\n", "mouse"),
    ] {
        let path = write_config(h, text);
        let line = error_line(
            with_config(h)
                .arg("--db")
                .arg(&forum.db)
                .args(["stats"])
                .assert(),
        );
        assert!(
            line.starts_with(&format!("error: config file {}", path.display())),
            "{text}: {line}"
        );
        assert!(line.contains(&format!("key `{key}`")), "{text}: {line}");
    }
    let path = write_config(h, "db = \n");
    let line = error_line(with_config(h).args(["stats"]).assert());
    assert!(
        line.starts_with(&format!("error: config file {}", path.display())),
        "{line}"
    );
}

#[test]
fn output_cut_short_by_a_closed_pipe_is_not_an_error() {
    // `modcon list attachments | head -1`: the reader goes away early.
    let d = support::demo(30, 3);
    for args in [
        &["list", "attachments", "--limit", "100000"][..],
        &["list", "posts", "--limit", "100000", "--json"],
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("modcon"))
            .env("HOME", d.dir.path())
            .env_remove("MODCON_CONFIG")
            .env("XDG_CONFIG_HOME", d.dir.path().join(".config"))
            .arg("--db")
            .arg(&d.db)
            .args(["--now", DEMO_NOW])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
}

#[test]
fn demo_json_is_one_flat_object_with_the_usual_count_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::modcon(dir.path())
        .args([
            "--now",
            support::DEMO_NOW,
            "demo",
            "--threads",
            "2",
            "--json",
            "--out",
        ])
        .arg(dir.path().join("d.sqlite3"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["action"], "demo");
    let conn = support::open(&dir.path().join("d.sqlite3"));
    for (key, table) in [
        ("threads", "forum_thread"),
        ("posts", "forum_post"),
        ("attachments", "forum_attachment"),
    ] {
        assert_eq!(
            json[key],
            support::count(&conn, &format!("SELECT count(*) FROM {table}")),
            "{key}"
        );
    }
    assert!(json["files"].as_u64().unwrap() > 0);
}
