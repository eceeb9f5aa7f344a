//! Purge, check and the purge lock on both backends: each test runs the
//! same steps on a SQLite file and on a PostgreSQL database, both with the
//! Django-made schema, the web app's rows written as Django writes them on
//! each (ints and 32-hex text on SQLite; booleans, uuids and timestamptz on
//! PostgreSQL). Retention, dependents removed first, the re-check inside
//! the batch, the file journal and thumbnails, a row the database refuses
//! to delete, `check` and `check --fix`, one purge at a time, a purge
//! killed mid-way and finished by the next run, and a busy web app writing
//! throughout.

use crate::support;

use std::fs;
use std::path::Path;
use std::process::{Child, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Duration, NaiveDateTime};
use serde_json::Value;
use support::clean_command;
use support::site::{Backend, Site};
use support::{attachment_image as img, hex_id as id, thumbnail as thumb};

const NOW: &str = "2026-11-26 12:00:00";

const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// The author of every row the tests write (the forum's one user).
const AUTHOR: i64 = 1;

/// `days` before NOW, in Django's form.
fn ago(days: i64) -> String {
    let now = NaiveDateTime::parse_from_str(NOW, "%Y-%m-%d %H:%M:%S").unwrap();
    (now - Duration::days(days))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The web app's moderation queue removes a post or a thread at `at`:
/// a flag on it, marked removed, one moderation action, and the row
/// alone made inactive (its deletion time is then exact: the action's).
fn remove(site: &Site, table: &str, row: &str, flag: &str, action: &str, at: &str) {
    let (content_type, post, thread, action_type) = match table {
        "forum_post" => (
            "post",
            format!("'{row}'"),
            "NULL".to_string(),
            "remove_post",
        ),
        _ => (
            "thread",
            "NULL".to_string(),
            format!("'{row}'"),
            "remove_thread",
        ),
    };
    let author = AUTHOR;
    site.web(&format!(
        "UPDATE {table} SET is_active = {{f}} WHERE id = '{row}';
         INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, \
         reviewed_at, moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, post_id, \
         thread_id) VALUES ('{flag}', '{content_type}', 'spam', '', 'removed', '{at}', '', '{at}', \
         '{at}', {author}, {author}, {post}, {thread});
         INSERT INTO forum_moderationaction (id, action_type, reason, created_at, affected_user_id, \
         flag_id, moderator_id) VALUES ('{action}', '{action_type}', 'removed', '{at}', {author}, \
         '{flag}', {author});"
    ));
}

/// [`support::start_held`] for a command on this site.
fn start_held(site: &Site, args: &[&str], point: &str, gate: &Path) -> Child {
    support::start_held(site.command(NOW, args), point, gate)
}

/// The web app's own PostgreSQL connection.
fn web_client(site: &Site) -> postgres::Client {
    site.pg().expect("a PostgreSQL site").client()
}

fn counts(v: &Value) -> (i64, i64, i64, i64) {
    let n = |k: &str| v[k].as_i64().unwrap_or_else(|| panic!("no {k} in {v}"));
    (n("threads"), n("posts"), n("attachments"), n("files"))
}

/// A thread T(1) with an active post P(2).
fn post_site(backend: Backend) -> Site {
    let site = Site::django(backend);
    site.thread_at(&id(1), &ago(400));
    site.post_at(&id(2), &id(1), &ago(400));
    site
}

#[test]
fn the_retention_boundary_and_files_with_their_thumbnails_on_both_backends() {
    for backend in BACKENDS {
        let site = post_site(backend);
        site.attachment(&id(0x29), &id(2), &img(0x29), Some(&ago(29)), true);
        site.attachment(&id(0x30), &id(2), &img(0x30), Some(&ago(30)), true);
        site.attachment(&id(0x31), &id(2), &img(0x31), Some(&ago(31)), true);
        site.attachment(&id(0x40), &id(2), &img(0x40), None, true);

        let dry = site.json(NOW, &["purge", "--dry-run"]);
        assert_eq!(counts(&dry), (0, 0, 2, 2), "{backend:?}");
        let out = site.json(NOW, &["purge"]);
        assert_eq!(counts(&out), (0, 0, 2, 2), "{backend:?}");
        assert_eq!(out["thumbnails"], 2, "{backend:?}");
        assert_eq!(
            site.ids("forum_attachment"),
            [id(0x29), id(0x40)].into_iter().collect(),
            "{backend:?}"
        );
        for n in [0x30, 0x31] {
            assert!(!site.exists(&img(n)) && !site.exists(&thumb(&img(n))));
        }
        for n in [0x29, 0x40] {
            assert!(site.exists(&img(n)) && site.exists(&thumb(&img(n))));
        }
        assert_eq!(site.count("SELECT count(*) FROM modcon_file_journal"), 0);
        // What went is recorded, and the audit log counts it.
        assert_eq!(site.count("SELECT count(*) FROM modcon_purged"), 2);
        assert_eq!(
            site.count("SELECT files FROM modcon_action WHERE action = 'purge'"),
            2
        );
        // A second run has nothing to do and writes no entry.
        let again = site.json(NOW, &["purge"]);
        assert_eq!(counts(&again), (0, 0, 0, 0), "{backend:?}");
        assert_eq!(
            site.count("SELECT count(*) FROM modcon_action WHERE action = 'purge'"),
            1
        );
    }
}

#[test]
fn a_thread_goes_with_its_posts_attachments_reactions_flags_and_their_actions_on_both_backends() {
    for backend in BACKENDS {
        let site = Site::django(backend);
        let (t, p1, p2) = (id(1), id(2), id(3));
        site.thread_at(&t, &ago(400));
        site.post_at(&p1, &t, &ago(400));
        site.post_at(&p2, &t, &ago(400));
        site.attachment(&id(0x10), &p1, &img(0x10), None, true);
        site.attachment(&id(0x11), &p2, &img(0x11), None, true);
        let author = AUTHOR;
        site.web(&format!(
            "INSERT INTO forum_reaction (id, reaction_type, is_active, created_at, updated_at, post_id, user_id) \
             VALUES ('{}', 'like', {{t}}, '{at}', '{at}', '{p1}', {author});
             INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, reviewed_at, \
             moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, post_id, thread_id) \
             VALUES ('{}', 'post', 'spam', '', 'dismissed', NULL, '', '{at}', '{at}', {author}, NULL, '{p2}', NULL);
             INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, reviewed_at, \
             moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, post_id, thread_id) \
             VALUES ('{}', 'thread', 'spam', '', 'dismissed', NULL, '', '{at}', '{at}', {author}, NULL, NULL, '{t}');
             INSERT INTO forum_moderationaction (id, action_type, reason, created_at, affected_user_id, flag_id, \
             moderator_id) VALUES ('{}', 'dismiss', '', '{at}', NULL, '{}', {author});",
            id(0x50),
            id(0x60),
            id(0x61),
            id(0x70),
            id(0x61),
            at = ago(300),
        ));
        // The moderation queue removed the thread 45 days ago, and the web
        // app's admin its posts and their attachments.
        remove(&site, "forum_thread", &t, &id(0x62), &id(0x71), &ago(45));
        site.web(&format!(
            "UPDATE forum_post SET is_active = {{f}} WHERE thread_id = '{t}';
             UPDATE forum_attachment SET is_active = {{f}}, deleted_at = '{}' \
             WHERE post_id IN ('{p1}', '{p2}');",
            ago(45)
        ));
        let out = site.json(NOW, &["purge"]);
        assert_eq!(counts(&out), (1, 2, 2, 2), "{backend:?}: {out}");
        assert_eq!(out["skipped"], 0, "{backend:?}: {out}");
        for table in support::PURGED_TABLES {
            assert!(site.ids(table).is_empty(), "{backend:?}: {table}");
        }
        assert_eq!(site.count("SELECT count(*) FROM modcon_deletion"), 0);
    }
}

#[test]
fn an_active_row_below_holds_its_parent_back_on_both_backends() {
    for backend in BACKENDS {
        let site = post_site(backend);
        site.attachment(&id(0x10), &id(2), &img(0x10), None, true);
        // The moderation queue removed the post alone 45 days ago: its
        // attachment is still active below it.
        remove(&site, "forum_post", &id(2), &id(0x60), &id(0x70), &ago(45));
        let out = site.json(NOW, &["purge"]);
        assert_eq!(counts(&out), (0, 0, 0, 0), "{backend:?}: {out}");
        assert_eq!(out["held_back"]["posts"], 1, "{backend:?}: {out}");
        assert_eq!(site.active("forum_post", &id(2)), Some(false));
        assert_eq!(site.active("forum_attachment", &id(0x10)), Some(true));
    }
}

#[test]
fn a_restore_by_the_web_app_after_the_plan_keeps_its_row_on_both_backends() {
    for backend in BACKENDS {
        let site = post_site(backend);
        for n in [0x10, 0x11] {
            site.attachment(&id(n), &id(2), &img(n), Some(&ago(45)), true);
        }
        let gate = site.dir().join("go");
        let purge = start_held(&site, &["purge", "--json"], "purge-after-plan", &gate);
        // The web app's `Attachment.restore()`.
        site.web(&format!(
            "UPDATE forum_attachment SET is_active = {{t}}, deleted_at = NULL WHERE id = '{}'",
            id(0x10)
        ));
        fs::write(&gate, b"").unwrap();
        let report = report_of(purge);
        assert_eq!(counts(&report), (0, 0, 1, 1), "{backend:?}");
        assert_kept_as_changed(&report, &id(0x10));
        assert_eq!(site.active("forum_attachment", &id(0x10)), Some(true));
        assert!(site.exists(&img(0x10)) && site.exists(&thumb(&img(0x10))));
        assert_eq!(site.active("forum_attachment", &id(0x11)), None);
        assert!(!site.exists(&img(0x11)));
    }
}

#[test]
fn a_row_a_trigger_refuses_to_delete_is_isolated_and_every_other_row_goes_on_both_backends() {
    for backend in BACKENDS {
        for batch in ["1", "3", "100"] {
            let site = post_site(backend);
            for n in 0x10..0x18 {
                site.attachment(&id(n), &id(2), &img(n), Some(&ago(45)), true);
            }
            let kept = id(0x13);
            site.web(&match backend {
                Backend::Sqlite => format!(
                    "CREATE TRIGGER keep_one BEFORE DELETE ON forum_attachment WHEN old.id = '{kept}' \
                     BEGIN SELECT RAISE(ABORT, 'kept by a trigger'); END;"
                ),
                Backend::Postgres => format!(
                    "CREATE FUNCTION keep_one() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN IF OLD.id = '{kept}'::uuid THEN RAISE EXCEPTION 'kept by a trigger'; END IF; \
                     RETURN OLD; END $$; \
                     CREATE TRIGGER keep_one BEFORE DELETE ON forum_attachment \
                     FOR EACH ROW EXECUTE FUNCTION keep_one();"
                ),
            });
            let out = site.json(NOW, &["purge", "--batch-size", batch]);
            assert_eq!(counts(&out), (0, 0, 7, 7), "{backend:?} batch {batch}");
            let skipped = &out["skipped_rows"];
            assert_eq!(skipped.as_array().unwrap().len(), 1, "{out}");
            assert_eq!(skipped[0]["id"], kept);
            assert_eq!(
                skipped[0]["reason"], "the database refused to delete it: kept by a trigger",
                "{backend:?}"
            );
            assert_eq!(
                site.ids("forum_attachment"),
                [kept.clone()].into_iter().collect()
            );
            assert!(site.exists(&img(0x13)) && !site.exists(&img(0x12)));
        }
    }
}

/// A web app's trigger that, as an attachment goes, changes its post
/// (a counter): the purge of posts with their attachments still removes
/// every row, parents after their children.
#[test]
fn a_trigger_that_changes_the_parent_of_a_deleted_child_does_not_stop_a_purge_on_both_backends() {
    for backend in BACKENDS {
        let site = post_site(backend);
        site.post_at(&id(3), &id(1), &ago(400));
        for n in 0x10..0x14 {
            site.attachment(&id(n), &id(3), &img(n), None, true);
        }
        site.json(&ago(45), &["delete", "post", &id(3)]);
        site.web(&match backend {
            Backend::Sqlite => "CREATE TRIGGER touch_post BEFORE DELETE ON forum_attachment \
                 BEGIN UPDATE forum_post SET content_raw = content_raw || '.' \
                 WHERE id = old.post_id; END;"
                .to_string(),
            Backend::Postgres => {
                "CREATE FUNCTION touch_post() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN UPDATE forum_post SET content_raw = content_raw || '.' \
                 WHERE id = OLD.post_id; RETURN OLD; END $$; \
                 CREATE TRIGGER touch_post BEFORE DELETE ON forum_attachment \
                 FOR EACH ROW EXECUTE FUNCTION touch_post();"
                    .to_string()
            }
        });
        let out = site.json(NOW, &["purge"]);
        assert_eq!(counts(&out), (0, 1, 4, 4), "{backend:?}: {out}");
        assert_eq!(out["skipped_rows"], serde_json::json!([]), "{backend:?}");
        assert_eq!(site.active("forum_post", &id(3)), None, "{backend:?}");
        assert_eq!(site.active("forum_post", &id(2)), Some(true), "{backend:?}");
        assert!(site.ids("forum_attachment").is_empty(), "{backend:?}");
    }
}

#[test]
fn check_lists_violations_and_check_fix_repairs_them_on_both_backends() {
    for backend in BACKENDS {
        let site = post_site(backend);
        site.attachment(&id(0x10), &id(2), &img(0x10), None, true);
        site.attachment(&id(0x11), &id(2), &img(0x11), None, true);
        fs::remove_file(site.forum.media.join(img(0x11))).unwrap();
        site.forum.file("forum/attachments/2026/01/02/stray.png");
        // The web app's admin deletes the thread alone: its post and the
        // post's attachments stay active below it.
        site.web(&format!(
            "UPDATE forum_thread SET is_active = {{f}}, updated_at = '{}' WHERE id = '{}'",
            ago(2),
            id(1)
        ));
        let report = site.json(NOW, &["check"])["report"].clone();
        let violations = report["violations"].as_array().unwrap();
        assert_eq!(violations.len(), 1, "{backend:?}: {report}");
        assert_eq!(violations[0]["id"], id(2));
        assert_eq!(violations[0]["parent_id"], id(1));
        assert_eq!(report["unknown_deletion_time"].as_array().unwrap().len(), 1);
        assert_eq!(report["stamped"], 1, "{backend:?}: {report}");
        assert_eq!(report["missing_files"][0]["attachment_id"], id(0x11));
        assert_eq!(
            report["unreferenced_files"],
            serde_json::json!(["forum/attachments/2026/01/02/stray.png"]),
            "{backend:?}"
        );
        let fixed = site.json(NOW, &["check", "--fix"]);
        assert_eq!(counts(&fixed).1, 1, "{backend:?}: {fixed}");
        assert_eq!(site.active("forum_post", &id(2)), Some(false));
        assert_eq!(site.active("forum_attachment", &id(0x10)), Some(false));
        let report = site.json(NOW, &["check"])["report"].clone();
        assert!(report["violations"].as_array().unwrap().is_empty());
        // A fix is an action: undo puts the rows back.
        site.json(NOW, &["undo"]);
        assert_eq!(site.active("forum_post", &id(2)), Some(true));
    }
}

/// Asserts a refusal that names the holder: exit 1, one `error:` line.
fn assert_refused(out: &Output, what: &str, actor: &str, pid: u32) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for part in [
        "error: ".to_string(),
        format!("`{what}` by {actor} on "),
        format!("(pid {pid}), started "),
        "try again when it has finished".to_string(),
    ] {
        assert!(stderr.contains(&part), "{part:?} not in {stderr}");
    }
}

#[test]
fn one_purge_at_a_time_and_a_killed_holder_is_taken_over_on_both_backends() {
    for backend in BACKENDS {
        let site = post_site(backend);
        for n in 0x10..0x14 {
            site.attachment(&id(n), &id(2), &img(n), Some(&ago(45)), true);
        }
        let gate = site.dir().join("go");
        let first = start_held(
            &site,
            &["--actor", "alice", "purge", "--json"],
            "purge-after-plan",
            &gate,
        );
        let pid = first.id();
        let second = site.output(NOW, &["--actor", "bob", "purge"]);
        assert_refused(&second, "purge", "alice", pid);
        let fix = site.output(NOW, &["--actor", "bob", "check", "--fix"]);
        assert_refused(&fix, "purge", "alice", pid);
        // A dry run reads, and is never refused.
        let dry = site.json(NOW, &["purge", "--dry-run"]);
        assert_eq!(counts(&dry).2, 4, "{backend:?}");
        // The holder is killed: nothing released its lock by hand.
        let mut first = first;
        first.kill().unwrap(); // SIGKILL
        first.wait().unwrap();
        // On PostgreSQL the server ends the killed process's sessions (and
        // so its advisory lock) once it notices the connection is gone.
        let out = support::waiting::wait_until(
            format!("{backend:?}: the lock of the killed purge to go"),
            || {
                let out = site.output(NOW, &["--actor", "bob", "purge", "--json"]);
                if out.status.success() {
                    Ok(out)
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).into_owned())
                }
            },
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(counts(&report), (0, 0, 4, 4), "{backend:?}");
        let taken = report["lock_taken_over"].as_str().unwrap_or_default();
        assert!(
            taken.contains("`purge` by alice") && taken.contains(&format!("(pid {pid})")),
            "{backend:?}: {report}"
        );
        // Released at the end: the next one runs and takes nothing over.
        let next = site.json(NOW, &["purge"]);
        assert_eq!(next["lock_taken_over"], Value::Null, "{backend:?}");
    }
}

/// The console purges on its long-lived session: the lock outlives the
/// transactions it holds it through, and is released when the purge
/// returns, also when it fails, while the session lives on.
#[test]
fn a_session_holds_the_lock_through_its_transactions_and_releases_it_when_done_on_both_backends() {
    use modcon_core::db::{Access, Db, OpenOptions};
    for backend in BACKENDS {
        let site = post_site(backend);
        for n in 0x10..0x14 {
            site.attachment(&id(n), &id(2), &img(n), Some(&ago(45)), true);
        }
        let mut db = Db::open(&site.db(), &OpenOptions::new(Access::ReadWrite)).unwrap();
        let pid = std::process::id();
        let err = modcon_core::lock::hold::<()>(&mut db, "purge", "moderator", |db, taken_over| {
            assert_eq!(taken_over, None, "{backend:?}");
            let cron = site.output(NOW, &["--actor", "cron", "purge"]);
            assert_refused(&cron, "purge", "moderator", pid);
            // A transaction committed and one rolled back.
            db.write_tx()?.commit()?;
            drop(db.write_tx()?);
            let fix = site.output(NOW, &["--actor", "cron", "check", "--fix"]);
            assert_refused(&fix, "purge", "moderator", pid);
            anyhow::bail!("the purge failed")
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "the purge failed");
        // Released, with the session still open.
        let cron = site.json(NOW, &["--actor", "cron", "purge"]);
        assert_eq!(counts(&cron), (0, 0, 4, 4), "{backend:?}");
        assert_eq!(cron["lock_taken_over"], Value::Null, "{backend:?}");
        assert_eq!(site.count("SELECT count(*) FROM modcon_purge_lock"), 0);
        // And taken again by the same session.
        modcon_core::lock::hold(&mut db, "check --fix", "moderator", |_, taken_over| {
            assert_eq!(taken_over, None, "{backend:?}");
            Ok(())
        })
        .unwrap();
        drop(db);
    }
}

#[test]
fn a_purge_killed_after_a_batch_committed_is_finished_by_the_next_run_on_both_backends() {
    for backend in BACKENDS {
        let site = post_site(backend);
        for n in 0x10..0x16 {
            site.attachment(&id(n), &id(2), &img(n), Some(&ago(45)), true);
        }
        let gate = site.dir().join("go");
        let mut purge = start_held(
            &site,
            &["purge", "--batch-size", "2", "--json"],
            "purge-after-commit",
            &gate,
        );
        purge.kill().unwrap();
        purge.wait().unwrap();
        // The first batch is gone from the database, its files are not,
        // and the journal says which they are.
        assert_eq!(site.ids("forum_attachment").len(), 4, "{backend:?}");
        assert_eq!(
            site.count("SELECT count(*) FROM modcon_file_journal"),
            2,
            "{backend:?}"
        );
        let on_disk = (0x10..0x16).filter(|n| site.exists(&img(*n))).count();
        assert_eq!(on_disk, 6);
        let out = site.json(NOW, &["purge", "--batch-size", "2"]);
        assert_eq!(out["journal_finished"], 2, "{backend:?}: {out}");
        assert_eq!(counts(&out), (0, 0, 4, 6), "{backend:?}: {out}");
        assert!(site.ids("forum_attachment").is_empty());
        for n in 0x10..0x16 {
            assert!(!site.exists(&img(n)) && !site.exists(&thumb(&img(n))));
        }
        assert_eq!(site.count("SELECT count(*) FROM modcon_file_journal"), 0);
    }
}

/// The web app restores an attachment while a batch waits for its row
/// lock (the web app's transaction holds the row): once the restore
/// commits, the batch sees the row as restored, keeps it, and removes the
/// rest of the batch.
#[test]
fn a_restore_the_batch_waits_for_keeps_its_row_on_postgresql() {
    let site = post_site(Backend::Postgres);
    for n in [0x10, 0x11, 0x12] {
        site.attachment(&id(n), &id(2), &img(n), Some(&ago(45)), true);
    }
    let gate = site.dir().join("go");
    let purge = start_held(&site, &["purge", "--json"], "purge-after-plan", &gate);
    let mut web = web_client(&site);
    let mut restore = web.transaction().unwrap();
    restore
        .execute(
            "UPDATE forum_attachment SET is_active = true, deleted_at = NULL WHERE id = $1",
            &[&uuid::Uuid::parse_str(&id(0x11)).unwrap()],
        )
        .unwrap();
    fs::write(&gate, b"").unwrap();
    // The batch is waiting for the row the restore holds.
    let mut watch = web_client(&site);
    while watch
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE application_name = 'modcon' AND wait_event_type = 'Lock' \
               AND datname = current_database()",
            &[],
        )
        .unwrap()
        .get::<_, i64>(0)
        == 0
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    restore.commit().unwrap();
    let report = report_of(purge);
    assert_eq!(counts(&report), (0, 0, 2, 2), "{report}");
    assert_kept_as_changed(&report, &id(0x11));
    assert_eq!(site.active("forum_attachment", &id(0x11)), Some(true));
    assert!(site.exists(&img(0x11)));
    assert_eq!(
        site.ids("forum_attachment"),
        [id(0x11)].into_iter().collect()
    );
}

#[test]
fn a_purge_on_postgresql_refuses_without_a_media_root_unless_keep_files() {
    let site = post_site(Backend::Postgres);
    site.attachment(&id(0x10), &id(2), &img(0x10), Some(&ago(45)), true);
    let out = clean_command(site.dir())
        .arg("--db")
        .arg(site.db())
        .args(["--now", NOW, "purge"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no media root is set"), "{stderr}");
    assert_eq!(site.ids("forum_attachment").len(), 1);
    let out = clean_command(site.dir())
        .arg("--db")
        .arg(site.db())
        .args(["--now", NOW, "purge", "--keep-files", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts(&report), (0, 0, 1, 0));
    assert!(site.exists(&img(0x10)));
}

/// The web app at work on PostgreSQL while the console deletes, restores
/// and purges: its own connection, a new post with an attachment and an
/// edit of an earlier one every few milliseconds, native types. It must
/// never see an error, and every row it wrote must still be there.
#[test]
fn a_busy_web_app_on_postgresql_never_fails_and_loses_nothing_during_purges() {
    let site = Site::django(Backend::Postgres);
    let (t, keep) = (id(1), id(2));
    site.thread_at(&t, &ago(400));
    site.post_at(&keep, &t, &ago(400));
    // Plenty for the console to purge, in small batches.
    for n in 0..40u32 {
        let post = id(0x1000 + n);
        site.post_at(&post, &t, &ago(400));
        for k in 0..3u32 {
            let a = 0x2000 + n * 4 + k;
            site.attachment(&id(a), &post, &img(a), None, true);
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let mut client = web_client(&site);
        let (thread, author) = (t.clone(), AUTHOR);
        std::thread::spawn(move || -> (Vec<String>, Vec<String>) {
            let mut posts = Vec::new();
            let mut attachments = Vec::new();
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) || n < 20 {
                let post = uuid::Uuid::new_v4();
                let attachment = uuid::Uuid::new_v4();
                let now = chrono::Utc::now();
                let mut tx = client.transaction().unwrap();
                tx.execute(
                    "INSERT INTO forum_post (id, content_raw, content_rich, content_format, \
                     is_first_post, is_active, edited_at, created_at, updated_at, author_id, \
                     edited_by_id, thread_id) VALUES ($1, 'busy', NULL, 'markdown', false, true, \
                     NULL, $2, $2, $3, NULL, $4)",
                    &[
                        &post,
                        &now,
                        &author,
                        &uuid::Uuid::parse_str(&thread).unwrap(),
                    ],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO forum_attachment (id, image, original_filename, file_size, \
                     mime_type, display_order, alt_text, created_at, post_id, deleted_at, is_active) \
                     VALUES ($1, $2, 'p.png', 3, 'image/png', 0, '', $3, $4, NULL, true)",
                    &[&attachment, &format!("forum/attachments/busy/{n}.png"), &now, &post],
                )
                .unwrap();
                // An edit of the thread's first post and of the thread, as
                // the web app's saves do.
                tx.execute(
                    "UPDATE forum_post SET content_raw = $2, updated_at = $3 WHERE id = $1",
                    &[
                        &uuid::Uuid::parse_str(&id(2)).unwrap(),
                        &format!("edit {n}"),
                        &now,
                    ],
                )
                .unwrap();
                tx.execute(
                    "UPDATE forum_thread SET post_count = post_count + 1, last_activity_at = $2 \
                     WHERE id = $1",
                    &[&uuid::Uuid::parse_str(&thread).unwrap(), &now],
                )
                .unwrap();
                tx.commit().unwrap();
                posts.push(post.simple().to_string());
                attachments.push(attachment.simple().to_string());
                n += 1;
                std::thread::sleep(std::time::Duration::from_millis(3));
            }
            (posts, attachments)
        })
    };
    // Rounds, while the writer keeps writing: the console deletes ten
    // posts (45 days ago, their attachments with them), the moderation
    // queue removes one more, the console restores one and purges in
    // small batches; a dry run and a check read meanwhile.
    for round in 0..4u32 {
        for n in (round * 10)..(round * 10 + 10) {
            site.json(&ago(45), &["delete", "post", &id(0x1000 + n)]);
        }
        let removed = id(0x1800 + round);
        site.post_at(&removed, &t, &ago(400));
        remove(
            &site,
            "forum_post",
            &removed,
            &id(0x3000 + round),
            &id(0x4000 + round),
            &ago(45),
        );
        site.json(&ago(44), &["restore", "post", &id(0x1000 + round * 10)]);
        let dry = site.json(NOW, &["purge", "--dry-run", "--batch-size", "3"]);
        assert_eq!(counts(&dry).1, 10, "round {round}: {dry}");
        let out = site.json(NOW, &["purge", "--batch-size", "3"]);
        assert_eq!(counts(&out), (0, 10, 27, 27), "round {round}: {out}");
        site.json(NOW, &["check"]);
    }
    stop.store(true, Ordering::Relaxed);
    let (posts, attachments) = writer.join().expect("the web app saw an error");
    assert!(posts.len() >= 20);
    let all_posts = site.ids("forum_post");
    let all_attachments = site.ids("forum_attachment");
    for p in &posts {
        assert!(all_posts.contains(p), "post {p} of the web app was lost");
    }
    for a in &attachments {
        assert!(all_attachments.contains(a), "attachment {a} was lost");
    }
    // The restored posts and the thread's first post are still there.
    for round in 0..4u32 {
        assert_eq!(
            site.active("forum_post", &id(0x1000 + round * 10)),
            Some(true)
        );
    }
    assert_eq!(site.active("forum_post", &keep), Some(true));
    assert_eq!(site.active("forum_thread", &t), Some(true));
}

/// The JSON report of a purge started with `--json`, once it succeeded.
fn report_of(purge: Child) -> Value {
    let out = support::succeeded(purge.wait_with_output().unwrap());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The purge's first skipped row is `id`, kept because it changed after the
/// plan (a restore landed).
fn assert_kept_as_changed(report: &Value, id: &str) {
    assert_eq!(report["skipped_rows"][0]["id"], id, "{report}");
    assert_eq!(
        report["skipped_rows"][0]["reason"],
        "no longer purgeable (changed since the plan)"
    );
}

/// Every record of a removed row and every file-journal entry names the
/// purge that wrote it, an action that exists (on PostgreSQL no foreign
/// key checks this: the purge writes its action first, in the same
/// transaction). Two purges, with files that cannot be removed, so each
/// leaves a journal entry to look at.
#[test]
fn each_purge_record_and_journal_entry_names_its_purge_on_both_backends() {
    for backend in BACKENDS {
        let site = post_site(backend);
        site.post_at(&id(3), &id(1), &ago(400));
        remove(&site, "forum_post", &id(3), &id(0x40), &id(0x41), &ago(50));
        for n in 0x10..0x13 {
            site.attachment(&id(n), &id(2), &img(n), Some(&ago(50)), true);
        }
        site.attachment(&id(0x20), &id(3), &img(0x20), Some(&ago(50)), true);
        // The second purge's row: past retention only at its later time.
        site.attachment(&id(0x30), &id(2), &img(0x30), Some(&ago(20)), true);
        let later = {
            let now = NaiveDateTime::parse_from_str(NOW, "%Y-%m-%d %H:%M:%S").unwrap();
            (now + Duration::days(20))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        // The second purge cannot remove any image: the first one's entry
        // stays too.
        for (now, stuck, failed) in [(NOW, img(0x11), 1), (later.as_str(), ".png".into(), 2)] {
            let out = site
                .command(now, &["purge", "--batch-size", "1", "--json"])
                .env("MODCON_FAILPOINT", format!("remove-file:deny={stuck}"))
                .output()
                .unwrap();
            let out: Value = serde_json::from_slice(&support::succeeded(out).stdout).unwrap();
            assert_eq!(out["files_failed"], failed, "{backend:?}: {out}");
        }
        let purges = site.rows("SELECT id FROM modcon_action WHERE action = 'purge' ORDER BY id");
        assert_eq!(purges.len(), 2, "{backend:?}");
        let (first, second) = (purges[0][0].clone(), purges[1][0].clone());
        // Post P(3) with its attachment, flag and moderation action, three
        // attachments of P(2), then the one the second purge removed.
        let records = site.rows(
            "SELECT p.action_id, a.action, p.row_id FROM modcon_purged p \
             LEFT JOIN modcon_action a ON a.id = p.action_id ORDER BY p.row_id",
        );
        assert_eq!(records.len(), 8, "{backend:?}: {records:?}");
        for record in &records {
            assert_eq!(
                record[1].as_deref(),
                Some("purge"),
                "{backend:?}: {record:?}"
            );
            let want = if record[2] == Some(id(0x30)) {
                &second
            } else {
                &first
            };
            assert_eq!(&record[0], want, "{backend:?}: {record:?}");
        }
        let journal = site.rows(
            "SELECT j.action_id, a.action, j.image FROM modcon_file_journal j \
             LEFT JOIN modcon_action a ON a.id = j.action_id ORDER BY j.id",
        );
        assert_eq!(
            journal,
            [
                vec![first.clone(), Some("purge".into()), Some(img(0x11))],
                vec![second.clone(), Some("purge".into()), Some(img(0x30))],
            ],
            "{backend:?}"
        );
    }
}

/// A read-only PostgreSQL session (a `--read-only` console) may plan a
/// purge again and again: each dry run gives the same plan, leaves its
/// temporary work tables empty, and their dead space is given back once it
/// grows (by `DELETE` and `VACUUM`: the session may not `TRUNCATE`), so
/// they do not grow for as long as the session lasts.
#[test]
fn a_read_only_postgresql_session_plans_again_and_again_without_its_work_tables_growing() {
    use modcon_core::db::{Access, Db, OpenOptions};
    use modcon_core::purge::{self, PurgeOptions};

    let site = post_site(Backend::Postgres);
    for n in 0x10..0x15 {
        site.attachment(&id(n), &id(2), &img(n), Some(&ago(45)), true);
    }
    let pg = site.pg().unwrap();
    let mut db = Db::open(&pg.arg(), &OpenOptions::new(Access::ReadOnly)).unwrap();
    // As the purge command and the console's plan do.
    db.prepare_purge_plan().unwrap();
    let ctx = support::ctx_as("mo", NOW);
    let options = PurgeOptions {
        retention_days: 30,
        batch_size: 100,
        dry_run: true,
        keep_files: true,
    };
    let dry_run = |db: &mut Db| {
        purge::run(
            db,
            &ctx,
            None,
            &options,
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap()
    };
    let rows_left = |db: &Db| -> i64 {
        db.conn()
            .query_row(
                "SELECT (SELECT count(*) FROM pg_temp.modcon_plan_root) \
                      + (SELECT count(*) FROM pg_temp.modcon_doomed)",
                modcon_core::sql::params![],
                |r| r.get(0),
            )
            .unwrap()
    };
    let size = |db: &Db| -> i64 {
        db.conn()
            .query_row(
                "SELECT pg_total_relation_size('pg_temp.modcon_plan_root') \
                      + pg_total_relation_size('pg_temp.modcon_doomed')",
                modcon_core::sql::params![],
                |r| r.get(0),
            )
            .unwrap()
    };
    let first = dry_run(&mut db);
    assert_eq!(first.removed.attachments, 5, "{first:?}");
    assert_eq!(rows_left(&db), 0);
    let second = dry_run(&mut db);
    assert_eq!(second, first);
    assert_eq!(rows_left(&db), 0);
    // Many large plans' worth of dead rows (what a session's dry runs on a
    // large forum leave), written as the session may: into its own
    // temporary table, then deleted.
    db.conn()
        .execute_batch(
            "INSERT INTO pg_temp.modcon_doomed (tbl, id, root, rid, image) \
             SELECT 'forum_attachment', md5(n::text)::uuid, md5(n::text)::uuid, 0, repeat('x', 80) \
             FROM generate_series(1, 100000) AS n; \
             DELETE FROM pg_temp.modcon_doomed",
        )
        .unwrap();
    let grown = size(&db);
    assert!(grown > 8 << 20, "{grown}");
    let third = dry_run(&mut db);
    assert_eq!(third, first);
    assert_eq!(rows_left(&db), 0);
    let trimmed = size(&db);
    assert!(
        trimmed < grown / 2 && trimmed < 8 << 20,
        "{grown} -> {trimmed}"
    );
    assert!(db.is_read_only());
}
