//! modcon: a terminal moderation console for Django-style forum databases
//! in SQLite.
//!
//! `core` knows the database and the rules and nothing of terminals; `cli`
//! and `tui` are two thin front ends over it; `display` holds what both
//! need to show data safely.

pub mod cli;
pub mod config;
pub mod core;
pub mod display;
pub mod tui;
