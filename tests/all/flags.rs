//! The flag queue: `flags` lists the web app's flags, `review` decides one
//! as the web app's review endpoint does (with the console's cascade), and
//! `undo` takes a review back. Every row is asserted as Django writes it.

use crate::support;

use std::collections::BTreeMap;

use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::Value;
use support::webapp::{DjangoForum, MODERATOR};
use support::{FIXTURE_NOW, json_on, modcon, run_on};
use support::{bytes, error_line, usage_line};

fn id(n: u32) -> String {
    support::hex_id(n)
}

const NOW: &str = "2026-11-26 12:00:00.250001";
const CREATED: &str = "2026-03-01 10:00:00";

// The fixture's cases (see tests/fixtures/README.md).
const PENDING_POST_FLAG: &str = "6304a62368a341e185a9162f20c57a44";
const PENDING_POST: &str = "b5c20ce5f82c405a8549ef753e3b255f";
const PENDING_THREAD_FLAG: &str = "8598dcf9d8f14518b0fe2841530ac832";
const PENDING_THREAD: &str = "a51d96d2ec6f44478dad38d1dd6aa691";
const REVIEWED_FLAG: &str = "786bc795371f484cbc0d2abb85316b2b";

/// A row of any table as column → value, exactly as stored.
fn row(db: &std::path::Path, table: &str, id: &str) -> Option<BTreeMap<String, Sql>> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} WHERE id = ?1"))
        .unwrap();
    let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
    stmt.query_row([id], |r| {
        Ok(names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), r.get::<_, Sql>(i).unwrap()))
            .collect())
    })
    .ok()
}

fn text(v: &str) -> Sql {
    Sql::Text(v.to_string())
}

/// The moderation actions of one flag, each as stored.
fn actions_of(db: &std::path::Path, flag: &str) -> Vec<BTreeMap<String, Sql>> {
    let conn = Connection::open(db).unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM forum_moderationaction WHERE flag_id = ?1 ORDER BY created_at")
        .unwrap()
        .query_map([flag], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    ids.iter()
        .map(|a| row(db, "forum_moderationaction", a).unwrap())
        .collect()
}

fn is_django_datetime(v: &Sql) -> bool {
    let Sql::Text(t) = v else { return false };
    let b = t.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    (t.len() == 19 || (t.len() == 26 && b[19] == b'.' && digits(20..26)))
        && digits(0..4)
        && b[4] == b'-'
        && b[10] == b' '
        && b[13] == b':'
}

fn is_hex32(v: &Sql) -> bool {
    matches!(v, Sql::Text(t) if t.len() == 32 && t.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
}

/// `review` as the fixture's staff user `moderator`.
fn review(db: &std::path::Path, now: &str, args: &[&str]) -> Value {
    let mut all = vec!["--actor", "moderator", "review"];
    all.extend(args);
    json_on(db, now, &all)
}

// ------------------------------------------------------------- listing

#[test]
fn flags_lists_the_fixtures_pending_flags_newest_first_with_every_field() {
    let f = support::fixture();
    let out = json_on(&f.db, FIXTURE_NOW, &["flags"]);
    assert_eq!(out["action"], "flags");
    assert_eq!(out["count"], 6);
    let rows = out["rows"].as_array().unwrap();
    let created: Vec<&str> = rows
        .iter()
        .map(|r| r["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = created.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted, "newest first");
    assert!(rows.iter().all(|r| r["status"] == "pending"));
    let keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "id",
        "content_type",
        "post_id",
        "thread_id",
        "flag_reason",
        "explanation",
        "status",
        "reporter",
        "created_at",
        "reviewed_by",
        "reviewed_at",
        "target_label",
        "target_is_active",
        "other_pending",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    let post_flag = rows.iter().find(|r| r["id"] == PENDING_POST_FLAG).unwrap();
    assert_eq!(post_flag["content_type"], "post");
    assert_eq!(post_flag["post_id"], PENDING_POST);
    assert_eq!(post_flag["thread_id"], Value::Null);
    assert_eq!(post_flag["flag_reason"], "other");
    assert_eq!(post_flag["explanation"], "Bright light growth new.");
    assert_eq!(post_flag["reporter"], "ben_0007");
    assert_eq!(post_flag["created_at"], "2026-06-25 15:12:41.518691");
    assert_eq!(post_flag["reviewed_by"], Value::Null);
    assert_eq!(post_flag["target_is_active"], true);
    assert_eq!(post_flag["other_pending"], 0);
    let thread_flag = rows
        .iter()
        .find(|r| r["id"] == PENDING_THREAD_FLAG)
        .unwrap();
    let title: String = support::open(&f.db)
        .query_row(
            "SELECT title FROM forum_thread WHERE id = ?1",
            [PENDING_THREAD],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(thread_flag["target_label"], title.as_str());

    // Every status, and each alone.
    let all = json_on(&f.db, FIXTURE_NOW, &["flags", "--status", "all"]);
    assert_eq!(all["count"], 16);
    for (status, n) in [("approved", 3), ("rejected", 2), ("removed", 5)] {
        let out = json_on(&f.db, FIXTURE_NOW, &["flags", "--status", status]);
        assert_eq!(out["count"], n, "{status}");
    }
    let removed = json_on(&f.db, FIXTURE_NOW, &["flags", "--status", "removed"]);
    let reviewed = removed["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == REVIEWED_FLAG)
        .unwrap();
    assert_eq!(reviewed["reviewed_by"], "moderator");
    assert_eq!(reviewed["reviewed_at"], "2026-11-26 11:00:08.125997");
    assert_eq!(reviewed["target_is_active"], false);
    assert_eq!(
        json_on(&f.db, FIXTURE_NOW, &["flags", "--limit", "2"])["count"],
        2
    );
    // Human output: one line per flag under a header.
    let text = support::stdout_of(run_on(&f.db, FIXTURE_NOW, &["flags"]));
    assert_eq!(text.lines().count(), 7, "{text}");
    assert!(text.contains("6304a623"), "{text}");
}

#[test]
fn other_pending_counts_the_other_pending_flags_on_the_same_content() {
    let f = DjangoForum::new();
    f.thread(&id(1), CREATED);
    f.post(&id(2), &id(1), CREATED);
    f.flag(&id(0xf1), Some(&id(2)), None, "2026-03-02 10:00:00");
    f.flag(&id(0xf2), Some(&id(2)), None, "2026-03-03 10:00:00");
    f.flag(&id(0xf3), Some(&id(2)), None, "2026-03-04 10:00:00");
    f.flag(&id(0xf4), None, Some(&id(1)), "2026-03-05 10:00:00");
    let out = json_on(&f.db, NOW, &["flags"]);
    let others: Vec<(String, i64)> = out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["other_pending"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        others,
        [(id(0xf4), 0), (id(0xf3), 2), (id(0xf2), 2), (id(0xf1), 2)]
    );
    review(&f.db, NOW, &[&id(0xf1), "reject", "--reason", "fine"]);
    let out = json_on(&f.db, NOW, &["flags"]);
    assert_eq!(out["count"], 3);
    assert_eq!(out["rows"][1]["other_pending"], 1);
}

// ------------------------------------------------------------- reviews

#[test]
fn a_whole_second_now_is_written_without_a_fraction() {
    let f = support::fixture();
    review(
        &f.db,
        "2026-11-26 12:00:00",
        &[PENDING_POST_FLAG, "approve", "--reason", "ok"],
    );
    let flag = row(&f.db, "forum_flaggedcontent", PENDING_POST_FLAG).unwrap();
    assert_eq!(flag["reviewed_at"], text("2026-11-26 12:00:00"));
    assert_eq!(flag["updated_at"], text("2026-11-26 12:00:00"));
    assert_eq!(flag["moderator_notes"], text(""), "NOT NULL, '' when empty");
    let actions = actions_of(&f.db, PENDING_POST_FLAG);
    assert_eq!(actions[0]["created_at"], text("2026-11-26 12:00:00"));
}

/// Thread T with posts P1 (attachments A1, A2) and P2 (A3), all active,
/// and a thread flag and a post flag pending.
fn forum_with_flags() -> DjangoForum {
    let f = DjangoForum::new();
    f.thread(&id(0x10), CREATED);
    f.post(&id(0x20), &id(0x10), CREATED);
    f.post(&id(0x21), &id(0x10), CREATED);
    f.attachment(&id(0x30), &id(0x20), CREATED);
    f.attachment(&id(0x31), &id(0x20), CREATED);
    f.attachment(&id(0x32), &id(0x21), CREATED);
    f.flag(&id(0xf1), Some(&id(0x20)), None, "2026-03-02 10:00:00");
    f.flag(&id(0xf2), None, Some(&id(0x10)), "2026-03-03 10:00:00");
    f
}

#[test]
fn remove_post_and_remove_thread_take_the_consoles_cascade() {
    let f = forum_with_flags();
    let out = review(&f.db, NOW, &[&id(0xf1), "remove_post", "--reason", "spam"]);
    assert_eq!(
        (out["posts"].as_i64(), out["attachments"].as_i64()),
        (Some(1), Some(2))
    );
    // The web app's endpoint would leave the photos active; the console's
    // delete takes them with the post, one timestamp.
    for a in [0x30, 0x31] {
        assert_eq!(f.is_active("forum_attachment", &id(a)), Some(false));
        assert_eq!(f.deleted_at(&id(a)).as_deref(), Some(NOW));
    }
    assert_eq!(f.is_active("forum_attachment", &id(0x32)), Some(true));
    // The post's deletion time is exact.
    let posts = json_on(&f.db, NOW, &["list", "posts", "--state", "deleted"]);
    assert_eq!(posts["rows"][0]["deleted_at"], NOW);
    assert_eq!(posts["rows"][0]["deletion_time"], "exact");

    let out = review(
        &f.db,
        NOW,
        &[&id(0xf2), "remove_thread", "--reason", "off-topic"],
    );
    assert_eq!(
        (
            out["threads"].as_i64(),
            out["posts"].as_i64(),
            out["attachments"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "the thread and what was still active below it"
    );
    assert_eq!(f.is_active("forum_thread", &id(0x10)), Some(false));
    assert_eq!(f.is_active("forum_post", &id(0x21)), Some(false));
    assert_eq!(f.is_active("forum_attachment", &id(0x32)), Some(false));
    // No violation left behind, unlike the web app's queue.
    let check = json_on(&f.db, NOW, &["--read-only", "check"]);
    assert_eq!(
        check["report"]["violations"].as_array().unwrap().len(),
        0,
        "{check}"
    );
}

#[test]
fn removing_content_already_deleted_is_refused_so_no_action_misdates_it() {
    let f = forum_with_flags();
    f.destroy_post(&id(0x20), "2026-03-05 10:00:00");
    // The console deleted the thread; the web app's API had deleted a post
    // in it before.
    run_on(
        &f.db,
        "2026-03-06 10:00:00",
        &["delete", "thread", &id(0x10)],
    )
    .success();
    let before = bytes(&f.db);
    for (flag, action, kind) in [
        (0xf1, "remove_post", "post"),
        (0xf2, "remove_thread", "thread"),
    ] {
        let line = error_line(run_on(
            &f.db,
            NOW,
            &[
                "--actor",
                "moderator",
                "review",
                &id(flag),
                action,
                "--reason",
                "spam",
            ],
        ));
        assert!(line.contains(&format!("{kind} ")), "{line}");
        assert!(line.contains("is already deleted"), "{line}");
        assert!(line.contains("approve the flag"), "{line}");
        assert_eq!(bytes(&f.db), before);
    }
    // Approving says the report was right, and dates nothing.
    review(
        &f.db,
        NOW,
        &[&id(0xf1), "approve", "--reason", "already gone"],
    );
    let thread = json_on(&f.db, NOW, &["list", "threads", "--state", "deleted"]);
    assert_eq!(thread["rows"][0]["deletion_time"], "exact");
    assert_eq!(thread["rows"][0]["deleted_at"], "2026-03-06 10:00:00");
}

#[test]
fn lock_thread_on_a_post_flag_locks_the_posts_thread_and_keeps_its_updated_at() {
    let f = forum_with_flags();
    let before = row(&f.db, "forum_thread", &id(0x10)).unwrap();
    let out = review(
        &f.db,
        NOW,
        &[&id(0xf1), "lock_thread", "--reason", "flame war"],
    );
    assert_eq!(out["locked_thread"], id(0x10));
    let after = row(&f.db, "forum_thread", &id(0x10)).unwrap();
    let mut expected = before;
    expected.insert("is_locked".into(), Sql::Integer(1));
    assert_eq!(
        after, expected,
        "only is_locked changes, as update_fields=['is_locked']"
    );
    assert_eq!(f.is_active("forum_post", &id(0x20)), Some(true));
}

// ------------------------------------------------------------ refusals

#[test]
fn a_flag_is_named_by_any_id_form() {
    let f = support::fixture();
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &PENDING_POST_FLAG[..8],
        &PENDING_POST_FLAG[8..12],
        &PENDING_POST_FLAG[12..16],
        &PENDING_POST_FLAG[16..20],
        &PENDING_POST_FLAG[20..]
    )
    .to_uppercase();
    let out = review(&f.db, NOW, &[&dashed, "approve", "--reason", "ok"]);
    assert_eq!(out["flag_id"], PENDING_POST_FLAG);
    let out = review(&f.db, NOW, &["8598", "reject", "--reason", "ok"]);
    assert_eq!(out["flag_id"], PENDING_THREAD_FLAG);
    // Two flags start with 6: an ambiguous prefix lists them.
    let before = bytes(&f.db);
    let line = error_line(run_on(
        &f.db,
        NOW,
        &[
            "--actor",
            "moderator",
            "review",
            "6",
            "approve",
            "--reason",
            "x",
        ],
    ));
    assert!(line.contains("too short"), "{line}");
    let g = DjangoForum::new();
    g.thread(&id(0x10), CREATED);
    g.flag(
        "abcd0000000000000000000000000001",
        None,
        Some(&id(0x10)),
        CREATED,
    );
    g.flag(
        "abcd0000000000000000000000000002",
        None,
        Some(&id(0x10)),
        CREATED,
    );
    let line = error_line(run_on(
        &g.db,
        NOW,
        &[
            "--actor",
            "moderator",
            "review",
            "abcd",
            "approve",
            "--reason",
            "x",
        ],
    ));
    assert!(
        line.contains("ambiguous id prefix abcd: it matches 2 flags: abcd0000000000000000000000000001, abcd0000000000000000000000000002"),
        "{line}"
    );
    assert_eq!(bytes(&f.db), before);
}

// ---------------------------------------------------------------- undo

#[test]
fn undo_of_a_lock_unlocks_and_of_an_approval_only_touches_the_flag() {
    let f = forum_with_flags();
    review(
        &f.db,
        NOW,
        &[&id(0xf2), "lock_thread", "--reason", "heated"],
    );
    let undo = json_on(&f.db, NOW, &["--actor", "moderator", "undo"]);
    assert_eq!(undo["changed"], true, "{undo}");
    assert!(
        undo["message"].as_str().unwrap().contains("unlocked"),
        "{undo}"
    );
    assert_eq!(
        row(&f.db, "forum_thread", &id(0x10)).unwrap()["is_locked"],
        Sql::Integer(0)
    );
    review(&f.db, NOW, &[&id(0xf1), "approve", "--reason", "fine"]);
    let undo = json_on(&f.db, NOW, &["--actor", "moderator", "undo"]);
    assert_eq!(
        undo["changed"], true,
        "an approval's undo changes the flag: {undo}"
    );
    assert_eq!(
        row(&f.db, "forum_flaggedcontent", &id(0xf1)).unwrap()["status"],
        text("pending")
    );
    assert!(actions_of(&f.db, &id(0xf1)).is_empty());
}

#[test]
fn undo_leaves_a_flag_the_web_app_changed_since_alone_and_still_removes_the_action() {
    let f = forum_with_flags();
    let out = review(&f.db, NOW, &[&id(0xf1), "warning", "--reason", "tone"]);
    let action_id = out["moderation_action_id"].as_str().unwrap().to_string();
    // An admin edits the flag's notes in the web app afterwards.
    f.web
        .execute(
            "UPDATE forum_flaggedcontent SET moderator_notes = 'see ticket 42', updated_at = '2026-11-26 12:30:00' WHERE id = ?1",
            [id(0xf1)],
        )
        .unwrap();
    let undo = json_on(
        &f.db,
        "2026-11-26 13:00:00",
        &["--actor", "moderator", "undo"],
    );
    let left = &undo["left_alone"];
    assert_eq!(left.as_array().unwrap().len(), 1, "{undo}");
    assert_eq!(left[0]["kind"], "flag");
    assert_eq!(left[0]["id"], id(0xf1));
    assert_eq!(left[0]["reason"], "changed since");
    let flag = row(&f.db, "forum_flaggedcontent", &id(0xf1)).unwrap();
    assert_eq!(flag["moderator_notes"], text("see ticket 42"));
    assert_eq!(flag["status"], text("approved"));
    assert!(row(&f.db, "forum_moderationaction", &action_id).is_none());
}

#[test]
fn a_reviews_removal_is_dated_exactly_and_its_undo_leaves_no_stale_action() {
    let f = forum_with_flags();
    review(&f.db, NOW, &[&id(0xf1), "remove_post", "--reason", "spam"]);
    let post = |now: &str| {
        let list = json_on(&f.db, now, &["list", "posts", "--state", "all"]);
        list["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id(0x20))
            .cloned()
            .unwrap()
    };
    let removed = post(NOW);
    assert_eq!(removed["deleted_at"], NOW);
    assert_eq!(removed["deletion_time"], "exact");
    run_on(&f.db, NOW, &["--actor", "moderator", "undo"]).success();
    assert_eq!(post(NOW)["is_active"], true);
    // Later the web app's API deletes the post: its time is unknown (first
    // seen by a check), never the undone review's.
    f.destroy_post(&id(0x20), "2026-11-27 09:00:00");
    let later = post("2026-11-28 10:00:00");
    assert_eq!(later["deletion_time"], "unknown", "{later}");
    assert_ne!(later["deletion_source"], "moderation_action", "{later}");
}

#[test]
fn a_review_with_json_says_everything_it_did() {
    let f = support::fixture();
    let out = review(
        &f.db,
        NOW,
        &[
            PENDING_THREAD_FLAG,
            "remove_thread",
            "--reason",
            "duplicate",
        ],
    );
    for key in [
        "action",
        "kind",
        "id",
        "changed",
        "threads",
        "posts",
        "attachments",
        "files",
        "action_id",
        "message",
        "flag_id",
        "action_type",
        "status",
        "moderation_action_id",
        "moderator",
        "moderator_id",
        "affected_user_id",
        "reviewed_at",
    ] {
        assert!(out.get(key).is_some(), "{key} missing: {out}");
    }
    assert_eq!(out["kind"], "thread");
    assert_eq!(out["id"], PENDING_THREAD);
    assert_eq!(out["reviewed_at"], NOW);
    // And as text: the sentence and the action written.
    let g = support::fixture();
    let mut cmd = modcon(g.dir.path());
    cmd.arg("--db").arg(&g.db).args([
        "--now",
        NOW,
        "--actor",
        "moderator",
        "review",
        PENDING_POST_FLAG,
        "reject",
        "--reason",
        "fine",
    ]);
    let text = support::stdout_of(cmd.assert());
    assert!(
        text.starts_with(&format!(
            "reviewed flag {PENDING_POST_FLAG} on post {PENDING_POST}: reject, flag rejected\n  moderation action "
        )),
        "{text}"
    );
}

#[test]
fn the_log_shows_every_row_a_review_and_its_undo_changed() {
    let f = forum_with_flags();
    let out = review(&f.db, NOW, &[&id(0xf1), "remove_post", "--reason", "spam"]);
    let ma = out["moderation_action_id"].as_str().unwrap().to_string();
    run_on(&f.db, NOW, &["--actor", "moderator", "undo"]).success();
    let entry = json_on(&f.db, NOW, &["log", "--entry", "1"]);
    let rows = entry["entries"][0]["rows"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["event"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("post", "changed"),
            ("attachment", "changed"),
            ("attachment", "changed"),
            ("flag", "changed"),
            ("moderation_action", "inserted"),
        ]
    );
    let flag = &rows[3];
    assert_eq!(flag["values_before"]["status"], "pending");
    assert_eq!(flag["values_after"]["status"], "removed");
    assert_eq!(flag["values_after"]["reviewed_by_id"], MODERATOR);
    assert_eq!(rows[4]["id"], ma.as_str());
    assert_eq!(rows[4]["values_after"]["reason"], "spam");
    let undo = json_on(&f.db, NOW, &["log", "--entry", "2"]);
    let removed = undo["entries"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "moderation_action")
        .cloned()
        .unwrap();
    assert_eq!(removed["event"], "removed");
    // What happened to the flag: the review, then its undo.
    let history = json_on(&f.db, NOW, &["log", "--id", &id(0xf1)]);
    let actions: Vec<&str> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["undo", "review"], "{history}");
    let text = support::stdout_of(run_on(&f.db, NOW, &["log", "--id", &id(0xf1)]));
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.contains(&format!(
            "flag {}: moderator_notes \"\" → \"\", reviewed_at null → \"{NOW}\"",
            id(0xf1)
        )),
        "{text}"
    );
}

// ------------------------------------------------------------ the demo

#[test]
fn a_moderator_works_through_the_demos_queue_and_undo_brings_it_back() {
    let d = support::demo(40, 3);
    let now = support::DEMO_NOW;
    let queue = json_on(&d.db, now, &["flags"]);
    let flags: Vec<Value> = queue["rows"].as_array().unwrap().clone();
    let kinds: Vec<&str> = flags
        .iter()
        .map(|f| f["content_type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"post") && kinds.contains(&"thread"),
        "{kinds:?}"
    );
    assert!(
        flags.iter().any(|f| f["target_is_active"] == false),
        "a flag on content already deleted"
    );
    assert!(
        flags.iter().any(|f| f["other_pending"].as_i64() > Some(0)),
        "content flagged twice"
    );
    let first = flags[0]["id"].as_str().unwrap();
    // alice is not a moderator; green_thumb is, through the Moderators group.
    let before = bytes(&d.db);
    let line = error_line(run_on(
        &d.db,
        now,
        &[
            "--actor", "alice", "review", first, "approve", "--reason", "x",
        ],
    ));
    assert!(line.contains("alice may not review flags"), "{line}");
    assert_eq!(bytes(&d.db), before);
    let state_before = support::state_of(&d.db);
    let locked_before = support::count(
        &support::open(&d.db),
        "SELECT count(*) FROM forum_thread WHERE is_locked = 1",
    );

    // Work through the queue, each action in turn, as either moderator.
    for (i, flag) in flags.iter().enumerate() {
        let post = flag["content_type"] == "post";
        // Content already deleted (before, or by an earlier review of this
        // queue) cannot be removed again.
        let (table, content) = if post {
            ("forum_post", flag["post_id"].as_str().unwrap())
        } else {
            ("forum_thread", flag["thread_id"].as_str().unwrap())
        };
        let gone = support::count(
            &support::open(&d.db),
            &format!("SELECT count(*) FROM {table} WHERE id = '{content}' AND is_active = 0"),
        ) > 0;
        let action = match (i % 5, post) {
            (0 | 4, _) if gone => "approve",
            (0, true) => "remove_post",
            (0, false) => "remove_thread",
            (1, _) => "approve",
            (2, _) => "reject",
            (3, _) => "warning",
            (_, true) => "remove_post",
            (_, false) => "lock_thread",
        };
        let actor = if i % 2 == 0 {
            "moderator_mo"
        } else {
            "green_thumb"
        };
        json_on(
            &d.db,
            now,
            &[
                "--actor",
                actor,
                "review",
                flag["id"].as_str().unwrap(),
                action,
                "--reason",
                "queue day",
            ],
        );
    }
    assert_eq!(json_on(&d.db, now, &["flags"])["count"], 0);
    let conn = support::open(&d.db);
    assert_eq!(
        support::count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
    assert_eq!(
        support::count(
            &conn,
            "SELECT count(*) FROM forum_flaggedcontent WHERE status <> 'pending' AND reviewed_at IS NULL"
        ),
        0
    );
    drop(conn);

    // Each moderator's undo, as many times as they reviewed, brings the
    // queue and every row back.
    for (actor, n) in [
        ("moderator_mo", flags.len().div_ceil(2)),
        ("green_thumb", flags.len() / 2),
    ] {
        for _ in 0..n {
            let undo = json_on(&d.db, now, &["--actor", actor, "undo"]);
            assert_eq!(undo["left_alone"].as_array().unwrap().len(), 0, "{undo}");
        }
    }
    assert_eq!(json_on(&d.db, now, &["flags"])["count"], flags.len());
    assert_eq!(support::state_of(&d.db), state_before);
    assert_eq!(
        support::count(
            &support::open(&d.db),
            "SELECT count(*) FROM forum_thread WHERE is_locked = 1"
        ),
        locked_before
    );
}

#[test]
fn stats_counts_flags_per_status() {
    let f = support::fixture();
    let stats = json_on(&f.db, FIXTURE_NOW, &["stats"]);
    assert_eq!(
        stats["flags"],
        serde_json::json!({"total": 16, "pending": 6, "approved": 3, "rejected": 2, "removed": 5})
    );
    review(
        &f.db,
        NOW,
        &[PENDING_POST_FLAG, "remove_post", "--reason", "spam"],
    );
    let stats = json_on(&f.db, FIXTURE_NOW, &["stats"]);
    assert_eq!(stats["flags"]["pending"], 5);
    assert_eq!(stats["flags"]["removed"], 6);
    let text = support::stdout_of(run_on(&f.db, FIXTURE_NOW, &["stats"]));
    assert!(
        text.contains(
            "flags      5 pending, 3 approved, 2 rejected, 6 removed (see `modcon flags`)"
        ),
        "{text}"
    );
    // A forum without a flag queue: null, and no line.
    let g = support::Forum::new();
    g.conn
        .execute_batch("DROP TABLE forum_moderationaction; DROP TABLE forum_flaggedcontent;")
        .unwrap();
    let stats = json_on(&g.db, NOW, &["stats"]);
    assert_eq!(stats["flags"], Value::Null);
    let line = error_line(run_on(&g.db, NOW, &["flags"]));
    assert!(
        line.contains("table forum_flaggedcontent is missing"),
        "{line}"
    );
}

// ------------------------------------------------- on both backends
//
// The fixture as Django made it on SQLite and on PostgreSQL: the same
// reviews write the same rows (read back in Django's SQLite form: ids as
// 32 hex, times as Django's UTC text, booleans 0/1), the same refusals
// change nothing.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// The shared fixture on one backend, and a home of its own for the runs.
struct Forum {
    sqlite: Option<support::Fixture>,
    pg: Option<support::pg::PgDb>,
    home: tempfile::TempDir,
}

impl Forum {
    fn fixture(backend: Backend) -> Forum {
        let (sqlite, pg) = match backend {
            Backend::Sqlite => (Some(support::fixture()), None),
            Backend::Postgres => (None, Some(support::pg::PgDb::fixture())),
        };
        Forum {
            sqlite,
            pg,
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// What `--db` takes.
    fn arg(&self) -> std::path::PathBuf {
        match (&self.sqlite, &self.pg) {
            (Some(f), _) => f.db.clone(),
            (_, Some(pg)) => pg.arg(),
            _ => unreachable!(),
        }
    }

    fn run(&self, now: &str, args: &[&str]) -> assert_cmd::assert::Assert {
        let mut cmd = modcon(self.home.path());
        cmd.arg("--db")
            .arg(self.arg())
            .arg("--now")
            .arg(now)
            .args(args);
        cmd.assert()
    }

    fn json(&self, now: &str, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(now, &all).success().get_output().stdout.clone();
        serde_json::from_slice(&out).unwrap()
    }

    fn review(&self, now: &str, args: &[&str]) -> Value {
        let mut all = vec!["--actor", "moderator", "review"];
        all.extend(args);
        self.json(now, &all)
    }

    /// Rows of a table (one id, or all) in Django's SQLite form.
    fn rows(&self, table: &str, id: Option<&str>) -> Vec<BTreeMap<String, Sql>> {
        match (&self.sqlite, &self.pg) {
            (Some(f), _) => support::pg::sqlite_rows(&f.db, table, id),
            (_, Some(pg)) => pg.rows_as_on_sqlite(table, id),
            _ => unreachable!(),
        }
    }

    fn row(&self, table: &str, id: &str) -> Option<BTreeMap<String, Sql>> {
        self.rows(table, Some(id)).into_iter().next()
    }

    fn actions_of(&self, flag: &str) -> Vec<BTreeMap<String, Sql>> {
        let mut all: Vec<_> = self
            .rows("forum_moderationaction", None)
            .into_iter()
            .filter(|a| a["flag_id"] == text(flag))
            .collect();
        all.sort_by_key(|a| format!("{:?}", a["created_at"]));
        all
    }

    /// Everything stored: equal before and after means nothing changed.
    fn snapshot(&self) -> Vec<u8> {
        match (&self.sqlite, &self.pg) {
            (Some(f), _) => bytes(&f.db),
            (_, Some(pg)) => pg.snapshot().into_bytes(),
            _ => unreachable!(),
        }
    }

    /// A write of the web app's, as Django spells it on each backend.
    fn web(&self, on_sqlite: &str, on_postgres: &str) {
        match (&self.sqlite, &self.pg) {
            (Some(f), _) => Connection::open(&f.db)
                .unwrap()
                .execute_batch(on_sqlite)
                .unwrap(),
            (_, Some(pg)) => pg.client().batch_execute(on_postgres).unwrap(),
            _ => unreachable!(),
        }
    }
}

/// The fixture's pending flags listed alike on both backends.
#[test]
fn flags_lists_the_same_queue_on_sqlite_and_postgresql() {
    let [on_sqlite, on_pg] = BACKENDS.map(|b| {
        let forum = Forum::fixture(b);
        ["pending", "approved", "rejected", "removed", "all"].map(|status| {
            let mut out = forum.json(FIXTURE_NOW, &["flags", "--status", status]);
            out.as_object_mut().unwrap().remove("database");
            out
        })
    });
    assert_eq!(on_sqlite, on_pg);
    assert_eq!(on_sqlite[0]["count"], 6);
    assert!(on_sqlite[4]["count"].as_u64().unwrap() > 6);
    let row = &on_sqlite[0]["rows"][0];
    assert!(row["reporter"].is_string() && row["target_is_active"].is_boolean());
}

#[test]
fn every_review_action_writes_the_web_apps_rows_on_both_backends() {
    for backend in BACKENDS {
        for (action, flag, content_table, content) in [
            ("approve", PENDING_POST_FLAG, "forum_post", PENDING_POST),
            ("reject", PENDING_POST_FLAG, "forum_post", PENDING_POST),
            ("warning", PENDING_POST_FLAG, "forum_post", PENDING_POST),
            ("remove_post", PENDING_POST_FLAG, "forum_post", PENDING_POST),
            (
                "lock_thread",
                PENDING_THREAD_FLAG,
                "forum_thread",
                PENDING_THREAD,
            ),
            (
                "remove_thread",
                PENDING_THREAD_FLAG,
                "forum_thread",
                PENDING_THREAD,
            ),
        ] {
            let f = Forum::fixture(backend);
            let at = format!("{backend:?} {action}");
            let flag_before = f.row("forum_flaggedcontent", flag).unwrap();
            let content_before = f.row(content_table, content).unwrap();
            let out = f.review(
                NOW,
                &[
                    flag,
                    action,
                    "--reason",
                    "Spam / self-promotion",
                    "--notes",
                    "second report",
                ],
            );
            let status = match action {
                "reject" => "rejected",
                "remove_post" | "remove_thread" => "removed",
                _ => "approved",
            };
            assert_eq!(out["status"], status, "{at}");
            assert_eq!(out["flag_id"], flag, "{at}");
            assert_eq!(out["action"], "review", "{at}");
            assert_eq!(out["action_type"], action, "{at}");
            assert_eq!(out["changed"], true, "{at}");

            // The flag: as the endpoint leaves it, every other column as it was.
            let flag_after = f.row("forum_flaggedcontent", flag).unwrap();
            let mut expected = flag_before.clone();
            expected.insert("status".into(), text(status));
            expected.insert("reviewed_by_id".into(), Sql::Integer(MODERATOR));
            expected.insert("reviewed_at".into(), text(NOW));
            expected.insert("updated_at".into(), text(NOW));
            expected.insert("moderator_notes".into(), text("second report"));
            assert_eq!(flag_after, expected, "{at}");

            // One moderation action, every column as the web app writes it.
            let actions = f.actions_of(flag);
            assert_eq!(actions.len(), 1, "{at}");
            let ma = &actions[0];
            assert!(is_hex32(&ma["id"]), "{at}: {:?}", ma["id"]);
            assert_eq!(
                Value::from(ma["id"].clone_text()),
                out["moderation_action_id"]
            );
            let expected: BTreeMap<String, Sql> = [
                ("id", ma["id"].clone()),
                ("action_type", text(action)),
                ("reason", text("Spam / self-promotion")),
                ("created_at", text(NOW)),
                ("affected_user_id", content_before["author_id"].clone()),
                ("flag_id", text(flag)),
                ("moderator_id", Sql::Integer(MODERATOR)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            assert_eq!(ma, &expected, "{at}");
            for v in [
                &flag_after["reviewed_at"],
                &flag_after["updated_at"],
                &ma["created_at"],
            ] {
                assert!(is_django_datetime(v), "{at}: {v:?}");
            }

            // The content.
            let content_after = f.row(content_table, content).unwrap();
            let removed = action.starts_with("remove_");
            assert_eq!(
                content_after["is_active"],
                Sql::Integer(if removed { 0 } else { 1 }),
                "{at}"
            );
            if action == "remove_post" {
                // Its photos go with it, dated now as the web app dates them.
                let photos: Vec<_> = f
                    .rows("forum_attachment", None)
                    .into_iter()
                    .filter(|a| a["post_id"] == text(content))
                    .collect();
                assert!(!photos.is_empty(), "{at}");
                for a in photos {
                    assert_eq!(a["is_active"], Sql::Integer(0), "{at}");
                    assert_eq!(a["deleted_at"], text(NOW), "{at}");
                }
            }
            if action == "lock_thread" {
                assert_eq!(content_after["is_locked"], Sql::Integer(1), "{at}");
                assert_eq!(
                    content_after["updated_at"], content_before["updated_at"],
                    "{at}"
                );
            }
            // The audit entry: who, from which account, why, what.
            let log = f.json(NOW, &["log"]);
            let e = &log["entries"][0];
            assert_eq!(e["action"], "review", "{at}");
            assert_eq!(e["actor"], "moderator", "{at}");
            assert_eq!(e["os_account"], support::os_account(), "{at}");
            assert_eq!(e["reason"], "Spam / self-promotion", "{at}");
            assert_eq!(e["target_id"], content, "{at}");
            assert_eq!(e["detail"]["flag"], flag, "{at}");
            assert_eq!(e["detail"]["action_type"], action, "{at}");
            assert_eq!(
                e["detail"]["moderation_action"], out["moderation_action_id"],
                "{at}"
            );
            // The database stays sound: foreign keys hold (PostgreSQL
            // checks them itself at the commit).
            if let Some(fixture) = &f.sqlite {
                let broken: i64 = support::open(&fixture.db)
                    .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                        r.get(0)
                    })
                    .unwrap();
                assert_eq!(broken, 0, "{at}");
            }
        }
    }
}

trait CloneText {
    fn clone_text(&self) -> String;
}

impl CloneText for Sql {
    fn clone_text(&self) -> String {
        match self {
            Sql::Text(t) => t.clone(),
            other => panic!("not text: {other:?}"),
        }
    }
}

trait CloneInt {
    fn clone_int(&self) -> i64;
}

impl CloneInt for Sql {
    fn clone_int(&self) -> i64 {
        match self {
            Sql::Integer(i) => *i,
            other => panic!("not an integer: {other:?}"),
        }
    }
}

#[test]
fn each_refusal_changes_nothing_on_both_backends() {
    for backend in BACKENDS {
        let f = Forum::fixture(backend);
        // An inactive staff user, and the console's tables in place so a
        // refusal cannot hide behind their creation.
        // ben_0003 (id 4) is in a group that is not the Moderators.
        f.web(
            "UPDATE users_user SET is_staff = 1, is_active = 0 WHERE username = 'greta_0002';
             INSERT INTO auth_group (id, name) VALUES (8, 'Helpers');
             INSERT INTO users_user_groups (id, user_id, group_id) VALUES (1, 4, 8);",
            "UPDATE users_user SET is_staff = true, is_active = false WHERE username = 'greta_0002';
             INSERT INTO auth_group (id, name) VALUES (8, 'Helpers');
             INSERT INTO users_user_groups (id, user_id, group_id) VALUES (1, 4, 8);",
        );
        f.run(FIXTURE_NOW, &["migrate"]).success();
        let before = f.snapshot();
        let refused = |actor: &str, args: &[&str], says: &[&str]| {
            let mut all = vec!["--actor", actor, "review"];
            all.extend(args);
            let line = error_line(f.run(NOW, &all));
            for s in says {
                assert!(line.contains(s), "{backend:?}: {line:?} should say {s:?}");
            }
            all.push("--json");
            error_line(f.run(NOW, &all));
            assert!(
                f.snapshot() == before,
                "{backend:?}: {args:?} changed the database"
            );
        };
        refused(
            "eun-ji_0001",
            &[PENDING_POST_FLAG, "approve", "--reason", "x"],
            &[
                "eun-ji_0001 may not review",
                "staff, superusers and members of the Moderators group",
            ],
        );
        refused(
            "greta_0002",
            &[PENDING_POST_FLAG, "approve", "--reason", "x"],
            &["greta_0002 may not review", "not active"],
        );
        refused(
            "ben_0003",
            &[PENDING_POST_FLAG, "approve", "--reason", "x"],
            &["ben_0003 may not review"],
        );
        refused(
            "nobody",
            &[PENDING_POST_FLAG, "approve", "--reason", "x"],
            &[
                "nobody may not review",
                "no user of the forum is named nobody",
            ],
        );
        refused(
            "moderator",
            &[REVIEWED_FLAG, "approve", "--reason", "x"],
            &["already reviewed", "by moderator"],
        );
        refused(
            "moderator",
            &[PENDING_POST_FLAG, "remove_thread", "--reason", "x"],
            &["remove_thread needs a thread flag", "use remove_post"],
        );
        refused(
            "moderator",
            &[PENDING_THREAD_FLAG, "remove_post", "--reason", "x"],
            &["remove_post needs a post flag", "use remove_thread"],
        );
        refused(
            "moderator",
            &[&id(0xf9), "approve", "--reason", "x"],
            &["no flag with id"],
        );
        refused(
            "moderator",
            &["ffff", "approve", "--reason", "x"],
            &["no flag with an id starting ffff"],
        );
        // A blank reason is refused as usage, a missing one and an action
        // that does not exist too.
        for (action, reason) in [
            ("approve", vec!["--reason", "  "]),
            ("approve", vec![]),
            ("explode", vec!["--reason", "x"]),
        ] {
            let mut args = vec!["--actor", "moderator", "review", PENDING_POST_FLAG, action];
            args.extend(reason);
            usage_line(f.run(NOW, &args));
            assert!(
                f.snapshot() == before,
                "{backend:?}: {args:?} changed the database"
            );
        }
        // Read-only: refused before anything is written.
        let line = error_line(f.run(
            NOW,
            &[
                "--read-only",
                "--actor",
                "moderator",
                "review",
                PENDING_POST_FLAG,
                "approve",
                "--reason",
                "x",
            ],
        ));
        assert!(line.contains("read-only"), "{backend:?}: {line}");
        assert!(f.snapshot() == before, "{backend:?}: read-only changed it");
    }
}

#[test]
fn the_moderators_group_may_review_on_both_backends() {
    for backend in BACKENDS {
        let f = Forum::fixture(backend);
        let refused = error_line(f.run(
            NOW,
            &[
                "--actor",
                "ben_0003",
                "review",
                PENDING_POST_FLAG,
                "approve",
                "--reason",
                "x",
            ],
        ));
        assert!(refused.contains("ben_0003 may not review"), "{refused}");
        f.web(
            "INSERT INTO auth_group (id, name) VALUES (5, 'Moderators');
             INSERT INTO users_user_groups (id, user_id, group_id) VALUES (1, 4, 5);",
            "INSERT INTO auth_group (id, name) VALUES (5, 'Moderators');
             INSERT INTO users_user_groups (id, user_id, group_id) VALUES (1, 4, 5);",
        );
        let out = f.json(
            NOW,
            &[
                "--actor",
                "ben_0003",
                "review",
                PENDING_POST_FLAG,
                "approve",
                "--reason",
                "x",
            ],
        );
        assert_eq!(out["moderator_id"], 4, "{backend:?}");
        assert_eq!(
            f.row("forum_flaggedcontent", PENDING_POST_FLAG).unwrap()["reviewed_by_id"],
            Sql::Integer(4)
        );
        assert_eq!(
            out["affected_user_id"],
            Value::from(f.row("forum_post", PENDING_POST).unwrap()["author_id"].clone_int()),
            "{backend:?}"
        );
        // A superuser who is not staff may review, as may a staff user.
        f.web(
            "UPDATE users_user SET is_superuser = 1, is_staff = 0 WHERE username = 'eun-ji_0001';",
            "UPDATE users_user SET is_superuser = true, is_staff = false \
             WHERE username = 'eun-ji_0001';",
        );
        let uid = |name: &str| {
            f.rows("users_user", None)
                .into_iter()
                .find(|u| u["username"] == text(name))
                .unwrap()["id"]
                .clone()
        };
        let others: Vec<String> = f.json(NOW, &["flags"])["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        assert!(others.len() >= 2, "{backend:?}: {others:?}");
        for (actor, flag) in [("eun-ji_0001", &others[0]), ("moderator", &others[1])] {
            let out = f.json(
                NOW,
                &[
                    "--actor", actor, "review", flag, "warning", "--reason", "be nice",
                ],
            );
            let id = uid(actor);
            assert_eq!(Value::from(id.clone_int()), out["moderator_id"], "{actor}");
            assert_eq!(
                f.row("forum_flaggedcontent", flag).unwrap()["reviewed_by_id"],
                id,
                "{backend:?} {actor}"
            );
        }
    }
}

#[test]
fn undo_of_a_review_puts_everything_back_on_both_backends() {
    for backend in BACKENDS {
        for (flag, action) in [
            (PENDING_THREAD_FLAG, "remove_thread"),
            (PENDING_POST_FLAG, "remove_post"),
            (PENDING_THREAD_FLAG, "lock_thread"),
            (PENDING_POST_FLAG, "reject"),
        ] {
            let f = Forum::fixture(backend);
            let at = format!("{backend:?} {action}");
            let tables = [
                "forum_thread",
                "forum_post",
                "forum_attachment",
                "forum_flaggedcontent",
                "forum_moderationaction",
            ];
            let before = tables.map(|t| f.rows(t, None));
            let pending = f.json(NOW, &["flags"])["count"].clone();
            let out = f.review(NOW, &[flag, action, "--reason", "off-topic"]);
            let action_id = out["moderation_action_id"].as_str().unwrap().to_string();
            assert!(tables.map(|t| f.rows(t, None)) != before, "{at}");
            let undo = f.json("2026-11-26 13:00:00", &["--actor", "moderator", "undo"]);
            assert_eq!(undo["changed"], true, "{at}: {undo}");
            assert_eq!(
                undo["left_alone"].as_array().unwrap().len(),
                0,
                "{at}: {undo}"
            );
            let message = undo["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("moderation action {action_id} removed")),
                "{at}: {message}"
            );
            assert!(
                message.contains(&format!("flag {flag} back to pending")),
                "{at}: {message}"
            );
            let after = tables.map(|t| f.rows(t, None));
            for (i, t) in tables.iter().enumerate() {
                assert_eq!(after[i], before[i], "{at}: {t}");
            }
            let log = f.json(NOW, &["log"]);
            let actions: Vec<&str> = log["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["action"].as_str().unwrap())
                .collect();
            assert_eq!(actions, ["undo", "review"], "{at}");
            assert_eq!(
                log["entries"][1]["undone_by"], log["entries"][0]["id"],
                "{at}"
            );
            // The flag is pending again, and can be reviewed again.
            assert_eq!(f.json(NOW, &["flags"])["count"], pending, "{at}");
            let again = f.review(NOW, &[flag, "approve", "--reason", "on reflection, fine"]);
            assert_eq!(again["status"], "approved", "{at}");
        }
    }
}
