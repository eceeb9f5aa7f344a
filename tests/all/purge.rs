//! Purge (issue 3): hard-deleting rows deleted longer ago than the
//! retention. Eligibility at the retention
//! boundary, dependents removed so foreign keys hold, files and thumbnails
//! after the commit, shared file names, paths leaving the media root, the
//! interrupted purge finished by the next run, rows referenced from
//! unknown tables, a batch that keeps failing, held-back rows, dry runs.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Duration, NaiveDateTime};
use rusqlite::Connection;
use serde_json::Value;
use support::{FIXTURE_NOW, Forum, count, json_on, modcon, run_on};
use support::{attachment_image as img, hex_id as id, thumbnail as thumb};
use support::{bytes, error_line, snapshot, state, stdout_of};

const NOW: &str = "2026-11-26 12:00:00";

/// `days` (and `extra_secs`) before NOW, in Django's form.
fn ago(days: i64, extra_secs: i64) -> String {
    let now = NaiveDateTime::parse_from_str(NOW, "%Y-%m-%d %H:%M:%S").unwrap();
    (now - Duration::days(days) - Duration::seconds(extra_secs))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn at(text: &str, days: i64) -> String {
    let t = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap();
    (t + Duration::days(days))
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

fn counts(v: &Value) -> (i64, i64, i64, i64) {
    let n = |k: &str| v[k].as_i64().unwrap_or_else(|| panic!("no {k} in {v}"));
    (n("threads"), n("posts"), n("attachments"), n("files"))
}

fn ids_in(conn: &Connection, table: &str) -> BTreeSet<String> {
    support::column(conn, &format!("SELECT id FROM {table}"))
}

fn fk_problems(conn: &Connection) -> Vec<(String, i64, String)> {
    conn.prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A thread T(1) with an active post P(2) holding deleted attachments.
fn post_forum() -> Forum {
    let f = Forum::new();
    f.thread(&id(1), true);
    f.post(&id(2), &id(1), true);
    f
}

// ----------------------------------------------------- retention boundary

#[test]
fn the_retention_boundary_29_30_and_31_days() {
    let f = post_forum();
    f.attachment(&id(0x29), &id(2), &img(0x29), Some(&ago(29, 0)), true);
    f.attachment(&id(0x30), &id(2), &img(0x30), Some(&ago(30, 0)), true);
    f.attachment(&id(0x31), &id(2), &img(0x31), Some(&ago(31, 0)), true);
    f.attachment(&id(0x32), &id(2), &img(0x32), Some(&ago(29, 86399)), true);
    f.attachment(&id(0x40), &id(2), &img(0x40), None, true);

    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(out["action"], "purge");
    assert_eq!(counts(&out), (0, 0, 2, 2));
    assert_eq!(
        (out["thumbnails"].as_i64(), out["batches"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(out["cutoff"], ago(30, 0));
    let left = ids_in(&f.conn, "forum_attachment");
    assert_eq!(left, [id(0x29), id(0x32), id(0x40)].into_iter().collect());
    for (n, kept) in [
        (0x29, true),
        (0x30, false),
        (0x31, false),
        (0x32, true),
        (0x40, true),
    ] {
        assert_eq!(f.exists(&img(n)), kept, "{n:x} file");
        assert_eq!(f.exists(&thumb(&img(n))), kept, "{n:x} thumbnail");
    }
    // The thumbnail folder goes, not just its files.
    assert!(
        !f.media
            .join("CACHE/images/forum/attachments/2026/01/02/31")
            .exists()
    );

    // Two days later the 29-day ones are past retention too.
    let out = json_on(&f.db, &at(NOW, 2), &["purge"]);
    assert_eq!(counts(&out), (0, 0, 2, 2));
    assert_eq!(
        ids_in(&f.conn, "forum_attachment"),
        [id(0x40)].into_iter().collect()
    );
    // --older-than moves the boundary.
    f.attachment(&id(0x05), &id(2), &img(0x05), Some(&ago(5, 0)), true);
    assert_eq!(
        json_on(&f.db, NOW, &["purge", "--older-than", "6"])["attachments"],
        0
    );
    assert_eq!(
        json_on(&f.db, NOW, &["purge", "--older-than", "5"])["attachments"],
        1
    );
    assert!(!f.exists(&img(0x05)));
}

#[test]
fn the_fixture_purged_at_its_moment() {
    let fx = support::fixture();
    let e = support::expected();
    let conn = support::open(&fx.db);
    let eligible: BTreeSet<String> = e["derived"]["purge_eligible_30d_attachment_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let images: BTreeMap<String, String> = conn
        .prepare("SELECT id, image FROM forum_attachment")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let before_rows = ids_in(&conn, "forum_attachment");
    let before_files = snapshot(&fx.media);

    // The dry run: the same plan, nothing changed.
    let db_bytes = bytes(&fx.db);
    let plan = json_on(
        &fx.db,
        FIXTURE_NOW,
        &["purge", "--dry-run", "--batch-size", "5"],
    );
    assert_eq!(plan["dry_run"], true);
    // The files it would remove are counted, not only the rows (compared
    // with what the real purge removes, below).
    assert_eq!(counts(&plan), (0, 0, 16, 14));
    assert_eq!(plan["thumbnails"], 14);
    assert_eq!(plan["files_missing"], 1);
    assert_eq!(plan["files_refused"], 0);
    assert_eq!(plan["batches"], 4);
    let samples = plan["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 10);
    for s in samples {
        assert!(eligible.contains(s["id"].as_str().unwrap()));
        assert!(!s["name"].as_str().unwrap().is_empty());
        assert!(s["deleted_at"].as_str().unwrap() <= "2026-10-27 11:00:08.157597");
    }
    assert_eq!(bytes(&fx.db), db_bytes);
    assert_eq!(snapshot(&fx.media), before_files);
    let text = stdout_of(run_on(&fx.db, FIXTURE_NOW, &["purge", "--dry-run"]));
    assert!(
        text.contains("would remove: 16 attachments in 1 batch(es)"),
        "{text}"
    );
    assert!(
        text.contains("and their files: 14 (and 14 thumbnails); already missing: 1; refused: 0"),
        "{text}"
    );
    assert!(text.contains("for example:"), "{text}");
    assert_eq!(bytes(&fx.db), db_bytes);

    let out = json_on(&fx.db, FIXTURE_NOW, &["purge", "--batch-size", "5"]);
    assert_eq!(out["dry_run"], false);
    assert_eq!(out["batches"], 4);
    // 16 rows; one file is missing, one is shared with an active row.
    assert_eq!(counts(&out), (0, 0, 16, 14));
    assert_eq!(out["files_missing"], 1);
    assert_eq!(out["files_refused"], 0);
    assert_eq!(out["thumbnails"], 14);
    let after_rows = ids_in(&conn, "forum_attachment");
    assert_eq!(
        before_rows
            .difference(&after_rows)
            .cloned()
            .collect::<BTreeSet<_>>(),
        eligible
    );

    let shared = &e["extras"]["g_shared_file"];
    let shared_image = shared["image_name"].as_str().unwrap();
    let mut want_gone: BTreeSet<String> = eligible
        .iter()
        .map(|a| images[a].clone())
        .filter(|i| i != shared_image && before_files.contains_key(i))
        .collect();
    for c in e["derived"]["cache_files_of_purge_eligible_rows"]
        .as_array()
        .unwrap()
    {
        want_gone.insert(c.as_str().unwrap().to_string());
    }
    let after_files = snapshot(&fx.media);
    let gone: BTreeSet<String> = before_files
        .keys()
        .filter(|k| !after_files.contains_key(*k))
        .cloned()
        .collect();
    assert_eq!(gone, want_gone);
    // The dry run counted exactly the files that went.
    let thumbnails_gone = gone.iter().filter(|f| f.starts_with("CACHE/")).count() as i64;
    assert_eq!(
        (gone.len() as i64 - thumbnails_gone, thumbnails_gone),
        (
            plan["files"].as_i64().unwrap(),
            plan["thumbnails"].as_i64().unwrap()
        )
    );
    assert!(after_files.contains_key(shared_image));
    assert!(after_rows.contains(shared["active_attachment_id"].as_str().unwrap()));
    // Files no row references are check's business, never purge's.
    for orphan in e["derived"]["orphan_files"].as_array().unwrap() {
        assert!(after_files.contains_key(orphan.as_str().unwrap()));
    }
    assert!(fk_problems(&conn).is_empty());
    // The web app's deleted threads and posts are stamped, not purged;
    // the 5 its moderation queue removed are dated by its actions instead.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM modcon_deletion WHERE source = 'seen'"
        ),
        12 - 5
    );

    // The 29-day rows, two days later.
    let out = json_on(&fx.db, &at(FIXTURE_NOW, 2), &["purge"]);
    let d29: BTreeSet<String> = e["categories"]["backdated_deleted_at"]["29d"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(out["attachments"], d29.len() as i64);
    assert!(ids_in(&conn, "forum_attachment").is_disjoint(&d29));
    assert_eq!(
        (out["threads"].as_i64(), out["posts"].as_i64()),
        (Some(0), Some(0))
    );
}

#[test]
fn a_dry_run_without_a_media_root_says_its_files_are_not_counted() {
    let fx = support::fixture();
    fs::remove_dir_all(&fx.media).unwrap();
    let plan = json_on(&fx.db, FIXTURE_NOW, &["purge", "--dry-run"]);
    assert_eq!(plan["media_root"], Value::Null);
    assert_eq!(counts(&plan), (0, 0, 16, 0));
    let text = stdout_of(run_on(&fx.db, FIXTURE_NOW, &["purge", "--dry-run"]));
    assert!(
        text.contains("files: not counted, no media root is set"),
        "{text}"
    );
    let kept = stdout_of(run_on(
        &fx.db,
        FIXTURE_NOW,
        &["purge", "--dry-run", "--keep-files"],
    ));
    assert!(kept.contains("files kept (--keep-files)"), "{kept}");
}

// --------------------------------------------- threads, posts, dependents

/// A thread with two posts, attachments, reactions, flags on a post and
/// on the thread, and moderation actions on those flags.
fn add_discussion(f: &Forum, t: u32) {
    f.thread(&id(t), true);
    for p in [t + 1, t + 2] {
        f.post(&id(p), &id(t), true);
        f.attachment(&id(p + 0x100), &id(p), &img(p + 0x100), None, true);
        f.conn
            .execute(
                "INSERT INTO forum_reaction VALUES (?1, 'like', 1, ?2, 1)",
                (id(p + 0x200), id(p)),
            )
            .unwrap();
    }
    f.conn
        .execute_batch(&format!(
            "INSERT INTO forum_flaggedcontent VALUES ('{fp}', 'post', 'spam', 'removed', '2026-01-03 00:00:00', 1, '{p}', NULL);
             INSERT INTO forum_flaggedcontent VALUES ('{ft}', 'thread', 'spam', 'pending', '2026-01-03 00:00:00', 1, NULL, '{t}');
             INSERT INTO forum_moderationaction VALUES ('{mp}', 'remove_post', '2026-01-04 00:00:00', '{fp}', 1);
             INSERT INTO forum_moderationaction VALUES ('{mt}', 'warning', '2026-01-04 00:00:00', '{ft}', 1);",
            fp = id(t + 0x300),
            ft = id(t + 0x301),
            mp = id(t + 0x400),
            mt = id(t + 0x401),
            p = id(t + 1),
            t = id(t),
        ))
        .unwrap();
}

/// A discussion (`add_discussion`) per thread of `threads`, then `schema`
/// (another app's tables, rows and triggers), then each thread deleted
/// by the console 45 days ago.
fn discussions_deleted_with(threads: &[u32], schema: &str) -> Forum {
    let f = Forum::new();
    for t in threads {
        add_discussion(&f, *t);
    }
    f.conn.execute_batch(schema).unwrap();
    for t in threads {
        run_on(&f.db, &ago(45, 0), &["delete", "thread", &id(*t)]).success();
    }
    f
}

/// The skipped rows of a purge report (`skipped`) when only the `kind`
/// row `n` was skipped, for `reason`.
fn skipped_alone(kind: &str, n: u32, reason: &str) -> BTreeMap<String, String> {
    [(format!("{kind} {}", id(n)), reason.to_string())]
        .into_iter()
        .collect()
}

/// Rows in each of `support::PURGED_TABLES`.
fn table_counts(conn: &Connection) -> [i64; 6] {
    support::PURGED_TABLES.map(|t| count(conn, &format!("SELECT count(*) FROM {t}")))
}

#[test]
fn purging_a_thread_removes_its_posts_attachments_reactions_flags_and_their_actions() {
    let f = Forum::new();
    add_discussion(&f, 0x1000);
    add_discussion(&f, 0x2000);
    add_discussion(&f, 0x3000);
    assert_eq!(table_counts(&f.conn), [3, 6, 6, 6, 6, 6]);
    // The console deleted the first thread 45 days ago and one post of the
    // third 40 days ago; the second stays.
    run_on(&f.db, &ago(45, 0), &["delete", "thread", &id(0x1000)]).success();
    run_on(&f.db, &ago(40, 0), &["delete", "post", &id(0x3001)]).success();
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(counts(&out), (1, 3, 3, 3));
    assert_eq!(out["batches"], 2);
    assert_eq!(table_counts(&f.conn), [2, 3, 3, 3, 3, 3]);
    assert!(
        fk_problems(&f.conn).is_empty(),
        "{:?}",
        fk_problems(&f.conn)
    );
    let threads = ids_in(&f.conn, "forum_thread");
    assert_eq!(threads, [id(0x2000), id(0x3000)].into_iter().collect());
    let flags = ids_in(&f.conn, "forum_flaggedcontent");
    assert_eq!(
        flags,
        [id(0x2300), id(0x2301), id(0x3301)].into_iter().collect()
    );
    let actions = ids_in(&f.conn, "forum_moderationaction");
    assert_eq!(
        actions,
        [id(0x2400), id(0x2401), id(0x3401)].into_iter().collect()
    );
    assert!(!ids_in(&f.conn, "forum_reaction").contains(&id(0x3201)));
    for p in [0x1001, 0x1002, 0x3001] {
        assert!(!f.exists(&img(p + 0x100)));
    }
    for p in [0x2001, 0x2002, 0x3002] {
        assert!(f.exists(&img(p + 0x100)));
    }
    // Their deletion records went with them; the audit log counts it all.
    assert_eq!(count(&f.conn, "SELECT count(*) FROM modcon_deletion"), 0);
    let purge: (i64, i64, i64, i64) = f
        .conn
        .query_row(
            "SELECT threads, posts, attachments, files FROM modcon_action WHERE action = 'purge'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(purge, (1, 3, 3, 3));
}

#[test]
fn the_fixtures_moderated_content_is_purged_with_its_flags_once_old_enough() {
    // check --fix deletes what the moderation queue left active; the web
    // app's deleted threads and posts are first seen at the same moment.
    let fx = support::fixture();
    let e = support::expected();
    let b = &e["categories"]["b_moderation_remove_post"];
    let c = &e["categories"]["c_moderation_remove_thread"];
    let conn = support::open(&fx.db);
    run_on(&fx.db, FIXTURE_NOW, &["check", "--fix"]).success();
    let strings = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };

    // 29 days on: nothing of it is purged.
    let out = json_on(&fx.db, &at(FIXTURE_NOW, 29), &["purge"]);
    assert_eq!(
        (out["threads"].as_i64(), out["posts"].as_i64()),
        (Some(0), Some(0))
    );
    assert!(strings(&c["thread_ids"]).is_subset(&ids_in(&conn, "forum_thread")));

    // 31 days on: the threads and posts go, with their flags and actions.
    let out = json_on(&fx.db, &at(FIXTURE_NOW, 31), &["purge"]);
    assert_eq!(out["threads"], 2);
    // Every deleted post: the web app's ten and the five the fix deleted.
    assert_eq!(out["posts"], 15);
    assert!(ids_in(&conn, "forum_thread").is_disjoint(&strings(&c["thread_ids"])));
    assert!(ids_in(&conn, "forum_post").is_disjoint(&strings(&b["post_ids"])));
    assert!(ids_in(&conn, "forum_post").is_disjoint(&strings(&c["still_active_post_ids"])));
    let flags = ids_in(&conn, "forum_flaggedcontent");
    assert!(flags.is_disjoint(&strings(&b["flag_ids"])));
    assert!(flags.is_disjoint(&strings(&c["flag_ids"])));
    let actions = ids_in(&conn, "forum_moderationaction");
    assert!(actions.is_disjoint(&strings(&b["moderation_action_ids"])));
    assert!(actions.is_disjoint(&strings(&c["moderation_action_ids"])));
    assert!(fk_problems(&conn).is_empty(), "{:?}", fk_problems(&conn));
    assert_eq!(
        count(&conn, "SELECT count(*) FROM forum_post WHERE is_active = 0"),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM forum_thread WHERE is_active = 0"
        ),
        0
    );
    // Active content is all still there.
    let fresh = support::open(&support::fixture().db);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM forum_thread"),
        count(
            &fresh,
            "SELECT count(*) FROM forum_thread WHERE is_active = 1"
        )
    );
}

#[test]
fn an_active_row_or_a_row_with_an_active_descendant_is_never_removed() {
    let f = Forum::new();
    // Thread 1, deleted 45 days ago by the console; then the web app
    // reactivated one of its posts.
    f.thread(&id(1), true);
    f.post(&id(3), &id(1), true);
    run_on(&f.db, &ago(45, 0), &["delete", "thread", &id(1)]).success();
    f.conn
        .execute("UPDATE forum_post SET is_active = 1 WHERE id = ?1", [id(3)])
        .unwrap();
    // Post 5, deleted 45 days ago; the web app reactivated its attachment.
    f.thread(&id(4), true);
    f.post(&id(5), &id(4), true);
    f.attachment(&id(6), &id(5), &img(6), None, true);
    run_on(&f.db, &ago(45, 0), &["delete", "post", &id(5)]).success();
    f.conn
        .execute(
            "UPDATE forum_attachment SET is_active = 1, deleted_at = NULL WHERE id = ?1",
            [id(6)],
        )
        .unwrap();
    let before = state(&f.conn);
    let plan = json_on(&f.db, NOW, &["purge", "--dry-run"]);
    assert_eq!(counts(&plan), (0, 0, 0, 0));
    let held = &plan["held_back"];
    assert_eq!(
        (held["threads"].as_i64(), held["posts"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(plan["skipped"], 2);
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(counts(&out), (0, 0, 0, 0));
    assert_eq!(out["skipped"], 2);
    assert_eq!(state(&f.conn), before);
    assert!(f.exists(&img(6)));
    let text = stdout_of(run_on(&f.db, NOW, &["purge"]));
    assert!(
        text.contains("held back (an active row below them): 1 thread, 1 post"),
        "{text}"
    );
}

#[test]
fn a_purge_stamps_first_seen_so_the_retention_clock_never_starts_early() {
    let f = Forum::new();
    // Deleted by the web app long ago; the console cannot know when.
    f.thread(&id(1), false);
    f.post(&id(2), &id(1), false);
    f.attachment(&id(3), &id(2), &img(3), Some("2025-01-01 00:00:00"), true);
    let bytes_before = bytes(&f.db);
    let plan = json_on(&f.db, NOW, &["purge", "--dry-run"]);
    assert_eq!(
        counts(&plan),
        (0, 0, 1, 1),
        "only the attachment's age is known (and its file goes with it)"
    );
    assert_eq!(bytes(&f.db), bytes_before, "a dry run stamps nothing");
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(counts(&out), (0, 0, 1, 1));
    assert_eq!(f.active("forum_thread", &id(1)), Some(false));
    let out = json_on(&f.db, &at(NOW, 29), &["purge"]);
    assert_eq!(counts(&out), (0, 0, 0, 0));
    let out = json_on(&f.db, &at(NOW, 30), &["purge"]);
    assert_eq!(counts(&out), (1, 1, 0, 0));
    assert_eq!(f.active("forum_thread", &id(1)), None);
}

// ------------------------------------------------------------------ files

#[test]
fn a_file_still_named_by_a_remaining_row_is_kept() {
    let f = post_forum();
    let shared = "forum/attachments/2026/01/02/shared.png";
    f.attachment(&id(0x10), &id(2), shared, Some(&ago(45, 0)), true);
    f.attachment(&id(0x11), &id(2), shared, None, false);
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(counts(&out), (0, 0, 1, 0));
    assert!(f.exists(shared));
    assert!(f.exists(&thumb(shared)));

    // Two purgeable rows sharing a file: removed once, in one batch or two.
    for batch in ["100", "1"] {
        let f = post_forum();
        f.attachment(&id(0x10), &id(2), shared, Some(&ago(45, 0)), true);
        f.attachment(&id(0x11), &id(2), shared, Some(&ago(40, 0)), false);
        let out = json_on(&f.db, NOW, &["purge", "--batch-size", batch]);
        assert_eq!(counts(&out), (0, 0, 2, 1), "batch size {batch}");
        assert_eq!(out["files_missing"], 0);
        assert!(!f.exists(shared));
        assert!(!f.exists(&thumb(shared)));
    }
}

#[test]
fn a_missing_file_is_counted_not_an_error() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), false);
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(counts(&out), (0, 0, 1, 0));
    assert_eq!(out["files_missing"], 1);
}

#[test]
fn paths_that_leave_the_media_root_are_never_touched_and_are_reported() {
    let f = post_forum();
    let outside = f.dir.path().join("media-evil");
    fs::create_dir_all(&outside).unwrap();
    for name in ["x.png", "y.png", "z.png", "target.png"] {
        fs::write(outside.join(name), b"precious").unwrap();
    }
    fs::create_dir_all(outside.join("thumbs")).unwrap();
    fs::write(outside.join("thumbs/t.jpg"), b"precious").unwrap();
    let absolute = outside.join("target.png").display().to_string();
    std::os::unix::fs::symlink(&outside, f.media.join("forum/attachments/link")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("y.png"),
        f.media.join("forum/attachments/alias.png"),
    )
    .unwrap();
    let bad = [
        (
            0x10,
            "../media-evil/x.png".to_string(),
            "'..' would leave the media root",
        ),
        (
            0x11,
            "forum/../../media-evil/x.png".to_string(),
            "'..' would leave the media root",
        ),
        (
            0x12,
            absolute.clone(),
            "absolute path, outside the media root",
        ),
        (
            0x13,
            "forum/attachments/link/z.png".to_string(),
            "a symlink on the path leads outside the media root",
        ),
        (
            0x14,
            "forum/attachments/alias.png".to_string(),
            "a symlink on the path leads outside the media root",
        ),
    ];
    for (n, image, _) in &bad {
        f.attachment(&id(*n), &id(2), image, Some(&ago(45, 0)), false);
    }
    // A good image whose thumbnail folder is a symlink leading out.
    let good = "forum/attachments/good.png";
    f.attachment(&id(0x20), &id(2), good, Some(&ago(45, 0)), false);
    f.file(good);
    fs::create_dir_all(f.media.join("CACHE/images/forum/attachments")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("thumbs"),
        f.media.join("CACHE/images/forum/attachments/good"),
    )
    .unwrap();

    let check = json_on(&f.db, NOW, &["check"]);
    let unsafe_paths: BTreeMap<String, String> = check["report"]["unsafe_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["image"].as_str().unwrap().to_string(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeMap<String, String> = bad
        .iter()
        .map(|(_, i, r)| (i.clone(), r.to_string()))
        .collect();
    assert_eq!(unsafe_paths, want);

    let before_outside = snapshot(&outside);
    let out = purge_as_planned(&f, &[]);
    assert_eq!(counts(&out), (0, 0, 6, 1));
    let refused: BTreeMap<String, String> = out["refused_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["image"].as_str().unwrap().to_string(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (image, reason) in &want {
        assert_eq!(refused.get(image), Some(reason), "{image}");
    }
    assert!(
        refused.contains_key("CACHE/images/forum/attachments/good"),
        "the thumbnail folder leading out is reported: {refused:?}"
    );
    assert_eq!(out["files_refused"].as_u64(), Some(refused.len() as u64));
    assert_eq!(
        snapshot(&outside),
        before_outside,
        "nothing outside the media root was touched"
    );
    assert!(f.media.join("forum/attachments/link").is_symlink());
    assert!(f.media.join("forum/attachments/alias.png").is_symlink());
    assert!(!f.exists(good));
    assert_eq!(count(&f.conn, "SELECT count(*) FROM forum_attachment"), 0);
    let text = stdout_of(run_on(&f.db, NOW, &["check"]));
    assert!(
        !text.contains("attachment paths outside the media root"),
        "{text}"
    );
}

#[test]
fn without_a_media_root_a_purge_that_would_leave_files_is_refused_unless_keep_files() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), true);
    // Move the database away from its media folder.
    let elsewhere = tempfile::tempdir().unwrap();
    let db = elsewhere.path().join("forum.sqlite3");
    fs::copy(&f.db, &db).unwrap();
    let conn = support::open(&db);
    let before = state(&conn);
    let line = error_line(run_on(&db, NOW, &["purge"]));
    assert_eq!(
        line,
        "error: no media root is set, so purging 1 attachment rows would leave their files behind: \
         give --media-root, or --keep-files to purge the rows and keep the files"
    );
    assert_eq!(state(&conn), before);
    // A dry run is fine.
    assert_eq!(json_on(&db, NOW, &["purge", "--dry-run"])["attachments"], 1);
    let out = json_on(&db, NOW, &["purge", "--keep-files"]);
    assert_eq!(counts(&out), (0, 0, 1, 0));
    assert_eq!(out["keep_files"], true);
    assert_eq!(count(&conn, "SELECT count(*) FROM forum_attachment"), 0);
    assert_eq!(count(&conn, "SELECT count(*) FROM modcon_file_journal"), 0);
    // And with the media root named, files go.
    let g = post_forum();
    g.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), true);
    let db2 = elsewhere.path().join("second.sqlite3");
    fs::copy(&g.db, &db2).unwrap();
    let out = json_on(
        &db2,
        NOW,
        &["--media-root", g.media.to_str().unwrap(), "purge"],
    );
    assert_eq!(counts(&out), (0, 0, 1, 1));
    assert!(!g.exists(&img(0x10)));
}

// --------------------------------------------------- interrupted purge

fn interrupted(f: &Forum, batch: &str) {
    modcon(f.dir.path())
        .env("MODCON_FAILPOINT", "purge-after-commit:exit")
        .arg("--db")
        .arg(&f.db)
        .args(["--now", NOW, "purge", "--batch-size", batch])
        .assert()
        .code(3);
}

#[test]
fn a_purge_interrupted_between_commit_and_file_removal_is_finished_by_the_next_run() {
    let f = post_forum();
    for n in [0x10, 0x11, 0x12] {
        f.attachment(&id(n), &id(2), &img(n), Some(&ago(45, 0)), true);
    }
    interrupted(&f, "1");
    // The first batch committed: its row is gone, its file still there,
    // and the journal says so.
    assert_eq!(
        ids_in(&f.conn, "forum_attachment"),
        [id(0x11), id(0x12)].into_iter().collect()
    );
    assert!(f.exists(&img(0x10)) && f.exists(&thumb(&img(0x10))));
    let journal: Vec<String> = support::column(&f.conn, "SELECT image FROM modcon_file_journal");
    assert_eq!(journal, [img(0x10)]);

    let out = json_on(&f.db, NOW, &["purge", "--batch-size", "1"]);
    assert_eq!(out["journal_finished"], 1);
    assert_eq!(counts(&out), (0, 0, 2, 3));
    for n in [0x10, 0x11, 0x12] {
        assert!(!f.exists(&img(n)), "{n:x}");
        assert!(!f.exists(&thumb(&img(n))), "{n:x}");
    }
    assert_eq!(
        count(&f.conn, "SELECT count(*) FROM modcon_file_journal"),
        0
    );
    // The interrupted purge's log entry gets its file counted.
    let files_per_purge: Vec<(i64, i64)> = f
        .conn
        .prepare("SELECT attachments, files FROM modcon_action WHERE action = 'purge' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(files_per_purge, [(1, 1), (2, 2)]);
}

#[test]
fn the_journal_is_finished_even_when_nothing_else_is_purgeable() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), true);
    interrupted(&f, "100");
    assert!(f.exists(&img(0x10)));
    let text = stdout_of(run_on(&f.db, NOW, &["purge"]));
    assert!(
        text.contains("finished 1 file removals left by an interrupted purge"),
        "{text}"
    );
    assert!(!f.exists(&img(0x10)));
}

#[test]
fn a_journalled_file_named_again_by_a_new_row_is_kept() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), true);
    interrupted(&f, "100");
    // The web app stores a new upload under the same name.
    f.attachment(&id(0x11), &id(2), &img(0x10), None, false);
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(out["journal_finished"], 1);
    assert_eq!(counts(&out), (0, 0, 0, 0));
    assert!(f.exists(&img(0x10)));
    assert_eq!(
        count(&f.conn, "SELECT count(*) FROM modcon_file_journal"),
        0
    );
}

#[test]
fn a_pending_journal_without_a_media_root_is_refused_unless_keep_files() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), true);
    interrupted(&f, "100");
    let moved = f.dir.path().join("media-moved");
    fs::rename(&f.media, &moved).unwrap();
    let line = error_line(run_on(&f.db, NOW, &["purge"]));
    assert_eq!(
        line,
        "error: 1 files from an earlier purge are waiting to be removed, and no media root is set: \
         give --media-root (or --keep-files to leave them)"
    );
    assert_eq!(
        count(&f.conn, "SELECT count(*) FROM modcon_file_journal"),
        1
    );
    let out = json_on(
        &f.db,
        NOW,
        &["--media-root", moved.to_str().unwrap(), "purge"],
    );
    assert_eq!(out["journal_finished"], 1);
    assert!(!moved.join(img(0x10)).exists());
}

// ---------------------------------------------- references from elsewhere

#[test]
fn a_row_referenced_from_an_unknown_table_is_skipped_and_reported() {
    let f = Forum::new();
    add_discussion(&f, 0x1000);
    add_discussion(&f, 0x2000);
    f.thread(&id(0x3000), true);
    f.post(&id(0x3001), &id(0x3000), true);
    for n in [0x3101, 0x3102] {
        f.attachment(&id(n), &id(0x3001), &img(n), Some(&ago(45, 0)), true);
    }
    f.conn
        .execute_batch(&format!(
            "CREATE TABLE shop_order (id integer PRIMARY KEY, attachment_id char(32) NULL REFERENCES forum_attachment (id));
             CREATE TABLE forum_bookmark (id integer PRIMARY KEY, reaction_id char(32) NOT NULL REFERENCES forum_reaction (id));
             INSERT INTO shop_order VALUES (1, '{a}');
             INSERT INTO forum_bookmark VALUES (1, '{r}');",
            a = id(0x3101),
            r = id(0x1201),
        ))
        .unwrap();
    run_on(&f.db, &ago(45, 0), &["delete", "thread", &id(0x1000)]).success();
    run_on(&f.db, &ago(45, 0), &["delete", "thread", &id(0x2000)]).success();

    let check = json_on(&f.db, NOW, &["check"]);
    let refs: BTreeSet<String> = check["report"]["foreign_references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        refs,
        [
            "forum_bookmark.reaction_id → forum_reaction",
            "shop_order.attachment_id → forum_attachment"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    );
    let want: BTreeMap<String, String> = [
        (
            format!("attachment {}", id(0x3101)),
            "referenced from shop_order.attachment_id (not a table the web app cascades to)"
                .to_string(),
        ),
        (
            format!("thread {}", id(0x1000)),
            "referenced from forum_bookmark.reaction_id (not a table the web app cascades to)"
                .to_string(),
        ),
    ]
    .into_iter()
    .collect();
    let plan = json_on(&f.db, NOW, &["purge", "--dry-run"]);
    assert_eq!(skipped(&plan), want);
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(skipped(&out), want);
    assert_eq!(out["skipped"], 2);
    assert_eq!(counts(&out), (1, 2, 3, 3));
    assert!(
        fk_problems(&f.conn).is_empty(),
        "{:?}",
        fk_problems(&f.conn)
    );
    let threads = ids_in(&f.conn, "forum_thread");
    assert!(threads.contains(&id(0x1000)) && !threads.contains(&id(0x2000)));
    assert!(ids_in(&f.conn, "forum_attachment").contains(&id(0x3101)));
    assert!(f.exists(&img(0x3101)) && !f.exists(&img(0x3102)));
    let text = stdout_of(run_on(&f.db, NOW, &["purge"]));
    assert!(
        text.contains(&format!(
            "skipped attachment {}: referenced from shop_order.attachment_id (not a table the web app cascades to)",
            id(0x3101)
        )),
        "{text}"
    );
}

// ------------------------------------------------------ a failing batch

#[test]
fn a_batch_that_keeps_failing_stops_the_purge_after_its_retries() {
    // The third batch transaction and every later one fail as on a disk
    // I/O error: batch 3 is tried 4 times, then the purge stops.
    let f = post_forum();
    let all = [0x10, 0x11, 0x12, 0x13, 0x14];
    for n in all {
        f.attachment(&id(n), &id(2), &img(n), Some(&ago(45, 0)), true);
    }
    let failing = |from: &str| {
        modcon(f.dir.path())
            .env("MODCON_FAILPOINT", format!("purge-batch:fail-from={from}"))
            .arg("--db")
            .arg(&f.db)
            .args(["--now", NOW, "purge", "--batch-size", "1"])
            .assert()
    };
    let line = error_line(failing("3"));
    assert!(
        line.starts_with(&format!("error: {}: ", f.db.display())),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "purge stopped: batch 3 (1 attachment starting {}) failed 4 times; \
             the batches before it are done and a rerun continues",
            id(0x12)
        )),
        "{line}"
    );
    assert!(line.contains("disk I/O error"), "{line}");
    // Batches 1 and 2 are done, files included; the rest is untouched.
    assert_eq!(
        ids_in(&f.conn, "forum_attachment"),
        [id(0x12), id(0x13), id(0x14)].into_iter().collect()
    );
    for (n, gone) in [
        (0x10, true),
        (0x11, true),
        (0x12, false),
        (0x13, false),
        (0x14, false),
    ] {
        assert_eq!(!f.exists(&img(n)), gone, "{n:x}");
    }
    assert_eq!(
        count(&f.conn, "SELECT count(*) FROM modcon_file_journal"),
        0
    );
    assert_eq!(purge_files_logged(&f.conn), [2]);
    // A rerun that fails at once stops the same way rather than looping,
    // and leaves no empty entry in the log; without the failure it finishes.
    let line = error_line(failing("1"));
    assert!(line.contains("batch 1 (1 attachment starting"), "{line}");
    assert_eq!(purge_files_logged(&f.conn), [2]);
    let out = json_on(&f.db, NOW, &["purge", "--batch-size", "1"]);
    assert_eq!(counts(&out), (0, 0, 3, 3));
    assert_eq!(count(&f.conn, "SELECT count(*) FROM forum_attachment"), 0);
}

/// The skipped rows of a purge report, as "kind id" → reason.
fn skipped(v: &Value) -> BTreeMap<String, String> {
    v["skipped_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                format!(
                    "{} {}",
                    s["kind"].as_str().unwrap(),
                    s["id"].as_str().unwrap()
                ),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_row_a_trigger_refuses_to_delete_is_isolated_and_every_other_row_goes() {
    for batch in ["1", "3", "100"] {
        let f = post_forum();
        let all: Vec<u32> = (0x10..0x20).collect();
        for n in &all {
            f.attachment(&id(*n), &id(2), &img(*n), Some(&ago(45, 0)), true);
        }
        f.conn
            .execute_batch(&format!(
                "CREATE TRIGGER keep_one BEFORE DELETE ON forum_attachment WHEN old.id = '{}' \
                 BEGIN SELECT RAISE(ABORT, 'kept by a trigger'); END;",
                id(0x17)
            ))
            .unwrap();
        let out = json_on(&f.db, NOW, &["purge", "--batch-size", batch]);
        assert_eq!(counts(&out), (0, 0, 15, 15), "batch size {batch}");
        assert_eq!(
            skipped(&out),
            skipped_alone(
                "attachment",
                0x17,
                "the database refused to delete it: kept by a trigger"
            ),
            "batch size {batch}"
        );
        assert_eq!(
            ids_in(&f.conn, "forum_attachment"),
            [id(0x17)].into_iter().collect()
        );
        assert!(f.exists(&img(0x17)) && f.exists(&thumb(&img(0x17))));
        assert!(!f.exists(&img(0x16)) && !f.exists(&img(0x18)));
        // The next run is not stalled either: it skips the row again and
        // purges what is new.
        f.attachment(&id(0x30), &id(2), &img(0x30), Some(&ago(45, 0)), true);
        let out = json_on(&f.db, NOW, &["purge", "--batch-size", batch]);
        assert_eq!(counts(&out), (0, 0, 1, 1), "batch size {batch}");
        assert_eq!(out["skipped"], 1);
        let text = stdout_of(run_on(&f.db, NOW, &["purge", "--batch-size", batch]));
        assert!(
            text.contains(&format!(
                "skipped attachment {}: the database refused to delete it: kept by a trigger",
                id(0x17)
            )),
            "{text}"
        );
    }
}

#[test]
fn a_trigger_that_silently_ignores_a_delete_is_caught_and_its_row_skipped() {
    let f = post_forum();
    for n in 0x10..0x14 {
        f.attachment(&id(n), &id(2), &img(n), Some(&ago(45, 0)), true);
    }
    f.conn
        .execute_batch(&format!(
            "CREATE TRIGGER ignore_one BEFORE DELETE ON forum_attachment WHEN old.id = '{}' \
             BEGIN SELECT RAISE(IGNORE); END;",
            id(0x12)
        ))
        .unwrap();
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(counts(&out), (0, 0, 3, 3));
    let skips = skipped(&out);
    assert_eq!(skips.len(), 1, "{skips:?}");
    assert!(
        skips[&format!("attachment {}", id(0x12))].contains("a trigger ignored the delete"),
        "{skips:?}"
    );
    // Its file stays: the row is still there.
    assert!(f.exists(&img(0x12)));
    assert_eq!(
        ids_in(&f.conn, "forum_attachment"),
        [id(0x12)].into_iter().collect()
    );
}

#[test]
fn a_to_field_reference_to_a_thread_slug_keeps_that_thread() {
    // A table of another app, referencing threads by slug (Django's
    // to_field), as Django creates it: DEFERRABLE INITIALLY DEFERRED.
    let f = discussions_deleted_with(
        &[0x1000, 0x2000],
        &format!(
            "CREATE TABLE links_threadlink (id integer NOT NULL PRIMARY KEY, \
               thread_slug varchar(250) NOT NULL REFERENCES forum_thread (slug) DEFERRABLE INITIALLY DEFERRED);
             INSERT INTO links_threadlink VALUES (1, 'slug-{}');",
            id(0x1000)
        ),
    );
    let check = json_on(&f.db, NOW, &["check"]);
    assert_eq!(
        check["report"]["foreign_references"],
        serde_json::json!(["links_threadlink.thread_slug → forum_thread.slug"])
    );
    let want = skipped_alone(
        "thread",
        0x1000,
        "referenced from links_threadlink.thread_slug (not a table the web app cascades to)",
    );
    assert_eq!(skipped(&json_on(&f.db, NOW, &["purge", "--dry-run"])), want);
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(skipped(&out), want);
    assert_eq!(counts(&out).0, 1);
    let threads = ids_in(&f.conn, "forum_thread");
    assert!(threads.contains(&id(0x1000)) && !threads.contains(&id(0x2000)));
    assert!(
        fk_problems(&f.conn).is_empty(),
        "{:?}",
        fk_problems(&f.conn)
    );
}

#[test]
fn a_foreign_key_failing_at_commit_isolates_its_thread_and_the_rest_goes() {
    // Another app logs deleted posts with a reference to their thread,
    // from a trigger: the scan finds no such row when the batch starts, but
    // the trigger writes one mid-batch, and the deferred foreign key fails
    // the commit. The thread is isolated; the others go.
    let f = discussions_deleted_with(
        &[0x1000, 0x2000, 0x3000],
        &format!(
            "CREATE TABLE trail_deletedpost (id integer NOT NULL PRIMARY KEY, \
               thread_id char(32) NOT NULL REFERENCES forum_thread (id) DEFERRABLE INITIALLY DEFERRED);
             CREATE TRIGGER trail AFTER DELETE ON forum_post WHEN old.id = '{}'
             BEGIN INSERT INTO trail_deletedpost (thread_id) VALUES (old.thread_id); END;",
            id(0x2001)
        ),
    );
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(
        skipped(&out),
        skipped_alone(
            "thread",
            0x2000,
            "the database refused to delete it: FOREIGN KEY constraint failed"
        )
    );
    assert_eq!(counts(&out), (2, 4, 4, 4));
    assert_eq!(
        ids_in(&f.conn, "forum_thread"),
        [id(0x2000)].into_iter().collect()
    );
    assert_eq!(count(&f.conn, "SELECT count(*) FROM trail_deletedpost"), 0);
    assert!(fk_problems(&f.conn).is_empty());
}

#[test]
fn a_thread_a_trigger_protects_is_isolated_with_everything_below_it() {
    // A trigger on the thread fires after its posts and attachments were
    // deleted in the same batch: the whole batch rolls back, the thread is
    // isolated and keeps everything below it, the rest goes.
    let f = discussions_deleted_with(
        &[0x1000, 0x2000, 0x3000],
        &format!(
            "CREATE TABLE archive_entry (id integer PRIMARY KEY, title text NOT NULL);
             INSERT INTO archive_entry VALUES (1, 'Thread {}');
             CREATE TRIGGER archived BEFORE DELETE ON forum_thread
               WHEN EXISTS (SELECT 1 FROM archive_entry WHERE title = old.title)
             BEGIN SELECT RAISE(FAIL, 'the thread is archived'); END;",
            id(0x2000)
        ),
    );
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(
        skipped(&out),
        skipped_alone(
            "thread",
            0x2000,
            "the database refused to delete it: the thread is archived"
        )
    );
    assert_eq!(counts(&out).0, 2);
    assert_eq!(
        ids_in(&f.conn, "forum_thread"),
        [id(0x2000)].into_iter().collect()
    );
    // Its posts, attachments and files are all still there.
    assert_eq!(count(&f.conn, "SELECT count(*) FROM forum_post"), 2);
    assert!(fk_problems(&f.conn).is_empty());
}

// ------------------------------------------------------ cancel, progress

#[test]
fn a_cancel_stops_after_the_batch_in_flight_and_a_rerun_continues() {
    use modcon_core::db::{Access, Db, OpenOptions};
    use modcon_core::media::MediaRoot;
    use modcon_core::purge::{self, PurgeOptions};
    use modcon_core::{Ctx, model};
    let f = post_forum();
    for n in [0x10, 0x11, 0x12] {
        f.attachment(&id(n), &id(2), &img(n), Some(&ago(45, 0)), true);
    }
    let ctx = Ctx {
        now: model::parse_now(NOW).unwrap(),
        actor: "tester".into(),
        retention_days: 30,
        ..Ctx::default()
    };
    let options = PurgeOptions {
        retention_days: 30,
        batch_size: 1,
        dry_run: false,
        keep_files: false,
    };
    let media = MediaRoot::open(&f.media).unwrap();
    let mut db = Db::open(&f.db, &OpenOptions::new(Access::ReadWrite)).unwrap();
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let report = purge::run(
        &mut db,
        &ctx,
        Some(&media),
        &options,
        &mut |p| {
            seen.push((p.batch, p.batches, p.removed.attachments));
            // Batch 0 announces the plan's length; cancel once one is done.
            if p.batch >= 1 {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    )
    .unwrap();
    assert!(report.cancelled);
    assert_eq!(report.batches, 1);
    assert_eq!(seen, [(0, 3, 0), (1, 3, 1)]);
    assert_eq!(count(&f.conn, "SELECT count(*) FROM forum_attachment"), 2);
    assert!(!f.exists(&img(0x10)));
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let report = purge::run(
        &mut db,
        &ctx,
        Some(&media),
        &options,
        &mut |p| seen.push(p.batch),
        &cancel,
    )
    .unwrap();
    assert!(!report.cancelled);
    assert_eq!(seen, [0, 1, 2]);
    assert_eq!(count(&f.conn, "SELECT count(*) FROM forum_attachment"), 0);
}

#[test]
fn without_a_terminal_there_is_no_progress_bar() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), true);
    let out = run_on(&f.db, NOW, &["purge"])
        .success()
        .get_output()
        .clone();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        format!(
            "purged 1 attachment in 1 batch(es) (retention 30 days, deleted at or before {})\n  \
             files removed: 1 (and 1 thumbnails); missing: 0; refused: 0\n  \
             media root: {} (derived: the `media` folder beside the database)\n",
            ago(30, 0),
            fs::canonicalize(&f.media).unwrap().display()
        )
    );
}

/// `purge --json` held after its plan while the attachment `restored` is
/// restored, then let go: its report.
fn purge_with_a_restore_after_its_plan(f: &Forum, restored: &str) -> Value {
    let gate = f.dir.path().join("go");
    let mut purge = support::clean_command(f.dir.path())
        .env(
            "MODCON_FAILPOINT",
            format!("purge-after-plan:wait={}", gate.display()),
        )
        .arg("--db")
        .arg(&f.db)
        .args(["--now", NOW, "purge", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the purge has made its plan (or has stopped early).
    let waiting = f.dir.path().join("go.waiting");
    while !waiting.exists() && purge.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(waiting.exists(), "the purge never reached its plan");
    run_on(&f.db, NOW, &["restore", "attachment", restored]).success();
    fs::write(&gate, b"").unwrap();
    let out = purge.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_restore_committed_after_the_plan_keeps_its_row() {
    let f = post_forum();
    for n in [0x10, 0x11] {
        f.attachment(&id(n), &id(2), &img(n), Some(&ago(45, 0)), true);
    }
    let report = purge_with_a_restore_after_its_plan(&f, &id(0x10));
    assert_eq!(counts(&report), (0, 0, 1, 1));
    assert_eq!(report["skipped_rows"][0]["id"], id(0x10));
    assert_eq!(
        report["skipped_rows"][0]["reason"],
        "no longer purgeable (changed since the plan)"
    );
    assert_eq!(f.active("forum_attachment", &id(0x10)), Some(true));
    assert!(f.exists(&img(0x10)));
    assert_eq!(f.active("forum_attachment", &id(0x11)), None);
    assert!(!f.exists(&img(0x11)));
}

// ------------------------------------ thumbnail folders, normalised paths

/// The files below the media root, relative to it.
fn media_files(f: &Forum) -> BTreeSet<String> {
    snapshot(&f.media).into_keys().collect()
}

/// `purge --json ARGS`, after a dry run that must count the same files,
/// thumbnails, missing and refused files as the purge then removes and
/// finds.
fn purge_as_planned(f: &Forum, args: &[&str]) -> Value {
    let plan = json_on(&f.db, NOW, &[&["purge", "--dry-run"], args].concat());
    let out = json_on(&f.db, NOW, &[&["purge"], args].concat());
    for key in ["files", "thumbnails", "files_missing", "files_refused"] {
        assert_eq!(plan[key], out[key], "{key}: planned {plan}\ndone {out}");
    }
    out
}

#[test]
fn an_image_whose_thumbnail_folder_holds_other_images_renditions_takes_only_its_own_files() {
    // `forum/attachments.png` has the folder CACHE/images/forum/attachments/,
    // where every other image's renditions live in subfolders; a legacy
    // `forum.jpg` has CACHE/images/forum/, above them all.
    let f = post_forum();
    for n in 0x10..0x18 {
        f.attachment(&id(n), &id(2), &img(n), None, true);
    }
    f.attachment(
        &id(0x20),
        &id(2),
        "forum/attachments.png",
        Some(&ago(45, 0)),
        true,
    );
    f.file("CACHE/images/forum/attachments/second-rendition.jpg");
    f.attachment(&id(0x21), &id(2), "forum.jpg", Some(&ago(45, 0)), true);
    let before = media_files(&f);
    let out = purge_as_planned(&f, &[]);
    assert_eq!(counts(&out), (0, 0, 2, 2));
    assert_eq!(out["thumbnails"], 3);
    let gone: BTreeSet<String> = before.difference(&media_files(&f)).cloned().collect();
    assert_eq!(
        gone,
        [
            "forum/attachments.png",
            "CACHE/images/forum/attachments/thumb.jpg",
            "CACHE/images/forum/attachments/second-rendition.jpg",
            "forum.jpg",
            "CACHE/images/forum/thumb.jpg",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    );
    // Every active image keeps its renditions, and the folders that hold
    // them stay.
    for n in 0x10..0x18 {
        assert!(f.exists(&thumb(&img(n))), "{n:x}");
    }
    assert!(f.media.join("CACHE/images/forum/attachments").is_dir());
}

#[test]
fn a_thumbnail_folder_of_dot_or_dot_dot_is_never_touched_and_never_fails_a_purge() {
    let f = post_forum();
    for n in 0x10..0x14 {
        f.attachment(&id(n), &id(2), &img(n), None, true);
    }
    f.file("CACHE/images/forum/direct.jpg");
    f.file("CACHE/images/forum/attachments/2026/01/02/direct.jpg");
    // The web app's own spelling of an image that is all extension: its
    // renditions go to `CACHE/images/forum/..png/` (Python's splitext keeps
    // leading dots), never to `CACHE/images/forum/.`.
    let images = [
        (0x20, "forum/..png"),
        (0x21, "forum/attachments/2026/01/02/..png"),
        (0x22, "forum/."),
        (0x23, "forum/attachments/2026/01/02/"),
        (0x24, "forum/attachments/2026/01/02/.."),
        (0x25, ".png"),
    ];
    for (n, image) in images {
        f.attachment(&id(n), &id(2), image, Some(&ago(45, 0)), false);
    }
    f.file("forum/..png");
    f.file("CACHE/images/forum/..png/own.jpg");
    let before = media_files(&f);
    let out = purge_as_planned(&f, &[]);
    assert_eq!(counts(&out), (0, 0, 6, 1));
    let gone: BTreeSet<String> = before.difference(&media_files(&f)).cloned().collect();
    assert_eq!(
        gone,
        ["forum/..png", "CACHE/images/forum/..png/own.jpg"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    assert_eq!(
        count(&f.conn, "SELECT count(*) FROM modcon_file_journal"),
        0
    );
    // The next purge is not held up by anything left behind.
    f.attachment(&id(0x30), &id(2), &img(0x30), Some(&ago(45, 0)), true);
    let out = purge_as_planned(&f, &[]);
    assert_eq!(counts(&out), (0, 0, 1, 1));
    assert!(!f.exists(&img(0x30)) && !f.exists(&thumb(&img(0x30))));
    for n in 0x10..0x14 {
        assert!(f.exists(&img(n)) && f.exists(&thumb(&img(n))), "{n:x}");
    }
    assert!(f.exists("CACHE/images/forum/direct.jpg"));
}

#[test]
fn photo_png_and_photo_jpg_share_one_thumbnail_folder_kept_while_either_remains() {
    let f = post_forum();
    let png = "forum/attachments/2026/01/02/photo.png";
    let jpg = "forum/attachments/2026/01/02/photo.jpg";
    f.attachment(&id(0x10), &id(2), png, Some(&ago(45, 0)), true);
    f.attachment(&id(0x11), &id(2), jpg, None, true);
    let folder = "CACHE/images/forum/attachments/2026/01/02/photo";
    f.file(&format!("{folder}/large.jpg"));
    let out = purge_as_planned(&f, &[]);
    assert_eq!(counts(&out), (0, 0, 1, 1));
    assert_eq!(out["thumbnails"], 0);
    assert!(!f.exists(png) && f.exists(jpg));
    assert!(f.exists(&format!("{folder}/thumb.jpg")));
    assert!(f.exists(&format!("{folder}/large.jpg")));
    // Once the other row goes too, so do the renditions and the folder.
    run_on(&f.db, &ago(45, 0), &["delete", "attachment", &id(0x11)]).success();
    let out = purge_as_planned(&f, &[]);
    assert_eq!(counts(&out), (0, 0, 1, 1));
    assert_eq!(out["thumbnails"], 2);
    assert!(!f.media.join(folder).exists());
}

#[test]
fn paths_are_compared_normalised_for_still_referenced_and_for_unreferenced() {
    let plain = "forum/attachments/2026/01/02/a.png";
    for (purged, remaining) in [
        ("./forum/attachments/2026/01/02/a.png", plain),
        ("forum//attachments/2026/01/02/a.png", plain),
        (plain, "./forum/attachments/2026/01/02/a.png"),
        (plain, "forum/attachments//2026/./01/02/a.png"),
    ] {
        let f = post_forum();
        f.attachment(&id(0x10), &id(2), purged, Some(&ago(45, 0)), false);
        f.attachment(&id(0x11), &id(2), remaining, None, false);
        f.file(plain);
        f.file(&thumb(plain));
        // check sees the file as the remaining row's: neither missing nor
        // unreferenced.
        let report = json_on(&f.db, NOW, &["check"])["report"].clone();
        assert_eq!(report["missing_files"], serde_json::json!([]), "{purged}");
        assert_eq!(
            report["unreferenced_files"],
            serde_json::json!([]),
            "{purged}"
        );
        assert_eq!(
            report["unreferenced_thumbnails"],
            serde_json::json!([]),
            "{purged}"
        );
        let out = purge_as_planned(&f, &[]);
        assert_eq!(counts(&out), (0, 0, 1, 0), "{purged} / {remaining}");
        assert!(f.exists(plain), "{purged} / {remaining}");
        assert!(f.exists(&thumb(plain)), "{purged} / {remaining}");
    }
    // Two spellings of one file, both purged: removed once.
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), plain, Some(&ago(45, 0)), true);
    f.attachment(
        &id(0x11),
        &id(2),
        "./forum/attachments/2026/01/02/a.png",
        Some(&ago(45, 0)),
        false,
    );
    let out = purge_as_planned(&f, &["--batch-size", "1"]);
    assert_eq!(counts(&out), (0, 0, 2, 1));
    assert_eq!(out["files_missing"], 0);
    assert!(!f.exists(plain) && !f.exists(&thumb(plain)));
}

// ------------------------------------------- files that cannot be removed

/// `purge --json ARGS` with a failpoint set.
fn purge_with_failpoint(f: &Forum, failpoint: &str, args: &[&str]) -> Value {
    let out = modcon(f.dir.path())
        .env("MODCON_FAILPOINT", failpoint)
        .arg("--db")
        .arg(&f.db)
        .args(["--now", NOW, "purge", "--json"])
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn journal(conn: &Connection) -> Vec<String> {
    support::column(conn, "SELECT image FROM modcon_file_journal ORDER BY id")
}

fn purge_files_logged(conn: &Connection) -> Vec<i64> {
    support::column(
        conn,
        "SELECT files FROM modcon_action WHERE action = 'purge' ORDER BY id",
    )
}

#[test]
fn a_file_that_cannot_be_removed_is_reported_kept_for_later_and_never_stops_a_purge() {
    // Tests run as root, whom permissions do not stop: the `remove-file`
    // failpoint makes the file one that cannot be removed (EACCES), as a
    // file of another owner is for the web server's user.
    let f = post_forum();
    for n in 0x10..0x14 {
        f.attachment(&id(n), &id(2), &img(n), Some(&ago(45, 0)), true);
    }
    let stuck = img(0x11);
    let deny = format!("remove-file:deny={stuck}");
    let out = purge_with_failpoint(&f, &deny, &["--batch-size", "1"]);
    assert_eq!(counts(&out), (0, 0, 4, 3));
    assert_eq!(out["batches"], 4);
    assert_eq!(out["files_failed"], 1);
    assert_eq!(out["failed_paths"][0]["image"], stuck);
    assert!(
        out["failed_paths"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("ermission denied"),
        "{out}"
    );
    assert_eq!(count(&f.conn, "SELECT count(*) FROM forum_attachment"), 0);
    for n in [0x10, 0x12, 0x13] {
        assert!(!f.exists(&img(n)) && !f.exists(&thumb(&img(n))), "{n:x}");
    }
    assert!(f.exists(&stuck));
    assert_eq!(journal(&f.conn), std::slice::from_ref(&stuck));
    // The audit counts the files really removed.
    assert_eq!(purge_files_logged(&f.conn), [3]);

    // The next purge is not stopped either: it tries again, reports again,
    // and purges what there is.
    f.attachment(&id(0x20), &id(2), &img(0x20), Some(&ago(45, 0)), true);
    let out = purge_with_failpoint(&f, &deny, &[]);
    assert_eq!(counts(&out), (0, 0, 1, 1));
    assert_eq!(out["files_failed"], 1);
    assert_eq!(journal(&f.conn), std::slice::from_ref(&stuck));
    let text = stdout_of(
        modcon(f.dir.path())
            .env("MODCON_FAILPOINT", &deny)
            .arg("--db")
            .arg(&f.db)
            .args(["--now", NOW, "purge"])
            .assert(),
    );
    assert!(
        text.contains(&format!("could not remove \"{stuck}\": Permission denied")),
        "{text}"
    );
    assert!(
        text.contains("could not remove: 1 (kept for the next purge)"),
        "{text}"
    );

    // Once it can be removed, a purge finishes it and the first purge's
    // entry counts it.
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(out["files_failed"], 0);
    assert_eq!(out["journal_finished"], 1);
    assert!(!f.exists(&stuck) && !f.exists(&thumb(&stuck)));
    assert!(journal(&f.conn).is_empty());
    assert_eq!(purge_files_logged(&f.conn), [4, 1]);
}

#[test]
fn a_thumbnail_that_cannot_be_removed_keeps_its_entry_and_the_rest_goes() {
    let f = post_forum();
    for n in 0x10..0x13 {
        f.attachment(&id(n), &id(2), &img(n), Some(&ago(45, 0)), true);
    }
    let stuck = thumb(&img(0x11));
    let out = purge_with_failpoint(&f, &format!("remove-file:deny={stuck}"), &[]);
    assert_eq!(counts(&out), (0, 0, 3, 3));
    assert_eq!(out["thumbnails"], 2);
    assert_eq!(out["failed_paths"][0]["image"], stuck);
    assert!(f.exists(&stuck) && !f.exists(&img(0x11)));
    assert_eq!(journal(&f.conn), [img(0x11)]);
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(
        (out["thumbnails"].as_i64(), out["files"].as_i64()),
        (Some(1), Some(0))
    );
    assert!(!f.exists(&stuck));
    assert!(journal(&f.conn).is_empty());
}

// ------------------------------------------ refused, empty, the media root

#[test]
fn a_purge_refused_for_want_of_a_media_root_changes_nothing_not_even_first_seen_stamps() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), true);
    // A post the web app deleted: its deletion time is unknown until the
    // console first sees it.
    f.post(&id(0x20), &id(1), false);
    let elsewhere = tempfile::tempdir().unwrap();
    let db = elsewhere.path().join("forum.sqlite3");
    fs::copy(&f.db, &db).unwrap();
    let conn = support::open(&db);
    let before = state(&conn);
    for retention in ["30", "0"] {
        let line = error_line(run_on(&db, NOW, &["purge", "--older-than", retention]));
        assert!(line.contains("no media root is set"), "{line}");
        assert_eq!(state(&conn), before);
        assert_eq!(count(&conn, "SELECT count(*) FROM modcon_deletion"), 0);
        assert_eq!(count(&conn, "SELECT count(*) FROM modcon_action"), 0);
    }
    // Only the post, at zero days: it is stamped and purged at once. With
    // no media root and an attachment under it, that is refused too, and
    // the stamp rolled back.
    let g = Forum::new();
    g.thread(&id(1), true);
    g.post(&id(2), &id(1), false);
    g.attachment(&id(3), &id(2), &img(3), Some(&ago(45, 0)), true);
    g.attachment(&id(4), &id(2), &img(4), Some(&ago(1, 0)), true);
    let db = elsewhere.path().join("second.sqlite3");
    fs::copy(&g.db, &db).unwrap();
    let conn = support::open(&db);
    let line = error_line(run_on(&db, NOW, &["purge", "--older-than", "0"]));
    assert!(line.contains("no media root is set"), "{line}");
    assert_eq!(count(&conn, "SELECT count(*) FROM modcon_deletion"), 0);
    assert_eq!(count(&conn, "SELECT count(*) FROM forum_attachment"), 2);
}

#[test]
fn a_purge_that_removes_nothing_writes_no_log_entry_so_undo_still_reaches_back() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), true);
    let report = purge_with_a_restore_after_its_plan(&f, &id(0x10));
    assert_eq!(counts(&report), (0, 0, 0, 0));
    assert_eq!(report["action_id"], Value::Null);
    assert_eq!(
        count(
            &f.conn,
            "SELECT count(*) FROM modcon_action WHERE action = 'purge'"
        ),
        0
    );
    // Undo reaches the restore, not an empty purge.
    run_on(&f.db, NOW, &["undo"]).success();
    assert_eq!(f.active("forum_attachment", &id(0x10)), Some(false));
    // A purge with nothing to purge writes nothing either.
    let out = json_on(&f.db, &ago(40, 0), &["purge"]);
    assert_eq!(counts(&out), (0, 0, 0, 0));
    assert_eq!(
        count(
            &f.conn,
            "SELECT count(*) FROM modcon_action WHERE action = 'purge'"
        ),
        0
    );
}

#[test]
fn purge_and_check_say_which_media_root_they_used() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45, 0)), true);
    let media = fs::canonicalize(&f.media).unwrap().display().to_string();
    let plan = json_on(&f.db, NOW, &["purge", "--dry-run"]);
    assert_eq!(plan["media_root"], media.as_str());
    let text = stdout_of(run_on(&f.db, NOW, &["purge", "--dry-run"]));
    let beside = "(derived: the `media` folder beside the database)";
    assert!(
        text.contains(&format!("  media root: {media} {beside}\n")),
        "{text}"
    );
    let check = json_on(&f.db, NOW, &["check"]);
    assert_eq!(check["media_root"], media.as_str());
    assert_eq!(check["report"]["media_root"], media.as_str());
    let text = stdout_of(run_on(&f.db, NOW, &["check"]));
    assert!(
        text.starts_with(&format!("media root: {media} {beside}\n")),
        "{text}"
    );
    // A database without a media folder beside it: none.
    let elsewhere = tempfile::tempdir().unwrap();
    let db = elsewhere.path().join("forum.sqlite3");
    fs::copy(&f.db, &db).unwrap();
    let out = json_on(&db, NOW, &["purge", "--keep-files"]);
    assert_eq!(out["media_root"], Value::Null);
    assert_eq!(counts(&out), (0, 0, 1, 0));
    let text = stdout_of(run_on(&db, NOW, &["purge", "--keep-files"]));
    let none =
        "none: no --media-root or MODCON_MEDIA_ROOT, and no `media` folder beside the database";
    assert!(text.contains(&format!("  media root: {none}\n")), "{text}");
    assert_eq!(json_on(&db, NOW, &["check"])["media_root"], Value::Null);
    let text = stdout_of(run_on(&db, NOW, &["check"]));
    assert!(text.starts_with(&format!("media root: {none}\n")), "{text}");
}

// ------------------------------------------------ what a purge removed

/// The purge records of one action: (kind, id) → (parent, image, deleted_at).
type Records = BTreeMap<(String, String), (Option<String>, Option<String>, Option<String>)>;

fn purge_records(conn: &Connection) -> Records {
    conn.prepare("SELECT kind, row_id, parent_id, image, deleted_at FROM modcon_purged")
        .unwrap()
        .query_map([], |r| {
            Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?)))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn every_row_a_purge_removes_is_recorded_and_log_says_what_happened_to_it() {
    let f = Forum::new();
    add_discussion(&f, 0x1000);
    f.thread(&id(0x3000), true);
    f.post(&id(0x3001), &id(0x3000), true);
    f.attachment(&id(0x3101), &id(0x3001), &img(0x3101), None, true);
    f.attachment(&id(0x3102), &id(0x3001), &img(0x3102), None, true);
    let deleted = ago(45, 0);
    run_on(&f.db, &deleted, &["delete", "thread", &id(0x1000)]).success();
    run_on(&f.db, &deleted, &["delete", "attachment", &id(0x3101)]).success();
    let out = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(counts(&out), (1, 2, 3, 3));
    let purge_id = out["action_id"].as_i64().unwrap();

    let at = deleted.clone();
    let some = |s: &str| Some(s.to_string());
    let mut want = Records::new();
    want.insert(("thread".into(), id(0x1000)), (None, None, some(&at)));
    for p in [0x1001, 0x1002] {
        want.insert(("post".into(), id(p)), (some(&id(0x1000)), None, some(&at)));
        want.insert(
            ("attachment".into(), id(p + 0x100)),
            (some(&id(p)), some(&img(p + 0x100)), some(&at)),
        );
        want.insert(
            ("reaction".into(), id(p + 0x200)),
            (some(&id(p)), None, None),
        );
    }
    want.insert(("flag".into(), id(0x1300)), (some(&id(0x1001)), None, None));
    want.insert(("flag".into(), id(0x1301)), (some(&id(0x1000)), None, None));
    for (m, flag) in [(0x1400, 0x1300), (0x1401, 0x1301)] {
        want.insert(
            ("moderation_action".into(), id(m)),
            (some(&id(flag)), None, None),
        );
    }
    want.insert(
        ("attachment".into(), id(0x3101)),
        (some(&id(0x3001)), some(&img(0x3101)), some(&at)),
    );
    assert_eq!(purge_records(&f.conn), want);
    assert_eq!(
        count(
            &f.conn,
            &format!("SELECT count(*) FROM modcon_purged WHERE action_id <> {purge_id}")
        ),
        0
    );

    // The entry with all its rows.
    let entry = json_on(&f.db, NOW, &["log", "--entry", &purge_id.to_string()]);
    assert_eq!(entry["count"], 1);
    assert_eq!(entry["entries"][0]["action"], "purge");
    let rows = entry["entries"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), want.len());
    assert_eq!(rows[0]["kind"], "thread");
    assert!(rows.iter().all(|r| r["event"] == "purged"));

    // What happened to one attachment: deleted, then purged, newest first.
    let history = json_on(&f.db, NOW, &["log", "--id", &id(0x3101)]);
    assert_eq!(history["id"], id(0x3101));
    let entries = history["entries"].as_array().unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["purge", "delete"]
    );
    assert_eq!(
        entries[0]["rows"],
        serde_json::json!([{
            "kind": "attachment", "id": id(0x3101), "event": "purged",
            "parent_id": id(0x3001), "image": img(0x3101), "deleted_at": at,
        }])
    );
    assert_eq!(entries[1]["rows"][0]["event"], "changed");
    assert_eq!(entries[1]["rows"][0]["before"]["active"], true);
    assert_eq!(entries[1]["rows"][0]["after"]["active"], false);
    // A prefix of a row's id is enough when the log knows one such row.
    let prefix = &id(0x3101)[..31];
    assert_eq!(
        json_on(&f.db, NOW, &["log", "--id", prefix])["id"],
        id(0x3101)
    );
    // A post that went with its thread (dashed UUID form): the thread's
    // delete changed it, the purge removed it.
    let hex = id(0x1002);
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    let history = json_on(&f.db, NOW, &["log", "--id", &dashed]);
    assert_eq!(history["id"], id(0x1002));
    assert_eq!(history["count"], 2);
    assert_eq!(history["entries"][0]["rows"][0]["parent_id"], id(0x1000));
    let line = error_line(run_on(&f.db, NOW, &["log", "--id", &id(0x1002)[..31]]));
    assert!(line.starts_with("error: ambiguous id prefix"), "{line}");
    let text = stdout_of(run_on(&f.db, NOW, &["log", "--id", &id(0x1102)]));
    assert!(
        text.contains(&format!(
            "  purged attachment {} (of post {}), {}, deleted {at}",
            id(0x1102),
            id(0x1002),
            img(0x1102)
        )),
        "{text}"
    );
    let text = stdout_of(run_on(&f.db, NOW, &["log", "--id", &id(0x7777)]));
    assert_eq!(
        text,
        format!(
            "no entry of the audit log changed or purged a row with id {}\n",
            id(0x7777)
        )
    );
    // A row the purge skipped is not recorded.
    assert!(!want.contains_key(&("thread".to_string(), id(0x3000))));
}

#[test]
fn purge_records_are_written_with_their_batch() {
    let f = post_forum();
    for n in [0x10, 0x11, 0x12] {
        f.attachment(&id(n), &id(2), &img(n), Some(&ago(45, 0)), true);
    }
    interrupted(&f, "1");
    // The first batch committed with its record; the others did not run.
    assert_eq!(
        purge_records(&f.conn).into_keys().collect::<Vec<_>>(),
        [("attachment".to_string(), id(0x10))]
    );
    json_on(&f.db, NOW, &["purge", "--batch-size", "1"]);
    assert_eq!(purge_records(&f.conn).len(), 3);
    // Refused and isolated rows are not recorded.
    let g = post_forum();
    for n in [0x10, 0x11] {
        g.attachment(&id(n), &id(2), &img(n), Some(&ago(45, 0)), true);
    }
    g.conn
        .execute_batch(&format!(
            "CREATE TRIGGER keep_one BEFORE DELETE ON forum_attachment WHEN old.id = '{}' \
             BEGIN SELECT RAISE(ABORT, 'kept'); END;",
            id(0x11)
        ))
        .unwrap();
    json_on(&g.db, NOW, &["purge"]);
    assert_eq!(
        purge_records(&g.conn).into_keys().collect::<Vec<_>>(),
        [("attachment".to_string(), id(0x10))]
    );
}

#[test]
fn log_reads_a_database_from_an_older_console_without_purge_records() {
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), None, true);
    run_on(&f.db, NOW, &["delete", "attachment", &id(0x10)]).success();
    // As an older console left it: no purge records, no record of them.
    f.conn
        .execute_batch(
            "DROP TABLE modcon_purged; \
             DELETE FROM modcon_migrations WHERE name = '0006_purge_records';",
        )
        .unwrap();
    let before = bytes(&f.db);
    let history = json_on(&f.db, NOW, &["--read-only", "log", "--id", &id(0x10)]);
    assert_eq!(history["count"], 1);
    assert_eq!(history["entries"][0]["action"], "delete");
    assert_eq!(bytes(&f.db), before);
    // The next read-write open adds the table.
    json_on(&f.db, &ago(-40, 0), &["purge"]);
    assert_eq!(purge_records(&f.conn).len(), 1);
}

#[test]
fn check_tells_how_far_it_has_got_and_ends_with_every_row_checked() {
    use modcon_core::check::{self, CheckProgress};
    use modcon_core::db::{Access, Db, OpenOptions};
    use modcon_core::media::MediaRoot;
    use modcon_core::{Ctx, model};
    let f = post_forum();
    f.attachment(&id(0x10), &id(2), &img(0x10), None, true);
    f.attachment(&id(0x11), &id(2), &img(0x11), None, false);
    f.attachment(&id(0x12), &id(2), "../outside.png", None, false);
    let mut db = Db::open(&f.db, &OpenOptions::new(Access::ReadWrite)).unwrap();
    let ctx = Ctx {
        now: model::parse_now(NOW).unwrap(),
        actor: "tester".into(),
        client_addr: None,
        os_account: None,
        reason: None,
        retention_days: 30,
    };
    let media = MediaRoot::open(&f.media).unwrap();
    let mut seen = Vec::new();
    let report =
        check::run_with_progress(&mut db, &ctx, Some(&media), &mut |p| seen.push(p)).unwrap();
    assert_eq!(seen.first(), Some(&CheckProgress::Rows(0, 3)));
    assert_eq!(seen.last(), Some(&CheckProgress::Rows(3, 3)));
    assert_eq!(report.missing_files.len(), 1);
    assert_eq!(report.unsafe_paths.len(), 1);
}
