//! Ids as a moderator types them (issue 2 item 6: 32 hex digits, a dashed
//! UUID, or a unique prefix of 4 or more) and datetimes (Django's text
//! `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC): every form the console reads, and
//! every datetime it writes re-read and compared with Django's text form.

use crate::support;

use rusqlite::Connection;
use support::{Forum, hex_id, json_on, modcon, run_on};
use support::{error_line, is_django_datetime, state_of, stdout_of, usage_line};

const NOW: &str = "2026-11-26 12:00:00";

fn forum_with_threads(ids: &[&str]) -> Forum {
    let forum = Forum::new();
    for id in ids {
        forum.thread(id, true);
    }
    forum
}

// ------------------------------------------------------------------ ids

#[test]
fn a_row_is_named_by_its_hex_id_its_dashed_uuid_or_a_unique_prefix() {
    let a = "abcd0000000000000000000000000001";
    let b = "abcd0000000000000000000000000002";
    let c = "abce0000000000000000000000000003";
    let d = "5d4f91872e1c4ab9912e3ba58775da8b";
    let forum = forum_with_threads(&[a, b, c, d]);

    let out = json_on(&forum.db, NOW, &["delete", "thread", a]);
    assert_eq!(
        (out["kind"].as_str(), out["id"].as_str()),
        (Some("thread"), Some(a))
    );
    let out = json_on(
        &forum.db,
        NOW,
        &["delete", "thread", "ABCD0000-0000-0000-0000-000000000002"],
    );
    assert_eq!(out["id"], b);
    let out = json_on(&forum.db, NOW, &["delete", "thread", "ABCE"]);
    assert_eq!(out["id"], c);
    let out = json_on(&forum.db, NOW, &["delete", "thread", "5d4f9187-2e1c"]);
    assert_eq!(out["id"], d);
    for id in [a, b, c, d] {
        assert_eq!(forum.active("forum_thread", id), Some(false), "{id}");
    }
    // Restore by prefix, too.
    let out = json_on(&forum.db, NOW, &["restore", "thread", "5d4f"]);
    assert_eq!(out["id"], d);
    assert_eq!(forum.active("forum_thread", d), Some(true));
}

#[test]
fn an_ambiguous_prefix_is_an_error_listing_the_candidates() {
    let a = "abcd0000000000000000000000000001";
    let b = "abcd0000000000000000000000000002";
    let forum = forum_with_threads(&[a, b]);
    let before = state_of(&forum.db);
    let line = error_line(run_on(&forum.db, NOW, &["delete", "thread", "abcd"]));
    assert_eq!(
        line,
        format!("error: ambiguous id prefix abcd: it matches 2 threads: {a}, {b}")
    );
    let line = error_line(run_on(
        &forum.db,
        NOW,
        &["list", "posts", "--thread", "ABCD0000"],
    ));
    assert_eq!(
        line,
        format!("error: ambiguous id prefix abcd0000: it matches 2 threads: {a}, {b}")
    );
    assert_eq!(state_of(&forum.db), before);
}

#[test]
fn an_ambiguous_prefix_with_many_candidates_lists_ten_and_says_there_are_more() {
    let ids: Vec<String> = (1..=12).map(|n| format!("beef{n:028x}")).collect();
    let forum = forum_with_threads(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    let line = error_line(run_on(&forum.db, NOW, &["restore", "thread", "beef"]));
    assert_eq!(
        line,
        format!(
            "error: ambiguous id prefix beef: it matches more than 10 threads: {}, …",
            ids[..10].join(", ")
        )
    );
}

#[test]
fn bad_and_unknown_ids_are_errors_that_say_what_is_wrong() {
    let forum = forum_with_threads(&["abcd0000000000000000000000000001"]);
    forum.post(
        "abcd0000000000000000000000000002",
        "abcd0000000000000000000000000001",
        true,
    );
    let before = state_of(&forum.db);
    let cases = [
        (
            "abc",
            "error: id prefix \"abc\" is too short: give at least 4 hex digits",
        ),
        (
            "xyz12",
            "error: invalid id \"xyz12\": expected 32 hex digits, a dashed UUID, or a prefix of at least 4 hex digits",
        ),
        (
            "abcd00000000000000000000000000011",
            "error: invalid id \"abcd00000000000000000000000000011\": longer than 32 hex digits",
        ),
        (
            "ffffffffffffffffffffffffffffffff",
            "error: no thread with id ffffffffffffffffffffffffffffffff",
        ),
        ("ffff", "error: no thread with an id starting ffff"),
        // A post's id is not a thread's.
        (
            "abcd0000000000000000000000000002",
            "error: no thread with id abcd0000000000000000000000000002",
        ),
        (
            "ab-cd",
            "error: invalid id \"ab-cd\": expected 32 hex digits, a dashed UUID, or a prefix of at least 4 hex digits",
        ),
    ];
    for (id, expect) in cases {
        let line = error_line(run_on(&forum.db, NOW, &["delete", "thread", id]));
        assert_eq!(line, expect, "{id}");
    }
    // The kind decides the table: the same full id is found as a post.
    let out = json_on(
        &forum.db,
        NOW,
        &["delete", "post", "abcd0000-0000-0000-0000-000000000002"],
    );
    assert_eq!(out["posts"], 1);
    assert_ne!(state_of(&forum.db), before);
}

#[test]
fn list_filters_take_ids_in_every_form() {
    let forum = forum_with_threads(&[
        "abcd0000000000000000000000000001",
        "beef0000000000000000000000000001",
    ]);
    forum.post(
        "c0de0000000000000000000000000001",
        "abcd0000000000000000000000000001",
        true,
    );
    forum.post(
        "c0de0000000000000000000000000002",
        "beef0000000000000000000000000001",
        true,
    );
    forum.attachment(
        "a0000000000000000000000000000001",
        "c0de0000000000000000000000000001",
        "forum/attachments/x.png",
        None,
        false,
    );
    let out = json_on(&forum.db, NOW, &["list", "posts", "--thread", "ABCD"]);
    let ids: Vec<&str> = out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c0de0000000000000000000000000001"]);
    let attachments_of =
        |post: &str| json_on(&forum.db, NOW, &["list", "attachments", "--post", post]);
    // A dashed id is the same post.
    let out = attachments_of("c0de0000-0000-0000-0000-000000000001");
    assert_eq!(out["count"], 1);
    let out = attachments_of("c0de0000000000000000000000000002");
    assert_eq!(out["count"], 0);
}

// ----------------------------------------------------------- reading times

/// Attachments deleted at `deleted_at` (stored as given) on one post.
fn forum_with_deletion_times(times: &[(&str, Option<&str>)]) -> Forum {
    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    forum.post(&hex_id(2), &hex_id(1), true);
    for (id, at) in times {
        forum.attachment(
            id,
            &hex_id(2),
            &format!("forum/attachments/{id}.png"),
            None,
            true,
        );
        forum
            .conn
            .execute(
                "UPDATE forum_attachment SET is_active = 0, deleted_at = ?2 WHERE id = ?1",
                (id, at),
            )
            .unwrap();
    }
    forum
}

#[test]
fn every_datetime_form_is_read_and_compared_in_utc() {
    // now 2026-11-26 12:00:00, retention 30 days: cut-off 2026-10-27 12:00:00.
    let cases: [(&str, Option<&str>, Option<bool>); 10] = [
        (
            "a1000000000000000000000000000000",
            Some("2026-10-27 12:00:00"),
            Some(true),
        ),
        (
            "a2000000000000000000000000000000",
            Some("2026-10-27 12:00:00.000001"),
            Some(false),
        ),
        (
            "a3000000000000000000000000000000",
            Some("2026-10-27T11:59:59.999999Z"),
            Some(true),
        ),
        // 11:30 UTC: past the cut-off, though the text sorts after it.
        (
            "a4000000000000000000000000000000",
            Some("2026-10-27T13:30:00+02:00"),
            Some(true),
        ),
        // 12:30 UTC: within retention, though the text sorts before it.
        (
            "a5000000000000000000000000000000",
            Some("2026-10-27 07:30:00-05:00"),
            Some(false),
        ),
        (
            "a6000000000000000000000000000000",
            Some("2026-10-27T12:00:00+00:00"),
            Some(true),
        ),
        (
            "a7000000000000000000000000000000",
            Some("2026-10-27 12:00:01"),
            Some(false),
        ),
        (
            "a8000000000000000000000000000000",
            Some("2026-10-12 05:48:49.361151"),
            Some(true),
        ),
        // Unknown: never purgeable.
        ("a9000000000000000000000000000000", None, None),
        ("aa000000000000000000000000000000", Some("yesterday"), None),
    ];
    let forum = forum_with_deletion_times(
        &cases
            .iter()
            .map(|(id, at, _)| (*id, *at))
            .collect::<Vec<_>>(),
    );
    let list = json_on(
        &forum.db,
        NOW,
        &["list", "attachments", "--state", "deleted"],
    );
    let rows = list["rows"].as_array().unwrap();
    assert_eq!(rows.len(), cases.len());
    for (id, _, purgeable) in &cases {
        let row = rows.iter().find(|r| r["id"] == *id).unwrap();
        assert_eq!(row["purgeable"], purgeable.unwrap_or(false), "{id}: {row}");
        let known = if purgeable.is_some() {
            "exact"
        } else {
            "unknown"
        };
        assert_eq!(row["deletion_time"], known, "{id}");
    }
    let a4 = rows.iter().find(|r| r["id"] == cases[3].0).unwrap();
    assert_eq!(a4["deleted_at"], "2026-10-27 11:30:00");

    let stats = json_on(&forum.db, NOW, &["stats"]);
    assert_eq!(stats["attachments"]["purgeable"], 5);
    assert_eq!(stats["attachments"]["unknown_deletion_time"], 2);

    let purge = json_on(&forum.db, NOW, &["purge"]);
    assert_eq!(purge["attachments"], 5);
    let left: Vec<String> =
        support::column(&forum.conn, "SELECT id FROM forum_attachment ORDER BY id");
    let expect: Vec<&str> = cases
        .iter()
        .filter(|c| c.2 != Some(true))
        .map(|c| c.0)
        .collect();
    assert_eq!(left, expect);
    // The unknown ones keep their stored text untouched.
    let kept: Option<String> = forum
        .conn
        .query_row(
            "SELECT deleted_at FROM forum_attachment WHERE id = ?1",
            [cases[9].0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept.as_deref(), Some("yesterday"));
}

#[test]
fn now_is_read_in_every_form_and_bad_times_are_refused() {
    for (given, stored) in [
        ("2026-11-26 12:00:00", "2026-11-26 12:00:00"),
        ("2026-11-26 12:00:00.000000", "2026-11-26 12:00:00"),
        ("2026-11-26T12:00:00.5Z", "2026-11-26 12:00:00.500000"),
        (
            "2026-11-26T14:00:00.000001+02:00",
            "2026-11-26 12:00:00.000001",
        ),
        (
            "2026-11-26 12:00:00.123456789",
            "2026-11-26 12:00:00.123456",
        ),
    ] {
        let forum = forum_with_threads(&[&hex_id(1)]);
        forum.post(&hex_id(2), &hex_id(1), true);
        forum.attachment(
            &hex_id(3),
            &hex_id(2),
            "forum/attachments/x.png",
            None,
            false,
        );
        run_on(&forum.db, given, &["delete", "post", &hex_id(2)]).success();
        let at: String = forum
            .conn
            .query_row(
                "SELECT deleted_at FROM forum_attachment WHERE id = ?1",
                [hex_id(3)],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(at, stored, "--now {given}");
        let at: String = forum
            .conn
            .query_row("SELECT at FROM modcon_action", [], |r| r.get(0))
            .unwrap();
        assert_eq!(at, stored, "--now {given}");
    }
    let forum = forum_with_threads(&[&hex_id(1)]);
    let before = state_of(&forum.db);
    for bad in ["yesterday", "2026-11-26", "2026-13-01 00:00:00"] {
        let line = usage_line(run_on(&forum.db, bad, &["delete", "thread", &hex_id(1)]));
        assert_eq!(
            line,
            format!(
                "error: invalid value '{bad}' for '--now <TIME>': invalid time {bad:?}: expected YYYY-MM-DD HH:MM:SS[.ffffff] in UTC; see --help"
            )
        );
    }
    assert_eq!(state_of(&forum.db), before);
}

// ----------------------------------------------------------- writing times

/// Every datetime column of the console's tables and every `deleted_at`
/// of the forum, as stored.
fn written_datetimes(conn: &Connection) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (what, sql) in [
        ("modcon_action.at", "SELECT at FROM modcon_action"),
        (
            "modcon_change.before_deleted_at",
            "SELECT before_deleted_at FROM modcon_change WHERE before_deleted_at IS NOT NULL",
        ),
        (
            "modcon_change.after_deleted_at",
            "SELECT after_deleted_at FROM modcon_change WHERE after_deleted_at IS NOT NULL",
        ),
        (
            "modcon_deletion.deleted_at",
            "SELECT deleted_at FROM modcon_deletion",
        ),
        (
            "modcon_deletion.row_updated_at",
            "SELECT row_updated_at FROM modcon_deletion",
        ),
        (
            "modcon_file_journal.queued_at",
            "SELECT queued_at FROM modcon_file_journal",
        ),
        (
            "modcon_migrations.applied_at",
            "SELECT applied_at FROM modcon_migrations",
        ),
        (
            "forum_attachment.deleted_at",
            "SELECT deleted_at FROM forum_attachment WHERE deleted_at IS NOT NULL",
        ),
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        for v in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
            out.push((what.to_string(), v.unwrap()));
        }
    }
    out
}

#[test]
fn every_datetime_the_console_writes_is_in_djangos_form() {
    let forum = Forum::new();
    let (t, p1, p2) = (hex_id(1), hex_id(2), hex_id(3));
    forum.thread(&t, true);
    forum.post(&p1, &t, true);
    forum.post(&p2, &t, true);
    for (n, post) in [(10, &p1), (11, &p1), (12, &p2)] {
        forum.attachment(
            &hex_id(n),
            post,
            &format!("forum/attachments/{n}.png"),
            None,
            true,
        );
    }
    // A post the web app deleted, found by check.
    forum.post(&hex_id(4), &t, false);

    let early = "2026-09-01 08:00:00.250000";
    let whole = "2026-09-02 09:00:00";
    run_on(&forum.db, early, &["delete", "attachment", &hex_id(12)]).success();
    run_on(&forum.db, whole, &["delete", "thread", &t]).success();
    run_on(&forum.db, "2026-09-03 10:00:00.000001", &["check"]).success();
    run_on(&forum.db, "2026-09-04 11:00:00", &["restore", "thread", &t]).success();
    run_on(&forum.db, "2026-09-05 12:00:00.999999", &["undo"]).success();
    // The one timestamp of the thread delete, on every row it changed.
    let deletion: Vec<(String, String, String)> = forum
        .conn
        .prepare("SELECT kind, row_id, deleted_at FROM modcon_deletion ORDER BY kind, row_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // After the undo of the restore: the thread and posts deleted again at
    // the delete's time; the web app's post first seen by check.
    assert!(
        deletion.contains(&(
            "post".into(),
            hex_id(4),
            "2026-09-03 10:00:00.000001".into()
        )),
        "{deletion:?}"
    );
    assert!(
        deletion.contains(&("post".into(), p2.clone(), whole.into())),
        "{deletion:?}"
    );
    assert!(
        deletion.contains(&("thread".into(), t.clone(), whole.into())),
        "{deletion:?}"
    );
    let mut written = written_datetimes(&forum.conn);
    // A purge stopped after its first commit leaves journalled files.
    support::modcon(forum.dir.path())
        .env("MODCON_FAILPOINT", "purge-after-commit:exit")
        .args(["--db"])
        .arg(&forum.db)
        .args([
            "--now",
            "2026-11-26 12:00:00.5",
            "purge",
            "--batch-size",
            "1",
        ])
        .assert()
        .code(3);

    written.extend(written_datetimes(&forum.conn));
    for what in [
        "modcon_action.at",
        "modcon_change.after_deleted_at",
        "modcon_deletion.deleted_at",
        "modcon_file_journal.queued_at",
        "modcon_migrations.applied_at",
        "forum_attachment.deleted_at",
    ] {
        assert!(
            written.iter().any(|(w, _)| w == what),
            "nothing written to {what}: {written:?}"
        );
    }
    for (what, value) in &written {
        assert!(
            is_django_datetime(value),
            "{what} = {value:?} is not Django's form"
        );
    }
    let actions: Vec<String> =
        support::column(&forum.conn, "SELECT at FROM modcon_action ORDER BY id");
    assert_eq!(
        actions,
        [
            early,
            whole,
            "2026-09-04 11:00:00",
            "2026-09-05 12:00:00.999999",
            "2026-11-26 12:00:00.500000"
        ]
    );
}

#[test]
fn undo_puts_back_the_stored_deletion_time_exactly() {
    let odd = "2026-10-27T13:30:00+02:00";
    let forum = forum_with_deletion_times(&[("a4000000000000000000000000000000", Some(odd))]);
    run_on(&forum.db, NOW, &["restore", "attachment", "a400"]).success();
    let read = |f: &Forum| -> (i64, Option<String>) {
        f.conn
            .query_row(
                "SELECT is_active, deleted_at FROM forum_attachment WHERE id = 'a4000000000000000000000000000000'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    assert_eq!(read(&forum), (1, None));
    run_on(&forum.db, NOW, &["undo"]).success();
    assert_eq!(read(&forum), (0, Some(odd.to_string())));
}

#[test]
fn booleans_stay_integers_the_web_app_can_load() {
    let forum = Forum::new();
    forum.one_of_each("forum/attachments/x.png", None, false);
    run_on(&forum.db, NOW, &["delete", "thread", &hex_id(1)]).success();
    let types = |f: &Forum| -> Vec<String> {
        support::column(
            &f.conn,
            "SELECT typeof(is_active) || is_active FROM forum_thread UNION ALL \
             SELECT typeof(is_active) || is_active FROM forum_post UNION ALL \
             SELECT typeof(is_active) || is_active FROM forum_attachment",
        )
    };
    assert_eq!(types(&forum), ["integer0", "integer0", "integer0"]);
    run_on(&forum.db, NOW, &["restore", "thread", &hex_id(1)]).success();
    assert_eq!(types(&forum), ["integer1", "integer1", "integer1"]);
    let text = stdout_of(run_on(&forum.db, NOW, &["log"]));
    assert!(text.contains("restore thread"), "{text}");
}

#[test]
fn hostile_text_in_an_error_stays_one_harmless_line() {
    let forum = forum_with_threads(&[&hex_id(1)]);
    let line = error_line(run_on(
        &forum.db,
        NOW,
        &["delete", "thread", "\u{1b}[2J\u{1b}]0;owned\u{7}ab\ncd"],
    ));
    assert!(line.starts_with("error: invalid id "), "{line}");
    assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
    // A database path with a newline in its name.
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("two\nlines\u{1b}[31m.sqlite3");
    let line = error_line(run_on(&odd, NOW, &["stats"]));
    assert!(line.ends_with(": database not found"), "{line:?}");
    assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
}

#[test]
fn usage_errors_exit_with_status_2() {
    let forum = forum_with_threads(&[&hex_id(1)]);
    for args in [
        &["delete", "threads", "abcd"][..],
        &["delete", "thread"],
        &["restore"],
        &["frobnicate"],
        &["purge", "--older-than", "many"],
        &["list", "users"],
        &["log", "--limit", "-1"],
    ] {
        let out = run_on(&forum.db, NOW, args).get_output().clone();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    assert_eq!(forum.active("forum_thread", &hex_id(1)), Some(true));
    // Values out of range are usage errors too: one `error:` line, exit 2.
    for (args, expect) in [
        (
            &["purge", "--older-than=-1"][..],
            "error: invalid value '-1' for '--older-than <DAYS>': the retention must be a whole number of days, 0 or more; see --help",
        ),
        (
            &["purge", "--older-than", "-1"],
            "error: invalid value '-1' for '--older-than <DAYS>': the retention must be a whole number of days, 0 or more; see --help",
        ),
        (
            &["purge", "--batch-size", "0"],
            "error: invalid value '0' for '--batch-size <N>': the batch size must be a number from 1 to 10000; see --help",
        ),
        (
            &["purge", "--batch-size", "18446744073709551615"],
            "error: invalid value '18446744073709551615' for '--batch-size <N>': the batch size must be a number from 1 to 10000; see --help",
        ),
        (
            &["log", "--limit", "0"],
            "error: invalid value '0' for '--limit <LIMIT>': the limit must be a number of 1 or more; see --help",
        ),
        (
            &["list", "threads", "--limit", "0"],
            "error: invalid value '0' for '--limit <LIMIT>': the limit must be a number of 1 or more; see --help",
        ),
    ] {
        let out = run_on(&forum.db, NOW, args).get_output().clone();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), format!("{expect}\n"));
        assert!(out.stdout.is_empty());
    }
    // --now is read with the arguments: garbage is a usage error.
    let out = modcon(forum.dir.path())
        .arg("--db")
        .arg(&forum.db)
        .args(["--now", "garbage", "stats"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: invalid value 'garbage' for '--now <TIME>': invalid time \"garbage\": expected YYYY-MM-DD HH:MM:SS[.ffffff] in UTC; see --help\n"
    );
}
