//! The console's audit log: one row per action, and every row each action
//! changed with its state before and after.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, Row as SqlRow};
use serde::Serialize;

use super::Ctx;
use super::model::{DeletionSource, Kind, RowState};

/// How many rows of each kind (and files) an action touched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub threads: i64,
    pub posts: i64,
    pub attachments: i64,
    pub files: i64,
}

impl Tally {
    pub fn add(&mut self, kind: Kind, n: i64) {
        match kind {
            Kind::Thread => self.threads += n,
            Kind::Post => self.posts += n,
            Kind::Attachment => self.attachments += n,
        }
    }

    pub fn of(&self, kind: Kind) -> i64 {
        match kind {
            Kind::Thread => self.threads,
            Kind::Post => self.posts,
            Kind::Attachment => self.attachments,
        }
    }

    pub fn rows(&self) -> i64 {
        self.threads + self.posts + self.attachments
    }

    pub fn merge(&mut self, other: &Tally) {
        self.threads += other.threads;
        self.posts += other.posts;
        self.attachments += other.attachments;
        self.files += other.files;
    }

    /// "2 posts, 5 attachments" — the kinds with a count, or "nothing".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for kind in Kind::ALL {
            let n = self.of(kind);
            if n > 0 {
                parts.push(plural(n, kind));
            }
        }
        if self.files > 0 {
            parts.push(format!(
                "{} file{}",
                self.files,
                if self.files == 1 { "" } else { "s" }
            ));
        }
        if parts.is_empty() {
            "nothing".into()
        } else {
            parts.join(", ")
        }
    }
}

/// "1 post", "3 posts".
pub fn plural(n: i64, kind: Kind) -> String {
    if n == 1 {
        format!("1 {kind}")
    } else {
        format!("{n} {}", kind.plural())
    }
}

/// What `modcon_action.action` holds.
pub mod action {
    pub const DELETE: &str = "delete";
    pub const RESTORE: &str = "restore";
    pub const UNDO: &str = "undo";
    pub const PURGE: &str = "purge";
    pub const FIX: &str = "fix";
}

/// Starts an action's log row; counts are filled in by [`finish`].
pub fn begin(
    conn: &Connection,
    ctx: &Ctx,
    action: &str,
    target: Option<(Kind, &str)>,
    detail: Option<&serde_json::Value>,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO modcon_action (at, actor, client_addr, action, kind, target_id, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            ctx.now_text(),
            &ctx.actor,
            &ctx.client_addr,
            action,
            target.map(|(k, _)| k.name()),
            target.map(|(_, id)| id),
            detail.map(|d| d.to_string()),
        ),
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn finish(conn: &Connection, action_id: i64, tally: &Tally) -> Result<()> {
    conn.execute(
        "UPDATE modcon_action SET threads = ?2, posts = ?3, attachments = ?4, files = ?5 WHERE id = ?1",
        (action_id, tally.threads, tally.posts, tally.attachments, tally.files),
    )?;
    Ok(())
}

pub fn record_change(
    conn: &Connection,
    action_id: i64,
    kind: Kind,
    row_id: &str,
    before: &RowState,
    after: &RowState,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO modcon_change (action_id, kind, row_id, before_active, before_deleted_at, \
                                    before_source, after_active, after_deleted_at, after_source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute((
        action_id,
        kind.name(),
        row_id,
        before.active,
        &before.deleted_at,
        before.source.map(DeletionSource::stored),
        after.active,
        &after.deleted_at,
        after.source.map(DeletionSource::stored),
    ))?;
    Ok(())
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub client_addr: Option<String>,
    pub action: String,
    pub kind: Option<String>,
    pub target_id: Option<String>,
    pub threads: i64,
    pub posts: i64,
    pub attachments: i64,
    pub files: i64,
    /// For an undo: the action it reverted.
    pub undoes: Option<i64>,
    /// Set when a later undo reverted this action.
    pub undone_by: Option<i64>,
    pub detail: Option<serde_json::Value>,
}

impl LogEntry {
    pub fn tally(&self) -> Tally {
        Tally {
            threads: self.threads,
            posts: self.posts,
            attachments: self.attachments,
            files: self.files,
        }
    }
}

const ENTRY_COLUMNS: &str = "id, at, actor, client_addr, action, kind, target_id, threads, posts, \
                             attachments, files, undoes, undone_by, detail";

fn read_entry(r: &SqlRow<'_>) -> rusqlite::Result<LogEntry> {
    let detail: Option<String> = r.get(13)?;
    Ok(LogEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        client_addr: r.get(3)?,
        action: r.get(4)?,
        kind: r.get(5)?,
        target_id: r.get(6)?,
        threads: r.get(7)?,
        posts: r.get(8)?,
        attachments: r.get(9)?,
        files: r.get(10)?,
        undoes: r.get(11)?,
        undone_by: r.get(12)?,
        detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
    })
}

/// The log, newest first.
pub fn list(conn: &Connection, limit: usize) -> Result<Vec<LogEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM modcon_action ORDER BY id DESC LIMIT ?1"
    ))?;
    let entries = stmt
        .query_map([limit as i64], read_entry)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(entries)
}

/// The actor's latest action that an undo could revert (undos themselves
/// are not undone).
pub fn latest_not_undone(conn: &Connection, actor: &str) -> Result<Option<LogEntry>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM modcon_action \
                 WHERE actor = ?1 AND action <> 'undo' AND undone_by IS NULL \
                 ORDER BY id DESC LIMIT 1"
            ),
            [actor],
            read_entry,
        )
        .optional()?)
}

pub fn mark_undone(conn: &Connection, action_id: i64, undo_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE modcon_action SET undone_by = ?2 WHERE id = ?1",
        (action_id, undo_id),
    )?;
    conn.execute(
        "UPDATE modcon_action SET undoes = ?1 WHERE id = ?2",
        (action_id, undo_id),
    )?;
    Ok(())
}

/// A recorded row change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub action_id: i64,
    pub kind: Kind,
    pub row_id: String,
    pub before: RowState,
    pub after: RowState,
}

fn read_change(r: &SqlRow<'_>) -> rusqlite::Result<Change> {
    let kind: String = r.get(1)?;
    let kind = Kind::parse(&kind).unwrap_or(Kind::Attachment);
    let state = |active: usize, at: usize, source: usize| -> rusqlite::Result<RowState> {
        let active: bool = r.get(active)?;
        let deleted_at: Option<String> = r.get(at)?;
        let stored: Option<String> = r.get(source)?;
        // Records from before sources were kept: every deletion time of a
        // thread or post the console wrote was its own.
        let source = match stored.as_deref().and_then(DeletionSource::parse) {
            Some(source) => Some(source),
            None if kind != Kind::Attachment && !active && deleted_at.is_some() => {
                Some(DeletionSource::Console)
            }
            None => None,
        };
        Ok(RowState {
            active,
            deleted_at,
            source,
        })
    };
    Ok(Change {
        action_id: r.get(0)?,
        kind,
        row_id: r.get(2)?,
        before: state(3, 4, 5)?,
        after: state(6, 7, 8)?,
    })
}

/// The columns of a change record. A database opened read-only that
/// predates the sources (migration 0005) reads them as NULL.
fn change_columns(conn: &Connection) -> Result<&'static str> {
    let with_sources = super::schema::column_exists(conn, "modcon_change", "before_source")?;
    Ok(if with_sources {
        "action_id, kind, row_id, before_active, before_deleted_at, before_source, \
         after_active, after_deleted_at, after_source"
    } else {
        "action_id, kind, row_id, before_active, before_deleted_at, NULL, \
         after_active, after_deleted_at, NULL"
    })
}

/// Every row an action changed, parents before children.
pub fn changes(conn: &Connection, action_id: i64) -> Result<Vec<Change>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM modcon_change WHERE action_id = ?1 \
         ORDER BY CASE kind WHEN 'thread' THEN 0 WHEN 'post' THEN 1 ELSE 2 END, row_id",
        change_columns(conn)?
    ))?;
    let list = stmt
        .query_map([action_id], read_change)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(list)
}

/// The latest recorded change of one row.
pub fn latest_change(conn: &Connection, kind: Kind, row_id: &str) -> Result<Option<Change>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {} FROM modcon_change WHERE kind = ?1 AND row_id = ?2 \
             ORDER BY action_id DESC LIMIT 1",
            change_columns(conn)?
        ))?
        .query_row((kind.name(), row_id), read_change)
        .optional()?)
}
