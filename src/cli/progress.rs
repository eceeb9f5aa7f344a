//! Progress on a terminal while a long command works (demo, check,
//! migrate, purge): drawn on stderr, and only when both stdout and stderr
//! are terminals and `--json` was not asked for, so a cron job's log, a
//! pipe and a JSON reader never see it. Cleared when the work is done.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Is progress to be drawn?
pub fn wanted(json: bool) -> bool {
    !json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// Characters a terminal whose locale is not UTF-8 can show too.
fn ascii_only() -> bool {
    !crate::display::locale_is_utf8(&|name| std::env::var(name).ok())
}

/// A spinner with what is being done and for how long, for work whose
/// length is not known in advance.
pub fn spinner(json: bool, message: &str) -> Option<ProgressBar> {
    if !wanted(json) {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    let mut style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    if ascii_only() {
        style = style.tick_chars("|/-\\ ");
    }
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar.tick();
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// A bar over `len` steps, described by `template` (indicatif's syntax).
pub fn bar(json: bool, template: &str) -> Option<ProgressBar> {
    if !wanted(json) {
        return None;
    }
    let bar = ProgressBar::new(0);
    let mut style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    if ascii_only() {
        style = style.progress_chars("#>-");
    }
    bar.set_style(style);
    bar.tick();
    Some(bar)
}

/// Clears what was drawn.
pub fn done(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
