//! Failpoints for the crash and race tests: `MODCON_FAILPOINT=NAME:ACTION`
//! makes the process stop (`exit`) or wait for a file to appear
//! (`wait=PATH`; it first creates `PATH.waiting`) when it reaches the point
//! NAME. Unset, they cost one environment lookup per point.
//!
//! Points: `purge-after-plan` (planned, before the first batch),
//! `purge-after-commit` (a batch committed, its files not yet removed),
//! `before-commit` (a delete, restore, undo or fix, all written, not committed).
//!
//! `purge-batch:fail-from=N` makes the Nth batch transaction (retries
//! included) and every later one fail as on a disk I/O error;
//! `purge-batch:sleep=MS` makes every batch hold its transaction MS
//! milliseconds longer before it commits, as on a slow disk.
//!
//! `remove-file:deny=TEXT` makes every file whose path contains TEXT one
//! that cannot be removed (permission denied), as a file of another owner
//! is for an ordinary user: tests run as root, which permissions do not stop.
//!
//! Only a build with the `test-hooks` feature (which the tests turn on)
//! has them: in any other build every point is an empty function, so a
//! release binary never reads `MODCON_FAILPOINT`.

#[cfg(feature = "test-hooks")]
pub use armed::{fails, hit, refuses_removal};
#[cfg(not(feature = "test-hooks"))]
pub use off::{fails, hit, refuses_removal};

#[cfg(not(feature = "test-hooks"))]
mod off {
    use std::path::Path;

    #[inline(always)]
    pub fn fails(_name: &str) -> bool {
        false
    }

    #[inline(always)]
    pub fn refuses_removal(_path: &Path) -> bool {
        false
    }

    #[inline(always)]
    pub fn hit(_name: &str) {}
}

#[cfg(feature = "test-hooks")]
mod armed {
    use std::path::Path;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// Whether this hit of the point NAME fails, by `NAME:fail-from=N`: the
    /// Nth hit in this process and every later one (`purge-batch`: a batch's
    /// transaction fails as on a disk I/O error, just before its commit).
    pub fn fails(name: &str) -> bool {
        static HITS: Mutex<Vec<(String, u64)>> = Mutex::new(Vec::new());
        let Ok(spec) = std::env::var("MODCON_FAILPOINT") else {
            return false;
        };
        let Some(from) = spec.split(',').find_map(|entry| {
            let (point, action) = entry.split_once(':')?;
            (point == name).then_some(())?;
            action.strip_prefix("fail-from=")?.parse::<u64>().ok()
        }) else {
            return false;
        };
        let mut hits = HITS.lock().unwrap_or_else(|e| e.into_inner());
        let n = match hits.iter_mut().find(|(point, _)| point == name) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                hits.push((name.to_string(), 1));
                1
            }
        };
        n >= from
    }

    /// Whether the `remove-file:deny=TEXT` failpoint names this path.
    pub fn refuses_removal(path: &Path) -> bool {
        let Ok(spec) = std::env::var("MODCON_FAILPOINT") else {
            return false;
        };
        let shown = path.to_string_lossy();
        spec.split(',')
            .filter_map(|entry| entry.strip_prefix("remove-file:deny="))
            .any(|text| !text.is_empty() && shown.contains(text))
    }

    pub fn hit(name: &str) {
        let Ok(spec) = std::env::var("MODCON_FAILPOINT") else {
            return;
        };
        for entry in spec.split(',') {
            let Some((point, action)) = entry.split_once(':') else {
                continue;
            };
            if point != name {
                continue;
            }
            if action == "exit" {
                // As abrupt as a crash: no destructors, no cleanup.
                std::process::exit(3);
            }
            if let Some(ms) = action.strip_prefix("sleep=").and_then(|ms| ms.parse().ok()) {
                std::thread::sleep(Duration::from_millis(ms));
            }
            if let Some(path) = action.strip_prefix("wait=") {
                // Announce the wait, so a test knows the point was reached.
                let _ = std::fs::write(format!("{path}.waiting"), b"");
                let started = Instant::now();
                while !Path::new(path).exists() && started.elapsed() < Duration::from_secs(30) {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
}
