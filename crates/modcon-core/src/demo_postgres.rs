//! `modcon demo --out postgres://…`: the same demo, written into an empty
//! PostgreSQL database. The rows are generated once, by the very code that
//! writes the SQLite demo (into a temporary file, the console's deletions
//! through its rules), then copied across with COPY in one transaction:
//! the forum schema as Django creates it on PostgreSQL, the rows in its
//! native types (uuid, boolean, timestamptz in UTC), the console's own
//! tables by its PostgreSQL migrations. A failed run leaves the database
//! as it was.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::{DemoOptions, DemoSummary};
use crate::migrate::{self, FORUM_SCHEMA};
use crate::model::{format_datetime, parse_datetime};
use crate::schema;
use crate::sql::{Conn, PgConn, params};

/// Django's auth tables that moderator groups live in, as Django creates
/// them on PostgreSQL.
const AUTH_TABLES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/demo/auth_tables.postgres.sql"
));

/// The tables of the database, with their schema when it is not `public`.
fn tables_of(conn: Conn) -> Result<Vec<String>> {
    conn.query_map(
        "SELECT CASE WHEN table_schema = 'public' THEN table_name::text \
                     ELSE table_schema || '.' || table_name END \
         FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') \
           AND table_schema NOT LIKE 'pg\\_temp%' AND table_schema NOT LIKE 'pg\\_toast%' \
         ORDER BY 1",
        params![],
        |r| r.text(0),
    )
}

/// Whether the database is one the demo made: the forum schema recorded as
/// applied by the console, which only the demo does.
fn made_by_demo(conn: Conn) -> Result<bool> {
    if !schema::table_exists(conn, "modcon_migrations")? {
        return Ok(false);
    }
    let outcome = conn.query_opt(
        "SELECT outcome FROM modcon_migrations WHERE name = ?1",
        params![FORUM_SCHEMA],
        |r| r.text(0),
    )?;
    Ok(outcome.as_deref() == Some("applied"))
}

/// Refuses a database that holds anything, unless it is a demo and
/// `--force` says to replace it; the tables to drop first.
fn check_target(conn: Conn, shown: &str, force: bool) -> Result<Vec<String>> {
    let tables = tables_of(conn)?;
    if tables.is_empty() {
        return Ok(tables);
    }
    let mut named = tables
        .iter()
        .take(12)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if tables.len() > 12 {
        named.push_str(&format!(" and {} more", tables.len() - 12));
    }
    if !made_by_demo(conn)? {
        bail!(
            "{shown} is not empty (tables {named}) and was not made by `modcon demo`: \
             the demo is written only into an empty database; create one \
             (CREATE DATABASE ...) and pass its URL"
        );
    }
    if !force {
        bail!("{shown} already holds a demo (tables {named}); pass --force to replace it");
    }
    Ok(tables)
}

/// A temporary SQLite file for generating the rows, removed on drop.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = std::fs::remove_file(crate::db::side_file(&self.0, suffix));
        }
    }
}

pub(super) fn generate(options: &DemoOptions, url: &str, media: &Path) -> Result<DemoSummary> {
    let pg = PgConn::connect(url)?;
    let shown = pg.location().to_string();
    let conn = Conn::from(&pg);
    let old_tables = check_target(conn, &shown, options.force)?;
    super::check_media_folder(media, "--media-root")?;

    let temp = TempFile(std::env::temp_dir().join(format!(
        "modcon-demo-{}-{}.sqlite3",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )));
    let mut summary = super::build(options, &temp.0)?;
    let rows = Connection::open(&temp.0)?;

    conn.execute_batch("BEGIN")?;
    let copied = copy_into(conn, &rows, &old_tables, &format_datetime(options.now));
    match copied {
        Ok(()) => conn.execute_batch("COMMIT")?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.context(format!("cannot write the demo into {shown}")));
        }
    }
    summary.files = super::fill_media_folder(media, &super::images_with_files(&rows)?)?;
    summary.database = shown;
    summary.media_root = media.display().to_string();
    Ok(summary)
}

/// Everything, inside the caller's transaction: old demo tables dropped,
/// the schema, the rows, the indexes and foreign keys (made after the rows:
/// one pass each), the console's tables and their rows, and the identity
/// sequences moved past the ids copied.
fn copy_into(conn: Conn, rows: &Connection, old_tables: &[String], now: &str) -> Result<()> {
    if !old_tables.is_empty() {
        let quoted: Vec<String> = old_tables.iter().map(|t| quote_name(t)).collect();
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS {} CASCADE",
            quoted.join(", ")
        ))?;
    }
    let forum_schema = migrate::MIGRATIONS
        .iter()
        .find(|m| m.name == FORUM_SCHEMA)
        .and_then(|m| m.postgres)
        .context("the forum schema has no PostgreSQL version")?;
    let ddl: Vec<String> = migrate::statements(forum_schema)
        .into_iter()
        .chain(migrate::statements(AUTH_TABLES))
        .collect();
    // Tables (and their identity columns) first; keys, indexes and foreign
    // keys once the rows are in.
    let (tables, after): (Vec<&String>, Vec<&String>) = ddl.iter().partition(|s| {
        s.starts_with("CREATE TABLE") || s.contains("ADD GENERATED BY DEFAULT AS IDENTITY")
    });
    for statement in tables {
        conn.execute_batch(statement)?;
    }
    for table in sqlite_tables(rows)? {
        if !table.starts_with("modcon_") {
            copy_table(conn, rows, &table)?;
        }
    }
    for statement in after {
        conn.execute_batch(statement)?;
    }
    // The console's own tables by its PostgreSQL migrations; the forum
    // schema, made above, recorded as applied (only the demo applies it).
    migrate::apply_fresh(conn, now)?;
    conn.execute(
        "UPDATE modcon_migrations SET outcome = 'applied' WHERE name = ?1",
        params![FORUM_SCHEMA],
    )?;
    for table in sqlite_tables(rows)? {
        if table.starts_with("modcon_") && table != "modcon_migrations" {
            copy_table(conn, rows, &table)?;
        }
    }
    move_identity_sequences(conn)?;
    conn.execute_batch("ANALYZE")?;
    Ok(())
}

fn quote_name(name: &str) -> String {
    name.split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

fn sqlite_tables(rows: &Connection) -> Result<Vec<String>> {
    let mut stmt = rows.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names)
}

/// Copies the rows of one table, column by column as PostgreSQL types it.
fn copy_table(conn: Conn, rows: &Connection, table: &str) -> Result<()> {
    let pg_columns: Vec<(String, String, Option<i64>)> = conn.query_map(
        "SELECT column_name::text, data_type::text, character_maximum_length::int8 \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = ?1 ORDER BY ordinal_position",
        params![table],
        |r| Ok((r.text(0)?, r.text(1)?, r.get::<Option<i64>>(2)?)),
    )?;
    if pg_columns.is_empty() {
        bail!("table {table} of the demo has no counterpart on PostgreSQL");
    }
    let sqlite_columns: Vec<String> = {
        let stmt = rows.prepare(&format!("SELECT * FROM {} LIMIT 0", quote_name(table)))?;
        stmt.column_names().map(|s| s.to_string()).collect()
    };
    let columns: Vec<&(String, String, Option<i64>)> = pg_columns
        .iter()
        .filter(|(c, ..)| sqlite_columns.contains(c))
        .collect();
    let names: Vec<String> = columns.iter().map(|(c, ..)| quote_name(c)).collect();
    let Conn::Postgres(pg) = conn else {
        bail!("the demo copies into PostgreSQL only");
    };
    let mut stmt = rows.prepare(&format!(
        "SELECT {} FROM {}",
        names.join(", "),
        quote_name(table)
    ))?;
    pg.copy_in(
        &format!(
            "COPY {} ({}) FROM STDIN",
            quote_name(table),
            names.join(", ")
        ),
        |out| {
            let mut found = stmt.query([])?;
            let mut line = Vec::with_capacity(1024);
            while let Some(row) = found.next()? {
                line.clear();
                for (i, (_, data_type, max_chars)) in columns.iter().enumerate() {
                    if i > 0 {
                        line.push(b'\t');
                    }
                    copy_field(&mut line, row.get_ref(i)?, data_type, *max_chars);
                }
                line.push(b'\n');
                out.write_all(&line)?;
            }
            Ok(())
        },
    )
    .with_context(|| format!("cannot copy table {table}"))?;
    Ok(())
}

/// One value in COPY's text format, as the PostgreSQL column takes it:
/// 0/1 as a boolean, Django's datetime text as a UTC timestamptz (text no
/// time can be read from as NULL: PostgreSQL has no room for garbage
/// there), text escaped, without NUL (PostgreSQL text cannot hold it) and
/// cut to a `varchar(n)`'s length, which PostgreSQL enforces and SQLite
/// does not (the demo's over-long title).
fn copy_field(out: &mut Vec<u8>, value: ValueRef<'_>, data_type: &str, max_chars: Option<i64>) {
    let text = match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    };
    let Some(text) = text else {
        out.extend_from_slice(b"\\N");
        return;
    };
    let text = match data_type {
        "boolean" => Some(if matches!(text.trim(), "1" | "t" | "true" | "True") {
            "t".to_string()
        } else {
            "f".to_string()
        }),
        "timestamp with time zone" => {
            parse_datetime(&text).map(|t| format!("{}+00", format_datetime(t)))
        }
        _ => Some(match max_chars {
            Some(n) if text.chars().count() > n as usize => text.chars().take(n as usize).collect(),
            _ => text,
        }),
    };
    let Some(text) = text else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for b in text.bytes() {
        match b {
            0 => {}
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

/// Every identity or serial column's sequence set past the largest id
/// copied, so the web app's next insert gets a new id.
fn move_identity_sequences(conn: Conn) -> Result<()> {
    let columns: Vec<(String, String)> = conn.query_map(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' \
           AND (is_identity = 'YES' OR column_default LIKE 'nextval(%') \
         ORDER BY 1",
        params![],
        |r| Ok((r.text(0)?, r.text(1)?)),
    )?;
    for (table, column) in columns {
        conn.execute_batch(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                           COALESCE((SELECT max({col}) FROM {tbl}), 0) + 1, false)",
            col = quote_name(&column),
            tbl = quote_name(&table),
        ))?;
    }
    Ok(())
}
