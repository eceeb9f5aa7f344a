//! The README's server recipes work as written: the systemd units pass
//! `systemd-analyze verify`, and the cron line, the units' command and the
//! read-only wrapper run (with the forum's paths pointed at a copy of the
//! fixture).

use crate::support;
use crate::support::{fenced_blocks as blocks, readme};

use std::fs;
use std::path::Path;
use std::process::Command;

/// The text with the forum's paths and the installed binary replaced by
/// the test's.
fn pointed_at(text: &str, forum: &Path) -> String {
    text.replace("/usr/local/bin/modcon", env!("CARGO_BIN_EXE_modcon"))
        .replace(
            "/srv/forum/db.sqlite3",
            &forum.join("db.sqlite3").display().to_string(),
        )
        .replace(
            "/srv/forum/media",
            &forum.join("media").display().to_string(),
        )
        .replace("/srv/forum", &forum.display().to_string())
        .replace("/var/log/modcon", &forum.join("log").display().to_string())
}

/// Runs a shell command line in the clean environment the tests give the
/// binary.
fn sh(line: &str, home: &Path) -> std::process::Output {
    let clean = support::clean_command(home);
    let mut shell = Command::new("sh");
    for (key, value) in clean.get_envs() {
        match value {
            Some(v) => shell.env(key, v),
            None => shell.env_remove(key),
        };
    }
    shell.arg("-c").arg(line).output().unwrap()
}

#[test]
fn the_systemd_units_verify_and_their_command_runs() {
    let fx = support::fixture();
    let units: Vec<String> = blocks(&readme(), "ini")
        .into_iter()
        .filter(|b| b.starts_with("# /etc/systemd/system/"))
        .collect();
    let names: Vec<&str> = units
        .iter()
        .map(|u| u.lines().next().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["modcon-purge.service", "modcon-purge.timer"]);
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (unit, name) in units.iter().zip(&names) {
        let path = dir.path().join(name);
        fs::write(&path, pointed_at(unit, fx.dir.path())).unwrap();
        paths.push(path);
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&paths)
        .output()
        .expect("systemd-analyze runs");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(units[1].contains("OnCalendar="));

    // The service's command, as systemd would run it.
    let service = fs::read_to_string(&paths[0]).unwrap();
    let exec = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    assert!(exec.ends_with(" purge --json"), "{exec}");
    let out = sh(exec, fx.dir.path());
    assert!(
        out.status.success(),
        "{exec}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["action"], "purge");
    assert_eq!(report["dry_run"], false);
}

#[test]
fn the_cron_line_runs_and_appends_its_report() {
    let fx = support::fixture();
    let cron = blocks(&readme(), "cron");
    assert_eq!(cron.len(), 1);
    let line = cron[0]
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[..5], ["15", "3", "*", "*", "*"]);
    let command = pointed_at(&fields[5..].join(" "), fx.dir.path());
    fs::create_dir_all(fx.dir.path().join("log")).unwrap();
    let out = sh(&command, fx.dir.path());
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "cron would mail this"
    );
    let log = fs::read_to_string(fx.dir.path().join("log/purge.log")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&log).unwrap();
    assert_eq!(report["action"], "purge");
    // A failing run (the next one, while the database is missing) says so
    // on stderr, which cron mails, and exits 1.
    fs::rename(fx.dir.path().join("db.sqlite3"), fx.dir.path().join("gone")).unwrap();
    let out = sh(&command, fx.dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}

#[test]
fn the_read_only_wrapper_reads_and_changes_nothing() {
    let fx = support::fixture();
    let wrapper = blocks(&readme(), "sh")
        .into_iter()
        .find(|b| b.contains("modcon-view"))
        .unwrap();
    assert!(wrapper.starts_with("#!/bin/sh\n"), "{wrapper}");
    let script = fx.dir.path().join("modcon-view");
    fs::write(&script, pointed_at(&wrapper, fx.dir.path())).unwrap();
    let before = fs::read(&fx.db).unwrap();
    let listing = || {
        let mut names: Vec<_> = fs::read_dir(fx.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let files_before = listing();
    for args in ["stats --json", "check --json", "list threads"] {
        let out = sh(&format!("sh {} {args}", script.display()), fx.dir.path());
        assert!(
            out.status.success(),
            "{args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = sh(&format!("sh {} purge", script.display()), fx.dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--read-only"));
    assert_eq!(fs::read(&fx.db).unwrap(), before);
    assert_eq!(listing(), files_before);
}

/// `modcon --db URL --now FIXTURE_NOW --actor moderator ARGS --json`.
fn on_server(home: &Path, url: &str, args: &[&str]) -> std::process::Output {
    support::clean_command(home)
        .args([
            "--db",
            url,
            "--now",
            support::FIXTURE_NOW,
            "--actor",
            "moderator",
        ])
        .args(args)
        .arg("--json")
        .output()
        .unwrap()
}

fn succeeds(home: &Path, url: &str, args: &[&str]) -> serde_json::Value {
    let out = support::succeeded(on_server(home, url, args));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_postgresql_grants_let_each_role_do_its_part_and_no_more() {
    use support::pg::{PgDb, Roles};
    let home = tempfile::tempdir().unwrap();
    let pg = PgDb::fixture();
    let mut owner = pg.client();
    // The owner's `migrate` first, as the README says; then both roles,
    // by the README's statements.
    succeeds(home.path(), &pg.url, &["migrate"]);
    let mut roles = Roles::on(pg);
    let ro_name = roles.add_from_readme("moderator_ro", "ro-pw");
    let rw_name = roles.add_from_readme("moderator", "rw-pw");
    let ro = roles.url_as(&format!("{ro_name}:ro-pw"), None);
    let rw = roles.url_as(&format!("{rw_name}:rw-pw"), None);

    // The read-only role: every reading command, the purge's plan.
    for args in [
        &["stats"][..],
        &["list", "threads", "--state", "all"],
        &["list", "attachments", "--state", "deleted"],
        &["log"],
        &["flags", "--status", "all"],
        &["purge", "--dry-run"],
        &["--read-only", "purge", "--dry-run"],
        &["--read-only", "check"],
        &["migrate", "--dry-run"],
    ] {
        succeeds(home.path(), &ro, args);
    }
    // ... and no write.
    let thread =
        succeeds(home.path(), &ro, &["list", "threads", "--state", "active"])["rows"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
    // Without --read-only, a write (a check's first-seen stamps too) is
    // refused in words, not with the statement the server refused.
    for args in [
        &["delete", "thread", &thread][..],
        &["check"],
        &["purge", "--keep-files"],
    ] {
        let out = on_server(home.path(), &ro, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: postgres://"), "{args:?}: {err}");
        assert!(
            err.contains("permission denied for table"),
            "{args:?}: {err}"
        );
        assert!(err.contains("passes --read-only"), "{args:?}: {err}");
        assert!(
            !err.contains("INSERT") && !err.contains("UPDATE"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("ro-pw"), "{args:?}: {err}");
    }
    let active: bool = owner
        .query_one(
            "SELECT is_active FROM forum_thread WHERE id = $1::text::uuid",
            &[&thread],
        )
        .unwrap()
        .get(0);
    assert!(active, "the read-only role deleted nothing");

    // The moderator: every write, and its undo.
    let post = succeeds(
        home.path(),
        &rw,
        &["list", "posts", "--thread", &thread, "--state", "active"],
    )["rows"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pending = succeeds(home.path(), &rw, &["flags", "--limit", "1000"]);
    let flag = pending["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["content_type"] == "post" && r["target_is_active"] == true)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .expect("a pending flag on an active post");
    for args in [
        &["delete", "thread", &thread, "--reason", "spam"][..],
        &["restore", "thread", &thread],
        &["delete", "post", &post],
        &["undo"],
        &["review", &flag, "remove_post", "--reason", "spam"],
        &["undo"],
        &["check", "--fix"],
        &["purge", "--keep-files"],
        &["log"],
    ] {
        let json = succeeds(home.path(), &rw, args);
        assert_ne!(json, serde_json::Value::Null, "{args:?}");
    }
    let purged = succeeds(home.path(), &rw, &["log", "--limit", "1"]);
    assert_eq!(purged["entries"][0]["action"], "purge", "{purged}");
    assert!(
        purged["entries"][0]["attachments"].as_i64() > Some(0),
        "{purged}"
    );
    // The read-only role reads what the moderator wrote.
    succeeds(home.path(), &ro, &["log"]);
}
