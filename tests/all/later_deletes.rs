//! A deleted post's or thread's deletion time while the rows below it
//! change: the console's record of its delete holds until the web app
//! deletes an attachment below it later (then the time is unknown), and
//! still holds when the later delete is the console's own. Asserted in the
//! counts (`stats`) and in the lists, on both backends, with and without
//! `modcon migrate` (whose indexes change how the server finds those
//! attachments, never what it finds).

use crate::on_both;
use crate::support;

use serde_json::Value;
use support::site::{Backend, Site};
use support::{hex_id, row_with_id};

const T: u32 = 0x10;
const P: u32 = 0x20;
const A1: u32 = 0x30;
const A2: u32 = 0x31;

/// The console deletes first, then the moments below; the last is past
/// the 30 days' retention of all of them.
const DELETED: &str = "2026-03-02 10:00:00";
const LATER: &str = "2026-03-04 10:00:00";
const NOW: &str = "2026-06-01 10:00:00";

fn id(n: u32) -> String {
    hex_id(n)
}

/// Thread T, its post P, P's attachments A1 and A2; migrated when asked.
fn forum(b: Backend, migrated: bool) -> Site {
    let f = Site::new(b);
    f.thread(&id(T), true);
    f.post(&id(P), &id(T), true);
    for a in [A1, A2] {
        f.attachment(
            &id(a),
            &id(P),
            &format!("forum/attachments/{a:x}.png"),
            None,
            false,
        );
    }
    if migrated {
        f.json(NOW, &["migrate"]);
    }
    f
}

/// The listed row of `kind` with id `row`.
fn listed(f: &Site, kind: &str, row: &str) -> Value {
    let list = f.json(NOW, &["list", kind, "--state", "all", "--limit", "100"]);
    row_with_id(&list, row)
}

/// (purgeable, unknown deletion time) of a kind, from `stats`.
fn states(f: &Site, kind: &str) -> (i64, i64) {
    let out = f.json(NOW, &["stats"]);
    let c = &out[kind];
    (
        c["purgeable"].as_i64().unwrap(),
        c["unknown_deletion_time"].as_i64().unwrap(),
    )
}

/// The web app brings attachment `a` back, then deletes it at `at`.
fn web_app_deletes_again(f: &Site, a: u32, at: &str) {
    f.web(&format!(
        "UPDATE forum_attachment SET is_active = {{t}}, deleted_at = NULL WHERE id = '{}'",
        id(a)
    ));
    f.web(&format!(
        "UPDATE forum_attachment SET is_active = {{f}}, deleted_at = '{at}' WHERE id = '{}'",
        id(a)
    ));
}

fn post_case(b: Backend, migrated: bool) {
    let f = forum(b, migrated);
    f.json(DELETED, &["delete", "post", &id(P)]);
    assert_eq!(states(&f, "posts"), (1, 0));
    assert_eq!(listed(&f, "posts", &id(P))["deleted_at"], DELETED);

    // The console deletes A1 again after the web app brought it back: the
    // post's record still holds.
    f.web(&format!(
        "UPDATE forum_attachment SET is_active = {{t}}, deleted_at = NULL WHERE id = '{}'",
        id(A1)
    ));
    f.json(LATER, &["delete", "attachment", &id(A1)]);
    assert_eq!(states(&f, "posts"), (1, 0));
    let row = listed(&f, "posts", &id(P));
    assert_eq!(row["deletion_time"], "exact", "{row}");
    assert_eq!(row["deleted_at"], DELETED, "{row}");

    // The web app deletes A2 later: the record no longer tells the post's
    // story.
    web_app_deletes_again(&f, A2, LATER);
    assert_eq!(states(&f, "posts"), (0, 1));
    let row = listed(&f, "posts", &id(P));
    assert_eq!(row["deletion_time"], "unknown", "{row}");
}

fn thread_case(b: Backend, migrated: bool) {
    let f = forum(b, migrated);
    f.json(DELETED, &["delete", "thread", &id(T)]);
    assert_eq!(states(&f, "threads"), (1, 0));
    web_app_deletes_again(&f, A1, LATER);
    assert_eq!(states(&f, "threads"), (0, 1));
    let row = listed(&f, "threads", &id(T));
    assert_eq!(row["deletion_time"], "unknown", "{row}");
}

on_both!(
    a_posts_deletion_time_holds_until_the_web_app_deletes_an_attachment_below_later,
    |b: Backend| post_case(b, false)
);

on_both!(
    a_posts_deletion_time_holds_until_the_web_app_deletes_an_attachment_below_later_migrated,
    |b: Backend| post_case(b, true)
);

on_both!(
    a_threads_deletion_time_is_unknown_once_the_web_app_deletes_an_attachment_below_later,
    |b: Backend| thread_case(b, false)
);

on_both!(
    a_threads_deletion_time_is_unknown_once_the_web_app_deletes_an_attachment_below_later_migrated,
    |b: Backend| thread_case(b, true)
);
