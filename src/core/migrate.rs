//! The SQL files of `migrations/`, embedded in the binary, applied in order
//! and each recorded once in `modcon_migrations`.

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension};

use super::schema;

/// When a migration may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Only on a database the console creates itself (the demo).
    FreshOnly,
    /// Whenever the console opens a database read-write.
    OnOpen,
    /// Only when asked with `modcon migrate`.
    OnRequest,
}

pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
    pub when: When,
    pub purpose: &'static str,
}

pub const FORUM_SCHEMA: &str = "0001_forum_schema";
pub const OWN_TABLES: &str = "0002_modcon_tables";
pub const ATTACHMENT_SOFT_DELETE: &str = "0003_attachment_soft_delete";
pub const PURGE_INDEXES: &str = "0004_purge_indexes";
pub const CHANGE_SOURCES: &str = "0005_change_sources";

pub static MIGRATIONS: [Migration; 5] = [
    Migration {
        name: FORUM_SCHEMA,
        sql: include_str!("../../migrations/0001_forum_schema.sql"),
        when: When::FreshOnly,
        purpose: "the forum tables, as the web app creates them",
    },
    Migration {
        name: OWN_TABLES,
        sql: include_str!("../../migrations/0002_modcon_tables.sql"),
        when: When::OnOpen,
        purpose: "the console's own tables (audit log, changes, deletion times, file journal)",
    },
    Migration {
        name: ATTACHMENT_SOFT_DELETE,
        sql: include_str!("../../migrations/0003_attachment_soft_delete.sql"),
        when: When::OnRequest,
        purpose: "forum_attachment.is_active and deleted_at, as the web app's soft-delete migration",
    },
    Migration {
        name: PURGE_INDEXES,
        sql: include_str!("../../migrations/0004_purge_indexes.sql"),
        when: When::OnRequest,
        purpose: "partial indexes over deleted rows, for purge",
    },
    Migration {
        name: CHANGE_SOURCES,
        sql: include_str!("../../migrations/0005_change_sources.sql"),
        when: When::OnOpen,
        purpose: "where each recorded deletion time came from, so undo puts it back",
    },
];

const RECORD_TABLE: &str = "CREATE TABLE IF NOT EXISTS modcon_migrations (
    name       TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL,
    outcome    TEXT NOT NULL  -- 'applied', or 'satisfied' when the schema already had it
)";

/// What `migrate` did or would do with one migration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    pub name: &'static str,
    pub purpose: &'static str,
    /// "applied", "satisfied" (already in the schema, recorded), or "done" (recorded before).
    pub outcome: &'static str,
}

fn recorded(conn: &Connection, name: &str) -> Result<bool> {
    if !schema::table_exists(conn, "modcon_migrations")? {
        return Ok(false);
    }
    Ok(conn
        .query_row(
            "SELECT 1 FROM modcon_migrations WHERE name = ?1",
            [name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Whether the schema already holds what a migration would create.
fn satisfied(conn: &Connection, name: &str) -> Result<bool> {
    Ok(match name {
        FORUM_SCHEMA => schema::table_exists(conn, "forum_thread")?,
        OWN_TABLES => schema::table_exists(conn, "modcon_action")?,
        ATTACHMENT_SOFT_DELETE => {
            schema::column_exists(conn, "forum_attachment", "is_active")?
                && schema::column_exists(conn, "forum_attachment", "deleted_at")?
        }
        CHANGE_SOURCES => schema::column_exists(conn, "modcon_change", "before_source")?,
        _ => false,
    })
}

fn record(conn: &Connection, name: &str, outcome: &str, now: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO modcon_migrations (name, applied_at, outcome) VALUES (?1, ?2, ?3)",
        (name, now, outcome),
    )?;
    Ok(())
}

/// Works out, or carries out, the migrations allowed by `allowed`. Callers
/// run it inside a write transaction when `apply` is set.
fn run(conn: &Connection, now: &str, allowed: &[When], apply: bool) -> Result<Vec<Step>> {
    if apply {
        conn.execute_batch(RECORD_TABLE)?;
    }
    let mut steps = Vec::new();
    for m in &MIGRATIONS {
        if recorded(conn, m.name)? {
            steps.push(Step {
                name: m.name,
                purpose: m.purpose,
                outcome: "done",
            });
            continue;
        }
        let outcome = if satisfied(conn, m.name)? {
            "satisfied"
        } else if allowed.contains(&m.when) {
            if apply {
                conn.execute_batch(m.sql)
                    .with_context(|| format!("migration {} failed", m.name))?;
            }
            "applied"
        } else {
            continue;
        };
        if apply {
            record(conn, m.name, outcome, now)?;
        }
        steps.push(Step {
            name: m.name,
            purpose: m.purpose,
            outcome,
        });
    }
    Ok(steps)
}

/// Whether a read-write open has the console's own tables to create.
pub fn needs_own_tables(conn: &Connection) -> Result<bool> {
    for m in MIGRATIONS.iter().filter(|m| m.when == When::OnOpen) {
        if !recorded(conn, m.name)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Applied on a read-write open (inside its write transaction): the
/// console's own tables.
pub fn apply_on_open(conn: &Connection, now: &str) -> Result<()> {
    run(conn, now, &[When::OnOpen], true)?;
    Ok(())
}

/// `modcon migrate`: everything but the fresh-database schema.
pub fn apply_requested(conn: &Connection, now: &str, dry_run: bool) -> Result<Vec<Step>> {
    run(conn, now, &[When::OnOpen, When::OnRequest], !dry_run)
}

/// A database the console creates itself: every migration.
pub fn apply_fresh(conn: &Connection, now: &str) -> Result<()> {
    run(
        conn,
        now,
        &[When::FreshOnly, When::OnOpen, When::OnRequest],
        true,
    )?;
    Ok(())
}

/// On a read-only connection whose database lacks the console's tables,
/// the same tables are made empty in the connection's TEMP schema, so every
/// query reads alike and nothing is written to the database.
pub fn shadow_own_tables(conn: &Connection) -> Result<()> {
    if schema::table_exists(conn, "modcon_action")? {
        return Ok(());
    }
    let own = &MIGRATIONS[1];
    for statement in strip_comments(own.sql).split(';') {
        if let Some(rest) = statement.trim().strip_prefix("CREATE TABLE ") {
            conn.execute_batch(&format!("CREATE TEMP TABLE {rest}"))?;
        }
    }
    conn.execute_batch(&RECORD_TABLE.replacen("CREATE TABLE", "CREATE TEMP TABLE", 1))?;
    Ok(())
}

fn strip_comments(sql: &str) -> String {
    sql.lines()
        .map(|line| line.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
