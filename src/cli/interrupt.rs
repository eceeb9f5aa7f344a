//! Ctrl-C (SIGINT) and SIGTERM during a command-line purge: the first
//! stops it after the batch in flight, with its report; a second ends the
//! process at once. Both are safe: each batch is one transaction (one cut
//! short is rolled back by SQLite), and the files of the batches that
//! committed are in the file journal, which the next purge finishes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::Result;

/// Which signals were asked for, once they are watched.
pub struct Interrupts {
    /// Set by the first signal; the purge looks at it before each batch.
    pub cancel: Arc<AtomicBool>,
    /// The number of the latest signal (0: none yet).
    signal: Arc<AtomicUsize>,
}

/// The exit status of a run a signal stopped: 128 + the signal's number,
/// as a shell reports a process that signal ended (130 for Ctrl-C, 143
/// for SIGTERM), whether the run stopped after its batch or at once.
pub fn exit_status(signal: i32) -> u8 {
    (128 + signal).clamp(0, 255) as u8
}

impl Interrupts {
    /// Starts watching SIGINT and SIGTERM. Until then (and for every other
    /// command) they end the process as usual.
    pub fn watch() -> Result<Interrupts> {
        let interrupts = Interrupts {
            cancel: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicUsize::new(0)),
        };
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            use signal_hook::flag;
            for signal in [SIGINT, SIGTERM] {
                // Registered first, so it sees the flag as an earlier
                // signal left it: the second signal exits at once.
                flag::register_conditional_shutdown(
                    signal,
                    exit_status(signal).into(),
                    Arc::clone(&interrupts.cancel),
                )?;
                flag::register_usize(signal, Arc::clone(&interrupts.signal), signal as usize)?;
                flag::register(signal, Arc::clone(&interrupts.cancel))?;
            }
        }
        Ok(interrupts)
    }

    /// The signal that stopped the run, if one did: its name and the exit
    /// status it gives.
    pub fn stopped_by(&self) -> Option<(&'static str, u8)> {
        let signal = self.signal.load(Ordering::SeqCst) as i32;
        if signal == 0 {
            return None;
        }
        // SIGINT and SIGTERM have these numbers on every Unix.
        let name = match signal {
            2 => "SIGINT (Ctrl-C)",
            15 => "SIGTERM",
            _ => "a signal",
        };
        Some((name, exit_status(signal)))
    }
}

/// Ends a run that printed its report with a status other than 0, without
/// an `error:` line: a purge a signal stopped.
#[derive(Debug)]
pub struct Stopped(pub u8);

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped by a signal (exit status {})", self.0)
    }
}

impl std::error::Error for Stopped {}

/// The status of a run that stopped this way, wherever it sits in the chain.
pub fn stopped_status(err: &anyhow::Error) -> Option<u8> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Stopped>())
        .map(|s| s.0)
}
