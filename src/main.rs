//! The program: picks the front end (the console when no command is
//! given, else the command line) and makes a panic end as one `error:`
//! line with the terminal restored.

use std::process::ExitCode;

use anyhow::Result;
use modcon::cli::{self, Cli};
use modcon::config::Settings;
use modcon::tui::{self, keymap::Keymap};

fn main() -> ExitCode {
    // A panic is a bug wherever it happens, the console's worker threads
    // included: with the terminal back and the line printed, stop.
    std::panic::set_hook(Box::new(|info| {
        tui::terminal::restore();
        cli::report_panic(info);
        std::process::exit(1);
    }));
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    cli::exit(run(cli))
}

fn run(cli: Cli) -> Result<()> {
    if let Some(done) = cli::without_settings(cli.command.as_ref()) {
        return done;
    }
    let mut settings = Settings::resolve(&cli.globals())?;
    // The config's keys are checked by every command, and `modcon config`
    // lists them.
    let keymap = Keymap::from_settings(&settings)?;
    let keys = keymap.effective(&settings);
    settings.effective.extend(keys);
    match cli.command {
        None => {
            let db = settings
                .open(settings.access(), false)
                .map_err(|err| settings.explain(err))?;
            tui::run(settings, keymap, db)
        }
        Some(command) => cli::run(&settings, command),
    }
}
