//! The real binary in a real terminal: started inside tmux on a demo
//! database, driven with send-keys, read with capture-pane.

use crate::support;

use crate::support::tmux::Tmux;
use crate::support::waiting::wait_until;

#[test]
fn delete_from_the_real_console_reaches_the_database() {
    let (demo, tmux) = Tmux::console_on_demo("e2e", "", 100, 30);
    // The first page is in when its first row is drawn.
    tmux.wait_for_all(&["Threads (all)", "? help", "│+ "]);

    // The first thread, as the console shows it, newest first.
    let conn = support::open(&demo.db);
    let (id, title): (String, String) = conn
        .query_row(
            "SELECT id, title FROM forum_thread ORDER BY created_at DESC, id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    tmux.keys(&["d"]);
    tmux.wait_for_all(&["Delete this thread?", &id, "y delete", "1 thread"]);
    // Enter alone cancels.
    tmux.keys(&["Enter"]);
    tmux.wait_for("cancelled; nothing changed");
    let active = || -> i64 {
        conn.query_row(
            "SELECT is_active FROM forum_thread WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(active(), 1, "{title}");

    tmux.keys(&["d"]);
    // "y" before the counts are in would only say "still counting".
    tmux.wait_for_all(&["Delete this thread?", "1 thread"]);
    tmux.keys(&["y"]);
    // The message, and the row redrawn with the deleted marker.
    let start: String = modcon::display::sanitize_line(&title)
        .chars()
        .take(12)
        .collect();
    tmux.wait_for_all(&[&format!("deleted thread {id}"), &format!("│x  {start}")]);
    assert_eq!(active(), 0);
    let actor: String = conn
        .query_row(
            "SELECT actor FROM modcon_action ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(actor, "e2e");

    // Too small: says so; q still quits, and the terminal comes back.
    tmux.run(&["resize-window", "-t", "console", "-x", "40", "-y", "10"]);
    tmux.wait_for("Terminal too small");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXITED 0");
    assert!(
        !screen.contains("Terminal too small"),
        "the alternate screen was left:\n{screen}"
    );
}

#[test]
fn purge_on_a_terminal_shows_a_progress_bar() {
    let demo = support::demo(5, 1);
    let gate = demo.dir.path().join("go-on");
    // The first batch commits, then the purge waits at a failpoint until
    // the test has looked at the screen.
    let prefix = format!(
        "MODCON_FAILPOINT=purge-after-commit:wait={}",
        gate.display()
    );
    let args = format!(
        "--db {} --now '{}' purge --batch-size 1",
        demo.db.display(),
        support::DEMO_NOW
    );
    let tmux = Tmux::start("bar", &prefix, &args, 100, 10);
    let waiting = demo.dir.path().join("go-on.waiting");
    wait_until("the purge to reach its first commit", || {
        if waiting.exists() {
            Ok(())
        } else {
            Err(tmux.run(&["capture-pane", "-p", "-t", "console"]))
        }
    });
    let screen = tmux.wait_for("batch 0/");
    assert!(screen.contains("batch 0/"), "{screen}");
    std::fs::write(&gate, b"").unwrap();
    let screen = tmux.wait_for("EXITED 0");
    assert!(screen.contains("purged "), "{screen}");
}

#[test]
fn at_80x24_the_real_console_shows_every_count_and_a_whole_refusal() {
    let (demo, tmux) = Tmux::console_on_demo("truth", "", 80, 24);
    let db = modcon_core::db::Db::open(
        &demo.db,
        &modcon_core::db::OpenOptions::new(modcon_core::db::Access::ReadOnly),
    )
    .unwrap();
    let cutoff = modcon_core::cutoff(
        modcon_core::model::parse_datetime(support::DEMO_NOW).unwrap(),
        30,
    );
    let c = modcon_core::query::counts(db.conn(), db.schema(), &cutoff).unwrap();
    let counts: Vec<String> = [c.threads, c.posts, c.attachments]
        .iter()
        .map(|k| format!("{}+{}x", k.active, k.deleted))
        .chain([
            format!(
                "P{}",
                c.threads.purgeable + c.posts.purgeable + c.attachments.purgeable
            ),
            format!("!{}", c.posts.violations + c.attachments.violations),
            "f:all".to_string(),
        ])
        .collect();
    let wanted: Vec<&str> = counts.iter().map(String::as_str).collect();
    tmux.wait_for_all(&wanted);
    // A post under a deleted thread: restoring it is refused, and the
    // reason is there whole.
    let conn = support::open(&demo.db);
    let index: i64 = conn
        .query_row(
            "SELECT count(*) FROM forum_thread WHERE (created_at, id) > \
             (SELECT created_at, id FROM forum_thread WHERE title LIKE 'Restore me: a thread%')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    for _ in 0..index {
        tmux.keys(&["j"]);
    }
    tmux.wait_for("title: Restore me: a thread deleted 3 days");
    tmux.keys(&["Tab"]);
    // The thread's first post is selected once its details are in.
    tmux.wait_for_all(&[
        "▶ Posts",
        "Details: post",
        "thread: Restore me: a thread deleted 3",
    ]);
    tmux.keys(&["r"]);
    // The confirmation appears first and the refusal replaces it once the
    // check is in: the refusal, whole, offers only to close.
    tmux.wait_for_screen(
        &[
            "Cannot restore this post",
            "restore the thread first",
            "Esc close",
        ],
        &["y yes"],
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("Tab pane");
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0");
}

#[test]
fn with_lang_c_the_real_console_draws_ascii_only() {
    let (_demo, tmux) = Tmux::console_on_demo("ascii", "LANG=C LC_ALL=C", 80, 24);
    let screen = tmux.wait_for_all(&["+> Threads", "|+ ", "? help"]);
    assert!(!screen.contains('│'), "{screen}");
    assert!(!screen.contains('─'), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED 0");
}
