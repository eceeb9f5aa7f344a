//! Progress for the commands that take a while (demo, check, migrate,
//! purge): shown on a terminal, never in a pipe or with --json.

use crate::support;

use std::path::Path;
use std::process::Command;

use support::{DEMO_NOW, clean_command, demo};

/// The commands that show progress, each with the words it shows.
fn long_commands(dir: &Path) -> Vec<(Vec<String>, &'static str)> {
    let out = dir.join("other/demo.sqlite3").display().to_string();
    vec![
        (
            vec![
                "demo".into(),
                "--threads".into(),
                "3".into(),
                "--out".into(),
                out,
            ],
            "writing a demo of 3 threads",
        ),
        (vec!["check".into()], "checking rows and files"),
        (vec!["migrate".into()], "migrating"),
        (vec!["purge".into()], "planning the purge"),
    ]
}

#[test]
fn no_progress_in_a_pipe_or_with_json() {
    let d = demo(3, 1);
    for (args, _) in long_commands(d.dir.path()) {
        for json in [false, true] {
            let mut cmd = clean_command(d.dir.path());
            cmd.arg("--db")
                .arg(&d.db)
                .args(["--now", DEMO_NOW])
                .args(&args);
            if json {
                cmd.arg("--json");
            }
            let out = cmd.output().unwrap();
            // The demo's --out is free again for the next round.
            let _ = std::fs::remove_dir_all(d.dir.path().join("other"));
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                "",
                "{args:?} json={json}"
            );
            if json {
                let _: serde_json::Value =
                    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            }
        }
    }
}

/// Runs `modcon ARGS` on a terminal (a pseudo-terminal from `script`) and
/// returns everything it drew there.
fn on_a_terminal(home: &Path, db: &Path, args: &[String]) -> String {
    let line = format!(
        "{} --db {} --now '{DEMO_NOW}' {}",
        env!("CARGO_BIN_EXE_modcon"),
        db.display(),
        args.join(" ")
    );
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("USER", "tester")
        .env("TERM", "xterm")
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .output()
        .expect("script (util-linux) runs");
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_is_drawn_on_a_terminal_and_not_with_json() {
    let d = demo(3, 1);
    for (args, words) in long_commands(d.dir.path()) {
        let screen = on_a_terminal(d.dir.path(), &d.db, &args);
        assert!(
            screen.contains(words),
            "{args:?} drew no {words:?}: {screen:?}"
        );
        let _ = std::fs::remove_dir_all(d.dir.path().join("other"));
        let mut json = args.clone();
        json.push("--json".into());
        let screen = on_a_terminal(d.dir.path(), &d.db, &json);
        assert!(
            !screen.contains(words),
            "{json:?} drew {words:?}: {screen:?}"
        );
        let _ = std::fs::remove_dir_all(d.dir.path().join("other"));
    }
}
