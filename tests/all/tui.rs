//! The console, driven by synthetic keys and drawn into ratatui's
//! TestBackend: what a person would see, and what the database holds
//! afterwards.

use crate::support;

use std::path::Path;

use clap::Parser;
use modcon::cli::Cli;
use modcon::config::Config;
use modcon::config::Settings;
use modcon::tui::harness::Harness;
use modcon::tui::theme::TermEnv;
use modcon_core::db::{Access, Db, OpenOptions};

fn settings(db: &Path, extra: &[&str]) -> Settings {
    let mut args = vec![
        "modcon",
        "--db",
        db.to_str().unwrap(),
        "--now",
        support::DEMO_NOW,
    ];
    // `mo` unless the test acts as someone else.
    if !extra.contains(&"--actor") {
        args.extend(["--actor", "mo"]);
    }
    args.extend_from_slice(extra);
    let cli = Cli::try_parse_from(args).unwrap();
    Settings::resolve_with(&cli.globals(), Config::default()).unwrap()
}

fn console(db: &Path, width: u16, height: u16, extra: &[&str]) -> Harness {
    console_in(db, width, height, extra, TermEnv::standard())
}

/// A console on a terminal with the given environment (locale, NO_COLOR).
fn console_in(db: &Path, width: u16, height: u16, extra: &[&str], env: TermEnv) -> Harness {
    let settings = settings(db, extra);
    let access = if settings.read_only {
        Access::ReadOnly
    } else {
        Access::ReadWrite
    };
    let db = Db::open(db, &OpenOptions::new(access)).unwrap();
    let mut h = Harness::with_env(&settings, db, width, height, env).unwrap();
    // The temporary folder's name changes every run; snapshots must not.
    h.app.db_label = "demo.sqlite3".into();
    h.app.db_path = "/srv/forum/demo.sqlite3".into();
    h.draw();
    h
}

/// Moves the threads selection to the first thread whose line contains
/// `text`.
fn select_thread(h: &mut Harness, text: &str) {
    let index = h
        .app
        .threads
        .rows
        .iter()
        .position(|r| r.label.contains(text))
        .unwrap_or_else(|| panic!("no thread {text:?}"));
    h.keys(&["g"]);
    for _ in 0..index {
        h.keys(&["j"]);
    }
}

fn post_active(conn: &rusqlite::Connection, id: &str) -> i64 {
    conn.query_row(
        "SELECT is_active FROM forum_post WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .unwrap()
}

fn no_control_characters(screen: &str) {
    for c in screen.chars() {
        assert!(
            !c.is_control() || c == '\n',
            "control character {c:?} on screen:\n{screen}"
        );
    }
}

#[test]
fn three_panes_at_80x24_and_120x40() {
    let demo = support::demo(30, 7);
    let mut h = console(&demo.db, 80, 24, &[]);
    let screen = h.screen();
    assert!(screen.contains("Threads (all)"), "{screen}");
    assert!(screen.contains("Posts (all)"), "{screen}");
    assert!(screen.contains("Attachments (all)"), "{screen}");
    assert!(screen.contains("Details: thread"), "{screen}");
    assert!(screen.contains("? help"), "{screen}");
    // At 80 columns the status line abbreviates, but keeps every count.
    assert!(
        screen
            .lines()
            .any(|l| l.contains("thr ") && l.contains("pst ") && l.contains("att ")),
        "{screen}"
    );
    no_control_characters(&screen);
    insta::assert_snapshot!("panes_80x24", screen);
    h.resize(120, 40);
    insta::assert_snapshot!("panes_120x40", h.screen());
}

#[test]
fn every_state_has_a_text_marker() {
    let demo = support::demo(30, 7);
    let mut h = console(&demo.db, 120, 40, &[]);
    // Show deleted threads only: each line starts with the deleted marker.
    h.keys(&["f", "f"]);
    let screen = h.screen();
    assert!(screen.contains("Threads (deleted)"), "{screen}");
    let rows: Vec<&str> = screen
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("│x"))
        .collect();
    assert!(!rows.is_empty(), "{screen}");
    // The spam thread the console deleted 45 days ago is purgeable: "xP".
    assert!(screen.contains("│xP Selling cheap seeds"), "{screen}");
    assert!(screen.contains("del 45d"), "{screen}");
    // The thread the web app's queue removed still has active posts: its
    // posts show the violation mark.
    h.keys(&["f"]);
    select_thread(&mut h, "Heated argument");
    let screen = h.screen();
    assert!(screen.contains("│x"), "{screen}");
    assert!(
        screen.contains("+!"),
        "active post under a deleted thread is marked:\n{screen}"
    );
    // The retention-boundary thread: attachments deleted 1, 29, 31 and 45
    // days ago; only the last two are past retention.
    select_thread(&mut h, "Retention boundary");
    h.keys(&["Tab"]);
    let screen = h.screen();
    let att_lines: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("del ") && l.contains(" B "))
        .collect();
    assert_eq!(
        att_lines.iter().filter(|l| l.contains("xP")).count(),
        2,
        "{screen}"
    );
    assert_eq!(
        att_lines.iter().filter(|l| l.contains("x  ")).count(),
        2,
        "{screen}"
    );
}

#[test]
fn escape_sequences_in_titles_are_shown_not_obeyed() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    select_thread(&mut h, "RED ALERT");
    let screen = h.screen();
    assert!(screen.contains("\\x1b[2J\\x1b[31mRED ALERT"), "{screen}");
    assert!(
        screen.contains("<U+202E>"),
        "the bidi override is made visible:\n{screen}"
    );
    no_control_characters(&screen);
    insta::assert_snapshot!("escape_title", screen);
}

#[test]
fn help_lists_every_key() {
    let demo = support::demo(5, 1);
    // Tall enough for every line of help at once.
    let mut h = console(&demo.db, 100, 90, &[]);
    h.keys(&["?"]);
    let screen = h.screen();
    for description in [
        "soft-delete the selected row (asks first)",
        "restore the selected row (asks first)",
        "undo your latest action",
        "purge: the plan, then Y (read-only: the plan only)",
        "check the data for broken rules",
        "the audit log",
        "search titles, text, authors, file names (as shown)",
        "filter the pane: all, active, deleted",
        "this session's messages, in full",
        "redraw the whole screen",
        "start the purge (capital Y only)",
        "stop after the batch in flight",
    ] {
        assert!(
            screen.contains(description),
            "help lacks {description:?}:\n{screen}"
        );
    }
    insta::assert_snapshot!("help", screen);
    h.keys(&["Esc"]);
    assert!(!h.screen().contains("Help: every key"));
}

#[test]
fn too_small_says_so_and_ignores_keys_but_quit() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 80, 24, &[]);
    h.resize(40, 10);
    let screen = h.screen();
    assert!(screen.contains("Terminal too small"), "{screen}");
    insta::assert_snapshot!("too_small", screen);
    h.keys(&["d", "P", "?"]);
    assert!(h.app.overlay.is_none());
    h.keys(&["q"]);
    assert!(h.app.quit);
}

#[test]
fn delete_a_post_confirm_shows_counts_then_attachments_show_deleted() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    select_thread(&mut h, "Welcome to the plant forum");
    h.keys(&["Tab"]);
    let post = h.app.posts.selected().unwrap().clone();
    let attachments = h.app.attachments.rows.len();
    assert!(attachments > 0);
    h.keys(&["d"]);
    let screen = h.screen();
    assert!(screen.contains("Delete this post?"), "{screen}");
    assert!(screen.contains("1 post"), "{screen}");
    assert!(
        screen.contains(&format!("{attachments} attachment")),
        "{screen}"
    );
    assert!(screen.contains("y delete"), "{screen}");
    assert!(screen.contains("n/Esc/Enter cancel (default)"), "{screen}");
    insta::assert_snapshot!("confirm_delete_post", screen);
    // Enter alone never confirms.
    h.keys(&["Enter"]);
    assert!(h.app.overlay.is_none());
    let conn = support::open(&demo.db);
    let active: i64 = post_active(&conn, &post.id);
    assert_eq!(active, 1, "Enter cancelled; nothing changed");
    h.keys(&["d", "y"]);
    let active: i64 = post_active(&conn, &post.id);
    assert_eq!(active, 0);
    let still_active: i64 = conn
        .query_row(
            "SELECT count(*) FROM forum_attachment WHERE post_id = ?1 AND is_active = 1",
            [&post.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(still_active, 0);
    let screen = h.screen();
    assert!(
        screen.contains(&format!("deleted post {}", post.id)),
        "{screen}"
    );
    assert!(h.app.attachments.rows.iter().all(|r| !r.is_active));
    assert!(
        screen
            .lines()
            .filter(|l| l.contains("del just now"))
            .count()
            >= attachments,
        "{screen}"
    );
    // The selection stayed on the same post.
    assert_eq!(h.app.posts.selected().unwrap().id, post.id);

    // Deleting it again asks nothing: it says there is nothing to do.
    h.keys(&["d"]);
    assert!(h.app.overlay.is_none());
    assert!(
        h.screen().contains("is already deleted; nothing to do"),
        "{}",
        h.screen()
    );

    // Restore brings the post and its attachments back.
    h.keys(&["r"]);
    assert!(h.screen().contains("Restore this post?"));
    h.keys(&["y"]);
    let active: i64 = post_active(&conn, &post.id);
    assert_eq!(active, 1);
    assert!(h.app.attachments.rows.iter().all(|r| r.is_active));
    assert!(h.screen().contains(&format!("restored post {}", post.id)));

    // Undo reverts the restore: deleted again, row by row.
    h.keys(&["u"]);
    let active: i64 = post_active(&conn, &post.id);
    assert_eq!(active, 0);
    assert!(h.screen().contains("undid #"), "{}", h.screen());
    let log: i64 = conn
        .query_row(
            "SELECT count(*) FROM modcon_action WHERE actor = 'mo'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(log, 3, "delete, restore and undo are in the audit log");
}

#[test]
fn a_row_changed_under_an_open_confirmation_is_checked_again() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    select_thread(&mut h, "Welcome to the plant forum");
    h.keys(&["Tab", "d"]);
    let post = h.app.posts.selected().unwrap().id.clone();
    let before = h.app.attachments.rows.len();
    // Another process adds an attachment to the post meanwhile.
    let conn = support::open(&demo.db);
    conn.execute(
        "INSERT INTO forum_attachment (id, image, original_filename, file_size, mime_type, display_order, alt_text, \
         created_at, post_id, deleted_at, is_active) \
         VALUES ('feedfacefeedfacefeedfacefeedface', 'forum/attachments/x.png', 'x.png', 1, 'image/png', 9, '', \
         '2026-11-26 11:59:00', ?1, NULL, 1)",
        [&post],
    )
    .unwrap();
    h.keys(&["y"]);
    let screen = h.screen();
    assert!(
        screen.contains("The rows changed since this opened"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("{} attachments", before + 1)),
        "{screen}"
    );
    let active: i64 = post_active(&conn, &post);
    assert_eq!(active, 1, "nothing was changed on the stale confirmation");
    h.keys(&["y"]);
    let active: i64 = conn
        .query_row(
            "SELECT count(*) FROM forum_attachment WHERE post_id = ?1 AND is_active = 1",
            [&post],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        active, 0,
        "the second yes deleted the post with all its attachments"
    );
}

#[test]
fn purge_shows_the_dry_run_plan_and_needs_a_capital_y() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 100, 30, &[]);
    let conn = support::open(&demo.db);
    let total = || -> i64 { support::count(&conn, "SELECT count(*) FROM forum_attachment") };
    let before = total();
    h.keys(&["P"]);
    let screen = h.screen();
    assert!(
        screen.contains("Purge: hard-delete rows past retention"),
        "{screen}"
    );
    assert!(screen.contains("A purge cannot be undone"), "{screen}");
    assert!(screen.contains("Y purge (capital)"), "{screen}");
    insta::assert_snapshot!("purge_plan", screen);
    h.keys(&["y", "Enter"]);
    assert!(
        h.app.overlay.is_none(),
        "lower-case y and Enter do not purge"
    );
    assert_eq!(total(), before);
    // The gauge, mid-run: the answers of the purge are held back.
    h.keys(&["P"]);
    let out = h.app.on_key(modcon::tui::harness::key_event("Y"));
    assert!(!out.is_empty());
    let progress = modcon_core::purge::Progress {
        batch: 2,
        batches: 5,
        removed: modcon_core::model::Tally {
            threads: 0,
            posts: 3,
            attachments: 40,
            files: 7,
        },
        skipped: 0,
        files_missing: 1,
        files_refused: 0,
    };
    let more = h
        .app
        .on_response(modcon::tui::worker::Response::PurgeProgress(progress));
    assert!(more.is_empty());
    h.draw();
    let screen = h.screen();
    assert!(screen.contains("batch 2/5"), "{screen}");
    assert!(screen.contains("3 posts, 40 attachments"), "{screen}");
    insta::assert_snapshot!("purge_gauge", screen);
    // Quitting while it runs asks first; "n" keeps it going.
    h.keys(&["q"]);
    assert!(h.screen().contains("Quit while purging?"));
    h.keys(&["n"]);
    assert!(!h.app.quit);
    // Now let it run for real.
    h.answer(out);
    h.draw();
    let screen = h.screen();
    assert!(screen.contains("Done in"), "{screen}");
    assert!(total() < before, "the purge removed rows");
    h.keys(&["Esc"]);
    assert!(h.app.overlay.is_none());
}

/// A key that does nothing now stays in the help, saying why; the key
/// hints leave it out.
#[test]
fn the_help_says_which_keys_are_off_and_why() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 100, 90, &["--read-only"]);
    let hints = h.screen().lines().last().unwrap_or_default().to_string();
    assert!(
        hints.contains("check") && !hints.contains("delete"),
        "{hints}"
    );
    h.keys(&["?"]);
    let screen = h.screen();
    let line_of = |description: &str| {
        screen
            .lines()
            .find(|l| l.contains(description))
            .unwrap_or_else(|| panic!("help lacks {description:?}:\n{screen}"))
            .to_string()
    };
    for off in [
        "soft-delete the selected row (asks first)",
        "undo your latest action",
    ] {
        assert!(line_of(off).contains("(read-only)"), "{}", line_of(off));
    }
    assert!(!line_of("check the data for broken rules").contains("(read-only)"));
}

#[test]
fn read_only_keys_say_why_and_change_nothing() {
    let demo = support::demo(5, 1);
    // The database and the media root, every byte.
    let before = support::snapshot(demo.dir.path());
    let mut h = console(&demo.db, 100, 30, &["--read-only"]);
    assert!(h.screen().contains("READ-ONLY"));
    for key in ["d", "r", "u"] {
        h.keys(&[key]);
        let screen = h.screen();
        assert!(screen.contains("read-only:"), "{key}: {screen}");
        assert!(h.app.overlay.is_none());
    }
    // P shows the purge plan, reading only; Y does nothing there.
    h.keys(&["P"]);
    let screen = h.screen();
    assert!(
        screen.contains("Purge plan (read-only: nothing will be removed)"),
        "{screen}"
    );
    assert!(screen.contains("Deleted at or before"), "{screen}");
    assert!(!screen.contains("Y purge"), "{screen}");
    h.keys(&["Y"]);
    assert!(h.screen().contains("read-only: a purge cannot run"));
    h.keys(&["Esc"]);
    assert!(h.app.overlay.is_none());
    // Everything that only looks still works.
    h.keys(&["c"]);
    assert!(h.screen().contains("Check:"), "{}", h.screen());
    h.keys(&["Esc", "/"]);
    h.type_text("plant");
    h.keys(&[
        "Enter", "Esc", "L", "Esc", "f", "Tab", "j", "Enter", "?", "Esc",
    ]);
    drop(h);
    assert_eq!(
        support::snapshot(demo.dir.path()),
        before,
        "not a byte changed"
    );
}

#[test]
fn search_is_literal_and_jumps_to_the_row() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    h.keys(&["/"]);
    h.type_text("100%");
    h.keys(&["Enter"]);
    assert!(
        h.screen().contains("Search: 100% (0 hits)"),
        "{}",
        h.screen()
    );
    h.keys(&["Esc", "/"]);
    h.type_text("'; DROP TABLE forum_post; --");
    h.keys(&["Enter", "Esc"]);
    h.keys(&["/"]);
    h.type_text("shared_photo");
    h.keys(&["Enter"]);
    let screen = h.screen();
    assert!(screen.contains("Search: shared_photo (2 hits)"), "{screen}");
    h.keys(&["Enter"]);
    let screen = h.screen();
    assert!(h.app.overlay.is_none(), "{screen}");
    assert_eq!(
        h.app.threads.selected().unwrap().label,
        "Two attachments sharing one file name"
    );
    assert!(h.app.attachments.selected().is_some());
    let conn = support::open(&demo.db);
    assert!(
        support::count(&conn, "SELECT count(*) FROM forum_post") > 0,
        "the quote did nothing"
    );
}

#[test]
fn check_results_lead_to_their_rows() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    h.keys(&["c"]);
    let screen = h.screen();
    assert!(screen.contains("Check:"), "{screen}");
    assert!(screen.contains("violation"), "{screen}");
    h.keys(&["Enter"]);
    let row = h
        .app
        .posts
        .selected()
        .or(h.app.attachments.selected())
        .cloned();
    let focused = match h.app.focus {
        modcon::tui::app::Focus::Posts => h.app.posts.selected().cloned(),
        modcon::tui::app::Focus::Attachments => h.app.attachments.selected().cloned(),
        _ => None,
    };
    let row = focused.or(row).expect("a row is selected after the jump");
    assert!(
        row.violation,
        "the jump landed on the violating row: {row:?}"
    );
}

#[test]
fn another_process_committing_refreshes_the_screen() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    let first = h.app.threads.selected().unwrap().clone();
    let conn = support::open(&demo.db);
    conn.execute(
        "UPDATE forum_thread SET title = 'Renamed by the web app' WHERE id = ?1",
        [&first.id],
    )
    .unwrap();
    // The worker notices: data_version moved.
    let mut seen = Vec::new();
    let changed = h.worker.poll();
    assert!(
        matches!(changed, Some(modcon::tui::worker::Response::DataChanged)),
        "{changed:?}"
    );
    seen.push(changed);
    h.data_changed();
    assert!(h.screen().contains("Renamed by the web app"));
    assert_eq!(
        h.app.threads.selected().unwrap().id,
        first.id,
        "the selection stayed"
    );
}

#[test]
fn filter_cycles_all_active_deleted() {
    let demo = support::demo(20, 3);
    let mut h = console(&demo.db, 120, 40, &[]);
    h.keys(&["f"]);
    assert!(h.app.threads.rows.iter().all(|r| r.is_active));
    assert!(h.screen().contains("Threads (active)"));
    h.keys(&["f"]);
    assert!(h.app.threads.rows.iter().all(|r| !r.is_active));
    assert!(!h.app.threads.rows.is_empty());
    h.keys(&["f"]);
    assert!(h.screen().contains("Threads (all)"));
}

#[test]
fn lists_load_by_pages_as_the_selection_moves() {
    let demo = support::demo(600, 5);
    let mut h = console(&demo.db, 120, 40, &[]);
    let first = h.app.threads.rows.len();
    assert_eq!(first, modcon::tui::worker::PAGE);
    for _ in 0..(first - 10) {
        let out = h.app.on_key(modcon::tui::harness::key_event("j"));
        h.answer(out);
    }
    assert!(h.app.threads.rows.len() > first, "the next page came in");
    // G shows the last row at once, read from the end of the list.
    h.keys(&["G"]);
    let conn = support::open(&demo.db);
    let all = support::count(&conn, "SELECT count(*) FROM forum_thread") as usize;
    let oldest: String = conn
        .query_row(
            "SELECT id FROM forum_thread ORDER BY created_at, id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(h.app.threads.selected().unwrap().id, oldest);
    assert!(
        h.screen().contains(&format!("Threads (all) {all}/{all}")),
        "{}",
        h.screen()
    );
    // k walks back up through pages loaded above: every row once, in order.
    for _ in 0..all - 1 {
        let out = h.app.on_key(modcon::tui::harness::key_event("k"));
        h.answer(out);
    }
    assert_eq!(h.app.threads.state.selected(), Some(0));
    assert_eq!(h.app.threads.above, 0);
    assert_eq!(h.app.threads.rows.len(), all);
    let mut ids: Vec<&str> = h.app.threads.rows.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all, "no row twice across pages");
    h.keys(&["G"]);
    // A live refresh of a list longer than a window keeps (here lowered
    // to 300 rows) keeps the selection on its row.
    h.app.window = 300;
    let last = h.app.threads.selected().unwrap().id.clone();
    h.data_changed();
    assert_eq!(h.app.threads.selected().unwrap().id, last);
    for _ in 0..5 {
        h.keys(&["k"]);
    }
    let moved = h.app.threads.selected().unwrap().id.clone();
    h.data_changed();
    assert_eq!(h.app.threads.selected().unwrap().id, moved);
}

/// The ids of every thread in the console's order (newest first).
fn thread_order(db: &Path) -> Vec<String> {
    let conn = support::open(db);
    let mut stmt = conn
        .prepare("SELECT id FROM forum_thread ORDER BY created_at DESC, id DESC")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_pane_keeps_a_bounded_window_of_rows_however_far_it_scrolls() {
    let demo = support::demo(600, 5);
    let order = thread_order(&demo.db);
    let all = order.len();
    let mut h = console(&demo.db, 120, 40, &[]);
    h.app.window = 300;
    let press = |h: &mut Harness, key: &str| {
        let out = h.app.on_key(modcon::tui::harness::key_event(key));
        h.answer(out);
    };
    // Down the whole list: every row once, in order, the position right,
    // never more than the window in memory.
    let mut most = 0;
    for (at, id) in order.iter().enumerate() {
        assert_eq!(&h.app.threads.selected().unwrap().id, id, "row {at}");
        assert!(
            h.app
                .threads
                .position()
                .starts_with(&format!("{}/", at + 1))
        );
        most = most.max(h.app.threads.rows.len());
        press(&mut h, "j");
    }
    assert!(most <= 300, "{most} rows held");
    assert!(h.app.threads.above > 0, "rows above were let go");
    h.draw();
    assert!(
        h.screen().contains(&format!("Threads (all) {all}/{all}")),
        "{}",
        h.screen()
    );
    // And back up: the rows let go come back, in order.
    for (at, id) in order.iter().enumerate().rev() {
        assert_eq!(&h.app.threads.selected().unwrap().id, id, "row {at}");
        most = most.max(h.app.threads.rows.len());
        press(&mut h, "k");
    }
    assert!(most <= 300, "{most} rows held");
    assert_eq!(h.app.threads.above, 0);
    // g and G jump to either end without loading what lies between.
    h.keys(&["G"]);
    assert_eq!(h.app.threads.selected().unwrap().id, order[all - 1]);
    assert!(h.app.threads.rows.len() <= modcon::tui::worker::PAGE);
    h.keys(&["g"]);
    assert_eq!(h.app.threads.selected().unwrap().id, order[0]);
    assert!(h.app.threads.rows.len() <= 300);
}

#[test]
fn a_lane_that_cannot_open_its_connection_answers_each_request_with_the_error() {
    use modcon::tui::Event;
    use modcon::tui::worker::{self, Request, Response, Worker};
    let demo = support::demo(5, 2);
    let db = Db::open(&demo.db, &OpenOptions::new(Access::ReadWrite)).unwrap();
    let config = modcon::tui::worker_config(&settings(&demo.db, &[]), &db).unwrap();
    // The other lanes open their own connections after navigation's: the
    // file is gone by then.
    std::fs::remove_file(&demo.db).unwrap();
    let (events, rx) = std::sync::mpsc::channel();
    let lanes = worker::spawn(Worker::new(db, config), events).unwrap();
    lanes.send(Request::Counts { generation: 1 });
    lanes.send(Request::Counts { generation: 2 });
    let mut errors = Vec::new();
    while errors.len() < 2 {
        match rx.recv_timeout(support::waiting::PATIENCE) {
            Ok(Event::Worker(r)) => match *r {
                Response::Error(e) => errors.push(e),
                Response::Counts { .. } => panic!("counted without a connection"),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => panic!("no answer: {e} (errors so far: {errors:?})"),
        }
    }
    assert!(errors.iter().all(|e| e.contains("not found")), "{errors:?}");
}

#[test]
fn a_lane_keeps_its_small_page_cache_when_its_snapshot_is_opened_again() {
    use modcon::tui::worker::{Response, Worker};
    let demo = support::demo(5, 2);
    support::open(&demo.db)
        .pragma_update(None, "journal_mode", "WAL")
        .unwrap();
    // As --read-only opens a WAL database the web app closed: a snapshot.
    let db = Db::open(&demo.db, &OpenOptions::new(Access::ReadOnly)).unwrap();
    assert!(db.is_snapshot());
    let config = modcon::tui::worker_config(&settings(&demo.db, &["--read-only"]), &db).unwrap();
    let mut worker = Worker::new(db, config);
    worker.set_cache_kib(2048);
    assert!(worker.poll().is_none());
    // The web app writes: the snapshot is opened again, its cache as small.
    let web = support::open(&demo.db);
    web.execute(
        "UPDATE forum_thread SET title = 'renamed' WHERE rowid = 1",
        [],
    )
    .unwrap();
    assert!(matches!(worker.poll(), Some(Response::DataChanged)));
    assert_eq!(worker.cache_size(), Some(-2048));
}

#[test]
fn a_snapshot_says_so_in_the_status_line_and_help_until_the_web_app_writes() {
    let demo = support::demo(5, 2);
    support::open(&demo.db)
        .pragma_update(None, "journal_mode", "WAL")
        .unwrap();
    // The web app closed it: no -wal, so --read-only reads a snapshot.
    let mut h = console(&demo.db, 80, 24, &["--read-only"]);
    assert!(h.app.snapshot);
    let screen = h.screen();
    let status = screen
        .lines()
        .find(|l| l.contains("READ-ONLY"))
        .unwrap_or_else(|| panic!("no status line:\n{screen}"));
    assert!(status.starts_with("READ-ONLY snap"), "{status}");
    for part in [
        "demo.sqlite3",
        "thr ",
        "pst ",
        "att ",
        " P",
        " !",
        " F",
        "f:all",
    ] {
        assert!(status.contains(part), "{part:?} in {status:?}");
    }
    insta::assert_snapshot!("snapshot_80x24", screen);
    h.keys(&["?"]);
    let help = dialog_text(&h.screen());
    assert!(
        help.contains("a snapshot: a WAL database read without its -wal and -shm"),
        "{}",
        h.screen()
    );
    h.keys(&["Esc"]);
    // The web app writes (and keeps its -wal): the console reads live.
    let web = support::open(&demo.db);
    web.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
    web.execute(
        "UPDATE forum_thread SET title = 'renamed by the web app' \
         WHERE id = (SELECT id FROM forum_thread ORDER BY created_at DESC, id DESC LIMIT 1)",
        [],
    )
    .unwrap();
    h.data_changed();
    assert!(!h.app.snapshot);
    let screen = h.screen();
    assert!(screen.contains("renamed by the web app"), "{screen}");
    let status = screen.lines().find(|l| l.contains("READ-ONLY")).unwrap();
    assert!(!status.contains("snapshot"), "{status}");
}

#[test]
fn mouse_only_with_the_flag_clicks_select_and_the_wheel_scrolls() {
    use ratatui::crossterm::event::{MouseButton, MouseEventKind};
    let demo = support::demo(20, 3);
    let mut h = console(&demo.db, 120, 40, &[]);
    h.mouse(MouseEventKind::Down(MouseButton::Left), 5, 4);
    assert_eq!(
        h.app.threads.state.selected(),
        Some(0),
        "no --mouse: clicks do nothing"
    );
    let mut h = console(&demo.db, 120, 40, &["--mouse"]);
    // Row 4 of the screen is the fourth thread (row 0 is the border).
    h.mouse(MouseEventKind::Down(MouseButton::Left), 5, 4);
    assert_eq!(h.app.threads.state.selected(), Some(3));
    h.mouse(MouseEventKind::ScrollDown, 5, 4);
    assert_eq!(h.app.threads.state.selected(), Some(6));
    // A click in the posts pane focuses it.
    h.mouse(MouseEventKind::Down(MouseButton::Left), 60, 1);
    assert_eq!(h.app.focus, modcon::tui::app::Focus::Posts);
}

#[test]
fn the_audit_log_lists_actions_newest_first() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    h.keys(&["d", "y", "L"]);
    let screen = h.screen();
    assert!(screen.contains("Audit log, newest first"), "{screen}");
    let first_entry = screen
        .lines()
        .find(|l| l.contains(" mo delete thread "))
        .unwrap_or_default();
    assert!(!first_entry.is_empty(), "{screen}");
    // The demo's own history is there too, under its actor.
    assert!(screen.contains(" demo delete "), "{screen}");
    let mo = screen.find(" mo delete thread ").unwrap();
    let demo_line = screen.find(" demo delete ").unwrap();
    assert!(mo < demo_line, "newest first:\n{screen}");
}

#[test]
fn a_slow_database_shows_a_message_not_a_hang_and_ctrl_l_redraws() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    h.app.waiting_since = Some(std::time::Instant::now() - std::time::Duration::from_secs(2));
    h.draw();
    assert!(h.screen().contains("waiting for the database…"));
    h.app
        .on_response(modcon::tui::worker::Response::Busy(false));
    h.draw();
    assert!(!h.screen().contains("waiting for the database…"));
    assert!(!h.app.clear);
    let out = h.app.on_key(modcon::tui::harness::key_event("Ctrl-l"));
    assert!(out.is_empty());
    assert!(h.app.clear, "Ctrl-L asks the loop for a full redraw");
}

#[test]
fn purge_fields_are_replaced_by_the_first_digit_typed() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 100, 30, &[]);
    h.keys(&["P", "4", "5"]);
    h.keys(&["Tab", "2", "5", "0", "Backspace"]);
    let Some(modcon::tui::app::Overlay::Purge(d)) = &h.app.overlay else {
        panic!("the purge dialog is open")
    };
    assert_eq!((d.retention.as_str(), d.batch.as_str()), ("45", "25"));
    let screen = h.screen();
    assert!(screen.contains("retention, days  45"), "{screen}");
    assert!(screen.contains("batch size       25"), "{screen}");
    // The plan follows the fields: 45 days back.
    let plan = d.plan.clone().unwrap().unwrap();
    assert_eq!(plan.retention_days, 45);
    h.keys(&["Esc"]);
    assert!(h.app.overlay.is_none());
}

/// The environment of a terminal where only `vars` are set.
fn env_of(vars: &'static [(&'static str, &'static str)]) -> TermEnv {
    TermEnv::from_lookup(&move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

fn assert_ascii(screen: &str) {
    let bad: Vec<char> = screen.chars().filter(|c| !c.is_ascii()).collect();
    assert!(bad.is_empty(), "non-ASCII {bad:?} on screen:\n{screen}");
}

#[test]
fn a_terminal_without_utf8_gets_ascii_only() {
    let demo = support::demo(5, 1);
    let mut h = console_in(&demo.db, 80, 24, &[], env_of(&[("LANG", "C")]));
    select_thread(&mut h, "Welcome to the plant forum");
    let screen = h.screen();
    assert!(screen.starts_with("+> Threads"), "{screen}");
    assert!(
        screen.contains("|+ "),
        "ASCII borders and markers:\n{screen}"
    );
    assert_ascii(&screen);
    insta::assert_snapshot!("ascii_80x24", screen);
    // Dialogs and help too.
    h.keys(&["d"]);
    assert_ascii(&h.screen());
    h.keys(&["Esc", "?"]);
    assert_ascii(&h.screen());
    h.keys(&["Esc", "P"]);
    assert_ascii(&h.screen());
    // LC_ALL beats a UTF-8 LANG; --ascii forces it on a UTF-8 terminal.
    let h = console_in(
        &demo.db,
        80,
        24,
        &[],
        env_of(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "POSIX")]),
    );
    assert_ascii(&h.screen());
    let h = console(&demo.db, 80, 24, &["--ascii"]);
    assert_ascii(&h.screen());
    let h = console_in(&demo.db, 80, 24, &[], env_of(&[("LC_CTYPE", "C.UTF-8")]));
    assert!(h.screen().contains('│'), "{}", h.screen());
}

// ------------------------------------------------------------------
// The console tells the whole truth: each defect found by trying it as a
// new moderator would, and each view a moderator expects.

/// Selects the first row of the focused list pane whose label contains
/// `text` (from the top of the loaded rows).
fn select_in_focus(h: &mut Harness, text: &str) {
    let pane = h.app.focus.pane().expect("a list pane has the focus");
    let index = h
        .app
        .pane(pane)
        .rows
        .iter()
        .position(|r| r.label.contains(text))
        .unwrap_or_else(|| panic!("no row {text:?}"));
    h.keys(&["g"]);
    for _ in 0..index {
        h.keys(&["j"]);
    }
}

/// The key-hint lines at the bottom of the screen (the last one or two).
fn hint_text(h: &Harness) -> String {
    let screen = h.screen();
    let lines: Vec<&str> = screen.lines().collect();
    let status = lines
        .iter()
        .rposition(|l| l.contains("demo.sqlite3"))
        .expect("a status line");
    lines[status + 2..].join("\n")
}

#[test]
fn a_refusal_is_shown_whole_and_its_dialog_only_closes() {
    let demo = support::demo(5, 1);
    for (w, hgt) in [(80, 24), (120, 40)] {
        let mut h = console(&demo.db, w, hgt, &[]);
        select_thread(&mut h, "Restore me: a thread deleted 3 days ago");
        h.keys(&["Tab", "r"]);
        let screen = h.screen();
        // The whole reason, however narrow the screen.
        let joined = screen.replace(['│', '\n'], " ");
        let joined = joined.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(joined.contains("Cannot restore this post"), "{screen}");
        assert!(joined.contains("is deleted"), "{screen}");
        assert!(joined.contains("restore the thread first"), "{screen}");
        // Only closing is offered, in the dialog and in the hints.
        let hints = hint_text(&h);
        assert!(hints.contains("close"), "{hints}");
        assert!(!hints.contains("yes"), "{hints}");
        assert!(!screen.contains("y restore"), "{screen}");
        insta::assert_snapshot!(format!("refusal_{w}x{hgt}"), screen);
        // y is not a key of this dialog: it stays open.
        h.keys(&["y"]);
        assert!(matches!(
            h.app.overlay,
            Some(modcon::tui::app::Overlay::Info(_))
        ));
        h.keys(&["Esc"]);
        assert!(h.app.overlay.is_none());
        // And the reason is kept among the session's messages.
        h.keys(&["m"]);
        let joined = h.screen().replace(['│', '\n'], " ");
        let joined = joined.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(joined.contains("restore the thread first"), "{joined}");
    }
}

/// The counts the status line must show for the database as it is.
fn true_counts(db: &Path) -> modcon_core::query::Counts {
    let db = Db::open(db, &OpenOptions::new(Access::ReadOnly)).unwrap();
    let cutoff = modcon_core::cutoff(
        modcon_core::model::parse_datetime(support::DEMO_NOW).unwrap(),
        30,
    );
    modcon_core::query::counts(db.conn(), db.schema(), &cutoff).unwrap()
}

#[test]
fn counts_follow_every_change_even_one_made_while_counting() {
    use modcon::tui::worker::{Request, Response};
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    assert_eq!(h.app.counts.counts, Some(true_counts(&demo.db)));
    let conn = support::open(&demo.db);
    // Two outside commits, a moment apart: the second lands while the
    // count asked for the first is still running.
    conn.execute(
        "UPDATE forum_attachment SET is_active = 0, deleted_at = '2026-11-26 11:00:00' \
         WHERE id = (SELECT id FROM forum_attachment WHERE is_active = 1 ORDER BY id LIMIT 1)",
        [],
    )
    .unwrap();
    let out = h.app.on_response(Response::DataChanged);
    let counts: Vec<Request> = out
        .iter()
        .filter(|r| matches!(r, Request::Counts { .. }))
        .cloned()
        .collect();
    assert_eq!(counts.len(), 1, "the change asks for counts");
    let others: Vec<Request> = out
        .into_iter()
        .filter(|r| !matches!(r, Request::Counts { .. }))
        .collect();
    h.answer(others);
    // The worker computes the count now...
    let mut running = Vec::new();
    h.worker.handle(counts[0].clone(), &mut |r| running.push(r));
    // ...and the web app commits again before it is delivered.
    conn.execute(
        "UPDATE forum_thread SET is_active = 0 \
         WHERE id = (SELECT id FROM forum_thread WHERE is_active = 1 ORDER BY id LIMIT 1)",
        [],
    )
    .unwrap();
    let during = h.app.on_response(Response::DataChanged);
    assert!(
        !during.iter().any(|r| matches!(r, Request::Counts { .. })),
        "one count at a time"
    );
    h.answer(during);
    // The first count arrives: stale, so the console asks again at once.
    let mut after = Vec::new();
    for r in running {
        after.extend(h.app.on_response(r));
    }
    assert!(
        after.iter().any(|r| matches!(r, Request::Counts { .. })),
        "a change during the count is counted: {after:?}"
    );
    h.answer(after);
    h.draw();
    let truth = true_counts(&demo.db);
    assert_eq!(h.app.counts.counts, Some(truth));
    let screen = h.screen();
    assert!(
        screen.contains(&format!(
            "threads {}+{}x",
            truth.threads.active, truth.threads.deleted
        )),
        "{screen}"
    );
    assert!(
        screen.contains(&format!(
            "att. {}+{}x",
            truth.attachments.active, truth.attachments.deleted
        )),
        "{screen}"
    );
}

#[test]
fn every_scroll_stops_at_the_end_and_every_listed_key_works() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 80, 24, &[]);
    // A long post's details: G shows its end, j never scrolls past it.
    select_thread(&mut h, "Hostile");
    h.keys(&["Tab"]);
    let longest = (0..h.app.posts.rows.len())
        .max_by_key(|i| h.app.posts.rows[*i].label.len())
        .unwrap();
    h.keys(&["g"]);
    for _ in 0..longest {
        h.keys(&["j"]);
    }
    h.keys(&["Tab", "Tab"]);
    assert_eq!(h.app.focus, modcon::tui::app::Focus::Details);
    h.keys(&["G"]);
    let end = h.app.details.scroll;
    assert!(end > 0, "a long post scrolls:\n{}", h.screen());
    let last_screen = h.screen();
    h.keys(&["j", "j", "PgDn"]);
    assert_eq!(h.app.details.scroll, end, "no scrolling into emptiness");
    assert_eq!(h.screen(), last_screen);
    h.keys(&["g"]);
    assert_eq!(h.app.details.scroll, 0);
    // Help: j stops at the last line; G and End go there; g back up.
    h.keys(&["?"]);
    let max = modcon::tui::view::help_max_scroll(&h.app);
    assert!(max > 0);
    for _ in 0..max + 10 {
        h.keys(&["j"]);
    }
    let at_end = |h: &Harness| match h.app.overlay {
        Some(modcon::tui::app::Overlay::Help { scroll }) => scroll,
        _ => panic!("help is open"),
    };
    assert_eq!(at_end(&h), max, "j stops at the end");
    let screen = h.screen();
    assert!(
        screen.contains("keep the purge running"),
        "the last line is on screen:\n{screen}"
    );
    h.keys(&["g"]);
    assert_eq!(at_end(&h), 0);
    h.keys(&["G"]);
    assert_eq!(at_end(&h), max);
    h.keys(&["g"]);
    let end_key = modcon::tui::harness::press(
        ratatui::crossterm::event::KeyCode::End,
        ratatui::crossterm::event::KeyModifiers::NONE,
    );
    let out = h.app.on_key(end_key);
    h.answer(out);
    assert_eq!(at_end(&h), max, "End works as listed");
}

#[test]
fn searches_say_when_they_were_capped_and_count_one_hit_as_one() {
    let demo = support::demo(40, 2);
    let mut h = console(&demo.db, 120, 40, &[]);
    h.keys(&["/"]);
    h.type_text("e");
    h.keys(&["Enter"]);
    let screen = h.screen();
    assert!(screen.contains("(500+ hits)"), "{screen}");
    assert!(screen.contains("the search stopped at 500"), "{screen}");
    h.keys(&["Esc", "/"]);
    h.type_text("shared_photo.jpg");
    h.keys(&["Enter", "Esc", "/"]);
    h.type_text("Welcome to the plant forum");
    h.keys(&["Enter"]);
    let screen = h.screen();
    assert!(screen.contains("(1 hit)"), "{screen}");
    assert!(!screen.contains("1 hits"), "{screen}");
}

#[test]
fn a_jump_selects_the_row_inside_its_whole_list() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    // The posts of the thread the queue removed are all active: hide them
    // with the deleted filter, then jump to the last one from the check view.
    select_thread(&mut h, "Heated argument");
    h.keys(&["Tab", "f", "f"]);
    assert!(h.screen().contains("Posts (deleted)"), "{}", h.screen());
    h.keys(&["c"]);
    let Some(modcon::tui::app::Overlay::Check(check)) = &h.app.overlay else {
        panic!("the check view is open:\n{}", h.screen())
    };
    let shown = check.shown();
    let last_post = shown
        .iter()
        .rposition(|(p, _)| {
            p.is_some_and(|p| {
                p.kind == modcon::tui::app::ProblemKind::Violation
                    && p.target
                        .as_ref()
                        .is_some_and(|t| t.kind == modcon_core::model::Kind::Post)
            })
        })
        .unwrap();
    let at = check.state.selected().unwrap();
    for _ in at..last_post {
        h.keys(&["j"]);
    }
    let target = match &h.app.overlay {
        Some(modcon::tui::app::Overlay::Check(c)) => c.selected().unwrap().target.clone().unwrap(),
        _ => panic!("the check view is open"),
    };
    h.keys(&["Enter"]);
    let screen = h.screen();
    // All three posts are there, on screen, the target selected at its
    // place in the list, and the filter that hid them was set back to all,
    // with a word about it.
    assert_eq!(h.app.posts.rows.len(), 3, "{screen}");
    let at = h
        .app
        .posts
        .rows
        .iter()
        .position(|r| r.id == target.id)
        .unwrap();
    assert_eq!(h.app.posts.state.selected(), Some(at));
    assert!(
        screen.contains(&format!("Posts (all) {}/3", at + 1)),
        "{screen}"
    );
    assert!(
        at > 0,
        "the target is not the first post: rows above it show"
    );
    assert_eq!(h.app.posts.state.offset(), 0, "{screen}");
    assert!(screen.contains("filter set to all"), "{screen}");
    h.keys(&["k"]);
    assert!(
        h.screen().contains(&format!("Posts (all) {at}/3")),
        "{}",
        h.screen()
    );
    // The threads list holds the thread inside the whole list too.
    let threads = h.app.threads.position();
    assert!(!threads.starts_with("1/"), "{threads}");
    assert_eq!(
        h.app.threads.selected().unwrap().label,
        "Heated argument about peat (removed by the web app's queue)"
    );
}

#[test]
fn each_action_replaces_the_message_and_the_messages_view_keeps_them_whole() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 80, 24, &[]);
    select_thread(&mut h, "Welcome to the plant forum");
    h.keys(&["Tab"]);
    let post = h.app.posts.selected().unwrap().clone();
    h.keys(&["d", "y"]);
    assert!(h.screen().contains("deleted post"), "{}", h.screen());
    // The next key replaces it: no stale answer under a new question.
    h.keys(&["Tab"]);
    assert!(!h.screen().contains("deleted post"), "{}", h.screen());
    // The web app changes one of the rows since: undo leaves it alone and
    // says why, whole, in the messages view.
    let conn = support::open(&demo.db);
    conn.execute(
        "UPDATE forum_attachment SET is_active = 1, deleted_at = NULL WHERE post_id = ?1",
        [&post.id],
    )
    .unwrap();
    h.data_changed();
    h.keys(&["u"]);
    let screen = h.screen();
    assert!(screen.contains("(m: all of it)"), "{screen}");
    h.keys(&["m"]);
    let screen = h.screen();
    assert!(screen.contains("Messages of this session"), "{screen}");
    assert!(screen.contains("left alone:"), "{screen}");
    assert!(screen.contains(": changed since"), "{screen}");
    insta::assert_snapshot!("messages_80x24", screen);
}

#[test]
fn every_hinted_key_does_something_here() {
    let demo = support::demo(5, 1);
    // Contexts: each pane, read-only, a dialog, an overlay.
    let contexts: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        ("threads", vec![], vec![]),
        ("posts", vec!["Tab"], vec![]),
        ("attachments", vec!["Tab", "Tab"], vec![]),
        ("details", vec!["Tab", "Tab", "Tab"], vec![]),
        ("read-only", vec![], vec!["--read-only"]),
        ("confirm", vec!["d"], vec![]),
        ("reason field", vec!["d", "Tab"], vec![]),
        ("help", vec!["?"], vec![]),
        ("log", vec!["L"], vec![]),
        ("check", vec!["c"], vec![]),
        ("flags", vec!["F"], vec![]),
        ("flags read-only", vec!["F"], vec!["--read-only"]),
    ];
    for (name, setup, flags) in contexts {
        let mut h = console(&demo.db, 120, 40, &flags);
        select_thread(&mut h, "Welcome to the plant forum");
        h.keys(&setup);
        let layer = h.app.layer();
        let hints = h.app.keymap.hints(layer, &|a| h.app.works(a));
        assert!(!hints.is_empty(), "{name}");
        for (key, label) in hints {
            let mut h = console(&demo.db, 120, 40, &flags);
            select_thread(&mut h, "Welcome to the plant forum");
            h.keys(&setup);
            let before = h.frame.clone();
            let key = match key.as_str() {
                "↓" => "Down",
                "↑" => "Up",
                other => other,
            }
            .to_string();
            h.keys(&[&key]);
            assert!(
                h.app.quit || h.frame != before,
                "{name}: hint {key} {label} did nothing:\n{}",
                h.screen()
            );
        }
    }
    // What never works here is not hinted.
    let h = console(&demo.db, 120, 40, &["--read-only"]);
    let hints = hint_text(&h);
    for gone in ["d delete", "r restore", "u undo"] {
        assert!(!hints.contains(gone), "{hints}");
    }
    let mut h = console(&demo.db, 120, 40, &[]);
    h.keys(&["Tab", "Tab"]);
    assert!(!hint_text(&h).contains("Enter open"), "{}", hint_text(&h));
    h.keys(&["?"]);
    assert!(!h.screen().contains("go to row"), "{}", h.screen());
}

#[test]
fn at_80x24_the_status_line_keeps_every_count_and_the_filter() {
    let demo = support::demo(30, 7);
    let mut h = console(&demo.db, 80, 24, &["--read-only"]);
    let truth = true_counts(&demo.db);
    let screen = h.screen();
    let status = screen
        .lines()
        .find(|l| l.contains("demo.sqlite3"))
        .unwrap()
        .to_string();
    for k in [truth.threads, truth.posts, truth.attachments] {
        assert!(
            status.contains(&format!("{}+{}x", k.active, k.deleted)),
            "{status}"
        );
    }
    let purgeable = truth.threads.purgeable + truth.posts.purgeable + truth.attachments.purgeable;
    let violations = truth.posts.violations + truth.attachments.violations;
    assert!(status.contains(&format!("P{purgeable}")), "{status}");
    assert!(status.contains(&format!("!{violations}")), "{status}");
    let pending = truth.flags.unwrap().pending;
    assert!(pending > 0);
    assert!(status.contains(&format!("F{pending}")), "{status}");
    assert!(status.contains("f:all"), "{status}");
    assert!(status.contains("READ-ONLY"), "{status}");
    let hints = hint_text(&h);
    assert!(hints.contains("L log"), "{hints}");
    assert!(hints.contains("Tab pane"), "{hints}");
    // The whole path is in help.
    h.keys(&["?"]);
    assert!(h.screen().contains("/srv/forum/demo.sqlite3"));
    insta::assert_snapshot!("help_80x24", h.screen());
}

#[test]
fn the_details_pane_says_everything_about_the_row() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    // A thread with no posts: its whole title can be read.
    select_thread(&mut h, "A very long title");
    let screen = h.screen();
    // The list cuts it; the details wrap all 60 of its "leaves".
    assert!(screen.matches("leaves").count() >= 60, "{screen}");
    assert!(screen.contains("category:"), "{screen}");
    assert!(screen.contains("pinned: no   locked: no"), "{screen}");
    // A deleted thread: when, and where that time comes from.
    select_thread(&mut h, "Restore me: a thread deleted 3 days ago");
    let screen = h.screen();
    assert!(screen.contains("deleted: 2026-11-23"), "{screen}");
    assert!(screen.contains("exact: the console deleted it"), "{screen}");
    insta::assert_snapshot!("details_deleted_thread_120x40", screen);
    // Removed by the web app's moderation queue: its action's time, exact.
    select_thread(&mut h, "Heated argument");
    let screen = h.screen();
    assert!(
        screen.contains("exact: the web app's moderation queue removed it"),
        "{screen}"
    );
    // An attachment: stored path, original name, type, size, the file and
    // its thumbnails on disk.
    select_thread(&mut h, "Welcome to the plant forum");
    h.keys(&["Tab", "Tab"]);
    let screen = h.screen();
    assert!(screen.contains("Details: attachment"), "{screen}");
    assert!(screen.contains("stored as: forum/attachments/"), "{screen}");
    assert!(screen.contains("original name: photo_1.jpg"), "{screen}");
    assert!(screen.contains("file: present"), "{screen}");
    assert!(screen.contains("thumbnails: "), "{screen}");
    insta::assert_snapshot!("details_attachment_120x40", screen);
    h.resize(80, 24);
    insta::assert_snapshot!("details_attachment_80x24", h.screen());
    // A post seen deleted by someone else: first seen, not exact.
    h.resize(120, 40);
    select_thread_at(&mut h, "Restore me: a post deleted by the web app");
    h.keys(&["Tab"]);
    select_in_focus(&mut h, "My answer");
    let screen = h.screen();
    assert!(screen.contains("first seen deleted"), "{screen}");
}

/// [`select_thread`], from any pane.
fn select_thread_at(h: &mut Harness, text: &str) {
    while h.app.focus != modcon::tui::app::Focus::Threads {
        h.keys(&["h"]);
    }
    select_thread(h, text);
}

#[test]
fn the_check_view_groups_problems_filters_them_and_fixes_with_a_count() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    h.keys(&["c"]);
    let screen = h.screen();
    assert!(
        screen.contains("violations: active under a deleted parent (5)"),
        "{screen}"
    );
    assert!(
        screen.contains("missing files") || screen.contains("unsafe paths"),
        "{screen}"
    );
    let stamped = match &h.app.overlay {
        Some(modcon::tui::app::Overlay::Check(c)) => c.report.stamped,
        _ => panic!("the check view is open"),
    };
    assert!(stamped > 0, "the demo has rows of unknown deletion time");
    assert!(
        screen.contains(&format!("This check stamped {stamped} deleted row")),
        "{screen}"
    );
    insta::assert_snapshot!("check_120x40", screen);
    h.resize(80, 24);
    insta::assert_snapshot!("check_80x24", h.screen());
    h.resize(120, 40);
    // One kind at a time.
    h.keys(&["f"]);
    let screen = h.screen();
    assert!(screen.contains("showing: violations"), "{screen}");
    assert!(!screen.contains("unreferenced files ("), "{screen}");
    // The fix, with what it will delete counted first.
    h.keys(&["F"]);
    let screen = h.screen();
    assert!(screen.contains("Fix: delete every active row"), "{screen}");
    assert!(screen.contains("3 posts"), "{screen}");
    assert!(screen.contains("y fix"), "{screen}");
    h.keys(&["y"]);
    let conn = support::open(&demo.db);
    let violations = support::count(
        &conn,
        "SELECT count(*) FROM forum_post p JOIN forum_thread t ON t.id = p.thread_id \
         WHERE p.is_active = 1 AND t.is_active = 0",
    );
    assert_eq!(violations, 0);
    // The view was checked again: no violations left.
    let screen = h.screen();
    assert!(screen.contains("Check:"), "{screen}");
    assert!(
        screen.contains("violations: active under a deleted parent (0)"),
        "{screen}"
    );
}

#[test]
fn search_results_show_author_and_thread_and_n_steps_through_them() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    // What is seen can be found: the escape as the console shows it.
    h.keys(&["/"]);
    h.type_text("\\x1b[31mRED");
    h.keys(&["Enter"]);
    let screen = h.screen();
    assert!(screen.contains("(1 hit)"), "{screen}");
    h.keys(&["Esc", "/"]);
    h.type_text("photo");
    h.keys(&["Enter"]);
    let screen = h.screen();
    assert!(
        screen.contains("Two attachments sharing one…"),
        "the thread of each hit:\n{screen}"
    );
    insta::assert_snapshot!("search_120x40", screen);
    let first = match &h.app.search {
        Some(s) => s.hits.clone(),
        None => panic!("a search"),
    };
    assert!(first.len() > 2);
    h.keys(&["Enter"]);
    assert_eq!(h.app.details.target.as_ref().unwrap().id, first[0].id);
    h.keys(&["n"]);
    assert_eq!(h.app.details.target.as_ref().unwrap().id, first[1].id);
    assert!(
        h.screen().contains(&format!("hit 2/{}", first.len())),
        "{}",
        h.screen()
    );
    h.keys(&["N", "N"]);
    assert_eq!(
        h.app.details.target.as_ref().unwrap().id,
        first[first.len() - 1].id
    );
}

#[test]
fn a_restore_confirmation_counts_what_comes_back_and_what_stays() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 80, 24, &[]);
    select_thread(&mut h, "Restore me: a thread deleted 3 days ago");
    h.keys(&["r"]);
    let screen = h.screen();
    assert!(screen.contains("This brings back:"), "{screen}");
    assert!(screen.contains("1 thread"), "{screen}");
    assert!(screen.contains("3 posts"), "{screen}");
    assert!(screen.contains("Stays deleted below it:"), "{screen}");
    assert!(screen.contains("1 post"), "{screen}");
    insta::assert_snapshot!("confirm_restore_80x24", screen);
}

/// The screen's text with the dialog's borders and line breaks taken out,
/// so a sentence the dialog wrapped reads as one.
fn dialog_text(screen: &str) -> String {
    screen
        .lines()
        .map(|line| {
            let inner: String = line
                .chars()
                .skip_while(|c| *c != '│')
                .skip(1)
                .skip_while(|c| *c != '│')
                .skip(1)
                .take_while(|c| *c != '│')
                .collect();
            inner.trim().to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_purge_plan_counts_the_files_and_thumbnails_it_removes_at_80x24() {
    let demo = support::demo(5, 1);
    // The same database without its media folder, for the end.
    let bare = tempfile::tempdir().unwrap();
    let bare_db = bare.path().join("demo.sqlite3");
    std::fs::copy(&demo.db, &bare_db).unwrap();
    let media_files = || support::listing(&demo.media);
    let before = media_files();
    let mut h = console(&demo.db, 80, 24, &[]);
    h.keys(&["P"]);
    let screen = h.screen();
    let text = dialog_text(&screen);
    let plan = match &h.app.overlay {
        Some(modcon::tui::app::Overlay::Purge(d)) => d.plan.clone().unwrap().unwrap(),
        _ => panic!("the purge dialog is open:\n{screen}"),
    };
    assert!(plan.removed.files > 0 && plan.thumbnails > 0, "{plan:?}");
    let counted = format!(
        "Files to remove: {} (and {} thumbnails); {} already missing, {} refused (outside the media root)",
        plan.removed.files, plan.thumbnails, plan.files_missing, plan.files_refused
    );
    assert!(text.contains(&counted), "{counted}\n{screen}");
    assert!(
        text.contains("A purge cannot be undone: rows and their files are gone for good."),
        "{screen}"
    );
    assert!(screen.contains("Y purge (capital)"), "{screen}");
    insta::assert_snapshot!("purge_plan_files_80x24", screen);
    // The real purge removes exactly what the plan counted.
    h.keys(&["Y"]);
    let text = dialog_text(&h.screen());
    assert!(text.contains("Done in"), "{}", h.screen());
    let gone: Vec<String> = before.difference(&media_files()).cloned().collect();
    let thumbnails = gone.iter().filter(|f| f.starts_with("CACHE/")).count() as i64;
    assert_eq!(
        (gone.len() as i64 - thumbnails, thumbnails as u64),
        (plan.removed.files, plan.thumbnails),
        "{gone:?}"
    );
    assert!(
        text.contains(&format!(
            "Files: {} removed (and {} thumbnails)",
            plan.removed.files, plan.thumbnails
        )),
        "{}",
        h.screen()
    );

    // Without a media root the plan says its files are not counted, and
    // that the purge would be refused.
    let mut h = console(&bare_db, 80, 24, &[]);
    h.keys(&["P"]);
    let text = dialog_text(&h.screen());
    assert!(
        text.contains("Files: not counted, no media root is set (give --media-root); without one this purge is refused"),
        "{}",
        h.screen()
    );
}

#[test]
fn read_only_purge_shows_the_plan() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 80, 24, &["--read-only"]);
    h.keys(&["P"]);
    insta::assert_snapshot!("purge_plan_read_only_80x24", h.screen());
}

#[test]
fn the_log_fits_80_columns_and_leads_to_the_row() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 80, 24, &[]);
    select_thread(&mut h, "Welcome to the plant forum");
    h.keys(&["d", "y", "L"]);
    let screen = h.screen();
    insta::assert_snapshot!("log_80x24", screen);
    let first = screen
        .lines()
        .find(|l| l.contains("#16 11-26 12:00 mo delete thread"))
        .unwrap_or_default();
    assert!(first.contains("1 thread 1 post 1 attachment"), "{screen}");
    assert!(!screen.contains("attachmen…"), "counts fit:\n{screen}");
    h.keys(&["Enter"]);
    assert!(h.app.overlay.is_none());
    assert_eq!(
        h.app.threads.selected().unwrap().label,
        "Welcome to the plant forum 🌱 — read this first"
    );
}

#[test]
fn without_colour_the_focused_pane_is_marked_in_its_title() {
    let demo = support::demo(5, 1);
    let env = env_of(&[("LANG", "C.UTF-8"), ("NO_COLOR", "1")]);
    let mut h = console_in(&demo.db, 120, 40, &[], env);
    assert!(!h.app.theme.color);
    assert!(h.screen().contains("▶ Threads"), "{}", h.screen());
    h.keys(&["Tab"]);
    let screen = h.screen();
    assert!(screen.contains("▶ Posts"), "{screen}");
    assert!(!screen.contains("▶ Threads"), "{screen}");
    // h at the first pane stays there; l at the last too.
    h.keys(&["h", "h", "h"]);
    assert_eq!(h.app.focus, modcon::tui::app::Focus::Threads);
    h.keys(&["l", "l", "l", "l", "l"]);
    assert_eq!(h.app.focus, modcon::tui::app::Focus::Details);
}

#[test]
fn a_confirmation_takes_a_reason_and_enter_in_it_never_confirms() {
    let demo = support::demo(5, 1);
    let conn = support::open(&demo.db);
    let mut h = console(&demo.db, 80, 24, &[]);
    select_thread(&mut h, "Welcome to the plant forum");
    h.keys(&["Tab"]);
    let post = h.app.posts.selected().unwrap().id.clone();
    h.keys(&["d", "Tab"]);
    assert_eq!(h.app.layer(), modcon::tui::keymap::Layer::TextField);
    // y, n and every other key are text here; Enter only leaves the field.
    h.type_text("spam, by every yardstick");
    h.keys(&["Enter"]);
    assert_eq!(post_active(&conn, &post), 1, "nothing happened yet");
    let screen = h.screen();
    assert!(
        screen.contains("Reason (optional): spam, by every yardstick"),
        "{screen}"
    );
    insta::assert_snapshot!("confirm_with_reason_80x24", screen);
    h.keys(&["y"]);
    assert_eq!(post_active(&conn, &post), 0);
    let reason: Option<String> = conn
        .query_row(
            "SELECT reason FROM modcon_action ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason.as_deref(), Some("spam, by every yardstick"));
    // Esc in the field closes the dialog; nothing changes.
    h.keys(&["r", "Tab"]);
    h.type_text("appeal");
    h.keys(&["Esc"]);
    assert!(h.app.overlay.is_none());
    assert_eq!(post_active(&conn, &post), 0);
    // Without a reason the entry has none.
    h.keys(&["r", "y"]);
    assert_eq!(post_active(&conn, &post), 1);
    let reason: Option<String> = conn
        .query_row(
            "SELECT reason FROM modcon_action ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, None);
}

#[test]
fn the_purge_dialog_takes_a_reason_where_capital_y_is_text() {
    let demo = support::demo(5, 1);
    let conn = support::open(&demo.db);
    let mut h = console(&demo.db, 100, 30, &[]);
    h.keys(&["P", "Tab", "Tab"]);
    h.type_text("GDPR request, Y not");
    h.keys(&["Enter"]);
    assert!(
        matches!(&h.app.overlay, Some(modcon::tui::app::Overlay::Purge(d)) if d.running.is_none() && d.field == 0),
        "Enter left the field; the purge has not started"
    );
    h.keys(&["Y"]);
    let reason: String = conn
        .query_row(
            "SELECT reason FROM modcon_action WHERE action = 'purge'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, "GDPR request, Y not");
}

// ------------------------------------------------------------ flag view

/// The demo's post reported twice: its flags' ids, newest first.
fn twice_flagged(db: &Path) -> (String, Vec<String>) {
    let conn = support::open(db);
    let post: String = conn
        .query_row(
            "SELECT post_id FROM forum_flaggedcontent WHERE status = 'pending' AND post_id IS NOT NULL \
             GROUP BY post_id HAVING count(*) = 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let flags = conn
        .prepare(
            "SELECT id FROM forum_flaggedcontent WHERE post_id = ?1 ORDER BY created_at DESC, id DESC",
        )
        .unwrap()
        .query_map([&post], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (post, flags)
}

fn select_flag(h: &mut Harness, flag: &str) {
    let index = match &h.app.overlay {
        Some(modcon::tui::app::Overlay::Flags(v)) => v
            .flags
            .iter()
            .position(|f| f.id == flag)
            .unwrap_or_else(|| panic!("flag {flag} not listed")),
        _ => panic!("the flag view is open"),
    };
    h.keys(&["g"]);
    for _ in 0..index {
        h.keys(&["j"]);
    }
}

#[test]
fn the_flag_view_shows_the_queue_at_80x24_and_120x40() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 80, 24, &["--actor", "moderator_mo"]);
    assert!(hint_text(&h).contains("F flags"), "{}", hint_text(&h));
    h.keys(&["F"]);
    let screen = h.screen();
    assert!(
        screen.contains("Flag queue: 6 pending, newest first"),
        "{screen}"
    );
    for shown in [
        "spam",
        "off_topic",
        "misinformation",
        "offensive",
        "thread",
        "post",
    ] {
        assert!(screen.contains(shown), "{shown}:\n{screen}");
    }
    no_control_characters(&screen);
    insta::assert_snapshot!("flags_80x24", screen);
    let mut h = console(&demo.db, 120, 40, &["--actor", "moderator_mo"]);
    h.keys(&["F"]);
    // The flag on a post already deleted is marked so, and the hostile
    // explanation shows its escapes instead of obeying them.
    let deleted: String = support::open(&demo.db)
        .query_row(
            "SELECT f.id FROM forum_flaggedcontent f JOIN forum_post p ON p.id = f.post_id \
             WHERE f.status = 'pending' AND p.is_active = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    select_flag(&mut h, &deleted);
    let screen = h.screen();
    assert!(screen.contains("x ALREADY DELETED"), "{screen}");
    assert!(
        screen.contains("explanation: Recommends a pesticide"),
        "{screen}"
    );
    insta::assert_snapshot!("flags_deleted_120x40", screen);
    // Its content cannot be removed again: d is not hinted, and says why.
    let before = std::fs::read(&demo.db).unwrap();
    h.keys(&["d"]);
    let screen = h.screen();
    assert!(screen.contains("is already deleted"), "{screen}");
    assert!(screen.contains("approve the flag"), "{screen}");
    h.keys(&["Esc"]);
    assert!(matches!(
        h.app.overlay,
        Some(modcon::tui::app::Overlay::Flags(_))
    ));
    assert_eq!(std::fs::read(&demo.db).unwrap(), before);
    let (_, twice) = twice_flagged(&demo.db);
    select_flag(&mut h, &twice[0]);
    let screen = h.screen();
    assert!(
        screen.contains("1 other pending flag on the same post"),
        "{screen}"
    );
    let hostile: String = support::open(&demo.db)
        .query_row(
            "SELECT id FROM forum_flaggedcontent WHERE instr(explanation, char(27)) > 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    select_flag(&mut h, &hostile);
    let screen = h.screen();
    assert!(screen.contains("\\x1b[2J"), "{screen}");
    no_control_characters(&screen);
    insta::assert_snapshot!("flags_120x40", screen);
}

#[test]
fn the_flag_views_title_claims_no_count_when_its_list_failed_to_load() {
    let demo = support::demo(5, 1);
    let conn = support::open(&demo.db);
    // The list fails on its first load: the queue's table is gone (as
    // when the web app's migration renames it while the console runs).
    let mut h = console(&demo.db, 80, 24, &["--actor", "moderator_mo"]);
    conn.execute_batch("ALTER TABLE forum_flaggedcontent RENAME TO forum_flaggedcontent_old")
        .unwrap();
    h.keys(&["F"]);
    let screen = h.screen();
    assert!(
        screen.contains("Flag queue: could not be loaded"),
        "{screen}"
    );
    assert!(!screen.contains("0 pending"), "{screen}");
    assert!(
        screen.contains("table forum_flaggedcontent is missing"),
        "{screen}"
    );
    h.keys(&["Esc"]);
    // Loaded once, then a reload fails: the title does not keep claiming
    // the old count.
    conn.execute_batch("ALTER TABLE forum_flaggedcontent_old RENAME TO forum_flaggedcontent")
        .unwrap();
    h.keys(&["F"]);
    assert!(
        h.screen().contains("Flag queue: 6 pending, newest first"),
        "{}",
        h.screen()
    );
    conn.execute_batch("ALTER TABLE forum_flaggedcontent RENAME TO forum_flaggedcontent_old")
        .unwrap();
    h.data_changed();
    let screen = h.screen();
    assert!(
        screen.contains("Flag queue: could not be loaded"),
        "{screen}"
    );
    assert!(!screen.contains("pending,"), "{screen}");
    // Nothing is shown, so nothing can be reviewed: the flag selected
    // before the failure is not acted on unseen.
    h.keys(&["a"]);
    assert!(
        matches!(h.app.overlay, Some(modcon::tui::app::Overlay::Flags(_))),
        "{}",
        h.screen()
    );
    // Back again: the next reload shows the queue and its count.
    conn.execute_batch("ALTER TABLE forum_flaggedcontent_old RENAME TO forum_flaggedcontent")
        .unwrap();
    h.data_changed();
    assert!(
        h.screen().contains("Flag queue: 6 pending, newest first"),
        "{}",
        h.screen()
    );
}

#[test]
fn a_review_from_the_flag_view_reaches_the_database() {
    let demo = support::demo(5, 1);
    let conn = support::open(&demo.db);
    let (post, twice) = twice_flagged(&demo.db);
    let photos = support::count(
        &conn,
        &format!(
            "SELECT count(*) FROM forum_attachment WHERE post_id = '{post}' AND is_active = 1"
        ),
    );
    assert!(photos >= 2);
    let mut h = console(&demo.db, 80, 24, &["--actor", "moderator_mo"]);
    h.keys(&["F"]);
    select_flag(&mut h, &twice[1]);
    h.keys(&["d"]);
    // The reason comes first: the dialog starts in its field, where y is text.
    assert_eq!(h.app.layer(), modcon::tui::keymap::Layer::TextField);
    let screen = h.screen();
    assert!(screen.contains("Remove this post?"), "{screen}");
    assert!(screen.contains("1 post"), "{screen}");
    assert!(
        screen.contains(&format!("{photos} attachments")),
        "{screen}"
    );
    assert!(screen.contains("Reason (required)"), "{screen}");
    // Without a reason, y does nothing.
    h.keys(&["Enter", "y"]);
    assert_eq!(post_active(&conn, &post), 1);
    assert_eq!(
        h.app.layer(),
        modcon::tui::keymap::Layer::TextField,
        "back to the reason"
    );
    h.type_text("spam, yes, twice");
    h.keys(&["Tab"]);
    h.type_text("second report");
    h.keys(&["Enter"]);
    assert_eq!(post_active(&conn, &post), 1, "Enter never confirms");
    insta::assert_snapshot!("review_remove_80x24", h.screen());
    h.keys(&["y"]);
    assert_eq!(post_active(&conn, &post), 0);
    assert_eq!(
        support::count(
            &conn,
            &format!(
                "SELECT count(*) FROM forum_attachment WHERE post_id = '{post}' AND is_active = 1"
            ),
        ),
        0,
        "the cascade took the photos"
    );
    let (status, notes, by): (String, String, i64) = conn
        .query_row(
            "SELECT status, moderator_notes, reviewed_by_id FROM forum_flaggedcontent WHERE id = ?1",
            [&twice[1]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (status.as_str(), notes.as_str()),
        ("removed", "second report")
    );
    let staff: i64 = conn
        .query_row(
            "SELECT id FROM users_user WHERE username = 'moderator_mo'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(by, staff);
    let (reason, action_type): (String, String) = conn
        .query_row(
            "SELECT reason, action_type FROM forum_moderationaction WHERE flag_id = ?1",
            [&twice[1]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (reason.as_str(), action_type.as_str()),
        ("spam, yes, twice", "remove_post")
    );
    // The rest as the web app's review endpoint writes it: Django's
    // datetime form (the clock is fixed at a whole second: no fraction),
    // a 32-hex UUID, the moderator and the content's author, one action.
    let (reviewed_at, updated_at): (String, String) = conn
        .query_row(
            "SELECT reviewed_at, updated_at FROM forum_flaggedcontent WHERE id = ?1",
            [&twice[1]],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (reviewed_at.as_str(), updated_at.as_str()),
        (support::DEMO_NOW, support::DEMO_NOW)
    );
    let author: i64 = conn
        .query_row(
            "SELECT author_id FROM forum_post WHERE id = ?1",
            [&post],
            |r| r.get(0),
        )
        .unwrap();
    let (action_id, moderator, affected, created_at): (String, i64, i64, String) = conn
        .query_row(
            "SELECT id, moderator_id, affected_user_id, created_at FROM forum_moderationaction \
             WHERE flag_id = ?1",
            [&twice[1]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert!(
        action_id.len() == 32
            && action_id
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{action_id}"
    );
    assert_eq!((moderator, affected), (staff, author));
    assert_eq!(created_at, support::DEMO_NOW);
    // The audit entry: the actor, beside the account that ran the console.
    let (actor, account, why): (String, String, String) = conn
        .query_row(
            "SELECT actor, os_account, reason FROM modcon_action ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (actor.as_str(), account, why.as_str()),
        ("moderator_mo", support::os_account(), "spam, yes, twice")
    );
    // Back in the queue, one flag fewer; the other flag on the post is
    // still there, its content now marked deleted.
    let screen = h.screen();
    assert!(screen.contains("Flag queue: 5 pending"), "{screen}");
    assert!(screen.contains("reviewed flag"), "{screen}");
    // The reply is longer than the line: m, which the line names, shows it
    // whole here, and Esc comes back to the queue.
    let line = screen
        .lines()
        .find(|l| l.starts_with("reviewed flag"))
        .unwrap();
    assert!(line.ends_with("(m: all of it)"), "{line}");
    h.keys(&["m"]);
    let text: String = h
        .screen()
        .lines()
        .map(|l| l.trim_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains(&format!(
            "reviewed flag {} on post {post}: remove_post, flag removed; deleted 1 post, {photos} attachments",
            twice[1]
        )),
        "{}",
        h.screen()
    );
    h.keys(&["Esc"]);
    assert!(matches!(
        h.app.overlay,
        Some(modcon::tui::app::Overlay::Flags(_))
    ));
    select_flag(&mut h, &twice[0]);
    assert!(h.screen().contains("ALREADY DELETED"), "{}", h.screen());
    // Enter goes to the flagged row in the panes.
    h.keys(&["Enter"]);
    assert!(h.app.overlay.is_none());
    assert_eq!(h.app.posts.selected().unwrap().id, post);
    // u undoes the review: post, photos and flag back.
    h.keys(&["u"]);
    assert_eq!(post_active(&conn, &post), 1);
    // In the panes too, m shows the cut reply whole; Esc comes back.
    let screen = h.screen();
    let line = screen.lines().find(|l| l.starts_with("undid ")).unwrap();
    assert!(line.ends_with("(m: all of it)"), "{line}");
    h.keys(&["m"]);
    assert!(h.screen().contains("Messages of this session"));
    h.keys(&["Esc"]);
    assert!(h.app.overlay.is_none());
    let status: String = conn
        .query_row(
            "SELECT status FROM forum_flaggedcontent WHERE id = ?1",
            [&twice[1]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "pending");
}

#[test]
fn the_flag_view_follows_the_web_app_and_refuses_whoever_may_not_review() {
    let demo = support::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &["--actor", "alice"]);
    h.keys(&["F"]);
    assert!(h.screen().contains("Flag queue: 6 pending"));
    // The web app files a flag and reviews another: the view follows.
    let conn = support::open(&demo.db);
    let (post, twice) = twice_flagged(&demo.db);
    conn.execute(
        "INSERT INTO forum_flaggedcontent (id, content_type, flag_reason, explanation, status, reviewed_at, \
         moderator_notes, created_at, updated_at, reporter_id, reviewed_by_id, post_id, thread_id) \
         VALUES ('fa11fa11fa11fa11fa11fa11fa11fa11', 'post', 'spam', 'filed just now', 'pending', NULL, '', \
         '2026-11-26 11:59:00', '2026-11-26 11:59:00', 1, NULL, ?1, NULL)",
        [&post],
    )
    .unwrap();
    conn.execute(
        "UPDATE forum_flaggedcontent SET status = 'rejected', reviewed_by_id = 3, \
         reviewed_at = '2026-11-26 11:59:30', updated_at = '2026-11-26 11:59:30' WHERE id = ?1",
        [&twice[0]],
    )
    .unwrap();
    h.data_changed();
    let screen = h.screen();
    assert!(screen.contains("Flag queue: 6 pending"), "{screen}");
    let listed: Vec<String> = match &h.app.overlay {
        Some(modcon::tui::app::Overlay::Flags(v)) => v.flags.iter().map(|f| f.id.clone()).collect(),
        _ => panic!("the flag view stays open"),
    };
    assert_eq!(
        listed[0], "fa11fa11fa11fa11fa11fa11fa11fa11",
        "newest first"
    );
    assert!(
        !listed.contains(&twice[0]),
        "the flag reviewed in the web app is gone"
    );
    select_flag(&mut h, "fa11fa11fa11fa11fa11fa11fa11fa11");
    assert!(
        h.screen().contains("explanation: filed just now"),
        "{}",
        h.screen()
    );
    // alice is no moderator: the review is refused, whole, before any reason.
    let before = std::fs::read(&demo.db).unwrap();
    h.keys(&["a"]);
    let screen = h.screen();
    assert!(screen.contains("alice may not review flags"), "{screen}");
    h.keys(&["Esc"]);
    assert_eq!(std::fs::read(&demo.db).unwrap(), before);
}

#[test]
fn every_refusal_of_a_review_from_the_flag_view_changes_nothing() {
    let demo = support::demo(5, 1);
    let conn = support::open(&demo.db);
    let (_, twice) = twice_flagged(&demo.db);
    let mut h = console(&demo.db, 80, 24, &["--actor", "moderator_mo"]);
    h.keys(&["F"]);
    select_flag(&mut h, &twice[0]);

    // No reason: y asks for one and writes nothing.
    let before = std::fs::read(&demo.db).unwrap();
    h.keys(&["a", "Enter", "y"]);
    assert_eq!(h.app.layer(), modcon::tui::keymap::Layer::TextField);
    assert_eq!(std::fs::read(&demo.db).unwrap(), before);
    h.keys(&["Esc"]);

    // Reviewed in the web app while the confirmation was open: refused,
    // and the web app's review stays as it wrote it.
    h.keys(&["r"]);
    h.type_text("duplicate report");
    h.keys(&["Enter"]);
    conn.execute(
        "UPDATE forum_flaggedcontent SET status = 'approved', reviewed_by_id = 3, \
         reviewed_at = '2026-11-26 11:59:30', updated_at = '2026-11-26 11:59:30' WHERE id = ?1",
        [&twice[0]],
    )
    .unwrap();
    let before = support::dump(&conn);
    h.keys(&["y"]);
    let text = dialog_text(&h.screen());
    assert!(
        text.contains("was already reviewed: it is approved"),
        "{}",
        h.screen()
    );
    assert_eq!(support::dump(&conn), before);
    h.keys(&["Esc"]);
    assert!(
        matches!(h.app.overlay, Some(modcon::tui::app::Overlay::Flags(_))),
        "back in the flag view: {:?}",
        h.app.overlay.as_ref().map(|_| ())
    );

    // Gone altogether (the web app deleted the flag): refused, unknown.
    h.data_changed();
    select_flag(&mut h, &twice[1]);
    h.keys(&["w"]);
    h.type_text("be nice");
    h.keys(&["Enter"]);
    conn.execute(
        "DELETE FROM forum_flaggedcontent WHERE id = ?1",
        [&twice[1]],
    )
    .unwrap();
    let before = support::dump(&conn);
    h.keys(&["y"]);
    let text = dialog_text(&h.screen());
    assert!(
        text.contains(&twice[1][..8]),
        "names the flag: {}",
        h.screen()
    );
    assert_eq!(support::dump(&conn), before);
}

#[test]
fn read_only_lists_flags_and_refuses_reviews() {
    let demo = support::demo(5, 1);
    let before = std::fs::read(&demo.db).unwrap();
    let mut h = console(
        &demo.db,
        80,
        24,
        &["--read-only", "--actor", "moderator_mo"],
    );
    h.keys(&["F"]);
    assert!(h.screen().contains("Flag queue: 6 pending"));
    let hints = hint_text(&h);
    assert!(!hints.contains("approve"), "{hints}");
    for key in ["a", "r", "d", "l", "w"] {
        h.keys(&[key]);
        assert!(
            h.screen().contains(&format!(
                "read-only: {key} does nothing — the database was opened with --read-only"
            )),
            "{}",
            h.screen()
        );
        assert!(matches!(
            h.app.overlay,
            Some(modcon::tui::app::Overlay::Flags(_))
        ));
    }
    assert_eq!(std::fs::read(&demo.db).unwrap(), before);
}

/// The active threads the status line counts ("thr 12+3x").
fn active_threads_shown(screen: &str) -> i64 {
    let status = screen
        .lines()
        .find(|l| l.contains("READ-ONLY"))
        .unwrap_or_else(|| panic!("no status line:\n{screen}"));
    let after = status
        .split_once("thr ")
        .or_else(|| status.split_once("threads "))
        .unwrap_or_else(|| panic!("no thread count in {status:?}"))
        .1;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

/// The console as it runs (a connection per lane), `--read-only` on a WAL
/// database, while the web app (a process of its own, with SQLite 3.40's
/// close) writes, stops and starts again: each live-refresh tick shows
/// what it committed in the list, the counts and the details, and the flag
/// view its new flags.
#[test]
fn a_read_only_console_shows_what_the_web_app_writes_after_it_restarts() {
    use support::webapp::{DjangoForum, WebAppProcess, insert_thread_flag_sql, insert_thread_sql};
    let forum = DjangoForum::new();
    forum.thread(&support::hex_id(1), "2026-11-20 10:00:00");
    forum
        .web
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
        .unwrap();
    let DjangoForum {
        dir: _dir, db, web, ..
    } = forum;
    // The web app stopped: no -wal, so the console starts on a snapshot.
    drop(web);
    let settings = settings(&db, &["--read-only"]);
    let opened = Db::open(&db, &OpenOptions::new(Access::ReadOnly)).unwrap();
    let mut h = Harness::with_lanes(&settings, opened, 80, 24).unwrap();
    assert_eq!(active_threads_shown(&h.screen()), 1);
    let mut web = WebAppProcess::start(&db);
    let mut threads = 1;
    for round in 0..3 {
        // The web app starts, writes and keeps running.
        let running = format!("Running {round}");
        let at = format!("2026-11-2{} 10:00:00", round + 1);
        web.open();
        web.exec(&insert_thread_sql(
            &support::hex_id(100 + round),
            &running,
            &at,
        ));
        threads += 1;
        h.tick();
        let screen = h.screen();
        assert!(screen.contains(&running), "{running}:\n{screen}");
        assert_eq!(active_threads_shown(&screen), threads, "{screen}");
        // It stops, and starts again for one request: a thread and a flag.
        web.close();
        h.tick();
        let restarted = format!("Restarted {round}");
        let thread = support::hex_id(200 + round);
        let at = format!("2026-11-2{} 11:00:00", round + 1);
        let flagged = format!("flagged in round {round}");
        web.open_write_close(&format!(
            "BEGIN; {}; {}; COMMIT;",
            insert_thread_sql(&thread, &restarted, &at),
            insert_thread_flag_sql(&support::hex_id(300 + round), &thread, &flagged, &at)
        ));
        threads += 1;
        h.tick();
        let screen = h.screen();
        assert!(screen.contains(&restarted), "{restarted}:\n{screen}");
        assert_eq!(active_threads_shown(&screen), threads, "{screen}");
        let status = screen.lines().find(|l| l.contains("READ-ONLY")).unwrap();
        assert!(status.contains(&format!(" F{}", round + 1)), "{status}");
        // The newest thread comes first; its details are the new row's.
        h.keys(&["g"]);
        assert_eq!(h.app.threads.selected().unwrap().id, thread);
        let screen = h.screen();
        assert!(screen.contains(&format!("title: {restarted}")), "{screen}");
        // The flag view lists the new flag.
        h.keys(&["F"]);
        let screen = h.screen();
        assert!(screen.contains(&flagged), "{flagged}:\n{screen}");
        h.keys(&["Esc"]);
    }
}
