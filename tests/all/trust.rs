//! Whose delete is the latest, when the web app writes between the
//! console's actions: a console record is trusted only while nothing
//! touched its rows since; deletion times from the web app's moderation
//! queue. Every web-app write is plain SQL exactly as Django issues it, on
//! the Django-made fixture's schema.

use crate::support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::webapp::DjangoForum;
use support::{json_on, row_with_id};

fn id(n: u32) -> String {
    support::hex_id(n)
}

const T: u32 = 0x10;
const P: u32 = 0x20;
const P2: u32 = 0x21;
const P3: u32 = 0x22;
const A: u32 = 0x30;

const CREATED: &str = "2026-03-01 10:00:00";

/// Thread T with `posts` posts (P, P2, ...), each with `attachments`
/// attachments (post n's are A + 8n ...).
fn forum(posts: u32, attachments: u32) -> DjangoForum {
    let f = DjangoForum::new();
    f.thread(&id(T), CREATED);
    for p in 0..posts {
        f.post(&id(P + p), &id(T), CREATED);
        for a in 0..attachments {
            f.attachment(&id(A + 8 * p + a), &id(P + p), CREATED);
        }
    }
    f
}

fn att(post: u32, n: u32) -> String {
    id(A + 8 * (post - P) + n)
}

fn run(f: &DjangoForum, now: &str, args: &[&str]) -> Value {
    json_on(&f.db, now, args)
}

/// The ids a restore or undo changed, from the rows' states before and
/// after.
fn changed(f: &DjangoForum, step: impl FnOnce()) -> BTreeSet<String> {
    let before = support::state_of(&f.db);
    step();
    let after = support::state_of(&f.db);
    support::diff(&before, &after)
        .into_iter()
        .map(|(_, id, _, _)| id)
        .collect()
}

fn ids(list: &[String]) -> BTreeSet<String> {
    list.iter().cloned().collect()
}

/// `list KIND --json` row of one id.
fn listed(f: &DjangoForum, now: &str, kind: &str, row: &str) -> Value {
    let list = run(f, now, &["list", kind, "--state", "all", "--limit", "1000"]);
    row_with_id(&list, row)
}

// ------------------------------------------------- stale console records

#[test]
fn a_post_the_web_app_reactivated_and_deleted_again_restores_as_the_web_app_deleted_it() {
    let f = forum(1, 5);
    run(&f, "2026-03-02 10:00:00", &["delete", "post", &id(P)]);
    // The admin re-activates the post (a full save bumps updated_at) and
    // two of its photos; the API deletes the post again with its cascade.
    f.admin_save_post(&id(P), true, "2026-03-03 10:00:00.000001");
    f.restore_attachment(&att(P, 0));
    f.restore_attachment(&att(P, 1));
    f.destroy_post(&id(P), "2026-03-04 10:00:00.5");
    let row = listed(&f, "2026-03-05 10:00:00", "posts", &id(P));
    assert_eq!(row["deletion_time"], "unknown", "{row}");
    let restored = changed(&f, || {
        let out = run(&f, "2026-03-05 10:00:00", &["restore", "post", &id(P)]);
        assert_eq!(out["posts"], 1, "{out}");
        assert_eq!(out["attachments"], 2, "{out}");
        assert_eq!(out["stay_deleted"]["attachments"], 3, "{out}");
        assert!(
            out["message"]
                .as_str()
                .unwrap()
                .contains("deleted outside the console"),
            "{out}"
        );
    });
    assert_eq!(restored, ids(&[id(P), att(P, 0), att(P, 1)]));
}

#[test]
fn undo_leaves_a_post_the_web_app_deleted_again_alone() {
    let f = forum(1, 5);
    run(&f, "2026-03-02 10:00:00", &["delete", "post", &id(P)]);
    f.admin_save_post(&id(P), true, "2026-03-03 10:00:00");
    f.restore_attachment(&att(P, 0));
    f.destroy_post(&id(P), "2026-03-04 10:00:00");
    let touched = changed(&f, || {
        let out = run(&f, "2026-03-05 10:00:00", &["undo"]);
        assert_eq!(out["changed"], false, "{out}");
        let left: BTreeSet<String> = out["left_alone"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_string())
            .collect();
        assert!(left.contains(&id(P)), "{out}");
    });
    assert!(touched.is_empty(), "{touched:?}");
}

#[test]
fn a_thread_the_admin_reactivated_and_deactivated_again_restores_alone() {
    let f = forum(3, 1);
    run(&f, "2026-03-02 10:00:00", &["delete", "thread", &id(T)]);
    f.admin_save_thread(&id(T), true, "2026-03-03 10:00:00");
    for p in [P, P2, P3] {
        f.admin_save_post(&id(p), true, "2026-03-03 10:00:01");
    }
    f.remove_post(&id(P2), &id(0xf1), &id(0xa1), "2026-03-03 11:00:00");
    f.admin_save_thread(&id(T), false, "2026-03-04 10:00:00");
    let restored = changed(&f, || {
        let out = run(&f, "2026-03-05 10:00:00", &["restore", "thread", &id(T)]);
        assert_eq!(out["threads"], 1, "{out}");
        assert_eq!(out["posts"], 0, "{out}");
        assert_eq!(out["attachments"], 0, "{out}");
        assert_eq!(out["stay_deleted"]["posts"], 1, "{out}");
    });
    assert_eq!(restored, ids(&[id(T)]));
    assert_eq!(f.is_active("forum_post", &id(P2)), Some(false));
}

#[test]
fn a_post_below_deleted_later_by_the_web_app_makes_the_thread_deleted_outside_the_console() {
    let f = forum(2, 1);
    run(&f, "2026-03-02 10:00:00", &["delete", "thread", &id(T)]);
    // The thread is untouched; one of its posts comes back and goes again.
    f.admin_save_post(&id(P), true, "2026-03-03 10:00:00");
    f.destroy_post(&id(P), "2026-03-04 10:00:00");
    let row = listed(&f, "2026-03-05 10:00:00", "threads", &id(T));
    assert_eq!(row["deletion_time"], "unknown", "{row}");
    let restored = changed(&f, || {
        let out = run(&f, "2026-03-05 10:00:00", &["restore", "thread", &id(T)]);
        assert_eq!(out["stay_deleted"]["posts"], 2, "{out}");
    });
    assert_eq!(restored, ids(&[id(T)]));
}

#[test]
fn an_attachment_deleted_later_by_the_web_app_makes_the_post_deleted_outside_the_console() {
    let f = forum(1, 3);
    run(&f, "2026-03-02 10:00:00", &["delete", "post", &id(P)]);
    f.restore_attachment(&att(P, 0));
    f.delete_attachment(&att(P, 0), "2026-03-04 10:00:00");
    let row = listed(&f, "2026-03-05 10:00:00", "posts", &id(P));
    assert_eq!(row["deletion_time"], "unknown", "{row}");
    let restored = changed(&f, || {
        run(&f, "2026-03-05 10:00:00", &["restore", "post", &id(P)]);
    });
    assert_eq!(restored, ids(&[id(P), att(P, 0)]));
}

#[test]
fn every_row_of_a_trusted_record_is_checked_before_it_is_restored() {
    let f = forum(2, 1);
    run(&f, "2026-03-02 10:00:00", &["delete", "thread", &id(T)]);
    // P comes back in the admin and the console's fix deletes it again:
    // its latest delete is the fix, not the thread's delete.
    f.admin_save_post(&id(P), true, "2026-03-03 10:00:00");
    run(&f, "2026-03-04 10:00:00", &["check", "--fix"]);
    let row = listed(&f, "2026-03-05 10:00:00", "threads", &id(T));
    assert_eq!(row["deletion_time"], "exact", "{row}");
    assert_eq!(row["deleted_at"], "2026-03-02 10:00:00", "{row}");
    let restored = changed(&f, || {
        run(&f, "2026-03-05 10:00:00", &["restore", "thread", &id(T)]);
    });
    assert_eq!(restored, ids(&[id(T), id(P2), att(P2, 0)]));
    assert_eq!(f.is_active("forum_post", &id(P)), Some(false));
    assert_eq!(f.is_active("forum_attachment", &att(P, 0)), Some(false));
}

#[test]
fn a_console_delete_after_the_web_apps_writes_is_trusted_again() {
    let f = forum(1, 2);
    f.admin_save_post(&id(P), true, "2026-03-01 12:00:00");
    run(&f, "2026-03-02 10:00:00", &["delete", "post", &id(P)]);
    let row = listed(&f, "2026-03-05 10:00:00", "posts", &id(P));
    assert_eq!(row["deletion_time"], "exact", "{row}");
    assert_eq!(row["deletion_source"], "console", "{row}");
    let restored = changed(&f, || {
        run(&f, "2026-03-05 10:00:00", &["restore", "post", &id(P)]);
    });
    assert_eq!(restored, ids(&[id(P), att(P, 0), att(P, 1)]));
}

// ------------------------------------- deletion times from the moderation queue

const REMOVED: &str = "2026-03-10 09:30:00.250000";

#[test]
fn a_post_removed_by_the_moderation_queue_has_the_actions_time_exactly() {
    let f = forum(1, 0);
    f.remove_post(&id(P), &id(0xf1), &id(0xa1), REMOVED);
    let row = listed(&f, "2026-03-11 00:00:00", "posts", &id(P));
    assert_eq!(row["deletion_time"], "exact", "{row}");
    assert_eq!(row["deletion_source"], "moderation_action", "{row}");
    assert_eq!(row["deleted_at"], REMOVED, "{row}");
    // Retention counts from it: purgeable after 30 days, not before.
    let stats = run(&f, "2026-04-09 09:30:00.25", &["stats"]);
    assert_eq!(stats["posts"]["purgeable"], 1, "{stats}");
    let stats = run(&f, "2026-04-09 09:30:00.249999", &["stats"]);
    assert_eq!(stats["posts"]["purgeable"], 0, "{stats}");
    assert_eq!(stats["posts"]["unknown_deletion_time"], 0, "{stats}");
    let plan = run(&f, "2026-04-09 09:30:00.249999", &["purge", "--dry-run"]);
    assert_eq!(plan["posts"], 0, "{plan}");
    let done = run(&f, "2026-04-10 00:00:00", &["purge"]);
    assert_eq!(done["posts"], 1, "{done}");
    assert_eq!(f.is_active("forum_post", &id(P)), None);
}

#[test]
fn a_thread_removed_by_the_moderation_queue_has_the_actions_time_exactly() {
    let f = forum(1, 0);
    f.remove_thread(&id(T), &id(0xf1), &id(0xa1), REMOVED);
    let row = listed(&f, "2026-03-11 00:00:00", "threads", &id(T));
    assert_eq!(row["deletion_time"], "exact", "{row}");
    assert_eq!(row["deleted_at"], REMOVED, "{row}");
    let check = run(&f, "2026-03-11 00:00:00", &["check"]);
    assert_eq!(check["report"]["stamped"], 0, "{check}");
}

#[test]
fn restoring_a_removed_post_leaves_the_attachments_deleted_before_it_deleted() {
    let f = forum(1, 3);
    f.delete_attachment(&att(P, 0), "2026-03-05 00:00:00");
    f.remove_post(&id(P), &id(0xf1), &id(0xa1), REMOVED);
    let restored = changed(&f, || {
        let out = run(&f, "2026-03-11 00:00:00", &["restore", "post", &id(P)]);
        assert_eq!(out["stay_deleted"]["attachments"], 1, "{out}");
    });
    assert_eq!(restored, ids(&[id(P)]));
}

#[test]
fn restoring_a_removed_post_brings_back_what_the_fix_deleted_after_it() {
    let f = forum(1, 3);
    f.delete_attachment(&att(P, 0), "2026-03-05 00:00:00");
    f.remove_post(&id(P), &id(0xf1), &id(0xa1), REMOVED);
    run(&f, "2026-03-10 12:00:00", &["check", "--fix"]);
    let restored = changed(&f, || {
        run(&f, "2026-03-11 00:00:00", &["restore", "post", &id(P)]);
    });
    assert_eq!(restored, ids(&[id(P), att(P, 1), att(P, 2)]));
}

#[test]
fn a_removal_the_admin_undid_no_longer_dates_a_later_delete() {
    let f = forum(1, 0);
    f.remove_post(&id(P), &id(0xf1), &id(0xa1), REMOVED);
    f.admin_save_post(&id(P), true, "2026-03-12 00:00:00");
    f.destroy_post(&id(P), "2026-03-20 00:00:00");
    let row = listed(&f, "2026-03-21 00:00:00", "posts", &id(P));
    assert_eq!(row["deletion_time"], "unknown", "{row}");
}

#[test]
fn a_removal_the_console_restored_no_longer_dates_a_later_delete() {
    let f = forum(1, 0);
    f.remove_post(&id(P), &id(0xf1), &id(0xa1), REMOVED);
    run(&f, "2026-03-12 00:00:00", &["restore", "post", &id(P)]);
    // The API's delete saves only is_active: updated_at does not move.
    f.destroy_post(&id(P), "2026-03-20 00:00:00");
    let row = listed(&f, "2026-03-21 00:00:00", "posts", &id(P));
    assert_eq!(row["deletion_time"], "unknown", "{row}");
}

#[test]
fn the_fixtures_removed_rows_are_dated_by_their_moderation_actions() {
    let fx = support::fixture();
    let e = support::expected();
    let now = support::FIXTURE_NOW;
    let list = json_on(&fx.db, now, &["list", "posts", "--state", "deleted"]);
    let removed: BTreeSet<&str> = e["categories"]["b_moderation_remove_post"]["post_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for row in list["rows"].as_array().unwrap() {
        let exact = row["deletion_time"] == "exact";
        assert_eq!(
            exact,
            removed.contains(row["id"].as_str().unwrap()),
            "{row}"
        );
        if exact {
            assert_eq!(row["deletion_source"], "moderation_action", "{row}");
            assert!(
                row["deleted_at"].as_str().unwrap() > "2026-11-26 11:00:08",
                "{row}"
            );
        }
    }
    let threads = json_on(&fx.db, now, &["list", "threads", "--state", "deleted"]);
    for row in threads["rows"].as_array().unwrap() {
        assert_eq!(row["deletion_time"], "exact", "{row}");
    }
}

// ---------------------------------------------- undo puts rows back exactly

fn deletion_record(f: &DjangoForum, kind: &str, row: &str) -> Option<(String, String)> {
    f.web
        .query_row(
            "SELECT deleted_at, source FROM modcon_deletion WHERE kind = ?1 AND row_id = ?2",
            [kind, row],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()
}

#[test]
fn undoing_a_restore_puts_a_first_seen_time_back_as_first_seen() {
    let f = forum(1, 1);
    f.destroy_post(&id(P), "2026-03-02 10:00:00");
    run(&f, "2026-03-03 10:00:00", &["check"]);
    let seen = listed(&f, "2026-03-04 00:00:00", "posts", &id(P));
    assert_eq!(seen["deletion_time"], "first_seen", "{seen}");
    assert_eq!(seen["deleted_at"], "2026-03-03 10:00:00", "{seen}");
    run(&f, "2026-03-04 00:00:00", &["restore", "post", &id(P)]);
    run(&f, "2026-03-05 00:00:00", &["undo"]);
    let back = listed(&f, "2026-03-06 00:00:00", "posts", &id(P));
    assert_eq!(back, seen);
    assert_eq!(
        deletion_record(&f, "post", &id(P)),
        Some(("2026-03-03 10:00:00".into(), "seen".into()))
    );
    assert_eq!(
        f.deleted_at(&att(P, 0)).as_deref(),
        Some("2026-03-02 10:00:00")
    );
}

#[test]
fn undoing_a_restore_puts_a_moderation_time_back() {
    let f = forum(1, 0);
    f.remove_post(&id(P), &id(0xf1), &id(0xa1), REMOVED);
    let removed = listed(&f, "2026-03-11 00:00:00", "posts", &id(P));
    run(&f, "2026-03-11 00:00:00", &["restore", "post", &id(P)]);
    run(&f, "2026-03-12 00:00:00", &["undo"]);
    let back = listed(&f, "2026-03-11 00:00:00", "posts", &id(P));
    assert_eq!(back, removed);
    assert_eq!(back["deletion_source"], "moderation_action");
    assert_eq!(back["deleted_at"], REMOVED);
}

#[test]
fn undoing_a_restore_of_a_console_delete_keeps_its_exact_time() {
    let f = forum(2, 1);
    run(&f, "2026-03-02 10:00:00", &["delete", "thread", &id(T)]);
    let before = support::state_of(&f.db);
    let deleted = listed(&f, "2026-03-04 00:00:00", "threads", &id(T));
    run(&f, "2026-03-03 00:00:00", &["restore", "thread", &id(T)]);
    run(&f, "2026-03-03 12:00:00", &["undo"]);
    assert_eq!(support::state_of(&f.db), before);
    assert_eq!(
        listed(&f, "2026-03-04 00:00:00", "threads", &id(T)),
        deleted
    );
    // And a restore after the undo still brings back the whole thread.
    let restored = changed(&f, || {
        run(&f, "2026-03-05 00:00:00", &["restore", "thread", &id(T)]);
    });
    assert_eq!(
        restored,
        ids(&[id(T), id(P), id(P2), att(P, 0), att(P2, 0)])
    );
}

#[test]
fn an_active_attachments_stale_deleted_at_survives_delete_and_undo() {
    let f = forum(1, 2);
    // Data as real databases have it: active, with a deleted_at left over.
    f.web
        .execute(
            "UPDATE forum_attachment SET deleted_at = '2025-12-24 18:00:00.5' WHERE id = ?1",
            [att(P, 0)],
        )
        .unwrap();
    let before = support::state_of(&f.db);
    let out = run(&f, "2026-03-02 10:00:00", &["delete", "post", &id(P)]);
    let recorded: Option<String> = f
        .web
        .query_row(
            "SELECT before_deleted_at FROM modcon_change WHERE action_id = ?1 AND row_id = ?2",
            (out["action_id"].as_i64().unwrap(), att(P, 0)),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recorded.as_deref(), Some("2025-12-24 18:00:00.5"));
    run(&f, "2026-03-03 10:00:00", &["undo"]);
    assert_eq!(support::state_of(&f.db), before);
    // The same for the attachment alone.
    run(
        &f,
        "2026-03-04 10:00:00",
        &["delete", "attachment", &att(P, 0)],
    );
    run(&f, "2026-03-05 10:00:00", &["undo"]);
    assert_eq!(support::state_of(&f.db), before);
}
