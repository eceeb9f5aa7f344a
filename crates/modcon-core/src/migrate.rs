//! The SQL files of `migrations/`, embedded in the binary, applied in order
//! and each recorded once in `modcon_migrations`. Each migration has a
//! SQLite version and, in `migrations/postgres/`, a PostgreSQL one under
//! the same name (Django's types there: uuid, boolean, timestamptz).

use std::collections::HashSet;

use anyhow::{Context, Result, bail};

use super::schema;
use super::sql::{Conn, params};

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
    /// The same migration on PostgreSQL; `None`: not available there yet.
    pub postgres: Option<&'static str>,
    pub when: When,
    pub purpose: &'static str,
}

pub const FORUM_SCHEMA: &str = "0001_forum_schema";
pub const OWN_TABLES: &str = "0002_modcon_tables";
pub const ATTACHMENT_SOFT_DELETE: &str = "0003_attachment_soft_delete";
pub const PURGE_INDEXES: &str = "0004_purge_indexes";
pub const CHANGE_SOURCES: &str = "0005_change_sources";
pub const PURGE_RECORDS: &str = "0006_purge_records";
pub const REASONS_AND_REVIEWS: &str = "0007_reasons_and_reviews";
pub const DELETED_ATTACHMENT_INDEX: &str = "0008_deleted_attachment_index";
pub const DELETED_POST_INDEX: &str = "0009_deleted_post_index";
pub const PURGE_LOCK: &str = "0010_purge_lock";
pub const DELETED_ATTACHMENT_POST_INDEX: &str = "0011_deleted_attachment_post_index";
pub const PURGE_RECORDS_WITHOUT_ACTION_KEYS: &str = "0012_purge_records_without_action_keys";

/// A migration's SQL, embedded from the repository's top-level
/// `migrations/` folder (two levels above this crate).
macro_rules! migration_sql {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../migrations/",
            $file
        ))
    };
}

pub static MIGRATIONS: [Migration; 12] = [
    Migration {
        name: FORUM_SCHEMA,
        sql: migration_sql!("0001_forum_schema.sql"),
        postgres: Some(migration_sql!("postgres/0001_forum_schema.sql")),
        when: When::FreshOnly,
        purpose: "the forum tables, as the web app creates them",
    },
    Migration {
        name: OWN_TABLES,
        sql: migration_sql!("0002_modcon_tables.sql"),
        postgres: Some(migration_sql!("postgres/0002_modcon_tables.sql")),
        when: When::OnOpen,
        purpose: "the console's own tables (audit log, changes, deletion times, file journal)",
    },
    Migration {
        name: ATTACHMENT_SOFT_DELETE,
        sql: migration_sql!("0003_attachment_soft_delete.sql"),
        postgres: Some(migration_sql!("postgres/0003_attachment_soft_delete.sql")),
        when: When::OnRequest,
        purpose: "forum_attachment.is_active and deleted_at, as the web app's soft-delete migration",
    },
    Migration {
        name: PURGE_INDEXES,
        sql: migration_sql!("0004_purge_indexes.sql"),
        postgres: Some(migration_sql!("postgres/0004_purge_indexes.sql")),
        when: When::OnRequest,
        purpose: "partial indexes over deleted rows, for purge",
    },
    Migration {
        name: CHANGE_SOURCES,
        sql: migration_sql!("0005_change_sources.sql"),
        postgres: Some(migration_sql!("postgres/0005_change_sources.sql")),
        when: When::OnOpen,
        purpose: "where each recorded deletion time came from, so undo puts it back",
    },
    Migration {
        name: PURGE_RECORDS,
        sql: migration_sql!("0006_purge_records.sql"),
        postgres: Some(migration_sql!("postgres/0006_purge_records.sql")),
        when: When::OnOpen,
        purpose: "what each purge removed, row by row (kind, id, parent, image, deletion time)",
    },
    Migration {
        name: REASONS_AND_REVIEWS,
        sql: migration_sql!("0007_reasons_and_reviews.sql"),
        postgres: Some(migration_sql!("postgres/0007_reasons_and_reviews.sql")),
        when: When::OnOpen,
        purpose: "each action's reason and operating-system account; the flag and moderation-action rows a review changes",
    },
    Migration {
        name: DELETED_ATTACHMENT_INDEX,
        sql: migration_sql!("0008_deleted_attachment_index.sql"),
        postgres: Some(migration_sql!("postgres/0008_deleted_attachment_index.sql")),
        when: When::OnRequest,
        purpose: "a partial index of deleted attachments by deletion time, for the counts",
    },
    Migration {
        name: DELETED_POST_INDEX,
        sql: migration_sql!("0009_deleted_post_index.sql"),
        postgres: Some(migration_sql!("postgres/0009_deleted_post_index.sql")),
        when: When::OnRequest,
        purpose: "a partial index of deleted posts with what their deletion time needs, for the counts",
    },
    Migration {
        name: PURGE_LOCK,
        sql: migration_sql!("0010_purge_lock.sql"),
        postgres: Some(migration_sql!("postgres/0010_purge_lock.sql")),
        when: When::OnOpen,
        purpose: "who holds the purge lock (on PostgreSQL; on SQLite the lock file names its holder and the table stays empty)",
    },
    Migration {
        name: DELETED_ATTACHMENT_POST_INDEX,
        sql: migration_sql!("0011_deleted_attachment_post_index.sql"),
        postgres: Some(migration_sql!(
            "postgres/0011_deleted_attachment_post_index.sql"
        )),
        when: When::OnRequest,
        purpose: "on PostgreSQL, a partial index of deleted attachments by post and deletion time, for the counts (nothing on SQLite)",
    },
    Migration {
        name: PURGE_RECORDS_WITHOUT_ACTION_KEYS,
        sql: migration_sql!("0012_purge_records_without_action_keys.sql"),
        postgres: Some(migration_sql!(
            "postgres/0012_purge_records_without_action_keys.sql"
        )),
        when: When::OnOpen,
        purpose: "on PostgreSQL, the purge's records and file journal without foreign keys to their action (written by the console alone, after their action, which is never deleted), so a batch does not check each row (nothing on SQLite)",
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
    /// What an applied migration adds ("column forum_attachment.deleted_at",
    /// "index …", "table …"): only what the schema did not have yet.
    pub adds: Vec<String>,
    /// Part of it was in the schema already (a half-migrated database).
    pub partial: bool,
}

impl Migration {
    /// The SQL of this migration for the database `conn` speaks to.
    fn sql_for(&self, conn: Conn) -> Result<&'static str> {
        match conn {
            Conn::Sqlite(_) => Ok(self.sql),
            Conn::Postgres(_) => match self.postgres {
                Some(sql) => Ok(sql),
                None => bail!("not yet supported on PostgreSQL: migration {}", self.name),
            },
        }
    }
}

fn recorded(conn: Conn, name: &str) -> Result<bool> {
    if !schema::table_exists(conn, "modcon_migrations")? {
        return Ok(false);
    }
    Ok(conn
        .query_opt(
            "SELECT 1 FROM modcon_migrations WHERE name = ?1",
            params![name],
            |_| Ok(()),
        )?
        .is_some())
}

/// What one statement of a migration creates, when the schema can say
/// whether it is there already.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Creates {
    Table(String),
    Index(String),
    Column {
        table: String,
        column: String,
    },
    /// Anything else: always run.
    Other,
}

impl Creates {
    fn of(statement: &str) -> Creates {
        let words: Vec<&str> = statement.split_whitespace().collect();
        let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        let at = |i: usize| upper.get(i).map(String::as_str);
        let name = |i: usize| {
            words.get(i).map(|w| {
                let w = w.split('(').next().unwrap_or(w);
                w.trim_matches('"').to_string()
            })
        };
        // Past "IF NOT EXISTS", if there.
        let skip_if = |i: usize| {
            if at(i) == Some("IF") && at(i + 1) == Some("NOT") && at(i + 2) == Some("EXISTS") {
                i + 3
            } else {
                i
            }
        };
        match (at(0), at(1), at(2)) {
            (Some("CREATE"), Some("TABLE"), _) => name(skip_if(2)).map(Creates::Table),
            (Some("CREATE"), Some("INDEX"), _) => name(skip_if(2)).map(Creates::Index),
            (Some("CREATE"), Some("UNIQUE"), Some("INDEX")) => name(skip_if(3)).map(Creates::Index),
            (Some("ALTER"), Some("TABLE"), _)
                if at(3) == Some("ADD") && at(4) == Some("COLUMN") =>
            {
                match (name(2), name(5)) {
                    (Some(table), Some(column)) => Some(Creates::Column { table, column }),
                    _ => None,
                }
            }
            _ => None,
        }
        .unwrap_or(Creates::Other)
    }

    fn present(&self, conn: Conn) -> Result<bool> {
        Ok(match self {
            Creates::Table(name) => schema::table_exists(conn, name)?,
            Creates::Index(name) => schema::index_exists(conn, name)?,
            Creates::Column { table, column } => {
                schema::table_exists(conn, table)? && schema::column_exists(conn, table, column)?
            }
            Creates::Other => false,
        })
    }

    fn describe(&self) -> Option<String> {
        match self {
            Creates::Table(name) => Some(format!("table {name}")),
            Creates::Index(name) => Some(format!("index {name}")),
            Creates::Column { table, column } => Some(format!("column {table}.{column}")),
            Creates::Other => None,
        }
    }
}

/// The statements of a migration's SQL, comments removed.
pub(crate) fn statements(sql: &str) -> Vec<String> {
    strip_comments(sql)
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The statements of `m` whose effect the schema does not have yet: a
/// partly migrated database gets only what it lacks.
fn pending(conn: Conn, m: &Migration) -> Result<Vec<(String, Creates)>> {
    let mut list = Vec::new();
    for statement in statements(m.sql_for(conn)?) {
        let creates = Creates::of(&statement);
        if !creates.present(conn)? {
            list.push((statement, creates));
        }
    }
    Ok(list)
}

fn record(conn: Conn, name: &str, outcome: &str, now: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO modcon_migrations (name, applied_at, outcome) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
        params![name, now, outcome],
    )?;
    Ok(())
}

/// Works out, or carries out, the migrations allowed by `allowed`. Callers
/// run it inside one write transaction when `apply` is set, so a migration
/// that fails leaves nothing changed. The dry run and the real run work out
/// the same steps, statement by statement, from the schema as it is.
fn run(conn: Conn, now: &str, allowed: &[When], apply: bool) -> Result<Vec<Step>> {
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
                adds: Vec::new(),
                partial: false,
            });
            continue;
        }
        // The forum schema is all or nothing: a database with forum tables
        // is the web app's, never to be created over.
        let todo = if m.name == FORUM_SCHEMA && schema::table_exists(conn, "forum_thread")? {
            Vec::new()
        } else {
            pending(conn, m)?
        };
        let partial = !todo.is_empty() && todo.len() < statements(m.sql_for(conn)?).len();
        let (outcome, adds) = if todo.is_empty() {
            ("satisfied", Vec::new())
        } else if allowed.contains(&m.when) {
            if apply {
                for (statement, _) in &todo {
                    conn.execute_batch(statement)
                        .with_context(|| format!("migration {} failed", m.name))?;
                }
            }
            (
                "applied",
                todo.iter().filter_map(|(_, c)| c.describe()).collect(),
            )
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
            adds,
            partial,
        });
    }
    Ok(steps)
}

/// Whether a read-write open has the console's own tables to create.
pub fn needs_own_tables(conn: Conn) -> Result<bool> {
    let recorded = schema::table_exists(conn, "modcon_migrations")?;
    needs_own_tables_given(conn, recorded)
}

/// [`needs_own_tables`], knowing already whether the database has its
/// record of migrations (`recorded`).
pub fn needs_own_tables_given(conn: Conn, recorded: bool) -> Result<bool> {
    if !recorded {
        return Ok(true);
    }
    // The record read once, as text: one round trip on PostgreSQL.
    let recorded: Vec<String> = conn
        .query_text("SELECT name FROM modcon_migrations")?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect();
    Ok(MIGRATIONS
        .iter()
        .filter(|m| m.when == When::OnOpen)
        .any(|m| !recorded.iter().any(|name| name == m.name)))
}

/// Applied on a read-write open (inside its write transaction): the
/// console's own tables.
pub fn apply_on_open(conn: Conn, now: &str) -> Result<()> {
    run(conn, now, &[When::OnOpen], true)?;
    Ok(())
}

/// `modcon migrate`: everything but the fresh-database schema.
pub fn apply_requested(conn: Conn, now: &str, dry_run: bool) -> Result<Vec<Step>> {
    run(conn, now, &[When::OnOpen, When::OnRequest], !dry_run)
}

/// A database the console creates itself: every migration.
pub fn apply_fresh(conn: Conn, now: &str) -> Result<()> {
    run(
        conn,
        now,
        &[When::FreshOnly, When::OnOpen, When::OnRequest],
        true,
    )?;
    Ok(())
}

/// On a read-only connection whose database lacks the console's tables
/// (a Django database never opened read-write, or one from an older
/// console), the missing ones are made empty in the connection's TEMP
/// schema, with the columns later migrations add to them, so every query
/// reads alike and nothing is written to the database.
pub fn shadow_own_tables(conn: Conn) -> Result<()> {
    // Asked once and made in one batch: each question and each statement
    // is a round trip on PostgreSQL.
    let batch = shadow_statements(conn, schema::own_tables(conn)?)?;
    if !batch.is_empty() {
        conn.execute_batch(&batch.join("\n"))?;
    }
    Ok(())
}

/// What [`shadow_own_tables`] runs, given the console's tables the
/// database (or the connection's TEMP schema) has: each statement ends
/// with `;`; none when nothing is missing.
pub fn shadow_statements(conn: Conn, mut present: HashSet<String>) -> Result<Vec<String>> {
    let mut shadowed: Vec<String> = Vec::new();
    let mut batch: Vec<String> = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.when == When::OnOpen) {
        for statement in statements(m.sql_for(conn)?) {
            match Creates::of(&statement) {
                Creates::Table(name) if !present.contains(&name) => {
                    if let Some(rest) = statement.strip_prefix("CREATE TABLE ") {
                        // Never written to; PostgreSQL refuses a temporary
                        // table's reference to a permanent one.
                        let rest = rest.replace(" REFERENCES modcon_action (id)", "");
                        batch.push(format!("CREATE TEMP TABLE {rest}"));
                        present.insert(name.clone());
                        shadowed.push(name);
                    }
                }
                // A column added to a shadowed table (the name resolves to
                // the TEMP one).
                Creates::Column { table, .. } if shadowed.contains(&table) => {
                    batch.push(statement);
                }
                _ => {}
            }
        }
    }
    if !present.contains("modcon_migrations") {
        batch.push(RECORD_TABLE.replacen("CREATE TABLE", "CREATE TEMP TABLE", 1));
    }
    Ok(batch
        .iter()
        .map(|s| format!("{};", s.trim_end().trim_end_matches(';')))
        .collect())
}

fn strip_comments(sql: &str) -> String {
    sql.lines()
        .map(|line| line.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
