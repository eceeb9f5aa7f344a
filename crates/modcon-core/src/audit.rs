//! The console's audit log: one row per action, and every row each action
//! changed with its state before and after.

use super::sql::{self, Conn, FromColumn, Value, params};
use anyhow::{Result, bail};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use serde::Serialize;

use super::Ctx;
use super::model::{DeletionSource, Kind, RowState, Tally};

/// What `modcon_action.action` holds: the kinds of action the log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Delete,
    Restore,
    Undo,
    Purge,
    Fix,
    Review,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Delete,
        Action::Restore,
        Action::Undo,
        Action::Purge,
        Action::Fix,
        Action::Review,
    ];

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Restore => "restore",
            Action::Undo => "undo",
            Action::Purge => "purge",
            Action::Fix => "fix",
            Action::Review => "review",
        }
    }

    pub fn parse(text: &str) -> Result<Action> {
        match Action::ALL.into_iter().find(|a| a.name() == text) {
            Some(action) => Ok(action),
            None => bail!(
                "unknown action {text:?}: expected delete, restore, undo, purge, fix or review"
            ),
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

// Stored kinds and actions are read here, as enums: a value the console
// never writes fails the read with an error naming it, never a guess.
impl FromSql for Kind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Kind::parse(value.as_str()?).map_err(|e| FromSqlError::Other(e.into()))
    }
}

impl FromSql for Action {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Action::parse(value.as_str()?).map_err(|e| FromSqlError::Other(e.into()))
    }
}

impl FromColumn for Kind {
    fn from_value(value: Value<'_>) -> Result<Self> {
        Kind::parse(&String::from_value(value)?)
    }
}

impl FromColumn for Action {
    fn from_value(value: Value<'_>) -> Result<Self> {
        Action::parse(&String::from_value(value)?)
    }
}

/// Starts an action's log row: when, who (the actor, the operating-system
/// account, the SSH client), what, and why; counts are filled in by
/// [`finish`].
pub fn begin(
    conn: Conn,
    ctx: &Ctx,
    action: Action,
    target: Option<(Kind, &str)>,
    detail: Option<&serde_json::Value>,
) -> Result<i64> {
    // On PostgreSQL the id is taken from the sequence only for real: in a
    // rehearsal (see `rehearse`) it is the session's own negative number,
    // unique among sessions and never a real action's.
    let id = match conn.dialect() {
        sql::Dialect::Sqlite => "NULL",
        sql::Dialect::Postgres => {
            "CASE WHEN current_setting('modcon.rehearsal', true) = 'on' \
             THEN -pg_backend_pid() \
             ELSE nextval(pg_get_serial_sequence('modcon_action', 'id')) END"
        }
    };
    conn.insert_returning_id(
        &format!(
            "INSERT INTO modcon_action (id, at, actor, os_account, client_addr, action, kind, \
                                        target_id, reason, detail) \
             VALUES ({id}, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params![
            ctx.now_text(),
            ctx.actor,
            ctx.os_account,
            ctx.client_addr,
            action.name(),
            target.map(|(k, _)| k.name()),
            target.map(|(_, id)| id),
            ctx.reason,
            detail.map(|d| d.to_string()),
        ],
    )
}

/// Marks the work that follows, up to the rollback of the savepoint it
/// runs in, as a rehearsal (a confirmation's preview: the rule run, then
/// rolled back): the actions it begins take no number. The numbers
/// moderators see (`log`, "undid #N") then skip none on PostgreSQL, where
/// a sequence never gives back a number a rollback dropped; SQLite's
/// AUTOINCREMENT does, so there is nothing to mark.
pub fn rehearse(conn: Conn) -> Result<()> {
    if conn.dialect() == sql::Dialect::Postgres {
        // Undone by the rollback to the savepoint, as every SET is.
        conn.execute_batch("SET LOCAL modcon.rehearsal = 'on'")?;
    }
    Ok(())
}

pub fn finish(conn: Conn, action_id: i64, tally: &Tally) -> Result<()> {
    conn.execute(
        "UPDATE modcon_action SET threads = ?2, posts = ?3, attachments = ?4, files = ?5 WHERE id = ?1",
        params![
            action_id,
            tally.threads,
            tally.posts,
            tally.attachments,
            tally.files
        ],
    )?;
    Ok(())
}

pub fn record_change(
    conn: Conn,
    action_id: i64,
    kind: Kind,
    row_id: &str,
    before: &RowState,
    after: &RowState,
) -> Result<()> {
    conn.execute(
        "INSERT INTO modcon_change (action_id, kind, row_id, before_active, before_deleted_at, \
                                    before_source, after_active, after_deleted_at, after_source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            action_id,
            kind.name(),
            row_id,
            before.active,
            before.deleted_at,
            before.source.map(DeletionSource::stored),
            after.active,
            after.deleted_at,
            after.source.map(DeletionSource::stored),
        ],
    )?;
    Ok(())
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    /// The operating-system account that ran the command (`None` in
    /// entries from before it was recorded).
    pub os_account: Option<String>,
    pub client_addr: Option<String>,
    pub action: Action,
    pub kind: Option<Kind>,
    pub target_id: Option<String>,
    /// Why, as the moderator said.
    pub reason: Option<String>,
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

/// The columns of a log entry. A database opened read-only that predates
/// reasons and accounts (migration 0007) reads them as NULL.
fn entry_columns(conn: Conn) -> Result<&'static str> {
    let with_reasons = super::schema::column_exists(conn, "modcon_action", "reason")?;
    Ok(if with_reasons {
        "id, at, actor, client_addr, action, kind, target_id, threads, posts, \
         attachments, files, undoes, undone_by, detail, os_account, reason"
    } else {
        "id, at, actor, client_addr, action, kind, target_id, threads, posts, \
         attachments, files, undoes, undone_by, detail, NULL, NULL"
    })
}

fn read_entry(r: &sql::Row<'_>) -> Result<LogEntry> {
    let detail: Option<String> = r.get(13)?;
    Ok(LogEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        os_account: r.get(14)?,
        client_addr: r.get(3)?,
        action: r.get(4)?,
        kind: r.get(5)?,
        target_id: r.get(6)?,
        reason: r.get(15)?,
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
pub fn list(conn: Conn, limit: usize) -> Result<Vec<LogEntry>> {
    conn.query_map(
        &format!(
            "SELECT {} FROM modcon_action ORDER BY id DESC LIMIT ?1",
            entry_columns(conn)?
        ),
        params![limit],
        read_entry,
    )
}

/// The actor's latest action that an undo could revert (undos themselves
/// are not undone).
pub fn latest_not_undone(conn: Conn, actor: &str) -> Result<Option<LogEntry>> {
    conn.query_opt(
        &format!(
            "SELECT {} FROM modcon_action \
             WHERE actor = ?1 AND action <> 'undo' AND undone_by IS NULL \
             ORDER BY id DESC LIMIT 1",
            entry_columns(conn)?
        ),
        params![actor],
        read_entry,
    )
}

pub fn mark_undone(conn: Conn, action_id: i64, undo_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE modcon_action SET undone_by = ?2 WHERE id = ?1",
        params![action_id, undo_id],
    )?;
    conn.execute(
        "UPDATE modcon_action SET undoes = ?1 WHERE id = ?2",
        params![action_id, undo_id],
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

fn read_change(r: &sql::Row<'_>) -> Result<Change> {
    let kind: Kind = r.get(1)?;
    let state = |active: usize, at: usize, source: usize| -> Result<RowState> {
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
fn change_columns(conn: Conn) -> Result<&'static str> {
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
pub fn changes(conn: Conn, action_id: i64) -> Result<Vec<Change>> {
    conn.query_map(
        &format!(
            "SELECT {} FROM modcon_change WHERE action_id = ?1 \
             ORDER BY CASE kind WHEN 'thread' THEN 0 WHEN 'post' THEN 1 ELSE 2 END, row_id",
            change_columns(conn)?
        ),
        params![action_id],
        read_change,
    )
}

/// The latest recorded change of one row.
pub fn latest_change(conn: Conn, kind: Kind, row_id: &str) -> Result<Option<Change>> {
    conn.query_opt(
        &format!(
            "SELECT {} FROM modcon_change WHERE kind = ?1 AND row_id = ?2 \
             ORDER BY action_id DESC LIMIT 1",
            change_columns(conn)?
        ),
        params![kind.name(), row_id],
        read_change,
    )
}

/// What an action did to one row: a change of state (delete, restore,
/// undo, fix, review), a review's change of another table's row, or its
/// removal by a purge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowRecord {
    /// thread, post, attachment; for a review also flag and
    /// moderation_action; for a purge also reaction, flag,
    /// moderation_action.
    pub kind: String,
    pub id: String,
    /// "changed", "inserted" or "removed" (a review's moderation action
    /// and its undo), or "purged".
    pub event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<RowState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<RowState>,
    /// A purged row's parent (thread of a post, post of an attachment, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// A purged attachment's image path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// A purged row's deletion time, as the purge went by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// A review's row of another table (a flag, a moderation action, a
    /// thread's lock): the columns it changed, before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values_before: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values_after: Option<serde_json::Map<String, serde_json::Value>>,
}

impl RowRecord {
    fn changed(change: Change) -> RowRecord {
        RowRecord {
            kind: change.kind.name().to_string(),
            id: change.row_id,
            event: "changed",
            before: Some(change.before),
            after: Some(change.after),
            parent_id: None,
            image: None,
            deleted_at: None,
            values_before: None,
            values_after: None,
        }
    }

    fn columns(change: ColumnChange) -> RowRecord {
        let kind = match change.table.as_str() {
            "forum_flaggedcontent" => "flag",
            "forum_moderationaction" => "moderation_action",
            "forum_thread" => "thread",
            other => other,
        };
        RowRecord {
            kind: kind.to_string(),
            id: change.row_id,
            event: match (&change.before, &change.after) {
                (None, _) => "inserted",
                (_, None) => "removed",
                _ => "changed",
            },
            before: None,
            after: None,
            parent_id: None,
            image: None,
            deleted_at: None,
            values_before: change.before,
            values_after: change.after,
        }
    }
}

/// An entry of the log with the rows it changed or removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryWithRows {
    #[serde(flatten)]
    pub entry: LogEntry,
    pub rows: Vec<RowRecord>,
}

/// The order purged rows are listed in: parents before what went with them.
const PURGED_ORDER: &str = "CASE kind WHEN 'thread' THEN 0 WHEN 'post' THEN 1 \
                            WHEN 'attachment' THEN 2 WHEN 'reaction' THEN 3 \
                            WHEN 'flag' THEN 4 ELSE 5 END";

fn read_purged(r: &sql::Row<'_>) -> Result<(i64, RowRecord)> {
    Ok((
        r.get(0)?,
        RowRecord {
            kind: r.get(1)?,
            id: r.get(2)?,
            event: "purged",
            before: None,
            after: None,
            parent_id: r.get(3)?,
            image: r.get(4)?,
            deleted_at: r.get(5)?,
            values_before: None,
            values_after: None,
        },
    ))
}

/// One entry of the log with every row it changed or, for a purge,
/// removed; `None` when there is no such entry.
pub fn entry_with_rows(conn: Conn, action_id: i64) -> Result<Option<EntryWithRows>> {
    let entry = conn.query_opt(
        &format!(
            "SELECT {} FROM modcon_action WHERE id = ?1",
            entry_columns(conn)?
        ),
        params![action_id],
        read_entry,
    )?;
    let Some(entry) = entry else {
        return Ok(None);
    };
    let mut rows: Vec<RowRecord> = changes(conn, action_id)?
        .into_iter()
        .map(RowRecord::changed)
        .collect();
    rows.extend(
        column_changes(conn, action_id)?
            .into_iter()
            .map(RowRecord::columns),
    );
    for row in conn.query_map(
        &format!(
            "SELECT action_id, kind, row_id, parent_id, image, deleted_at FROM modcon_purged \
             WHERE action_id = ?1 ORDER BY {PURGED_ORDER}, row_id"
        ),
        params![action_id],
        read_purged,
    )? {
        rows.push(row.1);
    }
    Ok(Some(EntryWithRows { entry, rows }))
}

/// The ids the log has records of that start with `prefix` (at most 11).
pub fn recorded_ids(conn: Conn, prefix: &str) -> Result<Vec<String>> {
    // Ids are lowercase hex: every id starting with the prefix lies
    // between the prefix padded with 0s and with fs.
    // A review's flags and moderation actions too, where recorded.
    let reviewed = if super::schema::table_exists(conn, "modcon_column_change")? {
        "UNION SELECT row_id FROM modcon_column_change WHERE row_id >= ?1 AND row_id <= ?2 "
    } else {
        ""
    };
    let (lo, hi) = conn.dialect().id_prefix_range(prefix);
    conn.query_map(
        &format!(
            "SELECT row_id FROM modcon_change \
               WHERE kind IN ('thread', 'post', 'attachment') AND row_id >= ?1 AND row_id <= ?2 \
             UNION \
             SELECT row_id FROM modcon_purged WHERE row_id >= ?1 AND row_id <= ?2 \
             {reviewed}ORDER BY 1 LIMIT 11"
        ),
        params![lo, hi],
        |r| r.text(0),
    )
}

/// "What happened to row X": every entry of the log that changed or
/// removed the row with this id (of any kind), newest first, each with
/// that row's record only.
pub fn history(conn: Conn, row_id: &str) -> Result<Vec<EntryWithRows>> {
    let mut by_action: Vec<(i64, RowRecord)> = Vec::new();
    for change in conn.query_map(
        &format!(
            "SELECT {} FROM modcon_change \
             WHERE kind IN ('thread', 'post', 'attachment') AND row_id = ?1",
            change_columns(conn)?
        ),
        params![row_id],
        read_change,
    )? {
        by_action.push((change.action_id, RowRecord::changed(change)));
    }
    by_action.extend(conn.query_map(
        "SELECT action_id, kind, row_id, parent_id, image, deleted_at FROM modcon_purged \
         WHERE row_id = ?1",
        params![row_id],
        read_purged,
    )?);
    // A review's flags and moderation actions.
    if super::schema::table_exists(conn, "modcon_column_change")? {
        for (action_id, change) in conn.query_map(
            "SELECT table_name, row_id, before, after, action_id FROM modcon_column_change \
             WHERE row_id = ?1",
            params![row_id],
            |r| Ok((r.get::<i64>(4)?, read_column_change(r)?)),
        )? {
            by_action.push((action_id, RowRecord::columns(change)));
        }
    }
    by_action.sort_by_key(|(action_id, _)| std::cmp::Reverse(*action_id));
    let mut entries: Vec<EntryWithRows> = Vec::new();
    for (action_id, record) in by_action {
        match entries.last_mut() {
            Some(last) if last.entry.id == action_id => last.rows.push(record),
            _ => {
                let entry = conn.query_row(
                    &format!(
                        "SELECT {} FROM modcon_action WHERE id = ?1",
                        entry_columns(conn)?
                    ),
                    params![action_id],
                    read_entry,
                )?;
                entries.push(EntryWithRows {
                    entry,
                    rows: vec![record],
                });
            }
        }
    }
    Ok(entries)
}

/// A row of a table other than threads, posts and attachments that an
/// action changed (a review's flag, the moderation action it wrote, the
/// thread it locked): the columns it changed, before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnChange {
    pub table: String,
    pub row_id: String,
    /// `None`: the action inserted the row.
    pub before: Option<serde_json::Map<String, serde_json::Value>>,
    /// `None`: the action removed the row.
    pub after: Option<serde_json::Map<String, serde_json::Value>>,
}

pub fn record_column_change(conn: Conn, action_id: i64, change: &ColumnChange) -> Result<()> {
    let text = |m: &Option<serde_json::Map<String, serde_json::Value>>| {
        m.as_ref()
            .map(|m| serde_json::Value::Object(m.clone()).to_string())
    };
    conn.execute(
        "INSERT INTO modcon_column_change (action_id, table_name, row_id, before, after) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            action_id,
            change.table,
            change.row_id,
            text(&change.before),
            text(&change.after),
        ],
    )?;
    Ok(())
}

fn read_column_change(r: &sql::Row<'_>) -> Result<ColumnChange> {
    let object = |text: Option<String>| -> Option<serde_json::Map<String, serde_json::Value>> {
        match serde_json::from_str(&text?) {
            Ok(serde_json::Value::Object(m)) => Some(m),
            _ => None,
        }
    };
    Ok(ColumnChange {
        table: r.get(0)?,
        row_id: r.get(1)?,
        before: object(r.get(2)?),
        after: object(r.get(3)?),
    })
}

/// The other-table rows an action changed.
/// None on a database opened read-only that predates them.
pub fn column_changes(conn: Conn, action_id: i64) -> Result<Vec<ColumnChange>> {
    if !super::schema::table_exists(conn, "modcon_column_change")? {
        return Ok(Vec::new());
    }
    // Each row is put back on its own, so any order serves.
    conn.query_map(
        "SELECT table_name, row_id, before, after FROM modcon_column_change \
         WHERE action_id = ?1 ORDER BY table_name, row_id",
        params![action_id],
        read_column_change,
    )
}
