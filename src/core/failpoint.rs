//! Failpoints for the crash and race tests: `MODCON_FAILPOINT=NAME:ACTION`
//! makes the process stop (`exit`) or wait for a file to appear
//! (`wait=PATH`; it first creates `PATH.waiting`) when it reaches the point
//! NAME. Unset, they cost one environment lookup per point.
//!
//! Points: `purge-after-plan` (planned, before the first batch),
//! `purge-after-commit` (a batch committed, its files not yet removed),
//! `before-commit` (a delete, restore, undo or fix, all written, not committed).
//!
//! `remove-file:deny=TEXT` makes every file whose path contains TEXT one
//! that cannot be removed (permission denied), as a file of another owner
//! is for an ordinary user: tests run as root, which permissions do not stop.

use std::path::Path;
use std::time::{Duration, Instant};

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
