//! One purge (or `check --fix`) at a time per database: a second one is
//! refused naming the first, a lock left by a killed process is taken
//! over, and nothing is purged twice.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

use serde_json::Value;
use support::{FIXTURE_NOW, clean_command, fixture};

fn lock_file(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-modcon-lock");
    PathBuf::from(name)
}

/// `modcon --db DB --now FIXTURE_NOW --actor ACTOR ARGS...`, not yet run.
fn command(db: &Path, actor: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = clean_command(db.parent().unwrap());
    cmd.arg("--db")
        .arg(db)
        .args(["--now", FIXTURE_NOW, "--actor", actor])
        .args(args)
        .stdin(Stdio::null());
    cmd
}

fn run(db: &Path, actor: &str, args: &[&str]) -> Output {
    command(db, actor, args).output().unwrap()
}

/// [`support::start_held`] for a command on this database.
fn start_held(db: &Path, actor: &str, args: &[&str], point: &str, gate: &Path) -> Child {
    support::start_held(command(db, actor, args), point, gate)
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn counts(report: &Value) -> [u64; 4] {
    ["threads", "posts", "attachments", "files"].map(|k| report[k].as_u64().unwrap())
}

/// Asserts a refusal that names the holder: exit 1, one `error:` line.
fn assert_refused(out: &Output, holder_what: &str, holder_actor: &str, holder_pid: u32) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let line = stderr.trim_end();
    assert!(line.starts_with("error: "), "{line}");
    for part in [
        format!("`{holder_what}` by {holder_actor} on "),
        format!("(pid {holder_pid}), started "),
        "try again when it has finished".to_string(),
    ] {
        assert!(line.contains(&part), "{line:?} lacks {part:?}");
    }
}

#[test]
fn two_purges_at_once_one_refuses_naming_the_other_and_nothing_is_purged_twice() {
    let fx = fixture();
    let media = ["--media-root", fx.media.to_str().unwrap()];
    let plan = json(&run(
        &fx.db,
        "mo",
        &[&media[..], &["purge", "--dry-run", "--json"]].concat(),
    ));
    assert!(plan["attachments"].as_u64().unwrap() > 0, "{plan}");

    let gate = fx.dir.path().join("go");
    let first = start_held(
        &fx.db,
        "cron",
        &[&media[..], &["purge", "--json"]].concat(),
        "purge-after-plan",
        &gate,
    );
    let pid = first.id();
    assert!(lock_file(&fx.db).exists());

    // A second purge, and check --fix, are refused at once, naming the
    // first; they changed nothing (not even first-seen stamps).
    let db_before = fs::read(&fx.db).unwrap();
    let second = run(&fx.db, "mo", &[&media[..], &["purge", "--json"]].concat());
    assert_refused(&second, "purge", "cron", pid);
    let failure = json(&second);
    assert_eq!(failure["action"], "purge");
    assert!(
        failure["error"]
            .as_str()
            .unwrap()
            .contains(&format!("(pid {pid})"))
    );
    let fix = run(&fx.db, "mo", &["check", "--fix"]);
    assert_refused(&fix, "purge", "cron", pid);
    assert_eq!(fs::read(&fx.db).unwrap(), db_before);
    // Reading goes on: the dry run takes no lock.
    assert!(run(&fx.db, "mo", &["purge", "--dry-run"]).status.success());

    // The first finishes what it planned, and lets go.
    fs::write(&gate, b"").unwrap();
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let done = json(&first);
    assert_eq!(counts(&done)[..3], counts(&plan)[..3]);
    assert_eq!(done["lock_taken_over"], Value::Null);
    assert!(!lock_file(&fx.db).exists(), "the lock file is removed");

    // Run again, it finds nothing left: nothing was purged twice.
    let again = run(&fx.db, "mo", &[&media[..], &["purge", "--json"]].concat());
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(counts(&json(&again)), [0, 0, 0, 0]);
}

#[test]
fn check_fix_and_purge_exclude_each_other() {
    let fx = fixture();
    let gate = fx.dir.path().join("go");
    // check --fix held just before its commit.
    let fix = start_held(
        &fx.db,
        "alice",
        &["check", "--fix", "--json"],
        "before-commit",
        &gate,
    );
    let pid = fix.id();
    let purge = run(&fx.db, "bob", &["purge", "--keep-files", "--json"]);
    assert_refused(&purge, "check --fix", "alice", pid);
    fs::write(&gate, b"").unwrap();
    let fix = fix.wait_with_output().unwrap();
    assert!(
        fix.status.success(),
        "{}",
        String::from_utf8_lossy(&fix.stderr)
    );
    assert!(json(&fix)["fix"]["changed"].as_bool().unwrap());
    assert!(!lock_file(&fx.db).exists());
    let purge = run(&fx.db, "bob", &["purge", "--keep-files", "--json"]);
    assert!(
        purge.status.success(),
        "{}",
        String::from_utf8_lossy(&purge.stderr)
    );
}

#[test]
fn a_lock_left_by_a_killed_purge_is_taken_over_and_reported() {
    let fx = fixture();
    let media = ["--media-root", fx.media.to_str().unwrap()];
    // Killed after its plan: no destructors run, the lock file stays.
    let killed = command(&fx.db, "cron", &[&media[..], &["purge"]].concat())
        .env("MODCON_FAILPOINT", "purge-after-plan:exit")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), Some(3));
    let left = fs::read_to_string(lock_file(&fx.db)).unwrap();
    let left: Value = serde_json::from_str(&left).unwrap();
    assert_eq!(left["actor"], "cron");
    assert_eq!(left["what"], "purge");
    let dead_pid = left["pid"].as_u64().unwrap();

    let next = run(&fx.db, "mo", &[&media[..], &["purge", "--json"]].concat());
    assert!(
        next.status.success(),
        "{}",
        String::from_utf8_lossy(&next.stderr)
    );
    let report = json(&next);
    let taken = report["lock_taken_over"].as_str().unwrap();
    assert!(taken.starts_with("`purge` by cron on "), "{taken}");
    assert!(taken.contains(&format!("(pid {dead_pid})")), "{taken}");
    assert!(report["attachments"].as_u64().unwrap() > 0);
    assert!(!lock_file(&fx.db).exists());

    // Said in words too.
    let killed = command(&fx.db, "cron", &["purge", "--keep-files"])
        .env("MODCON_FAILPOINT", "purge-after-plan:exit")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), Some(3));
    let out = run(&fx.db, "mo", &["purge", "--keep-files"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("took over the purge lock left by `purge` by cron on ")
            && text.contains("which is no longer running"),
        "{text}"
    );
}

#[test]
fn a_cron_purge_is_refused_while_the_console_purges() {
    use modcon_core::db::{Access, Db, OpenOptions};
    let fx = fixture();
    // The console's purge runs in its worker through the same core call,
    // which holds the lock for as long as it runs.
    let mut db = Db::open(&fx.db, &OpenOptions::new(Access::ReadWrite)).unwrap();
    modcon_core::lock::hold(&mut db, "purge", "moderator", |_, taken_over| {
        assert_eq!(taken_over, None);
        let cron = run(&fx.db, "cron", &["purge", "--keep-files"]);
        assert_refused(&cron, "purge", "moderator", std::process::id());
        // A read-only open never takes (or leaves) a lock.
        let mut reader = Db::open(&fx.db, &OpenOptions::new(Access::ReadOnly)).unwrap();
        let err = modcon_core::lock::hold(&mut reader, "purge", "x", |_, _| Ok(())).unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
        Ok(())
    })
    .unwrap();
    assert!(!lock_file(&fx.db).exists());
    assert!(
        run(&fx.db, "cron", &["purge", "--keep-files"])
            .status
            .success()
    );
}
