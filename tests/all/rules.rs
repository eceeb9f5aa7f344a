//! The moderation rules (issue 3): a delete takes the row's active
//! descendants with one timestamp, a restore puts back exactly what its
//! delete changed, an undo reverts the actor's latest action. Delete,
//! restore, undo, check and
//! check --fix, the audit log, read-only mode and the JSON every command
//! prints, on hand-built Django schemas and on the Django-made fixture.
//! Every step asserts the rows it changed, and only those.

use crate::on_both;
use crate::support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::site::{Backend, Site};
use support::{FIXTURE_NOW, Forum, hex_id, json_on, modcon, run_on};
use support::{State, bytes, diff, error_line, state, state_of, stdout_of, usage_line};

const NOW: &str = "2026-11-26 12:00:00";
const EARLIER: &str = "2026-11-20 08:30:00.123456";

const T: u32 = 0x10;
const P1: u32 = 0x20;
const P2: u32 = 0x21;
const P3: u32 = 0x22;
const A1: u32 = 0x30;
const A2: u32 = 0x31;
const A3: u32 = 0x32;
const A4: u32 = 0x33;
const A5: u32 = 0x34;

fn id(n: u32) -> String {
    hex_id(n)
}

fn key(kind: &str, n: u32) -> (String, String) {
    (kind.to_string(), id(n))
}

fn img(n: u32) -> String {
    format!("forum/attachments/2026/01/02/{n:x}.png")
}

/// Thread T with posts P1 (attachments A1, A2) and P2 (A3 active, A4
/// deleted by the web app earlier), and P3 which the web app deleted
/// without its attachment A5.
fn thread_forum(b: Backend) -> Site {
    let f = Site::new(b);
    f.thread(&id(T), true);
    f.post(&id(P1), &id(T), true);
    f.post(&id(P2), &id(T), true);
    f.post(&id(P3), &id(T), false);
    f.attachment(&id(A1), &id(P1), &img(A1), None, true);
    f.attachment(&id(A2), &id(P1), &img(A2), None, true);
    f.attachment(&id(A3), &id(P2), &img(A3), None, true);
    f.attachment(
        &id(A4),
        &id(P2),
        &img(A4),
        Some("2026-05-01 00:00:00"),
        true,
    );
    f.attachment(&id(A5), &id(P3), &img(A5), None, true);
    f
}

fn changed(before: &State, after: &State) -> BTreeSet<(String, String)> {
    diff(before, after)
        .into_iter()
        .map(|(k, i, _, _)| (k, i))
        .collect()
}

fn set(items: &[(&str, u32)]) -> BTreeSet<(String, String)> {
    items.iter().map(|(k, n)| key(k, *n)).collect()
}

fn counts(v: &Value) -> (i64, i64, i64, i64) {
    let n = |k: &str| {
        v[k].as_i64()
            .unwrap_or_else(|| panic!("no count {k} in {v}"))
    };
    (n("threads"), n("posts"), n("attachments"), n("files"))
}

/// actor, action, kind, target, counts.
type Action = (String, String, Option<String>, Option<String>, [i64; 4]);

fn actions(f: &Site) -> Vec<Action> {
    let n = |v: &Option<String>| v.as_deref().unwrap().parse::<i64>().unwrap();
    f.rows(
        "SELECT actor, action, kind, target_id, threads, posts, attachments, files \
         FROM modcon_action ORDER BY id",
    )
    .into_iter()
    .map(|r| {
        (
            r[0].clone().unwrap(),
            r[1].clone().unwrap(),
            r[2].clone(),
            r[3].clone(),
            [n(&r[4]), n(&r[5]), n(&r[6]), n(&r[7])],
        )
    })
    .collect()
}

fn deletion_records(f: &Site) -> Vec<(String, String, String, String)> {
    f.rows("SELECT kind, row_id, deleted_at, source FROM modcon_deletion ORDER BY kind, row_id")
        .into_iter()
        .map(|r| {
            let t = |i: usize| r[i].clone().unwrap();
            (t(0), t(1), t(2), t(3))
        })
        .collect()
}

// ---------------------------------------------------------------- delete

on_both!(
    delete_thread_takes_its_active_posts_and_their_active_attachments_with_one_timestamp,
    |b: Backend| {
        let f = thread_forum(b);
        let before = f.state();
        let out = f.json(NOW, &["delete", "thread", &id(T)]);
        assert_eq!(out["action"], "delete");
        assert_eq!(out["kind"], "thread");
        assert_eq!(out["id"], id(T));
        assert_eq!(out["changed"], true);
        assert_eq!(counts(&out), (1, 2, 3, 0));
        assert_eq!(
            out["message"],
            format!("deleted thread {} with 2 posts, 3 attachments", id(T))
        );

        let after = f.state();
        assert_eq!(
            changed(&before, &after),
            set(&[
                ("thread", T),
                ("post", P1),
                ("post", P2),
                ("attachment", A1),
                ("attachment", A2),
                ("attachment", A3)
            ])
        );
        for a in [A1, A2, A3] {
            assert_eq!(after[&key("attachment", a)], (0, Some(NOW.to_string())));
        }
        // Deleted before, by someone else: untouched, its time kept.
        assert_eq!(
            after[&key("attachment", A4)],
            (0, Some("2026-05-01 00:00:00".into()))
        );
        assert_eq!(after[&key("post", P3)], (0, None));
        assert_eq!(after[&key("attachment", A5)], (1, None));
        // The deletion time of the thread and posts, recorded exactly.
        assert_eq!(
            deletion_records(&f),
            [
                ("post".into(), id(P1), NOW.into(), "console".into()),
                ("post".into(), id(P2), NOW.into(), "console".into()),
                ("thread".into(), id(T), NOW.into(), "console".into()),
            ]
        );
        // One audit entry, and one change record per row with before/after.
        assert_eq!(
            actions(&f),
            [(
                "tester".into(),
                "delete".into(),
                Some("thread".into()),
                Some(id(T)),
                [1, 2, 3, 0]
            )]
        );
        type Change = (String, String, i64, Option<String>, i64, Option<String>);
        let changes: Vec<Change> = f
        .rows(
            "SELECT kind, row_id, before_active, before_deleted_at, after_active, after_deleted_at \
             FROM modcon_change ORDER BY kind, row_id",
        )
        .into_iter()
        .map(|r| {
            let n = |i: usize| r[i].as_deref().unwrap().parse::<i64>().unwrap();
            (
                r[0].clone().unwrap(),
                r[1].clone().unwrap(),
                n(2),
                r[3].clone(),
                n(4),
                r[5].clone(),
            )
        })
        .collect();
        assert_eq!(changes.len(), 6);
        assert!(
            changes
                .iter()
                .all(|c| c.2 == 1 && c.3.is_none() && c.4 == 0 && c.5.as_deref() == Some(NOW)),
            "{changes:?}"
        );
        // Files are never touched by a soft delete.
        for a in [A1, A2, A3, A4, A5] {
            assert!(f.exists(&img(a)));
        }
    }
);

on_both!(
    delete_post_takes_its_active_attachments_only,
    |b: Backend| {
        let f = thread_forum(b);
        let before = f.state();
        let out = f.json(NOW, &["delete", "post", &id(P2)]);
        assert_eq!(counts(&out), (0, 1, 1, 0));
        assert_eq!(
            out["message"],
            format!("deleted post {} with 1 attachment", id(P2))
        );
        let after = f.state();
        assert_eq!(
            changed(&before, &after),
            set(&[("post", P2), ("attachment", A3)])
        );
        assert_eq!(after[&key("thread", T)], (1, None));
    }
);

on_both!(
    delete_attachment_takes_that_attachment_alone,
    |b: Backend| {
        let f = thread_forum(b);
        let before = f.state();
        let text = stdout_of(f.run(NOW, &["delete", "attachment", &id(A1)]));
        assert_eq!(text, format!("deleted attachment {}\n", id(A1)));
        let after = f.state();
        assert_eq!(changed(&before, &after), set(&[("attachment", A1)]));
        assert_eq!(after[&key("attachment", A1)], (0, Some(NOW.into())));
    }
);

on_both!(
    deleting_a_deleted_row_changes_nothing_and_says_so,
    |b: Backend| {
        let f = thread_forum(b);
        f.run(EARLIER, &["delete", "thread", &id(T)]).success();
        let before = f.state();
        let before_bytes = (b == Backend::Sqlite).then(|| bytes(&f.forum.db));
        for (kind, n) in [
            ("thread", T),
            ("post", P1),
            ("post", P3),
            ("attachment", A1),
            ("attachment", A4),
        ] {
            let out = f.json(NOW, &["delete", kind, &id(n)]);
            assert_eq!(out["changed"], false);
            assert_eq!(counts(&out), (0, 0, 0, 0));
            assert_eq!(out["action_id"], Value::Null);
            let text = stdout_of(f.run(NOW, &["delete", kind, &id(n)]));
            assert_eq!(
                text,
                format!("{kind} {} is already deleted; nothing changed\n", id(n))
            );
        }
        assert_eq!(f.state(), before);
        if let Some(before_bytes) = before_bytes {
            assert_eq!(bytes(&f.forum.db), before_bytes);
        }
        assert_eq!(actions(&f).len(), 1);
    }
);

on_both!(a_delete_is_one_transaction, |b: Backend| {
    let f = thread_forum(b);
    // The console's own tables (a first read-write open), no action.
    f.run(NOW, &["restore", "thread", &id(T)]).success();
    let before = f.state();
    modcon(f.dir())
        .env("MODCON_FAILPOINT", "before-commit:exit")
        .arg("--db")
        .arg(f.db())
        .args(["--now", NOW, "delete", "thread", &id(T)])
        .assert()
        .code(3);
    // A fresh connection (on SQLite) rolls back whatever the stopped
    // process left; the server rolls back a session that went away.
    if b == Backend::Sqlite {
        assert_eq!(state_of(&f.forum.db), before);
    }
    assert_eq!(f.state(), before);
    assert_eq!(f.count("SELECT count(*) FROM modcon_action"), 0);
    assert_eq!(f.count("SELECT count(*) FROM modcon_change"), 0);
});

// --------------------------------------------------------------- restore

on_both!(
    delete_then_restore_round_trips_at_every_level,
    |b: Backend| {
        for (kind, n) in [
            ("thread", T),
            ("post", P1),
            ("post", P2),
            ("attachment", A3),
        ] {
            let f = thread_forum(b);
            let before = f.state();
            f.run(EARLIER, &["delete", kind, &id(n)]).success();
            assert_ne!(f.state(), before);
            let out = f.json(NOW, &["restore", kind, &id(n)]);
            assert_eq!(out["action"], "restore");
            assert_eq!(
                (out["kind"].as_str(), out["id"].as_str()),
                (Some(kind), Some(id(n).as_str()))
            );
            assert_eq!(f.state(), before, "{kind} round trip");
            // Restored rows have no deletion record left.
            let left: Vec<_> = deletion_records(&f)
                .into_iter()
                .filter(|r| r.3 == "console")
                .collect();
            assert!(left.is_empty(), "{left:?}");
        }
        let f = thread_forum(b);
        f.run(EARLIER, &["delete", "thread", &id(T)]).success();
        let out = f.json(NOW, &["restore", "thread", &id(T)]);
        assert_eq!(counts(&out), (1, 2, 3, 0));
        assert_eq!(out["stay_deleted"]["posts"], 1);
        assert_eq!(
            out["message"],
            format!(
                "restored thread {} with 2 posts, 3 attachments; 1 post stays deleted",
                id(T)
            )
        );
    }
);

on_both!(
    restoring_a_thread_leaves_rows_deleted_before_its_delete_deleted,
    |b: Backend| {
        let f = thread_forum(b);
        // First P2 (with A3), and A1 on its own; then the whole thread.
        f.run("2026-11-01 10:00:00", &["delete", "post", &id(P2)])
            .success();
        f.run("2026-11-02 10:00:00", &["delete", "attachment", &id(A1)])
            .success();
        let before_thread_delete = f.state();
        f.run(EARLIER, &["delete", "thread", &id(T)]).success();
        let out = f.json(NOW, &["restore", "thread", &id(T)]);
        assert_eq!(counts(&out), (1, 1, 1, 0));
        assert_eq!(out["stay_deleted"]["posts"], 2);
        assert_eq!(f.state(), before_thread_delete);
        let after = f.state();
        assert_eq!(
            after[&key("attachment", A1)],
            (0, Some("2026-11-02 10:00:00".into()))
        );
        assert_eq!(
            after[&key("attachment", A3)],
            (0, Some("2026-11-01 10:00:00".into()))
        );
        // Restoring P2 now brings back what its own delete took.
        let out = f.json(NOW, &["restore", "post", &id(P2)]);
        assert_eq!(counts(&out), (0, 1, 1, 0));
        assert_eq!(f.state()[&key("attachment", A3)], (1, None));
        assert_eq!(f.state()[&key("attachment", A4)].0, 0);
    }
);

on_both!(
    an_attachment_deleted_before_its_post_stays_deleted_when_the_post_is_restored,
    |b: Backend| {
        let f = thread_forum(b);
        f.run(EARLIER, &["delete", "attachment", &id(A1)]).success();
        f.run(NOW, &["delete", "post", &id(P1)]).success();
        let out = f.json(NOW, &["restore", "post", &id(P1)]);
        assert_eq!(counts(&out), (0, 1, 1, 0));
        assert_eq!(
            out["message"],
            format!(
                "restored post {} with 1 attachment; 1 attachment stays deleted",
                id(P1)
            )
        );
        let s = f.state();
        assert_eq!(s[&key("post", P1)], (1, None));
        assert_eq!(s[&key("attachment", A2)], (1, None));
        assert_eq!(s[&key("attachment", A1)], (0, Some(EARLIER.into())));
    }
);

on_both!(restoring_an_attachment_restores_it_alone, |b: Backend| {
    let f = thread_forum(b);
    f.run(EARLIER, &["delete", "post", &id(P1)]).success();
    f.run(NOW, &["restore", "post", &id(P1)]).success();
    f.run(NOW, &["delete", "attachment", &id(A2)]).success();
    let before = f.state();
    let out = f.json(NOW, &["restore", "attachment", &id(A4)]);
    assert_eq!(counts(&out), (0, 0, 1, 0));
    assert_eq!(changed(&before, &f.state()), set(&[("attachment", A4)]));
    assert_eq!(f.state()[&key("attachment", A4)], (1, None));
});

on_both!(
    restore_under_a_deleted_parent_is_refused_naming_the_parent,
    |b: Backend| {
        let f = thread_forum(b);
        f.run(EARLIER, &["delete", "thread", &id(T)]).success();
        let before = f.state();
        let cases = [
            (
                "post",
                P1,
                format!("its thread {} is deleted; restore the thread first", id(T)),
            ),
            (
                "attachment",
                A1,
                format!("its post {} is deleted; restore the post first", id(P1)),
            ),
            (
                "attachment",
                A4,
                format!("its post {} is deleted; restore the post first", id(P2)),
            ),
        ];
        for (kind, n, why) in cases {
            let line = error_line(f.run(NOW, &["restore", kind, &id(n)]));
            assert_eq!(
                line,
                format!("error: cannot restore {kind} {}: {why}", id(n))
            );
        }
        assert_eq!(f.state(), before);

        // The nearest deleted ancestor is named, even above an active parent:
        // a thread the web app removed left its posts active.
        let f = thread_forum(b);
        f.run(EARLIER, &["delete", "attachment", &id(A1)]).success();
        f.web("UPDATE forum_thread SET is_active = {f}");
        let line = error_line(f.run(NOW, &["restore", "attachment", &id(A1)]));
        assert_eq!(
            line,
            format!(
                "error: cannot restore attachment {}: its thread {} is deleted; restore the thread first",
                id(A1),
                id(T)
            )
        );
    }
);

on_both!(
    restoring_an_active_row_changes_nothing_and_says_so,
    |b: Backend| {
        let f = thread_forum(b);
        for (kind, n) in [
            ("thread", T),
            ("post", P1),
            ("attachment", A1),
            ("attachment", A5),
        ] {
            let out = f.json(NOW, &["restore", kind, &id(n)]);
            assert_eq!(out["changed"], false);
            assert_eq!(counts(&out), (0, 0, 0, 0));
            let text = stdout_of(f.run(NOW, &["restore", kind, &id(n)]));
            assert_eq!(
                text,
                format!("{kind} {} is already active; nothing changed\n", id(n))
            );
        }
        // The own tables were added by the first read-write open; no action.
        assert_eq!(f.count("SELECT count(*) FROM modcon_action"), 0);
    }
);

on_both!(
    a_thread_deleted_outside_the_console_is_restored_alone,
    |b: Backend| {
        let f = thread_forum(b);
        f.web(&format!(
        "UPDATE forum_thread SET is_active = {{f}}; UPDATE forum_post SET is_active = {{f}} WHERE id = '{}';",
        id(P1)
    ));
        let before = f.state();
        let out = f.json(NOW, &["restore", "thread", &id(T)]);
        assert_eq!(counts(&out), (1, 0, 0, 0));
        assert_eq!(out["stay_deleted"]["posts"], 2);
        assert_eq!(
            out["message"],
            format!(
                "restored thread {}; 2 posts stay deleted (deleted outside the console)",
                id(T)
            )
        );
        assert_eq!(changed(&before, &f.state()), set(&[("thread", T)]));
    }
);

on_both!(
    a_post_deleted_by_the_web_apps_cascade_comes_back_with_the_attachments_of_that_cascade,
    |b: Backend| {
        let f = Site::new(b);
        f.thread(&id(T), true);
        f.post(&id(P1), &id(T), false);
        let cascade = "2026-11-20 10:00:00.500000";
        // The same instant in another form still belongs to the cascade.
        f.attachment(&id(A1), &id(P1), &img(A1), Some(cascade), true);
        f.attachment(
            &id(A2),
            &id(P1),
            &img(A2),
            Some("2026-11-20T10:00:00.5Z"),
            true,
        );
        f.attachment(
            &id(A3),
            &id(P1),
            &img(A3),
            Some("2026-10-01 09:00:00"),
            true,
        );
        f.attachment(&id(A4), &id(P1), &img(A4), None, true);
        f.web(&format!(
            "UPDATE forum_attachment SET deleted_at = NULL WHERE id = '{a4}'; \
         UPDATE forum_attachment SET is_active = {{f}} WHERE id = '{a4}';",
            a4 = id(A4)
        ));
        let before = f.state();
        let out = f.json(NOW, &["restore", "post", &id(P1)]);
        assert_eq!(counts(&out), (0, 1, 2, 0));
        assert_eq!(
            out["message"],
            format!(
                "restored post {} with 2 attachments; 2 attachments stay deleted (deleted outside the console)",
                id(P1)
            )
        );
        assert_eq!(
            changed(&before, &f.state()),
            set(&[("post", P1), ("attachment", A1), ("attachment", A2)])
        );
        assert_eq!(
            f.state()[&key("attachment", A3)],
            (0, Some("2026-10-01 09:00:00".into()))
        );
    }
);

#[test]
fn the_fixtures_web_app_cascade_posts_restore_as_django_deleted_them() {
    let fx = support::fixture();
    let e = support::expected();
    for case in e["categories"]["a_post_soft_delete_perform_destroy"]
        .as_array()
        .unwrap()
    {
        let post = case["post_id"].as_str().unwrap();
        let before = state_of(&fx.db);
        let out = json_on(&fx.db, FIXTURE_NOW, &["restore", "post", post]);
        let cascaded: BTreeSet<(String, String)> = case["cascaded_attachment_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| ("attachment".to_string(), a.as_str().unwrap().to_string()))
            .collect();
        let mut want = cascaded.clone();
        want.insert(("post".into(), post.into()));
        let after = state_of(&fx.db);
        assert_eq!(changed(&before, &after), want, "{post}");
        for k in &cascaded {
            assert_eq!(after[k], (1, None));
        }
        for earlier in case["previously_deleted_attachment_ids"]
            .as_array()
            .unwrap()
        {
            let k = (
                "attachment".to_string(),
                earlier.as_str().unwrap().to_string(),
            );
            assert_eq!(
                after[&k], before[&k],
                "deleted before the post: stays as it was"
            );
            assert_eq!(after[&k].0, 0);
        }
        assert_eq!(out["attachments"], cascaded.len() as i64);
        assert_eq!(
            out["stay_deleted"]["attachments"],
            case["previously_deleted_attachment_ids"]
                .as_array()
                .unwrap()
                .len() as i64
        );
    }
}

// ------------------------------------------------------- check and --fix

#[test]
fn check_reports_everything_the_fixture_breaks() {
    let fx = support::fixture();
    let e = support::expected();
    let cats = &e["categories"];
    let out = json_on(&fx.db, FIXTURE_NOW, &["check"]);
    assert_eq!(out["action"], "check");
    let r = &out["report"];
    let viol: BTreeSet<(String, String, String)> = r["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["kind"].as_str().unwrap().to_string(),
                v["id"].as_str().unwrap().to_string(),
                v["parent_kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want = BTreeSet::new();
    for p in cats["c_moderation_remove_thread"]["still_active_post_ids"]
        .as_array()
        .unwrap()
    {
        want.insert((
            "post".to_string(),
            p.as_str().unwrap().to_string(),
            "thread".to_string(),
        ));
    }
    for a in cats["b_moderation_remove_post"]["still_active_attachment_ids"]
        .as_array()
        .unwrap()
    {
        want.insert((
            "attachment".to_string(),
            a.as_str().unwrap().to_string(),
            "post".to_string(),
        ));
    }
    assert_eq!(viol, want);
    let unknown: BTreeSet<String> = r["unknown_deletion_time"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            format!(
                "{}:{}",
                u["kind"].as_str().unwrap(),
                u["id"].as_str().unwrap()
            )
        })
        .collect();
    // Deleted threads and posts, less those the moderation queue removed
    // (its actions date them exactly), and the attachment with no time.
    let removed_by_queue = cats["b_moderation_remove_post"]["post_ids"]
        .as_array()
        .unwrap()
        .len()
        + cats["c_moderation_remove_thread"]["thread_ids"]
            .as_array()
            .unwrap()
            .len();
    assert_eq!(removed_by_queue, 5);
    assert_eq!(unknown.len(), 2 + 10 + 1 - removed_by_queue);
    assert!(unknown.contains(&format!(
        "attachment:{}",
        cats["inactive_with_null_deleted_at"][0].as_str().unwrap()
    )));
    // The other threads and posts were stamped as first seen now.
    assert_eq!(r["stamped"], 12 - removed_by_queue as i64);
    let missing: Vec<(&str, &str)> = r["missing_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["attachment_id"].as_str().unwrap(),
                m["image"].as_str().unwrap(),
            )
        })
        .collect();
    let m = &e["extras"]["purge_eligible_row_with_missing_file"];
    assert_eq!(
        missing,
        [(
            m["attachment_id"].as_str().unwrap(),
            m["image_name"].as_str().unwrap()
        )]
    );
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        strings(&r["unreferenced_files"]),
        strings(&e["derived"]["orphan_files"])
    );
    assert_eq!(
        strings(&r["unreferenced_thumbnails"]),
        strings(&e["derived"]["orphan_cache_files"])
    );
    assert_eq!(r["unsafe_paths"].as_array().unwrap().len(), 0);
    assert_eq!(r["files_checked"], true);
    assert_eq!(out["problems"], 13 + (13 - removed_by_queue) + 1 + 13 + 12);
    // A second check stamps nothing new and keeps the first-seen times.
    let again = json_on(&fx.db, "2026-12-01 00:00:00", &["check"]);
    assert_eq!(again["report"]["stamped"], 0);
    let seen: BTreeSet<String> = again["report"]["unknown_deletion_time"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["first_seen"].as_str().map(str::to_string))
        .collect();
    assert_eq!(seen, [FIXTURE_NOW.to_string()].into_iter().collect());
    let text = stdout_of(run_on(&fx.db, FIXTURE_NOW, &["check"]));
    assert!(
        text.contains("active rows under a deleted parent (13):"),
        "{text}"
    );
    assert!(
        text.contains(
            "`modcon check --fix` soft-deletes the active rows under deleted parents (undoable)"
        ),
        "{text}"
    );
}

#[test]
fn check_fix_and_undo_on_the_moderation_queue_inconsistency() {
    let fx = support::fixture();
    let e = support::expected();
    let cats = &e["categories"];
    let conn = support::open(&fx.db);
    let before = state(&conn);
    let out = json_on(&fx.db, FIXTURE_NOW, &["check", "--fix"]);
    assert_eq!(out["action"], "fix");
    assert_eq!(counts(&out), (0, 5, 13, 0));
    assert_eq!(out["report"]["violations"].as_array().unwrap().len(), 0);
    let after = state(&conn);
    let mut want: BTreeSet<(String, String)> = BTreeSet::new();
    for p in cats["c_moderation_remove_thread"]["still_active_post_ids"]
        .as_array()
        .unwrap()
    {
        want.insert(("post".into(), p.as_str().unwrap().into()));
    }
    for group in ["b_moderation_remove_post", "c_moderation_remove_thread"] {
        for a in cats[group]["still_active_attachment_ids"]
            .as_array()
            .unwrap()
        {
            want.insert(("attachment".into(), a.as_str().unwrap().into()));
        }
    }
    assert_eq!(changed(&before, &after), want);
    for k in &want {
        assert_eq!(after[k].0, 0);
        if k.0 == "attachment" {
            assert_eq!(after[k].1.as_deref(), Some(FIXTURE_NOW));
        }
    }
    let stats = json_on(&fx.db, FIXTURE_NOW, &["stats"]);
    assert_eq!(stats["violations"], 0);
    // Nothing left to fix: a no-op that says so.
    let text = stdout_of(run_on(&fx.db, FIXTURE_NOW, &["check", "--fix"]));
    assert!(
        text.starts_with("no active rows under deleted parents; nothing changed\n"),
        "{text}"
    );

    let undo = json_on(&fx.db, FIXTURE_NOW, &["undo"]);
    assert_eq!(undo["action"], "undo");
    assert_eq!(counts(&undo), (0, 5, 13, 0));
    assert_eq!(undo["left_alone"].as_array().unwrap().len(), 0);
    assert_eq!(state(&conn), before);
    assert_eq!(json_on(&fx.db, FIXTURE_NOW, &["stats"])["violations"], 13);
}

#[test]
fn undoing_a_fix_puts_back_only_what_others_left_behind() {
    // The web app removed thread T and left P1, P2 (and their
    // attachments) active under it.
    let f = thread_forum(Backend::Sqlite).forum;
    f.conn
        .execute("UPDATE forum_thread SET is_active = 0", [])
        .unwrap();
    let before = state(&f.conn);
    let out = json_on(&f.db, NOW, &["check", "--fix"]);
    assert_eq!(
        counts(&out),
        (0, 2, 4, 0),
        "P1, P2 and A1, A2, A3 under them, A5 under P3"
    );
    // Since then the web app saved P1: its deletion is not the fix's any more.
    f.conn
        .execute(
            "UPDATE forum_post SET updated_at = '2026-11-27 00:00:00' WHERE id = ?1",
            [id(P1)],
        )
        .unwrap();
    let undo = json_on(&f.db, NOW, &["undo"]);
    let left: BTreeSet<(String, String)> = undo["left_alone"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                l["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        left,
        [
            (id(P1), "changed since".to_string()),
            (id(A1), "its parent is deleted".to_string()),
            (id(A2), "its parent is deleted".to_string()),
        ]
        .into_iter()
        .collect()
    );
    // P2 with A3, and A5 under the web app's deleted P3, are back as the
    // fix found them.
    let after = state(&f.conn);
    assert_eq!(
        changed(&before, &after),
        set(&[("post", P1), ("attachment", A1), ("attachment", A2)])
    );
}

#[test]
fn first_seen_deletion_times_are_stamped_once_and_again_when_the_web_app_saves_the_row() {
    let f = thread_forum(Backend::Sqlite).forum;
    let seen = |f: &Forum| -> Option<(String, String)> {
        f.conn
            .query_row(
                "SELECT deleted_at, source FROM modcon_deletion WHERE kind = 'post' AND row_id = ?1",
                [id(P3)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()
    };
    // Read-only looks stamp nothing.
    run_on(&f.db, "2026-11-01 00:00:00", &["--read-only", "check"]).success();
    assert_eq!(seen(&f), None);
    run_on(&f.db, "2026-11-01 00:00:00", &["check"]).success();
    assert_eq!(
        seen(&f),
        Some(("2026-11-01 00:00:00".into(), "seen".into()))
    );
    run_on(&f.db, "2026-11-10 00:00:00", &["check"]).success();
    assert_eq!(
        seen(&f),
        Some(("2026-11-01 00:00:00".into(), "seen".into()))
    );
    let listed = json_on(
        &f.db,
        "2026-11-10 00:00:00",
        &["list", "posts", "--state", "deleted"],
    );
    assert_eq!(listed["rows"][0]["deletion_time"], "first_seen");
    assert_eq!(listed["rows"][0]["deleted_at"], "2026-11-01 00:00:00");
    // The web app saves the row: the record is stale, the age unknown
    // again until the next check.
    f.conn
        .execute(
            "UPDATE forum_post SET updated_at = '2026-11-12 09:00:00' WHERE id = ?1",
            [id(P3)],
        )
        .unwrap();
    let listed = json_on(
        &f.db,
        "2026-11-12 10:00:00",
        &["list", "posts", "--state", "deleted"],
    );
    assert_eq!(listed["rows"][0]["deletion_time"], "unknown");
    run_on(&f.db, "2026-11-12 10:00:00", &["check"]).success();
    assert_eq!(
        seen(&f),
        Some(("2026-11-12 10:00:00".into(), "seen".into()))
    );
    // An active row loses its record.
    f.conn
        .execute(
            "UPDATE forum_post SET is_active = 1 WHERE id = ?1",
            [id(P3)],
        )
        .unwrap();
    run_on(&f.db, "2026-11-13 10:00:00", &["check"]).success();
    assert_eq!(seen(&f), None);
}

// ------------------------------------------------------------------ undo

on_both!(
    undo_reverts_the_actors_latest_action_then_the_one_before,
    |b: Backend| {
        let f = thread_forum(b);
        let start = f.state();
        f.run(EARLIER, &["delete", "attachment", &id(A1)]).success();
        let after_first = f.state();
        f.run(NOW, &["delete", "thread", &id(T)]).success();
        let out = f.json(NOW, &["undo"]);
        assert_eq!(
            (out["action"].as_str(), out["kind"].as_str()),
            (Some("undo"), Some("thread"))
        );
        assert_eq!(out["id"], id(T));
        assert_eq!(out["undid"], 2);
        assert_eq!(counts(&out), (1, 2, 2, 0));
        assert_eq!(f.state(), after_first);
        let text = stdout_of(f.run(NOW, &["undo"]));
        assert_eq!(
            text,
            format!(
                "undid #1 (delete attachment {}): 1 attachment back as before\n",
                id(A1)
            )
        );
        assert_eq!(f.state(), start);
        let out = f.json(NOW, &["undo"]);
        assert_eq!(out["changed"], false);
        assert_eq!(out["message"], "nothing to undo for tester");
        assert_eq!(counts(&out), (0, 0, 0, 0));
        let log = f.json(NOW, &["log"]);
        let entries = log["entries"].as_array().unwrap();
        let summary: Vec<(i64, &str, Option<i64>, Option<i64>)> = entries
            .iter()
            .map(|e| {
                (
                    e["id"].as_i64().unwrap(),
                    e["action"].as_str().unwrap(),
                    e["undoes"].as_i64(),
                    e["undone_by"].as_i64(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (4, "undo", Some(1), None),
                (3, "undo", Some(2), None),
                (2, "delete", None, Some(3)),
                (1, "delete", None, Some(4))
            ]
        );
    }
);

on_both!(undo_is_per_actor, |b: Backend| {
    let f = thread_forum(b);
    let as_actor = |actor: &str, args: &[&str]| {
        modcon(f.dir())
            .arg("--db")
            .arg(f.db())
            .args(["--now", NOW, "--actor", actor])
            .args(args)
            .assert()
            .success();
    };
    as_actor("alice", &["delete", "attachment", &id(A1)]);
    as_actor("bob", &["delete", "attachment", &id(A2)]);
    as_actor("alice", &["undo"]);
    let s = f.state();
    assert_eq!(s[&key("attachment", A1)], (1, None));
    assert_eq!(s[&key("attachment", A2)], (0, Some(NOW.into())));
    let out = modcon(f.dir())
        .env("MODCON_ACTOR", "alice")
        .arg("--db")
        .arg(f.db())
        .args(["--now", NOW, "undo", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(out["message"], "nothing to undo for alice");
    as_actor("bob", &["undo"]);
    assert_eq!(f.state()[&key("attachment", A2)], (1, None));
});

on_both!(
    undo_leaves_rows_changed_since_alone_and_lists_them,
    |b: Backend| {
        let f = thread_forum(b);
        f.run(EARLIER, &["delete", "post", &id(P1)]).success();
        // Since then: A1 was hard-deleted, A2 got another deletion time (an
        // earlier one: a later one would make the whole post deleted outside
        // the console, see trust.rs).
        f.web(&format!(
            "DELETE FROM forum_attachment WHERE id = '{}'",
            id(A1)
        ));
        f.web(&format!(
            "UPDATE forum_attachment SET deleted_at = '2026-11-19 00:00:00' WHERE id = '{}'",
            id(A2)
        ));
        let before = f.state();
        let out = f.json(NOW, &["undo"]);
        assert_eq!(counts(&out), (0, 1, 0, 0));
        let left: Vec<(String, String, String)> = out["left_alone"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["kind"].as_str().unwrap().into(),
                    l["id"].as_str().unwrap().into(),
                    l["reason"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            left,
            [
                (
                    "attachment".to_string(),
                    id(A1),
                    "no longer exists".to_string()
                ),
                (
                    "attachment".to_string(),
                    id(A2),
                    "changed since".to_string()
                )
            ]
        );
        assert_eq!(changed(&before, &f.state()), set(&[("post", P1)]));
        assert_eq!(
            f.state()[&key("attachment", A2)],
            (0, Some("2026-11-19 00:00:00".into()))
        );

        // The human output lists them too.
        let f = thread_forum(b);
        f.run(EARLIER, &["delete", "post", &id(P1)]).success();
        f.web(&format!(
            "UPDATE forum_attachment SET deleted_at = '2026-11-19 00:00:00' WHERE id = '{}'",
            id(A2)
        ));
        let text = stdout_of(f.run(NOW, &["undo"]));
        assert_eq!(
            text,
            format!(
                "undid #1 (delete post {p}): 1 post, 1 attachment back as before; 1 left alone (attachment {a}: changed since)\n  left alone: attachment {a} (changed since)\n",
                p = id(P1),
                a = id(A2)
            )
        );
    }
);

on_both!(undo_never_breaks_the_invariant, |b: Backend| {
    // Undoing the delete of an attachment whose post was deleted since.
    let f = thread_forum(b);
    f.run(EARLIER, &["delete", "attachment", &id(A1)]).success();
    f.web(&format!(
        "UPDATE forum_post SET is_active = {{f}} WHERE id = '{}'",
        id(P1)
    ));
    let before = f.state();
    let out = f.json(NOW, &["undo"]);
    assert_eq!(out["left_alone"][0]["reason"], "its parent is deleted");
    assert_eq!(out["left_alone"][0]["id"], id(A1));
    assert_eq!(f.state(), before);

    // Undoing a restore after the web app added an active attachment.
    let f = thread_forum(b);
    f.run(EARLIER, &["delete", "post", &id(P1)]).success();
    f.run(NOW, &["restore", "post", &id(P1)]).success();
    f.attachment(&id(0x99), &id(P1), &img(0x99), None, false);
    let out = f.json(NOW, &["undo"]);
    assert_eq!(counts(&out), (0, 0, 2, 0));
    assert_eq!(out["left_alone"][0]["kind"], "post");
    assert_eq!(
        out["left_alone"][0]["reason"],
        "active rows below it would be left under a deleted parent"
    );
    let s = f.state();
    assert_eq!(s[&key("post", P1)], (1, None));
    assert_eq!(s[&key("attachment", A1)], (0, Some(EARLIER.into())));
    assert_eq!(s[&key("attachment", 0x99)], (1, None));
});

#[test]
fn undo_refuses_after_a_purge() {
    let f = thread_forum(Backend::Sqlite).forum;
    run_on(
        &f.db,
        "2026-09-01 00:00:00",
        &["delete", "attachment", &id(A1)],
    )
    .success();
    let purge = json_on(&f.db, NOW, &["purge"]);
    assert_eq!(purge["attachments"], 2, "A1 and the old A4");
    let before = state(&f.conn);
    let line = error_line(run_on(&f.db, NOW, &["undo"]));
    assert_eq!(
        line,
        format!("error: your latest action (#2 at {NOW}) was a purge, which cannot be undone")
    );
    assert_eq!(state(&f.conn), before);
    // The dry run says so before anything is done.
    let text = stdout_of(run_on(&f.db, NOW, &["purge", "--dry-run"]));
    assert!(
        text.ends_with("nothing was changed; a purge cannot be undone\n"),
        "{text}"
    );
}

// ------------------------------------------------------------- read-only

#[test]
fn read_only_refuses_every_mutating_command() {
    let f = thread_forum(Backend::Sqlite).forum;
    run_on(&f.db, EARLIER, &["delete", "attachment", &id(A1)]).success();
    let before = bytes(&f.db);
    for (args, what) in [
        (
            vec!["delete", "thread", "00000000000000000000000000000010"],
            "delete",
        ),
        (
            vec!["restore", "attachment", "00000000000000000000000000000030"],
            "restore",
        ),
        (vec!["undo"], "undo"),
        (vec!["purge"], "purge"),
        (vec!["purge", "--keep-files"], "purge"),
        (vec!["check", "--fix"], "check --fix"),
        (vec!["migrate"], "migrate"),
    ] {
        let mut all = vec!["--read-only"];
        all.extend(&args);
        let line = error_line(run_on(&f.db, NOW, &all));
        assert_eq!(
            line,
            format!("error: --read-only: `{what}` would change the database, so it is refused")
        );
        assert_eq!(bytes(&f.db), before, "{args:?}");
    }
    // Looking still works, and writes nothing.
    for args in [
        vec!["stats"],
        vec!["list", "attachments"],
        vec!["log"],
        vec!["check"],
        vec!["purge", "--dry-run"],
        vec!["migrate", "--dry-run"],
    ] {
        let mut all = vec!["--read-only"];
        all.extend(&args);
        run_on(&f.db, NOW, &all).success();
        assert_eq!(bytes(&f.db), before, "{args:?}");
    }
}

// ------------------------------------------------------------------ JSON

fn assert_common_fields(v: &Value, what: &str) {
    for k in [
        "action",
        "kind",
        "id",
        "threads",
        "posts",
        "attachments",
        "files",
    ] {
        assert!(v.get(k).is_some(), "{what}: no `{k}` in {v}");
    }
    for k in ["threads", "posts", "attachments", "files"] {
        assert!(v[k].is_i64(), "{what}: `{k}` is not a count in {v}");
    }
    assert!(v["action"].is_string(), "{what}");
}

#[test]
fn every_command_prints_one_json_object_with_the_common_fields() {
    let f = thread_forum(Backend::Sqlite).forum;
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["delete".into(), "post".into(), id(P1)], "delete"),
        (vec!["delete".into(), "post".into(), id(P1)], "delete"),
        (vec!["restore".into(), "post".into(), id(P1)], "restore"),
        (vec!["restore".into(), "post".into(), id(P1)], "restore"),
        (vec!["undo".into()], "undo"),
        (vec!["check".into()], "check"),
        (vec!["check".into(), "--fix".into()], "fix"),
        (vec!["purge".into(), "--dry-run".into()], "purge"),
        (vec!["purge".into()], "purge"),
        (vec!["log".into()], "log"),
    ];
    for (args, action) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let v = json_on(&f.db, NOW, &args);
        assert_common_fields(&v, &args.join(" "));
        assert_eq!(v["action"], action, "{args:?}");
        if args[0] == "purge" {
            for k in [
                "batches",
                "skipped",
                "files_missing",
                "files_refused",
                "dry_run",
            ] {
                assert!(v.get(k).is_some(), "purge: no `{k}` in {v}");
            }
            assert_eq!(v["dry_run"], args.contains(&"--dry-run"));
        }
        if action == "fix" {
            assert_eq!(counts(&v), (0, 0, 1, 0), "A5 under the deleted P3");
        }
        if args[0] == "delete" || args[0] == "restore" {
            assert_eq!(v["kind"], "post");
            assert_eq!(v["id"], id(P1));
        }
    }
    let log = json_on(&f.db, NOW, &["log"]);
    assert!(log["entries"].is_array());
}

// ------------------------------------------------------------------- log

#[test]
fn the_log_is_newest_first_with_actor_address_time_action_target_and_counts() {
    let f = thread_forum(Backend::Sqlite).forum;
    modcon(f.dir.path())
        .env("SSH_CLIENT", "10.1.2.3 52144 22")
        .args(["--actor", "alice", "--db"])
        .arg(&f.db)
        .args(["--now", EARLIER, "delete", "thread", &id(T)])
        .assert()
        .success();
    run_on(&f.db, NOW, &["restore", "thread", &id(T)]).success();
    let text = stdout_of(run_on(&f.db, NOW, &["log"]));
    assert_eq!(
        text,
        format!(
            "#2 2026-11-26 12:00:00 tester (account {a}) restore thread {t}: 1 thread, 2 posts, 3 attachments\n\
             #1 2026-11-20 08:30:00 alice (account {a}, from 10.1.2.3) delete thread {t}: 1 thread, 2 posts, 3 attachments\n",
            t = id(T),
            a = support::os_account()
        )
    );
    let log = json_on(&f.db, NOW, &["log"]);
    assert_eq!(
        (log["kind"].clone(), log["id"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(
        counts(&log),
        (2, 4, 6, 0),
        "the listed entries' counts added up"
    );
    let log = json_on(&f.db, NOW, &["log", "--limit", "1"]);
    assert_eq!(log["count"], 1);
    assert_eq!(counts(&log), (1, 2, 3, 0));
    let e = &log["entries"][0];
    assert_eq!(
        (e["id"].as_i64(), e["action"].as_str(), e["actor"].as_str()),
        (Some(2), Some("restore"), Some("tester"))
    );
    let log = json_on(&f.db, NOW, &["log"]);
    let e = &log["entries"][1];
    assert_eq!(e["client_addr"], "10.1.2.3");
    assert_eq!(e["os_account"], support::os_account());
    assert_eq!(e["reason"], Value::Null);
    assert_eq!(e["at"], EARLIER);
    assert_eq!(e["target_id"], id(T));
    assert_eq!(counts(e), (1, 2, 3, 0));
    let empty = Forum::new();
    assert_eq!(
        stdout_of(run_on(&empty.db, NOW, &["log"])),
        "the audit log is empty\n"
    );
}

#[test]
fn every_action_keeps_its_reason_and_the_account_that_ran_it() {
    let f = thread_forum(Backend::Sqlite).forum;
    let with_reason = |args: &[&str], reason: &str| {
        let mut all = args.to_vec();
        all.extend(["--reason", reason]);
        json_on(&f.db, NOW, &all)
    };
    with_reason(&["delete", "post", &id(P1)], "spam, reported twice");
    with_reason(&["restore", "post", &id(P1)], "the author appealed");
    with_reason(&["undo"], "  appeal refused  ");
    with_reason(&["check", "--fix"], "clean-up after the queue");
    run_on(
        &f.db,
        NOW,
        &[
            "purge",
            "--older-than",
            "0",
            "--keep-files",
            "--reason",
            "GDPR request",
        ],
    )
    .success();
    let log = json_on(&f.db, NOW, &["log"]);
    let reasons: Vec<(String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["os_account"], support::os_account(), "{e}");
            assert_eq!(e["actor"], "tester", "{e}");
            (
                e["action"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("purge", "GDPR request"),
        ("fix", "clean-up after the queue"),
        ("undo", "appeal refused"),
        ("restore", "the author appealed"),
        ("delete", "spam, reported twice"),
    ]
    .iter()
    .map(|(a, r)| (a.to_string(), r.to_string()))
    .collect();
    assert_eq!(reasons, expected);
    let text = stdout_of(run_on(&f.db, NOW, &["log", "--limit", "2"]));
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .ends_with("; reason: clean-up after the queue"),
        "{text}"
    );
    assert!(
        text.contains(&format!("tester (account {})", support::os_account())),
        "{text}"
    );
}

#[test]
fn the_account_comes_from_the_user_id_not_the_environment() {
    let f = thread_forum(Backend::Sqlite).forum;
    modcon(f.dir.path())
        .env("USER", "mallory")
        .env("LOGNAME", "mallory")
        .env("SUDO_USER", "mallory")
        .args(["--actor", "alice", "--db"])
        .arg(&f.db)
        .args(["--now", NOW, "delete", "post", &id(P1)])
        .assert()
        .success();
    let log = json_on(&f.db, NOW, &["log"]);
    let e = &log["entries"][0];
    assert_eq!(e["actor"], "alice");
    assert_eq!(e["os_account"], support::os_account());
    assert_ne!(e["os_account"], "mallory");
}

#[test]
fn a_blank_reason_is_a_usage_error_and_changes_nothing() {
    let f = thread_forum(Backend::Sqlite).forum;
    let before = bytes(&f.db);
    for args in [
        vec!["delete", "post", &id(P1), "--reason", "  "],
        vec!["restore", "post", &id(P3), "--reason", ""],
        vec!["undo", "--reason", ""],
        vec!["purge", "--keep-files", "--reason", " "],
        vec!["check", "--fix", "--reason", ""],
    ] {
        let line = usage_line(run_on(&f.db, NOW, &args));
        assert!(line.contains("the reason must not be empty"), "{line}");
    }
    // --reason belongs to the fix, not to a plain check.
    usage_line(run_on(&f.db, NOW, &["check", "--reason", "why"]));
    assert_eq!(bytes(&f.db), before);
}

// ------------------------------------------------------ on the demo data

fn demo_id(conn: &rusqlite::Connection, sql: &str) -> String {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn the_demos_restore_cases_behave_as_their_titles_say() {
    let d = support::demo(0, 42);
    let conn = support::open(&d.db);
    let now = support::DEMO_NOW;

    // A thread the console deleted 3 days ago, holding a post deleted 8
    // days ago: restoring the thread leaves that post (and its photo)
    // deleted.
    let thread = demo_id(
        &conn,
        "SELECT id FROM forum_thread WHERE title = 'Restore me: a thread deleted 3 days ago'",
    );
    let earlier_post = demo_id(
        &conn,
        &format!(
            "SELECT p.id FROM forum_post p JOIN modcon_change c ON c.row_id = p.id AND c.kind = 'post' \
             JOIN modcon_action a ON a.id = c.action_id AND a.kind = 'post' WHERE p.thread_id = '{thread}'"
        ),
    );
    let before = state(&conn);
    let out = json_on(&d.db, now, &["restore", "thread", &thread]);
    assert_eq!(counts(&out), (1, 3, 3, 0));
    assert_eq!(out["stay_deleted"]["posts"], 1);
    let after = state(&conn);
    assert_eq!(after[&("post".to_string(), earlier_post.clone())].0, 0);
    let changed_rows = changed(&before, &after);
    assert_eq!(changed_rows.len(), 7);
    assert!(!changed_rows.iter().any(|(_, i)| *i == earlier_post));

    // A post the web app deleted 10 days ago, one of its photos deleted on
    // its own 40 days ago: only the photos of the later delete come back.
    let post = demo_id(
        &conn,
        "SELECT id FROM forum_post WHERE content_raw = 'My answer, with three photos.'",
    );
    let early: String = demo_id(
        &conn,
        &format!(
            "SELECT id FROM forum_attachment WHERE post_id = '{post}' ORDER BY deleted_at LIMIT 1"
        ),
    );
    let before = state(&conn);
    let out = json_on(&d.db, now, &["restore", "post", &post]);
    assert_eq!(counts(&out), (0, 1, 2, 0));
    assert_eq!(out["stay_deleted"]["attachments"], 1);
    let after = state(&conn);
    assert_eq!(changed(&before, &after).len(), 3);
    assert_eq!(
        after[&("attachment".to_string(), early.clone())],
        before[&("attachment".to_string(), early)]
    );
}

#[test]
fn delete_and_restore_round_trip_on_every_level_of_a_demo_thread() {
    let d = support::demo(6, 9);
    let conn = support::open(&d.db);
    let now = support::DEMO_NOW;
    // The active thread with the most active attachments.
    let thread = demo_id(
        &conn,
        "SELECT t.id FROM forum_thread t JOIN forum_post p ON p.thread_id = t.id \
         JOIN forum_attachment a ON a.post_id = p.id \
         WHERE t.is_active = 1 AND p.is_active = 1 AND a.is_active = 1 \
         GROUP BY t.id ORDER BY count(*) DESC, t.id LIMIT 1",
    );
    let post = demo_id(
        &conn,
        &format!(
            "SELECT p.id FROM forum_post p JOIN forum_attachment a ON a.post_id = p.id \
             WHERE p.thread_id = '{thread}' AND p.is_active = 1 AND a.is_active = 1 \
             GROUP BY p.id ORDER BY count(*) DESC, p.id LIMIT 1"
        ),
    );
    let attachment = demo_id(
        &conn,
        &format!(
            "SELECT id FROM forum_attachment WHERE post_id = '{post}' AND is_active = 1 ORDER BY id LIMIT 1"
        ),
    );
    let start = state(&conn);
    for (kind, row) in [
        ("attachment", &attachment),
        ("post", &post),
        ("thread", &thread),
    ] {
        run_on(&d.db, now, &["delete", kind, row]).success();
        assert_ne!(state(&conn), start);
    }
    // Nested deletes come back one level at a time, each to its own state.
    let out = json_on(&d.db, now, &["restore", "thread", &thread]);
    assert!(out["stay_deleted"]["posts"].as_i64().unwrap() >= 1);
    json_on(&d.db, now, &["restore", "post", &post]);
    json_on(&d.db, now, &["restore", "attachment", &attachment]);
    assert_eq!(state(&conn), start);
    // And undo walks them back the other way.
    for _ in 0..3 {
        run_on(&d.db, now, &["undo"]).success();
    }
    let after_undos = state(&conn);
    assert_eq!(after_undos[&("thread".to_string(), thread.clone())].0, 0);
    for _ in 0..3 {
        run_on(&d.db, now, &["undo"]).success();
    }
    assert_eq!(state(&conn), start);
}
