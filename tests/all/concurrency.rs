//! Concurrent writers: the web app keeps writing while the console purges,
//! deletes and restores. Nobody waits past a 5 s busy timeout, nothing the
//! web app committed is lost (or it was rightly purged), and the rows the
//! console touched keep the invariant. And a restore committed between a
//! purge's plan and its batch keeps its row.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use modcon_core::db::{Access, Db, OpenOptions};
use modcon_core::model::Kind;
use modcon_core::rules::{self, Target};
use support::{Forum, hex_id};
use support::{Rng, assert_sound, bin, run, web_conn};

const NOW: &str = "2026-11-26 12:00:00";
const OLD: &str = "2026-10-12 12:00:00";
/// When the web app deletes its own attachments: an hour before NOW.
const WEB_DELETED_AT: &str = "2026-11-26 11:00:00";
const SEED: u64 = 0xc0c0_7e57;

use support::ctx;

/// The console, with the default 5 s busy timeout.
fn console(db: &Path, args: &[&str]) -> Command {
    let mut cmd = bin(db.parent().unwrap());
    cmd.env("MODCON_BUSY_TIMEOUT_MS", "5000")
        .arg("--db")
        .arg(db)
        .arg("--media-root")
        .arg(db.parent().unwrap().join("media"))
        .args(["--now", NOW])
        .args(args);
    cmd
}

/// The console's deletions, through the rules, at `at`.
fn delete_at(db: &Path, at: &str, targets: &[Target]) {
    let mut db = Db::open(db, &OpenOptions::new(Access::ReadWrite)).unwrap();
    let tx = db.write_tx().unwrap();
    for target in targets {
        rules::delete_in(tx.conn(), &ctx(at), target).unwrap();
    }
    tx.commit().unwrap();
}

struct Zones {
    forum: Forum,
    /// Expired attachments under active posts: purge roots the web app
    /// may restore while the purge runs.
    lone: Vec<String>,
    /// Everything of the expired threads and posts, purged unless restored.
    expired_rest: BTreeSet<(&'static str, String)>,
    /// The threads the console deletes and restores: (thread, posts, attachments).
    moderated: Vec<(String, Vec<String>, Vec<String>)>,
    /// A post of an active thread the web app writes under.
    web_thread: String,
}

fn build() -> Zones {
    let forum = Forum::new();
    let mut n = 0u32;
    let mut id = || {
        n += 1;
        hex_id(n)
    };
    let mut lone = Vec::new();
    let mut expired_rest = BTreeSet::new();
    let mut moderated = Vec::new();
    let mut to_delete = Vec::new();
    forum.conn.execute_batch("BEGIN").unwrap();
    // Active threads holding expired attachments.
    for _ in 0..8 {
        let t = id();
        forum.thread(&t, true);
        for _ in 0..4 {
            let p = id();
            forum.post(&p, &t, true);
            forum.attachment(
                &id(),
                &p,
                &format!("forum/attachments/keep/{p}.png"),
                None,
                true,
            );
            for _ in 0..25 {
                let a = id();
                forum.attachment(
                    &a,
                    &p,
                    &format!("forum/attachments/old/{a}.png"),
                    Some(OLD),
                    true,
                );
                lone.push(a);
            }
        }
    }
    // Whole threads and single posts deleted by the console 45 days ago.
    let host = id();
    forum.thread(&host, true);
    for i in 0..30 {
        let parent = if i % 2 == 0 {
            let t = id();
            forum.thread(&t, true);
            expired_rest.insert(("forum_thread", t.clone()));
            to_delete.push(Target::new(Kind::Thread, t.clone()));
            t
        } else {
            host.clone()
        };
        let p = id();
        forum.post(&p, &parent, true);
        expired_rest.insert(("forum_post", p.clone()));
        if i % 2 == 1 {
            to_delete.push(Target::new(Kind::Post, p.clone()));
        }
        for _ in 0..4 {
            let a = id();
            forum.attachment(
                &a,
                &p,
                &format!("forum/attachments/old/{a}.png"),
                None,
                true,
            );
            expired_rest.insert(("forum_attachment", a));
        }
    }
    // What the console moderates during the run.
    for _ in 0..4 {
        let t = id();
        forum.thread(&t, true);
        let mut posts = Vec::new();
        let mut atts = Vec::new();
        for _ in 0..3 {
            let p = id();
            forum.post(&p, &t, true);
            for _ in 0..4 {
                let a = id();
                forum.attachment(
                    &a,
                    &p,
                    &format!("forum/attachments/mod/{a}.png"),
                    None,
                    true,
                );
                atts.push(a);
            }
            posts.push(p);
        }
        moderated.push((t, posts, atts));
    }
    let web_thread = id();
    forum.thread(&web_thread, true);
    forum.conn.execute_batch("COMMIT").unwrap();
    delete_at(&forum.db, OLD, &to_delete);
    Zones {
        forum,
        lone,
        expired_rest,
        moderated,
        web_thread,
    }
}

/// What the web app did, as it committed it.
#[derive(Default)]
struct WebLog {
    /// Rows it inserted, with their last committed is_active.
    rows: BTreeMap<(&'static str, String), bool>,
    /// Expired attachments it restored (the UPDATE changed the row).
    restored: BTreeSet<String>,
    /// Restores that found the row already purged.
    found_purged: BTreeSet<String>,
    statements: u64,
    errors: Vec<String>,
}

/// The web app: short transactions, foreign keys on, 5 s busy timeout.
/// Inserts threads, posts and attachments, toggles is_active on its own
/// rows, and restores expired attachments a purge may be removing.
fn web_app(db: PathBuf, lone: Vec<String>, thread: String, stop: Arc<AtomicBool>) -> WebLog {
    let mut conn = web_conn(&db);
    let mut rng = Rng::new(SEED);
    let mut log = WebLog::default();
    let mut n = 0x0100_0000u32;
    let mut posts: Vec<String> = Vec::new();
    let mut atts: Vec<String> = Vec::new();
    let record = |log: &mut WebLog, result: rusqlite::Result<()>| match result {
        Ok(()) => {
            log.statements += 1;
            true
        }
        Err(e) => {
            log.errors.push(e.to_string());
            false
        }
    };
    while !stop.load(Ordering::Relaxed) {
        match rng.below(10) {
            // A new thread with its first post and attachments, one transaction.
            0..=2 => {
                n += 10;
                let (t, p) = (hex_id(n), hex_id(n + 1));
                let new_atts: Vec<String> = (2..2 + rng.below(3) as u32)
                    .map(|k| hex_id(n + k))
                    .collect();
                let result = (|| {
                    let tx = conn.transaction()?;
                    tx.execute(
                        "INSERT INTO forum_thread VALUES (?1, 'Web ' || ?1, 'web-' || ?1, 0, 0, 1, 1, NULL, \
                         '2026-11-26 10:00:00', '2026-11-26 10:00:00', 1, 'c0000000000000000000000000000000')",
                        [&t],
                    )?;
                    tx.execute(
                        "INSERT INTO forum_post VALUES (?1, 'hello', 'markdown', 1, 1, NULL, \
                         '2026-11-26 10:00:00', '2026-11-26 10:00:00', 1, ?2)",
                        (&p, &t),
                    )?;
                    // A request does some work while it holds the write lock.
                    std::thread::sleep(Duration::from_millis(2));
                    for a in &new_atts {
                        tx.execute(
                            "INSERT INTO forum_attachment VALUES (?1, 'forum/attachments/web/' || ?1 || '.png', \
                             'w.png', 3, 'image/png', 0, '', '2026-11-26 10:00:00', ?2, NULL, 1)",
                            (a, &p),
                        )?;
                    }
                    tx.commit()
                })();
                if record(&mut log, result) {
                    log.rows.insert(("forum_thread", t), true);
                    log.rows.insert(("forum_post", p.clone()), true);
                    posts.push(p);
                    for a in new_atts {
                        log.rows.insert(("forum_attachment", a.clone()), true);
                        atts.push(a);
                    }
                }
            }
            // A reply in the web app's own long-lived thread.
            3 => {
                n += 10;
                let p = hex_id(n);
                let result = conn
                    .execute(
                        "INSERT INTO forum_post VALUES (?1, 'reply', 'markdown', 0, 1, NULL, \
                         '2026-11-26 10:00:00', '2026-11-26 10:00:00', 1, ?2)",
                        (&p, &thread),
                    )
                    .map(|_| ());
                if record(&mut log, result) {
                    log.rows.insert(("forum_post", p.clone()), true);
                    posts.push(p);
                }
            }
            // Delete or restore one of its attachments.
            4..=6 if !atts.is_empty() => {
                let a = atts[rng.below(atts.len() as u64) as usize].clone();
                let active = !log.rows[&("forum_attachment", a.clone())];
                let result = conn
                    .execute(
                        "UPDATE forum_attachment SET is_active = ?2, deleted_at = ?3 WHERE id = ?1",
                        (&a, active, (!active).then_some(WEB_DELETED_AT)),
                    )
                    .map(|_| ());
                if record(&mut log, result) {
                    log.rows.insert(("forum_attachment", a), active);
                }
            }
            // The moderation queue: deactivate or reactivate a post alone.
            7 if !posts.is_empty() => {
                let p = posts[rng.below(posts.len() as u64) as usize].clone();
                let active = !log.rows[&("forum_post", p.clone())];
                let result = conn
                    .execute(
                        "UPDATE forum_post SET is_active = ?2, updated_at = '2026-11-26 10:30:00' WHERE id = ?1",
                        (&p, active),
                    )
                    .map(|_| ());
                if record(&mut log, result) {
                    log.rows.insert(("forum_post", p), active);
                }
            }
            // Restore an expired attachment a purge may be removing.
            _ => {
                let a = lone[rng.below(lone.len() as u64) as usize].clone();
                if log.restored.contains(&a) || log.found_purged.contains(&a) {
                    continue;
                }
                match conn.execute(
                    "UPDATE forum_attachment SET is_active = 1, deleted_at = NULL WHERE id = ?1",
                    [&a],
                ) {
                    Ok(1) => {
                        log.statements += 1;
                        log.restored.insert(a);
                    }
                    Ok(_) => {
                        log.statements += 1;
                        log.found_purged.insert(a);
                    }
                    Err(e) => log.errors.push(e.to_string()),
                }
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(4)));
    }
    log
}

fn rows_of(conn: &rusqlite::Connection, table: &str, column: &str) -> BTreeMap<String, i64> {
    let mut stmt = conn
        .prepare(&format!("SELECT id, {column} FROM {table}"))
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn web_app_writes_while_the_console_purges_deletes_and_restores() {
    let zones = build();
    let db = zones.forum.db.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, lone, thread, stop) = (
            db.clone(),
            zones.lone.clone(),
            zones.web_thread.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || web_app(db, lone, thread, stop))
    };
    // Purges in small batches, one after another, beside the moderation.
    let purger = {
        let db = db.clone();
        std::thread::spawn(move || {
            let mut reports = Vec::new();
            for _ in 0..3 {
                let r = run(console(&db, &["purge", "--batch-size", "3", "--json"]));
                assert_eq!(r.code, Some(0), "purge: {}", r.stderr);
                reports.push(r.json());
            }
            reports
        })
    };
    let mut moderations = 0;
    for round in 0..2 {
        for (t, posts, atts) in &zones.moderated {
            let post = &posts[round % posts.len()];
            let att = &atts[(round * 5) % atts.len()];
            for (verb, kind, id) in [
                ("delete", "attachment", att),
                ("delete", "post", post),
                ("delete", "thread", t),
                ("restore", "thread", t),
                ("restore", "post", post),
                ("restore", "attachment", att),
            ] {
                let r = run(console(&db, &[verb, kind, id, "--json"]));
                assert_eq!(r.code, Some(0), "{verb} {kind} {id}: {}", r.stderr);
                assert_eq!(r.json()["changed"], true, "{verb} {kind} {id}");
                moderations += 1;
            }
        }
    }
    let reports = purger.join().unwrap();
    // The web app goes on after the console stopped: a few more of its
    // inserts are committed before it stops too.
    let watcher = web_conn(&db);
    let inserted = || {
        support::count(
            &watcher,
            &format!(
                "SELECT (SELECT count(*) FROM forum_thread WHERE title LIKE 'Web %') \
                      + (SELECT count(*) FROM forum_post WHERE thread_id = '{}')",
                zones.web_thread
            ),
        )
    };
    let before = inserted();
    support::waiting::wait_until("the web app to insert after the console stopped", || {
        let now = inserted();
        if now >= before + 5 {
            Ok(())
        } else {
            Err(format!(
                "{now} of its rows, {before} when the console stopped"
            ))
        }
    });
    stop.store(true, Ordering::Relaxed);
    let log = writer.join().unwrap();
    assert_eq!(moderations, 48);
    assert!(
        log.errors.is_empty(),
        "the web app's statements failed: {:?}",
        log.errors
    );
    assert!(
        log.statements > 50,
        "the web app wrote only {} times",
        log.statements
    );
    assert!(
        !log.restored.is_empty(),
        "the web app restored no expired attachment"
    );
    let removed: i64 = reports
        .iter()
        .map(|r| r["attachments"].as_i64().unwrap())
        .sum();
    assert!(removed > 0, "the purges removed nothing");

    // A last purge with nobody else writing, then the books must balance.
    let r = run(console(&db, &["purge", "--json"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let conn = web_conn(&db);
    assert_sound(&conn);
    let threads = rows_of(&conn, "forum_thread", "is_active");
    let posts = rows_of(&conn, "forum_post", "is_active");
    let atts = rows_of(&conn, "forum_attachment", "is_active");
    let table = |name: &str| match name {
        "forum_thread" => &threads,
        "forum_post" => &posts,
        _ => &atts,
    };
    // Every row the web app committed is there, as it last left it.
    for ((tbl, id), active) in &log.rows {
        assert_eq!(
            table(tbl).get(id),
            Some(&(*active as i64)),
            "{tbl} {id} written by the web app"
        );
    }
    // Expired attachments: restored ones kept and active, the rest purged.
    for a in &zones.lone {
        let want = log.restored.contains(a).then_some(&1);
        assert_eq!(atts.get(a), want, "expired attachment {a}");
    }
    for (tbl, id) in &zones.expired_rest {
        assert_eq!(table(tbl).get(id), None, "{tbl} {id} deleted 45 days ago");
    }
    // The console's moderation ended with everything restored.
    for (t, ps, as_) in &zones.moderated {
        assert_eq!(threads.get(t), Some(&1));
        for p in ps {
            assert_eq!(posts.get(p), Some(&1));
        }
        for a in as_ {
            assert_eq!(atts.get(a), Some(&1));
        }
    }
    // The invariant, for every row the console touched.
    let touched: Vec<(String, String)> = conn
        .prepare("SELECT DISTINCT kind, row_id FROM modcon_change")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(touched.len() >= 4 * 16, "{} rows touched", touched.len());
    for (kind, id) in &touched {
        let kind = Kind::parse(kind).unwrap();
        let bad: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {} r WHERE r.id = ?1 AND ( \
                       (r.is_active = 1 AND {parent_deleted}) OR \
                       (r.is_active = 0 AND {child_active}))",
                    kind.table(),
                    parent_deleted = match kind {
                        Kind::Thread => "0".to_string(),
                        Kind::Post =>
                            "EXISTS (SELECT 1 FROM forum_thread x WHERE x.id = r.thread_id AND x.is_active = 0)".into(),
                        Kind::Attachment =>
                            "EXISTS (SELECT 1 FROM forum_post x WHERE x.id = r.post_id AND x.is_active = 0)".into(),
                    },
                    child_active = match kind {
                        Kind::Thread =>
                            "EXISTS (SELECT 1 FROM forum_post x WHERE x.thread_id = r.id AND x.is_active = 1)",
                        Kind::Post =>
                            "EXISTS (SELECT 1 FROM forum_attachment x WHERE x.post_id = r.id AND x.is_active = 1)",
                        Kind::Attachment => "0",
                    },
                ),
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(bad, 0, "{kind} {id} breaks the invariant");
    }
}

#[test]
fn a_restore_committed_between_plan_and_batch_keeps_its_row() {
    let forum = Forum::new();
    forum.conn.execute_batch("BEGIN").unwrap();
    let (t, tp, ta) = (hex_id(1), hex_id(2), hex_id(3));
    forum.thread(&t, true);
    forum.post(&tp, &t, true);
    forum.attachment(&ta, &tp, "forum/attachments/t.png", None, true);
    let (host, p, pa) = (hex_id(10), hex_id(11), hex_id(12));
    forum.thread(&host, true);
    forum.post(&p, &host, true);
    forum.attachment(&pa, &p, "forum/attachments/p.png", None, true);
    let (live, a, b) = (hex_id(20), hex_id(21), hex_id(22));
    forum.post(&live, &host, true);
    forum.attachment(&a, &live, "forum/attachments/a.png", Some(OLD), true);
    forum.attachment(&b, &live, "forum/attachments/b.png", Some(OLD), true);
    forum.conn.execute_batch("COMMIT").unwrap();
    delete_at(
        &forum.db,
        OLD,
        &[
            Target::new(Kind::Thread, t.clone()),
            Target::new(Kind::Post, p.clone()),
        ],
    );
    let dry = run(console(&forum.db, &["purge", "--dry-run", "--json"])).json();
    assert_eq!(
        (
            dry["threads"].clone(),
            dry["posts"].clone(),
            dry["attachments"].clone()
        ),
        (1.into(), 2.into(), 4.into()),
        "the plan includes the thread, the post and both attachments"
    );

    let go = forum.dir.path().join("go");
    let mut purge = console(&forum.db, &["purge", "--batch-size", "1", "--json"]);
    purge
        .env(
            "MODCON_FAILPOINT",
            format!("purge-after-plan:wait={}", go.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = purge.spawn().unwrap();
    let waiting = forum.dir.path().join("go.waiting");
    support::waiting::wait_until("the purge to plan", || {
        if waiting.exists() {
            Ok(())
        } else {
            Err("no plan yet".to_string())
        }
    });
    // Planned: now restore the thread, the post and one attachment.
    for (kind, id) in [("thread", &t), ("post", &p), ("attachment", &a)] {
        let r = run(console(&forum.db, &["restore", kind, id, "--json"]));
        assert_eq!(r.code, Some(0), "restore {kind}: {}", r.stderr);
    }
    std::fs::write(&go, b"").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            report["threads"].clone(),
            report["posts"].clone(),
            report["attachments"].clone()
        ),
        (0.into(), 0.into(), 1.into()),
        "only the attachment nobody restored is purged: {report}"
    );
    let skipped: BTreeSet<(String, String)> = report["skipped_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["reason"], "no longer purgeable (changed since the plan)");
            (
                s["kind"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [("thread", &t), ("post", &p), ("attachment", &a)]
        .into_iter()
        .map(|(k, id)| (k.to_string(), id.clone()))
        .collect();
    assert_eq!(skipped, want);
    for (table, id) in [
        ("forum_thread", &t),
        ("forum_post", &tp),
        ("forum_attachment", &ta),
        ("forum_post", &p),
        ("forum_attachment", &pa),
        ("forum_attachment", &a),
    ] {
        assert_eq!(
            forum.active(table, id),
            Some(true),
            "{table} {id} restored and kept"
        );
    }
    assert_eq!(
        forum.active("forum_attachment", &b),
        None,
        "the other attachment is purged"
    );
    for file in ["t.png", "p.png", "a.png"] {
        assert!(forum.exists(&format!("forum/attachments/{file}")), "{file}");
    }
    assert!(!forum.exists("forum/attachments/b.png"));
    assert_sound(&forum.conn);
}

/// A purge whose batches follow one another for longer than the web app's
/// busy timeout (each held half a second longer here, as on a slow disk,
/// 16 of them): the web app, writing all the while and waiting as Django's
/// SQLite connection waits (SQLite's busy handler, 5 s), still gets its
/// turn between batches, every time. SQLite's write lock has no queue:
/// batches that followed one another within microseconds kept a waiting
/// writer out until its timeout ran out.
#[test]
fn the_web_app_gets_its_turn_while_a_long_purge_runs() {
    let forum = Forum::new();
    forum.thread(&hex_id(1), true);
    forum.post(&hex_id(2), &hex_id(1), true);
    for n in 0..16 {
        let a = hex_id(100 + n);
        forum.attachment(
            &a,
            &hex_id(2),
            &format!("forum/attachments/{a}.png"),
            Some(OLD),
            false,
        );
    }
    let db = forum.db.clone();
    let mut purge = console(&db, &["purge", "--batch-size", "1", "--json"]);
    purge
        .env("MODCON_FAILPOINT", "purge-batch:sleep=500")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut purge = purge.spawn().unwrap();
    let web = web_conn(&db);
    let mut writes = 0;
    let mut errors = Vec::new();
    // The web app writes a reply after another until the purge has ended.
    loop {
        let done = purge.try_wait().unwrap().is_some();
        let p = hex_id(1000 + writes);
        match web.execute(
            "INSERT INTO forum_post VALUES (?1, 'reply', 'markdown', 0, 1, NULL, \
             '2026-11-26 10:00:00', '2026-11-26 10:00:00', 1, ?2)",
            (&p, hex_id(1)),
        ) {
            Ok(_) => writes += 1,
            Err(e) => errors.push(e.to_string()),
        }
        if done || !errors.is_empty() {
            break;
        }
        // The next request comes a moment later.
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = purge.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["attachments"], 16, "{report}");
    assert!(errors.is_empty(), "the web app's writes failed: {errors:?}");
    assert!(writes > 1, "the web app wrote {writes} times");
}
