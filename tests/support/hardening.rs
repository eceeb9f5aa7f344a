//! Helpers for the hardening tests (crash, concurrency, hostile data, bad
//! databases, read-only): a seeded generator, the binary as a plain
//! process (so it can be killed), file listings and checksums, and dumps
//! of every table.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// splitmix64: small, fast and the same on every platform, so a seed
/// names one exact sequence of kill points and data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The binary as a plain process, in the same clean environment as
/// `support::modcon`, so it can be spawned and killed.
pub fn bin(home: &Path) -> Command {
    let mut cmd = super::clean_command(home);
    cmd.stdin(Stdio::null());
    cmd
}

/// A context for building data through the core, at a given moment.
pub fn ctx(at: &str) -> modcon_core::Ctx {
    super::ctx_as("builder", at)
}

/// What a finished run printed.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

pub fn run(mut cmd: Command) -> Run {
    let out = cmd.output().expect("the binary runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts the one-line error contract: exit 1, nothing on stdout, one
/// `error:` line on stderr that contains `needle`.
pub fn assert_error(r: &Run, needle: &str) {
    assert_failure(r, 1, needle);
}

/// [`assert_error`] for a usage error: exit 2.
pub fn assert_usage_error(r: &Run, needle: &str) {
    assert_failure(r, 2, needle);
}

fn assert_failure(r: &Run, status: i32, needle: &str) {
    assert_eq!(r.code, Some(status), "exit status; stderr: {}", r.stderr);
    assert_eq!(r.stdout, "", "stdout of a failed command");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one stderr line: {:?}", r.stderr);
    assert!(lines[0].starts_with("error: "), "{:?}", lines[0]);
    assert!(
        lines[0].contains(needle),
        "{:?} should mention {needle:?}",
        lines[0]
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

/// Every file and symlink below `root` (symlinks not followed), relative
/// to it, with its content (a symlink: its target).
pub fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut |rel, path, symlink| {
        let content = if symlink {
            format!("-> {}", fs::read_link(path).unwrap().display()).into_bytes()
        } else {
            fs::read(path).unwrap()
        };
        out.insert(rel, content);
    });
    out
}

/// The names of every file and symlink below `root` (symlinks not
/// followed), relative to it: [`snapshot`] without reading the files.
pub fn listing(root: &Path) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    walk(root, root, &mut |rel, _, _| {
        out.insert(rel);
    });
    out
}

/// Calls `found(relative name, path, is a symlink)` for every file and
/// symlink below `dir`; a folder that cannot be read is skipped.
fn walk(dir: &Path, root: &Path, found: &mut dyn FnMut(String, &Path, bool)) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let entry = entry.unwrap();
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            walk(&path, root, found);
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        found(rel, &path, kind.is_symlink());
    }
}

/// The names in a snapshot.
pub fn names(snapshot: &BTreeMap<String, Vec<u8>>) -> std::collections::BTreeSet<String> {
    snapshot.keys().cloned().collect()
}

/// Every row of every table, as text, sorted: two dumps are equal exactly
/// when the databases hold the same data.
pub fn dump(conn: &Connection) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut cells = Vec::with_capacity(n);
                for i in 0..n {
                    cells.push(match r.get_ref(i)? {
                        ValueRef::Null => "NULL".to_string(),
                        ValueRef::Integer(v) => v.to_string(),
                        ValueRef::Real(v) => format!("{v:?}"),
                        ValueRef::Text(t) => format!("{:?}", String::from_utf8_lossy(t)),
                        ValueRef::Blob(b) => format!("blob{b:?}"),
                    });
                }
                Ok(cells.join("|"))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        rows.sort();
        out.insert(table, rows);
    }
    out
}

/// [`dump`] of the database file at `path`.
pub fn dump_of(path: &Path) -> BTreeMap<String, Vec<String>> {
    dump(&Connection::open(path).unwrap())
}

/// `PRAGMA integrity_check` is ok and `foreign_key_check` finds nothing.
pub fn assert_sound(conn: &Connection) {
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(integrity, vec!["ok".to_string()], "integrity_check");
    let broken: Vec<String> = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |r| {
            Ok(format!(
                "{}:{:?}->{}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(broken.is_empty(), "foreign_key_check: {broken:?}");
}

/// A connection the way the web app opens one: foreign keys on, a 5 s
/// busy timeout.
pub fn web_conn(db: &Path) -> Connection {
    let conn = Connection::open(db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    conn
}

/// A temporary folder in memory (`/dev/shm`) when there is one: the crash
/// tests copy thousands of small files per kill point, and a process kill
/// (unlike a power cut) does not depend on what reached the disk.
pub fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new().prefix("modcon-").tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

/// A folder's path as text, for arguments.
pub fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

pub fn temp_child(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    fs::create_dir_all(&path).unwrap();
    path
}
