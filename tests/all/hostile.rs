//! Hostile data: paths that try to leave the media root, text made to
//! attack a terminal, and datetimes in every odd form. Paths are never
//! touched and are reported; text reaches the terminal harmless while JSON
//! keeps it exact; odd datetimes are unknown, never expired.

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use support::{Forum, hex_id};
use support::{Run, arg, assert_sound, bin, run, snapshot};

const NOW: &str = "2026-11-26 12:00:00";
const OLD: &str = "2026-10-12 12:00:00";

fn modcon(forum: &Forum, args: &[&str]) -> Run {
    let mut cmd = bin(forum.dir.path());
    cmd.arg("--db")
        .arg(&forum.db)
        .arg("--media-root")
        .arg(&forum.media)
        .args(["--now", NOW])
        .args(args);
    run(cmd)
}

fn ok(forum: &Forum, args: &[&str]) -> Run {
    let r = modcon(forum, args);
    assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
    r
}

/// No terminal control gets through: no C0 (newline aside), DEL or C1
/// character, so no ESC; and no bidi override or isolate.
fn assert_harmless(text: &str, what: &str) {
    for (i, c) in text.char_indices() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\n') || bidi {
            let start = text[..i].char_indices().rev().nth(40).map_or(0, |(j, _)| j);
            panic!(
                "{what}: {c:?} reaches the terminal at byte {i}, after {:?}",
                &text[start..i]
            );
        }
    }
}

// ------------------------------------------------------------------ paths

#[test]
fn paths_leaving_the_media_root_are_never_touched_and_are_reported() {
    let forum = Forum::new();
    let root = forum.dir.path();
    for rel in [
        "outside/x.png",
        "outside/y.png",
        "outside/secret.txt",
        "media-evil/z.png",
    ] {
        fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        fs::write(root.join(rel), b"not yours").unwrap();
    }
    // A folder symlink and a file symlink inside the media root, both
    // leading out of it.
    std::os::unix::fs::symlink(
        "../../../outside",
        forum.media.join("forum/attachments/link"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        root.join("outside/y.png"),
        forum.media.join("forum/attachments/ln.png"),
    )
    .unwrap();
    // A thumbnail folder that is a symlink out of the root.
    fs::create_dir_all(forum.media.join("CACHE/images/forum/attachments")).unwrap();
    std::os::unix::fs::symlink(
        "../../../../../outside",
        forum.media.join("CACHE/images/forum/attachments/t"),
    )
    .unwrap();
    let absolute = arg(&root.join("outside/secret.txt"));
    let hostile = [
        "../../x",
        "../outside/x.png",
        "forum/../../outside/x.png",
        absolute.as_str(),
        "forum/attachments/link/x.png",
        "forum/attachments/ln.png",
        "../media-evil/z.png",
        "./../media-evil/z.png",
    ];
    forum.thread(&hex_id(1), true);
    forum.post(&hex_id(2), &hex_id(1), true);
    for (n, image) in hostile.iter().enumerate() {
        forum.attachment(&hex_id(100 + n as u32), &hex_id(2), image, Some(OLD), false);
    }
    // An ordinary expired attachment whose thumbnail folder name is the
    // symlinked one: its own file goes, the folder outside stays.
    forum.attachment(
        &hex_id(200),
        &hex_id(2),
        "forum/attachments/t.png",
        Some(OLD),
        false,
    );
    forum.file("forum/attachments/t.png");
    fs::write(root.join("outside/thumb.jpg"), b"not yours").unwrap();
    let before = snapshot(root);

    let check = ok(&forum, &["check", "--json"]).json();
    let reported: BTreeSet<(String, String)> = check["report"]["unsafe_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(!p["reason"].as_str().unwrap().is_empty(), "{p}");
            (
                p["attachment_id"].as_str().unwrap().to_string(),
                p["image"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = hostile
        .iter()
        .enumerate()
        .map(|(n, image)| (hex_id(100 + n as u32), image.to_string()))
        .collect();
    assert_eq!(reported, want, "check reports every escaping path");
    let human = ok(&forum, &["check"]);
    assert!(
        human
            .stdout
            .contains("attachment paths outside the media root (never touched) (8):")
    );
    for image in &hostile {
        assert!(
            human.stdout.contains(&format!("{image:?}")),
            "{image} in {}",
            human.stdout
        );
    }
    let after_check: Vec<_> = snapshot(root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("forum.sqlite3"))
        .collect();
    let before_files: Vec<_> = before
        .iter()
        .filter(|(k, _)| !k.starts_with("forum.sqlite3"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(after_check, before_files, "check touched no file");

    let purge = ok(&forum, &["purge", "--json"]).json();
    assert_eq!(purge["attachments"], 9);
    assert_eq!(purge["files"], 1);
    // The eight images, and the thumbnail folder that is a symlink out.
    assert_eq!(purge["files_refused"], 9, "{purge}");
    let refused: BTreeSet<String> = purge["refused_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["image"].as_str().unwrap().to_string())
        .collect();
    let mut want: BTreeSet<String> = hostile.iter().map(|s| s.to_string()).collect();
    want.insert("CACHE/images/forum/attachments/t".into());
    assert_eq!(refused, want);
    // Exactly one file is gone: the ordinary one. Outside files, the
    // symlinks and what they point at are all as they were.
    let mut expected = before_files.clone();
    expected.retain(|(k, _)| k != "media/forum/attachments/t.png");
    let after: Vec<_> = snapshot(root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("forum.sqlite3"))
        .collect();
    assert_eq!(after, expected);
    assert!(fs::symlink_metadata(forum.media.join("CACHE/images/forum/attachments/t")).is_ok());
    assert_sound(&forum.conn);
}

#[test]
fn purge_reports_refused_paths_in_its_human_output() {
    let forum = Forum::new();
    forum.one_of_each("../media-evil/z.png", Some(OLD), false);
    forum.attachment(&hex_id(4), &hex_id(2), "/etc/passwd", Some(OLD), false);
    let r = ok(&forum, &["purge"]);
    assert!(r.stdout.contains("refused: 2"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("refused path \"../media-evil/z.png\": '..' would leave the media root")
    );
    assert!(
        r.stdout
            .contains("refused path \"/etc/passwd\": absolute path, outside the media root")
    );
    assert!(Path::new("/etc/passwd").exists());
}

// ------------------------------------------------------------------- text

/// Text made to attack a terminal: CSI and OSC sequences, a bell, NUL,
/// a C1 CSI, DEL, a carriage return and bidi overrides.
const ATTACK: &str = "\u{1b}[2J\u{1b}[31mred\u{1b}]0;pwned\u{7}\u{0}nul\u{9b}1m\u{7f}\r\u{202e}gnp.exe\u{2066}x\u{2069}";

struct Hostile {
    forum: Forum,
    title: String,
    big_title: String,
    post: String,
    /// A thread whose id itself carries an escape sequence.
    odd_id: String,
}

fn hostile_forum() -> Hostile {
    let forum = Forum::new();
    let title = format!("Tit{ATTACK}le");
    let big_title = format!("{}{ATTACK}", "Ω".repeat(1 << 19));
    // A megabyte of post text, escape sequences all the way through.
    let mut post = String::new();
    while post.len() < 1 << 20 {
        post.push_str("line of text ");
        post.push_str(&ATTACK.replace('\u{0}', ""));
        post.push('\n');
    }
    let odd_id = format!("ffff\u{1b}[2J{}", "0".repeat(24));
    forum
        .conn
        .execute_batch(&format!(
            "UPDATE users_user SET username = 'mo{}' WHERE id = 1;
             UPDATE forum_category SET name = 'Cat{}';",
            "\u{1b}[5m", "\u{1b}]8;;http://x\u{7}"
        ))
        .unwrap();
    for (id, t) in [(hex_id(1), &title), (hex_id(2), &big_title)] {
        forum.thread(&id, true);
        forum
            .conn
            .execute("UPDATE forum_thread SET title = ?2 WHERE id = ?1", (&id, t))
            .unwrap();
    }
    forum.post(&hex_id(3), &hex_id(1), true);
    forum
        .conn
        .execute(
            "UPDATE forum_post SET content_raw = ?2 WHERE id = ?1",
            (hex_id(3), &post),
        )
        .unwrap();
    let image = format!("forum/attachments/{ATTACK}.png").replace('\u{0}', "");
    forum.attachment(&hex_id(4), &hex_id(3), &image, None, false);
    forum
        .conn
        .execute(
            "UPDATE forum_attachment SET original_filename = ?2, alt_text = ?2 WHERE id = ?1",
            (hex_id(4), format!("{ATTACK}.png")),
        )
        .unwrap();
    // Deleted 45 days ago by the console, so purge samples show them.
    forum.thread(&odd_id, true);
    forum.post(&hex_id(5), &hex_id(1), true);
    forum
        .conn
        .execute(
            "UPDATE forum_post SET content_raw = ?1 WHERE id = ?2",
            (&title, hex_id(5)),
        )
        .unwrap();
    forum.attachment(&hex_id(6), &hex_id(5), &image, Some(OLD), false);
    ok(&forum, &["check"]);
    forum
        .conn
        .execute_batch(&format!(
            "UPDATE forum_thread SET is_active = 0 WHERE id = '{odd}';
             UPDATE forum_post SET is_active = 0 WHERE id = '{p}';
             UPDATE forum_attachment SET is_active = 0, deleted_at = '{OLD}' WHERE post_id = '{p}';
             INSERT OR REPLACE INTO modcon_deletion (kind, row_id, deleted_at, source, row_updated_at)
               SELECT 'thread', id, '{OLD}', 'console', updated_at FROM forum_thread WHERE id = '{odd}';
             INSERT OR REPLACE INTO modcon_deletion (kind, row_id, deleted_at, source, row_updated_at)
               SELECT 'post', id, '{OLD}', 'console', updated_at FROM forum_post WHERE id = '{p}';",
            odd = odd_id.replace('\'', "''"),
            p = hex_id(5),
        ))
        .unwrap();
    Hostile {
        forum,
        title,
        big_title,
        post,
        odd_id,
    }
}

#[test]
fn hostile_text_reaches_the_terminal_harmless() {
    let h = hostile_forum();
    let f = &h.forum;
    // Arguments cannot carry NUL; everything else they can.
    let evil_actor = format!("eve{}", ATTACK.replace('\u{0}', ""));
    let thread = hex_id(1);
    for args in [
        &["stats"][..],
        &["list", "threads"],
        &["list", "threads", "--state", "deleted"],
        &["list", "posts"],
        &["list", "posts", "--thread", &thread],
        &["list", "attachments"],
        &["check"],
        &["purge", "--dry-run"],
        &["log"],
    ] {
        let r = ok(f, args);
        assert_harmless(&r.stdout, &format!("{args:?} stdout"));
        assert_harmless(&r.stderr, &format!("{args:?} stderr"));
    }
    // The escapes are shown, not dropped: a moderator sees what is there.
    let threads = ok(f, &["list", "threads"]).stdout;
    assert!(
        threads.contains(
            "Tit\\x1b[2J\\x1b[31mred\\x1b]0;pwned\\x07\\x00nul\\x9b1m\\x7f\\x0d<U+202E>gnp.exe"
        ),
        "{threads}"
    );
    assert!(threads.contains("ffff\\x1b[2J"), "{threads}");
    assert!(
        threads.lines().all(|l| l.chars().count() < 400),
        "long titles are cut"
    );
    let attachments = ok(f, &["list", "attachments"]).stdout;
    assert!(attachments.contains("\\x1b[2J"), "{attachments}");
    let plan = ok(f, &["purge", "--dry-run"]).stdout;
    assert!(plan.contains("thread     ffff\\x1b[2J0000"), "{plan}");
    // Moderation messages and the audit log, with a hostile actor too.
    let prefix = "ffff";
    for verb in ["restore", "delete", "restore"] {
        let r = ok(f, &["--actor", &evil_actor, verb, "thread", prefix]);
        assert_harmless(&r.stdout, verb);
        assert!(r.stdout.contains("ffff\\x1b[2J"), "{}", r.stdout);
    }
    let log = ok(f, &["log"]);
    assert_harmless(&log.stdout, "log");
    assert!(log.stdout.contains("eve\\x1b[2J"), "{}", log.stdout);
    // Errors that carry data are one harmless line.
    for args in [
        &["delete", "thread", "fff"][..],
        &["delete", "thread", "\u{1b}[2Jabcd"],
        &["list", "posts", "--thread", "eeee"],
    ] {
        let r = modcon(f, args);
        support::assert_error(&r, "");
        assert_harmless(&r.stderr, &format!("{args:?}"));
    }
    let r = run({
        let mut c = bin(f.dir.path());
        let name = format!("no{}such.sqlite3", ATTACK.replace('\u{0}', ""));
        c.arg("--db").arg(f.dir.path().join(name)).arg("stats");
        c
    });
    support::assert_error(&r, "database not found");
    assert_harmless(&r.stderr, "missing database");
}

#[test]
fn json_keeps_hostile_text_exact() {
    let h = hostile_forum();
    let f = &h.forum;
    let threads = ok(f, &["list", "threads", "--json"]).json();
    let rows = threads["rows"].as_array().unwrap();
    let by_id = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert_eq!(by_id(&hex_id(1))["label"], h.title.as_str());
    assert_eq!(by_id(&hex_id(2))["label"], h.big_title.as_str());
    assert_eq!(by_id(&h.odd_id)["label"], format!("Thread {}", h.odd_id));
    assert_eq!(by_id(&hex_id(1))["author"], "mo\u{1b}[5m");
    assert_eq!(by_id(&hex_id(1))["category"], "Cat\u{1b}]8;;http://x\u{7}");
    let posts = ok(f, &["list", "posts", "--thread", &hex_id(1), "--json"]).json();
    let post = posts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == hex_id(3))
        .unwrap();
    // A list shows the start of a post: its first 400 characters, exact.
    let start: String = h.post.chars().take(400).collect();
    assert_eq!(post["label"], start.as_str());
    let atts = ok(f, &["list", "attachments", "--json"]).json();
    let att = atts["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == hex_id(4))
        .unwrap();
    assert_eq!(att["label"], format!("{ATTACK}.png"));
    assert_eq!(
        att["image"],
        format!("forum/attachments/{ATTACK}.png").replace('\u{0}', "")
    );
    let dry = ok(f, &["purge", "--dry-run", "--json"]).json();
    let names: BTreeSet<String> = dry["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&h.odd_id), "{dry}");
    let actor = format!("eve{}", ATTACK.replace('\u{0}', ""));
    let restored = ok(
        f,
        &[
            "--actor",
            &actor,
            "restore",
            "thread",
            &h.odd_id[..4],
            "--json",
        ],
    )
    .json();
    assert_eq!(restored["id"], h.odd_id.as_str());
    let log = ok(f, &["log", "--json"]).json();
    assert_eq!(log["entries"][0]["actor"], actor.as_str());
    assert_eq!(log["entries"][0]["target_id"], h.odd_id.as_str());
}

// -------------------------------------------------------------- datetimes

#[test]
fn odd_datetimes_are_unknown_never_expired() {
    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    forum.post(&hex_id(2), &hex_id(1), true);
    // Valid forms (all 45 days old): purgeable.
    let valid = [
        "2026-10-12 12:00:00",
        "2026-10-12 12:00:00.5",
        "2026-10-12T12:00:00",
        "2026-10-12T12:00:00Z",
        "2026-10-12 12:00:00.123456+00:00",
        "2026-10-12T14:00:00+02:00",
        " 2026-10-12 12:00:00 ",
    ];
    let garbage = [
        "yesterday",
        "",
        "   ",
        "0",
        "12345",
        "2026-10-12",
        "2026-13-45 99:99:99",
        "2026-10-12 12:00:00.",
        "2026-10-12x12:00:00",
        "12/10/2026 12:00",
        "2026-10-12 12:00:00+2",
        "∞",
    ];
    let mut n = 10;
    let mut valid_ids = BTreeSet::new();
    let mut garbage_ids = BTreeSet::new();
    for when in valid {
        n += 1;
        forum.attachment(
            &hex_id(n),
            &hex_id(2),
            &format!("forum/attachments/{n}.png"),
            Some(when),
            false,
        );
        valid_ids.insert(hex_id(n));
    }
    for when in garbage {
        n += 1;
        forum.attachment(
            &hex_id(n),
            &hex_id(2),
            &format!("forum/attachments/{n}.png"),
            Some(when),
            false,
        );
        garbage_ids.insert(hex_id(n));
    }
    // Numbers, a blob and NULL, stored as such.
    for value in ["12345", "1.5e9", "x'00ff'", "NULL", "-1"] {
        n += 1;
        forum.attachment(
            &hex_id(n),
            &hex_id(2),
            &format!("forum/attachments/{n}.png"),
            Some(OLD),
            false,
        );
        forum
            .conn
            .execute_batch(&format!(
                "UPDATE forum_attachment SET deleted_at = {value} WHERE id = '{}'",
                hex_id(n)
            ))
            .unwrap();
        garbage_ids.insert(hex_id(n));
    }
    // Garbage in the other datetime columns of threads and posts.
    forum
        .conn
        .execute_batch(
            "UPDATE forum_thread SET created_at = 'yesterday', updated_at = '', last_activity_at = 12 ;
             UPDATE forum_post SET created_at = x'ff', edited_at = 'soon', updated_at = 3.5;",
        )
        .unwrap();

    let stats = ok(&forum, &["stats", "--json"]).json();
    assert_eq!(stats["attachments"]["purgeable"], valid_ids.len());
    assert_eq!(
        stats["attachments"]["unknown_deletion_time"],
        garbage_ids.len()
    );
    let list = ok(
        &forum,
        &["list", "attachments", "--state", "deleted", "--json"],
    )
    .json();
    for row in list["rows"].as_array().unwrap() {
        let id = row["id"].as_str().unwrap();
        if garbage_ids.contains(id) {
            assert_eq!(row["deletion_time"], "unknown", "{row}");
            assert_eq!(row["purgeable"], false, "{row}");
        } else {
            assert!(valid_ids.contains(id));
            assert_eq!(row["deletion_time"], "exact", "{row}");
            assert_eq!(row["purgeable"], true, "{row}");
        }
    }
    let human = ok(&forum, &["list", "attachments", "--state", "deleted"]).stdout;
    assert_eq!(
        human.matches("deleted, age unknown").count(),
        garbage_ids.len(),
        "{human}"
    );
    // 14:00+02:00 is 12:00 UTC, 45 days; a fraction of a second later is 44.
    assert_eq!(human.matches("deleted 45d ago").count(), 5, "{human}");
    assert_eq!(human.matches("deleted 44d ago").count(), 2, "{human}");
    let threads = ok(&forum, &["list", "threads"]).stdout;
    assert!(threads.contains("unknown"), "{threads}");
    ok(&forum, &["list", "posts"]);
    let check = ok(&forum, &["check", "--json"]).json();
    let unknown: BTreeSet<String> = check["report"]["unknown_deletion_time"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(unknown, garbage_ids);
    // A purge removes exactly the rows with a readable, old enough time,
    // even with the retention at zero days.
    let purge = ok(&forum, &["purge", "--older-than", "0", "--json"]).json();
    assert_eq!(purge["attachments"], valid_ids.len());
    let left: BTreeSet<String> = forum
        .conn
        .prepare("SELECT id FROM forum_attachment")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(left, garbage_ids);
    // A garbage clock is a clear usage error.
    let mut cmd = bin(forum.dir.path());
    cmd.arg("--db")
        .arg(&forum.db)
        .args(["--now", "yesterday", "stats"]);
    support::assert_usage_error(&run(cmd), "invalid time \"yesterday\"");
}

#[test]
fn rows_of_unknown_age_start_their_clock_when_first_seen() {
    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    // Deleted by the web app: no deletion time anywhere.
    forum.post(&hex_id(2), &hex_id(1), false);
    forum.attachment(
        &hex_id(3),
        &hex_id(2),
        "forum/attachments/3.png",
        Some(""),
        false,
    );
    forum
        .conn
        .execute("UPDATE forum_attachment SET deleted_at = NULL", [])
        .unwrap();
    let r = ok(&forum, &["purge", "--json"]).json();
    assert_eq!(
        (r["posts"].as_i64(), r["attachments"].as_i64()),
        (Some(0), Some(0))
    );
    let list = ok(&forum, &["list", "posts", "--json"]).json();
    assert_eq!(list["rows"][0]["deletion_time"], "first_seen");
    assert_eq!(list["rows"][0]["deleted_at"], NOW);
    // A month later it is past the default retention, and goes with its
    // attachment (a child goes with its parent, whatever its own age).
    let mut later = bin(forum.dir.path());
    later.arg("--db").arg(&forum.db).args([
        "--now",
        "2026-12-27 12:00:01",
        "purge",
        "--dry-run",
        "--json",
    ]);
    let plan = run(later).json();
    assert_eq!(
        (plan["posts"].as_i64(), plan["attachments"].as_i64()),
        (Some(1), Some(1))
    );
    let mut early = bin(forum.dir.path());
    early.arg("--db").arg(&forum.db).args([
        "--now",
        "2026-12-26 11:59:59",
        "purge",
        "--dry-run",
        "--json",
    ]);
    assert_eq!(run(early).json()["posts"], 0, "not a second before 30 days");
    // A retention of zero days counts from the moment it was first seen:
    // the post (and the attachment with it) go in the same run.
    forum.thread(&hex_id(4), true);
    forum.post(&hex_id(5), &hex_id(4), false);
    let r = ok(&forum, &["purge", "--older-than", "0", "--json"]).json();
    assert_eq!(
        (r["posts"].as_i64(), r["attachments"].as_i64()),
        (Some(2), Some(1)),
        "{r}"
    );
}
