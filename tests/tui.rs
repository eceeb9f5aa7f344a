//! The console, driven by synthetic keys and drawn into ratatui's
//! TestBackend: what a person would see, and what the database holds
//! afterwards.

mod common;
mod hardening;

use std::path::Path;

use clap::Parser;
use modcon::cli::{Cli, Settings};
use modcon::config::Config;
use modcon::core::db::{Access, Db, OpenOptions};
use modcon::tui::harness::Harness;
use modcon::tui::theme::TermEnv;

fn settings(db: &Path, extra: &[&str]) -> Settings {
    let mut args = vec![
        "modcon",
        "--db",
        db.to_str().unwrap(),
        "--now",
        common::DEMO_NOW,
        "--actor",
        "mo",
    ];
    args.extend_from_slice(extra);
    let cli = Cli::try_parse_from(args).unwrap();
    Settings::resolve_with(&cli, Config::default()).unwrap()
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
    let demo = common::demo(30, 7);
    let mut h = console(&demo.db, 80, 24, &[]);
    let screen = h.screen();
    assert!(screen.contains("Threads (all)"), "{screen}");
    assert!(screen.contains("Posts (all)"), "{screen}");
    assert!(screen.contains("Attachments (all)"), "{screen}");
    assert!(screen.contains("Post by"), "{screen}");
    assert!(screen.contains("? help"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("threads ") && l.contains("posts ") && l.contains("att."))
    );
    no_control_characters(&screen);
    insta::assert_snapshot!("panes_80x24", screen);
    h.resize(120, 40);
    insta::assert_snapshot!("panes_120x40", h.screen());
}

#[test]
fn every_state_has_a_text_marker() {
    let demo = common::demo(30, 7);
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
    let demo = common::demo(5, 1);
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
    let demo = common::demo(5, 1);
    let mut h = console(&demo.db, 100, 80, &[]);
    h.keys(&["?"]);
    let screen = h.screen();
    for description in [
        "soft-delete the selected row (asks first)",
        "restore the selected row (asks first)",
        "undo your latest action",
        "purge rows past retention (plan first)",
        "check the data for broken rules",
        "the audit log",
        "search titles, post text, authors, file names",
        "filter the pane: all, active, deleted",
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
    assert!(!h.screen().contains("Help — every key"));
}

#[test]
fn too_small_says_so_and_ignores_keys_but_quit() {
    let demo = common::demo(5, 1);
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
    let demo = common::demo(5, 1);
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
    let conn = common::open(&demo.db);
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
    let demo = common::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    select_thread(&mut h, "Welcome to the plant forum");
    h.keys(&["Tab", "d"]);
    let post = h.app.posts.selected().unwrap().id.clone();
    let before = h.app.attachments.rows.len();
    // Another process adds an attachment to the post meanwhile.
    let conn = common::open(&demo.db);
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
    let demo = common::demo(5, 1);
    let mut h = console(&demo.db, 100, 30, &[]);
    let conn = common::open(&demo.db);
    let total = || -> i64 { common::count(&conn, "SELECT count(*) FROM forum_attachment") };
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
    let progress = modcon::core::purge::Progress {
        batch: 2,
        batches: 5,
        removed: modcon::core::audit::Tally {
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

#[test]
fn read_only_keys_say_why_and_change_nothing() {
    let demo = common::demo(5, 1);
    // The database and the media root, every byte.
    let before = hardening::snapshot(demo.dir.path());
    let mut h = console(&demo.db, 100, 30, &["--read-only"]);
    assert!(h.screen().contains("READ-ONLY"));
    for key in ["d", "r", "u", "P"] {
        h.keys(&[key]);
        let screen = h.screen();
        assert!(screen.contains("read-only:"), "{key}: {screen}");
        assert!(h.app.overlay.is_none());
    }
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
        hardening::snapshot(demo.dir.path()),
        before,
        "not a byte changed"
    );
}

#[test]
fn search_is_literal_and_jumps_to_the_row() {
    let demo = common::demo(5, 1);
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
    let conn = common::open(&demo.db);
    assert!(
        common::count(&conn, "SELECT count(*) FROM forum_post") > 0,
        "the quote did nothing"
    );
}

#[test]
fn check_results_lead_to_their_rows() {
    let demo = common::demo(5, 1);
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
    let demo = common::demo(5, 1);
    let mut h = console(&demo.db, 120, 40, &[]);
    let first = h.app.threads.selected().unwrap().clone();
    let conn = common::open(&demo.db);
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
    let demo = common::demo(20, 3);
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
    let demo = common::demo(600, 5);
    let mut h = console(&demo.db, 120, 40, &[]);
    let first = h.app.threads.rows.len();
    assert_eq!(first, modcon::tui::worker::PAGE);
    for _ in 0..(first - 10) {
        let out = h.app.on_key(modcon::tui::harness::key_event("j"));
        h.answer(out);
    }
    assert!(h.app.threads.rows.len() > first, "the next page came in");
    h.keys(&["G"]);
    let conn = common::open(&demo.db);
    let all = common::count(&conn, "SELECT count(*) FROM forum_thread") as usize;
    assert_eq!(h.app.threads.rows.len(), all, "G loads the rest");
    assert_eq!(h.app.threads.state.selected(), Some(all - 1));
    let mut ids: Vec<&str> = h.app.threads.rows.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all, "no row twice across pages");
    // A live refresh of a list longer than a reload keeps (here lowered
    // to 300 rows) keeps the selection on its row.
    h.app.reload_cap = 300;
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

#[test]
fn mouse_only_with_the_flag_clicks_select_and_the_wheel_scrolls() {
    use ratatui::crossterm::event::{MouseButton, MouseEventKind};
    let demo = common::demo(20, 3);
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
    let demo = common::demo(5, 1);
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
    let demo = common::demo(5, 1);
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
    let demo = common::demo(5, 1);
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
    let demo = common::demo(5, 1);
    let mut h = console_in(&demo.db, 80, 24, &[], env_of(&[("LANG", "C")]));
    select_thread(&mut h, "Welcome to the plant forum");
    let screen = h.screen();
    assert!(screen.starts_with("+ Threads"), "{screen}");
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
