//! modcon: a terminal moderation console for Django-style forum databases
//! in SQLite.
//!
//! Layers point one way: the program (`main.rs`) picks a front end, `cli`
//! or `tui`; both work with `config` (the settings a run uses) and
//! `display` (data made safe to show); everything stands on the core, the
//! `modcon_core` crate, which knows the database and the rules and nothing
//! of terminals.

pub mod cli;
pub mod config;
pub mod display;
pub mod tui;
