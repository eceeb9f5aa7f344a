//! Every command that works out a deletion time reads the web app's
//! moderation queue, however it opened the database: read-write or
//! `--read-only`, on both backends. The queue is read through the
//! connection's removal views (TEMP views on SQLite, written into each
//! statement on PostgreSQL): a command whose open left them out would fail,
//! or date these rows as unknown.

use crate::on_both;
use crate::support;

use serde_json::Value;
use support::site::{Backend, Site};
use support::{hex_id, row_with_id};

/// A post and a thread taken down by the moderation queue then.
const REMOVED: &str = "2026-03-10 09:30:00.250000";
/// Past the 30 days' retention of both.
const NOW: &str = "2026-05-01 10:00:00";

const T1: u32 = 0x10;
const T2: u32 = 0x11;
const P1: u32 = 0x20;
const P2: u32 = 0x21;

fn id(n: u32) -> String {
    hex_id(n)
}

/// A flag on a post or a thread and the review that removed it, as the web
/// app's review endpoint writes them (the row alone goes inactive).
fn remove_by_moderation(f: &Site, flag: u32, post: Option<u32>, thread: Option<u32>) {
    let (kind, table, row) = match (post, thread) {
        (Some(p), _) => ("post", "forum_post", p),
        (None, Some(t)) => ("thread", "forum_thread", t),
        (None, None) => unreachable!("a flag points at something"),
    };
    let quoted = |n: Option<u32>| n.map_or("NULL".to_string(), |n| format!("'{}'", id(n)));
    f.web(&format!(
        "INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, \
           reviewed_at, moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, \
           post_id, thread_id) \
         VALUES ('{flag}', '{kind}', 'spam', '', 'removed', '{REMOVED}', '', '{REMOVED}', \
           '{REMOVED}', 1, 1, {post}, {thread}); \
         UPDATE {table} SET is_active = {{f}} WHERE id = '{row}'; \
         INSERT INTO forum_moderationaction (id, action_type, reason, created_at, \
           affected_user_id, flag_id, moderator_id) \
         VALUES ('{action}', 'remove_{kind}', 'removed', '{REMOVED}', 1, '{flag}', 1);",
        flag = id(0xf0 + flag),
        action = id(0xa0 + flag),
        post = quoted(post),
        thread = quoted(thread),
        row = id(row),
    ));
}

/// The row `row` of `list KIND --state deleted`.
fn listed(f: &Site, access: &[&str], kind: &str, row: &str) -> Value {
    let mut args = access.to_vec();
    args.extend(["list", kind, "--state", "deleted"]);
    let list = f.json(NOW, &args);
    row_with_id(&list, row)
}

on_both!(
    every_command_that_dates_deletions_reads_the_moderation_queue_read_only_or_not,
    |b: Backend| {
        let f = Site::django(b);
        f.thread(&id(T1), true);
        f.post(&id(P1), &id(T1), true);
        f.post(&id(P2), &id(T1), true);
        f.thread(&id(T2), true);
        remove_by_moderation(&f, 1, Some(P2), None);
        remove_by_moderation(&f, 2, None, Some(T2));
        // Read-only first: a database the console never opened read-write
        // (its own tables shadowed), then read-write, then read-only again.
        for access in [&["--read-only"][..], &[], &["--read-only"]] {
            let with = |args: &[&str]| {
                let mut all = access.to_vec();
                all.extend_from_slice(args);
                f.json(NOW, &all)
            };
            let stats = with(&["stats"]);
            for kind in ["threads", "posts"] {
                assert_eq!(stats[kind]["purgeable"], 1, "{access:?} {kind}: {stats}");
                assert_eq!(
                    stats[kind]["unknown_deletion_time"], 0,
                    "{access:?} {kind}: {stats}"
                );
            }
            for (kind, row) in [("posts", id(P2)), ("threads", id(T2))] {
                let row = listed(&f, access, kind, &row);
                assert_eq!(
                    row["deletion_source"], "moderation_action",
                    "{access:?}: {row}"
                );
                assert_eq!(row["deleted_at"], REMOVED, "{access:?}: {row}");
            }
            let plan = with(&["purge", "--dry-run"]);
            assert_eq!(plan["threads"], 1, "{access:?}: {plan}");
            assert_eq!(plan["posts"], 1, "{access:?}: {plan}");
            // Nothing of unknown time to stamp as first seen.
            let check = with(&["check"]);
            assert_eq!(check["report"]["stamped"], 0, "{access:?}: {check}");
        }
        // The purge itself (its plan on a read-write session) takes both.
        let done = f.json(NOW, &["purge", "--keep-files"]);
        assert_eq!(done["threads"], 1, "{done}");
        assert_eq!(done["posts"], 1, "{done}");
        assert_eq!(f.active("forum_post", &id(P2)), None);
        assert_eq!(f.active("forum_thread", &id(T2)), None);
        assert_eq!(f.active("forum_post", &id(P1)), Some(true));
    }
);
