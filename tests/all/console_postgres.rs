//! The console on a PostgreSQL database: the Django-made fixture loaded
//! into a throwaway database, driven by synthetic keys into ratatui's
//! TestBackend. The first frame, the counts, a delete and its undo, live
//! refresh when another session commits (and never from the console's own
//! reads), `--read-only` and a role that may only read.

use crate::support;

use crate::support::waiting::{PATIENCE, wait_until};
use std::path::Path;

use crate::support::FIXTURE_NOW;
use crate::support::pg::{PgDb, Roles};
use clap::Parser;
use modcon::cli::Cli;
use modcon::config::{Config, Settings};
use modcon::tui::harness::Harness;
use modcon::tui::worker::Response;
use modcon_core::db::{Access, Db, OpenOptions};

fn settings(db: &Path, extra: &[&str]) -> Settings {
    let mut args = vec![
        "modcon",
        "--db",
        db.to_str().unwrap(),
        "--now",
        FIXTURE_NOW,
        "--actor",
        "mo",
    ];
    args.extend_from_slice(extra);
    let cli = Cli::try_parse_from(args).unwrap();
    Settings::resolve_with(&cli.globals(), Config::default()).unwrap()
}

fn console(db: &Path, extra: &[&str]) -> Harness {
    let settings = settings(db, extra);
    let access = if settings.read_only {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    let db = Db::open(db, &OpenOptions::new(access)).unwrap();
    let mut h = Harness::new(&settings, db, 120, 40).unwrap();
    h.draw();
    h
}

/// `modcon --db DB --now FIXTURE_NOW ARGS...` from a clean environment.
fn modcon(db: &Path, args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    support::clean_command(home.path())
        .arg("--db")
        .arg(db)
        .arg("--now")
        .arg(FIXTURE_NOW)
        .args(args)
        .output()
        .unwrap()
}

fn stats_json(db: &Path) -> serde_json::Value {
    let out = modcon(db, &["stats", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The status line's counts as `stats --json` gives them.
fn assert_counts_match_stats(h: &Harness, db: &Path) {
    let stats = stats_json(db);
    let counts = h.app.counts.counts.as_ref().expect("counts shown");
    let shown = serde_json::to_value(counts).unwrap();
    for kind in ["threads", "posts", "attachments"] {
        for field in ["total", "active", "deleted", "purgeable"] {
            assert_eq!(
                shown[kind][field], stats[kind][field],
                "{kind}.{field}: console {shown} vs stats {stats}"
            );
        }
    }
}

fn is_active(pg: &PgDb, table: &str, id: &str) -> bool {
    pg.client()
        .query_one(
            &format!("SELECT is_active FROM {table} WHERE id = $1::text::uuid"),
            &[&id],
        )
        .unwrap()
        .get(0)
}

/// Polls the console's change marker until it reports a change.
fn wait_for_change(h: &mut Harness) {
    wait_until("the change marker to move", || match h.worker.poll() {
        Some(Response::DataChanged) => Ok(()),
        other => Err(format!("{other:?}")),
    })
}

#[test]
fn the_first_frame_has_rows_and_the_counts_stats_gives() {
    let pg = PgDb::fixture();
    let h = console(&pg.arg(), &[]);
    let screen = h.screen();
    assert!(!h.app.threads.rows.is_empty(), "{screen}");
    assert!(!h.app.posts.rows.is_empty(), "{screen}");
    let first = &h.app.threads.rows[0];
    let title: String = first.label.chars().take(20).collect();
    assert!(screen.contains(&title), "{title:?} not in\n{screen}");
    // The status line names the server and the database, never the
    // password (nor the user).
    let status = screen.lines().rev().nth(1).unwrap_or_default().to_string();
    let short = format!("localhost/{}", pg.name);
    assert!(
        screen.lines().any(|l| l.contains(&short)),
        "{short} in\n{screen}"
    );
    assert!(!screen.contains("modcon:modcon"), "{screen}");
    assert!(!screen.contains("postgres://"), "{status}");
    assert_counts_match_stats(&h, &pg.arg());
    // The same numbers as the console on the fixture's SQLite twin.
    let f = support::fixture();
    let on_sqlite = console(&f.db, &[]);
    assert_eq!(on_sqlite.app.counts.counts, h.app.counts.counts);
    assert_eq!(
        on_sqlite
            .app
            .threads
            .rows
            .iter()
            .map(|r| (&r.id, &r.label))
            .collect::<Vec<_>>(),
        h.app
            .threads
            .rows
            .iter()
            .map(|r| (&r.id, &r.label))
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_help_names_the_database_as_the_status_line_does() {
    let pg = PgDb::fixture();
    // A URL with a user and a password, as --db may be given.
    assert!(pg.arg().to_string_lossy().contains("modcon:modcon@"));
    let mut h = console(&pg.arg(), &[]);
    h.keys(&["?"]);
    let screen = h.screen();
    assert!(screen.contains("Database"), "help open:\n{screen}");
    let short = format!("localhost/{}", pg.name);
    let line = screen
        .lines()
        .skip_while(|l| !l.contains("Database"))
        .nth(1)
        .unwrap_or_default();
    assert!(line.contains(&short), "{short} under Database in\n{screen}");
    // Neither the password nor the user name, nor the URL itself.
    assert!(!screen.contains("modcon@"), "{screen}");
    assert!(!screen.contains(":modcon"), "{screen}");
    assert!(!screen.contains("postgres://"), "{screen}");
}

#[test]
fn a_delete_and_its_undo_from_the_keys_reach_postgresql() {
    let pg = PgDb::fixture();
    let mut h = console(&pg.arg(), &[]);
    // The first thread with an active post that has attachments.
    let mut found = None;
    'threads: for i in 0..h.app.threads.rows.len() {
        h.keys(&["g"]);
        for _ in 0..i {
            h.keys(&["j"]);
        }
        h.keys(&["Tab"]);
        for j in 0..h.app.posts.rows.len() {
            let post = h.app.posts.selected().unwrap().clone();
            if post.is_active && h.app.attachments.rows.iter().any(|a| a.is_active) {
                found = Some(post);
                break 'threads;
            }
            if j + 1 < h.app.posts.rows.len() {
                h.keys(&["j"]);
            }
        }
        h.keys(&["BackTab"]);
    }
    let post = found.expect("a post with active attachments in the fixture");
    let attachments: Vec<String> = h
        .app
        .attachments
        .rows
        .iter()
        .map(|a| a.id.clone())
        .collect();
    h.keys(&["d"]);
    let screen = h.screen();
    assert!(screen.contains("Delete this post?"), "{screen}");
    h.keys(&["y"]);
    let screen = h.screen();
    assert!(
        screen.contains(&format!("deleted post {}", post.id)),
        "{screen}"
    );
    assert!(!is_active(&pg, "forum_post", &post.id));
    for a in &attachments {
        assert!(!is_active(&pg, "forum_attachment", a), "{a}");
    }
    assert!(h.app.attachments.rows.iter().all(|r| !r.is_active));
    assert_counts_match_stats(&h, &pg.arg());

    h.keys(&["u"]);
    assert!(h.screen().contains("undid #"), "{}", h.screen());
    assert!(is_active(&pg, "forum_post", &post.id));
    for a in &attachments {
        assert!(is_active(&pg, "forum_attachment", a), "{a}");
    }
    assert!(h.app.posts.selected().unwrap().is_active);
    assert_counts_match_stats(&h, &pg.arg());
    let actions: i64 = pg
        .client()
        .query_one("SELECT count(*) FROM modcon_action WHERE actor = 'mo'", &[])
        .unwrap()
        .get(0);
    assert_eq!(actions, 2, "the delete and the undo are in the audit log");
}

#[test]
fn another_sessions_commit_shows_in_the_console() {
    let pg = PgDb::fixture();
    let mut h = console(&pg.arg(), &[]);
    let first = h.app.threads.selected().unwrap().clone();
    let before = h.app.counts.counts.unwrap();
    // The web app, in a session of its own: a title changed, a post deleted
    // as Django's PostgreSQL backend writes it.
    let mut web = pg.client();
    web.execute(
        "UPDATE forum_thread SET title = 'Renamed by the web app' WHERE id = $1::text::uuid",
        &[&first.id],
    )
    .unwrap();
    web.batch_execute(
        "UPDATE forum_post SET is_active = false, updated_at = now() \
         WHERE id = (SELECT id FROM forum_post WHERE is_active ORDER BY id LIMIT 1)",
    )
    .unwrap();
    wait_for_change(&mut h);
    h.data_changed();
    let screen = h.screen();
    assert!(screen.contains("Renamed by the web app"), "{screen}");
    assert_eq!(h.app.threads.selected().unwrap().id, first.id);
    let after = h.app.counts.counts.unwrap();
    assert_eq!(after.posts.active, before.posts.active - 1);
    assert_counts_match_stats(&h, &pg.arg());
}

#[test]
fn the_consoles_sessions_compile_no_statements_and_take_no_parallel_workers() {
    let pg = PgDb::fixture();
    for access in [Access::ReadWrite, Access::ReadOnly] {
        let db = Db::open(&pg.arg(), &OpenOptions::new(access)).unwrap();
        let show = |setting: &str| -> String {
            db.conn()
                .query_row(&format!("SHOW {setting}"), &[], |r| r.text(0))
                .unwrap()
        };
        assert_eq!(show("jit"), "off");
        assert_eq!(show("max_parallel_workers_per_gather"), "0");
    }
}

#[test]
fn the_live_lanes_refresh_after_another_session_commits() {
    use modcon::tui::Event;
    use modcon::tui::worker::{self, Request, Worker};
    let pg = PgDb::fixture();
    let settings = settings(&pg.arg(), &[]);
    let db = Db::open(&pg.arg(), &OpenOptions::new(Access::ReadWrite)).unwrap();
    let config = modcon::tui::worker_config(&settings, &db).unwrap();
    let (events, rx) = std::sync::mpsc::channel();
    let lanes = worker::spawn(Worker::new(db, config), events).unwrap();
    lanes.send(Request::Counts { generation: 1 });
    // The lanes settle: the counts come back.
    wait_until("the counts", || match rx.recv_timeout(PATIENCE) {
        Ok(Event::Worker(r)) if matches!(*r, Response::Counts { .. }) => Ok(()),
        other => Err(format!("{other:?}")),
    });
    pg.client()
        .batch_execute("UPDATE forum_thread SET is_pinned = NOT is_pinned")
        .unwrap();
    wait_until("DataChanged after another session's commit", || {
        match rx.recv_timeout(PATIENCE) {
            Ok(Event::Worker(r)) if matches!(*r, Response::DataChanged) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
}

/// Every reading key of the console, once.
fn read_everything(h: &mut Harness) {
    h.keys(&["j", "Tab", "j", "Tab", "Enter", "l", "h", "f", "f", "f"]);
    h.keys(&["/"]);
    h.type_text("plant");
    h.keys(&["Enter", "Esc", "L", "Esc", "?", "Esc", "G", "g"]);
    let out = h.app.start();
    h.answer(out);
    h.data_changed();
}

/// The change marker is the server's snapshot of running transactions,
/// which moves only when a transaction that took a transaction id (one
/// that wrote) ends. The console's reads, run in one transaction on its
/// session, take none: they can never make it refresh again. (Asked of the
/// session itself, since other databases of the server move the marker
/// whenever their tests write.)
#[test]
fn the_consoles_reads_take_no_transaction_id_so_never_move_the_marker() {
    let pg = PgDb::fixture();
    let thread: String = pg
        .client()
        .query_one("SELECT id::text FROM forum_thread LIMIT 1", &[])
        .unwrap()
        .get(0);
    let cutoff = modcon_core::cutoff(modcon_core::model::parse_datetime(FIXTURE_NOW).unwrap(), 30);
    for access in [Access::ReadWrite, Access::ReadOnly] {
        let db = Db::open(&pg.arg(), &OpenOptions::new(access)).unwrap();
        let schema = db.schema().clone();
        let conn = db.conn();
        let xid = |conn: modcon_core::sql::Conn| {
            conn.query_row(
                "SELECT pg_current_xact_id_if_assigned()::text",
                modcon_core::sql::params![],
                |r| r.opt_text(0),
            )
            .unwrap()
        };
        conn.execute_batch("BEGIN").unwrap();
        modcon_core::query::counts(conn, &schema, &cutoff).unwrap();
        modcon_core::query::search(conn, &schema, "plant", 501).unwrap();
        modcon_core::audit::list(conn, 500).unwrap();
        for kind in [
            modcon_core::model::Kind::Thread,
            modcon_core::model::Kind::Post,
        ] {
            modcon_core::query::details(conn, &schema, kind, &thread, &cutoff).unwrap();
        }
        db.change_marker().unwrap();
        assert_eq!(
            xid(conn),
            None,
            "{access:?}: the reads took a transaction id"
        );
        // Not blind: a write in the same transaction takes one.
        if access == Access::ReadWrite {
            conn.execute(
                "UPDATE forum_thread SET is_pinned = is_pinned WHERE id = ?1",
                modcon_core::sql::params![thread.as_str()],
            )
            .unwrap();
            assert!(xid(conn).is_some());
        }
        conn.execute_batch("ROLLBACK").unwrap();
    }
    // And another session's write moves the marker.
    let mut h = console(&pg.arg(), &["--read-only"]);
    let _ = h.worker.poll();
    pg.client()
        .batch_execute("UPDATE forum_thread SET is_pinned = NOT is_pinned")
        .unwrap();
    assert!(matches!(h.worker.poll(), Some(Response::DataChanged)));
}

#[test]
fn read_only_on_postgresql_refuses_writes_with_the_usual_message() {
    let pg = PgDb::fixture();
    let mut h = console(&pg.arg(), &["--read-only"]);
    let screen = h.screen();
    assert!(screen.contains("READ-ONLY"), "{screen}");
    assert!(!h.app.threads.rows.is_empty());
    for key in ["d", "r", "u"] {
        h.keys(&[key]);
        let screen = h.screen();
        assert!(screen.contains("read-only:"), "{key}: {screen}");
        assert!(h.app.overlay.is_none());
    }
    let actions: i64 = pg
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables \
             WHERE schemaname = 'public' AND tablename = 'modcon_action'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(actions, 0, "a read-only console adds nothing");
}

#[test]
fn a_role_that_may_only_read_uses_the_console_and_every_reading_command() {
    // The read-only grants as the README gives them.
    let mut roles = Roles::on(PgDb::fixture());
    let reader = roles.add_from_readme("moderator_ro", "reads");
    let url = roles.url_as(&format!("{reader}:reads"), None);
    let url = Path::new(&url);
    // Reading commands open read-only by themselves.
    for args in [
        &["stats"][..],
        &["stats", "--json"],
        &["list", "threads", "--state", "all"],
        &["list", "attachments", "--state", "deleted"],
        &["log"],
        &["--read-only", "stats"],
        &["--read-only", "log"],
    ] {
        let out = modcon(url, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The console without --read-only would add its own tables: the role
    // may not, and is told what to do, without its password.
    let err = Db::open(url, &OpenOptions::new(Access::ReadWrite))
        .err()
        .expect("a role that may only read cannot open read-write");
    let err = format!("{err:#}");
    assert!(err.contains("pass --read-only"), "{err}");
    assert!(!err.contains("reads@"), "{err}");
    let mut h = console(url, &["--read-only"]);
    assert!(!h.app.threads.rows.is_empty(), "{}", h.screen());
    assert!(h.app.counts.counts.is_some(), "{}", h.screen());
    read_everything(&mut h);
    h.keys(&["d"]);
    assert!(h.screen().contains("read-only:"), "{}", h.screen());
    assert!(!h.screen().contains("permission denied"), "{}", h.screen());
}

/// The purge dialog of a `--read-only` console for a role that may only
/// read: the plan (its work tables are temporary ones, made before the
/// session turned read-only) shows the dry run's figures; Y is refused in
/// the console's words, never with the server's.
fn read_only_purge_plan(roles: &Roles, reader: &str) {
    let url = roles.url_as(&format!("{reader}:reads"), None);
    let url = Path::new(&url);
    let out = modcon(url, &["--read-only", "purge", "--dry-run", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(dry["attachments"].as_i64() > Some(0), "{dry}");
    let before = stats_json(url);
    let mut h = console(url, &["--read-only"]);
    h.keys(&["P"]);
    let screen = h.screen();
    assert!(
        screen.contains("Purge plan (read-only: nothing will be removed)"),
        "{screen}"
    );
    assert!(screen.contains("Deleted at or before"), "{screen}");
    let Some(modcon::tui::app::Overlay::Purge(d)) = &h.app.overlay else {
        panic!("the purge dialog is open:\n{screen}");
    };
    let plan = match &d.plan {
        Some(Ok(plan)) => plan,
        other => panic!("no plan: {other:?}\n{screen}"),
    };
    for (kind, shown) in [
        ("threads", plan.removed.threads),
        ("posts", plan.removed.posts),
        ("attachments", plan.removed.attachments),
    ] {
        assert_eq!(Some(shown), dry[kind].as_i64(), "{kind}: {dry}");
    }
    assert!(
        screen.contains(&format!("{} attachment", plan.removed.attachments)),
        "{screen}"
    );
    h.keys(&["Y"]);
    let screen = h.screen();
    assert!(screen.contains("read-only: a purge cannot run"), "{screen}");
    for raw in [
        "permission denied",
        "read-only transaction",
        "db error",
        "ERROR",
    ] {
        assert!(!screen.contains(raw), "{raw}: {screen}");
    }
    assert!(
        matches!(&h.app.overlay, Some(modcon::tui::app::Overlay::Purge(d))
            if d.plan_only && d.running.is_none()),
        "{screen}"
    );
    h.keys(&["Esc"]);
    assert_eq!(stats_json(url), before, "nothing changed");
}

#[test]
fn a_read_only_consoles_purge_plan_on_postgresql_shows_its_figures_and_runs_nothing() {
    // A forum the console has never written to (no tables of its own)...
    let mut roles = Roles::on(PgDb::fixture());
    let reader = roles.add_from_readme("moderator_ro", "reads");
    read_only_purge_plan(&roles, &reader);
    assert!(
        !roles.db().tables().iter().any(|t| t.starts_with("modcon_")),
        "{:?}",
        roles.db().tables()
    );
    // ... and one whose owner ran `migrate` before the grants.
    let pg = PgDb::fixture();
    let out = modcon(&pg.arg(), &["migrate"]);
    assert!(out.status.success());
    let mut roles = Roles::on(pg);
    let reader = roles.add_from_readme("moderator_ro", "reads");
    read_only_purge_plan(&roles, &reader);
}

#[test]
fn a_purge_the_role_may_not_run_is_refused_in_words_not_the_servers_statement() {
    // The console's tables exist (the owner migrated), so a role that may
    // only read opens without --read-only; its purge meets the server's
    // refusal, which the console puts in words.
    let pg = PgDb::fixture();
    let out = modcon(&pg.arg(), &["migrate"]);
    assert!(out.status.success());
    let mut roles = Roles::on(pg);
    let reader = roles.add_from_readme("moderator_ro", "reads");
    let url = roles.url_as(&format!("{reader}:reads"), None);
    let url = Path::new(&url);
    let before = stats_json(url);
    let fx = support::fixture();
    let media = fx.media.to_string_lossy().into_owned();
    let mut h = console(url, &["--media-root", &media]);
    h.keys(&["P"]);
    assert!(
        h.screen().contains("Deleted at or before"),
        "{}",
        h.screen()
    );
    h.keys(&["Y"]);
    wait_until("the purge to finish", || {
        if let Some(r) = h.worker.poll() {
            let more = h.app.on_response(r);
            h.answer(more);
            h.draw();
        }
        if matches!(&h.app.overlay, Some(modcon::tui::app::Overlay::Purge(d)) if d.finished.is_some())
        {
            Ok(())
        } else {
            Err(h.screen())
        }
    });
    let screen = h.screen();
    let Some(modcon::tui::app::Overlay::Purge(d)) = &h.app.overlay else {
        panic!("the purge dialog is open:\n{screen}");
    };
    let err = match &d.finished {
        Some(Err(e)) => e.clone(),
        other => panic!("the purge is refused: {other:?}\n{screen}"),
    };
    assert!(err.contains("permission denied for table"), "{err}");
    assert!(err.contains("passes --read-only"), "{err}");
    for raw in ["INSERT", "db error", "ERROR", "reads@"] {
        assert!(!err.contains(raw), "{raw}: {err}");
    }
    assert_eq!(stats_json(url), before, "nothing changed");
}

#[test]
fn the_action_ids_a_moderator_sees_skip_none_on_either_backend() {
    // Each of the console's actions is worked out first by the rule itself,
    // rolled back (its confirmation, then again before it runs): those
    // rehearsals take no id, so the log's and undo's numbers run on.
    let pg = PgDb::fixture();
    let f = support::fixture();
    for db in [f.db.clone(), pg.arg()] {
        let mut h = console(&db, &[]);
        let active = h
            .app
            .threads
            .rows
            .iter()
            .position(|r| r.is_active)
            .expect("an active thread");
        h.keys(&["g"]);
        for _ in 0..active {
            h.keys(&["j"]);
        }
        h.keys(&["d"]);
        assert!(h.screen().contains("Delete this thread?"), "{}", h.screen());
        h.keys(&["y"]);
        h.keys(&["u"]);
        let screen = h.screen();
        let log = |db: &Path| -> Vec<i64> {
            let out = modcon(db, &["log", "--json"]);
            assert!(out.status.success());
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let mut ids: Vec<i64> = json["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap())
                .collect();
            ids.sort();
            ids
        };
        let ids = log(&db);
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert_eq!(ids[1], ids[0] + 1, "{}: {ids:?}", db.display());
        assert!(
            screen.contains(&format!("undid #{}", ids[0])),
            "{}: {screen}",
            db.display()
        );
        // And the next action takes the next number.
        h.keys(&["d"]);
        h.keys(&["y"]);
        let ids = log(&db);
        assert_eq!(ids, [ids[0], ids[0] + 1, ids[0] + 2], "{}", db.display());
    }
}
