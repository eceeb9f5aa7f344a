//! Waiting for what a person would wait for: a state, never a span of
//! time. A test polls until the state is reached; the deadline is there
//! only so that something that never gets there fails instead of hanging,
//! and is generous enough that a loaded machine never reaches it.

use std::fmt::Display;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long a test waits for a state before calling it never reached.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// Calls `check` until it answers `Ok`, and returns that answer. `check`
/// answers `Err` with what it saw instead, which the failure shows after
/// [`PATIENCE`] with `what` was awaited.
pub fn wait_until<T>(what: impl Display, mut check: impl FnMut() -> Result<T, String>) -> T {
    let started = Instant::now();
    loop {
        match check() {
            Ok(value) => return value,
            Err(seen) if started.elapsed() >= PATIENCE => {
                panic!("waited {PATIENCE:?} for {what}; last seen:\n{seen}")
            }
            Err(_) => sleep(Duration::from_millis(50)),
        }
    }
}
