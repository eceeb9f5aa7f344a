//! The console: a ratatui front end over the same core as the command line.

pub mod terminal;

use anyhow::Result;

use crate::cli::Settings;
use crate::core::db::Db;

pub fn run(_settings: Settings, _db: Db) -> Result<()> {
    anyhow::bail!("the console is not built yet; use the commands (modcon --help)")
}
