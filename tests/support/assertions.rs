//! Assertions shared by the engine tests: exact error lines, snapshots of
//! the rows moderation changes, and the Django datetime form.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// Asserts a run succeeded, showing its stderr when not; returns it.
pub fn succeeded(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Starts a command that stops at failpoint `point` until the gate file
/// appears, and waits until it is there (panics, with its stderr, if it
/// ends first).
pub fn start_held(mut cmd: std::process::Command, point: &str, gate: &Path) -> std::process::Child {
    use std::process::Stdio;
    let mut child = cmd
        .env(
            "MODCON_FAILPOINT",
            format!("{point}:wait={}", gate.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = PathBuf::from(format!("{}.waiting", gate.display()));
    while !waiting.exists() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    if !waiting.exists() {
        let out = child.wait_with_output().unwrap();
        panic!(
            "{cmd:?} never reached {point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    child
}

/// Asserts a failed run: exit status 1, exactly one line on stderr
/// starting `error: `, no panic, and on stdout nothing or (with `--json`)
/// the same error as one JSON object; returns that line.
pub fn error_line(assert: assert_cmd::assert::Assert) -> String {
    failure_line(assert, 1)
}

/// [`error_line`] for a usage error: exit status 2.
pub fn usage_line(assert: assert_cmd::assert::Assert) -> String {
    failure_line(assert, 2)
}

fn failure_line(assert: assert_cmd::assert::Assert, status: i32) -> String {
    let out = assert.get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(status),
        "exit status; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "a panic: {stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "a backtrace: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {stderr:?}");
    assert!(
        lines[0].starts_with("error: "),
        "starts with error: {stderr:?}"
    );
    // Nothing on stdout, or (with --json) one JSON object carrying the
    // same error.
    if !out.stdout.is_empty() {
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of a failure is one JSON object or nothing ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        assert_eq!(
            json["error"]
                .as_str()
                .map(|e| format!("error: {e}"))
                .as_deref(),
            Some(lines[0]),
            "{json}"
        );
    }
    lines[0].to_string()
}

/// Asserts success and returns stdout.
pub fn stdout_of(assert: assert_cmd::assert::Assert) -> String {
    let out = assert.success().get_output().clone();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `is_active` and the stored `deleted_at` (attachments) of one row.
pub type Row = (i64, Option<String>);

/// Every row's [`Row`], by `(kind, id)`.
pub type State = BTreeMap<(String, String), Row>;

pub fn state(conn: &Connection) -> State {
    let mut map = State::new();
    for (kind, sql) in [
        ("thread", "SELECT id, is_active, NULL FROM forum_thread"),
        ("post", "SELECT id, is_active, NULL FROM forum_post"),
        (
            "attachment",
            "SELECT id, is_active, deleted_at FROM forum_attachment",
        ),
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (id, active, at) = row.unwrap();
            map.insert((kind.to_string(), id), (active, at));
        }
    }
    map
}

pub fn state_of(path: &Path) -> State {
    state(&Connection::open(path).unwrap())
}

/// The rows whose state differs between two snapshots, as
/// `(kind, id, before, after)`.
pub fn diff(before: &State, after: &State) -> Vec<(String, String, Option<Row>, Option<Row>)> {
    let mut keys: Vec<&(String, String)> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            (
                k.0.clone(),
                k.1.clone(),
                before.get(k).cloned(),
                after.get(k).cloned(),
            )
        })
        .collect()
}

/// Whether `text` is exactly Django's SQLite datetime form: microseconds
/// when they are not zero, no fraction at all when they are.
pub fn is_django_datetime(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let base = b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b' '
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !base {
        return false;
    }
    match b.len() {
        19 => true,
        26 => b[19] == b'.' && digits(20..26) && &text[20..] != "000000",
        _ => false,
    }
}

pub fn bytes(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap()
}

/// A path beside `dir` that does not exist yet.
pub fn fresh_path(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    assert!(!path.exists());
    path
}
