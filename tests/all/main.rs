//! Every integration test in one binary, linked once: each module is a
//! former test file (`cargo test --test all rules::` runs one of them).

#[path = "../support/mod.rs"]
mod support;

mod access;
mod bad_databases;
mod concurrency;
mod console_postgres;
mod crash;
mod demo_and_stats;
mod flags;
mod fuzz;
mod hostile;
mod ids_and_times;
mod interleavings;
mod later_deletes;
mod moderation_times;
mod one_purge_at_a_time;
mod open_and_migrate;
mod postgres;
mod progress;
mod purge;
mod purge_backends;
mod query_plans;
mod read_only;
mod readme;
mod replaced;
mod rules;
mod settings;
mod tmux_e2e;
mod trust;
mod tui;
